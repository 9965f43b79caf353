package io.tailprobe.agent.probe;

import java.util.Optional;

/**
 * A target address of the form {@code host:port} or {@code [ipv6]:port}, e.g. {@code db.internal:5432}
 * or {@code [::1]:53}; ports from 1 to 65535. Parsing never resolves the host.
 */
public record HostPort(String host, int port) {
    /**
     * The parsed address.
     *
     * @throws IllegalArgumentException naming the rule and the address, for a config error message
     */
    public static HostPort require(String address) {
        return parse(address).orElseThrow(() -> new IllegalArgumentException(
                "address must be host:port with a port from 1 to 65535 (IPv6 as [addr]:port), got \"" + address + "\""));
    }

    /** {@code host:port}, with brackets around an IPv6 host: {@code [::1]:53}. */
    public static String format(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /** The parsed address, or empty when it is not {@code host:port} with a valid port. */
    public static Optional<HostPort> parse(String address) {
        if (address == null) {
            return Optional.empty();
        }
        String host;
        String portText;
        if (address.startsWith("[")) {
            int close = address.indexOf(']');
            if (close < 0 || close + 1 >= address.length() || address.charAt(close + 1) != ':') {
                return Optional.empty();
            }
            host = address.substring(1, close);
            portText = address.substring(close + 2);
        } else {
            int colon = address.indexOf(':');
            if (colon <= 0 || colon != address.lastIndexOf(':')) {
                return Optional.empty();
            }
            host = address.substring(0, colon);
            portText = address.substring(colon + 1);
        }
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (host.isBlank() || port < 1 || port > 65_535) {
            return Optional.empty();
        }
        return Optional.of(new HostPort(host, port));
    }
}
