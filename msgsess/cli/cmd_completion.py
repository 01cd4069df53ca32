"""``msgsess completion``: print the shell completion script msgsess ships."""

from __future__ import annotations

import click


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]), metavar="bash|zsh|fish")
def completion_cmd(shell: str) -> None:
    """Print the completion script for SHELL.

    It completes commands, options, message ids of the session on the
    command line, property names and sets (--set NAME= waits for the
    value), attachment and recipient numbers, types and code pages.

    \b
    To turn it on, add one line to your shell's start-up file:
      bash (~/.bashrc):    eval "$(msgsess completion bash)"
      zsh  (~/.zshrc):     eval "$(msgsess completion zsh)"   # after compinit
      fish: msgsess completion fish > ~/.config/fish/completions/msgsess.fish

    \b
    Example:
      msgsess completion bash > ~/.local/share/bash-completion/completions/msgsess
    """
    from msgsess.cli.completion import shipped

    click.echo(shipped(shell), nl=False)
