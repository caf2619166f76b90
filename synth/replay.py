"""Replaying corpora: does each stored case still fail the same way?

Each case is re-run on its backend (or one given) with the launch inputs its
header names, judged by every oracle, and reported as still failing (same
signature), fixed (no finding) or changed (another signature).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kernel_synth.grammar import DSLError, parse
from kernel_synth.backends.gradients import checker_pool_spec
from kernel_synth.backends.pool import BatchPool
from kernel_synth.backends.reference_backend import ReferenceBackend
from kernel_synth.backends.registry import get_backend

from .corpus import find_cases, read_case
from .oracles import ORACLES, judge, judge_gradient

STILL_FAILING, FIXED, CHANGED, UNREADABLE = "still_failing", "fixed", "changed", "unreadable"

_SEED = re.compile(r"^(\d+)")
_LAUNCH = re.compile(r"launch (\d+)")


@dataclass(frozen=True)
class ReplayResult:
    path: str
    status: str  # still_failing | fixed | changed | unreadable
    expected: str
    got: str | None
    message: str = ""


def case_launch(metadata: dict[str, str]) -> tuple[int, int]:
    """(seed, launch) the case was found with; (0, 16) when the header lacks them."""
    text = metadata.get("seed", "")
    seed = _SEED.match(text)
    launch = _LAUNCH.search(text)
    return (int(seed[1]) if seed else 0, int(launch[1]) if launch else 16)


def replay(paths: list[Path], backend: str | None = None, workers: int = 1, on_result=None) -> list[ReplayResult]:
    results: list[ReplayResult] = []
    jobs: dict[tuple[str, int, int], list[tuple[object, object]]] = {}
    for path in find_cases(paths):
        case = read_case(path)
        try:
            program = parse(case.text, str(path))
        except DSLError as exc:
            results.append(ReplayResult(str(path), UNREADABLE, case.signature, None, str(exc)))
            continue
        name = backend or case.backend
        seed, launch = case_launch(case.metadata)
        gradient = case.metadata.get("oracle") == "gradient"
        jobs.setdefault((name, seed, launch, gradient), []).append((case, program))
    reference = ReferenceBackend()
    for (name, seed, launch, gradient), items in jobs.items():
        info = get_backend(name)
        programs = [p for _, p in items]
        if gradient:  # the gradient checker, faults and all for the faulty backend
            factory, options = checker_pool_spec(name)
        else:
            factory, options = info.factory, {}
        with BatchPool(factory, options, workers=workers) as pool:
            outcomes = pool.run(programs, batch_size=8, launch=launch, seed=seed)
        references = [None] * len(programs) if gradient else reference.compile(programs, launch=launch, seed=seed)
        for (case, program), outcome, ref in zip(items, outcomes, references):
            if gradient:
                finding = judge_gradient(name, program, outcome)
            else:
                finding = judge(name, outcome, ref, frozenset(ORACLES))
            if finding is None:
                status, got, message = FIXED, None, ""
            elif finding.signature == case.signature:
                status, got, message = STILL_FAILING, finding.signature, finding.message
            else:
                status, got, message = CHANGED, finding.signature, finding.message
            result = ReplayResult(str(case.path), status, case.signature, got, message.strip().splitlines()[0] if message.strip() else "")
            results.append(result)
            if on_result:
                on_result(result)
    return sorted(results, key=lambda r: r.path)
