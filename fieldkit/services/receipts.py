"""Receipts: HQ signs that it imported a bundle; the device verifies and marks it.

A receipt is signed by HQ's Ed25519 key and age-encrypted to the device's
post-quantum recipient (from its enrolled card), so only that device can read it and
only HQ can have made it. The device accepts it only from an HQ it trusts now that is
also among the bundle's signed recipients, for a bundle it made (id, hash and
sequence number); then it marks that bundle receipted, and services/delivery.py
counts exactly what the bundle carried as delivered. Importing one twice changes
nothing.
"""

from __future__ import annotations

import io
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fieldkit.crypto import signing
from fieldkit.crypto.age_keys import HybridRecipient
from fieldkit.crypto.labels import RECEIPT
from fieldkit.errors import (
    AuthenticationFailed,
    BadSignature,
    FileAccessError,
    InvalidInput,
    NotConfigured,
    NotForThisHQ,
)
from fieldkit.formats import age, bundle, receipts
from fieldkit.formats.receipts import MalformedReceipt, Receipt
from fieldkit.services import custody, delivery, fsio, identity, trust
from fieldkit.services.clock import iso_utc
from fieldkit.store import bundles as bundle_store
from fieldkit.store import records as rec_store
from fieldkit.store.db import Database

if TYPE_CHECKING:
    from fieldkit.services.hq_import import Verified

MAX_RECEIPT_FILE = 64 * 1024


@dataclass(frozen=True)
class ReceiptResult:
    seq: int
    hq_name: str
    delivered: int  # records of the bundle now delivered
    superseded: int  # edited since: the newer version is not delivered yet
    already: bool
    pending: int = 0  # at that version, but an older version or an attachment is not
    # receipted yet


def check_folder(folder: Path) -> None:
    """Checked before anything is imported: the receipts folder exists, is a folder, and
    takes a new file (a probe, created and removed: permission bits do not tell for
    root, a read-only stick or a full one)."""
    if not folder.exists():
        raise FileAccessError(
            f"receipts folder {folder} does not exist",
            hint="create it first; nothing was imported",
        )
    if not folder.is_dir():
        raise FileAccessError(
            f"receipts folder {folder} is not a folder", hint="name a folder; nothing was imported"
        )
    probe = folder / f".{secrets.token_hex(8)}.tmp"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except OSError as exc:
        err = FileAccessError.from_os(f"cannot write receipts in {folder}", exc)
        raise FileAccessError(err.message, hint=f"{err.hint}; nothing was imported") from None


def issue(
    db: Database,
    me: identity.Identity,
    v: Verified,
    out_dir: Path,
    *,
    now: Callable[[], float] = time.time,
) -> Path:
    """Write the signed, encrypted receipt for an imported bundle into out_dir."""
    check_folder(out_dir)
    r = Receipt(
        v.manifest.bundle_id,
        v.bundle_hash,
        v.manifest.device,
        v.manifest.seq,
        me.card.fingerprint,
        int(now()),
        len(v.manifest.records),
        len(v.manifest.attachments),
    )
    body = receipts.encode_body(r)
    sig = signing.sign(me.signing_secret, RECEIPT, receipts.signed_parts(body))
    sealed = age.encrypt_bytes(
        receipts.serialise(body, sig), [HybridRecipient(v.device_card.age_recipient.public)]
    )
    path = fsio.neutral_name(out_dir)  # no device fingerprint, no tool name
    fsio.atomic_write(path, sealed, mode=0o644)
    return path


def import_receipt(
    db: Database, path: Path, *, now: Callable[[], float] = time.time
) -> ReceiptResult:
    me = identity.device(db)
    with fsio.reading(path), open(path, "rb") as fh:
        data = fh.read(MAX_RECEIPT_FILE + 1)
    if len(data) > MAX_RECEIPT_FILE:
        raise MalformedReceipt("the receipt file is too large")
    dec = age.Decryption(io.BytesIO(data), [me.age], armored=False)
    plain = dec.read(receipts.MAX_RECEIPT + 1)
    if dec.read(1):
        raise MalformedReceipt("the receipt is too large")
    body, receipt, sig = receipts.parse(plain)
    hq = next((c for c in trust.trusted_hq_cards(db) if c.fingerprint == receipt.hq), None)
    if hq is None:
        raise NotConfigured("the receipt is from an HQ this device does not trust")
    try:
        signing.verify(hq.signing_key, sig, RECEIPT, receipts.signed_parts(body))
    except AuthenticationFailed:
        raise BadSignature("the receipt's signature does not verify") from None
    if receipt.device != me.card.fingerprint:
        raise InvalidInput("the receipt is for another device")
    export = bundle_store.export_by_id(db, receipt.bundle_id)
    if export is None or export.bundle_hash != receipt.bundle_hash or export.seq != receipt.seq:
        raise InvalidInput("the receipt is for a bundle this device did not make")
    items = bundle_store.exported_items(db, export.seq)
    versions = [(i, v) for kind, i, v in items if kind == "record"]
    carried: dict[str, int] = {}  # each record, at the latest version the bundle carried
    for item_id, version in versions:
        carried[item_id] = max(version, carried.get(item_id, 0))
    if export.receipt_at is None:
        # Trusted now is not enough: only an HQ the bundle was encrypted to has seen it.
        # (Checked before anything changes; a bundle already receipted changes nothing,
        # and its manifest may be gone after purge.)
        if not export.manifest:
            # Emptied when a record or attachment it carried was purged or deleted
            # (store/erase.py): its recipients are gone with it, so the receipt's HQ
            # cannot be shown to be one of them. Refused, as any unchecked receipt.
            raise NotForThisHQ(
                f"the receipt for bundle {export.seq} cannot be checked: the bundle's "
                "list of recipients was removed when a record it carried was purged",
                hint="nothing was changed; what the bundle carried that is still on the "
                "laptop goes to HQ again with 'fieldkit export --all'",
            )
        if receipt.hq not in bundle.decode_manifest(export.manifest).recipients:
            raise NotForThisHQ(
                f"the receipt is from {hq.name}, which bundle {export.seq} was not sent to",
                hint="nothing was changed; import the receipt of an HQ the bundle was made for",
            )
        at = iso_utc(now())
        with db.transaction():
            # From here on, delivery (services/delivery.py) counts what this bundle carried.
            bundle_store.mark_receipt(db, export.seq, at)
            custody.receipt_imported(
                db,
                versions,
                [i for kind, i, _v in items if kind == "attachment"],
                export.seq,
                export.bundle_hash,
                receipt.hq,
                at,
            )
            for item_id, version in versions:  # each (record, version) it carried
                if rec_store.get_summary(db, item_id) is not None:
                    bundle_store.log_delivery(db, item_id, version, export.bundle_id, at)
    return _result(db, export.seq, hq.name, carried, already=export.receipt_at is not None)


def _result(
    db: Database, seq: int, hq_name: str, carried: dict[str, int], *, already: bool
) -> ReceiptResult:
    """How the records this bundle carried stand now (purged ones are not counted)."""
    summaries = [s for i in carried for s in [rec_store.get_summary(db, i)] if s is not None]
    states = delivery.states(db, summaries)
    open_ = [s for s in summaries if states[s.id].kind != "delivered"]
    delivered = len(summaries) - len(open_)
    superseded = sum(1 for s in open_ if s.version > carried[s.id])
    pending = len(open_) - superseded
    return ReceiptResult(seq, hq_name, delivered, superseded, already, pending)
