"""The one reader of on/off switches and of numeric STANCH_* settings (stanch.config): every setting
built on them accepts and refuses the same values."""

from __future__ import annotations

import pytest

from stanch.config import hours_setting, number_setting, switch
from stanch.desk.flood import FloodSettings


@pytest.mark.parametrize(("text", "default", "expected"), [
    (None, True, True), ("", True, True), ("", False, False), ("0", True, False), ("OFF", True, False),
    ("no", True, False), ("false", True, False), ("1", False, True), ("yes", False, True),
])
def test_a_switch_is_its_default_unless_set(text: str | None, default: bool, expected: bool) -> None:
    env = {} if text is None else {"STANCH_X": text}
    assert switch(env, "STANCH_X", default) is expected


@pytest.mark.parametrize("bad", ["soon", "-1", "0", "nan", "inf", "1e999"])
def test_numbers_must_be_finite_and_above_zero(bad: str) -> None:
    with pytest.raises(ValueError, match="STANCH_X"):
        number_setting({"STANCH_X": bad}, "STANCH_X", 5)
    with pytest.raises(ValueError, match="STANCH_FLOOD_FLUSH_SECONDS"):
        FloodSettings.from_environment({"STANCH_FLOOD_FLUSH_SECONDS": bad})


def test_whole_numbers_and_zero_for_off() -> None:
    assert number_setting({}, "STANCH_X", 5) == 5
    assert number_setting({"STANCH_X": " 2.5 "}, "STANCH_X", 5) == 2.5
    with pytest.raises(ValueError, match="whole number"):
        number_setting({"STANCH_X": "2.5"}, "STANCH_X", 5, whole=True)
    assert hours_setting({"STANCH_H": "0"}, "STANCH_H", 24, off="0 turns it off") == 0
    with pytest.raises(ValueError, match="0 turns it off"):
        hours_setting({"STANCH_H": "-1"}, "STANCH_H", 24, off="0 turns it off")
    assert FloodSettings.from_environment({"STANCH_FLOOD_UPLOADS": "7"}).uploads == 7
