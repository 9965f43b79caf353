package io.tailprobe.aggregator;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.internals.CacheFlushListener;
import org.apache.kafka.streams.state.internals.CachedStateStore;

/**
 * Lets a processor write what it keeps in memory into its changelogged store just before Kafka
 * Streams commits, so each commit holds exactly the state of the offsets it commits.
 *
 * <p>When a task commits, Kafka Streams first flushes the caches of its stores
 * ({@code StreamTask.prepareCommit → ProcessorStateManager.flushCache}, passed down the layers:
 * metrics, change logging, then this one), then flushes the record collector, then commits the
 * offsets, in one transaction under exactly-once. The store's own {@code flush}/{@code commit}
 * come later, after the offsets are committed, too late for anything that must be in the commit.
 * This layer sits between the change logging and the bytes store and presents itself as a cached
 * store ({@link CachedStateStore}, from Streams' internals: there is no public pre-commit hook);
 * on {@code flushCache} it runs the hook the task's processor registered, whose puts go through the
 * change logging into the commit's transaction. AggregatorFaultTest kills aggregators mid-commit
 * to hold this to account. Stores and processors meet through {@link TaskId}: Streams initializes
 * a task's stores before its processors.
 */
final class CommitHookedStores {
    private final Map<TaskId, HookedStore> byTask = new ConcurrentHashMap<>();

    /** A supplier of {@code inner}'s stores with the hook layer around each. */
    KeyValueBytesStoreSupplier wrap(KeyValueBytesStoreSupplier inner) {
        return new KeyValueBytesStoreSupplier() {
            @Override
            public String name() {
                return inner.name();
            }

            @Override
            public KeyValueStore<Bytes, byte[]> get() {
                return new HookedStore(inner.get());
            }

            @Override
            public String metricsScope() {
                return inner.metricsScope();
            }
        };
    }

    /**
     * Runs {@code beforeCommit} each time the task is about to commit, until its store closes.
     *
     * @throws IllegalStateException when the task has no such store (the topology did not wrap it)
     */
    void register(TaskId task, Runnable beforeCommit) {
        HookedStore store = byTask.get(task);
        if (store == null) {
            throw new IllegalStateException("no commit-hooked store for task " + task);
        }
        store.beforeCommit = beforeCommit;
    }

    private final class HookedStore implements KeyValueStore<Bytes, byte[]>, CachedStateStore<Bytes, byte[]> {
        private final KeyValueStore<Bytes, byte[]> inner;
        private TaskId task;
        private volatile Runnable beforeCommit;

        HookedStore(KeyValueStore<Bytes, byte[]> inner) {
            this.inner = inner;
        }

        @Override
        public void init(StateStoreContext context, StateStore root) {
            task = context.taskId();
            byTask.put(task, this);
            inner.init(context, root);
        }

        /** Called before the record collector flushes and the offsets commit: the hook's moment. */
        @Override
        public void flushCache() {
            Runnable hook = beforeCommit;
            if (hook != null) {
                hook.run();
            }
        }

        @Override
        public boolean setFlushListener(CacheFlushListener<Bytes, byte[]> listener, boolean sendOldValues) {
            return false; // no cache of records here, nothing to forward on flush
        }

        @Override
        public void clearCache() {
            // nothing cached
        }

        @Override
        public void flush() {
            inner.flush();
        }

        @Override
        public void commit(Map<TopicPartition, Long> changelogOffsets) {
            inner.commit(changelogOffsets);
        }

        @Override
        public void close() {
            beforeCommit = null;
            if (task != null) {
                byTask.remove(task, this);
            }
            inner.close();
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public boolean persistent() {
            return inner.persistent();
        }

        @Override
        public boolean isOpen() {
            return inner.isOpen();
        }

        @Override
        public boolean managesOffsets() {
            return inner.managesOffsets();
        }

        @Override
        public Long committedOffset(TopicPartition partition) {
            return inner.committedOffset(partition);
        }

        @Override
        public void put(Bytes key, byte[] value) {
            inner.put(key, value);
        }

        @Override
        public byte[] putIfAbsent(Bytes key, byte[] value) {
            return inner.putIfAbsent(key, value);
        }

        @Override
        public void putAll(List<KeyValue<Bytes, byte[]>> entries) {
            inner.putAll(entries);
        }

        @Override
        public byte[] delete(Bytes key) {
            return inner.delete(key);
        }

        @Override
        public byte[] get(Bytes key) {
            return inner.get(key);
        }

        @Override
        public KeyValueIterator<Bytes, byte[]> range(Bytes from, Bytes to) {
            return inner.range(from, to);
        }

        @Override
        public KeyValueIterator<Bytes, byte[]> reverseRange(Bytes from, Bytes to) {
            return inner.reverseRange(from, to);
        }

        @Override
        public KeyValueIterator<Bytes, byte[]> all() {
            return inner.all();
        }

        @Override
        public KeyValueIterator<Bytes, byte[]> reverseAll() {
            return inner.reverseAll();
        }

        @Override
        public <S extends Serializer<P>, P> KeyValueIterator<Bytes, byte[]> prefixScan(P prefix, S prefixKeySerializer) {
            return inner.prefixScan(prefix, prefixKeySerializer);
        }

        @Override
        public long approximateNumEntries() {
            return inner.approximateNumEntries();
        }

        @Override
        public <R> QueryResult<R> query(Query<R> query, PositionBound positionBound, QueryConfig config) {
            return inner.query(query, positionBound, config);
        }

        @Override
        public Position getPosition() {
            return inner.getPosition();
        }
    }
}
