"""Weights profiles: the default loads, every mistake is a WeightsError naming
the file and key, and the profile's names are exactly the generator's."""

from __future__ import annotations

import pytest

from kernel_synth.grammar.swarm import FEATURE_ALTERNATIVES
from kernel_synth.grammar.weights import DEFAULT_PATH, WeightsError, default_weights, load_weights, parse_weights

DEFAULT = DEFAULT_PATH.read_text()


def test_default_profile_loads_and_is_hashable():
    weights = default_weights()
    assert weights.name == "default"
    assert hash(weights) == hash(parse_weights(DEFAULT, str(DEFAULT_PATH)))
    assert len(weights.alternatives()) > 100
    assert load_weights(None) is weights


@pytest.mark.parametrize(
    "edit, key, words",
    [
        (lambda t: t.replace("assign = 6", "asign = 6"), "rules.statement", "asign"),
        (lambda t: t.replace("reassign = 2\n", ""), "rules.statement", "reassign"),
        (lambda t: t.replace("[rules.if_form]", "[rules.if_shape]"), "rules", "if_shape"),
        (lambda t: t.replace("assign = 6", "assign = -1"), "rules.statement", "non-negative"),
        (lambda t: t.replace("assign = 6", 'assign = "six"'), "rules.statement", "non-negative"),
        (lambda t: t.replace("max_trip = 8", "max_trip = 1000"), "limits", "hard cap"),
        (lambda t: t.replace("expr_depth = 3 ", "expr_depth = 2.5 "), "limits", "integer"),
        (lambda t: t.replace("helpers = 0.35", "helpers = 1.5"), "swarm", "probability"),
        (lambda t: t.replace("enabled = true", "enabled = 1"), "swarm", "true or false"),
        (lambda t: t.replace("elifs = { 1 = 4, 2 = 2, 3 = 1 }", "elifs = { 1 = 4, 99 = 1 }"), "lengths", "hard cap"),
        (lambda t: t.replace("elifs = { 1 = 4, 2 = 2, 3 = 1 }", "elifs = { 1 = 0 }"), "lengths", "positive"),
        (lambda t: t.replace("[rules.for_bound]\nconstant = 3\ndynamic = 2\nmodule_constant = 2", "[rules.for_bound]\nconstant = 0\ndynamic = 0\nmodule_constant = 0"), "rules.for_bound", "positive"),
        (lambda t: t + "\n[extra]\nx = 1\n", "top level", "extra"),
    ],
)
def test_broken_profiles_name_the_key(edit, key, words):
    with pytest.raises(WeightsError) as info:
        parse_weights(edit(DEFAULT), "mine.toml")
    message = str(info.value)
    assert message.startswith("mine.toml")
    assert f"[{key}]" in message
    assert words in message
    assert "\n" not in message


def test_invalid_toml_reports_line_and_column():
    broken = DEFAULT.replace("[limits]", "[limits", 1)
    with pytest.raises(WeightsError) as info:
        parse_weights(broken, "mine.toml")
    line = DEFAULT[: DEFAULT.index("[limits]")].count("\n") + 1
    assert info.value.line == line
    assert str(info.value).startswith(f"mine.toml:{line}:")


def test_unreadable_profile_is_a_weights_error(tmp_path):
    with pytest.raises(WeightsError, match="cannot read"):
        load_weights(tmp_path / "missing.toml")


def test_swarm_features_name_real_alternatives():
    weights = default_weights()
    alternatives = set(weights.alternatives())
    assert set(FEATURE_ALTERNATIVES) == set(weights.features)
    for feature, switched in FEATURE_ALTERNATIVES.items():
        for alt in switched:
            assert alt in alternatives, (feature, alt)
