package io.tailprobe.aggregator;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TransactionAbortableException;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

/** A stream thread that failed for a broker out of reach is replaced; one that failed for anything else stops the aggregator. */
class StreamThreadFailureTest {
    @Test
    void a_send_that_timed_out_during_a_broker_outage_replaces_the_thread() {
        // the chain Kafka Streams 4.3 threw in AgentOutageFaultTest after a 60 s outage
        Throwable failure = new StreamsException("Error encountered trying to send record to topic "
                + "outage-aggregator-checkpoint-changelog",
                new KafkaException("Cannot execute transactional method because we are in an error state",
                        new TransactionAbortableException("Transaction Request was aborted after exhausting retries.",
                                new TimeoutException("Topic outage-aggregator-checkpoint-changelog not present in "
                                        + "metadata after 60000 ms."))));
        assertThat(Aggregator.onStreamThreadFailure(failure)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        assertThat(Aggregator.onStreamThreadFailure(new StreamsException(new TimeoutException("fetch"))))
                .isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
    }

    @Test
    void any_other_failure_stops_the_aggregator() {
        assertThat(Aggregator.onStreamThreadFailure(new StreamsException("a bug", new IllegalStateException("bug"))))
                .isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
        assertThat(Aggregator.onStreamThreadFailure(new KafkaException("fatal: fenced")))
                .isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
    }
}
