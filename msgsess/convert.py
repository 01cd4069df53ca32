"""Pure converters between ``.msg`` bytes and MIME mail bytes, for the library and any engine.

``msg_to_eml`` decodes a compound file held in memory and writes it as RFC 5322 / MIME;
nothing here touches the disk, so a process pool, Dask or Spark can map these functions
over many files.
"""

from __future__ import annotations

from pathlib import Path

from msgsess import cfb
from msgsess.errors import Collision
from msgsess.inputs import read_input
from msgsess.mime import message_to_eml
from msgsess.oxmsg import decode

__all__ = ["export_file", "msg_to_eml"]


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
