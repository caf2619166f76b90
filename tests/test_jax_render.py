"""The JAX renderer: golden output on hand-written programs of every construct,
hand-computed results of running them, source that Python parses and libcst
round-trips for generated programs, and agreement with the reference
interpreter on generated programs (when the reference is importable).

Regenerate the goldens with `UPDATE_GOLDEN=1 pytest tests/test_jax_render.py`
and review the diff."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import libcst as cst
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from kernel_synth.backends.errors import RenderError
from kernel_synth.backends.inputs import make_inputs, written_arrays
from kernel_synth.backends.jax_render import _Renderer, render_jax
from kernel_synth.backends.jax_run import run_jax
from kernel_synth.grammar import parse, print_program
from kernel_synth.grammar.strategies import programs

GOLDEN = Path(__file__).parent / "golden" / "jax"
f32, f64, i32, i64, u32 = np.float32, np.float64, np.int32, np.int64, np.uint32

PROGRAMS = {
    "roles": """
# Helpers (one reaching two Acc arrays, one called with the same Acc array
# twice), every array role, atomics add/sub/min/max, casts both ways, `//` and
# `%` on negative ints.
@func
def tally(hits: Acc[array[int32]], low: Acc[array[float32]], k: int32, v: float32) -> int32:
    atomic_add(hits, 0, 1)
    atomic_min(low, clamp(k, 0, len(low) - 1), v)
    return k * 2

@func
def twice(a: Acc[array[float32]], b: Acc[array[float32]], v: float32) -> float32:
    atomic_add(a, 0, v)
    atomic_add(b, 0, v)
    return v

@func
def half(v: float32) -> float32:
    return v * 0.5

@kernel
def roles(x: In[array[float32]], q: In[array[int32]], o: Out[array[int32]],
          y: InOut[array[float32]], hits: Acc[array[int32]], low: Acc[array[float32]],
          high: Acc[array[int32]], total: Acc[array[float32]], s: float32):
    i = tid()
    k = q[i] // 3
    r = q[i] % 3
    d = tally(hits, low, k, x[i])
    o[i] = d + r
    y[i] += half(x[i]) * s
    atomic_max(high, 0, int32(x[i]))
    atomic_add(total, i, x[i])
    atomic_sub(total, 0, float32(r))
    if x[i] > 0.0:
        z = twice(total, total, x[i])
        y[i] -= z
""",
    "branches": """
# if/elif/else chains, nested ifs, and/or/not, ternaries, and an Acc helper
# called in one branch only: its atomics count only where that branch runs.
@func
def bump(cnt: Acc[array[int32]], v: float32) -> float32:
    atomic_add(cnt, 0, 1)
    return v + 1.0

@kernel
def branches(x: In[array[float32]], o: Out[array[float32]], tag: Out[array[int32]],
             cnt: Acc[array[int32]]):
    i = tid()
    t = x[i]
    if t > 2.0:
        t = bump(cnt, t)
        tag[i] = 1
    elif t > 0.0 and not t > 1.0:
        tag[i] = 2
        if i % 2 == 0:
            t = -t
    elif t < -1.0 or t == 0.0:
        tag[i] = 3
    else:
        tag[i] = 4
        t = t * 2.0
    o[i] = t if t >= 0.0 else -t * 10.0
""",
    "loops": """
# A literal for loop with continue and break, a nested loop with a dynamic
# bound, an empty range, loop-carried locals, and a bounded while loop with a
# condition, continue and break.
@kernel
def loops(x: In[array[int32]], o: Out[array[int32]], w: Out[array[int32]], n: int32):
    i = tid()
    acc = 0
    for k in range(5):
        if k == 1:
            continue
        if k == 4 and i > 1:
            break
        acc += k
        for j in range(clamp(n, 0, 3)):
            acc += x[i] * j
    for z in range(0):
        acc += 100
    m = x[i]
    c = 0
    while c < 10 and m > 1:
        c += 1
        if m % 2 == 0:
            m = m // 2
            continue
        if m > 20:
            break
        m = 3 * m + 1
    o[i] = acc
    w[i] = c * 100 + m
""",
    "vectors": """
