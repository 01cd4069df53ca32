"""Outlook items beyond mail: appointments, meeting requests, contacts, tasks, notes, lists.

Pure (no disk, no session): item fields from a spec become the properties Outlook
writes for that kind, derived ones included, on a model ``Message``; and back.
"""
