// The Tailprobe dashboard: plain JavaScript over the query API's JSON endpoints, charts drawn with uPlot.
// Every request goes to this page's own origin (api/v1/… relative to the page), nothing else is loaded.
// window.tailprobe exposes what was drawn and fetched, for the browser test and for curious users.
(() => {
  'use strict';

  const RANGES_MILLIS = {
    '15m': 15 * 60_000, '1h': 3_600_000, '6h': 6 * 3_600_000, '24h': 24 * 3_600_000,
    '7d': 7 * 86_400_000, '30d': 30 * 86_400_000,
  };
  /** Live refresh is offered for ranges up to this long: longer ones barely move in a minute. */
  const LIVE_MAX_MILLIS = 24 * 3_600_000;
  const MAX_RANGE_MILLIS = 31 * 86_400_000;
  const QUANTILES = [['0.5', 'p50', '#2b8a3e'], ['0.9', 'p90', '#1971c2'], ['0.99', 'p99', '#e8590c'],
    ['0.999', 'p99.9', '#c92a2a']];
  const PHASES = ['dns', 'connect', 'tls', 'requestWrite', 'firstByte', 'transfer'];
  const PHASE_COLORS = ['#862e9c', '#1971c2', '#0c8599', '#2b8a3e', '#e8590c', '#c92a2a'];
  const OUTCOME_COLORS = ['#c92a2a', '#e8590c', '#862e9c', '#1971c2', '#0c8599', '#5c940d', '#495057'];
  /** The slowest-hosts table asks for at most this many hosts' percentiles. */
  const MAX_HOSTS = 50;
  const CHART_HEIGHT = 220;
  const TOKEN_KEY = 'tailprobe.bearerToken';
  const $ = (id) => document.getElementById(id);

  const hook = window.tailprobe = {
    /** Per chart: its series' labels, each series' drawn (non-empty) points, and the steps on the x axis. */
    charts: {},
    tables: {},
    /** Requests per endpoint (series, percentiles, timeseries, heatmap, slo), and the latest 200 URLs. */
    fetches: {},
    requests: [],
    /** Uncaught errors and rejections on this page. */
    errors: [],
    /** Completed loads, and the range of the latest one in epoch ms. */
    loads: 0,
    loading: false,
    range: null,
    slo: null,
  };
  window.addEventListener('error', (e) => hook.errors.push(String(e.message)));
  window.addEventListener('unhandledrejection', (e) => hook.errors.push(String(e.reason)));

  const plots = {};
  let allSeries = [];
  let generation = 0;
  let refreshTimer = null;

  class Unauthorized extends Error {}

  // ---- fetching ----------------------------------------------------------------------------------

  async function api(endpoint, params) {
    const url = new URL('api/v1/' + endpoint, document.baseURI);
    for (const [name, value] of Object.entries(params || {})) {
      if (value !== undefined && value !== null && value !== '') {
        url.searchParams.set(name, value);
      }
    }
    hook.fetches[endpoint] = (hook.fetches[endpoint] || 0) + 1;
    hook.requests.push(url.pathname + url.search);
    if (hook.requests.length > 200) {
      hook.requests.shift();
    }
    const headers = { Accept: 'application/json' };
    const token = localStorage.getItem(TOKEN_KEY);
    if (token) {
      headers.Authorization = 'Bearer ' + token;
    }
    const response = await fetch(url, { headers });
    const body = await response.json().catch(() => null);
    if (response.status === 401) {
      throw new Unauthorized((body && body.message) || 'the API needs a bearer token');
    }
    if (!response.ok) {
      const why = body && body.parameter ? `${body.parameter} ${body.rule} (${body.value})`
        : (body && (body.message || body.error)) || response.statusText;
      throw new Error(`${endpoint}: ${response.status} ${why}`);
    }
    return body;
  }

  // ---- pickers and state -------------------------------------------------------------------------

  function distinct(values) {
    return [...new Set(values)].sort();
  }

  function fill(select, options, wanted) {
    select.textContent = '';
    for (const [value, text] of options) {
      const option = document.createElement('option');
      option.value = value;
      option.textContent = text;
      select.appendChild(option);
    }
    if (options.some(([value]) => value === wanted)) {
      select.value = wanted;
    }
  }

  /** Fills each picker from the series list, keeping the current choice where it still exists. */
  function fillPickers(wanted) {
    const targets = distinct(allSeries.map((s) => s.target));
    fill($('target'), targets.map((t) => [t, t]), wanted.target);
    const ofTarget = allSeries.filter((s) => s.target === $('target').value);
    fill($('probe'), distinct(ofTarget.map((s) => s.probe)).map((p) => [p, p]), wanted.probe);
    const ofProbe = ofTarget.filter((s) => s.probe === $('probe').value);
    fill($('protocol'), [['', 'all']].concat(distinct(ofProbe.map((s) => s.protocol)).map((p) => [p, p])),
      wanted.protocol);
    fill($('host'), [['*', 'fleet-wide']].concat(hostsOf(ofProbe, wanted.protocol).map((h) => [h, h])), wanted.host);
  }

  function hostsOf(series, protocol) {
    return distinct(series.filter((s) => s.host !== '*' && (!protocol || s.protocol === protocol)).map((s) => s.host));
  }

  function choice() {
    return {
      target: $('target').value, probe: $('probe').value, protocol: $('protocol').value, host: $('host').value,
      range: $('range').value, from: $('from').value, to: $('to').value, refresh: $('refresh').value,
    };
  }

  function saveToHash() {
    const c = choice();
    const params = new URLSearchParams();
    for (const key of ['target', 'probe', 'protocol', 'host', 'range', 'refresh']) {
      if (c[key]) {
        params.set(key, c[key]);
      }
    }
    if (c.range === 'custom') {
      params.set('from', c.from);
      params.set('to', c.to);
    }
    history.replaceState(null, '', '#' + params.toString());
  }

  function fromHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    return Object.fromEntries(params.entries());
  }

  /** datetime-local values are local time without a zone. */
  function toLocalInput(millis) {
    const date = new Date(millis - new Date(millis).getTimezoneOffset() * 60_000);
    return date.toISOString().slice(0, 19);
  }

  /** The chosen range in epoch ms, or an error message. */
  function currentRange() {
    const range = $('range').value;
    if (range !== 'custom') {
      const to = Date.now();
      return { from: to - RANGES_MILLIS[range], to };
    }
    const from = new Date($('from').value).getTime();
    const to = new Date($('to').value).getTime();
    if (!Number.isFinite(from) || !Number.isFinite(to)) {
      return { error: 'pick both ends of the custom range' };
    }
    if (from >= to) {
      return { error: 'the custom range must start before it ends' };
    }
    if (to - from > MAX_RANGE_MILLIS) {
      return { error: 'the custom range is at most 31 days' };
    }
    return { from, to };
  }

  function updateRangeControls() {
    const range = $('range').value;
    $('custom').hidden = range !== 'custom';
    const live = range !== 'custom' && RANGES_MILLIS[range] <= LIVE_MAX_MILLIS;
    $('refresh').disabled = !live;
    if (!live) {
      $('refresh').value = '0';
    }
    scheduleRefresh();
  }

  function scheduleRefresh() {
    clearInterval(refreshTimer);
    refreshTimer = null;
    const seconds = Number($('refresh').value);
    if (seconds > 0 && !$('refresh').disabled) {
      refreshTimer = setInterval(() => {
        if (!hook.loading && !document.hidden) {
          load(true);
        }
      }, seconds * 1000);
    }
  }

  // ---- status and auth ---------------------------------------------------------------------------

  function status(text, kind) {
    const element = $('status');
    element.textContent = text || '';
    element.className = 'status' + (kind ? ' ' + kind : '');
  }

  function askForToken(message) {
    $('auth').hidden = false;
    $('auth-message').textContent = message;
    $('token').focus();
  }

  function failed(error) {
    if (error instanceof Unauthorized) {
      status('401 Unauthorized: ' + error.message + '. Enter the bearer token above.', 'error');
      askForToken(localStorage.getItem(TOKEN_KEY)
        ? 'The query API refused the stored bearer token (401). Enter the right one.'
        : 'This query API needs a bearer token (401: its http.bearerToken is set). Enter it to see the data.');
    } else {
      status(String(error.message || error), 'error');
    }
  }

  // ---- formatting --------------------------------------------------------------------------------

  function millis(value) {
    if (value === null || value === undefined || !Number.isFinite(value)) {
      return '–';
    }
    if (value >= 1000) {
      return (value / 1000).toPrecision(3) + ' s';
    }
    return (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)) + ' ms';
  }

  function percent(fraction, digits) {
    return fraction === null || fraction === undefined ? '–' : (fraction * 100).toFixed(digits ?? 2) + ' %';
  }

  function element(tag, text, className) {
    const e = document.createElement(tag);
    if (text !== undefined) {
      e.textContent = text;
    }
    if (className) {
      e.className = className;
    }
    return e;
  }

  // ---- charts ------------------------------------------------------------------------------------

  /** Draws (or redraws) a time-series chart: xs in epoch ms, each series {label, values, color, dash}. */
  function lineChart(name, container, xs, series, unit) {
    if (plots[name]) {
      plots[name].destroy();
    }
    container.textContent = '';
    const format = unit === '%' ? (v) => (v === null ? '–' : v.toFixed(2) + ' %') : (v) => millis(v);
    const options = {
      width: Math.max(container.clientWidth, 300),
      height: CHART_HEIGHT,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.05 : 1] } },
      series: [{ value: (u, v) => (v === null ? '–' : new Date(v * 1000).toLocaleString()) }].concat(
        series.map((s) => ({
          label: s.label, stroke: s.color, width: 1.5, dash: s.dash, spanGaps: false, points: { size: 4 },
          value: (u, v) => format(v),
        }))),
      axes: [{}, { size: 64, values: (u, ticks) => ticks.map((t) => (unit === '%' ? t + ' %' : millis(t))) }],
    };
    const data = [xs.map((x) => x / 1000)].concat(series.map((s) => s.values));
    plots[name] = new uPlot(options, data, container);
    plots[name].tailprobeContainer = container;
    hook.charts[name] = {
      series: series.map((s) => s.label),
      points: series.map((s) => s.values.filter((v) => v !== null && v !== undefined).length),
      steps: xs.length,
    };
  }

  function quantile(summary, q) {
    const value = summary && summary.count > 0 ? summary.quantilesMillis[q] : undefined;
    return value === undefined ? null : value;
  }

  function drawPercentiles(response) {
    const xs = response.points.map((p) => p.startMillis);
    const series = QUANTILES.map(([q, label, color]) => ({
      label, color, values: response.points.map((p) => quantile(p.latency, q)),
    }));
    series.push({
      label: 'max', color: '#495057', dash: [4, 4],
      values: response.points.map((p) => (p.latency.count > 0 ? p.latency.maxMillis : null)),
    });
    lineChart('percentiles', $('chart-percentiles'), xs, series, 'ms');
  }

  function drawResponseVsService(response, service) {
    const xs = response.points.map((p) => p.startMillis);
    lineChart('responseVsService', $('chart-response-service'), xs, [
      { label: 'response p99', color: '#e8590c', values: response.points.map((p) => quantile(p.latency, '0.99')) },
      { label: 'service p99', color: '#1971c2', values: service.points.map((p) => quantile(p.latency, '0.99')) },
    ], 'ms');
  }

  function drawErrors(response) {
    const xs = response.points.map((p) => p.startMillis);
    const outcomes = distinct(response.points.flatMap((p) => Object.keys(p.outcomes))).filter((o) => o !== 'OK');
    const share = (p, bad) => (p.count > 0 ? (100 * bad) / p.count : null);
    const series = [{
      label: 'all errors', color: '#212529', width: 2,
      values: response.points.map((p) => share(p, p.count - (p.outcomes.OK || 0))),
    }].concat(outcomes.map((outcome, i) => ({
      label: outcome, color: OUTCOME_COLORS[i % OUTCOME_COLORS.length],
      values: response.points.map((p) => share(p, p.outcomes[outcome] || 0)),
    })));
    lineChart('errors', $('chart-errors'), xs, series, '%');
  }

  function drawPhases(byPhase) {
    const phases = Object.keys(byPhase);
    $('phases-panel').hidden = phases.length === 0;
    if (phases.length === 0) {
      if (plots.phases) {
        plots.phases.destroy();
        delete plots.phases;
      }
      delete hook.charts.phases;
      return;
    }
    const first = byPhase[phases[0]];
    lineChart('phases', $('chart-phases'), first.points.map((p) => p.startMillis), phases.map((phase) => ({
      label: phase, color: PHASE_COLORS[PHASES.indexOf(phase)],
      values: byPhase[phase].points.map((p) => quantile(p.latency, '0.5')),
    })), 'ms');
  }

  let lastHeatmap = null;

  /** Columns of log-scaled buckets on a canvas: a cell's colour is its count on a log scale. */
  function drawHeatmap(heatmap) {
    lastHeatmap = heatmap;
    const canvas = $('heatmap');
    const width = Math.max(canvas.parentElement.clientWidth, 300);
    const height = 260;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = width * ratio;
    canvas.height = height * ratio;
    canvas.style.width = width + 'px';
    canvas.style.height = height + 'px';
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const left = 64;
    const bottom = 24;
    const plotWidth = width - left - 8;
    const plotHeight = height - bottom - 8;
    const bounds = heatmap.boundsMillis;
    const buckets = Math.max(bounds.length - 1, 0);
    const columns = heatmap.columns;
    let cells = 0;
    let most = 0;
    for (const column of columns) {
      for (const count of column.counts) {
        most = Math.max(most, count);
      }
    }
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = '#495057';
    if (buckets === 0 || most === 0) {
      g.fillText('no samples in this range', left + 8, plotHeight / 2);
    } else {
      const cellWidth = plotWidth / columns.length;
      const cellHeight = plotHeight / buckets;
      columns.forEach((column, x) => {
        column.counts.forEach((count, y) => {
          if (count > 0) {
            cells++;
            const heat = Math.log1p(count) / Math.log1p(most);
            g.fillStyle = `hsl(${50 - 50 * heat}, 95%, ${88 - 50 * heat}%)`;
            g.fillRect(left + x * cellWidth, 8 + plotHeight - (y + 1) * cellHeight, Math.ceil(cellWidth),
              Math.ceil(cellHeight));
          }
        });
      });
      g.fillStyle = '#495057';
      g.textAlign = 'right';
      const labelEvery = Math.max(1, Math.ceil(buckets / (plotHeight / 16)));
      for (let j = 0; j <= buckets; j += labelEvery) {
        g.fillText(millis(bounds[j]), left - 6, 8 + plotHeight - j * cellHeight + 4);
      }
      g.textAlign = 'center';
      const timeEvery = Math.max(1, Math.ceil(columns.length / (plotWidth / 110)));
      const format = heatmap.stepSeconds < 60 ? { hour: '2-digit', minute: '2-digit', second: '2-digit' }
        : heatmap.stepSeconds < 86_400 ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }
          : { month: 'short', day: 'numeric' };
      for (let i = 0; i < columns.length; i += timeEvery) {
        g.fillText(new Date(columns[i].startMillis).toLocaleString([], format), left + (i + 0.5) * cellWidth,
          height - 6);
      }
    }
    g.strokeStyle = '#adb5bd';
    g.strokeRect(left, 8, plotWidth, plotHeight);
    hook.charts.heatmap = {
      series: ['count'], columns: columns.length, buckets,
      nonEmptyColumns: columns.filter((c) => c.count > 0).length, cells,
    };
  }

  function heatmapTip(event) {
    const tip = $('heatmap-tip');
    const heatmap = lastHeatmap;
    const canvas = $('heatmap');
    if (!heatmap || heatmap.boundsMillis.length < 2) {
      tip.hidden = true;
      return;
    }
    const box = canvas.getBoundingClientRect();
    const buckets = heatmap.boundsMillis.length - 1;
    const x = Math.floor(((event.clientX - box.left - 64) / (box.width - 72)) * heatmap.columns.length);
    const y = Math.floor(((box.height - 24 - (event.clientY - box.top)) / (box.height - 32)) * buckets);
    const column = heatmap.columns[x];
    if (!column || y < 0 || y >= buckets) {
      tip.hidden = true;
      return;
    }
    tip.hidden = false;
    tip.textContent = `${new Date(column.startMillis).toLocaleString()}: ${column.counts[y]} of ${column.count} in `
      + `(${millis(heatmap.boundsMillis[y])}, ${millis(heatmap.boundsMillis[y + 1])}]`;
  }

  // ---- panels ------------------------------------------------------------------------------------

  function drawSummary(p) {
    const box = $('summary');
    box.textContent = '';
    const ok = p.outcomes.OK || 0;
    const cards = [
      ['samples', p.count.toLocaleString()],
      ['errors', p.count > 0 ? percent((p.count - ok) / p.count) : '–'],
      ['p50', millis(quantile(p.responseTime, '0.5'))],
      ['p99', millis(quantile(p.responseTime, '0.99'))],
      ['p99.9', millis(quantile(p.responseTime, '0.999'))],
      ['max', millis(p.responseTime.maxMillis)],
      ['service p99', millis(quantile(p.serviceTime, '0.99'))],
    ];
    for (const [label, value] of cards) {
      const card = element('div', undefined, 'card');
      card.appendChild(element('div', value, 'value'));
      card.appendChild(element('div', label, 'label'));
      box.appendChild(card);
    }
  }

  function drawSlo(slo) {
    hook.slo = slo;
    const box = $('slo');
    box.textContent = '';
    const objective = slo.objective;
    const rows = [
      ['samples', slo.count.toLocaleString()],
      [`at or under ${millis(slo.thresholdMillis)}`, percent(slo.fractionAtOrUnderThreshold, 3)],
      ['error rate', percent(slo.errorRate, 3)],
    ];
    if (objective) {
      rows.push(['SLI (good / all)', percent(objective.sli, 3)]);
      rows.push(['error budget left', percent(objective.errorBudgetRemaining, 1)]);
    }
    const table = element('table', undefined, 'slo');
    for (const [label, value] of rows) {
      const row = table.insertRow();
      row.appendChild(element('th', label));
      row.appendChild(element('td', value));
    }
    box.appendChild(table);
    if (objective) {
      const budget = Math.max(0, Math.min(1, objective.errorBudgetRemaining));
      const bar = element('div', undefined, 'budget');
      const fill = element('div', undefined, objective.met ? 'met' : 'missed');
      fill.style.width = (budget * 100).toFixed(1) + '%';
      bar.appendChild(fill);
      box.appendChild(bar);
      box.appendChild(element('p', objective.met
        ? `Met: ${objective.bad.toLocaleString()} bad of ${Math.floor(objective.allowedBad).toLocaleString()} allowed.`
        : `Missed: ${objective.bad.toLocaleString()} bad, ${Math.floor(objective.allowedBad).toLocaleString()} allowed.`,
      objective.met ? 'verdict met' : 'verdict missed'));
    }
  }

  function drawHosts(rows) {
    const table = $('hosts');
    table.textContent = '';
    const head = table.createTHead().insertRow();
    for (const title of ['host', 'samples', 'p50', 'p99', 'p99.9', '']) {
      head.appendChild(element('th', title));
    }
    const body = table.createTBody();
    const slowest = Math.max(0, ...rows.map((r) => r.p99 || 0));
    for (const r of rows) {
      const row = body.insertRow();
      row.appendChild(element('td', r.host));
      row.appendChild(element('td', r.count.toLocaleString(), 'number'));
      row.appendChild(element('td', millis(r.p50), 'number'));
      row.appendChild(element('td', millis(r.p99), 'number'));
      row.appendChild(element('td', millis(r.p999), 'number'));
      const cell = element('td', undefined, 'bar');
      const bar = element('div');
      bar.style.width = slowest > 0 ? ((100 * (r.p99 || 0)) / slowest).toFixed(1) + '%' : '0';
      cell.appendChild(bar);
      row.appendChild(cell);
    }
    if (rows.length === 0) {
      const cell = body.insertRow().insertCell();
      cell.colSpan = 6;
      cell.textContent = 'no host has windows for this target and probe';
    }
    hook.tables.hosts = rows.map((r) => ({ host: r.host, p99: r.p99, count: r.count }));
  }

  // ---- loading -----------------------------------------------------------------------------------

  async function loadSeries() {
    allSeries = await api('series');
    fillPickers(choice());
  }

  async function hostRows(base, range) {
    const hosts = hostsOf(allSeries.filter((s) => s.target === base.target && s.probe === base.probe), base.protocol)
      .slice(0, MAX_HOSTS);
    const answers = await Promise.all(hosts.map((host) => api('percentiles', {
      ...base, host, from: range.from, to: range.to, quantiles: '0.5,0.99,0.999',
    })));
    return answers.map((a) => ({
      host: a.host, count: a.count, p50: quantile(a.responseTime, '0.5'), p99: quantile(a.responseTime, '0.99'),
      p999: quantile(a.responseTime, '0.999'),
    })).sort((a, b) => (b.p99 || 0) - (a.p99 || 0));
  }

  function sloParams() {
    const threshold = Number($('slo-threshold').value);
    const objective = Number($('slo-objective').value) / 100;
    return {
      threshold: threshold > 0 ? threshold + 'ms' : '100ms',
      objective: objective > 0 && objective < 1 ? String(objective) : '0.99',
    };
  }

  async function load(live) {
    const mine = ++generation;
    saveToHash();
    if (!$('target').value) {
      status('No series with closed windows yet: the first 10 s windows appear shortly after probes start.', 'info');
      return;
    }
    const range = currentRange();
    if (range.error) {
      status(range.error, 'error');
      return;
    }
    hook.loading = true;
    if (!live) {
      status('Loading…', 'info');
    }
    const c = choice();
    const base = { target: c.target, probe: c.probe, protocol: c.protocol };
    const series = { ...base, host: c.host === '*' ? '' : c.host, from: range.from, to: range.to };
    try {
      if (live) {
        await loadSeries();
      }
      const [percentiles, response, service, heatmap, slo, hosts] = await Promise.all([
        api('percentiles', { ...series, phases: PHASES.join(',') }),
        api('timeseries', { ...series, latency: 'response', quantiles: QUANTILES.map(([q]) => q).join(',') }),
        api('timeseries', { ...series, latency: 'service', quantiles: '0.99' }),
        api('heatmap', { ...series, latency: 'response' }),
        api('slo', { ...series, ...sloParams() }),
        hostRows(base, range),
      ]);
      const phases = PHASES.filter((phase) => percentiles.phases[phase] && percentiles.phases[phase].count > 0);
      const phaseSeries = await Promise.all(phases.map((phase) => api('timeseries', {
        ...series, latency: phase, quantiles: '0.5',
      })));
      if (mine !== generation) {
        return;
      }
      drawSummary(percentiles);
      drawPercentiles(response);
      drawResponseVsService(response, service);
      drawHeatmap(heatmap);
      drawErrors(response);
      drawSlo(slo);
      drawHosts(hosts);
      drawPhases(Object.fromEntries(phases.map((phase, i) => [phase, phaseSeries[i]])));
      $('auth').hidden = true;
      hook.range = { from: range.from, to: range.to };
      hook.loads++;
      status(`${c.target} · ${c.probe}${c.protocol ? ' · ' + c.protocol : ''} · ${c.host === '*' ? 'fleet-wide' : c.host}`
        + ` · ${new Date(range.from).toLocaleString()} – ${new Date(range.to).toLocaleString()}`
        + ` · ${response.stepSeconds} s steps`, '');
    } catch (error) {
      if (mine === generation) {
        failed(error);
      }
    } finally {
      if (mine === generation) {
        hook.loading = false;
      }
    }
  }

  async function start() {
    const wanted = fromHash();
    for (const key of ['range', 'refresh']) {
      if (wanted[key] && [...$(key).options].some((o) => o.value === wanted[key])) {
        $(key).value = wanted[key];
      }
    }
    if (wanted.range === 'custom') {
      $('from').value = wanted.from || '';
      $('to').value = wanted.to || '';
    }
    updateRangeControls();
    try {
      allSeries = await api('series');
    } catch (error) {
      failed(error);
      return;
    }
    fillPickers(wanted);
    await load(false);
  }

  // ---- wiring ------------------------------------------------------------------------------------

  function onPicker(event) {
    const changed = event.target.id;
    const c = choice();
    if (changed === 'target') {
      c.probe = c.protocol = '';
      c.host = '*';
    }
    if (changed === 'probe') {
      c.protocol = '';
    }
    fillPickers(c);
    load(false);
  }

  document.addEventListener('DOMContentLoaded', () => {
    for (const id of ['target', 'probe', 'protocol', 'host']) {
      $(id).addEventListener('change', onPicker);
    }
    $('range').addEventListener('change', () => {
      if ($('range').value === 'custom' && !$('from').value) {
        const to = hook.range ? hook.range.to : Date.now();
        $('from').value = toLocalInput(to - 3_600_000);
        $('to').value = toLocalInput(to);
      }
      updateRangeControls();
      load(false);
    });
    $('apply').addEventListener('click', () => load(false));
    $('refresh').addEventListener('change', () => {
      saveToHash();
      scheduleRefresh();
    });
    $('slo-form').addEventListener('submit', (event) => {
      event.preventDefault();
      load(false);
    });
    $('pickers').addEventListener('submit', (event) => event.preventDefault());
    $('token-button').addEventListener('click', () => askForToken(localStorage.getItem(TOKEN_KEY)
      ? 'A bearer token is stored; enter another to replace it.' : 'Enter the bearer token of this query API, if it has one.'));
    $('auth-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const token = $('token').value.trim();
      if (token) {
        localStorage.setItem(TOKEN_KEY, token);
      }
      $('token').value = '';
      $('auth').hidden = true;
      allSeries.length ? load(false) : start();
    });
    $('token-forget').addEventListener('click', () => {
      localStorage.removeItem(TOKEN_KEY);
      $('auth-message').textContent = 'The stored token is forgotten.';
    });
    $('heatmap').addEventListener('mousemove', heatmapTip);
    $('heatmap').addEventListener('mouseleave', () => {
      $('heatmap-tip').hidden = true;
    });
    let resizing = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizing);
      resizing = setTimeout(() => {
        for (const plot of Object.values(plots)) {
          plot.setSize({ width: Math.max(plot.tailprobeContainer.clientWidth, 300), height: CHART_HEIGHT });
        }
        if (lastHeatmap) {
          drawHeatmap(lastHeatmap);
        }
      }, 150);
    });
    start();
  });
})();
