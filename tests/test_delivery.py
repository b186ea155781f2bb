"""Purge removes exactly what verified receipts cover; each record shows its delivery state.

Delivery is derived from the export log and the receipts, never from a status a user
or an edit can set: a receipt covers the (record, version) pairs and the attachments
(id, SHA-256) its bundle carried, nothing else.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fieldkit.errors import FileAccessError, InvalidInput, NotFound
from fieldkit.formats import bundle
from fieldkit.services import delivery, hq_import, purge
from fieldkit.services import export as export_svc
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.history import verify
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.store.schema import CURRENT_VERSION
from tests.bundle_fixtures import Pair
from tests.conftest import PASSPHRASE, cli


def test_an_attachment_added_after_export_is_not_purged(pair: Pair) -> None:
    rid = pair.add_testimony("v1")
    b1 = pair.export("1.age")
    aid = pair.attach(rid, b"photo of the expulsion order")
    got = pair.deliver(b1)
    assert (got.delivered, got.superseded, got.pending) == (0, 0, 1)
    res = purge.purge_delivered(pair.field.db)
    assert (res.records, res.attachments) == (0, 0)
    assert AttachmentService(pair.field.db).get(aid).record_id == rid
    assert pair.state(rid).kind == "changed"
    # It still owes HQ the attachment, and the next export carries it.
    p = export_svc.plan(pair.field.db)
    assert p.attachments == [aid]


def test_a_record_edited_after_delivery_is_not_purged(pair: Pair) -> None:
    rid = pair.add_testimony("v1")
    pair.deliver(pair.export("1.age"))
    assert pair.state(rid).kind == "delivered"
    assert pair.edit(rid, "v2, said after the first interview") == 2
    assert pair.state(rid).kind == "changed"
    assert purge.purge_delivered(pair.field.db).records == 0
    assert (
        RecordService(pair.field.db).get(rid).doc["narrative"]
        == "v2, said after the first interview"
    )
    assert export_svc.plan(pair.field.db).records == [(rid, 2)]


@pytest.mark.parametrize("status", ["delivered", "exported"])
def test_delivery_statuses_cannot_be_set_by_hand(pair: Pair, status: str) -> None:
    """Not on a new record, and not on an edit after delivery (which used to keep
    `delivered` and let purge remove the unsent new version)."""
    rs = RecordService(pair.field.db)
    rid = pair.add_testimony("v1")
    pair.deliver(pair.export("1.age"))
    doc = rs.get(rid).doc
    doc["status"] = status
    with pytest.raises(InvalidInput):
        rs.add(doc)
    doc["narrative"] = "v2"
    with pytest.raises(InvalidInput):
        rs.edit(rid, doc)
    assert rs.summary(rid).version == 1
    assert rs.summary(rid).status in ("draft", "complete")


def test_attachments_spilled_into_an_unreceipted_bundle_keep_the_record(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle, "MAX_ATTACHMENTS", 1)  # stands in for a full bundle
    rid = pair.add_testimony("two scans")
    pair.attach(rid, b"scan one")
    late = pair.attach(rid, b"scan two")
    b1 = pair.export("1.age")
    pair.export("2.age")  # carries the second scan; its receipt never comes back
    pair.deliver(b1)
    assert pair.state(rid) == delivery.DeliveryState("waiting", 2)
    res = purge.purge_delivered(pair.field.db)
    assert (res.records, res.attachments) == (0, 0)
    assert AttachmentService(pair.field.db).get(late).record_id == rid


def test_an_attachment_whose_hash_differs_is_not_covered(pair: Pair) -> None:
    rid = pair.add_testimony("v1", attachment=b"the scan HQ received")
    pair.deliver(pair.export("1.age"))
    assert pair.state(rid).kind == "delivered"
    with pair.field.db.transaction():
        pair.field.db.execute("UPDATE attachments SET sha256=? WHERE record_id=?", (bytes(32), rid))
    assert pair.state(rid).kind == "changed"
    assert purge.purge_delivered(pair.field.db).records == 0


def test_purge_removes_exactly_what_receipts_cover(pair: Pair) -> None:
    done = pair.add_testimony("delivered", attachment=b"its scan")
    waiting = pair.add_testimony("in the lost bundle")
    pair.deliver(pair.export("1.age"))  # carries both records... and is receipted
    pair.edit(waiting, "edited")
    pair.export("2.age")  # v2 of `waiting`: no receipt yet
    fresh = pair.add_testimony("never exported")
    res = purge.purge_delivered(pair.field.db)
    assert (res.records, res.attachments) == (1, 1)
    assert res.kept == {"waiting": 1, "not_sent": 1}
    assert sorted(r.id for r in RecordService(pair.field.db).list_records()) == sorted(
        [waiting, fresh]
    )
    assert pair.field.db.scalar("SELECT count(*) FROM records WHERE id=?", (done,)) == 0


def test_delivery_states_follow_the_lifecycle(pair: Pair) -> None:
    rid = pair.add_testimony("v1")
    assert pair.state(rid) == delivery.DeliveryState("not_sent", None)
    assert pair.state(rid).label() == "not sent"
    b1 = pair.export("1.age")
    assert pair.state(rid) == delivery.DeliveryState("waiting", 1)
    assert pair.state(rid).label() == "in bundle 1, waiting for receipt"
    pair.deliver(b1)
    assert pair.state(rid).label() == "delivered"
    pair.attach(rid, b"late scan")
    assert pair.state(rid).label() == "changed since delivery"
    b2 = pair.export("2.age")
    assert pair.state(rid).label() == "in bundle 2, waiting for receipt"
    pair.deliver(b2)
    assert pair.state(rid).kind == "delivered"
    assert purge.purge_delivered(pair.field.db).attachments == 1


def test_a_receipt_for_a_later_bundle_covers_only_that_bundle(pair: Pair) -> None:
    first = pair.add_testimony("first")
    b1 = pair.export("1.age")
    second = pair.add_testimony("second")
    b2 = pair.export("2.age")
    hq_import.import_bundle(pair.hq.db, b1)  # HQ has both; only bundle 2's receipt arrives
    pair.deliver(b2)
    assert pair.state(first) == delivery.DeliveryState("waiting", 1)
    assert pair.state(second).kind == "delivered"
    res = purge.purge_delivered(pair.field.db)
    assert res.records == 1
    assert [r.id for r in RecordService(pair.field.db).list_records()] == [first]


V4 = Path(__file__).parent / "vectors" / "vault-v4-delivery"  # README.md there says how


def test_a_schema_4_vault_keeps_what_hq_has_not_acknowledged(tmp_path: Path) -> None:
    """Schema 4 marked `late_att` delivered although its scan went only in bundle 2,
    never receipted; after the migration only `delivered` is, and purge keeps the rest."""
    shutil.copytree(V4, tmp_path / "v")
    vault = Vault.unlock(tmp_path / "v", PASSPHRASE)
    try:
        db = vault.db
        assert db.scalar("PRAGMA user_version") == CURRENT_VERSION
        assert db.scalar("SELECT count(*) FROM export_items WHERE kind='attachment'") == 2
        assert db.scalar("SELECT count(*) FROM export_items WHERE sha256 IS NOT NULL") == 2
        rs = RecordService(db)
        got = {
            r.id: (r.status, s.label())
            for r in rs.list_records()
            for s in [delivery.state_of(db, r)]
        }
        assert got == {
            "r7tvrq0gdq5amcbfpddyr5ppdrv": ("complete", "delivered"),
            "r1z2ax70dwnj149khqra6x7fy0r": ("draft", "in bundle 2, waiting for receipt"),
            "r1j70nx8ppgxgwj80xqvaceq7d0": ("draft", "in bundle 2, waiting for receipt"),
            "r6r7ymf1herxkpw5wn06swabj20": ("complete", "not sent"),
        }
        res = purge.purge_delivered(db)
        assert (res.records, res.attachments) == (1, 1)
        assert res.kept == {"waiting": 2, "not_sent": 1}
        assert verify(db).ok
    finally:
        vault.lock()


def _four_states(pair: Pair) -> tuple[list[str], dict[str, str]]:
    """One record in each delivery state; the vaults locked for the CLI. Returns the
    field vault's CLI options and the ids by state."""
    ids = {"delivered": pair.add_testimony("delivered")}
    pair.deliver(pair.export("1.age"))
    ids["waiting"] = pair.add_testimony("waiting")
    pair.export("2.age")
    ids["changed"] = pair.add_testimony("changed")
    pair.deliver(pair.export("3.age"))
    pair.attach(ids["changed"], b"late scan")
    ids["not_sent"] = pair.add_testimony("fresh")
    pair.field.lock()
    pair.hq.lock()
    pf = pair.tmp / "pass"
    pf.write_text(PASSPHRASE + "\n")
    return ["--vault", str(pair.tmp / "field"), "--passphrase-file", str(pf)], ids


