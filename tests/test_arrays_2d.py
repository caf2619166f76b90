"""Two-dimensional arrays (`g: In[array2d[float32]]`): a row per thread and
the input set's column count. The checker's rules (each at its line and
column), values computed by hand on the reference, JAX and Warp, the inputs'
shapes and determinism, gradients, the generator's productions and
constructs, and shrinking.

The hand-written program of every form is tests/programs/valid/arrays_2d.kernel;
its Warp and JAX renderings are goldens (tests/golden/{warp,jax}/arrays_2d.py)."""

from __future__ import annotations

import numpy as np
import pytest

from kernel_synth.backends import differentiability as D
from kernel_synth.backends.inputs import column_count, make_inputs, written_arrays
from kernel_synth.backends.reference import ReferenceFailure, run_reference
from kernel_synth.grammar import DSLError, parse, print_program
from kernel_synth.grammar import ast as A
from kernel_synth.grammar.ops import MAX_COLUMNS
from kernel_synth.grammar.productions import productions
from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.grammar.stats import constructs
from kernel_synth.grammar.types import ArrayType, Role

SOURCE = (
    "@kernel\n"
    "def k(x: In[array2d[float32]], io: InOut[array2d[float32]], y: Out[array2d[float32]], s: int32):\n"
    "    i = tid()\n"
    "    t = x[i, clamp(s, 0, x.shape[1] - 1)] + x[clamp(i + 1, 0, len(x) - 1), clamp(0, 0, x.shape[1] - 1)]\n"
    "    if 0 <= s and s < x.shape[1]:\n"
    "        t += 10.0 * x[i, s]\n"
    "    y[i, clamp(i, 0, y.shape[1] - 1)] = t\n"
    "    io[i, clamp(1, 0, io.shape[1] - 1)] += t\n"
)
PROGRAM = parse(SOURCE)
X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)
IO = np.array([[0.5, 0.25], [1.0, 1.0], [2.0, 2.0]], np.float32)


def inputs(s: int) -> dict:
    return {"x": X, "io": IO, "y": np.zeros((3, 2), np.float32), "s": np.int32(s)}


# s = 1: t = x[i, 1] + x[min(i + 1, 2), 0], + 10 x[i, 1] (the guard holds):
# 2 + 3 + 20 = 25, 4 + 5 + 40 = 49, 6 + 5 + 60 = 71; y[i, min(i, 1)] = t;
# io[i, 1] += t. s = 5: the clamps take column 1 and the guard fails: 5, 9, 11.
EXPECTED = {
    1: ([[25, 0], [0, 49], [0, 71]], [[0.5, 25.25], [1, 50], [2, 73]]),
    5: ([[5, 0], [0, 9], [0, 11]], [[0.5, 5.25], [1, 10], [2, 13]]),
}


def test_the_types_and_the_printed_text():
    x, io, y, s = PROGRAM.kernels[0].params
    assert x.ty == ArrayType(x.ty.elem, Role.IN, ndim=2) and str(x.ty) == "In[array2d[float32]]"
    assert io.ty.ndim == 2 and y.ty.role is Role.OUT
    assert parse(print_program(PROGRAM)) == PROGRAM
    assert "y[i, clamp(i, 0, y.shape[1] - 1)] = t" in print_program(PROGRAM)


@pytest.mark.parametrize("s", sorted(EXPECTED))
def test_reference_values_by_hand(s):
    out = run_reference(PROGRAM, None, inputs(s), 3)
    y, io = EXPECTED[s]
    np.testing.assert_array_equal(out["y"], np.array(y, np.float32))
    np.testing.assert_array_equal(out["io"], np.array(io, np.float32))
    np.testing.assert_array_equal(out["x"], X)  # In is never written


def test_the_reference_refuses_a_column_count_outside_the_languages():
    too_wide = inputs(1) | {"x": np.zeros((3, MAX_COLUMNS + 1), np.float32)}
    with pytest.raises(ReferenceFailure, match="columns"):
        run_reference(PROGRAM, None, too_wide, 3)
    with pytest.raises(ReferenceFailure, match="columns"):
        run_reference(PROGRAM, None, inputs(1) | {"x": X[:, 0]}, 3)


