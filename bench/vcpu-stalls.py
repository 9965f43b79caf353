#!/usr/bin/env python3
"""How often this machine's CPUs stop running a thread that never sleeps (docs/PERFORMANCE.md, issue 3).

    python3 bench/vcpu-stalls.py [SECONDS]      (default 10; run it on an otherwise idle machine)

One busy loop pinned to each CPU reads the monotonic clock back to back; a gap of more than 0.3 ms
between two readings is time the loop did not run. The part of a gap that the guest kernel
accounted as this thread's run-queue wait (/proc/thread-self/schedstat) was another task of the
guest preempting it; the rest the guest never saw: the hypervisor had taken the vCPU away.
Prints, per CPU, the gaps and how much of them the guest cannot explain.
"""
import os
import sys
import time
from multiprocessing import Process, Queue

GAP_NS = 300_000


def run_queue_wait_ns():
    with open('/proc/thread-self/schedstat') as f:
        return int(f.read().split()[1])


def spin(cpu, seconds, results):
    os.sched_setaffinity(0, {cpu})
    mono = time.monotonic_ns
    end = mono() + int(seconds * 1e9)
    last, waited_before, gaps = mono(), run_queue_wait_ns(), []
    while last < end:
        now = mono()
        if now - last > GAP_NS:
            waited = run_queue_wait_ns()
            gaps.append((now - last, waited - waited_before))
            waited_before = waited
            now = mono()
        last = now
    results.put((cpu, gaps))


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    results = Queue()
    cpus = sorted(os.sched_getaffinity(0))
    workers = [Process(target=spin, args=(cpu, seconds, results)) for cpu in cpus]
    for w in workers:
        w.start()
    for cpu, gaps in sorted(results.get() for _ in workers):
        unseen = [gap - waited for gap, waited in gaps if gap - waited > GAP_NS]
        print(f"cpu{cpu}: {len(gaps)} gaps > 0.3 ms in {seconds:g} s, {sum(g for g, _ in gaps) / 1e6:.1f} ms in all, "
              f"{sum(w for _, w in gaps) / 1e6:.1f} ms of it run-queue wait in the guest; not seen by the guest: "
              f"{len(unseen)} gaps, {sum(1 for u in unseen if u > 1e6)} over 1 ms, {sum(unseen) / 1e6:.1f} ms "
              f"({100 * sum(unseen) / 1e9 / seconds:.2f}% of the time), longest {max(unseen, default=0) / 1e6:.2f} ms")
    for w in workers:
        w.join()


if __name__ == '__main__':
    main()
