package io.tailprobe.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tailprobe.agent.AgentConfig.PlannedTarget;
import io.tailprobe.agent.AgentConfig.Target;
import io.tailprobe.agent.probe.HostPort;
import io.tailprobe.agent.probe.dns.TestDnsServer;
import io.tailprobe.common.ConfigException;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;

class TargetSourcesTest {
    private static Target fromFile(Path file) {
        return new Target("db", "tcp", null, Duration.ofMillis(50), Duration.ofSeconds(1), null, null,
                Map.of("service", "db"), null, null, null, null, null, file.toString());
    }

    private static AgentConfig agentWith(Target... targets) {
        return AgentConfig.defaultConfig().withHttpPort(0).withTargets(List.of(targets));
    }

    @Test
    void every_address_of_a_file_sd_file_is_probed_under_the_target_name_with_its_labels(@TempDir Path dir)
            throws Exception {
        try (TestTcpServer a = TestTcpServer.acceptOnly(); TestTcpServer b = TestTcpServer.acceptOnly()) {
            Path file = dir.resolve("db.json");
            Files.writeString(file, """
                    [{"targets": ["%s"], "labels": {"az": "a", "__meta_internal": "dropped"}},
                     {"targets": ["%s"], "labels": {"az": "b"}}]
                    """.formatted(a.address(), b.address()));
            List<LatencySample> samples = new CopyOnWriteArrayList<>();
            try (ProbeAgent agent = ProbeAgent.start(agentWith(fromFile(file)), (s, done) -> {
                samples.add(s);
                done.onCompletion(null);
            })) {
                assertThat(agent.targetNames()).containsExactly("db " + a.address(), "db " + b.address());
                await().atMost(Duration.ofSeconds(10)).until(() ->
                        samples.stream().map(LatencySample::getAddress).collect(Collectors.toSet()).size() == 2);
                assertThat(samples).allSatisfy(s -> {
                    assertThat(s.getTarget()).isEqualTo("db");
                    assertThat(s.getOutcome()).isEqualTo(Outcome.OK);
                    assertThat(s.getLabels()).containsEntry("service", "db").containsEntry("instance", s.getAddress())
                            .doesNotContainKey("__meta_internal");
                });
                assertThat(samples.stream().filter(s -> s.getAddress().equals(b.address())))
                        .allSatisfy(s -> assertThat(s.getLabels()).containsEntry("az", "b"));

                // The file changes: one address left. The next refresh stops the other instance.
                Files.writeString(file, "[{\"targets\": [\"" + a.address() + "\"], \"labels\": {\"az\": \"a\"}}]");
                agent.refreshTargetSources();

                assertThat(agent.targetNames()).containsExactly("db " + a.address());
            }
        }
    }

    @Test
    void resolve_dns_probes_every_address_of_the_host(@TempDir Path dir) throws Exception {
        try (TestTcpServer server = TestTcpServer.acceptOnly()) {
            Target local = new Target("local", "tcp", "localhost:" + server.port(), null, null, null, null, Map.of(),
                    null, null, null, null, "dns", null);

            List<PlannedTarget> planned = agentWith(local).plan();

            Set<String> instances = planned.stream().map(PlannedTarget::instance).collect(Collectors.toSet());
            assertThat(instances).contains("127.0.0.1:" + server.port());
            assertThat(planned).allSatisfy(p -> {
                assertThat(p.name()).isEqualTo("local");
                assertThat(p.labels()).containsEntry("instance", p.instance());
            });
            planned.forEach(p -> p.probe().close());
        }
    }

    @Test
    void resolve_srv_probes_every_host_and_port_the_service_names() throws Exception {
        try (TestTcpServer first = TestTcpServer.acceptOnly();
             TestTcpServer second = TestTcpServer.acceptOnly();
             TestDnsServer dns = TestDnsServer.start()) {
            dns.withSrv("_db._tcp.fleet.test.", "localhost.:" + first.port(), "localhost.:" + second.port());
            HostPort resolver = HostPort.parse(dns.address()).orElseThrow();
            Resolver systemResolver = Lookup.getDefaultResolver();
            Lookup.setDefaultResolver(new SimpleResolver(new InetSocketAddress(resolver.host(), resolver.port())));
            try {
                Target db = new Target("db", "tcp", "_db._tcp.fleet.test", null, null, null, null, Map.of("tier", "db"),
                        null, null, null, null, "srv", null);

                List<PlannedTarget> planned = agentWith(db).plan();

                assertThat(planned).extracting(PlannedTarget::instance)
                        .contains("127.0.0.1:" + first.port(), "127.0.0.1:" + second.port());
                assertThat(planned).allSatisfy(p -> {
                    assertThat(p.name()).isEqualTo("db");
                    assertThat(p.labels()).containsEntry("tier", "db").containsEntry("instance", p.instance());
                    assertThat(p.probe().probe().outcome()).isEqualTo(Outcome.OK);
                    p.probe().close();
                });
            } finally {
                Lookup.setDefaultResolver(systemResolver);
                Lookup.getDefaultCache(DClass.IN).clearCache();
            }
        }
    }

    @Test
    void a_name_that_does_not_resolve_stays_one_instance_whose_probes_report_dns_errors() throws Exception {
        Target missing = new Target("missing", "tcp", "no-such-host.invalid:80", null, null, null, null, Map.of(),
                null, null, null, null, "dns", null);

        List<PlannedTarget> planned = agentWith(missing).plan();

        assertThat(planned).extracting(PlannedTarget::instance).containsExactly("no-such-host.invalid:80");
        assertThat(planned.getFirst().probe().probe().outcome()).isEqualTo(Outcome.DNS_ERROR);
    }

    @Test
    void bad_sources_fail_at_start_up_naming_the_key(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> agentWith(fromFile(dir.resolve("absent.json"))).plan())
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("targets[0].fileSd " + dir.resolve("absent.json") + " cannot be read as JSON");
        Path notAList = dir.resolve("object.json");
        Files.writeString(notAList, "{\"targets\": []}");
        assertThatThrownBy(() -> agentWith(fromFile(notAList)).plan())
                .hasMessageContaining("must hold a JSON list");
        assertThatThrownBy(() -> agentWith(new Target("web", "http", "http://localhost/", null, null, null, null,
                Map.of(), null, null, null, null, "dns", null)).plan())
                .hasMessageContaining("targets[0].fileSd and resolve are not supported for http targets");
        assertThatThrownBy(() -> agentWith(new Target("x", "tcp", "localhost:1", null, null, null, null,
                Map.of(), null, null, null, null, "mdns", null)).plan())
                .hasMessageContaining("targets[0].resolve must be dns or srv, got \"mdns\"");
    }
}
