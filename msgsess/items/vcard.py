"""vCard (2.1, 3.0, 4.0) <-> contact specs. The grammar is the ``vobject`` package's."""

from __future__ import annotations

import base64
import logging
import re
from typing import Any

from msgsess.errors import CorruptFile, InvalidParameter
from msgsess.model import Message
from msgsess.props import ids

#: TEL TYPE -> phone kinds to try in turn (the first free one takes the number).
TEL_KINDS = (
    ("PAGER", ("pager",)),
    ("CAR", ("car",)),
    ("ISDN", ("isdn",)),
    ("TEXTPHONE", ("tty",)),
    ("CELL", ("mobile", "other")),
)
FAX_KINDS = {
    "WORK": ("business-fax", "other-fax"),
    "HOME": ("home-fax", "other-fax"),
    "": ("business-fax", "other-fax"),
}
VOICE_KINDS = {
    "WORK": ("business", "business2", "other"),
    "HOME": ("home", "home2", "other"),
    "": ("other", "primary"),
}
PHONE_TYPES = {
    "business": "WORK,VOICE",
    "business2": "WORK,VOICE",
    "home": "HOME,VOICE",
    "home2": "HOME,VOICE",
    "mobile": "CELL",
    "car": "CAR",
    "pager": "PAGER",
    "business-fax": "WORK,FAX",
    "home-fax": "HOME,FAX",
    "other-fax": "FAX",
    "isdn": "ISDN",
    "tty": "TEXTPHONE",
}


def _types(prop: Any) -> set[str]:
    found: set[str] = set()
    for key, values in prop.params.items():
        if key.upper() == "TYPE":
            for value in values:
                found.update(v.strip().upper() for v in str(value).split(","))
        elif not values:
            found.add(key.upper())
    # vCard 2.1 names types bare (TEL;HOME;VOICE); vobject keeps those apart, as singletonparams.
    found.update(str(v).strip().upper() for v in getattr(prop, "singletonparams", []))
    return found


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value if v)
    return str(value or "")


def parse_vcf(data: bytes | str, *, label: str = "vcf") -> list[dict[str, Any]]:
    """The contact specs of a vCard file, one per card, in file order."""
    import vobject

    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    # vobject logs each line it skips to stderr through a handler of its own: not our output.
    log = logging.getLogger("vobject.base")
    level = log.level
    log.setLevel(logging.CRITICAL + 1)
    try:
        cards = list(vobject.readComponents(text, ignoreUnreadable=True))
    except Exception as exc:  # vobject raises its own ParseError and plain ValueErrors alike
        raise CorruptFile(f"not a vCard ({str(exc).splitlines()[0][:80]})").at(label) from None
    finally:
        log.setLevel(level)
    return [
        _card(card, (label, f"card {n}")) for n, card in enumerate(cards, start=1) if card.name == "VCARD"
    ]


def _card(card: Any, where: tuple[str, str]) -> dict[str, Any]:
    spec: dict[str, Any] = {"kind": "contact"}
    contents = card.contents
    if "n" in contents:
        n = contents["n"][0].value
        parts = {
            "prefix": _text(n.prefix),
            "given": _text(n.given),
            "middle": _text(n.additional),
            "surname": _text(n.family),
            "suffix": _text(n.suffix),
        }
        parts = {k: v for k, v in parts.items() if v}
        if parts:
            spec["name"] = parts
    if "fn" in contents:
        spec["display_name"] = str(contents["fn"][0].value)
        if "name" not in spec:
            spec["name"] = spec["display_name"]
    # E-mail 1 is the one Outlook writes to: the card's preferred address comes first.
    ordered = sorted(contents.get("email", []), key=_preference)
    emails = [str(e.value).strip() for e in ordered if str(e.value).strip()]
    if len(emails) > 3:
        error = InvalidParameter(f"{len(emails)} addresses; an Outlook contact holds 3", hint="keep 3")
        raise error.at("EMAIL").at(where[1]).at(where[0])
    if emails:
        spec["emails"] = emails
    phones: dict[str, str] = {}
    for tel in contents.get("tel", []):
        number = re.sub(r"^tel:", "", str(tel.value).strip(), flags=re.I)
        kinds = _phone_kinds(_types(tel))
        free = next((k for k in kinds if k not in phones), None)
        if free is None:
            error = InvalidParameter("no free Outlook phone field of its type")
            raise error.at(f"TEL {number}").at(where[1]).at(where[0])
        phones[free] = number
    if phones:
        spec["phones"] = [f"{k}={v}" for k, v in phones.items()]
    addresses: dict[str, dict[str, str]] = {}
    for adr in contents.get("adr", []):
        types = _types(adr)
        kind = "work" if "WORK" in types else ("home" if "HOME" in types else "other")
        if kind in addresses:
            kind = next((k for k in ("other", "home", "work") if k not in addresses), kind)
        a = adr.value
        fields = {
            "street": _text(a.street),
            "city": _text(a.city),
            "state": _text(a.region),
            "postal_code": _text(a.code),
            "country": _text(a.country),
            "po_box": _text(a.box),
        }
        addresses[kind] = {k: v for k, v in fields.items() if v}
    if addresses:
        spec["addresses"] = addresses
    if "org" in contents:
        org = contents["org"][0].value
        spec["company"] = str(org[0] if isinstance(org, list) and org else org)
    if "title" in contents:
        spec["job_title"] = str(contents["title"][0].value)
    if "bday" in contents:
        digits = re.sub(r"[^0-9]", "", str(contents["bday"][0].value))[:8]
        if len(digits) == 8 and not str(contents["bday"][0].value).startswith("--"):
            spec["birthday"] = f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    if "url" in contents:
        spec["web"] = str(contents["url"][0].value)
    if "note" in contents:
        spec["body"] = str(contents["note"][0].value)
    if "categories" in contents:
        spec["categories"] = [str(c) for c in contents["categories"][0].value]
    for photo in contents.get("photo", []):
        if isinstance(photo.value, bytes):
            spec["photo"] = {"data": base64.b64encode(photo.value).decode()}
            break
    return spec


