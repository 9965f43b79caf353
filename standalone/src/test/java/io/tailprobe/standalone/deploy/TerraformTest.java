package io.tailprobe.standalone.deploy;

import static io.tailprobe.standalone.deploy.DeployFiles.AWS;
import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.aggregator.AggregatorConfig;
import io.tailprobe.schemas.TopicSpecs;
import io.tailprobe.schemas.Topics;
import io.tailprobe.standalone.TailprobeCli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * deploy/aws without terraform: the variables' defaults, the services' config templates rendered with
 * them and loaded and validated by the services, the variables in user-data, the systemd unit's paths,
 * and the topics as the aggregator would create them.
 */
class TerraformTest {
    private static final Pattern VARIABLE = Pattern.compile(
            "variable\\s+\"(\\w+)\"\\s*\\{(.*?)\\n}", Pattern.DOTALL);
    private static final Pattern SIMPLE_DEFAULT = Pattern.compile("\\n\\s*default\\s*=\\s*(\"[^\"]*\"|[\\w.]+)\\s*\\n");
    private static final Pattern HEREDOC_DEFAULT = Pattern.compile("\\n\\s*default\\s*=\\s*<<-EOT\\n(.*?)\\n\\s*EOT", Pattern.DOTALL);
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{(\\w+)}");

    @TempDir
    Path dir;

    /** Each variable's default as terraform would see it (strings unquoted, heredocs de-indented). */
    static Map<String, String> variableDefaults() {
        Map<String, String> defaults = new LinkedHashMap<>();
        Matcher variable = VARIABLE.matcher(DeployFiles.read(AWS.resolve("variables.tf")));
        while (variable.find()) {
            String body = variable.group(2) + "\n";
            Matcher heredoc = HEREDOC_DEFAULT.matcher(body);
            Matcher simple = SIMPLE_DEFAULT.matcher(body);
            if (heredoc.find()) {
                defaults.put(variable.group(1), heredoc.group(1).stripIndent() + "\n");
            } else if (simple.find()) {
                defaults.put(variable.group(1), simple.group(1).replaceAll("^\"|\"$", ""));
            }
        }
        return defaults;
    }

    /** The TAILPROBE_ variables of local.kafka_env (msk.tf), with stand-ins for MSK's outputs. */
    private static Map<String, String> kafkaEnv() {
        Matcher block = Pattern.compile("kafka_env\\s*=\\s*\\{(.*?)}", Pattern.DOTALL).matcher(DeployFiles.read(AWS.resolve("msk.tf")));
        assertThat(block.find()).as("local.kafka_env in msk.tf").isTrue();
        Map<String, String> env = new LinkedHashMap<>();
        Matcher entry = Pattern.compile("(TAILPROBE_\\w+)\\s*=\\s*(\\S+)").matcher(block.group(1));
        while (entry.find()) {
            String value = entry.group(2).startsWith("\"") ? entry.group(2).replace("\"", "") : "b-1.example.kafka.eu-west-1.amazonaws.com:9094";
            env.put(entry.group(1), value);
        }
        return env;
    }

    @Test
    void ports_default_to_the_services_defaults_and_security_groups_open_them() {
        Map<String, String> defaults = variableDefaults();
        assertThat(defaults).containsEntry("agent_port", String.valueOf(ServiceConfig.AGENT.defaultHttpPort))
                .containsEntry("aggregator_port", String.valueOf(ServiceConfig.AGGREGATOR.defaultHttpPort))
                .containsEntry("query_api_port", String.valueOf(ServiceConfig.QUERY_API.defaultHttpPort));
        String security = DeployFiles.read(AWS.resolve("security.tf"));
        for (String port : List.of("agent_port", "aggregator_port", "query_api_port", "udp_echo_port")) {
            assertThat(security).containsPattern("from_port\\s+= var\\." + port + "\\n").containsPattern("to_port\\s+= var\\." + port + "\\n");
        }
        assertThat(security).as("MSK's TLS listener, the one local.kafka_env's SSL speaks to").containsPattern("from_port\\s+= 9094\\n");
        assertThat(kafkaEnv()).containsEntry("TAILPROBE_KAFKA_SECURITY_PROTOCOL", "SSL");
    }