# vec2/vec3/mat33 values, component reads and (masked) component assignment,
# construction, matrix-vector product, cross, dot, length, normalize (of the
# zero vector too), scaling, a vector scalar parameter and vector atomics.
@kernel
def vectors(p: In[array[vec3]], m: In[array[mat33]], o: Out[array[vec3]],
            lens: Out[array[float32]], uv: InOut[array[vec2]], acc: Acc[array[vec3]], d: vec3):
    i = tid()
    v = p[i]
    if v.x > 0.0:
        v.y = 5.0
    v[2] += 1.0
    w = m[i] @ v
    o[i] = cross(v, d) + normalize(w - w) + w * 0.5
    lens[i] = length(vec3(3.0, 4.0, 0.0)) * dot(v, d) + length(normalize(v))
    q = uv[i]
    q.x *= 2.0
    uv[i] = q + vec2(0.0, v.z)
    atomic_add(acc, 0, v)
    atomic_sub(acc, i, d * 2.0)
    ident = mat33(1.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 3.0)
    atomic_add(acc, clamp(1, 0, len(acc) - 1), ident @ vec3(1.0, 1.0, 1.0))
""",
    "numeric": """
# float64, int64 and uint32 (wrapping), casts truncating toward zero, `//`
# flooring, `%` truncating on ints and floats, sign(0) == 1, min/max/clamp,
# typed literals.
@kernel
def numeric(x: In[array[float32]], a: In[array[int32]], u: In[array[uint32]],
            f: Out[array[float64]], l: Out[array[int64]], w: Out[array[uint32]],
            g: Out[array[float32]], h: Out[array[int32]]):
    i = tid()
    f[i] = float64(x[i]) * float64(0.5) + float64(a[i] // 4)
    l[i] = int64(a[i]) * int64(100000000) + int64(x[i])
    w[i] = u[i] - uint32(5)
    g[i] = x[i] % 1.5 + sign(x[i] - x[i]) + float32(a[i] % 4)
    h[i] = clamp(a[i], -3, 3) + min(a[i], 0) * max(i, 2) + int32(-x[i])
""",
    "nesting": """
# A helper with a loop, break and Acc atomics through another helper; a
# non-effectful helper taking an Acc array; a while loop inside a for loop;
# effectful calls under a mask inside loops; kernels that write no array.
@func
def size(a: Acc[array[float32]], v: float32) -> float32:
    return v + float32(len(a))

@func
def deep(a: Acc[array[float32]], v: float32) -> float32:
    atomic_add(a, 0, v)
    return size(a, v)

@func
def outer(a: Acc[array[float32]], v: float32) -> float32:
    u = v
    for k in range(3):
        if u > 1.0:
            break
        u = deep(a, u)
        u *= 0.5
    return deep(a, u)

@kernel
def nesting(x: In[array[float32]], o: Out[array[float32]], a: Acc[array[float32]],
            b: Acc[array[float32]], lam: float32):
    i = tid()
    total = x[i] + lam
    for k in range(3):
        c = 0
        while c < 4:
            c += 1
            if c == 2:
                continue
            total += 1.0
            if total > 3.0:
                break
        if k == 1:
            total = outer(a, total)
        else:
            total = size(b, total)
    o[i] = total

@kernel
def no_arrays(s: float32, t: int32):
    v = s * float32(t)

@kernel
def only_in(x: In[array[float32]]):
    i = tid()
    v = x[i]
""",
}


def _parsed(name: str):
    return parse(PROGRAMS[name], f"<{name}>")


# The reach issue's forms, from the hand-written corpus: side effects in
# expressions (masked by the condition that lets each run) and the spellings
for _name in ("effects_in_expressions", "spellings", "components", "guards", "structs", "statics", "constants", "bitwise", "parallel", "matrix_products", "scopes", "atomic_values", "tiles", "quaternions", "jax_loops", "generics", "jax_spellings", "matrix_stores", "struct_arrays", "atomic_bitwise", "float_division", "arrays_2d", "component_updates", "starred", "tile_get", "grad_calls", "function_params", "native_helpers"):
    PROGRAMS[_name] = (Path(__file__).parent / "programs" / "valid" / f"{_name}.kernel").read_text()


# ------------------------------------------------------------------- goldens


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_golden(name):
    source = render_jax(_parsed(name))
    golden = GOLDEN / f"{name}.py"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(source)
    assert source == golden.read_text(), f"rendering changed; if intended, rerun with UPDATE_GOLDEN=1 and review {golden}"


def test_prelude_holds_only_what_the_program_uses():
    source = render_jax(_parsed("loops"))
    assert "def clamp(" in source
    assert "def sign(" not in source and "def normalize(" not in source
    assert "jax_enable_x64" not in source
    assert "jax_enable_x64" in render_jax(_parsed("numeric"))


# ------------------------------------------------------------------ execution


def _check(out: dict, expected: dict) -> None:
    assert set(out) == set(expected)
    for name, want in expected.items():
        got = out[name]
        assert got.dtype == want.dtype, f"{name}: dtype {got.dtype}, expected {want.dtype}"
        assert got.shape == want.shape, f"{name}: shape {got.shape}, expected {want.shape}"
        if want.dtype.kind == "f":
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=name)
        else:
            np.testing.assert_array_equal(got, want, err_msg=name)


def _launch(name: str, kernel: str | None = None, **given) -> dict[str, np.ndarray]:
    """Run with `given` inputs; the other arrays start at zero, as in backends.inputs."""
    program = _parsed(name)
    k = program.kernels[0] if kernel is None else next(k for k in program.kernels if k.name == kernel)
    n = next(len(v) for v in given.values() if np.ndim(v) >= 1) if any(np.ndim(v) >= 1 for v in given.values()) else 4
    zeros = make_inputs(k, n)
    inputs = {p.name: given.get(p.name, zeros[p.name]) for p in k.params}
    return run_jax(program, inputs, n, kernel)


@pytest.mark.compiler
def test_run_roles():
    out = _launch(
        "roles",
        x=np.array([1.5, -2.5, 3.0, -0.5], f32),
        q=np.array([7, -7, 5, -1], i32),
        y=np.array([1.0, 2.0, 3.0, 4.0], f32),
        s=f32(2.0),
    )
    # k = q // 3 = [2, -3, 1, -1] (floors), r = q % 3 = [1, -1, 2, -1] (truncates)
    # tally: hits[0] += 1 per thread; low[clamp(k)] = low[[2, 0, 1, 0]] min x; d = 2k
    # y += x; high[0] = max(trunc x) = 3; total[i] += x, total[0] -= sum(r) = 1,
    # then threads 0 and 2 (x > 0) add 2x to total[0] (4.5 * 2) and subtract x from y
    _check(
        out,
        {
            "o": np.array([5, -7, 4, -3], i32),
            "y": np.array([1.0, -0.5, 3.0, 3.5], f32),
            "hits": np.array([4, 0, 0, 0], i32),
            "low": np.array([-2.5, 0.0, 0.0, 0.0], f32),
            "high": np.array([3, 0, 0, 0], i32),
            "total": np.array([9.5, -2.5, 3.0, -0.5], f32),
        },
    )


@pytest.mark.compiler
def test_run_branches():
    out = _launch("branches", x=np.array([3.0, 0.5, 0.5, -2.0, 0.0, 1.5], f32))
    # thread 0 takes the bump branch (t = 4, one atomic); 1 and 2 the first elif
    # (2 negates t, even index); 3 and 4 the second elif; 5 the else (t = 3)
    _check(
        out,
        {
            "o": np.array([4.0, 0.5, 5.0, 20.0, 0.0, 3.0], f32),
            "tag": np.array([1, 2, 2, 3, 3, 4], i32),
            "cnt": np.array([1, 0, 0, 0, 0, 0], i32),
        },
    )


@pytest.mark.compiler
def test_run_loops():
    out = _launch("loops", x=np.array([6, 3, 1, 27, 7], i32), n=i32(2))
    # for: acc = sum over k in {0, 2, 3, 4} of k + x (k = 4 only for i <= 1)
    # while: Collatz steps of x until 1, at most 10, stopping on an odd m > 20:
    # 6 -> 1 in 8, 3 -> 1 in 7, 1 in 0, 27 breaks at once, 7 reaches 10 after 10
    _check(
        out,
        {
            "o": np.array([33, 21, 8, 86, 26], i32),
            "w": np.array([801, 701, 1, 127, 1010], i32),
        },
    )


@pytest.mark.compiler
def test_run_vectors():
    swap = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 2]], f32)
    out = _launch(
        "vectors",
        p=np.array([[1, 2, 3], [-1, 0, 4]], f32),
        m=np.stack([np.eye(3, dtype=f32), swap]),
        uv=np.array([[1, 2], [3, 4]], f32),
        d=np.array([0, 0, 1], f32),
    )
    # thread 0: v = (1, 5, 4), w = v, cross(v, d) = (5, -1, 0)
    # thread 1: v = (-1, 0, 5), w = (0, -1, 10), cross(v, d) = (0, 1, 0)
    _check(
        out,
        {
            "o": np.array([[5.5, 1.5, 2.0], [0.0, 0.5, 5.0]], f32),
            "lens": np.array([21.0, 26.0], f32),
            "uv": np.array([[2.0, 6.0], [6.0, 9.0]], f32),
            "acc": np.array([[0.0, 5.0, 7.0], [2.0, 4.0, 4.0]], f32),
        },
    )


@pytest.mark.compiler
def test_run_numeric():
    out = _launch(
        "numeric",
        x=np.array([2.75, -2.75, 0.0, -1.5], f32),
        a=np.array([7, -7, -1, 64], i32),
        u=np.array([10, 3, 0, 5], u32),
    )
    _check(
        out,
        {
            "f": np.array([2.375, -3.375, -1.0, 15.25], f64),
            "l": np.array([700000002, -700000002, -100000000, 6399999999], i64),
            "w": np.array([5, 2**32 - 2, 2**32 - 5, 0], u32),
            "g": np.array([5.25, -3.25, 0.0, 1.0], f32),
            "h": np.array([1, -15, -3, 4], i32),
        },
    )


@pytest.mark.compiler
def test_run_nesting():
    out = _launch("nesting", x=np.array([-10.0, 0.5], f32), lam=f32(0.0))
    # thread 0 calls outer(a, -2): its loop adds -2, 0 and 1, its return 1.5;
    # thread 1 calls outer(a, 6.5), which breaks at once and adds 6.5
    _check(
        out,
        {
            "o": np.array([6.5, 11.5], f32),
            "a": np.array([7.0, 0.0], f32),
            "b": np.array([0.0, 0.0], f32),
        },
    )
    assert _launch("nesting", "no_arrays", s=f32(1.0), t=i32(2)) == {}
    assert _launch("nesting", "only_in", x=np.array([1.0, 2.0], f32)) == {}


# ----------------------------------------------------------------- properties


@settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(programs())
def test_rendered_source_parses_and_round_trips(program):
    source = render_jax(program)
    ast.parse(source)
    assert cst.parse_module(source).code == source


def test_unknown_nodes_are_render_errors():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Strange:
        pos: None = None
        ty: None = None

    renderer = _Renderer(_parsed("loops"))
    renderer.begin()
    with pytest.raises(RenderError, match="Strange"):
        renderer.stmt(Strange())
    with pytest.raises(RenderError, match="Strange"):
        renderer.expr(Strange())


# --------------------------------------------------- agreement with the reference

try:
    from kernel_synth.backends.reference import ReferenceFailure, run_reference
except ImportError:  # pragma: no cover - the reference is written in parallel
    run_reference = None


def _same(got: np.ndarray, want: np.ndarray) -> bool:
    if got.dtype != want.dtype or got.shape != want.shape:
        return False
    if want.dtype.kind == "f":
        tolerance = dict(rtol=1e-4, atol=1e-5) if want.dtype == f32 else dict(rtol=1e-9, atol=1e-12)
        return bool(np.allclose(got, want, equal_nan=True, **tolerance))  # equal infs compare equal
    return bool(np.array_equal(got, want))


def _agreement(count: int, seed: int = 0, n: int = 16) -> None:
    from kernel_synth.grammar.sampling import draw_program

    disagreements, undefined = [], 0
    for index in range(count):
        program = draw_program(seed=seed, index=index)
        kernel = program.kernels[0]
        inputs = make_inputs(kernel, n)
        try:
            want = run_reference(program, kernel.name, inputs, n)
        except ReferenceFailure as exc:
            if exc.rule != "undefined":
                disagreements.append(f"program {index}: the reference failed: {exc}\n{print_program(program)}")
            undefined += 1
            continue
        try:
            got = run_jax(program, inputs, n, kernel.name)
        except Exception as exc:
            disagreements.append(f"program {index}: JAX failed: {type(exc).__name__}: {exc}\n{print_program(program)}\n{render_jax(program)}")
            continue
        for name in written_arrays(kernel):
            if not _same(got[name], want[name]):
                disagreements.append(
                    f"program {index}: {name} differs\n  jax:       {got[name]!r}\n  reference: {want[name]!r}\n{print_program(program)}"
                )
    for text in disagreements:
        print(text)
    assert not disagreements, f"{len(disagreements)} of {count} programs disagree with the reference ({undefined} undefined on their inputs)"


def _every_op() -> "A.Program":
    """One kernel storing every op-table signature, its arguments guarded into
    the domain, to an Out array of its own (one jit for all of them)."""
    from kernel_synth.grammar import ast as A
    from kernel_synth.grammar import check
    from kernel_synth.grammar.ops import BUILTINS
    from kernel_synth.grammar.intervals import apply_guard
    from kernel_synth.grammar.types import ArrayType, Role

    params, body = [], [A.Assign(A.Name("i"), A.Tid())]
    for case, (name, params_and_result) in enumerate((n, s) for n, op in BUILTINS.items() for s in op.signatures):
        types, result = params_and_result
        args = []
        for k, ty in enumerate(types):
            params.append(A.Param(f"a{case}_{k}", ArrayType(ty, Role.IN)))
            read = A.ArrayRead(f"a{case}_{k}", A.Name("i"))
            guard = BUILTINS[name].guards[k] if k < len(BUILTINS[name].guards) else None
            args.append(apply_guard(guard, read, ty) if ty.is_float else read)
        params.append(A.Param(f"{name}{case}", ArrayType(result, Role.OUT)))
        body.append(A.Assign(A.ArrayRead(f"{name}{case}", A.Name("i")), A.Call(name, tuple(args))))
    return check(A.Program((), (A.Kernel("every_op", tuple(params), tuple(body)),)))


@pytest.mark.compiler
@pytest.mark.skipif(run_reference is None, reason="backends.reference is not importable")
def test_every_op_signature_agrees_with_reference():
    program = _every_op()
    kernel = program.kernels[0]
    inputs = make_inputs(kernel, 16)
    got, want = run_jax(program, inputs, 16), run_reference(program, kernel.name, inputs, 16)
    differ = [name for name in written_arrays(kernel) if not _same(got[name], want[name])]
    assert not differ, "; ".join(f"{n}: jax {got[n]!r} reference {want[n]!r}" for n in differ)


@pytest.mark.compiler
@pytest.mark.skipif(run_reference is None, reason="backends.reference is not importable")
def test_agrees_with_reference_on_generated_programs():
    _agreement(10)


@pytest.mark.slow
@pytest.mark.compiler
@pytest.mark.skipif(run_reference is None, reason="backends.reference is not importable")
def test_agrees_with_reference_on_many_generated_programs():
    _agreement(100)


def test_a_loops_trip_count_picks_its_driver():
    """fori_loop, scan, scan two iterations a step, or unrolled, by trips % 4
    (never unrolled past UNROLL_TRIPS); a loop carrying no float is a
    while_loop for trips 0-3, 8-11, ...; the same program renders the same way."""
    from kernel_synth.grammar.queries import UNROLL_TRIPS, jax_loop

    assert [jax_loop(t) for t in (4, 5, 6, 7, 8)] == ["fori_loop", "scan", "scan_by_two", "unrolled", "fori_loop"]
    assert jax_loop(UNROLL_TRIPS + 3) == "fori_loop" and jax_loop(3) == "unrolled"
    assert [jax_loop(t, integers=True) for t in (3, 4, 7, 8, 12)] == ["while_loop", "fori_loop", "unrolled", "while_loop", "fori_loop"]
    source = render_jax(_parsed("jax_loops"))
    assert "lax.fori_loop(0, 4, for_a, s)" in source and "lax.fori_loop(0, 23, for_f, s)" in source
    assert "scan_loop(5, for_b," in source and "scan_loop(9, while_w," in source  # carries s: no while_loop
    assert "scan_by_two(6, for_c, s)" in source and "unrolled_loop(7, for_d," in source
    assert "while_loop(3, for_g, m)" in source and "while_loop(10, while_k," in source
    assert source == render_jax(_parsed("jax_loops"))


@pytest.mark.compiler
@pytest.mark.skipif(run_reference is None, reason="backends.reference is not importable")
def test_a_while_loop_carries_no_float_so_reverse_mode_passes_it():
    """The loops lax.while_loop drives carry integers alone, so jax.grad of
    the rendering passes them (a float carried through a while_loop is
    JAX's documented refusal), and the kernel agrees with the reference."""
    pytest.importorskip("jax")
    from kernel_synth.backends.gradients import jax_gradients

    program = _parsed("jax_loops")
    kernel = program.kernels[0]
    inputs = make_inputs(kernel, 16)
    got, want = run_jax(program, inputs, 16, kernel.name), run_reference(program, kernel.name, inputs, 16)
    assert _same(got["y"], want["y"])
    gradients = jax_gradients(program)
    assert set(gradients) >= {"x"} and all(np.isfinite(g).all() for g in gradients.values())


# The spellings of one operation (grammar.queries: jax_select, jax_operation,
# jax_reduction), each as programs/valid/jax_spellings.kernel renders it
SPELLINGS = {
    "jnp.where": "a = jnp.where(x[i] > 0.0, x[i], -x[i])",
    "lax.select": "c = lax.select(q[i] > 6, jnp.int32(6), q[i])",  # select(c, orelse, then)
    "lax.cond": "b = lax.cond(x[i] < 1.0, lambda: x[i], lambda: jnp.float32(1.0))",
    "lax.cond of an arm with effects": "d = lax.cond(cond1, lambda: x[i], lambda: ret1)",
    "jnp operation": "jnp.floor_divide(q[i], 4)",
    "lax operation": "lax.rem(q[i], jnp.int32(3))",
    "jnp builtin": "jnp.sin(a)",
    "lax builtin": "lax.min(a, jnp.float32(2.0))",
    "jnp.max over threads": '"hi": jnp.maximum(hi, jnp.max(hi_contribs, axis=0))',
    "lax.reduce over threads": '"tot": tot + lax.reduce(tot_contribs, 0.0, lax.add, (0,))',
    "lax.reduce min over threads": '"lo": jnp.minimum(lo, lax.reduce(lo_contribs, jnp.inf, lax.min, (0,)))',
    "jnp tile reduction": "jnp.min(lax.dynamic_slice_in_dim(x, jnp.clip(lax.add(i, jnp.int32(6)), 0, x.shape[0] - 8), 8))",
    "lax.reduce of a tile": "lax.reduce(lax.dynamic_slice_in_dim(x, jnp.clip(i, 0, x.shape[0] - 2), 2), -jnp.inf, lax.max, (0,))",
}


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_each_spelling_is_rendered(spelling):
    assert SPELLINGS[spelling] in render_jax(_parsed("jax_spellings"))


@pytest.mark.compiler
@pytest.mark.skipif(run_reference is None, reason="backends.reference is not importable")
@pytest.mark.parametrize("threads", ["vmap", "loop"])
def test_the_spellings_agree_with_the_reference(threads):
    """Run jitted, in both thread forms (lax.cond branches for real in the loop
    form, where its condition is one thread's), against the NumPy reference."""
    import jax

    from kernel_synth.backends.jax_run import load_kernel

    program = _parsed("jax_spellings")
    kernel = program.kernels[0]
    inputs = make_inputs(kernel, 16, seed=3)
    want = run_reference(program, kernel.name, inputs, 16)
    function = jax.jit(load_kernel(render_jax(program, threads=threads), kernel))
    got = {name: np.asarray(value) for name, value in function(*(inputs[p.name] for p in kernel.params)).items()}
    differ = [name for name in written_arrays(kernel) if not _same(got[name], want[name])]
    assert not differ, "; ".join(f"{n}: jax {got[n]!r} reference {want[n]!r}" for n in differ)


@pytest.mark.compiler
def test_lax_spells_what_jnp_computes():
    """Every pair of grammar.queries.LAX_CALLS and LAX_OPERATORS: the same
    values, bit for bit, on operands of one dtype (lax.rem truncates as
    jnp.fmod and the language's `%` do)."""
    import jax.numpy as jnp
    from jax import lax

    from kernel_synth.grammar.queries import LAX_CALLS, LAX_OPERATORS

    x = jnp.linspace(-0.9, 0.9, 13, dtype=jnp.float32)
    y = jnp.linspace(0.3, 2.5, 13, dtype=jnp.float32)
    for jnp_name, lax_name in LAX_CALLS.items():
        jnp_fn, lax_fn = (eval(name, {"jnp": jnp, "lax": lax}) for name in (jnp_name, lax_name))
        args = (x, y) if jnp_name in ("jnp.minimum", "jnp.maximum", "jnp.power", "jnp.arctan2") else (x,)
        if jnp_name == "jnp.power":
            args = (y, y)
        np.testing.assert_array_equal(np.asarray(lax_fn(*args)), np.asarray(jnp_fn(*args)), err_msg=lax_name)
    a = jnp.array([-7, 7, -8, 9, 5], dtype=jnp.int32)
    b = jnp.array([2, -3, 3, 4, 5], dtype=jnp.int32)
    python = {"+": lambda u, v: u + v, "-": lambda u, v: u - v, "*": lambda u, v: u * v, "/": lambda u, v: u / v, "%": jnp.fmod}
    for op, lax_name in LAX_OPERATORS.items():
        for u, v in ((x, y),) if op == "/" else ((x, y), (a, b)):
            np.testing.assert_array_equal(np.asarray(eval(lax_name, {"lax": lax})(u, v)), np.asarray(python[op](u, v)), err_msg=f"{op} {u.dtype}")
    assert list(np.asarray(lax.rem(a, b))) == [-1, 1, -2, 1, 0]  # truncated: the sign of the dividend


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(programs())
def test_spellings_are_a_function_of_the_program(program):
    """The same program renders the same spellings, and so does its printed
    text parsed again (what a corpus case or a replay holds)."""
    source = render_jax(program)
    assert render_jax(program) == source
    assert render_jax(parse(print_program(program))) == source


# Reductions over threads of every integer type and class, with and without
# x64 (int64 switches it on): lax.reduce's identity must be the monoid's in
# the operand's dtype, or JAX makes a generic reduce (which refuses operands
# of another dtype than the identity, and reverse mode)
INT_REDUCTIONS = """
@kernel
def k0(x0: In[array[int32]], q: In[array[uint32]], l: In[array[int64]], aa: Acc[array[int32]], ab: Acc[array[int32]],
       ac: Acc[array[uint32]], ad: Acc[array[uint32]], ae: Acc[array[int64]], af: Acc[array[int64]], ag: Acc[array[uint32]]):
    i = tid()
    atomic_min(aa, 0, x0[i])
    atomic_max(ab, 0, x0[i])
    atomic_min(ac, 0, q[i])
    atomic_max(ad, 0, q[i])
    atomic_min(ae, 0, l[i])
    atomic_max(af, 0, l[i])
    atomic_add(ag, 0, q[i])
"""
INT32_REDUCTIONS = "\n".join(
    line.replace(", l: In[array[int64]]", "").replace(", ae: Acc[array[int64]], af: Acc[array[int64]]", "")
    for line in INT_REDUCTIONS.splitlines()
    if "l[i]" not in line
)
# A helper with side effects as an operand of an operation spelled by lax: called once
EFFECT_OPERAND = """
@func
def f0(a0: float32, acc0: Acc[array[float32]]) -> float32:
    atomic_sub(acc0, 0, a0)
    return 1.0

@kernel
def k0(x0: In[array[float32]], acc1: Acc[array[float32]], out0: Out[array[float32]], s0: float32):
    i = tid()
    v1 = f0(1.25, acc1) + s0
    out0[i] = v1
"""


@pytest.mark.compiler
@pytest.mark.skipif(run_reference is None, reason="backends.reference is not importable")
@pytest.mark.parametrize("text", [INT_REDUCTIONS, INT32_REDUCTIONS, EFFECT_OPERAND, "jax_spellings"], ids=["x64", "int32", "effect", "spellings"])
def test_lax_spellings_lower_to_jnps_primitives_and_agree(text):
    import jax

    from kernel_synth.backends.jax_run import load_kernel

    program = _parsed(text) if text in PROGRAMS else parse(text)
    kernel = program.kernels[0]
    source = render_jax(program)
    assert "lax.reduce(" in source or "lax.add(ret1, s0)" in source
    if text == EFFECT_OPERAND:
        assert source.count("f0(jnp.float32(1.25), acc1_contrib)") == 1
    inputs = make_inputs(kernel, 16, seed=1)
    jaxpr = str(jax.make_jaxpr(load_kernel(source, kernel))(*(inputs[p.name] for p in kernel.params)))
    assert "reduce[" not in jaxpr  # every reduction is reduce_sum, reduce_max or reduce_min
    got, want = run_jax(program, inputs, 16), run_reference(program, kernel.name, inputs, 16)
    differ = [name for name in written_arrays(kernel) if not _same(got[name], want[name])]
    assert not differ, "; ".join(f"{n}: jax {got[n]!r} reference {want[n]!r}" for n in differ)


FLOOR_DIVISIONS = """
@kernel
def fd(x: In[array[float32]], d: In[array[float64]], q: Out[array[float32]], r: Out[array[float32]], s: Out[array[float64]], t: Out[array[float32]], n: Out[array[int32]]):
    i = tid()
    q[i] = x[i] // 0.007
    r[i] = x[i] // 0.002 + x[i] // 0.0
    s[i] = d[i] // float64(0.003)
    t[i] = floor(x[i] / 0.007)
    n[i] = int32(x[i] / 0.002)
"""


@pytest.mark.compiler
@pytest.mark.skipif(run_reference is None, reason="backends.reference is not importable")
def test_float_floor_division_by_a_constant_floors_the_ieee_quotient():
    """Warp's float //, floor(a / b), jitted and eager: XLA divides by a
    constant as a product with its reciprocal, and plain jnp.floor(x / 0.007)
    is 0 at x = 0.007 (1.25 // 0.002 is 624): the rendering's floor_div
    keeps the divisor no constant (SEMANTICS.md, Values and arithmetic).
    So does every float `/`: jitted, floor(x / 0.007) would be 0 at x = 0.007
    and int32(x / 0.002) 624 at x = 1.25 (measured on jax 0.10.2)."""
    import jax

    from kernel_synth.backends.jax_run import load_kernel

    program = parse(FLOOR_DIVISIONS)
    kernel = program.kernels[0]
    values = [0.007, 1.25, 0.006, 0.009, -0.007, 0.0]
    inputs = {"x": np.array(values, np.float32), "d": np.array(values, np.float64) * 3,
              **{name: np.zeros(6, dt) for name, dt in (("q", np.float32), ("r", np.float32), ("s", np.float64), ("t", np.float32), ("n", np.int32))}}
    want = run_reference(program, kernel.name, inputs, 6)
    assert want["q"].tolist() == want["t"].tolist() == [1.0, 178.0, 0.0, 1.0, -1.0, 0.0]
    assert want["n"].tolist() == [3, 625, 3, 4, -3, 0]
    source = render_jax(program)
    assert "floor_div(" in source
    function = load_kernel(source, kernel)
    arguments = [jax.numpy.asarray(inputs[p.name]) for p in kernel.params]
    for run in (jax.jit(function), function):
        got = {name: np.asarray(value) for name, value in run(*arguments).items()}
        for name in ("q", "r", "s", "t", "n"):
            assert _same(got[name], want[name]), (name, got[name], want[name])
