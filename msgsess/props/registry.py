"""Property names: any spelling a user might type -> a property definition, and back.

Accepted spellings (see ``docs/VALUES.md`` for the user-facing list):

* canonical names from [MS-OXPROPS]: ``PidTagSubject``, ``PidLidCategories``,
  ``PidNameKeywords`` (case-insensitive);
* MAPI names: ``PR_SUBJECT``, ``PR_SUBJECT_W``, ``PR_SUBJECT_A`` (a ``_W``/``_A``
  suffix the table does not list is stripped), ``ptagSubject``, ``dispidCategories``;
* a hex property tag ``0x0037001F`` (id and type) or a bare id ``0x0037`` (type from
  the table, or from the caller);
* a named property as ``SET:LID`` or ``SET:name``, where SET is a property set name
  (``PS_PUBLIC_STRINGS``, ``PSETID_Common``… case-insensitive) or a GUID with or
  without braces, and LID is ``0x``-hex or decimal: ``PSETID_Common:0x8514``,
  ``PS_PUBLIC_STRINGS:Keywords``, ``{00062008-0000-0000-C000-000000000046}:0x8514``.
  An unknown set name is NotFound, like an unknown property; a malformed GUID is
  InvalidParameter.

String types: the tables list strings in their Unicode form (0x001F / 0x101F) and a
model string is always ``PT_UNICODE`` ([MS-OXMSG] 2.1.2: the file picks 0x001F or
0x001E), so ``PR_SUBJECT_A`` and ``0x0037001E`` resolve to type 0x001F as well.

The two TSV tables ship as package data (``data/SOURCES.md`` describes them). They
are read on first use only and indexed once per process.
"""

from __future__ import annotations

import os
import re
import uuid
from collections import namedtuple

from msgsess.errors import InvalidParameter, NotFound
from msgsess.props import types as t
from msgsess.props.keys import PROPERTY_SETS, PS_INTERNET_HEADERS, NamedId
from msgsess.records import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple

    from msgsess.props.keys import PropId

__all__ = [
    "PropDef",
    "describe",
    "enum_values",
    "known_names",
    "lookup_named",
    "lookup_tagged",
    "model_type",
    "resolve",
    "table_types",
]


class PropDef(Frozen):
    """What a property name resolves to.

    ``ptype`` is the model type (strings always ``PT_UNICODE``), or None when
    nothing says what the type is (a bare id unknown to the table, an unknown
    named property, with no type given by the caller).
    """

    __slots__ = _fields = __match_args__ = ("pid", "ptype", "name")
    pid: PropId
    ptype: int | None
    name: str

    def __init__(self, pid: PropId, ptype: int | None, name: str) -> None:
        object.__setattr__(self, "pid", pid)
        object.__setattr__(self, "ptype", ptype)
        object.__setattr__(self, "name", name)


def model_type(ptype: int) -> int:
    """The model form of a type code: ANSI strings become Unicode ([MS-OXMSG] 2.1.2)."""
    if ptype == t.PT_STRING8:
        return t.PT_UNICODE
    if ptype == t.PT_MV_STRING8:
        return t.PT_MV_UNICODE
    return ptype


# --- tables ----------------------------------------------------------------------------------


if TYPE_CHECKING:

    class _Row(NamedTuple):
        name: str  # canonical name, or the row's first PR_ name when it has none
        pid: PropId
        ptype: int  # model type

else:  # the same named tuple without importing typing
    _Row = namedtuple("_Row", ["name", "pid", "ptype"])


