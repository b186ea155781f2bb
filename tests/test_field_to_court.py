"""The whole field-to-court path of one photo, through the commands people type (issue 11).

A fieldworker attaches a photo that carries its GPS position, camera serial and author; the
laptop says so at intake. The testimony travels in a bundle, HQ imports it and sends a
receipt back. An analyst extracts a working copy with a reason; the copy carries none of the
identifying metadata. The analysis export carries none either. A lawyer gets the unaltered
original and the custody report as JSON; on a second machine, with only the report, the
file and Python's `cryptography`, the report verifies, and every signed event is there in
order: capture and export signed by the device, import and both extractions signed by HQ,
each extraction with its reason. A report altered on the way does not verify.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

from PIL import Image

from fieldkit.services import model
from tests.bundle_fixtures import Pair
from tests.conftest import PASSPHRASE, cli
from tests.test_custody import _fresh_verify
from tests.test_media import photo


def _events(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    (chain,) = report["chains"]
    bodies = [json.loads(e["body"]) for e in chain["entries"]]
    return [(b["event"], b.get("details") or {}) for b in bodies]


def test_a_photo_goes_from_the_field_to_court(pair: Pair, tmp_path: Path) -> None:
    pair.field.lock()
    pair.hq.lock()
    pf = tmp_path / "pass.txt"
    pf.write_text(PASSPHRASE + "\n")
    field = ["--vault", str(tmp_path / "field"), "--passphrase-file", str(pf)]
    hq = ["--vault", str(tmp_path / "hq"), "--passphrase-file", str(pf)]

    # In the field: the testimony, then the photo of the expulsion order.
    r = cli(["record", "add", "--json", "-", *field], stdin=json.dumps(model.template()))
    assert r.code == 0, r.err
    rid = r.out.strip()
    original = photo()
    shot = tmp_path / "IMG_0042.jpg"
    shot.write_bytes(original)
    r = cli(["attach", rid, str(shot), *field])
    assert r.code == 0, r.err
    att = r.out.strip()
    assert "GPS position: 55.7558, 37.6173" in r.err  # the fieldworker is told at intake
    shot.unlink()  # the vault holds the only copy now

    # To HQ by USB stick, and the receipt back.
    stick, receipts = tmp_path / "stick", tmp_path / "receipts"
    stick.mkdir()
    receipts.mkdir()
    r = cli(["export", "--out", str(stick), *field])
    assert r.code == 0, r.err
    (bundle,) = stick.iterdir()
    r = cli(["hq", "import", str(bundle), "--receipts", str(receipts), *hq])
    assert r.code == 0, r.err
    (receipt,) = receipts.iterdir()
    r = cli(["receipt", "import", str(receipt), *field])
    assert r.code == 0, r.err

    # The analyst's working copy and the analysis export carry no identifying metadata.
    working = tmp_path / "working.jpg"
    r = cli(["hq", "extract", att, "--out", str(working), "--reason", "pattern analysis", *hq])
    assert r.code == 0, r.err
    copy = working.read_bytes()
    with Image.open(io.BytesIO(copy)) as im:
        exif = im.getexif()
        assert not exif.get_ifd(0x8825) and not exif.get_ifd(0x8769)  # no GPS, no serial
    assert b"SN-4242" not in copy and b"Ivan Petrov" not in copy
    analysis = tmp_path / "analysis.jsonl"
    r = cli(["hq", "export", "--out", str(analysis), *hq])
    assert r.code == 0, r.err
    exported = analysis.read_text(encoding="utf-8")
    assert rid in exported
    for identifying in ("55.7558", "37.6173", "SN-4242", "Ivan Petrov"):
        assert identifying not in exported

    # For the court: the unaltered original and the custody report.
    court = tmp_path / "court"
    court.mkdir()
    reason = "court filing: appeal against the expulsion order"
    r = cli(["hq", "extract", att, "--out", str(court / "exhibit-1.jpg"), "--original",
             "--reason", reason, *hq])  # fmt: skip
    assert r.code == 0, r.err
    assert (court / "exhibit-1.jpg").read_bytes() == original
    r = cli(["hq", "custody", att, *hq])
    assert r.code == 0, r.err
    assert reason in r.out
    r = cli(["hq", "custody", att, "--json", *hq])
    assert r.code == 0, r.err
    (court / "report.json").write_text(r.out, encoding="utf-8")
    report = json.loads(r.out)
    assert report["chains"][0]["item"]["sha256"] == hashlib.sha256(original).hexdigest()
    events = _events(report)
    assert [e for e, _ in events] == ["capture", "export", "hq_import", "extraction", "extraction"]
    extractions = [d for e, d in events if e == "extraction"]
    assert extractions[0]["reason"] == "pattern analysis" and extractions[0]["stripped"] is True
    assert extractions[0]["derived_sha256"] == hashlib.sha256(copy).hexdigest()
    assert extractions[1]["reason"] == reason and "derived_sha256" not in extractions[1]
    r = cli(["hq", "custody", "verify", *hq])
    assert r.code == 0, r.err
    # The testimony's own chain says it went into the analysis export.
    r = cli(["hq", "custody", rid, "--json", *hq])
    assert r.code == 0, r.err
    assert [e for e, _ in _events(r.json())] == ["capture", "export", "hq_import", "analyst_export"]

    # A second machine: the report and the exhibit only; no vault, no fieldkit core.
    shutil.rmtree(tmp_path / "hq")
    shutil.rmtree(tmp_path / "field")
    done = _fresh_verify(court / "report.json", "--file", str(court / "exhibit-1.jpg"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERIFIED" in done.stdout and done.stdout.strip().endswith("IMPORTED:")

    # An entry altered on the way (the reason) is caught.
    (chain,) = report["chains"]
    last = chain["entries"][-1]
    last["body"] = last["body"].replace("court filing", "press release")
    (court / "altered.json").write_text(json.dumps(report), encoding="utf-8")
    done = _fresh_verify(court / "altered.json")
    assert done.returncode == 1, done.stdout + done.stderr
