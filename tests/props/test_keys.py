"""Property identity: named properties by set and LID or name, and property tags."""

from __future__ import annotations

import uuid

import pytest

from msgsess.props import keys


def test_a_named_property_has_exactly_one_of_lid_and_name() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        keys.NamedId(keys.PSETID_COMMON)
    with pytest.raises(ValueError, match="exactly one"):
        keys.NamedId(keys.PSETID_COMMON, lid=1, name="x")


def test_named_properties_show_their_set_by_name_when_it_has_one() -> None:
    assert str(keys.NamedId(keys.PSETID_COMMON, lid=0x8514)) == "PSETID_Common:0x8514"
    assert str(keys.NamedId(keys.PS_PUBLIC_STRINGS, name="Keywords")) == "PS_PUBLIC_STRINGS:Keywords"
    other = uuid.UUID("12345678-1234-1234-1234-123456789abc")
    assert str(keys.NamedId(other, lid=1)) == "{12345678-1234-1234-1234-123456789ABC}:0x0001"
    assert keys.NamedId(other, name="x").is_string and not keys.NamedId(other, lid=1).is_string


def test_named_ids_are_keys_equal_by_value() -> None:
    a = keys.NamedId(keys.PSETID_TASK, lid=0x8105)
    assert a == keys.NamedId(uuid.UUID(str(keys.PSETID_TASK)), lid=0x8105)
    assert {a: 1}[keys.NamedId(keys.PSETID_TASK, lid=0x8105)] == 1
    assert sorted([keys.NamedId(keys.PSETID_TASK, lid=2), keys.NamedId(keys.PSETID_TASK, lid=1)])[0].lid == 1


def test_property_sets_are_named_both_ways_and_tags_pack_id_and_type() -> None:
    assert keys.SET_NAMES[keys.PROPERTY_SETS["PSETID_Appointment"]] == "PSETID_Appointment"
    assert len(keys.SET_NAMES) == len(keys.PROPERTY_SETS)
    assert keys.tag(0x0037, 0x001F) == 0x0037001F
    assert keys.tag(0x18037, 0x1001F) == 0x8037001F  # both halves are 16 bits
