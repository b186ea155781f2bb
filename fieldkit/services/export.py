"""Export: pack what changed since the last export into a signed, encrypted bundle.

What changed is every record version saved since (each one, oldest first, not only
a record's latest) and every attachment added since, with the limits of one bundle.

Two phases keep a device's chain consistent whatever crashes:
1. the signed manifest is committed to the export log (sequence number, hash);
2. the bundle file is written atomically from that manifest.
If phase 2 fails or the file is lost, `resend` writes the same container again from
the stored manifest: HQ sees a duplicate, never a fork and never a gap. An unwritten
bundle whose content is gone since (an attachment removed) is abandoned by the next
export, which carries what it owed and tells HQ (docs/bundle-format.md, section 3).

Consent: a record whose current version does not record consent as obtained
(model.lacks_consent) is held back, with all its pending versions and attachments,
unless the caller says the fieldworker confirmed (`include_without_consent`); the plan
and the result name what was held back, so nothing is skipped silently. A held-back
record owes HQ exactly what it owed before (services/delivery.py): the next export
carries it whole once consent is recorded or confirmed. One exception keeps withdrawn
consent working as before: a record whose consent is withdrawn travels when HQ already
has a version of it, so that HQ learns of the withdrawal and stops using it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fieldkit.crypto import signing
from fieldkit.crypto.age_keys import Recipient, X25519Recipient
from fieldkit.crypto.labels import BUNDLE_MANIFEST
from fieldkit.errors import FileAccessError, IntegrityError, InvalidInput, NotConfigured, NotFound
from fieldkit.formats import bundle, cards
from fieldkit.formats.age import Encryptor
from fieldkit.formats.bundle import AttachmentEntry, Manifest, RecordEntry, RecordSection
from fieldkit.services import fsio, identity, model, trust
from fieldkit.services.clock import iso_utc
from fieldkit.store import attachments as att_store
from fieldkit.store import bundles as bundle_store
from fieldkit.store import history as hist_store
from fieldkit.store import records as rec_store
from fieldkit.store.background import BackgroundWriter, prefetched
from fieldkit.store.bundles import ExportItem, ExportRow
from fieldkit.store.db import Database

Progress = Callable[[int, int], None]
_ZEROS = bytes(64 * 1024)


@dataclass(frozen=True)
class Held:
    """A record held back from a bundle because it lacks consent (not confirmed)."""

    id: str
    pseudonym: str


@dataclass(frozen=True)
class ExportPlan:
    """What the next bundle holds. A bundle has limits a reader enforces (records,
    attachments, manifest size: docs/bundle-format.md); what is pending beyond them
    is left for the bundle after, counted in `left_records` and `left_attachments`."""

    record_entries: list[RecordEntry]
    attachment_entries: list[AttachmentEntry]
    recipients: list[cards.Card]
    left_records: int = 0
    left_attachments: int = 0
    # Records lacking consent: held back, or (with include_without_consent) included.
    without_consent: tuple[Held, ...] = ()
    held_back: bool = True

    @property
    def held(self) -> tuple[Held, ...]:
        """The records this plan holds back for lack of consent."""
        return self.without_consent if self.held_back else ()

    @property
    def records(self) -> list[tuple[str, int]]:
        return [(r.id, r.version) for r in self.record_entries]

    @property
    def record_count(self) -> int:
        """Records in the bundle (`records` lists their versions: one or more each)."""
        return len({r.id for r in self.record_entries})

    @property
    def attachments(self) -> list[str]:
        return [a.id for a in self.attachment_entries]

    @property
    def content_bytes(self) -> int:
        return sum(r.size for r in self.record_entries) + sum(
            a.size for a in self.attachment_entries
        )

    @property
    def empty(self) -> bool:
        return not self.record_entries and not self.attachment_entries

    @property
    def left_over(self) -> bool:
        return bool(self.left_records or self.left_attachments)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    seq: int
    bundle_id: bytes
    bundle_hash: bytes
    records: int  # records the bundle carries
    attachments: int
    size: int
    versions: int = 0  # record versions it carries (one or more of each record)
    left_records: int = 0  # pending work that did not fit: for the next bundle
    left_attachments: int = 0
    abandoned: int | None = None  # the unwritten bundle this one took over from
    held: tuple[Held, ...] = ()  # records held back for lack of consent
    included_without_consent: tuple[Held, ...] = ()  # records the fieldworker confirmed

    @property
    def short_hash(self) -> str:
        return cards.short_code(self.bundle_hash)


def next_seq(db: Database) -> int:
    last = bundle_store.last_export(db)
    return 1 if last is None else last.seq + 1


def unwritten_seq(db: Database) -> int | None:
    """The last bundle's number if its file was never written (a crash, a full stick)."""
    last = bundle_store.last_export(db)
    return last.seq if last is not None and last.written_at is None else None


