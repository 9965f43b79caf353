package io.tailprobe.standalone.deploy;

import static io.tailprobe.standalone.deploy.DeployFiles.DOCKER;
import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.standalone.deploy.DeployFiles.Stage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docker/compose.yaml against the build and the services' real configuration: images and Dockerfile
 * stages, every {@code TAILPROBE_…} variable, {@code --set} and mounted config file loaded and
 * validated as the service would at start-up, ports, written directories on volumes, and the
 * Prometheus and Grafana wiring.
 */
class ComposeStackTest {
    private final Map<String, Object> compose = DeployFiles.yamlMap(DOCKER.resolve("compose.yaml"));
    private final Map<String, String> pom = DeployFiles.pomProperties();
    private final Map<String, Stage> stages = DeployFiles.dockerStages();

    /** A Tailprobe container of the stack, with what compose gives it. */
    record Container(String name, ServiceConfig service, Map<String, Object> spec) {}

    @SuppressWarnings("unchecked")
    private Map<String, Map<String, Object>> services() {
        return (Map<String, Map<String, Object>>) compose.get("services");
    }

    private List<Container> tailprobeContainers() {
        List<Container> containers = new ArrayList<>();
        services().forEach((name, spec) -> {
            String image = String.valueOf(spec.get("image"));
            for (ServiceConfig service : ServiceConfig.values()) {
                if (image.startsWith(pom.get(service.imageProperty) + ":")) {
                    containers.add(new Container(name, service, spec));
                }
            }
        });
        return containers;
    }

    @Test
    void every_service_image_is_the_builds_and_built_from_its_dockerfile_stage() {
        List<Container> containers = tailprobeContainers();
        assertThat(containers).extracting(Container::service).containsOnly(ServiceConfig.values());
        assertThat(containers.stream().filter(c -> c.service() == ServiceConfig.AGENT)).as("agents on hosts of their own")
                .hasSizeGreaterThanOrEqualTo(2);
        for (Container c : containers) {
            assertThat(c.spec().get("image")).as(c.name())
                    .isEqualTo(pom.get(c.service().imageProperty) + ":" + pom.get("image.tag"));
            @SuppressWarnings("unchecked")
            Map<String, Object> build = (Map<String, Object>) c.spec().get("build");
            assertThat(build).as(c.name() + " build").containsEntry("dockerfile", "docker/Dockerfile")
                    .containsEntry("target", c.service().command).containsEntry("context", "..");
            assertThat(c.spec().get("hostname")).as(c.name() + " hostname").isEqualTo(c.name());
        }
        services().forEach((name, spec) -> {
            String image = String.valueOf(spec.get("image"));
            assertThat(image).as(name + ": every image has a pinned tag").matches("[^:]+:[^:]+").doesNotEndWith(":latest");
            if (!image.startsWith("ghcr.io/tailprobe/") && !spec.containsKey("build")) {
                assertThat(image).as(name).doesNotContain("tailprobe");
            }
        });
    }

    @Test
    void dockerfile_stages_run_their_service_as_non_root_with_a_health_check_on_its_port() {
        for (ServiceConfig service : ServiceConfig.values()) {
            Stage stage = stages.get(service.command);
            assertThat(stage).as("stage " + service.command).isNotNull();
            assertThat(stage.entrypoint()).as(service.command)
                    .containsExactly("java", "-jar", "/opt/tailprobe/tailprobe.jar", service.command);
            assertThat(stage.nonRoot()).as(service.command + " USER").isTrue();
            assertThat(stage.expose()).as(service.command).contains(String.valueOf(service.defaultHttpPort));
            assertThat(stage.healthcheck()).as(service.command)
                    .contains("http://localhost:${TAILPROBE_HTTP_PORT:-" + service.defaultHttpPort + "}/health");
            List<String> unknown = service.unknownVariables(stage.env().keySet(), null);
            assertThat(unknown).as("ENV of stage " + service.command + " that " + service.command + " ignores").isEmpty();
            ServiceConfig.Loaded loaded = service.load(configFile(stage.cmd()), stage.env(), List.of());
            for (String dir : loaded.writtenDirectories()) {
                assertThat(stage.volumes()).as(service.command + " writes " + dir + ": a VOLUME holds it")
                        .anyMatch(volume -> DeployFiles.under(dir, volume));
            }
        }
    }

    @Test
    void every_variable_flag_and_config_file_loads_and_validates_in_its_service() {
        for (Container c : tailprobeContainers()) {
            Stage stage = stages.get(c.service().command);
            Map<String, String> env = new LinkedHashMap<>(stage.env());
            env.putAll(environment(c));
            List<String> command = command(c, stage);
            Path file = configFile(command);
            assertThat(c.service().unknownVariables(environment(c).keySet(), file))
                    .as(c.name() + ": TAILPROBE_ variables its service would ignore").isEmpty();
            ServiceConfig.Loaded loaded = c.service().load(file, env, sets(command));

            assertThat(loaded.httpPort()).as(c.name() + " http.port: the image's health check and EXPOSE assume the default")
                    .isEqualTo(c.service().defaultHttpPort);
            for (String published : strings(c.spec().get("ports"))) {
                assertThat(published.substring(published.lastIndexOf(':') + 1)).as(c.name() + " ports")
                        .isEqualTo(String.valueOf(loaded.httpPort()));
            }
            List<String> mounted = new ArrayList<>(stage.volumes());
            strings(c.spec().get("volumes")).forEach(volume -> mounted.add(volume.split(":")[1]));
            for (String dir : loaded.writtenDirectories()) {
                assertThat(mounted).as(c.name() + " writes " + dir).anyMatch(target -> DeployFiles.under(dir, target));
            }
        }
    }

