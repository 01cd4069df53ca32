"""The manual page ``msgsess(1)``, made from the click commands: what ``--help`` says, in roff.

``completions/generate.py`` writes it to ``docs/msgsess.1`` (installed as
``share/man/man1/msgsess.1``); a test fails when that file is not what the commands say now.
"""

from __future__ import annotations

import inspect

import click

from msgsess.errors import EXIT_CODES

_ENVIRONMENT = {
    "MSGSESS_LOCK_TIMEOUT": "Seconds a command waits for another command's lock before it fails with exit "
    "status 6 (default 30).",
    "MSGSESS_MAX_INPUT": "Most bytes one input file may hold (default 2 GiB); a larger one fails with exit "
    "status 11 before it is read.",
    "SOURCE_DATE_EPOCH": "Seconds since 1970 that close uses as the time now: the same session then gives "
    "byte-identical files.",
}
_SIGNALS = {
    129: "close stopped by SIGHUP; what it wrote is removed",
    130: "interrupted (Ctrl-C); nothing half-done stays",
    141: "the reader of stdout went away",
    143: "close stopped by SIGTERM; what it wrote is removed",
}


def _escape(text: str) -> str:
    """Text as roff reads it literally: backslashes, hyphens, and a dot or quote that starts a line."""
    out = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + out if out[:1] in (".", "'") else out


def _paragraphs(help_text: str) -> list[str]:
    """A command's help as roff: ordinary paragraphs filled, click's ``\\b`` blocks kept as typed."""
    lines: list[str] = []
    for block in inspect.cleandoc(help_text).split("\n\n"):
        block = block.strip("\n")
        if block.startswith("\b"):
            rows = block.split("\n")[1:]
            lines += [".PP", ".nf", *(_escape(row) for row in rows), ".fi"]
        else:
            lines += [".PP", _escape(" ".join(part.strip() for part in block.split("\n")))]
    return lines


def _command(ctx: click.Context, name: str, command: click.Command, aliases: list[str]) -> list[str]:
    sub = click.Context(command, info_name=name, parent=ctx)
    usage = " ".join(command.collect_usage_pieces(sub))
    lines = [f'.SS "{_escape(f"msgsess {name} {usage}".strip())}"']
    if aliases:
        lines += [".PP", _escape(f"Also: msgsess {', msgsess '.join(aliases)}.")]
    lines += _paragraphs(command.help or command.short_help or "")
    for param in command.get_params(sub):
        record = param.get_help_record(sub)
        if record is None or param.name == "help":
            continue
        names, help_text = record
        if help_text or isinstance(param, click.Option):
            lines += [".TP", f"\\fB{_escape(names)}\\fR", _escape(help_text) if help_text else "\\&"]
    return lines


def render() -> str:
    """The whole page."""
    from msgsess.cli.main import COMMANDS, cli

    ctx = click.Context(cli, info_name="msgsess")
    lines = [
        '.TH MSGSESS 1 "" "msgsess" "User Commands"',
        ".SH NAME",
        "msgsess \\- create and edit Outlook .msg files in sessions",
        ".SH SYNOPSIS",
        ".B msgsess",
        "[\\fB\\-\\-debug\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]...",
        ".SH DESCRIPTION",
        *_paragraphs(cli.help or ""),
        ".PP",
        "Every command prints its own help with \\fB\\-\\-help\\fR. Property names and values follow "
        "docs/VALUES.md, the command line in full is docs/CLI.md.",
        ".SH COMMANDS",
    ]
    first: dict[str, str] = {}
    aliases: dict[str, list[str]] = {}
    for name, target in COMMANDS.items():
        if target in first:
            aliases[first[target]].append(name)
        else:
            first[target] = name
            aliases[name] = []
    for name in aliases:
        command = cli.get_command(ctx, name)
        assert command is not None, name
        lines += _command(ctx, name, command, aliases[name])
    lines.append(".SH EXIT STATUS")
    for code, meaning in sorted({**EXIT_CODES, **_SIGNALS}.items()):
        lines += [".TP", f"\\fB{code}\\fR", _escape(meaning)]
    lines.append(".SH ENVIRONMENT")
    for name, meaning in _ENVIRONMENT.items():
        lines += [".TP", f"\\fB{_escape(name)}\\fR", _escape(meaning)]
    lines += [
        ".SH SEE ALSO",
        "The README and docs/CLI.md, docs/VALUES.md and docs/ARCHITECTURE.md of the msgsess sources.",
    ]
    return "\n".join(lines) + "\n"