@pytest.mark.compiler
@pytest.mark.parametrize("s", sorted(EXPECTED))
def test_jax_values_by_hand(s):
    from kernel_synth.backends.jax_run import run_jax

    out = run_jax(PROGRAM, inputs(s), 3)
    y, io = EXPECTED[s]
    np.testing.assert_array_equal(np.asarray(out["y"]), np.array(y, np.float32))
    np.testing.assert_array_equal(np.asarray(out["io"]), np.array(io, np.float32))


@pytest.mark.compiler
def test_warp_agrees_with_the_reference_on_every_column_count(tmp_path):
    from kernel_synth.backends.compare import compare_outcomes
    from kernel_synth.backends.reference_backend import ReferenceBackend
    from kernel_synth.backends.warp_backend import warp_cpu

    seeds = {column_count(PROGRAM.kernels[0], seed): seed for seed in range(64)}
    assert sorted(seeds) == list(range(1, MAX_COLUMNS + 1))
    backend = warp_cpu(workdir=tmp_path)
    for seed in seeds.values():
        (outcome,) = backend.compile([PROGRAM], launch=16, seed=seed)
        (expected,) = ReferenceBackend().compile([PROGRAM], launch=16, seed=seed)
        assert outcome.ok, outcome.message
        assert {"y", "io"} <= set(outcome.outputs) and {"y", "io"} <= set(expected.outputs)
        assert compare_outcomes(expected, outcome) == []


def test_releases_the_table_does_not_credit_get_no_two_dimensional_array():
    from kernel_synth.backends.errors import Unsupported
    from kernel_synth.backends.warp_release import WarpRelease
    from kernel_synth.backends.warp_render import render_warp

    assert "x: wp.array2d(dtype=wp.float32)" in render_warp(PROGRAM)
    assert "x[i, wp.clamp(s, 0, x.shape[1] - 1)]" in render_warp(PROGRAM)
    assert "wp.array2d" in render_warp(PROGRAM, release=WarpRelease("1.0.2"))  # measured there
    with pytest.raises(Unsupported, match="two-dimensional array"):
        render_warp(PROGRAM, release=WarpRelease("1.0.1"))


def test_inputs_have_a_row_per_thread_and_one_column_count_per_launch():
    kernel = parse(
        "@kernel\ndef k(a: In[array2d[vec3]], b: Out[array2d[int32]], z: In[array[float32]]):\n"
        "    i = tid()\n    b[i, clamp(0, 0, b.shape[1] - 1)] = int32(z[i])\n"
    ).kernels[0]
    counts = set()
    for seed in range(32):
        values = make_inputs(kernel, 5, seed)
        columns = column_count(kernel, seed)
        counts.add(columns)
        assert values["a"].shape == (5, columns, 3) and values["b"].shape == (5, columns)
        assert values["z"].shape == (5,)
        assert not values["b"].any()  # Out starts at zero
        again = make_inputs(kernel, 5, seed)  # the same seed, the same inputs
        assert all(np.array_equal(values[k], again[k]) for k in values)
    assert counts == set(range(1, MAX_COLUMNS + 1))
    assert written_arrays(kernel) == ["b"]


def test_a_one_dimensional_kernel_keeps_the_inputs_it_had():
    """The column count comes from a generator of its own: 1-D inputs are the
    values of the one seeded generator, drawn in parameter order."""
    kernel = parse("@kernel\ndef k(z: In[array[float32]], o: Out[array[float32]]):\n    i = tid()\n    o[i] = z[i]\n").kernels[0]
    rng = np.random.default_rng([7, __import__("zlib").crc32(b"k")])
    expected = (rng.integers(-16, 16, size=(4,), endpoint=True) / 4).astype(np.float32)
    np.testing.assert_array_equal(make_inputs(kernel, 4, 7)["z"], expected)


HEAD = (
    "@kernel\ndef k(x: In[array2d[float32]], y: Out[array2d[float32]], io: InOut[array2d[float32]], "
    "v: Out[array2d[vec3]], z: In[array[float32]], o: Out[array[float32]], s: int32):\n    i = tid()\n"
)


