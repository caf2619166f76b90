"""Atomics whose value is used (`v = atomic_add(io, i, e)`): the thread's own
element of an InOut array updated, the value the element held before. The
checker's rules at line and column, hand-computed reference values, the JAX
rendering (the element kept, then updated under the mask), the gradient
exclusion, the generator's draws and agreement of warp-cpu and jax-cpu. The
hand-written program is tests/programs/valid/atomic_values.kernel; its
renderings are goldens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kernel_synth.backends.differentiability import ATOMIC_VALUE, exclusions
from kernel_synth.backends.jax_render import render_jax
from kernel_synth.backends.reference import run_reference
from kernel_synth.grammar import ast as A
from kernel_synth.grammar import parse, print_program
from kernel_synth.grammar.errors import CheckError, ParseError
from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.grammar.stats import constructs

VALID = Path(__file__).parent / "programs" / "valid" / "atomic_values.kernel"
HEAD = (
    "@kernel\ndef k(x: In[array[float32]], io: InOut[array[float32]], iq: InOut[array[int32]],"
    " v3: InOut[array[vec3]], y: Out[array[float32]], acc: Acc[array[float32]]):\n    i = tid()\n"
)


def test_reference_values_computed_by_hand():
    inputs = {
        "x": np.array([0.5, -2.0], np.float32), "io": np.array([1.0, -2.0], np.float32),
        "iq": np.array([5, -1], np.int32), "y": np.zeros(2, np.float32),
    }
    out = run_reference(parse(VALID.read_text()), None, inputs, 2)
    # thread 0: a = 1 (io 2.5); b = 2.5 (io 2); c = 5 (iq 5); d = 2 (io = min(2, 1) = 1);
    # x > 0 twice: d = 1 (io 1 + 2 = 3), d = 3 (io 3 + 1 = 4); y = 100 + 25 + 5 + 3; io[i] = the 4 before its add
    # thread 1: a = -2 (io -0.5); b = -0.5 (io 1.5); c = -1 (iq 3); d = 1.5 (io = min(1.5, -2) = -2); y = -200 - 5 - 1 + 1.5
    assert out["y"].tolist() == [133.0, -204.5]
    assert out["io"].tolist() == [4.0, -2.0]
    assert out["iq"].tolist() == [5, 3]


@pytest.mark.parametrize(
    "body, rule, column",
    [
        ("    v = atomic_add(y, i, 1.0)\n", "role", 9),  # an Out array: never read
        ("    v = atomic_add(acc, i, 1.0)\n", "role", 9),  # Acc: other threads' atomics reach it
        ("    v = atomic_add(io, 0, 1.0)\n", "index", 24),  # another thread's element: racy
        ("    v = atomic_add(v3, i, vec3(1.0, 0.0, 0.0))\n", "operand-types", 9),
        ("    v = 1.0 + atomic_add(io, i, 1.0)\n", "atomic-position", 15),
    ],
)
def test_rules_are_located_errors(body, rule, column):
    with pytest.raises((CheckError, ParseError)) as error:
        parse(HEAD + body + "    y[i] = 0.0\n")
    assert (error.value.rule, error.value.line, error.value.column) == (rule, 4, column), str(error.value)


def test_the_checker_refuses_an_atomic_value_built_inside_an_expression():
    # what the parser refuses may still be built by a pass over the AST
    from dataclasses import replace

    from kernel_synth.grammar.checker import check

    program = parse(HEAD + "    v = atomic_add(io, i, 1.0)\n    y[i] = v\n")
    kernel = program.kernels[0]
    assign = kernel.body[1]
    inside = replace(assign, value=A.BinOp("+", A.Const(1.0), assign.value))
    with pytest.raises(CheckError) as error:
        check(replace(program, kernels=(replace(kernel, body=(kernel.body[0], inside, kernel.body[2])),)))
    assert error.value.rule == "atomic-position"


def test_jax_keeps_the_element_then_updates_it_under_the_mask():
    source = render_jax(parse(HEAD + "    if x[i] > 0.0:\n        a = atomic_sub(io, i, x[i])\n        y[i] = a\n"))
    kept = source.index("old1 = io_i")
    assert kept < source.index("io_i = jnp.where(mask1, io_i - x[i], io_i)")
    assert "a = old1\n" in source and "y_i = jnp.where(mask1, a, y_i)" in source


def test_the_gradient_oracle_leaves_atomic_values_out():
    program = parse(HEAD + "    a = atomic_add(io, i, x[i])\n    y[i] = a * x[i]\n")
    assert exclusions(program) == [ATOMIC_VALUE]


def test_the_generator_draws_atomic_values_that_check():
    found = 0
    for program in draw_programs(400, seed=9):
        if "atomic-value" in constructs(program):
            found += 1
            assert parse(print_program(program)) == program
            for node in A.walk(program):
                if isinstance(node, A.AtomicValue) and node.ty.is_int:
                    assert node.op in ("min", "max")  # no add can overflow the element
    assert found >= 8
