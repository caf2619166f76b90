"""Hypothesis strategies that draw well-typed, UB-free programs by composition.

`programs(weights=None, category=None, swarm=None)` is the public entry point;
it works inside any `@given` test. This is the one module of the generator that
knows Hypothesis: it hands the generator a single integer draw to make every
choice with, and builds each strategy once per (profile, category, swarm).

The rest of the generator lives in modules of its own, each importing only
those listed after it, so there are no cycles:

- generator.py: draws a Program choice by choice, UB excluded as it is built;
- swarm.py: which optional features a program has, and what each category needs;
- intervals.py: integer intervals and the guards that keep operations defined.
"""

from __future__ import annotations

from functools import lru_cache

from hypothesis import strategies as st

from . import ast as A
from .categories import CATEGORIES
from .generator import Gen, weighted_choice
from .swarm import FEATURE_ALTERNATIVES  # noqa: F401  (still importable from here, where it used to live)
from .swarm import NESTED_CATEGORIES, draw_features
from .weights import ALONE, Weights, default_weights


def _choice_source(draw):
    """The fastest integer draw the running Hypothesis offers.

    ConjectureData.draw_integer costs a quarter of `draw(st.integers(...))`; it
    is not public API, so fall back to the public path when it is missing.
    """
    data = getattr(draw, "__self__", None)
    direct = getattr(data, "draw_integer", None)
    if direct is not None:
        return direct
    return lambda lo, hi: draw(_integers(lo, hi))


@lru_cache(maxsize=None)
def _integers(lo: int, hi: int):
    return st.integers(lo, hi)


def _draw_program(draw, weights: Weights, category: str | None, swarm: bool) -> A.Program:
    integer = _choice_source(draw)
    alone = False
    if category is None:  # the profile's aim: no draw at all while it is "any" alone
        aimed = weighted_choice(integer, [(name, w) for name, w in weights.aim if w > 0])
        alone = aimed.startswith(ALONE)
        category = None if aimed == "any" else aimed.removeprefix(ALONE)
    flat = alone and category not in NESTED_CATEGORIES
    gen = Gen(integer, weights, draw_features(integer, weights, category, swarm, alone), category, flat)
    return gen.program()


@lru_cache(maxsize=64)
def _program_strategy(weights: Weights, category: str | None, swarm: bool):
    @st.composite
    def program(draw):
        return _draw_program(draw, weights, category, swarm)

    return program()


def programs(weights: Weights | None = None, category: str | None = None, swarm: bool | None = None) -> st.SearchStrategy[A.Program]:
    """A strategy for well-typed, UB-free programs.

    weights: a profile (grammar.weights.load_weights); None is the default.
    category: one of CATEGORIES; every drawn program then has that category.
    swarm: switch optional features off per program; None follows the profile.
    """
    from hypothesis.errors import InvalidArgument

    weights = weights or default_weights()
    if category is not None and category not in CATEGORIES:
        raise InvalidArgument(f"unknown category {category!r}; expected one of {', '.join(CATEGORIES)}")
    swarm = weights.swarm_enabled if swarm is None else swarm
    return _program_strategy(weights, category, bool(swarm))
