"""This vault's own keys and card: a device identity on a field vault, an HQ identity on
an HQ vault. Both are an Ed25519 signing key plus an age post-quantum identity, kept
inside the encrypted database."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fieldkit.crypto import signing
from fieldkit.crypto.age_keys import HybridIdentity
from fieldkit.errors import (
    FileAccessError,
    InvalidInput,
    MalformedData,
    NotConfigured,
    WrongVaultKind,
)
from fieldkit.formats import cards
from fieldkit.formats.cards import Card
from fieldkit.msgids import N_
from fieldkit.services import fsio
from fieldkit.store import identity as id_store
from fieldkit.store.db import Database
from fieldkit.store.identity import IdentityRow

ROLE_FOR_KIND = {"field": "device", "hq": "hq"}


@dataclass(frozen=True)
class Identity:
    role: str
    name: str
    signing_secret: bytes
    age: HybridIdentity

    @functools.cached_property
    def card(self) -> Card:  # cached: the age recipient is an ML-KEM key expansion
        return Card(
            self.role, self.name, signing.public_key(self.signing_secret), self.age.recipient()
        )

    def card_text(self) -> str:
        return cards.serialise(self.card, self.signing_secret)


def write_card(out: Path, text: str) -> None:
    """Write a card to a new file (readable by all: a card holds only public keys and a
    name). An existing file is never replaced: it may be another device's card."""
    if out.exists():
        raise FileAccessError(f"{out} already exists", hint=N_("choose another file name"))
    fsio.atomic_write(out, text.encode("utf-8"), mode=0o644)


def valid_name(name: str) -> str:
    """A name for this vault's card, checked before anything is made (the card's own rule,
    cards.check_name, as a user error rather than a damaged file)."""
    try:
        return cards.check_name(name)
    except MalformedData as exc:
        raise InvalidInput(exc.message, hint="choose another --name") from None


def create(
    db: Database,
    kind: str,
    name: str,
    at: str,
    *,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> Identity:
    """Generate and store this vault's identity; the caller holds the transaction."""
    role = ROLE_FOR_KIND[kind]
    name = cards.check_name(name)
    ident = Identity(
        role, name, signing.generate_secret(random_bytes), HybridIdentity.generate(random_bytes)
    )
    id_store.put(db, IdentityRow(role, name, ident.signing_secret, ident.age.seed, at))
    return ident


def create_if_never_had_one(
    db: Database,
    kind: str,
    name: str,
    at: str,
    *,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> Identity | None:
    """Give a vault made before schema 2 its identity, once (at its first unlock after
    the upgrade): schema 1 had none, so such a vault could never make a card or a bundle.

    Only a vault that has no identity and never made or imported a bundle gets one: an
    identity is never replaced, and a row that is present but does not load is an error
    to report, not a reason to make a new key."""
    if not id_store.never_had_one(db):  # every unlock but the first after the upgrade
        return None
    with db.transaction():
        if not id_store.never_had_one(db):  # another process was first
            return None
        return create(db, kind, name, at, random_bytes=random_bytes)


def load(db: Database, role: str) -> Identity:
    row = id_store.get(db, role)
    if row is None:
        other = "hq" if role == "device" else "device"
        if id_store.get(db, other) is not None:
            what = "an HQ vault" if other == "hq" else "a field vault"
            raise WrongVaultKind(f"this is {what}; the command needs the other kind")
        raise NotConfigured("this vault has no identity yet")
    return Identity(row.role, row.name, row.signing_key, HybridIdentity(row.age_identity))


def device(db: Database) -> Identity:
    return load(db, "device")


def hq(db: Database) -> Identity:
    return load(db, "hq")
