package io.tailprobe.query.percentile;

/**
 * What the cache of run sums did since the query API started, and what it holds now: how a budget
 * (an eighth of the heap, at most 256 MB) serves the ranges asked. A low share of hits with many sums
 * pushed out means the ranges asked reach more runs than the budget holds.
 *
 * @param hits runs asked for and found kept at their current version
 * @param misses runs asked for and not kept, or kept at an older version (read from the store)
 * @param kept sums built and kept, each once its run was asked for twice
 * @param evicted sums pushed out, least recently used first, past their share of the budget
 * @param sums sums held now
 * @param bytes the heap they hold, roughly
 * @param budgetBytes the most heap they may hold
 */
public record RunCacheStats(long hits, long misses, long kept, long evicted, int sums, long bytes, long budgetBytes) {}
