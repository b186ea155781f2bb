"""Trust: the HQ cards a device encrypts to, and HQ's roster of enrolled devices.

A card proves only that its maker holds the keys in it. Who that is, people
establish by comparing the short fingerprint out of band (a phone call): `trust`
and `hq enroll` show it at the terminal and ask, or compare it with the code the
person was given (`--fingerprint CODE`); nothing else lets a card in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from fieldkit.errors import FileAccessError, FingerprintMismatch, InvalidInput, NotFound
from fieldkit.formats import bundle, cards
from fieldkit.formats.cards import Card
from fieldkit.services import identity
from fieldkit.services.clock import iso_utc
from fieldkit.store import bundles as bundle_store
from fieldkit.store import trust as trust_store
from fieldkit.store.db import Database
from fieldkit.store.trust import DeviceRow, TrustedHQ

MAX_CARD_FILE = cards.MAX_CARD_SIZE
_T = TypeVar("_T")


def load_card_file(path: Path) -> tuple[str, Card]:
    """Read a card file (bounded: a card is a few hundred bytes) and parse it."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(MAX_CARD_FILE + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise FileAccessError(
            f"cannot read the card file {path}: {getattr(exc, 'strerror', None) or 'not text'}"
        ) from None
    return text, cards.parse(text)


# ---- field side ---------------------------------------------------------------------


def trust_hq(db: Database, card_text: str, *, now: Callable[[], float] = time.time) -> Card:
    identity.device(db)  # only a field vault trusts HQ cards
    card = cards.parse(card_text)
    if card.kind != "hq":
        raise InvalidInput(
            "this is a device card, not an HQ card",
            hint="ask HQ for the file made by 'fieldkit hq card'",
        )
    with db.transaction():
        held = {t.fingerprint for t in trust_store.list_hq(db)}
        if card.fingerprint not in held and len(held) >= bundle.MAX_RECIPIENTS:
            # A bundle names at most this many recipients (docs/bundle-format.md): one
            # more card would make every later bundle one that HQ refuses.
            raise InvalidInput(
                f"this device already trusts {len(held)} HQ cards, the most a bundle can name",
                hint="remove one with 'fieldkit untrust' first",
            )
        trust_store.add_hq(db, TrustedHQ(card.fingerprint, card.name, card_text, iso_utc(now())))
    return card


def trusted_hq_cards(db: Database) -> list[Card]:
    return [cards.parse(t.card) for t in trust_store.list_hq(db)]


def find_trusted_hq(db: Database, code: str) -> Card:
    """The one trusted HQ card whose fingerprint starts with `code` (4+ characters)."""
    found = [c for c in trusted_hq_cards(db) if _matches(c.fingerprint, code)]
    return _unique(found, code, "trusted HQ card")


def untrust_hq(db: Database, code: str) -> Card:
    card = find_trusted_hq(db, code)
    with db.transaction():
        trust_store.remove_hq(db, card.fingerprint)
    return card


def check_expected_code(card: Card, expected: str) -> None:
    """Refuse the card unless `expected` (as its owner read it out) is its whole short
    fingerprint. Case, dashes and spaces do not matter, nor Crockford's look-alikes
    (O for 0, I and L for 1); a prefix is not enough."""
    if _normal_code(expected) != _normal_code(card.short_code):
        # The card's own code is not shown: a hurried person could paste it back and
        # trust a substituted card. The comparison must be redone with the owner.
        raise FingerprintMismatch("this card's fingerprint does not match the one given")


# ---- HQ side ------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceStatus:
    """One line of the roster, from the columns stored at enrolment (the card was
    verified then; listing never parses a card again)."""

    fingerprint: bytes
    name: str
    enrolled_at: str
    revoked_at: str | None
    last_seq: int
    missing: list[int]

    @property
    def short_code(self) -> str:
        return cards.short_code(self.fingerprint)


