"""Replaying corpora: does each stored case still fail the same way?

Each case is judged again (`synth.triage`) on its backend (or one given) with
the launch its header names, by every oracle (the gradient checker for a
gradient case), and reported as still failing (same signature), fixed (no
finding) or changed (another signature). A case that cannot be read is
reported with its file and line, and the others still run. A case found by
running on a GPU (a warp-cuda launch or adjoint) is reported as not run on a
machine without one, never as fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from kernel_synth.backends.outcome import Stage
from kernel_synth.backends.registry import cuda_device_present, get_backend
from kernel_synth.grammar import DSLError, parse

from .corpus import CorpusError, find_cases, read_case
from .oracles import ORACLES, Oracle
from .triage import Launch, Triage


class ReplayStatus(StrEnum):
    STILL_FAILING = "still_failing"
    FIXED = "fixed"
    CHANGED = "changed"
    UNREADABLE = "unreadable"
    NOT_RUN = "not_run"  # it needs a GPU and this machine has none


# the stages a machine without a GPU reaches on a backend that runs on one
_COMPILED_ONLY = frozenset({Stage.RENDER, Stage.CODEGEN, Stage.COMPILE, Stage.LOWER})


@dataclass(frozen=True)
class ReplayResult:
    path: str
    status: ReplayStatus
    expected: str | None
    got: str | None
    message: str = ""


def replay(paths: list[Path], backend: str | None = None, workers: int = 1, on_result=None) -> list[ReplayResult]:
    results: list[ReplayResult] = []
    groups: dict[tuple[str, int, int, bool], list] = {}
    for path in find_cases(paths):
        try:
            case = read_case(path)
            program = parse(case.text, str(path))
        except (CorpusError, DSLError) as exc:
            results.append(ReplayResult(str(path), ReplayStatus.UNREADABLE, None, None, str(exc)))
            continue
        gradient = case.header.oracle == Oracle.GRADIENT
        name = backend or case.backend
        if get_backend(name).needs_device and (gradient or case.header.stage not in _COMPILED_ONLY) and not cuda_device_present():
            results.append(ReplayResult(str(path), ReplayStatus.NOT_RUN, case.signature, None, f"{name} runs it only on a GPU, and none is here"))
            continue
        groups.setdefault((backend or case.backend, case.header.seed, case.header.launch, gradient), []).append((case, program))
    for (name, seed, threads, gradient), items in groups.items():
        launch = Launch(threads=threads, seed=seed, gradient_threads=threads)
        with Triage(frozenset(ORACLES), launch, workers=workers) as triage:
            programs = [program for _, program in items]
            verdicts = triage.gradients(name, programs) if gradient else triage.forward(name, programs)
        for (case, _), verdict in zip(items, verdicts):
            finding = verdict.finding
            if finding is None:
                status, got, message = ReplayStatus.FIXED, None, ""
            else:
                same = finding.signature == case.signature
                status = ReplayStatus.STILL_FAILING if same else ReplayStatus.CHANGED
                got, message = finding.signature, finding.message
            result = ReplayResult(str(case.path), status, case.signature, got, message.strip().splitlines()[0] if message.strip() else "")
            results.append(result)
            if on_result:
                on_result(result)
    return sorted(results, key=lambda r: r.path)
