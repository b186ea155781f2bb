"""Timestamps as fieldkit stores them: UTC, ISO 8601, whole seconds."""

from __future__ import annotations

import time


def iso_utc(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
