"""`synth generate`: Python→IR datasets, seeded, deduplicated, balanced on
request, resumable after a kill.

Which programs become rows is a pure function of the command: candidates are
drawn in index order from (seed, index, category target) and compiled in
chunks of a fixed number of candidates, and a candidate is a row when it
compiled on every requested backend, produced every requested field, is not
a program already in the dataset, and its primary category still needs rows.
Only the state at a chunk's start decides which candidates the chunk holds,
so neither the worker count nor an interruption changes the rows.

On disk (`DatasetStore`) a dataset is shards written whole and atomically,
a manifest naming them, and after every chunk the rows not yet in a full
shard, so a kill loses at most one chunk's compiles; `--resume` reads the
manifest and goes on from its next index. A single-file output (`x.jsonl`,
`x.parquet`) is built the same way in `x.jsonl.partial/` and joined at the
end.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from kernel_synth.backends.executor import LOCAL, Placement
from kernel_synth.backends.inputs import DEFAULT_LAUNCH
from kernel_synth.backends.outcome import SOURCE_ARTIFACT
from kernel_synth.backends.registry import BACKENDS
from kernel_synth.grammar import Program
from kernel_synth.grammar.ast import launch_of
from kernel_synth.grammar.categories import CATEGORIES
from kernel_synth.grammar.sampling import draw_program
from kernel_synth.grammar.weights import ALONE, Weights, default_weights, with_aim

from .files import write_atomic
from .rows import DATASET_BACKENDS, Described, Missing, describe, family, make_row, program_metadata, wanted_fields

FORMATS = ("jsonl", "parquet")
MANIFEST = "manifest.json"
STATE_DIR = ".synth"
DATASET_FORMAT = "kernel-synth dataset 1"
# Candidates compiled per chunk: fixed, so that the rows never depend on the
# worker count; large enough to fill the workers' batches.
CHUNK = 64
# Draws one chunk may look through for candidates (a category that is rare
# among draws may need many)
MAX_DRAWS = CHUNK * 64
# A chunk compiles this many candidates more than a category still needs, so
# that a few failures seldom leave it short for another chunk
SPARE = 1.25
# Chunks in a row without a row before a run gives up on what it still needs
MAX_DRY_CHUNKS = 50
DEFAULT_SHARD_SIZE = 1000
# What builds each backend in a worker (tests put a faulty one in its place)
BACKEND_FACTORIES = {name: BACKENDS[name].factory for name in DATASET_BACKENDS}
LIBRARIES = {"warp": ("warp-lang",), "jax": ("jax", "jaxlib")}
# Every library that shapes every row: the draw, the printer, the reference types
COMMON_LIBRARIES = ("hypothesis", "lark", "libcst", "numpy")


class DatasetError(Exception):
    """Bad input or an output that cannot be continued; the message names it."""


@dataclass(frozen=True)
class DatasetConfig:
    count: int
    backends: tuple[str, ...]
    out: Path
    format: str = "jsonl"
    seed: int = 0
    weights: Weights | None = None
    balanced: bool = False
    categories: tuple[str, ...] = ()  # primary labels to keep; empty: all
    workers: int = 2
    shard_size: int | None = None  # rows per shard; None: one file (`out` names it)
    resume: bool = False
    backward: bool = True
    swarm: bool | None = None
    corpus: Path = Path("corpora")
    timeout: float = 120.0
    # where the workers run (local processes, a Ray cluster): not part of the
    # identity, as the rows are the same wherever they compile
    placement: Placement = LOCAL

    def __post_init__(self) -> None:
        for backend in self.backends:
            if backend not in DATASET_BACKENDS:
                raise DatasetError(f"--backend: {backend!r} writes no dataset (expected some of {', '.join(DATASET_BACKENDS)})")
        if self.format not in FORMATS:
            raise DatasetError(f"--format: {self.format!r} (expected jsonl or parquet)")
        for category in self.categories:
            if category not in CATEGORIES:
                raise DatasetError(f"--category: unknown category {category!r} (expected some of {', '.join(CATEGORIES)})")

    @property
    def wanted(self) -> tuple[str, ...]:
        return wanted_fields(self.backends, self.backward)

    @property
    def requested(self) -> tuple[str, ...]:
        return self.categories or CATEGORIES

    def quotas(self) -> dict[str, int] | None:
        """Rows per primary category when balanced (each within one of the others)."""
        if not self.balanced:
            return None
        share, extra = divmod(self.count, len(self.requested))
        return {c: share + (k < extra) for k, c in enumerate(self.requested)}

    @property
    def weights_name(self) -> str:
        return self.weights.name if self.weights else "default"

    def identity(self) -> dict:
        """What a resumed run must share with the run it continues."""
        weights = self.weights
        return {
            "count": self.count,
            "backends": list(self.backends),
            "format": self.format,
            "seed": self.seed,
            "weights": self.weights_name,
            "weights_digest": hashlib.sha256(repr(weights).encode()).hexdigest()[:16] if weights else None,
            "balanced": self.balanced,
            "categories": list(self.categories),
            "shard_size": self.shard_size,
            "backward": self.backward,
            "swarm": self.swarm,
        }


# -- what a row records of the libraries


def library_versions(backends: tuple[str, ...]) -> dict[str, str]:
    """The releases that shape a row for `backends`."""
    from .corpus import installed_versions

    libraries = list(COMMON_LIBRARIES)
    for name in dict.fromkeys(family(b) for b in backends):
        libraries.extend(LIBRARIES[name])
    return installed_versions(libraries)


def compile_options(backend: str, backward: bool) -> dict:
    """How a dataset's backend compiles: IR and the rendered source kept, no
    run; Warp's CPU build at optimisation level 0 where the release has the
    option, which leaves the generated C++ (the row's IR) as it is and more
    than halves its compile (PTX, the output of an optimised build, keeps
    NVRTC's default)."""
    from kernel_synth.backends.warp_release import installed

    options = {"backward": backward, "run": False, "ir": True}
    if backend == "warp-cuda":
        options["ptx"] = True
    release = installed()
    if backend == "warp-cpu" and release is not None and release.has("optimization_level"):
        options["optimization_level"] = 0
    return options


# -- on disk


class DatasetStore:
    """Shards, a manifest and the rows not yet in a full shard, in `root`."""

    def __init__(self, root: Path, fmt: str, shard_size: int, schema=None):
        self.root = Path(root)
        self.format = fmt
        self.shard_size = shard_size
        self.schema = schema  # pyarrow's, for Parquet
        self.manifest: dict = {}
        self.pending: list[dict] = []

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    def exists(self) -> bool:
        return (self.root / MANIFEST).is_file()

    def create(self, identity: dict, versions: dict[str, str]) -> None:
        self.manifest = {
            "format": DATASET_FORMAT, "config": identity, "versions": versions, "complete": False, "rows": 0, "shards": [],
            "pending": None, "progress": {},
        }
        self._checkpoint({})  # a run killed before its first chunk is still this run

    def load(self) -> None:
        """Read the manifest and the pending rows; remove what a kill left
        that the manifest does not name (a shard or pending file written
        just before it was)."""
        try:
            self.manifest = json.loads((self.root / MANIFEST).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DatasetError(f"{self.root / MANIFEST}: cannot read the manifest: {exc}") from None
        if self.manifest.get("format") != DATASET_FORMAT:
            raise DatasetError(f"{self.root / MANIFEST}: not a kernel-synth dataset manifest")
        named = {s["file"] for s in self.manifest["shards"]}
        for path in self.root.glob(f"part-*.{self.format}"):
            if path.name not in named:
                path.unlink()
        pending = self.manifest.get("pending")
        self.pending = []
        if pending:
            path = self.state_dir / pending["file"]
            with open(path, "rb") as handle:
                lines = [handle.readline() for _ in range(pending["rows"])]
                # an append the manifest never counted (a kill came first) goes
                os.truncate(path, handle.tell())
            self.pending = [json.loads(line) for line in lines]
        for path in self.state_dir.glob("pending-*.jsonl") if self.state_dir.is_dir() else ():
            if not pending or path.name != pending["file"]:
                path.unlink()

    def ids(self) -> set[str]:
        """The ids of every row written so far."""
        found = {row["id"] for row in self.pending}
        for shard in self.manifest["shards"]:
            found.update(row_ids(self.root / shard["file"], self.format))
        return found

    def commit(self, rows: list[dict], progress: dict) -> None:
        """Add `rows`, write every shard they fill, then the rest and the
        manifest: after a kill, either this commit is whole or it never was.
        The rows not yet in a shard are appended to a log that the manifest
        counts (so a commit writes its own rows, not every pending one again),
        and start a new log after a shard is written."""
        self.pending.extend(rows)
        filled = len(self.pending) >= self.shard_size
        while len(self.pending) >= self.shard_size:
            self._write_shard(self.pending[: self.shard_size])
            self.pending = self.pending[self.shard_size :]
        current = self.manifest.get("pending")
        if filled or current is None:
            if self.pending:
                name = f"pending-{progress['chunks']:06d}.jsonl"
                write_atomic(self.state_dir / name, _lines(self.pending))
                self.manifest["pending"] = {"file": name, "rows": len(self.pending)}
            else:
                self.manifest["pending"] = None
        elif rows:
            with open(self.state_dir / current["file"], "a") as log:
                log.write(_lines(rows))
                log.flush()
                os.fsync(log.fileno())
            current["rows"] = len(self.pending)
        self._checkpoint(progress, current["file"] if current else None)

    def finish(self, progress: dict) -> None:
        if self.pending:
            self._write_shard(self.pending)
            self.pending = []
        old = self.manifest.get("pending")
        self.manifest["pending"] = None
        self.manifest["complete"] = True
        self._checkpoint(progress, old["file"] if old else None)

    def _write_shard(self, rows: list[dict]) -> None:
        name = f"part-{len(self.manifest['shards']):05d}.{self.format}"
        data = encode_rows(rows, self.format, self.schema)
        write_atomic(self.root / name, data)
        self.manifest["shards"].append({"file": name, "rows": len(rows), "sha256": hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()})
        self.manifest["rows"] = sum(s["rows"] for s in self.manifest["shards"])

    def _checkpoint(self, progress: dict, old: str | None = None) -> None:
        """The manifest, written atomically; then the pending log it no
        longer names, and once complete the state directory, go."""
        self.manifest["progress"] = progress
        write_atomic(self.root / MANIFEST, json.dumps(self.manifest, indent=1) + "\n")
        now = self.manifest.get("pending")
        if old and (now is None or now["file"] != old):
            (self.state_dir / old).unlink(missing_ok=True)
        if self.manifest["complete"] and self.state_dir.is_dir():
            for path in self.state_dir.iterdir():
                path.unlink()
            self.state_dir.rmdir()


def _lines(rows: list[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def encode_rows(rows: list[dict], fmt: str, schema=None) -> str | bytes:
    if fmt == "jsonl":
        return _lines(rows)
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), buffer)
    return buffer.getvalue()


def read_rows(path: Path, fmt: str | None = None) -> list[dict]:
    """The rows of one dataset file (JSONL or Parquet)."""
    fmt = fmt or file_format(path)
    if fmt == "jsonl":
        return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def row_ids(path: Path, fmt: str) -> list[str]:
    if fmt == "jsonl":
        return [json.loads(line)["id"] for line in Path(path).read_text().splitlines() if line.strip()]
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=["id"]).column("id").to_pylist()


def file_format(path: Path) -> str | None:
    suffix = Path(path).suffix.lstrip(".")
    return suffix if suffix in FORMATS else None


def parquet_schema(fields: tuple[str, ...], versions: dict[str, str]):
    """One schema for every shard, so that they load as one table."""
    import pyarrow as pa

    metadata = pa.struct([
        ("params", pa.list_(pa.struct([("name", pa.string()), ("type", pa.string())]))),
        ("lines", pa.int64()), ("ast_size", pa.int64()), ("depth", pa.int64()), ("helpers", pa.int64()),
        ("seed", pa.int64()), ("index", pa.int64()), ("target", pa.string()), ("launch", pa.int64()), ("weights", pa.string()),
        ("versions", pa.struct([(lib, pa.string()) for lib in versions])),
    ])
    types = {"categories": pa.list_(pa.string()), "metadata": metadata}
    return pa.schema([(name, types.get(name, pa.string())) for name in fields])


# -- choosing candidates


@dataclass
class Progress:
    """What a run has done so far; saved in the manifest after every chunk."""

    next_index: int = 0
    chunks: int = 0
    drawn: int = 0
    compiled: int = 0  # candidates sent to the compilers
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # rows per primary category
    skipped: dict[str, int] = field(default_factory=dict)  # candidates that made no row, by reason
    findings: dict[str, int] = field(default_factory=dict)  # failures by signature
    dry_chunks: int = 0  # chunks in a row that gave no row
    elapsed: float = 0.0

    def to_json(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict) -> "Progress":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Candidate:
    index: int
    target: str | None
    drawn: Described

    @property
    def program(self) -> Program:
        return self.drawn.program


def still_needed(config: DatasetConfig, progress: Progress) -> dict[str, int]:
    """Rows each wanted primary category still needs (one entry, "*", when
    the run is not balanced)."""
    if config.balanced:
        return {c: q - progress.counts.get(c, 0) for c, q in config.quotas().items() if q > progress.counts.get(c, 0)}
    left = config.count - progress.rows
    return {"*": left} if left > 0 else {}


def draw_targets(config: DatasetConfig, needed: dict[str, int]) -> list[str | None]:
    """What candidates are drawn for, in turn, when some categories are
    wanted and not others: the profile's own mix (None) beside, for each
    category that still needs rows, a draw aimed at it and one aimed at it
    alone (the other categories' features off: its primary label far more
    often, for the categories a free draw seldom makes primary)."""
    if not config.balanced and not config.categories:
        return [None]
    wanted = [c for c in config.requested if c in needed or "*" in needed]
    return [None, *(aim for c in wanted for aim in (c, ALONE + c))]


class Draws:
    """Programs by (index, target), described, drawn ahead while the
    compilers work: a draw is a function of its index alone, so a cache
    changes nothing but the time. Only the thread that owns this object
    draws (Hypothesis's runner is not thread-safe)."""

    def __init__(self, config: DatasetConfig):
        self.config = config
        self.cache: dict[tuple[int, str | None], Described] = {}
        self.aimed: dict[str, Weights] = {}  # the profile aimed at each target

    def get(self, index: int, target: str | None) -> Described:
        return self.cache.pop((index, target), None) or self._draw(index, target)

    def _draw(self, index: int, target: str | None) -> Described:
        """Draw `index` aimed at `target` (an aim of the profile's [aim]
        table), or at the profile's own mix."""
        config = self.config
        weights = config.weights or default_weights()
        if target is not None:
            weights = self.aimed.setdefault(target, with_aim(weights, {target: 1.0}))
        return describe(draw_program(config.seed, index, weights, None, config.swarm))

    def ahead(self, start: int, count: int, targets: list[str | None], busy) -> None:
        """Draw `count` programs from `start` on, while `busy()` (a chunk
        is compiling): no more than the next chunk will likely look at, as
        drawing takes a core from the compilers."""
        self.cache = {key: value for key, value in self.cache.items() if key[0] >= start}
        for index in range(start, start + count):
            if not busy():
                return
            key = (index, targets[index % len(targets)])
            if key not in self.cache:
                self.cache[key] = self._draw(*key)


def next_chunk(config: DatasetConfig, progress: Progress, seen: set[str], draws: Draws | None = None) -> list[Candidate]:
    """The candidates of the chunk starting at `progress.next_index`, which
    advances past every draw looked at; a function of the state alone."""
    draws = draws or Draws(config)
    needed = still_needed(config, progress)
    allowance = {c: math.ceil(n * SPARE) + 2 for c, n in needed.items()}
    targets = draw_targets(config, needed)
    chosen: list[Candidate] = []
    ids: set[str] = set()
    start = progress.next_index
    index = start
    while len(chosen) < CHUNK and index - start < MAX_DRAWS and any(allowance.values()):
        target = targets[index % len(targets)]
        drawn = draws.get(index, target)
        index += 1
        key = drawn.primary if config.balanced else "*"
        if config.categories and drawn.primary not in config.categories:
            continue
        if allowance.get(key, 0) <= 0:
            continue
        if drawn.id in seen or drawn.id in ids:
            continue
        ids.add(drawn.id)
        allowance[key] -= 1
        chosen.append(Candidate(index - 1, target, drawn))
    progress.drawn += index - start
    progress.next_index = index
    return chosen


# -- the run


@dataclass
class ChunkResult:
    rows: list[dict]
    skipped: Counter
    failures: list[tuple[Candidate, object]]  # (candidate, Finding)


class DatasetRun:
    """One `synth generate`: draws, compiles on every backend, writes rows."""

    def __init__(self, config: DatasetConfig, on_event=None):
        self.config = config
        self.on_event = on_event or (lambda kind, data: None)
        self.versions = library_versions(config.backends)
        self.root, self.single = self._layout()
        schema = parquet_schema(config.wanted, self.versions) if config.format == "parquet" else None
        self.store = DatasetStore(self.root, config.format, config.shard_size or DEFAULT_SHARD_SIZE, schema)
        self.progress = Progress()
        self.seen: set[str] = set()
        self.pools: dict = {}
        self.launch = DEFAULT_LAUNCH
        self.started = time.monotonic()

    def _layout(self) -> tuple[Path, bool]:
        config = self.config
        out = Path(config.out)
        suffix = file_format(out)
        if config.shard_size is None and suffix is not None:
            if suffix != config.format:
                raise DatasetError(f"--out {out}: a .{suffix} file, but --format is {config.format}")
            return out.with_name(out.name + ".partial"), True
        if suffix is not None:
            raise DatasetError(f"--out {out}: with --shard-size, --out names a directory of shards (drop the .{suffix})")
        return out, False

    # -- starting and resuming

    def open(self) -> bool:
        """Prepare the output; False when a resumed run was already complete."""
        config, store = self.config, self.store
        out = Path(config.out)
        if not config.resume:
            if self.single and out.exists():
                raise DatasetError(f"--out {out}: already exists; choose another path (or --resume, which leaves a finished file as it is)")
            if self.root.exists() and (not self.root.is_dir() or any(self.root.iterdir())):
                what = "an unfinished run is in" if self.single else "already exists, not empty:"
                raise DatasetError(f"--out {out}: {what} {self.root}; add --resume to continue it, or choose another path")
        elif self.single and out.exists() and not store.exists():
            return False  # finished and joined
        if store.exists():
            store.load()
            mismatched = [k for k, v in config.identity().items() if store.manifest["config"].get(k) != v]
            if mismatched:
                was = store.manifest["config"]
                said = ", ".join(f"--{k.replace('_', '-')} was {was.get(k)!r}, now {config.identity()[k]!r}" for k in mismatched)
                raise DatasetError(f"--resume {out}: not the same command as the run it continues ({said})")
            was = store.manifest.get("versions", {})
            changed = [f"{lib} {was.get(lib)} then, {now} now" for lib, now in self.versions.items() if was.get(lib) != now]
            if changed:  # the rows would no longer be those of one set of releases
                raise DatasetError(f"--resume {out}: the libraries changed since the run began ({', '.join(changed)})")
            self.progress = Progress.from_json(store.manifest.get("progress") or {})
            if store.manifest["complete"]:
                if self.single:  # killed while joining the file: join again
                    self._join()
                return False
            self.seen = store.ids()
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            store.create(config.identity(), self.versions)
        return True

    def run(self) -> dict:
        from kernel_synth.backends.pool import BatchPool

        config = self.config
        if not self.open():
            return self.summary(already=True)
        started, before = time.monotonic(), self.progress.elapsed
        self.started = started
        self.on_event("start", self.summary())
        for backend in config.backends:
            executor = config.placement.executor(needs_device=BACKENDS[backend].needs_device, side=False)
            self.pools[backend] = BatchPool(
                BACKEND_FACTORIES[backend], compile_options(backend, config.backward), workers=config.workers, timeout=config.timeout, executor=executor,
            )
        draws = Draws(config)
        compiling = ThreadPoolExecutor(1, thread_name_prefix="ks-dataset-compile")
        try:
            while still_needed(config, self.progress):
                if self.progress.dry_chunks >= MAX_DRY_CHUNKS:
                    raise DatasetError(self.starved())
                start = self.progress.next_index
                candidates = next_chunk(config, self.progress, self.seen, draws)
                future = compiling.submit(self.compile, candidates)
                # the next chunk's draws, most likely, while this one compiles
                looked_at = self.progress.next_index - start
                targets = draw_targets(config, still_needed(config, self.progress))
                draws.ahead(self.progress.next_index, looked_at + looked_at // 8, targets, lambda: not future.done())
                result = future.result()
                self.accept(result)
                self.progress.chunks += 1
                self.progress.dry_chunks = 0 if result.rows else self.progress.dry_chunks + 1
                self.progress.elapsed = before + time.monotonic() - started
                self.store.commit(result.rows, self.progress.to_json())
                self.on_event("progress", self.summary())
            self.store.finish(self.progress.to_json())
            if self.single:
                self._join()
        finally:
            for pool in self.pools.values():
                pool.close()
            compiling.shutdown(wait=False, cancel_futures=True)
        return self.summary()

    def compile(self, candidates: list[Candidate]) -> ChunkResult:
        from kernel_synth.synth.oracles import Oracle, judge

        config = self.config
        programs = [c.program for c in candidates]
        self.progress.compiled += len(programs)

        def run(backend: str) -> list:
            # every worker gets a share of the chunk, in modules no larger than suit the release
            batch = min(BACKENDS[backend].programs_per_module(), math.ceil(len(programs) / config.workers))
            return self.pools[backend].run(programs, batch_size=batch, launch=self.launch, seed=config.seed) if programs else []

        # the backends side by side: one's workers take up what another's leave idle
        with ThreadPoolExecutor(len(self.pools)) as backends:
            outcomes = dict(zip(self.pools, backends.map(run, self.pools)))
        rows, skipped, failures = [], Counter(), []
        every_oracle = frozenset({Oracle.COMPILE, Oracle.CRASH, Oracle.TIMEOUT, Oracle.RENDER})
        for k, candidate in enumerate(candidates):
            results = {b: outcomes[b][k] for b in config.backends}
            failed = None
            for backend, outcome in results.items():
                if outcome.ok:
                    continue
                finding = judge(backend, outcome, None, every_oracle)
                failed = failed or f"{backend}: {outcome.status.value}"
                if finding is not None:
                    failures.append((candidate, finding))
            if failed:
                skipped[failed] += 1
                continue
            sources = {family(b): o.artifacts.get(SOURCE_ARTIFACT, "") for b, o in reversed(results.items())}
            metadata = program_metadata(candidate.drawn, config.seed, candidate.index, config.weights_name, self.versions)
            metadata["target"] = candidate.target or "any"
            metadata["launch"] = launch_of(candidate.program, self.launch)  # the kernel's own size, if it has one
            row = make_row(candidate.drawn, {b: o.artifacts for b, o in results.items()}, sources, config.wanted, metadata)
            if isinstance(row, Missing):
                skipped[row.reason] += 1
                continue
            rows.append(row)
        return ChunkResult(rows, skipped, failures)

    def accept(self, result: ChunkResult) -> None:
        """Keep, in index order, the rows their categories still need; store
        each new failure's first program in the corpus."""
        config, progress = self.config, self.progress
        needed = still_needed(config, progress)
        kept = []
        for row in result.rows:
            key = row["category"] if config.balanced else "*"
            if needed.get(key, 0) <= 0:
                progress.skipped["surplus"] = progress.skipped.get("surplus", 0) + 1
                continue
            needed[key] -= 1
            kept.append(row)
            self.seen.add(row["id"])
            progress.rows += 1
            progress.counts[row["category"]] = progress.counts.get(row["category"], 0) + 1
        result.rows[:] = kept
        for reason, n in result.skipped.items():
            progress.skipped[reason] = progress.skipped.get(reason, 0) + n
        for candidate, finding in result.failures:
            new = finding.signature not in progress.findings
            progress.findings[finding.signature] = progress.findings.get(finding.signature, 0) + 1
            if new:
                path = self.store_finding(candidate, finding)
                self.on_event("finding", {"signature": finding.signature, "path": str(path)})

    def starved(self) -> str:
        needed = still_needed(self.config, self.progress)
        what = "rows" if "*" in needed else "rows of " + ", ".join(f"{c} ({n} to go)" for c, n in needed.items())
        return (
            f"no new {what} in the last {MAX_DRY_CHUNKS * MAX_DRAWS} draws at most (index {self.progress.next_index}): "
            f"the weights profile seldom or never draws them, or every such program fails; the {self.progress.rows} rows so far are kept "
            "(--resume continues them)"
        )

    def store_finding(self, candidate: Candidate, finding) -> Path:
        from kernel_synth.grammar.stats import ast_size

        from .corpus import library_versions as case_versions
        from .corpus import store_finding

        config = self.config
        return store_finding(
            config.corpus, finding, candidate.program, versions=case_versions(), seed=config.seed, launch=self.launch,
            weights=config.weights_name, index=candidate.index,
            size_before=ast_size(candidate.program), size_after=None,
        )

    def _join(self) -> None:
        """The single output file from the finished shards; then the parts go."""
        out = Path(self.config.out)
        shards = [self.root / s["file"] for s in self.store.manifest["shards"]]
        if self.config.format == "jsonl":
            write_atomic(out, "".join(path.read_text() for path in shards))
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            buffer = io.BytesIO()
            tables = [pq.read_table(path) for path in shards]
            pq.write_table(pa.concat_tables(tables) if tables else self.store.schema.empty_table(), buffer)
            write_atomic(out, buffer.getvalue())
        for path in shards:
            path.unlink()
        (self.root / MANIFEST).unlink()
        os.rmdir(self.root)

    # -- reporting

    def summary(self, already: bool = False) -> dict:
        progress = self.progress
        config = self.config
        return {
            "out": str(config.out),
            "rows": progress.rows,
            "count": config.count,
            "already_complete": already,
            "backends": list(config.backends),
            "format": config.format,
            "seed": config.seed,
            "drawn": progress.drawn,
            "compiled": progress.compiled,
            "categories": dict(sorted(progress.counts.items())),
            "skipped": dict(sorted(progress.skipped.items())),
            "findings": dict(sorted(progress.findings.items())),
            "elapsed_seconds": round(progress.elapsed, 2),
            "rows_per_second": round(progress.rows / max(progress.elapsed, 1e-9), 2),
            "executor": config.placement.name,
            "workers": config.workers,
            # the share of this process's time each backend's workers had a batch
            "utilisation": {b: round(pool.busy_seconds / max(config.workers * (time.monotonic() - self.started), 1e-9), 3) for b, pool in self.pools.items()},
            "shards": len(self.store.manifest.get("shards", [])) if not self.single else 1,
        }
