"""The reference interpreter: hand-computed golden programs for each rule of
grammar/SEMANTICS.md, float32 staying float32, and a property test that it runs
every generated program deterministically."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from kernel_synth.backends.inputs import make_inputs, written_arrays
from kernel_synth.backends.reference import ReferenceFailure, run_reference
from kernel_synth.grammar import parse
from kernel_synth.grammar.strategies import programs
from kernel_synth.grammar.types import ArrayType

f32, f64, i32, i64, u32 = np.float32, np.float64, np.int32, np.int64, np.uint32


def run(src: str, inputs: dict, n: int, kernel: str | None = None) -> dict[str, np.ndarray]:
    program = parse(src)
    name = kernel or program.kernels[0].name
    params = next(k for k in program.kernels if k.name == name).params
    full = dict(inputs)
    # Out and Acc arrays start at zero, as in backends.inputs
    for p in params:
        if p.name not in full and isinstance(p.ty, ArrayType):
            shape = (n,) + ((p.ty.elem.length,) if p.ty.elem.is_vector else (3, 3) if p.ty.elem.is_matrix else ())
            full[p.name] = np.zeros(shape, dtype=p.ty.elem.name if p.ty.elem.is_numeric else np.float32)
    return run_reference(program, kernel, full, n)


def a(values, dtype) -> np.ndarray:
    return np.array(values, dtype=dtype)


# ------------------------------------------------------------------ arithmetic


def test_floor_division_and_truncated_remainder_on_ints():
    src = """
@kernel
def ints(x: In[array[int32]], y: In[array[int32]], q: Out[array[int32]], r: Out[array[int32]]):
    i = tid()
    q[i] = x[i] // y[i]
    r[i] = x[i] % y[i]
"""
    out = run(src, {"x": a([-7, 7, -7, 7, 6], i32), "y": a([2, -2, -2, 2, 3], i32)}, 5)
    assert out["q"].tolist() == [-4, -4, 3, 3, 2]
    assert out["r"].tolist() == [-1, 1, -1, 1, 0]
    assert out["q"].dtype == i32 and out["r"].dtype == i32


def test_float_remainder_is_fmod():
    src = """
@kernel
def fm(x: In[array[float32]], y: In[array[float32]], r: Out[array[float32]]):
    i = tid()
    r[i] = x[i] % y[i]
"""
    out = run(src, {"x": a([-7.5, 7.5, -7.5, 5.25], f32), "y": a([2.0, -2.0, -2.0, 5.25], f32)}, 4)
    assert out["r"].tolist() == [-1.5, 1.5, -1.5, 0.0]


def test_float_floor_division_is_floor_of_the_rounded_quotient():
    src = """
@kernel
def fd(x: In[array[float32]], y: In[array[float32]], d: In[array[float64]], e: In[array[float64]],
       q: Out[array[float32]], r: Out[array[float64]]):
    i = tid()
    q[i] = x[i] // y[i]
    r[i] = d[i] // e[i]
"""
    xs, ys = [7.0, -7.0, 1.0, 7.5, -0.5, 6.0], [2.0, 2.0, 0.1, -2.0, 4.0, 3.0]
    out = run(src, {"x": a(xs, f32), "y": a(ys, f32), "d": a(xs, f64), "e": a(ys, f64)}, 6)
    # float32(1.0) / float32(0.1) rounds to 10.0 exactly: floor gives 10,
    # where Python's and NumPy's divmod-based 1.0 // 0.1 give 9
    assert out["q"].tolist() == [3.0, -4.0, 10.0, -4.0, -1.0, 2.0]
    assert np.floor_divide(f32(1.0), f32(0.1)) == 9.0
    assert out["q"].dtype == f32 and out["r"].dtype == f64
    # float64: 1.0 / 0.1 is 10.0 exactly too (NumPy's // gives 9 there as well)
    assert out["r"].tolist() == [3.0, -4.0, 10.0, -4.0, -1.0, 2.0]


def test_float_division_by_zero_is_ieee():
    src = """
