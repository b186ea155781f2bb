"""HQ refuses a bundle whose custody section does not verify, before writing anything
(exit 27), even when the bundle itself is validly signed with the device's stolen key;
a bundle without the section (a device from before it) still imports."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from fieldkit.crypto import signing
from fieldkit.crypto.labels import CUSTODY_ENTRY
from fieldkit.formats import custody as fmt
from fieldkit.formats.bundle import MalformedBundle
from fieldkit.services import custody, hq_import, identity
from fieldkit.services import export as export_svc
from fieldkit.services.attachments import AttachmentService
from tests import bundle_forge as forge
from tests.bundle_fixtures import Pair

Frames = list[tuple[bytes, bytes]]


def _bundle(pair: Pair) -> tuple[Path, bytes]:
    rid = pair.add_testimony("testimony")
    AttachmentService(pair.field.db).add_stream(
        rid, io.BytesIO(b"photo"), filename="p.jpg", media_type="image/jpeg"
    )
    out = pair.tmp / "1.fkb"
    assert export_svc.export(pair.field.db, out) is not None
    return out, forge.decrypt(out.read_bytes(), identity.hq(pair.hq.db).age)


def _frames(container: bytes) -> Frames:
    _mb, m, _sig, _rest = forge.split(container)
    section = forge.custody_of(container)
    assert section is not None and m.custody is not None
    return fmt.decode_frames(section, m.custody.count)


def _rebuilt(pair: Pair, container: bytes, frames: Frames) -> Path:
    """The same bundle with the custody section `frames`, re-signed with the device key."""
    _mb, m, _sig, _rest = forge.split(container)
    m = dataclasses.replace(
        m, custody=dataclasses.replace(m.custody, count=len(frames)) if m.custody else None
    )
    data = forge.build(
        m,
        forge.sections_of(container),
        identity.device(pair.field.db).signing_secret,
        custody=fmt.encode_frames(frames),
    )
    out = pair.tmp / "forged.fkb"
    out.write_bytes(forge.encrypt(data, identity.hq(pair.hq.db).age.recipient()))
    return out


def _resign(frame: tuple[bytes, bytes], secret: bytes, **changes: object) -> tuple[bytes, bytes]:
    e = dataclasses.replace(fmt.decode_body(frame[0]), **changes)  # type: ignore[arg-type]
    body = fmt.encode_body(e)
    return body, signing.sign(secret, CUSTODY_ENTRY, [body])


def _tamper_cases(device_secret: bytes) -> dict[str, Callable[[Frames], Frames]]:
    other = bytes(range(32))

    def backdated(f: Frames) -> Frames:
        body = f[0][0].replace(b'"time":"2', b'"time":"1')
        return [(body, f[0][1]), *f[1:]]

    def resigned_by_other_key(f: Frames) -> Frames:
        e = fmt.decode_body(f[0][0])
        actor = fmt.Actor(e.actor.fingerprint, signing.public_key(other))
        return [_resign(f[0], other, actor=actor), *f[1:]]

    def backdated_and_resigned(f: Frames) -> Frames:
        # The stolen device key re-signs a changed capture: the link to it breaks.
        return [_resign(f[0], device_secret, time="2020-01-01T00:00:00Z"), *f[1:]]

    def chain_without_this_export(f: Frames) -> Frames:
        return [x for x in f if fmt.decode_body(x[0]).event != "export"]

    return {
        "tampered": backdated,
        "reordered": lambda f: [f[1], f[0], *f[2:]],
        "deleted": lambda f: f[1:],
        "inserted": lambda f: [f[0], f[0], *f[1:]],
        "another key": resigned_by_other_key,
        "re-signed with the device key": backdated_and_resigned,
        "no export of this bundle": chain_without_this_export,
        "an item it does not carry": lambda f: (
            [
                _resign(
                    x, device_secret, item=fmt.Item("attachment", "a0notcarried1", None, bytes(32))
                )
                for x in f[:1]
            ]
            + f[1:]
        ),
    }


CASES = (
    "tampered",
    "reordered",
    "deleted",
    "inserted",
    "another key",
    "re-signed with the device key",
    "no export of this bundle",
    "an item it does not carry",
)


@pytest.mark.parametrize("case", CASES)
def test_bad_custody_section_is_refused_before_anything_is_written(pair: Pair, case: str) -> None:
    path, container = _bundle(pair)
    secret = identity.device(pair.field.db).signing_secret
    frames = _tamper_cases(secret)[case](_frames(container))
    forged = _rebuilt(pair, container, frames)
    before = pair.hq_digest()
    with pytest.raises(MalformedBundle) as info:
        hq_import.import_bundle(pair.hq.db, forged)
    assert info.value.exit_code == 27
    assert pair.hq_digest() == before
    # The genuine bundle still imports and its chains verify at HQ.
    hq_import.import_bundle(pair.hq.db, path)
    assert custody.verify_vault(pair.hq.db).ok


def test_a_bundle_without_custody_section_still_imports(pair: Pair) -> None:
    _path, container = _bundle(pair)
    _mb, m, _sig, _rest = forge.split(container)
    old = forge.build(
        m, forge.sections_of(container), identity.device(pair.field.db).signing_secret
    )
    assert forge.split(old)[1].custody is None
    out = pair.tmp / "old.fkb"
    out.write_bytes(forge.encrypt(old, identity.hq(pair.hq.db).age.recipient()))
    rep = hq_import.import_bundle(pair.hq.db, out)
    assert rep.records_new == 1 and rep.attachments_new == 1
    events = [str(r[0]) for r in pair.hq.db.all("SELECT event FROM custody ORDER BY item_id, seq")]
    assert events == ["hq_import", "hq_import"]  # HQ starts the chain itself
    assert custody.verify_vault(pair.hq.db).ok


def test_hq_report_shows_the_device_signed_capture_and_export(pair: Pair) -> None:
    path, _container = _bundle(pair)
    hq_import.import_bundle(pair.hq.db, path)
    aid = str(pair.hq.db.scalar("SELECT id FROM attachments"))
    report, problems = custody.report(pair.hq.db, aid)
    assert problems == []
    dev = identity.device(pair.field.db).card.fingerprint.hex()
    hq = identity.hq(pair.hq.db).card.fingerprint.hex()
    bodies = [fmt.decode_body(e["body"].encode()) for e in report["chains"][0]["entries"]]
    assert [(b.event, b.actor.fingerprint.hex()) for b in bodies] == [
        ("capture", dev),
        ("export", dev),
        ("hq_import", hq),
    ]
    assert {k["fingerprint"] for k in report["keys"]} == {dev, hq}


def test_a_resent_bundle_carries_the_same_custody_section(pair: Pair) -> None:
    _path, container = _bundle(pair)
    again = pair.tmp / "again.fkb"
    export_svc.resend(pair.field.db, 1, again)
    assert forge.decrypt(again.read_bytes(), identity.hq(pair.hq.db).age) == container
