"""The fuzz campaign engine: draw, compile, judge, bucket, shrink, store.

One producer draws programs (seeded: program k of seed s is always the same),
batches go to each backend's worker pool, and every result comes back here,
where the oracles judge it against the reference. A finding lands in the bucket
of its signature; the first of each bucket is written to the corpus at once
(so a kill loses nothing reported), then shrunk on the same backend, confirmed
by a replay in a fresh worker, and stored in place of the original. The state
that must survive (seed position, counts, buckets) is written atomically after
every batch, which is what makes `--resume` exact.

With the gradient oracle on, a sample of each batch's programs that compiled
and ran on warp-cpu without a finding, and that stay inside what Warp
documents as differentiable (backends.gradients.differentiability), goes
through a gradient-checker pool (its own worker process and kernel cache);
the exclusions are counted per rule.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from kernel_synth.grammar import Program, print_program
from kernel_synth.grammar.sampling import draw_program
from kernel_synth.grammar.stats import ast_size
from kernel_synth.grammar.weights import Weights, default_weights
from kernel_synth.backends.outcome import Outcome
from kernel_synth.backends.pool import BatchPool
from kernel_synth.backends.gradients import GRADIENT_LAUNCH, checker_pool_spec, differentiability
from kernel_synth.backends.reference_backend import ReferenceBackend
from kernel_synth.backends.signature import key_line
from kernel_synth.backends.registry import get_backend
from kernel_synth.shrink import shrink

from . import __version__
from .corpus import write_atomic, write_case
from .oracles import DEFAULT_ORACLES, GRADIENT_BACKENDS, Finding, judge, judge_gradient, recognised

STATE_VERSION = 1


class _OutOfTime(Exception):
    """The budget ran out in the middle of a shrink."""


class CampaignError(Exception):
    """A campaign that cannot start as asked (a user error: exit code 2)."""


@dataclass
class CampaignConfig:
    budget: float  # seconds
    backends: tuple[str, ...] = ("warp-cpu",)
    seed: int = 0
    workers: int = max(os.cpu_count() or 1, 1)
    corpus: Path = Path("corpora")
    weights: Weights | None = None
    oracles: frozenset[str] = frozenset(DEFAULT_ORACLES)
    resume: bool = False
    batch_size: int = 16
    launch: int = 16
    shrink_per_bucket: int = 1
    shrink_tests: int = 400
    # Hypothesis's own shrinker before the AST reducer. Off by default: on
    # generated programs it spent 3x the oracle calls for the same final size
    # (measured in the closing note of the campaign issue).
    hypothesis_shrink: bool = False
    batch_timeout: float = 60.0
    # gradient oracle: programs checked per batch (at most), threads per check
    gradient_per_batch: int = 4
    gradient_launch: int = GRADIENT_LAUNCH

    @property
    def state_path(self) -> Path:
        return Path(self.corpus) / ".campaign" / "state.json"


@dataclass
class Bucket:
    signature: str
    backend: str
    oracle: str
    hits: int = 0
    cases: list[str] = field(default_factory=list)
    shrunk: int = 0


@dataclass
class State:
    seed: int
    next_index: int = 0
    programs: int = 0
    compiled: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    buckets: dict[str, Bucket] = field(default_factory=dict)
    shrinks: list[dict] = field(default_factory=list)
    unconfirmed: int = 0
    unrecognised: int = 0  # findings whose signature no KNOWN_SIGNATURES entry explains
    elapsed: float = 0.0
    # gradient oracle: programs compared, programs that passed the rules (some
    # are not sampled), exclusions by first rule, sources that gave no gradient
    gradient_checked: int = 0
    gradient_eligible: int = 0
    gradient_excluded: dict[str, int] = field(default_factory=dict)
    gradient_unavailable: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "version": STATE_VERSION,
            "seed": self.seed,
            "next_index": self.next_index,
            "programs": self.programs,
            "compiled": self.compiled,
            "findings": self.findings,
            "buckets": {s: vars(b) for s, b in self.buckets.items()},
            "shrinks": self.shrinks,
            "unconfirmed": self.unconfirmed,
            "unrecognised": self.unrecognised,
            "elapsed": self.elapsed,
            "gradient_checked": self.gradient_checked,
            "gradient_eligible": self.gradient_eligible,
            "gradient_excluded": self.gradient_excluded,
            "gradient_unavailable": self.gradient_unavailable,
        }

    @classmethod
    def from_json(cls, data: dict) -> "State":
        if data.get("version") != STATE_VERSION:
            raise CampaignError(f"campaign state version {data.get('version')!r} is not {STATE_VERSION}")
        state = cls(seed=data["seed"])
        for key in ("next_index", "programs", "compiled", "findings", "shrinks", "unconfirmed", "elapsed"):
            setattr(state, key, data[key])
        state.unrecognised = data.get("unrecognised", 0)
        state.gradient_checked = data.get("gradient_checked", 0)
        state.gradient_eligible = data.get("gradient_eligible", 0)
        state.gradient_excluded = dict(data.get("gradient_excluded", {}))
        state.gradient_unavailable = dict(data.get("gradient_unavailable", {}))
        state.buckets = {s: Bucket(**b) for s, b in data["buckets"].items()}
        return state


def library_versions() -> str:
    parts = [f"kernel-synth {__version__}"]
    for lib in ("warp-lang", "jax", "jaxlib", "numpy", "hypothesis"):
        try:
            parts.append(f"{lib} {metadata.version(lib)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(parts)


def render_for(backend: str, program: Program) -> str | None:
    """The source a corpus case keeps beside its DSL text."""
    try:
        if backend.startswith("jax"):
            from kernel_synth.backends.jax_render import render_jax

            return render_jax(program)
        from kernel_synth.backends.warp_render import render_warp

        return render_warp(program)
    except Exception:  # the case itself is what matters; a render failure is in its header
        return None


class Campaign:
    def __init__(self, config: CampaignConfig, on_event=None):
        self.config = config
        self.on_event = on_event or (lambda kind, data: None)
        self.weights = config.weights or default_weights()
        for name in config.backends:
            get_backend(name)  # BackendUnavailable before any work
        if "gradient" in config.oracles and not set(config.backends) & set(GRADIENT_BACKENDS):
            raise CampaignError(f"the gradient oracle checks Warp's adjoint on the CPU: it needs one of the backends {', '.join(GRADIENT_BACKENDS)}")
        self.state = self._load_state()
        self.reference = ReferenceBackend()
        self.pools: dict[str, BatchPool] = {}
        self.versions = library_versions()
        self.shrinking: str | None = None

    # -- state

    def _load_state(self) -> State:
        path = self.config.state_path
        if self.config.resume:
            if not path.exists():
                raise CampaignError(f"--resume: no campaign state in {path.parent}")
            try:
                return State.from_json(json.loads(path.read_text()))
            except (ValueError, KeyError, TypeError) as exc:
                raise CampaignError(f"--resume: campaign state {path} is unreadable: {exc}") from None
        return State(seed=self.config.seed)

    def save(self) -> None:
        write_atomic(self.config.state_path, json.dumps(self.state.to_json(), indent=1))

    # -- pools

    def pool(self, backend: str) -> BatchPool:
        if backend not in self.pools:
            info = get_backend(backend)
            self.pools[backend] = BatchPool(info.factory, {}, workers=self.config.workers, timeout=self.config.batch_timeout)
        return self.pools[backend]

    def gradient_pool(self, backend: str, fresh: bool = False) -> BatchPool:
        """The gradient checker for `backend`'s findings, in one worker process
        (fresh: a new pool, which the caller closes)."""
        factory, options = checker_pool_spec(backend)
        if fresh:
            return BatchPool(factory, options, workers=1, timeout=self.config.batch_timeout)
        key = f"gradient:{backend}"
        if key not in self.pools:
            self.pools[key] = BatchPool(factory, options, workers=1, timeout=self.config.batch_timeout)
        return self.pools[key]

    def finding_pool(self, finding: Finding, fresh: bool = False) -> BatchPool:
        if finding.oracle == "gradient":
            return self.gradient_pool(finding.backend, fresh)
        if fresh:
            return BatchPool(get_backend(finding.backend).factory, {}, workers=1, timeout=self.config.batch_timeout)
        return self.pool(finding.backend)

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()
        self.pools.clear()

    # -- the loop

    def run(self) -> dict:
        config = self.config
        start = time.monotonic()
        deadline = start + config.budget
        batch_seconds = 0.0
        try:
            while True:
                now = time.monotonic()
                # stop when the next batch would likely overrun the budget
                if now + batch_seconds > deadline:
                    break
                begun = time.monotonic()
                self.batch(deadline)
                took = time.monotonic() - begun
                batch_seconds = took if not batch_seconds else 0.7 * batch_seconds + 0.3 * took
                self.state.elapsed += took
                self.save()
                self.on_event("progress", self.progress(start, deadline))
        finally:
            self.close()
            self.save()
        return self.summary(time.monotonic() - start)

    def batch(self, deadline: float) -> None:
        config, state = self.config, self.state
        indexes = range(state.next_index, state.next_index + config.batch_size)
        programs = [draw_program(state.seed, i, self.weights) for i in indexes]
        reference = self.reference.compile(programs, launch=config.launch, seed=state.seed) if "forward" in config.oracles else None
        for backend in config.backends:
            per_worker = max(1, -(-len(programs) // config.workers))
            outcomes = self.pool(backend).run(programs, batch_size=per_worker, launch=config.launch, seed=state.seed)
            state.compiled[backend] = state.compiled.get(backend, 0) + sum(o.ok for o in outcomes)
            clean = []
            for k, (program, outcome) in enumerate(zip(programs, outcomes)):
                finding = judge(backend, outcome, reference[k] if reference else None, config.oracles)
                if finding is not None:
                    self.found(finding, program, indexes[k], reference[k] if reference else None, deadline)
                elif outcome.ok:
                    clean.append(k)
            if "gradient" in config.oracles and backend in GRADIENT_BACKENDS:
                self.gradients(backend, [(indexes[k], programs[k]) for k in clean], deadline)
        state.programs += len(programs)
        state.next_index += len(programs)

    def gradients(self, backend: str, candidates: list[tuple[int, Program]], deadline: float) -> None:
        """The gradient oracle on a sample of `candidates` (programs that ran
        without a finding): exclusions counted per rule, then up to
        gradient_per_batch of the rest checked in the gradient pool."""
        state = self.state
        eligible = []
        for index, program in candidates:
            rule = differentiability(program)
            if rule is None:
                eligible.append((index, program))
            else:
                state.gradient_excluded[rule] = state.gradient_excluded.get(rule, 0) + 1
        state.gradient_eligible += len(eligible)
        sample = eligible[: self.config.gradient_per_batch]
        if not sample or time.monotonic() >= deadline:
            return
        outcomes = self.gradient_pool(backend).run(
            [p for _, p in sample], batch_size=len(sample), launch=self.config.gradient_launch, seed=state.seed
        )
        for (index, program), outcome in zip(sample, outcomes):
            state.gradient_checked += 1
            for line in (outcome.message or "").splitlines() if outcome.ok else ():
                source, _, rest = line.partition(" ")
                if source in ("jax", "fd") and rest.startswith("unavailable:"):
                    state.gradient_unavailable[source] = state.gradient_unavailable.get(source, 0) + 1
            finding = judge_gradient(backend, program, outcome)
            if finding is not None:
                self.found(finding, program, index, None, deadline)

    # -- findings

    def found(self, finding: Finding, program: Program, index: int, reference: Outcome | None, deadline: float) -> None:
        state = self.state
        state.findings[finding.oracle] = state.findings.get(finding.oracle, 0) + 1
        if recognised(finding.signature) is None:
            state.unrecognised += 1
        bucket = state.buckets.get(finding.signature)
        new = bucket is None
        if new:
            bucket = state.buckets[finding.signature] = Bucket(finding.signature, finding.backend, finding.oracle)
        bucket.hits += 1
        if len(bucket.cases) >= self.config.shrink_per_bucket:
            return
        original = self.store(finding, program, index, ast_size(program), None)
        bucket.cases.append(str(original))
        self.save()  # reported from here on: it must survive a kill
        self.on_event("finding", {"signature": finding.signature, "new": new, "path": str(original)})
        if time.monotonic() >= deadline:
            return
        if self.config.hypothesis_shrink:
            program = self.hypothesis_phase(finding, program, index, deadline)
        shrunk = self.shrink(finding, program, deadline)
        if shrunk is None:
            return
        confirmed = self.confirm(finding, shrunk)
        if confirmed is None:
            state.unconfirmed += 1
            self.on_event("unconfirmed", {"signature": finding.signature})
            return
        path = self.store(confirmed, shrunk, index, ast_size(program), ast_size(shrunk))
        if path != original:
            Path(original).unlink(missing_ok=True)
            Path(original).with_suffix(".py").unlink(missing_ok=True)
        bucket.cases[bucket.cases.index(str(original))] = str(path)
        bucket.shrunk += 1
        self.save()

    def store(self, finding: Finding, program: Program, index: int | str, size_before: int, size_after: int | None) -> Path:
        """Write a corpus case; `index` is the program's index in the seed, or
        a description of where it came from (a file)."""
        size = f"{size_before} AST nodes (not shrunk)" if size_after is None else f"{size_before} -> {size_after} AST nodes"
        origin = f"index {index}" if isinstance(index, int) else index
        metadata = {
            "signature": finding.signature,
            "oracle": finding.oracle,
            "stage": finding.stage,
            "backend": finding.backend,
            "error": key_line(finding.message)[:300],
            "versions": self.versions,
            "seed": f"{self.state.seed}, {origin}, weights {self.weights.name}, launch {self.launch_for(finding)}",
            "size": size,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        return write_case(self.config.corpus, metadata, print_program(program), render_for(finding.backend, program))

    def launch_for(self, finding: Finding) -> int:
        return self.config.gradient_launch if finding.oracle == "gradient" else self.config.launch

    def rerun(self, finding: Finding, program: Program, pool: BatchPool) -> Finding | None:
        """The finding `program` gives now, if it has `finding`'s signature.
        `pool` is `finding_pool(finding)` (or a fresh one)."""
        outcome = pool.run([program], batch_size=1, launch=self.launch_for(finding), seed=self.state.seed)[0]
        if finding.oracle == "gradient":
            again = judge_gradient(finding.backend, program, outcome)
            return again if again is not None and again.signature == finding.signature else None
        reference = None
        if finding.oracle == "forward":
            reference = self.reference.compile([program], launch=self.config.launch, seed=self.state.seed)[0]
        again = judge(finding.backend, outcome, reference, self.config.oracles)
        return again if again is not None and again.signature == finding.signature else None

    def shrink(self, finding: Finding, program: Program, deadline: float) -> Program | None:
        self.shrinking = finding.signature
        self.on_event("shrinking", {"signature": finding.signature})
        pool = self.finding_pool(finding)
        best: list = []

        def interesting(candidate: Program) -> bool:
            if time.monotonic() >= deadline:
                raise _OutOfTime
            return self.rerun(finding, candidate, pool) is not None

        def smaller(result) -> None:
            best.append(result)
            self.on_event("smaller", {"signature": finding.signature, "size": result.size_after, "tests": result.tests})

        try:
            result = shrink(program, interesting, max_tests=self.config.shrink_tests, on_progress=smaller)
        except ValueError:  # it did not fail again: flaky
            return None
        except _OutOfTime:  # keep the smallest program found so far
            if not best:
                return None
            result = best[-1]
        finally:
            self.shrinking = None
        self.state.shrinks.append({"signature": finding.signature, "before": result.size_before, "after": result.size_after, "tests": result.tests})
        return result.program

    def hypothesis_phase(self, finding: Finding, program: Program, index: int, deadline: float) -> Program:
        from kernel_synth.shrink.hypothesis_phase import hypothesis_shrink

        pool = self.finding_pool(finding)

        def interesting(candidate: Program) -> bool:
            return time.monotonic() < deadline and self.rerun(finding, candidate, pool) is not None

        smaller, _ = hypothesis_shrink(self.state.seed, index, interesting, self.weights)
        return smaller if smaller is not None and ast_size(smaller) < ast_size(program) else program

    def confirm(self, finding: Finding, program: Program) -> Finding | None:
        """Replay in a fresh worker: only what fails again from scratch is stored."""
        with self.finding_pool(finding, fresh=True) as fresh:
            return self.rerun(finding, program, fresh)

    # -- reporting

    def progress(self, start: float, deadline: float) -> dict:
        elapsed = time.monotonic() - start
        state = self.state
        return {
            "programs": state.programs,
            "rate": state.programs / max(state.elapsed, 1e-9),
            "compiled": dict(state.compiled),
            "findings": sum(state.findings.values()),
            "unrecognised": state.unrecognised,
            "buckets": len(state.buckets),
            "shrinking": self.shrinking,
            "left": max(deadline - time.monotonic(), 0.0),
            "elapsed": elapsed,
            **({"gradient_checked": state.gradient_checked} if "gradient" in self.config.oracles else {}),
        }

    def summary(self, wall: float) -> dict:
        state = self.state
        shrinks = state.shrinks
        ratios = sorted(s["after"] / s["before"] for s in shrinks if s["before"])
        return {
            "programs": state.programs,
            "seed": state.seed,
            "next_index": state.next_index,
            "wall_seconds": round(wall, 2),
            "throughput": round(state.programs / max(state.elapsed, 1e-9), 2),
            "compiled": state.compiled,
            "findings": state.findings,
            "buckets": [
                {"signature": b.signature, "backend": b.backend, "oracle": b.oracle, "hits": b.hits, "corpus": b.cases, "known": recognised(b.signature)}
                for b in state.buckets.values()
            ],
            "unrecognised": state.unrecognised,
            "shrink": {
                "count": len(shrinks),
                "median_ratio": ratios[len(ratios) // 2] if ratios else None,
                "tests": sum(s["tests"] for s in shrinks),
            },
            "unconfirmed": state.unconfirmed,
            **({"gradient": self.gradient_summary()} if "gradient" in self.config.oracles else {}),
        }

    def gradient_summary(self) -> dict:
        state = self.state
        return {
            "checked": state.gradient_checked,
            "eligible": state.gradient_eligible,
            "excluded": dict(sorted(state.gradient_excluded.items(), key=lambda kv: -kv[1])),
            "unavailable": state.gradient_unavailable,
            "findings": state.findings.get("gradient", 0),
        }
