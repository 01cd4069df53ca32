"""msgsess.records: dataclass-like value classes without dataclasses (issue 11's start-up)."""

from __future__ import annotations

import copy
import pickle
import uuid

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
