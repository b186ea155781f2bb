"""Recordings and videos: what their tags say (mutagen), and a copy without them.

Read: every tag mutagen finds (ID3 frames, MP4 items, Vorbis and FLAC comments, APEv2,
ASF attributes), sorted by what it tells: artist or owner, date, encoder or software,
location (ISO 6709 as decimal coordinates), device; embedded pictures are counted (a
cover picture can carry its own EXIF). MP4 and QuickTime files carry metadata mutagen's
tag API does not show: the user-data atoms phones write (location in ©xyz or 3GPP loci,
©mak, ©mod, ©swr) and the QuickTime `keys` table (com.apple.quicktime.location.ISO6709,
make, model, software). Those are found with mutagen's own atom reader (mutagen.mp4.Atoms).

WAV files: mutagen's tag API shows only an ID3 chunk; the RIFF INFO list, Broadcast WAV's
`bext` chunk (a field recorder's originator, date and time), iXML and XMP chunks are found
with mutagen's RIFF chunk reader (mutagen._riff, private: its version is locked) and deleted
from the copy with it.

Stripped copy: mutagen deletes the tags (and FLAC pictures) in the copy. It cannot remove
the QuickTime user-data atoms; services/media.py re-reads every copy and refuses one in
which anything identifying is left.
"""

from __future__ import annotations

import struct
from typing import IO, Any

import mutagen
from mutagen._riff import RiffFile  # mutagen's RIFF chunk reader (private; version locked)
from mutagen.mp4 import Atoms  # type: ignore[attr-defined]  # mutagen's MP4 atom reader

from fieldkit.services import media_found as mf
from fieldkit.services.media_found import Collector, Findings

MAX_ATOM_READ = 64 * 1024  # bytes of one user-data atom read (a location is ~20)
MAX_ATOMS = 10_000  # atoms visited in one file

# Tag names (lower case, without an ID3 frame's ":description") -> what they tell.
_TAGS = {
    # ID3v2
    "tpe1": mf.AUTHOR,
    "tpe2": mf.AUTHOR,
    "tpe3": mf.AUTHOR,
    "tpe4": mf.AUTHOR,
    "tcom": mf.AUTHOR,
    "text": mf.AUTHOR,
    "town": mf.AUTHOR,
    "tcop": mf.AUTHOR,
    "tole": mf.AUTHOR,
    "tope": mf.AUTHOR,
    "tdrc": mf.CREATED,
    "tdrl": mf.CREATED,
    "tden": mf.CREATED,
    "tdor": mf.CREATED,
    "tyer": mf.CREATED,
    "tdat": mf.CREATED,
    "time": mf.CREATED,
    "tenc": mf.SOFTWARE,
    "tsse": mf.SOFTWARE,
    # MP4 items
    "©art": mf.AUTHOR,
    "aart": mf.AUTHOR,
    "©wrt": mf.AUTHOR,
    "cprt": mf.AUTHOR,
    "©aut": mf.AUTHOR,
    "©day": mf.CREATED,
    "©too": mf.SOFTWARE,
    "©enc": mf.SOFTWARE,
    "©swr": mf.SOFTWARE,
    "©xyz": mf.GPS,
    "©mak": mf.DEVICE,
    "©mod": mf.DEVICE,
    # Vorbis / FLAC / APE / ASF
    "artist": mf.AUTHOR,
    "albumartist": mf.AUTHOR,
    "composer": mf.AUTHOR,
    "performer": mf.AUTHOR,
    "author": mf.AUTHOR,
    "copyright": mf.AUTHOR,
    "encoded_by": mf.SOFTWARE,
    "encoded-by": mf.SOFTWARE,
    "encodedby": mf.SOFTWARE,
    "date": mf.CREATED,
    "year": mf.CREATED,
    "creation_time": mf.CREATED,
    "encoder": mf.SOFTWARE,
    "encoding": mf.SOFTWARE,
    "software": mf.SOFTWARE,
    "location": mf.GPS,
    "make": mf.DEVICE,
    "model": mf.DEVICE,
    "wm/encodingsettings": mf.SOFTWARE,
    "wm/toolname": mf.SOFTWARE,
    "wm/year": mf.CREATED,
    "wm/albumartist": mf.AUTHOR,
}
_BINARY = ("apic", "geob", "priv", "covr", "metadata_block_picture", "wm/picture")
# QuickTime user-data atoms (moov/udta) and `keys` names, by what they tell.
_UDTA = {
    b"\xa9xyz": mf.GPS,
    b"loci": mf.GPS,
    b"\xa9mak": mf.DEVICE,
    b"\xa9mod": mf.DEVICE,
    b"\xa9swr": mf.SOFTWARE,
    b"\xa9day": mf.CREATED,
    b"\xa9ART": mf.AUTHOR,
    b"\xa9aut": mf.AUTHOR,
    b"auth": mf.AUTHOR,
    b"\xa9cpy": mf.AUTHOR,
}
_KEY_WORDS = (
    ("location", mf.GPS),
    ("serial", mf.SERIAL),
    ("make", mf.DEVICE),
    ("model", mf.DEVICE),
    ("software", mf.SOFTWARE),
    ("creationdate", mf.CREATED),
    ("author", mf.AUTHOR),
    ("artist", mf.AUTHOR),
    ("owner", mf.AUTHOR),
)


