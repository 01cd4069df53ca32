"""Name resolution against the shipped property tables."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest

from msgsess.errors import InvalidParameter, NotFound
from msgsess.props import registry
from msgsess.props import types as t
from msgsess.props.keys import (
    PS_INTERNET_HEADERS,
    PS_PUBLIC_STRINGS,
    PSETID_COMMON,
    NamedId,
)
from msgsess.props.registry import PropDef, describe, known_names, lookup_named, lookup_tagged, resolve

SUBJECT = PropDef(0x0037, t.PT_UNICODE, "PidTagSubject")
CATEGORIES = PropDef(NamedId(PS_PUBLIC_STRINGS, lid=0x9000), t.PT_MV_UNICODE, "PidLidCategories")
SMART_NO_ATTACH = PropDef(NamedId(PSETID_COMMON, lid=0x8514), t.PT_BOOLEAN, "PidLidSmartNoAttach")
KEYWORDS = PropDef(NamedId(PS_PUBLIC_STRINGS, name="Keywords"), t.PT_MV_UNICODE, "PidNameKeywords")


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("PidTagSubject", SUBJECT),
        ("pidtagsubject", SUBJECT),
        ("  PidTagSubject ", SUBJECT),
        ("PR_SUBJECT", SUBJECT),
        ("pr_subject", SUBJECT),
        ("PR_SUBJECT_W", SUBJECT),
        ("PR_SUBJECT_A", SUBJECT),  # ANSI name, same model type: strings are PT_UNICODE
        ("ptagSubject", SUBJECT),
        ("0x0037001F", SUBJECT),
        ("0x0037001e", SUBJECT),
        ("0x0037", SUBJECT),
        ("0x37", SUBJECT),
        ("PidTagImportance", PropDef(0x0017, t.PT_LONG, "PidTagImportance")),
        ("PR_MESSAGE_DELIVERY_TIME", PropDef(0x0E06, t.PT_SYSTIME, "PidTagMessageDeliveryTime")),
        ("PidTagRtfCompressed", PropDef(0x1009, t.PT_BINARY, "PidTagRtfCompressed")),
        ("PidLidCategories", CATEGORIES),
        ("dispidCategories", CATEGORIES),
        ("PS_PUBLIC_STRINGS:0x9000", CATEGORIES),
        ("PS_PUBLIC_STRINGS:36864", CATEGORIES),
        ("PSETID_Common:0x8514", SMART_NO_ATTACH),
        ("psetid_common:0x00008514", SMART_NO_ATTACH),
        ("{00062008-0000-0000-C000-000000000046}:0x8514", SMART_NO_ATTACH),
        ("00062008-0000-0000-c000-000000000046:34068", SMART_NO_ATTACH),
        ("PidNameKeywords", KEYWORDS),
        ("PS_PUBLIC_STRINGS:Keywords", KEYWORDS),
    ],
)
def test_resolve_spellings(spelling: str, expected: PropDef) -> None:
    assert resolve(spelling) == expected


def test_pr_name_without_table_suffix_is_stripped() -> None:
    # The openchange rows list PR_IPM_ID only; PR_IPM_ID_W still means that property.
    assert resolve("PR_IPM_ID") == PropDef(0x0018, t.PT_BINARY, "PR_IPM_ID")
    assert resolve("PR_IPM_ID_W") == PropDef(0x0018, t.PT_BINARY, "PR_IPM_ID")


def test_pr_only_row_has_its_pr_name_as_display_name() -> None:
    assert resolve("0x0018") == PropDef(0x0018, t.PT_BINARY, "PR_IPM_ID")
    assert describe(0x0018, t.PT_BINARY) == "PR_IPM_ID"


def test_stray_quotes_in_table_aliases_do_not_hide_a_name() -> None:
    # The table row for PidTagBusiness2TelephoneNumber lists '"""PR_BUSINESS2_TELEPHONE_NUMBER'.
    assert resolve("PR_BUSINESS2_TELEPHONE_NUMBER").name == "PidTagBusiness2TelephoneNumber"
    assert resolve("PR_OFFICE2_TELEPHONE_NUMBER_W").pid == 0x3A1B


