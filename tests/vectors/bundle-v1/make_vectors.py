"""Regenerate tests/vectors/bundle-v1/vectors.json (fixed keys, fixed randomness).

    .venv/bin/python -m tests.vectors.bundle-v1.make_vectors   (or run the file)

The test test_bundle_vectors.py rebuilds every vector from its inputs and checks the
expected bytes, so another implementation can check itself against this file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from fieldkit.crypto import signing
from fieldkit.crypto.labels import BUNDLE_MANIFEST, CUSTODY_ENTRY
from fieldkit.formats import bundle, custody
from fieldkit.formats.bundle import AttachmentEntry, Manifest, RecordEntry, RecordSection
from fieldkit.formats.canonical import canonical_json

HERE = Path(__file__).parent


def _record_doc(n: int) -> dict[str, Any]:
    return {
        "schema": 1,
        "pseudonym": f"Witness {n}",
        "status": "complete",
        "risk": "high",
        "tags": ["protest"],
        "interview": {
            "date": "2026-05-14",
            "place": "Алматы",
            "language": "ru",
            "interviewer": "FW-03",
            "interpreter": "",
        },
        "narrative": "Задержан 2 апреля. Қодир ғайрат.",
        "persons": [],
        "incidents": [],
        "consent": {
            "scope": "hq_only",
            "contact_allowed": False,
            "withdrawn": False,
            "withdrawn_on": None,
            "notes": "",
        },
    }


def build(inputs: dict[str, Any]) -> dict[str, str]:
    sections = [
        bundle.encode_record(
            RecordSection(r["id"], r["version"], r["created_at"], r["updated_at"], r["doc"])
        )
        for r in inputs["records"]
    ]
    atts = [bytes.fromhex(a["content_hex"]) for a in inputs["attachments"]]
    manifest = Manifest(
        bundle_id=bytes.fromhex(inputs["bundle_id"]),
        device=bytes.fromhex(inputs["device_fingerprint"]),
        seq=inputs["seq"],
        prev=bytes.fromhex(inputs["prev"]) if inputs["prev"] else None,
        created=inputs["created"],
        recipients=tuple(bytes.fromhex(x) for x in inputs["recipients"]),
        history_head=bytes.fromhex(inputs["history_head"]),
        records=tuple(
            RecordEntry(r["id"], r["version"], len(s), hashlib.sha256(s).digest())
            for r, s in zip(inputs["records"], sections, strict=True)
        ),
        attachments=tuple(
            AttachmentEntry(
                a["id"],
                a["record"],
                a["name"],
                a["type"],
                a["description"],
                len(c),
                hashlib.sha256(c).digest(),
            )
            for a, c in zip(inputs["attachments"], atts, strict=True)
        ),
        prev_abandoned=inputs.get("prev_abandoned", False),
    )
    frames = [
        (e["body"].encode(), bytes.fromhex(e["signature"])) for e in inputs.get("custody", [])
    ]
    section = custody.encode_frames(frames)
    if frames:
        manifest = replace(
            manifest,
            custody=bundle.CustodySection(
                len(section), len(frames), hashlib.sha256(section).digest()
            ),
        )
    mbytes = bundle.encode_manifest(manifest)
    secret = bytes.fromhex(inputs["device_signing_secret"])
    sig = signing.sign(secret, BUNDLE_MANIFEST, bundle.signed_parts(mbytes))
    body = bundle.prefix(mbytes, sig) + section + b"".join(sections) + b"".join(atts)
    container = body + bytes(bundle.padding_size(len(body)))
    return {
        "device_public_key": signing.public_key(secret).hex(),
        "manifest": mbytes.hex(),
        "bundle_hash": bundle.bundle_hash(mbytes).hex(),
        "signature": sig.hex(),
        "unpadded_length": str(len(body)),
        "container": container.hex(),
    }


def vectors() -> list[dict[str, Any]]:
    rec = {
        "id": "r00000000000000000000000001",
        "version": 2,
        "created_at": "2026-05-14T10:00:00Z",
        "updated_at": "2026-05-15T09:30:00Z",
        "doc": _record_doc(1),
    }
    first: dict[str, Any] = {
        "comment": "bundle 1 of a device: one record, one attachment",
        "device_signing_secret": "11" * 32,
        "device_fingerprint": "22" * 32,
        "bundle_id": "33" * 16,
        "seq": 1,
        "prev": None,
        "created": 1_800_000_000,
        "recipients": ["44" * 32],
        "history_head": "55" * 32,
        "records": [rec],
        "attachments": [
            {
                "id": "a00000000000000000000000001",
                "record": rec["id"],
                "name": "expulsion order.jpg",
                "type": "image/jpeg",
                "description": "page 1",
                "content_hex": "ffd8ffe0" + "00" * 60,
            }
        ],
    }
    second = dict(
        first,
        comment="bundle 2: records only, two HQ recipients",
        bundle_id="66" * 16,
        seq=2,
        prev="77" * 32,
        recipients=["44" * 32, "88" * 32],
        records=[dict(rec, id="r00000000000000000000000002", version=1)],
        attachments=[],
    )
    third = dict(
        second,
        comment="bundle 4 after bundle 3 was abandoned: prev_abandoned, prev is 3's hash",
        bundle_id="99" * 16,
        seq=4,
        prev="aa" * 32,
        recipients=["44" * 32],
        prev_abandoned=True,
    )
    fourth = dict(
        second,
        comment="bundle 5: three versions of one record (entries unique by id and version)",
        bundle_id="bb" * 16,
        seq=5,
        prev="cc" * 32,
        recipients=["44" * 32],
        records=[
            dict(
                rec,
                id="r00000000000000000000000003",
                version=n,
                updated_at=f"2026-05-1{4 + n}T09:30:00Z",
                doc=dict(_record_doc(3), narrative=f"Версия {n}."),
            )
            for n in (1, 2, 3)
        ],
    )
    fifth = dict(
        second,
        comment=(
            "bundle 6: record schema 1 and 2 side by side (a version saved before the "
            "device's upgrade travels as stored; the container is unchanged)"
        ),
        bundle_id="dd" * 16,
        seq=6,
        prev="ee" * 32,
        recipients=["44" * 32],
        records=[
            dict(rec, id="r00000000000000000000000004", version=1, doc=_record_doc(4)),
            dict(rec, id="r00000000000000000000000004", version=2, doc=_record_doc_v2(4)),
        ],
    )
    sixth = dict(
        first,
        comment="bundle 1 with a custody section: the record version's and the attachment's"
        " device-signed chains (capture, export), each ending with this bundle's export",
        custody=_custody_frames(first),
    )
    vs = (first, second, third, fourth, fifth, sixth)
    return [{"inputs": v, "expected": build(v)} for v in vs]


def _record_doc_v2(n: int) -> dict[str, Any]:
    """The same record in schema 2 (docs/data-model.md): languages, roles, consent."""
    doc = _record_doc(n)
    doc["schema"] = 2
    doc["interview"] = {
        "date": "2026-05-14",
        "place": "Алматы",
        "languages": ["ru", "tg"],
        "interviewer": "FW-03",
        "interpreter": "",
    }
    doc["consent"] = dict(
        doc["consent"], obtained=True, method="oral", obtained_on="2026-05-14", obtained_by="FW-03"
    )
    return doc


def _custody_frames(inputs: dict[str, Any]) -> list[dict[str, str]]:
    """Capture then export entries for each item of `inputs`, signed with its device key."""
    secret = bytes.fromhex(inputs["device_signing_secret"])
    actor = custody.Actor(bytes.fromhex(inputs["device_fingerprint"]), signing.public_key(secret))
    items = [
        custody.Item(
            "record_version",
            r["id"],
            r["version"],
            hashlib.sha256(canonical_json(r["doc"])).digest(),
        )
        for r in inputs["records"]
    ]
    items += [
        custody.Item(
            "attachment", a["id"], None, hashlib.sha256(bytes.fromhex(a["content_hex"])).digest()
        )
        for a in inputs["attachments"]
    ]
    out = []
    for item in items:
        prev = custody.ZERO_HASH
        steps = [
            ("capture", "2026-05-14T10:00:00Z", {}),
            (
                "export",
                "2027-01-15T08:00:00Z",
                {"bundle_seq": inputs["seq"], "bundle_id": bytes.fromhex(inputs["bundle_id"])},
            ),
        ]
        for n, (event, at, details) in enumerate(steps, start=1):
            entry = custody.Entry(item, n, prev, event, at, actor, details)
            body = custody.encode_body(entry)
            sig = signing.sign(secret, CUSTODY_ENTRY, custody.signed_parts(body))
            out.append({"body": body.decode(), "signature": sig.hex()})
            prev = custody.entry_hash(body, sig)
    return out


if __name__ == "__main__":
    (HERE / "vectors.json").write_text(json.dumps(vectors(), indent=1, ensure_ascii=False) + "\n")