# RIFF (WAV) chunks mutagen's tag API does not show: the INFO list (as recorders and
# ffmpeg write it), Broadcast WAV's `bext` (originator, date and time of the recording),
# iXML and XMP (`_PMX`).
_INFO = {
    "IART": mf.AUTHOR,
    "ICOP": mf.AUTHOR,
    "IENG": mf.AUTHOR,
    "ITCH": mf.AUTHOR,
    "ICRD": mf.CREATED,
    "ISFT": mf.SOFTWARE,
    "ISRC": mf.OTHER,
    "ICMT": mf.OTHER,
    "INAM": mf.OTHER,
    "IKEY": mf.OTHER,
    "ISBJ": mf.OTHER,
    "IPRD": mf.OTHER,
}
_RIFF_EXTRA = {"bext": mf.DEVICE, "iXML": mf.OTHER, "_PMX": mf.OTHER, "axml": mf.OTHER}


def is_av(head: bytes) -> bool:
    """The first bytes are those of a container mutagen reads (or an MP3 frame)."""
    return (
        head.startswith((b"ID3", b"fLaC", b"OggS", b"\x30\x26\xb2\x75", b"MAC ", b"wvpk"))
        or head[4:8] == b"ftyp"
        or (head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"AVI "))
        or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)
    )


def load(fh: IO[bytes]) -> Any:
    """mutagen's object for the file, or None if mutagen knows no such format."""
    fh.seek(0)
    return mutagen.File(fh)


def inspect(fh: IO[bytes]) -> Findings | None:
    """Everything the tags identify, or None if mutagen does not know the format.
    Raises whatever mutagen raises on damaged or hostile input."""
    media = load(fh)
    if media is None:
        return None
    fmt = type(media).__name__
    kind = "audio"
    found = Collector()
    if media.tags is not None:
        _tags(media.tags, found)
    for pic in getattr(media, "pictures", None) or []:  # FLAC picture blocks
        found.add(mf.PICTURE, f"{len(pic.data)} bytes ({mf.as_text(pic.mime)})")
    fh.seek(0)
    head = fh.read(12)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        fh.seek(0)
        _riff(fh, found)
    if head[4:8] == b"ftyp":
        fh.seek(0)
        if _atoms(fh, media, found):
            kind = "video"
    return found.findings(kind, fmt)


def strip(fh: IO[bytes]) -> None:
    """Delete the tags of the file `fh` (opened for reading and writing) in place."""
    media = load(fh)
    if media is None:
        raise mf.Unsupported("not a format mutagen can write")
    fh.seek(0)
    media.delete(fh)
    fh.seek(0)
    if fh.read(4) == b"RIFF":
        _strip_riff(fh)
    if getattr(media, "pictures", None):
        fh.seek(0)
        media = load(fh)
        media.clear_pictures()
        fh.seek(0)
        media.save(fh)


def _tags(tags: Any, found: Collector) -> None:
    try:
        items = list(tags.items())
    except (AttributeError, TypeError):
        items = list(tags)  # Vorbis comments: a list of (key, value)
    for key, value in items:
        name = str(key)
        if len(name) == 4 and name[0] == "\x00":
            continue  # a QuickTime `keys` item, listed by name in _keys
        base = name.split(":", 1)[0].lower()
        if name.startswith("----:"):  # MP4 freeform: "----:com.apple.iTunes:NAME"
            base = name.rsplit(":", 1)[-1].lower()
        if base in _BINARY or base.startswith(_BINARY):
            found.add(mf.PICTURE if base != "priv" else mf.OTHER, f"{name} ({_size(value)})")
            continue
        text = mf.as_text(getattr(value, "text", value))
        label = _TAGS.get(base) or _by_words(base) or mf.OTHER
        if label is mf.GPS:
            where = mf.iso6709(text)
            found.add(mf.GPS, where if where is not None else f"{name}: {text}")
        else:
            found.add(label, f"{name}: {text}")


