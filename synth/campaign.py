"""The fuzz campaign engine: draw, compile, judge, bucket, shrink, store.

One producer draws programs (seeded: program k of seed s is always the same),
batches go through the judge (`synth.triage`: each backend's worker pool, the
reference, the oracles), and every verdict comes back here. A finding lands in the bucket
of its signature; the first of each bucket is written to the corpus at once
(so a kill loses nothing reported), then shrunk on the same backend beside
the fuzzing (`synth.shrinker`: the fuzzing workers never wait for a shrink),
confirmed by a replay in a fresh worker, and stored in place of the original;
a resumed campaign finishes the shrinks a killed one left. The state
that must survive (seed position, counts, buckets) is written atomically after
every batch, which is what makes `--resume` exact.

With the gradient oracle on, a sample of each batch's programs that compiled
and ran on warp-cpu without a finding, and that stay inside what Warp
documents as differentiable (backends.differentiability), goes
through a gradient-checker pool (its own worker process and kernel cache);
the exclusions are counted per rule. `gradient_share` (chosen by each
program's hash) leaves the rest of the eligible programs unchecked: the
fuzzing's throughput against the share compared.

With the jit-eager oracle on, a JAX backend's workers run a share of the
programs (`eager_share`, chosen by each program's hash) eagerly as well as
jitted; the programs compared so are counted per backend. The vmap-loop and
jvp-vjp oracles sample and count the same way (`loop_share`, `jvp_share`);
the jvp-vjp oracle also counts the sampled programs it did not compare, by
reason (backends.jvp_vjp.JVP_VJP_SKIPS).
"""

from __future__ import annotations

import importlib
import json
import os
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from kernel_synth.backends.differentiability import differentiability, gradient_inputs
from kernel_synth.backends.executor import LOCAL, Placement
from kernel_synth.backends.gradients import GRADIENT_LAUNCH
from kernel_synth.backends.outcome import Status
from kernel_synth.backends.reference_backend import REFERENCE_FULL_LIMIT
from kernel_synth.backends.registry import BACKENDS, get_backend
from kernel_synth.backends.warp_release import avoided_shapes
from kernel_synth.backends.warp_release import installed as installed_warp
from kernel_synth.grammar import DSLError, Program, parse
from kernel_synth.grammar.ops import launch_decade
from kernel_synth.grammar.queries import in_share
from kernel_synth.grammar.sampling import draw_program
from kernel_synth.grammar.stats import ast_size
from kernel_synth.grammar.weights import Weights, default_weights, with_avoid

from .corpus import CorpusError, library_versions, read_case, store_finding
from .files import write_atomic
from .oracles import FORWARD_ORACLES, Finding, Oracle, recognised
from .shrinker import CONFIRM_RESERVE, ShrinkDone, Shrinker, ShrinkJob
from .triage import SHRINK_TESTS, Launch, Triage

STATE_VERSION = 1
HISTORY_POINTS = 2000


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
    # "avoid": the draws leave out the triggers of the known Warp bugs the
    # installed release has (backends.warp_release.KNOWN_BUGS), where a Warp
    # backend is fuzzed; "draw": they are drawn as the weights say
    known_bugs: str = "avoid"
    oracles: frozenset[str] = frozenset(FORWARD_ORACLES)
    resume: bool = False
    # programs drawn per batch, split over the workers: one Warp module per
    # worker, so a module's fixed cost is shared by batch_size / workers
    # kernels (45 s campaigns, 2 workers: 16 -> 64 took 1.19.0 from 45 to 56
    # programs/s and 1.12.1 from 11 to 32). None: workers x what the
    # backends want in a module (`programs_per_module`).
    batch_size: int | None = None
    # batches in flight at once: 2 overlaps drawing, the reference, judging
    # and gradient checks with the compiles; 1 runs each step in turn
    pipeline_depth: int = 2
    launch: int = 16
    shrink_per_bucket: int = 1
    shrink_tests: int = SHRINK_TESTS
    shrink_seconds: float = 120.0  # the most one shrink may take
    # added to the shrinker's worker's niceness. 0, an equal share: at 10 the
    # shrinker of a 10-minute campaign on warp-lang 1.8.0 (two workers, two
    # cores) made 9 tests in all, while the campaign's throughput with
    # findings was no better (bench_pipeline: 0.94 at 0, 0.96 at 10)
    shrink_nice: int = 0
    # Hypothesis's own shrinker before the AST reducer. Off by default: on
    # generated programs it spent 3x the oracle calls for the same final size
    # (measured in the closing note of the campaign issue).
    hypothesis_shrink: bool = False
    batch_timeout: float = 60.0
    # gradient oracle: the most programs one check takes (None: a batch's
    # size), threads per check
    gradient_per_check: int | None = None
    gradient_launch: int = GRADIENT_LAUNCH
    # the share of eligible programs sent to be checked (by the program's
    # hash; 1.0: every one the checker keeps up with). A check costs about as
    # much CPU as the program's fuzzing: on two cores, 1.19.0, 2 minutes
    # (benchmarks/bench_gradients.py --share 1.0 0.5), every one compared 62%
    # of the programs with a float input array at 0.64 of the forward-only
    # throughput, 0.5 compared 35% at 0.78
    gradient_share: float = 1.0
    # the process-state oracle: every state_every-th batch, up to state_sample
    # of its clean programs again in a fresh worker
    state_every: int = 16
    state_sample: int = 8
    # the jit-eager oracle: the share of programs a JAX backend also runs op
    # by op (chosen by the program's hash; shrinks and confirmations run all).
    # The eager run costs 0.89-0.92 of the jitted path's CPU time (render,
    # lower, compile, two launches; bench_jit_eager.py --in-process 320
    # --seed 7); a campaign on
    # every program ran at 0.56-0.58 of one without it, on a quarter at 0.87
    # (bench_jit_eager.py, 60 s, one worker, two cores shared with other
    # work: the campaigns without it before and after differed by 20%)
    eager_share: float = 0.25
    # vmap-loop oracle: the share of programs a JAX backend also runs with its
    # threads in a fori_loop (about a jitted run's cost again)
    loop_share: float = 0.25
    # xla-config oracle: the share of programs a JAX backend also compiles
    # under another XLA configuration and runs (one compile and one launch
    # more: about 0.1-0.2 s on jax-cpu)
    xla_share: float = 0.25
    # jvp-vjp oracle: the share of programs a JAX backend also differentiates
    # in forward and in reverse mode (one more trace and compile, of both
    # modes together: 0.58 of the CPU time of the rest of the path, with every
    # program differentiated; bench_jvp_vjp.py --in-process 192 --seed 5)
    jvp_share: float = 0.25
    # where the worker pools run: local processes, or a Ray cluster
    # (backends.ray_executor); the corpus and the state are written here
    # either way
    placement: Placement = LOCAL

    @property
    def state_path(self) -> Path:
        return Path(self.corpus) / ".campaign" / "state.json"


