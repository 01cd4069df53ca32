"""Write the shell completion scripts in this folder from click (run after changing commands).

    python completions/generate.py          # rewrite the scripts
    python completions/generate.py --check  # exit 1 when a script is stale

The scripts call back into ``msgsess`` (``_MSGSESS_COMPLETE=<shell>_complete``), which completes
subcommands, options, message ids of the session named on the command line, and property names.
"""

from __future__ import annotations

import sys
from pathlib import Path

from click.shell_completion import get_completion_class

from msgsess.cli.main import cli

HERE = Path(__file__).resolve().parent
#: shell -> file name, as each shell looks for it (bash-completion, zsh fpath, fish).
SCRIPTS = {"bash": "msgsess.bash", "zsh": "_msgsess", "fish": "msgsess.fish"}


def script(shell: str) -> str:
    cls = get_completion_class(shell)
    assert cls is not None, shell
    return cls(cli, {}, "msgsess", "_MSGSESS_COMPLETE").source()


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for shell, name in SCRIPTS.items():
        path = HERE / name
        text = script(shell)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print(f"stale completion scripts: {', '.join(stale)}; run python completions/generate.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
