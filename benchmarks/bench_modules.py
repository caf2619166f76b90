"""What a Warp CPU module costs on the installed release, in one warm process.

    python benchmarks/bench_modules.py [--seed 0] [--sizes 1,8,32,64,128]

1. Milliseconds per program for modules of each size (fresh programs each
   time, so nothing comes from the kernel cache), and each size's cost as a
   ratio of the 32-program module's: what `programs_per_module` is chosen on
   (releases before 1.13 parse Warp's headers again for every module).
2. A batch holding programs the native compiler rejects, if the draw has
   any in the first `--search` programs: seconds to build it with the
   culprits named from the compiler's diagnostics, against the same batch
   bisected in halves (the culprits hidden), in the same run.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from kernel_synth.backends import warp_backend
from kernel_synth.backends.warp_backend import WarpCompiler
from kernel_synth.backends.warp_release import installed
from kernel_synth.grammar.sampling import draw_program


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sizes", default="1,8,32,64,128")
    parser.add_argument("--search", type=int, default=320, help="programs searched for a batch the compiler rejects")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    compiler = WarpCompiler("cpu", tempfile.mkdtemp(prefix="bench-modules-"), run=False)
    compiler.build([draw_program(args.seed, 10**6)])  # Warp's start-up is not a module's cost
    print(f"warp-lang {installed()}")
    per_program, start = {}, 10**5
    for size in sizes:
        programs = [draw_program(args.seed, i) for i in range(start, start + size)]
        start += size
        began = time.perf_counter()
        compiler.build(programs)
        per_program[size] = 1000 * (time.perf_counter() - began) / size
    base = per_program.get(32)
    for size, ms in per_program.items():
        ratio = f", {ms / base:.2f} of the 32-program module's" if base else ""
        print(f"  {size:4d} programs a module: {ms:7.1f} ms a program{ratio}")

    for first in range(0, args.search, 32):
        programs = [draw_program(args.seed, i) for i in range(first, first + 32)]
        outcomes, _ = compiler.build(programs)
        if any(o is not None and o.stage is not None and o.stage.value == "compile" for o in outcomes):
            break
    else:
        print(f"no batch of the first {args.search} programs fails to build natively on this release")
        return
    timings = {}
    for named in (True, False):
        fresh = [draw_program(args.seed, i) for i in range(first, first + 32)]  # same programs, new module names
        if not named:  # hide the diagnostics' culprits: the batch is bisected
            original = warp_backend._culprits
            warp_backend._culprits = lambda diagnostics, workdir: {}
        try:
            began = time.perf_counter()
            compiler.build(fresh)
            timings[named] = time.perf_counter() - began
        finally:
            if not named:
                warp_backend._culprits = original
    print(f"  programs {first}..{first + 31}, rejected by the compiler: {timings[True]:.2f} s with culprits named, "
          f"{timings[False]:.2f} s bisected ({timings[False] / timings[True]:.1f}x)")


if __name__ == "__main__":
    main()