def enroll(db: Database, card_text: str, *, now: Callable[[], float] = time.time) -> Card:
    identity.hq(db)
    card = cards.parse(card_text)
    if card.kind != "device":
        raise InvalidInput(
            "this is an HQ card, not a device card",
            hint="ask the fieldworker for the file made by 'fieldkit card'",
        )
    if trust_store.get_device(db, card.fingerprint) is not None:
        raise InvalidInput(f"device {card.short_code} is already enrolled")
    with db.transaction():
        trust_store.enroll(
            db, DeviceRow(card.fingerprint, card.name, card_text, iso_utc(now()), None)
        )
    return card


def find_device(db: Database, code: str | None = None, *, name: str | None = None) -> DeviceRow:
    """By short fingerprint (any unique prefix of 4+ characters), or, only when asked
    for one, by exact name: a device chooses its own name, so a name that looks like
    another device's code must not be taken for it."""
    rows = trust_store.list_devices(db)
    if name is not None:
        found = [d for d in rows if d.name == name]
        wanted = f"named {name!r}"
    else:
        found = [d for d in rows if code is not None and _matches(d.fingerprint, code)]
        wanted = repr(code)
    return _unique(found, wanted, "enrolled device")


def _unique(found: list[_T], wanted: str, what: str) -> _T:
    if not found:
        raise NotFound(
            f"no {what} matches {wanted}",
            hint="give the fingerprint (4+ characters) as the card or 'hq devices' shows it",
        )
    if len(found) > 1:
        raise InvalidInput(
            f"{wanted} matches more than one {what}", hint="give more of the fingerprint"
        )
    return found[0]


def revoke(
    db: Database,
    code: str | None = None,
    *,
    name: str | None = None,
    now: Callable[[], float] = time.time,
) -> Card:
    identity.hq(db)
    device = find_device(db, code, name=name)
    with db.transaction():
        trust_store.revoke(db, device.fingerprint, iso_utc(now()))
    return cards.parse(device.card)


def devices(db: Database) -> list[DeviceStatus]:
    """The roster in two queries, whatever the number of devices and bundles: the
    devices, then every (device, seq) imported, grouped here."""
    identity.hq(db)
    chains: dict[bytes, tuple[list[int], set[int]]] = {}
    for device, seq, abandoned_before in bundle_store.all_device_seqs(db):
        seqs, abandoned = chains.setdefault(device, ([], set()))
        seqs.append(seq)
        if abandoned_before:
            abandoned.add(seq - 1)
    out = []
    for d in trust_store.list_devices(db):
        seqs, abandoned = chains.get(d.fingerprint, ([], set()))
        missing = [s for s in gaps(seqs) if s not in abandoned]
        last = seqs[-1] if seqs else 0
        out.append(DeviceStatus(d.fingerprint, d.name, d.enrolled_at, d.revoked_at, last, missing))
    return out


def missing_bundles(db: Database, device: bytes) -> list[int]:
    """Gaps in the device's chain, less the numbers it declared abandoned."""
    abandoned = bundle_store.abandoned_seqs(db, device)
    return [s for s in gaps(bundle_store.device_seqs(db, device)) if s not in abandoned]


def gaps(seqs: list[int]) -> list[int]:
    """The numbers missing below the highest of `seqs` (sorted, distinct), taken from
    the stored numbers only: the list is as long as the gaps HQ has accepted, which
    the import bounds (hq_import.MAX_SEQ_JUMP per bundle), never as long as a number."""
    out: list[int] = []
    before = 0
    for s in seqs:
        out.extend(range(before + 1, s))
        before = s
    return out


def _matches(fingerprint: bytes, code: str) -> bool:
    wanted = _normal_code(code)
    return len(wanted) >= 4 and _normal_code(cards.short_code(fingerprint)).startswith(wanted)


def _normal_code(code: str) -> str:
    """Upper case, no dashes or spaces, Crockford look-alikes folded."""
    text = "".join(code.upper().split()).replace("-", "")
    return text.translate(_LOOKALIKES)


_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
