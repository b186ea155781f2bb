"""Identifying metadata in photos, recordings and videos (services/media.py): what is
found, what a stripped copy keeps, and hostile files.

Photos are made here with Pillow; the audio and video files are tiny fixtures made by
scripts/make_media_fixtures.py (ffmpeg), re-read with Pillow and mutagen themselves."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import mutagen
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from fieldkit.services import media
from fieldkit.services import media_found as mf

FIXTURES = Path(__file__).parent / "fixtures" / "media"
AUDIO = ["tagged.mp3", "tagged.m4a", "tagged.flac", "tagged.ogg", "tagged.wav", "plain.m4a"]


def photo(
    *,
    gps: bool = True,
    serial: str = "SN-4242",
    artist: str = "Ivan Petrov",
    fmt: str = "JPEG",
    orientation: int = 6,
) -> bytes:
    """A small photo with the EXIF a phone or camera writes: GPS (Moscow), make and
    model, body serial, artist, time, software, orientation; and a JPEG comment."""
    im = Image.new("RGB", (48, 32), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "EOS 5D"
    exif[0x013B] = artist
    exif[0x0131] = "Firmware 1.0.3"
    exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    sub[0xA431] = serial
    sub[0x9003] = "2026:04:02 10:15:00"
    if gps:
        g = exif.get_ifd(0x8825)
        g[1], g[2] = "N", (55.0, 45.0, 20.88)
        g[3], g[4] = "E", (37.0, 37.0, 2.28)
    out = io.BytesIO()
    extra = {"comment": b"room 12"} if fmt == "JPEG" else {}
    im.save(out, fmt, exif=exif, **extra)
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Ivan Petrov")
    info.add_text("Software", "CameraApp 2.1")
    info.add_itxt("Location", "Moscow, Tverskaya 7")
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 0, 255, 128)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def labels(found: media.Findings) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in found.items:
        out.setdefault(f.label, []).append(f.value)
    return out


def strip_bytes(data: bytes) -> tuple[media.Stripped, bytes]:
    dst = io.BytesIO()
    result = media.strip(io.BytesIO(data), dst)
    return result, dst.getvalue()


# ---- photos -------------------------------------------------------------------------


def test_photo_findings_name_place_device_person_and_time() -> None:
    found = media.inspect(io.BytesIO(photo()))
    assert (found.status, found.kind, found.format) == (media.READ, "image", "JPEG")
    got = labels(found)
    assert got[mf.GPS] == ["55.7558, 37.6173"]
    assert "SN-4242" in got[mf.SERIAL]
    assert {"Canon", "EOS 5D"} <= set(got[mf.DEVICE])
    assert "Ivan Petrov" in got[mf.AUTHOR]
    assert "2026:04:02 10:15:00" in got[mf.CREATED]
    assert "Firmware 1.0.3" in got[mf.SOFTWARE]
    assert "comment: room 12" in got[mf.OTHER]
    assert found.items[0].label == mf.GPS  # the place first


def test_southern_western_coordinates_are_negative() -> None:
    im = Image.new("RGB", (4, 4))
    exif = Image.Exif()
    g = exif.get_ifd(0x8825)
    g[1], g[2], g[3], g[4] = "S", (33.0, 52.0, 4.0), "W", (70.0, 40.0, 0.0)
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif)
    assert labels(media.inspect(io.BytesIO(out.getvalue())))[mf.GPS] == ["-33.867778, -70.666667"]


def test_stripped_jpeg_has_no_gps_serial_or_author_and_stands_upright() -> None:
    original = photo()
    result, copy = strip_bytes(original)
    assert result.format == "JPEG" and copy != original
    assert result.before.identifying and not result.after.identifying
    with Image.open(io.BytesIO(copy)) as im:
        exif = im.getexif()
        assert dict(exif) == {0x0112: 6}  # only the orientation is left
        assert not exif.get_ifd(0x8825) and not exif.get_ifd(0x8769)
        assert "comment" not in im.info and "icc_profile" not in im.info
        assert im.size == (48, 32)
    assert b"SN-4242" not in copy and b"Ivan" not in copy and b"Canon" not in copy


def test_stripped_png_is_lossless_and_keeps_no_text() -> None:
    original = png_with_text()
    found = labels(media.inspect(io.BytesIO(original)))
    assert "Author: Ivan Petrov" in found[mf.AUTHOR]
    assert "Location: Moscow, Tverskaya 7" in found[mf.PLACE]
    _, copy = strip_bytes(original)
    with Image.open(io.BytesIO(copy)) as a, Image.open(io.BytesIO(original)) as b:
        assert not a.text
        assert a.tobytes() == b.tobytes()  # the same pixels


def test_png_exif_chunk_is_found_and_stripped() -> None:
    original = photo(fmt="PNG")
    assert labels(media.inspect(io.BytesIO(original)))[mf.GPS]
    _, copy = strip_bytes(original)
    assert not media.inspect(io.BytesIO(copy)).identifying
    assert b"SN-4242" not in copy


def test_xmp_in_a_jpeg_is_found_and_stripped() -> None:
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
        b'exif:GPSLatitude="55,45.348N" exif:GPSLongitude="37,37.038E" '
        b'aux:SerialNumber="XMP-77"/></rdf:RDF></x:xmpmeta>'
    )
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG", xmp=xmp)
    got = labels(media.inspect(io.BytesIO(out.getvalue())))
    assert "XMP aux:SerialNumber: XMP-77" in got[mf.SERIAL]
    assert any("GPSLatitude" in v for v in got[mf.GPS])
    _, copy = strip_bytes(out.getvalue())
    assert b"XMP-77" not in copy


# ---- audio and video ----------------------------------------------------------------


@pytest.mark.parametrize("name", AUDIO)
def test_audio_tags_are_found_and_stripped(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    found = media.inspect(io.BytesIO(data))
    assert found.status == media.READ and found.kind == "audio"
    assert any("Ivan Petrov" in v for v in labels(found)[mf.AUTHOR])
    if name in ("tagged.flac", "tagged.ogg"):
        assert labels(found)[mf.GPS] == ["55.7558, 37.6173"]
    if name == "tagged.wav":  # RIFF INFO and bext, which mutagen's tag API does not show
        assert "bext: ZOOM H5 SN77" in " ".join(labels(found)[mf.DEVICE])
    result, copy = strip_bytes(data)
    assert not result.after.identifying
    again = mutagen.File(io.BytesIO(copy))  # re-read by mutagen itself
    assert again is not None
    assert not again.tags  # no tag left (an empty tag block at most)
    assert b"Ivan Petrov" not in copy and b"55.7558" not in copy and b"SN77" not in copy


def test_quicktime_location_and_device_atoms_are_found_and_refused_at_strip() -> None:
    """A phone video's location sits in moov/udta atoms that mutagen cannot delete:
    found at inspection, and the stripped copy is refused (MetadataLeft), never
    passed off as clean."""
    data = (FIXTURES / "phone.mov").read_bytes()
    found = media.inspect(io.BytesIO(data))
    assert found.kind == "video"
    got = labels(found)
    assert got[mf.GPS] == ["55.7558, 37.6173"]
    assert {"©mak: Apple", "©mod: iPhone 15"} <= set(got[mf.DEVICE])
    with pytest.raises(media.MetadataLeft) as info:
        strip_bytes(data)
    assert labels(info.value.left)[mf.GPS] == ["55.7558, 37.6173"]


def test_a_file_without_metadata_has_no_findings() -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    found = media.inspect(io.BytesIO(out.getvalue()))
    assert found.status == media.READ and not found.identifying


# ---- not media, damaged, hostile ----------------------------------------------------


def test_other_files_are_not_media_and_not_strippable() -> None:
    for data in (b"%PDF-1.7\n...", b"just some notes\n", b""):
        assert media.inspect(io.BytesIO(data)).status == media.NOT_MEDIA
        with pytest.raises(media.NotStrippable) as info:
            strip_bytes(data)
        assert info.value.reason == "type not supported"


@pytest.mark.parametrize("cut", [3, 20, 200, 600])
def test_truncated_photo_is_unreadable_or_read_never_a_crash(cut: int) -> None:
    found = media.inspect(io.BytesIO(photo()[:cut]))
    assert found.status in (media.READ, media.UNREADABLE)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_decompression_bomb_is_unreadable_and_not_decoded() -> None:
    """A 100-byte PNG claiming 100,000 x 100,000 pixels: Pillow refuses to open it; no
    pixel is allocated, and no copy is made."""
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )
    found = media.inspect(io.BytesIO(bomb))
    assert found.status == media.UNREADABLE
    assert "DecompressionBombError" in found.problem
    with pytest.raises(media.NotStrippable):
        strip_bytes(bomb)


def test_image_between_pillows_limits_is_not_decoded_for_a_copy() -> None:
    """1x-2x Pillow's pixel limit: Pillow only warns; fieldkit refuses to decode it."""
    side = int((Image.MAX_IMAGE_PIXELS or 89_478_485) ** 0.5) + 2000
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    big = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )
    assert media.inspect(io.BytesIO(big)).status == media.READ
    with pytest.raises(media.NotStrippable) as info:
        strip_bytes(big)
    assert "more pixels" in info.value.reason


