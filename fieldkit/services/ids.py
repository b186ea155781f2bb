"""Random identifiers for records and attachments: 128 bits, lower-case Crockford base32."""

from __future__ import annotations

import os
from collections.abc import Callable

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_id(prefix: str, random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    value = int.from_bytes(random_bytes(16), "big")
    chars = [_ALPHABET[(value >> (5 * i)) & 31] for i in range(26)]
    return prefix + "".join(reversed(chars))
