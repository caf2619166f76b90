"""The stages import only from stages to their left: grammar <- backends <- shrink <- synth."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = ["grammar", "backends", "shrink", "synth"]
NAMESPACE = "kernel_synth"


def _package(dotted: str) -> str:
    """The stage a dotted import names (`kernel_synth.grammar.ast` -> grammar),
    or its top-level package for anything outside the project."""
    parts = dotted.split(".")
    return parts[1] if parts[0] == NAMESPACE and len(parts) > 1 else parts[0]


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(_package(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == NAMESPACE:  # from kernel_synth import grammar
                found.update(alias.name for alias in node.names)
            else:
                found.add(_package(node.module))
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
    for name in ("strategies.py", "generator.py", "intervals.py", "swarm.py", "categories.py", "checker.py", "parser.py", "printer.py"):
        assert "random" not in _imported_packages(ROOT / "grammar" / name)


@pytest.mark.parametrize("stage", STAGES)
def test_no_bare_stage_imports(stage):
    """Every import of a stage goes through the kernel_synth namespace: a bare
    `import grammar` would find another distribution's package, or none."""
    for path in sorted((ROOT / stage).rglob("*.py")) + sorted((ROOT / "tests").glob("*.py")) + sorted((ROOT / "benchmarks").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            for name in names:
                assert name.split(".")[0] not in STAGES, f"{path.relative_to(ROOT)}:{node.lineno}: bare import of {name}"


def test_installed_packages_sit_under_the_namespace():
    """Nothing of ours lands at the top level of site-packages."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert all(p.startswith(NAMESPACE + ".") for p in config["packages"]), config["packages"]
    assert sorted(config["package-dir"]) == sorted(config["packages"])
    import kernel_synth.grammar

    assert Path(kernel_synth.grammar.__file__).resolve().parent == ROOT / "grammar"


def test_no_production_module_imports_the_test_backend():
    """The faulty backend wraps real ones from the outside; the registry names
    its factories as strings, so nothing else imports it."""
    for stage in STAGES:
        for path in sorted((ROOT / stage).rglob("*.py")):
            if path.name == "faults.py":
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom):
                    names = [node.module or ""] + [f"{node.module or ''}.{a.name}" for a in node.names]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                else:
                    continue
                assert not any(n.split(".")[-1] == "faults" for n in names), f"{path.relative_to(ROOT)}:{node.lineno} imports the test backend"
