"""Structs and helpers that return several values: the checker's rules (each at
its line and column), the flattening that the reference and JAX run, values
computed by hand, Warp's agreement, shrinking that drops unused fields and
returned values, and the construct table.

The hand-written program is tests/programs/valid/structs.kernel; its Warp and
JAX renderings are goldens (tests/golden/{warp,jax}/structs.py)."""

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
from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.grammar.stats import constructs
from kernel_synth.shrink.passes import drop_tuple_elements, drop_unused_fields
from kernel_synth.shrink.reducer import shrink

SOURCE = (Path(__file__).parent / "programs" / "valid" / "structs.kernel").read_text()
PROGRAM = parse(SOURCE)

INPUTS = {
    "p__mass": np.float32(0.5),
    "p__pos": np.array([1.0, 2.0, 3.0], np.float32),
    "p__pair__lo": np.float32(0.25),
    "p__pair__n": np.int32(7),
    "x": np.array([1.0, -2.0], np.float32),
    "o": np.zeros(2, np.float32),
    "q": np.zeros((2, 3), np.float32),
}
# s = make(x): mass x, pos (x, 2x, 1), pair (0, 3); s.pos.x = p.mass = 0.5;
# t = s, then t.mass = 100 and t.pair.lo = 0.25 (s keeps its own); the loop
# adds h = x / 2 twice to s.pair.lo. weigh(s) = 4x + 3, weigh(t) = 103.25 + 2x.
O = np.array([6 * x + 106.25 for x in (1.0, -2.0)], np.float32)
Q = np.array([[1.5, 2 * x + 2.0, 4.0] for x in (1.0, -2.0)], np.float32)


def test_struct_inputs_are_keyed_by_flattened_leaves():
    assert sorted(make_inputs(PROGRAM.kernels[0], 2)) == ["o", "p__mass", "p__pair__lo", "p__pair__n", "p__pos", "q", "x"]


def test_reference_values_by_hand():
    out = run_reference(PROGRAM, None, INPUTS, 2)
    np.testing.assert_array_equal(out["o"], O)
    np.testing.assert_array_equal(out["q"], Q)


def test_flattening_removes_every_struct_and_keeps_the_values():
    flat = flatten_structs(PROGRAM)
    assert not flat.structs
    assert not any(isinstance(n, (A.Field, A.StructNew)) for n in A.walk(flat))
    assert not any(getattr(getattr(n, "ty", None), "is_struct", False) for n in A.walk(flat))
    assert [p.name for p in flat.funcs[1].params] == ["b__mass", "b__pos", "b__pair__lo", "b__pair__n"]
    assert flatten_structs(flat) is flat  # nothing left to do


@pytest.mark.compiler
def test_jax_values_by_hand():
    from kernel_synth.backends.jax_run import run_jax

    out = run_jax(PROGRAM, INPUTS, 2)
    np.testing.assert_array_equal(out["o"], O)
    np.testing.assert_array_equal(out["q"], Q)


@pytest.mark.compiler
def test_warp_builds_struct_arguments_and_agrees(tmp_path):
    from kernel_synth.backends.warp_backend import warp_cpu

    (outcome,) = warp_cpu(workdir=tmp_path).compile([PROGRAM], launch=16)
    (expected,) = ReferenceBackend().compile([PROGRAM], launch=16)
    assert outcome.ok, outcome.message
    assert compare_outcomes(expected, outcome) == []


def test_generated_structs_and_unpackings_check_and_round_trip():
    with_structs = unpackings = 0
    for program in draw_programs(300, seed=5):
        assert parse(print_program(program)) == check(program)
        with_structs += bool(program.structs)
        unpackings += any(isinstance(n, A.Unpack) for n in A.walk(program))
    assert with_structs >= 30 and unpackings >= 10, (with_structs, unpackings)


STRUCT = "@struct\nclass P:\n    a: float32\n    v: vec3\n\n"
HEAD = "@kernel\ndef k(p: P, x: In[array[float32]], o: Out[array[float32]]):\n    i = tid()\n"


