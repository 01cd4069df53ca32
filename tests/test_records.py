"""msgsess.records: dataclass-like value classes without dataclasses (issue 11's start-up)."""

from __future__ import annotations

import copy
import pickle
import uuid
from pathlib import Path

import pytest

from msgsess.props.keys import NamedId
from msgsess.props.types import RawValue
from msgsess.session.store import Row, Settings
from msgsess.spec import MAIL


@pytest.mark.parametrize(
    "value",
    [
        RawValue(b"\x01\x02", inline=True),
        NamedId(uuid.UUID("00062008-0000-0000-C000-000000000046"), lid=0x8554),
        NamedId(uuid.UUID("00020329-0000-0000-C000-000000000046"), name="Keywords"),
        Settings(unicode=False, codepage=1251),
        Row(3, "m3", "out/a.msg", {"subject": "Hi"}),
        MAIL,
    ],
    ids=["raw", "named-lid", "named-name", "settings", "row", "kind"],
)
def test_frozen_records_pickle_and_copy_as_frozen_dataclasses_did(value: object) -> None:
    for again in (pickle.loads(pickle.dumps(value)), copy.copy(value), copy.deepcopy(value)):
        assert type(again) is type(value)
        assert again == value
    with pytest.raises(AttributeError):
        value.extra = 1  # type: ignore[attr-defined]


def test_asdict_and_replace_take_the_place_of_the_dataclasses_helpers(tmp_path: Path) -> None:
    """Findings to JSON and a changed copy of a result, as dataclasses.asdict/replace gave."""
    import json

    from msgsess import api

    path = tmp_path / "hi.msg"
    api.write(api.compose({"subject": "Hi", "body": "x", "to": ["b@example.com"]}), path)
    result = api.check(path)
    assert result.error is None
    as_json = json.dumps(result._asdict()["findings"])  # nested records become dicts
    assert json.loads(as_json) == [f._asdict() for f in result.findings]
    assert all(set(f) == set(type(result.findings[0])._fields) for f in json.loads(as_json))
    other = result._replace(file="elsewhere.msg")
    assert (other.file, other.findings) == ("elsewhere.msg", result.findings) and result.file != other.file
    with pytest.raises(TypeError, match="no field 'nope'"):
        result._replace(nope=1)
    named = NamedId(uuid.UUID("00020329-0000-0000-C000-000000000046"), name="Keywords")
    assert named._replace(name="Other") == NamedId(named.guid, name="Other")
