"""`synth tune` and the profile's aim mix."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from kernel_synth.grammar.categories import CATEGORIES, classify
from kernel_synth.grammar.sampling import draw_program
from kernel_synth.grammar.tune import Target, TargetError, load_target, solve_levers, tune
from kernel_synth.grammar.weights import DEFAULT_PATH, WeightsError, default_weights, load_weights, parse_weights
from kernel_synth.synth.cli import main


def _profile(aim: str) -> str:
    return DEFAULT_PATH.read_text() + "\n[aim]\n" + aim + "\n"


def test_an_aim_mix_of_any_alone_draws_what_the_default_draws():
    plain = parse_weights(_profile("any = 1"), "plain.toml")
    assert [draw_program(3, k, plain) for k in range(20)] == [draw_program(3, k) for k in range(20)]


def test_an_aim_at_a_category_alone_gives_it_as_the_primary_label():
    weights = parse_weights(_profile("only_loop = 1"), "loops.toml")
    labels = Counter(classify(draw_program(0, k, weights)).primary for k in range(60))
    assert labels["loop"] >= 50, labels


@pytest.mark.parametrize(
    "aim, message",
    [("loops = 1", "unknown name 'loops'"), ("any = 0", "no aim has a positive weight"), ("any = -1", "a weight is a non-negative number")],
)
def test_a_bad_aim_table_names_the_key(aim, message):
    with pytest.raises(WeightsError, match=message):
        parse_weights(_profile(aim), "bad.toml")


def test_the_solver_finds_a_mix_that_exists():
    """Three aims, two features: the target is the mix 0.2/0.3/0.5 of them."""
    aims = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    goal = np.array([0.2, 0.3]) @ aims[:2] + 0.5 * aims[2]
    mix, change = solve_levers(aims, np.zeros((0, 2)), np.full(3, 1 / 3), np.zeros(0), np.zeros(0), goal, np.ones(2), ridge=0.0)
    assert np.allclose(aims.T @ mix, goal, atol=1e-4) and np.isclose(mix.sum(), 1) and (mix >= 0).all()


@pytest.mark.parametrize(
    "text, message",
    [
        ("[primary]\nloop = 0.7\nvector = 0.5\n", "the shares sum to 1.200, more than 1"),
        ("[primary]\nloops = 0.4\n", "unknown feature 'loops'"),
        ("[shapes]\nloop = 0.4\n", "unknown table"),
        ("[categories]\nloop = 40\n", "a share is between 0 and 1"),
        ("[primary]\nloop = \n", "not valid TOML"),
    ],
)
def test_a_target_that_cannot_be_met_is_one_line_and_exit_2(tmp_path, capsys, text, message):
    spec = tmp_path / "target.toml"
    spec.write_text(text)
    with pytest.raises(TargetError, match=message):
        load_target(str(spec))
    assert main(["tune", "--target", str(spec), "--out", str(tmp_path / "out.toml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"synth: error: --target {spec}: ")
    assert not (tmp_path / "out.toml").exists()


def test_a_json_target_reads_as_a_toml_one(tmp_path):
    spec = tmp_path / "t.json"
    spec.write_text(json.dumps({"categories": {"loop": 0.4}, "mean": {"ast_size": 30}}))
    assert load_target(str(spec)).values == {"categories.loop": 0.4, "mean.ast_size": 30.0}


def test_tune_writes_a_profile_that_weights_accepts_and_meets_uniform_roughly(tmp_path, capsys):
    """A small tune (the acceptance figures use the defaults: see the slow test)."""
    out = tmp_path / "uniform.toml"
    assert main(["tune", "--target", "uniform", "--out", str(out), "--n", "60", "--check", "400", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    weights = load_weights(out)
    assert dict(weights.aim) == report["aim"] and sum(weights.aim[k][1] for k in range(len(weights.aim))) > 0
    assert "[aim]" in out.read_text() and "Written by `synth tune --target uniform" in out.read_text()
    labels = Counter(classify(draw_program(77, k, weights)).primary for k in range(600))
    before = Counter(classify(draw_program(77, k)).primary for k in range(600))
    spread = lambda counts: max(abs(counts[c] / 600 - 1 / 12) for c in CATEGORIES)  # noqa: E731
    assert spread(labels) < spread(before) and spread(labels) < 0.05


@pytest.mark.slow
def test_uniform_meets_every_category_within_two_points_on_5000_draws():
    result = tune(Target.uniform(), default_weights())
    labels = Counter(classify(draw_program(12345, k, result.weights)).primary for k in range(5000))
    assert max(abs(labels[c] / 5000 - 1 / 12) for c in CATEGORIES) <= 0.02, labels


@pytest.mark.slow
def test_a_loops_and_vectors_target_is_met_within_three_points(tmp_path):
    spec = tmp_path / "t.toml"
    spec.write_text("[categories]\nloop = 0.40\nvector = 0.30\n")
    result = tune(load_target(str(spec)), default_weights())
    labels = Counter()
    for k in range(3000):
        labels.update(classify(draw_program(4242, k, result.weights)).categories)
    assert abs(labels["loop"] / 3000 - 0.40) <= 0.03 and abs(labels["vector"] / 3000 - 0.30) <= 0.03, labels
    # the features it does not name (but the primary labels of the named
    # categories) stay within five points of their shares before
    drifts = {name: result.achieved[name] - result.before[name] for name in result.kept if not name.startswith("mean.")}
    assert max(abs(d) for d in drifts.values()) <= 0.05, sorted(drifts.items(), key=lambda kv: -abs(kv[1]))[:3]


def test_a_shipped_profile_loads_by_name_and_draws_near_uniform():
    weights = load_weights("uniform")
    assert weights.name == "uniform" and len(weights.aim) > 1
    labels = Counter(classify(draw_program(99, k, weights)).primary for k in range(1200))
    assert max(abs(labels[c] / 1200 - 1 / 12) for c in CATEGORIES) < 0.035, labels


def test_focus_and_spread_move_the_builtins_and_features_they_say():
    from kernel_synth.grammar import parse
    from kernel_synth.synth.tune_buckets import FOCUS, focus, spread

    base = default_weights()
    finder = parse("@kernel\ndef k(x: In[array[float32]], o: Out[array[float32]]):\n    i = tid()\n    o[i] = atan2(x[i], 1.0)\n")
    focused = focus(base, [finder])
    assert dict(focused.rule("float_call"))["atan2"] == FOCUS * dict(base.rule("float_call"))["atan2"]
    assert dict(focused.rule("float_call"))["sin"] == dict(base.rule("float_call"))["sin"]
    assert focused.feature_probability("math") >= 0.8 and focused.feature_probability("loops") == base.feature_probability("loops")
    spread_out = spread(base)
    assert len(set(w for _, w in spread_out.rule("float_call"))) == 1
    assert all(p >= 0.5 for _, p in spread_out.swarm)


def test_a_profile_renders_back_to_itself():
    from kernel_synth.grammar.weights import render_profile
    from kernel_synth.synth.tune_buckets import spread

    from kernel_synth.grammar.tune import with_statements

    changed = with_statements(spread(load_weights("uniform")), {"short": 0.25})
    assert dict(changed.length("kernel_statements"))[1] > dict(default_weights().length("kernel_statements"))[1] / 22
    text = render_profile(DEFAULT_PATH.read_text(), changed, "a test", ["a comment"])
    again = parse_weights(text, "uniform.toml")
    assert again.rules == changed.rules and again.swarm == changed.swarm and again.aim == changed.aim
    assert again.lengths == changed.lengths
    assert "# tuned from 1" in text and text.splitlines()[0] == "# kernel-synth generation profile: a test"


def test_tune_needs_a_target_unless_buckets(tmp_path, capsys):
    assert main(["tune", "--out", str(tmp_path / "p.toml")]) == 2
    assert "--target: required" in capsys.readouterr().err
    assert main(["tune", "--objective", "buckets", "--target", "uniform", "--out", str(tmp_path / "p.toml")]) == 2
    assert "not with --objective buckets" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.compiler
def test_the_buckets_objective_beats_the_default_profile_in_the_same_run(tmp_path, monkeypatch, capsys):
    """Rejections injected on eight builtins the default draws seldom (each
    its own signature, so its own bucket): some candidate finds more
    distinct buckets per hour than the default profile, and is chosen."""
    monkeypatch.setenv("KERNEL_SYNTH_FAULTS", "reject:atan2,reject:log10,reject:cosh,reject:acos,reject:sign,reject:tan,reject:asin,reject:ceil")
    out = tmp_path / "buckets.toml"
    args = ["tune", "--objective", "buckets", "--backend", "faulty-warp-cpu", "--trial", "40s", "--oracles", "compile,crash,timeout,forward,nondeterminism", "--out", str(out), "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    per_hour = {t["candidate"]: t["per_hour"] for t in report["trials"]}
    assert report["chosen"] != "start" and per_hour[report["chosen"]] > per_hour["start"], report
    load_weights(out)
