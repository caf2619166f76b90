"""Properties of the program strategies: well-typed, round-trippable, bounded,
guarded, category-complete, reproducible, and steerable by weights and swarm."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings

from kernel_synth.grammar import ast as A
from kernel_synth.grammar import check, parse, print_program
from kernel_synth.grammar.categories import CATEGORIES, classify
from kernel_synth.grammar.ops import BUILTINS, MAX_TRIP
from kernel_synth.grammar.productions import productions
from kernel_synth.grammar.queries import constant_values, divisor_kind, loop_trips
from kernel_synth.grammar.sampling import draw_program, draw_programs
from kernel_synth.grammar.stats import summarize
from kernel_synth.grammar.strategies import programs
from kernel_synth.grammar.types import ArrayType
from kernel_synth.grammar.weights import default_weights, parse_weights, DEFAULT_PATH

FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def _profile(edit) -> object:
    text = DEFAULT_PATH.read_text()
    edited = edit(text)
    assert edited != text, "the edit matches nothing in the default profile"
    return parse_weights(edited, "edited.toml")


@FAST
@given(programs())
def test_generated_programs_type_check_and_round_trip(program):
    assert check(program) == program  # the checker accepts it and infers the same types
    text = print_program(program)
    assert parse(text) == program
    assert print_program(parse(text)) == text


@FAST
@given(programs(swarm=False))
def test_programs_without_swarm_round_trip(program):
    assert parse(print_program(program)) == program


def _nesting(stmts, kinds) -> int:
    deepest = 0
    for stmt in stmts:
        own = 1 if isinstance(stmt, kinds) else 0
        inner = 0
        for body in _bodies(stmt):
            inner = max(inner, _nesting(body, kinds))
        deepest = max(deepest, own + inner)
    return deepest


def _bodies(stmt):
    if isinstance(stmt, A.If):
        return [stmt.body, *(c.body for c in stmt.elifs), stmt.orelse or ()]
    if isinstance(stmt, (A.For, A.While)):
        return [stmt.body]
    return []


def _statements(stmts) -> int:
    return sum(1 + sum(_statements(b) for b in _bodies(s)) for s in stmts)


def _trip(stmt, constants: dict) -> int:
    if isinstance(stmt, A.While):
        return stmt.limit
    return loop_trips(stmt.bound, constants)[0]


@FAST
@given(programs())
def test_programs_stay_inside_the_profile_limits(program):
    weights = default_weights()
    constants = constant_values(program)
    for definition in program.funcs + program.kernels:
        assert _nesting(definition.body, (A.If, A.For, A.While)) <= weights.limit("block_depth")
        assert _nesting(definition.body, (A.For, A.While)) <= weights.limit("loop_depth")
        # the budget may be overrun by the closing output write and the tid line only
        assert _statements(definition.body) <= weights.limit("max_statements") + 2
        for node in A.walk(definition):
            if isinstance(node, (A.For, A.While)):
                assert 1 <= _trip(node, constants) <= weights.limit("max_trip") <= MAX_TRIP


def _guards_hold(node) -> None:
    """The syntactic shape of every domain guard the generator promises."""
    if isinstance(node, A.Call):
        if node.func == "sqrt":
            assert node.args[0] == A.Call("abs", node.args[0].args, node.ty)
        if node.func in ("log", "log2", "log10"):
            arg = node.args[0]
            assert isinstance(arg, A.BinOp) and arg.op == "+" and isinstance(arg.left, A.Call) and arg.left.func == "abs"
        if node.func in ("asin", "acos", "exp", "sinh", "cosh"):
            assert isinstance(node.args[0], A.Call) and node.args[0].func == "clamp"
    if isinstance(node, A.BinOp) and node.op in ("/", "//", "%") and node.ty.is_float:
        right = node.right
        literal = isinstance(right, A.Const) and right.value != 0
        guarded = isinstance(right, A.BinOp) and right.op == "+" and isinstance(right.left, A.Call) and right.left.func == "abs"
        # or one of the two divisors that may be zero, both +0.0 there (SEMANTICS.md, Division by zero)
        zero = isinstance(right, A.Const) and right.value == 0 and not isinstance(right.value, int)
        integer = isinstance(right, A.Cast) and right.to == node.ty and right.operand.ty.is_int
        assert literal or guarded or zero or integer, node
    if isinstance(node, A.Cast) and node.to.is_int and node.operand.ty.is_float:
        assert isinstance(node.operand, A.Call) and node.operand.func == "clamp"


@FAST
@given(programs())
def test_math_domains_divisions_and_float_casts_are_guarded(program):
    for definition in program.funcs + program.kernels:
        for node in A.walk(definition):
            _guards_hold(node)


def test_the_float_divisor_weights_choose_the_divisor():
    """float_divisor's alternatives, each alone: a float `/`, `//` or `%`
    whose divisor is the literal zero, an integer cast, or guarded."""
    forms = {"guarded": (1, 0, 0), "zero": (0, 1, 0), "integer": (0, 0, 1)}
    for kind, (guarded, zero, integer) in forms.items():
        only = _profile(lambda t: re.sub(
            r"(\[rules\.float_divisor\][^\[]*?)guarded = \d+(.*?)zero = \d+(.*?)integer = \d+",
            rf"\g<1>guarded = {guarded}\g<2>zero = {zero}\g<3>integer = {integer}", t, count=1, flags=re.S,
        ).replace("floordiv = 1   #", "floordiv = 40   #"))
        seen = set()
        for index in range(40):
            program = draw_program(13, index, only)
            divisors = [n.right for d in program.funcs + program.kernels for n in A.walk(d)
                        if isinstance(n, A.BinOp) and n.op in ("/", "//", "%") and n.ty.is_float]
            if kind == "integer":
                # an integer literal's cast is drawn as the float literal itself (0.0, 3.0)
                assert all(float(e.value).is_integer() for e in divisors if isinstance(e, A.Const)), divisors
                divisors = [e for e in divisors if not isinstance(e, A.Const)]
            seen |= {divisor_kind(e) for e in divisors}
            # inside a builtin's argument (but abs, floor and ceil), an atomic min
            # or max or a float cast to an integer, a divisor stays guarded
            for node in (n for d in program.funcs + program.kernels for n in A.walk(d)):
                finite = (
                    (isinstance(node, A.Call) and node.func in BUILTINS and node.func not in ("abs", "floor", "ceil"))
                    or (isinstance(node, (A.Atomic, A.AtomicValue)) and node.op in ("min", "max"))
                    or (isinstance(node, A.Cast) and node.to.is_int and node.operand.ty.is_float)
                )
                if finite:
                    inner = [n.right for n in A.walk(node) if isinstance(n, A.BinOp) and n.op in ("/", "//", "%") and n.ty.is_float]
                    assert all(divisor_kind(e) == "guarded" for e in inner), node
        # guarded divisors are drawn there whatever the weights say
        assert kind in seen and seen <= {kind, "guarded"}, (kind, seen)
        if kind == "guarded":
            assert seen == {"guarded"}


@pytest.mark.parametrize("category", CATEGORIES)
def test_category_is_always_present(category):
    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(programs(category=category))
    def run(program):
        assert category in classify(program).categories
        assert parse(print_program(program)) == program

    run()


def test_same_seed_same_programs_different_seed_different_programs():
    first = [print_program(p) for p in draw_programs(20, seed=11)]
    again = [print_program(p) for p in draw_programs(20, seed=11)]
    other = [print_program(p) for p in draw_programs(20, seed=12)]
    assert first == again
    assert sum(a != b for a, b in zip(first, other)) >= 18
    assert len(set(first)) >= 18  # programs within a seed differ too


def test_a_weight_of_zero_switches_an_alternative_off():
    no_loops = _profile(lambda t: t.replace("for = 3\n", "for = 0\n").replace("while = 1\n", "while = 0\n"))
    for index in range(60):
        program = draw_program(5, index, no_loops)
        assert ("statement", "for") not in productions(program)
        assert ("statement", "while") not in productions(program)


def test_weights_steer_the_distribution():
    def loop_share(weights) -> float:
        # the shares differ by about 0.2; at 150 draws a draw stream shifted by
        # a new swarm feature (tiles) gave 0.14: 400 draws keep the noise lower
        summary = summarize(draw_programs(400, 3, weights), weights)
        return summary["categories"]["loop"] / summary["n"]

    loopy = _profile(lambda t: t.replace("for = 3\n", "for = 40\n"))
    assert loop_share(loopy) > loop_share(default_weights()) + 0.15


def test_swarm_switches_whole_features_off_per_program():
    # With a feature's probability at 0 it never appears; at 1 (and swarm off) it does.
    never = _profile(lambda t: t.replace("branches = 0.6", "branches = 0.0").replace("ternaries = 0.4", "ternaries = 0.0"))
    for index in range(60):
        assert "branch" not in classify(draw_program(9, index, never, swarm=True)).categories
    with_branches = sum("branch" in classify(draw_program(9, i, never, swarm=False)).categories for i in range(60))
    assert with_branches > 20
    # Swarm makes feature mixes vary: some programs lack features others have.
    mixes = {frozenset(classify(p).categories) for p in draw_programs(80, 4, swarm=True)}
    assert len(mixes) > 15


def test_strategies_are_built_once_and_cached():
    assert programs() is programs()
    assert programs(category="loop") is programs(category="loop")
    assert programs(category="loop") is not programs(category="branch")


def test_unknown_category_is_an_invalid_argument():
    from hypothesis.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="unknown category"):
        programs(category="loops")


def test_every_kernel_writes_an_output_and_arrays_have_roles():
    for program in draw_programs(80, 21):
        kernel = program.kernels[0]
        writes = [
            n
            for n in A.walk(kernel)
            if isinstance(n, (A.Atomic, A.CallStmt))
            or (isinstance(n, A.Assign) and isinstance(getattr(n.target, "value", n.target), A.ArrayRead))  # `out[i] = e`, `out[i].y = e`
        ]
        assert writes
        assert all(isinstance(p.ty, ArrayType) or p.ty.is_numeric or p.ty.is_vector or p.ty.is_matrix or p.ty.is_struct for p in kernel.params)


def test_default_profile_distribution_meets_the_targets():
    """Acceptance: at n=5000, every category is the primary label of >= 3% of
    programs and every grammar alternative is drawn at least once."""
    summary = summarize(draw_programs(5000, seed=0))
    n = summary["n"]
    for category, count in summary["primary"].items():
        assert count / n >= 0.03, (category, count)
    assert summary["productions"]["covered"] == summary["productions"]["total"], summary["productions"]["missing"]


def test_the_largest_profile_the_hard_caps_allow_still_draws_small_programs():
    """Hard caps hold whatever a profile asks: every draw succeeds (fits
    Hypothesis's buffer) and stays a bounded size."""
    text = DEFAULT_PATH.read_text()
    for old, new in [
        ("expr_depth = 3 ", "expr_depth = 6 "),
        ("block_depth = 3", "block_depth = 5"),
        ("loop_depth = 2", "loop_depth = 3"),
        ("max_statements = 40", "max_statements = 200"),
        ("max_trip = 8", "max_trip = 64"),
        ("kernel_statements = { 1 = 5, 2 = 5, 3 = 4, 4 = 3, 5 = 2, 6 = 2, 8 = 1 }", "kernel_statements = { 40 = 1 }"),
        ("block_statements = { 1 = 6, 2 = 3, 3 = 1 }", "block_statements = { 10 = 1 }"),
        ("expr_depth = { 0 = 2, 1 = 4, 2 = 3, 3 = 2 }", "expr_depth = { 6 = 1 }"),
        ("helpers = { 0 = 4, 1 = 4, 2 = 3, 3 = 2, 4 = 1 }", "helpers = { 4 = 1 }"),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    biggest = parse_weights(text, "biggest.toml")
    from kernel_synth.grammar.stats import ast_size

    for index in range(25):
        program = draw_program(1, index, biggest, swarm=False)
        assert ast_size(program) < 3000
        assert parse(print_program(program)) == program


def test_every_helper_without_arrays_is_called():
    """Warp compiles a helper only when a kernel calls it: a helper nothing
    calls is dead code no compiler sees. Each helper that needs no array
    argument is called somewhere (those that need an Acc array are, where
    the kernel has one)."""
    helpers = 0
    for index in range(300):
        program = draw_program(0, index)
        called = {
            node.func if isinstance(node, A.Call) else node.call.func
            for definition in program.funcs + program.kernels
            for node in A.walk(definition)
            if isinstance(node, (A.Call, A.CallStmt))
        }
        for func in program.funcs:
            if not any(hasattr(p.ty, "role") for p in func.params):
                helpers += 1
                assert func.name in called, print_program(program)
    assert helpers >= 20
