"""Module constants (`C = constant(lit)`, Warp's `wp.constant`).

The checker's rules (each error at its line and column), values computed by
hand on the reference, JAX's and Warp's agreement (alone and in a batch, where
each program's constants are renamed), generated programs, and the shrinking
pass that writes a constant's value where it is read. The hand-written
program is tests/programs/valid/constants.kernel; its renderings are goldens.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kernel_synth.backends.compare import compare_outcomes
from kernel_synth.backends.reference import run_reference
from kernel_synth.backends.reference_backend import ReferenceBackend
from kernel_synth.grammar import DSLError, check, parse, print_program
from kernel_synth.grammar import ast as A
from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.grammar.stats import constructs
from kernel_synth.shrink.passes import inline_constants

SOURCE = (Path(__file__).parent / "programs" / "valid" / "constants.kernel").read_text()
PROGRAM = parse(SOURCE)

X0 = np.array([1.0, -2.0, 0.5], np.float32)
Y = np.array([1.0, 2.0, -4.0], np.float64)
INPUTS = {
    "x0": X0, "y": Y, "out0": np.zeros(3, np.float32), "out1": np.zeros(3, np.float64),
    "out2": np.zeros(3, np.uint32), "out3": np.zeros(3, np.int64), "out4": np.zeros((3, 3), np.float32),
}
# C6 @ (C5 * x): rows (1, 0, 2), (0, -1, 0), (0.5, 0, 1) times (1, -2.5, 0.25) x
OUT4 = np.outer(X0, np.array([1.5, 2.5, 0.75], np.float32))


def _by_hand() -> tuple[np.ndarray, np.ndarray]:
    # f(x) = -2.5 x; static(j * 3 - 1) is -1, 2, 5 for j = 0, 1, 2: t = -2.5 x * 6 = -15 x
    # static(C1 * 2.0) = -5.0; v = -2.5 times x once per trip, clamp(i, 0, 2) trips
    out0 = []
    for i, x in enumerate(X0):
        t = np.float32(0.0)
        for w in (-1, 2, 5):
            t = np.float32(t + np.float32(np.float32(-2.5) * x) * np.float32(w))
        v = np.float32(-2.5)
        for _ in range(min(i, 2)):
            v = np.float32(v * x)
        out0.append(np.float32(np.float32(t + np.float32(-5.0)) + v))
    out1 = Y * 0.1 + 0.1
    return np.array(out0, np.float32), out1


def test_reference_values_by_hand():
    out0, out1 = _by_hand()
    out = run_reference(PROGRAM, None, dict(INPUTS), 3)
    np.testing.assert_array_equal(out["out0"], out0)
    np.testing.assert_array_equal(out["out1"], out1)
    np.testing.assert_array_equal(out["out2"], np.array([7, 14, 21], np.uint32))
    np.testing.assert_array_equal(out["out3"], np.array([0, -3, -6], np.int64))
    np.testing.assert_array_equal(out["out4"], OUT4)


@pytest.mark.compiler
def test_jax_values_by_hand():
    from kernel_synth.backends.jax_run import run_jax

    out0, out1 = _by_hand()
    out = run_jax(PROGRAM, dict(INPUTS), 3)
    np.testing.assert_allclose(out["out0"], out0, rtol=1e-6)  # XLA may fuse a multiply-add
    np.testing.assert_array_equal(out["out1"], out1)
    np.testing.assert_array_equal(out["out2"], np.array([7, 14, 21], np.uint32))
    np.testing.assert_array_equal(out["out3"], np.array([0, -3, -6], np.int64))
    np.testing.assert_allclose(out["out4"], OUT4, rtol=1e-6)


@pytest.mark.compiler
def test_warp_agrees_alone_and_in_a_batch_with_the_same_constant_names(tmp_path):
    from kernel_synth.backends.warp_backend import warp_cpu

    other = parse(SOURCE.replace("constant(3)", "constant(4)").replace("constant(-2.5)", "constant(0.5)"))
    outcomes = warp_cpu(workdir=tmp_path).compile([PROGRAM, other], launch=16)
    expected = ReferenceBackend().compile([PROGRAM, other], launch=16)
    for outcome, reference in zip(outcomes, expected):
        assert outcome.ok, outcome.message
        assert compare_outcomes(reference, outcome) == []
    assert not np.array_equal(outcomes[0].outputs["out0"], outcomes[1].outputs["out0"])


HEAD = "@kernel\ndef k(x: In[array[float32]], o: Out[array[float32]]):\n    i = tid()\n"


@pytest.mark.parametrize(
    "text, rule, line, column",
    [
        ("C = constant(1.0 + 2.0)\n\n" + HEAD + "    o[i] = C\n", "constant", 1, 1),
        ("C = constant(vec3(1.0, 2.0 * 3.0, 0.5))\n\n" + HEAD + "    o[i] = 1.0\n", "constant", 1, 1),
        ("C = constant(1.0)\n\n" + HEAD + "    C = 2.0\n    o[i] = C\n", "read-only", 6, 5),
        ("C = constant(1.0)\n\n" + HEAD.replace("x: In", "C: In") + "    o[i] = 1.0\n", "duplicate-name", 4, 7),
        ("C = constant(1.0)\nC = constant(2.0)\n\n" + HEAD + "    o[i] = C\n", "duplicate-name", 2, 1),
        ("C = constant(1.0)\n\n" + HEAD + "    for C in range(2):\n        o[i] = 1.0\n", "duplicate-name", 6, 5),
        # range(C): an int32 constant of 0 .. MAX_TRIP
        ("C = constant(-2)\n\n" + HEAD + "    for j in range(C):\n        o[i] = 1.0\n", "loop-bound", 6, 20),
        ("C = constant(2.0)\n\n" + HEAD + "    for j in range(C):\n        o[i] = 1.0\n", "loop-bound", 6, 20),
        ("C = constant(65)\n\n" + HEAD + "    for j in range(C):\n        o[i] = 1.0\n", "loop-bound", 6, 20),
    ],
)
def test_constant_rules_at_their_place(text, rule, line, column):
    with pytest.raises(DSLError) as info:
        parse(text)
    error = info.value
    assert (error.rule, error.line, error.column) == (rule, line, column), str(error)


def test_generated_constants_check_round_trip_and_are_read():
    declared = read = 0
    for program in draw_programs(300, seed=4):
        assert parse(print_program(program)) == check(program)
        declared += bool(program.constants)
        names = {c.name for c in program.constants}
        read += any(isinstance(n, A.Name) and n.id in names for n in A.walk(program))
        assert ("constant" in constructs(program)) == bool(program.constants)
    assert declared >= 100 and read >= 50, (declared, read)


def test_generated_loops_bounded_by_a_constant_are_unrolled_for_static():
    """range(C) draws an int32 constant that fits (or declares one); its loop
    is known when compiling, so static() in it may read the loop variable."""
    bounded = reads = 0
    for program in draw_programs(400, seed=5):
        constants = {c.name: c.value for c in program.constants}
        for loop in (n for n in A.walk(program) if isinstance(n, A.For) and isinstance(n.bound, A.Name)):
            bounded += 1
            value = constants[loop.bound.id]
            assert isinstance(value, A.Const) and value.ty.name == "int32" and 1 <= value.value <= 64
            reads += any(isinstance(s, A.Static) and any(isinstance(n, A.Name) and n.id == loop.var for n in A.walk(s)) for s in A.walk(loop))
    assert bounded >= 10 and reads >= 1, (bounded, reads)


def test_inlining_a_constant_keeps_the_values():
    inputs = {name: value.copy() for name, value in INPUTS.items()}
    before = run_reference(PROGRAM, None, dict(inputs), 3)
    candidates = list(inline_constants(PROGRAM))
    assert len(candidates) == 7
    for candidate in candidates:
        candidate = check(candidate)
        assert len(candidate.constants) == 6
        after = run_reference(candidate, None, {name: value.copy() for name, value in INPUTS.items()}, 3)
        for name in ("out0", "out1", "out2", "out3", "out4"):
            np.testing.assert_array_equal(after[name], before[name])


def test_shrinking_drops_a_constant_nothing_needs():
    """A campaign's shrunk case kept an unused constant while AST size left constants out."""
    from kernel_synth.shrink.reducer import shrink

    program = parse(
        "C0 = constant(0.0)\nC1 = constant(2)\n\n@kernel\ndef k0(x1: In[array[float32]], out0: Out[array[float32]]):\n"
        "    i = tid()\n    v2 = sqrt(x1[i]) + float32(C1)\n    out0[i] = v2\n"
    )
    small = shrink(program, lambda p: any(isinstance(n, A.Call) and n.func == "sqrt" for n in A.walk(p))).program
    assert small.constants == (), print_program(small)