@kernel
def z(x: In[array[float32]], y: In[array[float32]], q: Out[array[float32]], f: Out[array[float32]],
      m: Out[array[float32]], t: Out[array[float32]]):
    i = tid()
    q[i] = x[i] / y[i]
    f[i] = x[i] // y[i]
    m[i] = x[i] % y[i]
    t[i] = floor(x[i] / 0.0) + ceil(x[i] // 0.0) * abs(-1.0 // 0.0)
"""
    out = run(src, {"x": a([3.0, -3.0, 0.0, 5.0], f32), "y": a([0.0, 0.0, 0.0, 2.0], f32)}, 4)
    inf, nan = np.inf, np.nan
    np.testing.assert_array_equal(out["q"], a([inf, -inf, nan, 2.5], f32))
    np.testing.assert_array_equal(out["f"], a([inf, -inf, nan, 2.0], f32))
    np.testing.assert_array_equal(out["m"], a([nan, nan, nan, 1.0], f32))
    # floor(+-inf) + ceil(+-inf) * abs(-inf) = +-inf; floor(nan) is nan
    np.testing.assert_array_equal(out["t"], a([inf, -inf, nan, inf], f32))


def test_non_finite_values_reach_only_what_every_backend_defines():
    head = """
@kernel
def k(x: In[array[float32]], o: Out[array[float32]], c: Acc[array[float32]], j: Out[array[int32]]):
    i = tid()
    t = x[i] / float32(i % 2)
"""
    inputs = {"x": a([0.0, 1.0], f32)}  # thread 0: 0/0 = nan; thread 1: 1/1
    inf_inputs = {"x": a([2.0, 1.0], f32)}  # thread 0: 2/0 = inf
    # defined: comparisons, branches, abs/floor/ceil, min/max/clamp/sign of an infinity
    out = run(head + "    if t < 1.5 or t != t:\n        o[i] = abs(t) + 1.0\n", inputs, 2)
    np.testing.assert_array_equal(out["o"], a([np.nan, 2.0], f32))
    out = run(head + "    o[i] = min(t, 3.0) + clamp(t, -1.0, 1.0) + sign(t)\n", inf_inputs, 2)
    np.testing.assert_array_equal(out["o"], a([5.0, 3.0], f32))
    # undefined: NaN into min, max, clamp, sign or atomic min/max; any
    # non-finite value into another builtin or a cast to int
    for body, values in [
        ("    o[i] = min(t, 3.0)\n", inputs),
        ("    o[i] = sign(t)\n", inputs),
        ("    atomic_max(c, 0, t)\n", inputs),
        ("    atomic_max(c, 0, t)\n", inf_inputs),
        ("    o[i] = sin(t)\n", inf_inputs),
        ("    o[i] = sqrt(abs(t))\n", inf_inputs),
        ("    j[i] = int32(clamp(t, -8.0, 8.0))\n", inputs),
        ("    j[i] = int32(t)\n", inf_inputs),
    ]:
        with pytest.raises(ReferenceFailure) as info:
            run(head + body, values, 2)
        assert info.value.rule == "undefined", body
    # the element an atomic min meets is NaN (a campaign on 1.14.0: Warp
    # keeps the value, jnp.minimum the NaN)
    met = """
@kernel
def k(x: In[array[float32]], io: InOut[array[float32]]):
    i = tid()
    v = atomic_add(io, i, x[i] % 0.0)
    w = atomic_min(io, i, 1.0)
"""
    with pytest.raises(ReferenceFailure) as info:
        run(met, {"x": a([1.0, 2.0], f32), "io": a([0.0, 0.0], f32)}, 2)
    assert info.value.rule == "undefined" and "atomic_min" in str(info.value)
    # after thread 0's division by zero, builtins of finite values stay defined
    out = run(head + "    o[i] = sin(t) + min(t, 3.0) if i == 1 else 0.0\n", inputs, 2)
    assert out["o"].tolist() == [0.0, np.float32(np.sin(1.0) + 1.0)]



def test_an_overflow_lets_non_finite_values_flow_as_a_zero_divisor_does():
    """A campaign on 1.19.0 (seed 405) stored a NaN that reached an atomic_max
    with no zero divisor before it: a product overflowed (`quat_rotate` by a
    quaternion of 1e33: NaN in the reference, finite on Warp). Arithmetic that
    overflows is IEEE's on every backend and starts the watch; a builtin whose
    result overflows from finite arguments is the implementation's own."""
    overflowing = """
@kernel
def k(x: In[array[float32]], io: InOut[array[float32]], o: Out[array[float32]]):
    i = tid()
    v = x[i] * 1.0e30
    v = v * 1.0e30
    o[i] = v - v
"""
    inputs = {"x": a([1.0, -2.0], f32), "io": a([0.0, 0.0], f32)}
    assert np.isnan(run(overflowing, inputs, 2)["o"]).all()  # inf - inf: IEEE's NaN, defined
    with pytest.raises(ReferenceFailure) as info:
        run(overflowing.replace("    o[i] = v - v\n", "    w = atomic_max(io, i, v - v)\n"), inputs, 2)
    assert info.value.rule == "undefined" and "atomic_max" in str(info.value)
    rotated = """
@kernel
def k(x: In[array[vec3]], io: InOut[array[float32]]):
    i = tid()
    w = atomic_max(io, i, dot(vec3(0.0, 1.0, 0.0), quat_rotate(quat(0.0, 0.0, 0.0, io[i]), x[i])))
"""
    values = {"x": a([[1.25, 2.5, 1.25]], f32), "io": a([6.6e33], f32)}
    with pytest.raises(ReferenceFailure) as info:
        run(rotated, values, 1)
    assert info.value.rule == "undefined" and "quat_rotate of finite arguments" in str(info.value)
    values["io"] = a([2.0], f32)  # no overflow: defined; q = (0, 0, 0, w) scales v by 2w^2 - 1
    assert run(rotated, values, 1)["io"].tolist() == [2.5 * (2 * 2.0**2 - 1)]


def test_zero_divisor_of_a_subnormal_is_undefined():
    src = """
@kernel
def k(x: In[array[float32]], o: Out[array[float32]]):
    i = tid()
    o[i] = x[i] * 0.0001 * 0.0001 * 0.0001 * 0.0001 * 0.0001 * 0.0001 * 0.0001 * 0.0001 * 0.001 / 0.0
"""
    assert run(src, {"x": a([1e5], f32)}, 1)["o"].tolist() == [np.inf]  # 1e-30 / 0
    with pytest.raises(ReferenceFailure) as info:
        run(src, {"x": a([1e-5], f32)}, 1)  # 1e-40, subnormal: XLA flushes it to zero first
    assert info.value.rule == "undefined"


def test_casts_truncate_toward_zero_and_wrap():
    src = """
@kernel
def casts(x: In[array[float32]], j: In[array[int32]], big: In[array[int64]],
          t: Out[array[int32]], u: Out[array[uint32]], w: Out[array[int32]], f: Out[array[float32]]):
    i = tid()
    t[i] = int32(x[i])
    u[i] = uint32(j[i])
    w[i] = int32(big[i])
    f[i] = float32(big[i])
"""
    inputs = {
        "x": a([-2.75, 2.75, -0.5, 3.0], f32),
        "j": a([-1, 0, 5, -2], i32),
        "big": a([2**32 + 7, -(2**31) - 1, 16777217, -3], i64),
    }
    out = run(src, inputs, 4)
    assert out["t"].tolist() == [-2, 2, 0, 3]
    assert out["u"].tolist() == [4294967295, 0, 5, 4294967294]
    assert out["w"].tolist() == [7, 2**31 - 1, 16777217, -3]  # int -> int wraps
    assert out["f"].tolist() == [4294967296.0, -2147483648.0, 16777216.0, -3.0]  # rounds to nearest


def test_uint32_wraps():
    src = """
@kernel
def wrap(o: Out[array[uint32]], p: Out[array[uint32]]):
    i = tid()
    z = uint32(0)
    one = uint32(1)
    o[i] = z - one
    m = z - one
    p[i] = m + uint32(2) + uint32(i)
"""
    out = run(src, {}, 2)
    assert out["o"].tolist() == [4294967295, 4294967295]
    assert out["p"].tolist() == [1, 2]


def test_signed_overflow_and_int_division_by_zero_are_failures_not_values():
    src = """
@kernel
def ov(x: In[array[int32]], o: Out[array[int32]]):
    i = tid()
    o[i] = x[i] * x[i]
"""
    assert run(src, {"x": a([46340], i32)}, 1)["o"].tolist() == [46340 * 46340]
    with pytest.raises(ReferenceFailure) as info:
        run(src, {"x": a([46341], i32)}, 1)
    assert info.value.rule == "undefined"
    div = """
@kernel
def dz(x: In[array[int32]], o: Out[array[int32]]):
    i = tid()
    o[i] = 7 % x[i]
"""
    with pytest.raises(ReferenceFailure):
        run(div, {"x": a([0], i32)}, 1)


def test_out_of_range_float_to_int_cast_is_a_failure():
    src = """
@kernel
def bad(x: In[array[float32]], o: Out[array[int32]]):
    i = tid()
    o[i] = int32(x[i] * 1000000000.0)
"""
    assert run(src, {"x": a([2.0], f32)}, 1)["o"].tolist() == [2000000000]
    with pytest.raises(ReferenceFailure):
        run(src, {"x": a([3.0], f32)}, 1)


def test_sign_and_normalize_of_zero():
    src = """
@kernel
def zero(x: In[array[float32]], k: In[array[int32]], s: Out[array[float32]], si: Out[array[int32]],
         nv: Out[array[vec3]]):
    i = tid()
    s[i] = sign(x[i])
    si[i] = sign(k[i])
    nv[i] = normalize(vec3(x[i] * 3.0, 0.0, x[i] * 4.0))
"""
    out = run(src, {"x": a([0.0, -0.0, -2.0, 1.0], f32), "k": a([0, -3, 4, 0], i32)}, 4)
    assert out["s"].tolist() == [1.0, 1.0, -1.0, 1.0]
    assert out["si"].tolist() == [1, -1, 1, 1]
    assert out["si"].dtype == i32
    assert out["nv"][0].tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(out["nv"][2], [-0.6, 0.0, -0.8], rtol=1e-6)
    np.testing.assert_allclose(out["nv"][3], [0.6, 0.0, 0.8], rtol=1e-6)


def test_clamp_min_max_keep_the_operand_type():
    src = """
@kernel
def cl(k: In[array[uint32]], x: In[array[float64]], o: Out[array[uint32]], d: Out[array[float64]]):
    i = tid()
    o[i] = clamp(k[i], uint32(3), uint32(9)) + min(k[i], uint32(1))
    d[i] = max(x[i], float64(0.5))
"""
    out = run(src, {"k": a([0, 5, 20], u32), "x": a([0.25, 1.5, -3.0], f64)}, 3)
    assert out["o"].tolist() == [3, 6, 10]
    assert out["d"].tolist() == [0.5, 1.5, 0.5]


# ------------------------------------------------------------------ conditions


def test_and_or_not_truth_tables():
    src = """
@kernel
def logic(x: In[array[int32]], y: In[array[int32]], o: Out[array[int32]]):
    i = tid()
    t = 0
    if x[i] > 0 and y[i] > 0:
        t += 1
    if x[i] > 0 or y[i] > 0:
        t += 10
    if not x[i] > 0:
        t += 100
    o[i] = t
"""
    out = run(src, {"x": a([0, 0, 1, 1], i32), "y": a([0, 1, 0, 1], i32)}, 4)
    assert out["o"].tolist() == [100, 110, 10, 11]


def test_and_or_ternary_evaluate_only_what_they_must():
    # An int division by zero is a ReferenceFailure, so these run only if the
    # right operand (or the branch not taken) is never evaluated.
    src = """
@kernel
def lazy(x: In[array[int32]], o: Out[array[int32]], p: Out[array[int32]], q: Out[array[int32]]):
    i = tid()
    o[i] = 1 if x[i] != 0 and 12 // x[i] > 2 else 0
    p[i] = 1 if x[i] == 0 or 12 // x[i] > 2 else 0
    q[i] = 0 if x[i] == 0 else 12 // x[i]
"""
    out = run(src, {"x": a([0, 3, 6, -4], i32)}, 4)
    assert out["o"].tolist() == [0, 1, 0, 0]
    assert out["p"].tolist() == [1, 1, 0, 0]
    assert out["q"].tolist() == [0, 4, 2, -3]
    eager = src.replace("x[i] != 0 and ", "")
    with pytest.raises(ReferenceFailure):
        run(eager, {"x": a([0], i32)}, 1)


def test_elif_chain():
    src = """
@kernel
def chain(x: In[array[float32]], o: Out[array[int32]]):
    i = tid()
    if x[i] > 2.0:
        o[i] = 1
    elif x[i] > 1.0:
        o[i] = 2
    elif x[i] > 0.0:
        o[i] = 3
    else:
        o[i] = 4
"""
    out = run(src, {"x": a([3.0, 1.5, 0.5, 0.0, -1.0, 2.0], f32)}, 6)
    assert out["o"].tolist() == [1, 2, 3, 4, 4, 2]


# ------------------------------------------------------------------ vectors


def test_vector_assignment_copies():
    src = """
@kernel
def alias(p: In[array[vec3]], q: InOut[array[vec3]], o: Out[array[float32]], o2: Out[array[float32]],
          o3: Out[array[float32]]):
    i = tid()
    v = p[i]
    u = v
    u.x = 5.0
    u[1] += 1.0
    o[i] = v.x + v.y
    o2[i] = u.x + u.y
    w = q[i]
    q[i] = vec3(9.0, 9.0, 9.0)
    o3[i] = w.x
"""
    inputs = {"p": a([[1.0, 2.0, 3.0]], f32), "q": a([[7.0, 8.0, 9.0]], f32)}
    out = run(src, inputs, 1)
    assert out["o"].tolist() == [3.0]
    assert out["o2"].tolist() == [8.0]
    assert out["o3"].tolist() == [7.0]
    assert out["p"].tolist() == [[1.0, 2.0, 3.0]]
    assert inputs["q"].tolist() == [[7.0, 8.0, 9.0]]  # the caller's inputs are not touched
    assert out["q"].tolist() == [[9.0, 9.0, 9.0]]


def test_mat33_is_row_major_and_matvec():
    src = """
@kernel
def mats(o: Out[array[vec3]], m: Out[array[mat33]], d: Out[array[float32]], c: Out[array[vec3]]):
    i = tid()
    a = mat33(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)
    o[i] = a @ vec3(1.0, 0.0, float32(i))
    m[i] = a * 2.0 - a
    d[i] = dot(vec3(1.0, 2.0, 3.0), vec3(4.0, 5.0, 6.0)) + length(vec2(3.0, 4.0))
    c[i] = cross(vec3(1.0, 0.0, 0.0), vec3(0.0, 1.0, 0.0)) * 2.0 + abs(vec3(-1.0, 0.0, 2.0))
"""
    out = run(src, {}, 2)
    assert out["o"].tolist() == [[1.0, 4.0, 7.0], [4.0, 10.0, 16.0]]
    assert out["m"][1].tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]
    assert out["d"].tolist() == [37.0, 37.0]
    assert out["c"][0].tolist() == [1.0, 0.0, 4.0]
    assert all(v.dtype == f32 for v in out.values())


