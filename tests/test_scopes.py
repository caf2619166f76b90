"""Names scoped as Warp scopes them (Python's rules, per function): a local
that every arm of an if/elif/else declares outlives the statement; a name
has one type in a whole definition. Checker rules at line and column,
hand-computed reference values, the JAX rendering (the name declared before
the statement, each arm's assignment masked), the generator's merged locals,
and agreement of warp-cpu and jax-cpu. The hand-written program is
tests/programs/valid/scopes.kernel; its renderings are goldens."""

from __future__ import annotations

import numpy as np
import pytest

from kernel_synth.backends.jax_render import render_jax
from kernel_synth.backends.reference import run_reference
from kernel_synth.grammar import ast as A
from kernel_synth.grammar import parse, print_program
from kernel_synth.grammar.errors import CheckError
from kernel_synth.grammar.productions import productions
from kernel_synth.grammar.queries import assigned_in_every_arm
from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.grammar.stats import constructs
from kernel_synth.grammar.types import F32

HEAD = "@kernel\ndef k(x: In[array[float32]], y: Out[array[float32]]):\n    i = tid()\n"
CHAIN = HEAD + (
    "    if x[i] > 1.0:\n        a = x[i] * 2.0\n"
    "    elif x[i] > -1.0:\n        if x[i] > 0.0:\n            a = 7.0\n        else:\n            a = 8.0\n"
    "    else:\n        t = -1.0\n        a = t - x[i]\n"
    "    y[i] = a\n"
)


def _run(text: str, x: list[float]) -> list[float]:
    inputs = {"x": np.array(x, np.float32), "y": np.zeros(len(x), np.float32)}
    return run_reference(parse(text), None, inputs, len(x))["y"].tolist()


def test_a_local_every_arm_declares_outlives_the_if():
    program = parse(CHAIN)
    assert assigned_in_every_arm(program.kernels[0].body[1]) == {"a": F32}
    # 3 * 2; 0.5 takes the nested if; -0.5 its else; -3: t - x = -1 + 3
    assert _run(CHAIN, [3.0, 0.5, -0.5, -3.0]) == [6.0, 7.0, 8.0, 2.0]


@pytest.mark.parametrize(
    "body, rule, line, column",
    [
        # no else: the name may be unassigned after the statement
        ("    if x[i] > 0.0:\n        a = 1.0\n    y[i] = a\n", "unknown-name", 6, 12),
        # one arm's own local (t) ends with it
        ("    if x[i] > 0.0:\n        t = 1.0\n        a = t\n    else:\n        a = 2.0\n    y[i] = t\n", "unknown-name", 9, 12),
        # one type per name per function, even in arms that never meet
        ("    if x[i] > 0.0:\n        a = 1.0\n    else:\n        a = 2\n    y[i] = 0.0\n", "name-type", 7, 9),
        ("    for j in range(2):\n        y[i] = 1.0\n    j = 0.5\n    y[i] = j\n", "name-type", 6, 5),
        ("    if x[i] > 0.0:\n        j = 1.0\n        y[i] = j\n    for j in range(2):\n        y[i] = 1.0\n", "name-type", 7, 5),
    ],
)
def test_scoping_rules_are_located_errors(body, rule, line, column):
    with pytest.raises(CheckError) as error:
        parse(HEAD + body)
    assert (error.value.rule, error.value.line, error.value.column) == (rule, line, column), str(error.value)


def test_jax_declares_the_merged_name_before_the_if_and_masks_each_arm():
    source = render_jax(parse(CHAIN))
    declared = source.index("a = jnp.float32(0.0)")
    assert declared < source.index("mask1 =")
    assert "a = jnp.where(mask1, lax.mul(x[i], jnp.float32(2.0)), a)" in source  # x[i] * 2.0 spelled by lax (grammar.queries.jax_operation)
    # declared by the nested if's arms, which are masked within the elif's
    assert "a = jnp.where(mask3, 7.0, a)" in source and "a = jnp.where(mask4, 8.0, a)" in source
    # the else arm's own local is assigned plainly: it is visible there only
    assert "t = jnp.float32(-1.0)\n" in source


@pytest.mark.parametrize("construct, at_least", [("merged-name", 6), ("reused-name", 10)])  # about 6% and 10% of 200
def test_the_generator_draws_scoped_names_that_check(construct, at_least):
    found = 0
    for program in draw_programs(200, seed=6):
        if construct in constructs(program):
            found += 1
            assert parse(print_program(program)) == program
    assert found >= at_least


def test_reused_names_are_told_from_reassignments():
    # j again for a sibling loop, then as a plain local; t again after its arm ended
    reused = HEAD + (
        "    s = 0.0\n    for j in range(2):\n        y[i] = 1.0\n    for j in range(3):\n        s += 1.0\n"
        "    if x[i] > 0.0:\n        t = 1.0\n        y[i] = t\n    t = 2.0\n    j = 4\n    y[i] = s + t + float32(j)\n"
    )
    program = parse(reused)
    assert "reused-name" in constructs(program)
    assert ("name_choice", "reuse") in productions(program)
    # j = 4 after its loop ended is a new declaration: 3 + 2 + 4
    assert _run(reused, [1.0, -1.0]) == [9.0, 9.0]
    plain = HEAD + "    t = 1.0\n    if x[i] > 0.0:\n        t = 2.0\n    y[i] = t\n"
    assert "reused-name" not in constructs(parse(plain))


def test_merged_name_construct_needs_a_new_name():
    reassigned = HEAD + "    a = 0.0\n    if x[i] > 0.0:\n        a = 1.0\n    else:\n        a = 2.0\n    y[i] = a\n"
    assert "merged-name" not in constructs(parse(reassigned))
    assert "merged-name" in constructs(parse(CHAIN))
    assert isinstance(parse(CHAIN).kernels[0].body[1], A.If)
