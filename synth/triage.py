"""The one judge: run programs on a backend and the reference, apply the
oracles, reproduce a finding, confirm a shrunk program in a fresh worker.

The campaign, `synth replay` and `synth shrink` all judge through a Triage,
so a finding means the same thing wherever it was made: the same launch
inputs, the same reference, the same oracles, the same signature. A Triage
owns the worker pools it runs programs in (one per backend, and one per
backend for its gradient checker, named by the registry), and opens a fresh
single-worker pool for every confirmation, so that no warm kernel cache or
earlier launch can make a case fail. Its `placement` says where the pools
run (local processes, a Ray cluster); the pools beside the fuzzing (gradient
and process-state checks, confirmations, and a shrinker's judge, built with
side=True) are placed as such.

The vmap-loop oracle samples the same way (`loop_share`), for the
programs a JAX backend also runs with its threads in a loop, the xla-config
oracle (`xla_share`), for those it also compiles under another XLA
configuration, and the jvp-vjp oracle (`jvp_share`), for those it also
differentiates in forward and in reverse mode.

With the jit-eager oracle on, a backend that can (the registry's `eager`)
runs programs eagerly too: in the shared pool, the Triage's `eager_share` of
them (a campaign samples to save time); in every other pool (a fresh
worker's confirmation) all of them, so that a finding is always judged
again the way it was found. A rerun (a shrink's candidate) runs all of them
too, but only for the sampled oracles its finding needs (`rerun_needs`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kernel_synth.backends.executor import LOCAL, Placement
from kernel_synth.backends.gradients import GRADIENT_LAUNCH
from kernel_synth.backends.outcome import GradientResult, Outcome
from kernel_synth.backends.pool import BatchPool
from kernel_synth.backends.reference_backend import ReferenceBackend
from kernel_synth.backends.registry import get_backend
from kernel_synth.grammar import Program
from kernel_synth.shrink import ShrinkResult, shrink

from .oracles import SAMPLED_OPTIONS, Finding, Oracle, judge, judge_gradient, judge_state


@dataclass(frozen=True)
class Launch:
    """The inputs every program is judged on: `threads` per forward launch,
    `gradient_threads` per gradient check, inputs drawn from `seed`."""

    threads: int = 16
    seed: int = 0
    gradient_threads: int = GRADIENT_LAUNCH

    def threads_for(self, oracle: Oracle) -> int:
        return self.gradient_threads if oracle is Oracle.GRADIENT else self.threads


@dataclass(frozen=True)
class Verdict:
    """One program's result on a backend, and the finding it is (or None)."""

    program: Program
    outcome: Outcome | GradientResult
    finding: Finding | None