# ------------------------------------------------------------------ loops


def test_for_with_break_and_continue():
    src = """
@kernel
def loops(n: int32, o: Out[array[int32]], p: Out[array[int32]]):
    i = tid()
    t = 0
    for k in range(10):
        if k == 2:
            continue
        if k == 6:
            break
        t += k
    o[i] = t
    s = 0
    for a in range(clamp(n + i, 0, 8)):
        for b in range(3):
            if b == 1:
                break
            s += 1
    p[i] = s
"""
    out = run(src, {"n": i32(5)}, 5)
    assert out["o"].tolist() == [13] * 5
    assert out["p"].tolist() == [5, 6, 7, 8, 8]


def test_while_with_condition_checks_the_counter_first():
    src = """
@kernel
def wh(o: Out[array[int32]], c: Out[array[int32]], m: Out[array[int32]], e: Out[array[int32]]):
    i = tid()
    s = 0
    w = 0
    while w < 10 and s < 7:
        w += 1
        s += w
    o[i] = s
    c[i] = w
    r = 0
    d = 0
    while d < 5:
        d += 1
        if d % 2 == 0:
            continue
        r += d
    m[i] = r + 100 * d
    z = 0
    while z < 3 and i >= 0:
        z += 1
    e[i] = z
"""
    out = run(src, {}, 1)
    assert out["o"].tolist() == [10]
    assert out["c"].tolist() == [4]
    assert out["m"].tolist() == [509]
    assert out["e"].tolist() == [3]


