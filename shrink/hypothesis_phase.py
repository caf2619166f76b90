"""Hypothesis's own shrinker, run on a generated program's input.

A program drawn by the campaign is program `index` of `seed`: a Hypothesis
test over the same strategy, fed that input with `fuzz_one_input`, fails the
same way, which saves the input to an in-memory example database; running the
test again replays it from there and lets Hypothesis shrink its choices. It
shrinks towards the simplest alternative of every choice, which removes whole
features in one step; the typed AST reducer then finishes the job.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.database import InMemoryExampleDatabase

from kernel_synth.grammar import Program
from kernel_synth.grammar.sampling import draw_buffer
from kernel_synth.grammar.stats import ast_size
from kernel_synth.grammar.strategies import programs
from kernel_synth.grammar.weights import Weights


class _Interesting(Exception):
    """Raised by the test to tell Hypothesis the example fails."""


def hypothesis_shrink(seed: int, index: int, is_interesting, weights: Weights | None = None, max_tests: int = 60) -> tuple[Program | None, int]:
    """The smallest interesting program Hypothesis finds from program
    (seed, index), or None if the original is not interesting; with the
    number of oracle calls made."""
    buffer, original = draw_buffer(seed, index, weights)
    calls = 0
    best: list[Program] = []

    @settings(
        database=InMemoryExampleDatabase(),
        phases=[Phase.reuse, Phase.shrink],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
    )
    @given(programs(weights))
    def test(program):
        nonlocal calls
        if calls >= max_tests:
            return  # the budget is spent: everything else "passes"
        calls += 1
        if is_interesting(program):
            if not best or ast_size(program) < ast_size(best[-1]):
                best.append(program)
            raise _Interesting

    try:
        test.hypothesis.fuzz_one_input(buffer)
    except _Interesting:
        pass
    if not best:
        return None, calls
    try:
        test()
    except Exception:  # the shrunk failure, re-raised by Hypothesis at the end
        pass
    return best[-1], calls
