"""Quaternions: Warp's `quat` (x, y, z, w), w the real part. Types in the
checker (the Hamilton product `q * r`, scaling, the quaternion builtins, with
located errors for what Warp does not define), hand-computed reference values
(normalize takes the zero quaternion to the identity), the JAX prelude's
Hamilton product, and the Warp spellings for releases that cannot read a
component by name or negate a quaternion. The hand-written program is
tests/programs/valid/quaternions.kernel; its renderings are goldens, and
tests/test_valid_programs_agree.py runs it on warp-cpu and jax-cpu."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kernel_synth.backends.errors import Unsupported
from kernel_synth.backends.jax_render import render_jax
from kernel_synth.backends.reference import run_reference
from kernel_synth.backends.warp_render import render_warp
from kernel_synth.backends.warp_release import WarpRelease
from kernel_synth.grammar import parse, print_program
from kernel_synth.grammar.errors import CheckError
from kernel_synth.grammar.ops import binop_result, is_quat_product
from kernel_synth.grammar.stats import constructs
from kernel_synth.grammar.types import F32, QUAT, VEC4

HEAD = "@kernel\ndef k(x: In[array[quat]], v: In[array[vec3]], y: Out[array[quat]], r: Out[array[vec3]]):\n    i = tid()\n"
I, J, K = (np.eye(4, dtype=np.float32)[n] for n in range(3))  # the unit quaternions i, j, k


def _run(body: str, q=I, v=(1.0, 0.0, 0.0)) -> dict:
    program = parse(HEAD + body)
    inputs = {"x": np.array([q], np.float32), "v": np.array([v], np.float32), "y": np.zeros((1, 4), np.float32), "r": np.zeros((1, 3), np.float32)}
    return run_reference(program, None, inputs, 1)


def test_types():
    assert binop_result("*", QUAT, QUAT) == QUAT and is_quat_product("*", QUAT, QUAT)
    assert binop_result("*", F32, QUAT) == QUAT and not is_quat_product("*", F32, QUAT)
    assert binop_result("*", VEC4, VEC4) is None  # vectors have no product
    assert binop_result("+", QUAT, VEC4) is None  # a quaternion is not a vec4


def test_reference_values_computed_by_hand():
    # i j = k, j i = -k; i i = -1
    out = _run("    y[i] = x[i] * quat(0.0, 1.0, 0.0, 0.0)\n    r[i] = v[i]\n")
    assert out["y"][0].tolist() == K.tolist()
    out = _run("    y[i] = quat(0.0, 1.0, 0.0, 0.0) * x[i] + x[i] * x[i]\n    r[i] = v[i]\n")
    assert out["y"][0].tolist() == [0, 0, -1, -1]
    # a quarter turn about z takes the x axis to the y axis, and back by the inverse
    turn = "quat_from_axis_angle(vec3(0.0, 0.0, 1.0), 1.5707964)"
    out = _run(f"    q = {turn}\n    y[i] = quat_inverse(q)\n    r[i] = quat_rotate(q, v[i]) * 10.0 + quat_rotate_inv(q, v[i])\n")
    s = math.sqrt(0.5)
    assert np.allclose(out["y"][0], [0, 0, -s, s], atol=1e-6)
    assert np.allclose(out["r"][0], [0, 10, 0] + np.array([0, -1, 0]), atol=1e-5)
    # its matrix has the rotated axes as columns: x -> y, y -> -x, z -> z
    program = parse(HEAD.replace("r: Out[array[vec3]]", "r: Out[array[vec3]], m: Out[array[mat33]]") + f"    y[i] = x[i]\n    r[i] = v[i]\n    m[i] = quat_to_matrix({turn})\n")
    inputs = {"x": I[None].copy(), "v": np.zeros((1, 3), np.float32), "y": np.zeros((1, 4), np.float32), "r": np.zeros((1, 3), np.float32), "m": np.zeros((1, 3, 3), np.float32)}
    assert np.allclose(run_reference(program, None, inputs, 1)["m"][0], [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-6)


def test_normalize_takes_the_zero_quaternion_to_the_identity_and_the_zero_vector_to_zero():
    out = _run("    y[i] = normalize(x[i] * 0.0) + quat_identity() + normalize(x[i] * 2.0)\n    r[i] = normalize(v[i] * 0.0)\n")
    assert out["y"][0].tolist() == [1, 0, 0, 2]
    assert out["r"][0].tolist() == [0, 0, 0]


def test_components_by_name_and_index_are_read_and_stored():
    out = _run("    q = x[i]\n    q.w = 3.0\n    q[1] = q.x + q[3]\n    y[i] = q\n    y[i].z = 5.0\n    r[i] = v[i]\n", q=(2, 0, 0, 0))
    assert out["y"][0].tolist() == [2, 5, 5, 3]


@pytest.mark.parametrize(
    "body, column",
    [
        ("    y[i] = abs(x[i])\n", 12),  # Warp has no abs of a quaternion
        ("    r[i] = quat_rotate(x[i], vec2(1.0, 0.0))\n", 12),  # it rotates a vec3
        ("    y[i] = x[i] * vec4(1.0, 0.0, 0.0, 0.0)\n", 12),  # no product with a vec4
        ("    y[i] = 2.0 / (x[i] + quat_identity()) + vec4(1.0, 1.0, 1.0, 1.0)\n", 12),
    ],
)
def test_what_warp_does_not_define_is_a_located_error(body, column):
    with pytest.raises(CheckError) as error:
        parse(HEAD + body + "    r[i] = v[i]\n")
    assert (error.value.line, error.value.column) == (4, column), str(error.value)


def test_a_program_may_not_take_the_jax_preludes_names():
    with pytest.raises(CheckError) as error:
        parse(HEAD + "    quat_mul = x[i]\n    y[i] = quat_mul\n    r[i] = v[i]\n")
    assert error.value.line == 4 and "JAX" in str(error.value)


def test_jax_renders_the_hamilton_product_and_the_quaternion_normalize():
    source = render_jax(parse(HEAD + "    q = x[i]\n    q *= x[i]\n    y[i] = normalize(q * x[i]) + normalize(x[i] * 2.0)\n    r[i] = normalize(v[i])\n"))
    assert "q = quat_mul(q, x[i])\n" in source
    assert "normalize_quat(quat_mul(q, x[i]))" in source and "normalize(v[i])" in source
    assert "def quat_mul(a, b):" in source and "def normalize_quat(q):" in source


def test_old_releases_get_spellings_they_accept():
    program = parse(HEAD + "    q = -x[i]\n    y[i] = q * q.x\n    r[i] = v[i]\n")
    old, new = render_warp(program, release=WarpRelease("1.7.0")), render_warp(program, release=WarpRelease("1.8.0"))
    assert "q = x[i] * -1.0\n" in old and "y[i] = q * q[0]\n" in old
    assert "q = -x[i]\n" in new and "y[i] = q * q.x\n" in new
    store = parse(HEAD + "    q = x[i]\n    q.x = 1.0\n    y[i] = q\n    r[i] = v[i]\n")
    assert "q[0] = 1.0\n" in render_warp(store, release=WarpRelease("1.4.1"))
    with pytest.raises(Unsupported, match="1.3.3"):
        render_warp(store, release=WarpRelease("1.2.0"))


def test_printing_round_trips_and_constructs_see_products_and_rotations():
    program = parse(HEAD + "    y[i] = x[i] * quat_identity()\n    r[i] = quat_rotate(x[i], v[i])\n")
    assert parse(print_program(program)) == program
    assert {"quaternion", "quat-product", "quat-rotate"} <= constructs(program)
    assert "quat-product" not in constructs(parse(HEAD + "    y[i] = x[i] * 2.0\n    r[i] = v[i]\n"))