def plan(
    db: Database, *, everything: bool = False, include_without_consent: bool = False
) -> ExportPlan:
    """What the next bundle holds. Records lacking consent are held back (with their
    pending versions and attachments) unless `include_without_consent`; either way the
    plan names them in `without_consent`."""
    me = identity.device(db)
    hqs = trust.trusted_hq_cards(db)
    owed = bundle_store.records_to_export(db, everything)
    owed_atts = [
        _attachment_entry(db, aid) for aid in bundle_store.attachments_to_export(db, everything)
    ]
    lacking = without_consent(
        db, [*dict.fromkeys([r for r, _ in owed] + [a.record for a in owed_atts])]
    )
    hold = set() if include_without_consent else {h.id for h in lacking}
    records = [_record_entry(db, rid, v) for rid, v in owed if rid not in hold]
    attachments = [a for a in owed_atts if a.record not in hold]
    fixed = bundle.fixed_manifest_size(me.card.fingerprint, tuple(c.fingerprint for c in hqs))
    pending = {r.id for r in records}
    carriers = {
        a.record: _record_entry(db, a.record, _current_version(db, a.record))
        for a in attachments
        if a.record not in pending
    }
    recs, atts = _fit(records, attachments, carriers, bundle.MAX_MANIFEST - fixed)
    # Left over: pending records with a version not in this bundle (a carrier that
    # travels again only for its new attachment was never pending, so it is not
    # counted either way).
    taken = {(r.id, r.version) for r in recs}
    left = len({r.id for r in records if (r.id, r.version) not in taken})
    return ExportPlan(
        recs,
        atts,
        hqs,
        left,
        len(attachments) - len(atts),
        tuple(lacking),
        held_back=not include_without_consent,
    )


def without_consent(db: Database, record_ids: list[str]) -> list[Held]:
    """Those of `record_ids` (in that order) that lack consent (model.lacks_consent on
    their current version), less those whose consent is withdrawn and of which HQ
    already has a version: the withdrawal must reach HQ (module docstring)."""
    lacking = rec_store.lacking_consent(db, record_ids)
    out: list[Held] = []
    for rid in record_ids:
        if rid not in lacking:
            continue
        summary = rec_store.get_summary(db, rid)
        if summary is None:
            continue
        found = rec_store.get_doc(db, rid, summary.version)
        doc = model.upgrade(json.loads(found[0])) if found is not None else {}
        if not model.lacks_consent(doc):  # the SQL and the model agree; this keeps them so
            continue
        if doc["consent"].get("withdrawn") and bundle_store.record_ever_exported(db, rid):
            continue
        out.append(Held(rid, summary.pseudonym))
    return out


