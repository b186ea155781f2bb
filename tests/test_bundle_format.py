"""The container and manifest parsers: round trips, property-based fuzzing, malleability."""

from __future__ import annotations

import io
import os
import struct
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldkit.errors import MalformedData
from fieldkit.formats import bundle, cards
from fieldkit.formats.bundle import AttachmentEntry, Manifest, RecordEntry

H = bytes(range(32))


def _manifest(**kw: object) -> Manifest:
    base = Manifest(
        bundle_id=bytes(16),
        device=H,
        seq=2,
        prev=H,
        created=1_800_000_000,
        recipients=(H,),
        history_head=H,
        records=(RecordEntry("r0123456789abcdefghjkmnpqrs", 3, 120, H),),
        attachments=(
            AttachmentEntry(
                "a0123456789abcdefghjkmnpqrs",
                "r0123456789abcdefghjkmnpqrs",
                "photo.jpg",
                "image/jpeg",
                "page 1",
                5000,
                H,
            ),
        ),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_manifest_round_trip() -> None:
    m = _manifest()
    assert bundle.decode_manifest(bundle.encode_manifest(m)) == m


def test_manifest_encoding_is_deterministic() -> None:
    assert bundle.encode_manifest(_manifest()) == bundle.encode_manifest(_manifest())


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"seq": 0}, "seq is out of range"),
        ({"seq": 1}, "first bundle of a device has no previous bundle"),
        ({"prev": b"short"}, "prev must be 32 bytes"),
        ({"recipients": ()}, "recipients must be a list of 1 to 16"),
        ({"recipients": (H, H)}, "lists a recipient twice"),
        ({"records": (), "attachments": ()}, "carries nothing"),
        ({"bundle_id": bytes(15)}, "bundle_id must be 16 bytes"),
        ({"records": (RecordEntry("R-BAD", 1, 10, H),)}, "record id is not a valid id"),
        ({"records": (RecordEntry("r01", 0, 10, H),)}, "record version is out of range"),
        (
            {"records": (RecordEntry("r01", 1, bundle.MAX_RECORD_SIZE + 1, H),)},
            "record size is out of range",
        ),
        (
            {"records": (RecordEntry("r01", 2, 10, H), RecordEntry("r01", 2, 11, H))},
            "lists a record version twice",
        ),
        (
            {"records": (RecordEntry("r01", bundle.MAX_VERSION + 1, 10, H),)},
            "record version is out of range",
        ),
    ],
)
def test_manifest_rejects(change: dict[str, object], reason: str) -> None:
    """Each bad manifest is refused by the check meant for it, not by another one."""
    with pytest.raises(MalformedData, match=reason):
        bundle.decode_manifest(bundle.encode_manifest(_manifest(**change)))


def test_manifest_rejects_duplicate_and_extra_keys() -> None:
    import msgpack

    good = msgpack.unpackb(bundle.encode_manifest(_manifest()), raw=False)
    extra = dict(good, extra=1)
    with pytest.raises(MalformedData):
        bundle.decode_manifest(msgpack.packb(extra, use_bin_type=True))
    # A duplicated key, written by hand: map of 11 entries with "v" twice.
    raw = bytearray(bundle.encode_manifest(_manifest()))
    assert raw[0] == 0x8A
    raw[0] = 0x8B
    raw += b"\xa1v\x01"
    with pytest.raises(MalformedData, match="duplicated"):
        bundle.decode_manifest(bytes(raw))


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=4096))
def test_decode_manifest_never_crashes(data: bytes) -> None:
    try:
        bundle.decode_manifest(data)
    except MalformedData:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_manifest_is_rejected_or_parses(data: st.DataObject) -> None:
    raw = bytearray(bundle.encode_manifest(_manifest()))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    try:
        m = bundle.decode_manifest(bytes(raw))
    except MalformedData:
        return
    assert isinstance(m, Manifest)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 0xFFFFFFFF))
def test_manifest_length_is_bounded_before_reading(n: int) -> None:
    head = bundle.MAGIC + struct.pack(">HI", 1, n)

    class Counting(io.BytesIO):
        asked = 0

        def read(self, size: int | None = -1) -> bytes:
            Counting.asked = max(Counting.asked, size or 0)
            return super().read(size)

    src = Counting(head + b"\x80")
    with pytest.raises(MalformedData):
        bundle.read_prefix(src)
    assert Counting.asked <= bundle.MAX_MANIFEST


def test_every_truncation_of_a_prefix_is_rejected() -> None:
    mbytes = bundle.encode_manifest(_manifest())
    data = bundle.prefix(mbytes, bytes(64))
    for n in range(len(data)):
        with pytest.raises(MalformedData):
            bundle.read_prefix(io.BytesIO(data[:n]))