def test_the_cli_shows_each_records_delivery_state(pair: Pair) -> None:
    field, ids = _four_states(pair)
    delivered, waiting, changed, fresh = (
        ids["delivered"],
        ids["waiting"],
        ids["changed"],
        ids["not_sent"],
    )
    listed = cli(["record", "list", "--json", *field])
    assert listed.code == 0, listed.err
    assert {r["id"]: r["delivery"] for r in listed.json()} == {
        delivered: {"state": "delivered", "bundle": None, "text": "delivered"},
        waiting: {"state": "waiting", "bundle": 2, "text": "in bundle 2, waiting for receipt"},
        changed: {"state": "changed", "bundle": None, "text": "changed since delivery"},
        fresh: {"state": "not_sent", "bundle": None, "text": "not sent"},
    }
    table = cli(["record", "list", *field]).out.splitlines()
    assert "DELIVERY" in table[0]
    rows = {line[:12]: line for line in table[1:]}
    assert "bundle 2, waiting" in rows[waiting[:12]]
    assert " changed " in rows[changed[:12]]
    assert " not sent " in rows[fresh[:12]]
    shown = cli(["record", "show", waiting, *field])
    assert "Delivery: in bundle 2, waiting for receipt" in shown.out
    assert cli(["record", "show", fresh, "--json", *field]).json()["delivery"]["state"] == (
        "not_sent"
    )
    # HQ sends nothing: its lists carry no delivery column.
    hq = ["--vault", str(pair.tmp / "hq"), *field[2:]]
    assert all("delivery" not in r for r in cli(["record", "list", "--json", *hq]).json())


