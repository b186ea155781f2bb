"""Types the services hand to their callers (the UI and CLI), so those never import
the store themselves."""

from __future__ import annotations

from fieldkit.store.attachments import AttachmentRow
from fieldkit.store.db import Database
from fieldkit.store.records import RecordSummary

__all__ = ["AttachmentRow", "Database", "RecordSummary"]