def _fit(
    records: list[RecordEntry],
    attachments: list[AttachmentEntry],
    carriers: dict[str, RecordEntry],
    budget: int,
) -> tuple[list[RecordEntry], list[AttachmentEntry]]:
    """The longest prefix of the pending work that one bundle can hold, in order: each
    record's versions oldest first, then its new attachments, in the same bundle as
    the record's last version in it (a record with more versions or attachments than
    fit goes with as many as fit; the rest follow in the next bundles, with its later
    versions). Attachments of records exported before come last, each group after its
    record's current version (`carriers`), sent again: every attachment travels with
    a version of its record, so HQ can import the bundles in any order."""
    by_record: dict[str, list[AttachmentEntry]] = {}
    for a in attachments:
        by_record.setdefault(a.record, []).append(a)
    versions: dict[str, list[RecordEntry]] = {}
    for r in records:
        versions.setdefault(r.id, []).append(r)
    for rid in by_record:
        if rid in carriers:
            versions.setdefault(rid, [carriers[rid]])
    recs: list[RecordEntry] = []
    atts: list[AttachmentEntry] = []
    used = 0

    def take(entry: RecordEntry | AttachmentEntry) -> bool:
        nonlocal used
        size = bundle.entry_size(entry)
        if isinstance(entry, RecordEntry):
            if len(recs) == bundle.MAX_RECORDS or used + size > budget:
                return False
            recs.append(entry)
        else:
            if len(atts) == bundle.MAX_ATTACHMENTS or used + size > budget:
                return False
            atts.append(entry)
        used += size
        return True

    for rid, entries in versions.items():
        if not all(take(r) for r in entries) or not all(take(a) for a in by_record.get(rid, [])):
            break
    return recs, atts