class _Tables:
    """The two property tables, indexed for lookups by identity and by name.

    Built once per process on first use; kept simple and flat because CLI start-up pays for it.
    The identity indexes (``by_id``, ``by_named``: what ``dump`` needs to name what it shows) are
    built at once; the name indexes (``by_name``, ``canonical``, ``pr_names``: for what users
    type) when first asked for, from the same rows.
    """

    def __init__(self) -> None:
        #: tagged id -> rows in table order
        self.by_id: dict[int, list[_Row]] = {}
        #: named identity -> first row
        self.by_named: dict[NamedId, _Row] = {}
        #: (row, canonical name, alternate names) of each table row, for the name indexes
        self._tagged: list[tuple[_Row, str, str]] = []
        self._named: list[tuple[_Row, str]] = []
        self._names: tuple[dict[str, list[_Row]], dict[str, None], dict[str, None]] | None = None
        self._load_tagged(_read("mapi-properties.tsv"))
        self._load_named(_read("mapi-named-properties.tsv"))

    @property
    def by_name(self) -> dict[str, list[_Row]]:
        """Lower-case spelling -> rows in table order (canonical, PR_, ptag, dispid names)."""
        return self._name_indexes()[0]

    @property
    def canonical(self) -> dict[str, None]:
        """Canonical names, for completion and suggestions (a dict as an ordered set)."""
        return self._name_indexes()[1]

    @property
    def pr_names(self) -> dict[str, None]:
        """PR_ names, for completion and suggestions (a dict as an ordered set)."""
        return self._name_indexes()[2]

    def _load_tagged(self, text: str) -> None:
        for line in text.splitlines()[1:]:
            canonical, pid_hex, type_hex, _tn, alternates, _ = line.split("\t", 5)
            name = canonical
            if not name:
                pr = [a.strip(' "') for a in alternates.split(",") if a.strip(' "')[:3].upper() == "PR_"]
                name = pr[0] if pr else f"0x{pid_hex[2:]}"
            prop_id = int(pid_hex, 16)
            row = _Row(name, prop_id, model_type(int(type_hex, 16)))
            self.by_id.setdefault(prop_id, []).append(row)
            self._tagged.append((row, canonical, alternates))

    def _load_named(self, text: str) -> None:
        guids: dict[str, uuid.UUID] = {}
        for line in text.splitlines()[1:]:
            canonical, pset, lid_or_name, type_hex, _tn, alternates, _ = line.split("\t", 6)
            guid = guids.get(pset)
            if guid is None:
                guid = guids[pset] = uuid.UUID(pset[pset.index("{") + 1 : pset.index("}")])
            if lid_or_name.startswith("0x"):
                named = NamedId(guid, lid=int(lid_or_name, 16))
            else:
                named = NamedId(guid, name=_fold_name(guid, lid_or_name))
            row = _Row(canonical, named, model_type(int(type_hex, 16)))
            self.by_named.setdefault(named, row)
            self._named.append((row, alternates))

    def _name_indexes(self) -> tuple[dict[str, list[_Row]], dict[str, None], dict[str, None]]:
        if self._names is not None:
            return self._names
        by_name: dict[str, list[_Row]] = {}
        canonical_names: dict[str, None] = {}
        pr_names: dict[str, None] = {}

        def index(spelling: str, row: _Row) -> None:
            rows = by_name.get(spelling.lower())
            if rows is None:
                by_name[spelling.lower()] = [row]
            elif rows[-1] is not row:  # one row's aliases are indexed one after another
                rows.append(row)

        for row, canonical, alternates in self._tagged:
            aliases = [a.strip(' "') for a in alternates.split(",")] if alternates else []
            if canonical:
                index(canonical, row)
                canonical_names[canonical] = None
            for alias in aliases:
                if alias[:3].upper() == "PR_" or alias[:4].lower() == "ptag" or alias[:6].lower() == "pidtag":
                    index(alias, row)
            for alias in aliases:
                if alias[:3].upper() == "PR_":
                    pr_names[alias] = None
        for row, alternates in self._named:
            index(row.name, row)
            canonical_names[row.name] = None
            for alias in alternates.split(","):
                alias = alias.strip()
                if alias[:6].lower() == "dispid":
                    index(alias, row)
        self._names = (by_name, canonical_names, pr_names)
        return self._names


