"""Shrinking beside the fuzzing.

A finding's first program is stored at once, unshrunk; its shrink and the
confirmation of the result then run in a thread of their own, with a judge
of their own (`synth.triage`, so their own worker processes and kernel
caches), while the campaign's workers go on fuzzing. Shrinks run one at a
time, each until its deadline (a bound of its own, and early enough in the
budget to confirm what it found). The campaign's thread alone touches the
state: it collects finished shrinks with `done()` after each batch.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from kernel_synth.grammar import Program
from kernel_synth.shrink import ShrinkResult

from .oracles import Finding
from .triage import OutOfTime, Triage, shrink_finding

# Seconds a confirmation in a fresh worker takes at most, about (a new
# process imports Warp, compiles and runs one program: 3 to 5 s here): a
# shrink stops this long before the budget ends
CONFIRM_RESERVE = 5.0


@dataclass(frozen=True)
class ShrinkJob:
    finding: Finding
    program: Program
    index: int  # the program's index under the campaign's seed
    original: str  # where its unshrunk case is stored


@dataclass(frozen=True)
class ShrinkDone:
    job: ShrinkJob
    result: tuple[ShrinkResult, bool] | None  # (smallest program, finished), or None: it did not fail again
    confirmed: Finding | None  # the finding the result gave in a fresh worker
    out_of_time: bool = False  # the deadline came before any smaller program: still to do


class Shrinker:
    def __init__(self, make_triage: Callable[[], Triage], max_tests: int, before=None):
        self._make_triage = make_triage
        self._triage: Triage | None = None  # no worker until the first finding
        self._max_tests = max_tests
        self._before = before  # (triage, job, deadline) -> Program: a first phase, or None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shrink")
        self._jobs: list[tuple[ShrinkJob, Future]] = []

    def submit(self, job: ShrinkJob, deadline: float) -> None:
        self._jobs.append((job, self._thread.submit(self._run, job, deadline)))

    def _run(self, job: ShrinkJob, deadline: float) -> ShrinkDone:
        if self._triage is None:
            self._triage = self._make_triage()
        program = self._before(self._triage, job, deadline) if self._before else job.program
        try:
            result = shrink_finding(self._triage, job.finding, program, deadline, self._max_tests)
        except OutOfTime:
            return ShrinkDone(job, None, None, out_of_time=True)
        confirmed = self._triage.confirm(job.finding, result[0].program) if result is not None else None
        return ShrinkDone(job, result, confirmed)

    def done(self, wait: bool = False) -> list[ShrinkDone]:
        """The shrinks finished since the last call (all of them, waiting, with
        wait=True), in the order they were submitted. A shrink that raised
        raises here: that is a bug of ours, not a finding."""
        finished = [future for _, future in self._jobs if wait or future.done()]
        self._jobs = [(job, future) for job, future in self._jobs if future not in finished]
        return [future.result() for future in finished]

    def current(self) -> str | None:
        """The signature being shrunk now, if any."""
        return self._jobs[0][0].finding.signature if self._jobs else None

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        if self._triage is not None:
            self._triage.close()
