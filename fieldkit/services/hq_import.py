"""HQ import: verify everything, then write everything in one transaction.

Order of checks, each a clean rejection with its own error (nothing written):
  1. the age envelope opens with this HQ's identity and uses only post-quantum stanzas;
  2. magic, version and a well-formed, bounded manifest;
  3. the signing device is enrolled, its signature verifies, it is not revoked;
  4. this HQ is among the recipients named in the signed manifest;
  5. the device's chain: a duplicate is a no-op, a fork is refused, a gap is reported;
  6. then, inside one transaction that commits only at the very end: every record and
     attachment is hashed against the manifest as it streams in, every record passes
     validation, the padding is all zeros and the age payload authenticates to its end.
Any failure in 6 rolls the transaction back. Nothing is released before its hash and
the signature over all hashes have been checked against the manifest.

Attachment bytes stream into new encrypted files (store/blobs.py) while they are
hashed; their keys exist only in memory until the transaction commits. Any failure
unlinks them; a crash leaves files no row names and no key opens, swept at unlock.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from fieldkit.crypto import signing
from fieldkit.crypto.labels import BUNDLE_MANIFEST
from fieldkit.errors import (
    AuthenticationFailed,
    BadSignature,
    ContentMismatch,
    FieldkitError,
    ForkDetected,
    InvalidInput,
    NotForThisHQ,
    OutOfOrder,
    RevokedDevice,
    UnknownDevice,
)
from fieldkit.formats import age, bundle, cards
from fieldkit.formats.age import Decryption
from fieldkit.formats.bundle import MalformedBundle, Manifest
from fieldkit.formats.canonical import canonical_json
from fieldkit.services import fsio, history, identity, model, receipts, search_text, trust
from fieldkit.services.clock import iso_utc
from fieldkit.services.records import summary_for
from fieldkit.store import attachments as att_store
from fieldkit.store import bundles as bundle_store
from fieldkit.store import records as rec_store
from fieldkit.store import trust as trust_store
from fieldkit.store.attachments import AttachmentRow
from fieldkit.store.blobs import BlobWriter
from fieldkit.store.bundles import DeviceBundle
from fieldkit.store.db import Database

Progress = Callable[[int, int], None]

# A bundle may be at most this far ahead of the highest number HQ holds from its
# device (docs/bundle-format.md, section 8). Honest devices count up by one; a jump
# this long means thousands of lost bundles or a stolen key, and without a bound a
# validly signed number near 2^53 would make every later gap report unbounded.
MAX_SEQ_JUMP = 10_000


@dataclass
class ImportReport:
    path: Path
    device_name: str
    device_code: str
    seq: int
    bundle_id: bytes
    bundle_hash: bytes
    duplicate: bool = False
    records_new: int = 0
    records_known: int = 0
    attachments_new: int = 0
    missing_before: list[int] = field(default_factory=list)
    receipt: Path | None = None
    # Signed recipients this HQ does not know: the device also encrypts to someone
    # else, the sign of a substituted HQ card. Reported, not refused.
    unknown_recipients: list[str] = field(default_factory=list)

    @property
    def short_hash(self) -> str:
        return cards.short_code(self.bundle_hash)


class _DryRun(Exception):
    """Raised inside a dry run's transaction to roll it back."""


@dataclass(frozen=True)
class Verified:
    """A bundle whose envelope, signature, recipients and chain have been checked."""

    manifest: Manifest
    manifest_bytes: bytes
    bundle_hash: bytes
    device: trust_store.DeviceRow
    device_card: cards.Card
    duplicate: bool


def import_bundle(
    db: Database,
    path: Path,
    *,
    receipts_dir: Path | None = None,
    progress: Progress | None = None,
    now: Callable[[], float] = time.time,
    dry_run: bool = False,
) -> ImportReport:
    """Verify and import one bundle. With `dry_run` (inspect --with-vault), every
    check runs exactly as in an import, then the transaction is rolled back and no
    file or receipt is kept."""
    me = identity.hq(db)
    if receipts_dir is not None:
        receipts.check_folder(receipts_dir)  # before anything is imported
    with fsio.reading(path), open(path, "rb") as fh:
        dec = open_envelope(fh, me)
        v = verify_prefix(db, dec, me)
        report = ImportReport(
            path,
            v.device.name,
            v.device_card.short_code,
            v.manifest.seq,
            v.manifest.bundle_id,
            v.bundle_hash,
            duplicate=v.duplicate,
            unknown_recipients=unknown_recipients(db, me, v.manifest),
        )
        if not v.duplicate:
            with contextlib.ExitStack() as new_files:
                written: list[BlobWriter] = []

                def new_file() -> BlobWriter:
                    w = new_files.enter_context(att_store.blob_store(db).create())
                    written.append(w)
                    return w

                with contextlib.suppress(_DryRun), db.transaction():
                    _store(db, dec, v, report, progress, iso_utc(now()), new_file)
                    if dry_run:
                        raise _DryRun  # all verified: roll back, and keep no file
                for w in [] if dry_run else written:  # committed: the attachments now
                    w.keep()
    if receipts_dir is not None and not dry_run:
        report.receipt = receipts.issue(db, me, v, receipts_dir, now=now)
    return report


