"""A field vault and an HQ vault that know each other, for bundle tests."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fieldkit.services import model, trust
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


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    p = make_pair(tmp_path)
    yield p
    for v in (p.field, p.hq):
        if not v.is_locked:
            v.lock()
