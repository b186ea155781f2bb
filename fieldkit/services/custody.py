"""The chain-of-custody log (docs/custody.md): signed, hash-chained entries per item.

Every function that appends runs inside the caller's transaction, the one that makes the
change it records, so an entry exists exactly when its event happened. Entries are
signed with this vault's own key: the device key on a field vault, the HQ key at HQ.
`verify_chain` is the one checker: the vault check, the report and the import use it;
fieldkit/custody_verify.py is its independent twin that needs only the exported JSON.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fieldkit.crypto import signing
from fieldkit.crypto.labels import CUSTODY_ENTRY
from fieldkit.errors import AuthenticationFailed, InvalidInput, MalformedData, NotFound
from fieldkit.formats import cards as cards_fmt
from fieldkit.formats import custody as fmt
from fieldkit.formats.bundle import MalformedBundle
from fieldkit.formats.canonical import canonical_json
from fieldkit.formats.cards import Card, short_code
from fieldkit.formats.custody import Actor, Entry, Item, MalformedEntry

__all__ = ["Item"]
from fieldkit.services import identity, trust
from fieldkit.services.clock import iso_utc
from fieldkit.store import attachments as att_store
from fieldkit.store import custody as store
from fieldkit.store import identity as id_store
from fieldkit.store import meta
from fieldkit.store import records as rec_store
from fieldkit.store.custody import CustodyRow
from fieldkit.store.db import Database

MIN_PREFIX = 6


# ---- items ------------------------------------------------------------------------


def attachment_item(attachment_id: str, sha256: bytes) -> Item:
    return Item("attachment", attachment_id, None, sha256)


def record_item(record_id: str, version: int, doc: bytes) -> Item:
    """A record version is named by the SHA-256 of its stored canonical document bytes."""
    return Item("record_version", record_id, version, hashlib.sha256(doc).digest())


# ---- appending --------------------------------------------------------------------


def signer(db: Database) -> identity.Identity | None:
    """This vault's own identity (device or HQ), or None on a vault that has none yet
    (its items are backfilled once it has one)."""
    for role in ("device", "hq"):
        if id_store.get(db, role) is not None:
            return identity.load(db, role)
    return None


def append(
    db: Database,
    item: Item,
    event: str,
    at: str,
    details: dict[str, Any] | None = None,
    *,
    me: identity.Identity | None = None,
    operator: str | None = None,
) -> Entry | None:
    """Sign and store the next entry of `item`'s chain; None when the vault has no key."""
    me = me if me is not None else signer(db)
    if me is None:
        return None
    entry, row = _signed(me, item, store.last(db, *item.key()), event, at, details, operator)
    store.append(db, row)
    return entry


def _signed(
    me: identity.Identity,
    item: Item,
    last: CustodyRow | None,
    event: str,
    at: str,
    details: dict[str, Any] | None,
    operator: str | None = None,
) -> tuple[Entry, CustodyRow]:
    entry = Entry(
        item=item,
        seq=1 if last is None else last.seq + 1,
        prev=fmt.ZERO_HASH if last is None else last.entry_hash,
        event=event,
        time=at,
        actor=Actor(me.card.fingerprint, me.card.signing_key, operator),
        details=dict(details or {}),
    )
    body = fmt.encode_body(entry)
    sig = signing.sign(me.signing_secret, CUSTODY_ENTRY, fmt.signed_parts(body))
    kind, item_id, version = item.key()
    row = CustodyRow(kind, item_id, version, entry.seq, event, body, sig, fmt.entry_hash(body, sig))
    return entry, row


def entry_item(body: bytes) -> Item:
    return fmt.decode_body(body).item


def current_item(db: Database, kind: str, item_id: str, version: int) -> Item | None:
    last = store.last(db, kind, item_id, version)
    return None if last is None else fmt.decode_body(last.body).item


def record_saved(db: Database, record_id: str, version: int, doc: bytes, at: str) -> None:
    """Capture of a record version; a version after the first is an edit naming its parent."""
    item = record_item(record_id, version, doc)
    if version == 1:
        append(db, item, "capture", at)
        return
    parent = rec_store.get_doc(db, record_id, version - 1)
    details: dict[str, Any] = {"parent_version": version - 1}
    if parent is not None:
        details["parent_sha256"] = hashlib.sha256(parent[0]).digest()
    append(db, item, "edit", at, details)


def attachment_added(db: Database, attachment_id: str, sha256: bytes, size: int, at: str) -> None:
    append(db, attachment_item(attachment_id, sha256), "capture", at, {"size": size})


