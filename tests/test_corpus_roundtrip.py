"""Lossless import: every corpus file, decoded and re-encoded, keeps every property.

The original and the copy are compared with extract-msg, a reader we did not
write, level by level: the message, each recipient, each attachment and every
embedded message below it. Named properties are compared by their
(property set, LID or name) identity, which extract-msg resolves from each
file's own ``__nameid_version1.0``, since msgsess may renumber their ids.

Normalisations, each a fact of the format rather than a tolerance:
- single-valued strings compare without trailing NULs: MS-OXMSG strings are
  NUL-terminated, so a NUL is never part of a value (some Outlook builds keep the
  terminator inside the stream, [oxmsg-facts] §3.4);
- fixed-length values compare as extract-msg parses them (unused bytes of the
  8-byte field are garbage in Outlook's files and must be written as 0);
- an ANSI copy may add PR_MESSAGE_CODEPAGE / PR_INTERNET_CPID with the code page
  its 8-bit strings are in, which the encoder records by design (pitfalls: ANSI
  files must record their code page).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from msgsess import cfb, oxmsg
from msgsess.oxmsg.check import check, errors

extract_msg = pytest.importorskip("extract_msg")
from extract_msg.msg_classes import Message as _EMMessage  # noqa: E402
from extract_msg.msg_classes import MSGFile as _EMFile  # noqa: E402

pytestmark = pytest.mark.usefixtures("quiet_extract_msg")

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"
FILES = sorted(CORPUS.rglob("*.msg")) if CORPUS.is_dir() else []

#: Properties an ANSI copy may add: PR_MESSAGE_CODEPAGE, PR_INTERNET_CPID.
_MV_VARIABLE = {0x101E, 0x101F, 0x1102}

#: Corpus files whose round trip fails because of a codec bug (path -> reason).
KNOWN_BUGS: dict[str, str] = {}


def _params(known: dict[str, str] | None = None) -> list[Any]:
    if not FILES:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no corpus at {CORPUS}"))]
    out = []
    for path in FILES:
        rel = path.relative_to(CORPUS).as_posix()
        known = known or {}
        marks = [pytest.mark.xfail(strict=True, reason=known[rel])] if rel in known else []
        out.append(pytest.param(path, id=rel, marks=marks))
    return out


def _copy(path: Path, tmp_path: Path) -> Path:
    msg = oxmsg.decode(cfb.read_file(path))
    tree = oxmsg.encode(msg, unicode=bool(msg.source_unicode), codepage=msg.source_codepage or 1252)
    out = tmp_path / "copy.msg"
    cfb.write_atomic(tree, out)
    return out


# --------------------------------------------------------------------------- reading with extract-msg


def _strip_nul(data: bytes, unit: int) -> bytes:
    while len(data) >= unit and data[-unit:] == bytes(unit):
        data = data[:-unit]
    return data


def _level(obj: Any, named: Any) -> dict[Any, Any]:
    """Every property entry of one level: identity -> (flags, value) as extract-msg reads them."""
    out: dict[Any, Any] = {}
    for name in obj.props:
        prop = obj.props[name]
        pid, ptype = prop.propertyID, prop.type
        key: Any = f"{pid:04X}{ptype:04X}"
        if pid >= 0x8000:
            identity = named.getPropNameByStreamID(pid)
            assert identity is not None, f"named id 0x{pid:04X} is not in the map"
            key = (identity, ptype)
        stream = f"__substg1.0_{name}"
        value: Any
        if hasattr(prop, "value"):
            value = ("fixed", prop.value)
        elif ptype == 0x000D:
            value = ("object",)
        elif ptype in _MV_VARIABLE:
            lengths = obj.getStream(stream)
            step = 8 if ptype == 0x1102 else 4
            count = len(lengths) // step if lengths is not None else -1
            unit = 2 if ptype == 0x101F else 1
            items = []
            for index in range(count):
                item = obj.getStream(f"{stream}-{index:08X}")
                items.append(item if ptype == 0x1102 or item is None else _strip_nul(item, unit))
            value = ("mv", items)
        else:
            data = obj.getStream(stream)
            if data is not None and ptype in (0x001E, 0x001F):
                data = _strip_nul(data, 2 if ptype == 0x001F else 1)
            value = ("stream", data)
        out[key] = (int(prop.flags), value)
    return out


def _tree(obj: Any, named: Any, where: str = "message") -> dict[str, dict[Any, Any]]:
    """Levels of a message (and everything below it) keyed by a readable path."""
    levels = {where: _level(obj, named)}
    for index, rcpt in enumerate(obj.recipients if hasattr(obj, "recipients") else []):
        levels[f"{where}/recipient {index}"] = _level(rcpt, named)
    for index, att in enumerate(obj.attachments):
        apath = f"{where}/attachment {index}"
        levels[apath] = _level(att, named)
        data = getattr(att, "data", None)
        if isinstance(data, _EMFile):
            levels.update(_tree(data, named, f"{apath}/embedded"))
    return levels


def _differences(
    before: dict[str, dict[Any, Any]], after: dict[str, dict[Any, Any]]
) -> list[tuple[str, Any, str]]:
    """(level, property key, what happened) for every property that differs."""
    problems: list[tuple[str, Any, str]] = []
    for level, props in before.items():
        got = after.get(level, {})
        for key in sorted(set(props) | set(got), key=str):
            if key not in got:
                problems.append((level, key, "lost"))
            elif key not in props:
                problems.append((level, key, f"added ({got[key]!r:.80})"))
            elif props[key] != got[key]:
                problems.append((level, key, f"changed: {props[key]!r:.120} -> {got[key]!r:.120}"))
    return problems


def _read_levels(path: Path) -> dict[str, dict[Any, Any]]:
    # Message, not openMsg: the class-specific readers (signed mail) hide attachments.
    msg = _EMMessage(str(path))
    try:
        return _tree(msg, msg.named)
    finally:
        msg.close()


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("path", _params(KNOWN_BUGS))
def test_round_trip_keeps_every_property(path: Path, tmp_path: Path) -> None:
    """No property added, lost or changed — ANSI files included (no code page is added to them)."""
    copy = _copy(path, tmp_path)
    before = _read_levels(path)
    after = _read_levels(copy)
    assert list(before) == list(after), "levels differ (recipients, attachments, embedded messages)"
    problems = []
    for level, key, what in _differences(before, after):
        problems.append(f"{level}: {key} {what}")
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("path", _params())
def test_ansi_strings_keep_their_bytes(path: Path, tmp_path: Path) -> None:
    """8-bit strings come back byte for byte in the source's code page (CP932 files without one too)."""
    source = oxmsg.decode(cfb.read_file(path))
    if source.source_unicode:
        pytest.skip("Unicode file")
    original = cfb.read_file(path)
    copied = cfb.read_file(_copy(path, tmp_path))

    def strings(tree: Any) -> dict[str, bytes]:
        return {
            p: _strip_nul(data, 1)
            for p, data in tree.walk()
            if isinstance(data, bytes) and p.endswith("001E") and "__substg1.0_8" not in p
        }

    assert strings(original) == strings(copied)


