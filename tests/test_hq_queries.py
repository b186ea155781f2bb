"""HQ's reads at scale: the testimony view's device filter runs in SQL before the limit,
and the roster is read from the columns stored at enrolment, never from parsed cards.

The vault is filled through the store layer (bench/hq_corpus.py), the way the HQ
benchmark builds its 200,000 testimonies."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Select

from bench import hq_corpus
from fieldkit.formats import cards
from fieldkit.services import trust
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.ui.screens.hq import HqScreen
from fieldkit.ui.screens.records import SHOWN
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import make_app, type_into, wait_for

OLD, NEW = 12, SHOWN + 40  # the quiet device's records are all older than the newest SHOWN


def _hq(tmp_path: Path) -> tuple[Vault, bytes, bytes]:
    hq, _ = Vault.create(tmp_path / "hq", PASSPHRASE, kdf_params=WEAK, kind="hq", name="HQ")
    quiet, busy = hq_corpus.enroll_devices(hq.db, 2)
    hq_corpus.fill(hq.db, [quiet], OLD, seed=1)
    hq_corpus.fill(hq.db, [busy], NEW, seed=2, first=OLD)
    return hq, quiet, busy


def _device_of(hq: Vault, record_id: str) -> bytes:
    sql = "SELECT device FROM provenance WHERE kind='record' AND item_id=?"
    return bytes(hq.db.scalar(sql, (record_id,)))


def test_device_filter_applies_before_the_limit(tmp_path: Path) -> None:
    hq, quiet, busy = _hq(tmp_path)
    with hq:
        rs = RecordService(hq.db)
        newest = rs.list_records(limit=SHOWN)
        assert {_device_of(hq, r.id) for r in newest} == {busy}  # the quiet one is older
        mine = rs.list_records(device=quiet, limit=SHOWN)
        assert len(mine) == OLD
        assert {_device_of(hq, r.id) for r in mine} == {quiet}
        assert len(rs.list_records(device=busy, limit=SHOWN)) == SHOWN
        assert len(rs.list_records(device=busy, limit=1000)) == NEW
        # With a search: the same, and every filter together.
        found = rs.search("задержан", device=quiet, limit=SHOWN)
        assert found and {_device_of(hq, r.id) for r in found} == {quiet}
        assert len(found) == len(rs.search("задержан", device=quiet, limit=1000))
        complete = rs.list_records(device=quiet, status="complete", limit=SHOWN)
        assert {r.id for r in complete} == {r.id for r in mine if r.status == "complete"}
        assert rs.list_records(device=bytes(32), limit=SHOWN) == []


async def test_testimony_view_shows_the_chosen_devices_records(tmp_path: Path) -> None:
    """Reproduced: the view filtered the 60 newest records, so a device whose records
    were older showed 0 rows."""
    hq, quiet, _busy = _hq(tmp_path)
    expected = len(RecordService(hq.db).search("задержан", device=quiet, limit=SHOWN))
    assert expected > 0
    hq.lock()
    app = make_app(tmp_path / "hq", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HqScreen))
        screen = app.screen
        screen.query_one("#tabs").active = "tab-testimony"
        await pilot.pause()
        table = screen.query_one("#hq-table")
        assert table.row_count == SHOWN
        screen.query_one("#device-filter", Select).value = quiet.hex()
        await wait_for(pilot, lambda: table.row_count == OLD)
        await type_into(pilot, "#hq-search", "задержан")
        await wait_for(pilot, lambda: table.row_count == expected)


def test_roster_never_parses_a_card(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Listing is queries only: 5.4 ms per device went into verifying each card's
    signature again (2.7 s for 500 devices)."""
    hq, _ = Vault.create(tmp_path / "hq", PASSPHRASE, kdf_params=WEAK, kind="hq", name="HQ")
    with hq:
        devices = hq_corpus.enroll_devices(hq.db, 12)
        hq_corpus.fill(hq.db, devices, 12 * 120, per_bundle=50)

        def no_parse(_text: str) -> cards.Card:
            raise AssertionError("the roster parsed a card")

        monkeypatch.setattr(cards, "parse", no_parse)
        roster = trust.devices(hq.db)
        assert [d.fingerprint for d in roster] == devices
        assert [d.name for d in roster] == [f"Device {i:03d}" for i in range(12)]
        assert [d.short_code for d in roster] == hq_corpus.short_codes(devices)
        # 120 records in bundles of 50: bundles 1 to 3; every tenth device lacks bundle 2
        assert [(d.last_seq, d.missing) for d in roster] == [
            (3, [2] if i % 10 == 0 else []) for i in range(12)
        ]
        assert [trust.missing_bundles(hq.db, f) for f in devices] == [d.missing for d in roster]
        found = trust.find_device(hq.db, roster[5].short_code[:9])
        assert found.fingerprint == devices[5]
