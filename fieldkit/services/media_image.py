"""Photos: what their metadata says (Pillow), and a copy without it.

Read: EXIF (camera make and model, body and lens serial numbers, owner, artist,
copyright, times, software, the GPS IFD as decimal coordinates, the maker note and an
embedded preview), XMP (the properties that name a place, a device or a person), IPTC
(by-line, city, country, ...), a JPEG comment and PNG text chunks. Only headers are read:
no pixel is decoded to inspect.

Stripped copy: the pixels decoded and encoded again with no metadata but the
orientation (so the photo stands the right way up). JPEG is encoded with the original's
own quantisation tables and subsampling (Pillow's quality="keep"), the closest Pillow
comes to lossless: Pillow cannot drop metadata from a JPEG without re-encoding it. PNG
is lossless anyway; WebP is written lossless. MPO (a JPEG with extra images, as some
cameras and phones write) keeps its first image only, at quality 95.
"""

from __future__ import annotations

import re
import warnings
from typing import IO, Any

from PIL import Image, ImageFile, IptcImagePlugin

from fieldkit.services import media_found as mf
from fieldkit.services.media_found import Collector, Findings

# Formats inspected. Pillow is told to try only these, so a file of another kind is not
# taken for one of Pillow's loosely recognised formats.
FORMATS = ["JPEG", "PNG", "WEBP", "TIFF", "GIF"]
# Formats a stripped copy can be made of (format read -> format written).
STRIPPABLE = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
# Pixels decoded for a stripped copy at most (Pillow's own limit, a decompression bomb
# guard: a 100-byte PNG can claim 100,000 x 100,000 pixels).
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485

# Our own pixel check below replaces Pillow's warning between 1x and 2x its limit (above
# 2x Pillow raises DecompressionBombError, which the caller reports as unreadable).
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_BASE_TAGS = {
    0x010F: mf.DEVICE,  # Make
    0x0110: mf.DEVICE,  # Model
    0x0131: mf.SOFTWARE,  # Software
    0x0132: mf.CREATED,  # DateTime
    0x013B: mf.AUTHOR,  # Artist
    0x013C: mf.DEVICE,  # HostComputer
    0x8298: mf.AUTHOR,  # Copyright
    0x010E: mf.OTHER,  # ImageDescription
    0x9C9B: mf.OTHER,  # XPTitle
    0x9C9C: mf.OTHER,  # XPComment
    0x9C9D: mf.AUTHOR,  # XPAuthor
    0x9C9E: mf.OTHER,  # XPKeywords
    0x9C9F: mf.OTHER,  # XPSubject
}
_EXIF_TAGS = {
    0x9003: mf.CREATED,  # DateTimeOriginal
    0x9004: mf.CREATED,  # DateTimeDigitized
    0xA420: mf.SERIAL,  # ImageUniqueID (some cameras: a serial-derived id)
    0xA430: mf.AUTHOR,  # CameraOwnerName
    0xA431: mf.SERIAL,  # BodySerialNumber
    0xA433: mf.DEVICE,  # LensMake
    0xA434: mf.DEVICE,  # LensModel
    0xA435: mf.SERIAL,  # LensSerialNumber
    0x9286: mf.OTHER,  # UserComment
    0x010F: mf.DEVICE,
    0x0110: mf.DEVICE,
}
_MAKER_NOTE = 0x927C
_XP_TAGS = {0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F}  # UTF-16LE bytes (Windows)
_IPTC = {
    (2, 80): mf.AUTHOR,  # By-line
    (2, 85): mf.AUTHOR,  # By-line title
    (2, 90): mf.PLACE,  # City
    (2, 92): mf.PLACE,  # Sub-location
    (2, 95): mf.PLACE,  # Province/State
    (2, 101): mf.PLACE,  # Country
    (2, 100): mf.PLACE,  # Country code
    (2, 55): mf.CREATED,  # Date created
    (2, 116): mf.AUTHOR,  # Copyright notice
    (2, 110): mf.AUTHOR,  # Credit
    (2, 115): mf.OTHER,  # Source
    (2, 120): mf.OTHER,  # Caption
    (2, 122): mf.AUTHOR,  # Caption writer
}
_XMP = {
    "exif:GPSLatitude": mf.GPS,
    "exif:GPSLongitude": mf.GPS,
    "tiff:Make": mf.DEVICE,
    "tiff:Model": mf.DEVICE,
    "aux:SerialNumber": mf.SERIAL,
    "exifEX:BodySerialNumber": mf.SERIAL,
    "aux:LensSerialNumber": mf.SERIAL,
    "dc:creator": mf.AUTHOR,
    "dc:rights": mf.AUTHOR,
    "xmpRights:Owner": mf.AUTHOR,
    "photoshop:Author": mf.AUTHOR,
    "xmp:CreatorTool": mf.SOFTWARE,
    "xmp:CreateDate": mf.CREATED,
    "photoshop:DateCreated": mf.CREATED,
    "photoshop:City": mf.PLACE,
    "photoshop:State": mf.PLACE,
    "photoshop:Country": mf.PLACE,
    "Iptc4xmpCore:Location": mf.PLACE,
}
_PNG_TEXT = {
    "author": mf.AUTHOR,
    "copyright": mf.AUTHOR,
    "creation time": mf.CREATED,
    "software": mf.SOFTWARE,
    "source": mf.DEVICE,
    "location": mf.PLACE,
}
MAX_XMP = 1024 * 1024  # bytes of an XMP packet searched (Pillow bounds what it reads)


