"""The generic state table every stateful record moves through."""

from __future__ import annotations

import enum

import pytest

from faxcore.transitions import StateTable


class Light(enum.StrEnum):
    RED = "red"
    GREEN = "green"
    BROKEN = "broken"


class LightError(Exception):
    pass


LIGHTS = StateTable("light", {
    Light.RED: {Light.GREEN, Light.BROKEN},
    Light.GREEN: {Light.RED, Light.BROKEN},
    Light.BROKEN: set(),
}, LightError)


def test_a_move_the_table_holds_returns_the_new_state_from_a_state_or_its_stored_value() -> None:
    assert LIGHTS.move(Light.RED, Light.GREEN) is Light.GREEN
    assert LIGHTS.move("green", Light.BROKEN) is Light.BROKEN


def test_a_move_the_table_does_not_hold_raises_the_feature_s_own_error() -> None:
    with pytest.raises(LightError, match=r"^light cannot go from broken to red$"):
        LIGHTS.move("broken", Light.RED)
    with pytest.raises(LightError, match="from red to red"):
        LIGHTS.move(Light.RED, Light.RED)


def test_an_unknown_stored_value_is_refused() -> None:
    with pytest.raises(ValueError, match="'blue'"):
        LIGHTS.move("blue", Light.RED)


def test_sources_lead_to_a_state_and_a_state_nothing_leads_to_is_refused() -> None:
    assert LIGHTS.sources(Light.BROKEN) == {Light.RED, Light.GREEN}
    never = StateTable("light", {Light.RED: {Light.GREEN}, Light.GREEN: set(),
                                 Light.BROKEN: set()}, LightError)
    with pytest.raises(LightError, match="no light moves to broken"):
        never.sources(Light.BROKEN)


def test_final_states_lead_nowhere_and_are_refused_before_any_work() -> None:
    assert LIGHTS.open_states() == {Light.RED, Light.GREEN}
    LIGHTS.refuse_final("red")
    with pytest.raises(LightError, match="light is already broken"):
        LIGHTS.refuse_final(Light.BROKEN)


def test_a_table_missing_a_state_s_row_is_refused_when_declared() -> None:
    with pytest.raises(ValueError, match="no row for"):
        StateTable("light", {Light.RED: {Light.GREEN}, Light.GREEN: set()}, LightError)
