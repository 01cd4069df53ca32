"""Fields of a mail that are checked without composing it: addresses (``Name <addr>``), the
names of importance and sensitivity.

Light on purpose (no model, no property tables): ``add`` checks a plain new mail with these
alone (:func:`msgsess.session.usecases.surely_composable`), and the composer builds with them.
"""

from __future__ import annotations

import re
from functools import lru_cache

from msgsess.errors import InvalidParameter

#: ``--importance`` / ``"importance"`` -> PR_IMPORTANCE.
IMPORTANCE = {"low": 0, "normal": 1, "high": 2}
#: ``--sensitivity`` / ``"sensitivity"`` -> PR_SENSITIVITY.
SENSITIVITY = {"normal": 0, "personal": 1, "private": 2, "confidential": 3}

_ADDR_SPEC = re.compile(r"^[^\s@<>(),;:\"\[\]]+@[^\s@<>(),;:\"\[\]]+$")


@lru_cache(maxsize=256)
def parse_address(text: str) -> tuple[str, str]:
    """``Name <user@example.com>`` or ``user@example.com`` -> (display name, address).

    Cached: a batch of messages names the same senders again and again."""
    raw = text.strip()
    name, addr = "", raw
    if raw.endswith(">") and "<" in raw:
        cut = raw.rindex("<")
        name, addr = raw[:cut].strip(), raw[cut + 1 : -1].strip()
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = name[1:-1].replace('\\"', '"')
    if addr.lower().startswith("mailto:"):
        addr = addr[7:]
    if "<" in name or ">" in name:
        # "Bob <bob@x>, Carol <carol@x>": several addresses in one; taking the last would drop Bob.
        raise InvalidParameter(
            f"{text!r} holds more than one address",
            hint="give each address on its own (repeat --to, or one list item each)",
        )
    if not _ADDR_SPEC.match(addr):
        raise InvalidParameter(
            f"{text!r} is not an e-mail address",
            hint="write 'Display Name <user@example.com>' or 'user@example.com'",
        )
    return name or addr, addr
