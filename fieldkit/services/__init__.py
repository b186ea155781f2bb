"""What fieldkit does: vault, records, attachments, history. No UI, no SQL."""
