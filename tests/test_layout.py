"""The stages import only from stages to their left: grammar <- backends <- shrink <- synth."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = ["grammar", "backends", "shrink", "synth"]


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("stage", STAGES)
def test_stage_imports_only_from_its_left(stage):
    later = set(STAGES[STAGES.index(stage) + 1 :])
    files = sorted((ROOT / stage).rglob("*.py"))
    assert files
    for path in files:
        bad = _imported_packages(path) & later
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_the_generator_uses_no_other_randomness():
    """Every choice is a Hypothesis draw: no `random` in the generator itself."""
    for name in ("strategies.py", "categories.py", "checker.py", "parser.py", "printer.py"):
        assert "random" not in _imported_packages(ROOT / "grammar" / name)