@pytest.mark.parametrize(
    "text, rule, line, column",
    [
        # the number of indexes is the array's
        (HEAD + "    o[i] = x[i]\n", "array2d", 4, 12),
        (HEAD + "    o[i] = z[i, clamp(0, 0, x.shape[1] - 1)]\n", "array2d", 4, 12),
        (HEAD + "    y[i] = 1.0\n", "array2d", 4, 5),
        # a column is clamped below the array's own column count, or proven
        (HEAD + "    o[i] = x[i, s]\n", "index", 4, 17),
        (HEAD + "    o[i] = x[i, i]\n", "index", 4, 17),
        (HEAD + "    o[i] = x[i, clamp(s, 0, y.shape[1] - 1)]\n", "index", 4, 17),
        (HEAD + "    o[i] = x[i, clamp(s, 0, len(x) - 1)]\n", "index", 4, 17),
        # the row as a one-dimensional index
        (HEAD + "    o[i] = x[s, clamp(0, 0, x.shape[1] - 1)]\n", "index", 4, 14),
        # a guard holds only while the body leaves its names alone
        (HEAD + "    j = s\n    if 0 <= j and j < x.shape[1]:\n        j = j + 1\n        o[i] = x[i, j]\n", "index", 7, 21),
        # stores only in the thread's own row; InOut read there only
        (HEAD + "    y[clamp(i + 1, 0, len(y) - 1), clamp(0, 0, y.shape[1] - 1)] = 1.0\n", "race", 4, 7),
        (HEAD + "    o[i] = io[clamp(i + 1, 0, len(io) - 1), clamp(0, 0, io.shape[1] - 1)]\n", "race", 4, 15),
        (HEAD + "    x[i, clamp(0, 0, x.shape[1] - 1)] = 1.0\n", "role", 4, 5),
        (HEAD + "    o[i] = y[i, clamp(0, 0, y.shape[1] - 1)]\n", "role", 4, 12),
        (HEAD + "    y[i, s] = 1.0\n", "index", 4, 10),
        # a component of a 2-D element is stored in the own row, at a proven column
        (HEAD + "    v[i, s].x = 1.0\n", "index", 4, 10),
        (HEAD + "    v[clamp(i + 1, 0, len(v) - 1), clamp(0, 0, v.shape[1] - 1)].x = 1.0\n", "race", 4, 7),
        # extents: a one-dimensional array has no shape[1]
        (HEAD + "    o[i] = float32(z.shape[1])\n", "array2d", 4, 20),
        # no Acc 2-D array, no atomic or tile on one
        ("@kernel\ndef k(g: Acc[array2d[float32]], o: Out[array[float32]]):\n    i = tid()\n    o[i] = 1.0\n", "array2d", 2, 7),
        ("@kernel\ndef k(g: InOut[array2d[float32]]):\n    i = tid()\n    t = atomic_add(g, i, 1.0)\n", "array2d", 4, 9),
        ("@kernel\ndef k(g: In[array2d[float32]], o: Out[array[float32]]):\n    i = tid()\n    o[i] = tile_sum(tile_load(g, i, 2))\n", "tile", 4, 21),
        # kinds of array and struct fields
        ("@kernel\ndef k(g: In[array3d[float32]]):\n    i = tid()\n", "unknown-type", 2, 13),
        ("@struct\nclass S:\n    a: In[array2d[float32]]\n\n@kernel\ndef k(p: S):\n    i = tid()\n", "struct-array", 3, 8),
    ],
)
def test_array2d_rules_at_their_place(text, rule, line, column):
    with pytest.raises(DSLError) as info:
        parse(text)
    error = info.value
    assert (error.rule, error.line, error.column) == (rule, line, column), str(error)


def test_guards_prove_rows_and_columns_in_bounds():
    text = HEAD + (
        "    j = s + 1\n"
        "    t = x[j, j] if 0 <= j and j < len(x) and j < x.shape[1] else 0.5\n"
        "    for c in range(4):\n"
        "        if c < x.shape[1] and c < y.shape[1]:  # each array's own extent proves its own column\n"
        "            t += x[i, c]\n"
        "            y[i, c] = t\n"
        "    if 0 <= s and s < io.shape[1]:\n"
        "        io[i, s] += t\n"
        "    o[i] = t\n"
    )
    program = parse(text)
    columns = [n.column for n in A.walk(program) if isinstance(n, A.ArrayRead) and n.column is not None]
    assert len(columns) == 4


