"""Fitting a profile to a target distribution (`synth tune`).

Three kinds of lever move what a profile draws. A draw first picks what it
aims at (the profile's `[aim]` table): "any", where the rules alone decide, a
category whose shape the generator then guarantees, or a category alone (the
features of other categories off). And each swarm feature is on in a program
with the profile's probability; and a share of kernels may be drawn with one
statement, or with eight, instead of the profile's own counts. A program's
measurable features (its primary
label, the categories and constructs it has, its AST size and nesting depth)
have, for each aim, an expected value, and over a mix of aims the mix's
weighted average; a swarm probability moves them by its change times the
difference between the feature always on and always off. So, near the
starting profile, what meets a target is the solution of a small
constrained least-squares problem:

1. measure the mean feature vector of `n` draws for each of the 25 aims,
   for each swarm feature always on and always off, and for kernels of one
   statement and of eight against the profile's counts;
2. find the mix (on the simplex) and the probabilities (in [0, 1]) whose
   predicted features are nearest the target on the features it names, and
   nearest the starting profile's on every other one (with a small weight,
   so that they keep roughly their shares), except those that move with a
   named one: across the levers (a loop's constructs when loops are named),
   or through the programs' own co-occurrence, by more than CARRIED_LIMIT
   (programs with loops are compound more often): those are free; a small
   cost on moving any lever keeps the rest still; the solve is weighted
   again while a feature is predicted past its bound (Lawson's reweighting),
   so that no single kept feature is left far out;
3. draw `n_check` programs from the tuned profile; where a named feature
   misses, aim past it by the miss, and, once the named features are met,
   where an unnamed share drifted more than KEEP_LIMIT, hold it harder and
   aim past its drift; solve again (four rounds at most). The profile is
   the round's that met the named features and kept the others nearest.

Every draw is seeded, so the same command gives the same profile.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import ast as A
from .categories import CATEGORIES, classify
from .sampling import draw_program
from .stats import CONSTRUCTS, ast_size, constructs, nesting_depth
from .weights import AIMS, PROFILE_TITLE, Weights, render_profile, with_aim, with_swarm

# The target file's tables and what each names
TABLES = {
    "primary": CATEGORIES,  # share of programs with this primary label
    "categories": CATEGORIES,  # share of programs that have this category
    "constructs": CONSTRUCTS,  # share of programs that use this construct
    "mean": ("ast_size", "depth"),  # mean AST size, mean block nesting depth
}
# How much an unnamed feature's drift counts against a named feature's miss
KEEP_WEIGHT = 0.1
# How far an unnamed share may drift before a round holds it harder (points / 100)
KEEP_LIMIT = 0.04
# How much harder: its weight is multiplied by this, each round it drifts
KEEP_PUSH = 8.0
# A round meets the named features when none misses by more than this
NAMED_MET = 0.02
# Correlation across the levers above which a feature goes with a named one
TIED = 0.8
# How far the named change may carry an unnamed share through co-occurrence
# alone before it goes with the named one (the tolerance the tune issue sets
# for features not named)
CARRIED_LIMIT = 0.05
# How much moving a lever (an aim's weight, a swarm probability) costs
RIDGE = 0.02
# Levers on a kernel's statement count: the share of kernels drawn with this
# many statements (beside the profile's own counts), up to MAX_KNOB each
STATEMENT_KNOBS = {"short": 1, "long": 8}
MAX_KNOB = 0.5


class TargetError(Exception):
    """A target that cannot be read or met: the message names the file and the key."""


def feature_names() -> list[str]:
    return [f"{table}.{name}" for table, names in TABLES.items() for name in names]


def features(program: A.Program) -> np.ndarray:
    """The program's feature vector, in `feature_names()` order."""
    label = classify(program)
    used = constructs(program)
    values = [float(label.primary == c) for c in CATEGORIES]
    values += [float(c in label.categories or c == label.primary) for c in CATEGORIES]
    values += [float(c in used) for c in CONSTRUCTS]
    values += [float(ast_size(program)), float(nesting_depth(program))]
    return np.array(values)


@dataclass(frozen=True)
class Target:
    """Named features and the value each should reach."""

    values: dict[str, float]
    name: str

    @classmethod
    def uniform(cls) -> "Target":
        return cls({f"primary.{c}": 1 / len(CATEGORIES) for c in CATEGORIES}, "uniform")


