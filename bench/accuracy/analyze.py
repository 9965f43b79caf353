#!/usr/bin/env python3
"""Pairs each tool's measurements with the exchanges tshark saw on tpb0 (bench/accuracy/run.sh).

Usage: analyze.py OUT_DIR   (holds TOOL.txt and TOOL.pcap for every tool run.sh ran)

TOOL.txt: a '# warmup W' line, then one measurement per line in microseconds (NaN = failed).
The tools probe strictly one at a time, so the k-th exchange on the wire (in order of the SYN resp.
echo request) belongs to the k-th probe of the run; the first W exchanges are the warm-up's.
Wire time: TCP SYN -> first SYN-ACK of the same tcp.stream; ICMP echo request -> the first reply
with the same (icmp.ident, icmp.seq) after it. Excess = tool - wire, per probe.

If the number of wire exchanges left after the warm-up differs from the number of measurements
(a lost/extra packet, a retried SYN counted once, ...), this says so and pairs the first
min(n, m) of each in order. Probes that printed NaN or have no wire reply are left out of the
statistics (and counted in the 'unpaired' column).
"""
import math
import subprocess
import sys
from pathlib import Path

TOOLS = [
    ("ours-tcp", "tcp", "Tailprobe TcpProbe (connect phase)"),
    ("wall-tcp", "tcp", "naive: wall clock around connect() on a virtual thread"),
    ("blackbox-tcp", "tcp", "blackbox_exporter tcp_connect (probe_duration_seconds)"),
    ("ours-icmp", "icmp", "Tailprobe IcmpProbe (1 echo per round)"),
    ("ours-icmp-rx-only", "icmp", "Tailprobe IcmpProbe without transmit timestamps (kernel receive stamp only)"),
    ("fping", "icmp", "fping -C"),
    ("blackbox-icmp", "icmp", "blackbox_exporter icmp (probe_icmp_duration_seconds{phase=\"rtt\"})"),
]


def tshark(pcap, fields):
    cmd = ["tshark", "-r", str(pcap), "-T", "fields", "-E", "separator=,"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [line.split(",") for line in out.splitlines() if line.strip()]


def tcp_wire(pcap):
    """SYN -> SYN-ACK in µs per stream, in order of the SYN."""
    syn, synack = {}, {}
    for t, stream, flag_syn, flag_ack in tshark(pcap, ["frame.time_epoch", "tcp.stream", "tcp.flags.syn", "tcp.flags.ack"]):
        if flag_syn not in ("1", "True"):
            continue
        t = float(t)
        acked = flag_ack in ("1", "True")
        target = synack if acked else syn
        target.setdefault(stream, t)   # first SYN (a retransmitted SYN is not a new exchange) / first SYN-ACK
    ordered = sorted(syn.items(), key=lambda kv: kv[1])
    return [(synack[s] - t) * 1e6 if s in synack else math.nan for s, t in ordered]


def icmp_wire(pcap):
    """Echo request -> reply in µs, in order of the request."""
    pending, rtts = {}, []
    for t, typ, ident, seq in tshark(pcap, ["frame.time_epoch", "icmp.type", "icmp.ident", "icmp.seq"]):
        t = float(t)
        key = (ident.split(",")[0], seq.split(",")[0])
        if typ == "8":
            pending[key] = len(rtts)
            rtts.append([t, math.nan])
        elif typ == "0" and key in pending:
            i = pending.pop(key)
            rtts[i][1] = (t - rtts[i][0]) * 1e6
    return [r for _, r in rtts]


def read_tool(path):
    warmup, values = 0, []
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split()
            if len(parts) == 3 and parts[1] == "warmup":
                warmup = int(parts[2])
            continue
        values.append(float(line))
    return warmup, values


def quantile(values, q):
    """Nearest-rank quantile."""
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/target/accuracy")
    rows, notes = [], []
    for name, kind, label in TOOLS:
        txt, pcap = out / f"{name}.txt", out / f"{name}.pcap"
        if not txt.exists() or not pcap.exists():
            notes.append(f"{name}: no results ({txt.name} / {pcap.name} missing)")
            continue
        warmup, tool = read_tool(txt)
        wire = (tcp_wire if kind == "tcp" else icmp_wire)(pcap)
        wire_all = len(wire)
        wire = wire[warmup:]
        if len(wire) != len(tool):
            notes.append(f"{name}: {len(tool)} measurements but {len(wire)} wire exchanges after the "
                         f"{warmup} warm-up ones ({wire_all} captured); paired the first "
                         f"{min(len(wire), len(tool))} of each in order")
        pairs = [(t, w) for t, w in zip(tool, wire) if not math.isnan(t) and not math.isnan(w)]
        unpaired = len(tool) - len(pairs)
        if not pairs:
            notes.append(f"{name}: nothing to pair")
            continue
        excess = [t - w for t, w in pairs]
        rows.append((label, len(pairs), unpaired,
                     quantile([w for _, w in pairs], 0.5), quantile([t for t, _ in pairs], 0.5),
                     quantile(excess, 0.5), quantile(excess, 0.99)))
    print("| tool | probes | unpaired | wire median µs | tool median µs | median excess µs | p99 excess µs |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, n, unpaired, wm, tm, me, pe in rows:
        print(f"| {label} | {n} | {unpaired} | {wm:.1f} | {tm:.1f} | {me:.1f} | {pe:.1f} |")
    for note in notes:
        print(f"\nNote: {note}")


if __name__ == "__main__":
    main()