def unknown_recipients(db: Database, me: identity.Identity, m: Manifest) -> list[str]:
    """Short codes of the manifest's recipients that are neither this HQ nor an HQ
    card this vault trusts."""
    known = {me.card.fingerprint} | {t.fingerprint for t in trust_store.list_hq(db)}
    return [cards.short_code(fp) for fp in m.recipients if fp not in known]


def record_ids_of_device(db: Database, device: bytes) -> set[str]:
    return bundle_store.record_ids_of_device(db, device)


def open_envelope(fh: BinaryIO, me: identity.Identity) -> Decryption:
    dec = Decryption(fh, [me.age], armored=False)
    if any(s.type != age.TYPE_PQ for s in dec.header.stanzas):
        # Never accept a bundle that was (also) encrypted to a classic recipient.
        raise MalformedBundle("the bundle is not encrypted with post-quantum recipients only")
    return dec


def import_order(db: Database, paths: list[Path]) -> list[Path]:
    """`paths` in the order to import them: by device, then sequence number, read from
    each bundle's manifest (inside the encryption, so each file is opened and its
    prefix read once, one file at a time, keeping only the two numbers). Files that
    cannot be read keep their order at the end: their import reports why. The order
    is a convenience (import accepts any order); nothing here is trusted."""
    me = identity.hq(db)
    keyed: list[tuple[bytes, int, int, Path]] = []
    unread: list[Path] = []
    for i, path in enumerate(paths):
        try:
            with fsio.reading(path), open(path, "rb") as fh:
                _mbytes, m, _sig = bundle.read_prefix(open_envelope(fh, me))
        except FieldkitError:
            unread.append(path)
            continue
        keyed.append((m.device, m.seq, i, path))
    return [k[3] for k in sorted(keyed)] + unread


def verify_prefix(db: Database, dec: Decryption, me: identity.Identity) -> Verified:
    mbytes, manifest, signature = bundle.read_prefix(dec)
    device = trust_store.get_device(db, manifest.device)
    if device is None:
        raise UnknownDevice("the bundle is signed by a device this HQ has not enrolled")
    card = cards.parse(device.card)
    try:
        signing.verify(card.signing_key, signature, BUNDLE_MANIFEST, bundle.signed_parts(mbytes))
    except AuthenticationFailed:
        raise BadSignature("the bundle's signature does not verify") from None
    if device.revoked_at is not None:
        raise RevokedDevice(
            f"device {card.short_code} ({device.name}) was revoked on {device.revoked_at}"
        )
    if me.card.fingerprint not in manifest.recipients:
        raise NotForThisHQ("this HQ is not among the bundle's signed recipients")
    bhash = bundle.bundle_hash(mbytes)
    duplicate = _check_chain(db, manifest, bhash)
    return Verified(manifest, mbytes, bhash, device, card, duplicate)


def _check_chain(db: Database, m: Manifest, bhash: bytes) -> bool:
    """True for an exact duplicate; ForkDetected for any conflict; False otherwise."""
    same_id = bundle_store.bundle_by_id(db, m.bundle_id)
    here = bundle_store.device_bundle(db, m.device, m.seq)
    if here is not None:
        if here.bundle_hash == bhash:
            return True
        raise ForkDetected(f"a different bundle {m.seq} from this device was already imported")
    last = bundle_store.last_device_seq(db, m.device)
    if m.seq > last + MAX_SEQ_JUMP:
        raise ForkDetected(
            f"bundle {m.seq} is {m.seq - last} ahead of the last bundle imported from this "
            f"device ({last}); at most {MAX_SEQ_JUMP} are accepted"
        )
    if same_id is not None:
        raise ForkDetected("a bundle with this id but another position was already imported")
    before = bundle_store.device_bundle(db, m.device, m.seq - 1) if m.seq > 1 else None
    if before is not None and m.prev != before.bundle_hash:
        raise ForkDetected(f"bundle {m.seq} does not follow the imported bundle {m.seq - 1}")
    after = bundle_store.device_bundle(db, m.device, m.seq + 1)
    if after is not None and after.prev_hash != bhash:
        raise ForkDetected(f"bundle {m.seq} is not the one bundle {m.seq + 1} follows")
    return False


def _check_ownership(db: Database, m: Manifest) -> None:
    """A device adds only to its own records: a record belongs to the device whose
    bundle HQ received it from first, and each attachment to its record. Checked for
    the whole manifest before any byte is read. Since attachments travel with a
    version of their record (docs/bundle-format.md, section 3), bundles import in
    any order, and so do the versions of a record, within a bundle and across them;
    an attachment without its record (older bundles) needs the record at HQ already,
    and the error names the earlier bundles that may carry it."""
    in_bundle = {r.id for r in m.records}
    for r in m.records:
        owner = bundle_store.record_device(db, r.id)
        if owner is not None and owner != m.device:
            raise MalformedBundle(f"record {r.id} belongs to another device")
    for a in m.attachments:
        existing = att_store.get(db, a.id)
        if existing is not None and existing.record_id != a.record:
            raise MalformedBundle(f"attachment {a.id} belongs to another record")
        if a.record in in_bundle:
            continue
        owner = bundle_store.record_device(db, a.record)
        if owner is not None and owner != m.device:
            raise MalformedBundle(
                f"attachment {a.id} is for a record that belongs to another device"
            )
        if owner is None:
            earlier = [s for s in trust.missing_bundles(db, m.device) if s < m.seq]
            earlier += range(bundle_store.last_device_seq(db, m.device) + 1, m.seq)
            if not earlier:
                raise MalformedBundle(f"attachment {a.id} belongs to an unknown record")
            raise OutOfOrder(
                f"attachment {a.id} is for a record HQ has not received: import bundle "
                f"{_ranges(earlier)} from this device first"
            )


