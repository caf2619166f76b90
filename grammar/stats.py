"""Distribution statistics of a set of programs: what `synth stats` prints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from . import ast as A
from .categories import CATEGORIES, classify
from .productions import productions
from .weights import Weights, default_weights


def ast_size(program: A.Program) -> int:
    """The number of AST nodes (definitions, parameters, statements, expressions)."""
    return sum(1 for d in program.funcs + program.kernels for _ in A.walk(d))


class StatsCollector:
    """Accumulates programs one by one, so long runs can show progress."""

    def __init__(self, weights: Weights | None = None):
        self.weights = weights or default_weights()
        self.n = 0
        self.categories: Counter[str] = Counter()
        self.primary: Counter[str] = Counter()
        self.productions: Counter[tuple[str, str]] = Counter()
        self.sizes: list[int] = []

    def add(self, program: A.Program) -> None:
        self.n += 1
        label = classify(program)
        self.categories.update(label.categories)
        self.primary[label.primary] += 1
        self.productions.update(productions(program))
        self.sizes.append(ast_size(program))

    def summary(self) -> dict:
        every = self.weights.alternatives()
        covered = [alt for alt in every if self.productions[alt] > 0]
        return {
            "n": self.n,
            "categories": {c: self.categories[c] for c in CATEGORIES},
            "primary": {c: self.primary[c] for c in CATEGORIES},
            "productions": {
                "covered": len(covered),
                "total": len(every),
                "missing": [f"{rule}.{alt}" for rule, alt in every if self.productions[(rule, alt)] == 0],
            },
            "ast_nodes": {
                "mean": round(sum(self.sizes) / len(self.sizes), 2) if self.sizes else 0.0,
                "max": max(self.sizes, default=0),
            },
        }


def summarize(programs: Iterable[A.Program], weights: Weights | None = None) -> dict:
    collector = StatsCollector(weights)
    for program in programs:
        collector.add(program)
    return collector.summary()