class Triage:
    def __init__(
        self, oracles: frozenset[str], launch: Launch = Launch(), workers: int = 1, batch_timeout: float = 60.0, nice: int = 0,
        placement: Placement = LOCAL, side: bool = False, eager_share: float = 1.0, loop_share: float = 1.0,
        xla_share: float = 1.0, jvp_share: float = 1.0,
    ):
        self.oracles = frozenset(Oracle(o) for o in oracles)
        # the share of the programs the shared pool runs for each sampled
        # oracle: eagerly too (jit-eager), in the loop form too (vmap-loop),
        # under another XLA configuration too (xla-config), differentiated
        # both ways too (jvp-vjp)
        self.shares = {Oracle.JIT_EAGER: eager_share, Oracle.VMAP_LOOP: loop_share, Oracle.XLA_CONFIG: xla_share, Oracle.JVP_VJP: jvp_share}
        self.placement = placement
        self.side = side  # every pool of this judge runs beside the fuzzing (a shrinker's)
        # added to its workers' niceness: a shrink's judge yields the cores
        # to the fuzzing workers
        self.nice = nice
        self.launch = launch
        self.workers = workers
        self.batch_timeout = batch_timeout
        self.reference = ReferenceBackend()
        self._pools: dict[tuple[str, bool, tuple[Oracle, ...] | None], BatchPool] = {}

    # -- pools

    def _new_pool(
        self, backend: str, gradient: bool, workers: int, options: dict | None = None, side: bool = True, shares: dict[Oracle, float] | None = None,
    ) -> BatchPool:
        """A pool of `backend` (its gradient checker's, with gradient=True);
        a JAX backend's runs the sampled oracles on, each on its share of the
        programs (`shares`; default: all of every one)."""
        info = get_backend(backend)
        if gradient and not info.has_adjoints:
            raise ValueError(f"backend {backend!r} has no adjoints to check")
        factory = info.gradient_factory if gradient else info.factory
        if not gradient and info.eager:
            shares = {o: 1.0 for o in SAMPLED_OPTIONS} if shares is None else shares
            options = {SAMPLED_OPTIONS[o]: share for o, share in shares.items() if o in self.oracles} | (options or {})
        executor = self.placement.executor(needs_device=info.needs_device, side=side or self.side, nice=self.nice)
        return BatchPool(factory, options or {}, workers=workers, timeout=self.batch_timeout, executor=executor)

    def pool(self, backend: str, gradient: bool = False, sampled: tuple[Oracle, ...] | None = None) -> BatchPool:
        """The shared pool for `backend` (its gradient checker's, with
        gradient=True); with `sampled`, one that runs only those of the
        sampled oracles, each on every program (a rerun's: `rerun_needs`)."""
        key = (backend, gradient, sampled)
        if key not in self._pools:
            shares = self.shares if sampled is None else {o: 1.0 for o in sampled}
            self._pools[key] = self._new_pool(backend, gradient, 1 if gradient else self.workers, side=gradient, shares=shares)
        return self._pools[key]

    def busy_seconds(self, backend: str) -> float:
        """Worker-seconds `backend`'s shared pool has spent with a batch."""
        pool = self._pools.get((backend, False, None))
        return pool.busy_seconds if pool is not None else 0.0

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()

    def __enter__(self) -> "Triage":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- judging

    def references(self, programs: list[Program]) -> list[Outcome | None]:
        """The reference's outcome per program, when the forward oracle is on."""
        if Oracle.FORWARD not in self.oracles:
            return [None] * len(programs)
        return self.reference.compile(programs, launch=self.launch.threads, seed=self.launch.seed)

    def outcomes(self, backend: str, programs: list[Program], pool: BatchPool | None = None) -> list[Outcome]:
        """Every program compiled and run on `backend`, one module per worker;
        safe to call from another thread (the campaign's pipeline does)."""
        if not programs:
            return []
        pool = pool or self.pool(backend)
        per_worker = max(1, -(-len(programs) // pool.workers))
        return pool.run(programs, batch_size=per_worker, launch=self.launch.threads, seed=self.launch.seed)

    def judged(self, backend: str, programs: list[Program], outcomes: list[Outcome], references: list[Outcome | None]) -> list[Verdict]:
        """Each outcome judged by the enabled oracles (forward: against its reference)."""
        return [Verdict(p, o, judge(backend, o, r, self.oracles)) for p, o, r in zip(programs, outcomes, references)]

    def forward(self, backend: str, programs: list[Program], pool: BatchPool | None = None, references=None) -> list[Verdict]:
        """Every program compiled and run on `backend` and judged by the
        enabled oracles (forward: against the reference)."""
        if not programs:
            return []
        outcomes = self.outcomes(backend, programs, pool)
        if references is None:
            references = self.references(programs)
        return self.judged(backend, programs, outcomes, references)

    def gradients(self, backend: str, programs: list[Program], pool: BatchPool | None = None) -> list[Verdict]:
        """Every program through `backend`'s gradient checker, judged."""
        if not programs:
            return []
        pool = pool or self.pool(backend, gradient=True)
        results = pool.run(programs, batch_size=len(programs), launch=self.launch.gradient_threads, seed=self.launch.seed)
        return [Verdict(p, r, judge_gradient(backend, p, r)) for p, r in zip(programs, results)]

    def process_state(self, backend: str, programs: list[Program], warm: list[Outcome]) -> list[Verdict]:
        """`programs` again, in reverse order, in a fresh worker that first saw
        a build fail; each must give the outputs `warm` (from a worker that
        has run many batches) gave."""
        pool = self._new_pool(backend, False, 1, {"poison": True}, shares={})  # outputs are compared: no sampled oracle's evidence
        try:
            fresh = pool.run(list(reversed(programs)), batch_size=len(programs), launch=self.launch.threads, seed=self.launch.seed)[::-1]
        finally:
            pool.close()
        return [Verdict(p, f, judge_state(backend, w, f)) for p, w, f in zip(programs, warm, fresh)]

    def first_finding(self, backend: str, program: Program) -> Finding | None:
        """What `program` finds on `backend`: the forward oracles first, then
        the gradient oracle where it is on and the backend has adjoints."""
        finding = self.forward(backend, [program])[0].finding
        if finding is None and Oracle.GRADIENT in self.oracles and get_backend(backend).has_adjoints:
            finding = self.gradients(backend, [program])[0].finding
        return finding

    def rerun(self, finding: Finding, program: Program, fresh: bool = False) -> Finding | None:
        """The finding `program` gives now, if it has `finding`'s signature;
        with fresh=True, in a new worker process with an empty kernel cache."""
        shares = {o: 1.0 for o in rerun_needs(finding.oracle)}
        pool = self._new_pool(finding.backend, finding.oracle is Oracle.GRADIENT, 1, shares=shares) if fresh else None
        try:
            return self.rerun_many(finding, [program], pool)[0]
        finally:
            if pool is not None:
                pool.close()

    def rerun_many(self, finding: Finding, programs: list[Program], pool: BatchPool | None = None) -> list[Finding | None]:
        """The finding each of `programs` gives now where it has `finding`'s
        signature (else None), all judged together (one module per worker,
        as the campaign compiles)."""
        if finding.oracle is Oracle.GRADIENT:
            verdicts = self.gradients(finding.backend, programs, pool)
        elif finding.oracle is Oracle.PROCESS_STATE:
            pool = pool or self.pool(finding.backend, sampled=())
            self.outcomes(finding.backend, programs, pool)  # a worker is warm from its second batch on
            verdicts = self.process_state(finding.backend, programs, self.outcomes(finding.backend, programs, pool))
        else:
            # the reference only matters to the forward oracle
            references = None if finding.oracle is Oracle.FORWARD else [None] * len(programs)
            pool = pool or self.pool(finding.backend, sampled=rerun_needs(finding.oracle))
            verdicts = self.forward(finding.backend, programs, pool, references)
        return [v.finding if v.finding is not None and v.finding.signature == finding.signature else None for v in verdicts]

    def confirm(self, finding: Finding, program: Program) -> Finding | None:
        """Replay in a fresh worker: only what fails again from scratch is stored."""
        return self.rerun(finding, program, fresh=True)


def rerun_needs(oracle: Oracle) -> tuple[Oracle, ...]:
    """The sampled oracles a rerun of `oracle`'s finding must run (a shrink
    reruns hundreds of candidates, and each sampled oracle costs about one
    more compile): none for the forward and nondeterminism oracles, judged
    before them; for a sampled one, those `judge` asks up to it (an earlier
    one that disagrees claims the program first, a later one never decides);
    every one for the rest (a crash or a compile error may come from any run)."""
    if oracle in (Oracle.FORWARD, Oracle.NONDETERMINISM):
        return ()
    order = tuple(SAMPLED_OPTIONS)
    if oracle in order:
        return order[: order.index(oracle) + 1]
    return order


# Oracle calls one shrink may make
SHRINK_TESTS = 400


class OutOfTime(Exception):
    """The deadline passed in the middle of a shrink."""


def shrink_finding(
    triage: Triage,
    finding: Finding,
    program: Program,
    deadline: float,
    max_tests: int,
    on_progress: Callable[[ShrinkResult], None] | None = None,
    grouped: bool = True,
) -> tuple[ShrinkResult, bool] | None:
    """`program` shrunk to a minimal one with `finding`'s signature, and True;
    or the smallest found before `deadline`, and False; None when it did not
    fail again (flaky). OutOfTime when the deadline came before any smaller
    program: nothing was learnt, and the shrink is still to be done."""
    best: list[ShrinkResult] = []
    last_test = [0.0]  # seconds the last oracle call took

    def timed(test, candidates):
        # stop when the next call, if it takes as long as the last, would
        # end after the deadline: a call is not interrupted (a crashing
        # candidate costs a worker's restart), so the deadline holds only so
        if time.monotonic() + last_test[0] >= deadline:
            raise OutOfTime
        began = time.monotonic()
        try:
            return test(candidates)
        finally:
            last_test[0] = time.monotonic() - began

    def interesting(candidate: Program) -> bool:
        return timed(lambda c: triage.rerun(finding, c) is not None, candidate)

    def interesting_many(candidates: list[Program]) -> list[bool]:
        return timed(lambda c: [again is not None for again in triage.rerun_many(finding, c)], candidates)

    # Candidates are judged in groups, one module each, except for a crash
    # or a hang: those take their worker down, and the pool would then chase
    # every failing candidate of the group where one at a time stops at the
    # first.
    grouped = grouped and finding.oracle not in (Oracle.CRASH, Oracle.TIMEOUT)

    def smaller(result: ShrinkResult) -> None:
        best.append(result)
        if on_progress is not None:
            on_progress(result)

    try:
        many = interesting_many if grouped else None
        return shrink(program, interesting, max_tests=max_tests, on_progress=smaller, test_many=many), True
    except ValueError:  # it did not fail again
        return None
    except OutOfTime:
        if best:
            return best[-1], False
        raise
