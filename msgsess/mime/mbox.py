"""mbox archives, read one message at a time (pure: the caller opens the file).

An mbox is messages one after another, each starting with a ``From `` line (the
envelope sender and date). Lines of a message that begin with ``From `` were
escaped by the writer with ``>``: mboxrd escapes ``>From `` too (so one ``>`` is
removed from every ``>…>From `` line), mboxo escapes only ``From `` (so only
``>From `` loses its ``>``). A line starting with ``From `` splits only after an
empty line (or at the start), and only if it looks like a From line, which is
what keeps unescaped body text from splitting a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO

#: ``From sender date``: a sender (may be empty, MAILER-DAEMON, "a b"@c…) and something with a time.
_FROM_LINE = re.compile(rb"^From \S*.*\d{1,2}:\d{2}")
_ESCAPED_RD = re.compile(rb"^>(>*From )")
_ESCAPED_O = re.compile(rb"^>(From )")


def is_from_line(line: bytes) -> bool:
    """Whether ``line`` starts a message in an mbox."""
    return _FROM_LINE.match(line) is not None


def looks_like_mbox(head: bytes) -> bool:
    """Whether a file starting with ``head`` is an mbox (its first line is a From line)."""
    return is_from_line(head.split(b"\n", 1)[0])


def iter_mbox(stream: BinaryIO | Iterable[bytes], *, variant: str = "mboxrd") -> Iterator[bytes]:
    """The messages of an mbox, as bytes without their From line, one at a time.

    ``variant`` is ``"mboxrd"`` (default; undoes ``>From`` and ``>>From``…) or ``"mboxo"``.
    Memory holds one message, never the archive.
    """
    if variant not in ("mboxrd", "mboxo"):
        raise ValueError(f"unknown mbox variant {variant!r}")
    unescape = _ESCAPED_RD if variant == "mboxrd" else _ESCAPED_O
    lines: list[bytes] = []
    started = False
    blank_before = True
    for line in stream:
        if blank_before and is_from_line(line):
            if started:
                yield _finish(lines)
            lines = []
            started = True
            blank_before = False
            continue
        blank_before = line in (b"\n", b"\r\n")
        if not started:
            continue  # text before the first From line belongs to no message
        if line.startswith(b">"):
            line = unescape.sub(rb"\1", line)
        lines.append(line)
    if started:
        yield _finish(lines)


def _finish(lines: list[bytes]) -> bytes:
    """A message's bytes: the empty line the mbox put before the next From line is not its own."""
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]
    return b"".join(lines)
