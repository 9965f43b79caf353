package io.tailprobe.query.store;

/**
 * The store cannot answer now (starting, restoring, rebalancing, or the instance that holds the series
 * did not answer in time); the API answers 503.
 */
public final class StoreUnavailableException extends RuntimeException {
    public StoreUnavailableException(String message) {
        super(message);
    }

    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
