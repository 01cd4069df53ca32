"""A ``.msg`` file, its path or its bytes, as a decoded :class:`~msgsess.model.Message`.

The one reading path of ``dump``, ``edit``, ``attach --msg``, ``extract`` and ``close``; kept
apart from the session's inputs so that commands that only read a file (``dump``) load the
compound-file reader and the decoder, and nothing of the session.
"""

from __future__ import annotations

from msgsess.errors import out_of_memory

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike

    from msgsess.model import Message


def read_msg(
    data: bytes | bytearray | str | PathLike[str], name: str, codepage: int | None = None
) -> Message:
    """Decode a ``.msg`` file, its bytes or its path; damaged input is one error naming ``name``.

    The compound file is read with the limits for hostile input (:func:`msgsess.cfbreader.read_bytes`,
    or for a path :func:`msgsess.cfbreader.read_file`, which reads the streams without holding the
    whole file), then decoded.
    """
    from msgsess import cfbreader, oxmsg

    if isinstance(data, bytes | bytearray):
        tree = cfbreader.read_bytes(data, name)
    else:
        tree = cfbreader.read_file(data)
    try:
        return oxmsg.decode(tree, codepage=codepage, label=name)
    except MemoryError:
        del tree
        raise out_of_memory(f"decode {name}") from None
