"""Cards: a name and public keys, self-signed, as a short text file.

    fieldkit-card v1
    kind: hq|device
    name: <1-100 printable characters>
    signing-key: <base64 Ed25519 public key, 32 bytes>
    age-recipient: age1pq1...
    signature: <base64 Ed25519 signature, 64 bytes>

The self-signature covers every line above it and proves the card was made by the
holder of the signing key; it does not prove who that is. People compare the short
fingerprint over the phone for that (docs/bundle-format.md, "Cards").
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass

from fieldkit.crypto import signing
from fieldkit.crypto.age_keys import HybridRecipient, parse_recipient
from fieldkit.crypto.hashing import labelled_hash
from fieldkit.crypto.labels import CARD, CARD_FINGERPRINT
from fieldkit.errors import AuthenticationFailed, MalformedData

HEADER = "fieldkit-card v1"
KINDS = ("hq", "device")
MAX_CARD_SIZE = 8 * 1024
MAX_NAME = 100
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class Card:
    kind: str
    name: str
    signing_key: bytes
    age_recipient: HybridRecipient

    def body(self) -> str:
        return (
            f"{HEADER}\nkind: {self.kind}\nname: {self.name}\n"
            f"signing-key: {base64.b64encode(self.signing_key).decode()}\n"
            f"age-recipient: {self.age_recipient.encode()}\n"
        )

    @property
    def fingerprint(self) -> bytes:
        """32 bytes: binds kind, signing key and age recipient (the name is not bound)."""
        return labelled_hash(
            CARD_FINGERPRINT,
            [self.kind.encode(), self.signing_key, self.age_recipient.public],
        )

    @property
    def short_code(self) -> str:
        return short_code(self.fingerprint)


def short_code(fingerprint: bytes) -> str:
    """The first 100 bits of a fingerprint as 20 Crockford base32 characters in 5 groups:
    easy to read aloud and compare over the phone."""
    value = int.from_bytes(fingerprint[:13], "big") >> 4  # 100 bits
    chars = "".join(_CROCKFORD[(value >> (5 * (19 - i))) & 31] for i in range(20))
    return "-".join(chars[i : i + 4] for i in range(0, 20, 4))


def check_name(name: str) -> str:
    name = unicodedata.normalize("NFC", name.strip())
    if not 1 <= len(name) <= MAX_NAME:
        raise MalformedData(f"a card name has 1 to {MAX_NAME} characters")
    if any(unicodedata.category(c)[0] == "C" for c in name):
        raise MalformedData("a card name cannot contain control characters")
    if any(_code_like(m.group()) for m in _CODE_GROUPS.finditer(name)):
        # The check dialog shows the name above the card's fingerprint: a name holding
        # another card's code could be compared instead of the real one.
        raise MalformedData("a card name cannot contain something that looks like a fingerprint")
    return name


# Three or more groups of four letters or digits, as fingerprints are written
# (XXXX-XXXX-XXXX-...); with a digit in them or in capitals, so "Open Data Tech Hub" stays.
_CODE_GROUPS = re.compile(r"\b[0-9A-Za-z]{4}(?:[-\s.:_/]+[0-9A-Za-z]{4}){2,}\b")


def _code_like(text: str) -> bool:
    return any(c.isdigit() for c in text) or text.upper() == text


def serialise(card: Card, signing_secret: bytes) -> str:
    body = card.body()
    sig = signing.sign(signing_secret, CARD, [body.encode("utf-8")])
    return body + f"signature: {base64.b64encode(sig).decode()}\n"


def parse(text: str) -> Card:
    if len(text) > MAX_CARD_SIZE:
        raise MalformedData("the card file is too large")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != 6 or lines[0] != HEADER:
        raise MalformedData("not a fieldkit card (expected 6 lines starting 'fieldkit-card v1')")
    fields = {}
    for line, key in zip(
        lines[1:], ("kind", "name", "signing-key", "age-recipient", "signature"), strict=True
    ):
        prefix = f"{key}: "
        if not line.startswith(prefix):
            raise MalformedData(f"card line '{key}:' is missing or out of order")
        fields[key] = line[len(prefix) :]
    if fields["kind"] not in KINDS:
        raise MalformedData("card kind must be hq or device")
    name = check_name(fields["name"])
    if name != fields["name"]:
        raise MalformedData("card name is not in canonical form")
    signing_key = _b64(fields["signing-key"], signing.PUBLIC_SIZE, "signing key")
    recipient = parse_recipient(fields["age-recipient"])
    if not isinstance(recipient, HybridRecipient):
        raise MalformedData("a card's age recipient must be post-quantum (age1pq1...)")
    signature = _b64(fields["signature"], signing.SIGNATURE_SIZE, "signature")
    card = Card(fields["kind"], name, signing_key, recipient)
    if card.age_recipient.encode() != fields["age-recipient"]:
        raise MalformedData("card age recipient is not in canonical form")
    try:
        signing.verify(signing_key, signature, CARD, [card.body().encode("utf-8")])
    except AuthenticationFailed:
        raise MalformedData("the card's self-signature does not verify (altered card?)") from None
    return card


def _b64(text: str, size: int, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):  # ValueError: a non-ASCII character
        raise MalformedData(f"card {what} is not base64") from None
    if len(raw) != size or base64.b64encode(raw).decode() != text:
        raise MalformedData(f"card {what} has the wrong length or encoding")
    return raw
