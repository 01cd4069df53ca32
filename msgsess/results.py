"""The records :mod:`msgsess.api` returns: plain dataclasses, in a module of their own.

``msgsess.api`` gives these names on first use (as ``msgsess.api.SessionInfo`` etc.), so that
the commands that return none of them (``add`` above all) never import ``dataclasses``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from msgsess.convert import Result as ConvertResult
    from msgsess.errors import MsgsessError
    from msgsess.oxmsg.check import Finding


@dataclass(frozen=True)
class SessionInfo:
    """A session's string mode and size."""

    unicode: bool
    codepage: int
    messages: int


@dataclass(frozen=True)
class CheckResult:
    """What :func:`check` found in one file: its findings, or the error that kept it from being read."""

    file: str
    findings: tuple[Finding, ...] = ()
    error: MsgsessError | None = None

    @property
    def readable(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        """As ``msgsess check --json`` prints it."""
        if self.error is not None:
            return {
                "file": self.file,
                "readable": False,
                "error": self.error.one_line(),
                "exit_code": self.error.exit_code,
            }
        found = [
            {"severity": f.severity, "path": f.path, "rule": f.rule, "message": f.message}
            for f in self.findings
        ]
        return {"file": self.file, "readable": True, "findings": found}


@dataclass
class Conversion:
    """A bulk conversion under way (:func:`convert`): iterate it for one result per input (an
    mbox: per message) as each is done."""

    #: Input files planned (an mbox counts once), for a progress bar.
    total: int
    results: Iterator[ConvertResult]

    def __iter__(self) -> Iterator[ConvertResult]:
        return self.results
