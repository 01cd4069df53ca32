"""Property types ([MS-OXCDATA] 2.11.1) and the Python value each one holds.

Value model, used everywhere in msgsess:

===============  ============================================================
type             Python value
===============  ============================================================
PT_SHORT         int (-32768..32767; 0..65535 accepted and wrapped)
PT_LONG, ERROR   int (signed 32-bit; 0..2**32-1 accepted and wrapped)
PT_I8            int (signed 64-bit; unsigned range accepted and wrapped)
PT_FLOAT/DOUBLE  float
PT_APPTIME       float (days since 1899-12-30)
PT_CURRENCY      decimal.Decimal (stored as int64 ten-thousandths)
PT_BOOLEAN       bool
PT_STRING8,      str (the encoder picks 0x001F or 0x001E for the whole file;
PT_UNICODE       a string's *model* type is always PT_UNICODE)
PT_SYSTIME       FileTime (int of 100-ns ticks since 1601, lossless)
PT_CLSID         uuid.UUID
PT_BINARY        bytes
PT_MV_*          list of the single-valued form
other            RawValue (bytes kept verbatim, for lossless editing)
===============  ============================================================
"""

from __future__ import annotations

import codecs

from msgsess.records import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as _dt
    import decimal
    from typing import Any

#: ``utf16_le(text, "surrogatepass")[0]`` is ``text.encode("utf-16-le", "surrogatepass")``: the
#: codec's own function, which str.encode looks up by name on every call (a third of the time for
#: the short strings of a message, written tens of times for each).
utf16_le = codecs.utf_16_le_encode

PT_UNSPECIFIED = 0x0000
PT_NULL = 0x0001
PT_SHORT = 0x0002
PT_LONG = 0x0003
PT_FLOAT = 0x0004
PT_DOUBLE = 0x0005
PT_CURRENCY = 0x0006
PT_APPTIME = 0x0007
PT_ERROR = 0x000A
PT_BOOLEAN = 0x000B
PT_OBJECT = 0x000D
PT_I8 = 0x0014
PT_STRING8 = 0x001E
PT_UNICODE = 0x001F
PT_SYSTIME = 0x0040
PT_CLSID = 0x0048
PT_SVREID = 0x00FB
PT_SRESTRICT = 0x00FD
PT_ACTIONS = 0x00FE
PT_BINARY = 0x0102
MV_FLAG = 0x1000

PT_MV_SHORT = MV_FLAG | PT_SHORT
PT_MV_LONG = MV_FLAG | PT_LONG
PT_MV_FLOAT = MV_FLAG | PT_FLOAT
PT_MV_DOUBLE = MV_FLAG | PT_DOUBLE
PT_MV_CURRENCY = MV_FLAG | PT_CURRENCY
PT_MV_APPTIME = MV_FLAG | PT_APPTIME
PT_MV_I8 = MV_FLAG | PT_I8
PT_MV_STRING8 = MV_FLAG | PT_STRING8
PT_MV_UNICODE = MV_FLAG | PT_UNICODE
PT_MV_SYSTIME = MV_FLAG | PT_SYSTIME
PT_MV_CLSID = MV_FLAG | PT_CLSID
PT_MV_BINARY = MV_FLAG | PT_BINARY

#: Base type -> (PT_ name, Ptyp name) for every type msgsess understands.
TYPE_NAMES: dict[int, tuple[str, str]] = {
    PT_SHORT: ("PT_SHORT", "PtypInteger16"),
    PT_LONG: ("PT_LONG", "PtypInteger32"),
    PT_FLOAT: ("PT_FLOAT", "PtypFloating32"),
    PT_DOUBLE: ("PT_DOUBLE", "PtypFloating64"),
    PT_CURRENCY: ("PT_CURRENCY", "PtypCurrency"),
    PT_APPTIME: ("PT_APPTIME", "PtypFloatingTime"),
    PT_ERROR: ("PT_ERROR", "PtypErrorCode"),
    PT_BOOLEAN: ("PT_BOOLEAN", "PtypBoolean"),
    PT_I8: ("PT_I8", "PtypInteger64"),
    PT_STRING8: ("PT_STRING8", "PtypString8"),
    PT_UNICODE: ("PT_UNICODE", "PtypString"),
    PT_SYSTIME: ("PT_SYSTIME", "PtypTime"),
    PT_CLSID: ("PT_CLSID", "PtypGuid"),
    PT_BINARY: ("PT_BINARY", "PtypBinary"),
    PT_OBJECT: ("PT_OBJECT", "PtypObject"),
}

#: Byte size of fixed-length types inside a property stream entry ([MS-OXMSG] 2.4.2.1).
FIXED_SIZES: dict[int, int] = {
    PT_SHORT: 2,
    PT_LONG: 4,
    PT_FLOAT: 4,
    PT_DOUBLE: 8,
    PT_CURRENCY: 8,
    PT_APPTIME: 8,
    PT_ERROR: 4,
    PT_BOOLEAN: 1,
    PT_I8: 8,
    PT_SYSTIME: 8,
    PT_NULL: 0,
    PT_UNSPECIFIED: 0,
}

#: Types whose single values live in a ``__substg1.0_`` stream ([MS-OXMSG] 2.1.3).
STREAM_TYPES = frozenset(
    {PT_STRING8, PT_UNICODE, PT_BINARY, PT_CLSID, PT_OBJECT, PT_SVREID, PT_SRESTRICT, PT_ACTIONS}
)

#: Types users may give a value for (single forms; each also has an MV form except OBJECT/BOOLEAN/ERROR).
VALUE_TYPES = frozenset(TYPE_NAMES) - {PT_OBJECT}

