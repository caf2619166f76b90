"""The Warp renderer: golden output on hand-written programs of every construct,
and, for generated programs, source that Python parses and libcst round-trips."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings

from kernel_synth.grammar import parse
from kernel_synth.grammar.strategies import programs
from kernel_synth.backends.errors import RenderError
from kernel_synth.backends.warp_render import render_warp, render_warp_batch

HERE = Path(__file__).parent
VALID = sorted((HERE / "programs" / "valid").glob("*.kernel"))
GOLDEN = HERE / "golden" / "warp"


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_golden(path):
    source = render_warp(parse(path.read_text(), str(path)))
    golden = GOLDEN / f"{path.stem}.py"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(source)
    assert source == golden.read_text(), f"rendering changed; if intended, rerun with UPDATE_GOLDEN=1 and review {golden}"


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(programs())
def test_rendered_source_parses_and_round_trips(program):
    source = render_warp(program)
    ast.parse(source)
    assert cst.parse_module(source).code == source


def test_batches_rename_every_definition():
    program = parse((HERE / "programs" / "valid" / "design_sketch.kernel").read_text())
    source, names = render_warp_batch([program, program])
    assert names[0] == {"soft": "soft_p0", "k0": "k0_p0"}
    assert names[1] == {"soft": "soft_p1", "k0": "k0_p1"}
    tree = ast.parse(source)
    defined = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert defined == ["soft_p0", "k0_p0", "soft_p1", "k0_p1"]
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert "soft" not in calls and {"soft_p0", "soft_p1"} <= calls


def test_unknown_nodes_are_render_errors():
    from dataclasses import dataclass

    from kernel_synth.backends.warp_render import _Renderer

    @dataclass(frozen=True)
    class Strange:
        pos: None = None

    with pytest.raises(RenderError, match="Strange"):
        _Renderer().stmt(Strange())
    with pytest.raises(RenderError, match="Strange"):
        _Renderer().expr(Strange())