# ------------------------------------------------------------------ helpers and atomics


def test_helper_atomics_land_in_the_callers_array():
    src = """
@func
def bump(acc: Acc[array[float32]], v: float32) -> float32:
    atomic_add(acc, 0, v)
    return v * 2.0

@func
def twice(acc: Acc[array[float32]], v: float32) -> float32:
    bump(acc, v)
    return bump(acc, 1.0)

@kernel
def calls(x: In[array[float32]], tot: Acc[array[float32]], o: Out[array[float32]]):
    i = tid()
    r = bump(tot, x[i])
    bump(tot, 1.0)
    q = twice(tot, 0.5)
    o[i] = r + q
"""
    out = run(src, {"x": a([1.0, 2.0, 3.0, 4.0], f32)}, 4)
    # per thread: x + 1 + 0.5 + 1 added at index 0
    assert out["tot"].tolist() == [10.0 + 4 * 2.5, 0.0, 0.0, 0.0]
    assert out["o"].tolist() == [4.0, 6.0, 8.0, 10.0]


def test_atomics_over_all_threads():
    src = """
@kernel
def atom(x: In[array[float32]], k: In[array[int32]], s: Acc[array[float32]], mn: Acc[array[int32]],
         mx: Acc[array[float32]], cnt: Acc[array[int32]], vs: Acc[array[vec3]], per: Acc[array[float32]]):
    i = tid()
    atomic_add(s, 0, x[i])
    atomic_sub(s, clamp(1, 0, len(s) - 1), x[i])
    atomic_min(mn, 0, k[i])
    atomic_max(mx, clamp(k[i], 0, len(mx) - 1), x[i])
    atomic_add(cnt, 0, 1)
    atomic_add(vs, 0, vec3(x[i], 1.0, 0.0))
    atomic_sub(vs, i, vec3(0.0, 0.0, x[i]))
    atomic_add(per, i, x[i])
"""
    x = a([1.5, -2.0, 4.0, 0.5], f32)
    out = run(src, {"x": x, "k": a([3, -5, 2, 9], i32)}, 4)
    assert out["s"].tolist() == [4.0, -4.0, 0.0, 0.0]
    assert out["mn"].tolist() == [-5, 0, 0, 0]  # Acc arrays start at zero
    assert out["mx"].tolist() == [0.0, 0.0, 4.0, 1.5]
    assert out["cnt"].tolist() == [4, 0, 0, 0]
    assert out["vs"].tolist() == [[4.0, 4.0, -1.5], [0.0, 0.0, 2.0], [0.0, 0.0, -4.0], [0.0, 0.0, -0.5]]
    assert out["per"].tolist() == x.tolist()


