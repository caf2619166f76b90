"""jax-cpu and jax-cuda: StableHLO forward and grad; CPU results agree with the reference."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from kernel_synth.grammar import parse
from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.backends.compare import compare_outcomes
from kernel_synth.backends.reference_backend import ReferenceBackend

pytestmark = [
    pytest.mark.compiler,
    pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed"),
]

HERE = Path(__file__).parent


def test_jax_cpu_lowers_compiles_runs_and_agrees():
    from kernel_synth.backends.jax_backend import jax_cpu

    programs = [parse(p.read_text()) for p in sorted((HERE / "programs" / "valid").glob("*.kernel"))]
    programs += list(draw_programs(12, seed=5))
    outcomes = jax_cpu(backward=True).compile(programs, launch=16)
    reference = ReferenceBackend().compile(programs, launch=16)
    for outcome, expected in zip(outcomes, reference):
        assert outcome.ok, outcome.message
        assert "stablehlo." in outcome.artifacts["forward.mlir"]
        assert compare_outcomes(expected, outcome) == []
    assert any("stablehlo." in o.artifacts.get("backward.mlir", "") for o in outcomes)


def test_jax_cuda_lowers_without_a_gpu():
    from kernel_synth.backends.jax_backend import jax_cuda

    program = parse((HERE / "programs" / "valid" / "design_sketch.kernel").read_text())
    (outcome,) = jax_cuda(backward=True).compile([program])
    assert outcome.ok, outcome.message
    assert outcome.outputs is None  # lowered, not run: there is no GPU here
    assert "stablehlo." in outcome.artifacts["forward.mlir"]
    assert "stablehlo." in outcome.artifacts["backward.mlir"]