def _preference(prop: Any) -> int:
    """1 for the most preferred (vCard 4 PREF=1..100; vCard 2.1/3 TYPE=PREF), 101 for none."""
    for key, values in prop.params.items():
        if key.upper() == "PREF":
            try:
                return int(values[0])
            except (ValueError, IndexError):
                return 1
    return 1 if "PREF" in _types(prop) else 101


def _phone_kinds(types: set[str]) -> tuple[str, ...]:
    for key, kinds in TEL_KINDS:
        if key in types:
            return kinds
    where = "WORK" if "WORK" in types else ("HOME" if "HOME" in types else "")
    return FAX_KINDS[where] if "FAX" in types else VOICE_KINDS[where]


# --- export ------------------------------------------------------------------------------------


def to_vcf(messages: list[Message]) -> str:
    """vCard 3.0 text for contact messages, one card each."""
    import vobject

    from msgsess.items import read
    from msgsess.items.fields import Fields

    out = []
    for index, msg in enumerate(messages, start=1):
        fields = read(msg)
        if fields["kind"] != "contact":
            raise InvalidParameter(
                f"is a {fields['kind']}, not a contact", hint="export appointments with --ics"
            ).at(f"message {index}")
        card = vobject.vCard()
        parts = fields.get("name", {})
        card.add("n").value = vobject.vcard.Name(
            family=parts.get("surname", ""),
            given=parts.get("given", ""),
            additional=parts.get("middle", ""),
            prefix=parts.get("prefix", ""),
            suffix=parts.get("suffix", ""),
        )
        card.add("fn").value = fields.get("display_name") or str(msg.props.value(ids.SUBJECT, "")) or "?"
        for n, text in enumerate(fields.get("emails", [])):
            _name, addr = Fields({}, "export").address("email", text)
            email = card.add("email")
            email.value = addr
            email.type_paramlist = ["INTERNET", "PREF"] if n == 0 else ["INTERNET"]
        for item in fields.get("phones", []):
            kind, _, number = item.partition("=")
            tel = card.add("tel")
            tel.value = number
            if kind in PHONE_TYPES:
                tel.type_param = PHONE_TYPES[kind]
        for kind, a in fields.get("addresses", {}).items():
            adr = card.add("adr")
            adr.value = vobject.vcard.Address(
                street=a.get("street", ""),
                city=a.get("city", ""),
                region=a.get("state", ""),
                code=a.get("postal_code", ""),
                country=a.get("country", ""),
                box=a.get("po_box", ""),
            )
            adr.type_param = {"work": "WORK", "home": "HOME"}.get(kind, "POSTAL")
        if fields.get("company"):
            card.add("org").value = [fields["company"]]
        if fields.get("job_title"):
            card.add("title").value = fields["job_title"]
        if fields.get("birthday"):
            card.add("bday").value = fields["birthday"]
        if fields.get("web"):
            card.add("url").value = fields["web"]
        body = msg.props.value(ids.BODY)
        if body:
            card.add("note").value = str(body).replace("\r\n", "\n")
        photo = fields.get("photo")
        if photo:
            pic = card.add("photo")
            pic.value = base64.b64decode(photo["data"])
            pic.encoding_param = "b"
            pic.type_param = "JPEG"
        out.append(card.serialize())
    return "".join(out)