@dataclass
class InFlight:
    """A batch submitted to the workers: its outcomes per backend, to come."""

    first: int  # the index of its first program
    programs: list[Program]
    outcomes: dict[str, Future]
    references: list


@dataclass
class Bucket:
    signature: str
    backend: str
    oracle: str
    hits: int = 0
    cases: list[str] = field(default_factory=list)
    shrunk: int = 0
    found_at: float = 0.0  # the campaign's elapsed seconds at its first hit


@dataclass
class State:
    seed: int
    next_index: int = 0
    programs: int = 0
    compiled: dict[str, int] = field(default_factory=dict)
    # programs the backend's release cannot run as the language defines them
    unsupported: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    buckets: dict[str, Bucket] = field(default_factory=dict)
    shrinks: list[dict] = field(default_factory=list)
    unconfirmed: int = 0
    # findings stored unshrunk whose shrink has not been applied yet: a
    # resumed campaign finishes them
    pending_shrinks: list[dict] = field(default_factory=list)
    unrecognised: int = 0  # findings whose signature no KNOWN_SIGNATURES entry explains
    elapsed: float = 0.0
    # gradient oracle: programs compared, programs that passed the rules (some
    # are not sampled), exclusions by first rule, sources that gave no gradient
    gradient_checked: int = 0
    gradient_candidates: int = 0  # clean programs with a float input array
    gradient_eligible: int = 0
    gradient_unsampled: int = 0  # eligible, but outside gradient_share
    gradient_excluded: dict[str, int] = field(default_factory=dict)
    gradient_unavailable: dict[str, int] = field(default_factory=dict)
    state_checked: int = 0  # programs the process-state oracle compared
    # forward oracle, per backend: programs compared with the reference, and
    # those that were not, by reason (no device to run on, the reference failed)
    forward_compared: dict[str, int] = field(default_factory=dict)
    forward_skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    # programs the forward oracle compared in part, by what was left out (a
    # large launch: the reference ran a sample of its threads; an Acc array
    # of such a launch, which only every thread's atomics together give)
    forward_partial: dict[str, dict[str, int]] = field(default_factory=dict)
    # launch sizes of the programs judged, by decade (ops.LAUNCH_DECADES)
    launch_decades: dict[str, int] = field(default_factory=dict)
    # vmap-loop oracle, per backend: programs whose vmapped and looped outputs were compared
    loop_compared: dict[str, int] = field(default_factory=dict)
    # xla-config oracle, per backend: programs compiled under another XLA configuration and compared
    xla_compared: dict[str, int] = field(default_factory=dict)
    # jit-eager oracle, per backend: programs whose jitted and eager outputs were compared
    eager_compared: dict[str, int] = field(default_factory=dict)
    # jvp-vjp oracle, per backend: programs whose two modes were compared, and
    # the sampled ones that were not, by reason
    jvp_compared: dict[str, int] = field(default_factory=dict)
    jvp_skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    # (elapsed seconds, programs, findings, buckets) after each batch, thinned
    # to at most HISTORY_POINTS: what `synth report` draws over time
    history: list[list[float]] = field(default_factory=list)

    def record(self) -> None:
        self.history.append([round(self.elapsed, 1), self.programs, sum(self.findings.values()), len(self.buckets)])
        if len(self.history) > HISTORY_POINTS:
            self.history = self.history[::2] + ([self.history[-1]] if len(self.history) % 2 == 0 else [])

    def to_json(self) -> dict:
        return {
            "version": STATE_VERSION,
            "seed": self.seed,
            "next_index": self.next_index,
            "programs": self.programs,
            "compiled": self.compiled,
            "unsupported": self.unsupported,
            "findings": self.findings,
            "buckets": {s: vars(b) for s, b in self.buckets.items()},
            "shrinks": self.shrinks,
            "unconfirmed": self.unconfirmed,
            "pending_shrinks": self.pending_shrinks,
            "unrecognised": self.unrecognised,
            "elapsed": self.elapsed,
            "gradient_checked": self.gradient_checked,
            "gradient_candidates": self.gradient_candidates,
            "gradient_eligible": self.gradient_eligible,
            "gradient_unsampled": self.gradient_unsampled,
            "gradient_excluded": self.gradient_excluded,
            "gradient_unavailable": self.gradient_unavailable,
            "state_checked": self.state_checked,
            "forward_compared": self.forward_compared,
            "forward_skipped": self.forward_skipped,
            "forward_partial": self.forward_partial,
            "launch_decades": self.launch_decades,
            "loop_compared": self.loop_compared,
            "xla_compared": self.xla_compared,
            "eager_compared": self.eager_compared,
            "jvp_compared": self.jvp_compared,
            "jvp_skipped": self.jvp_skipped,
            "history": self.history,
        }

    @classmethod
    def from_json(cls, data: dict) -> "State":
        if data.get("version") != STATE_VERSION:
            raise CampaignError(f"campaign state version {data.get('version')!r} is not {STATE_VERSION}")
        state = cls(seed=data["seed"])
        for key in ("next_index", "programs", "compiled", "findings", "shrinks", "unconfirmed", "elapsed"):
            setattr(state, key, data[key])
        state.unrecognised = data.get("unrecognised", 0)
        state.unsupported = dict(data.get("unsupported", {}))
        state.pending_shrinks = list(data.get("pending_shrinks", []))
        state.gradient_checked = data.get("gradient_checked", 0)
        state.gradient_eligible = data.get("gradient_eligible", 0)
        state.gradient_unsampled = data.get("gradient_unsampled", 0)
        state.gradient_candidates = data.get("gradient_candidates", 0)
        state.gradient_excluded = dict(data.get("gradient_excluded", {}))
        state.gradient_unavailable = dict(data.get("gradient_unavailable", {}))
        state.state_checked = data.get("state_checked", 0)
        state.forward_compared = dict(data.get("forward_compared", {}))
        state.forward_skipped = {b: dict(r) for b, r in data.get("forward_skipped", {}).items()}
        state.eager_compared = dict(data.get("eager_compared", {}))
        state.forward_partial = {b: dict(r) for b, r in data.get("forward_partial", {}).items()}
        state.launch_decades = dict(data.get("launch_decades", {}))
        state.loop_compared = dict(data.get("loop_compared", {}))
        state.xla_compared = dict(data.get("xla_compared", {}))
        state.jvp_compared = dict(data.get("jvp_compared", {}))
        state.jvp_skipped = {b: dict(r) for b, r in data.get("jvp_skipped", {}).items()}
        state.history = [list(point) for point in data.get("history", [])]
        state.buckets = {s: Bucket(**b) for s, b in data["buckets"].items()}
        return state