#: MV types defined by [MS-OXCDATA] 2.11.1.
MV_TYPES = frozenset(
    MV_FLAG | t
    for t in (
        PT_SHORT,
        PT_LONG,
        PT_FLOAT,
        PT_DOUBLE,
        PT_CURRENCY,
        PT_APPTIME,
        PT_I8,
        PT_STRING8,
        PT_UNICODE,
        PT_SYSTIME,
        PT_CLSID,
        PT_BINARY,
    )
)

STRING_TYPES = frozenset({PT_STRING8, PT_UNICODE})


def is_mv(ptype: int) -> bool:
    return bool(ptype & MV_FLAG)


def base_type(ptype: int) -> int:
    return ptype & ~MV_FLAG


def is_string(ptype: int) -> bool:
    return base_type(ptype) in STRING_TYPES


def is_known(ptype: int) -> bool:
    """True for the types msgsess decodes into Python values (others stay RawValue)."""
    return ptype in VALUE_TYPES or ptype in MV_TYPES


def is_fixed(ptype: int) -> bool:
    """Single-valued types stored inline in the property stream's 8-byte value field."""
    return not is_mv(ptype) and ptype not in STREAM_TYPES


def type_name(ptype: int) -> str:
    """``PT_UNICODE``, ``PT_MV_LONG`` or ``0x00FB`` for a type code."""
    base = base_type(ptype)
    if base in TYPE_NAMES:
        name = TYPE_NAMES[base][0]
        return name.replace("PT_", "PT_MV_", 1) if is_mv(ptype) else name
    return f"0x{ptype:04X}"


def parse_type_name(text: str) -> int | None:
    """Inverse of :func:`type_name`; also accepts Ptyp names and hex codes."""
    t = text.strip()
    upper = t.upper()
    aliases = {
        "PT_STRING": PT_UNICODE,
        "PT_TSTRING": PT_UNICODE,
        "PT_INT": PT_LONG,
        "PT_I4": PT_LONG,
        "PT_I2": PT_SHORT,
        "PT_LONGLONG": PT_I8,
        "PT_R4": PT_FLOAT,
        "PT_R8": PT_DOUBLE,
        "PT_BOOL": PT_BOOLEAN,
        "PT_GUID": PT_CLSID,
        "PT_TIME": PT_SYSTIME,
    }
    for code, (pt, ptyp) in TYPE_NAMES.items():
        if upper == pt:
            return code
        if upper == pt.replace("PT_", "PT_MV_", 1) and (MV_FLAG | code) in MV_TYPES:
            return MV_FLAG | code
        if t.lower() == ptyp.lower():
            return code
        multiple = "PtypMultiple" + ptyp[4:]
        if t.lower() == multiple.lower() and (MV_FLAG | code) in MV_TYPES:
            return MV_FLAG | code
    if upper in aliases:
        return aliases[upper]
    if upper.startswith("PT_MV_") and "PT_" + upper[6:] in aliases:
        return MV_FLAG | aliases["PT_" + upper[6:]]
    if upper.startswith("0X"):
        try:
            code = int(t, 16)
        except ValueError:
            return None
        return code if 0 <= code <= 0xFFFF else None
    return None


# --- values that need a class of their own -------------------------------------------------

_TICKS_PER_SECOND = 10_000_000


def _epoch_1601() -> _dt.datetime:
    """1601-01-01 UTC; datetime is imported on first use (a command that shows no time loads
    none of it)."""
    import datetime as _dt

    return _dt.datetime(1601, 1, 1, tzinfo=_dt.UTC)


class FileTime(int):
    """A PT_SYSTIME value: 100-ns ticks since 1601-01-01 UTC, kept as an integer.

    Integers, not floats or datetimes, because FILETIME has 100-ns resolution
    and a round trip through ``datetime`` would lose the last digit.
    """

    @classmethod
    def from_datetime(cls, when: _dt.datetime) -> FileTime:
        if when.tzinfo is None:
            raise ValueError("naive datetime: give a UTC offset")
        import datetime as _dt

        delta = when.astimezone(_dt.UTC) - _epoch_1601()
        ticks = (delta.days * 86_400 + delta.seconds) * _TICKS_PER_SECOND + delta.microseconds * 10
        return cls(ticks)

    @classmethod
    def from_unix(cls, seconds: int) -> FileTime:
        return cls(seconds * _TICKS_PER_SECOND + 116_444_736_000_000_000)

    def to_datetime(self) -> _dt.datetime | None:
        """The UTC datetime (to the microsecond), or None when out of datetime's range."""
        try:
            import datetime as _dt

            return _epoch_1601() + _dt.timedelta(microseconds=int(self) // 10)
        except OverflowError:
            return None

    def isoformat(self) -> str:
        """ISO 8601 in UTC with up to 7 fraction digits; the raw tick count when out of range."""
        when = self.to_datetime()
        if when is None:
            return str(int(self))
        base = when.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S")
        frac = int(self) % _TICKS_PER_SECOND
        if frac:
            base += "." + f"{frac:07d}".rstrip("0")
        return base + "Z"

    def __repr__(self) -> str:
        return f"FileTime({self.isoformat()!r})"


class RawValue(Frozen):
    """Bytes of a property whose type msgsess does not interpret, kept verbatim.

    For a fixed-size type these are the 8 bytes of the property entry's value
    field; for a stream-stored type they are the stream.
    """

    __slots__ = _fields = __match_args__ = ("data", "inline")
    data: bytes
    inline: bool

    def __init__(self, data: bytes, inline: bool = False) -> None:
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "inline", inline)


def currency(value: Any) -> decimal.Decimal:
    import decimal  # on first use: most commands never meet a currency

    return decimal.Decimal(value).quantize(decimal.Decimal("0.0001"))
