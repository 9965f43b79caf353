package io.tailprobe.schemas;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.util.ClassSecurityValidator;

/**
 * The schema store that lets today's readers decode messages written with any earlier schema
 * version. Single-object encoding puts the writer schema's 64-bit fingerprint in every message;
 * the decoder looks the fingerprint up here and resolves the old writer schema against the
 * current reader schema (fields added since get their defaults).
 *
 * <p>Every released version of a schema is kept as an {@code .avsc} file under
 * {@code io/tailprobe/schemas/history/} and named in that folder's {@code index.txt}; every
 * index on the classpath is read, so a jar that ships more history adds to it. The current
 * versions are always known.
 */
public final class SchemaHistory {
    static final String INDEX = "io/tailprobe/schemas/history/index.txt";
    private static final String FOLDER = "io/tailprobe/schemas/history/";

    private static final SchemaStore.Cache STORE = load();

    private SchemaHistory() {}

    /** The shared store: current schemas plus every historical version found on the classpath. */
    public static SchemaStore store() {
        return STORE;
    }

    /** The historical schemas listed in the classpath indexes, in index order. */
    public static List<Schema> historicalSchemas() {
        ClassLoader loader = SchemaHistory.class.getClassLoader();
        List<Schema> schemas = new ArrayList<>();
        try {
            Enumeration<URL> indexes = loader.getResources(INDEX);
            for (URL index : Collections.list(indexes)) {
                for (String name : readIndex(index)) {
                    try (InputStream in = loader.getResourceAsStream(FOLDER + name)) {
                        if (in == null) {
                            throw new IllegalStateException(index + " names " + name + " but "
                                    + FOLDER + name + " is not on the classpath");
                        }
                        schemas.add(new Schema.Parser().parse(in));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read schema history " + INDEX, e);
        }
        return schemas;
    }

    private static List<String> readIndex(URL index) throws IOException {
        List<String> names = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(index.openStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                String name = line.strip();
                if (!name.isEmpty() && !name.startsWith("#")) {
                    names.add(name);
                }
            }
        }
        return names;
    }

    private static SchemaStore.Cache load() {
        // Avro 1.12 refuses to instantiate classes it was not told to trust; these are ours.
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(ClassSecurityValidator.getGlobal(),
                ClassSecurityValidator.builder()
                        .add(LatencySample.class).add(PhaseTimings.class).add(Outcome.class)
                        .add(WindowedHistogram.class).build()));
        SchemaStore.Cache cache = new SchemaStore.Cache();
        cache.addSchema(LatencySample.getClassSchema());
        cache.addSchema(WindowedHistogram.getClassSchema());
        historicalSchemas().forEach(cache::addSchema);
        return cache;
    }
}
