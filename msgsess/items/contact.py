"""Contacts and distribution lists, as Outlook writes them ([MS-OXOCNTC]).

A contact's name parts, e-mail addresses, phones and addresses are the primary
properties; :func:`refresh` derives the display name, file-as, each e-mail's display
name, address type and one-off entry id, and the address-book provider arrays.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from msgsess.errors import TooBig
from msgsess.items.entryids import one_off, parse_one_off
from msgsess.items.fields import Fields, drop, filetime, format_address, get, moment_of, put
from msgsess.model import Message
from msgsess.props import ids
from msgsess.props import types as t

CONTACT_KEYS = frozenset(
    {
        "name",
        "display_name",
        "file_as",
        "emails",
        "phones",
        "addresses",
        "company",
        "job_title",
        "birthday",
        "web",
        "photo",
    }
)
DISTLIST_KEYS = frozenset({"name", "members"})
CONTACT_CLASS = "IPM.Contact"
DISTLIST_CLASS = "IPM.DistList"
ICON_CONTACT, ICON_DISTLIST = 0x200, 0x202
#: PidLidFileUnderId for "<Surname>, <Given> <Middle>" ([MS-OXOCNTC] 2.2.1.1.12).
FILE_UNDER_SURNAME_GIVEN = 0x8017
#: Bits of PidLidAddressBookProviderArrayType for e-mail 1-3 ([MS-OXOCNTC] 2.2.1.2.12); the
#: others (business, home and primary fax, 0x08-0x20) are the fax entries', kept as they are.
EMAIL_BITS = 0x7
#: A contact holds three e-mail addresses (Email1, Email2, Email3 in [MS-OXOCNTC]).
MAX_EMAILS = 3
PHOTO_NAME = "ContactPicture.jpg"
#: PidLidDistributionListMembers may hold at most 15,000 bytes ([MS-OXOCNTC] 2.2.2.2.1).
MAX_MEMBER_BYTES = 15000

PREFIXES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "fr", "hon"}
SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "v", "phd", "ph.d", "md", "m.d", "esq", "dds"}
NAME_PARTS = ("prefix", "given", "middle", "surname", "suffix")
_NAME_PROPS = {
    "prefix": "PidTagDisplayNamePrefix",
    "given": "PidTagGivenName",
    "middle": "PidTagMiddleName",
    "surname": "PidTagSurname",
    "suffix": "PidTagGeneration",
}
#: --phone KIND=NUMBER kinds -> the contact property ([MS-OXOCNTC] 2.2.1.4).
PHONES = {
    "business": "PidTagBusinessTelephoneNumber",
    "work": "PidTagBusinessTelephoneNumber",
    "business2": "PidTagBusiness2TelephoneNumber",
    "home": "PidTagHomeTelephoneNumber",
    "home2": "PidTagHome2TelephoneNumber",
    "mobile": "PidTagMobileTelephoneNumber",
    "cell": "PidTagMobileTelephoneNumber",
    "car": "PidTagCarTelephoneNumber",
    "pager": "PidTagPagerTelephoneNumber",
    "fax": "PidTagBusinessFaxNumber",
    "business-fax": "PidTagBusinessFaxNumber",
    "home-fax": "PidTagHomeFaxNumber",
    "other-fax": "PidTagPrimaryFaxNumber",
    "primary": "PidTagPrimaryTelephoneNumber",
    "assistant": "PidTagAssistantTelephoneNumber",
    "callback": "PidTagCallbackTelephoneNumber",
    "company": "PidTagCompanyMainTelephoneNumber",
    "isdn": "PidTagIsdnNumber",
    "radio": "PidTagRadioTelephoneNumber",
    "telex": "PidTagTelexNumber",
    "tty": "PidTagTelecommunicationsDeviceForDeafTelephoneNumber",
    "other": "PidTagOtherTelephoneNumber",
}
PHONE_NAMES: dict[str, str] = {}
for _kind, _name in PHONES.items():
    PHONE_NAMES.setdefault(_name, _kind)
ADDRESS_FIELDS = ("street", "city", "state", "postal_code", "country", "po_box")
#: Address kind -> (PidLidPostalAddressId value, property of each field, full-address property).
ADDRESSES: dict[str, tuple[int, tuple[str, ...], str]] = {
    "home": (
        1,
        (
            "PidTagHomeAddressStreet",
            "PidTagHomeAddressCity",
            "PidTagHomeAddressStateOrProvince",
            "PidTagHomeAddressPostalCode",
            "PidTagHomeAddressCountry",
            "PidTagHomeAddressPostOfficeBox",
        ),
        "PidLidHomeAddress",
    ),
    "work": (
        2,
        (
            "PidLidWorkAddressStreet",
            "PidLidWorkAddressCity",
            "PidLidWorkAddressState",
            "PidLidWorkAddressPostalCode",
            "PidLidWorkAddressCountry",
            "PidLidWorkAddressPostOfficeBox",
        ),
        "PidLidWorkAddress",
    ),
    "other": (
        3,
        (
            "PidTagOtherAddressStreet",
            "PidTagOtherAddressCity",
            "PidTagOtherAddressStateOrProvince",
            "PidTagOtherAddressPostalCode",
            "PidTagOtherAddressCountry",
            "PidTagOtherAddressPostOfficeBox",
        ),
        "PidLidOtherAddress",
    ),
}
#: Outlook also keeps the work address in the plain MAPI business-address properties.
WORK_TAGGED = (
    "PidTagStreetAddress",
    "PidTagLocality",
    "PidTagStateOrProvince",
    "PidTagPostalCode",
    "PidTagCountry",
    "PidTagPostOfficeBox",
)


@dataclass
class Contact:
    name: dict[str, str] = field(default_factory=dict)
    display_name: str = ""
    file_as: str | None = None
    emails: list[tuple[str | None, str]] = field(default_factory=list)  # (display-as or None, address)
    phones: dict[str, str] = field(default_factory=dict)  # property name -> number
    addresses: dict[str, dict[str, str]] = field(default_factory=dict)
    company: str | None = None
    job_title: str | None = None
    birthday: dt.date | None = None
    web: str | None = None
    photo: Any = None


def split_name(text: str) -> dict[str, str]:
    """``Dr. Jane Q. Public`` -> prefix Dr., given Jane, middle Q., surname Public (and a suffix)."""
    words = text.split()
    parts: dict[str, str] = {}
    if "," in text and not re.search(r",\s*(jr|sr|ii|iii|iv|phd|md|esq)\.?\s*$", text, re.I):
        surname, _, rest = text.partition(",")
        words = rest.split()
        parts["surname"] = surname.strip()
    if len(words) > 1 and words[0].rstrip(".").lower() in PREFIXES:
        parts["prefix"] = words.pop(0)
    if len(words) > 1 and words[-1].rstrip(".").strip(",").lower() in SUFFIXES:
        parts["suffix"] = words.pop().strip(",")
        if words:
            words[-1] = words[-1].rstrip(",")
    if "surname" not in parts and len(words) > 1:
        parts["surname"] = words.pop()
    if words:
        parts["given"] = words.pop(0)
    if words:
        parts["middle"] = " ".join(words)
    return {k: v for k, v in parts.items() if v}


def full_name(parts: dict[str, str]) -> str:
    return " ".join(parts[k] for k in NAME_PARTS if parts.get(k))


def file_under(parts: dict[str, str], *, middle: bool = False) -> str:
    """File-as "Surname, Given" (Outlook's "Last, First"); with ``middle``, "Surname, Given Middle",
    the form PidLidFileUnderId 0x8017 names."""
    surname = parts.get("surname", "")
    given = " ".join(x for x in (parts.get("given", ""), parts.get("middle", "") if middle else "") if x)
    if surname and given:
        return f"{surname}, {given}"
    return surname or given or full_name(parts)


def email_name(parts: dict[str, str], display_name: str) -> str:
    """The person's name in an e-mail's display name: given, middle, surname and suffix, without a
    title, as Outlook writes it ("Mr. Example Dot Com" shows as "Com Dot Example (addr)")."""
    return " ".join(parts[k] for k in NAME_PARTS[1:] if parts.get(k)) or display_name


def parse_contact(f: Fields) -> Contact:
    c = Contact()
    name = f.spec.get("name")
    if isinstance(name, dict):
        unknown = sorted(set(name) - set(NAME_PARTS))
        if unknown:
            raise f.fail(f"name.{unknown[0]}", f"is not one of {', '.join(NAME_PARTS)}")
        c.name = {k: str(v) for k, v in name.items() if v}
    elif name is not None:
        text = f.text("name") or ""
        c.name = split_name(text)
        c.display_name = " ".join(text.split())
    c.display_name = f.text("display_name") or c.display_name or full_name(c.name)
    c.file_as = f.text("file_as")
    emails = f.text_list("emails")
    if len(emails) > MAX_EMAILS:
        raise f.fail(
            "emails",
            f"{len(emails)} addresses given; a contact holds {MAX_EMAILS}",
            hint=f"keep {MAX_EMAILS}, or make a distlist",
        )
    for text in emails:
        display, addr = f.address("emails", text)
        c.emails.append((display if display != addr else None, addr))
    c.phones = {PHONES[k]: v for k, v in _pairs(f, "phones", PHONES).items()}
    for kind, value in _pairs(f, "addresses", ADDRESSES, parse=True).items():
        c.addresses[kind] = value
    c.company = f.text("company")
    c.job_title = f.text("job_title")
    c.birthday = f.date("birthday")
    c.web = f.text("web")
    c.photo = f.spec.get("photo")
    if c.photo is not None and not isinstance(c.photo, (str, dict)):
        raise f.fail("photo", 'expected a file name or {"data": base64}')
    return c


def _pairs(f: Fields, key: str, table: dict[str, Any], *, parse: bool = False) -> dict[str, Any]:
    """``KIND=VALUE`` items (or an object KIND -> value) with KIND from ``table``."""
    value = f.spec.get(key)
    if value is None:
        return {}
    items: list[tuple[str, Any]]
    if isinstance(value, dict):
        items = list(value.items())
    else:
        items = []
        for text in f.text_list(key):
            kind, sep, rest = text.partition("=")
            if not sep:
                raise f.fail(key, f"{text!r} is not KIND=VALUE", hint=f"KIND is one of {'|'.join(table)}")
            items.append((kind, rest))
    out: dict[str, Any] = {}
    for kind, rest in items:
        folded = kind.strip().lower()
        if folded not in table:
            raise f.fail(key, f"{kind!r} is not one of {'|'.join(table)}")
        out[folded] = _address(f, key, rest) if parse else str(rest).strip()
    return out


def _address(f: Fields, key: str, value: Any) -> dict[str, str]:
    """``street;city;state;postal code;country`` (or an object of those fields)."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(ADDRESS_FIELDS))
        if unknown:
            raise f.fail(f"{key}.{unknown[0]}", f"is not one of {', '.join(ADDRESS_FIELDS)}")
        return {k: str(v) for k, v in value.items() if v}
    parts = [p.strip() for p in str(value).split(";")]
    if len(parts) > len(ADDRESS_FIELDS):
        raise f.fail(
            key,
            f"{value!r} has more than {len(ADDRESS_FIELDS)} parts",
            hint="street;city;state;postal code;country",
        )
    return {name: part for name, part in zip(ADDRESS_FIELDS, parts, strict=False) if part}


def contact_mail_keys(c: Contact, spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"class": CONTACT_CLASS}
    if "subject" not in spec and (c.name or c.display_name):
        # Outlook's subject of a contact is its name without the title, as in its e-mail
        # display names (a contact "Mr. Example Dot Com" has the subject "Com Dot Example").
        out["subject"] = email_name(c.name, c.display_name)
    if c.photo is not None:
        source = {"file": c.photo} if isinstance(c.photo, str) else dict(c.photo)
        out["attachments"] = [
            *list(spec.get("attachments") or []),
            {
                **source,
                "name": PHOTO_NAME,
                "hidden": True,
                "properties": {"PidTagAttachmentContactPhoto": True},
            },
        ]
    return out


def formatted_address(addr: dict[str, str]) -> str:
    """The full address as Outlook shows it: street, then "city, state postal", then country."""
    city = addr.get("city", "")
    region = " ".join(x for x in (addr.get("state", ""), addr.get("postal_code", "")) if x)
    middle = ", ".join(x for x in (city, region) if x)
    return "\r\n".join(x for x in (addr.get("street", ""), middle, addr.get("country", "")) if x)


def apply_contact(c: Contact, msg: Message) -> None:
    p = msg.props
    for part, name in _NAME_PROPS.items():
        put(p, name, c.name.get(part))  # a new name replaces every part (None removes one)
    if c.display_name:
        put(p, "PidTagDisplayName", c.display_name)
    put(p, "PidLidFileUnder", c.file_as if c.file_as is not None else file_under(c.name))
    if c.file_as is None and not c.name.get("middle"):
        put(p, "PidLidFileUnderId", FILE_UNDER_SURNAME_GIVEN)
    for n, (display, addr) in enumerate(c.emails, start=1):
        put(p, f"PidLidEmail{n}EmailAddress", addr)
        put(p, f"PidLidEmail{n}AddressType", "SMTP")
        put(p, f"PidLidEmail{n}DisplayName", display)
    for phone, number in c.phones.items():
        put(p, phone, number)
    mailing = None
    for kind, where in c.addresses.items():
        address_id, names, whole = ADDRESSES[kind]
        for part, name in zip(ADDRESS_FIELDS, names, strict=True):
            put(p, name, where.get(part))
        if kind == "work":
            for part, name in zip(ADDRESS_FIELDS, WORK_TAGGED, strict=True):
                put(p, name, where.get(part))
        put(p, whole, formatted_address(where))
        if mailing is None:
            mailing = address_id
            put(p, "PidTagPostalAddress", formatted_address(where))
    if mailing is not None:
        put(p, "PidLidPostalAddressId", mailing)
    put(p, "PidTagCompanyName", c.company)
    put(p, "PidTagTitle", c.job_title)
    if c.birthday is not None:
        midnight = filetime(dt.datetime.combine(c.birthday, dt.time(), dt.UTC))
        put(p, "PidTagBirthday", midnight)
        put(p, "PidLidBirthdayLocal", midnight)
    if c.web is not None:
        put(p, "PidTagBusinessHomePage", c.web)
        put(p, "PidLidHtml", c.web)
    put(p, "PidLidHasPicture", any(_is_photo(a.props) for a in msg.attachments))
    refresh_contact(msg)


def _is_photo(props: Any) -> bool:
    return props.value(ids.ATTACHMENT_CONTACT_PHOTO) is True


def refresh_contact(msg: Message) -> None:
    """Each e-mail's display name, type and one-off entry id follow its address ([MS-OXOCNTC] 2.2.1.2)."""
    p = msg.props
    parts = {k: str(get(p, name)) for k, name in _NAME_PROPS.items() if get(p, name)}
    person = email_name(parts, str(get(p, "PidTagDisplayName") or ""))
    present = []
    for n in (1, 2, 3):
        addr = get(p, f"PidLidEmail{n}EmailAddress")
        if not addr:
            drop(
                p,
                f"PidLidEmail{n}DisplayName",
                f"PidLidEmail{n}AddressType",
                f"PidLidEmail{n}OriginalDisplayName",
                f"PidLidEmail{n}OriginalEntryId",
            )
            continue
        present.append(n - 1)
        addr_type = get(p, f"PidLidEmail{n}AddressType") or "SMTP"
        display = get(p, f"PidLidEmail{n}DisplayName")
        old = get(p, f"PidLidEmail{n}OriginalDisplayName")
        entry = get(p, f"PidLidEmail{n}OriginalEntryId")
        if display and old == addr and isinstance(entry, bytes):
            continue  # nothing changed: the display name and entry id Outlook wrote stay
        derived = not display or (old and str(display).endswith(f"({old})")) or display == old
        if derived:
            display = f"{person} ({addr})" if person else addr
        put(p, f"PidLidEmail{n}AddressType", addr_type)
        put(p, f"PidLidEmail{n}DisplayName", display)
        put(p, f"PidLidEmail{n}OriginalDisplayName", addr)
        put(p, f"PidLidEmail{n}OriginalEntryId", one_off(str(display), str(addr_type), str(addr)))
    # The lists also name the contact's fax numbers (entries 3-5): those stay.
    given = get(p, "PidLidAddressBookProviderEmailList")
    faxes = sorted(i for i in (given if isinstance(given, list) else []) if isinstance(i, int) and i > 2)
    entries = [*present, *faxes]
    kept = get(p, "PidLidAddressBookProviderArrayType")
    bits = sum(1 << i for i in present) | (kept & ~EMAIL_BITS if isinstance(kept, int) else 0)
    put(p, "PidLidAddressBookProviderEmailList", entries)
    put(p, "PidLidAddressBookProviderArrayType", bits if entries or bits else None)
    if get(p, "PidLidFileUnderId") == FILE_UNDER_SURNAME_GIVEN:
        put(p, "PidLidFileUnder", file_under(parts, middle=True))
    p.set(ids.ICON_INDEX, t.PT_LONG, ICON_CONTACT)


def forget_derived(current: dict[str, Any]) -> None:
    """Before a new name is merged over a contact's fields: drop the display name and file-as
    that only followed from the old name, so that they follow the new one."""
    parts = current.get("name")
    if not isinstance(parts, dict):
        return
    if current.get("display_name") == full_name(parts):
        current.pop("display_name")
    if current.get("file_as") in (file_under(parts), file_under(parts, middle=True)):
        current.pop("file_as")


def read_contact(msg: Message) -> dict[str, Any]:
    p = msg.props
    out: dict[str, Any] = {}
    parts = {k: str(get(p, name)) for k, name in _NAME_PROPS.items() if get(p, name)}
    if parts:
        out["name"] = parts
    display = get(p, "PidTagDisplayName")
    if display:
        out["display_name"] = display
    if get(p, "PidLidFileUnder"):
        out["file_as"] = get(p, "PidLidFileUnder")
    emails = []
    for n in (1, 2, 3):
        addr = get(p, f"PidLidEmail{n}EmailAddress")
        if addr:
            shown = get(p, f"PidLidEmail{n}DisplayName")
            derived = not shown or str(shown).endswith(f"({addr})")
            emails.append(addr if derived else format_address(str(shown), str(addr)))
    if emails:
        out["emails"] = emails
    phones = {PHONE_NAMES[name]: get(p, name) for name in PHONE_NAMES if get(p, name)}
    if phones:
        out["phones"] = [f"{k}={v}" for k, v in phones.items()]
    addresses = {}
    for kind, (_n, names, _whole) in ADDRESSES.items():
        addr = {
            part: str(get(p, name)) for part, name in zip(ADDRESS_FIELDS, names, strict=True) if get(p, name)
        }
        if addr:
            addresses[kind] = addr
    if addresses:
        out["addresses"] = addresses
    for key, name in (
        ("company", "PidTagCompanyName"),
        ("job_title", "PidTagTitle"),
        ("web", "PidTagBusinessHomePage"),
    ):
        if get(p, name):
            out[key] = get(p, name)
    birthday = moment_of(get(p, "PidLidBirthdayLocal")) or moment_of(get(p, "PidTagBirthday"))
    if birthday is not None:
        out["birthday"] = birthday.date().isoformat()
    for att in msg.attachments:
        if _is_photo(att.props) and att.data is not None:
            out["photo"] = {"data": base64.b64encode(att.data).decode()}
    return out


# --- distribution lists --------------------------------------------------------------------------


def parse_distlist(f: Fields) -> tuple[str, list[tuple[str, str]]]:
    name = f.text("name")
    if not name:
        raise f.fail("name", "a distribution list needs a name", hint=f"give {f.name('name')} NAME")
    members = f.addresses("members")
    size = sum(len(one_off(display, "SMTP", addr)) for display, addr in members)
    if size > MAX_MEMBER_BYTES:  # checked here, where the message is known, not when applied
        raise (
            TooBig(
                f"{len(members)} members take {size} bytes, more than the {MAX_MEMBER_BYTES} a list holds",
                hint="split the list in two",
            )
            .at("members")
            .at(f.label)
        )
    return name, members


def distlist_mail_keys(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"class": DISTLIST_CLASS}
    if "subject" not in spec:
        out["subject"] = name
    return out


def checksum(members: list[bytes]) -> int:
    """PidLidDistributionListChecksum: the ISO/IEC 8802-3 CRC-32 of the members' value ([MS-OXPROPS] 2.95).

    The value is taken as the member entry ids one after another (zlib's CRC-32 is that CRC).
    """
    return zlib.crc32(b"".join(members)) & 0xFFFFFFFF


def apply_distlist(name: str, members: list[tuple[str, str]], msg: Message) -> None:
    p = msg.props
    entries = [one_off(display, "SMTP", addr) for display, addr in members]
    put(p, "PidLidDistributionListName", name)
    put(p, "PidTagDisplayName", name)
    put(p, "PidLidFileUnder", name)
    put(p, "PidLidDistributionListMembers", entries)
    put(p, "PidLidDistributionListOneOffMembers", entries)
    put(p, "PidLidDistributionListChecksum", checksum(entries) if entries else 0)
    p.set(ids.ICON_INDEX, t.PT_LONG, ICON_DISTLIST)


def read_distlist(msg: Message) -> dict[str, Any]:
    p = msg.props
    out: dict[str, Any] = {}
    name = get(p, "PidLidDistributionListName") or get(p, "PidTagDisplayName")
    if name:
        out["name"] = name
    members = []
    for entry in (
        get(p, "PidLidDistributionListOneOffMembers") or get(p, "PidLidDistributionListMembers") or []
    ):
        found = parse_one_off(entry) if isinstance(entry, bytes) else None
        if found is not None:
            display, _type, addr = found
            members.append(format_address(display, addr))
    if members:
        out["members"] = members
    return out


def photo_bytes(value: Any) -> bytes | None:
    """The bytes of a ``{"data": base64}`` photo, for callers that need them before composing."""
    if isinstance(value, dict) and isinstance(value.get("data"), str):
        try:
            return base64.b64decode(value["data"], validate=True)
        except (binascii.Error, ValueError):
            return None
    return None
