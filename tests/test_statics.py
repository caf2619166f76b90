"""static(e): expressions evaluated when the kernel is compiled.

The checker's rule (each error at its line and column), values computed by
hand on the reference, JAX's and Warp's agreement, the releases that lack it,
generated programs that use it (with the variables of unrolled loops), and
shrinking. The hand-written program is tests/programs/valid/statics.kernel;
its Warp and JAX renderings are goldens (tests/golden/{warp,jax}/statics.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kernel_synth.backends.compare import compare_outcomes
from kernel_synth.backends.errors import Unsupported
from kernel_synth.backends.reference import run_reference
from kernel_synth.backends.reference_backend import ReferenceBackend
from kernel_synth.backends.warp_release import WarpRelease
from kernel_synth.backends.warp_render import render_warp
from kernel_synth.grammar import DSLError, check, parse, print_program
from kernel_synth.grammar import ast as A
from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.grammar.stats import constructs
from kernel_synth.shrink.reducer import shrink

SOURCE = (Path(__file__).parent / "programs" / "valid" / "statics.kernel").read_text()
PROGRAM = parse(SOURCE)

INPUTS = {
    "x0": np.array([1.0, -2.0], np.float32),
    "n0": np.array([5, -7], np.int32),
    "out0": np.zeros(2, np.float32),
    "out1": np.zeros(2, np.int32),
}
# first loop: j*2-1 is -1, 1, 3 (sum 3) and -j*j+7 is 7, 6, 3 (sum 16);
# second loop: k*3 for k < 20 sums to 3*190 = 570.
# 0.1 * 3.0 is 0.30000000000000004 in double, rounded once to float32;
# static(-2.5) is -2.5, so out0 = 3 x + 0.3 + 2.5 and out1 = 16 + 570 + n
OUT0 = np.float32(3) * INPUTS["x0"] + np.float32(0.30000000000000004) + np.float32(2.5)
OUT1 = np.int32(586) + INPUTS["n0"]


def test_reference_values_by_hand():
    out = run_reference(PROGRAM, None, dict(INPUTS), 2)
    np.testing.assert_array_equal(out["out0"], OUT0)
    np.testing.assert_array_equal(out["out1"], OUT1)


@pytest.mark.compiler
def test_jax_values_by_hand():
    from kernel_synth.backends.jax_run import run_jax

    out = run_jax(PROGRAM, dict(INPUTS), 2)
    np.testing.assert_allclose(out["out0"], OUT0, rtol=1e-6)  # XLA may fuse a multiply-add
    np.testing.assert_array_equal(out["out1"], OUT1)


@pytest.mark.compiler
def test_warp_evaluates_statics_as_the_reference_does(tmp_path):
    from kernel_synth.backends.warp_backend import warp_cpu

    (outcome,) = warp_cpu(workdir=tmp_path).compile([PROGRAM], launch=16)
    (expected,) = ReferenceBackend().compile([PROGRAM], launch=16)
    assert outcome.ok, outcome.message
    assert compare_outcomes(expected, outcome) == []


@pytest.mark.compiler
def test_a_local_assigned_a_static_may_change_in_a_dynamic_loop(tmp_path):
    """Warp takes such a local for a constant unless it is declared with its
    type (bench_validity found `v = static(2.25 * 2.5)` then `v = v * x` in a loop)."""
    from kernel_synth.backends.warp_backend import warp_cpu

    program = parse(
        "@kernel\ndef k0(x0: In[array[float32]], out0: Out[array[float32]]):\n    i = tid()\n    v1 = static(2.25 * 2.5)\n"
        "    for j0 in range(clamp(i, 0, 2)):\n        v1 = v1 * x0[i]\n    out0[i] = v1\n"
    )
    (outcome,) = warp_cpu(workdir=tmp_path).compile([program], launch=4)
    (expected,) = ReferenceBackend().compile([program], launch=4)
    assert outcome.ok, outcome.message
    assert compare_outcomes(expected, outcome) == []


def test_releases_before_static_cannot_render_it():
    with pytest.raises(Unsupported, match=r"warp-lang >= 1\.4\.0"):
        render_warp(PROGRAM, release=WarpRelease("1.3.3"))
    assert "wp.static(j * 2 - 1)" in render_warp(PROGRAM, release=WarpRelease("1.4.0"))


HEAD = "@kernel\ndef k(x: In[array[float32]], o: Out[array[int32]]):\n    i = tid()\n"


@pytest.mark.parametrize(
    "text, line, column",
    [
        (HEAD + "    o[i] = static(i)\n", 4, 19),  # not known when compiling
        (HEAD + "    for j in range(clamp(i, 0, 4)):\n        o[i] = static(j)\n", 5, 23),  # a dynamic loop's variable
        (HEAD + "    o[i] = static(7 // 2)\n", 4, 19),  # an operator static() does not compute with
        (HEAD + "    o[i] = static(int32(3))\n", 4, 19),  # a typed literal
        (HEAD + "    o[i] = int(static(x[i]))\n", 4, 23),  # an array read
        (HEAD + "    o[i] = static(100000 * 100000)\n", 4, 12),  # beyond int32
        (HEAD + "    o[i] = static(int64(3) + int64(4))\n", 4, 12),  # neither int32 nor float32
    ],
)
def test_static_rule_at_its_place(text, line, column):
    with pytest.raises(DSLError) as info:
        parse(text)
    error = info.value
    assert (error.rule, error.line, error.column) == ("static", line, column), str(error)


def test_static_is_a_reserved_name():
    with pytest.raises(DSLError) as info:
        parse("@func\ndef static(a: float32) -> float32:\n    return a\n\n" + HEAD + "    o[i] = 1\n")
    assert info.value.rule == "duplicate-name" and "static" in str(info.value)


def test_generated_statics_check_round_trip_and_read_unrolled_loops():
    statics = with_loop = 0
    for program in draw_programs(400, seed=3):
        assert parse(print_program(program)) == check(program)
        used = constructs(program)
        statics += "static" in used
        with_loop += "static-loop-variable" in used
        for node in A.walk(program):
            if isinstance(node, A.Static):
                assert node.ty.name in ("int32", "float32")
    assert statics >= 40 and with_loop >= 8, (statics, with_loop)


def test_shrinking_keeps_a_static_that_matters_and_strips_its_wrapping():
    def reads_loop_in_static(program):
        return any(isinstance(n, A.Static) and any(isinstance(m, A.Name) for m in A.walk(n.operand)) for n in A.walk(program))

    small = shrink(PROGRAM, reads_loop_in_static).program
    assert reads_loop_in_static(small)
    kernel = small.kernels[0]
    assert sum(1 for _ in A.walk(kernel)) < sum(1 for _ in A.walk(PROGRAM.kernels[0]))


def test_warps_break_in_an_unrolled_loop_is_a_known_bug():
    from kernel_synth.synth.oracles import recognised

    assert "break" in recognised("warp-cpu:codegen:list index out of range")
    assert "unrolled" in recognised(
        "warp-cpu:codegen:Error evaluating static expression: name <q> is not defined. Make sure all variables used in the static expression are constant."
    )