def test_inout_augmented_assignment():
    src = """
@kernel
def aug(x: In[array[float32]], y: InOut[array[float32]], z: InOut[array[int64]], v: InOut[array[vec2]]):
    i = tid()
    y[i] += x[i]
    y[i] *= 2.0
    y[i] -= 1.0
    y[i] /= 4.0
    z[i] -= int64(3)
    v[i] += vec2(1.0, 2.0)
    v[i] *= 2.0
"""
    inputs = {
        "x": a([1.0, 2.0], f32),
        "y": a([0.5, -1.0], f32),
        "z": a([10, -10], i64),
        "v": a([[0.0, 0.0], [1.0, -1.0]], f32),
    }
    out = run(src, inputs, 2)
    assert out["y"].tolist() == [0.5, 0.25]
    assert out["z"].tolist() == [7, -13]
    assert out["v"].tolist() == [[2.0, 4.0], [4.0, 2.0]]
    assert inputs["y"].tolist() == [0.5, -1.0]


def test_kernel_choice_and_bad_inputs():
    src = """
@kernel
def first(o: Out[array[int32]]):
    i = tid()
    o[i] = 1

@kernel
def second(o: Out[array[int32]]):
    i = tid()
    o[i] = len(o) + i
"""
    assert run(src, {}, 3)["o"].tolist() == [1, 1, 1]
    assert run(src, {}, 3, kernel="second")["o"].tolist() == [3, 4, 5]
    program = parse(src)
    with pytest.raises(ReferenceFailure):
        run_reference(program, "third", {"o": np.zeros(3, i32)}, 3)
    with pytest.raises(ReferenceFailure):
        run_reference(program, None, {"o": np.zeros(3, f32)}, 3)  # wrong dtype
    with pytest.raises(ReferenceFailure):
        run_reference(program, None, {"o": np.zeros(2, i32)}, 3)  # wrong length


