"""What the construct tests share: drawn programs of one construct judged on
the compilers (the check that its programs agree on warp-cpu and jax-cpu),
one program against the reference on both, and where the checker locates
an error."""

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


def located_error(text: str) -> tuple[str, int, int]:
    """(rule, line, column) of the error parsing and checking `text` raises."""
    import pytest

    from kernel_synth.grammar import DSLError, parse

    with pytest.raises(DSLError) as info:
        parse(text)
    return info.value.rule, info.value.line, info.value.column


def assert_agrees_with_reference(tmp_path, program, launch: int = 16) -> None:
    """Warp on the CPU and JAX each run `program` and agree with the reference."""
    from kernel_synth.backends.compare import compare_outcomes
    from kernel_synth.backends.jax_backend import jax_cpu
    from kernel_synth.backends.reference_backend import ReferenceBackend
    from kernel_synth.backends.warp_backend import warp_cpu

    (expected,) = ReferenceBackend().compile([program], launch=launch)
    assert expected.ok, expected.message
    for backend in (warp_cpu(workdir=tmp_path / "warp"), jax_cpu(tmp_path / "jax")):
        (outcome,) = backend.compile([program], launch=launch)
        assert outcome.ok, outcome.message
        assert compare_outcomes(expected, outcome) == []