def load_target(spec: str) -> Target:
    """`uniform`, or a TOML or JSON file of tables as in TABLES."""
    if spec == "uniform":
        return Target.uniform()
    path = Path(spec)
    try:
        text = path.read_text()
    except OSError as exc:
        raise TargetError(f"{spec}: cannot read the target: {exc.strerror} (expected `uniform` or a TOML or JSON file)") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TargetError(f"{spec}: not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {exc}") from None
    values: dict[str, float] = {}
    for table, entries in data.items():
        if table not in TABLES:
            raise TargetError(f"{spec}: [{table}]: unknown table (expected one of {', '.join(TABLES)})")
        if not isinstance(entries, dict):
            raise TargetError(f"{spec}: [{table}]: must be a table")
        for name, value in entries.items():
            if name not in TABLES[table]:
                raise TargetError(f"{spec}: [{table}]: unknown feature {name!r} (expected one of {', '.join(TABLES[table])})")
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise TargetError(f"{spec}: [{table}] {name}: a number, got {value!r}")
            if table != "mean" and not 0 <= value <= 1:
                raise TargetError(f"{spec}: [{table}] {name}: a share is between 0 and 1, got {value}")
            if table == "mean" and value < 0:
                raise TargetError(f"{spec}: [{table}] {name}: must not be negative, got {value}")
            values[f"{table}.{name}"] = float(value)
    primary = sum(v for k, v in values.items() if k.startswith("primary."))
    if primary > 1 + 1e-9:
        raise TargetError(f"{spec}: [primary]: the shares sum to {primary:.3f}, more than 1")
    if not values:
        raise TargetError(f"{spec}: names no feature")
    return Target(values, path.stem)


def with_statements(weights: Weights, knobs: dict[str, float]) -> Weights:
    """`weights` whose kernel-statement counts are drawn, with each knob's
    probability, at its count (STATEMENT_KNOBS), else as the profile has them."""
    table = dict(weights.length("kernel_statements"))
    total = sum(table.values())
    rest = 1 - sum(knobs.values())
    mixed = {count: w / total * rest for count, w in table.items()}
    for knob, share in knobs.items():
        count = STATEMENT_KNOBS[knob]
        mixed[count] = mixed.get(count, 0.0) + share
    lengths = tuple((key, tuple(sorted((c, round(w, 4)) for c, w in mixed.items() if w > 0))) if key == "kernel_statements" else (key, value) for key, value in weights.lengths)
    return replace(weights, lengths=lengths, _index={})


def feature_rows(weights: Weights, n: int, seed: int) -> np.ndarray:
    """The feature vectors of draws 0..n-1 of `seed`, one row each."""
    return np.array([features(draw_program(seed, i, weights)) for i in range(n)])


def measure(weights: Weights, n: int, seed: int) -> np.ndarray:
    """Mean feature vector of draws 0..n-1 of `seed`."""
    return feature_rows(weights, n, seed).mean(axis=0)


