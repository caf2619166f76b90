"""Seeded draws, pinned byte for byte: program `index` of `seed` prints the same
text as when the golden file was written.

A seed's programs are part of the project's contract (corpus cases and dataset
rows name a seed and index), so any change to the generator that moves a single
draw shows up here, including refactors meant to change nothing.

The draws go through Hypothesis's internals, so they are reproducible only under
the Hypothesis release they were made with; the golden's first line records it,
and under any other release the test skips rather than fails.

Regenerate after an intended change with
`UPDATE_GOLDEN=1 python -m pytest tests/test_seeded_draws.py` and review the diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import hypothesis
import pytest

from kernel_synth.grammar import print_program
from kernel_synth.grammar.sampling import draw_program
from kernel_synth.grammar.weights import DEFAULT_PATH, parse_weights

GOLDEN = Path(__file__).parent / "golden" / "draws" / "seeded.txt"
HEADER = "hypothesis "
SEEDS = (0, 1, 7)
CATEGORIES = ("loop", "vector", "reduction", "nested_branch", "multi_conditional")


def _int_heavy():
    """The default profile tilted towards integers, casts and integer calls, so
    the interval guards get exercised far more than the default draws do."""
    text = DEFAULT_PATH.read_text()
    for old, new in [
        ("float32 = 12\n", "float32 = 2\n"),
        ("integers = 0.5", "integers = 1.0"),
        ("casts = 0.5", "casts = 1.0"),
    ]:
        assert old in text, f"the default profile changed: {old!r} is gone; update _int_heavy"
        text = text.replace(old, new)
    return parse_weights(text, "int-heavy.toml")


def _sets():
    """(label, indexes, keyword arguments of draw_program) for every pinned set."""
    yield "default", range(4), {}
    for category in CATEGORIES:
        yield f"category={category}", range(1), {"category": category}
    yield "swarm=True", range(1), {"swarm": True}
    yield "swarm=False", range(1), {"swarm": False}
    yield "weights=int-heavy", range(3), {"weights": _int_heavy()}


def _sections() -> dict[str, str]:
    out = {}
    for label, indexes, kwargs in _sets():
        for seed in SEEDS:
            for index in indexes:
                out[f"{label} seed={seed} index={index}"] = print_program(draw_program(seed, index, **kwargs))
    return out


def _render(sections: dict[str, str]) -> str:
    parts = [f"{HEADER}{hypothesis.__version__}\n"]
    for key, text in sections.items():
        parts.append(f"### {key}\n{text}")
    return "".join(parts)


def _parse(golden: str) -> tuple[str, dict[str, str]]:
    first, _, rest = golden.partition("\n")
    sections = {}
    for chunk in re.split(r"^### ", rest, flags=re.M)[1:]:
        key, _, text = chunk.partition("\n")
        sections[key] = text
    return first.removeprefix(HEADER), sections


def test_seeded_draws_match_the_golden_byte_for_byte():
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(_render(_sections()))
    golden = GOLDEN.read_text()
    version, expected = _parse(golden)
    if version != hypothesis.__version__:
        pytest.skip(
            f"golden drawn under hypothesis {version}, installed {hypothesis.__version__}: "
            "seeded draws are reproducible only under the Hypothesis release pinned in constraints.txt"
        )
    actual = _sections()
    assert list(actual) == list(expected), "the pinned sets changed; rerun with UPDATE_GOLDEN=1 and review"
    for key, text in actual.items():
        assert text == expected[key], f"{key} draws a different program; if intended, rerun with UPDATE_GOLDEN=1 and review {GOLDEN}"
    assert _render(actual) == golden
