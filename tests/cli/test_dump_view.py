"""How ``msgsess dump`` lays out an outline: plain lines in aligned columns, or a rich tree."""

from __future__ import annotations

import io

from rich.console import Console

from msgsess import api
from msgsess.cli.dump_view import plain_lines, tree
from tests.test_dump import sample


def _shown(level: api.Level, columns: int) -> list[str]:
    console = Console(width=columns, file=io.StringIO(), color_system=None)
    console.print(tree(level, title="mail.msg (Unicode)", columns=columns))
    return console.file.getvalue().splitlines()  # type: ignore[attr-defined]


def test_plain_lines_indent_each_level_below_its_heading() -> None:
    lines = list(plain_lines(api.outline(sample()), 1))
    subject = next(line for line in lines if line.startswith("  PidTagSubject"))
    assert subject.split() == ["PidTagSubject", "0x0037001F", "PT_UNICODE", "flags=0x6", "Hello"]
    assert "  recipient 0" in lines and "  attachment 1: inner subject" in lines
    assert "    embedded message" in lines  # under its attachment
    inner = next(line for line in lines if line.endswith("inner subject") and "PidTagSubject" in line)
    assert inner.startswith("      PidTagSubject")  # the embedded message's own properties, deeper
    top = [line for line in lines if line.startswith("  Pid") and "  0x" in line]
    assert len(top) == 2 and len({line.index("  0x") for line in top}) == 1  # tags in one column


def test_the_tree_shows_every_level_as_tables() -> None:
    lines = _shown(api.outline(sample(), width=160), 160)
    text = "\n".join(lines)
    assert lines[0] == "mail.msg (Unicode)"
    for expected in ("PidTagSubject", "recipient 0", "attachment 1", "embedded message", "inner subject"):
        assert expected in text
    assert any(line.lstrip("│├└─ ").startswith("┃ property") for line in lines)
    assert all(len(line) <= 160 for line in lines)


def test_a_narrow_terminal_puts_each_value_under_its_property() -> None:
    msg = sample()
    msg.props.set(0x0037, 0x001F, "[red]not markup[/] " + "long " * 40)
    lines = _shown(api.outline(msg, width=80), 60)
    assert all(len(line) <= 60 for line in lines), max(lines, key=len)
    at = next(i for i, line in enumerate(lines) if "PidTagSubject  0x0037001F  PT_UNICODE  flags=0x6" in line)
    assert "[red]not markup[/] long" in lines[at + 1] and lines[at + 1].rstrip().endswith("…")
    assert not any("┃ property" in line for line in lines)  # no table: it would leave no room
