package io.tailprobe.common;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The flags every service takes: {@code --config FILE} and repeatable {@code --set key=value}. Use as a picocli {@code @Mixin}. */
public final class ConfigOptions {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "YAML configuration file")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "override one configuration key, e.g. --set http.port=9200 (repeatable)")
    List<String> sets = new ArrayList<>();

    public <T> T load(Class<T> type, T defaults) {
        return ConfigLoader.load(type, defaults, config, System.getenv(), sets);
    }

    public Path configFile() {
        return config;
    }
}