def test_purge_says_what_stays_and_why(pair: Pair) -> None:
    field, ids = _four_states(pair)
    r = cli(["purge", "--delivered", "--yes", *field])
    assert r.code == 0, r.err
    assert r.out.splitlines() == [
        "Purged 1 delivered record and 0 attachments.",
        "Kept 3 record(s) with all they hold: 1 changed since delivery (a new version or "
        "attachment HQ has not acknowledged); 1 in bundles still waiting for a receipt; "
        "1 not sent yet.",
    ]
    j = cli(["purge", "--delivered", "--yes", "--json", *field]).json()
    kept = {"changed": 1, "waiting": 1, "not_sent": 1}
    assert j == {"records": 0, "attachments": 0, "kept": kept}
    left = {r["id"] for r in cli(["record", "list", "--json", *field]).json()}
    assert left == {ids["waiting"], ids["changed"], ids["not_sent"]}


async def test_the_apps_records_list_shows_each_records_delivery_state(pair: Pair) -> None:
    from fieldkit.ui.screens.records import RecordTable
    from tests.ui_helpers import make_app, unlock

    _field, ids = _four_states(pair)
    app = make_app(pair.tmp / "field", pair.tmp)
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot, app)
        table = app.screen.query_one(RecordTable)
        shown = {kind: str(table.get_cell(rid, "delivery")) for kind, rid in ids.items()}
    assert shown == {
        "delivered": "delivered",
        "waiting": "bundle 2, waiting",
        "changed": "changed",
        "not_sent": "not sent",
    }


