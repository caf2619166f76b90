"""Weights profiles: what to generate, as named data (TOML under grammar/weights/).

A profile names every choice point of the generator exactly as default.toml
does; an unknown or missing name, a negative weight or a limit beyond the hard
caps is a WeightsError that names the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from .categories import CATEGORIES
from .errors import DSLError
from .ops import MAX_TRIP, TILE_SIZES

WEIGHTS_DIR = Path(__file__).with_name("weights")
DEFAULT_PATH = WEIGHTS_DIR / "default.toml"

# Hard caps, whatever a profile says: they keep every draw small and fast.
HARD_LIMITS = {"expr_depth": 6, "block_depth": 5, "loop_depth": 3, "max_statements": 200, "max_trip": MAX_TRIP}
HARD_LENGTHS = {
    "helpers": 4,
    "helper_params": 4,
    "helper_statements": 8,
    "kernel_statements": 40,
    "block_statements": 10,
    "elifs": 6,
    "in_arrays": 6,
    "out_arrays": 4,
    "inout_arrays": 4,
    "arrays_2d": 4,
    "acc_arrays": 4,
    "scalar_params": 6,
    "expr_depth": 6,
    "structs": 4,
    "struct_fields": 6,
    "struct_params": 4,
    "returned": 4,
    "overloads": 4,
    "constants": 6,
    "tile_size": max(TILE_SIZES),
}


class WeightsError(DSLError):
    """A weights profile that is not valid."""

    def __init__(self, message: str, *, file: str, key: str | None = None, line: int | None = None, column: int | None = None):
        super().__init__(f"[{key}]: {message}" if key else message, rule="weights", line=line, column=column, file=file)


@dataclass(frozen=True)
class Weights:
    """A validated profile. Hashable, so strategies can be cached per profile."""

    name: str
    limits: tuple[tuple[str, int], ...]
    swarm_enabled: bool
    swarm: tuple[tuple[str, float], ...]
    lengths: tuple[tuple[str, tuple[tuple[int, float], ...]], ...]
    rules: tuple[tuple[str, tuple[tuple[str, float], ...]], ...]
    # What each draw aims at before its first choice: "any" (the rules alone
    # decide), a category whose shape it then guarantees, or "only_<category>"
    # (that category, the features of others off); `synth tune` fits this
    # mix to a target. Optional in a profile: "any" alone.
    aim: tuple[tuple[str, float], ...] = (("any", 1.0),)
    # Shapes the draws leave out (AVOIDABLE): set by a campaign from the
    # known bugs of the release it runs on, never by a profile. Sorted, not a
    # set: the repr is a dataset's identity (its weights digest), and a set's
    # order changes from process to process with the string hash seed
    avoid: tuple[str, ...] = ()
    _index: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        self._index["limits"] = dict(self.limits)
        self._index["swarm"] = dict(self.swarm)
        self._index["lengths"] = {k: v for k, v in self.lengths}
        self._index["rules"] = {k: v for k, v in self.rules}

    def limit(self, name: str) -> int:
        return self._index["limits"][name]

    def length(self, name: str) -> tuple[tuple[int, float], ...]:
        return self._index["lengths"][name]

    def rule(self, name: str) -> tuple[tuple[str, float], ...]:
        return self._index["rules"][name]

    def feature_probability(self, name: str) -> float:
        return self._index["swarm"][name]

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.swarm)

    def alternatives(self) -> list[tuple[str, str]]:
        """Every (rule, alternative) of the profile, positive weight or not."""
        return [(rule, alt) for rule, alts in self.rules for alt, _ in alts]


def load_weights(path: str | Path | None = None) -> Weights:
    """Load and validate a profile (a file, or a shipped profile's name);
    None means the shipped default."""
    if path is None:
        return default_weights()
    path = Path(path)
    shipped = WEIGHTS_DIR / f"{path}.toml"
    if not path.exists() and path.parent == Path(".") and not path.suffix and shipped.is_file():
        path = shipped  # a shipped profile by name: `--weights uniform`
    try:
        text = path.read_text()
    except OSError as exc:
        raise WeightsError(f"cannot read weights profile: {exc.strerror}", file=str(path)) from None
    except UnicodeDecodeError:
        raise WeightsError("not a UTF-8 text file", file=str(path)) from None
    return parse_weights(text, str(path))


@lru_cache(maxsize=1)
def default_weights() -> Weights:
    return parse_weights(DEFAULT_PATH.read_text(), str(DEFAULT_PATH))


@lru_cache(maxsize=1)
def _schema() -> dict:
    return tomllib.loads(DEFAULT_PATH.read_text())


def parse_weights(text: str, file: str = "<weights>") -> Weights:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's TOMLDecodeError carries its position only in the message.
        found = re.search(r"\s*\(at line (\d+), column (\d+)\)", str(exc))
        line, column = (int(found[1]), int(found[2])) if found else (None, None)
        message = str(exc)[: found.start()] if found else str(exc)
        raise WeightsError(f"not valid TOML: {message}", file=file, line=line, column=column) from None
    schema = _schema()
    aim = _aim(data.pop("aim", None), file)
    _same_keys(data, schema, file, "")

    limits = []
    for key, value in data["limits"].items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise WeightsError(f"{key} must be a non-negative integer, got {value!r}", file=file, key="limits")
        if value > HARD_LIMITS[key]:
            raise WeightsError(f"{key} = {value} is above the hard cap {HARD_LIMITS[key]}", file=file, key="limits")
        limits.append((key, value))
    if dict(limits)["max_trip"] < 1:
        raise WeightsError("max_trip must be at least 1", file=file, key="limits")

    swarm = data["swarm"]
    if not isinstance(swarm["enabled"], bool):
        raise WeightsError("enabled must be true or false", file=file, key="swarm")
    probabilities = []
    for key, value in swarm.items():
        if key == "enabled":
            continue
        if not _number(value) or not 0 <= value <= 1:
            raise WeightsError(f"{key} must be a probability in [0, 1], got {value!r}", file=file, key="swarm")
        probabilities.append((key, float(value)))

    lengths = []
    for key, table in data["lengths"].items():
        entries = []
        for count, weight in table.items():
            if not count.isdigit():
                raise WeightsError(f"{key}: {count!r} is not a count", file=file, key="lengths")
            if key == "tile_size" and int(count) not in TILE_SIZES:
                raise WeightsError(f"{key}: a tile has {', '.join(map(str, TILE_SIZES))} elements, not {count}", file=file, key="lengths")
            if int(count) > HARD_LENGTHS[key]:
                raise WeightsError(f"{key}: count {count} is above the hard cap {HARD_LENGTHS[key]}", file=file, key="lengths")
            entries.append((int(count), _weight(weight, file, f"lengths.{key}", count)))
        if not any(w > 0 for _, w in entries):
            raise WeightsError(f"{key}: no count has a positive weight", file=file, key="lengths")
        lengths.append((key, tuple(sorted(entries))))

    rules = []
    for rule, table in data["rules"].items():
        entries = tuple((alt, _weight(w, file, f"rules.{rule}", alt)) for alt, w in table.items())
        if not any(w > 0 for _, w in entries):
            raise WeightsError("no alternative has a positive weight", file=file, key=f"rules.{rule}")
        rules.append((rule, entries))

    return Weights(
        name=Path(file).stem,
        limits=tuple(limits),
        swarm_enabled=swarm["enabled"],
        swarm=tuple(probabilities),
        lengths=tuple(lengths),
        rules=tuple(rules),
        aim=aim,
    )


# An aim at a category alone: the other features that bring categories of
# their own are off for that draw (grammar.swarm.CATEGORY_FEATURES)
ALONE = "only_"
AIMS = ("any", *CATEGORIES, *(ALONE + c for c in CATEGORIES))


def with_aim(weights: Weights, aim: dict[str, float], name: str | None = None) -> Weights:
    """`weights` drawing with the aim mix `aim` (zero weights dropped)."""
    return replace(weights, aim=tuple((a, float(aim.get(a, 0.0))) for a in AIMS if aim.get(a, 0.0) > 0), name=name or weights.name, _index={})


# Shapes a draw can leave out, each the trigger of a compiler bug that is
# known and stored in corpora: a campaign on a release that has the bug
# would spend programs finding it again, and a program it fails to compile
# hides whatever else it holds (backends.warp_release.KNOWN_BUGS says which
# releases have which)
AVOIDABLE = {
    "unpack-reference": "a parallel assignment's value that is an array element, a struct field or another variable as it is (`a, b = x[i], 0.0`)",
    "exit-beside-static": "break or continue in a loop nest beside a static() that reads one of its loop variables",
    "grad-helper-in-helper": "a helper that calls grad() called by another helper, or passed for a Function parameter (which a helper calls)",
}


def with_avoid(weights: Weights, shapes) -> Weights:
    """`weights` leaving out `shapes` (names in AVOIDABLE)."""
    unknown = sorted(set(shapes) - AVOIDABLE.keys())
    if unknown:
        raise ValueError(f"no such avoidable shape: {', '.join(unknown)} (known: {', '.join(AVOIDABLE)})")
    shapes = tuple(sorted(set(shapes)))
    name = f"{weights.name}, avoiding {', '.join(shapes)}" if shapes else weights.name
    return replace(weights, avoid=shapes, name=name, _index={})


def with_swarm(weights: Weights, probabilities: dict[str, float]) -> Weights:
    """`weights` with the swarm probabilities in `probabilities` changed."""
    return replace(weights, swarm=tuple((k, float(probabilities.get(k, p))) for k, p in weights.swarm), _index={})


PROFILE_TITLE = "# kernel-synth generation profile:"


def render_profile(base_text: str, weights: Weights, title: str, comment: list[str]) -> str:
    """`base_text` (a profile) rewritten to `weights`: every swarm switch and
    probability and every rule weight that differs, marked with the value it
    had, and every length table that differs; the first line's title
    replaced by `title`; `comment` at the end, then the [aim] table,
    replaced by `weights`' own (left out when it is "any" alone). Limits are
    kept as they are."""
    lines = base_text.rstrip("\n").splitlines()
    if lines and lines[0].startswith(PROFILE_TITLE):
        lines[0] = f"{PROFILE_TITLE} {title}"
    swarm, rules, lengths = dict(weights.swarm), {rule: dict(alts) for rule, alts in weights.rules}, dict(weights.lengths)
    section = None
    for k, line in enumerate(lines):
        header = re.match(r"^\[([\w.]+)\]", line)
        if header:
            section = header[1]
        table = re.match(r"^(\w+)(\s*=\s*)(\{[^}]*\})(.*)$", line)
        if section == "lengths" and table and table[1] in lengths:
            now = "{ " + ", ".join(f"{count} = {weight:g}" for count, weight in lengths[table[1]]) + " }"
            if dict(lengths[table[1]]) != {int(c): float(w) for c, w in re.findall(r"(\d+)\s*=\s*([0-9.]+)", table[3])}:
                lines[k] = f"{table[1]}{table[2]}{now}{table[4]}  # tuned from {table[3]}"
            continue
        found = re.match(r"^(\w+)(\s*=\s*)([0-9.]+|true|false)(.*)$", line)
        if not found:
            continue
        name, was = found[1], found[3]
        if section == "swarm" and name == "enabled":
            now = "true" if weights.swarm_enabled else "false"
        elif section == "swarm" and name in swarm:
            now = f"{swarm[name]:g}"
        elif section and section.startswith("rules.") and name in rules.get(section[len("rules."):], {}):
            now = f"{rules[section[len('rules.'):]][name]:g}"
        else:
            continue
        if now != was and not (was not in ("true", "false") and float(now) == float(was)):
            lines[k] = f"{name}{found[2]}{now}{found[4]}  # tuned from {was}"
    if any(line.strip() == "[aim]" for line in lines):
        start = next(k for k, line in enumerate(lines) if line.strip() == "[aim]")
        end = next((k for k in range(start + 1, len(lines)) if lines[k].lstrip().startswith("[")), len(lines))
        while start > 0 and lines[start - 1].startswith("#"):
            start -= 1  # its comment goes with it
        lines = lines[:start] + lines[end:]
    aim = dict(weights.aim)
    lines += ["", *(f"# {text}" for text in comment)] if comment else []
    if aim != {"any": 1.0}:
        lines += ["[aim]", *(f"{name} = {aim[name]:.4f}" for name in AIMS if name in aim)]
    return "\n".join(lines) + "\n"


def _aim(table, file: str) -> tuple[tuple[str, float], ...]:
    """The optional [aim] table: a weight for "any" and for each category."""
    if table is None:
        return (("any", 1.0),)
    if not isinstance(table, dict):
        raise WeightsError("must be a table", file=file, key="aim")
    for key in table:
        if key not in AIMS:
            raise WeightsError(f"unknown name {key!r} (expected any, a category, or only_ and a category: {', '.join(CATEGORIES)})", file=file, key="aim")
    entries = tuple((name, _weight(table[name], file, "aim", name)) for name in AIMS if name in table)
    if not any(w > 0 for _, w in entries):
        raise WeightsError("no aim has a positive weight", file=file, key="aim")
    return entries


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _weight(value, file: str, key: str, name: str) -> float:
    if not _number(value) or value < 0:
        raise WeightsError(f"{name}: a weight is a non-negative number, got {value!r}", file=file, key=key)
    return float(value)


def _same_keys(data: dict, schema: dict, file: str, path: str) -> None:
    """The profile has exactly the tables and keys of default.toml (lengths' counts excepted)."""
    for key in data:
        if key not in schema:
            where = path or "top level"
            raise WeightsError(f"unknown name {key!r} (expected one of {', '.join(schema)})", file=file, key=where)
    for key in schema:
        if key not in data:
            raise WeightsError(f"missing {key!r}", file=file, key=path or "top level")
    for key, value in schema.items():
        sub = f"{path}.{key}" if path else key
        if isinstance(value, dict):
            if not isinstance(data[key], dict):
                raise WeightsError("must be a table", file=file, key=sub)
            if path == "lengths":
                continue  # counts are free, validated above
            _same_keys(data[key], value, file, sub)
