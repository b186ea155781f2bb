"""The whole field-to-HQ lifecycle as a model-based test (issue 9).

A Hypothesis state machine drives one field vault and one HQ vault through the
services, in any order a person could: add, edit, attach, remove an attachment,
export (also onto a full stick), lose a bundle, resend, import at HQ (any subset of
the bundles written, any order, repeats, and damaged copies), write receipts, import
receipts on the laptop (old ones, twice), purge. A model keeps what the fieldworker
saved, with hashes. After every step:

- every version the fieldworker saved (record id, version, content hash) and every
  attachment not removed is on the laptop, or at HQ with the same hash (nothing is
  lost: versions saved between two exports too);
- HQ holds nothing the device did not make (every version and attachment at HQ is
  one the model saw saved, same hash, same record);
- an honest bundle always imports, a damaged one is refused with HQ unchanged, and
  the laptop can always export what it still owes HQ.

Export sends every saved version HQ has not acknowledged (docs/bundle-format.md,
section 2), so the promise covers every version, not only each record's latest.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from fieldkit.errors import (
    FieldkitError,
    FileAccessError,
    IntegrityError,
    InvalidInput,
    NotForThisHQ,
    NotFound,
)
from fieldkit.formats import custody as custody_fmt
from fieldkit.services import custody, hq_import, identity, purge, receipts
from fieldkit.services import export as export_svc
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.history import verify
from fieldkit.services.records import RecordService
from fieldkit.store.db import Database
from tests.bundle_fixtures import Pair, copied_pair

# About 0.23 s of CPU per example of 30 steps (a copied pair of vaults, a few bundles):
# the CI profile is some 15 s of the default suite, and still runs every rule many times
# (derandomized, as under CI=true: the rarest, hq_import_damaged and import_receipt, 19 and
# 28 times); the slow one (`-m slow`) is some thirty times that, with longer runs.
settings.register_profile(
    "lifecycle-ci",
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "lifecycle-slow",
    max_examples=1000,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Memory-backed where the system has it: every commit fsyncs (synchronous=FULL), and
# thousands of commits per run would otherwise measure the disk, not fieldkit.
_FAST_DIR = "/dev/shm" if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK) else None

TEXT = st.text(alphabet="абвгд xyz", min_size=1, max_size=12)
CONTENT = st.binary(min_size=0, max_size=300)


class StickFull(OSError):
    def __init__(self) -> None:
        super().__init__(errno.ENOSPC, "No space left on device")


def _full_stick(done: int, total: int) -> None:
    """A progress callback that fails the write as a full USB stick does."""
    raise StickFull


def _versions(db: Database) -> dict[tuple[str, int], bytes]:
    return {
        (str(r[0]), int(str(r[1]))): bytes(r[2])  # type: ignore[arg-type]
        for r in db.all("SELECT record_id, version, doc_hash FROM record_versions")
    }


def _attachments(db: Database) -> dict[str, tuple[str, bytes]]:
    return {
        str(r[0]): (str(r[1]), bytes(r[2]))  # type: ignore[arg-type]
        for r in db.all("SELECT id, record_id, sha256 FROM attachments")
    }


class Lifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="fk-lifecycle-", dir=_FAST_DIR))
        self.pair: Pair = copied_pair(self.tmp)
        self.stick = self.tmp / "stick"
        self.stick.mkdir()
        self.rdir = self.tmp / "receipts"
        self.rdir.mkdir()
        self.n = 0
        self.latest: dict[str, tuple[int, bytes]] = {}  # record -> (version, hash)
        self.made_versions: dict[tuple[str, int], bytes] = {}
        self.atts: dict[str, tuple[str, bytes]] = {}  # attachment -> (record, sha256)
        self.made_atts: dict[str, tuple[str, bytes]] = {}
        self.files: list[Path] = []  # bundle files on the stick
        self.receipt_files: list[Path] = []

    # ---- helpers ---------------------------------------------------------------------

    @property
    def field(self) -> Database:
        return self.pair.field.db

    @property
    def hq(self) -> Database:
        return self.pair.hq.db

    def _path(self, stem: str) -> Path:
        self.n += 1
        return self.stick / f"{stem}-{self.n}.fkb"

    def _saved(self, rid: str) -> None:
        summary = RecordService(self.field).summary(rid)
        self.latest[rid] = (summary.version, summary.doc_hash)
        self.made_versions[(rid, summary.version)] = summary.doc_hash

    def _on_laptop(self) -> list[str]:
        """Records still on the laptop, in the order they were made: ids are random, so
        a choice among them must not depend on how they sort."""
        there = {str(r[0]) for r in self.field.all("SELECT id FROM records")}
        return [rid for rid in self.latest if rid in there]

    def _resend(self, seq: int) -> export_svc.ExportResult | None:
        out = self._path(f"resend-{seq}")
        try:
            res = export_svc.resend(self.field, seq, out)
        except (IntegrityError, NotFound, InvalidInput):
            # Its content is gone (an attachment removed, a record purged) or it was
            # given up: what it owed HQ is owed by another bundle (see the invariant).
            assert not out.exists()
            return None
        self.files.append(out)
        return res

    def _import_receipt(self, path: Path) -> None:
        try:
            receipts.import_receipt(self.field, path)
        except NotForThisHQ:
            # Its bundle's stored manifest was emptied when a record it carried was
            # purged (it also went in a later, receipted bundle): the receipt's HQ can no
            # longer be checked against its recipients, so nothing changes.
            assert self.field.scalar(
                "SELECT count(*) FROM exports WHERE length(manifest) = 0 AND receipt_at IS NULL"
            )

    # ---- the fieldworker ---------------------------------------------------------------

    @rule(text=TEXT)
    def add_record(self, text: str) -> None:
        rid = RecordService(self.field).add(
            {"pseudonym": "W", "narrative": text, "consent": {"obtained": True, "method": "oral"}}
        )
        self._saved(rid)

    @precondition(lambda self: self.latest)
    @rule(data=st.data(), text=TEXT, keep_status=st.booleans())
    def edit_record(self, data: st.DataObject, text: str, keep_status: bool) -> None:
        here = self._on_laptop()
        if not here:
            return
        rid = data.draw(st.sampled_from(here))
        rs = RecordService(self.field)
        doc = rs.get(rid).doc
        doc["narrative"] = text
        if not keep_status:  # as the app saves it otherwise: the status it shows
            doc["status"] = "complete"
        rs.edit(rid, doc)
        self._saved(rid)

    @precondition(lambda self: self.latest)
    @rule(data=st.data(), content=CONTENT)
    def attach(self, data: st.DataObject, content: bytes) -> None:
        here = self._on_laptop()
        if not here:
            return
        rid = data.draw(st.sampled_from(here))
        svc = AttachmentService(self.field)
        row = svc.add_stream(
            rid, io.BytesIO(content), filename="photo.jpg", media_type="image/jpeg"
        )
        self.atts[row.id] = (rid, row.sha256)
        self.made_atts[row.id] = (rid, row.sha256)

    @precondition(lambda self: self.atts)
    @rule(data=st.data())
    def remove_attachment(self, data: st.DataObject) -> None:
        there = _attachments(self.field)
        here = [aid for aid in self.made_atts if aid in there]
        if not here:
            return
        aid = data.draw(st.sampled_from(here))
        AttachmentService(self.field).remove(aid)
        self.atts.pop(aid, None)  # removed on purpose: no longer owed to HQ

    @rule(full_stick=st.booleans())
    def export(self, full_stick: bool) -> None:
        unwritten = export_svc.unwritten_seq(self.field)
        if unwritten is not None and not full_stick:
            self._resend(unwritten)  # what the error's hint says to do first
        out = self._path("bundle")
        if full_stick:
            try:
                export_svc.export(self.field, out, progress=_full_stick)
            except FileAccessError:
                assert not out.exists()
                return
            except InvalidInput as exc:
                assert "never written" in exc.message
                return
            return  # nothing to export: the callback never ran
        res = export_svc.export(self.field, out)  # never refuses for good
        if res is not None:
            self.files.append(out)

    @precondition(lambda self: self.files)
    @rule(data=st.data())
    def lose_bundle(self, data: st.DataObject) -> None:
        path = data.draw(st.sampled_from(self.files))
        path.unlink()
        self.files.remove(path)

    @rule(data=st.data())
    def resend(self, data: st.DataObject) -> None:
        last = export_svc.next_seq(self.field) - 1
        if last < 1:
            return
        self._resend(data.draw(st.integers(1, last)))

    @precondition(lambda self: self.receipt_files)
    @rule(data=st.data())
    def import_receipt(self, data: st.DataObject) -> None:
        path = data.draw(st.sampled_from(self.receipt_files))  # old ones and repeats too
        self._import_receipt(path)

    @rule()
    def purge(self) -> None:
        purge.purge_delivered(self.field)

    # ---- HQ -------------------------------------------------------------------------

    @precondition(lambda self: self.files)
    @rule(data=st.data(), with_receipt=st.booleans())
    def hq_import(self, data: st.DataObject, with_receipt: bool) -> None:
        path = data.draw(st.sampled_from(self.files))  # any subset, any order, repeats
        rep = hq_import.import_bundle(
            self.hq, path, receipts_dir=self.rdir if with_receipt else None
        )
        if rep.receipt is not None:
            # a receipt for the same bundle overwrites its file: keep a copy as old
            old = rep.receipt.with_name(f"{rep.receipt.stem}-{self.n}.fkr")
            self.n += 1
            shutil.copyfile(rep.receipt, old)
            self.receipt_files.append(old)

    @precondition(lambda self: self.files)
    @rule(data=st.data())
    def deliver(self, data: st.DataObject) -> None:
        """The usual round trip in one step: HQ imports a bundle and writes its receipt,
        the laptop imports it. (Each half is a rule of its own too; together they make
        the states purge acts on common enough for the search to reach.)"""
        path = data.draw(st.sampled_from(self.files))
        rep = hq_import.import_bundle(self.hq, path, receipts_dir=self.rdir)
        assert rep.receipt is not None
        self._import_receipt(rep.receipt)

    @precondition(lambda self: self.files)
    @rule(data=st.data(), cut=st.integers(1, 400))
    def hq_import_damaged(self, data: st.DataObject, cut: int) -> None:
        path = data.draw(st.sampled_from(self.files))
        damaged = self.tmp / "damaged.fkb"
        blob = path.read_bytes()
        damaged.write_bytes(blob[: max(0, len(blob) - cut)])
        before = self.pair.hq_digest()
        with pytest.raises(FieldkitError):
            hq_import.import_bundle(self.hq, damaged)
        assert self.pair.hq_digest() == before  # never half-written

    # ---- invariants -------------------------------------------------------------------

    @invariant()
    def nothing_saved_is_lost(self) -> None:
        field_v, hq_v = _versions(self.field), _versions(self.hq)
        for (rid, version), h in self.made_versions.items():
            assert field_v.get((rid, version)) == h or hq_v.get((rid, version)) == h, (
                f"record {rid} version {version} is neither on the laptop nor at HQ"
            )
        field_a, hq_a = _attachments(self.field), _attachments(self.hq)
        for aid, made in self.atts.items():
            assert field_a.get(aid) == made or hq_a.get(aid) == made, (
                f"attachment {aid} is neither on the laptop nor at HQ"
            )

    @invariant()
    def hq_holds_only_what_the_device_made(self) -> None:
        for key, h in _versions(self.hq).items():
            assert self.made_versions.get(key) == h, key
        for aid, got in _attachments(self.hq).items():
            assert self.made_atts.get(aid) == got, aid

    def custody_chains_verify(self) -> None:
        """Both vaults' custody chains verify, every stored item has one, and each chain HQ
        holds starts with the device-signed capture or edit that travelled in the bundle.
        Checked once per example, at its end (every signature of both vaults, each time)."""
        for db in (self.field, self.hq):
            check = custody.verify_vault(db)
            assert check.ok, check.problems
        device = identity.device(self.field).card.fingerprint
        for r in self.hq.all("SELECT body FROM custody WHERE seq = 1"):
            first = custody_fmt.decode_body(bytes(r[0]))
            assert first.event in ("capture", "edit") and first.actor.fingerprint == device

    def teardown(self) -> None:
        for db in (self.field, self.hq):  # both edit histories still verify
            check = verify(db)
            assert check.ok, check.problems
        self.custody_chains_verify()
        for v in (self.pair.field, self.pair.hq):
            if not v.is_locked:
                v.lock()
        shutil.rmtree(self.tmp, ignore_errors=True)


class TestLifecycle(Lifecycle.TestCase):  # type: ignore[name-defined,misc]
    settings = settings.get_profile("lifecycle-ci")


@pytest.mark.slow
class TestLifecycleLong(Lifecycle.TestCase):  # type: ignore[name-defined,misc]
    settings = settings.get_profile("lifecycle-slow")
