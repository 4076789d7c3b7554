#!/usr/bin/python3
"""Per-kernel-family time from Halide's profiler report.

Compile a model with a profiling target, run it, and feed what it printed at exit:

    build/bin/txlc MODEL --target=host-profile -o model-prof.so
    HL_NUM_THREADS=1 <run model-prof.so> 2> run.log      # e.g. bench/model/bench.py --so ...
    bench/profile/summarize.py run.log

Halide prints one block per kernel (txl_k<i>_<name> for the step, txl_p<i>_<name> for
@prepare) with its total time; this sums them by <name> (the kernel's role) and prints
each family's share, largest first.
"""
import collections
import re
import sys


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    total = collections.Counter()
    kernels = collections.Counter()
    runs = collections.Counter()
    name = None
    for line in open(sys.argv[1], errors="replace"):
        m = re.match(r"^(txl_[kp]\d+_(\S+))$", line.strip())
        if m:
            name = m.group(2)
            continue
        m = re.search(r"total time: ([\d.]+) ms\s+samples: \d+\s+runs: (\d+)", line)
        if m and name:
            total[name] += float(m.group(1))
            kernels[name] += 1
            runs[name] = max(runs[name], int(m.group(2)))
            name = None
    if not total:
        raise SystemExit("no Halide profiler report in " + sys.argv[1])
    all_ms = sum(total.values())
    print("%-24s %11s %7s %8s %14s" % ("kernel family", "total ms", "share", "kernels",
                                       "ms/call/kernel"))
    for family, ms in total.most_common():
        print("%-24s %11.1f %6.1f%% %8d %14.3f" % (
            family, ms, 100 * ms / all_ms, kernels[family],
            ms / kernels[family] / max(1, runs[family])))
    print("%-24s %11.1f" % ("all", all_ms))


if __name__ == "__main__":
    main()
