"""Delivery state: what HQ has acknowledged, derived from the export log and receipts.

Nothing here is a stored flag a user or an edit could set. A record is delivered when
receipted bundles (exports.receipt_at, set only after a receipt verified) carried every
version of it the laptop holds, and each of its attachments with the SHA-256 it has
now. Purge removes only delivered records; the CLI and the app show every record's
state.

    not_sent   a version or an attachment is in no bundle yet, and HQ has
               acknowledged no version of it
    waiting    everything it holds is in bundles; bundle N (the latest it is waiting
               for) has no receipt yet
    unwritten  as waiting, but bundle N was never written (a full stick): nothing has
               left the laptop; `export --resend N` writes it
    delivered  receipts cover every saved version and every attachment
    changed    HQ acknowledged a version, and a version or an attachment is in no
               bundle yet (an edit since, or an older version never sent)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fieldkit.msgids import N_
from fieldkit.store import bundles as bundle_store
from fieldkit.store.db import Database
from fieldkit.store.records import RecordSummary

KINDS = ("not_sent", "waiting", "unwritten", "delivered", "changed")

# English text; the app passes each through its translation function.
LABELS = {
    "not_sent": N_("not sent"),
    "waiting": N_("in bundle {n}, waiting for receipt"),
    "unwritten": N_("in bundle {n}, which was never written"),
    "delivered": N_("delivered"),
    "changed": N_("changed since delivery"),
}
# The same, short enough for a table column (the app's records list, `record list`).
SHORT_LABELS = {
    "not_sent": N_("not sent"),
    "waiting": N_("bundle {n}, waiting"),
    "unwritten": N_("unwritten ({n})"),
    "delivered": N_("delivered"),
    "changed": N_("changed"),
}
SHORT_WIDTH = 17


@dataclass(frozen=True)
class DeliveryState:
    kind: str  # one of KINDS
    bundle: int | None = None  # for "waiting"/"unwritten": the bundle it waits for

    def label(self, translate: Callable[[str], str] = str) -> str:
        return translate(LABELS[self.kind]).format(n=self.bundle)

    def short(self, translate: Callable[[str], str] = str) -> str:
        return translate(SHORT_LABELS[self.kind]).format(n=self.bundle)

    def as_json(self) -> dict[str, object]:
        return {"state": self.kind, "bundle": self.bundle, "text": self.label()}


@dataclass
class _Owed:
    """What one record owes HQ, item by item (each saved version, each attachment):
    None if receipted, else the latest bundle that carried it (0: none)."""

    pending: list[int | None]
    ever_delivered: bool = False


def states(db: Database, summaries: Sequence[RecordSummary]) -> dict[str, DeliveryState]:
    """The delivery state of each record, by id (a few indexed queries in all)."""
    ids = [s.id for s in summaries]
    versions: dict[tuple[str, int], list[tuple[int, bool]]] = {}
    ever: set[str] = set()
    for rid, version, seq, receipted in bundle_store.record_deliveries(db, ids):
        if receipted:
            ever.add(rid)
        found = versions.setdefault((rid, version), [])
        if seq is not None:
            found.append((seq, receipted))
    owed = {rid: _Owed([], rid in ever) for rid in ids}
    for (rid, _version), b in versions.items():
        owed[rid].pending.append(_item(b))
    att_bundles: dict[tuple[str, str], list[tuple[int, bool]]] = {}
    for rid, aid, carried_in, receipted in bundle_store.attachment_deliveries(db, ids):
        found = att_bundles.setdefault((rid, aid), [])
        if carried_in is not None:
            found.append((carried_in, receipted))
    for (rid, _aid), b in att_bundles.items():
        owed[rid].pending.append(_item(b))
    last = bundle_store.last_export(db)
    unwritten = last.seq if last is not None and last.written_at is None else None
    return {rid: _state(o, unwritten) for rid, o in owed.items()}


def state_of(db: Database, summary: RecordSummary) -> DeliveryState:
    return states(db, [summary])[summary.id]


def _item(bundles: list[tuple[int, bool]]) -> int | None:
    if any(receipted for _seq, receipted in bundles):
        return None
    return max((seq for seq, _r in bundles), default=0)


def _state(o: _Owed, unwritten: int | None) -> DeliveryState:
    waiting = [p for p in o.pending if p is not None]
    if not waiting:
        return DeliveryState("delivered")
    if 0 in waiting:
        return DeliveryState("changed" if o.ever_delivered else "not_sent")
    n = max(waiting)
    return DeliveryState("unwritten" if n == unwritten else "waiting", n)
