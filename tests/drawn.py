"""Drawn programs of one construct, judged on the compilers: the check each
construct's tests make that its programs agree on warp-cpu and jax-cpu."""

from __future__ import annotations

from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.grammar.stats import constructs


def drawn_with(construct: str, n: int, seed: int, most: int = 8) -> list:
    """Up to `most` of the first `n` programs drawn from `seed` that use `construct`."""
    return [p for p in draw_programs(n, seed=seed) if construct in constructs(p)][:most]


def findings_on_cpu_backends(programs: list) -> list:
    """The first finding of each program (None: it agrees) on warp-cpu, then
    on jax-cpu, under the compile, crash and forward oracles."""
    from kernel_synth.synth.triage import Launch, Triage

    found = []
    for backend in ("warp-cpu", "jax-cpu"):
        with Triage(frozenset({"compile", "crash", "forward"}), Launch(threads=32, seed=0), workers=1) as triage:
            found += [triage.first_finding(backend, p) for p in programs]
    return found
