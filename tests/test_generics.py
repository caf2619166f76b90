"""Generic helpers (`a: Any`, instantiated per call) and overloaded helpers
(one name, several parameter types): the checker's rules (each at its line
and column), the monomorphized program the reference and JAX run, values
computed by hand, the Warp rendering and its release gate.

The hand-written program is tests/programs/valid/generics.kernel; its Warp
and JAX renderings are goldens (tests/golden/{warp,jax}/generics.py), and
tests/test_valid_programs_agree.py runs it through every oracle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kernel_synth.backends.errors import Unsupported
from kernel_synth.backends.reference import run_reference
from kernel_synth.backends.warp_release import FEATURES, Feature, WarpRelease
from kernel_synth.backends.warp_render import render_warp
from kernel_synth.grammar import DSLError, check, parse, print_program
from kernel_synth.grammar import ast as A
from kernel_synth.grammar.lowering import call_binding, is_generic, monomorphize
from kernel_synth.grammar.types import ANY, F32, F64, I32, VEC3

SOURCE = (Path(__file__).parent / "programs" / "valid" / "generics.kernel").read_text()
PROGRAM = parse(SOURCE)

INPUTS = {
    "x": np.array([1.0, 2.0], np.float32),
    "d": np.array([1.0, -3.0]),
    "v": np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]], np.float32),
    "m": np.array([5, -2], np.int32),
    "y": np.zeros(2, np.float32),
    "w": np.zeros((2, 3), np.float32),
    "z": np.zeros(2),
}
# twice_minus(a, b) = 2a - b; around(a, b) = (2a - b) + b + (2b - a) = a + 2b.
# a = x + 3; b = 2d - 0.25 (float64); c = v + (2, 0, -2); k = 2m - 3 (int32);
# y = a + x/2 + |v|^2 + (x - k).
Y = np.array([(1 + 3) + 0.5 + 14 + (1 - 7), (2 + 3) + 1 + 1 + (2 + 7)], np.float32)
W = np.array([[3.0, 2.0, 1.0], [2.0, 1.0, -2.0]], np.float32)
Z = np.array([1.75, -6.25])


def test_reference_values_by_hand():
    out = run_reference(PROGRAM, None, INPUTS, 2)
    np.testing.assert_array_equal(out["y"], Y)
    np.testing.assert_array_equal(out["w"], W)
    np.testing.assert_array_equal(out["z"], Z)


@pytest.mark.compiler
def test_jax_values_by_hand():
    from kernel_synth.backends.jax_run import run_jax

    out = run_jax(PROGRAM, INPUTS, 2)
    np.testing.assert_array_equal(out["y"], Y)
    np.testing.assert_array_equal(out["w"], W)
    np.testing.assert_array_equal(out["z"], Z)


def test_printing_round_trips():
    assert parse(print_program(PROGRAM)) == PROGRAM


def test_a_generic_body_is_typed_with_the_type_variable():
    generic = PROGRAM.funcs[0]
    assert is_generic(generic) and generic.ret == ANY
    assert {n.ty for n in A.walk(generic) if isinstance(n, A.BinOp)} == {ANY}


def test_monomorphized_program_has_one_helper_per_type_and_overload():
    mono = monomorphize(PROGRAM)
    names = [f.name for f in mono.funcs]
    assert names == ["twice_minus__float32", "twice_minus__float64", "twice_minus__int32", "twice_minus__vec3", "around__float32", "around__vec3", "weight__o0", "weight__o1", "weight__o2"]
    assert not any(n.ty == ANY for n in A.walk(mono) if hasattr(n, "ty"))
    assert [p.ty for p in mono.funcs[1].params] == [F64, F64]
    # every call names a helper of the lowered program, with its types
    defined = {f.name: f for f in mono.funcs}
    for node in A.walk(mono):
        if isinstance(node, A.Call) and node.func in defined:
            assert tuple(a.ty for a in node.args) == tuple(p.ty for p in defined[node.func].params)
    assert monomorphize(mono) is mono


def test_warp_rendering_keeps_any_and_overloads():
    source = render_warp(PROGRAM)
    assert "from typing import Any" in source
    assert "def twice_minus(a: Any, b: Any) -> Any:" in source
    assert source.count("def weight(") == 3


def test_release_without_the_feature_counts_as_unsupported(monkeypatch):
    monkeypatch.setitem(FEATURES, "generic_helpers", Feature("9.0.0", "generic"))
    with pytest.raises(Unsupported, match="generic helper"):
        render_warp(PROGRAM, release=WarpRelease("1.19.0"))
    monkeypatch.setitem(FEATURES, "overloaded_helpers", Feature("9.0.0", "overloads"))
    overloads_only = A.Program(PROGRAM.funcs[2:], PROGRAM.kernels)
    with pytest.raises(Unsupported, match="overloaded helper"):
        render_warp(check(A.Program(overloads_only.funcs, (A.Kernel("k", (), (A.Assign(A.Name("t"), A.Call("weight", (A.Const(1.0),))),)),))), release=WarpRelease("1.19.0"))


HEAD = "@func\ndef g(a: Any, b: Any) -> Any:\n    return a + b\n\n"
OVER = "@func\ndef f(a: float32) -> float32:\n    return a\n\n@func\ndef f(a: vec3) -> vec3:\n    return a\n\n"
KERNEL = "@kernel\ndef k(x: In[array[float32]], u: In[array[uint32]], d: In[array[float64]], o: Out[array[float32]]):\n    i = tid()\n"


@pytest.mark.parametrize(
    "text,rule,line,column",
    [
        # a value of type Any is only added, subtracted or negated
        ("@func\ndef g(a: Any, b: Any) -> Any:\n    return a * b\n\n" + KERNEL + "    o[i] = x[i]\n", "operand-types", 3, 12),
        ("@func\ndef g(a: Any) -> Any:\n    return a + 1.0\n\n" + KERNEL + "    o[i] = x[i]\n", "operand-types", 3, 12),
        ("@func\ndef g(a: Any) -> float32:\n    return sin(a)\n\n" + KERNEL + "    o[i] = x[i]\n", "operand-types", 3, 12),
        # an instantiation that fails is located in the body (uint32 cannot be negated)
        ("@func\ndef g(a: Any) -> Any:\n    return -a\n\n" + KERNEL + "    o[i] = x[i]\n    t = g(u[i])\n", "operand-types", 3, 12),
        # every Any argument binds the same type
        (HEAD + KERNEL + "    o[i] = g(x[i], float32(d[i]))\n    t = g(d[i], x[i])\n", "generic", 9, 17),
        (HEAD + KERNEL + "    o[i] = g(x[i] < 1.0, x[i])\n", "generic", 8, 14),
        ("@func\ndef g(a: float32) -> Any:\n    return a\n\n" + KERNEL + "    o[i] = x[i]\n", "generic", 1, 1),
        ("@kernel\ndef k(a: Any, o: Out[array[float32]]):\n    o[tid()] = 1.0\n", "generic", 2, 7),
        # overloads: other parameter types, resolved exactly
        (OVER + "@func\ndef f(b: float32) -> float32:\n    return b\n\n" + KERNEL + "    o[i] = x[i]\n", "overload", 9, 1),
        (OVER + KERNEL + "    o[i] = f(float64(x[i]))\n", "overload", 12, 12),
        (HEAD + "@func\ndef g(a: float32) -> float32:\n    return a\n\n" + KERNEL + "    o[i] = x[i]\n", "overload", 1, 1),
        ("@func\ndef f(a: float32) -> float32:\n    return a\n\n@func\ndef f(a: vec3) -> vec3:\n    return f(a.x) * a\n\n" + KERNEL + "    o[i] = x[i]\n", "recursion", 7, 12),
    ],
)
def test_located_errors(text, rule, line, column):
    with pytest.raises(DSLError) as info:
        parse(text)
    error = info.value
    assert (error.rule, error.line, error.column) == (rule, line, column), str(error)
    assert "\n" not in str(error)


def test_an_instantiation_error_names_the_type_and_the_call():
    text = "@func\ndef g(a: Any) -> Any:\n    return -a\n\n" + KERNEL + "    o[i] = x[i]\n    t = g(u[i])\n"
    with pytest.raises(DSLError, match=r"in g with Any = uint32, called at 9:9"):
        parse(text)


def test_generic_calls_take_the_bound_type():
    program = parse(HEAD + KERNEL + "    a = g(x[i], x[i])\n    b = g(d[i], d[i])\n    o[i] = a + float32(b)\n")
    a, b = program.kernels[0].body[1:3]
    assert (a.value.ty, b.value.ty) == (F32, F64)
    program = parse(OVER + KERNEL + "    a = f(x[i])\n    b = f(vec3(x[i], 0.0, 1.0))\n    o[i] = a + b.y\n")
    a, b = program.kernels[0].body[1:3]
    assert (a.value.ty, b.value.ty) == (F32, VEC3)
    assert I32 != F32


def test_constructs_name_generic_overloaded_and_nested_helpers():
    from kernel_synth.grammar.stats import constructs, helper_depths

    used = constructs(PROGRAM)
    assert {"generic-helper", "generic-instances", "overload", "helper-in-helper"} <= used and "helper-chain-3" not in used
    assert helper_depths(PROGRAM) == {"twice_minus": 1, "around": 2, "weight": 1}
    one_type = parse(HEAD + KERNEL + "    o[i] = g(x[i], x[i])\n")
    assert "generic-instances" not in constructs(one_type) and "overload" not in constructs(one_type)


def test_a_chain_of_three_helpers_is_its_own_construct():
    from kernel_synth.grammar.stats import constructs, helper_depths

    chain = (
        "@func\ndef h1(a: float32) -> float32:\n    return a * 2.0\n\n"
        "@func\ndef h2(a: float32) -> float32:\n    v = h1(a)\n    return v + 1.0\n\n"
        "@func\ndef h3(a: float32) -> float32:\n    v = h2(a)\n    return v\n\n"
    )
    program = parse(chain + KERNEL + "    o[i] = h3(x[i])\n")
    assert helper_depths(program) == {"h1": 1, "h2": 2, "h3": 3}
    assert {"helper-in-helper", "helper-chain-3"} <= constructs(program)
    two = parse(chain.rsplit("@func", 1)[0] + KERNEL + "    o[i] = h2(x[i])\n")
    assert "helper-in-helper" in constructs(two) and "helper-chain-3" not in constructs(two)


def test_shrinking_drops_an_unused_overload():
    from kernel_synth.shrink.passes import drop_unused_overloads

    program = parse(OVER + KERNEL + "    o[i] = f(x[i])\n")
    (candidate,) = drop_unused_overloads(program)
    assert [p.ty for f in candidate.funcs for p in f.params] == [F32]
    assert check(candidate) == candidate
    assert list(drop_unused_overloads(parse(OVER + KERNEL + "    o[i] = f(x[i]) + f(vec3(x[i], 0.0, 0.0)).x\n"))) == []


def test_shrinking_makes_a_generic_called_at_one_type_concrete():
    from kernel_synth.shrink.passes import concretize_generics
    from kernel_synth.shrink.reducer import shrink

    program = parse(HEAD + KERNEL + "    o[i] = g(x[i], x[i])\n")
    (candidate,) = concretize_generics(program)
    assert not is_generic(candidate.funcs[0]) and candidate.funcs[0].ret == F32
    assert check(candidate) == candidate
    assert list(concretize_generics(PROGRAM)) == []  # every generic there runs at several types
    small = shrink(program, lambda p: any(f.name == "g" for f in p.funcs)).program
    assert not any(map(is_generic, small.funcs))


def test_drawn_programs_have_generic_and_overloaded_helpers_that_check():
    from kernel_synth.grammar.sampling import draw_programs

    generic = overloaded = 0
    for program in draw_programs(200, seed=0):
        assert parse(print_program(program)) == program
        mono = monomorphize(program)
        assert not any(getattr(n, "ty", None) == ANY for n in A.walk(mono))
        if any(map(is_generic, program.funcs)):
            generic += 1
            assert all(len({call_binding(f, n) for n in A.walk(program.kernels[0]) if isinstance(n, A.Call) and n.func == f.name}) >= 2 for f in program.funcs if is_generic(f))
        overloaded += len({f.name for f in program.funcs}) < len(program.funcs)
    assert generic and overloaded


def test_a_generic_helper_may_return_a_concrete_type():
    program = parse(
        "@func\ndef g(a: Any, s: float32) -> float32:\n    t = a - a\n    return s * 2.0\n\n"
        + KERNEL
        + "    o[i] = g(d[i], x[i]) + g(vec3(x[i], 1.0, 2.0), 0.5)\n"
    )
    call = program.kernels[0].body[1].value.left
    assert call.ty == F32 and [a.ty for a in call.args] == [F64, F32]
    mono = monomorphize(program)
    assert [(f.name, f.ret) for f in mono.funcs] == [("g__float64", F32), ("g__vec3", F32)]
    inputs = {"x": np.array([1.0, -2.0], np.float32), "u": np.zeros(2, np.uint32), "d": np.zeros(2), "o": np.zeros(2, np.float32)}
    np.testing.assert_array_equal(run_reference(program, None, inputs, 2)["o"], np.array([3.0, -3.0], np.float32))
