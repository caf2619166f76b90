"""The reference as a backend: runs programs through the NumPy interpreter.

A program is run on its kernel's own launch size (`@kernel(launch=N)`), else
on the launch the caller asks for. The interpreter runs threads one after the
other (about 50 us a thread), far too slow for the 10^4 to 10^5 threads a
generated launch may have, so above REFERENCE_FULL_LIMIT threads it runs a
sample of them (`sample_threads`: seeded by the launch seed, the kernel's
name and the size, so the same program on the same inputs always samples
the same threads): the elements those threads own (Out and InOut arrays, at
their own index) are exact, and the Outcome says so (`threads`). An Acc
array sums every thread's atomics, so on a sampled launch it is not compared
with the reference at all (`not_compared` gives the reason, and the
campaign counts it); on a full launch its float tolerance grows with the
launch (compare.acc_scales).
"""

from __future__ import annotations

import zlib

import numpy as np

from kernel_synth.grammar.ast import launch_of
from kernel_synth.grammar.types import ArrayType, Role

from .compare import acc_scales
from .inputs import DEFAULT_LAUNCH, make_inputs, written_arrays
from .reference import ReferenceFailure, run_reference
from .outcome import Outcome, Stage, Status

# Launches up to this many threads run every thread in the reference
REFERENCE_FULL_LIMIT = 128
# Threads a larger launch runs in the reference: the first and last few (the
# edges and a vectorised loop's remainder), the rest drawn
SAMPLE_EDGE = 4
SAMPLE_SIZE = 48
SAMPLED_ACC = "an Acc array sums every thread's atomics, and the reference ran a sample of the threads"


def sample_threads(n: int, seed: int, name: str) -> tuple[int, ...] | None:
    """The threads the reference runs of a launch of `n` (increasing), or
    None for all of them (n <= REFERENCE_FULL_LIMIT)."""
    if n <= REFERENCE_FULL_LIMIT:
        return None
    edges = set(range(SAMPLE_EDGE)) | set(range(n - SAMPLE_EDGE, n))
    rng = np.random.default_rng([seed, zlib.crc32(name.encode()), n])
    drawn = rng.choice(np.arange(SAMPLE_EDGE, n - SAMPLE_EDGE), size=SAMPLE_SIZE - len(edges), replace=False)
    return tuple(sorted(edges | {int(t) for t in drawn}))


class ReferenceBackend:
    def __init__(self, workdir=None, **options):
        self.options = options

    def compile(self, programs, launch: int = DEFAULT_LAUNCH, seed: int = 0) -> list[Outcome]:
        outcomes = []
        for program in programs:
            kernel = program.kernels[0]
            n = launch_of(program, launch)
            threads = sample_threads(n, seed, kernel.name)
            try:
                result = run_reference(program, kernel.name, make_inputs(kernel, n, seed), n, threads=threads)
            except ReferenceFailure as exc:
                outcomes.append(Outcome(Status.RUN_ERROR, Stage.RUN, str(exc)))
                continue
            outputs = {name: result[name] for name in written_arrays(kernel)}
            not_compared: dict[str, str] = {}
            if threads is not None:
                for p in kernel.params:
                    if isinstance(p.ty, ArrayType) and p.ty.role is Role.ACC:
                        not_compared[p.name] = SAMPLED_ACC
                        outputs.pop(p.name, None)
            outcomes.append(Outcome(Status.OK, Stage.RUN, outputs=outputs, threads=threads, not_compared=not_compared, scales=acc_scales(kernel, n)))
        return outcomes


def reference(workdir=None, **options) -> ReferenceBackend:
    return ReferenceBackend(workdir, **options)
