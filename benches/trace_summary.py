#!/usr/bin/env python3
"""Where a traced training step's time goes: reads a Chrome trace written by
`genrec-bench train --trace FILE` (libtorch's Kineto profiler) and prints, per
step, the device time of the CUDA kernels summed by family (matrix products,
attention, softmax, dropout, element-wise, reductions, copies and casts,
indexing, the optimizer) and by kernel, with the libtorch operation that
launched each. Without kernels (a CPU trace) it sums the operations' own
(exclusive) host time instead.

usage: trace_summary.py TRACE.json STEPS [TOP]
"""
import collections
import json
import re
import sys

FAMILIES = [  # first match wins; patterns on the lower-cased kernel name
    ("attention", r"fmha|flash|attention|efficient_attention|cutlass.*attn|pytorch_fmha"),
    ("matrix products", r"gemm|cutlass|sm\d+_xmma|cublas|nvjet|matmul|ampere_|hopper_|sm90_|aten::(mm|bmm|addmm)$"),
    ("softmax", r"softmax"),
    ("dropout", r"dropout|fused_dropout|philox|bernoulli"),
    ("reductions / norms", r"reduce|norm|sum_kernel|mean|aten::(all|any|sum|max)$"),
    ("indexing / embedding", r"index|gather|scatter|embedding|take"),
    ("copies / casts", r"copy|cast|convert|memcpy|memset|fill"),
    ("loss", r"nll|cross_entropy|log_softmax"),
    ("element-wise", r"elementwise|vectorized|unrolled|pointwise|launch_kernel|aten::(mul|add|sub|div|where|threshold|relu|pow|rsqrt|neg|exp)"),
]


def family(name):
    low = name.lower()
    for fam, pat in FAMILIES:
        if re.search(pat, low):
            return fam
    return "other"


def main():
    path, steps = sys.argv[1], int(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    events = json.load(open(path))["traceEvents"]
    ops = {}
    for e in events:
        if e.get("cat") == "cpu_op" and "External id" in e.get("args", {}):
            ops[e["args"]["External id"]] = e["name"]
    kernels = [e for e in events if e.get("cat") == "kernel" and "dur" in e]
    if kernels:
        summarise(
            "CUDA kernels",
            [(k["name"], k["dur"], ops.get(k.get("args", {}).get("External id"), "?")) for k in kernels],
            steps,
            top,
        )
        return
    cpu = [e for e in events if e.get("cat") == "cpu_op" and "dur" in e]
    summarise("host operations (exclusive time)", exclusive(cpu), steps, top)


def exclusive(cpu):
    """Each operation's time less the operations nested in it (same thread)."""
    rows = []
    by_thread = collections.defaultdict(list)
    for e in cpu:
        by_thread[(e.get("pid"), e.get("tid"))].append(e)
    for evs in by_thread.values():
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []  # [event, child time]
        for e in evs:
            while stack and stack[-1][0]["ts"] + stack[-1][0]["dur"] <= e["ts"]:
                done, child = stack.pop()
                rows.append((done["name"], done["dur"] - child, done["name"]))
            if stack:
                stack[-1][1] += e["dur"]
            stack.append([e, 0.0])
        for done, child in stack:
            rows.append((done["name"], done["dur"] - child, done["name"]))
    return rows


def summarise(what, rows, steps, top):
    total = sum(d for _, d, _ in rows)
    print(f"{what}: {total / steps / 1000:.2f} ms per step over {steps} steps, {len(rows) / steps:.0f} per step")
    fams = collections.Counter()
    for name, d, _ in rows:
        fams[family(name)] += d
    print("\nby family:")
    for fam, d in fams.most_common():
        print(f"  {fam:24s} {d / steps / 1000:8.2f} ms  {100 * d / total:5.1f} %")
    by_name = collections.defaultdict(lambda: [0.0, 0, collections.Counter()])
    for name, d, op in rows:
        r = by_name[name]
        r[0] += d
        r[1] += 1
        r[2][op] += d
    print(f"\ntop {top}:")
    for name, (d, n, op) in sorted(by_name.items(), key=lambda kv: -kv[1][0])[:top]:
        print(f"  {d / steps / 1000:7.2f} ms  {n / steps:5.0f}×  {op.most_common(1)[0][0][:40]:40s}  {name[:110]}")


if __name__ == "__main__":
    main()