def test_padme() -> None:
    assert [bundle.padme(n) for n in (0, 1, 2, 9, 100, 1000, 65536, 65537)] == [
        0,
        1,
        2,
        10,
        104,
        1024,
        65536,
        67584,
    ]
    for n in [3, 17, 1000, 123_456, 10**6, 10**9]:
        p = bundle.padme(n)
        assert n <= p <= n * 1.12 + 2


def test_padding_checks() -> None:
    bundle.check_padding(io.BytesIO(bytes(10)), 10)
    for bad in (bytes(9), bytes(11), bytes(9) + b"\x01"):
        with pytest.raises(MalformedData):
            bundle.check_padding(io.BytesIO(bad), 10)


def test_card_tampering_is_detected() -> None:
    from fieldkit.crypto import signing
    from fieldkit.crypto.age_keys import HybridIdentity

    secret = os.urandom(32)
    card = cards.Card(
        "device", "FW-03", signing.public_key(secret), HybridIdentity.generate().recipient()
    )
    text = cards.serialise(card, secret)
    assert cards.parse(text) == card
    for old, new in (("FW-03", "FW-04"), ("kind: device", "kind: hq")):
        with pytest.raises(MalformedData):
            cards.parse(text.replace(old, new))
    assert len(card.short_code) == 24 and card.short_code.count("-") == 4


# ---- size accounting: what export uses to stay under MAX_MANIFEST ------------------

_ids = st.from_regex(r"[a-z][0-9a-z]{1,63}", fullmatch=True)
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@st.composite
def _manifests(draw: st.DrawFn) -> Manifest:
    records = tuple(
        RecordEntry(draw(_ids), draw(st.integers(1, 2**31)), draw(st.integers(2, 8 << 20)), H)
        for _ in range(draw(st.integers(0, 40)))
    )
    attachments = tuple(
        AttachmentEntry(
            draw(_ids),
            draw(_ids),
            draw(_text.filter(lambda s: len(s.encode()) <= 255)),
            draw(_text.filter(lambda s: len(s) <= 255)),
            draw(st.text(max_size=2000)),
            draw(st.integers(0, 1 << 40)),
            H,
        )
        for _ in range(draw(st.integers(0, 40)))
    )
    seq = draw(st.integers(1, bundle.MAX_SEQ))
    n = draw(st.integers(1, 16))
    return _manifest(
        seq=seq,
        prev=None if seq == 1 else H,
        created=draw(st.integers(0, 1 << 40)),
        recipients=tuple(bytes([i]) * 32 for i in range(n)),
        records=records,
        attachments=attachments,
        custody=draw(
            st.none()
            | st.builds(
                bundle.CustodySection,
                st.integers(1, bundle.MAX_CUSTODY_SIZE),
                st.integers(1, bundle.MAX_CUSTODY_ENTRIES),
                st.just(H),
            )
        ),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_manifests())
def test_fixed_part_plus_entries_bounds_the_manifest(m: Manifest) -> None:
    """export packs entries until fixed_manifest_size + their entry_size would pass
    MAX_MANIFEST: that sum must never be smaller than the real encoding."""
    entries = sum(bundle.entry_size(e) for e in (*m.records, *m.attachments))
    real = len(bundle.encode_manifest(m))
    bound = bundle.fixed_manifest_size(m.device, m.recipients) + entries
    # an upper bound, and a close one (64, plus 16 for an optional prev_abandoned and 80
    # for an optional custody section)
    assert real <= bound <= real + 64 + 16 + 80


def test_custody_section_field_round_trips_and_is_bounded() -> None:
    """The optional custody field (docs/bundle-format.md, section 5): absent in old
    manifests, exact keys and bounded numbers when present."""
    with_custody = _manifest(custody=bundle.CustodySection(700, 3, H))
    back = bundle.decode_manifest(bundle.encode_manifest(with_custody))
    assert back.custody == bundle.CustodySection(700, 3, H)
    assert back.content_size() == _manifest().content_size() + 700
    assert bundle.decode_manifest(bundle.encode_manifest(_manifest())).custody is None
    for bad in (
        bundle.CustodySection(0, 1, H),
        bundle.CustodySection(1, 0, H),
        bundle.CustodySection(bundle.MAX_CUSTODY_SIZE + 1, 1, H),
        bundle.CustodySection(10, bundle.MAX_CUSTODY_ENTRIES + 1, H),
        bundle.CustodySection(10, 1, H[:31]),
    ):
        with pytest.raises(bundle.MalformedBundle):
            bundle.decode_manifest(bundle.encode_manifest(_manifest(custody=bad)))
