"""Regression corpora: one shrunk program per file, with a readable header.

Layout: `<root>/<backend>/<signature-slug>/<hash>.kernel`, the rendered source
beside it as `<hash>.py`. The header is comment lines `# key: value`, which
the parser ignores, so a case parses as it is. Every write is atomic (a
temporary file renamed into place): a killed process leaves either the old
file or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

HEADER_KEYS = ("signature", "oracle", "stage", "backend", "error", "versions", "seed", "size", "date")


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def slug(signature: str) -> str:
    """A directory name for a signature: readable, and unique by its hash."""
    readable = re.sub(r"[^a-z0-9]+", "-", signature.lower()).strip("-")[:60].strip("-")
    return f"{readable}-{hashlib.sha256(signature.encode()).hexdigest()[:8]}"


def case_hash(dsl: str) -> str:
    return hashlib.sha256(dsl.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Case:
    path: Path
    metadata: dict[str, str]
    text: str  # the whole file, header included: what the parser reads

    @property
    def signature(self) -> str:
        return self.metadata.get("signature", "")

    @property
    def backend(self) -> str:
        return self.metadata.get("backend", "")


def format_case(metadata: dict[str, str], dsl: str) -> str:
    lines = ["# kernel-synth corpus case"]
    for key in HEADER_KEYS:
        if key in metadata:
            value = " ".join(str(metadata[key]).split())  # one line, whatever the message
            lines.append(f"# {key}: {value}")
    return "\n".join(lines) + "\n" + dsl


def write_case(root: Path, metadata: dict[str, str], dsl: str, rendered: str | None = None) -> Path:
    directory = Path(root) / metadata["backend"] / slug(metadata["signature"])
    path = directory / f"{case_hash(dsl)}.kernel"
    if rendered is not None:
        write_atomic(path.with_suffix(".py"), rendered)
    write_atomic(path, format_case(metadata, dsl))
    return path


_HEADER_LINE = re.compile(r"^#\s*([a-z_]+):\s?(.*)$")


def read_case(path: Path) -> Case:
    text = Path(path).read_text()
    metadata = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        found = _HEADER_LINE.match(line)
        if found:
            metadata[found[1]] = found[2]
    return Case(Path(path), metadata, text)


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
