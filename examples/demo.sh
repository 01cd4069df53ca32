#!/bin/sh
# An example msgsess session: builds a handful of real .msg files in one go.
#
#   sh examples/demo.sh [OUTDIR]        (default: examples/out)
#
# Every kind of thing msgsess writes appears once: plain, HTML and RTF bodies,
# an inline image, file attachments, an embedded message three deep, named and
# multi-valued properties, a reply-to, a message sent on behalf of someone with
# a read receipt and a follow-up flag, an Outlook template (.oft), and an ANSI
# (cp1251) file.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/out"}
data="$here/data"
msgsess=${MSGSESS:-msgsess}
mkdir -p "$out"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1714557600}   # reproducible output

s="$out/demo.session"
$msgsess open "$s" --force

# 1. A plain draft with an attachment and a few typed properties.
plain=$($msgsess add "$s" "$out/plain.msg" --id plain \
    --subject "Quarterly report" --from "Alice Example <alice@example.com>" \
    --to "Bob Example <bob@example.com>" --cc carol@example.com --bcc "Dan <dan@example.com>" \
    --body "Hi Bob, the report is attached. Alice" --importance high \
    --category Reports --category "Q2" --header "X-Project: msgsess-demo" \
    --attach "$data/report.txt" --attach "$data/notes.csv" \
    --set "PidTagSensitivity=2" --set 'PS_PUBLIC_STRINGS:Tags=["alpha", "beta"]')
$msgsess set "$s" "$plain" PidLidReminderSet true
$msgsess set "$s" "$plain" "PSETID_Common:0x8501" 15 --type PT_LONG

# 2. A sent HTML newsletter with an inline image and a reply-to address.
news=$($msgsess add "$s" "$out/newsletter.msg" --id newsletter --sent \
    --subject "Newsletter" --from "News Desk <news@example.com>" --to "Readers <readers@example.com>" \
    --reply-to "Editor <editor@example.com>" --date 2024-05-01T08:30:00+02:00 \
    --html-file "$data/newsletter.html" --message-id "newsletter-2024-05@example.com")
$msgsess attach "$s" "$news" "$data/logo.png" --content-id logo@msgsess >/dev/null

# 3. Embedded messages three deep: outer <- middle <- inner. Without an OUTPUT, add warns that
#    nothing embeds them yet; --quiet drops that warning, as they are embedded right after.
$msgsess add "$s" --quiet --id inner --subject "Inner note" --from "Inner <inner@example.com>" \
    --to "Middle <middle@example.com>" --body "The innermost message." --attach "$data/report.txt" >/dev/null
$msgsess add "$s" --quiet --id middle --subject "FW: Inner note" --from "Middle <middle@example.com>" \
    --to "Outer <outer@example.com>" --body "Forwarding the inner note." >/dev/null
$msgsess attach "$s" middle --message inner >/dev/null
$msgsess add "$s" "$out/nested.msg" --id outer --subject "FW: FW: Inner note" \
    --from "Outer <outer@example.com>" --to "Bob Example <bob@example.com>" --body "Three levels deep." >/dev/null
$msgsess attach "$s" outer --message middle >/dev/null

# 4. Messages from JSON Lines; an OUTPUT ending in .oft is an Outlook template
#    (root CLSID {0006F046-...}, an unsent IPM.Note: Outlook lists it under
#    Choose Form > User Templates in File System). --template does the same
#    for any output name.
$msgsess add "$s" --json - <<EOF >/dev/null
{"id": "json1", "output": "$out/from-json.msg", "subject": "Made from JSON", "from": "Alice Example <alice@example.com>", "to": ["Bob Example <bob@example.com>"], "body": "JSON in, .msg out.", "properties": {"PidTagImportance": 0}}
{"id": "tmpl", "output": "$out/weekly.oft", "subject": "Weekly status", "body": "Done:\nNext:\nBlocked:"}
EOF

# 5. An RTF body, kept as is (a plain-text body is derived from it).
$msgsess add "$s" "$out/memo-rtf.msg" --id memo --subject "Release notes (RTF)" \
    --from "Alice Example <alice@example.com>" --to "Team <team@example.com>" \
    --rtf-file "$data/memo.rtf" >/dev/null

# 6. Sent by an assistant on behalf of the boss, asking for a read receipt,
#    flagged for follow-up by a due date.
$msgsess add "$s" "$out/on-behalf.msg" --id onbehalf --subject "Budget approval needed" \
    --from "Bea Boss <boss@example.com>" --sender "Sam Assistant <assistant@example.com>" \
    --to "Finance <finance@example.com>" --body "Please approve the attached budget by Friday." \
    --read-receipt --delivery-receipt --flag "Follow up" --due 2024-05-03T17:00:00+02:00 \
    --attach "$data/notes.csv" >/dev/null

$msgsess show "$s" >&2
$msgsess close "$s"

# 7. An ANSI session (Windows-1251) with Cyrillic text.
a="$out/ansi.session"
$msgsess open "$a" --ansi --codepage 1251 --force
$msgsess add "$a" "$out/cyrillic-ansi.msg" --subject "Привет из msgsess" \
    --from "Иван Петров <ivan@example.com>" --to "Ольга <olga@example.com>" \
    --body "Здравствуйте! Это письмо в кодировке 1251." --attach "$data/report.txt" >/dev/null
$msgsess close "$a"

ls -l "$out"/*.msg "$out"/*.oft
