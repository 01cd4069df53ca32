"""The ``msgsess`` command: a click group whose subcommands load on demand.

Common invocations of ``open``, ``add``, ``edit``, ``dump`` and ``check`` start without click
(``cli/fast.py``, the console script's entry); everything else, and anything those do not read
exactly as click would, comes here. Errors become exit codes here (and through the same
``cli/output.py`` there): a :class:`~msgsess.errors.MsgsessError`
prints one line on stderr, ``msgsess: error: <message> (<hint>)``, and exits with the code of its
class (``msgsess.errors.EXIT_CODES``); click's usage errors (unknown option, missing argument, bad
choice, conflicting options…) print one line too, ``msgsess: error: <click's message> (see 'msgsess
CMD --help')``, and exit 2; anything unexpected prints one line and exits 1, with a traceback only
under ``--debug``.

Subcommands live in their own modules, imported only when run (or when completing).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from msgsess.cli.output import error_line as error_line
from msgsess.cli.output import failure, usage_text
from msgsess.errors import MsgsessError, WriteFailed

#: Subcommand name -> "module:attribute", in the order ``--help`` lists them.
COMMANDS: dict[str, str] = {
    "open": "msgsess.cli.cmd_open:open_cmd",
    "add": "msgsess.cli.cmd_add:add_cmd",
    "recipient": "msgsess.cli.cmd_edit:recipient_cmd",
    "attach": "msgsess.cli.cmd_edit:attach_cmd",
    "detach": "msgsess.cli.cmd_edit_msg:detach_cmd",
    "set": "msgsess.cli.cmd_edit:set_cmd",
    "unset": "msgsess.cli.cmd_edit:unset_cmd",
    "show": "msgsess.cli.cmd_show:show_cmd",
    "close": "msgsess.cli.cmd_close:close_cmd",
    "discard": "msgsess.cli.cmd_open:discard_cmd",
    "rm": "msgsess.cli.cmd_rm:rm_cmd",
    "remove": "msgsess.cli.cmd_rm:rm_cmd",
    "output": "msgsess.cli.cmd_output:output_cmd",
    "edit": "msgsess.cli.cmd_edit_msg:edit_cmd",
    "dump": "msgsess.cli.cmd_dump:dump_cmd",
    "check": "msgsess.cli.cmd_dump:check_cmd",
    "extract": "msgsess.cli.cmd_extract:extract_cmd",
    "export": "msgsess.cli.cmd_export:export_cmd",
    "import": "msgsess.cli.cmd_import:import_cmd",
    "convert": "msgsess.cli.cmd_convert:convert_cmd",
    "completion": "msgsess.cli.cmd_completion:completion_cmd",
}

#: Short help per subcommand, so that ``msgsess --help`` imports no subcommand module.
SHORT_HELP: dict[str, str] = {
    "open": "Create a session file.",
    "add": "Add a message (flags, or --json) and print its id.",
    "recipient": "Add To/Cc/Bcc recipients to a message.",
    "attach": "Attach files, a session message or a .msg file; print the numbers.",
    "detach": "Remove an attachment from a message.",
    "set": "Set a MAPI property of a message, recipient or attachment.",
    "unset": "Remove a MAPI property (and the default msgsess would set).",
    "show": "Show a session's messages (a tree, or --json).",
    "close": "Write every message to its .msg output, all or nothing.",
    "discard": "Remove a session without writing anything.",
    "rm": "Remove messages from a session (alias: remove).",
    "remove": "Remove messages from a session (same as rm).",
    "output": "Print or change the output of a message.",
    "edit": "Add an existing .msg file to change; close writes it back.",
    "dump": "Show every property of a .msg file (a tree, or --json).",
    "check": "Check .msg files against MS-OXMSG's structure rules.",
    "extract": "Write the attachments of a .msg file into a folder.",
    "export": "Write .msg files as MIME mail (.eml).",
    "import": "Add MIME mail (.eml files, folders, mbox) to a session.",
    "convert": "Convert many mail files: .eml and mbox to .msg, .msg to .eml.",
    "completion": "Print the shell completion script (bash, zsh, fish).",
}


def usage_line(exc: click.ClickException, command: str | None = None) -> str:
    """Click's message of a usage error as one line, pointing at the command's ``--help``.

    ``command``: the subcommand being run, for errors click raises without their context (an
    option missing its value: ``add --subject``), which must still point at ``msgsess add --help``.
    """
    names = []
    ctx = exc.ctx if isinstance(exc, click.UsageError) else None
    while ctx is not None and ctx.parent is not None:  # the root is msgsess, however it was called
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    if not names and command is not None and getattr(exc, "ctx", None) is None:
        names = [command]
    return usage_text(exc.format_message(), list(reversed(names)))


def did_you_mean(name: str) -> list[str]:
    """Commands a mistyped one may have meant: those it begins, then those it resembles."""
    import difflib

    starts = [c for c in COMMANDS if c.startswith(name)] if name else []
    like = difflib.get_close_matches(name, list(COMMANDS), n=3, cutoff=0.7)
    return list(dict.fromkeys([*starts, *like]))[:3]


#: ``msgsess`` alone prints its help through this usage error (click >= 8.2): that stays as it is.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def _is_help(exc: click.ClickException) -> bool:
    return isinstance(exc, _NO_ARGS_IS_HELP)


class LazyGroup(click.Group):
    """A group that imports a subcommand's module when it is looked up, and maps errors."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and name not in COMMANDS and not name.startswith("-"):
            guesses = did_you_mean(name)
            if guesses:
                meant = " or ".join(f"'{g}'" for g in guesses)
                raise click.UsageError(f"No such command '{name}'. Did you mean {meant}?", ctx)
        cmd_name, command, rest = super().resolve_command(ctx, args)
        ctx.meta["msgsess.command"] = cmd_name
        return cmd_name, command, rest

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl(list(SHORT_HELP.items()))

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        # The group's own options and arguments (`msgsess --bogus`) are parsed here, before invoke.
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            if _is_help(exc):
                raise
            error_line(usage_line(exc))
            raise click.exceptions.Exit(exc.exit_code) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return self._invoke(ctx)
        except MemoryError:
            pass  # reported below, once the frames that held the memory are gone
        ctx.exit(failure(MemoryError(), ctx.invoked_subcommand))

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MsgsessError as exc:
            ctx.exit(failure(exc, ctx.invoked_subcommand))
        except click.ClickException as exc:
            # Usage errors of a subcommand (unknown option, missing argument, bad choice, options
            # that conflict) and click's other errors: one line, like every other error.
            if _is_help(exc):
                raise
            if isinstance(exc, click.UsageError):
                error_line(usage_line(exc, ctx.meta.get("msgsess.command")))
            else:
                error_line(exc.format_message())
            ctx.exit(exc.exit_code)
        except click.exceptions.Exit:
            raise
        except click.Abort:
            ctx.exit(failure(KeyboardInterrupt(), ctx.invoked_subcommand))
        except MemoryError:
            raise
        except Exception as exc:
            if ctx.meta.get("msgsess.debug") and not isinstance(exc, OSError):
                raise
            # Ctrl-C, a reader of stdout gone away, stdout not writable, an internal error.
            ctx.exit(failure(exc, ctx.invoked_subcommand))
        except KeyboardInterrupt as exc:
            ctx.exit(failure(exc, ctx.invoked_subcommand))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show a traceback for unexpected errors.")
@click.version_option(package_name="msgsess", prog_name="msgsess")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Build Outlook .msg files in sessions, safely under make -j.

    \b
    A session is one file holding messages that are not .msg files yet;
    `close` writes them all at once, or none.

    \b
    Example:
      msgsess open s.session
      msgsess add s.session out/hello.msg --subject Hi --to 'Bob <bob@example.com>'
      msgsess close s.session
    """
    ctx.meta["msgsess.debug"] = debug


def main() -> None:
    """Console script entry point."""
    if sys.stdout is None:
        # Started with stdout closed (`msgsess add … >&-`): ids would be lost after the change
        # is made, so refuse before doing anything.
        error_line("stdout is closed; ids and data printed there would be lost")
        sys.exit(WriteFailed.exit_code)
    if "_MSGSESS_COMPLETE" in os.environ:
        from msgsess.cli.completion import register

        register()  # msgsess's own bash, zsh and fish protocol (no space after --set NAME=…)
    for stream in (sys.stdout, sys.stderr):
        # Nothing printed may crash on, or pass through, text that is no Unicode (an unpaired
        # surrogate): every output escapes it, and this is the net under them. Under the C
        # locale Python would write such characters as raw bytes: invalid UTF-8.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    cli(prog_name="msgsess")