async def test_the_app_says_what_purge_kept(pair: Pair) -> None:
    from fieldkit.ui.screens.receipts import ReceiptsScreen
    from tests.ui_helpers import make_app, unlock, wait_for

    _four_states(pair)
    app = make_app(pair.tmp / "field", pair.tmp)
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot, app)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, ReceiptsScreen))
        assert "1 record(s) are delivered" in str(app.screen.query_one("#delivered").render())
        await pilot.click("#purge")
        await pilot.pause()
        await pilot.click("#yes")
        await wait_for(pilot, lambda: len(app._notifications) > 0)
        said = [n.message for n in app._notifications]
    assert any("Purged 1 record(s)" in m and "Kept 3 record(s)" in m for m in said), said


def test_an_old_receipt_after_a_newer_one_counts_the_record_once(pair: Pair) -> None:
    rid = pair.add_testimony("v1")
    b1 = pair.export("1.age")
    pair.edit(rid, "v2")
    got2 = pair.deliver(pair.export("2.age"))
    # v2 is acknowledged, v1 is not yet: the record waits for bundle 1's receipt.
    assert (got2.delivered, got2.superseded, got2.pending) == (0, 0, 1)
    assert pair.state(rid) == delivery.DeliveryState("waiting", 1)
    got1 = pair.deliver(b1)  # bundle 1's receipt comes back last
    assert (got1.delivered, got1.superseded, got1.pending, got1.already) == (1, 0, 0, False)
    assert pair.state(rid).kind == "delivered"


def test_purge_keeps_a_delivered_record_with_an_unsaved_draft(pair: Pair) -> None:
    """A draft is work the fieldworker has not saved: HQ has none of it. Purge keeps its
    record (and the draft) and says why, whatever the receipts cover."""
    from fieldkit.services.drafts import DraftService

    rid = pair.add_testimony("delivered, then reopened in the editor")
    other = pair.add_testimony("delivered, untouched")
    pair.deliver(pair.export("1.age"))
    doc = RecordService(pair.field.db).get(rid).doc
    drafts = DraftService(pair.field.db)
    drafts.save(drafts.new_id(), rid, {**doc, "narrative": "typed, not saved"})
    res = purge.purge_delivered(pair.field.db)
    assert (res.records, res.kept) == (1, {"draft": 1})
    assert "unsaved changes in the editor" in purge.kept_text(res.kept)
    assert RecordService(pair.field.db).summary(rid).id == rid
    assert [d.record_id for d in DraftService(pair.field.db).all()] == [rid]
    with pytest.raises(NotFound):
        RecordService(pair.field.db).summary(other)


def test_export_counts_no_record_left_over_when_one_travels_again_for_its_attachment(
    pair: Pair,
) -> None:
    rid = pair.add_testimony("sent, then a photo added")
    pair.export("1.age")
    pair.attach(rid, b"late scan")
    p = export_svc.plan(pair.field.db)
    assert (len(p.record_entries), len(p.attachment_entries)) == (1, 1)
    assert (p.left_records, p.left_attachments) == (0, 0)


def test_a_record_in_a_bundle_never_written_says_so(pair: Pair) -> None:
    """A full stick: the bundle was made but never written. Its records are not
    'waiting for a receipt' (nothing left the laptop) until it is written."""

    def full_stick(_done: int, _total: int) -> None:
        raise OSError(28, "No space left on device")

    rid = pair.add_testimony("the stick was full")
    with pytest.raises(FileAccessError):
        export_svc.export(pair.field.db, pair.tmp / "1.age", progress=full_stick)
    summary = RecordService(pair.field.db).summary(rid)
    state = delivery.state_of(pair.field.db, summary)
    assert (state.kind, state.bundle) == ("unwritten", 1)
    assert state.label() == "in bundle 1, which was never written"
    assert purge.purge_delivered(pair.field.db).kept == {"unwritten": 1}
    export_svc.resend(pair.field.db, 1, pair.tmp / "1.age")
    assert delivery.state_of(pair.field.db, summary).kind == "waiting"
