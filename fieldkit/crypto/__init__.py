"""Pure functions over bytes: KDF, AEAD, hashes. No files, no database, no UI."""
