"""--codepage takes names as well as numbers, wherever it is taken (open, close, edit, JSON source)."""

from __future__ import annotations

import json
from pathlib import Path

import extract_msg
import olefile
import pytest

from msgsess.errors import InvalidParameter
from msgsess.oxmsg.codepages import parse_ansi_codepage, parse_codepage
from tests.conftest import Invoke, Run, one_error


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1252", 1252),
        ("cp1252", 1252),
        ("CP1251", 1251),
        ("windows-1252", 1252),
        ("Windows-1250", 1250),
        ("koi8-r", 20866),
        ("KOI8-U", 21866),
        ("shift_jis", 932),
        ("sjis", 932),
        ("ms932", 932),
        ("euc-jp", 51932),
        ("gb2312", 936),
        ("gbk", 936),
        ("big5", 950),
        ("euc-kr", 949),
        ("latin-1", 28591),
        ("iso-8859-15", 28605),
        ("mac-roman", 10000),
        ("us-ascii", 20127),
        ("utf-8", 65001),
    ],
)
def test_names_give_the_windows_code_page(text: str, number: int) -> None:
    assert parse_codepage(text) == number


@pytest.mark.parametrize("text", ["bogus", "", "rot13", "1252x"])
def test_unknown_names_are_refused_with_examples(text: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_codepage(text)
    assert "windows-1252" in (info.value.hint or "")


def test_utf8_by_name_is_no_ansi_code_page_but_65001_stays() -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_ansi_codepage("utf-8")
    assert "leave out --ansi" in (info.value.hint or "")
    assert parse_ansi_codepage("65001") == 65001
    assert parse_ansi_codepage("koi8-r") == 20866


def _codepage_of(path: Path) -> int:
    with olefile.OleFileIO(str(path)) as ole:
        assert not any(name.endswith("001F") for name in ole.listdir(streams=True, storages=False)[0])
    with extract_msg.openMsg(str(path)) as msg:
        return int(msg.getPropertyVal("3FFD0003"))


def test_open_and_close_take_names(run: Run, workdir: Path) -> None:
    assert run("open", "s", "--ansi", "--codepage", "koi8-r").returncode == 0
    assert run("add", "s", "a.msg", "--subject", "Привет").returncode == 0
    assert run("close", "s").returncode == 0
    assert _codepage_of(workdir / "a.msg") == 20866
    with extract_msg.openMsg(str(workdir / "a.msg")) as msg:
        assert msg.subject == "Привет"

    assert run("open", "t").returncode == 0
    assert run("add", "t", "b.msg", "--subject", "Grüße").returncode == 0
    assert run("close", "t", "--ansi", "--codepage", "windows-1252").returncode == 0
    assert _codepage_of(workdir / "b.msg") == 1252


def test_utf8_name_for_ansi_is_refused_with_a_hint(run: Run, workdir: Path) -> None:
    proc = run("open", "s", "--ansi", "--codepage", "utf-8")
    assert proc.returncode == 3
    assert proc.stderr.count("\n") == 1 and "'utf-8' is Unicode" in proc.stderr
    assert "leave out --ansi" in proc.stderr
    assert not (workdir / "s").exists()
    assert run("open", "s").returncode == 0
    assert run("add", "s", "a.msg", "--subject", "x").returncode == 0
    proc = run("close", "s", "--ansi", "--codepage", "UTF8")
    assert proc.returncode == 3 and "is Unicode" in proc.stderr
    assert not (workdir / "a.msg").exists()


def test_unknown_name_is_one_error_naming_it(invoke: Invoke, workdir: Path) -> None:
    one_error(invoke("open", "s", "--ansi", "--codepage", "klingon"), 3, "'klingon'", "koi8-r")
    assert not (workdir / "s").exists()
    # A name still goes through the 8-bit check of a number.
    one_error(invoke("open", "s", "--ansi", "--codepage", "utf-16"), 3, "code page 1200", "8-bit")


def _ansi_file(invoke: Invoke, workdir: Path) -> Path:
    """An ANSI file in code page 1251 that names no code page (both code-page entries removed)."""
    from msgsess import cfb
    from msgsess.oxmsg import layout

    assert invoke("open", "src", "--ansi", "--codepage", "1251").exit_code == 0
    assert invoke("add", "src", "made.msg", "--subject", "Привет").exit_code == 0
    assert invoke("close", "src").exit_code == 0
    tree = cfb.read_file(workdir / "made.msg")
    stream = tree.entries[layout.PROPERTIES]
    assert isinstance(stream, bytes)
    head, body = stream[: layout.TOP_HEADER.size], stream[layout.TOP_HEADER.size :]
    entries = [body[i : i + 16] for i in range(0, len(body), 16)]
    kept = [e for e in entries if layout.ENTRY.unpack(e)[0] not in (0x3FFD0003, 0x3FDE0003)]
    assert len(kept) == len(entries) - 2
    tree.entries[layout.PROPERTIES] = head + b"".join(kept)
    path = workdir / "cyr.msg"
    path.write_bytes(cfb.to_bytes(tree))
    with extract_msg.openMsg(str(path)) as msg:
        assert msg.getPropertyVal("3FFD0003") is None
    return path


def test_edit_and_json_source_take_names(invoke: Invoke, workdir: Path) -> None:
    path = _ansi_file(invoke, workdir)
    assert invoke("open", "s").exit_code == 0
    assert invoke("edit", "s", str(path), "--out", "e.msg", "--codepage", "windows-1251").exit_code == 0
    spec = {"source": {"file": str(path), "codepage": "cp1251"}, "output": "j.msg"}
    assert invoke("add", "s", "--json", "-", input=json.dumps(spec)).exit_code == 0
    shown = [json.loads(line) for line in invoke("show", "s", "--json").stdout.splitlines()]
    assert [m["source"]["codepage"] for m in shown] == [1251, 1251]
    assert invoke("edit", "s", str(path), "--out", "default.msg").exit_code == 0
    assert invoke("close", "s", "--unicode").exit_code == 0
    with extract_msg.openMsg(str(workdir / "default.msg")) as msg:
        assert msg.subject != "Привет"  # read as 1252, the default
    for name in ("e.msg", "j.msg"):
        with extract_msg.openMsg(str(workdir / name)) as msg:
            assert msg.subject == "Привет"
