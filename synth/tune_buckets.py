"""`synth tune --objective buckets`: a profile that finds more buckets per hour.

Short campaigns, one per candidate profile, on the same backend, seed,
oracles and budget, one after another; a candidate's score is its distinct
buckets per hour of campaign. The candidates come from the starting profile
and from what its own campaign found:

- start: the profile as it is;
- fixed: the same with swarm testing off (every feature on in every
  program): whether swarm mode pays, measured in the same run;
- focus: the builtins and the swarm features of the programs that found
  buckets made more likely (weights times FOCUS, probabilities at least
  FOCUS_PROBABILITY): more of what found bugs, for its neighbours;
- spread: every builtin at the weight of the most likely one and every swarm
  probability at least SPREAD_PROBABILITY: more of what is drawn least,
  where the bugs not yet found may be.

The best scoring one is the result (the start when none beats it). Campaign
results depend on timing, so two runs may pick differently; the report
prints every candidate's figures.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from kernel_synth.grammar import ast as A
from kernel_synth.grammar import parse
from kernel_synth.grammar.productions import productions
from kernel_synth.grammar.swarm import FEATURE_ALTERNATIVES
from kernel_synth.grammar.weights import Weights, with_swarm

from .campaign import Campaign, CampaignConfig
from .corpus import read_case

BUILTIN_RULES = ("float_call", "int_call")
FOCUS = 3.0
FOCUS_PROBABILITY = 0.8
SPREAD_PROBABILITY = 0.5


@dataclass(frozen=True)
class Trial:
    name: str
    weights: Weights
    programs: int
    seconds: float
    buckets: tuple[str, ...]

    @property
    def per_hour(self) -> float:
        return len(self.buckets) / max(self.seconds, 1e-9) * 3600


def run_trial(name: str, weights: Weights, backend: str, seconds: float, seed: int, oracles: frozenset[str], workers: int) -> tuple[Trial, list[A.Program]]:
    """A campaign of `seconds` with `weights`, in a scratch corpus; its
    buckets and the programs stored for them."""
    with tempfile.TemporaryDirectory(prefix=f"ks-tune-{name}-") as corpus:
        config = CampaignConfig(budget=seconds, backends=(backend,), seed=seed, workers=workers, corpus=Path(corpus), weights=weights, oracles=oracles)
        summary = Campaign(config).run()
        programs = []
        for bucket in summary["buckets"]:
            for path in bucket["corpus"]:
                try:
                    programs.append(parse(read_case(Path(path)).text, path))
                except Exception:  # a case that does not read back adds nothing to the focus
                    continue
    trial = Trial(name, weights, summary["programs"], summary["wall_seconds"], tuple(sorted(b["signature"] for b in summary["buckets"])))
    return trial, programs


def _scaled_rules(weights: Weights, change) -> Weights:
    rules = tuple((rule, tuple((alt, change(rule, alt, w, alts)) for alt, w in alts) if rule in BUILTIN_RULES else alts) for rule, alts in weights.rules)
    return replace(weights, rules=rules, _index={})


def focus(weights: Weights, programs: list[A.Program]) -> Weights:
    """More of the builtins and swarm features the finding programs use."""
    called = {(rule, n.func) for p in programs for d in p.funcs + p.kernels for n in A.walk(d) if isinstance(n, A.Call) for rule in BUILTIN_RULES}
    used = set().union(*(productions(p) for p in programs)) if programs else set()
    features = {f for f, alternatives in FEATURE_ALTERNATIVES.items() if used & set(alternatives)}
    boosted = _scaled_rules(weights, lambda rule, alt, w, alts: w * FOCUS if (rule, alt) in called else w)
    return with_swarm(boosted, {f: max(p, FOCUS_PROBABILITY) for f, p in weights.swarm if f in features})


def spread(weights: Weights) -> Weights:
    """Every builtin as likely as the likeliest; every feature on at least half the time."""
    flat = _scaled_rules(weights, lambda rule, alt, w, alts: max(x for _, x in alts) if w > 0 else w)
    return with_swarm(flat, {f: max(p, SPREAD_PROBABILITY) for f, p in weights.swarm})


def tune_buckets(base: Weights, backend: str, seconds: float, seed: int, oracles: frozenset[str], workers: int, progress=None) -> list[Trial]:
    """Every candidate's trial, the starting profile's first."""
    say = progress or (lambda message: None)
    say(f"trial 1/4: the starting profile, {seconds:.0f} s on {backend}")
    start, found = run_trial("start", base, backend, seconds, seed, oracles, workers)
    trials = [start]
    candidates = [
        ("fixed", replace(base, swarm_enabled=False, _index={})),
        ("focus", focus(base, found)),
        ("spread", spread(base)),
    ]
    for k, (name, weights) in enumerate(candidates, 2):
        say(f"trial {k}/4: {name} ({len(trials[-1].buckets)} buckets in the last)")
        trials.append(run_trial(name, weights, backend, seconds, seed, oracles, workers)[0])
    return trials


def best(trials: list[Trial]) -> Trial:
    """The most buckets per hour; the start on a tie."""
    return max(trials, key=lambda t: (t.per_hour, t.name == "start"))
