"""An HQ vault full of testimony from many devices, built through the store layer.

Importing 200,000 testimonies as bundles would spend most of its time building and
verifying the bundles, which bench_bundles measures on its own. This fills the same
tables the import fills (records, record_versions, the full-text index, history,
provenance, device_bundles) with the same service helpers it uses
(model.validate, summary_for, search_text.index_body, history.append), in transactions
of `batch` records, so what is read afterwards is what an import would have left.

Each device is enrolled from a real card (identity keys made from a seeded generator);
its records come in bundles of `per_bundle`, numbered from 1, and every tenth device
has a gap in its chain, so the roster has missing bundles to compute.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from bench.corpus import testimony
from fieldkit.formats import cards
from fieldkit.formats.canonical import canonical_json
from fieldkit.services import history, ids, model, search_text, trust
from fieldkit.services.clock import iso_utc
from fieldkit.services.identity import Identity
from fieldkit.services.records import summary_for
from fieldkit.store import bundles as bundle_store
from fieldkit.store import records as rec_store
from fieldkit.store.db import Database

FIRST = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def device_identities(n: int, seed: int = 7) -> list[Identity]:
    """`n` device identities from a seeded generator (benchmarks only: never real keys)."""
    from fieldkit.crypto import signing
    from fieldkit.crypto.age_keys import HybridIdentity

    rng = random.Random(seed)

    def rand(k: int) -> bytes:
        return rng.randbytes(k)

    return [
        Identity(
            "device",
            f"Device {i:03d}",
            signing.generate_secret(rand),
            HybridIdentity.generate(rand),
        )
        for i in range(n)
    ]


def enroll_devices(db: Database, n: int) -> list[bytes]:
    """Enrol `n` devices from their cards; their fingerprints in order."""
    out = []
    for i, ident in enumerate(device_identities(n)):
        card = trust.enroll(db, ident.card_text(), now=lambda i=i: FIRST + i)
        out.append(card.fingerprint)
    return out


def fill(
    db: Database,
    devices: list[bytes],
    records: int,
    *,
    per_bundle: int = 50,
    batch: int = 2000,
    seed: int = 1,
    first: int = 0,
    pool: int = 0,
    progress: Callable[[int], None] | None = None,
) -> None:
    """`records` testimonies, spread round-robin over `devices`, newest last; numbered
    (and dated, a second apart) from `first`, so a later call adds newer ones and
    continues each device's bundle numbers.

    With `pool`, only that many distinct documents are generated and validated, and
    record i gets document i mod pool (each its own id, hash and history entry): three
    times faster, for the 200,000 of the benchmark. Without it every one is new."""
    rng = random.Random(seed)
    per_device: dict[bytes, int] = dict.fromkeys(devices, 0)
    for device, n in db.all(
        "SELECT device, count(*) FROM provenance WHERE kind='record' GROUP BY device"
    ):
        if bytes(device) in per_device:
            per_device[bytes(device)] = int(n)
    bundles = {(bytes(r[0]), int(r[1])) for r in db.all("SELECT device, seq FROM device_bundles")}
    made: dict[int, tuple[dict[str, Any], bytes, str]] = {}
    for start in range(first, first + records, batch):
        with db.transaction():
            for i in range(start, min(first + records, start + batch)):
                device = devices[i % len(devices)]
                n = per_device[device]
                per_device[device] = n + 1
                seq = n // per_bundle + 1
                if (device, seq) not in bundles:
                    bundles.add((device, seq))
                    if not (seq == 2 and devices.index(device) % 10 == 0):  # a gap
                        _add_bundle(db, device, seq, FIRST + i)
                slot = (i - first) % pool if pool else -1
                doc = made.get(slot) or _document(rng, i)
                if pool:
                    made[slot] = doc
                _add_record(db, rng, i, device, seq, doc)
        if progress is not None:
            progress(min(first + records, start + batch) - first)


def _document(rng: random.Random, i: int) -> tuple[dict[str, Any], bytes, str]:
    clean = model.validate(testimony(rng, i))
    return clean, canonical_json(clean), search_text.index_body(clean)


def _bundle_id(device: bytes, seq: int) -> bytes:
    return device[:12] + seq.to_bytes(4, "big")


def _add_bundle(db: Database, device: bytes, seq: int, at: float) -> None:
    bundle_store.add_device_bundle(
        db,
        bundle_store.DeviceBundle(
            device,
            seq,
            _bundle_id(device, seq),
            bytes(32),
            None,
            bytes(32),
            int(at),
            iso_utc(at),
        ),
    )


def _add_record(
    db: Database,
    rng: random.Random,
    i: int,
    device: bytes,
    seq: int,
    document: tuple[dict[str, Any], bytes, str],
) -> None:
    clean, doc, body = document
    rid = ids.new_id("r", rng.randbytes)
    doc_hash = history.record_version_hash(rid, 1, doc)
    at = iso_utc(FIRST + i)
    summary = summary_for(rid, 1, clean, at, at, doc_hash)
    rec_store.receive_version(db, summary, doc, body)
    history.append(
        db, at=at, action="record.import", subject=rid, version=1, content_hash=doc_hash
    )
    bundle_store.add_provenance(db, "record", rid, 1, device, _bundle_id(device, seq), seq)


def short_codes(fingerprints: list[bytes]) -> list[str]:
    return [cards.short_code(f) for f in fingerprints]


def timer() -> Callable[[], float]:
    start = time.perf_counter()
    return lambda: time.perf_counter() - start