def export_entries(
    db: Database,
    me: identity.Identity,
    records: Iterable[tuple[str, int]],
    attachments: Iterable[str],
    bundle_seq: int,
    bundle_id: bytes,
    at: str,
) -> tuple[list[CustodyRow], bytes, int]:
    """The export entry of each item a bundle carries (signed, not yet stored: the
    caller stores them with the export, in one transaction), and the bundle's custody
    section: each item's whole chain up to and including that export entry
    (docs/bundle-format.md, section 5), with its entry count. The entry names the
    bundle's id, not its hash: the hash covers the manifest, which covers this section."""
    details = {"bundle_seq": bundle_seq, "bundle_id": bundle_id}
    new_rows: list[CustodyRow] = []
    frames: list[tuple[bytes, bytes]] = []
    for key in _keys(records, attachments):
        chain = store.chain(db, *key)
        if not chain:
            continue
        item = fmt.decode_body(chain[-1].body).item
        _entry, row = _signed(me, item, chain[-1], "export", at, details)
        new_rows.append(row)
        frames += [(r.body, r.signature) for r in [*chain, row]]
    return new_rows, fmt.encode_frames(frames), len(frames)


def carried_section(
    db: Database, records: Iterable[tuple[str, int]], attachments: Iterable[str], bundle_id: bytes
) -> bytes:
    """The custody section of a bundle made before, again (a resend): each item's chain
    up to its export entry for that bundle, byte for byte as it was signed."""
    frames: list[tuple[bytes, bytes]] = []
    for key in _keys(records, attachments):
        chain = store.chain(db, *key)
        for n, r in enumerate(chain):
            if r.event == "export" and fmt.decode_body(r.body).details["bundle_id"] == bundle_id:
                frames += [(x.body, x.signature) for x in chain[: n + 1]]
                break
    return fmt.encode_frames(frames)


def verify_carried(
    section: bytes,
    count: int,
    bundle_id: bytes,
    bundle_seq: int,
    device: Card,
    *,
    fingerprint: bytes | None = None,
) -> dict[tuple[str, str, int], list[tuple[bytes, bytes, bytes]]]:
    """A bundle's custody section, checked before anything of the bundle is written:
    every entry parses, is signed by the bundle's own device, and each item's chain is
    whole from its first entry and ends with the export entry of this very bundle.
    Returns each item's (body, signature, hash) rows; MalformedBundle (exit 27) else."""
    try:
        frames = fmt.decode_frames(section, count)
    except MalformedEntry as exc:
        raise MalformedBundle(f"custody section: {exc.message}") from None
    grouped: dict[tuple[str, str, int], list[tuple[bytes, bytes, bytes | None]]] = {}
    last_key: tuple[str, str, int] | None = None
    for body, sig in frames:
        try:
            key = fmt.decode_body(body).item.key()
        except MalformedEntry as exc:
            raise MalformedBundle(f"custody section: {exc.message}") from None
        if key != last_key and key in grouped:
            raise MalformedBundle("custody section: an item's entries are not together")
        grouped.setdefault(key, []).append((body, sig, None))
        last_key = key
    fp = device.fingerprint if fingerprint is None else fingerprint  # vectors: a stand-in
    keys = {
        fp: KnownKey(device.kind, device.name, fp, device.signing_key, device.age_recipient.public)
    }
    out: dict[tuple[str, str, int], list[tuple[bytes, bytes, bytes]]] = {}
    for key, rows in grouped.items():
        check = verify_chain(key, rows, keys)
        if check.problems:
            raise MalformedBundle(f"custody section does not verify: {check.problems[0]}")
        last = check.entries[-1][0]
        if (
            last.event != "export"
            or last.details.get("bundle_id") != bundle_id
            or (last.details.get("bundle_seq") != bundle_seq)
        ):
            raise MalformedBundle(
                f"custody section: the chain of {key[1]} does not end with this bundle's export"
            )
        out[key] = [
            (body, sig, h) for (body, sig, _), (_e, _s, h) in zip(rows, check.entries, strict=True)
        ]
    return out


def store_carried(
    db: Database, key: tuple[str, str, int], rows: list[tuple[bytes, bytes, bytes]]
) -> bool:
    """At HQ: the device's entries of an item HQ has no chain for yet become the start
    of HQ's chain (hq_import follows them). False when HQ already had a chain."""
    if store.last(db, *key) is not None:
        return False
    for body, sig, h in rows:
        e = fmt.decode_body(body)
        store.append(db, CustodyRow(*key, e.seq, e.event, body, sig, h))
    return True


