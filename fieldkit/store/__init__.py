"""SQLCipher: the only place in fieldkit that speaks SQL."""
