"""Parallel assignment (`a, b = x, y`): every value is evaluated before any
name is assigned, so `a, b = b, a` swaps. The checker's rules (each error at
its line and column), values computed by hand on the reference and on JAX, the
generator's swaps and new names, and the shrinking pass that drops one name
with its value. The hand-written program is tests/programs/valid/parallel.kernel;
its renderings are goldens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kernel_synth.backends.reference import run_reference
from kernel_synth.grammar import DSLError, check, parse, print_program
from kernel_synth.grammar import ast as A
from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.grammar.stats import constructs
from kernel_synth.shrink.passes import drop_tuple_elements

SOURCE = (Path(__file__).parent / "programs" / "valid" / "parallel.kernel").read_text()
PROGRAM = parse(SOURCE)
X = np.array([1.0, -3.0, 0.5, 4.0, 2.0], np.float32)


def _inputs() -> dict:
    return {"x": X.copy(), "o": np.zeros(5, np.float32), "q": np.zeros(5, np.int32), "v": np.zeros((5, 3), np.float32)}


def _by_hand() -> dict:
    o, q, v = [], [], []
    for i, x in enumerate(X.tolist()):
        a, b, c = x, 2.0, -1.0
        a, b = b, a
        a, b, c = b, c, a  # a rotation: a <- b, b <- c, c <- a, all at once
        t, m = a * 2.0, i + 1
        u, w = np.array([a, b, c]), 0.5
        for k in range(min(max(i, 0), 4)):
            m, t = m + k, t - w
        fa, fb = a, b
        for _ in range(min(max(i, 0), 6)):
            fa, fb = fb, fa + fb  # Fibonacci steps: only right with both values read first
        o.append(fa + t)
        q.append(m)
        v.append(u * w)
    return {"o": np.array(o, np.float32), "q": np.array(q, np.int32), "v": np.array(v, np.float32)}


def test_reference_values_by_hand():
    out, expected = run_reference(PROGRAM, None, _inputs(), 5), _by_hand()
    for name in ("o", "q", "v"):
        np.testing.assert_array_equal(out[name], expected[name])
    # the case where assigning one name at a time would differ: i = 3
    assert out["o"][3] == 8.5 and out["q"][3] == 7


@pytest.mark.compiler
def test_jax_values_by_hand():
    from kernel_synth.backends.jax_run import run_jax

    out, expected = run_jax(PROGRAM, _inputs(), 5), _by_hand()
    for name in ("o", "q", "v"):
        np.testing.assert_allclose(out[name], expected[name], rtol=1e-6)


HEAD = "@kernel\ndef k(x: In[array[float32]], o: Out[array[float32]], s: float32):\n    i = tid()\n    a = x[i]\n    b = 1.0\n"


@pytest.mark.parametrize(
    "body, rule, line, column",
    [
        ("    a, b = b\n", "unpack", 6, 12),  # one value is not several: only a helper's are unpacked
        ("    a, b = b, a, 1.0\n", "unpack", 6, 5),
        ("    a, b = b, a > 0.0\n", "type-mismatch", 6, 15),
        ("    a, s = b, a\n", "read-only", 6, 8),
        ("    a, a = b, 1.0\n", "unpack", 6, 8),
        ("    a, b = b, i\n", "type-mismatch", 6, 8),
    ],
)
def test_parallel_assignment_rules_at_their_place(body, rule, line, column):
    with pytest.raises(DSLError) as info:
        parse(HEAD + body + "    o[i] = a\n")
    error = info.value
    assert (error.rule, error.line, error.column) == (rule, line, column), str(error)


def test_generated_parallel_assignments_swap_and_declare():
    swaps = declares = 0
    for program in draw_programs(600, seed=6):
        assert parse(print_program(program)) == check(program)
        for node in A.walk(program):
            if isinstance(node, A.Unpack) and isinstance(node.value, A.TupleExpr):
                assert len(node.targets) == len(node.value.items) in (2, 3)
                assert "parallel-assign" in constructs(program)
                swaps += node.value.items == node.targets[1:] + node.targets[:1]
                declares += 1
    assert swaps >= 3 and declares >= 30, (swaps, declares)


def test_shrinking_drops_one_name_and_its_value():
    candidates = [print_program(c) for c in drop_tuple_elements(PROGRAM)]
    # a, b = a0, b0 in the helper: one name left, a plain assignment
    assert any("    b = b0\n" in c and "a, b = a0, b0" not in c for c in candidates)
    # the rotation of three: two names left
    assert any("    a, c = b, a\n" in c for c in candidates)
    assert len(candidates) == 2 + 2 + 2 + 3 + 2 + 2 + 2  # every name of every parallel assignment