def test_bare_id_with_several_rows_picks_first_non_object_row() -> None:
    assert resolve("0x3701") == PropDef(0x3701, t.PT_BINARY, "PidTagAttachDataBinary")
    assert resolve("0x3701", t.PT_OBJECT) == PropDef(0x3701, t.PT_OBJECT, "PidTagAttachDataObject")
    assert resolve("0x3701000D") == PropDef(0x3701, t.PT_OBJECT, "PidTagAttachDataObject")


def test_name_with_two_types_picks_by_type() -> None:
    name = "PidTagAddressBookHomeMessageDatabase"
    assert resolve(name) == PropDef(0x8006, t.PT_UNICODE, name)
    assert resolve(name, t.PT_OBJECT) == PropDef(0x8006, t.PT_OBJECT, name)
    assert resolve("PR_EMS_AB_HOME_MDB_A", t.PT_STRING8) == PropDef(0x8006, t.PT_UNICODE, name)


def test_type_argument_overrides_table_type_of_ids_and_set_spellings() -> None:
    assert resolve("0x0037", t.PT_BINARY) == PropDef(0x0037, t.PT_BINARY, "0x00370102")
    assert resolve("PidTagSubject", t.PT_STRING8) == SUBJECT
    assert resolve("PidNameKeywords", t.PT_MV_STRING8) == KEYWORDS
    assert resolve("PSETID_Common:0x8514", t.PT_LONG) == PropDef(
        SMART_NO_ATTACH.pid, t.PT_LONG, "PidLidSmartNoAttach"
    )


