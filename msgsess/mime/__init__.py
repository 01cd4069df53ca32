"""MIME mail <-> the message model, pure: bytes in, bytes out, no files, no sessions.

* :func:`message_to_eml` writes a model ``Message`` as RFC 5322 / MIME ([MS-OXCMAIL]).

The mapping, and where it deviates from the specifications, is documented in ``docs/EML.md``.
"""

from __future__ import annotations

from msgsess.mime.writer import message_to_eml

__all__ = ["message_to_eml"]
