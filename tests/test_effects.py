"""Side effects inside expressions: every backend runs them exactly where the
language evaluates (grammar/SEMANTICS.md), and a Warp release that would
evaluate them elsewhere gets the program as unsupported, never as a finding.

The hand-computed values are in tests/test_reference.py (EFFECTS_*)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from kernel_synth.backends.compare import compare_outcomes
from kernel_synth.backends.errors import Unsupported
from kernel_synth.backends.outcome import Outcome, Status
from kernel_synth.backends.reference_backend import ReferenceBackend
from kernel_synth.backends.warp_release import WarpRelease
from kernel_synth.backends.warp_render import render_warp
from kernel_synth.grammar import parse
from kernel_synth.synth.oracles import judge

from test_reference import EFFECTS_HITS, EFFECTS_O, EFFECTS_X

PROGRAM = parse((Path(__file__).parent / "programs" / "valid" / "effects_in_expressions.kernel").read_text())

BUMP = "@func\ndef bump(acc: Acc[array[float32]], t: float32) -> float32:\n    atomic_add(acc, 0, t)\n    return t\n\n"
HEAD = "@kernel\ndef k(x: In[array[float32]], a: Acc[array[float32]], o: Out[array[float32]]):\n    i = tid()\n"


def kernel(*body: str) -> str:
    return BUMP + HEAD + "".join(line + "\n" for line in body)


@pytest.mark.parametrize(
    "text, release, needed",
    [
        (kernel("    if x[i] > 0.0 and bump(a, 1.0) > 0.0:", "        o[i] = 1.0"), "1.12.1", "1.13.0"),
        (kernel("    w = 0", "    while w < 2 and bump(a, 1.0) > x[i]:", "        w += 1"), "1.12.1", "1.13.0"),
        (kernel("    o[i] = bump(a, 1.0) if x[i] > 0.0 else 0.0"), "1.7.2", "1.8.0"),
    ],
)
def test_an_effect_the_release_would_evaluate_regardless_is_unsupported(text, release, needed):
    program = parse(text)
    with pytest.raises(Unsupported, match=f">= {needed}"):
        render_warp(program, release=WarpRelease(release))
    render_warp(program, release=WarpRelease(needed))  # the first release that evaluates it lazily


def test_a_guarded_read_the_release_would_evaluate_unguarded_is_unsupported():
    guards = parse((Path(__file__).parent / "programs" / "valid" / "guards.kernel").read_text())
    with pytest.raises(Unsupported, match="guarded read in an arm of a conditional expression needs warp-lang >= 1.8.0"):
        render_warp(guards, release=WarpRelease("1.7.2"))
    with pytest.raises(Unsupported, match="guarded read in the right operand of and/or needs warp-lang >= 1.13.0"):
        render_warp(guards, release=WarpRelease("1.12.1"))
    render_warp(guards, release=WarpRelease("1.13.0"))
    # a guard in an if statement is a real branch on every release
    in_if = parse(
        "@kernel\ndef k(x: In[array[float32]], o: Out[array[float32]], n: int32):\n    i = tid()\n"
        "    if 0 <= n and n < len(x):\n        o[i] = x[n]\n"
    )
    render_warp(in_if, release=WarpRelease("1.0.2"))


def test_effects_where_every_release_evaluates_them_render_everywhere():
    # in the left operand, in where() (a call on every release), as an operand
    text = kernel("    o[i] = where(bump(a, 1.0) > x[i], bump(a, 2.0), 0.0) + bump(a, 3.0)")
    for release in ("1.0.2", "1.7.0", "1.12.1"):
        source = render_warp(parse(text), release=WarpRelease(release))
        assert ("wp.where" in source) == (release != "1.0.2")  # wp.select before 1.7


def test_unsupported_is_judged_by_no_oracle():
    outcome = Outcome(Status.UNSUPPORTED, message="needs warp-lang >= 1.13.0")
    assert judge("warp-cpu", outcome, None, frozenset({"compile", "crash", "forward"})) is None


def test_reference_counts_each_evaluation():
    (outcome,) = ReferenceBackend().compile([PROGRAM], launch=16)
    assert outcome.ok and outcome.outputs["hits"][:7].min() > 0


@pytest.mark.compiler
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_jax_runs_effects_where_the_language_does():
    from kernel_synth.backends.jax_run import run_jax

    zeros = {"hits": np.zeros(8, np.int32), "o": np.zeros(8, np.float32)}
    out = run_jax(PROGRAM, {"x": EFFECTS_X, **zeros}, 8)
    np.testing.assert_array_equal(out["hits"], EFFECTS_HITS)
    np.testing.assert_array_equal(out["o"], EFFECTS_O)


@pytest.mark.compiler
@pytest.mark.skipif(importlib.util.find_spec("warp") is None, reason="warp-lang is not installed")
def test_warp_agrees_with_the_reference_on_effects_and_spellings(tmp_path):
    from kernel_synth.backends.warp_backend import warp_cpu
    from kernel_synth.backends.warp_release import installed

    spellings = parse((Path(__file__).parent / "programs" / "valid" / "spellings.kernel").read_text())
    effects, spelled = warp_cpu(workdir=tmp_path).compile([PROGRAM, spellings], launch=16)
    expected = ReferenceBackend().compile([PROGRAM, spellings], launch=16)
    assert spelled.ok, spelled.message
    assert compare_outcomes(expected[1], spelled) == []
    if not installed().has("short_circuit"):
        assert effects.status is Status.UNSUPPORTED
        return
    assert effects.ok, effects.message
    assert compare_outcomes(expected[0], effects) == []


def test_vector_abs_is_bridged_before_the_release_that_has_it():
    spellings = parse((Path(__file__).parent / "programs" / "valid" / "spellings.kernel").read_text())
    old, new = render_warp(spellings, release=WarpRelease("1.2.2")), render_warp(spellings, release=WarpRelease("1.3.0"))
    assert "def abs_vec3(a: wp.vec3) -> wp.vec3:" in old and "abs_vec3(v[i])" in old
    assert "abs_vec3" not in new and "wp.abs(v[i])" in new