def jax_problem() -> str | None:
    """Why JAX cannot be used here (not installed, or broken by the versions
    beside it), or None. Imported once, at start, so that an oracle that
    cannot run is refused up front instead of turning into findings."""
    try:
        importlib.import_module("jax")
    except Exception as exc:  # any failure to import is the environment's
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    return None


def _case_text(paths: list[str]) -> str | None:
    """The stored case of a bucket (its first), whole: a summary fetched from
    another machine then shows the program without its corpus."""
    for path in paths:
        try:
            return read_case(Path(path)).text
        except CorpusError:
            continue
    return None


def default_oracles(backends: tuple[str, ...]) -> frozenset[str]:
    """What `synth fuzz` runs unless told: every oracle, the gradient one where
    a backend has adjoints and JAX imports (its grad is the third opinion)."""
    oracles = set(FORWARD_ORACLES)
    if any(get_backend(name).has_adjoints for name in backends) and jax_problem() is None:
        oracles.add(Oracle.GRADIENT.value)
    return frozenset(oracles)


def avoiding_known_bugs(weights: Weights, backends) -> Weights:
    """`weights` leaving out the triggers of the known Warp bugs the installed
    release has, where one of `backends` is Warp's (`--known-bugs avoid`)."""
    if any(get_backend(name).library == "warp" for name in backends):
        return with_avoid(weights, avoided_shapes(installed_warp()))
    return weights


