"""A deliberately faulty backend, for testing the harness around real ones.

It wraps warp-cpu, and any batch holding a program with a marker literal
misbehaves the way broken compilers do: 777.0 aborts the process (as a
segfault or an assertion in a native compiler would), 888.0 hangs. Used by
tests of worker isolation and, later, of the campaign's oracles.
"""

from __future__ import annotations

import os
import time

from grammar import ast as A

from .warp_backend import WarpCompiler

ABORT_MARK = 777.0
HANG_MARK = 888.0


def _has_literal(program: A.Program, value: float) -> bool:
    for definition in program.funcs + program.kernels:
        for node in A.walk(definition):
            if isinstance(node, A.Const) and node.value == value:
                return True
    return False


class FaultyCompiler(WarpCompiler):
    def __init__(self, workdir, **options):
        super().__init__("cpu", workdir, **options)

    def compile(self, programs, launch=32, seed=0):
        if any(_has_literal(p, ABORT_MARK) for p in programs):
            os.abort()
        if any(_has_literal(p, HANG_MARK) for p in programs):
            time.sleep(3600)
        return super().compile(programs, launch=launch, seed=seed)