# ------------------------------------------------------------------ float32 stays float32


def test_float32_arithmetic_stays_float32():
    src = """
@kernel
def prec(x: In[array[float32]], o: Out[array[float32]], p: Out[array[float32]], q: Out[array[float32]],
         d: Out[array[float64]]):
    i = tid()
    o[i] = 0.1 + 0.2
    t = 1.0 + 0.00000001
    p[i] = t - 1.0
    q[i] = sin(x[i]) * 0.1 + 16777216.0 + 1.0
    d[i] = float64(0.1) + float64(0.2)
"""
    x = a([0.5], f32)
    out = run(src, {"x": x}, 1)
    assert out["o"].dtype == f32
    assert out["o"][0] == f32(0.1) + f32(0.2)
    assert out["p"][0] == 0.0  # 1 + 1e-8 is 1 in float32 (not in float64)
    assert out["q"][0] == np.sin(x[0]) * f32(0.1) + f32(16777216.0) + f32(1.0)
    assert out["q"][0] == f32(16777216.0)
    assert out["d"][0] == 0.1 + 0.2 and out["d"].dtype == f64


# ------------------------------------------------------------------ generated programs


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(programs())
def test_reference_runs_every_generated_program_deterministically(program):
    """Every generated program runs, or is undefined only where a float
    divisor was zero and its infinity or NaN reached an operation the
    backends define differently (SEMANTICS.md, Division by zero)."""
    for kernel in program.kernels:
        inputs = make_inputs(kernel, n=8)
        try:
            first = run_reference(program, kernel.name, inputs, 8)
        except ReferenceFailure as exc:
            assert exc.rule == "undefined" and "division by zero" in str(exc), str(exc)
            continue
        second = run_reference(program, kernel.name, inputs, 8)
        assert set(written_arrays(kernel)) <= set(first)
        for name, value in first.items():
            assert value.shape == inputs[name].shape and value.dtype == inputs[name].dtype
            assert value.tobytes() == second[name].tobytes()  # NaN payloads included
            np.testing.assert_array_equal(value, second[name])  # NaN == NaN here


