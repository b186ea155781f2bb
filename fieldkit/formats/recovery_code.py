"""Recovery codes: 160 random bits as 32 Crockford base32 characters in 8 groups of 4.

Typing is forgiving: case, spaces and dashes are ignored, and the letters
Crockford's alphabet leaves out are read as the digits they look like
(O -> 0, I and L -> 1). U is not in the alphabet and is rejected.
"""

from __future__ import annotations

from fieldkit.errors import InvalidInput

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_BYTES = 20  # 160 bits: well above the 128 the design asks for
CODE_CHARS = CODE_BYTES * 8 // 5
GROUP = 4
_READ_AS = {"O": "0", "I": "1", "L": "1"}


def encode(raw: bytes) -> str:
    if len(raw) != CODE_BYTES:
        raise ValueError("recovery code needs 20 bytes")
    value = int.from_bytes(raw, "big")
    chars = [ALPHABET[(value >> (5 * (CODE_CHARS - 1 - i))) & 31] for i in range(CODE_CHARS)]
    text = "".join(chars)
    return "-".join(text[i : i + GROUP] for i in range(0, CODE_CHARS, GROUP))


def decode(typed: str) -> bytes:
    cleaned = "".join(ch for ch in typed.upper() if ch not in " -\t\r\n")
    cleaned = "".join(_READ_AS.get(ch, ch) for ch in cleaned)
    if len(cleaned) != CODE_CHARS:
        raise InvalidInput(
            f"a recovery code has {CODE_CHARS} characters; this one has {len(cleaned)}",
            hint="type the code exactly as shown at 'fieldkit init', e.g. ABCD-EFGH-...",
        )
    value = 0
    for ch in cleaned:
        idx = ALPHABET.find(ch)
        if idx < 0:
            raise InvalidInput(
                "a recovery code holds only digits and the letters A-Z except I, L, O, U",
                hint="check for a mistyped character",
            )
        value = (value << 5) | idx
    return value.to_bytes(CODE_BYTES, "big")