@pytest.mark.parametrize("path", _params())
def test_check_finds_no_errors_in_original_or_copy(path: Path, tmp_path: Path) -> None:
    found = [str(f) for f in errors(check(cfb.read_file(path)))]
    if path.name == "charset.msg":  # not written by Outlook: its root has no CLSID, which the copy gets
        assert len(found) == 1 and "the root storage has no CLSID" in found[0]
    else:
        assert found == []
    assert [str(f) for f in errors(check(cfb.read_file(_copy(path, tmp_path))))] == []


@pytest.mark.skipif(not FILES, reason=f"no corpus at {CORPUS}")
def test_comparison_sees_a_changed_value_and_a_lost_named_property(tmp_path: Path) -> None:
    """The comparison above is not vacuous: a change made on purpose shows up."""
    path = CORPUS / "msgreader" / "msgInMsg.msg"
    msg = oxmsg.decode(cfb.read_file(path))
    named = next(pid for pid in msg.props if not isinstance(pid, int))
    del msg.props[named]
    msg.props.set(0x0037, 0x001F, "something else")
    out = tmp_path / "changed.msg"
    cfb.write_atomic(oxmsg.encode(msg), out)
    problems = _differences(_read_levels(path), _read_levels(out))
    assert ("message", "0037001F") in {(level, key) for level, key, what in problems if "changed" in what}
    lost = [key for level, key, what in problems if what == "lost" and level == "message"]
    assert len(lost) == 1
    assert isinstance(lost[0], tuple)  # a named property, keyed by its (set, LID/name) identity