def receipt_imported(
    db: Database,
    records: Iterable[tuple[str, int]],
    attachments: Iterable[str],
    bundle_seq: int,
    bundle_hash: bytes,
    hq: bytes,
    at: str,
) -> None:
    """What HQ says it holds: one receipt entry per item the receipted bundle carried."""
    details = {"bundle_seq": bundle_seq, "bundle_hash": bundle_hash, "hq": hq}
    me = signer(db)
    for kind, item_id, version in _keys(records, attachments):
        item = current_item(db, kind, item_id, version)
        if item is not None:
            append(db, item, "receipt", at, details, me=me)


def purged(db: Database, record_id: str, attachment_ids: Iterable[str], at: str) -> None:
    """Purge after a receipt: each version and attachment of the record gets its last entry."""
    versions = [(record_id, v) for v in store.versions_of(db, record_id)]
    me = signer(db)
    for kind, item_id, version in _keys(versions, attachment_ids):
        item = current_item(db, kind, item_id, version)
        if item is not None:
            append(db, item, "purge", at, me=me)


def forget(db: Database, record_id: str | None, attachment_ids: Iterable[str]) -> None:
    """A deleted record or attachment (not a purge after delivery) leaves no custody
    entries: the hashes would still say what the laptop once held."""
    if record_id is not None:
        store.delete_item(db, "record_version", record_id)
    for a in attachment_ids:
        store.delete_item(db, "attachment", a)


def hq_imported(
    db: Database, item: Item, bundle_seq: int, bundle_hash: bytes, device: bytes, at: str
) -> None:
    append(
        db,
        item,
        "hq_import",
        at,
        {"bundle_seq": bundle_seq, "bundle_hash": bundle_hash, "device": device},
    )


def log_extraction(
    db: Database,
    *,
    attachment_id: str,
    original_sha256: bytes,
    reason: str,
    at: str,
    derived_sha256: bytes | None = None,
    stripped: bool = False,
    actor: str | None = None,
) -> Entry | None:
    """An attachment written out of the HQ vault: by whom (HQ key, optional operator name
    `actor`), why (the analyst's reason, kept literally) and, for a working copy, the
    hash of the copy written (`derived_sha256`) and whether its metadata was stripped."""
    details: dict[str, Any] = {"reason": reason}
    if derived_sha256 is not None and derived_sha256 != original_sha256:
        details["derived_sha256"] = derived_sha256
    if stripped:
        details["stripped"] = True
    item = current_item(db, "attachment", attachment_id, 0)
    if item is None or item.sha256 != original_sha256:
        item = attachment_item(attachment_id, original_sha256)
    return append(db, item, "extraction", at, details, operator=actor)


def log_analyst_export(
    db: Database, versions: list[tuple[str, int]], at: str, *, actor: str | None = None
) -> bytes:
    """One analyst_export entry per record version exported, each naming the export's
    manifest hash: SHA-256 of the canonical list of (record id, version, version hash).
    Returns that hash (it is printed, so the export file can be tied to the log)."""
    listed: list[list[Any]] = []
    items: list[Item] = []
    for record_id, version in sorted(set(versions)):
        item = current_item(db, "record_version", record_id, version)
        if item is None:
            continue
        items.append(item)
        listed.append([record_id, version, item.sha256.hex()])
    digest = export_manifest_hash(listed)
    me = signer(db)
    for item in items:
        append(
            db,
            item,
            "analyst_export",
            at,
            {"export_sha256": digest, "records": len(items)},
            me=me,
            operator=actor,
        )
    return digest


def export_manifest_hash(listed: list[list[Any]]) -> bytes:
    return hashlib.sha256(canonical_json(listed)).digest()


def _keys(
    records: Iterable[tuple[str, int]], attachments: Iterable[str]
) -> list[tuple[str, str, int]]:
    out = [("record_version", rid, v) for rid, v in records]
    return out + [("attachment", a, 0) for a in attachments]


# ---- backfill at the schema-8 upgrade ----------------------------------------------


def backfill(db: Database, *, now: Callable[[], float] = time.time) -> int:
    """Give every item stored before schema 8 its first entry, marked backfilled and
    dated at the upgrade (never a made-up capture time). Idempotent; runs at unlock."""
    me = signer(db)
    if me is None:
        return 0
    missing_versions = db.all(
        "SELECT v.record_id, v.version, v.doc FROM record_versions v WHERE NOT EXISTS ("
        " SELECT 1 FROM custody c WHERE c.kind = 'record_version' AND c.item_id = v.record_id"
        " AND c.version = v.version)"
    )
    missing_atts = db.all(
        "SELECT a.id, a.sha256, a.size FROM attachments a WHERE NOT EXISTS ("
        " SELECT 1 FROM custody c WHERE c.kind = 'attachment' AND c.item_id = a.id)"
    )
    if not missing_versions and not missing_atts:
        return 0
    at = meta.get(db, "custody_backfill_at") or iso_utc(now())
    event = "capture" if me.role == "device" else "hq_import"
    with db.transaction():
        for rid, version, doc in missing_versions:
            item = record_item(str(rid), int(version), bytes(doc))
            append(db, item, event, at, {"backfilled": True}, me=me)
        for aid, sha, size in missing_atts:
            details: dict[str, Any] = {"backfilled": True}
            if event == "capture":
                details["size"] = int(size)
            append(db, attachment_item(str(aid), bytes(sha)), event, at, details, me=me)
    return len(missing_versions) + len(missing_atts)