@pytest.mark.parametrize(
    "text, rule, line, column",
    [
        ("@struct\nclass P:\n    x: float32\n\n" + HEAD + "    o[i] = 1.0\n", "field-name", 3, 5),
        (STRUCT + HEAD + "    o[i] = p.b\n", "unknown-field", 9, 12),
        (STRUCT + HEAD + "    o[i] = x[i].a\n", "unknown-field", 9, 12),
        (STRUCT + HEAD + "    p.a = 1.0\n", "read-only", 9, 5),
        (STRUCT + HEAD + "    s = P()\n    o[i] = s + s\n", "operand-types", 10, 12),
        (STRUCT + HEAD + "    s = p if x[i] > 0.0 else P()\n", "type-mismatch", 9, 9),
        (STRUCT + "@func\ndef f(a: float32) -> P:\n    s = P()\n    return s\n\n" + HEAD + "    o[i] = f(1.0).a\n", "struct-call", 14, 12),
        ("@func\ndef f(a: float32) -> tuple[float32, int32]:\n    return a, 1\n\n" + HEAD.replace("p: P, ", "") + "    o[i] = f(x[i])\n",
         "unpack", 8, 12),
        ("@func\ndef f(a: float32) -> tuple[float32, int32]:\n    return a, 1\n\n" + HEAD.replace("p: P, ", "") + "    u, v, w = f(x[i])\n",
         "unpack", 8, 5),
        ("@func\ndef f(a: float32) -> tuple[float32, int32]:\n    return a, 1.0\n\n" + HEAD.replace("p: P, ", "") + "    o[i] = 1.0\n",
         "type-mismatch", 3, 5),
        (HEAD.replace("p: P", "p: Q") + "    o[i] = 1.0\n", "unknown-type", 2, 10),
        (STRUCT + HEAD + "    p__a = 1.0\n", "reserved-name", 9, 5),
    ],
)
def test_struct_and_tuple_rules_at_their_place(text, rule, line, column):
    with pytest.raises(DSLError) as info:
        parse(text)
    error = info.value
    assert (error.rule, error.line, error.column) == (rule, line, column), str(error)


def test_shrinking_drops_unused_fields_and_structs():
    def nested(program):
        return any(isinstance(n, A.Field) and isinstance(n.value, A.Field) for n in A.walk(program))

    small = shrink(PROGRAM, nested).program
    assert nested(small)
    body = next(s for s in small.structs if s.name == "Body")
    assert [f.name for f in body.fields] == ["pair"]  # mass and pos were unused
    assert [[f.name for f in s.fields] for s in small.structs if s.name == "Pair"] in ([["lo"]], [["n"]])


def test_dropping_a_returned_value_rewrites_the_return_and_the_unpacking():
    program = parse(
        "@func\ndef f(a: float32) -> tuple[float32, float32, int32]:\n    return a + 1.0, a, 3\n\n"
        "@kernel\ndef k(x: In[array[float32]], o: Out[array[float32]]):\n    i = tid()\n    u, v, w = f(x[i])\n    o[i] = u\n"
    )
    candidates = list(drop_tuple_elements(program))
    assert len(candidates) == 3
    check(candidates[1])
    assert "-> tuple[float32, int32]" in print_program(candidates[1]) and "u, w = f(x[i])" in print_program(candidates[1])
    with pytest.raises(DSLError):
        check(candidates[0])  # u is still read
    one = next(drop_tuple_elements(check(candidates[2])), None)
    assert one is not None
    assert "-> float32" in print_program(check(list(drop_tuple_elements(check(candidates[2])))[1]))


def test_an_unused_struct_is_dropped_whole():
    program = parse(STRUCT + "@kernel\ndef k(o: Out[array[float32]]):\n    i = tid()\n    o[i] = 1.0\n")
    (candidate,) = [c for c in drop_unused_fields(program) if not c.structs]
    assert check(candidate).structs == ()


def test_the_construct_table_names_structs_and_unpacking():
    used = constructs(PROGRAM)
    assert {"struct", "struct-param", "struct-return", "nested-struct", "struct-copy", "field-store", "multi-return"} <= used
