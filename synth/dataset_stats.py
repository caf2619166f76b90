"""`synth stats` on datasets: what the rows hold, and whether each is valid.

Reads JSONL and Parquet files, or directories of shards, as `synth generate`
writes them; every problem is reported with its row's place (file and line
for JSONL, file and row number for Parquet).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from kernel_synth.grammar.categories import CATEGORIES

from .dataset import FORMATS, STATE_DIR, file_format, read_rows
from .rows import DIALECT_MARKS, ROW_FIELDS, render_source, validate_row

TEXT_FIELDS = tuple(f for f in ROW_FIELDS if f not in ("id", "kernel_name", "category", "categories", "metadata"))


class DatasetReadError(Exception):
    """A path that holds no dataset, or a file that does not read."""


def dataset_files(paths: list[Path]) -> list[Path]:
    """The data files of `paths`: files as given, directories' shards in order."""
    found = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            shards = sorted(p for fmt in FORMATS for p in path.rglob(f"*.{fmt}") if STATE_DIR not in p.parts and not p.name.startswith("."))
            if not shards:
                raise DatasetReadError(f"{path}: no .jsonl or .parquet files")
            found.extend(shards)
        elif path.is_file():
            if file_format(path) is None:
                raise DatasetReadError(f"{path}: not a .jsonl or .parquet file")
            found.append(path)
        else:
            raise DatasetReadError(f"{path}: no such file or directory")
    return found


def _rows_with_places(path: Path):
    """(place, row) for every row of one file; a line that is not JSON is a
    DatasetReadError naming it."""
    if file_format(path) == "jsonl":
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                yield f"{path}:{number}", json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetReadError(f"{path}:{number}:{exc.colno}: not a JSON row: {exc.msg}") from None
        return
    try:
        rows = read_rows(path, "parquet")
    except Exception as exc:  # pyarrow's own errors: the file is not readable Parquet
        raise DatasetReadError(f"{path}: not a readable Parquet file: {exc}") from None
    for number, row in enumerate(rows):
        yield f"{path}: row {number}", row


def _render(program, field_name: str, row: dict) -> str:
    warp = ((row.get("metadata") or {}).get("versions") or {}).get("warp-lang")
    return render_source(program, field_name, warp)


def dataset_stats(paths: list[Path], validate: bool = False, max_problems: int = 20) -> dict:
    files = dataset_files(paths)
    rows = 0
    primary, has = Counter(), Counter()
    present = Counter()
    sizes: dict[str, tuple[int | None, int, int]] = {}  # (min, total, max) per text field
    ids, programs = Counter(), Counter()
    invalid: list[dict] = []
    invalid_count = 0
    for path in files:
        for place, row in _rows_with_places(path):
            rows += 1
            primary[row.get("category")] += 1
            has.update(row.get("categories") or ())
            for name, value in row.items():
                if value is None:
                    continue
                present[name] += 1
                if name in TEXT_FIELDS and isinstance(value, str):
                    low, total, high = sizes.get(name, (None, 0, 0))
                    sizes[name] = (len(value) if low is None else min(low, len(value)), total + len(value), max(high, len(value)))
            ids[row.get("id")] += 1
            programs[row.get("dsl")] += 1
            if validate:
                problems = validate_row(row, lambda program, name: _render(program, name, row))
                if ids[row.get("id")] > 1:
                    problems.append(f"duplicate id {row.get('id')}")
                if problems:
                    invalid_count += 1
                    if len(invalid) < max_problems:
                        invalid.append({"where": place, "problems": problems})
    return {
        "files": [str(f) for f in files],
        "rows": rows,
        "primary": {c: primary.get(c, 0) for c in CATEGORIES if primary.get(c)},
        "categories": {c: has.get(c, 0) for c in CATEGORIES if has.get(c)},
        "fields": {f: present[f] for f in ROW_FIELDS if present.get(f)},
        "sizes": {f: {"min": low, "mean": round(total / max(present[f], 1), 1), "max": high} for f, (low, total, high) in sizes.items()},
        "duplicates": {"ids": sum(n - 1 for n in ids.values() if n > 1), "programs": sum(n - 1 for n in programs.values() if n > 1)},
        "dialects_checked": sorted(DIALECT_MARKS) if validate else [],
        **({"invalid": invalid_count, "invalid_rows": invalid} if validate else {}),
    }
