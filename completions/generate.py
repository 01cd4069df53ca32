"""Write the files made from the commands (run after changing or rebasing commands).

    python completions/generate.py          # rewrite them
    python completions/generate.py --check  # exit 1 when one is stale

* ``completions/msgsess.bash``, ``_msgsess``, ``msgsess.fish``: the shell completion scripts
  (``msgsess.cli.completion``), and the same text in the package, ``msgsess/cli/completions/``,
  which ``msgsess completion SHELL`` prints;
* ``docs/msgsess.1``: the manual page (``msgsess.cli.manpage``), installed in share/man/man1.

The scripts call back into ``msgsess`` (``_MSGSESS_COMPLETE=<shell>_complete``), which completes
subcommands, options, message ids of the session named on the command line, property names and
property sets, attachment and recipient numbers, types and code pages.
"""

from __future__ import annotations

import sys
from pathlib import Path

from msgsess.cli import completion, manpage
from msgsess.cli.main import cli

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PACKAGE = ROOT / "msgsess" / "cli" / "completions"


def outputs() -> dict[Path, str]:
    """Each generated file and what it must hold."""
    files: dict[Path, str] = {}
    for shell, name in completion.SCRIPTS.items():
        text = completion.script(shell, cli)
        files[HERE / name] = text
        files[PACKAGE / name] = text
    files[ROOT / "docs" / "msgsess.1"] = manpage.render()
    return files


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, text in outputs().items():
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale generated files: {', '.join(stale)}; run python completions/generate.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