def test_float32_transcendentals_are_correctly_rounded():
    """Campaign finding (warp-cpu, seed 1, index 4491), a bug of ours: NumPy's
    float32 exp(10) is one ulp above the correctly rounded 22026.465 that Warp
    returns, and tan amplified the ulp into a 0.4% forward "mismatch"."""
    import math

    from kernel_synth.grammar import parse
    from kernel_synth.backends.reference import run_reference

    program = parse("@kernel\ndef k0(out0: Out[array[float32]]):\n    i = tid()\n    out0[i] = tan(exp(10.0))\n")
    out = run_reference(program, None, {"out0": np.zeros(2, np.float32)}, 2)["out0"]
    exact = np.float32(math.exp(10.0))  # correctly rounded
    assert out[0] == np.float32(math.tan(float(exact)))


# Hand-computed: x = [3, 0.5, -2, 1.5, 0, 0, 0, 0]. Slot 0 counts the `and`'s
# right operand (x > 0: threads 0, 1, 3), slot 1 the `or`'s (x >= -1 and the
# first condition failed: threads 1, 4..7), slots 2 and 3 the ternary's arms
# (thread 0; the rest), slots 4 and 5 where()/select() arguments (every
# thread), slot 6 the while condition (3, 2, 1, 3 and 1 each: never once the
# counter reached 3).
EFFECTS_X = np.array([3.0, 0.5, -2.0, 1.5, 0.0, 0.0, 0.0, 0.0], np.float32)
EFFECTS_HITS = np.array([3, 5, 1, 7, 8, 8, 13, 0], np.int32)
EFFECTS_O = np.array([8.0, 3.0, 4.0, 5.0, 2.0, 2.0, 2.0, 2.0], np.float32)


