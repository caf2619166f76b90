"""The campaign's pipeline: the next batch compiles while one is judged, the
state counts settled batches alone and in order, the budget is kept.

On the NumPy reference as the backend (no compiler needed): it agrees with
itself, so nothing is found and only the pipeline is under test."""

from __future__ import annotations

import json
import re

import pytest

from kernel_synth.synth.campaign import Campaign, CampaignConfig


def _watched(campaign: Campaign) -> list[tuple[int, int, int]]:
    """(first index, size, batches still in flight behind it) for each settled batch."""
    seen: list[tuple[int, int, int]] = []
    settle = campaign.settle

    def spy(batch, deadline):
        seen.append((batch.first, len(batch.programs), len(campaign.in_flight)))
        settle(batch, deadline)

    campaign.settle = spy
    return seen


@pytest.mark.parametrize("depth", [1, 2])
def test_batches_overlap_only_when_asked_and_settle_in_order(tmp_path, depth):
    budget = 4.0
    config = CampaignConfig(budget=budget, backends=("reference",), corpus=tmp_path, workers=1, batch_size=8, pipeline_depth=depth)
    campaign = Campaign(config)
    seen = _watched(campaign)
    summary = campaign.run()
    firsts, sizes, behind = zip(*seen)
    assert len(seen) >= 4
    # drawn and settled in order, none skipped; only the last batches (as
    # many as are in flight) are cut to fit the budget
    assert list(firsts) == [sum(sizes[:n]) for n in range(len(seen))]
    assert set(sizes[:-depth]) == {8} and all(1 <= size <= 8 for size in sizes[-depth:])
    if depth == 1:
        assert behind == (0,) * len(seen)
    else:
        # the first goes alone; then one more is always compiling, until the
        # budget says stop (a last batch cut to fit may go alone too)
        assert re.fullmatch(r"01+0{1,2}", "".join(map(str, behind))), behind
    state = json.loads(config.state_path.read_text())
    assert state["next_index"] == state["programs"] == summary["programs"] == sum(sizes)
    assert 0 < summary["utilisation"]["reference"] <= 1
    assert summary["wall_seconds"] <= budget + 3  # worker start and the last batch


def test_a_resumed_pipeline_draws_on_from_the_last_settled_batch(tmp_path):
    config = CampaignConfig(budget=3, backends=("reference",), corpus=tmp_path, workers=1, batch_size=8)
    first = Campaign(config).run()
    resumed = Campaign(CampaignConfig(budget=3, backends=("reference",), corpus=tmp_path, workers=1, batch_size=8, resume=True))
    seen = _watched(resumed)
    second = resumed.run()
    assert seen[0][0] == first["next_index"]
    assert second["programs"] == first["programs"] + sum(size for _, size, _ in seen)
