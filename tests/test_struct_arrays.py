"""Struct fields of array type: a struct kernel parameter that holds In
arrays, read as `s.a[i]` (and at guarded indexes, as an array parameter is).
The checker's rules (each at its line and column), the flattening the
reference and JAX run (the field is the array parameter `s__a`), values
computed by hand, Warp's agreement, and shrinking.

The hand-written program is tests/programs/valid/struct_arrays.kernel; its
Warp and JAX renderings are goldens (tests/golden/{warp,jax}/struct_arrays.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kernel_synth.backends.compare import compare_outcomes
from kernel_synth.backends.inputs import make_inputs
from kernel_synth.backends.reference import run_reference
from kernel_synth.backends.reference_backend import ReferenceBackend
from kernel_synth.grammar import DSLError, check, parse, print_program
from kernel_synth.grammar import ast as A
from kernel_synth.grammar.lowering import flatten_structs
from kernel_synth.grammar.types import ArrayType, Role

SOURCE = (Path(__file__).parent / "programs" / "valid" / "struct_arrays.kernel").read_text()
PROGRAM = parse(SOURCE)

W = np.array([1.0, -2.0, 0.5], np.float32)
PTS = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0], [3.0, 0.5, 0.25]], np.float32)
INPUTS = {
    "g__scale": np.float32(2.0),
    "g__wt": W,
    "g__pts": PTS,
    "k": np.int32(1),
    "o": np.zeros(3, np.float32),
    "q": np.zeros((3, 3), np.float32),
    "g__res": np.zeros((3, 3), np.float32),
}
# t = wt[i] + wt[clamp(i + 1, 0, 2)], + wt[i + 1] where i + 1 < 3, + wt[0] +
# wt[1] + wt[2] (= -0.5) from the loop; o = 2 t + 1.
#   i=0: 1 - 2 - 2 - 0.5 = -3.5      i=1: -2 + 0.5 + 0.5 - 0.5 = -1.5
#   i=2: 0.5 + 0.5 - 0.5 = 0.5
O = np.array([-6.0, -2.0, 2.0], np.float32)
# q = 2 pts[i] + pts[clamp(1 - i, 0, 2)]: pts[1], pts[0], pts[0]
Q = np.array([2 * PTS[0] + PTS[1], 2 * PTS[1] + PTS[0], 2 * PTS[2] + PTS[0]], np.float32)
# the Out field: pts[i] with its y replaced by t
RES = np.array([[PTS[i][0], t, PTS[i][2]] for i, t in enumerate((-3.5, -1.5, 0.5))], np.float32)


def test_the_array_fields_are_array_types_with_roles():
    (grid,) = PROGRAM.structs
    assert grid.fields[1].ty == ArrayType(grid.fields[0].ty, Role.IN)
    reads = {n.array for n in A.walk(PROGRAM) if isinstance(n, (A.ArrayRead, A.Len))}
    assert reads == {"g.wt", "g.pts", "g.res", "o", "q"}  # g.res, o and q as stores
    assert grid.fields[3].ty == ArrayType(grid.fields[2].ty.elem, Role.OUT)
    assert parse(print_program(PROGRAM)) == PROGRAM


def test_inputs_are_keyed_by_flattened_leaves_and_arrays_have_the_launch_length():
    values = make_inputs(PROGRAM.kernels[0], 5)
    assert sorted(values) == ["g__pts", "g__res", "g__scale", "g__wt", "k", "o", "q"]
    assert not values["g__res"].any()  # an Out field starts at zero
    assert values["g__wt"].shape == (5,) and values["g__pts"].shape == (5, 3)


def test_flattening_makes_the_field_an_array_parameter():
    flat = flatten_structs(PROGRAM)
    assert not flat.structs
    params = {p.name: p.ty for p in flat.kernels[0].params}
    assert params["g__wt"] == ArrayType(params["g__scale"], Role.IN)
    assert {n.array for n in A.walk(flat) if isinstance(n, (A.ArrayRead, A.Len)) and n.array.startswith("g")} == {"g__wt", "g__pts", "g__res"}
    assert params["g__res"] == ArrayType(params["g__pts"].elem, Role.OUT)


def test_reference_values_by_hand():
    out = run_reference(PROGRAM, None, INPUTS, 3)
    np.testing.assert_array_equal(out["o"], O)
    np.testing.assert_array_equal(out["q"], Q)
    np.testing.assert_array_equal(out["g__res"], RES)


@pytest.mark.compiler
def test_jax_values_by_hand():
    from kernel_synth.backends.jax_run import run_jax

    out = run_jax(PROGRAM, INPUTS, 3)
    np.testing.assert_array_equal(out["o"], O)
    np.testing.assert_array_equal(out["q"], Q)
    np.testing.assert_array_equal(out["g__res"], RES)


@pytest.mark.compiler
def test_warp_builds_the_struct_with_its_arrays_and_agrees(tmp_path):
    from kernel_synth.backends.warp_backend import warp_cpu

    (outcome,) = warp_cpu(workdir=tmp_path).compile([PROGRAM], launch=16)
    (expected,) = ReferenceBackend().compile([PROGRAM], launch=16)
    assert outcome.ok, outcome.message
    assert "g__res" in outcome.outputs and "g__res" in expected.outputs  # the Out field is compared
    assert compare_outcomes(expected, outcome) == []


STRUCT = "@struct\nclass P:\n    c: float32\n    a: In[array[float32]]\n\n"
HEAD = "@kernel\ndef k(p: P, x: In[array[float32]], o: Out[array[float32]]):\n    i = tid()\n"


@pytest.mark.parametrize(
    "text, rule, line, column",
    [
        # an array field is In or Out
        (STRUCT.replace("In[", "InOut[") + HEAD + "    o[i] = 1.0\n", "role", 4, 5),
        (STRUCT.replace("In[", "Acc[") + HEAD + "    o[i] = 1.0\n", "role", 4, 5),
        # with that role's rules: an In field is never stored to, an Out field never read
        (STRUCT + HEAD + "    p.a[i] = 1.0\n", "role", 9, 5),
        (STRUCT.replace("In[", "Out[") + HEAD + "    o[i] = p.a[i]\n", "role", 9, 12),
        # an Out field is written only at the thread's own index
        (STRUCT.replace("In[", "Out[") + HEAD + "    p.a[clamp(i + 1, 0, len(p.a) - 1)] = 1.0\n", "race", 9, 9),
        # the struct itself stays read-only
        (STRUCT.replace("In[", "Out[") + HEAD + "    p.c = 1.0\n", "read-only", 9, 5),
        # read at the thread index or a guarded one, as any In array
        (STRUCT + HEAD + "    o[i] = p.a[i + 1]\n", "index", 9, 16),
        # the field is an array, not a value
        (STRUCT + HEAD + "    o[i] = p.a + 1.0\n", "operand-types", 9, 12),
        # a struct holding an array is a kernel parameter only: no S(), no copy, no helper parameter or result, no nesting
        (STRUCT + HEAD + "    s = P()\n", "struct-array", 9, 9),
        (STRUCT + HEAD + "    s = p\n", "struct-array", 9, 9),
        (STRUCT + "@func\ndef f(p: P) -> float32:\n    return p.c\n\n" + HEAD + "    o[i] = 1.0\n", "struct-array", 7, 7),
        (STRUCT + "@func\ndef f(c: float32) -> P:\n    return P()\n\n" + HEAD + "    o[i] = 1.0\n", "struct-array", 6, 1),
        (STRUCT + "@struct\nclass Q:\n    p: P\n\n" + HEAD + "    o[i] = 1.0\n", "struct-array", 8, 5),
    ],
)
def test_struct_array_rules_at_their_place(text, rule, line, column):
    with pytest.raises(DSLError) as info:
        parse(text)
    error = info.value
    assert (error.rule, error.line, error.column) == (rule, line, column), str(error)


def test_guarded_reads_of_the_field_check():
    text = STRUCT + HEAD + (
        "    j = i + 3\n"
        "    t = p.a[clamp(j, 0, len(p.a) - 1)]\n"
        "    if 0 <= j and j < len(p.a):\n"
        "        t += p.a[j]\n"
        "    o[i] = t * p.c + x[i]\n"
    )
    assert check(parse(text)) is not None


def test_shrinking_drops_an_unused_array_field_and_keeps_a_read_one():
    from kernel_synth.shrink.passes import drop_unused_fields

    program = parse(
        "@struct\nclass P:\n    c: float32\n    a: In[array[float32]]\n    b: In[array[vec3]]\n\n"
        "@kernel\ndef k(p: P, o: Out[array[float32]]):\n    i = tid()\n    o[i] = p.a[clamp(i + 1, 0, len(p.a) - 1)]\n"
    )
    fields = [[f.name for f in c.structs[0].fields] for c in drop_unused_fields(program)]
    assert fields == [["a", "b"], ["c", "a"]]  # c and b are unread; a is read as p.a[...]
    for candidate in drop_unused_fields(program):
        assert check(candidate) is not None


def test_the_reducer_shrinks_a_struct_array_program_to_the_read_that_matters():
    from kernel_synth.shrink.reducer import shrink

    def reads_the_field(program):
        return any(isinstance(n, A.ArrayRead) and n.array.endswith(".wt") for n in A.walk(program))

    small = shrink(PROGRAM, reads_the_field).program
    assert reads_the_field(small)
    assert [[f.name for f in s.fields] for s in small.structs] == [["wt"]]
    assert len(small.kernels[0].body) <= 2


def test_releases_the_table_does_not_credit_get_no_struct_array_field():
    from kernel_synth.backends.errors import Unsupported
    from kernel_synth.backends.warp_release import WarpRelease
    from kernel_synth.backends.warp_render import render_warp

    assert "wt: wp.array(dtype=wp.float32)" in render_warp(PROGRAM)
    # a guarded read in a conditional expression is itself unsupported before 1.8.0: spelled as an if
    older = parse(SOURCE.replace("t += g.wt[m] if m < len(g.wt) else 0.0", "if m < len(g.wt):\n            t += g.wt[m]"))
    assert "wp.array" in render_warp(older, release=WarpRelease("1.0.2"))  # measured there
    with pytest.raises(Unsupported, match="struct field of array type"):
        render_warp(older, release=WarpRelease("1.0.1"))
