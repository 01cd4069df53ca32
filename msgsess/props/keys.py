"""Property identity: tagged ids and named properties (property set + LID or name).

A property in a msgsess model is keyed by its identity alone; its type lives
with the value. Named properties are keyed by ``NamedId`` so that the number
0x8000+ a file happens to map them to never leaks into the model
([MS-OXMSG] 2.2.3: ids are per file).
"""

from __future__ import annotations

import uuid

from msgsess.records import Frozen

PS_MAPI = uuid.UUID("00020328-0000-0000-C000-000000000046")
PS_PUBLIC_STRINGS = uuid.UUID("00020329-0000-0000-C000-000000000046")
PS_INTERNET_HEADERS = uuid.UUID("00020386-0000-0000-C000-000000000046")
PSETID_COMMON = uuid.UUID("00062008-0000-0000-C000-000000000046")
PSETID_ADDRESS = uuid.UUID("00062004-0000-0000-C000-000000000046")
PSETID_APPOINTMENT = uuid.UUID("00062002-0000-0000-C000-000000000046")
PSETID_TASK = uuid.UUID("00062003-0000-0000-C000-000000000046")

#: [MS-OXPROPS] 1.3.2 and the Office "commonly used property sets" page.
PROPERTY_SETS: dict[str, uuid.UUID] = {
    "PS_MAPI": PS_MAPI,
    "PS_PUBLIC_STRINGS": PS_PUBLIC_STRINGS,
    "PS_INTERNET_HEADERS": PS_INTERNET_HEADERS,
    "PSETID_Common": PSETID_COMMON,
    "PSETID_Address": PSETID_ADDRESS,
    "PSETID_Appointment": PSETID_APPOINTMENT,
    "PSETID_Meeting": uuid.UUID("6ED8DA90-450B-101B-98DA-00AA003F1305"),
    "PSETID_Task": PSETID_TASK,
    "PSETID_Log": uuid.UUID("0006200A-0000-0000-C000-000000000046"),
    "PSETID_Note": uuid.UUID("0006200E-0000-0000-C000-000000000046"),
    "PSETID_PostRss": uuid.UUID("00062041-0000-0000-C000-000000000046"),
    "PSETID_Sharing": uuid.UUID("00062040-0000-0000-C000-000000000046"),
    "PSETID_Messaging": uuid.UUID("41F28F13-83F4-4114-A584-EEDB5A6B0BFF"),
    "PSETID_UnifiedMessaging": uuid.UUID("4442858E-A9E3-4E80-B900-317A210CC15B"),
    "PSETID_AirSync": uuid.UUID("71035549-0739-4DCB-9163-00F0580DBBDF"),
    "PSETID_XmlExtractedEntities": uuid.UUID("23239608-685D-4732-9C55-4C95CB4E8E33"),
    "PSETID_Attachment": uuid.UUID("96357F7F-59E1-47D0-99A7-46515C183B54"),
    "PSETID_CalendarAssistant": uuid.UUID("11000E07-B51B-40D6-AF21-CAA85EDAB1D0"),
    "PSETID_Report": uuid.UUID("00062013-0000-0000-C000-000000000046"),
    "PSETID_Remote": uuid.UUID("00062014-0000-0000-C000-000000000046"),
}

SET_NAMES: dict[uuid.UUID, str] = {v: k for k, v in PROPERTY_SETS.items()}


class NamedId(Frozen):
    """A named property's identity: its property set and a numeric LID or a string name.

    Ordered by (guid, lid, name), as the dataclass it was.
    """

    __slots__ = _fields = __match_args__ = ("guid", "lid", "name")
    guid: uuid.UUID
    lid: int | None
    name: str | None

    def __init__(self, guid: uuid.UUID, lid: int | None = None, name: str | None = None) -> None:
        if (lid is None) == (name is None):
            raise ValueError("a named property has exactly one of lid and name")
        object.__setattr__(self, "guid", guid)
        object.__setattr__(self, "lid", lid)
        object.__setattr__(self, "name", name)

    def _key(self) -> tuple[object, ...]:
        # Record._key, spelt out: a NamedId is hashed on every look-up in a property bag.
        return (self.guid, self.lid, self.name)

    def __lt__(self, other: NamedId) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other: NamedId) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other: NamedId) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other: NamedId) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() >= other._key()

    @property
    def is_string(self) -> bool:
        return self.name is not None

    def set_name(self) -> str:
        return SET_NAMES.get(self.guid, "{" + str(self.guid).upper() + "}")

    def __str__(self) -> str:
        if self.lid is not None:
            return f"{self.set_name()}:0x{self.lid:04X}"
        return f"{self.set_name()}:{self.name}"


#: A property's identity: a tagged property id (< 0x8000, or any id read from a
#: file that has no name map entry) or a named property.
PropId = int | NamedId


def tag(prop_id: int, ptype: int) -> int:
    return ((prop_id & 0xFFFF) << 16) | (ptype & 0xFFFF)