def carried(rows: np.ndarray, change: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """How far each feature's share moves when each `moved` share moves by
    its `change` and nothing else does: the share among programs that have
    the moved feature, less that among programs that lack it, times the
    change (summed over the moved features)."""
    total = np.zeros(rows.shape[1])
    for k in np.nonzero(moved)[0]:
        has = rows[:, k] > 0.5
        if has.all() or not has.any():
            continue
        total += change[k] * (rows[has].mean(axis=0) - rows[~has].mean(axis=0))
    return total


def _project_simplex(v: np.ndarray) -> np.ndarray:
    """The nearest point of the probability simplex (sort-based projection)."""
    u = np.sort(v)[::-1]
    cumulative = np.cumsum(u) - 1
    rho = np.nonzero(u - cumulative / np.arange(1, len(v) + 1) > 0)[0][-1]
    return np.maximum(v - cumulative[rho] / (rho + 1), 0)


def solve_levers(aims, swarm, start_mix, low, high, goal, importance, ridge: float = RIDGE, steps: int = 20000):
    """The aim mix w (on the simplex) and the swarm changes q (each within
    [low, high]) minimising
        sum(importance * (aims.T @ w + swarm.T @ q - goal)^2) + ridge * (|w - start_mix|^2 + |q|^2),
    by projected gradient descent (deterministic). The ridge keeps every
    lever near where it started unless moving it buys a target: the linear
    model is only near-right far from the starting profile."""
    levers = np.vstack([aims, swarm])
    hessian = 2 * (levers * importance) @ levers.T + 2 * ridge * np.eye(len(levers))
    step = 1 / max(np.linalg.eigvalsh(hessian).max(), 1e-12)
    w = start_mix.copy()
    q = np.zeros(swarm.shape[0])
    for _ in range(steps):
        residual = importance * (aims.T @ w + swarm.T @ q - goal)
        w = _project_simplex(w - step * 2 * (aims @ residual + ridge * (w - start_mix)))
        q = np.clip(q - step * 2 * (swarm @ residual + ridge * q), low, high)
    return w, q


def solve_holding(aims, swarm, start_mix, low, high, goal, importance, named, kept, passes: int = 16):
    """solve_levers towards a bound on each feature rather than the least
    squares: after each solve, a kept feature the model predicts past
    KEEP_LIMIT, or a named one past NAMED_MET / 2, weighs more by the square
    of how far past (Lawson's reweighting), and the solve runs again; the
    result is the pass whose worst feature, relative to its bound, is the
    smallest. Least squares alone spreads the error over the many features
    that move together (a branch's if, else, and-or) and leaves a lone one
    far out, while the target asks every kept feature to stay near."""
    weights = importance.copy()
    best = None
    for _ in range(passes):
        w, q = solve_levers(aims, swarm, start_mix, low, high, goal, weights, steps=5000)
        error = np.abs(aims.T @ w + swarm.T @ q - goal)
        bound = np.where(named, NAMED_MET / 2, KEEP_LIMIT)
        over = (named | kept) & (error > bound)
        worst = float((error / bound)[named | kept].max(initial=0.0))
        if best is None or worst < best[0]:
            best = (worst, w, q)
        if not over.any():
            break
        weights = np.where(over, weights * (error / bound) ** 2, weights)
    return best[1], best[2]


@dataclass(frozen=True)
class TuneResult:
    weights: Weights
    target: Target
    before: dict[str, float]  # every feature, under the starting profile
    achieved: dict[str, float]  # every feature, under the tuned profile (the last check)
    rounds: int
    draws: int
    kept: tuple[str, ...] = ()  # unnamed features the fit kept near their shares (the others go with a named one)


def tune(target: Target, base: Weights, n: int = 300, n_check: int = 2000, seed: int = 0, rounds: int = 4, progress=None) -> TuneResult:
    """The profile `base` with the aim mix and swarm probabilities that meet
    `target` best."""
    say = progress or (lambda message: None)
    names = feature_names()
    index = {name: k for k, name in enumerate(names)}
    plain = with_aim(base, {"any": 1.0})
    rows = []
    for k, aim in enumerate(AIMS):
        say(f"measuring the draws aimed at {aim} ({k + 1}/{len(AIMS)})")
        rows.append(measure(with_aim(base, {aim: 1.0}), n, seed + 1000 * (k + 1)))
    aims = np.array(rows)
    # each swarm feature's effect: its draws with the feature always on, less always off
    features_of = [name for name, _ in base.swarm] if base.swarm_enabled else []
    effects = []
    for k, feature in enumerate(features_of):
        say(f"measuring the swarm feature {feature} on and off ({k + 1}/{len(features_of)})")
        on = measure(with_swarm(plain, {feature: 1.0}), n, seed + 50000 + 100 * k)
        off = measure(with_swarm(plain, {feature: 0.0}), n, seed + 50000 + 100 * k)
        effects.append(on - off)
    # the statement-count knobs: all kernels that short (or that long), less as drawn
    say("measuring kernels of one statement and of many")
    drawn = measure(plain, n, seed + 60000)
    for k, knob in enumerate(STATEMENT_KNOBS):
        effects.append(measure(with_statements(plain, {knob: 1.0}), n, seed + 60000 + 100 * (k + 1)) - drawn)
    swarm = np.array(effects).reshape(len(features_of) + len(STATEMENT_KNOBS), len(names))
    start = np.array([dict(base.swarm)[f] for f in features_of] + [0.0] * len(STATEMENT_KNOBS))
    high = np.array([1.0] * len(features_of) + [MAX_KNOB] * len(STATEMENT_KNOBS))
    say(f"measuring the starting profile ({n_check} draws)")
    before_rows = feature_rows(base, n_check, seed + 99991)
    before = before_rows.mean(axis=0)
    # features on comparable scales: a share is 0..1, a mean is divided by its starting value
    scale = np.ones(len(names))
    for name in ("mean.ast_size", "mean.depth"):
        scale[index[name]] = max(before[index[name]], 1e-9)
    shares = np.array([not name.startswith("mean.") for name in names])
    named = np.zeros(len(names), dtype=bool)
    goal = before.copy()
    for name, value in target.values.items():
        named[index[name]] = True
        goal[index[name]] = value
    # a feature that moves with a named one across the levers (a loop's
    # constructs with the loop category) cannot keep its share: left free
    tied = np.zeros(len(names), dtype=bool)
    for levers in (aims, swarm):
        if len(levers) > 1:
            correlation = np.nan_to_num(np.corrcoef(levers.T))
            tied |= ~named & (np.abs(correlation[:, named]).max(axis=1, initial=0.0) > TIED)
    # a category's primary label and its presence move together: a program's
    # primary label is one of its categories
    for category in CATEGORIES:
        pair = (index[f"primary.{category}"], index[f"categories.{category}"])
        if named[pair[0]] or named[pair[1]]:
            tied[[k for k in pair if not named[k]]] = True
    # a feature the named change carries past CARRIED_LIMIT through the
    # programs' own co-occurrence (compound with loops, a loop's static
    # expressions) cannot keep its share unless the tuner distorts others
    # to push it back: it goes with the named one
    tied |= ~named & shares & (np.abs(carried(before_rows, goal - before, named & shares)) > CARRIED_LIMIT)
    importance = np.where(named, 1.0, np.where(tied, 0.0, KEEP_WEIGHT)) / scale**2
    # the starting profile's own mix predicts `before`: the model fits the change
    base_mix = np.array([dict(base.aim).get(a, 0.0) for a in AIMS])
    base_mix = base_mix / base_mix.sum()
    offset = before - aims.T @ base_mix
    aimed = goal.copy()
    achieved = before
    draws = len(AIMS) * n + (2 * len(features_of) + 1 + len(STATEMENT_KNOBS)) * n + n_check
    rounds_made = []  # (tuned, achieved, largest named miss, largest drift), each round
    kept = shares & ~named & ~tied
    for round_ in range(rounds):
        mix, change = solve_holding(aims, swarm, base_mix, -start, high - start, aimed - offset, importance, named, kept)
        values = (start + change).round(3)
        tuned = with_swarm(with_aim(base, dict(zip(AIMS, mix.round(4)))), dict(zip(features_of, values)))
        tuned = with_statements(tuned, dict(zip(STATEMENT_KNOBS, values[len(features_of):])))
        say(f"round {round_ + 1}/{rounds}: checking the profile on {n_check} draws")
        achieved = measure(tuned, n_check, seed + 7 * (round_ + 1))
        draws += n_check
        miss = np.where(named, goal - achieved, 0.0)
        drift = np.where(kept, achieved - before, 0.0)
        rounds_made.append((tuned, achieved, float(np.max(np.abs(miss / np.maximum(scale, 1)))), float(np.max(np.abs(drift)))))
        worst_miss, worst_drift = int(np.argmax(np.abs(miss / np.maximum(scale, 1)))), int(np.argmax(np.abs(drift)))
        say(f"round {round_ + 1}/{rounds}: largest miss {names[worst_miss]} {-miss[worst_miss]:+.3f}, "
            f"largest drift {names[worst_drift]} {drift[worst_drift]:+.3f}")
        drifting = np.abs(drift) > KEEP_LIMIT
        if np.all(np.abs(miss) <= 0.005 * np.maximum(scale, 1)) and not drifting.any():
            break
        aimed = aimed + miss  # aim past a miss by as much as it fell short
        if rounds_made[-1][2] <= NAMED_MET:
            # the named features are met: an unnamed share that drifted too
            # far is now held harder, and aimed past by its drift
            aimed = aimed - np.where(drifting, drift, 0.0)
            importance = np.where(drifting, importance * KEEP_PUSH, importance)
    # the round that met the named features and kept the others nearest; else the nearest to the named
    met = [r for r in rounds_made if r[2] <= NAMED_MET]
    tuned, achieved, _, _ = min(met, key=lambda r: r[3]) if met else min(rounds_made, key=lambda r: r[2])
    round_ = next(k for k, r in enumerate(rounds_made) if r[0] is tuned)
    kept = tuple(name for name, free in zip(names, named | tied) if not free)
    return TuneResult(tuned, target, dict(zip(names, before.round(4))), dict(zip(names, achieved.round(4))), round_ + 1, draws, kept)


def profile_text(result: TuneResult, base_text: str, command: str) -> str:
    """The starting profile's text with the tuned swarm probabilities and an
    [aim] table, commented."""
    title = base_text.splitlines()[0].removeprefix(PROFILE_TITLE) if base_text.startswith(PROFILE_TITLE) else ""
    return render_profile(base_text, result.weights, f"tuned to {result.target.name!r} from{title}", [
        f"Written by `{command}`: what each draw aims at (and the swarm",
        "probabilities marked above), fitted to the target",
        f"{result.target.name!r} ({len(result.target.values)} named features; see `synth tune --help`).",
        '"any" leaves the choice to the rules above; a category makes the draw have it.',
    ])


def report(result: TuneResult) -> list[tuple[str, float, float | None, float]]:
    """(feature, before, target or None, achieved) for the named features,
    then the unnamed ones that moved most."""
    rows = [(name, result.before[name], value, result.achieved[name]) for name, value in result.target.values.items()]
    others = sorted(
        (name for name in result.kept if not name.startswith("mean.")),
        key=lambda name: -abs(result.achieved[name] - result.before[name]),
    )
    rows += [(name, result.before[name], None, result.achieved[name]) for name in others[:8]]
    return rows
