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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from kernel_synth import grammar
from kernel_synth.grammar import ast as A
from kernel_synth.grammar.stats import ast_size
from kernel_synth.grammar.types import ANY

from .passes import DEFAULT_PASSES, Pass, literal_cost

Oracle = Callable[[A.Program], bool]
# Many candidates judged at once (one module for a compiler): one verdict each
ManyOracle = Callable[[list[A.Program]], Sequence[bool]]


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
    test_many: ManyOracle | None = None,
    max_group: int = 16,
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

    With `test_many`, the candidates of a pass are judged in groups: the first
    interesting one of a group is accepted, so the reductions accepted, and
    the result, are those of judging one at a time; only the tests spent past
    it differ. A group grows (to `max_group`) while groups hold nothing
    interesting and halves after a hit, so that a compiler's fixed cost per
    module is shared where candidates fail, without testing far past a hit.
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

    def prepare(candidate: A.Program, pending: dict[str, tuple[int, A.Program]]) -> tuple[str, A.Program] | None:
        """The checked candidate and its text, if it is smaller, type-checks
        and is not tried (nor waiting in the group) already."""
        if complexity(candidate) >= current_key:
            return None
        try:
            checked = grammar.check(candidate)
        except (grammar.DSLError, A.ASTError):
            return None
        text = grammar.print_program(checked)
        if text in tried or text in pending:
            return None
        return text, checked

    def judge(group: list[tuple[int, str, A.Program]]) -> tuple[int, A.Program] | None:
        """The first interesting candidate of `group` (ordinal, program), or None."""
        nonlocal tests
        if max_tests is not None:
            group = group[: max_tests - tests]
            if not group:
                raise _BudgetSpent
        if test_many is None:
            verdicts: Sequence[bool] = [is_interesting(group[0][2])]
        else:
            verdicts = test_many([checked for _, _, checked in group])
        tests += len(group)
        for (ordinal, text, checked), interesting in zip(group, verdicts):
            tried.add(text)  # up to the first hit, as one at a time would
            if interesting:
                return ordinal, checked
        return None

    size = 1 if test_many is None else 2
    try:
        progress = True
        while progress:
            progress = False
            for pass_ in passes:
                position = 0
                while True:
                    found = None
                    group: dict[str, tuple[int, A.Program]] = {}
                    for ordinal, candidate in enumerate(pass_(current)):
                        if ordinal < position:
                            continue
                        prepared = prepare(candidate, group)
                        if prepared is None:
                            continue
                        group[prepared[0]] = (ordinal, prepared[1])
                        if len(group) >= size:
                            found = judge([(o, t, c) for t, (o, c) in group.items()])
                            group = {}
                            if found is not None:
                                break
                            size = min(size * 2, max_group) if test_many is not None else 1
                    if found is None and group:
                        found = judge([(o, t, c) for t, (o, c) in group.items()])
                    if found is None:
                        break
                    if test_many is not None:
                        size = max(size // 2, 2)
                    position, current = found
                    current_key = complexity(current)
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
    one for each `else:` clause, which has no node of its own, and for each
    parameter of type Any, so that a generic helper made concrete is smaller), then named leaves
    (variables, `tid()`, `len`), then the literals' total `literal_cost`
    (a kernel's launch size counted as a literal)."""
    nodes = names = 0
    literals = 0.0
    for definition in program.constants + program.structs + program.funcs + program.kernels:
        for node in A.walk(definition):
            nodes += 1
            if isinstance(node, (A.Name, A.Tid, A.Len)):
                names += 1
            elif isinstance(node, A.Const):
                literals += _weight(node.value)
            elif isinstance(node, A.While):
                literals += _weight(node.limit)
            elif isinstance(node, A.TileLoad):  # a tile's size is written as a literal
                literals += _weight(node.size)
            elif isinstance(node, A.If) and node.orelse is not None:
                nodes += 1
            elif isinstance(node, A.Param) and node.ty == ANY:  # a generic helper is more than its instance
                nodes += 1
    for kernel in program.kernels:  # a launch size is written as a literal
        if kernel.launch is not None:
            literals += _weight(kernel.launch)
    return nodes, names, literals


def _weight(value: int | float) -> float:
    """`literal_cost` as one number, so that the costs of all literals add up."""
    length, magnitude = literal_cost(value)
    return length * 1e9 + min(magnitude, 1e9 - 1)
