"""Matrices: products in every operand order (`m * v`, `m @ v`, `v * m`,
`v @ m` (a row vector), `m * m`, `m @ m`, and `m / s`), rows (`m[r]`) and
elements (`m[r][c]`, `m[r, c]`). Types in the checker
(with located errors for the orders that do not exist), hand-computed
reference values, the JAX rendering of Warp's `*` as `@`, and agreement of
warp-cpu and jax-cpu with the reference. The hand-written program is
tests/programs/valid/matrix_products.kernel; its renderings are goldens."""

from __future__ import annotations

import numpy as np
import pytest

from kernel_synth.backends.jax_render import render_jax
from kernel_synth.backends.reference import run_reference
from kernel_synth.grammar import parse, print_program
from kernel_synth.grammar.errors import CheckError, ParseError
from kernel_synth.grammar.ops import binop_result, is_matrix_product
from kernel_synth.grammar.stats import constructs
from kernel_synth.grammar.types import F32, MAT33, VEC2, VEC3

HEAD = "@kernel\ndef k(x: In[array[vec3]], m: In[array[mat33]], y: Out[array[vec3]], z: Out[array[mat33]]):\n    i = tid()\n"
M = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 10]], np.float32)
V = np.array([1, -1, 2], np.float32)


def _run(body: str) -> dict:
    program = parse(HEAD + body)
    inputs = {"x": V[None].copy(), "m": M[None].copy(), "y": np.zeros((1, 3), np.float32), "z": np.zeros((1, 3, 3), np.float32)}
    return run_reference(program, None, inputs, 1)


def test_product_types():
    for op in ("*", "@"):
        assert binop_result(op, MAT33, VEC3) == VEC3
        assert binop_result(op, VEC3, MAT33) == VEC3
        assert binop_result(op, MAT33, MAT33) == MAT33
        assert binop_result(op, VEC2, MAT33) is None
        assert is_matrix_product(op, VEC3, MAT33)
    assert binop_result("@", VEC3, VEC3) is None and binop_result("@", MAT33, F32) is None
    assert binop_result("/", MAT33, F32) == MAT33 and binop_result("/", F32, MAT33) is None
    assert not is_matrix_product("*", F32, MAT33)  # scaling, element by element


@pytest.mark.parametrize(
    "body, column",
    [("    y[i] = x[i] @ x[i]\n", 12), ("    z[i] = m[i] @ 2.0\n", 12), ("    z[i] = 2.0 / m[i]\n", 12)],
)
def test_orders_that_do_not_exist_are_located_errors(body, column):
    with pytest.raises(CheckError) as error:
        parse(HEAD + body)
    assert (error.value.rule, error.value.line, error.value.column) == ("operand-types", 4, column), str(error.value)


def test_reference_values_computed_by_hand():
    out = _run("    y[i] = m[i] * x[i] + (x[i] * m[i]) * 10.0\n    z[i] = m[i] * m[i] - m[i] / 2.0\n")
    # M v = (1-2+6, 4-5+12, 7-8+20) = (5, 11, 19); v M = (1-4+14, 2-5+16, 3-6+20) = (11, 13, 17)
    assert out["y"][0].tolist() == [5 + 110, 11 + 130, 19 + 170]
    # M M, row by row: (1+8+21, 2+10+24, 3+12+30), (4+20+42, 8+25+48, 12+30+60), (7+32+70, 14+40+80, 21+48+100)
    mm = [[30, 36, 45], [66, 81, 102], [109, 134, 169]]
    assert out["z"][0].tolist() == [[mm[r][c] - M[r, c] / 2 for c in range(3)] for r in range(3)]
    assert _run("    y[i] = x[i] @ m[i]\n    z[i] = m[i] @ m[i]\n")["y"][0].tolist() == [11, 13, 17]


def test_rows_and_elements_computed_by_hand():
    out = _run("    y[i] = m[i][1] + m[i][clamp(7, 0, 2)]\n    z[i] = m[i]\n")
    assert out["y"][0].tolist() == [4 + 7, 5 + 8, 6 + 10]  # rows 1 and 2 (row-major)
    program = parse(HEAD + "    y[i] = vec3(m[i][0][2], m[i][2, 1], m[i][1].z)\n    z[i] = m[i]\n")
    element = program.kernels[0].body[1].value.args[1]
    assert element.pair and element.value.index == 2 and element.index == 1
    assert "m[i][2, 1]" in print_program(program) and parse(print_program(program)) == program
    inputs = {"x": V[None].copy(), "m": M[None].copy(), "y": np.zeros((1, 3), np.float32), "z": np.zeros((1, 3, 3), np.float32)}
    assert run_reference(program, None, inputs, 1)["y"][0].tolist() == [3, 8, 6]