def _ranges(seqs: list[int]) -> str:
    """'1', '1, 3' or '1-4000, 4002': a bounded text for any number of seqs."""
    parts: list[str] = []
    start = prev = seqs[0]
    for s in [*seqs[1:], None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if s is not None:
            start = prev = s
    return ", ".join(parts)


def _store(
    db: Database,
    dec: Decryption,
    v: Verified,
    report: ImportReport,
    progress: Progress | None,
    at: str,
    new_file: Callable[[], BlobWriter],
) -> None:
    m = v.manifest
    total = m.content_size()
    done = 0
    _check_ownership(db, m)
    for entry in m.records:
        data = bundle.read_exact(dec, entry.size, "records")
        if hashlib.sha256(data).digest() != entry.sha256:
            raise ContentMismatch(f"record {entry.id} does not match its signed hash")
        section = bundle.decode_record(data, entry)
        try:
            clean = model.validate(section.doc)
        except InvalidInput as exc:
            raise MalformedBundle(
                f"record {entry.id} is not a valid record: {exc.message}"
            ) from None
        # A device older than schema 2 sends schema-1 documents, and a device keeps
        # sending the versions it saved before its upgrade: each is stored as sent
        # (its hash is the device's), and must be in normalised form for its own
        # schema. For schema 1 that is upgrade(doc) == validate(doc) (services/model.py).
        if model.upgrade(section.doc) != clean:
            raise MalformedBundle(f"record {entry.id} is not in normalised form")
        doc = canonical_json(section.doc)
        doc_hash = history.record_version_hash(entry.id, entry.version, doc)
        summary = summary_for(
            entry.id, entry.version, clean, section.created_at, section.updated_at, doc_hash
        )
        if rec_store.receive_version(db, summary, doc, search_text.index_body(clean)):
            history.append(
                db,
                at=at,
                action="record.import",
                subject=entry.id,
                version=entry.version,
                content_hash=doc_hash,
            )
            report.records_new += 1
        else:
            held = rec_store.get_doc(db, entry.id, entry.version)
            if held is not None and held[1] != doc_hash:
                # The device made this version once; other content under its number can
                # only come from someone else holding its key.
                raise ForkDetected(
                    f"record {entry.id} version {entry.version} differs from the one HQ holds"
                )
            report.records_known += 1
        bundle_store.add_provenance(
            db, "record", entry.id, entry.version, m.device, m.bundle_id, m.seq
        )
        done += entry.size
        if progress is not None:
            progress(done, total)
    for a in m.attachments:
        existing = att_store.get(db, a.id)
        # Known already: only hashed. New: streamed into a new file, hashed there.
        h = hashlib.sha256()
        w = None if existing is not None else new_file()
        take = h.update if w is None else w.write
        for part in bundle.iter_section(dec, a.size):
            take(part)
            done += len(part)
            if progress is not None:
                progress(done, total)
        if (h.digest() if w is None else w.finish()) != a.sha256:
            raise ContentMismatch(f"attachment {a.id} does not match its signed hash")
        if w is None:
            if existing is not None and existing.sha256 != a.sha256:
                raise ContentMismatch(f"attachment {a.id} differs from the stored one")
            continue
        w.check_in_place()
        w.release()  # inside our transaction since before the file existed: safe
        row = AttachmentRow(
            a.id,
            a.record,
            a.name,
            a.media_type,
            a.description,
            a.size,
            a.sha256,
            at,
            blob_id=w.blob_id,
            blob_key=w.key,
        )
        att_store.insert(db, row)
        history.append(
            db,
            at=at,
            action="attachment.import",
            subject=a.id,
            version=1,
            content_hash=history.attachment_meta_hash(row),
        )
        bundle_store.add_provenance(db, "attachment", a.id, 1, m.device, m.bundle_id, m.seq)
        report.attachments_new += 1
    unpadded = bundle.unpadded_size(len(v.manifest_bytes), m)
    # Reads to the end of the age payload: its last chunk authenticates here.
    bundle.check_padding(dec, bundle.padding_size(unpadded))
    bundle_store.add_device_bundle(
        db,
        DeviceBundle(
            m.device,
            m.seq,
            m.bundle_id,
            v.bundle_hash,
            m.prev,
            m.history_head,
            m.created,
            at,
            m.prev_abandoned,
        ),
    )
    report.missing_before = trust.missing_bundles(db, m.device)
