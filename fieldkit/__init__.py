"""fieldkit: secure, encrypted, offline field documentation."""

__version__ = "0.1.0"
