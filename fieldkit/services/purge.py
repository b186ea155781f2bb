"""Purge delivered records from the field vault (data minimisation under coercion).

Only records that are delivered (services/delivery.py: receipts cover their current
version and every attachment with its SHA-256) are removed, with their versions,
attachments and index entries. A record with a newer version, or an attachment in no
receipted bundle, stays whole with everything it still owes HQ. secure_delete
overwrites the freed pages, among them the keys of the attachment files, which are
unlinked once the deletion has committed. What stays is the delivery log (record id,
version, bundle id, times) and hash-only history entries, so `history verify` still
holds and nothing of the testimony remains.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from fieldkit.msgids import N_
from fieldkit.services import delivery, erase, identity
from fieldkit.services.clock import iso_utc
from fieldkit.store import bundles as bundle_store
from fieldkit.store import drafts as draft_store
from fieldkit.store import records as rec_store
from fieldkit.store.db import Database


@dataclass(frozen=True)
class PurgeResult:
    records: int
    attachments: int
    kept: dict[str, int] = field(default_factory=dict)  # records kept, by delivery state


# Why a record stays, by delivery state (English; the app passes each through `_`).
KEPT_REASONS = {
    "changed": N_(
        "{n} changed since delivery (a new version or attachment HQ has not acknowledged)"
    ),
    "waiting": N_("{n} in bundles still waiting for a receipt"),
    "unwritten": N_("{n} in a bundle that was never written (export --resend writes it)"),
    "not_sent": N_("{n} not sent yet"),
    "draft": N_("{n} with unsaved changes in the editor (save or discard the draft first)"),
}


def kept_text(kept: dict[str, int], translate: Callable[[str], str] = str) -> str:
    """'Kept 3 record(s): 1 changed since delivery (...), 2 not sent yet.', or ''."""
    total = sum(kept.values())
    if not total:
        return ""
    why = "; ".join(
        translate(KEPT_REASONS[k]).format(n=kept[k]) for k in KEPT_REASONS if kept.get(k)
    )
    return translate(N_("Kept {n} record(s) with all they hold: {why}.")).format(n=total, why=why)


def delivered_records(db: Database) -> list[str]:
    return _selection(db)[0]


def _selection(db: Database) -> tuple[list[str], dict[str, int]]:
    """(ids of delivered records, how many records stay, by delivery state)."""
    summaries = rec_store.list_summaries(db, sort="created", limit=10**9)
    found = delivery.states(db, summaries)
    # An editor draft is work the fieldworker has not saved yet: HQ has none of it, so
    # its record stays whatever the receipts cover.
    drafted = {d.record_id for d in draft_store.all_drafts(db) if d.record_id is not None}
    kind = {
        s.id: "draft" if s.id in drafted and found[s.id].kind == "delivered" else found[s.id].kind
        for s in summaries
    }
    kept = Counter(k for k in kind.values() if k != "delivered")
    return [s.id for s in summaries if kind[s.id] == "delivered"], dict(kept)


def purge_delivered(db: Database, *, now: Callable[[], float] = time.time) -> PurgeResult:
    identity.device(db)
    at = iso_utc(now())
    kept: dict[str, int] = {}

    def chosen() -> Iterator[str]:
        # A generator: its body runs when erase_records iterates it, inside erase's
        # transaction, so an edit saved meanwhile cannot slip into the purge.
        ids, why = _selection(db)
        kept.update(why)
        yield from ids

    done = erase.erase_records(
        db,
        chosen(),
        action="record.purge",
        at=at,
        then=lambda rid: bundle_store.log_purge(db, rid, at),
    )
    return PurgeResult(done.records, done.attachments, kept)
