"""Seeded, reproducible draws of programs outside a test run.

Program k of seed s is drawn by Hypothesis from bytes derived from (s, k) alone,
so the same seed gives the same programs on every machine and run, any program
can be redrawn from its (seed, index), and each draw is independent of how many
came before it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from functools import lru_cache

from hypothesis import HealthCheck, given, settings

from .ast import Program
from .strategies import programs
from .weights import Weights, default_weights

BUFFER_BYTES = 16384
MAX_ATTEMPTS = 50


@lru_cache(maxsize=64)
def _runner(weights: Weights, category: str | None, swarm: bool | None):
    box: list[Program] = []

    @settings(database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(programs(weights, category, swarm))
    def run(program):
        box.append(program)

    return run.hypothesis.fuzz_one_input, box


def seed_bytes(seed: int, index: int, attempt: int = 0) -> bytes:
    return random.Random(f"kernel-synth:{seed}:{index}:{attempt}").randbytes(BUFFER_BYTES)


def draw_buffer(seed: int, index: int, weights: Weights | None = None, category: str | None = None, swarm: bool | None = None) -> tuple[bytes, Program]:
    """The Hypothesis input that draws program `index` of `seed`, and the program."""
    fuzz, box = _runner(weights or default_weights(), category, swarm)
    for attempt in range(MAX_ATTEMPTS):
        box.clear()
        buffer = seed_bytes(seed, index, attempt)
        fuzz(buffer)
        if box:
            return buffer, box[0]
    raise RuntimeError(f"no program drawn for seed {seed} index {index} in {MAX_ATTEMPTS} attempts")


def draw_program(seed: int, index: int, weights: Weights | None = None, category: str | None = None, swarm: bool | None = None) -> Program:
    """Program `index` of `seed`: the same on every run."""
    return draw_buffer(seed, index, weights, category, swarm)[1]


def draw_programs(n: int, seed: int, weights: Weights | None = None, category: str | None = None, swarm: bool | None = None) -> Iterator[Program]:
    for index in range(n):
        yield draw_program(seed, index, weights, category, swarm)
