"""Parse and serialise bytes. Never touches files, the database or the UI."""