def test_a_program_computes_each_guarded_column_only_where_it_is_in_bounds():
    program = parse(HEAD + "    for c in range(4):\n        if c < y.shape[1] and c < x.shape[1]:\n            y[i, c] = x[i, c] * 2.0\n    o[i] = 1.0\n")
    values = make_inputs(program.kernels[0], 4, 0)
    values["x"] = np.arange(4 * 3, dtype=np.float32).reshape(4, 3)
    values["y"] = np.zeros((4, 3), np.float32)
    out = run_reference(program, None, values, 4)
    np.testing.assert_array_equal(out["y"], values["x"] * 2)


def test_drawn_programs_use_every_role_and_column_form():
    found = set()
    shares = 0
    for program in draw_programs(400, seed=3):
        found |= {p for p in productions(program) if p[0] in ("array2d_role", "array2d_column")}
        shares += "array-2d" in constructs(program)
        assert parse(print_program(program)) == program
    assert found == {("array2d_role", r) for r in ("in", "out", "inout")} | {("array2d_column", c) for c in ("clamped", "proven")}
    assert shares >= 8  # 2% of 400


def test_a_two_dimensional_read_is_a_construct_of_its_own():
    assert "array-2d" in constructs(PROGRAM)
    assert "array-2d" not in constructs(parse("@kernel\ndef k(z: In[array[float32]], o: Out[array[float32]]):\n    i = tid()\n    o[i] = z[i]\n"))


GRADIENT_SOURCE = (
    "@kernel\ndef k(x: In[array2d[float32]], v: In[array2d[vec3]], z: In[array[float32]], y: Out[array2d[float32]], o: Out[array[float32]]):\n"
    "    i = tid()\n"
    "    y[i, clamp(1, 0, y.shape[1] - 1)] = x[i, clamp(1, 0, x.shape[1] - 1)] * x[clamp(i + 1, 0, len(x) - 1), clamp(0, 0, x.shape[1] - 1)]"
    " + dot(v[i, clamp(i, 0, v.shape[1] - 1)], v[i, clamp(0, 0, v.shape[1] - 1)])\n"
    "    o[i] = z[i] * x[i, clamp(2, 0, x.shape[1] - 1)]\n"
)


def test_two_dimensional_arrays_are_gradient_inputs_and_outputs():
    program = parse(GRADIENT_SOURCE)
    assert D.gradient_inputs(program.kernels[0]) == ["x", "v", "z"]
    assert D.gradient_outputs(program.kernels[0]) == ["y", "o"]
    assert D.exclusions(program) == []
    # two stores into one row are an overwrite, whatever their columns
    twice = parse(GRADIENT_SOURCE + "    y[i, clamp(0, 0, y.shape[1] - 1)] = z[i]\n")
    assert D.exclusions(twice) == [D.ARRAY_OVERWRITE]