def test_absurd_id3_tag_size_is_not_a_crash() -> None:
    # An ID3v2 header claiming a 256 MiB tag (syncsafe 0x7f7f7f7f), then nothing.
    data = b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f" + b"\x00" * 50
    found = media.inspect(io.BytesIO(data))
    assert found.status in (media.UNREADABLE, media.READ)


EVIL = "\x1b[31mred\x1b[0m[b]bold[/b]"  # a terminal escape and Rich markup (EXIF is ASCII)


def test_hostile_metadata_strings_are_kept_as_found_and_bounded() -> None:
    found = labels(media.inspect(io.BytesIO(photo(artist=EVIL, serial="S" * 5000))))
    assert EVIL in found[mf.AUTHOR]  # escaping is the display's job (test_media_intake)
    (serial,) = found[mf.SERIAL]
    assert len(serial) == mf.MAX_VALUE and serial.endswith("…")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_flipped_or_cut_media_never_crashes(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(["photo", *AUDIO, "phone.mov"]))
    raw = bytearray(photo() if name == "photo" else (FIXTURES / name).read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= data.draw(st.integers(1, 255))
    raw = raw[: data.draw(st.integers(1, len(raw)))]
    found = media.inspect(io.BytesIO(bytes(raw)))
    assert found.status in (media.READ, media.UNREADABLE, media.NOT_MEDIA)
    try:
        strip_bytes(bytes(raw))
    except (media.NotStrippable, media.MetadataLeft):
        pass
