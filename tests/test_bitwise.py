"""Bitwise operators (& | ^ ~ << >>): precedence in parsing and printing,
hand-computed reference values, the undefined shifts the reference refuses,
and the generator's guards, checked as a property: whatever the operands'
intervals, a guarded bitwise operation is defined and its value lies in the
interval the generator believes. The hand-written program is
tests/programs/valid/bitwise.kernel; its renderings are goldens."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel_synth.backends.reference import ReferenceFailure, run_reference
from kernel_synth.grammar import ast as A
from kernel_synth.grammar import parse, print_program
from kernel_synth.grammar.errors import CheckError
from kernel_synth.grammar.intervals import INT_SAFE, U32_MAX, int_binop, invert_interval
from kernel_synth.grammar.ops import BIT_OPS
from kernel_synth.grammar.types import I32, U32

HEAD = "@kernel\ndef k(x: In[array[int32]], u: In[array[uint32]], o: Out[array[int32]], p: Out[array[uint32]]):\n    i = tid()\n"


def _run(body: str, x: list[int], u: list[int]) -> dict:
    program = parse(HEAD + body)
    inputs = {"x": np.array(x, np.int32), "u": np.array(u, np.uint32), "o": np.zeros(len(x), np.int32), "p": np.zeros(len(x), np.uint32)}
    return run_reference(program, None, inputs, len(x))


def test_precedence_is_pythons_and_printing_keeps_it():
    program = parse(HEAD + "    o[i] = (x[i] >> 1) ^ ~x[i] & 12 | 1 << 4\n    p[i] = u[i]\n")
    value = program.kernels[0].body[1].value
    assert value.op == "|" and value.left.op == "^" and value.left.right.op == "&"
    assert isinstance(value.left.right.left, A.Invert) and value.right.op == "<<"
    # parentheses only where Python needs them
    printed = print_program(program)
    assert "o[i] = x[i] >> 1 ^ ~x[i] & 12 | 1 << 4" in printed
    assert parse(printed) == program
    regrouped = parse(HEAD + "    o[i] = (x[i] | 3) & (x[i] ^ 5) << 1\n    p[i] = u[i]\n")
    assert "o[i] = (x[i] | 3) & (x[i] ^ 5) << 1" in print_program(regrouped)
    # a comparison's operands are bitwise expressions, as in Python
    compare = parse(HEAD + "    if x[i] & 1 == 1:\n        o[i] = 1\n    p[i] = u[i]\n").kernels[0].body[1].cond
    assert compare.op == "==" and compare.left.op == "&"


def test_reference_values_computed_by_hand():
    out = _run("    o[i] = (x[i] >> 1) ^ ~x[i] & 12 | 1 << 4\n    p[i] = ~u[i] >> uint32(28) | u[i] << uint32(30)\n", [-7, 5], [1, 0xF0000003])
    # -7 >> 1 = -4 (arithmetic); ~-7 & 12 = 6 & 12 = 4; -4 ^ 4 = -8; -8 | 16 = -8
    # 5 >> 1 = 2; ~5 & 12 = 8; 2 ^ 8 = 10; 10 | 16 = 26
    assert out["o"].tolist() == [-8, 26]
    # ~1 >> 28 = 15 (logical); 1 << 30; ~0xF0000003 >> 28 = 0; 3 << 30 (the rest shifted out)
    assert out["p"].tolist() == [(1 << 30) | 15, 3 << 30]
    assert out["p"].dtype == np.uint32


@pytest.mark.parametrize(
    "body, why",
    [
        ("    o[i] = x[i] << 2\n", "left shift of a negative int32"),
        ("    o[i] = x[i] >> 32\n", "shift of int32 by 32"),
        ("    o[i] = x[i] >> (x[i] - x[i] - 1)\n", "shift of int32 by -1"),
        ("    o[i] = abs(x[i]) << 30\n", "int32 overflow"),
    ],
)
def test_undefined_shifts_are_refused_by_the_reference(body, why):
    with pytest.raises(ReferenceFailure) as failure:
        _run(body + "    p[i] = u[i]\n", [-1, 5], [0, 0])
    assert failure.value.rule == "undefined" and why in str(failure.value)


@pytest.mark.parametrize(
    "body, column",
    [("    o[i] = x[i] & 1.5\n", 12), ("    p[i] = u[i] >> 1\n", 12), ("    o[i] = int32(~1.0)\n", 18)],
)
def test_bitwise_operators_take_ints_of_one_type(body, column):
    with pytest.raises(CheckError) as error:
        parse(HEAD + body + ("    p[i] = u[i]\n" if "p[i]" not in body else "    o[i] = x[i]\n"))
    assert (error.value.rule, error.value.line, error.value.column) == ("operand-types", 4, column), str(error.value)


# ---------------------------------------------------------------- the guards


def _eval(node, env: dict[str, int], ty) -> int:
    """An independent evaluation in exact integers: it fails on what C++
    leaves undefined, and wraps uint32."""
    if isinstance(node, A.Name):
        return env[node.id]
    if isinstance(node, A.Const):
        return node.value
    if isinstance(node, A.Neg):
        return -_eval(node.operand, env, ty)
    if isinstance(node, A.Call):
        assert node.func == "clamp"
        value, lo, hi = (_eval(a, env, ty) for a in node.args)
        return min(max(value, lo), hi)
    assert isinstance(node, A.BinOp), node
    a, b = _eval(node.left, env, ty), _eval(node.right, env, ty)
    if node.op in ("<<", ">>"):
        assert 0 <= b < 32, f"shift by {b}"
        if node.op == ">>":
            return a >> b
        if ty.signed:
            assert a >= 0, f"left shift of {a}"
            assert a << b < 2**31, f"{a} << {b} overflows"
            return a << b
        return (a << b) & U32_MAX
    return {"&": a & b, "|": a | b, "^": a ^ b}[node.op]


def _interval(ty):
    bound = st.integers(-INT_SAFE, INT_SAFE) if ty.signed else st.integers(0, U32_MAX)
    return st.tuples(bound, bound).map(sorted).map(tuple)


@settings(max_examples=300, deadline=None, database=None)
@given(st.sampled_from([I32, U32]).flatmap(lambda ty: st.tuples(st.just(ty), _interval(ty), _interval(ty))), st.sampled_from(BIT_OPS), st.data())
def test_a_guarded_bitwise_operation_is_defined_and_within_its_interval(typed, op, data):
    ty, li, ri = typed
    expr, iv = int_binop(op, A.Name("a", ty), li, A.Name("b", ty), ri, ty)
    env = {"a": data.draw(st.integers(*li)), "b": data.draw(st.integers(*ri))}
    value = _eval(expr, env, ty)
    assert iv[0] <= value <= iv[1], (expr, env, iv)
    if ty.signed:  # within the magnitudes the other guards assume
        assert -INT_SAFE <= iv[0] and iv[1] <= INT_SAFE


@given(st.sampled_from([I32, U32]).flatmap(lambda ty: st.tuples(st.just(ty), _interval(ty))), st.data())
def test_the_interval_of_an_inversion_holds_its_values(typed, data):
    ty, iv = typed
    x = data.draw(st.integers(*iv))
    inverted = ~x if ty.signed else ~x & U32_MAX
    lo, hi = invert_interval(iv, ty)
    assert lo <= inverted <= hi
