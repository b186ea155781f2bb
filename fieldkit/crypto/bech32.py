"""Bech32 (BIP 173) as age uses it: no length limit on the data part.

An encoding, not a cryptographic primitive: it carries keys as text with a
checksum that catches typing mistakes. Strings must be all lower or all upper
case; the checksum is computed over the lower-case form.
"""

from __future__ import annotations

from fieldkit.errors import MalformedData

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
# An age post-quantum recipient is ~1,960 characters; nothing we read is longer.
MAX_LENGTH = 4096


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= _GEN[i] if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    out: list[int] = []
    maxv = (1 << to_bits) - 1
    for value in data:
        if value < 0 or value >> from_bits:
            raise MalformedData("bech32: invalid data value")
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & maxv)
    elif bits >= from_bits or ((acc << (to_bits - bits)) & maxv):
        raise MalformedData("bech32: non-zero padding")
    return out


def encode(hrp: str, data: bytes) -> str:
    hrp = hrp.lower()
    values = _convert_bits(data, 8, 5, True)
    polymod = _polymod([*_hrp_expand(hrp), *values, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[v] for v in values + checksum)


def decode(text: str) -> tuple[str, bytes]:
    """Return (hrp in lower case, data). Raises MalformedData on any defect."""
    if len(text) > MAX_LENGTH:
        raise MalformedData("bech32 string too long")
    if text.lower() != text and text.upper() != text:
        raise MalformedData("bech32 string mixes upper and lower case")
    s = text.lower()
    pos = s.rfind("1")
    if pos < 1 or pos + 7 > len(s):
        raise MalformedData("bech32 separator missing or misplaced")
    hrp, rest = s[:pos], s[pos + 1 :]
    if any(ord(c) < 33 or ord(c) > 126 for c in hrp):
        raise MalformedData("bech32 prefix has invalid characters")
    try:
        values = [CHARSET.index(c) for c in rest]
    except ValueError:
        raise MalformedData("bech32 data has invalid characters") from None
    if _polymod([*_hrp_expand(hrp), *values]) != 1:
        raise MalformedData("bech32 checksum mismatch (a typo?)")
    return hrp, bytes(_convert_bits(values[:-6], 5, 8, False))