def export(
    db: Database,
    out: Path,
    *,
    everything: bool = False,
    include_without_consent: bool = False,
    progress: Progress | None = None,
    now: Callable[[], float] = time.time,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> ExportResult | None:
    """Make the next bundle; None when there is nothing to export.

    A bundle whose file was never written (a full USB stick, a crash) is reported
    before anything else: its records already count as exported, so "nothing to
    export" would hide that they never left the laptop. If its content can no longer
    be produced (an attachment removed, a record purged since), it is abandoned: what
    it carried is owed again and goes into this bundle, which keeps the chain through
    it (`prev` is its hash, so a copy that reached HQ after all is no fork) and says
    so in its signed manifest (`prev_abandoned`), so HQ stops waiting for it.

    Records lacking consent are held back unless `include_without_consent` (the
    fieldworker confirmed): the result names them (`held`), and when nothing else is
    pending the result is None; `plan` names them beforehand."""
    me = identity.device(db)
    last = bundle_store.last_export(db)
    abandon = last is not None and last.written_at is None
    if last is not None and abandon:  # checked first: see the docstring
        if _producible(db, last):
            raise InvalidInput(
                f"bundle {last.seq} was never written",
                hint=f"write it first with 'fieldkit export --resend {last.seq}'",
            )
        with db.transaction():  # idempotent: it can never be written again
            bundle_store.release_items(db, last.seq)
    p = plan(db, everything=everything, include_without_consent=include_without_consent)
    if p.empty:
        return None
    if not p.recipients:
        raise NotConfigured(
            "no HQ card is trusted yet, so there is no one to encrypt to",
            hint="import HQ's card with 'fieldkit trust HQCARD'",
        )
    _check_destination(out)
    records, attachments = p.record_entries, p.attachment_entries
    head = hist_store.last(db)
    manifest = Manifest(
        bundle_id=random_bytes(bundle.ID_SIZE),
        device=me.card.fingerprint,
        seq=1 if last is None else last.seq + 1,
        prev=None if last is None else last.bundle_hash,
        created=int(now()),
        recipients=tuple(c.fingerprint for c in p.recipients),
        history_head=head.entry_hash if head else bytes(32),
        records=tuple(records),
        attachments=tuple(attachments),
        prev_abandoned=abandon,
    )
    mbytes = bundle.encode_manifest(manifest)
    sig = signing.sign(me.signing_secret, BUNDLE_MANIFEST, bundle.signed_parts(mbytes))
    row = ExportRow(
        manifest.seq,
        manifest.bundle_id,
        bundle.bundle_hash(mbytes),
        mbytes,
        sig,
        iso_utc(now()),
        None,
        None,
    )
    items = [ExportItem("record", r.id, r.version) for r in records]
    items += [ExportItem("attachment", a.id, 1, a.sha256) for a in attachments]
    with db.transaction():  # phase 1: the chain position is taken, durably
        bundle_store.record_export(db, row, items)
    res = _write(db, row, manifest, [c.age_recipient for c in p.recipients], out, progress, now)
    return dataclasses.replace(
        res,
        left_records=p.left_records,
        left_attachments=p.left_attachments,
        abandoned=last.seq if last is not None and abandon else None,
        held=p.held,
        included_without_consent=() if p.held_back else _carried(p.without_consent, p),
    )


def _carried(records: tuple[Held, ...], p: ExportPlan) -> tuple[Held, ...]:
    """Those of `records` that plan `p` puts in its bundle."""
    ids = {r.id for r in p.record_entries}
    return tuple(h for h in records if h.id in ids)


def _producible(db: Database, row: ExportRow) -> bool:
    """Whether bundle `row` can still be written byte for byte: every record version
    and attachment it lists is in the vault with the signed hash. A manifest emptied
    when a record it carried was deleted or purged cannot be."""
    if not row.manifest:
        return False
    m = bundle.decode_manifest(row.manifest)
    for a in m.attachments:
        now_there = att_store.get(db, a.id)
        if now_there is None or (now_there.sha256, now_there.size) != (a.sha256, a.size):
            return False
    try:
        return all(
            hashlib.sha256(_record_bytes(db, r.id, r.version)).digest() == r.sha256
            for r in m.records
        )
    except IntegrityError:  # the version is gone (a purge)
        return False


def resend(
    db: Database,
    seq: int,
    out: Path,
    *,
    progress: Progress | None = None,
    now: Callable[[], float] = time.time,
    x25519: X25519Recipient | None = None,
) -> ExportResult:
    """Write bundle `seq` again, byte-identical inside (for a lost or unwritten bundle).

    With `x25519`, the copy is encrypted to that classic recipient only: a compatibility
    copy for stock age tools older than 1.3. It is not quantum-safe, is never mixed
    with post-quantum recipients, and fieldkit's own import refuses it.
    """
    identity.device(db)
    row = bundle_store.export_by_seq(db, seq)
    if row is None:
        raise NotFound(f"this device made no bundle {seq}")
    last = bundle_store.last_export(db)
    if row.written_at is None and last is not None and last.seq != seq:
        raise NotFound(
            f"bundle {seq} was abandoned: it was never written, and its content changed "
            "before it could be",
            hint=f"what it carried went into bundle {seq + 1} or later; send those",
        )
    if not _producible(db, row):
        raise NotFound(
            f"bundle {seq} can no longer be written: an attachment or record it carried "
            "was removed, purged or deleted since",
            hint=(
                "run 'fieldkit export': the bundle is abandoned and what it carried goes "
                "into the next one"
                if row.written_at is None
                else "send what HQ still lacks with 'fieldkit export --all'"
            ),
        )
    manifest = bundle.decode_manifest(row.manifest)
    recipients: list[Recipient]
    if x25519 is not None:
        recipients = [x25519]
    else:
        by_fp = {c.fingerprint: c for c in trust.trusted_hq_cards(db)}
        recipients = [by_fp[fp].age_recipient for fp in manifest.recipients if fp in by_fp]
        if len(recipients) != len(manifest.recipients):
            raise NotConfigured("an HQ card this bundle was made for is no longer trusted")
    _check_destination(out)
    return _write(db, row, manifest, recipients, out, progress, now)


def _check_destination(out: Path) -> None:
    if out.exists():
        raise FileAccessError(f"{out} already exists", hint="choose a new file name")
    if not out.parent.is_dir():
        raise FileAccessError(f"folder {out.parent} does not exist")


def _write(
    db: Database,
    row: ExportRow,
    manifest: Manifest,
    recipients: list[Recipient],
    out: Path,
    progress: Progress | None,
    now: Callable[[], float],
) -> ExportResult:
    unpadded = bundle.unpadded_size(len(row.manifest), manifest)
    total = unpadded + bundle.padding_size(unpadded)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    try:
        with fsio.atomic_writer(out, mode=0o600) as fh, BackgroundWriter(fh) as sink:
            enc = Encryptor(sink, recipients)
            head = bundle.prefix(row.manifest, row.signature)
            enc.write(head)
            tick(len(head))
            for r in manifest.records:
                data = _record_bytes(db, r.id, r.version)
                if hashlib.sha256(data).digest() != r.sha256:
                    raise IntegrityError(f"record {r.id} changed since it was exported")
                enc.write(data)
                tick(len(data))
            for a in manifest.attachments:
                _write_attachment(db, a, enc, tick)
            pad = total - unpadded
            while pad:
                n = min(pad, len(_ZEROS))
                enc.write(_ZEROS[:n])
                pad -= n
                tick(n)
            enc.close()
            sink.close()  # every byte handed to the file before it is fsynced
    except OSError as exc:
        raise FileAccessError.from_os(f"cannot write {out}", exc) from None
    if row.written_at is None:
        with db.transaction():
            bundle_store.mark_written(db, row.seq, iso_utc(now()))
    return ExportResult(
        out,
        row.seq,
        row.bundle_id,
        row.bundle_hash,
        len({r.id for r in manifest.records}),
        len(manifest.attachments),
        out.stat().st_size,
        versions=len(manifest.records),
    )


def _write_attachment(
    db: Database, a: AttachmentEntry, enc: Encryptor, tick: Callable[[int], None]
) -> None:
    row = att_store.get(db, a.id)
    if row is None:
        raise IntegrityError(f"attachment {a.id} is no longer in the vault")
    if row.sha256 != a.sha256 or row.size != a.size:
        raise IntegrityError(f"attachment {a.id} changed since it was exported")
    # The stored file authenticates every chunk under a key only this row holds, and
    # its SHA-256 was taken from the same bytes at intake; HQ checks it again.
    for chunk in prefetched(att_store.content(db, row)):  # read and open on another core
        enc.write(chunk)
        tick(len(chunk))


def _record_bytes(db: Database, record_id: str, version: int) -> bytes:
    summary = rec_store.get_summary(db, record_id)
    saved = rec_store.get_version(db, record_id, version)
    if summary is None or saved is None:
        raise IntegrityError(f"record {record_id} version {version} is not in the vault")
    doc, saved_at = saved
    return bundle.encode_record(
        RecordSection(record_id, version, summary.created_at, saved_at, json.loads(doc))
    )


def _current_version(db: Database, record_id: str) -> int:
    summary = rec_store.get_summary(db, record_id)
    if summary is None:
        raise IntegrityError(f"record {record_id} is not in the vault")
    return summary.version


def _record_entry(db: Database, record_id: str, version: int) -> RecordEntry:
    data = _record_bytes(db, record_id, version)
    return RecordEntry(record_id, version, len(data), hashlib.sha256(data).digest())


def _attachment_entry(db: Database, attachment_id: str) -> AttachmentEntry:
    a = att_store.get(db, attachment_id)
    if a is None:
        raise NotFound(f"no attachment {attachment_id}")
    return AttachmentEntry(
        a.id,
        a.record_id,
        bundle.safe_attachment_name(a.filename),
        a.media_type[: bundle.MAX_MEDIA_TYPE],
        a.description,
        a.size,
        a.sha256,
    )