def _read(filename: str) -> str:
    # Read beside this module: importlib.resources costs every command that names a property
    # an import of tempfile and shutil. It is the way only where the package is no folder (a zip).
    try:
        with open(os.path.join(os.path.dirname(__file__), "data", filename), encoding="utf-8") as f:
            return f.read()
    except (FileNotFoundError, NotADirectoryError):
        import importlib.resources

        data = importlib.resources.files("msgsess.props").joinpath("data", filename)
        return data.read_text(encoding="utf-8")


_tables: _Tables | None = None


def _get_tables() -> _Tables:
    global _tables
    if _tables is None:
        _tables = _Tables()
    return _tables


def _fold_name(guid: uuid.UUID, name: str) -> str:
    """Header names are case-insensitive; msgsess keeps them lower-case ([MS-OXMSG] 2.2.3.1.2)."""
    return name.lower() if guid == PS_INTERNET_HEADERS else name


# --- name -> PropDef -------------------------------------------------------------------------

_HEX = re.compile(r"0[xX]([0-9A-Fa-f]+)")
_SETS_FOLDED = {k.lower(): v for k, v in PROPERTY_SETS.items()}


def _pick(rows: list[_Row], ptype: int | None) -> _Row:
    """The row matching ``ptype`` if any, else the first one that is not an object."""
    if ptype is not None:
        for row in rows:
            if row.ptype == ptype:
                return row
    for row in rows:
        if row.ptype != t.PT_OBJECT:
            return row
    return rows[0]


def _check_type(ptype: int | None, text: str) -> int | None:
    if ptype is None:
        return None
    if not 0 <= ptype <= 0xFFFF:
        raise InvalidParameter(f"type 0x{ptype:X} is not a 16-bit type code").at(f"property {text!r}")
    return model_type(ptype)


def resolve(name: str, ptype: int | None = None) -> PropDef:
    """Resolve a user's property spelling to a :class:`PropDef`.

    ``ptype`` (from a ``--type`` option, say) picks among several table rows with
    the same name, and gives the type of a bare id or a ``SET:LID`` / ``SET:name``
    (overriding the table's type there: that is how to force another type).

    Raises NotFound for a name that is in neither table or an unknown property set
    name, and InvalidParameter for malformed hex or GUIDs, a type that contradicts a
    hex tag, or a type that contradicts every table row of a name.
    """
    text = name.strip()
    ptype = _check_type(ptype, text)
    if not text:
        raise InvalidParameter("empty property name", hint="give a name such as PidTagSubject or 0x0037001F")

    rows = _rows_of(text)
    if rows is not None:
        if ptype is not None and all(row.ptype != ptype for row in rows):
            raise type_mismatch(text, ptype, f"type {t.type_name(ptype)}")
        row = _pick(rows, ptype)
        return PropDef(row.pid, ptype if ptype is not None else row.ptype, row.name)

    if text[:2].lower() == "0x":
        return _resolve_hex(text, ptype)
    if ":" in text:
        return _resolve_named(text, ptype)
    raise NotFound(f"unknown property {text!r}", hint=_suggest(text))


def _rows_of(text: str) -> list[_Row] | None:
    """The table rows a spelling names by name (canonical, PR_, ptag, dispid), or None."""
    tables = _get_tables()
    rows = tables.by_name.get(text.lower())
    if rows is None and text.upper().startswith("PR_") and text.upper().endswith(("_W", "_A")):
        rows = tables.by_name.get(text[:-2].lower())
    return rows


def table_types(name: str) -> list[int] | None:
    """The model types the tables know for a property spelled by name, or None.

    None for hex tags and ids, ``SET:LID`` / ``SET:name`` spellings and unknown names:
    their type may be given freely.
    """
    rows = _rows_of(name.strip())
    return None if rows is None else list(dict.fromkeys(row.ptype for row in rows))


def type_mismatch(name: str, ptype: int, given: str) -> InvalidParameter:
    """The error for a type (``given``, e.g. ``--type PT_LONG``) that no table row of ``name`` has."""
    rows = _rows_of(name.strip()) or []
    known = " or ".join(dict.fromkeys(t.type_name(row.ptype) for row in rows))
    row = _pick(rows, None) if rows else None
    if row is None:
        hint = "give a type the tables know for it, or leave the type out"
    elif isinstance(row.pid, NamedId):
        hint = f"use its set and LID or name, {row.pid}, to force another type"
    else:
        hint = f"use a hex tag such as 0x{row.pid:04X}{model_type(ptype):04X} to force another type"
    return InvalidParameter(f"property {name.strip()} is {known}; {given} does not fit", hint=hint)