# ---- verifying ----------------------------------------------------------------------


@dataclass(frozen=True)
class KnownKey:
    role: str
    name: str
    fingerprint: bytes
    signing_key: bytes
    age_public: bytes


@dataclass
class ChainCheck:
    key: tuple[str, str, int]
    entries: list[tuple[Entry, bytes, bytes]] = field(default_factory=list)  # entry, sig, hash
    problems: list[str] = field(default_factory=list)


def known_keys(db: Database) -> dict[bytes, KnownKey]:
    """Every key this vault can name: its own, its devices (HQ) and trusted HQs (field)."""
    cards: list[Card] = []
    me = signer(db)
    if me is not None:
        cards.append(me.card)
    cards += trust.trusted_hq_cards(db)
    for row in db.all("SELECT card FROM devices"):
        try:
            cards.append(cards_fmt.parse(str(row[0])))
        except MalformedData:
            continue
    return {
        c.fingerprint: KnownKey(
            c.kind, c.name, c.fingerprint, c.signing_key, c.age_recipient.public
        )
        for c in cards
    }


def verify_chain(
    key: tuple[str, str, int],
    rows: list[tuple[bytes, bytes, bytes | None]],
    keys: dict[bytes, KnownKey],
) -> ChainCheck:
    """Check one item's chain: each body parses, names this item, is signed by a known
    key it names, follows the entry before it (seq and prev), and its stored hash (when
    given) is the recomputed one. Every problem is listed; nothing stops at the first."""
    check = ChainCheck(key)
    label = f"{key[1]}@{key[2]}" if key[0] == "record_version" else key[1]
    prev = fmt.ZERO_HASH
    first_item: Item | None = None
    for n, (body, sig, stored_hash) in enumerate(rows, start=1):
        try:
            entry = fmt.decode_body(body)
            h = fmt.entry_hash(body, sig)
        except MalformedEntry as exc:
            check.problems.append(f"{label}: entry {n} is malformed ({exc.message})")
            prev = bytes(32)  # nothing after it can link to a valid predecessor
            continue
        if entry.item.key() != key:
            check.problems.append(f"{label}: entry {n} names another item")
        if first_item is None:
            first_item = entry.item
            if entry.event not in fmt.FIRST_EVENTS:
                check.problems.append(f"{label}: the chain does not start with its capture")
        elif entry.item != first_item:
            check.problems.append(f"{label}: entry {n} names another hash for the item")
        if entry.seq != n:
            check.problems.append(f"{label}: entry {n} has number {entry.seq} (missing or moved)")
        if entry.prev != prev:
            check.problems.append(f"{label}: entry {n} does not follow the entry before it")
        if stored_hash is not None and stored_hash != h:
            check.problems.append(f"{label}: entry {n}'s stored hash is not its hash")
        known = keys.get(entry.actor.fingerprint)
        if known is None or known.signing_key != entry.actor.key:
            check.problems.append(f"{label}: entry {n} is signed by an unknown key")
        try:
            signing.verify(entry.actor.key, sig, CUSTODY_ENTRY, fmt.signed_parts(body))
        except AuthenticationFailed:
            check.problems.append(f"{label}: entry {n}'s signature does not verify")
        check.entries.append((entry, sig, h))
        prev = h
    if not rows:
        check.problems.append(f"{label}: no custody entries")
    return check


def _stored_rows(rows: list[CustodyRow]) -> list[tuple[bytes, bytes, bytes | None]]:
    return [(r.body, r.signature, r.entry_hash) for r in rows]


