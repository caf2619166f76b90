"""atomic_and, atomic_or and atomic_xor on int Acc arrays: the checker's
rules at line and column, hand-computed reference values (shared elements,
a helper's atomic, xor repeated in a loop), the JAX rendering's
combination of every thread's contributions, the release gate, the
generator's draws, and agreement of warp-cpu and jax-cpu on drawn programs.
The hand-written program is tests/programs/valid/atomic_bitwise.kernel; its
renderings are goldens."""

from __future__ import annotations

from functools import reduce
from pathlib import Path

import numpy as np
import pytest

from drawn import drawn_with, findings_on_cpu_backends

from kernel_synth.backends.errors import Unsupported
from kernel_synth.backends.reference import run_reference
from kernel_synth.backends.warp_release import WarpRelease
from kernel_synth.backends.warp_render import render_warp
from kernel_synth.grammar import parse
from kernel_synth.grammar.errors import CheckError, ParseError
from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.grammar.stats import constructs

VALID = Path(__file__).parent / "programs" / "valid" / "atomic_bitwise.kernel"
HEAD = (
    "@kernel\ndef k(x: In[array[int32]], f: In[array[float32]], a: Acc[array[int32]], g: Acc[array[float32]],"
    " io: InOut[array[float32]]):\n    i = tid()\n"
)


def test_reference_values_computed_by_hand():
    x = np.array([3, -2, 6, 1], np.int32)
    u = np.array([1, 4, 8, 2], np.uint32)
    io = np.array([7, 0, -3, 12], np.int32)
    n = len(x)
    zeros = {name: np.zeros(n, dtype) for name, dtype in (("acc", np.int32), ("flags", np.uint32), ("par", np.int32), ("o", np.uint32))}
    out = run_reference(parse(VALID.read_text()), None, {"x": x, "u": u, "io": io, **zeros}, n)
    assert out["acc"].tolist() == [reduce(lambda a, b: a & b, (int(v) | 1 for v in x), 0)] + [0] * (n - 1)
    par = [0] * n
    for t in range(n):
        par[min(max(int(x[t]), 0), n - 1)] ^= int(x[t])
        for k in range(3):
            par[min(max(t + k, 0), n - 1)] ^= k + int(x[t])
    assert out["par"].tolist() == par
    # mark() ors u into flags[0] where x > 0 (threads 0, 2, 3); each thread ors u & 12 into its own slot
    flags = [int(u[t]) & 12 for t in range(n)]
    flags[0] |= int(u[0]) | int(u[2]) | int(u[3])
    assert out["flags"].tolist() == flags
    assert out["o"].tolist() == [1, 0, 8, 2]
    assert out["io"].tolist() == [int(v) + (int(v) & (int(w) ^ 5)) for v, w in zip(io, x)]


@pytest.mark.parametrize(
    "body, rule, column",
    [
        ("    atomic_and(g, 0, 1.0)\n", "operand-types", 5),  # a float array
        ("    atomic_or(a, 0, x[i])\n    atomic_and(a, 0, x[i])\n", "atomic-mix", 5),  # two classes on one array race
        ("    v = atomic_xor(io, i, 1.0)\n", "operand-types", 9),  # an atomic's value on a float array
        ("    atomic_nand(a, 0, x[i])\n", "unknown-function", 5),
    ],
)
def test_rules_are_located_errors(body, rule, column):
    with pytest.raises((CheckError, ParseError)) as error:
        parse(HEAD + body)
    assert (error.value.rule, error.value.column) == (rule, column), str(error.value)


def test_the_jax_rendering_combines_threads_with_the_operator():
    from kernel_synth.backends.jax_render import render_jax

    source = render_jax(parse(VALID.read_text()))
    assert "lax.reduce(acc_contribs, jnp.int32.dtype.type(-1), lax.bitwise_and, (0,))" in source
    assert "lax.bitwise_or" in source and "lax.bitwise_xor" in source
    assert "jnp.full_like(acc, jnp.int32.dtype.type(-1))" in source  # a thread's and-contributions start with every bit set


def test_releases_before_1_10_have_no_bitwise_atomics():
    program = parse(VALID.read_text())
    with pytest.raises(Unsupported, match="1.10.0"):
        render_warp(program, release=WarpRelease("1.9.0"))
    assert "wp.atomic_xor(" in render_warp(program, release=WarpRelease("1.10.0"))


def test_the_generator_draws_them_on_int_arrays_only():
    drawn = [p for p in draw_programs(400, seed=3) if "atomic-bitwise" in constructs(p)]
    assert len(drawn) >= 4
    from kernel_synth.grammar import ast as A

    for program in drawn:
        for node in (n for d in program.funcs + program.kernels for n in A.walk(d)):
            if isinstance(node, A.Atomic) and node.op in ("and", "or", "xor"):
                assert node.value.ty.is_int


@pytest.mark.compiler
def test_drawn_programs_agree_on_warp_cpu_and_jax_cpu():
    drawn = drawn_with("atomic-bitwise", 300, seed=5, most=6)
    assert len(drawn) >= 1
    assert findings_on_cpu_backends(drawn) == [None] * (2 * len(drawn))
