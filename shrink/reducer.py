"""The typed AST reducer: run reduction passes to a fixpoint under an oracle.

`shrink(program, is_interesting)` knows nothing about what makes a program
interesting (a compiler crash, a wrong result, a text pattern): the oracle and
the passes are its arguments. Each pass proposes smaller candidates; those that
type-check and have not been tried before are shown to the oracle, and the first
interesting one replaces the current program. The loop ends when a whole round
of passes finds nothing, so the result is a fixpoint of every pass; in
particular no single statement can be deleted from it (1-minimality).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kernel_synth import grammar
from kernel_synth.grammar import ast as A
from kernel_synth.grammar.stats import ast_size

from .passes import DEFAULT_PASSES, Pass, literal_cost

Oracle = Callable[[A.Program], bool]


@dataclass(frozen=True, slots=True)
class ShrinkResult:
    """The smallest interesting program found and what finding it took."""

    program: A.Program
    tests: int  # oracle calls, the first (checking the input) included
    accepted: int  # reductions accepted
    size_before: int  # AST nodes (grammar.stats.ast_size)
    size_after: int


def shrink(
    program: A.Program,
    is_interesting: Oracle,
    passes: Iterable[Pass] = DEFAULT_PASSES,
    max_tests: int | None = None,
    on_progress: Callable[[ShrinkResult], None] | None = None,
) -> ShrinkResult:
    """Reduce `program` to a small program that `is_interesting` still accepts.

    `is_interesting` gets type-checked programs only and must accept `program`
    itself (ValueError otherwise). Each pass maps a program to candidates; a
    candidate is tested only if it is smaller (`complexity`), type-checks and its
    printed text was not tested before. After an accepted candidate the same
    pass goes on from the place it had reached, on the new program; a round runs
    every pass in order, and rounds repeat until one accepts nothing.
    `max_tests` caps the oracle calls (the first included); when it is reached
    the best program so far is returned. `on_progress` sees the result so far
    after each accepted reduction.
    """
    passes = tuple(passes)
    if max_tests is not None and max_tests < 1:
        raise ValueError(f"max_tests must be at least 1, got {max_tests}")
    current = grammar.check(program)
    size_before = ast_size(current)
    tests = 1
    if not is_interesting(current):
        raise ValueError("the program to shrink is not interesting: the oracle rejects it")
    tried: set[str] = {grammar.print_program(current)}
    accepted = 0
    current_key = complexity(current)

    def result() -> ShrinkResult:
        return ShrinkResult(current, tests, accepted, size_before, ast_size(current))

    def attempt(candidate: A.Program) -> A.Program | None:
        """The checked candidate if it is an interesting improvement, else None."""
        nonlocal tests
        if complexity(candidate) >= current_key:
            return None
        try:
            checked = grammar.check(candidate)
        except (grammar.DSLError, A.ASTError):
            return None
        text = grammar.print_program(checked)
        if text in tried:
            return None
        if max_tests is not None and tests >= max_tests:
            raise _BudgetSpent
        tried.add(text)
        tests += 1
        return checked if is_interesting(checked) else None

    try:
        progress = True
        while progress:
            progress = False
            for pass_ in passes:
                position = 0
                while True:
                    found = None
                    for ordinal, candidate in enumerate(pass_(current)):
                        if ordinal < position:
                            continue
                        found = attempt(candidate)
                        if found is not None:
                            position = ordinal
                            break
                    if found is None:
                        break
                    current, current_key = found, complexity(found)
                    accepted += 1
                    progress = True
                    if on_progress is not None:
                        on_progress(result())
    except _BudgetSpent:
        pass
    return result()


class _BudgetSpent(Exception):
    """`max_tests` oracle calls are made: stop with the best program so far."""


def complexity(program: A.Program) -> tuple[int, int, float]:
    """What shrinking minimises, compared as a tuple: AST nodes (`ast_size`, plus
    one for each `else:` clause, which has no node of its own), then named leaves
    (variables, `tid()`, `len`), then the literals' total `literal_cost`."""
    nodes = names = 0
    literals = 0.0
    for definition in program.funcs + program.kernels:
        for node in A.walk(definition):
            nodes += 1
            if isinstance(node, (A.Name, A.Tid, A.Len)):
                names += 1
            elif isinstance(node, A.Const):
                literals += _weight(node.value)
            elif isinstance(node, A.While):
                literals += _weight(node.limit)
            elif isinstance(node, A.If) and node.orelse is not None:
                nodes += 1
    return nodes, names, literals


def _weight(value: int | float) -> float:
    """`literal_cost` as one number, so that the costs of all literals add up."""
    length, magnitude = literal_cost(value)
    return length * 1e9 + min(magnitude, 1e9 - 1)