@pytest.mark.parametrize(
    "body, column",
    [
        ("    y[i] = m[i][3]\n", 12),  # three rows
        ("    y[i] = x[i][1, 2]\n", 12),  # two indexes take a matrix
        ("    y[i] = m[i][clamp(x[i].x, 0.0, 2.0)]\n", 17),  # an int32 index
    ],
)
def test_rows_out_of_reach_are_located_errors(body, column):
    with pytest.raises(CheckError) as error:
        parse(HEAD + body + "    z[i] = m[i]\n")
    assert (error.value.rule, error.value.line, error.value.column) == ("component", 4, column), str(error.value)


def test_a_local_matrixs_rows_and_elements_are_assigned_computed_by_hand():
    # a = M; a[1][2] = 0; a[0, 0] += 5; a[2] = v; a[2][1] = a[2, 1] * 3: a is a
    # copy, m[i] (the input) is left alone
    out = _run("    a = m[i]\n    a[1][2] = 0.0\n    a[0, 0] += 5.0\n    a[2] = x[i]\n    a[2][1] = a[2, 1] * 3.0\n    y[i] = m[i][1]\n    z[i] = a\n")
    assert out["z"][0].tolist() == [[6, 2, 3], [4, 5, 0], [1, -3, 2]]
    assert out["y"][0].tolist() == [4, 5, 6]


@pytest.mark.parametrize(
    "body, rule, line, column",
    [
        # an element of an array element's matrix: Warp 1.0.2 refuses it
        ("    z[i] = m[i]\n    z[i][1][2] = 0.0\n", "component", 5, 5),
        # computed indexes
        ("    a = m[i]\n    a[clamp(1, 0, 2)] = x[i]\n    z[i] = a\n", "component", 5, 5),
        ("    a = m[i]\n    a[1][clamp(1, 0, 2)] = 0.0\n    z[i] = a\n", "component", 5, 10),
        # a row by name, and a row past the last
        ("    a = m[i]\n    a.x = x[i]\n    z[i] = a\n", "component", 5, 5),
        ("    a = m[i]\n    a[3][0] = 0.0\n    z[i] = a\n", "component", 5, 5),
        # the element of a vector's component
        ("    a = x[i]\n    a[1][2] = 0.0\n    y[i] = a\n    z[i] = m[i]\n", "component", 5, 5),
        # a row is a vec3, an element a float32
        ("    a = m[i]\n    a[1] = 0.0\n    z[i] = a\n", "type-mismatch", 5, 5),
    ],
)
def test_matrix_places_out_of_reach_are_located_errors(body, rule, line, column):
    with pytest.raises((CheckError, ParseError)) as error:
        parse(HEAD + body + "    y[i] = x[i]\n")
    assert (error.value.rule, error.value.line, error.value.column) == (rule, line, column), str(error.value)


def test_jax_renders_warps_star_product_as_matmul_and_keeps_scaling_elementwise():
    source = render_jax(parse(HEAD + "    y[i] = x[i] * m[i]\n    z[i] = m[i] * 2.0\n"))
    assert "y_i = x[i] @ m[i]\n" in source
    assert "z_i = m[i] * 2.0\n" in source


def test_constructs_tell_rows_and_pairs_apart():
    assert {"matrix-row", "matrix-element-pair"} <= constructs(parse(HEAD + "    y[i] = x[i]\n    z[i] = m[i]\n    y[i].x = m[i][0, 1]\n"))
    assert "matrix-row" not in constructs(parse(HEAD + "    y[i] = x[i]\n    z[i] = m[i]\n    y[i].x = x[i][1]\n"))


def test_constructs_tell_the_orders_apart():
    assert {"matmul", "vector-matrix"} <= constructs(parse(HEAD + "    y[i] = x[i] * m[i]\n    z[i] = m[i]\n"))
    found = constructs(parse(HEAD + "    y[i] = x[i]\n    z[i] = m[i] @ m[i]\n"))
    assert {"matmul", "matrix-matrix"} <= found and "vector-matrix" not in found
    assert "matmul" not in constructs(parse(HEAD + "    y[i] = x[i]\n    z[i] = m[i] * 2.0\n"))
