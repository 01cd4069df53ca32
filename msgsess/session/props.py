"""Property names and values in a spec's ``properties`` objects, checked when they are added.

The spec keeps the user's spelling of each name and the JSON form of each value; checking
resolves every name with the registry and parses every value, so that errors come when the
value is given rather than at ``close``. The property tables load on first use only.
"""

from __future__ import annotations

from msgsess.errors import MsgsessError, located

TYPE_CHECKING = False  # no typing and no property model at run time: add of a plain mail sets none
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def identity(name: str) -> Any:
    """What a spelling names (tagged id or NamedId), to find other spellings of one property."""
    from msgsess.props import registry

    return registry.resolve(name).pid


def entry(
    name: str,
    value: Any,
    *,
    text: bool,
    type_name: str | None = None,
    read_file: Callable[[str], bytes] | None = None,
) -> tuple[str, Any]:
    """The (key, JSON value) a ``properties`` object keeps for one property from any door.

    ``value`` is command-line text (``text``) or a JSON value, read with the one value syntax
    (:func:`msgsess.props.values.parse_property`; ``@path`` files are read now). The key is the
    user's spelling unless the spelling alone would not tell the type: then a tagged property
    becomes its 8-digit hex tag, and a named one keeps ``{"type": …, "value": …}``.
    """
    from msgsess.props import registry, values
    from msgsess.props import types as t
    from msgsess.props.keys import NamedId

    prop, ptype, model = values.parse_property(
        name, value, text=text, type_name=type_name, read_file=read_file
    )
    stored = values.to_json(ptype, model)
    implied = registry.resolve(name).ptype
    if implied is None:
        try:
            implied = values.infer_type(stored)
        except MsgsessError:
            implied = None  # raw bytes: only the type given says what they are
    if implied == ptype:
        return name, stored
    if isinstance(prop.pid, NamedId):
        # Neither the name nor the JSON value tells the type: keep it with the value.
        return name, {"type": t.type_name(ptype), "value": stored}
    return f"0x{prop.pid:04X}{ptype:04X}", stored


def refers_to_file(value: Any) -> bool:
    """Whether a JSON value holds ``@path`` text (read when the value is added)."""
    if isinstance(value, str):
        return value.startswith("@") and not value.startswith("@@")
    if isinstance(value, list):
        return any(refers_to_file(item) for item in value)
    if isinstance(value, dict) and set(value) == {"type", "value"}:
        return refers_to_file(value["value"])
    return False


def capture_files(props: Any, read_file: Callable[[str], bytes]) -> Any:
    """A ``properties`` object with its ``@path`` values read now, in the form a spec keeps.

    Other values stay as the user wrote them; the object itself when none refers to a file.
    """
    if not isinstance(props, dict) or not any(refers_to_file(v) for v in props.values()):
        return props
    out: dict[str, Any] = {}
    for name, value in props.items():
        if refers_to_file(value):
            with located(str(name)):
                key, stored = entry(str(name), value, text=False, read_file=read_file)
            out[key] = stored
        else:
            out[name] = value
    return out


def capture_spec_files(spec: dict[str, Any], read_file: Callable[[str], bytes]) -> dict[str, Any]:
    """A message spec with the ``@path`` values of all its ``properties`` objects read now
    (the message's, its recipients', its attachments', an edited file's rows'); the spec itself
    when none refers to a file."""
    out = dict(spec)
    with located("properties"):
        out["properties"] = capture_files(spec.get("properties"), read_file)
    for key in ("to", "cc", "bcc", "attachments"):
        entries = spec.get(key)
        if not isinstance(entries, list):
            continue
        new = []
        for index, item in enumerate(entries):
            if isinstance(item, dict) and "properties" in item:
                with located(f"{key}[{index}].properties"):
                    item = {**item, "properties": capture_files(item["properties"], read_file)}
            new.append(item)
        out[key] = new
    for key in ("recipient_properties", "attachment_properties"):
        rows = spec.get(key)
        if isinstance(rows, dict):
            out[key] = {}
            for index, props in rows.items():
                with located(f"{key}[{index}]"):
                    out[key][index] = capture_files(props, read_file)
    if "properties" not in spec:
        del out["properties"]
    return out


#: Spec keys (and so the flags of ``add``) -> the properties they write. A ``--set`` of one of
#: these beside the key's flag is two answers to one question: refused, naming both.
KEY_PROPERTIES: dict[str, tuple[str, ...]] = {
    "subject": ("PidTagSubject",),
    "body": ("PidTagBody",),
    "html": ("PidTagHtml", "PidTagRtfCompressed"),
    "rtf": ("PidTagRtfCompressed",),
    "class": ("PidTagMessageClass",),
    "sender": tuple(
        f"PidTagSender{part}"
        for part in ("Name", "EmailAddress", "SmtpAddress", "EntryId", "AddressType", "SearchKey")
    ),
    "from": tuple(
        f"PidTag{who}{part}"
        for who in ("SentRepresenting", "Sender")
        for part in ("Name", "EmailAddress", "SmtpAddress", "EntryId", "AddressType", "SearchKey")
    ),
    "reply_to": ("PidTagReplyRecipientEntries", "PidTagReplyRecipientNames"),
    "date": ("PidTagCreationTime", "PidTagMessageDeliveryTime", "PidTagClientSubmitTime"),
    "draft": ("PidTagMessageFlags",),
    "importance": ("PidTagImportance",),
    "sensitivity": ("PidTagSensitivity",),
    "categories": ("PidNameKeywords",),
    "headers": ("PidTagTransportMessageHeaders",),
    "message_id": ("PidTagInternetMessageId",),
    "read_receipt": ("PidTagReadReceiptRequested",),
    "delivery_receipt": ("PidTagOriginatorDeliveryReportRequested",),
    "flag": ("PidTagFlagStatus", "PidTagFollowupIcon", "PidLidFlagRequest", "PidTagToDoItemFlags"),
    "due": ("PidLidTaskDueDate", "PidLidTaskStartDate"),
    # Outlook items (msgsess.items): the property each field is stored in.
    "end": ("PidLidAppointmentEndWhole",),
    "location": ("PidLidLocation",),
    "busy": ("PidLidBusyStatus",),
    "reminder": ("PidLidReminderDelta",),
    "recurrence": ("PidLidAppointmentRecur",),
    "company": ("PidTagCompanyName",),
    "job_title": ("PidTagTitle",),
    "birthday": ("PidTagBirthday",),
    "status": ("PidLidTaskStatus",),
    "percent": ("PidLidPercentComplete",),
    "owner": ("PidLidTaskOwner",),
    "color": ("PidLidNoteColor",),
}


def key_setting(spec: dict[str, Any], name: str) -> str | None:
    """The key of ``spec`` (``categories``…) that writes the property ``name`` names, if any.

    ``sender`` comes before ``from``: with both, the sender properties are the sender's.
    """
    target = identity(name)
    for key, names in KEY_PROPERTIES.items():
        if key in spec and any(identity(other) == target for other in names):
            return key
    return None
