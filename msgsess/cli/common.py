"""Arguments shared by the subcommands, with their shell completion."""

from __future__ import annotations

import sys
from typing import Any

import click
from click.shell_completion import CompletionItem

#: The SESSION argument every subcommand starts with (a path; completes file names).
session_argument = click.argument("session", type=click.Path(dir_okay=False), metavar="SESSION")


def _session_of(ctx: click.Context) -> str | None:
    session = ctx.params.get("session")
    return session if isinstance(session, str) else None


class MessageId(click.ParamType[str]):
    """A message id of the session; completes from the session file given before it."""

    name = "ID"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        session = _session_of(ctx)
        if session is None:
            return []
        from msgsess.errors import MsgsessError
        from msgsess.session import message_ids

        try:
            ids = message_ids(session)
        except MsgsessError:
            return []
        return [CompletionItem(i) for i in ids if i.startswith(incomplete)]


class PropName(click.ParamType[str]):
    """A MAPI property name; completes from the property tables."""

    name = "PROP"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        from msgsess.props import registry

        folded = incomplete.lower()
        return [CompletionItem(n) for n in registry.known_names() if n.lower().startswith(folded)]


class PropAssignment(click.ParamType[str]):
    """``PROP=VALUE`` for ``add --set``; completes the property name."""

    name = "PROP=VALUE"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        if "=" in incomplete:
            return []
        return [
            CompletionItem(f"{item.value}=", type="plain")
            for item in PropName().shell_complete(ctx, param, incomplete)
        ]


MESSAGE_ID = MessageId()
PROP_NAME = PropName()
PROP_ASSIGNMENT = PropAssignment()


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()


def chatter(text: str) -> None:
    """A note for a person at a terminal; silent when stderr is not one (scripts, make)."""
    if stderr_is_tty():
        click.echo(text, err=True)


def print_lines(values: list[Any]) -> None:
    for value in values:
        click.echo(value)
