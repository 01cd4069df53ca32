"""The exact bytes of MIME entities inside a message, for what must survive byte for byte.

The ``email`` package parses a message into objects and would write it back with its
own line ends and folding; a signature ([RFC 8551] 3.5, multipart/signed) covers the
bytes of the signed part as they were. These helpers find those bytes in the source,
splitting at boundaries the way ``email``'s own parser does.
"""

from __future__ import annotations

import re
from email.message import Message as EmailMessage

_HEAD_END = re.compile(rb"\r?\n\r?\n")


def split_head(data: bytes) -> tuple[bytes, bytes]:
    """(header block without its final line end, body) of one entity."""
    if data.startswith((b"\r\n", b"\n")):
        return b"", data[2 if data.startswith(b"\r\n") else 1 :]
    m = _HEAD_END.search(data)
    if m is None:
        return data, b""
    return data[: m.start()], data[m.end() :]


def split_parts(body: bytes, boundary: str) -> list[bytes] | None:
    """The raw body parts of a multipart entity ([RFC 2046] 5.1.1); None without a closing boundary.

    The line break before each boundary line belongs to the boundary, as the RFC says.
    """
    delimiter = re.compile(
        rb"(?:\r?\n|\A)--"
        + re.escape(boundary.encode("ascii", "surrogateescape"))
        + rb"(--)?[ \t]*(?=\r?\n|\Z)"
    )
    parts: list[bytes] = []
    start: int | None = None
    for m in delimiter.finditer(body):
        if start is not None:
            parts.append(body[start : m.start()])
        if m.group(1):
            return parts
        line_end = body.find(b"\n", m.end())
        start = len(body) if line_end < 0 else line_end + 1
    if start is not None:
        parts.append(body[start:])
        return parts
    return None


def entity_at(raw: bytes, root: EmailMessage, path: list[int]) -> bytes | None:
    """The bytes of the entity reached from ``root`` by child indexes ``path``, or None if unsure."""
    node, current = root, raw
    for index in path:
        boundary = node.get_boundary()
        children = node.get_payload()
        if boundary is None or not isinstance(children, list):
            return None
        pieces = split_parts(split_head(current)[1], boundary)
        if pieces is None or len(pieces) != len(children) or index >= len(pieces):
            return None
        child = children[index]
        if not isinstance(child, EmailMessage):
            return None
        node, current = child, pieces[index]
    return current
