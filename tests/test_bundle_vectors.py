"""Deterministic container vectors (tests/vectors/bundle-v1)."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import pytest

from fieldkit.crypto import signing
from fieldkit.crypto.labels import BUNDLE_MANIFEST
from fieldkit.formats import bundle
from fieldkit.services import model

DIR = Path(__file__).parent / "vectors" / "bundle-v1"
VECTORS: list[dict[str, Any]] = json.loads((DIR / "vectors.json").read_text())


def _maker() -> Any:
    spec = importlib.util.spec_from_file_location("make_vectors", DIR / "make_vectors.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("i", range(len(VECTORS)))
def test_vector_rebuilds_byte_for_byte(i: int) -> None:
    v = VECTORS[i]
    assert _maker().build(v["inputs"]) == v["expected"]


@pytest.mark.parametrize("i", range(len(VECTORS)))
def test_vector_parses_and_verifies(i: int) -> None:
    exp = VECTORS[i]["expected"]
    container = bytes.fromhex(exp["container"])
    src = io.BytesIO(container)
    mbytes, manifest, sig = bundle.read_prefix(src)
    assert mbytes.hex() == exp["manifest"] and sig.hex() == exp["signature"]
    assert bundle.bundle_hash(mbytes).hex() == exp["bundle_hash"]
    signing.verify(
        bytes.fromhex(exp["device_public_key"]), sig, BUNDLE_MANIFEST, bundle.signed_parts(mbytes)
    )
    src.read(manifest.custody_size())  # checked in test_custody_section_vector
    for r in manifest.records:
        bundle.decode_record(src.read(r.size), r)
    for a in manifest.attachments:
        src.read(a.size)
    bundle.check_padding(src, len(container) - int(exp["unpadded_length"]))


@pytest.mark.parametrize("i", range(len(VECTORS)))
def test_vector_records_are_what_hq_accepts(i: int) -> None:
    """Every record document in the vectors is valid and in normalised form for its own
    record schema, as HQ's import requires (schema 1 and 2: docs/bundle-format.md)."""
    schemas = set()
    for r in VECTORS[i]["inputs"]["records"]:
        doc = r["doc"]
        assert model.upgrade(doc) == model.validate(doc)
        schemas.add(doc["schema"])
    assert schemas <= set(model.READABLE_SCHEMAS)


def test_the_vectors_hold_both_record_schemas() -> None:
    schemas = {r["doc"]["schema"] for v in VECTORS for r in v["inputs"]["records"]}
    assert schemas == {1, 2}


def test_custody_section_vector() -> None:
    """The sixth vector carries a custody section (docs/bundle-format.md, section 11):
    HQ's check accepts it, each chain ending with this bundle's export."""
    from fieldkit.crypto.age_keys import HybridIdentity
    from fieldkit.formats.cards import Card
    from fieldkit.services import custody

    exp = VECTORS[5]["expected"]
    inputs = VECTORS[5]["inputs"]
    src = io.BytesIO(bytes.fromhex(exp["container"]))
    _mbytes, manifest, _sig = bundle.read_prefix(src)
    assert manifest.custody is not None and manifest.custody.count == 4
    section = src.read(manifest.custody.size)
    card = Card(
        "device",
        "vector",
        bytes.fromhex(exp["device_public_key"]),
        HybridIdentity(bytes(32)).recipient(),
    )
    # The vector's device fingerprint is a fixed stand-in, not this card's: map it.
    chains = custody.verify_carried(
        section,
        manifest.custody.count,
        manifest.bundle_id,
        manifest.seq,
        card,
        fingerprint=bytes.fromhex(inputs["device_fingerprint"]),
    )
    assert sorted(k[0] for k in chains) == ["attachment", "record_version"]
