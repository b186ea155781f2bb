"""A field vault and an HQ vault that know each other, for bundle tests."""

from __future__ import annotations

import atexit
import functools
import hashlib
import io
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fieldkit.services import delivery, hq_import, model, receipts, trust
from fieldkit.services import export as export_svc
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.identity import device as device_identity
from fieldkit.services.identity import hq as hq_identity
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.store import attachments as att_store
from fieldkit.store.db import Database
from tests.conftest import PASSPHRASE, WEAK


@dataclass
class Pair:
    field: Vault
    hq: Vault
    tmp: Path

    def add_testimony(
        self,
        narrative: str = "Задержан после протеста",
        attachment: bytes = b"",
    ) -> str:
        d = model.template()
        d["narrative"] = narrative
        rid = RecordService(self.field.db).add(d)
        if attachment:
            AttachmentService(self.field.db).add_stream(
                rid, io.BytesIO(attachment), filename="scan.jpg", media_type="image/jpeg"
            )
        return rid

    def edit(self, rid: str, narrative: str) -> int:
        """Save a new version of record `rid` with this narrative; returns its number."""
        rs = RecordService(self.field.db)
        doc = rs.get(rid).doc
        doc["narrative"] = narrative
        return rs.edit(rid, doc)

    def attach(self, rid: str, data: bytes) -> str:
        """Attach `data` to record `rid` as a scan; returns the attachment id."""
        row = AttachmentService(self.field.db).add_stream(
            rid, io.BytesIO(data), filename="page.jpg", media_type="image/jpeg"
        )
        return row.id

    def export(self, name: str) -> Path:
        """The laptop exports what it owes HQ to the file `name` beside the vaults."""
        out = self.tmp / name
        assert export_svc.export(self.field.db, out) is not None
        return out

    def deliver(self, bundle_path: Path) -> receipts.ReceiptResult:
        """HQ imports the bundle and writes a receipt; the laptop imports the receipt."""
        rdir = self.tmp / f"receipts-{bundle_path.stem}"
        rdir.mkdir()
        rep = hq_import.import_bundle(self.hq.db, bundle_path, receipts_dir=rdir)
        assert rep.receipt is not None
        return receipts.import_receipt(self.field.db, rep.receipt)

    def state(self, rid: str) -> delivery.DeliveryState:
        """The delivery state the laptop shows for record `rid`."""
        return delivery.state_of(self.field.db, RecordService(self.field.db).summary(rid))

    def hq_digest(self) -> tuple[dict[str, int], str]:
        """Counts per table and a digest of every row: 'the HQ vault is unchanged'."""
        return vault_digest(self.hq.db)


def vault_digest(db: Database) -> tuple[dict[str, int], str]:
    """Counts per table and a digest of every row and attachment file of a vault."""
    tables = [
        r[0]
        for r in db.all(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'records_fts%'"
            " AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    h = hashlib.sha256()
    counts = {}
    for t in tables:
        rows = db.all(f"SELECT * FROM {t} ORDER BY 1, 2")  # noqa: S608
        counts[t] = len(rows)
        h.update(repr(rows).encode())
    # The attachment files beside the database: a failed import leaves none behind.
    folder = att_store.blob_store(db).folder
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    counts["attachment files"] = len(files)
    for f in files:
        h.update(f.name.encode() + hashlib.sha256(f.read_bytes()).digest())
    return counts, h.hexdigest()


def make_pair(tmp: Path, name: str = "FW-03 laptop") -> Pair:
    field, _ = Vault.create(tmp / "field", PASSPHRASE, kdf_params=WEAK, name=name)
    hq, _ = Vault.create(tmp / "hq", PASSPHRASE, kdf_params=WEAK, kind="hq", name="HQ Almaty")
    trust.trust_hq(field.db, hq_identity(hq.db).card_text())
    trust.enroll(hq.db, device_identity(field.db).card_text())
    return Pair(field, hq, tmp)


@functools.cache
def _pair_template() -> Path:
    """One pair made per test process, locked, then copied for each test that asks for a
    `pair`: making two vaults (schema, identities, the passphrase check) costs several
    times what copying and unlocking them does. Tests that need pairs unlike each other
    (other keys, names) call make_pair."""
    root = Path(tempfile.mkdtemp(prefix="fk-pair-template-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    p = make_pair(root)
    p.field.lock()
    p.hq.lock()
    return root


def copied_pair(tmp: Path) -> Pair:
    """A pair as make_pair leaves it (unlocked, each trusting the other), in `tmp`:
    a copy of this process's template, so every copy has the same keys."""
    template = _pair_template()
    for side in ("field", "hq"):
        shutil.copytree(template / side, tmp / side)
    return Pair(Vault.unlock(tmp / "field", PASSPHRASE), Vault.unlock(tmp / "hq", PASSPHRASE), tmp)


@pytest.fixture(scope="session")
def _pair_template_made() -> None:
    """The template is made before any test's own fixtures run (none of them patches it)."""
    _pair_template()


@pytest.fixture
def pair(tmp_path: Path, _pair_template_made: None) -> Iterator[Pair]:
    p = copied_pair(tmp_path)
    yield p
    for v in (p.field, p.hq):
        if not v.is_locked:
            v.lock()