def test_side_effects_run_exactly_where_the_language_evaluates():
    from pathlib import Path

    src = (Path(__file__).parent / "programs" / "valid" / "effects_in_expressions.kernel").read_text()
    out = run(src, {"x": EFFECTS_X}, 8)
    np.testing.assert_array_equal(out["hits"], EFFECTS_HITS)
    np.testing.assert_array_equal(out["o"], EFFECTS_O)


def test_spellings_compute_what_their_plain_forms_do():
    from pathlib import Path

    src = (Path(__file__).parent / "programs" / "valid" / "spellings.kernel").read_text()
    out = run(src, {"x": a([1.5, -1.0], np.float32), "v": a([[1.0, -3.0, 0.0], [0.0, 0.0, 0.0]], np.float32)}, 2)
    # x = 1.5: t = 1.5, then select(true) gives 2.0: t = 3.5, k = int(7.0) + 1 = 8
    # x = -1: t = 0.5, then select(false) gives 1.0: t = 1.5, k = int(3.0) + 1 = 4
    np.testing.assert_array_equal(out["n"], a([8, 4], np.int32))
    np.testing.assert_array_equal(out["o"], a([11.5, 5.5], np.float32))
    np.testing.assert_array_equal(out["w"], a([[1.0, 0.5, 2.0], [2.0, 2.0, 2.0]], np.float32))


def test_components_of_elements_and_at_computed_indexes():
    from pathlib import Path

    src = (Path(__file__).parent / "programs" / "valid" / "components.kernel").read_text()
    z = a([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 5.0]], np.float32)
    out = run(src, {"x": a([1.5, -1.0], np.float32), "z": z, "n": np.int32(1)}, 2)
    # y: only components 1 and 2 written, component 0 keeps its zero
    np.testing.assert_array_equal(out["y"], a([[0.0, 1.5, 3.0], [0.0, -1.0, -2.0]], np.float32))
    # thread 0: t = v[1] = 2, v[1] = 20 -> v = (1, 20, 3) + (1.5, 1.5, 1) = (2.5, 21.5, 4)
    # thread 1: t = v[2] = 3, v[1] = 30 -> v = (1, 30, 3) + (-1, -1, 1) = (0, 29, 4)
    # z[i].w += v.x, then z[i][1] = 2
    np.testing.assert_array_equal(out["z"], a([[1.0, 2.0, 1.0, 3.5], [0.0, 2.0, 0.0, 5.0]], np.float32))


def test_guarded_reads_read_only_where_their_guard_holds():
    from pathlib import Path

    src = (Path(__file__).parent / "programs" / "valid" / "guards.kernel").read_text()
    x = a([0.25, 1.0, 2.0], np.float32)
    out = run(src, {"x": x, "n": np.int32(1)}, 3)
    # j = 1 + i: threads 0 and 1 read x[1] = 1.0 and x[2] = 2.0 (both > 0.5, added
    # again); thread 2 has j = 3, out of bounds: 0. Each adds x[0..2] = 3.25.
    np.testing.assert_array_equal(out["o"], a([2.0 + 3.25, 4.0 + 3.25, 3.25], np.float32))