@dataclass
class VaultCheck:
    chains: int
    entries: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_vault(db: Database) -> VaultCheck:
    """Every chain in the vault, and every stored item has one naming its stored hash."""
    keys = known_keys(db)
    problems: list[str] = []
    chains = entries = 0
    held: dict[tuple[str, str, int], Item] = {}
    for key in store.items(db):
        rows = store.chain(db, *key)
        check = verify_chain(key, _stored_rows(rows), keys)
        problems += check.problems
        chains += 1
        entries += len(rows)
        if check.entries:
            held[key] = check.entries[0][0].item
    for rid, version, doc in db.all("SELECT record_id, version, doc FROM record_versions"):
        item = record_item(str(rid), int(version), bytes(doc))
        got = held.get(item.key())
        if got is None:
            problems.append(f"record {rid} version {version} has no custody chain")
        elif got.sha256 != item.sha256:
            problems.append(f"record {rid} version {version} differs from its custody chain")
    for a in att_store.all_rows(db):
        got = held.get(("attachment", a.id, 0))
        if got is None:
            problems.append(f"attachment {a.id} has no custody chain")
        elif got.sha256 != a.sha256:
            problems.append(f"attachment {a.id} differs from its custody chain")
    return VaultCheck(chains, entries, problems)


# ---- reports ------------------------------------------------------------------------


def resolve(db: Database, spec: str) -> list[tuple[str, str, int]]:
    """ITEM as the user wrote it: an attachment id, a record id, or record id@version,
    each a full id or a unique prefix of at least 6 characters."""
    spec = spec.strip()
    ident, _, ver = spec.partition("@")
    if len(ident) < MIN_PREFIX:
        raise InvalidInput(
            "an item id needs at least 6 characters", hint="copy the id from the list"
        )
    version: int | None = None
    if ver:
        if not ver.isdigit() or len(ver) > 10:
            raise InvalidInput("the version after @ is not a number", hint="for example r1a2b3c@2")
        version = int(ver)
    found: list[tuple[str, str]] = []
    for kind in ("record_version", "attachment"):
        found += [(kind, i) for i in store.ids_with_prefix(db, kind, ident, limit=2)]
    if not found:
        raise NotFound(f"no custody log for {ident}", hint="check the id")
    exact = [f for f in found if f[1] == ident]
    if len(found) > 1 and len(exact) != 1:
        raise InvalidInput(f"{ident} matches more than one item", hint="give more of the id")
    kind, item_id = exact[0] if exact else found[0]
    if kind == "attachment":
        if version is not None:
            raise InvalidInput("an attachment has no version", hint="leave out the @")
        return [("attachment", item_id, 0)]
    versions = store.versions_of(db, item_id)
    if version is not None:
        if version not in versions:
            raise NotFound(f"record {item_id} has no custody log for version {version}")
        versions = [version]
    return [("record_version", item_id, v) for v in versions]


REPORT_FORMAT = "fieldkit custody report"
REPORT_VERSION = 1


def report(
    db: Database, spec: str, *, now: Callable[[], float] = time.time
) -> tuple[dict[str, Any], list[str]]:
    """The custody report of ITEM as JSON-ready data (docs/custody.md, section 5), and
    the problems this vault found verifying it (empty when every chain verifies)."""
    keys = known_keys(db)
    chains: list[dict[str, Any]] = []
    problems: list[str] = []
    used: set[bytes] = set()
    for key in resolve(db, spec):
        rows = store.chain(db, *key)
        check = verify_chain(key, _stored_rows(rows), keys)
        problems += check.problems
        entries = []
        for r in rows:
            entries.append(
                {
                    "body": r.body.decode("utf-8", "replace"),
                    "signature": r.signature.hex(),
                    "hash": r.entry_hash.hex(),
                }
            )
        for e, _sig, _h in check.entries:
            used.add(e.actor.fingerprint)
            used.update(v for k, v in e.details.items() if k in ("device", "hq"))
        item = check.entries[0][0].item if check.entries else None
        chains.append(
            {
                "item": None if item is None else _item_doc(item),
                "entries": entries,
            }
        )
    me = signer(db)
    doc = {
        "format": REPORT_FORMAT,
        "v": REPORT_VERSION,
        "generated": iso_utc(now()),
        "generated_by": None if me is None else me.card.fingerprint.hex(),
        "chains": chains,
        "keys": [_key_doc(keys[fp]) for fp in sorted(used) if fp in keys],
    }
    return doc, problems


def _item_doc(item: Item) -> dict[str, Any]:
    d: dict[str, Any] = {"kind": item.kind, "id": item.id, "sha256": item.sha256.hex()}
    if item.version is not None:
        d["version"] = item.version
    return d


def _key_doc(k: KnownKey) -> dict[str, Any]:
    return {
        "role": k.role,
        "name": k.name,
        "fingerprint": k.fingerprint.hex(),
        "short_code": short_code(k.fingerprint),
        "signing_key": k.signing_key.hex(),
        "age_recipient_public": k.age_public.hex(),
    }
