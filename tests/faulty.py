"""The check every sampled JAX oracle's fault gets: the faulty-jax-cpu test
backend with one fault injected is seen by that oracle, confirmed in a fresh
worker, not on a program without the faulted construct, and by no other
oracle."""

from __future__ import annotations

from kernel_synth.grammar import parse
from kernel_synth.synth.oracles import ORACLES


def assert_seen_by_alone(monkeypatch, fault: str, oracle: str, text: str, clean_text: str, signature: str):
    """`fault` (KERNEL_SYNTH_FAULTS) on `text` gives `signature`, confirmed;
    `clean_text` gives nothing; every oracle but `oracle` finds nothing.
    Returns the finding."""
    from kernel_synth.synth.triage import Launch, Triage

    monkeypatch.setenv("KERNEL_SYNTH_FAULTS", fault)
    program = parse(text)
    everything = frozenset(ORACLES) - {"gradient"}
    with Triage(everything, Launch(threads=8)) as triage:
        finding = triage.first_finding("faulty-jax-cpu", program)
        assert finding is not None and finding.signature == signature, finding
        assert triage.confirm(finding, program) == finding
        assert triage.first_finding("faulty-jax-cpu", parse(clean_text)) is None
    with Triage(everything - {oracle}, Launch(threads=8)) as triage:
        assert triage.first_finding("faulty-jax-cpu", program) is None  # no other oracle sees it
    return finding