class Campaign:
    def __init__(self, config: CampaignConfig, on_event=None):
        self.config = config
        self.on_event = on_event or (lambda kind, data: None)
        self.weights = config.weights or default_weights()
        if config.known_bugs == "avoid":
            self.weights = avoiding_known_bugs(self.weights, config.backends)
        self.clock = lambda: self.state.elapsed  # until `run` starts its own
        infos = [get_backend(name) for name in config.backends]  # BackendUnavailable before any work
        if Oracle.GRADIENT in config.oracles and not any(info.has_adjoints for info in infos):
            with_adjoints = ", ".join(name for name, info in BACKENDS.items() if info.has_adjoints)
            raise CampaignError(f"the gradient oracle checks Warp's adjoints: it needs one of the backends {with_adjoints} (warp-cuda only where a GPU is)")
        if Oracle.GRADIENT in config.oracles:
            problem = jax_problem()
            if problem is not None:
                raise CampaignError(f"the gradient oracle compares with jax.grad, but JAX does not import here ({problem}); drop it from --oracles or repair JAX")
        self.state = self._load_state()
        launch = Launch(threads=config.launch, seed=self.state.seed, gradient_threads=config.gradient_launch)
        self.triage = Triage(
            config.oracles, launch, workers=config.workers, batch_timeout=config.batch_timeout, placement=config.placement, eager_share=config.eager_share, loop_share=config.loop_share,
            xla_share=config.xla_share, jvp_share=config.jvp_share,
        )
        self.shrinker = Shrinker(
            lambda: Triage(
                config.oracles, launch, workers=1, batch_timeout=config.batch_timeout, nice=config.shrink_nice, placement=config.placement, side=True,
            ),
            config.shrink_tests,
            before=self.hypothesis_phase if config.hypothesis_shrink else None,
        )
        self.versions = library_versions()
        self.shrinking: str | None = None
        # the pipeline: batches drawn and submitted but not yet judged, in order
        self.in_flight: deque[InFlight] = deque()
        self.next_drawn = self.state.next_index
        self.last_drawn = False  # a batch cut to fit the budget was drawn: no more
        self.deadline = float("inf")
        self.forward_threads = ThreadPoolExecutor(max(config.pipeline_depth, 1) * len(config.backends), thread_name_prefix="forward")
        self.side_thread = ThreadPoolExecutor(1, thread_name_prefix="side-checks")
        # checks beside the fuzzing, one at a time: (oracle, [(index, program)], future verdicts)
        self.side_checks: list[tuple[Oracle, list[tuple[int, Program]], Future]] = []
        self.settled_batches = 0
        self.batch_size = config.batch_size or config.workers * max(info.programs_per_module() for info in infos)
        # Eligible programs wait here, newest kept, until the check in flight
        # is done; the next check takes them all, so no batch's programs are
        # passed over because its predecessor's were still being checked. On
        # 1.19.0, two cores (benchmarks/bench_gradients.py --budget 60s):
        # 0.84 of the forward-only throughput, 57% of the programs with a
        # float input array compared, where passing over a batch while a
        # check was in flight gave 0.82 and 41% (three eighths of each
        # batch: 0.81, 22%). The next check leaves as soon as one ends
        # (`outcomes_of`), not when the next batch settles: over 2 minutes,
        # 63% compared at 0.91, where waiting gave 55% at 0.81. With the known
        # Warp bugs' triggers left out, forward-only runs 1.55x faster (24.5
        # programs/s: failing builds were its costly part) and the same
        # checks are 60% at 0.64 (15.6/s). A forward program costs ~64 ms of
        # CPU (its -O3 build ~50), a check ~61 (Warp's -O0 backward build
        # ~40, JAX ~8, finite differences ~5): a worker always checking takes
        # a third of two cores, so 60% and 0.75 together need checks of ~40 ms
        self.gradient_backlog: dict[str, deque] = {b: deque(maxlen=config.gradient_per_check or self.batch_size) for b in config.backends}
        # the gradient rules depend on what the installed Warp documents
        self.gradient_release = installed_warp()
        self.busy: dict[str, float] = {}

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

    def close(self) -> None:
        """Wait for the shrinks in flight (each stops at its deadline) and
        apply them, then stop every worker. Batches and gradient checks still
        in flight (only after an error or an interrupt) are dropped: the
        state counts settled batches alone, so a resumed campaign draws them
        again."""
        try:
            self.apply_shrinks(self.shrinker.done(wait=True))
        finally:
            self.busy = {b: self.triage.busy_seconds(b) for b in self.config.backends}
            self.in_flight.clear()
            self.forward_threads.shutdown(wait=False, cancel_futures=True)
            self.side_thread.shutdown(wait=False, cancel_futures=True)
            self.shrinker.close()
            self.triage.close()

    def hypothesis_phase(self, triage: Triage, job: ShrinkJob, deadline: float) -> Program:
        """Hypothesis's own shrinker on the program's draw, before the AST reducer."""
        from kernel_synth.shrink.hypothesis_phase import hypothesis_shrink

        def interesting(candidate: Program) -> bool:
            return time.monotonic() < deadline and triage.rerun(job.finding, candidate) is not None

        smaller, _ = hypothesis_shrink(self.state.seed, job.index, interesting, self.weights)
        return smaller if smaller is not None and ast_size(smaller) < ast_size(job.program) else job.program

    # -- the loop

    def run(self) -> dict:
        config, state = self.config, self.state
        start = time.monotonic()
        deadline = self.deadline = start + config.budget
        elapsed_before = state.elapsed
        self.clock = lambda: elapsed_before + (time.monotonic() - start)  # the campaign's seconds, resumed runs included
        interval = 0.0  # seconds between two settled batches, smoothed
        last = start
        try:
            if config.resume:
                self.resume_shrinks(deadline)
            while True:
                self.fill(deadline, interval)
                if not self.in_flight:
                    break
                self.settle(self.in_flight.popleft(), deadline)
                self.collect_side_checks(block=self.serial)
                self.apply_shrinks(self.shrinker.done())
                now = time.monotonic()
                took, last = now - last, now
                # smoothed, but never below the last batch: a batch that
                # crashed workers (bisected, respawned) must not be followed
                # by one predicted too short to overrun the budget
                interval = took if not interval else max(0.7 * interval + 0.3 * took, took)
                state.elapsed = elapsed_before + (now - start)
                state.record()
                self.save()
                self.on_event("progress", self.progress(start, deadline))
            self.collect_side_checks(block=True)
        finally:
            self.close()
            state.elapsed = elapsed_before + (time.monotonic() - start)
            self.save()
        return self.summary(time.monotonic() - start)

    @property
    def serial(self) -> bool:
        """Depth 1: each step waits for the one before (the pipeline before
        overlapping, kept as the benchmark's baseline)."""
        return self.config.pipeline_depth <= 1

    def fill(self, deadline: float, interval: float) -> None:
        """Draw and submit batches until `pipeline_depth` are in flight, while
        the newest would still settle within the budget. The first batch goes
        alone: until one has settled, how long a batch takes is unknown."""
        config = self.config
        depth = max(config.pipeline_depth, 1) if interval else 1
        while len(self.in_flight) < depth and not self.last_drawn:
            now = time.monotonic()
            size = self.batch_size
            if interval:
                # the share of a batch that would still settle in time: the
                # last batch is cut to fit, so that large batches (old
                # releases) neither overrun the budget nor leave it unused
                fits = (deadline - now) / interval - len(self.in_flight)
                if fits < 1:
                    size = int(self.batch_size * fits) // config.workers * config.workers
            if now >= deadline or size < config.workers:
                return
            # one batch is cut, the last: smaller ones after it would each
            # pay a module's fixed cost for a few programs
            self.last_drawn = size < self.batch_size
            first = self.next_drawn
            programs = [draw_program(self.state.seed, i, self.weights) for i in range(first, first + size)]
            self.next_drawn += len(programs)
            outcomes = {b: self.forward_threads.submit(self.triage.outcomes, b, programs) for b in config.backends}
            if self.serial:
                wait(outcomes.values())  # compile, then the reference
            # the NumPy reference runs here while the workers compile
            self.in_flight.append(InFlight(first, programs, outcomes, self.triage.references(programs)))

    def settle(self, batch: "InFlight", deadline: float) -> None:
        """Judge a batch whose outcomes are in (waiting for them), in order."""
        config, state = self.config, self.state
        indexes = range(batch.first, batch.first + len(batch.programs))
        for program in batch.programs:
            launch = program.kernels[0].launch
            decade = "default" if launch is None else launch_decade(launch)
            state.launch_decades[decade] = state.launch_decades.get(decade, 0) + 1
        for backend in config.backends:
            outcomes = self.outcomes_of(batch.outcomes[backend])
            verdicts = self.triage.judged(backend, batch.programs, outcomes, batch.references)
            state.compiled[backend] = state.compiled.get(backend, 0) + sum(v.outcome.ok for v in verdicts)
            unsupported = sum(v.outcome.status is Status.UNSUPPORTED for v in verdicts)
            if unsupported:
                state.unsupported[backend] = state.unsupported.get(backend, 0) + unsupported
            if Oracle.FORWARD in config.oracles:
                self.count_forward(backend, verdicts, batch.references)
            if Oracle.JIT_EAGER in config.oracles and get_backend(backend).eager:
                compared = sum(v.outcome.ok and v.outcome.eager is not None for v in verdicts)
                state.eager_compared[backend] = state.eager_compared.get(backend, 0) + compared
            if Oracle.VMAP_LOOP in config.oracles:
                compared = sum(v.outcome.ok and v.outcome.looped is not None for v in verdicts)
                state.loop_compared[backend] = state.loop_compared.get(backend, 0) + compared
            if Oracle.XLA_CONFIG in config.oracles:
                compared = sum(v.outcome.ok and bool(v.outcome.configured) for v in verdicts)
                state.xla_compared[backend] = state.xla_compared.get(backend, 0) + compared
            if Oracle.JVP_VJP in config.oracles and get_backend(backend).eager:
                sampled = [v.outcome.jvp for v in verdicts if v.outcome.ok and v.outcome.jvp is not None]
                compared = sum(e.compared for e in sampled)
                state.jvp_compared[backend] = state.jvp_compared.get(backend, 0) + compared
                skipped = state.jvp_skipped.setdefault(backend, {})
                for evidence in sampled:
                    if evidence.skipped:
                        skipped[evidence.skipped] = skipped.get(evidence.skipped, 0) + 1
            clean, warm = [], []
            for index, verdict in zip(indexes, verdicts):
                if verdict.finding is not None:
                    self.found(verdict.finding, verdict.program, index, deadline)
                elif verdict.outcome.ok:
                    clean.append((index, verdict.program))
                    warm.append(verdict.outcome)
            if Oracle.GRADIENT in config.oracles and get_backend(backend).has_adjoints:
                self.gradients(backend, clean, deadline)
            if Oracle.PROCESS_STATE in config.oracles and get_backend(backend).library == "warp":
                self.process_state(backend, clean, warm, deadline)
        self.settled_batches += 1
        state.programs += len(batch.programs)
        state.next_index = batch.first + len(batch.programs)

    def count_forward(self, backend: str, verdicts, references) -> None:
        """Which programs the forward oracle compared, and why not the others:
        a campaign that only compiles (warp-cuda without a GPU) says so."""
        state = self.state
        compared = 0
        skipped = state.forward_skipped.setdefault(backend, {})
        for verdict, reference in zip(verdicts, references):
            if not verdict.outcome.ok:
                continue
            if verdict.outcome.outputs is None:
                why = "compiled only: it runs on a GPU and none is here" if get_backend(backend).needs_device else "no outputs"
            elif reference is None or not reference.ok:
                why = "the reference could not run it"
            else:
                compared += 1
                partial = state.forward_partial.setdefault(backend, {})
                if reference.threads is not None:
                    why = f"only the elements of {len(reference.threads)} sampled threads (launch over {REFERENCE_FULL_LIMIT})"
                    partial[why] = partial.get(why, 0) + 1
                for reason in set(reference.not_compared.values()):
                    why = f"Acc arrays not compared: {reason}"
                    partial[why] = partial.get(why, 0) + 1
                continue
            skipped[why] = skipped.get(why, 0) + 1
        state.forward_compared[backend] = state.forward_compared.get(backend, 0) + compared

    def gradients(self, backend: str, candidates: list[tuple[int, Program]], deadline: float) -> None:
        """The gradient oracle on `candidates` (programs that ran without a
        finding): exclusions counted per rule, the rest added to the
        backlog (the newest kept, up to gradient_per_check: the fuzzing is
        never held up), which `feed_gradients` sends to the gradient pool."""
        state = self.state
        backlog = self.gradient_backlog[backend]
        state.gradient_candidates += sum(bool(gradient_inputs(p.kernels[0])) for _, p in candidates)
        for index, program in candidates:
            rule = differentiability(program, self.gradient_release)
            if rule is None:
                state.gradient_eligible += 1
                if in_share(program, self.config.gradient_share, "gradient:"):
                    backlog.append((index, program))
                else:
                    state.gradient_unsampled += 1
            else:
                state.gradient_excluded[rule] = state.gradient_excluded.get(rule, 0) + 1
        self.feed_gradients(deadline)

    def feed_gradients(self, deadline: float) -> None:
        """Send a backend's whole backlog as one check, unless a check beside
        the fuzzing is still in flight or the budget is spent; the backends
        take turns."""
        if time.monotonic() >= deadline or any(not f.done() for _, _, f in self.side_checks):
            return
        for backend, backlog in self.gradient_backlog.items():
            if backlog:
                sample = list(backlog)
                backlog.clear()
                future = self.side_thread.submit(self.triage.gradients, backend, [p for _, p in sample])
                self.side_checks.append((Oracle.GRADIENT, sample, future))
                self.gradient_backlog[backend] = self.gradient_backlog.pop(backend)
                return

    def outcomes_of(self, outcomes: Future) -> list:
        """A batch's outcomes, waited for; a check beside the fuzzing that
        ends meanwhile is followed at once by the next (`feed_gradients`):
        waiting for the batch to settle left the gradient worker idle."""
        while True:
            self.feed_gradients(self.deadline)
            pending = [f for _, _, f in self.side_checks if not f.done()]
            done, _ = wait([outcomes, *pending], return_when=FIRST_COMPLETED)
            if outcomes in done:
                return outcomes.result()

    def process_state(self, backend: str, clean: list[tuple[int, Program]], warm: list, deadline: float) -> None:
        """Every state_every-th batch, a sample of its clean programs again in
        a fresh worker (after a failed build, in reverse order), beside the
        fuzzing; skipped while the previous one is in flight."""
        if self.settled_batches % self.config.state_every or not clean or time.monotonic() >= deadline:
            return
        if any(oracle is Oracle.PROCESS_STATE and not f.done() for oracle, _, f in self.side_checks):
            return  # queued behind the gradient checks, but never two at once
        sample, outcomes = clean[: self.config.state_sample], warm[: self.config.state_sample]
        future = self.side_thread.submit(self.triage.process_state, backend, [p for _, p in sample], outcomes)
        self.side_checks.append((Oracle.PROCESS_STATE, sample, future))

    def collect_side_checks(self, block: bool = False) -> None:
        """Count the checks beside the fuzzing that are done (gradient and
        process-state; all of them, waiting, with block=True)."""
        state = self.state
        for check in [c for c in self.side_checks if block or c[2].done()]:
            self.side_checks.remove(check)
            oracle, sample, future = check
            for (index, _), verdict in zip(sample, future.result()):
                if oracle is Oracle.PROCESS_STATE:
                    state.state_checked += 1
                else:
                    state.gradient_checked += 1
                    for source in getattr(verdict.outcome, "unavailable", {}):
                        state.gradient_unavailable[source] = state.gradient_unavailable.get(source, 0) + 1
                if verdict.finding is not None:
                    self.found(verdict.finding, verdict.program, index, self.deadline)

    # -- findings

    def found(self, finding: Finding, program: Program, index: int, deadline: float) -> None:
        state = self.state
        oracle = finding.oracle.value  # plain strings in the state: it is JSON
        state.findings[oracle] = state.findings.get(oracle, 0) + 1
        if recognised(finding.signature) is None:
            state.unrecognised += 1
        bucket = state.buckets.get(finding.signature)
        new = bucket is None
        if new:
            bucket = state.buckets[finding.signature] = Bucket(finding.signature, finding.backend, oracle, found_at=round(self.clock(), 1))
        bucket.hits += 1
        if len(bucket.cases) >= self.config.shrink_per_bucket:
            return
        original = self.store(finding, program, index, ast_size(program), None)
        bucket.cases.append(str(original))
        state.pending_shrinks.append({"signature": finding.signature, "index": index, "path": str(original)})
        self.save()  # reported from here on: it must survive a kill
        self.on_event("finding", {"signature": finding.signature, "new": new, "path": str(original)})
        self.shrink_later(finding, program, index, str(original), deadline)

    def shrink_later(self, finding: Finding, program: Program, index: int, original: str, deadline: float) -> None:
        """Shrink and confirm beside the fuzzing (see `Shrinker`); the result
        is applied by `shrunk` in this thread, after a later batch."""
        if time.monotonic() >= deadline:
            return
        self.shrinking = finding.signature
        self.on_event("shrinking", {"signature": finding.signature})
        self.shrinker.submit(ShrinkJob(finding, program, index, original), self.shrink_deadline(deadline))

    def shrink_deadline(self, deadline: float) -> float:
        """When a shrink must stop: early enough to confirm its result within
        the budget, and no later than its own bound."""
        reserve = max(CONFIRM_RESERVE, 0.05 * self.config.budget)
        return min(deadline - reserve, time.monotonic() + self.config.shrink_seconds)

    def apply_shrinks(self, results: list[ShrinkDone]) -> None:
        state = self.state
        for done in results:
            job = done.job
            if not done.out_of_time:  # else left pending: the next --resume shrinks it
                state.pending_shrinks = [p for p in state.pending_shrinks if p["path"] != job.original]
            if done.result is not None:
                result, finished = done.result
                state.shrinks.append(
                    {"signature": job.finding.signature, "before": result.size_before, "after": result.size_after, "tests": result.tests, "finished": finished}
                )
                if done.confirmed is None:
                    state.unconfirmed += 1
                    self.on_event("unconfirmed", {"signature": job.finding.signature})
                else:
                    bucket = state.buckets[job.finding.signature]
                    path = self.store(done.confirmed, result.program, job.index, result.size_before, result.size_after)
                    if str(path) != job.original:
                        Path(job.original).unlink(missing_ok=True)
                        Path(job.original).with_suffix(".py").unlink(missing_ok=True)
                    bucket.cases[bucket.cases.index(job.original)] = str(path)
                    bucket.shrunk += 1
            self.shrinking = self.shrinker.current()
            self.save()

    def resume_shrinks(self, deadline: float) -> None:
        """Shrinks a killed campaign left unfinished, from their stored cases."""
        for pending in list(self.state.pending_shrinks):
            try:
                case = read_case(Path(pending["path"]))
                program = parse(case.text, pending["path"])
            except (CorpusError, DSLError, OSError):
                self.state.pending_shrinks.remove(pending)  # the unshrunk case is what remains
                continue
            header = case.header
            finding = Finding(header.backend, header.oracle, header.stage, header.signature, header.error)
            self.shrink_later(finding, program, pending["index"], pending["path"], deadline)

    def store(self, finding: Finding, program: Program, index: int, size_before: int, size_after: int | None) -> Path:
        """Write a corpus case for program `index` of the campaign's seed."""
        return store_finding(
            self.config.corpus, finding, program, versions=self.versions, seed=self.state.seed,
            launch=self.triage.launch.threads_for(finding.oracle), weights=self.weights.name, index=index,
            size_before=size_before, size_after=size_after,
        )

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
            **({"gradient_checked": state.gradient_checked, "gradient_excluded": dict(state.gradient_excluded)} if Oracle.GRADIENT in self.config.oracles else {}),
            **({"forward_compared": dict(state.forward_compared), "forward_skipped": {b: dict(r) for b, r in state.forward_skipped.items()}} if Oracle.FORWARD in self.config.oracles else {}),
            **({"eager_compared": dict(state.eager_compared), "eager_share": self.config.eager_share} if Oracle.JIT_EAGER in self.config.oracles else {}),
            **({"loop_compared": dict(state.loop_compared), "loop_share": self.config.loop_share} if Oracle.VMAP_LOOP in self.config.oracles else {}),
            **({"xla_compared": dict(state.xla_compared), "xla_share": self.config.xla_share} if Oracle.XLA_CONFIG in self.config.oracles else {}),
            **(
                {"jvp_compared": dict(state.jvp_compared), "jvp_skipped": {b: dict(r) for b, r in state.jvp_skipped.items()}, "jvp_share": self.config.jvp_share}
                if Oracle.JVP_VJP in self.config.oracles else {}
            ),
            "oracles": sorted(self.config.oracles),
            # the buckets most hit, each with its shrink state
            "top_buckets": [
                (b.signature, b.hits, "shrinking" if b.signature == self.shrinking else "shrunk" if b.shrunk else "stored")
                for b in sorted(state.buckets.values(), key=lambda b: -b.hits)[:8]
            ],
            "history": [point[:2] for point in state.history[-40:]],  # (seconds, programs)
            "unsupported": dict(state.unsupported),
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
            "executor": self.config.placement.name,
            "workers": self.config.workers,
            "oracles": sorted(self.config.oracles),
            # shapes of known Warp bugs the draws left out (--known-bugs)
            "avoided": sorted(self.weights.avoid),
            "throughput": round(state.programs / max(state.elapsed, 1e-9), 2),
            "batch_size": self.batch_size,
            "pipeline_depth": self.config.pipeline_depth,
            # the share of this run's wall time the fuzzing workers had a batch
            "utilisation": {b: round(busy / max(self.config.workers * wall, 1e-9), 3) for b, busy in self.busy.items()},
            "compiled": state.compiled,
            "unsupported": state.unsupported,
            "findings": state.findings,
            "buckets": [
                {
                    "signature": b.signature, "backend": b.backend, "oracle": b.oracle, "hits": b.hits, "corpus": b.cases,
                    "known": recognised(b.signature), "case": _case_text(b.cases),
                }
                for b in state.buckets.values()
            ],
            "unrecognised": state.unrecognised,
            "shrink": {
                "count": len(shrinks),
                "median_ratio": ratios[len(ratios) // 2] if ratios else None,
                "tests": sum(s["tests"] for s in shrinks),
                # stored smaller but not minimal: the budget ran out first
                "cut_short": [s["signature"] for s in shrinks if not s.get("finished", True)],
                # stored unshrunk, the shrink still to do: `--resume` does it
                "pending": [p["signature"] for p in state.pending_shrinks],
            },
            "unconfirmed": state.unconfirmed,
            # per backend: outputs compared with the reference, and why not
            **({"forward": {b: {"compared": state.forward_compared.get(b, 0), "not_compared": state.forward_skipped.get(b, {}), "partly_compared": state.forward_partial.get(b, {})} for b in self.config.backends}} if Oracle.FORWARD in self.config.oracles else {}),
            # programs judged per launch-size decade (ops.LAUNCH_DECADES; `default`: the campaign's --launch)
            "launch_sizes": dict(state.launch_decades),
            **(
                {"vmap_loop": {"share": self.config.loop_share, "compared": dict(state.loop_compared), "findings": state.findings.get(Oracle.VMAP_LOOP.value, 0)}}
                if Oracle.VMAP_LOOP in self.config.oracles and any(get_backend(b).eager for b in self.config.backends) else {}
            ),
            **(
                {"xla_config": {"share": self.config.xla_share, "compared": dict(state.xla_compared), "findings": state.findings.get(Oracle.XLA_CONFIG.value, 0)}}
                if Oracle.XLA_CONFIG in self.config.oracles and any(get_backend(b).eager for b in self.config.backends) else {}
            ),
            **(
                {
                    "jvp_vjp": {
                        "share": self.config.jvp_share, "compared": dict(state.jvp_compared),
                        "not_compared": {b: dict(r) for b, r in state.jvp_skipped.items()}, "findings": state.findings.get(Oracle.JVP_VJP.value, 0),
                    },
                }
                if Oracle.JVP_VJP in self.config.oracles and any(get_backend(b).eager for b in self.config.backends) else {}
            ),
            **({"gradient": self.gradient_summary()} if Oracle.GRADIENT in self.config.oracles else {}),
            **(
                {"jit_eager": {"share": self.config.eager_share, "compared": dict(state.eager_compared), "findings": state.findings.get(Oracle.JIT_EAGER.value, 0)}}
                if Oracle.JIT_EAGER in self.config.oracles
                else {}
            ),
            **(
                {
                    "process_state": {
                        "checked": state.state_checked, "findings": state.findings.get(Oracle.PROCESS_STATE.value, 0),
                        # it compares a warm Warp worker (module cache, context) with a fresh one; JAX workers are not checked
                        "not_for": {b: "Warp backends only" for b in self.config.backends if get_backend(b).library != "warp"},
                    },
                }
                if Oracle.PROCESS_STATE in self.config.oracles
                else {}
            ),
        }

    def gradient_summary(self) -> dict:
        state = self.state
        return {
            "checked": state.gradient_checked,
            # programs that ran clean and have a float input array, and the
            # share of them whose gradients were compared
            "candidates": state.gradient_candidates,
            "compared_share": round(state.gradient_checked / max(state.gradient_candidates, 1), 3),
            "eligible": state.gradient_eligible,
            "share": self.config.gradient_share,
            "unsampled": state.gradient_unsampled,
            "excluded": dict(sorted(state.gradient_excluded.items(), key=lambda kv: -kv[1])),
            "unavailable": state.gradient_unavailable,
            "findings": state.findings.get(Oracle.GRADIENT.value, 0),
        }