    @Test
    void agent_targets_are_containers_of_the_stack_and_icmp_is_allowed_without_root() {
        Set<String> hosts = new TreeSet<>(services().keySet());
        services().values().forEach(spec -> {
            if (spec.get("hostname") != null) {
                hosts.add(String.valueOf(spec.get("hostname")));
            }
            Object address = DeployFiles.at(spec, "networks.default.ipv4_address");
            if (address != null) {
                hosts.add(String.valueOf(address));
            }
        });
        Map<String, Object> agentFile = DeployFiles.yamlMap(DOCKER.resolve("agent/agent.yaml"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> targets = (List<Map<String, Object>>) agentFile.get("targets");
        Set<String> types = new TreeSet<>();
        for (Map<String, Object> target : targets) {
            types.add(String.valueOf(target.get("type")));
            String address = String.valueOf(target.get("address")).replaceFirst("^https?://", "").replaceFirst("[:/].*$", "");
            assertThat(hosts).as("target " + target.get("name")).contains(address);
        }
        assertThat(types).as("demo target kinds").contains("http", "dns", "tcp", "icmp");
        assertThat(targets).as("HTTP/1.1 and HTTP/2").anySatisfy(t -> assertThat(String.valueOf(t.get("http"))).contains("http/1.1"))
                .anySatisfy(t -> assertThat(String.valueOf(t.get("http"))).contains("h2"));
        for (Container c : tailprobeContainers()) {
            if (c.service() == ServiceConfig.AGENT) {
                assertThat(String.valueOf(c.spec().get("sysctls"))).as(c.name())
                        .contains("net.ipv4.ping_group_range=0 2147483647");
            }
        }
    }

    @Test
    void prometheus_scrapes_every_tailprobe_container_on_its_port_and_grafana_is_provisioned() {
        Set<String> scraped = new TreeSet<>();
        Matcher target = Pattern.compile("\"([\\w.-]+:\\d+)\"")
                .matcher(DeployFiles.read(DOCKER.resolve("prometheus/prometheus.yml")));
        while (target.find()) {
            scraped.add(target.group(1));
        }
        Set<String> expected = new TreeSet<>();
        for (Container c : tailprobeContainers()) {
            expected.add(c.name() + ":" + c.service().defaultHttpPort);
        }
        assertThat(scraped).isEqualTo(expected);
        assertThat(strings(services().get("prometheus").get("volumes")))
                .contains("./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro");

        Map<String, Object> datasources = DeployFiles.yamlMap(DOCKER.resolve("grafana/provisioning/datasources/prometheus.yaml"));
        assertThat(String.valueOf(datasources)).contains("url=http://prometheus:9090", "uid=prometheus");
        Map<String, Object> dashboards = DeployFiles.yamlMap(DOCKER.resolve("grafana/provisioning/dashboards/tailprobe.yaml"));
        String dashboardPath = String.valueOf(DeployFiles.at(
                (Map<String, Object>) ((List<?>) dashboards.get("providers")).getFirst(), "options.path"));
        List<String> grafanaVolumes = strings(services().get("grafana").get("volumes"));
        assertThat(grafanaVolumes).contains("./grafana/provisioning:/etc/grafana/provisioning:ro",
                "./grafana/dashboards:" + dashboardPath + ":ro");
        Matcher uid = Pattern.compile("\"datasource\":\\s*\\{[^}]*\"uid\":\\s*\"([^\"]+)\"")
                .matcher(DeployFiles.read(DOCKER.resolve("grafana/dashboards/tailprobe.json")));
        int panels = 0;
        while (uid.find()) {
            panels++;
            assertThat(uid.group(1)).as("the dashboard's datasource is the provisioned one").isEqualTo("prometheus");
        }
        assertThat(panels).isGreaterThan(10);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> environment(Container c) {
        Map<String, String> env = new LinkedHashMap<>();
        Object raw = c.spec().get("environment");
        if (raw instanceof Map<?, ?> map) {
            ((Map<String, Object>) map).forEach((k, v) -> env.put(k, String.valueOf(v)));
        }
        return env;
    }

    private static List<String> command(Container c, Stage stage) {
        Object command = c.spec().get("command");
        return command == null ? stage.cmd() : strings(command);
    }

    /** The host file a container's {@code --config} path is mounted from. */
    private Path configFile(List<String> command) {
        int at = command.indexOf("--config");
        if (at < 0) {
            return null;
        }
        String inContainer = command.get(at + 1);
        for (Map<String, Object> spec : services().values()) {
            for (String volume : strings(spec.get("volumes"))) {
                String[] parts = volume.split(":");
                if (parts[1].equals(inContainer) && parts[0].startsWith(".")) {
                    return DOCKER.resolve(parts[0]).normalize();
                }
            }
        }
        // an image's default --config that compose does not mount: only fine for no container
        return DOCKER.resolve("agent/agent.yaml");
    }

    private static List<String> sets(List<String> command) {
        List<String> sets = new ArrayList<>();
        for (int i = 0; i < command.size() - 1; i++) {
            if (command.get(i).equals("--set")) {
                sets.add(command.get(i + 1));
            }
        }
        return sets;
    }

    private static List<String> strings(Object list) {
        List<String> strings = new ArrayList<>();
        if (list instanceof List<?> items) {
            items.forEach(item -> strings.add(String.valueOf(item)));
        }
        return strings;
    }
}
