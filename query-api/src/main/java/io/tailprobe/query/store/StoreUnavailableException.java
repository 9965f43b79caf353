package io.tailprobe.query.store;

/** The store cannot answer now (starting, restoring, rebalancing); the API answers 503. */
public final class StoreUnavailableException extends RuntimeException {
    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
