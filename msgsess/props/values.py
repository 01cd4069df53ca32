"""The one value syntax: command-line text and JSON <-> typed model values.

``docs/VALUES.md`` is the user-facing reference for everything here. In short:

* integers: decimal or ``0x`` hex, in the signed or the unsigned range of the type
  (the model keeps the signed value, see :mod:`msgsess.props.types`);
* booleans: true/false, yes/no, on/off, 1/0;
* floats: decimal numbers (``nan``/``inf`` accepted); PT_FLOAT is rounded to 32 bits;
* currency: a decimal number with at most 4 fraction digits;
* PT_SYSTIME: ISO 8601 date-time *with* an offset (``Z``, ``+02:00``), up to 7
  fraction digits (lossless: FILETIME counts 100 ns), a date alone (midnight UTC),
  or a tick count;
* PT_APPTIME: an ISO 8601 date-time (offset optional) or days since 1899-12-30;
* PT_CLSID: a GUID, braces optional;
* PT_BINARY: ``hex:0a0b``, plain hex, ``base64:…`` or ``@path``;
* multi-valued: a JSON array on the command line, a list in JSON;
* a type msgsess does not interpret: binary syntax on the command line,
  ``{"raw": "base64:…"}`` in JSON.

Every failure raises :class:`~msgsess.errors.InvalidParameter` naming the
property, the value and the form expected.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import struct
import sys
import uuid
from collections.abc import Callable

from msgsess.errors import InvalidParameter, NotFound
from msgsess.props import types as t
from msgsess.props.binary import signed
from msgsess.props.registry import PropDef, model_type

TYPE_CHECKING = False
if TYPE_CHECKING:
    import decimal
    from typing import Any, NoReturn

# json, base64 and decimal are imported where they are used: ``dump`` shows values with this
# module and needs none of them for most files (issue 11's start-up).

__all__ = ["infer_type", "parse_json", "parse_property", "parse_text", "to_json", "to_text"]

ReadFile = Callable[[str], bytes]

_INT_BITS = {t.PT_SHORT: 16, t.PT_LONG: 32, t.PT_ERROR: 32, t.PT_I8: 64}
_INT_RE = re.compile(r"[+-]?(?:0[xX][0-9A-Fa-f]+|[0-9]+)")
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NON_FINITE = {
    "nan": math.nan,
    "+nan": math.nan,
    "-nan": math.nan,
    "inf": math.inf,
    "+inf": math.inf,
    "infinity": math.inf,
    "+infinity": math.inf,
    "-inf": -math.inf,
    "-infinity": -math.inf,
}
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_GUID_RE = re.compile(
    r"(\{)?([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})(?(1)\})"
)
_ISO_RE = re.compile(
    r"""(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})
    (?:[Tt\ ](?P<h>[0-9]{2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:[.,](?P<f>[0-9]+))?)?
       (?P<tz>[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?""",
    re.VERBOSE,
)
_BOOLEANS = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}
_FLOAT32 = struct.Struct("<f")
_TICKS = 10_000_000
_ORDINAL_1601 = dt.date(1601, 1, 1).toordinal()
_ORDINAL_1899 = dt.date(1899, 12, 30).toordinal()
_SHOW = 40

_HINT_INT = "give a decimal or 0x-hex integer"
_HINT_BOOL = "give true/false, yes/no, on/off or 1/0"
_HINT_FLOAT = "give a decimal number such as 1.5 or 2e-3"
_HINT_CURRENCY = "give a decimal number with at most 4 fraction digits, such as 12.3456"
_HINT_SYSTIME = (
    "give an ISO 8601 date-time with an offset such as 2024-05-01T12:00:00Z, "
    "a date such as 2024-05-01, or a FILETIME tick count"
)
_HINT_APPTIME = "give an ISO 8601 date-time such as 2024-05-01T12:00:00 or a number of days since 1899-12-30"
_HINT_GUID = "give a GUID such as {00062008-0000-0000-C000-000000000046}"
_HINT_BINARY = "give hex:0a0b…, plain hex, base64:… or @file"
_HINT_MV = """give a JSON array such as '["red", "green"]'"""
_HINT_RAW = 'give {"raw": "base64:…"} (bytes kept verbatim)'


def _show(value: Any) -> str:
    """A value for an error message: quoted if text, shortened if long."""
    if isinstance(value, str):
        return repr(value if len(value) <= _SHOW else value[: _SHOW - 1] + "…")
    try:
        import json

        text = json.dumps(value, ensure_ascii=False, default=repr)
    except ValueError:
        text = repr(value)
    return text if len(text) <= _SHOW else text[: _SHOW - 1] + "…"


class _Ctx:
    """What an error message needs: the property, its type, and the item of a list."""

    def __init__(self, prop: str, ptype: int, read_file: ReadFile | None) -> None:
        self.prop = prop
        self.ptype = ptype
        self.read_file = read_file
        self.item: int | None = None

    def where(self) -> str:
        item = f" item {self.item + 1}" if self.item is not None else ""
        return f"property {self.prop} ({t.type_name(self.ptype)}){item}"

    def fail(self, value: Any, what: str, hint: str | None) -> NoReturn:
        raise InvalidParameter(f"{_show(value)} {what}", hint=hint).at(self.where())


# --- text -> value ---------------------------------------------------------------------------


def parse_text(ptype: int, text: str, *, prop: str, read_file: ReadFile | None = None) -> Any:
    """Parse command-line text as a value of ``ptype`` (see the module docstring).

    ``prop`` names the property in error messages; ``read_file`` reads ``@path``
    binary values (None: ``@path`` is refused).
    """
    ptype = model_type(ptype)
    ctx = _Ctx(prop, ptype, read_file)
    if ptype in t.MV_TYPES:
        try:
            import json

            items = json.loads(text)
        except ValueError:
            ctx.fail(text, "is not a JSON array", _HINT_MV)
        except RecursionError:  # arrays nested thousands deep
            ctx.fail(text, "nests arrays too deeply", _HINT_MV)
        if not isinstance(items, list):
            ctx.fail(text, "is not a JSON array", _HINT_MV)
        return _parse_list(t.base_type(ptype), items, ctx)
    if ptype == t.PT_OBJECT:
        ctx.fail(text, "cannot be given as a value", "attach a file or an embedded message instead")
    if ptype not in t.VALUE_TYPES:
        return t.RawValue(_parse_binary(text, ctx), inline=_inline_default(ptype))
    return _parse_scalar_text(ptype, text, ctx)


def _parse_scalar_text(base: int, text: str, ctx: _Ctx) -> Any:
    if base == t.PT_UNICODE:
        return _check_string(_parse_string(text, ctx), ctx)
    if base == t.PT_BINARY:
        return _parse_binary(text, ctx)
    word = text.strip()
    if base in _INT_BITS:
        if not _INT_RE.fullmatch(word):
            ctx.fail(text, "is not an integer", _HINT_INT)
        return _check_int(base, _int_of(word, text, ctx), text, ctx)
    if base == t.PT_BOOLEAN:
        value = _BOOLEANS.get(word.lower())
        if value is None:
            ctx.fail(text, "is not a boolean", _HINT_BOOL)
        return value
    if base in (t.PT_FLOAT, t.PT_DOUBLE):
        return _parse_float(base, word, text, ctx)
    if base == t.PT_CURRENCY:
        if not _DECIMAL_RE.fullmatch(word):
            ctx.fail(text, "is not a currency amount", _HINT_CURRENCY)
        import decimal

        return _check_currency(decimal.Decimal(word), text, ctx)
    if base == t.PT_SYSTIME:
        return _parse_systime(word, text, ctx)
    if base == t.PT_APPTIME:
        return _parse_apptime(word, text, ctx)
    if base == t.PT_CLSID:
        match = _GUID_RE.fullmatch(word)
        if match is None:
            ctx.fail(text, "is not a GUID", _HINT_GUID)
        return uuid.UUID(match.group(2))
    raise AssertionError(f"unhandled type 0x{base:04X}")  # pragma: no cover


def _parse_string(text: str, ctx: _Ctx) -> str:
    """Text as given; ``@path`` the text of a UTF-8 file (a leading BOM dropped); ``@@`` a leading ``@``."""
    if text.startswith("@@"):
        return text[1:]
    if not text.startswith("@"):
        return text
    data = _read(text[1:], text, ctx)
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        ctx.fail(text, f"names a file that is not UTF-8 text (byte {exc.start})", "convert the file to UTF-8")
    return content.removeprefix("\ufeff")


def _check_string(text: str, ctx: _Ctx) -> str:
    if "\0" in text:
        ctx.fail(text, "contains a NUL character", "MAPI strings end at the first NUL; remove it")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        ctx.fail(text, "contains an unpaired surrogate", "give valid Unicode text")
    return text


#: Longest integer text read (sign, 0x and digits): no MAPI integer has more than 20 digits, and
#: Python refuses to convert more than 4300.
_MAX_INT_CHARS = 100


def _int_of(word: str, shown: Any, ctx: _Ctx) -> int:
    """The integer ``word`` (matching ``_INT_RE``) stands for, if it is of a sane length."""
    if len(word) > _MAX_INT_CHARS:
        ctx.fail(shown, f"is out of range ({len(word)} characters)", _HINT_INT)
    return int(word, 0) if "x" in word.lower() else int(word)


def _check_int(base: int, value: int, shown: Any, ctx: _Ctx) -> int:
    bits = _INT_BITS[base]
    low, high = -(1 << (bits - 1)), (1 << bits) - 1
    if not low <= value <= high:
        ctx.fail(shown, f"is out of range for {t.type_name(base)}", f"give an integer from {low} to {high}")
    return signed(value, bits)


def _parse_float(base: int, word: str, shown: Any, ctx: _Ctx) -> float:
    special = _NON_FINITE.get(word.lower())
    if special is not None:
        return special
    if not _FLOAT_RE.fullmatch(word):
        ctx.fail(shown, "is not a number", _HINT_FLOAT)
    return _check_float(base, float(word), shown, ctx)


def _check_float(base: int, value: float, shown: Any, ctx: _Ctx) -> float:
    if math.isinf(value):
        ctx.fail(shown, f"is out of range for {t.type_name(base)}", "give a number within ±1.7e308")
    if base == t.PT_FLOAT:
        try:
            (value,) = _FLOAT32.unpack(_FLOAT32.pack(value))
        except OverflowError:
            ctx.fail(shown, "is out of range for PT_FLOAT", "give a number within ±3.4e38, or use PT_DOUBLE")
    return value


def _check_currency(value: decimal.Decimal, shown: Any, ctx: _Ctx) -> decimal.Decimal:
    import decimal

    unit = decimal.Decimal("0.0001")
    lowest, highest = decimal.Decimal(-(2**63)) * unit, decimal.Decimal(2**63 - 1) * unit
    if not value.is_finite():
        ctx.fail(shown, "is not a currency amount", _HINT_CURRENCY)
    if not lowest <= value <= highest:
        ctx.fail(
            shown,
            "is out of range for PT_CURRENCY",
            f"give an amount from {lowest} to {highest}",
        )
    if value != value.quantize(unit, rounding=decimal.ROUND_DOWN):
        ctx.fail(shown, "has more than 4 fraction digits", _HINT_CURRENCY)
    return t.currency(value)


def _parse_iso(word: str, shown: Any, ctx: _Ctx, hint: str) -> tuple[int, int, int | None]:
    """An ISO 8601 date-time -> (whole seconds since 0001-01-01 local, 100-ns ticks, offset s)."""
    match = _ISO_RE.fullmatch(word)
    if match is None:
        ctx.fail(shown, "is not a date-time", hint)
    fields = match.groupdict()
    try:
        day = dt.date(int(fields["y"]), int(fields["mo"]), int(fields["d"]))
        clock = dt.time(int(fields["h"] or 0), int(fields["mi"] or 0), int(fields["s"] or 0))
    except ValueError as exc:
        ctx.fail(shown, f"is not a valid date-time ({exc})", hint)
    fraction = fields["f"] or ""
    if len(fraction) > 7 and fraction[7:].strip("0"):
        ctx.fail(shown, "has more than 7 fraction digits", "FILETIME counts 100 ns; give at most 7 digits")
    ticks = int(fraction[:7].ljust(7, "0"))
    seconds = day.toordinal() * 86_400 + clock.hour * 3600 + clock.minute * 60 + clock.second
    tz = fields["tz"]
    if tz is None:
        offset = 0 if fields["h"] is None else None  # a date alone means midnight UTC
    elif tz in "Zz":
        offset = 0
    else:
        hours, minutes = int(tz[1:3]), int(tz[-2:]) if len(tz) > 3 else 0
        if hours > 23 or minutes > 59:
            ctx.fail(shown, "has an invalid UTC offset", hint)
        offset = (hours * 3600 + minutes * 60) * (-1 if tz[0] == "-" else 1)
    return seconds, ticks, offset


def _parse_systime(word: str, shown: Any, ctx: _Ctx) -> t.FileTime:
    if _INT_RE.fullmatch(word):
        ticks = _int_of(word, shown, ctx)
    else:
        seconds, fraction, offset = _parse_iso(word, shown, ctx, _HINT_SYSTIME)
        if offset is None:
            ctx.fail(
                shown, "has no UTC offset", "give an offset such as Z or +02:00, e.g. 2024-05-01T12:00:00Z"
            )
        ticks = (seconds - offset - _ORDINAL_1601 * 86_400) * _TICKS + fraction
    if not 0 <= ticks < 1 << 64:
        ctx.fail(shown, "is out of range for PT_SYSTIME", "give a date-time from 1601-01-01T00:00:00Z on")
    return t.FileTime(ticks)


def _parse_apptime(word: str, shown: Any, ctx: _Ctx) -> float:
    if _FLOAT_RE.fullmatch(word) and not _ISO_RE.fullmatch(word):
        return _check_float(t.PT_DOUBLE, float(word), shown, ctx)
    if word.lower() in _NON_FINITE:
        return _NON_FINITE[word.lower()]
    from fractions import Fraction  # here only: dump and the other readers never need it

    seconds, fraction, offset = _parse_iso(word, shown, ctx, _HINT_APPTIME)
    total = Fraction(seconds - (offset or 0) - _ORDINAL_1899 * 86_400) + Fraction(fraction, _TICKS)
    days = math.floor(total / 86_400)
    time_of_day = (total - days * 86_400) / 86_400
    # OLE Automation dates: before 1899-12-30 the time of day still counts forward,
    # so 1899-12-29 06:00 is -1.25, not -0.75.
    return float(days + time_of_day if days >= 0 else days - time_of_day)


def _parse_binary(text: str, ctx: _Ctx) -> bytes:
    word = text.strip()
    lower = word[:7].lower()
    if lower.startswith("@") and not lower.startswith("@@"):
        return _read(word[1:], text, ctx)
    if lower.startswith("base64:"):
        import base64
        import binascii

        try:
            return base64.b64decode("".join(word[7:].split()), validate=True)
        except binascii.Error:
            ctx.fail(text, "is not valid base64", _HINT_BINARY)
    digits = word[4:] if lower.startswith("hex:") else word
    digits = "".join(digits.split())
    if digits[:2].lower() == "0x":
        digits = digits[2:]
    try:
        return bytes.fromhex(digits)
    except ValueError:
        ctx.fail(text, "is not hex, base64 or @file", _HINT_BINARY)


def _read(path: str, shown: str, ctx: _Ctx) -> bytes:
    if not path:
        ctx.fail(shown, "names no file", "write @path/to/file (or @@ for a leading @)")
    if ctx.read_file is None:
        hint = (
            "give the text itself, with @@ for a leading @"
            if ctx.ptype in (t.PT_UNICODE, t.PT_MV_UNICODE)
            else "give the bytes as hex: or base64:"
        )
        ctx.fail(shown, "reads a file, which is not possible here", hint)
    try:
        return ctx.read_file(path)
    except FileNotFoundError:
        raise NotFound(f"file {path!r} not found", hint="check the path after @").at(ctx.where()) from None
    except OSError as exc:
        raise InvalidParameter(f"cannot read {path!r}: {exc.strerror or exc}").at(ctx.where()) from None


def _inline_default(ptype: int) -> bool:
    """Whether a raw value of this type lives in the property entry (fixed size) or a stream."""
    return not t.is_mv(ptype) and ptype not in t.STREAM_TYPES


# --- JSON -> value ---------------------------------------------------------------------------


def parse_json(ptype: int, value: Any, *, prop: str, read_file: ReadFile | None = None) -> Any:
    """Parse a JSON value (as ``json.loads`` returns it) as a value of ``ptype``.

    Strings are read in the text syntax, so ``"0x10"``, ``"2024-05-01T12:00:00Z"`` and
    ``"base64:AAE="`` work; ``{"raw": "base64:…"}`` gives a :class:`RawValue` for any type.
    """
    ptype = model_type(ptype)
    ctx = _Ctx(prop, ptype, read_file)
    if isinstance(value, dict):
        return _parse_raw(ptype, value, ctx)
    if ptype in t.MV_TYPES:
        if not isinstance(value, list):
            ctx.fail(value, "is not a JSON array", 'give a JSON array such as [1, 2] or ["red", "green"]')
        return _parse_list(t.base_type(ptype), value, ctx)
    if ptype not in t.VALUE_TYPES:
        ctx.fail(value, f"cannot be given for type {t.type_name(ptype)}", _HINT_RAW)
    return _parse_scalar_json(ptype, value, ctx)


def _parse_list(base: int, items: list[Any], ctx: _Ctx) -> list[Any]:
    result = []
    for index, item in enumerate(items):
        ctx.item = index
        result.append(_parse_scalar_json(base, item, ctx))
    ctx.item = None
    return result


def _parse_raw(ptype: int, value: dict[str, Any], ctx: _Ctx) -> t.RawValue:
    data, inline = value.get("raw"), value.get("inline", _inline_default(ptype))
    if not isinstance(data, str) or not isinstance(inline, bool) or set(value) - {"raw", "inline"}:
        ctx.fail(value, "is not a raw value", _HINT_RAW)
    return t.RawValue(_parse_binary(data, ctx), inline=inline)


def _parse_scalar_json(base: int, value: Any, ctx: _Ctx) -> Any:
    if isinstance(value, str):
        return _parse_scalar_text(base, value, ctx)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if base in _INT_BITS:
        if isinstance(value, int) and not isinstance(value, bool):
            return _check_int(base, value, value, ctx)
        ctx.fail(value, "is not an integer", _HINT_INT)
    if base == t.PT_BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        ctx.fail(value, "is not a boolean", "give true or false")
    if base in (t.PT_FLOAT, t.PT_DOUBLE, t.PT_APPTIME) and number:
        try:
            as_float = float(value)
        except OverflowError:
            ctx.fail(value, f"is out of range for {t.type_name(base)}", _HINT_FLOAT)
        return _check_float(t.PT_DOUBLE if base == t.PT_APPTIME else base, as_float, value, ctx)
    if base == t.PT_CURRENCY and number:
        import decimal

        amount = decimal.Decimal(repr(value)) if isinstance(value, float) else decimal.Decimal(value)
        return _check_currency(amount, value, ctx)
    if base == t.PT_SYSTIME and isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 1 << 64:
            ctx.fail(value, "is out of range for PT_SYSTIME", _HINT_SYSTIME)
        return t.FileTime(value)
    expected = {
        t.PT_FLOAT: ("is not a number", _HINT_FLOAT),
        t.PT_DOUBLE: ("is not a number", _HINT_FLOAT),
        t.PT_APPTIME: ("is not a date-time or a number", _HINT_APPTIME),
        t.PT_CURRENCY: ("is not a currency amount", _HINT_CURRENCY),
        t.PT_SYSTIME: ("is not a date-time", _HINT_SYSTIME),
        t.PT_CLSID: ("is not a GUID string", _HINT_GUID),
        t.PT_BINARY: ("is not a binary string", _HINT_BINARY),
        t.PT_UNICODE: ("is not a string", "give a JSON string"),
    }
    what, hint = expected[base]
    ctx.fail(value, what, hint)


# --- value -> JSON / text --------------------------------------------------------------------


def _float32_short(value: float) -> float:
    """The shortest decimal that reads back as the same 32-bit float."""
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        try:
            if _FLOAT32.unpack(_FLOAT32.pack(candidate))[0] == value:
                return candidate
        except OverflowError:  # rounded up past the largest float32
            continue
    return value


def _float_json(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def to_json(ptype: int, value: Any) -> Any:
    """The JSON form of a model value; :func:`parse_json` reads it back to an equal value.

    Text that starts with ``@`` gets a second one: ``@x`` as a value would read the file x.
    """
    ptype = model_type(ptype)
    if isinstance(value, t.RawValue):
        import base64

        raw: dict[str, Any] = {"raw": "base64:" + base64.b64encode(value.data).decode("ascii")}
        if value.inline != _inline_default(ptype):
            raw["inline"] = value.inline
        return raw
    if ptype in t.MV_TYPES:
        base = t.base_type(ptype)
        return [to_json(base, item) for item in value]
    if ptype in _INT_BITS:
        return int(value)
    if ptype == t.PT_BOOLEAN:
        return bool(value)
    if ptype == t.PT_FLOAT:
        value = float(value)
        return _float_json(_float32_short(value) if math.isfinite(value) else value)
    if ptype in (t.PT_DOUBLE, t.PT_APPTIME):
        return _float_json(float(value))
    if ptype == t.PT_CURRENCY:
        import decimal

        return format(decimal.Decimal(value), "f")
    if ptype == t.PT_SYSTIME:
        return t.FileTime(value).isoformat()
    if ptype == t.PT_CLSID:
        return "{" + str(value).upper() + "}"
    if ptype == t.PT_BINARY:
        import base64

        return "base64:" + base64.b64encode(value).decode("ascii")
    if ptype == t.PT_UNICODE:
        text = str(value)
        return "@" + text if text.startswith("@") else text  # "@x" would name a file
    if isinstance(value, bytes):
        return to_json(ptype, t.RawValue(value, inline=_inline_default(ptype)))
    raise InvalidParameter(f"a value of type {t.type_name(ptype)} must be kept as raw bytes", hint=_HINT_RAW)


def _apptime_text(value: float) -> str:
    if not math.isfinite(value):
        return repr(value)
    days = math.trunc(value)
    seconds = round(abs(value - days) * 86_400, 3)
    try:
        when = dt.datetime(1899, 12, 30) + dt.timedelta(days=days, seconds=seconds)
    except OverflowError:
        return repr(value)
    return when.isoformat(timespec="milliseconds" if when.microsecond else "seconds")


def _shorten(text: str, width: int) -> str:
    return text if width <= 0 or len(text) <= width else text[: width - 1] + "…"


def to_text(ptype: int, value: Any, *, width: int = 80) -> str:
    """A short human form for tables (``width`` characters at most; 0 for no limit).

    Not always parseable back: long values are cut, PT_APPTIME shows its date-time.
    """
    ptype = model_type(ptype)
    if isinstance(value, t.RawValue):
        # Only as many bytes in hex as can be shown: a 100 MB value must not become 200 MB of text.
        shown = value.data if width <= 0 else value.data[:width]
        return _shorten("raw:" + shown.hex(), width)
    if ptype in t.MV_TYPES:
        import json

        return _shorten(json.dumps(to_json(ptype, value), ensure_ascii=False), width)
    if ptype == t.PT_ERROR:
        return f"0x{int(value) & 0xFFFFFFFF:08X}"
    if ptype == t.PT_BOOLEAN:
        return "true" if value else "false"
    if ptype == t.PT_APPTIME:
        return _apptime_text(float(value))
    if ptype == t.PT_BINARY:
        data = value if isinstance(value, bytes) else bytes(value)
        text = "hex:" + (data if width <= 0 else data[:width]).hex()  # no more hex than is shown
        if width > 0 and len(text) > width:
            suffix = f"… ({len(data)} bytes)"
            text = text[: max(width - len(suffix), 4)] + suffix
        return text
    if ptype == t.PT_UNICODE:
        return _shorten(str(value).replace("\r\n", "\n").replace("\n", "\\n"), width)
    return _shorten(str(to_json(ptype, value)), width)


# --- type inference --------------------------------------------------------------------------


def _infer_scalar(value: Any) -> int:
    if isinstance(value, bool):
        return t.PT_BOOLEAN
    if isinstance(value, t.FileTime):
        return t.PT_SYSTIME
    if isinstance(value, int):
        if -(1 << 31) <= value < 1 << 31:
            return t.PT_LONG
        if -(1 << 63) <= value < 1 << 64:
            return t.PT_I8
        raise InvalidParameter(f"{_show(value)} is too large for a 64-bit integer")
    if isinstance(value, float):
        return t.PT_DOUBLE
    decimal = sys.modules.get("decimal")  # no Decimal can exist before decimal is imported
    if decimal is not None and isinstance(value, decimal.Decimal):
        return t.PT_CURRENCY
    if isinstance(value, str):
        return t.PT_UNICODE
    if isinstance(value, uuid.UUID):
        return t.PT_CLSID
    if isinstance(value, bytes | bytearray):
        return t.PT_BINARY
    raise InvalidParameter(
        f"cannot tell the property type of {_show(value)}",
        hint="give the type, e.g. PT_LONG, or a tag such as 0x8001001F",
    )


def infer_type(value: Any) -> int:
    """The type for a JSON value when the property's type is not known.

    bool -> PT_BOOLEAN; int -> PT_LONG (PT_I8 outside the signed 32-bit range);
    float -> PT_DOUBLE; str -> PT_UNICODE; a list -> the MV form of its items'
    type (ints and floats mixed -> PT_MV_DOUBLE; empty -> PT_MV_UNICODE). Also
    model values: FileTime, Decimal, UUID, bytes.
    """
    if not isinstance(value, list):
        return _infer_scalar(value)
    if not value:
        return t.PT_MV_UNICODE
    kinds = {_infer_scalar(item) for item in value}
    if kinds <= {t.PT_LONG, t.PT_I8}:
        kind = t.PT_I8 if t.PT_I8 in kinds else t.PT_LONG
    elif kinds <= {t.PT_LONG, t.PT_I8, t.PT_DOUBLE}:
        kind = t.PT_DOUBLE
    elif len(kinds) == 1:
        (kind,) = kinds
    else:
        raise InvalidParameter(
            f"cannot tell the property type of {_show(value)}: its items differ in type",
            hint="give the type, e.g. PT_MV_UNICODE, or make the items alike",
        )
    mv = t.MV_FLAG | kind
    if mv not in t.MV_TYPES:
        raise InvalidParameter(f"there is no multi-valued form of {t.type_name(kind)} for {_show(value)}")
    return mv


# --- one value, from any door ----------------------------------------------------------------


def _typed(value: Any) -> bool:
    """``{"type": "PT_I8", "value": 5}``: a value with the type it is to have."""
    return isinstance(value, dict) and set(value) == {"type", "value"}


def _raw(value: Any) -> bool:
    return isinstance(value, dict) and "raw" in value and set(value) <= {"raw", "inline"}


class _IntTooLong(ValueError):
    def __init__(self, digits: int) -> None:
        super().__init__(digits)
        self.digits = digits


def _json_int(word: str) -> int:
    """A JSON integer of a sane length (Python converts at most 4300 digits, MAPI holds 20)."""
    if len(word) > _MAX_INT_CHARS:
        raise _IntTooLong(len(word.lstrip("-")))
    return int(word)


def _json_text(text: str, *, objects_only: bool) -> tuple[bool, Any]:
    """(True, value) when command-line text is JSON that the one value syntax reads as JSON.

    Always: a typed or raw object. When the type is unknown (``objects_only`` False) also an
    array, a number, ``true``/``false`` or a quoted string. Anything else is text.
    """
    word = text.strip()
    if not word or (objects_only and not word.startswith("{")):
        return False, None
    if word[0] not in '{["-0123456789tfIN':
        return False, None
    import json

    try:
        value = json.loads(word, parse_int=_json_int)
    except _IntTooLong as exc:
        if objects_only:
            return False, None
        raise InvalidParameter(f"a number of {exc.digits} digits is too large for a 64-bit integer") from None
    except RecursionError:  # arrays nested thousands deep: JSON, but no value a property holds
        if objects_only:
            return False, None
        raise InvalidParameter("arrays nested thousands deep are no property value") from None
    except ValueError:
        return False, None
    if _typed(value) or _raw(value):
        return True, value
    if objects_only or value is None or isinstance(value, dict):
        return False, None
    return True, value


def _parse_type(text: Any) -> int:
    code = t.parse_type_name(str(text))
    if code is None:
        raise InvalidParameter(
            f"unknown property type {text!r}",
            hint="give a type such as PT_UNICODE, PT_LONG, PT_BOOLEAN, PT_SYSTIME or PT_MV_UNICODE",
        )
    return code


def _check_enum(pdef: PropDef, ptype: int, value: Any) -> None:
    from msgsess.props import registry

    allowed = registry.enum_values(pdef.pid, ptype)
    if allowed is None or isinstance(value, t.RawValue) or value in allowed:
        return
    listed = ", ".join(f"{number} ({meaning})" for number, meaning in allowed.items())
    raise InvalidParameter(
        f"{_show(value)} is not one of {listed}", hint=f"give one of {', '.join(map(str, allowed))}"
    ).at(f"property {pdef.name} ({t.type_name(ptype)})")


#: What to do when a value of a property of no known type does not read as JSON or a number.
_AS_TEXT = "to keep it as text, quote it ('\"…\"') or give --type PT_UNICODE"


def parse_property(
    name: str,
    value: Any,
    *,
    text: bool,
    type_name: str | None = None,
    read_file: ReadFile | None = None,
) -> tuple[PropDef, int, Any]:
    """One property value from any door -> (definition, type, model value): the one value syntax.

    ``text``: ``value`` is command-line text (``add --set``, ``set``), else a JSON value
    (``properties`` of ``add --json``). ``type_name``: ``--type``. The rules (docs/VALUES.md):

    * ``{"type": T, "value": V}`` gives the type, ``{"raw": "base64:…"}`` the bytes, also as text;
    * a type the tables know (or ``--type``) reads the value in that type's syntax, for a
      string any text at all, and checks it: ranges, and the values an enumeration allows;
    * otherwise (an unknown named property, a bare id) a value that is JSON takes its JSON
      type — text that is a number, ``true``, an array or a quoted string included — and
      other text is a string;
    * ``@path`` reads a string or binary value from a file, ``@@`` is a leading ``@``.
    """
    from msgsess.props import registry

    given = _parse_type(type_name) if type_name else None
    where = f"--type {type_name}"
    from_text = text
    if text:
        is_json, parsed = _json_text(value, objects_only=True)
        if is_json:
            value, text = parsed, False
    if _typed(value):
        inner = _parse_type(value["type"])
        if given is not None and model_type(inner) != model_type(given):
            raise InvalidParameter(
                f"--type {type_name} and the value's type {value['type']} differ", hint="give the type once"
            ).at(f"property {name}")
        given, where, value = inner, f"type {t.type_name(inner)}", value["value"]
    if given is not None:
        # A name the tables know has its type: a given type may pick among its rows (PT_STRING8
        # is PT_UNICODE), never contradict them. Hex tags and SET:LID spellings take any type.
        known = registry.table_types(name)
        if known is not None and model_type(given) not in known:
            raise registry.type_mismatch(name, given, where)
    pdef = registry.resolve(name, given)
    ptype = pdef.ptype
    if ptype is None:
        if text:
            try:
                is_json, parsed = _json_text(value, objects_only=False)
            except InvalidParameter as exc:
                exc.hint = _AS_TEXT
                raise exc.at(f"property {name.strip()}") from None
            if is_json:
                value, text = parsed, False
        if text:
            ptype = t.PT_UNICODE
        elif from_text:
            try:
                ptype = infer_type(value)
            except InvalidParameter as exc:
                exc.hint = _AS_TEXT
                raise exc.at(f"property {name.strip()}") from None
        else:
            ptype = infer_type(value)
    shown = name.strip()
    if text:
        model = parse_text(ptype, value, prop=shown, read_file=read_file)
    else:
        model = parse_json(ptype, value, prop=shown, read_file=read_file)
    _check_enum(pdef, model_type(ptype), model)
    return pdef, ptype, model
