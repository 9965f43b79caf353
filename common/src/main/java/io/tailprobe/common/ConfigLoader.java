package io.tailprobe.common;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Loads one service's configuration in layers, later layers winning:
 * <ol>
 *   <li>the defaults of the config class (a default-constructed record tree);</li>
 *   <li>the YAML file, if any;</li>
 *   <li>environment variables: {@code TAILPROBE_} + the key path in upper snake case, e.g.
 *       {@code TAILPROBE_HTTP_PORT} for {@code http.port}; any Kafka client property passes through
 *       as {@code TAILPROBE_KAFKA_} + the property with dots as underscores, e.g.
 *       {@code TAILPROBE_KAFKA_SECURITY_PROTOCOL=SASL_SSL};</li>
 *   <li>{@code --set key=value} flags, e.g. {@code --set http.port=9200} or
 *       {@code --set kafka.bootstrap.servers=broker:9092}.</li>
 * </ol>
 * Unknown keys and values of the wrong type fail at start-up with the key named.
 */
public final class ConfigLoader {
    /** The top-level key whose children are Kafka client properties, passed through verbatim. */
    public static final String KAFKA = "kafka";
    public static final String ENV_PREFIX = "TAILPROBE_";

    private static final ObjectMapper YAML = newMapper();

    private ConfigLoader() {}

    public static ObjectMapper mapper() {
        return YAML;
    }

