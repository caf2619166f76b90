"""`f(*v)`: a vector's components as a helper's arguments, in order. The
checker's rules at line and column, hand-computed reference values, the
round trip through the printer, the Warp renderer's listed components where
a release takes no starred argument, the generator's draws, and agreement
of warp-cpu and jax-cpu on drawn programs. The hand-written program is
tests/programs/valid/starred.kernel; its renderings are goldens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drawn import drawn_with, findings_on_cpu_backends

from kernel_synth.backends.reference import run_reference
from kernel_synth.backends.warp_release import WarpRelease
from kernel_synth.backends.warp_render import render_warp
from kernel_synth.grammar import ast as A
from kernel_synth.grammar import parse, print_program
from kernel_synth.grammar.errors import CheckError, ParseError
from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.grammar.stats import constructs

VALID = Path(__file__).parent / "programs" / "valid" / "starred.kernel"


def test_reference_values_computed_by_hand():
    x = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0], [2.0, 0.0, -2.0]], np.float32)
    w = np.array([3.0, 1.5], np.float32)
    out = run_reference(parse(VALID.read_text()), None, {"x": x, "w": w, "o": np.zeros(3, np.float32)}, 3)

    def weigh(a, b, c):
        return a + 10.0 * b + 100.0 * c

    for t in range(3):
        v = x[t]
        following = x[min(t + 1, 2)]
        want = weigh(*v) + (w[0] - w[1]) + weigh(*(v * 2.0)) + weigh(*following) + (v[2] - w[0])
        u = [v[0], v[1], v[2], w[1]]
        want += (u[1] - u[2]) + (u[2] - u[3]) + (v[2] - v[0]) + weigh(u[3], u[2], u[1]) + (u[0] - u[3])
        assert out["o"][t] == pytest.approx(want, rel=1e-6)


def test_the_printer_keeps_the_spelling_and_the_checker_expands_it():
    program = parse(VALID.read_text())
    text = print_program(program)
    assert "weigh(*v)" in text and "weigh(*(v * 2.0))" in text and "gap(*vec2(v.z, w.x))" in text
    assert "gap(*u[-2:])" in text and "gap(*v[::-2])" in text and "weigh(*u[3:0:-1])" in text  # slices as written
    assert parse(text) == program
    calls = [n for n in A.walk(program.kernels[0]) if isinstance(n, A.Call) and n.starred]
    assert len(calls) == 10
    for node in calls:  # the arguments are the vector's components the slice selects, in order
        vector, bounds = A.starred_vector(node)
        whole = list(range(vector.ty.length))
        assert [a.index for a in node.args] == (whole if bounds is None else whole[slice(*bounds)])
    # a shrink that replaces one component leaves a listed call
    broken = calls[6]
    assert A.starred_vector(A.Call(broken.func, (A.Const(1.0, broken.args[0].ty),) + broken.args[1:], broken.ty, starred=True)) is None


HEAD = """@func
def g(a: float32, b: float32, c: float32) -> float32:
    return a + b * c

@func
def bump(acc: Acc[array[float32]]) -> vec3:
    atomic_add(acc, 0, 1.0)
    return vec3(1.0, 2.0, 3.0)

@kernel
def k(x: In[array[vec3]], q: quat, s: float32, w: vec2, acc: Acc[array[float32]], o: Out[array[float32]]):
    i = tid()
"""


@pytest.mark.parametrize(
    "line, rule, column",
    [
        ("    o[i] = g(*s)\n", "starred", 14),  # not a vector
        ("    o[i] = g(*q)\n", "starred", 14),  # a quaternion is no vec4
        ("    o[i] = g(*bump(acc))\n", "starred", 14),  # a side effect, once or three times
        ("    o[i] = g(*w)\n", "call-arity", 12),  # two components for three parameters
        ("    o[i] = g(1.0, *w)\n", "starred", 12),  # `*v` is the only argument
        ("    o[i] = length(vec3(*x[i]))\n", "starred", 19),  # not a constructor's
        ("    o[i] = x[i][0:2].x\n", "starred", 12),  # a slice only in a starred argument
        ("    o[i] = g(*x[i][0:3:0])\n", "starred", 14),  # no zero step
        ("    o[i] = g(*x[i][2:1])\n", "starred", 14),  # a slice of nothing
        ("    o[i] = g(*x[i][0:s])\n", "starred", 22),  # bounds are int literals
    ],
)
def test_rules_are_located_errors(line, rule, column):
    with pytest.raises((CheckError, ParseError)) as error:
        parse(HEAD + line)
    assert (error.value.rule, error.value.line, error.value.column) == (rule, 13, column), str(error.value)


def test_releases_before_1_11_1_get_the_components_listed():
    program = parse(VALID.read_text())
    sliced = render_warp(program, release=WarpRelease("1.15.0"))  # slices only from 1.17.0
    assert "weigh(*v)" in sliced and "gap(*u[-2:])" not in sliced and "gap(u[2], u[3])" in sliced
    assert "gap(*u[-2:])" in render_warp(program, release=WarpRelease("1.17.0"))
    old = render_warp(program, release=WarpRelease("1.10.0"))
    assert "*" not in old.split("def k(")[1].replace("10.0 *", "").replace("100.0 *", "").replace("v * 2.0", "")
    assert "weigh(v[0], v[1], v[2])" in old


def test_the_generator_draws_them_without_side_effects():
    drawn = [p for p in draw_programs(400, seed=4) if "starred-argument" in constructs(p)]
    assert len(drawn) >= 6
    for program in drawn:
        text = print_program(program)
        assert "(*" in text and parse(text) == program


@pytest.mark.compiler
def test_drawn_programs_agree_on_warp_cpu_and_jax_cpu():
    drawn = drawn_with("starred-argument", 300, seed=6, most=8)
    assert len(drawn) >= 6
    assert findings_on_cpu_backends(drawn) == [None] * (2 * len(drawn))
