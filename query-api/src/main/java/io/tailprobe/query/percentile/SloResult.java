package io.tailprobe.query.percentile;

import java.util.List;
import java.util.Map;

/**
 * The answer to a {@link SloQuery}. Errors are samples of any outcome but OK (they have no latency);
 * the threshold is checked on the samples that have the latency (OK samples, or for a phase the OK
 * samples that went through it), as {@link Thresholds} counts: a sample is at or under 200 ms when its
 * HdrHistogram bucket (at most 0.1% wide) is, so the fraction never overstates compliance.
 *
 * <p>Example: 100 000 samples, 50 timeouts, 99 120 of the 99 950 OK ones at or under 200 ms →
 * {@code errorRate} 0.0005, {@code fractionAtOrUnderThreshold} 0.991696, and for objective 0.99:
 * good 99 120, bad 880, sli 0.9912, allowedBad 1 000, errorBudgetRemaining 0.12, met.
 *
 * @param count samples of every outcome
 * @param errors samples whose outcome is not OK
 * @param errorRate {@code errors / count}; null without samples
 * @param latencyCount samples with this latency
 * @param atOrUnderThreshold of those, at or under the threshold
 * @param fractionAtOrUnderThreshold {@code atOrUnderThreshold / latencyCount}; null when it is 0
 * @param objective the error budget, or null when the query gave no objective
 */
public record SloResult(String target, String probe, String protocol, List<String> protocols, String host,
                        String latency, long fromMillis, long toMillis, int windows, long count,
                        Map<String, Long> outcomes, long errors, Double errorRate, double thresholdMillis,
                        long latencyCount, long atOrUnderThreshold, Double fractionAtOrUnderThreshold,
                        Objective objective) {
    /**
     * An objective's error budget. Good samples are those at or under the threshold; every other
     * sample with the latency and every error is bad.
     *
     * @param target the fraction of good samples aimed at, e.g. 0.99
     * @param sli {@code good / (good + bad)}; null without samples
     * @param allowedBad {@code (1 - target) × (good + bad)}: the bad samples the objective allows
     * @param errorBudgetRemaining {@code 1 - bad / allowedBad}: 1 when nothing is spent, 0 when all is,
     *     negative when overspent
     * @param met whether {@code sli >= target} (true without samples)
     */
    public record Objective(double target, long good, long bad, Double sli, double allowedBad,
                            double errorBudgetRemaining, boolean met) {}
}
