"""The records :mod:`msgsess.api` returns, in a module of their own.

``msgsess.api`` gives these names on first use (as ``msgsess.api.SessionInfo`` etc.), so that
the commands that return none of them (``add`` above all) never load this module. They are
plain classes with a dataclass's constructor, repr and equality (:mod:`msgsess.records`):
``check`` returns one, and ``dataclasses`` would cost it more than its own work.
"""

from __future__ import annotations

from msgsess.records import Frozen, Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from msgsess.convert import Result as ConvertResult
    from msgsess.errors import MsgsessError
    from msgsess.oxmsg.check import Finding


class SessionInfo(Frozen):
    """A session's string mode and size."""

    __slots__ = _fields = __match_args__ = ("unicode", "codepage", "messages")
    unicode: bool
    codepage: int
    messages: int

    def __init__(self, unicode: bool, codepage: int, messages: int) -> None:
        object.__setattr__(self, "unicode", unicode)
        object.__setattr__(self, "codepage", codepage)
        object.__setattr__(self, "messages", messages)


class CheckResult(Frozen):
    """What :func:`check` found in one file: its findings, or the error that kept it from being read."""

    __slots__ = _fields = __match_args__ = ("file", "findings", "error")
    file: str
    findings: tuple[Finding, ...]
    error: MsgsessError | None

    def __init__(
        self, file: str, findings: tuple[Finding, ...] = (), error: MsgsessError | None = None
    ) -> None:
        object.__setattr__(self, "file", file)
        object.__setattr__(self, "findings", findings)
        object.__setattr__(self, "error", error)

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


class Conversion(Record):
    """A bulk conversion under way (:func:`convert`): iterate it for one result per input (an
    mbox: per message) as each is done. ``total``: the input files planned (an mbox counts
    once), for a progress bar."""

    _fields = __match_args__ = ("total", "results")

    def __init__(self, total: int, results: Iterator[ConvertResult]) -> None:
        self.total = total
        self.results = results

    def __iter__(self) -> Iterator[ConvertResult]:
        return self.results
