"""Identifying metadata through the CLI and HQ: shown at intake (`attach`), listed per
attachment by `hq show`, removed from `hq extract`'s copy by default, kept bit-exact in
the vault and by `hq extract --original`."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import mutagen
import pytest
from PIL import Image

from fieldkit.errors import MetadataRemains
from fieldkit.services import extraction, hq_view, media, model
from fieldkit.services import media_found as mf
from fieldkit.services.attachments import AttachmentService
from fieldkit.store import attachments as att_store
from tests.bundle_fixtures import Pair
from tests.conftest import cli
from tests.test_hq_desk import _doc, _opts, _send
from tests.test_media import EVIL, FIXTURES, photo


def _record(cli_vault: list[str]) -> str:
    r = cli(["record", "add", "--json", "-", *cli_vault], stdin=json.dumps(model.template()))
    assert r.code == 0, r.err
    return r.out.strip()


def test_attach_shows_what_a_photo_carries(cli_vault: list[str], tmp_path: Path) -> None:
    rid = _record(cli_vault)
    src = tmp_path / "IMG_0042.jpg"
    src.write_bytes(photo())
    r = cli(["attach", rid, str(src), *cli_vault])
    assert r.code == 0, r.err
    assert r.out.strip().startswith("a")  # stdout: the id only
    err = r.err.splitlines()
    assert "This photo carries identifying metadata:" in err
    assert "  GPS position: 55.7558, 37.6173" in err
    assert "  device serial number: SN-4242" in err
    assert "  author or owner: Ivan Petrov" in err
    assert any("kept unaltered in the vault as evidence" in line for line in err)
    j = cli(["attach", rid, str(src), "--json", *cli_vault]).json()
    assert j["metadata"]["status"] == "read" and j["metadata"]["kind"] == "image"
    assert {"what": "GPS position", "value": "55.7558, 37.6173"} in j["metadata"]["items"]


def test_attachment_show_lists_the_metadata(cli_vault: list[str], tmp_path: Path) -> None:
    rid = _record(cli_vault)
    src = tmp_path / "rec.flac"
    src.write_bytes((FIXTURES / "tagged.flac").read_bytes())
    aid = cli(["attach", rid, str(src), *cli_vault]).out.strip()
    r = cli(["attachment", "show", aid[:8], *cli_vault])
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert "This recording carries identifying metadata:" in lines
    assert "  GPS position: 55.7558, 37.6173" in lines
    assert "  author or owner: artist: Ivan Petrov" in lines
    j = cli(["attachment", "show", aid, "--json", *cli_vault]).json()
    assert j["metadata"]["kind"] == "audio" and j["metadata"]["format"] == "FLAC"


def test_attach_of_a_plain_file_says_nothing_about_metadata(
    cli_vault: list[str], tmp_path: Path
) -> None:
    rid = _record(cli_vault)
    src = tmp_path / "notes.txt"
    src.write_text("notes")
    r = cli(["attach", rid, str(src), *cli_vault])
    assert r.code == 0 and "metadata" not in r.err


def test_hostile_metadata_is_escaped_at_intake(cli_vault: list[str], tmp_path: Path) -> None:
    rid = _record(cli_vault)
    src = tmp_path / "evil.jpg"
    src.write_bytes(photo(artist=EVIL))
    r = cli(["attach", rid, str(src), *cli_vault])
    assert r.code == 0, r.err
    assert "\x1b" not in r.err
    assert "  author or owner: \\x1b[31mred\\x1b[0m[b]bold[/b]" in r.err.splitlines()
    j = cli(["attach", rid, str(src), "--json", *cli_vault]).json()
    assert {"what": "author or owner", "value": EVIL} in j["metadata"]["items"]  # exact


def test_hq_sees_findings_and_extracts_a_stripped_copy(pair: Pair, tmp_path: Path) -> None:
    """The field-to-HQ path: a photo with GPS travels in a bundle; HQ's record view lists
    the metadata; the default copy carries no GPS, serial or author (read back with
    Pillow); the vault's original is unchanged; --original writes identical bytes."""
    original = photo()
    (rid,) = _send(pair, [_doc("A", "surveillance", "RU", "2026")], attachment=original)
    att = AttachmentService(pair.hq.db).for_record(rid)[0]
    view = hq_view.record_view(pair.hq.db, rid)
    fields = [(f.label, f.value) for s in hq_view.sections(view) for f in s.fields]
    assert (mf.GPS, "55.7558, 37.6173") in fields and (mf.SERIAL, "SN-4242") in fields

    done = extraction.extract(pair.hq.db, att.id, tmp_path / "copy.jpg", "appeal file")
    copy = (tmp_path / "copy.jpg").read_bytes()
    assert done.stripped and done.sha256 == hashlib.sha256(copy).digest() != att.sha256
    entry = extraction.log(pair.hq.db)[0]  # the log says which copy left (schema 8)
    assert (entry.copy, entry.copy_sha256, entry.sha256) == ("stripped", done.sha256, att.sha256)
    with Image.open(io.BytesIO(copy)) as im:
        assert not im.getexif().get_ifd(0x8825) and not im.getexif().get_ifd(0x8769)
    assert b"SN-4242" not in copy and b"Ivan Petrov" not in copy
    stored = b"".join(att_store.content(pair.hq.db, att))
    assert stored == original  # the evidence is untouched

    opts = _opts(pair)
    shown = cli(["hq", "show", rid, "--width", "100", *opts])
    assert "GPS position: 55.7558, 37.6173" in shown.out.splitlines()
    j = cli(["hq", "show", rid, "--json", *opts]).json()
    assert j["attachments"][0]["metadata"]["items"][0]["what"] == "GPS position"

    r = cli(["hq", "extract", att.id, "--out", str(tmp_path / "c2.jpg"),
             "--reason", "press office", *opts])  # fmt: skip
    assert r.code == 0, r.err
    assert "removed from the copy: GPS position, device serial number" in r.err
    assert "SN-4242" not in r.err  # the values are not repeated
    assert not media.inspect(io.BytesIO((tmp_path / "c2.jpg").read_bytes())).identifying

    r = cli(["hq", "extract", att.id, "--out", str(tmp_path / "orig.jpg"),
             "--reason", "court filing", "--original", "--json", *opts])  # fmt: skip
    assert r.code == 0, r.err
    assert (tmp_path / "orig.jpg").read_bytes() == original  # bit-exact
    assert r.json()["stripped"] is False and r.json()["copy_sha256"] == att.sha256.hex()
    assert "GPS position: 55.7558, 37.6173" in r.err  # the analyst is told what it carries


