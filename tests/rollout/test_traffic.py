"""The Traffic value: Azure's split rules in one place."""

from __future__ import annotations

import pytest

from azml2aks.rollout.traffic import (
    Traffic,
    check_split,
    choose_colour,
    promote_target,
    rollback_target,
)


@pytest.mark.parametrize("split", [{"blue": 90}, {"blue": 50, "green": 60}, {"blue": -10, "green": 110},
                                   {"blue": 99.5, "green": 0.5}, {"blue": True}])
def test_a_split_that_is_not_whole_percentages_summing_to_100_is_refused(split):
    with pytest.raises(ValueError):
        Traffic(split)


@pytest.mark.parametrize("split", [{}, {"blue": 0, "green": 0}, {"blue": 100}, {"blue": 10, "green": 90}])
def test_empty_and_whole_splits_are_accepted(split):
    check_split(split)
    assert Traffic(split).to_dict() == split


def test_live_colour_and_split_in_progress():
    assert Traffic({"blue": 90, "green": 10}).live_colour == "blue"
    assert Traffic({"blue": 90, "green": 10}).in_progress
    assert not Traffic({"blue": 100, "green": 0}).in_progress
    assert Traffic({}).live_colour is None


def test_traffic_equality_ignores_idle_colours_and_names_compare_case_insensitively():
    assert Traffic({"blue": 100, "green": 0}) == {"blue": 100}
    assert Traffic({"Blue": 100}).get_ci("blue") == 100


def test_at_moves_percent_from_the_previous_colour_and_zeroes_others():
    split = Traffic({"blue": 100, "green": 0, "old": 0}).at("green", 10, "blue")
    assert split.to_dict() == {"blue": 90, "green": 10, "old": 0}


def test_assign_names_an_unknown_deployment_and_fills_the_rest_with_zero():
    base = Traffic({"blue": 100, "green": 0})
    assert base.assign({"GREEN": 100}, ["blue", "green"]).to_dict() == {"blue": 0, "green": 100}
    with pytest.raises(ValueError, match="no deployment 'purple'; deployments: blue, green"):
        base.assign({"purple": 100}, ["blue", "green"])


@pytest.mark.parametrize("items, message", [(["blue:90"], "not COLOUR=PERCENT"), (["blue=x"], "not COLOUR=PERCENT"),
                                            (["blue=50", "BLUE=50"], "twice")])
def test_parse_refuses_malformed_assignments(items, message):
    with pytest.raises(ValueError, match=message):
        Traffic.parse(items)


def test_choose_promote_and_rollback_targets():
    assert choose_colour({"blue": 100}, ("blue", "green")) == "green"
    assert promote_target({"blue": 90, "green": 10}) == "green"
    with pytest.raises(ValueError, match="no split in progress"):
        promote_target({"blue": 100})
    assert rollback_target({"blue": 90, "green": 10}, ["blue", "green"], None) == ("blue", None)
    assert rollback_target({"blue": 0, "green": 100}, ["blue", "green"], ("green", "blue")) == ("blue", None)
    assert rollback_target({"blue": 100, "green": 0}, ["blue", "green"], ("green", "blue")) == \
        (None, "blue already serves 100 %")
    with pytest.raises(ValueError, match="cannot tell"):
        rollback_target({"blue": 100}, ["blue", "green", "old"], None)
