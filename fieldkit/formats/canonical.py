"""Canonical JSON: the one byte encoding that record hashes are computed over.

UTF-8, keys sorted, no insignificant white space, no ASCII escaping, no NaN.
"""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