    public static <T> T load(Class<T> type, T defaults, Path file, Map<String, String> env, List<String> sets) {
        ObjectNode tree = YAML.valueToTree(defaults);
        if (file != null) {
            if (!Files.isReadable(file)) {
                throw new ConfigException("config file " + file + " does not exist or is not readable");
            }
            try {
                JsonNode fromFile = YAML.readTree(file.toFile());
                if (fromFile != null && !fromFile.isMissingNode() && !fromFile.isNull()) {
                    if (!fromFile.isObject()) {
                        throw new ConfigException("config file " + file + " must hold a YAML mapping at the top");
                    }
                    merge(tree, (ObjectNode) fromFile);
                }
            } catch (IOException e) {
                throw new ConfigException("config file " + file + " is not valid YAML: " + e.getMessage(), e);
            }
        }
        tree = withEveryKey(type, tree);
        applyEnvironment(tree, env);
        for (String set : sets) {
            int eq = set.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException("--set expects key=value, got \"" + set + "\"");
            }
            put(tree, set.substring(0, eq).strip(), set.substring(eq + 1));
        }
        try {
            return YAML.treeToValue(tree, type);
        } catch (UnrecognizedPropertyException e) {
            throw new ConfigException("unknown config key " + path(e) + " (known here: "
                    + e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", "))
                    + ")", e);
        } catch (MismatchedInputException e) {
            throw new ConfigException("config key " + path(e) + " has a value of the wrong type: "
                    + e.getOriginalMessage(), e);
        } catch (IOException e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            throw new ConfigException("bad configuration: " + root.getMessage(), e);
        }
    }

    /**
     * The environment variables {@link #load} reads for {@code type} with this file, by name, each to
     * the key it sets: {@code TAILPROBE_HTTP_PORT → http.port}, {@code TAILPROBE_TARGETS_0_INTERVAL →
     * targets.0.interval} (list elements only as many as the file has). Kafka client properties are not
     * listed: any {@code TAILPROBE_KAFKA_…} variable passes through. Any other {@code TAILPROBE_…}
     * variable is not an error (the environment is shared with other programs) but is ignored, so a
     * deployment that sets one has a misspelling: this is the list to check it against.
     */
    public static <T> Map<String, String> environmentKeys(Class<T> type, T defaults, Path file) {
        ObjectNode tree = YAML.valueToTree(load(type, defaults, file, Map.of(), List.of()));
        Map<String, String> keys = new java.util.TreeMap<>();
        for (String leaf : leafPaths(tree, "")) {
            if (!leaf.startsWith(KAFKA + ".")) {
                keys.put(envName(leaf), leaf);
            }
        }
        return keys;
    }

    /**
     * The tree with every key the config class knows, including optional keys the file left out
     * (as null), so that {@code TAILPROBE_TARGETS_0_INTERVAL} can set a key a list element lacks.
     * If the tree does not bind yet (env or flags may still fix it), it is returned as it is.
     */
    private static <T> ObjectNode withEveryKey(Class<T> type, ObjectNode tree) {
        try {
            return YAML.valueToTree(YAML.treeToValue(tree, type));
        } catch (IOException | IllegalArgumentException notYet) {
            return tree;
        }
    }

    private static String path(com.fasterxml.jackson.databind.JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (com.fasterxml.jackson.databind.JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (!sb.isEmpty()) sb.append('.');
                sb.append(ref.getFieldName());
            } else {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    private static void applyEnvironment(ObjectNode tree, Map<String, String> env) {
        String kafkaPrefix = ENV_PREFIX + KAFKA.toUpperCase(Locale.ROOT) + "_";
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (e.getKey().startsWith(kafkaPrefix) && tree.has(KAFKA)) {
                String property = e.getKey().substring(kafkaPrefix.length()).toLowerCase(Locale.ROOT).replace('_', '.');
                ((ObjectNode) tree.get(KAFKA)).put(property, e.getValue());
            }
        }
        for (String leaf : leafPaths(tree, "")) {
            if (leaf.startsWith(KAFKA + ".")) {
                continue;
            }
            String value = env.get(envName(leaf));
            if (value != null) {
                put(tree, leaf, value);
            }
        }
    }

    /** {@code http.port} → {@code TAILPROBE_HTTP_PORT}; {@code graceMillis} → {@code GRACE_MILLIS}. */
    public static String envName(String path) {
        String snake = path.replaceAll("([a-z0-9])([A-Z])", "$1_$2").replace('.', '_').replace('-', '_');
        return ENV_PREFIX + snake.toUpperCase(Locale.ROOT);
    }

    private static List<String> leafPaths(JsonNode node, String prefix) {
        List<String> paths = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            addLeaves(paths, prefix.isEmpty() ? f.getKey() : prefix + "." + f.getKey(), f.getValue());
        }
        return paths;
    }

    private static void addLeaves(List<String> paths, String path, JsonNode value) {
        if (value.isObject()) {
            paths.addAll(leafPaths(value, path));
        } else if (value.isArray()) {
            for (int i = 0; i < value.size(); i++) {
                addLeaves(paths, path + "." + i, value.get(i));
            }
        } else {
            paths.add(path);
        }
    }

    /** Sets one key; numeric segments index into lists, e.g. {@code targets.0.interval}. */
    private static void put(ObjectNode tree, String path, String value) {
        String[] parts = path.split("\\.");
        if (parts[0].equals(KAFKA) && parts.length > 1 && tree.has(KAFKA)) {
            ((ObjectNode) tree.get(KAFKA)).put(path.substring(KAFKA.length() + 1), value);
            return;
        }
        JsonNode node = tree;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = child(node, parts[i], path);
            if (child == null || !(child.isObject() || child.isArray())) {
                if (!node.isObject()) {
                    throw new ConfigException("config key " + path + ": no list element " + parts[i]);
                }
                child = ((ObjectNode) node).putObject(parts[i]);
            }
            node = child;
        }
        String last = parts[parts.length - 1];
        if (node.isArray()) {
            int index = index(node, last, path);
            ((com.fasterxml.jackson.databind.node.ArrayNode) node).set(index, TextNode.valueOf(value));
        } else {
            ((ObjectNode) node).set(last, TextNode.valueOf(value));
        }
    }

    private static JsonNode child(JsonNode node, String part, String path) {
        return node.isArray() ? node.get(index(node, part, path)) : node.get(part);
    }

    private static int index(JsonNode array, String part, String path) {
        try {
            int index = Integer.parseInt(part);
            if (index >= 0 && index < array.size()) {
                return index;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new ConfigException("config key " + path + ": \"" + part + "\" is not an index of a list of "
                + array.size() + " elements");
    }

    private static void merge(ObjectNode into, ObjectNode from) {
        Iterator<Map.Entry<String, JsonNode>> fields = from.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            JsonNode existing = into.get(f.getKey());
            if (existing != null && existing.isObject() && f.getValue().isObject()) {
                merge((ObjectNode) existing, (ObjectNode) f.getValue());
            } else {
                into.set(f.getKey(), f.getValue());
            }
        }
    }

    private static ObjectMapper newMapper() {
        SimpleModule durations = new SimpleModule("tailprobe-durations");
        durations.addDeserializer(Duration.class, new JsonDeserializer<>() {
            @Override
            public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
                String text = p.getValueAsString();
                try {
                    return Durations.parse(text);
                } catch (IllegalArgumentException e) {
                    throw MismatchedInputException.from(p, Duration.class, e.getMessage());
                }
            }
        });
        durations.addSerializer(Duration.class, new JsonSerializer<>() {
            @Override
            public void serialize(Duration value, com.fasterxml.jackson.core.JsonGenerator gen, SerializerProvider s)
                    throws IOException {
                gen.writeString(Durations.format(value));
            }
        });
        ObjectMapper mapper = new ObjectMapper(new YAMLFactory());
        mapper.registerModule(durations);
        mapper.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        mapper.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        mapper.setNodeFactory(JsonNodeFactory.withExactBigDecimals(true));
        return mapper;
    }
}