@pytest.mark.parametrize("name", ["tagged.mp3", "tagged.flac", "tagged.m4a", "tagged.ogg"])
def test_hq_extract_strips_recordings(pair: Pair, tmp_path: Path, name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    (rid,) = _send(pair, [_doc("A", "surveillance", "RU", "2026")], attachment=data)
    att = AttachmentService(pair.hq.db).for_record(rid)[0]
    out = tmp_path / name
    done = extraction.extract(pair.hq.db, att.id, out, "transcription")
    assert done.stripped
    again = mutagen.File(out)
    assert again is not None and not again.tags
    assert b"Ivan Petrov" not in out.read_bytes()
    assert b"".join(att_store.content(pair.hq.db, att)) == data


def test_metadata_left_after_stripping_fails_closed(pair: Pair, tmp_path: Path) -> None:
    """A phone video's location atom, which mutagen cannot remove: no copy is left
    behind, the log says failed, exit code 41; --original still works."""
    data = (FIXTURES / "phone.mov").read_bytes()
    (rid,) = _send(pair, [_doc("A", "surveillance", "RU", "2026")], attachment=data)
    att = AttachmentService(pair.hq.db).for_record(rid)[0]
    with pytest.raises(MetadataRemains, match="GPS position"):
        extraction.extract(pair.hq.db, att.id, tmp_path / "v.mov", "review")
    assert list(tmp_path.glob("*v.mov*")) == []  # no copy, no temp file
    assert extraction.log(pair.hq.db)[0].outcome == "failed"
    opts = _opts(pair)
    r = cli(["hq", "extract", att.id, "--out", str(tmp_path / "v.mov"),
             "--reason", "review", *opts])  # fmt: skip
    assert r.code == 41 and "ffmpeg" in r.err and not (tmp_path / "v.mov").exists()
    r = cli(["hq", "extract", att.id, "--out", str(tmp_path / "v.mov"),
             "--reason", "review", "--original", *opts])  # fmt: skip
    assert r.code == 0 and (tmp_path / "v.mov").read_bytes() == data
