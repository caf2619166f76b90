"""The shipped regression corpora, one test per case.

A case that no longer fails (fixed) passes; one that fails with another
signature (changed) fails; one that still fails as recorded is an expected
failure, so that this suite stays green while a known compiler bug is open.
Set KERNEL_SYNTH_STRICT_CORPORA=1 to make still-failing cases fail instead, as
a compiler's own CI would want.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from kernel_synth.grammar import parse
from kernel_synth.synth.corpus import find_cases, read_case

ROOT = Path(__file__).resolve().parents[1] / "corpora"
CASES = find_cases([ROOT]) if ROOT.exists() else []
STRICT = os.environ.get("KERNEL_SYNTH_STRICT_CORPORA") == "1"


@pytest.mark.parametrize("path", CASES, ids=lambda p: str(p.relative_to(ROOT)))
def test_case_parses_and_describes_itself(path):
    case = read_case(path)
    parse(case.text, str(path))
    header = case.header
    assert header.signature and header.oracle and header.backend and header.versions and header.date, header
    assert header.shrunk and header.size_after <= header.size_before, header
    assert header.index is not None or header.origin, f"{path}: the header says neither index nor origin"


@pytest.mark.compiler
@pytest.mark.parametrize("path", CASES, ids=lambda p: str(p.relative_to(ROOT)))
def test_case_replays(path):
    from kernel_synth.backends.registry import BACKENDS
    from kernel_synth.synth.replay import ReplayStatus, replay

    case = read_case(path)
    library = BACKENDS[case.backend].library
    if importlib.util.find_spec(library) is None:
        pytest.skip(f"{case.backend} needs {library}")
    (result,) = replay([path], workers=1)
    if result.status is ReplayStatus.NOT_RUN:
        pytest.skip(result.message)
    if result.status is ReplayStatus.CHANGED:
        pytest.fail(f"signature changed: recorded {result.expected}, now {result.got}")
    if result.status is ReplayStatus.STILL_FAILING and not STRICT:
        pytest.xfail(f"still failing: {result.expected}")
    assert result.status is not ReplayStatus.STILL_FAILING, f"still failing: {result.expected}"


@pytest.mark.compiler
def test_a_case_found_by_running_on_a_gpu_is_not_run_where_none_is(monkeypatch):
    """Without a GPU, a warp-cuda gradient case would otherwise replay as fixed."""
    from kernel_synth.synth import replay as replay_module

    monkeypatch.setattr(replay_module, "cuda_device_present", lambda: False)
    (result,) = replay_module.replay([ROOT / "warp-cuda" / "warp-cuda-gradient-float32-warp-f863808f"])
    assert result.status is replay_module.ReplayStatus.NOT_RUN
    assert "GPU" in result.message and result.expected == "warp-cuda:gradient:float32:warp"