@pytest.mark.parametrize(
    ("spelling", "ptype", "message", "hint"),
    [
        (
            "PidTagSubject",
            t.PT_LONG,
            "property PidTagSubject is PT_UNICODE; type PT_LONG does not fit",
            "use a hex tag such as 0x00370003 to force another type",
        ),
        (
            "PR_SUBJECT_A",
            t.PT_BINARY,
            "property PR_SUBJECT_A is PT_UNICODE; type PT_BINARY does not fit",
            "use a hex tag such as 0x00370102 to force another type",
        ),
        (
            "PidTagAddressBookHomeMessageDatabase",
            t.PT_LONG,
            "property PidTagAddressBookHomeMessageDatabase is PT_OBJECT or PT_UNICODE; "
            "type PT_LONG does not fit",
            "use a hex tag such as 0x80060003 to force another type",
        ),
        (
            "PidLidSmartNoAttach",
            t.PT_LONG,
            "property PidLidSmartNoAttach is PT_BOOLEAN; type PT_LONG does not fit",
            "use its set and LID or name, PSETID_Common:0x8514, to force another type",
        ),
    ],
)
def test_type_contradicting_every_row_of_a_name(spelling: str, ptype: int, message: str, hint: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        resolve(spelling, ptype)
    assert str(info.value) == message
    assert info.value.hint == hint
    assert registry.table_types(spelling) is not None
    assert registry.table_types("0x0037") is None
    assert registry.table_types("PSETID_Common:0x8514") is None


def test_unknown_ids_keep_hex_names() -> None:
    assert resolve("0x4024") == PropDef(0x4024, None, "0x4024")
    assert resolve("0x4024", t.PT_UNICODE) == PropDef(0x4024, t.PT_UNICODE, "0x4024001F")
    assert resolve("0x4024001E") == PropDef(0x4024, t.PT_UNICODE, "0x4024001F")
    assert resolve("0x4024101E") == PropDef(0x4024, t.PT_MV_UNICODE, "0x4024101F")


def test_unknown_named_properties() -> None:
    lid = resolve("PSETID_Common:0x8FFF")
    assert lid == PropDef(NamedId(PSETID_COMMON, lid=0x8FFF), None, "PSETID_Common:0x8FFF")
    custom = resolve("PS_PUBLIC_STRINGS:MyTag", t.PT_UNICODE)
    assert custom == PropDef(
        NamedId(PS_PUBLIC_STRINGS, name="MyTag"), t.PT_UNICODE, "PS_PUBLIC_STRINGS:MyTag"
    )
    guid = uuid.UUID("12345678-1234-1234-1234-123456789ABC")
    other = resolve("{12345678-1234-1234-1234-123456789abc}:Name:with:colons")
    assert other == PropDef(
        NamedId(guid, name="Name:with:colons"), None, "{" + str(guid).upper() + "}:Name:with:colons"
    )


def test_string_names_are_case_sensitive_outside_internet_headers() -> None:
    assert resolve("PS_PUBLIC_STRINGS:keywords").name == "PS_PUBLIC_STRINGS:keywords"
    assert resolve("PS_PUBLIC_STRINGS:keywords").ptype is None


def test_internet_header_names_are_lower_case() -> None:
    custom = resolve("PS_INTERNET_HEADERS:X-Mailer-Version")
    assert custom.pid == NamedId(PS_INTERNET_HEADERS, name="x-mailer-version")
    assert custom.name == "PS_INTERNET_HEADERS:x-mailer-version"
    known = resolve("ps_internet_headers:Content-Class")
    assert known == PropDef(
        NamedId(PS_INTERNET_HEADERS, name="content-class"), t.PT_UNICODE, "PidNameContentClass"
    )
    assert resolve("PidNameContentClass") == known


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(NotFound) as info:
        resolve("PidTagSubjec")
    err = info.value
    assert err.message == "unknown property 'PidTagSubjec'"
    assert err.hint is not None
    assert err.hint.startswith("did you mean PidTagSubject, PidTagSubjectPrefix")
    assert err.exit_code == 4
    assert err.mapi_name == "MAPI_E_NOT_FOUND"


def test_unknown_pr_name_suggests_pr_names_case_insensitively() -> None:
    with pytest.raises(NotFound) as info:
        resolve("pr_subjetc")
    assert info.value.hint is not None
    assert "PR_SUBJECT" in info.value.hint


def test_hopeless_name_gets_a_generic_hint() -> None:
    with pytest.raises(NotFound) as info:
        resolve("zzzzqqqq")
    assert info.value.hint is not None
    assert "0x0037001F" in info.value.hint


@pytest.mark.parametrize(
    ("spelling", "message"),
    [
        ("0x123456", "malformed property tag '0x123456'"),
        ("0x003700", "malformed property tag '0x003700'"),
        ("0xZZ", "malformed property tag '0xZZ'"),
        ("0x", "malformed property tag '0x'"),
        ("0x0037001F00", "malformed property tag '0x0037001F00'"),
        ("{1234}:0x8000", "property '{1234}:0x8000': malformed GUID '{1234}'"),
        (
            "00062008-0000-0000-C000:0x8000",
            "property '00062008-0000-0000-C000:0x8000': malformed GUID '00062008-0000-0000-C000'",
        ),
        (
            "{00062008-0000-0000-C000-00000000004G}:1",
            "malformed GUID '{00062008-0000-0000-C000-00000000004G}'",
        ),
        ("PSETID_Common:", "property 'PSETID_Common:': no LID or name after the property set"),
        ("PSETID_Common:0xG1", "property 'PSETID_Common:0xG1': malformed LID '0xG1'"),
        (
            "PSETID_Common:0x100000000",
            "property 'PSETID_Common:0x100000000': LID 0x100000000 is larger than 32 bits",
        ),
        ("", "empty property name"),
    ],
)
def test_malformed_names(spelling: str, message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        resolve(spelling)
    assert str(info.value).endswith(message)
    assert info.value.exit_code == 3


@pytest.mark.parametrize("spelling", ["PS_NOPE:0x8000", "PSETID_Bogus:Name", "deadbeef:1"])
def test_unknown_property_set_is_not_found(spelling: str) -> None:
    with pytest.raises(NotFound) as info:
        resolve(spelling)
    set_name = spelling.partition(":")[0]
    assert str(info.value) == f"property {spelling!r}: unknown property set {set_name!r}"
    assert info.value.where == (f"property {spelling!r}",)
    assert info.value.exit_code == 4
    hint = info.value.hint or ""
    assert "known sets: PS_MAPI, PS_PUBLIC_STRINGS," in hint and "PSETID_Common" in hint
    assert "{00062008-0000-0000-C000-000000000046}" in hint
    assert "did you mean" not in hint


def test_misspelled_property_set_gets_a_suggestion() -> None:
    with pytest.raises(NotFound) as info:
        resolve("PSETID_Comon:0x8514")
    assert (info.value.hint or "").startswith("did you mean PSETID_Common? known sets:")


def test_tag_type_contradicting_given_type() -> None:
    with pytest.raises(InvalidParameter, match="the tag says type PT_UNICODE, but type PT_LONG was given"):
        resolve("0x0037001F", t.PT_LONG)
    # ANSI and Unicode are the same model type, so no contradiction here.
    assert resolve("0x0037001F", t.PT_STRING8) == SUBJECT


def test_type_outside_16_bits() -> None:
    with pytest.raises(InvalidParameter, match="not a 16-bit type code"):
        resolve("PidTagSubject", 0x10000)


def test_describe() -> None:
    assert describe(0x0037) == "PidTagSubject"
    assert describe(0x0037, t.PT_UNICODE) == "PidTagSubject"
    assert describe(0x0037, t.PT_STRING8) == "PidTagSubject"
    assert describe(0x0037, t.PT_LONG) == "0x00370003"
    assert describe(0x4024) == "0x4024"
    assert describe(0x4024, t.PT_STRING8) == "0x4024001F"
    assert describe(NamedId(PS_PUBLIC_STRINGS, lid=0x9000)) == "PidLidCategories"
    assert describe(NamedId(PSETID_COMMON, lid=0x8FFF)) == "PSETID_Common:0x8FFF"
    assert describe(NamedId(PS_PUBLIC_STRINGS, name="MyTag")) == "PS_PUBLIC_STRINGS:MyTag"
    guid = uuid.UUID("12345678-1234-1234-1234-123456789abc")
    assert describe(NamedId(guid, lid=1)) == "{12345678-1234-1234-1234-123456789ABC}:0x0001"


def test_lookup_tagged() -> None:
    assert lookup_tagged(0x3701, None) == "PidTagAttachDataBinary"
    assert lookup_tagged(0x3701, t.PT_OBJECT) == "PidTagAttachDataObject"
    assert lookup_tagged(0x3701, t.PT_UNICODE) is None
    assert lookup_tagged(0x0037, t.PT_STRING8) == "PidTagSubject"
    assert lookup_tagged(0x4024, None) is None


def test_lookup_named() -> None:
    assert lookup_named(NamedId(PS_PUBLIC_STRINGS, name="Keywords")) == ("PidNameKeywords", t.PT_MV_UNICODE)
    assert lookup_named(NamedId(PS_PUBLIC_STRINGS, name="Nope")) is None


def test_known_names() -> None:
    names = known_names()
    assert len(names) == len(set(names))
    assert names == sorted(names, key=str.lower)
    for name in (
        "PidTagSubject",
        "PR_SUBJECT",
        "PR_SUBJECT_W",
        "PidLidCategories",
        "PidNameKeywords",
        "PR_IPM_ID",
    ):
        assert name in names
    assert not any(name.startswith(("ptag", "dispid", '"')) for name in names)


def test_every_known_name_resolves_and_round_trips_through_describe() -> None:
    for name in known_names():
        found = resolve(name)
        if name.startswith(("PidTag", "PidLid", "PidName")):
            assert found.name == name
        assert found.ptype is not None
        again = resolve(describe(found.pid, found.ptype), found.ptype)
        assert again.pid == found.pid
        assert again.ptype == found.ptype


def test_resolved_types_are_model_types() -> None:
    # The table lists a few rows as PtypString8; the model never holds PT_STRING8.
    types = {resolve(name).ptype for name in known_names()}
    assert t.PT_STRING8 not in types
    assert t.PT_MV_STRING8 not in types


def test_table_load_is_fast() -> None:
    start = time.perf_counter()
    tables = registry._Tables()
    elapsed = time.perf_counter() - start
    assert len(tables.by_named) >= 550
    assert sum(len(rows) for rows in tables.by_id.values()) == 1763
    # Measured at 5-10 ms; a loose bound keeps busy CI machines from flaking.
    assert elapsed < 0.25


def test_tables_load_lazily() -> None:
    code = (
        "import sys, msgsess.props.registry as r\n"
        "assert r._tables is None\n"
        "r.describe(0x37)\n"
        "assert r._tables is not None\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout.strip() == "ok"
