"""Regression corpora: one shrunk program per file, with a readable header.

Layout: `<root>/<backend>/<signature-slug>/<hash>.kernel`, the rendered source
beside it as `<hash>.py`. The header is comment lines `# key: value`, one key
per field of `CaseHeader`, which the DSL parser ignores, so a case parses as
it is. `read_case` rejects a malformed header with the file and line. Every
write goes through `synth.files.write_atomic`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import MISSING, dataclass, fields, replace
from pathlib import Path

from datetime import datetime, timezone
from importlib import metadata

from kernel_synth.backends.registry import BACKENDS
from kernel_synth.backends.signature import key_line
from kernel_synth.grammar import Program, print_program

from . import __version__
from .files import write_atomic
from .oracles import Finding

FIRST_LINE = "# kernel-synth corpus case"


class CorpusError(Exception):
    """A corpus case whose header cannot be read; the message starts file:line."""


@dataclass(frozen=True)
class CaseHeader:
    """What a case says about itself: the finding, and how to run it again."""

    signature: str
    oracle: str
    stage: str
    backend: str
    error: str
    versions: str
    seed: int  # of the launch inputs (and of the draw, when index is set)
    launch: int  # threads per launch
    weights: str = "default"
    index: int | None = None  # the program's index under `seed`, when it was drawn
    origin: str | None = None  # the file it came from, when it was not drawn
    size_before: int | None = None  # AST nodes
    size_after: int | None = None  # None: stored unshrunk
    date: str = ""
    # the first Warp release where it passes, after the last where it fails
    # (`synth bisect` records it once known); of another package, with its
    # name before it (`jax 0.5.0`)
    first_fixed: str | None = None

    @property
    def shrunk(self) -> bool:
        return self.size_after is not None


_FIELDS = {f.name: f for f in fields(CaseHeader)}
_INTEGER_FIELDS = frozenset({"seed", "launch", "index", "size_before", "size_after"})
_REQUIRED = frozenset(name for name, f in _FIELDS.items() if f.default is MISSING)


def slug(signature: str) -> str:
    """A directory name for a signature: readable, and unique by its hash."""
    readable = re.sub(r"[^a-z0-9]+", "-", signature.lower()).strip("-")[:60].strip("-")
    return f"{readable}-{hashlib.sha256(signature.encode()).hexdigest()[:8]}"


def case_hash(dsl: str) -> str:
    return hashlib.sha256(dsl.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Case:
    path: Path
    header: CaseHeader
    text: str  # the whole file, header included: what the parser reads

    @property
    def signature(self) -> str:
        return self.header.signature

    @property
    def backend(self) -> str:
        return self.header.backend


def format_case(header: CaseHeader, dsl: str) -> str:
    lines = [FIRST_LINE]
    for name in _FIELDS:
        value = getattr(header, name)
        if value is not None:
            lines.append(f"# {name}: {' '.join(str(value).split())}")  # one line, whatever the message
    return "\n".join(lines) + "\n" + dsl


def write_case(root: Path, header: CaseHeader, dsl: str, rendered: str | None = None) -> Path:
    directory = Path(root) / header.backend / slug(header.signature)
    path = directory / f"{case_hash(dsl)}.kernel"
    if rendered is not None:
        write_atomic(path.with_suffix(".py"), rendered)
    write_atomic(path, format_case(header, dsl))
    return path


# The libraries whose release shapes a case: the draw (hypothesis, lark), the
# rendering (libcst), the compilers and the reference (numpy)
RECORDED_LIBRARIES = ("warp-lang", "jax", "jaxlib", "numpy", "hypothesis", "lark", "libcst")


def installed_versions(libraries=RECORDED_LIBRARIES) -> dict[str, str]:
    """kernel-synth's release and each of `libraries` that is installed."""
    versions = {"kernel-synth": __version__}
    for lib in libraries:
        try:
            versions[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            pass
    return versions


def library_versions() -> str:
    return ", ".join(f"{lib} {version}" for lib, version in installed_versions().items())


def render_for(backend: str, program: Program) -> str | None:
    """The source a case keeps beside its DSL text: its backend's rendering."""
    from .rows import SOURCE_FIELDS, render_source

    target = BACKENDS[backend].render_target
    try:
        if target is not None:
            return render_source(program, SOURCE_FIELDS[target])
    except Exception:  # the case itself is what matters; a render failure is in its header
        pass
    return None


def store_finding(root: Path, finding: Finding, program: Program, *, versions: str, **provenance) -> Path:
    """Write `program` as the case of `finding`; `provenance` holds the
    header's remaining fields (seed, launch, weights, index or origin, sizes)."""
    header = CaseHeader(
        signature=finding.signature,
        oracle=finding.oracle,
        stage=finding.stage,
        backend=finding.backend,
        error=key_line(finding.message)[:300],
        versions=versions,
        date=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **provenance,
    )
    return write_case(root, header, print_program(program), render_for(finding.backend, program))


_HEADER_LINE = re.compile(r"^#\s*([a-z_]+):\s?(.*)$")


def parse_header(text: str, path: str) -> CaseHeader:
    """The header of a case's text; CorpusError naming file:line otherwise."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != FIRST_LINE:
        raise CorpusError(f"{path}:1: not a corpus case (the first line must be {FIRST_LINE!r})")
    values: dict[str, object] = {}
    end = len(lines) + 1
    for number, line in enumerate(lines[1:], start=2):
        if not line.startswith("#"):
            end = number
            break
        found = _HEADER_LINE.match(line)
        if not found:
            raise CorpusError(f"{path}:{number}: malformed header line (expected '# key: value'): {line[:80]!r}")
        key, value = found[1], found[2].strip()
        if key not in _FIELDS:
            raise CorpusError(f"{path}:{number}: unknown header key {key!r} (expected one of {', '.join(_FIELDS)})")
        if key in values:
            raise CorpusError(f"{path}:{number}: header key {key!r} given twice")
        if key in _INTEGER_FIELDS:
            try:
                value = int(value)
            except ValueError:
                raise CorpusError(f"{path}:{number}: header key {key!r} must be a whole number, got {value!r}") from None
        values[key] = value
    missing = sorted(_REQUIRED - set(values))
    if missing:
        raise CorpusError(f"{path}:{end}: the header lacks {', '.join(missing)}")
    return CaseHeader(**values)  # type: ignore[arg-type]


def read_case(path: Path) -> Case:
    """The case at `path`; CorpusError for an unreadable file or header."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: cannot read: {exc}") from None
    return Case(Path(path), parse_header(text, str(path)), text)


def record_first_fixed(path: Path, release: str) -> bool:
    """Write `release` into the case's header as its first fixed release;
    False when it is there already. The program and the rest of the header
    stay as they are."""
    case = read_case(path)
    if case.header.first_fixed == release:
        return False
    lines = case.text.splitlines(keepends=True)
    body = "".join(lines[1 + sum(1 for _ in _header_lines(lines[1:])):])
    write_atomic(Path(path), format_case(replace(case.header, first_fixed=release), body))
    return True


def _header_lines(lines: list[str]):
    for line in lines:
        if not line.startswith("#"):
            return
        yield line


def find_cases(paths: list[Path]) -> list[Path]:
    """Every .kernel file under the given files and directories, sorted."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.kernel") if not p.name.startswith(".")))
        else:
            found.append(path)
    return found
