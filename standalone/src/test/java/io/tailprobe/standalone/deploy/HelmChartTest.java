package io.tailprobe.standalone.deploy;

import static io.tailprobe.standalone.deploy.DeployFiles.HELM;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The Helm chart without helm: every {@code .Values} path a template reads exists in values.yaml; each
 * service's {@code config} from values, with the variables its template sets (values substituted), loads
 * and validates in the service; ports, mounted paths and image names match the build.
 */
class HelmChartTest {
    private static final Pattern VALUES_REF = Pattern.compile("\\.Values((?:\\.[A-Za-z0-9_]+)+)");
    private static final Pattern ENV = Pattern.compile(
            "-\\s+name:\\s+(TAILPROBE_[A-Z0-9_]*)\\s*\\n\\s+(value|valueFrom):\\s*(.*)");
    private static final Pattern TEMPLATE_VALUE = Pattern.compile("\\{\\{-?\\s*\\.Values\\.([\\w.]+)(?:\\s*\\|\\s*quote)?\\s*-?}}");
    private static final Pattern MOUNT = Pattern.compile("mountPath:\\s*(\\S+)(?:\\s*\\n\\s*subPath:\\s*(\\S+))?");

    private final Map<String, Object> values = DeployFiles.yamlMap(HELM.resolve("values.yaml"));
    private final Map<String, String> pom = DeployFiles.pomProperties();

    @TempDir
    Path dir;

    /** The chart's workload templates by service, and the values section of each. */
    private static final Map<ServiceConfig, String> TEMPLATE = Map.of(
            ServiceConfig.AGENT, "agent-daemonset.yaml",
            ServiceConfig.AGGREGATOR, "aggregator-statefulset.yaml",
            ServiceConfig.QUERY_API, "query-api-deployment.yaml");
    private static final Map<ServiceConfig, String> SECTION = Map.of(
            ServiceConfig.AGENT, "agent", ServiceConfig.AGGREGATOR, "aggregator", ServiceConfig.QUERY_API, "queryApi");

    private static String template(String name) {
        return DeployFiles.read(HELM.resolve("templates").resolve(name));
    }

    @Test
    void every_values_path_a_template_reads_exists_in_values_yaml() throws IOException {
        Set<String> missing = new TreeSet<>();
        int references = 0;
        try (Stream<Path> files = Files.list(HELM.resolve("templates"))) {
            for (Path file : files.toList()) {
                Matcher ref = VALUES_REF.matcher(DeployFiles.read(file));
                while (ref.find()) {
                    references++;
                    String path = ref.group(1).substring(1);
                    if (!DeployFiles.present(values, path)) {
                        missing.add(file.getFileName() + ": .Values." + path);
                    }
                }
            }
        }
        assertThat(references).isGreaterThan(20);
        assertThat(missing).isEmpty();
    }

    @Test
    void images_are_the_builds_and_the_default_tag_is_the_project_version() {
        for (ServiceConfig service : ServiceConfig.values()) {
            assertThat(DeployFiles.at(values, SECTION.get(service) + ".image.repository")).as(service.command)
                    .isEqualTo(pom.get(service.imageProperty));
            assertThat(template(TEMPLATE.get(service)))
                    .contains("include \"tailprobe.image\" (dict \"image\" .Values." + SECTION.get(service) + ".image");
        }
        Map<String, Object> chart = DeployFiles.yamlMap(HELM.resolve("Chart.yaml"));
        assertThat(chart.get("appVersion")).isEqualTo(pom.get("image.tag"));
        assertThat(template("_helpers.tpl")).contains(".root.Values.image.tag | default .root.Chart.AppVersion");
    }

    @Test
    void each_services_config_and_variables_load_and_validate_in_the_service() throws IOException {
        String configMap = template("configmap.yaml");
        for (ServiceConfig service : ServiceConfig.values()) {
            String text = template(TEMPLATE.get(service));
            String section = SECTION.get(service);

            // the config file: values.<section>.config, mounted where --config points
            assertThat(configMap).contains(service.command + ".yaml: |\n    {{- toYaml .Values." + section + ".config");
            Path file = dir.resolve(service.command + ".yaml");
            Files.writeString(file, new Yaml(blockStyle()).dump(DeployFiles.at(values, section + ".config")));
            String configPath = "/etc/tailprobe/" + service.command + ".yaml";
            assertThat(text).contains("args: [\"--config\", \"" + configPath + "\"]");
            Map<String, String> mounts = mounts(text);
            assertThat(mounts).as(service.command + " mounts").containsEntry(configPath, service.command + ".yaml");

            Map<String, String> env = environment(text);
            env.putAll(environment(kafkaEnvWithEverythingOn()));
            assertThat(service.unknownVariables(env.keySet(), file)).as(service.command + ": variables it would ignore")
                    .isEmpty();
            ServiceConfig.Loaded loaded = service.load(file, env, List.of());

            assertThat(loaded.httpPort()).as(service.command + " port").isEqualTo(service.defaultHttpPort)
                    .isEqualTo(DeployFiles.at(values, section + ".port"));
            assertThat(text).contains("containerPort: {{ .Values." + section + ".port }}",
                    "- name: TAILPROBE_HTTP_PORT\n              value: {{ .Values." + section + ".port | quote }}");
            for (String written : loaded.writtenDirectories()) {
                assertThat(mounts.keySet()).as(service.command + " writes " + written + ": a volume holds it")
                        .anyMatch(mount -> DeployFiles.under(written, mount));
            }
        }
    }

