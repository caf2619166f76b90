"""grad(f, x): the derivative of a builtin (Warp's wp.grad). Hand-computed
reference values, the checker's rules at their place, the releases that can
render it, its spellings, the gradient oracle's treatment (a constant to
differentiation: Warp's adjoint against JAX's alone), the generator's draws,
and (with a compiler) Warp on the CPU and JAX agreeing with the reference.
The hand-written program is tests/programs/valid/grad_calls.kernel; its
renderings are goldens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kernel_synth.backends.errors import Unsupported
from kernel_synth.backends.gradients import GradientUnavailable, fd_gradients_checked
from kernel_synth.backends.jax_render import render_jax
from kernel_synth.backends.reference import run_reference
from kernel_synth.backends.warp_release import WarpRelease
from kernel_synth.backends.warp_render import render_warp
from kernel_synth.grammar import parse, print_program
from kernel_synth.grammar import ast as A
from kernel_synth.grammar.productions import productions
from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.grammar.stats import constructs

from drawn import assert_agrees_with_reference, located_error

VALID = parse((Path(__file__).parent / "programs" / "valid" / "grad_calls.kernel").read_text())

HAND = parse(
    "@kernel\ndef k(x: In[array[float32]], o: Out[array[float32]], p: Out[array[float32]], q: Out[array[float32]]):\n"
    "    i = tid()\n"
    "    o[i] = grad(sin, x[i]) + grad(cos, 0.0)\n"
    "    p[i] = grad(exp, x[i]) * grad(tanh, 0.0)\n"
    "    q[i] = grad(tanh, x[i])\n"
)
X = [0.0, 1.0, -2.0]
# o: cos(x) - sin(0) = cos(x); p: exp(x) * (1 - tanh(0)^2) = exp(x); q: 1 - tanh(x)^2
# (tanh(1) = 0.7615941559557649, tanh(-2) = -0.9640275800758169)
HAND_O = [1.0, 0.5403023058681398, -0.4161468365471424]
HAND_P = [1.0, 2.718281828459045, 0.1353352832366127]
HAND_Q = [1.0, 0.41997434161402614, 0.07065082485316443]


def _inputs() -> dict:
    return {"x": np.array(X, np.float32), **{name: np.zeros(3, np.float32) for name in "opq"}}


def test_reference_values_by_hand():
    out = run_reference(HAND, None, _inputs(), 3)
    for name, expected in (("o", HAND_O), ("p", HAND_P), ("q", HAND_Q)):
        assert out[name].dtype == np.float32
        assert out[name].tolist() == np.float32(expected).tolist(), name


def test_printing_round_trips_and_counts():
    assert "grad(tanh, twice(x[i])) > 0.25" in print_program(VALID)
    assert parse(print_program(VALID)) == VALID
    assert "grad-call" in constructs(VALID) and "grad-call" not in constructs(parse(print_program(VALID).replace("grad(sin, x[i])", "x[i]").replace("grad(cos, s)", "s").replace("grad(tanh, twice(x[i]))", "x[i]").replace("grad(exp, clamp(x[i], -10.0, 10.0))", "x[i]").replace("grad(tanh, float32(k))", "float32(k)")))
    seen = productions(VALID)
    assert {("float_expr", "grad"), ("grad_fn", "sin"), ("grad_fn", "cos"), ("grad_fn", "tanh"), ("grad_fn", "exp")} <= set(seen)


HEAD = "@kernel\ndef k(x: In[array[float32]], z: In[array[int32]], o: Out[array[float32]]):\n    i = tid()\n"


@pytest.mark.parametrize(
    "body, rule, line, column",
    [
        ("    o[i] = grad(sqrt, x[i])\n", "grad", 4, 17),  # only builtins defined everywhere
        ("    o[i] = grad(sin, z[i])\n", "type-mismatch", 4, 22),
        ("    o[i] = grad(sin)\n", "call-arity", 4, 12),
        ("    o[i] = grad(x[i], x[i])\n", "call-arity", 4, 12),
        ("    grad = 1.0\n", "duplicate-name", 4, 5),
    ],
)
def test_grad_rules_at_their_place(body, rule, line, column):
    assert located_error(HEAD + body) == (rule, line, column)


def test_spellings_and_releases():
    warp = render_warp(HAND, release=WarpRelease("1.11.0"))
    assert "o[i] = wp.grad(wp.sin)(x[i]) + wp.grad(wp.cos)(0.0)" in warp
    with pytest.raises(Unsupported, match=r"warp-lang >= 1\.11\.0"):
        render_warp(HAND, release=WarpRelease("1.10.0"))
    jax = render_jax(HAND)
    assert "lax.stop_gradient(jax.grad(jnp.tanh)(x[i]))" in jax


def test_finite_differences_leave_grad_calls_to_the_adjoints():
    with pytest.raises(GradientUnavailable, match="grad"):
        fd_gradients_checked(HAND, 8, 0)


def test_generated_grad_calls_check_and_are_counted():
    drawn = [p for p in draw_programs(300, seed=4) if "grad-call" in constructs(p)]
    assert len(drawn) >= 6  # the share: at least 2% at the default weights
    for program in drawn:
        assert parse(print_program(program)) == program
        for node in A.walk(program):
            if isinstance(node, A.GradCall) and node.fn == "exp":
                # exp's argument is clamped as for a call of exp: its derivative stays finite
                assert isinstance(node.arg, A.Call) and node.arg.func == "clamp"


@pytest.mark.compiler
@pytest.mark.parametrize("program", [HAND, VALID], ids=["by-hand", "valid"])
def test_warp_and_jax_agree_with_the_reference(tmp_path, program):
    assert_agrees_with_reference(tmp_path, program)


@pytest.mark.compiler
def test_warps_adjoint_holds_grad_calls_constant_as_jaxs_does(tmp_path):
    """Compared by the gradient oracle without finite differences: Warp's
    adjoint and JAX's (stopped at the call) agree."""
    from kernel_synth.backends.gradients import ANALYTIC_TOLERANCE, GRADIENT_LAUNCH, compare_gradients, gradient_checker
    from kernel_synth.backends.inputs import make_inputs

    program = parse(HEAD.replace("z: In[array[int32]], ", "") + "    o[i] = grad(sin, x[i]) * x[i] + grad(exp, clamp(x[i], -10.0, 10.0))\n")
    (result,) = gradient_checker(tmp_path).compile([program])
    assert sorted(result.sources) == ["jax", "warp"] and "fd" in result.unavailable
    assert compare_gradients(result.sources["warp"], result.sources["jax"], *ANALYTIC_TOLERANCE) == []
    # d/dx (cos(x) * x + exp(x)) with both grad() calls held constant: cos(x)
    x = make_inputs(program.kernels[0], GRADIENT_LAUNCH, 0)["x"]
    assert np.allclose(result.sources["warp"]["x"], np.cos(x), rtol=1e-6, atol=1e-6)
