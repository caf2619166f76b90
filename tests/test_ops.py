"""Every entry of the op table renders, compiles and agrees with the reference
on every backend present (STYLE: operations as data)."""

from __future__ import annotations

import importlib.util

import pytest

from kernel_synth.grammar import ast as A
from kernel_synth.grammar import check
from kernel_synth.grammar.ops import ARITH_OPS, AUG_OPS, BOOL_OPS, BUILTINS, COMPARE_OPS, OPERATORS, UNARY_OPS
from kernel_synth.grammar.intervals import apply_guard
from kernel_synth.grammar.types import ArrayType, Role
from kernel_synth.backends.compare import compare_outcomes
from kernel_synth.backends.cst_nodes import AUG_NODES, BINARY_NODES, BOOLEAN_NODES, COMPARE_NODES, UNARY_NODES
from kernel_synth.backends.reference_backend import ReferenceBackend


def _program(name: str, params: tuple, result) -> A.Program:
    """out[i] = name(x0[i], x1[i], ...) with the op's domain guards applied."""
    op = BUILTINS[name]
    arrays = [A.Param(f"x{k}", ArrayType(ty, Role.IN)) for k, ty in enumerate(params)]
    args = []
    for k, ty in enumerate(params):
        read = A.ArrayRead(f"x{k}", A.Name("i", None))
        guard = op.guards[k] if k < len(op.guards) else None
        args.append(apply_guard(guard, read, ty) if ty.is_float else read)
    out = A.Param("out", ArrayType(result, Role.OUT))
    body = (
        A.Assign(A.Name("i"), A.Tid()),
        A.Assign(A.ArrayRead("out", A.Name("i")), A.Call(name, tuple(args))),
    )
    kernel_name = f"k_{name}_{'_'.join(t.name for t in params)}"
    return check(A.Program((), (A.Kernel(kernel_name, tuple(arrays) + (out,), body),)))


CASES = [(name, params, result) for name, op in BUILTINS.items() for params, result in op.signatures]


def _function(spelling: str) -> bool:
    return "." in spelling and all(part.isidentifier() for part in spelling.split("."))


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_has_a_warp_and_a_jax_spelling(name):
    from kernel_synth.backends.jax_render import _PRELUDE

    op = BUILTINS[name]
    assert _function(op.warp) and op.warp.startswith("wp."), op.warp
    # a bare name is a helper the JAX rendering defines in its prelude
    assert _function(op.jax) or op.jax in _PRELUDE, op.jax


def test_the_operator_table_covers_every_dsl_operator():
    assert sorted(OPERATORS) == sorted(ARITH_OPS + COMPARE_OPS + BOOL_OPS + AUG_OPS + UNARY_OPS)
    assert all(symbol == op.symbol for symbol, op in OPERATORS.items())


# What each renderer can build of an operator's spelling: a Python operator of
# the operator's kind, or, where the JAX renderer calls one, a function.
_WARP_NODES = {
    **dict.fromkeys(ARITH_OPS, BINARY_NODES),
    **dict.fromkeys(COMPARE_OPS, COMPARE_NODES),
    **dict.fromkeys(BOOL_OPS, BOOLEAN_NODES),
    **dict.fromkeys(UNARY_OPS, UNARY_NODES),
    **dict.fromkeys(AUG_OPS, AUG_NODES),
}
_JAX_NODES = {
    **dict.fromkeys(ARITH_OPS, BINARY_NODES),
    **dict.fromkeys(COMPARE_OPS, COMPARE_NODES),
    "neg": UNARY_NODES,
    "invert": UNARY_NODES,
    **dict.fromkeys(AUG_OPS, AUG_NODES),
}
_JAX_CALLS = frozenset(ARITH_OPS + BOOL_OPS + ("not",))


@pytest.mark.parametrize("symbol", sorted(OPERATORS))
def test_every_operator_has_a_warp_and_a_jax_spelling(symbol):
    op = OPERATORS[symbol]
    assert op.warp in _WARP_NODES[symbol], op.warp
    assert op.jax in _JAX_NODES.get(symbol, ()) or (symbol in _JAX_CALLS and _function(op.jax)), op.jax
    if symbol in ARITH_OPS + COMPARE_OPS:
        assert callable(op.reference)


def test_every_op_signature_builds_a_checked_program():
    programs = [_program(*case) for case in CASES]
    assert len(programs) == len(CASES) > 50


@pytest.mark.compiler
@pytest.mark.skipif(importlib.util.find_spec("warp") is None, reason="warp-lang is not installed")
def test_every_op_agrees_between_warp_cpu_and_the_reference(tmp_path):
    from kernel_synth.backends.warp_backend import WarpCompiler

    programs = [_program(*case) for case in CASES]
    warp = WarpCompiler("cpu", tmp_path).compile(programs, launch=16)
    reference = ReferenceBackend().compile(programs, launch=16)
    failures = []
    for case, w, r in zip(CASES, warp, reference):
        if not (w.ok and r.ok):
            failures.append((case[0], [t.name for t in case[1]], w.status, w.message[:200], r.message[:200]))
            continue
        mismatches = compare_outcomes(r, w)
        if mismatches:
            failures.append((case[0], [t.name for t in case[1]], "mismatch", str(mismatches[0])))
    assert not failures, failures
