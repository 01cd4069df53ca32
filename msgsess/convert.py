"""Converters between ``.msg`` bytes and MIME mail bytes, and bulk conversion of files.

``eml_to_msg`` and ``msg_to_eml`` are pure functions on bytes: nothing touches the disk, so
a process pool, Dask or Spark can map them over many files (``docs/SCALE.md``). The rest of
this module is ``msgsess convert``: planning outputs for files, folders and mbox archives,
converting each on its own (per-file results, not all or nothing) in worker processes, and
writing every output atomically.
"""

from __future__ import annotations

from pathlib import Path

from msgsess import cfb
from msgsess.errors import Collision
from msgsess.inputs import read_input
from msgsess.mime import eml_to_message, message_to_eml
from msgsess.oxmsg import decode, encode

__all__ = ["eml_to_msg", "export_file", "msg_to_eml"]


def eml_to_msg(data: bytes, *, unicode: bool = True, codepage: int = 1252, name: str = "<bytes>") -> bytes:
    """The MIME message ``data`` as a ``.msg`` file (Unicode, or ANSI strings in ``codepage``).

    Damaged mail converts as well as it can (see :func:`msgsess.mime.eml_to_message` for the
    warnings); bytes that are not mail at all raise :class:`~msgsess.errors.CorruptFile` naming
    ``name``, text an ANSI code page cannot hold :class:`~msgsess.errors.Unconvertible`.
    """
    message, _warnings = eml_to_message(data, label=name)
    return cfb.to_bytes(encode(message, unicode=unicode, codepage=codepage, label=name))


def msg_to_eml(data: bytes, *, crlf: bool = False, name: str = "<bytes>") -> bytes:
    """The ``.msg`` file ``data`` as a MIME message (7-bit; CRLF line ends with ``crlf``).

    Damaged input raises :class:`~msgsess.errors.CorruptFile` naming ``name``.
    """
    message = decode(cfb.read_bytes(data, name), label=name)
    return message_to_eml(message, crlf=crlf, storage_bytes=cfb.to_bytes)


def export_file(source: str, target: Path | None, *, crlf: bool = False, force: bool = False) -> bytes:
    """Export the ``.msg`` at ``source`` as MIME to ``target`` (atomically), or return it when None.

    An existing ``target`` is refused with :class:`~msgsess.errors.Collision` unless ``force``.
    """
    if target is not None and not force and (target.exists() or target.is_symlink()):
        raise Collision(f"{source}: {target} exists", hint="remove it, or give --force to replace it")
    data = msg_to_eml(read_input(source), crlf=crlf, name=source)
    if target is not None:
        cfb.write_bytes_atomic(data, target)
    return data
