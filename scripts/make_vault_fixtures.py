"""Regenerate tests/fixtures/vaults/v1, v2, v3, v6, v7: real vaults made by the fieldkit that
introduced each schema version, for the migration tests (tests/test_migrations.py).

    .venv/bin/python scripts/make_vault_fixtures.py        # all of them
    .venv/bin/python scripts/make_vault_fixtures.py 6      # only v6

For each version it checks the commit out into a temporary `git worktree`, runs this
same file inside it (`--inside N OUT`, with PYTHONPATH pointing at the old tree, so
only that commit's own code writes the vault), and removes the worktree again. The
vaults use a weak Argon2id profile (t=1, 8 MiB, p=1) and the passphrase below; the
recovery code and what each vault holds go to expected.json beside them. All content
is invented. Attachment bytes are a deterministic pattern (`payload`), so the tests
can rebuild them and compare byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "vaults"
PASSPHRASE = "correct horse battery staple mountain"
# The commit that introduced each schema version (git log -- fieldkit/store/schema.py).
COMMITS = {1: "54c4141", 2: "492e66d", 3: "47c1acb", 6: "b68a32a", 7: "09398e0"}
CLOCK = 1_767_225_600.0  # 2026-01-01T00:00:00Z, so the files say when they claim to be from


def payload(name: str, size: int) -> bytes:
    """`size` bytes that depend on `name` only: SHA-256 in counter mode."""
    out = bytearray()
    i = 0
    while len(out) < size:
        out += hashlib.sha256(f"{name}:{i}".encode()).digest()
        i += 1
    return bytes(out[:size])


# (name, size): 0 bytes (no chunk at all), one chunk, and three of the old 512 KiB chunks.
ATTACHMENTS = (("empty.txt", 0), ("photo.jpg", 3000), ("audio.ogg", 1024 * 1024 + 4321))


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--inside":
        _inside(int(sys.argv[2]), Path(sys.argv[3]))
        return
    # With version numbers as arguments, only those folders are made again.
    wanted = {int(a) for a in sys.argv[1:]} or set(COMMITS)
    for version, commit in COMMITS.items():
        if version not in wanted:
            continue
        tree = Path(tempfile.mkdtemp(prefix=f"fk-v{version}-"))
        tree.rmdir()
        _git("worktree", "add", "--detach", str(tree), commit)
        try:
            target = OUT / f"v{version}"
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            subprocess.run(  # noqa: S603 (this interpreter, this file, our own arguments)
                [sys.executable, __file__, "--inside", str(version), str(target)],
                cwd=tempfile.gettempdir(),
                env={**os.environ, "PYTHONPATH": str(tree)},
                check=True,
            )
        finally:
            _git("worktree", "remove", "--force", str(tree))


def _git(*args: str) -> None:
    subprocess.run(["git", *args], cwd=ROOT, check=True)  # noqa: S603, S607 (fixed arguments)


def _inside(version: int, out: Path) -> None:
    """Runs under the old commit's code: everything imported here is that version's."""
    import fieldkit
    from fieldkit.crypto.kdf import Argon2Params
    from fieldkit.services import model
    from fieldkit.services.attachments import AttachmentService
    from fieldkit.services.records import RecordService
    from fieldkit.services.vault import Vault

    here = Path(fieldkit.__file__).resolve().parent.parent
    if here == ROOT:
        raise SystemExit("--inside must run with PYTHONPATH at an old checkout")
    weak = Argon2Params(time_cost=1, memory_kib=8 * 1024, parallelism=1)
    clock = iter(CLOCK + i for i in range(100_000))

    def now() -> float:
        return next(clock)

    expected: dict[str, Any] = {"schema": version, "commit": COMMITS[version]}
    extra = {"name": "Station North"} if version >= 2 else {}
    field, code = Vault.create(out / "field", PASSPHRASE, kdf_params=weak, now=now, **extra)
    expected["passphrase"] = PASSPHRASE
    expected["field"] = {"recovery_code": code}
    recs = RecordService(field.db, now=now)
    atts = AttachmentService(field.db, now=now)
    docs: dict[str, list[dict[str, Any]]] = {}

    def add(doc: dict[str, Any]) -> str:
        rid = recs.add(doc)
        docs[rid] = [recs.get(rid, 1).doc]
        return rid

    def edit(rid: str, doc: dict[str, Any]) -> None:
        v = recs.edit(rid, doc)
        docs[rid].append(recs.get(rid, v).doc)

    first = model.template()
    first["pseudonym"] = "Свидетель Б-12"
    first["narrative"] = "Кодир рассказал, что его задержали 2 апреля у посольства."
    r1 = add(first)
    second = model.template()
    second["pseudonym"] = "Witness T-3"
    second["narrative"] = "Detained at the border and given an expulsion order."
    r2 = add(second)
    first["narrative"] += " Через неделю семье угрожали."
    edit(r1, first)

    def attach(rid: str, name: str, size: int, description: str) -> str:
        src = out / name
        src.write_bytes(payload(f"v{version}/{name}", size))
        try:
            row = atts.add(rid, src, description=description)
        finally:
            src.unlink()
        return str(row.id)

    attached = {}
    for name, size in ATTACHMENTS:
        aid = attach(r1, name, size, f"{name}, добавлено в v{version}")
        attached[aid] = {"name": name, "size": size, "record": r1}
    gone = attach(r2, "removed.bin", 100, "")
    atts.remove(gone)
    # Renaming the description appends a history entry too.
    first_att = next(iter(attached))
    atts.describe(first_att, "описание изменено")

    if version >= 2:
        _bundles(version, field, out, now, recs, docs, expected)
    if version >= 3:
        from fieldkit.services.drafts import DraftService

        drafts = DraftService(field.db, now=now)
        new_id = drafts.new_id()
        draft = model.template()
        draft["pseudonym"] = "Черновик"
        drafts.save(new_id, None, draft)
        edit_id = drafts.new_id()
        draft_edit = recs.get(r2).doc
        draft_edit["narrative"] = "Unsaved edit of T-3"
        drafts.save(edit_id, r2, draft_edit)
        expected["field"]["drafts"] = {new_id: None, edit_id: r2}

    for rid in docs:
        docs[rid] = [recs.get(rid, i + 1).doc for i in range(len(docs[rid]))]
    expected["field"]["records"] = docs
    expected["field"]["attachments"] = attached
    expected["field"]["removed_attachment"] = gone
    field.lock()
    (out / "expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )


def _bundles(
    version: int,
    field: Any,
    out: Path,
    now: Any,
    recs: Any,
    docs: dict[str, list[dict[str, Any]]],
    expected: dict[str, Any],
) -> None:
    """Schema 2 on: an HQ vault, trust both ways, bundle 1 imported at HQ with a
    receipt back, then a change after delivery that still waits for the next bundle."""
    from fieldkit.crypto.kdf import Argon2Params
    from fieldkit.services import export, hq_import, identity, receipts, trust
    from fieldkit.services.vault import Vault

    weak = Argon2Params(time_cost=1, memory_kib=8 * 1024, parallelism=1)
    hq, hq_code = Vault.create(
        out / "hq", PASSPHRASE, kdf_params=weak, kind="hq", name="Central HQ", now=now
    )
    trust.trust_hq(field.db, identity.hq(hq.db).card_text(), now=now)
    trust.enroll(hq.db, identity.device(field.db).card_text(), now=now)
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "bundle-1.fkb"
        result = export.export(field.db, bundle, now=now)
        if result is None:
            raise SystemExit("nothing exported")
        report = hq_import.import_bundle(hq.db, bundle, receipts_dir=Path(tmp), now=now)
        receipts.import_receipt(field.db, Path(report.receipt), now=now)
    rid = next(iter(docs))
    doc = recs.get(rid).doc
    doc["narrative"] += " Дополнено после доставки."
    docs[rid].append(recs.get(rid, recs.edit(rid, doc)).doc)
    expected["field"]["exported_seq"] = 1
    if version >= 6:
        # Schema 6 sent only each record's current version: edited twice between two
        # exports, the first edit never leaves the laptop, and bundle 2's receipt makes
        # the record 'delivered' all the same. So does bundle 1's for the first record's
        # version 1 (edited before bundle 1 was made).
        doc["narrative"] += " Ещё одно дополнение."
        docs[rid].append(recs.get(rid, recs.edit(rid, doc)).doc)
        with tempfile.TemporaryDirectory() as tmp:
            bundle = Path(tmp) / "bundle-2.fkb"
            if export.export(field.db, bundle, now=now) is None:
                raise SystemExit("nothing exported")
            report = hq_import.import_bundle(hq.db, bundle, receipts_dir=Path(tmp), now=now)
            receipts.import_receipt(field.db, Path(report.receipt), now=now)
        expected["field"]["exported_seq"] = 2
        expected["field"]["never_sent"] = {rid: [1, len(docs[rid]) - 1]}
    from fieldkit.services.records import RecordService

    hq_recs = RecordService(hq.db)
    expected["hq"] = {
        "recovery_code": hq_code,
        "records": {s.id: s.version for s in hq_recs.list_records()},
        "bundle_hash": result.bundle_hash.hex(),
    }
    hq.lock()


if __name__ == "__main__":
    main()
