package io.tailprobe.standalone.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The repository's deployment files (docker/, deploy/) and what the build says about them: the image
 * names of the root pom, the stages of docker/Dockerfile.
 */
final class DeployFiles {
    static final Path ROOT = findRoot();
    static final Path DOCKER = ROOT.resolve("docker");
    static final Path HELM = ROOT.resolve("deploy/helm/tailprobe");
    static final Path AWS = ROOT.resolve("deploy/aws");
    static final Path SYSTEMD_UNIT = ROOT.resolve("deploy/systemd/tailprobe@.service");

    private DeployFiles() {}

    private static Path findRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("docker/compose.yaml"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no docker/compose.yaml above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A strict parse: duplicate keys fail; anchors and merge keys ({@code <<: *x}) resolve as compose resolves them. */
    static Object yaml(String text) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        return new Yaml(options).load(text);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> yamlMap(Path file) {
        return (Map<String, Object>) yaml(read(file));
    }

    /** The value at a dotted path of nested maps, or null; {@code present} tells a null value from a missing key. */
    @SuppressWarnings("unchecked")
    static boolean present(Map<String, Object> tree, String dottedPath) {
        Object node = tree;
        for (String part : dottedPath.split("\\.")) {
            if (!(node instanceof Map<?, ?> map) || !map.containsKey(part)) {
                return false;
            }
            node = ((Map<String, Object>) map).get(part);
        }
        return true;
    }

    @SuppressWarnings("unchecked")
    static Object at(Map<String, Object> tree, String dottedPath) {
        Object node = tree;
        for (String part : dottedPath.split("\\.")) {
            if (!(node instanceof Map<?, ?> map)) {
                return null;
            }
            node = ((Map<String, Object>) map).get(part);
        }
        return node;
    }

    /** The root pom's {@code <properties>}, with {@code ${project.version}} resolved. */
    static Map<String, String> pomProperties() {
        try {
            Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(ROOT.resolve("pom.xml").toFile());
            Element project = pom.getDocumentElement();
            String version = child(project, "version").getTextContent().strip();
            Map<String, String> properties = new LinkedHashMap<>();
            NodeList nodes = child(project, "properties").getChildNodes();
            for (int i = 0; i < nodes.getLength(); i++) {
                if (nodes.item(i) instanceof Element property) {
                    properties.put(property.getTagName(),
                            property.getTextContent().strip().replace("${project.version}", version));
                }
            }
            return properties;
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the root pom.xml", e);
        }
    }

    private static Element child(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        throw new IllegalStateException("pom.xml has no <" + name + ">");
    }

    /** One stage of docker/Dockerfile: its ENV, EXPOSE, VOLUME, CMD, ENTRYPOINT and HEALTHCHECK lines. */
    record Stage(String name, Map<String, String> env, List<String> expose, List<String> volumes,
                 List<String> entrypoint, List<String> cmd, String healthcheck, boolean nonRoot) {}

    private static final Pattern FROM = Pattern.compile("(?i)^FROM\\s+(\\S+)(?:\\s+AS\\s+(\\S+))?");
    private static final Pattern JSON_ITEM = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** The stages of docker/Dockerfile by name; a stage inherits its base stage's ENV, VOLUME and USER. */
    static Map<String, Stage> dockerStages() {
        List<String> lines = joinedLines(read(DOCKER.resolve("Dockerfile")));
        Map<String, Stage> stages = new LinkedHashMap<>();
        Stage current = null;
        for (String line : lines) {
            Matcher from = FROM.matcher(line);
            if (from.find()) {
                if (current != null) {
                    stages.put(current.name(), current);
                }
                Stage base = stages.get(from.group(1));
                String name = from.group(2);
                current = base == null
                        ? new Stage(name, new LinkedHashMap<>(), new ArrayList<>(), new ArrayList<>(), List.of(), List.of(), null, false)
                        : new Stage(name, new LinkedHashMap<>(base.env()), new ArrayList<>(base.expose()),
                                new ArrayList<>(base.volumes()), base.entrypoint(), base.cmd(), base.healthcheck(), base.nonRoot());
                continue;
            }
            if (current == null) {
                continue;
            }
            String[] parts = line.strip().split("\\s+", 2);
            String instruction = parts[0].toUpperCase(java.util.Locale.ROOT);
            String rest = parts.length > 1 ? parts[1] : "";
            switch (instruction) {
                case "ENV" -> {
                    Matcher kv = Pattern.compile("(\\w+)=(\"[^\"]*\"|\\S+)").matcher(rest);
                    while (kv.find()) {
                        current.env().put(kv.group(1), kv.group(2).replaceAll("^\"|\"$", ""));
                    }
                }
                case "EXPOSE" -> current.expose().addAll(List.of(rest.split("\\s+")));
                case "VOLUME" -> current.volumes().addAll(List.of(rest.split("\\s+")));
                case "USER" -> current = new Stage(current.name(), current.env(), current.expose(), current.volumes(),
                        current.entrypoint(), current.cmd(), current.healthcheck(), !rest.startsWith("0") && !rest.startsWith("root"));
                case "ENTRYPOINT" -> current = new Stage(current.name(), current.env(), current.expose(), current.volumes(),
                        jsonArray(rest), List.of(), current.healthcheck(), current.nonRoot());
                case "CMD" -> current = new Stage(current.name(), current.env(), current.expose(), current.volumes(),
                        current.entrypoint(), jsonArray(rest), current.healthcheck(), current.nonRoot());
                case "HEALTHCHECK" -> current = new Stage(current.name(), current.env(), current.expose(), current.volumes(),
                        current.entrypoint(), current.cmd(), rest, current.nonRoot());
                default -> { }
            }
        }
        if (current != null) {
            stages.put(current.name(), current);
        }
        return stages;
    }

    private static List<String> jsonArray(String text) {
        List<String> items = new ArrayList<>();
        Matcher m = JSON_ITEM.matcher(text);
        while (m.find()) {
            items.add(m.group(1));
        }
        return items;
    }

    /** Lines with backslash continuations joined, comments dropped. */
    private static List<String> joinedLines(String text) {
        List<String> lines = new ArrayList<>();
        StringBuilder pending = new StringBuilder();
        for (String line : text.split("\n")) {
            if (line.strip().startsWith("#")) {
                continue;
            }
            if (line.endsWith("\\")) {
                pending.append(line, 0, line.length() - 1).append(' ');
            } else {
                pending.append(line);
                lines.add(pending.toString());
                pending.setLength(0);
            }
        }
        return lines;
    }

    /** Whether {@code path} is {@code dir} or lies under it. */
    static boolean under(String path, String dir) {
        return Path.of(path).normalize().startsWith(Path.of(dir).normalize());
    }
}
