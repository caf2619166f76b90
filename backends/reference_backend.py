"""The reference as a backend: runs programs through the NumPy interpreter."""

from __future__ import annotations

from .inputs import DEFAULT_LAUNCH, make_inputs, written_arrays
from .reference import ReferenceFailure, run_reference
from .outcome import Outcome, Stage, Status


class ReferenceBackend:
    def __init__(self, workdir=None, **options):
        self.options = options

    def compile(self, programs, launch: int = DEFAULT_LAUNCH, seed: int = 0) -> list[Outcome]:
        outcomes = []
        for program in programs:
            kernel = program.kernels[0]
            try:
                result = run_reference(program, kernel.name, make_inputs(kernel, launch, seed), launch)
            except ReferenceFailure as exc:
                outcomes.append(Outcome(Status.RUN_ERROR, Stage.RUN, str(exc)))
                continue
            outcomes.append(Outcome(Status.OK, Stage.RUN, outputs={name: result[name] for name in written_arrays(kernel)}))
        return outcomes


def reference(workdir=None, **options) -> ReferenceBackend:
    return ReferenceBackend(workdir, **options)
