"""A slow echo backend for the Ray executor's tests (imported by its actors'
worker processes, which find this folder on PYTHONPATH).

`SlowEcho` answers as pool_fakes.EchoBackend does, after `delay` seconds per
batch (time for a test to kill the actor that has the batch), and leaves its
process id as a file in `pids`, so that a test sees which worker processes
were started and which are still alive.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from pool_fakes import EchoBackend


class SlowEcho(EchoBackend):
    def __init__(self, workdir, delay: float = 0.0, pids: str | None = None, **options):
        super().__init__(workdir, **options)
        self.delay = delay
        if pids is not None:
            (Path(pids) / str(os.getpid())).touch()

    def compile(self, programs, launch=32, seed=0):
        time.sleep(self.delay)
        return super().compile(programs, launch=launch, seed=seed)
