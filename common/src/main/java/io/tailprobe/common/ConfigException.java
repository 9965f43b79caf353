package io.tailprobe.common;

/** Bad configuration, with a message naming the key and the rule; services exit on it at start-up. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
