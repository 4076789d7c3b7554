#!/usr/bin/env python3
"""Host<->device transfers per phase, from the log of a model compiled with Halide's debug
runtime (txlc --target=host-opencl-debug or host-cuda-...-debug), docs/GPU.md.

    transfer_count.py LOG [--max-step-upload-bytes N]

A phase is prepare (txl_p* pipelines), one step (txl_k*: a new step starts at txl_k0)
or one scoring call (txl_n*). For each it prints how many copies went host->device and
device->host, and their bytes; uploads are split into those from memory first uploaded
in an earlier phase ("again": weights copied every step would show here) and the rest.
Every step after the first must upload none of the memory prepare read or wrote (the
weights it reads, the prepared tensors it writes: packed weights, projected positions);
with --max-step-upload-bytes, also at most N bytes. Exit 1
otherwise. On OpenCL it also counts the device buffers created (clCreateBuffer) and
released (clReleaseMemObject) in the whole run: all must be released by the end (the
runtime frees the model's weight copies when it frees the model).
"""
import re
import sys

PIPELINE = re.compile(r"^Entering Pipeline (txl_([kpn])(\d+)\w*)")
COPY = re.compile(r"from (host to device|device to host), (0x[0-9a-f]+) \+ (\d+) -> "
                  r"(0x[0-9a-f]+) \+ (\d+), (\d+) bytes")


def phases(lines):
    """[(name, [(direction, host pointer, bytes)])]: copies before a pipeline's entry
    (its inputs) and after it (its results) count for the phase of that pipeline."""
    out, current, pending, steps, nll = [], None, [], 0, 0
    for line in lines:
        m = PIPELINE.match(line)
        if m:
            kind, index = m.group(2), int(m.group(3))
            name = None
            if kind == "p":
                name = "prepare"
            elif kind == "k" and index == 0:
                steps += 1
                name = "step %d" % steps
            elif kind == "n" and index == 0:
                nll += 1
                name = "nll %d" % nll
            if name and (current is None or current[0] != name):
                current = (name, [])
                out.append(current)
            current[1].extend(pending)
            pending = []
            continue
        m = COPY.search(line)
        if m:
            up = m.group(1) == "host to device"
            host = m.group(2) if up else m.group(4)
            entry = ("up" if up else "down", int(host, 16) + int(m.group(3 if up else 5)),
                     int(m.group(6)))
            # A download belongs to the pipeline that just ran; an upload to the next.
            (current[1] if not up and current else pending).append(entry)
    return out


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    limit = None
    if len(argv) == 4 and argv[2] == "--max-step-upload-bytes":
        limit = int(argv[3])
    with open(argv[1], errors="replace") as f:
        lines = f.read().splitlines()
    table = phases(lines)
    seen, weights, failures = set(), set(), []
    print("%-10s %8s %10s %8s %10s %8s %10s" % ("phase", "uploads", "bytes", "again",
                                                "bytes", "downlds", "bytes"))
    for name, copies in table:
        up = [(p, b) for d, p, b in copies if d == "up"]
        down = [(p, b) for d, p, b in copies if d == "down"]
        again = [(p, b) for p, b in up if p in seen]
        print("%-10s %8d %10d %8d %10d %8d %10d" % (
            name, len(up), sum(b for _, b in up), len(again), sum(b for _, b in again),
            len(down), sum(b for _, b in down)))
        later_step = name.startswith("step ") and name != "step 1"
        if later_step and limit is not None and sum(b for _, b in up) > limit:
            failures.append("%s uploads more than %d bytes" % (name, limit))
        if later_step and any(p in weights for p, _ in up):
            failures.append("%s uploads weights again" % name)
        if name == "prepare":
            weights.update(p for p, _ in up + down)
        seen.update(p for p, _ in up)
    text = "\n".join(lines)
    created = len(re.findall(r"clCreateBuffer ->", text))
    released = len(re.findall(r"clReleaseMemObject ", text))
    if created:
        print("device buffers: %d created, %d released" % (created, released))
        if released != created:
            failures.append("%d device buffers never released" % (created - released))
    if not table:
        sys.exit("transfer_count: no pipeline in %s (compiled with a -debug target?)" % argv[1])
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
