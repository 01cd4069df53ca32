"""Arguments shared by the subcommands, with their shell completion."""

from __future__ import annotations

import re
import sys
from typing import Any

import click
from click.shell_completion import CompletionItem

from msgsess.cli.output import print_lines as print_lines
from msgsess.cli.output import warning_line as warning_line

#: The SESSION argument every subcommand starts with (a path; completes file names).
session_argument = click.argument("session", type=click.Path(dir_okay=False), metavar="SESSION")


def _given(ctx: click.Context, name: str) -> str | None:
    """A parameter given before the word being completed (the session, the message id)."""
    from msgsess.cli.completion import context_params

    value = context_params(ctx).get(name)
    return value if isinstance(value, str) else None


class MessageId(click.ParamType[str]):
    """A message id of the session; completes from the session file given before it."""

    name = "ID"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        session = _given(ctx, "session")
        if session is None:
            return []
        from msgsess import api
        from msgsess.errors import MsgsessError

        try:
            ids = api.Session(session).ids()
        except MsgsessError:
            return []
        return [CompletionItem(i) for i in ids if i.startswith(incomplete)]


class PropName(click.ParamType[str]):
    """A MAPI property name; completes names from the property tables, property sets (``PS_…:``,
    ``PSETID_…:``, no space after them) and the named properties the tables know in a set."""

    name = "PROP"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        from msgsess import api

        folded = incomplete.lower()
        if ":" in incomplete:
            spellings = api.named_spellings(incomplete.split(":", 1)[0])
            return [CompletionItem(s) for s in spellings if s.lower().startswith(folded)]
        names = [CompletionItem(n) for n in api.property_names() if n.lower().startswith(folded)]
        sets = [
            CompletionItem(f"{s}:", type="nospace")
            for s in api.property_set_names()
            if s.lower().startswith(folded)
        ]
        return names + sets


class PropAssignment(click.ParamType[str]):
    """``PROP=VALUE`` for ``add --set``; completes ``PROP=`` with no space after it (the value follows)."""

    name = "PROP=VALUE"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        if "=" in incomplete:
            return []
        return [
            CompletionItem(item.value if item.type == "nospace" else f"{item.value}=", type="nospace")
            for item in PropName().shell_complete(ctx, param, incomplete)
        ]


class PropType(click.ParamType[str]):
    """A property type name for ``--type``; completes PT_ names."""

    name = "TYPE"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        from msgsess import api

        folded = incomplete.upper()
        return [CompletionItem(n) for n in api.type_names() if n.startswith(folded)]


class RowNumber(click.ParamType[int]):
    """A recipient or attachment number (from 0) of the message given before it; completes the
    numbers the message has, each with what it is (shells that show descriptions show it)."""

    name = "N"

    def __init__(self, table: str) -> None:
        self.table = table

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        return int(click.IntRange(min=0).convert(value, param, ctx))

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        session, msg_id = _given(ctx, "session"), _given(ctx, "msg_id")
        if session is None or msg_id is None:
            return []
        from msgsess import api
        from msgsess.errors import MsgsessError

        try:
            recipients, attachments = api.Session(session).labels(msg_id)
        except MsgsessError:
            return []
        labels = recipients if self.table == "recipients" else attachments
        return [
            CompletionItem(str(n), help=label)
            for n, label in enumerate(labels)
            if str(n).startswith(incomplete)
        ]


class CodePage(click.ParamType[int]):
    """A code page by number or name (``1252``, ``windows-1252``, ``koi8-r``); completes common ones.

    ``ansi``: the code page ANSI strings are written in (the name ``utf-8`` is refused there).
    Errors are msgsess's own (exit 3), as for a number that is no 8-bit code page.
    """

    name = "CP"

    def __init__(self, *, ansi: bool) -> None:
        self.ansi = ansi

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        from msgsess import api

        return api.parse_codepage(str(value), ansi=self.ansi)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        from msgsess import api

        folded = incomplete.lower()
        return [CompletionItem(n) for n in api.codepage_names() if n.startswith(folded)]


MESSAGE_ID = MessageId()
PROP_TYPE = PropType()
RECIPIENT_NUMBER = RowNumber("recipients")
ATTACHMENT_NUMBER = RowNumber("attachments")
#: --codepage of open and close (ANSI strings written), and of edit (ANSI strings read).
ANSI_CODEPAGE = CodePage(ansi=True)
READ_CODEPAGE = CodePage(ansi=False)
PROP_NAME = PropName()
PROP_ASSIGNMENT = PropAssignment()


#: A negative number as a value: ``-1``, ``-0x10``, ``-.5``, ``-2e3``, ``-inf``, ``-Infinity``, ``-nan``.
_NEGATIVE = re.compile(r"-(?:\.?[0-9]|inf(?:inity)?$|nan$)", re.IGNORECASE)


class NegativeValuesCommand(click.Command):
    """A command whose arguments may be negative numbers (``set s m1 PidTagPriority -1``).

    Click reads ``-1`` as an unknown option. Before parsing, this command moves every argument
    to after a ``--``, keeping their order, and every option (with its value) before it, so
    options still go anywhere and a negative number is an argument. A word that starts with
    ``-`` and is no negative number stays an option, so that misspelled options are still
    reported; other values that start with ``-`` need a ``--`` before them, as usual.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value: dict[str, bool] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for opt in (*param.opts, *param.secondary_opts):
                    takes_value[opt] = not param.is_flag and not param.count
        options: list[str] = []
        arguments: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                arguments.extend(args[i:])
                break
            name = arg.split("=", 1)[0] if arg.startswith("--") else arg
            if name in takes_value:
                options.append(arg)
                if takes_value[name] and name == arg:
                    if i >= len(args):  # else click would take the "--" below as its value
                        if ctx.resilient_parsing:  # completing the option's value: no error
                            break
                        raise click.BadOptionUsage(arg, f"Option '{arg}' requires an argument.", ctx=ctx)
                    options.append(args[i])  # the option's value, whatever it looks like
                    i += 1
            elif arg.startswith("-") and arg != "-" and not _NEGATIVE.match(arg):
                options.append(arg)  # an unknown option: click reports it
            else:
                arguments.append(arg)
        return super().parse_args(ctx, [*options, "--", *arguments] if arguments else options)


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()


def chatter(text: str) -> None:
    """A note for a person at a terminal; silent when stderr is not one (scripts, make)."""
    if stderr_is_tty():
        click.echo(text, err=True)