def _riff_chunks(fh: IO[bytes]) -> list[Any]:
    """The identifying chunks at the top of a RIFF/WAVE file (INFO list, bext, ...)."""
    fh.seek(0)
    root = RiffFile(fh).root  # type: ignore[no-untyped-call]
    out = []
    for i, chunk in enumerate(root.subchunks()):
        if i >= MAX_ATOMS:
            break
        if (chunk.id == "LIST" and getattr(chunk, "name", "") == "INFO") or (
            chunk.id in _RIFF_EXTRA
        ):
            out.append(chunk)
    return out


def _riff(fh: IO[bytes], found: Collector) -> None:
    for chunk in _riff_chunks(fh):
        if chunk.id != "LIST":
            data = chunk.read() if chunk.data_size <= MAX_ATOM_READ else b""
            # bext: a 256-byte description, then the originator (32 bytes), its
            # reference (32), the date (10) and time (8) of the recording.
            fields = b" ".join(p for p in data[256:338].split(b"\x00") if p)
            text = mf.as_text(fields) if chunk.id == "bext" else f"{chunk.data_size} bytes"
            found.add(_RIFF_EXTRA[chunk.id], f"{chunk.id}: {' '.join(text.split())}")
            continue
        for n, sub in enumerate(chunk.subchunks()):
            if n >= MAX_ATOMS:
                break
            value = mf.as_text(sub.read()) if sub.data_size <= MAX_ATOM_READ else "(large)"
            found.add(_INFO.get(sub.id, mf.OTHER), f"{sub.id}: {value}")


def _strip_riff(fh: IO[bytes]) -> None:
    """Delete the chunks _riff reports, one at a time (each deletion moves the rest)."""
    for _ in range(MAX_ATOMS):
        chunks = _riff_chunks(fh)
        if not chunks:
            return
        chunks[0].delete()
    raise mf.Unsupported("too many metadata chunks")


def _by_words(name: str) -> str | None:
    for word, label in _KEY_WORDS:
        if word in name.replace("_", "").replace(" ", ""):
            return label
    return None


def _size(value: Any) -> str:
    data = getattr(value, "data", value)
    if isinstance(data, list):
        data = data[0] if data else b""
    return f"{len(data)} bytes" if hasattr(data, "__len__") else "binary"


def _atoms(fh: IO[bytes], media: Any, found: Collector) -> bool:
    """The MP4/QuickTime user-data atoms and `keys` table (see the module docstring);
    True if the file has a video track."""
    atoms = Atoms(fh)
    video = False
    seen = 0
    stack: list[tuple[Any, bytes]] = [(a, b"") for a in atoms.atoms]
    while stack and seen < MAX_ATOMS:
        atom, parent = stack.pop()
        seen += 1
        video = video or atom.name == b"vmhd"
        if atom.children:
            stack.extend((c, atom.name) for c in atom.children)
            if atom.name == b"meta":
                _keys(fh, atom, media, found)
            continue
        label = _UDTA.get(atom.name)
        if label is None or parent != b"udta":
            continue  # an iTunes-style item in ilst is one of media.tags
        data = _read(fh, atom)
        if label is mf.GPS:
            where = mf.iso6709(mf.as_text(data))
            found.add(mf.GPS, where or f"{atom.name.decode('latin-1')} location atom")
        else:
            found.add(label, f"{atom.name.decode('latin-1')}: {mf.as_text(data[4:])}")
    return video


def _read(fh: IO[bytes], atom: Any) -> bytes:
    if atom.length > MAX_ATOM_READ + 8:
        return b""
    fh.seek(atom.offset + 8)
    return fh.read(max(0, atom.length - 8))


def _keys(fh: IO[bytes], meta: Any, media: Any, found: Collector) -> None:
    """QuickTime metadata: `keys` names the items the sibling `ilst` numbers 1, 2, ...
    (the ISO/IEC 14496-12 style table: version+flags, count, then size/namespace/name)."""
    keys = next((c for c in meta.children if c.name == b"keys"), None)
    if keys is None:
        return
    data = _read(fh, keys)
    names: list[str] = []
    pos = 8
    while pos + 8 <= len(data) and len(names) < 1000:
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        if size < 8 or pos + size > len(data):
            break
        names.append(data[pos + 8 : pos + size].decode("latin-1"))
        pos += size
    values = media.tags if media.tags is not None else {}
    for i, name in enumerate(names, start=1):
        value = values.get(struct.pack(">I", i).decode("latin-1"))
        text = mf.as_text(value) if value is not None else ""
        label = _by_words(name.lower()) or mf.OTHER
        if label is mf.GPS and mf.iso6709(text):
            found.add(mf.GPS, mf.iso6709(text))
        else:
            found.add(label, f"{name}: {text}" if text else name)
