"""The process-state oracle: a warm worker and a fresh one (which first saw a
build fail, and runs the programs in reverse order) must agree."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from kernel_synth.backends.outcome import Outcome, Status
from kernel_synth.grammar import parse
from kernel_synth.synth.oracles import Oracle, judge_state

pytestmark = [
    pytest.mark.compiler,
    pytest.mark.skipif(importlib.util.find_spec("warp") is None, reason="warp-lang is not installed"),
]

COS = "@kernel\ndef k(x: In[array[float32]], o: Out[array[float32]]):\n    i = tid()\n    o[i] = cos(x[i])\n"
SIN = "@kernel\ndef k(x: In[array[float32]], o: Out[array[float32]]):\n    i = tid()\n    o[i] = sin(x[i]) * 2.0\n"


def test_judge_state_names_what_differs():
    same = {"o": np.array([1.0, 2.0], np.float32)}
    assert judge_state("warp-cpu", Outcome(Status.OK, outputs=same), Outcome(Status.OK, outputs=dict(same))) is None
    off = {"o": np.array([1.0, 3.0], np.float32)}
    finding = judge_state("warp-cpu", Outcome(Status.OK, outputs=off), Outcome(Status.OK, outputs=same))
    assert finding.oracle is Oracle.PROCESS_STATE and finding.signature == "warp-cpu:process-state:float-value"
    crashed = judge_state("warp-cpu", Outcome(Status.OK, outputs=same), Outcome(Status.CRASH, "run", "worker killed"))
    assert crashed.signature == "warp-cpu:process-state:fails-fresh"


def test_a_state_leak_between_batches_is_caught_and_a_clean_backend_passes(monkeypatch):
    from kernel_synth.synth.triage import Triage

    monkeypatch.setenv("KERNEL_SYNTH_FAULTS", "leak:cos")
    programs = [parse(COS), parse(SIN)]
    for backend, leaks in (("faulty-warp-cpu", True), ("warp-cpu", False)):
        with Triage(frozenset({"process-state"})) as triage:
            triage.outcomes(backend, programs)  # the first batch: nothing leaked yet
            warm = triage.outcomes(backend, programs)
            verdicts = triage.process_state(backend, programs, warm)
        findings = [v.finding for v in verdicts]
        assert findings[1] is None  # sin: no fault
        if leaks:
            assert findings[0].signature == "faulty-warp-cpu:process-state:float-value"
        else:
            assert findings[0] is None


def test_a_campaign_finds_confirms_and_stores_the_leak(tmp_path, monkeypatch):
    from profiles import with_float_call

    from kernel_synth.grammar.weights import parse_weights
    from kernel_synth.synth.campaign import Campaign, CampaignConfig

    monkeypatch.setenv("KERNEL_SYNTH_FAULTS", "leak:cos")
    # cos as likely as every other math builtin together: at the default
    # weights the process-state checks (a share of the programs, 40 s on two
    # loaded cores) can meet no program that calls it
    weights = parse_weights(with_float_call("cos", 30), "cos.toml")
    # forward off: the leaked outputs are the process-state oracle's to catch;
    # gradient on: its checks share a thread with the process-state ones,
    # which must still get their turn
    config = CampaignConfig(
        budget=40, backends=("faulty-warp-cpu",), corpus=tmp_path / "corpus",
        oracles=frozenset({"compile", "crash", "process-state", "gradient"}), workers=1, state_every=1, shrink_seconds=20,
        weights=weights,
    )
    summary = Campaign(config).run()
    assert summary["process_state"]["checked"] > 0
    buckets = {b["signature"]: b for b in summary["buckets"]}
    assert "faulty-warp-cpu:process-state:float-value" in buckets, list(buckets)
    assert buckets["faulty-warp-cpu:process-state:float-value"]["corpus"]  # confirmed in a fresh worker and stored


def test_the_summary_says_the_oracle_is_not_for_a_jax_backend(tmp_path):
    """On a JAX backend the process-state oracle checks nothing; its summary
    says so and why, instead of a bare "checked 0"."""
    import io

    from kernel_synth.synth.campaign import Campaign, CampaignConfig
    from kernel_synth.synth.progress import CampaignDisplay

    config = CampaignConfig(budget=1, backends=("warp-cpu", "jax-cpu"), corpus=tmp_path / "corpus")
    summary = Campaign(config).summary(1.0)
    assert summary["process_state"]["not_for"] == {"jax-cpu": "Warp backends only"}
    out = io.StringIO()
    CampaignDisplay(config, out).print_summary(summary)
    assert "process-state: a warm worker's outputs compared with a fresh one's for 0 programs, 0 findings; not for jax-cpu: Warp backends only" in out.getvalue()
