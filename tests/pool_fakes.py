"""Backends for the pool's tests that need no compiler (imported by spawned workers).

`EchoBackend` answers every program with an "ok" Outcome whose message is
"kernel name|working directory|files in it when the backend was built|pid|
a temporary directory it made and never removes (as compilers do when killed)",
and misbehaves on marker literals the way a broken compiler does: 777.0
aborts the process, 888.0 hangs, 999.0 raises out of compile.
"""

from __future__ import annotations

import os
import tempfile
import time

from kernel_synth.backends.outcome import Outcome
from kernel_synth.grammar import print_program

ABORT = 777.0
HANG = 888.0
RAISE = 999.0


class EchoBackend:
    def __init__(self, workdir, fail: bool = False, **_options):
        if fail:
            raise RuntimeError("this compiler is not installed")
        self.workdir = workdir
        self.found = sorted(os.listdir(workdir))
        self.scratch = tempfile.mkdtemp(prefix="echo-")

    def compile(self, programs, launch=32, seed=0):
        texts = [print_program(p) for p in programs]
        if any(repr(ABORT) in t for t in texts):
            print("about to abort", flush=True)
            os.abort()
        if any(repr(HANG) in t for t in texts):
            time.sleep(3600)
        if any(repr(RAISE) in t for t in texts):
            raise ValueError("a bug in the backend")
        found = ",".join(self.found)
        return [Outcome("ok", message=f"{p.kernels[0].name}|{self.workdir}|{found}|{os.getpid()}|{self.scratch}") for p in programs]
