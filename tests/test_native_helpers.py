"""Native helpers (`@native`: Warp's func_native, the body written as C++ by
the renderer, its adjoint as the C++ of its derivatives). Hand-computed
reference values, the C++ and its derivative (a property over drawn
expressions), the checker's rules at their place, the releases that can
render it, the generator's draws, and (with a compiler) Warp on the CPU and
JAX agreeing with the reference, and Warp's adjoint with finite differences.
The hand-written program is tests/programs/valid/native_helpers.kernel; its
renderings are goldens."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel_synth.backends.errors import Unsupported
from kernel_synth.backends.reference import run_reference
from kernel_synth.backends.warp_release import WarpRelease
from kernel_synth.backends.warp_render import cpp_derivative, cpp_expr, render_warp
from kernel_synth.grammar import parse, print_program
from kernel_synth.grammar import ast as A
from kernel_synth.grammar.productions import productions
from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.grammar.stats import constructs
from kernel_synth.grammar.types import F32

from drawn import assert_agrees_with_reference, located_error

VALID = parse((Path(__file__).parent / "programs" / "valid" / "native_helpers.kernel").read_text())
X = [1.0, -2.0, 0.5]
Y = [2.0, 1.0, -4.0]
# cubic(a, b) = a*a*b + b/2 + 2, scale(c) = -3c, mix(u, v) = -3u + cubic(u, v), o = mix(x, y) * cubic(y, 1):
#   x=1, y=2: mix = -3 + (2 + 1 + 2) = 2; cubic(2, 1) = 4 + 0.5 + 2 = 6.5; o = 13
#   x=-2, y=1: mix = 6 + (4 + 0.5 + 2) = 12.5; cubic(1, 1) = 3.5; o = 43.75
#   x=0.5, y=-4: mix = -1.5 + (-1 - 2 + 2) = -2.5; cubic(-4, 1) = 16 + 0.5 + 2 = 18.5; o = -46.25
HAND_O = [13.0, 43.75, -46.25]


def test_reference_values_by_hand():
    inputs = {"x": np.array(X, np.float32), "y": np.array(Y, np.float32), "o": np.zeros(3, np.float32)}
    assert run_reference(VALID, None, inputs, 3)["o"].tolist() == HAND_O


def test_printing_rendering_and_counting():
    assert parse(print_program(VALID)) == VALID
    assert print_program(VALID).startswith("@native\ndef cubic(a: float32, b: float32) -> float32:")
    source = render_warp(VALID, release=WarpRelease("1.1.0"))
    assert "@wp.func_native('return ((((a * a) * b) - (-(b * 0.5f))) + 2.0f);\\n', adj_snippet=" in source
    # d/da = 2ab, d/db = a*a + 0.5 (the product rule, unsimplified)
    assert "adj_a += (((1.0f * a) + (a * 1.0f)) * b) * adj_ret;\\nadj_b += " in source
    assert "adj_snippet='adj_c += ((-1.0f) * 3.0f) * adj_ret;\\n'" in source
    assert "def scale(c: wp.float32) -> wp.float32:\n    ...\n" in source
    with pytest.raises(Unsupported, match=r"warp-lang >= 1\.1\.0"):
        render_warp(VALID, release=WarpRelease("1.0.2"))
    assert "native-helper" in constructs(VALID)
    assert {("helper_kind", "native"), ("native_expr", "binop"), ("native_expr", "neg"), ("native_expr", "const"), ("native_expr", "param")} <= productions(VALID)


def _evaluate(cpp: str, values: dict[str, float]) -> float:
    """C++ of floats, parameters and + - * evaluated in Python (float64)."""
    return eval(re.sub(r"(\d)f\b", r"\1", cpp), {}, dict(values))  # noqa: S307 - our own arithmetic only


def _native_exprs(depth: int):
    leaves = st.one_of(st.sampled_from([A.Name("a", F32), A.Name("b", F32)]), st.sampled_from([0.0, 0.5, 1.0, 2.0, 1000.0]).map(lambda v: A.Const(v, F32)))
    if depth == 0:
        return leaves
    sub = _native_exprs(depth - 1)
    return st.one_of(leaves, sub.map(lambda e: A.Neg(e, F32)), st.tuples(st.sampled_from("+-*"), sub, sub).map(lambda t: A.BinOp(t[0], t[1], t[2], F32)))


@settings(max_examples=200, deadline=None)
@given(_native_exprs(3), st.floats(-3, 3), st.floats(-3, 3))
def test_the_cpp_derivative_is_the_expressions(expr, a, b):
    """At any point, the C++ derivative by each parameter equals the
    derivative of the C++ expression (central differences of a polynomial,
    in float64)."""
    values = {"a": a, "b": b}
    assert _evaluate(cpp_expr(expr), values) == pytest.approx(_evaluate(print_expr_py(expr), values), rel=1e-12, abs=1e-12)
    for name in ("a", "b"):
        derivative = cpp_derivative(expr, name)
        got = 0.0 if derivative is None else _evaluate(derivative, values)
        h = 1e-3
        up, down = dict(values), dict(values)
        up[name] += h
        down[name] -= h
        numeric = (_evaluate(cpp_expr(expr), up) - _evaluate(cpp_expr(expr), down)) / (2 * h)
        assert got == pytest.approx(numeric, rel=1e-6, abs=1e-3)


def print_expr_py(expr) -> str:
    from kernel_synth.grammar.printer import print_expr

    return print_expr(expr)


HEAD = "@kernel\ndef k(o: Out[array[float32]]):\n    o[tid()] = 1.0\n\n"


@pytest.mark.parametrize(
    "text, rule, line, column",
    [
        ("@native\ndef f(a: float32, n: int32) -> float32:\n    return a\n", "native", 2, 19),
        ("@native\ndef f(a: float32) -> int32:\n    return 1\n", "native", 1, 1),
        ("@native\ndef f(a: float32) -> float32:\n    b = a\n    return b\n", "native", 3, 5),
        ("@native\ndef f(a: float32) -> float32:\n    return sin(a)\n", "native", 3, 12),
        ("@native\ndef f(a: float32) -> float32:\n    return a / 2.0\n", "native", 3, 12),
        ("@native\ndef f(double: float32) -> float32:\n    return double\n", "native", 2, 7),
        ("@native\ndef f(adj_a: float32) -> float32:\n    return adj_a\n", "native", 2, 7),
    ],
)
def test_native_rules_at_their_place(text, rule, line, column):
    assert located_error(text + "\n" + HEAD) == (rule, line, column)


def test_generated_native_helpers_check_and_are_counted():
    drawn = [p for p in draw_programs(400, seed=8) if "native-helper" in constructs(p)]
    assert len(drawn) >= 8  # the share: at least 2% at the default weights
    for program in drawn:
        assert parse(print_program(program)) == program


@pytest.mark.compiler
def test_warp_and_jax_agree_with_the_reference(tmp_path):
    assert_agrees_with_reference(tmp_path, VALID)


@pytest.mark.compiler
def test_warps_adjoint_is_the_derivative_written_for_it(tmp_path):
    from kernel_synth.backends.gradients import GRADIENT_LAUNCH, gradient_checker
    from kernel_synth.backends.inputs import make_inputs

    (result,) = gradient_checker(tmp_path).compile([VALID])
    assert result.status.name == "OK" and "fd" in result.sources
    values = make_inputs(VALID.kernels[0], GRADIENT_LAUNCH, 0)
    x, y = values["x"].astype(np.float64), values["y"].astype(np.float64)
    cubic_y1 = y * y + 2.5
    # o = (-3x + x^2 y + y/2 + 2) * (y^2 + 2.5): d/dx = (-3 + 2xy) * cubic(y, 1)
    assert np.allclose(result.sources["warp"]["x"], (-3 + 2 * x * y) * cubic_y1, rtol=1e-4, atol=1e-3)


@pytest.mark.compiler
def test_the_ir_of_a_native_helper_is_its_own_function(tmp_path):
    """Warp closes a native function's brace right after the snippet: ended by
    a newline, the brace stands on its own line and the IR a dataset row holds
    is cut there (nothing of the batch's temporary files leaks into it)."""
    from kernel_synth.backends.warp_backend import WarpCompiler

    (outcome,) = WarpCompiler("cpu", tmp_path, ir=True).compile([VALID])
    assert outcome.ok, outcome.message
    forward = outcome.artifacts["forward.cpp"]
    assert "return ((((a * a) * b) - (-(b * 0.5f))) + 2.0f);\n}" in forward
    assert str(tmp_path) not in forward and "ks_batch" not in forward