def _resolve_hex(text: str, ptype: int | None) -> PropDef:
    match = _HEX.fullmatch(text)
    digits = match.group(1) if match else ""
    if len(digits) == 8:
        prop_id, tag_type = int(digits[:4], 16), model_type(int(digits[4:], 16))
        if ptype is not None and ptype != tag_type:
            raise InvalidParameter(
                f"the tag says type {t.type_name(tag_type)}, but type {t.type_name(ptype)} was given",
                hint="give a bare id such as 0x0037 with a type, or a tag without one",
            ).at(f"property {text!r}")
        ptype = tag_type
    elif 1 <= len(digits) <= 4:
        prop_id = int(digits, 16)
        if ptype is None:
            rows = _get_tables().by_id.get(prop_id)
            ptype = _pick(rows, None).ptype if rows else None
    else:
        raise InvalidParameter(
            f"malformed property tag {text!r}",
            hint="give a 4-digit id such as 0x0037 or an 8-digit tag such as 0x0037001F",
        )
    return PropDef(prop_id, ptype, describe(prop_id, ptype))


_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
#: What a property set written as a GUID looks like (so that a malformed one is not taken for a name).
_GUID_LIKE = re.compile(r"\{.*|[0-9A-Fa-f]+(?:-[0-9A-Fa-f]*)+\}?")


def _parse_set(text: str, whole: str) -> uuid.UUID:
    guid = _SETS_FOLDED.get(text.lower())
    if guid is not None:
        return guid
    bare = text[1:-1] if text.startswith("{") and text.endswith("}") else text
    if _GUID.fullmatch(bare):
        return uuid.UUID(bare)
    if _GUID_LIKE.fullmatch(text):
        raise InvalidParameter(
            f"malformed GUID {text!r}",
            hint="write a property set GUID as {00062008-0000-0000-C000-000000000046}, braces optional",
        ).at(f"property {whole!r}")
    import difflib  # only on this error path

    close = difflib.get_close_matches(text.lower(), list(_SETS_FOLDED), n=1, cutoff=0.85)
    names = {k.lower(): k for k in PROPERTY_SETS}
    guess = f"did you mean {names[close[0]]}? " if close else ""
    raise NotFound(
        f"unknown property set {text!r}",
        hint=f"{guess}known sets: {', '.join(PROPERTY_SETS)}; or give the set's GUID in braces, "
        "e.g. {00062008-0000-0000-C000-000000000046}",
    ).at(f"property {whole!r}")


def _resolve_named(text: str, ptype: int | None) -> PropDef:
    set_text, _, key = text.partition(":")
    guid = _parse_set(set_text.strip(), text)
    key = key.strip()
    if not key:
        raise InvalidParameter(
            "no LID or name after the property set",
            hint="write SET:0x8514 or SET:Name",
        ).at(f"property {text!r}")
    if key.isdigit():
        lid = int(key)
    elif key[:2].lower() == "0x":
        match = _HEX.fullmatch(key)
        if match is None:
            raise InvalidParameter(f"malformed LID {key!r}", hint="give a hex LID such as 0x8514").at(
                f"property {text!r}"
            )
        lid = int(match.group(1), 16)
    else:
        lid = None
    if lid is not None:
        if lid > 0xFFFFFFFF:
            raise InvalidParameter(f"LID {key} is larger than 32 bits").at(f"property {text!r}")
        named = NamedId(guid, lid=lid)
    else:
        if "\0" in key or any("\ud800" <= c <= "\udfff" for c in key):
            raise InvalidParameter(
                "a property name cannot hold NUL or unpaired surrogates",
                hint="check the shell's encoding (names are Unicode text)",
            ).at(f"property {text!r}")
        named = NamedId(guid, name=_fold_name(guid, key))
    row = _get_tables().by_named.get(named)
    if row is None:
        return PropDef(named, ptype, str(named))
    return PropDef(named, ptype if ptype is not None else row.ptype, row.name)


