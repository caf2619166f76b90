"""Test profiles: the shipped default with one builtin drawn more often, for
campaign tests that need a program calling it within a short budget on a
loaded machine."""

from __future__ import annotations

import re

from kernel_synth.grammar.weights import DEFAULT_PATH


def with_float_call(builtin: str, weight: int) -> str:
    """The default profile's text with `builtin`'s weight in [rules.float_call] set to `weight`."""
    default = DEFAULT_PATH.read_text()
    text, count = re.subn(rf"(\[rules\.float_call\][^\[]*?\n{builtin} = )\d+\n", rf"\g<1>{weight}\n", default, count=1)
    assert count == 1, f"{builtin} is not in the default profile's [rules.float_call]"
    return text