    @Test
    void kafka_properties_and_security_settings_are_kafka_client_properties() {
        Map<String, String> env = environment(kafkaEnvWithEverythingOn());
        assertThat(env.keySet()).contains("TAILPROBE_KAFKA_BOOTSTRAP_SERVERS", "TAILPROBE_KAFKA_SECURITY_PROTOCOL",
                "TAILPROBE_KAFKA_SASL_MECHANISM", "TAILPROBE_KAFKA_SASL_JAAS_CONFIG", "TAILPROBE_KAFKA_SSL_TRUSTSTORE_LOCATION");
        assertThat(env.keySet()).allMatch(ServiceConfig::isKafkaVariable, "a Kafka client property");
        assertThat(template("_helpers.tpl"))
                .contains("- name: TAILPROBE_KAFKA_{{ $property | upper | replace \".\" \"_\" }}");
        @SuppressWarnings("unchecked")
        Map<String, Object> properties = (Map<String, Object>) DeployFiles.at(values, "kafka.properties");
        assertThat(properties.keySet()).allMatch(ServiceConfig::isKafkaProperty, "a Kafka client property");
        // the trust store path is inside the mounted secret
        assertThat(env.get("TAILPROBE_KAFKA_SSL_TRUSTSTORE_LOCATION")).startsWith("/etc/tailprobe/kafka-tls/");
        assertThat(template("_helpers.tpl")).contains("mountPath: /etc/tailprobe/kafka-tls");
    }

    @Test
    void probes_use_the_health_paths_and_the_agent_may_ping_without_root() {
        for (ServiceConfig service : ServiceConfig.values()) {
            String text = template(TEMPLATE.get(service));
            assertThat(text).as(service.command).contains("livenessProbe:\n            httpGet: {path: /health, port: http}")
                    .contains("runAsNonRoot: true").contains("include \"tailprobe.containerSecurity\"");
        }
        assertThat(template("_helpers.tpl")).contains("allowPrivilegeEscalation: false", "readOnlyRootFilesystem: true");
        assertThat(template(TEMPLATE.get(ServiceConfig.QUERY_API))).contains("readinessProbe:\n            httpGet: {path: /ready, port: http}");
        assertThat(template(TEMPLATE.get(ServiceConfig.AGENT))).contains("kind: DaemonSet", "hostNetwork: {{ .Values.agent.hostNetwork }}",
                "name: net.ipv4.ping_group_range");
        assertThat(template(TEMPLATE.get(ServiceConfig.AGGREGATOR))).contains("kind: StatefulSet", "volumeClaimTemplates:");
        assertThat(template(TEMPLATE.get(ServiceConfig.QUERY_API))).contains("kind: Deployment");
        assertThat(template("query-api-service.yaml")).contains("kind: Service", "targetPort: http");
    }

    /** The shared Kafka variables as rendered with SASL and TLS on. */
    private static String kafkaEnvWithEverythingOn() {
        String helpers = template("_helpers.tpl");
        int start = helpers.indexOf("{{- define \"tailprobe.kafkaEnv\" -}}");
        int end = helpers.indexOf("{{- end }}\n\n", helpers.indexOf("{{- range $property"));
        return helpers.substring(start, end);
    }

    /** The {@code TAILPROBE_…} variables a template sets, values substituted; a variable from a secret or field gets a stand-in. */
    private Map<String, String> environment(String text) {
        Map<String, String> env = new LinkedHashMap<>();
        Matcher m = ENV.matcher(text);
        while (m.find()) {
            String name = m.group(1);
            if (name.endsWith("_")) {
                continue; // TAILPROBE_KAFKA_{{ $property }}: values' kafka.properties, checked on their own
            }
            String value = m.group(2).equals("valueFrom") ? "from-a-secret-or-field" : render(m.group(3).strip());
            env.put(name, value);
        }
        return env;
    }

    private String render(String templated) {
        Matcher m = TEMPLATE_VALUE.matcher(templated);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(String.valueOf(DeployFiles.at(values, m.group(1)))));
        }
        m.appendTail(out);
        return out.toString().replace("$(POD_IP)", "10.1.2.3").replaceAll("^\"|\"$", "");
    }

    /** Mount path to subPath (empty when the whole volume is mounted). */
    private static Map<String, String> mounts(String text) {
        Map<String, String> mounts = new LinkedHashMap<>();
        Matcher m = MOUNT.matcher(text);
        while (m.find()) {
            mounts.put(m.group(1), m.group(2) == null ? "" : m.group(2));
        }
        return mounts;
    }

    private static DumperOptions blockStyle() {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        return options;
    }

}