def test_a_negated_typed_constant_is_built_negative():
    """Warp 1.0.2 cannot negate a wp.float64 in Python: CI's campaign there
    found `wp.constant(-wp.float64(3.25))` failing at import."""
    from kernel_synth.backends.warp_render import render_warp

    program = parse("C0 = constant(-float64(3.25))\n\n" + HEAD.replace("float32", "float64") + "    o[i] = x[i] * C0\n")
    assert "C0 = wp.constant(wp.float64(-3.25))" in render_warp(program)


@pytest.mark.parametrize("message", [
    "Couldn<q><name>' that matched inputs with types: [vec2f, vec4f, vec3f]",  # a helper given C.y (1.14.0)
    "atomic_min() value argument type (vec3f) must be of the same type as the array (<id>)",  # atomic_min(a, 0, C.y)
    "The provided value is expected to be a scalar of type <id>",
])
def test_the_forms_of_a_vector_constants_component_typed_whole_are_recognised(message):
    from kernel_synth.synth.oracles import recognised

    assert "1.19.0" in recognised(f"warp-cpu:codegen:{message}")


@pytest.mark.parametrize("signature", [
    "warp-cpu:codegen:Input types must be the same, got [<q>, <q>, <q>]",  # clamp(C, -10.0, 10.0) after float64(C)
    "warp-cpu:compile:RuntimeError: CPU kernel build failed with error code <n>: call to <q> is ambiguous",  # C // 0.5 after float64(C)
    "warp-cpu:codegen:The function `<name>` has its return type annotated as `<id>` but the code returns a value of type `<id>`",
])
def test_the_forms_of_a_cast_module_constant_are_recognised(signature):
    """Campaigns on 1.19.0 (seed 405): the constant's cast retypes its reads,
    before the cast too; each form is a stored case."""
    from kernel_synth.synth.oracles import recognised

    assert "cast" in recognised(signature) and "1.12.1" in recognised(signature)
    assert recognised(signature.replace("<q>, <q>, <q>", "<q>, <q>")) is not None  # two inputs: the loop-variable cast's



CAST_CONSTANT_BUCKETS = ("52750deb", "43c2610f", "325ae1a2", "62a2beb9", "28a908d7")


def test_every_shipped_case_of_the_cast_constant_is_recognised_as_it():
    import re

    from kernel_synth.synth.corpus import find_cases, read_case
    from kernel_synth.synth.oracles import recognised

    root = Path(__file__).resolve().parent.parent / "corpora" / "warp-cpu"
    buckets = [d for d in root.iterdir() if d.name.endswith(CAST_CONSTANT_BUCKETS)]
    assert len(buckets) == len(CAST_CONSTANT_BUCKETS)
    for case in (read_case(c) for c in find_cases(buckets)):
        assert re.search(r"(float64|int64|float32)\(C\d\)", case.text), case.path  # a module constant cast
        note = recognised(case.signature)
        assert note is not None and "cast" in note, case.path
