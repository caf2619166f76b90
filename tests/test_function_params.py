"""Helpers taking helpers: a `Function` parameter (Warp's wp.Function, from
1.15.0), called in the helper's body and passed on. Hand-computed reference
values, the specialization the reference and JAX run, the checker's rules at
their place, the releases that can render it, the generator's draws, and
(with a compiler) Warp on the CPU and JAX agreeing with the reference, and
Warp's adjoint with finite differences. The hand-written program is
tests/programs/valid/function_params.kernel; its renderings are goldens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kernel_synth.backends.differentiability import differentiability
from kernel_synth.backends.errors import Unsupported
from kernel_synth.backends.reference import run_reference
from kernel_synth.backends.warp_release import WarpRelease
from kernel_synth.backends.warp_render import render_warp
from kernel_synth.grammar import parse, print_program
from kernel_synth.grammar import ast as A
from kernel_synth.grammar.lowering import lower, specialize_functions
from kernel_synth.grammar.productions import productions
from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.grammar.stats import constructs
from kernel_synth.grammar.types import FUNCTION

from drawn import assert_agrees_with_reference, located_error

VALID = parse((Path(__file__).parent / "programs" / "valid" / "function_params.kernel").read_text())
X = [1.0, -2.0, 0.5]
# apply(sq, a) = a*a + 1, apply(neg, a) = 1 - a, twice(neg, b, 2) = apply(neg, -b) * 2 = (1 + b) * 2:
#   x=1: 2 * 0 + 4 = 4; x=-2: 5 * 3 + -2 = 13; x=0.5: 1.25 * 0.5 + 3 = 3.625
HAND_O = [4.0, 13.0, 3.625]


def test_reference_values_by_hand():
    out = run_reference(VALID, None, {"x": np.array(X, np.float32), "o": np.zeros(3, np.float32)}, 3)
    assert out["o"].tolist() == HAND_O


def test_specialization_names_the_helper_passed():
    flat = specialize_functions(VALID)
    assert [f.name for f in flat.funcs] == ["sq", "neg", "apply__sq", "apply__neg", "twice__neg"]
    text = print_program(flat)
    # the Function parameter gone, its calls naming the helper; passed on, the helper passed by then
    assert "def apply__neg(a: float32) -> float32:\n    v = neg(a)" in text
    assert "return apply__neg(neg(b)) * float32(n)" in text
    assert "o[i] = apply__sq(x[i]) * apply__neg(x[i]) + twice__neg(x[i], 2)" in text
    assert not any(p.ty == FUNCTION for f in lower(VALID).funcs for p in f.params)


def test_counted_and_printed():
    assert parse(print_program(VALID)) == VALID
    assert "function-param" in constructs(VALID)
    assert ("helper_kind", "higher_order") in productions(VALID)
    assert ("value_type", "Function") not in productions(VALID)


KERNEL = "\n@kernel\ndef k(o: Out[array[float32]]):\n    o[tid()] = 1.0\n"
HELPERS = (
    "@func\ndef sq(a: float32) -> float32:\n    return a * a\n\n"
    "@func\ndef two(a: float32, b: float32) -> float32:\n    return a + b\n\n"
)


@pytest.mark.parametrize(
    "text, rule, line, column",
    [
        ("@kernel\ndef q(f: Function, o: Out[array[float32]]):\n    o[tid()] = 1.0\n", "function-param", 2, 7),
        ("@func\ndef h(f: Function, a: float32) -> float32:\n    v = f\n    return a\n", "function-param", 3, 9),
        ("@func\ndef h(f: Function, a: float32) -> float32:\n    return f(1)\n", "type-mismatch", 3, 14),
        ("@func\ndef h(f: Function, a: float32) -> float32:\n    return f(a, a)\n", "call-arity", 3, 12),
        ("@func\ndef h(f: Function, a: Any) -> Any:\n    return a\n", "function-param", 2, 7),
        ("@func\ndef h(f: Function) -> Function:\n    return f(1.0)\n", "function-param", 1, 1),
        (HELPERS + "@func\ndef h(f: Function, a: float32) -> float32:\n    return f(a)\n\n@func\ndef u(a: float32) -> float32:\n    return h(two, a)\n", "function-param", 15, 14),
        (HELPERS + "@func\ndef h(f: Function, a: float32) -> float32:\n    return f(a)\n\n@func\ndef u(a: float32) -> float32:\n    return h(u, a)\n", "function-param", 15, 14),
        (HELPERS + "@func\ndef h(f: Function, a: float32) -> float32:\n    return f(a)\n\n@func\ndef u(a: float32) -> float32:\n    return h(a, a)\n", "function-param", 15, 14),
        (HELPERS + "@func\ndef h(f: Function, a: float32) -> float32:\n    return f(a)\n\n@func\ndef h(f: Function, a: int32) -> float32:\n    return f(1.0)\n", "overload", 10, 7),
        ("@func\ndef Function(a: float32) -> float32:\n    return a\n", "duplicate-name", 1, 1),
    ],
)
def test_function_rules_at_their_place(text, rule, line, column):
    assert located_error(text + KERNEL) == (rule, line, column)


def test_spellings_and_releases():
    source = render_warp(VALID, release=WarpRelease("1.15.0"))
    assert "def apply(f: wp.Function, a: wp.float32) -> wp.float32:\n    v = f(a)" in source
    assert "o[i] = apply(sq, x[i]) * apply(neg, x[i]) + twice(neg, x[i], 2)" in source
    with pytest.raises(Unsupported, match=r"warp-lang >= 1\.15\.0"):
        render_warp(VALID, release=WarpRelease("1.14.0"))


def test_generated_function_params_check_and_are_counted():
    drawn = [p for p in draw_programs(400, seed=6) if "function-param" in constructs(p)]
    assert len(drawn) >= 8  # the share: at least 2% at the default weights
    called = 0
    for program in drawn:
        assert parse(print_program(program)) == program
        flat = lower(program)
        assert not any(isinstance(n, A.Name) and n.ty == FUNCTION for n in A.walk(flat.kernels[0]))
        called += any("__" in f.name for f in flat.funcs)
    assert called >= len(drawn) // 2  # most are called (with a helper for their Function)


def test_the_helper_passed_is_reached_by_the_gradient_rules():
    text = (
        "@func\ndef looped(a: float32) -> float32:\n    s = a\n    for j in range(clamp(int32(a), 0, 4)):\n        s = s + a\n    return s\n\n"
        "@func\ndef h(f: Function, a: float32) -> float32:\n    return f(a)\n\n"
        "@kernel\ndef k(x: In[array[float32]], o: Out[array[float32]]):\n    i = tid()\n    o[i] = h(looped, x[i])\n"
    )
    assert differentiability(parse(text)) == "dynamic-loop"


@pytest.mark.compiler
def test_warp_and_jax_agree_with_the_reference(tmp_path):
    assert_agrees_with_reference(tmp_path, VALID)


@pytest.mark.compiler
def test_warps_adjoint_through_a_function_parameter(tmp_path):
    from kernel_synth.backends.gradients import gradient_checker

    (result,) = gradient_checker(tmp_path).compile([VALID])
    assert result.status.name == "OK" and "warp" in result.sources and "fd" in result.sources
    # d/dx [(x^2 + 1)(1 - x) + 2(1 + x)] = 2x(1 - x) - (x^2 + 1) + 2
    from kernel_synth.backends.gradients import GRADIENT_LAUNCH
    from kernel_synth.backends.inputs import make_inputs

    x = make_inputs(VALID.kernels[0], GRADIENT_LAUNCH, 0)["x"].astype(np.float64)
    assert np.allclose(result.sources["warp"]["x"], 2 * x * (1 - x) - (x * x + 1) + 2, rtol=1e-4, atol=1e-4)


def test_warps_grad_helper_passed_as_a_function_is_a_known_bug():
    from kernel_synth.synth.oracles import recognised

    for message in ("use of undeclared identifier <q>", "use of undeclared identifier <q>; did you mean <q>?"):
        assert "wp.grad" in recognised(f"warp-cpu:compile:RuntimeError: CPU kernel build failed with error code <n>: {message}")


@pytest.mark.compiler
def test_the_ir_of_a_specialization_does_not_depend_on_the_batch(tmp_path):
    """Warp names a helper specialized for its Function arguments by a hash of
    theirs, which holds the batch suffix: the IR numbers them instead."""
    from kernel_synth.backends.warp_backend import WarpCompiler

    other = parse("@kernel\ndef k(o: Out[array[float32]]):\n    o[tid()] = 1.0\n")
    compiler = WarpCompiler("cpu", tmp_path, run=False, ir=True)
    alone, = compiler.compile([VALID])
    second = compiler.compile([other, VALID])[1]
    assert alone.artifacts == second.artifacts
    forward = alone.artifacts["forward.cpp"]
    assert "apply_0_callable_0(" in forward and "apply_0_callable_1(" in forward