@pytest.mark.compiler
def test_gradients_through_two_dimensional_arrays_agree_with_their_closed_form(tmp_path):
    from kernel_synth.backends import gradients as G

    program = parse(GRADIENT_SOURCE)
    seed = 2
    assert column_count(program.kernels[0], seed) == 3
    (outcome,) = G.GradientChecker(tmp_path).check([program], launch=4, seed=seed, every_source=True)
    assert outcome.ok and not outcome.unavailable, (outcome.status, outcome.message, outcome.unavailable)
    assert G.disagreements(outcome.sources) == {}
    values = make_inputs(program.kernels[0], 4, seed)
    x, v, z = (values[k].astype(np.float64) for k in ("x", "v", "z"))
    dx = np.zeros_like(x)
    dv = np.zeros_like(v)
    for i in range(4):
        below = min(i + 1, 3)
        dx[i, 1] += x[below, 0]
        dx[below, 0] += x[i, 1]
        dx[i, 2] += z[i]
        column = min(i, 2)
        dv[i, column] += v[i, 0]
        dv[i, 0] += v[i, column]
    for source in ("warp", "jax"):
        np.testing.assert_allclose(outcome.sources[source]["x"], dx, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(outcome.sources[source]["v"], dv, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(outcome.sources[source]["z"], x[:, 2], rtol=1e-5, atol=1e-6)


def test_shrinking_drops_an_unused_two_dimensional_parameter():
    from kernel_synth.shrink.passes import drop_unused

    program = parse(
        "@kernel\ndef k(g: In[array2d[float32]], h: In[array2d[vec3]], o: Out[array[float32]]):\n"
        "    i = tid()\n    o[i] = g[i, clamp(1, 0, g.shape[1] - 1)]\n"
    )
    names = [[p.name for p in c.kernels[0].params] for c in drop_unused(program)]
    assert ["g", "o"] in names


def test_the_reducer_shrinks_a_two_dimensional_program_to_the_read_that_matters():
    from kernel_synth.shrink.reducer import shrink

    program = parse(SOURCE)

    def reads_a_guarded_column(candidate):
        return any(isinstance(n, A.ArrayRead) and isinstance(n.column, A.Name) for n in A.walk(candidate))

    small = shrink(program, reads_a_guarded_column).program
    assert reads_a_guarded_column(small)
    assert [p.name for p in small.kernels[0].params] in (["x", "s"], ["x", "io", "s"], ["x", "y", "s"])
    # the column read at a clamp is gone: only the guarded one is left
    assert sum(isinstance(n, A.ArrayRead) for n in A.walk(small)) == 1, print_program(small)


@pytest.mark.compiler
def test_a_stored_case_replays_on_its_two_dimensional_inputs(tmp_path, monkeypatch):
    """The header's seed gives the launch its column count again: a
    miscompiled floor (the faulty backend's first float output off by one,
    here the 2-D array y) fails again on replay, and the real Warp passes."""
    from kernel_synth.synth.corpus import CaseHeader, write_case
    from kernel_synth.synth.replay import ReplayStatus, replay

    monkeypatch.setenv("KERNEL_SYNTH_FAULTS", "wrong:floor")
    source = (
        "@kernel\ndef k(x: In[array2d[float32]], y: Out[array2d[float32]]):\n"
        "    i = tid()\n    y[i, clamp(1, 0, y.shape[1] - 1)] = floor(x[i, clamp(i, 0, x.shape[1] - 1)])\n"
    )
    header = CaseHeader(
        signature="faulty-warp-cpu:forward:float-value", oracle="forward", stage="run", backend="faulty-warp-cpu",
        error="forward mismatch with the reference", versions="", seed=2, launch=16,
    )
    path = write_case(tmp_path, header, source)
    (failing,) = replay([path])
    assert failing.status is ReplayStatus.STILL_FAILING, failing
    (passing,) = replay([path], backend="warp-cpu")
    assert passing.status is ReplayStatus.FIXED, passing


COMPONENTS = (
    "@kernel\ndef k(x: In[array2d[float32]], v: InOut[array2d[vec3]]):\n    i = tid()\n"
    "    v[i, clamp(1, 0, v.shape[1] - 1)].y = x[i, clamp(0, 0, x.shape[1] - 1)]\n"
    "    v[i, clamp(0, 0, v.shape[1] - 1)][2] += 1.0\n"
)
# row i: v[i, 1] = (1, x[i, 0], 1), v[i, 0] = (1, 1, 2); the other components keep their value
COMPONENT_INPUTS = {"x": np.array([[3.0, 4.0], [5.0, 6.0]], np.float32), "v": np.ones((2, 2, 3), np.float32)}
COMPONENT_EXPECTED = np.array([[[1, 1, 2], [1, 3, 1]], [[1, 1, 2], [1, 5, 1]]], np.float32)


def test_a_component_store_changes_one_component_of_an_element_in_the_own_row():
    out = run_reference(parse(COMPONENTS), None, COMPONENT_INPUTS, 2)
    np.testing.assert_array_equal(out["v"], COMPONENT_EXPECTED)


@pytest.mark.compiler
def test_jax_stores_a_component_of_an_element_in_the_own_row():
    from kernel_synth.backends.jax_run import run_jax

    out = run_jax(parse(COMPONENTS), COMPONENT_INPUTS, 2)
    np.testing.assert_array_equal(np.asarray(out["v"]), COMPONENT_EXPECTED)
