"""One judge: the campaign, `synth replay` and `synth shrink` all judge
through synth.triage, with the faulty test backend standing in for a broken
compiler."""

from __future__ import annotations

import time

import pytest

from kernel_synth.grammar import parse, print_program
from kernel_synth.synth import triage as T
from kernel_synth.synth.cli import main
from kernel_synth.synth.corpus import CaseHeader, format_case
from kernel_synth.synth.oracles import ORACLES, Oracle

pytestmark = pytest.mark.compiler

WRONG_FLOOR = """@kernel
def k0(x: In[array[float32]], out: Out[array[float32]]):
    i = tid()
    t = x[i] * 2.0
    out[i] = floor(x[i]) + t
"""


@pytest.fixture
def judged(monkeypatch):
    """Every judgement made through synth.triage, as (backend, signature or None)."""
    seen: list[tuple[str, str | None]] = []
    real = T.judge

    def spy(backend, outcome, reference, oracles):
        finding = real(backend, outcome, reference, oracles)
        seen.append((backend, finding.signature if finding else None))
        return finding

    monkeypatch.setattr(T, "judge", spy)
    monkeypatch.setenv("KERNEL_SYNTH_FAULTS", "wrong:floor")
    return seen


def test_a_triage_finds_reruns_and_confirms(judged):
    with T.Triage(frozenset(ORACLES), T.Launch(threads=8)) as triage:
        finding = triage.first_finding("faulty-warp-cpu", parse(WRONG_FLOOR))
        assert finding is not None and finding.oracle is Oracle.FORWARD
        assert finding.signature == "faulty-warp-cpu:forward:float-value"
        assert triage.rerun(finding, parse(WRONG_FLOOR)) == finding
        assert triage.confirm(finding, parse(WRONG_FLOOR)) == finding
        without_floor = parse(WRONG_FLOOR.replace("floor(x[i])", "x[i]"))
        assert triage.rerun(finding, without_floor) is None
    assert [s for _, s in judged] == [finding.signature] * 3 + [None]


def test_the_campaign_judges_through_the_triage(judged, tmp_path):
    from kernel_synth.synth.campaign import Campaign, CampaignConfig

    config = CampaignConfig(budget=60, backends=("faulty-warp-cpu",), corpus=tmp_path, batch_size=4, workers=1, shrink_per_bucket=0)
    campaign = Campaign(config)
    try:
        campaign.fill(time.monotonic() + 60, interval=0.0)
        campaign.settle(campaign.in_flight.popleft(), time.monotonic() + 60)
    finally:
        campaign.close()
    assert len(judged) == 4 and {b for b, _ in judged} == {"faulty-warp-cpu"}


def test_replay_judges_through_the_triage(judged, tmp_path):
    header = CaseHeader("faulty-warp-cpu:forward:float-value", "forward", "run", "faulty-warp-cpu", "x", "v", seed=0, launch=8)
    case = tmp_path / "faulty-warp-cpu" / "x" / "a.kernel"
    case.parent.mkdir(parents=True)
    case.write_text(format_case(header, WRONG_FLOOR))
    assert main(["replay", str(tmp_path)]) == 1  # still failing
    assert judged == [("faulty-warp-cpu", "faulty-warp-cpu:forward:float-value")]


def test_shrink_judges_through_the_triage(judged, tmp_path, capsys):
    source = tmp_path / "wrong.kernel"
    source.write_text(WRONG_FLOOR)
    out = tmp_path / "small.kernel"
    assert main(["shrink", str(source), "--backend", "faulty-warp-cpu", "--launch", "8", "--out", str(out)]) == 0
    shrunk = parse(out.read_text())
    assert "floor" in print_program(shrunk) and len(print_program(shrunk)) < len(WRONG_FLOOR)
    assert len(judged) > 3 and judged[0] == ("faulty-warp-cpu", "faulty-warp-cpu:forward:float-value")