    @Test
    void every_config_template_renders_with_the_defaults_and_loads_in_its_service() throws IOException {
        Map<String, String> known = new LinkedHashMap<>(variableDefaults());
        int brokers = Integer.parseInt(known.get("msk_broker_count"));
        known.put("replication", String.valueOf(Math.min(3, brokers)));
        String compute = DeployFiles.read(AWS.resolve("compute.tf"));
        Map<String, String> env = kafkaEnv();
        for (ServiceConfig service : ServiceConfig.values()) {
            Path template = AWS.resolve("config/" + service.command + ".yaml.tftpl");
            assertThat(compute).contains(service.command + " = templatefile(\"${path.module}/config/" + service.command + ".yaml.tftpl\"");
            Matcher placeholder = PLACEHOLDER.matcher(DeployFiles.read(template));
            StringBuilder rendered = new StringBuilder();
            while (placeholder.find()) {
                String name = placeholder.group(1);
                assertThat(known).as(template.getFileName() + ": ${" + name + "}").containsKey(name);
                assertThat(compute).as("compute.tf passes " + name).containsPattern("\\n\\s+" + name + "\\s+=");
                placeholder.appendReplacement(rendered, Matcher.quoteReplacement(known.get(name)));
            }
            placeholder.appendTail(rendered);
            Path file = dir.resolve(service.command + ".yaml");
            Files.writeString(file, rendered);

            assertThat(service.unknownVariables(env.keySet(), file)).as(service.command).isEmpty();
            ServiceConfig.Loaded loaded = service.load(file, env, List.of());
            assertThat(loaded.httpPort()).isEqualTo(service.defaultHttpPort);
            for (String written : loaded.writtenDirectories()) {
                assertThat(written).as(service.command + ": the unit's StateDirectory, writable under ProtectSystem=strict")
                        .startsWith("/var/lib/tailprobe/" + service.command + "/");
            }
        }
    }

    @Test
    void the_systemd_unit_and_user_data_agree_on_services_paths_and_variables() throws IOException {
        String unit = DeployFiles.read(DeployFiles.SYSTEMD_UNIT);
        String userData = DeployFiles.read(AWS.resolve("user-data.sh.tftpl"));
        assertThat(unit).contains("ExecStart=/usr/bin/java ", " -jar /opt/tailprobe/tailprobe.jar %i --config /etc/tailprobe/%i.yaml",
                "EnvironmentFile=-/etc/tailprobe/%i.env", "StateDirectory=tailprobe/%i", "User=tailprobe");
        assertThat(userData).contains("-o /opt/tailprobe/tailprobe.jar", "cat > /etc/tailprobe/${service}.yaml",
                "cat > /etc/tailprobe/${service}.env", "cat > /etc/systemd/system/tailprobe@.service",
                "useradd --system", "tailprobe", "systemctl enable --now tailprobe@${service}",
                "net.ipv4.ping_group_range");
        assertThat(DeployFiles.read(AWS.resolve("compute.tf"))).contains("file(\"${path.module}/../systemd/tailprobe@.service\")");

        Set<String> subcommands = new CommandLine(TailprobeCli.class).getSubcommands().keySet();
        Matcher configs = Pattern.compile("\\n    ([\\w-]+) = templatefile").matcher(DeployFiles.read(AWS.resolve("compute.tf")));
        Set<String> services = new TreeSet<>();
        while (configs.find()) {
            services.add(configs.group(1));
        }
        assertThat(services).as("the unit's %i: tailprobe subcommands").containsExactlyInAnyOrder("agent", "aggregator", "query-api");
        assertThat(subcommands).containsAll(services);

        Set<String> everywhere = new TreeSet<>();
        try (Stream<Path> files = Files.walk(AWS)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Matcher name = Pattern.compile("TAILPROBE_[A-Z0-9_]+").matcher(DeployFiles.read(file));
                while (name.find()) {
                    everywhere.add(name.group());
                }
            }
        }
        assertThat(everywhere).isNotEmpty().allMatch(ServiceConfig::isKafkaVariable, "a Kafka client property (TAILPROBE_KAFKA_…)");
    }

    @Test
    void topics_are_the_ones_the_aggregator_creates_with_its_default_retention() {
        String msk = DeployFiles.read(AWS.resolve("msk.tf"));
        Map<String, Duration> retention = new LinkedHashMap<>();
        retention.put(Topics.SAMPLES, TopicSpecs.SAMPLES_RETENTION);
        AggregatorConfig.defaults().retentionByResolutionSeconds()
                .forEach((seconds, kept) -> retention.put(Topics.histograms(seconds), kept));
        retention.forEach((topic, kept) -> {
            Matcher block = Pattern.compile("\"" + Pattern.quote(topic) + "\"\\s*=\\s*\\{(.*?)}", Pattern.DOTALL).matcher(msk);
            assertThat(block.find()).as(topic).isTrue();
            assertThat(block.group(1)).as(topic).contains("\"retention.ms\"   = \"" + kept.toMillis() + "\"");
            if (topic.startsWith(Topics.HISTOGRAMS)) {
                assertThat(block.group(1)).as(topic).contains("\"cleanup.policy\" = \"" + TopicSpecs.HISTOGRAMS_CLEANUP_POLICY + "\"");
            }
        });
        assertThat(msk).contains("\"" + Topics.DEAD_LETTERS + "\"");
        assertThat(DeployFiles.read(AWS.resolve("outputs.tf"))).contains("output \"query_api_url\"", "output \"aggregator_metrics_url\"",
                "output \"agent_metrics_urls\"");
    }
}
