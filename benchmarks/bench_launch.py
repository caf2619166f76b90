"""What programs' own launch sizes cost a campaign, against launches of 16.

The same drawn programs twice, in one process, alternating rounds so that
the machine's load falls on both alike:
  - baseline: every kernel's launch size stripped (`@kernel`), run on the
    campaign's default of 16 threads, as before programs had sizes;
  - launch sizes: as drawn (1 to 65536 threads, by decade).
For each: the driver's NumPy reference (every thread up to 128, a sample of
48 above) and warp-cpu (one batched module: compile, and two launches per
program) in seconds, and their ratios, launch sizes over baseline. The
campaign's own throughput is bounded by the worker's side (warp-cpu) with
the driver's reference overlapped beside it.

    python benchmarks/bench_launch.py [--n 64] [--seed 3] [--rounds 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="programs per batch (default 64)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of both (default 2)")
    args = parser.parse_args()

    from kernel_synth.backends.reference_backend import ReferenceBackend
    from kernel_synth.backends.warp_backend import warp_cpu
    from kernel_synth.grammar.ops import launch_decade
    from kernel_synth.grammar.sampling import draw_programs

    sized = list(draw_programs(args.n, args.seed))
    bare = [replace(p, kernels=(replace(p.kernels[0], launch=None),)) for p in sized]
    decades: dict[str, int] = {}
    for p in sized:
        decade = launch_decade(p.kernels[0].launch)
        decades[decade] = decades.get(decade, 0) + 1
    print(f"{args.n} programs (seed {args.seed}), launch sizes by decade: {decades}")

    reference = ReferenceBackend()
    warp = warp_cpu(tempfile.mkdtemp(prefix="bench-launch-"))
    warp.compile(bare[:2], launch=16)  # warm: Warp's import and first module
    totals = {"baseline": [0.0, 0.0], "launch sizes": [0.0, 0.0]}
    for _ in range(args.rounds):
        for name, programs in (("baseline", bare), ("launch sizes", sized)):
            began = time.perf_counter()
            reference.compile(programs, launch=16, seed=0)
            middle = time.perf_counter()
            warp.compile(programs, launch=16, seed=0)
            totals[name][0] += middle - began
            totals[name][1] += time.perf_counter() - middle
    for name, (ref, compiled) in totals.items():
        per = 1000 / (args.n * args.rounds)
        print(f"{name:>13}: reference {ref * per:6.2f} ms/program, warp-cpu {compiled * per:6.1f} ms/program")
    (ref0, warp0), (ref1, warp1) = totals["baseline"], totals["launch sizes"]
    print(f"ratio launch sizes / baseline: reference {ref1 / ref0:.2f}, warp-cpu {warp1 / warp0:.2f}, both {(ref1 + warp1) / (ref0 + warp0):.2f}")


if __name__ == "__main__":
    main()