def _suggest(text: str) -> str:
    import difflib  # only on this error path: keeps CLI start-up short

    tables = _get_tables()
    choices = {n.lower(): n for n in (*tables.canonical, *tables.pr_names)}
    close = difflib.get_close_matches(text.lower(), list(choices), n=3, cutoff=0.75)
    if not close:
        close = difflib.get_close_matches(text.lower(), list(choices), n=3)
    if not close:
        return "give a canonical name such as PidTagSubject, a PR_ name, or a hex tag such as 0x0037001F"
    return "did you mean " + ", ".join(choices[c] for c in close) + "?"


# --- PropDef -> display name -----------------------------------------------------------------


def lookup_tagged(prop_id: int, ptype: int | None) -> str | None:
    """The table's name for a tagged property (of that type, if given), or None.

    The name is the canonical one (``PidTagSubject``), or the PR_ name for the rows
    that only have one.
    """
    rows = _get_tables().by_id.get(prop_id)
    if not rows:
        return None
    if ptype is None:
        return _pick(rows, None).name
    ptype = model_type(ptype)
    for row in rows:
        if row.ptype == ptype:
            return row.name
    return None


def lookup_named(named: NamedId) -> tuple[str, int] | None:
    """Canonical name and model type of a named property the table knows, or None."""
    row = _get_tables().by_named.get(named)
    return None if row is None else (row.name, row.ptype)


def describe(pid: PropId, ptype: int | None = None) -> str:
    """The display name of a property: canonical name, else ``0x0037001F`` / ``SET:0x8514`` / ``SET:name``."""
    if isinstance(pid, NamedId):
        row = _get_tables().by_named.get(pid)
        return row.name if row is not None else str(pid)
    name = lookup_tagged(pid, ptype)
    if name is not None:
        return name
    if ptype is None:
        return f"0x{pid:04X}"
    return f"0x{pid:04X}{model_type(ptype):04X}"


_enums: dict[tuple[PropId, int], dict[int, str]] | None = None


def enum_values(pid: PropId, ptype: int) -> dict[int, str] | None:
    """The values (-> their meaning) an enumerated integer property allows, or None for any value.

    From ``data/enums.tsv``: PidTagImportance 0-2, PidTagSensitivity 0-3, PidLidBusyStatus…
    Only for the type the tables give the property: a hex tag forcing another type is free.
    """
    global _enums
    if _enums is None:
        table: dict[tuple[PropId, int], dict[int, str]] = {}
        for line in _read("enums.tsv").splitlines()[1:]:
            name, value, meaning, _source = line.split("\t")
            prop = resolve(name)
            assert prop.ptype is not None, name
            table.setdefault((prop.pid, prop.ptype), {})[int(value)] = meaning
        _enums = table
    return _enums.get((pid, model_type(ptype)))


def set_names() -> list[str]:
    """The property set names a ``SET:`` spelling takes (for shell completion)."""
    return list(PROPERTY_SETS)


def named_spellings(set_name: str) -> list[str]:
    """``SET:0xLID`` / ``SET:name`` of every named property the tables know in the set
    ``set_name`` (any case; the result keeps the spelling given), for shell completion."""
    guid = _SETS_FOLDED.get(set_name.lower())
    if guid is None:
        return []
    out = []
    for named in _get_tables().by_named:
        if named.guid == guid:
            out.append(
                f"{set_name}:0x{named.lid:04X}" if named.lid is not None else f"{set_name}:{named.name}"
            )
    return sorted(out, key=str.lower)


def known_names() -> list[str]:
    """Canonical names and PR_ names, sorted case-insensitively (for shell completion)."""
    tables = _get_tables()
    return sorted({*tables.canonical, *tables.pr_names}, key=str.lower)
