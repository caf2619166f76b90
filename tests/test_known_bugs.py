"""Known Warp bugs whose triggers the draws leave out (grammar.weights.AVOIDABLE,
backends.warp_release.KNOWN_BUGS): the shapes are those of the stored cases,
the draws that avoid them never hold them, and a campaign avoids exactly what
the installed release has."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel_synth.backends.warp_release import KNOWN_BUGS, WarpRelease, avoided_shapes
from kernel_synth.grammar import parse
from kernel_synth.grammar.queries import avoidable_shapes
from kernel_synth.grammar.sampling import draw_program
from kernel_synth.grammar.weights import AVOIDABLE, default_weights, with_avoid
from kernel_synth.synth.corpus import find_cases, read_case

ROOT = Path(__file__).resolve().parent.parent
DRAWS = 1000


def test_every_known_bug_names_an_avoidable_shape_and_its_case_has_it():
    assert {bug.shape for bug in KNOWN_BUGS} == set(AVOIDABLE)
    for bug in KNOWN_BUGS:
        cases = find_cases([ROOT / case for case in bug.cases])
        assert len(cases) >= len(bug.cases)
        for case in cases:
            assert bug.shape in avoidable_shapes(parse(read_case(case).text)), case


@pytest.mark.parametrize("shape", sorted(AVOIDABLE))
def test_draws_that_avoid_a_shape_never_hold_it_and_others_do(shape):
    avoiding = with_avoid(default_weights(), {shape})
    held = [i for i in range(DRAWS) if shape in avoidable_shapes(draw_program(0, i, default_weights()))]
    assert len(held) >= 3  # the default draws hold it: the test can fail
    assert not [i for i in range(DRAWS) if shape in avoidable_shapes(draw_program(0, i, avoiding))]


def test_a_release_avoids_the_bugs_it_has():
    assert avoided_shapes(None) == frozenset()
    assert avoided_shapes(WarpRelease("1.19.0")) == {"unpack-reference", "exit-beside-static", "grad-helper-in-helper"}
    assert avoided_shapes(WarpRelease("1.10.0")) == {"unpack-reference", "exit-beside-static"}  # no grad() before 1.11.0
    assert avoided_shapes(WarpRelease("1.2.0")) == {"unpack-reference"}  # no static() before 1.4.0


def test_a_fixed_release_draws_the_shape_again(monkeypatch):
    import kernel_synth.backends.warp_release as R

    fixed = tuple(R.KnownBug(b.shape, b.since, "1.20.0", b.cases) if b.shape == "unpack-reference" else b for b in KNOWN_BUGS)
    monkeypatch.setattr(R, "KNOWN_BUGS", fixed)
    assert avoided_shapes(WarpRelease("1.19.0")) == {"unpack-reference", "exit-beside-static", "grad-helper-in-helper"}
    assert avoided_shapes(WarpRelease("1.20.0")) == {"exit-beside-static", "grad-helper-in-helper"}


def test_an_unknown_shape_is_refused_by_name():
    with pytest.raises(ValueError, match="no such avoidable shape: parallel"):
        with_avoid(default_weights(), {"parallel"})


@pytest.mark.compiler  # a campaign on warp-cpu needs Warp installed
def test_a_campaign_avoids_what_the_installed_release_has_unless_told(tmp_path):
    from kernel_synth.backends.warp_release import installed
    from kernel_synth.synth.campaign import Campaign, CampaignConfig

    for known_bugs, expected in (("avoid", avoided_shapes(installed())), ("draw", frozenset())):
        campaign = Campaign(CampaignConfig(budget=1, backends=("warp-cpu",), corpus=tmp_path / known_bugs, known_bugs=known_bugs, workers=1))
        try:
            assert frozenset(campaign.weights.avoid) == expected
            assert campaign.summary(1.0)["avoided"] == sorted(expected)
        finally:
            campaign.close()


def test_sample_avoid_draws_what_a_campaign_avoiding_those_shapes_draws(capsys):
    from kernel_synth.synth.cli import main

    shapes = ("unpack-reference", "exit-beside-static")
    avoiding = with_avoid(default_weights(), shapes)
    index = next(i for i in range(DRAWS) if "unpack-reference" in avoidable_shapes(draw_program(0, i, default_weights())))
    assert main(["sample", "--n", str(index + 1), "--avoid", ",".join(shapes)]) == 0
    drawn = "# kernel-synth " + capsys.readouterr().out.split("# kernel-synth ")[-1]
    assert f"weights {avoiding.name}," in drawn
    # the draw that held the shape without --avoid is the campaign's draw with it
    assert parse(drawn) == draw_program(0, index, avoiding) != draw_program(0, index, default_weights())


def test_sample_refuses_an_unknown_shape_by_name(capsys):
    from kernel_synth.synth.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["sample", "--avoid", "unpack-reference,parallel"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--avoid: no such shape: parallel" in err and "Traceback" not in err


def test_the_weights_of_a_draw_avoiding_shapes_print_alike_in_every_process():
    """A dataset's identity is a digest of its weights' repr: `--resume` in a
    new process refused a killed run's rows while the shapes were a set
    (its order follows the string hash seed)."""
    import os
    import subprocess
    import sys

    code = "from kernel_synth.grammar.weights import *; print(repr(with_avoid(default_weights(), AVOIDABLE)))"
    printed = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout
        for seed in range(1, 9)
    }
    assert len(printed) == 1
    assert with_avoid(default_weights(), {"unpack-reference", "exit-beside-static"}).avoid == ("exit-beside-static", "unpack-reference")