def is_image(head: bytes) -> bool:
    """The first bytes are those of a format in FORMATS."""
    return head.startswith(
        (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
    ) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def inspect(fh: IO[bytes]) -> Findings:
    """Everything the image's metadata identifies. Raises whatever Pillow raises on
    damaged or hostile input (the caller turns it into UNREADABLE)."""
    with Image.open(fh, formats=FORMATS) as im:
        found = Collector()
        loaded = im.format == "PNG" and im.size[0] * im.size[1] <= MAX_PIXELS
        if loaded:
            # A PNG's text and eXIf chunks may follow the pixels; Pillow reads them only
            # with the pixels (bounded by the same limit a stripped copy is).
            im.load()
        _exif(im, found, loaded)
        _xmp(im, found)
        _iptc(im, found)
        _text(im, found, loaded or im.format != "PNG")
        return found.findings("image", str(im.format or ""))


def strip(src: IO[bytes], dst: IO[bytes]) -> str:
    """Write to `dst` the image from `src` without metadata; returns the format written.
    Raises Unsupported if the format is not one Pillow can re-save cleanly (STRIPPABLE)
    or the image is too large to decode safely."""
    with Image.open(src, formats=FORMATS) as im:
        fmt = str(im.format or "")
        out_format = STRIPPABLE.get(fmt)
        if out_format is None:
            raise mf.Unsupported(f"{fmt or 'this image format'} images are not supported")
        if fmt != "MPO" and getattr(im, "n_frames", 1) != 1:
            raise mf.Unsupported("images with several frames are not supported")
        width, height = im.size
        if width * height > MAX_PIXELS:
            raise mf.Unsupported("the image has more pixels than fieldkit decodes")
        orientation = im.getexif().get(_ORIENTATION)
        im.load()
        # Only what the pixels need survives; comments, ICC profile, XMP, EXIF, text
        # chunks and dpi do not (Pillow re-saves some of im.info on its own).
        keep = {k: v for k, v in im.info.items() if k in ("transparency",)}
        im.info.clear()
        im.info.update(keep)
        exif = Image.Exif()
        if isinstance(orientation, int) and 1 < orientation <= 8:
            exif[_ORIENTATION] = orientation
        params: dict[str, Any] = {"exif": exif.tobytes() if len(exif) else b""}
        if fmt == "JPEG":
            params.update(quality="keep", subsampling="keep")
        elif fmt == "MPO":
            params.update(quality=95)
        elif fmt == "WEBP":
            params.update(lossless=True, quality=100)
        im.save(dst, format=out_format, **params)
        return out_format


def _exif(im: Image.Image, found: Collector, loaded: bool) -> None:
    if im.format == "PNG" and not loaded:
        # Not loaded (too many pixels): the eXIf chunk before the pixels, if any.
        # (PngImageFile.getexif would decode every pixel first.)
        exif = Image.Exif()
        raw = im.info.get("exif")
        if isinstance(raw, bytes):
            exif.load(raw)
    else:
        exif = im.getexif()
    for tag, label in _BASE_TAGS.items():
        if tag in exif:
            found.add(label, _exif_value(tag, exif[tag]))
    sub = exif.get_ifd(_EXIF_IFD)
    for tag, label in _EXIF_TAGS.items():
        if tag in sub:
            found.add(label, _exif_value(tag, sub[tag]))
    if _MAKER_NOTE in sub:
        note = sub[_MAKER_NOTE]
        found.add(mf.MAKER_NOTE, f"{len(note) if hasattr(note, '__len__') else '?'} bytes")
    gps = exif.get_ifd(_GPS_IFD)
    if gps:
        found.add(mf.GPS, _gps(gps))
    thumb = exif.get_ifd(-1) if hasattr(Image, "ExifTags") else {}  # IFD1: the preview
    if thumb and (0x0201 in thumb or 0x0111 in thumb):
        found.add(mf.THUMBNAIL, "EXIF thumbnail (may show the uncropped photo)")


def _exif_value(tag: int, value: object) -> str:
    if tag in _XP_TAGS and isinstance(value, bytes | tuple):
        raw = bytes(value)
        return raw.decode("utf-16-le", "replace").rstrip("\x00")
    if tag == 0x9286 and isinstance(value, bytes):  # UserComment: 8-byte charset code first
        code, body = value[:8], value[8:]
        if code.startswith(b"UNICODE"):
            return body.decode("utf-16", "replace").rstrip("\x00")
        return mf.as_text(body)
    return mf.as_text(value)


def _gps(gps: dict[int, Any]) -> str:
    """'55.755800, 37.617300' (decimal degrees) where the tags allow, else what is there."""
    lat = _degrees(gps.get(2), gps.get(1))
    lon = _degrees(gps.get(4), gps.get(3))
    if lat is not None and lon is not None:
        where = mf.coordinates(lat, lon)
        if where is not None:
            alt = gps.get(6)
            if alt is not None:
                try:
                    metres = float(alt) * (-1 if gps.get(5) in (1, b"\x01") else 1)
                    where += f", {metres:.0f} m"
                except (TypeError, ValueError, ZeroDivisionError):
                    pass
            return where
    return f"{len(gps)} GPS tags (no readable position)"


def _degrees(dms: object, ref: object) -> float | None:
    try:
        if not isinstance(dms, tuple) or len(dms) != 3:
            return None
        d, m, s = (float(x) for x in dms)
        value = d + m / 60 + s / 3600
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if value != value:  # NaN: a rational with a zero denominator
        return None
    ref_text = mf.as_text(ref).strip().upper()
    return -value if ref_text in ("S", "W") else value


def _xmp(im: Image.Image, found: Collector) -> None:
    packet = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    if not packet:
        return
    text = mf.as_text(packet[:MAX_XMP]) if isinstance(packet, bytes) else str(packet)[:MAX_XMP]
    hits = 0
    for prop, label in _XMP.items():
        m = re.search(rf'{re.escape(prop)}(?:\s*=\s*"([^"]*)"|\s*>([^<]*)<)', text)
        if m is None:
            continue
        hits += 1
        value = (m.group(1) if m.group(1) is not None else m.group(2)).strip()
        found.add(label, f"XMP {prop}: {value}" if value else f"XMP {prop}")
    if not hits:
        found.add(mf.OTHER, f"XMP packet ({len(packet)} bytes)")


def _iptc(im: ImageFile.ImageFile, found: Collector) -> None:
    info = IptcImagePlugin.getiptcinfo(im)
    if not info:
        return
    for key, label in _IPTC.items():
        if key in info:
            found.add(label, f"IPTC: {mf.as_text(info[key])}")


def _text(im: Image.Image, found: Collector, loaded: bool) -> None:
    comment = im.info.get("comment")
    if comment:
        found.add(mf.OTHER, f"comment: {mf.as_text(comment)}")
    # PNG tEXt, zTXt and iTXt chunks (`text` would decode the pixels of an unloaded PNG;
    # then those before the pixels, which Pillow keeps in `info`).
    text = (
        getattr(im, "text", None)
        if loaded
        else {k: v for k, v in im.info.items() if isinstance(v, str)}
    )
    if not isinstance(text, dict):
        return
    for key, value in text.items():
        if str(key) == "XML:com.adobe.xmp":
            continue
        label = _PNG_TEXT.get(str(key).lower(), mf.OTHER)
        found.add(label, f"{key}: {mf.as_text(value)}")
