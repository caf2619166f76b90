"""Since when does a case fail, and where was it fixed: cases replayed on many
releases of one package, warp-lang or jax.

Each release gets its own virtual environment in a cache directory
(`KERNEL_SYNTH_ENVS`, else `~/.cache/kernel-synth/envs`), built once by pip
through the user's own package index configuration: this checkout of
kernel-synth, editable, with that release of the package (`warp-lang==<r>`;
`jax[cpu]==<r>`, which brings the jaxlib of its release) and the rest of
constraints.txt. An environment built before a change to the project's
dependencies is stale: delete its folder. A built environment is marked
complete and reused without the network. A Warp environment has JAX too, for
gradient cases; a JAX one has no Warp (its cases run on jax-cpu). In each,
`synth replay --json` judges every case exactly as the newest release would
(the renderer asks the installed release what it accepts), and the answers
are put side by side per case.

Which package a SPEC is about is its prefix: `jax:0.4.30..latest`; no prefix
(or `warp:`, `warp-lang:`) is warp-lang.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from kernel_synth.backends import jax_release, warp_release
from kernel_synth.backends.release import release_parts

ROOT = Path(__file__).resolve().parents[1]  # the checkout each environment installs
DONE_MARK = "kernel-synth-env-complete"


@dataclass(frozen=True)
class Package:
    """A package whose releases are bisected: its name on the package index,
    the oldest release the project supports, and what an environment
    installs besides this checkout."""

    name: str
    oldest: str
    extra: str  # the extra of kernel-synth the environment installs
    pinned: tuple[str, ...]  # constraints.txt lines left out (the release chosen replaces them)
    requirement: str  # what pip installs for a release, {} its number

    def requirements(self, release: str) -> list[str]:
        return [self.requirement.format(release)]


WARP = Package("warp-lang", warp_release.OLDEST_SUPPORTED, "jax", ("warp-lang",), "warp-lang=={}")
# jax[cpu]==r pins jaxlib to the release r needs: r itself or, where no
# jaxlib r was published (0.4.37, 0.5.2), the one before
JAX = Package("jax", jax_release.OLDEST_SUPPORTED, "jax", ("jax", "jaxlib"), "jax[cpu]=={}")
PACKAGES = {"warp": WARP, "warp-lang": WARP, "jax": JAX}


class BisectError(Exception):
    """A release specification or an environment that cannot be used."""


def cache_dir() -> Path:
    return Path(os.environ.get("KERNEL_SYNTH_ENVS") or Path.home() / ".cache" / "kernel-synth" / "envs")


def available_releases(package: Package = WARP) -> list[str]:
    """The releases of `package` the package index offers, oldest first (those
    before the oldest supported one left out); cached environments when the
    index cannot be reached."""
    run = subprocess.run([sys.executable, "-m", "pip", "index", "versions", package.name], capture_output=True, text=True)
    found = re.search(r"Available versions:\s*(.+)", run.stdout)
    if found:
        names = [v.strip() for v in found[1].split(",")]
    else:
        prefix = f"{package.name}-"
        names = [p.name.removeprefix(prefix) for p in cache_dir().glob(f"{prefix}*") if (p / DONE_MARK).exists()]
    names = [n for n in names if re.fullmatch(r"\d+\.\d+\.\d+(\.\d+)?", n)]
    return sorted((n for n in names if release_parts(n) >= release_parts(package.oldest)), key=release_parts)


def split_package(spec: str) -> tuple[Package, str]:
    """The package a SPEC names by its prefix (`jax:0.4.30..latest`; none:
    warp-lang) and the rest of it."""
    name, colon, rest = spec.strip().partition(":")
    if not colon:
        return WARP, spec.strip()
    if name.strip() not in PACKAGES:
        raise BisectError(f"--releases {spec!r}: unknown package {name.strip()!r} (one of warp-lang, jax)")
    return PACKAGES[name.strip()], rest.strip()


def parse_releases(spec: str, available: list[str], package: Package = WARP) -> list[str]:
    """`A..B` (B may be `latest`) against the available releases of
    `package`, or a comma list taken as it is; oldest first. `spec` is
    without its package prefix (split_package)."""
    spec = spec.strip()
    if ".." in spec:
        low, _, high = spec.partition("..")
        try:
            lo = release_parts(low or package.oldest)
            hi = None if high in ("", "latest") else release_parts(high)
        except ValueError as exc:
            raise BisectError(f"--releases {spec!r}: {exc}") from None
        chosen = [v for v in available if release_parts(v) >= lo and (hi is None or release_parts(v) <= hi)]
        if not chosen:
            raise BisectError(f"--releases {spec!r}: no available {package.name} release in that range")
        return chosen
    chosen = [v.strip() for v in spec.split(",") if v.strip()]
    for name in chosen:
        if name != "latest" and not re.fullmatch(r"\d+\.\d+(\.\d+){0,2}", name):
            raise BisectError(f"--releases: {name!r} is not a release number")
    chosen = [available[-1] if n == "latest" and available else n for n in chosen]
    if not chosen:
        raise BisectError("--releases: no release named")
    return sorted(set(chosen), key=release_parts)


def environment(release: str, log=lambda line: None, package: Package = WARP) -> Path:
    """The Python of the cached environment for `release` of `package`, built if needed."""
    home = cache_dir() / f"{package.name}-{release}"
    python = home / "bin" / "python"
    if (home / DONE_MARK).exists() and python.exists():
        return python
    log(f"building the environment for {package.name} {release} in {home}")
    home.parent.mkdir(parents=True, exist_ok=True)
    steps = [[sys.executable, "-m", "venv", "--clear", str(home)]]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        pinned = (ROOT / "constraints.txt").read_text().splitlines() if (ROOT / "constraints.txt").exists() else []
        # every pin but the bisected package's own
        kept = [line for line in pinned if not line.startswith("#") and re.split(r"[=<>!~\[ ]", line, maxsplit=1)[0] not in package.pinned]
        handle.write("\n".join(kept) + "\n")
        constraints = handle.name
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", constraints, "-e", f"{ROOT}[{package.extra}]"]
    steps.append(install + package.requirements(release))
    try:
        for step in steps:
            run = subprocess.run(step, capture_output=True, text=True)
            if run.returncode != 0:
                last = (run.stderr.strip().splitlines() or ["no message"])[-1]
                raise BisectError(f"{package.name} {release}: cannot build its environment: {last}")
    finally:
        Path(constraints).unlink(missing_ok=True)
    (home / DONE_MARK).write_text(release + "\n")
    return python


@dataclass
class CaseHistory:
    """One case across releases: its replay status on each (or why none)."""

    path: str
    expected: str | None = None
    statuses: dict[str, str] = field(default_factory=dict)  # release -> still_failing | fixed | changed
    problem: str | None = None  # unreadable case

    def fails(self, release: str) -> bool:
        return self.statuses.get(release) == "still_failing"

    def failing(self) -> list[str]:
        return [r for r, s in self.statuses.items() if s == "still_failing"]

    def verdict(self) -> str:
        """One line: where it fails, since when, where it was fixed."""
        if self.problem:
            return self.problem
        order = sorted(self.statuses, key=release_parts)
        failing = [r for r in order if self.statuses[r] == "still_failing"]
        if not failing:
            return f"fails on none of the releases tried ({order[0]} .. {order[-1]})" if order else "no release could run it"
        first = failing[0]
        since = f"since {first}" if order.index(first) > 0 else f"since {first} or earlier"
        later = [r for r in order if release_parts(r) > release_parts(failing[-1])]
        fixed = f"first fixed in {later[0]}" if later else f"still failing on {order[-1]}"
        where = ", ".join(failing) if len(failing) <= 3 else f"{failing[0]} .. {failing[-1]} ({len(failing)} replayed)"
        return f"fails on {where}: {since}, {fixed}"

    def first_fixed(self) -> str | None:
        failing = self.failing()
        if not failing:
            return None
        later = sorted((r for r in self.statuses if release_parts(r) > release_parts(max(failing, key=release_parts))), key=release_parts)
        return later[0] if later else None


def recorded_release(case: Path, package: Package = WARP) -> str | None:
    """The release of `package` a case was stored under (its header's versions), if any."""
    from .corpus import CorpusError, read_case

    try:
        found = re.search(rf"(?<![\w-]){re.escape(package.name)} (\d+\.\d+\.\d+)", read_case(case).header.versions)
    except CorpusError:
        return None
    return found[1] if found else None


def replay_on(python: Path, cases: list[Path], backend: str | None) -> dict[str, dict]:
    """Every case replayed by `python`'s kernel-synth: {path: result row}."""
    with tempfile.TemporaryDirectory(prefix="ks-bisect-") as scratch:
        out = Path(scratch) / "replay.json"
        command = [str(python), "-m", "kernel_synth.synth.cli", "replay", *map(str, cases), "--json", str(out)]
        if backend:
            command += ["--backend", backend]
        run = subprocess.run(command, capture_output=True, text=True, cwd=scratch)
        if not out.exists():
            last = (run.stderr.strip().splitlines() or ["no message"])[-1]
            raise BisectError(f"replay failed (exit {run.returncode}): {last}")
        return {row["path"]: row for row in json.loads(out.read_text())["results"]}


def bisect(
    cases: list[Path], releases: list[str], backend: str | None = None, log=lambda line: None, search: bool = False, package: Package = WARP,
) -> tuple[list[CaseHistory], list[str]]:
    """Each case's history over `releases` of `package`, and the releases that could not
    be installed or run (each logged; the others still run).

    With search=True the releases are a range to bisect rather than a list
    to replay in full: the oldest and the newest are replayed, and the
    release the case was stored under (where it failed); then between any two
    neighbouring replayed releases where a case changes, the release where it
    changes is found by halving, so that a range of 50 releases costs about
    8 environments per boundary instead of 50. Every release replayed runs
    every case, so cases share what they visit.
    """
    cases = [Path(c).resolve() for c in cases]
    histories = {str(c): CaseHistory(str(c)) for c in cases}
    broken: list[str] = []

    def visit(release: str) -> bool:
        """Replay every case on `release` (once); False when it is broken."""
        if release in broken:
            return False
        if any(release in h.statuses for h in histories.values()):
            return True
        try:
            python = environment(release, log, package)
            rows = replay_on(python, cases, backend)
        except BisectError as exc:
            log(f"synth: error: {exc}")
            broken.append(release)
            return False
        log(f"{package.name} {release}: replayed {len(rows)} cases")
        for path, row in rows.items():
            history = histories.setdefault(path, CaseHistory(path))
            if row["status"] == "unreadable":
                history.problem = row["message"]
                continue
            history.expected = row["expected"]
            history.statuses[release] = row["status"]
        return True

    if not search:
        for release in releases:
            visit(release)
        return list(histories.values()), broken

    usable = list(releases)
    while usable and not visit(usable[0]):
        usable.pop(0)
    while len(usable) > 1 and not visit(usable[-1]):
        usable.pop()
    for path, history in histories.items():
        recorded = recorded_release(Path(path), package)
        if recorded and usable and release_parts(usable[0]) < release_parts(recorded) < release_parts(usable[-1]):
            # where the case was found, it failed: a point inside the range
            # from which both its first failing and first fixed releases are
            # bisected, even when both ends pass
            if recorded not in usable:
                usable = sorted(usable + [recorded], key=release_parts)
            if not visit(recorded):
                usable.remove(recorded)
        while not history.problem:
            # the first pair of neighbouring visited releases where the case
            # changes and that has releases between them: halve it
            visited = [r for r in usable if r in history.statuses]
            gap = next(((a, b) for a, b in zip(visited, visited[1:]) if history.fails(a) != history.fails(b) and usable.index(b) - usable.index(a) > 1), None)
            if gap is None:
                break
            middle = usable[(usable.index(gap[0]) + usable.index(gap[1])) // 2]
            if not visit(middle):
                usable.remove(middle)  # broken: bisect over the rest
    return list(histories.values()), broken
