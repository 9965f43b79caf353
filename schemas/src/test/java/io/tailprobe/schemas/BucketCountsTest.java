package io.tailprobe.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class BucketCountsTest {
    @Test
    void recorded_and_merged_counts_encode_byte_for_byte_like_hdrhistograms_v2_encoding_of_one_histogram_of_every_value() {
        Random random = new Random(5);
        Histogram expected = LatencyHistograms.newHistogram();
        BucketCounts rollup = new BucketCounts();
        for (int window = 0; window < 60; window++) {
            BucketCounts base = new BucketCounts();
            int samples = window % 10 == 0 ? 3_000 : 12; // a fleet-wide window now and then, one host's otherwise
            for (int i = 0; i < samples; i++) {
                long nanos = window == 7 && i == 0 ? -3 : (long) (Math.exp(random.nextGaussian() * 1.5) * 3_000_000);
                base.record(nanos);
                LatencyHistograms.record(expected, nanos);
            }
            rollup.addAll(base);
        }

        byte[] encoded = rollup.encode();

        assertThat(encoded).isEqualTo(v2(expected));
        assertThat(rollup.totalCount()).isEqualTo(6 * 3_000 + 54 * 12);
        assertThat(LatencyHistograms.decode(encoded)).isEqualTo(expected);
        assertThat(BucketCounts.decode(ByteBuffer.wrap(encoded)).encode()).isEqualTo(encoded);
    }

    @Test
    void large_sums_turn_dense_and_back_and_still_encode_byte_for_byte_like_one_histogram_of_every_value() {
        Random random = new Random(23);
        Histogram expectedFleet = LatencyHistograms.newHistogram();
        Histogram expectedThird = LatencyHistograms.newHistogram();
        BucketCounts fleet = new BucketCounts();
        BucketCounts third = new BucketCounts();
        boolean fleetWasDense = false;
        for (int window = 0; window < 400; window++) {
            BucketCounts host = new BucketCounts();
            for (int i = 0; i < 12; i++) {
                // a narrow spread around 1 ms fills its buckets densely; once an outlier far out, once one close
                long nanos = window == 250 && i == 0 ? 40_000_000_000L
                        : window == 300 && i == 0 ? 1_500L
                        : (long) (Math.exp(random.nextGaussian() * 0.3) * 1_000_000);
                host.record(nanos);
                LatencyHistograms.record(expectedFleet, nanos);
                if (window % 3 == 0 && window != 300) {
                    LatencyHistograms.record(expectedThird, nanos);
                }
            }
            fleet.addAll(host);
            fleetWasDense |= fleet.isDense();
            if (window % 3 == 0 && window != 300) {
                third.addAll(host);
            }
        }
        assertThat(fleetWasDense).as("a few hundred buckets filling their range").isTrue();
        assertThat(fleet.isDense()).as("a 40 s outlier makes the range too wide for the dense form").isFalse();
        assertThat(fleet.encode()).isEqualTo(v2(expectedFleet));
        assertThat(fleet.totalCount()).isEqualTo(400 * 12);
        assertThat(third.isDense()).isTrue();
        assertThat(third.encode()).isEqualTo(v2(expectedThird));
        assertThat(third.totalCount()).isEqualTo(expectedThird.getTotalCount());

        BucketCounts copy = new BucketCounts();
        copy.addAll(third); // dense into empty: a copy, not shared
        Histogram expectedCopy = expectedThird.copy();
        third.record(1_500);  // below the dense range
        third.record(2_000_000);
        LatencyHistograms.record(expectedThird, 1_500);
        LatencyHistograms.record(expectedThird, 2_000_000);
        BucketCounts small = new BucketCounts();
        small.record(700_000);
        small.addAll(third); // dense into a small sparse one
        Histogram expectedSmall = expectedThird.copy();
        LatencyHistograms.record(expectedSmall, 700_000);
        BucketCounts both = new BucketCounts();
        both.addAll(copy);
        both.addAll(third); // dense into dense
        Histogram expectedBoth = expectedCopy.copy();
        expectedBoth.add(expectedThird);

        assertThat(copy.encode()).isEqualTo(v2(expectedCopy));
        assertThat(third.encode()).isEqualTo(v2(expectedThird));
        assertThat(small.encode()).isEqualTo(v2(expectedSmall));
        assertThat(both.encode()).isEqualTo(v2(expectedBoth));
        assertThat(both.buckets()).isEqualTo(BucketCounts.decode(ByteBuffer.wrap(both.encode())).buckets());
        assertThat(BucketCounts.decode(ByteBuffer.wrap(both.encode())).encode()).isEqualTo(both.encode());
    }

    @Test
    void any_values_encode_byte_for_byte_like_a_histogram_holding_them() {
        Random random = new Random(11);
        for (int trial = 0; trial < 300; trial++) {
            int size = trial == 0 ? 0 : 1 + random.nextInt(trial < 200 ? 40 : 3_000);
            long[] values = new long[size];
            BucketCounts buckets = new BucketCounts();
            Histogram histogram = LatencyHistograms.newHistogram();
            for (int i = 0; i < size; i++) {
                values[i] = switch (random.nextInt(5)) {
                    case 0 -> random.nextInt(2_000);                              // below and at the unit
                    case 1 -> values[random.nextInt(i + 1)];                      // repeats
                    case 2 -> (long) (random.nextDouble() * 10_000_000_000L);     // up to the initial range
                    default -> (long) (Math.exp(random.nextGaussian() * 2) * 1_000_000);
                };
                buckets.record(values[i]);
                LatencyHistograms.record(histogram, values[i]);
            }

            byte[] ours = buckets.encode();

            assertThat(ours).as("trial %d, %d values", trial, size).isEqualTo(v2(histogram));
        }
    }

    @Test
    void latencies_beyond_the_initial_range_round_trip() {
        BucketCounts buckets = new BucketCounts();
        Histogram expected = LatencyHistograms.newHistogram();
        for (long nanos : new long[] {0, 999, 20_000_000_000L, 3_600_000_000_000L}) {
            buckets.record(nanos);
            LatencyHistograms.record(expected, nanos);
        }

        Histogram decoded = LatencyHistograms.decode(buckets.encode());

        assertThat(decoded).isEqualTo(expected);
        assertThat(decoded.getMaxValue()).isEqualTo(expected.getMaxValue());
        assertThat(buckets.buckets()).as("0 and 999 ns lie in different 512 ns buckets").isEqualTo(4);
    }

    @Test
    void an_empty_histogram_encodes_like_hdrhistograms_empty_one() {
        assertThat(new BucketCounts().encode()).isEqualTo(v2(LatencyHistograms.newHistogram()));
    }

    @Test
    void reads_hdrhistograms_compressed_encoding_too() {
        Histogram histogram = LatencyHistograms.newHistogram();
        for (long nanos = 1_000; nanos < 50_000_000; nanos = nanos * 3 / 2) {
            histogram.recordValueWithCount(nanos, nanos % 7 + 1);
        }

        BucketCounts decoded = BucketCounts.decode(ByteBuffer.wrap(LatencyHistograms.encode(histogram)));

        assertThat(decoded.totalCount()).isEqualTo(histogram.getTotalCount());
        assertThat(decoded.encode()).isEqualTo(v2(histogram));
    }

    @Test
    void bytes_that_are_no_histogram_are_refused_by_name() {
        assertThatThrownBy(() -> BucketCounts.decode(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9})))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an HdrHistogram V2 encoding");
    }

    /**
     * Random programs of records and adds among a few histograms, each checked against a plain
     * HdrHistogram fed the same values: small windows into small ones, small into large sparse ones
     * (the side buffer), sparse into dense and dense into sparse, dense into dense, ranges that make a
     * dense histogram sparse again, and each at random moments encoded (which merges a side buffer in).
     */
    @Test
    void random_records_and_adds_in_every_form_match_a_histogram_of_the_same_values() {
        Random random = new Random(41);
        int formsSeen = 0;
        for (int program = 0; program < 60; program++) {
            int pool = 2 + random.nextInt(5);
            BucketCounts[] buckets = new BucketCounts[pool];
            Histogram[] expected = new Histogram[pool];
            for (int k = 0; k < pool; k++) {
                buckets[k] = new BucketCounts();
                expected[k] = LatencyHistograms.newHistogram();
            }
            for (int step = 0; step < 150; step++) {
                int k = random.nextInt(pool);
                if (random.nextInt(3) == 0) {
                    int into = random.nextInt(pool);
                    if (into == k) {
                        continue;
                    }
                    byte[] before = buckets[k].encode();
                    buckets[into].addAll(buckets[k]);
                    expected[into].add(expected[k]);
                    assertThat(buckets[k].encode()).as("what was added stays as it was").isEqualTo(before);
                    if (random.nextInt(4) == 0) {
                        buckets[k] = new BucketCounts(); // a window closed: a new one starts empty
                        expected[k] = LatencyHistograms.newHistogram();
                    }
                } else {
                    int values = random.nextInt(8) == 0 ? random.nextInt(2_000) : random.nextInt(16);
                    double spread = switch (random.nextInt(4)) {
                        case 0 -> 0.02;  // narrow: turns dense
                        case 1 -> 0.3;
                        default -> 1.5;  // wide: stays sparse
                    };
                    double median = random.nextInt(10) == 0 ? 3_000 : 1_000_000;
                    for (int i = 0; i < values; i++) {
                        long nanos = random.nextInt(500) == 0 ? (long) (random.nextDouble() * 20_000_000_000L)
                                : (long) (Math.exp(random.nextGaussian() * spread) * median);
                        buckets[k].record(nanos);
                        LatencyHistograms.record(expected[k], nanos);
                    }
                }
                formsSeen |= buckets[k].isDense() ? 1 : buckets[k].hasPending() ? 2 : 4;
                if (random.nextInt(20) == 0) {
                    assertThat(buckets[k].encode()).as("program %d step %d", program, step).isEqualTo(v2(recorded(expected[k])));
                }
            }
            for (int k = 0; k < pool; k++) {
                assertThat(buckets[k].encode()).as("program %d histogram %d", program, k).isEqualTo(v2(recorded(expected[k])));
                assertThat(buckets[k].totalCount()).isEqualTo(expected[k].getTotalCount());
                assertThat(buckets[k].buckets()).isEqualTo(distinctBuckets(expected[k]));
            }
        }
        assertThat(formsSeen).as("dense, sparse with a side buffer, sparse without").isEqualTo(7);
    }

    /**
     * The histogram with each of its counts recorded into a new one: {@link Histogram#add} grows a histogram's
     * range differently from recording a value beyond it, which the V2 header shows.
     */
    private static Histogram recorded(Histogram histogram) {
        Histogram recorded = LatencyHistograms.newHistogram();
        for (var value : histogram.recordedValues()) {
            recorded.recordValueWithCount(value.getValueIteratedTo(), value.getCountAtValueIteratedTo());
        }
        return recorded;
    }

    /** The non-empty buckets of a histogram. */
    private static int distinctBuckets(Histogram histogram) {
        int n = 0;
        for (var ignored : histogram.recordedValues()) {
            n++;
        }
        return n;
    }

    /** HdrHistogram's own V2 encoding ({@code encodeIntoByteBuffer}). */
    private static byte[] v2(Histogram histogram) {
        ByteBuffer buffer = ByteBuffer.allocate(histogram.getNeededByteBufferCapacity());
        int length = histogram.encodeIntoByteBuffer(buffer);
        return Arrays.copyOf(buffer.array(), length);
    }
}
