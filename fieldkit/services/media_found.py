"""What services/media.py reports: findings about who, where and with what device.

A value is text from a hostile file, kept as found (bounded in length): the CLI escapes it
(cli/context.py write_line) and the app shows it literally (ui/text.py). A label is an
English N_() msgid that the CLI and the app translate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fieldkit.msgids import N_

# What a finding is about, as a person reads it (the CLI and the app translate these).
GPS = N_("GPS position")
PLACE = N_("place")
SERIAL = N_("device serial number")
DEVICE = N_("device")
AUTHOR = N_("author or owner")
CREATED = N_("creation time")
SOFTWARE = N_("software")
MAKER_NOTE = N_("manufacturer data (often holds the serial number)")
THUMBNAIL = N_("embedded preview image")
PICTURE = N_("embedded picture")
OTHER = N_("other metadata")

# The order findings are listed in: what identifies a person or a place first.
ORDER = (
    GPS,
    PLACE,
    SERIAL,
    MAKER_NOTE,
    DEVICE,
    AUTHOR,
    CREATED,
    SOFTWARE,
    THUMBNAIL,
    PICTURE,
    OTHER,
)

# Inspection states.
READ = "read"  # the file was read; `items` is everything found (perhaps nothing)
NOT_MEDIA = "not-media"  # not a photo, recording or video fieldkit reads (a PDF, a text)
UNREADABLE = "unreadable"  # looks like media but the library refused it (damaged, hostile)

MAX_VALUE = 200  # characters of one value that are kept (a tag can be megabytes)
MAX_ITEMS = 40  # findings kept; the rest are counted


@dataclass(frozen=True)
class Finding:
    label: str  # one of the constants above
    value: str  # as found in the file: hostile text, shown literally


@dataclass(frozen=True)
class Findings:
    status: str  # READ, NOT_MEDIA or UNREADABLE
    kind: str = ""  # "image", "audio" or "video" (what the library took it for)
    format: str = ""  # "JPEG", "PNG", "MP3", "MP4", ... (for messages)
    items: tuple[Finding, ...] = ()
    more: int = 0  # findings beyond MAX_ITEMS, not kept
    problem: str = ""  # why it is UNREADABLE (names the library's complaint, no bytes)

    @property
    def identifying(self) -> bool:
        return bool(self.items) or self.more > 0

    def summary(self) -> str:
        """'GPS position: 55.7558, 37.6173; device serial number: 123' (English labels;
        the CLI and the app build their own line from the items, translated)."""
        return "; ".join(f"{f.label}: {f.value}" for f in self.items)


class Unsupported(Exception):
    """A file fieldkit cannot make a stripped copy of; the message is fieldkit's own
    (it quotes nothing from the file)."""


class Collector:
    """Gathers findings, bounded in count and length, in ORDER."""

    def __init__(self) -> None:
        self.items: list[Finding] = []
        self.more = 0
        self._seen: set[tuple[str, str]] = set()

    def add(self, label: str, value: object) -> None:
        text = clip(as_text(value))
        if not text.strip():
            text = "(present)"
        if (label, text) in self._seen:
            return
        self._seen.add((label, text))
        if len(self.items) >= MAX_ITEMS:
            self.more += 1
            return
        self.items.append(Finding(label, text))

    def findings(self, kind: str, fmt: str) -> Findings:
        rank = {label: i for i, label in enumerate(ORDER)}
        items = sorted(self.items, key=lambda f: rank.get(f.label, len(ORDER)))
        return Findings(READ, kind, fmt, tuple(items), self.more)


def as_text(value: object) -> str:
    """A tag value as text: bytes decoded (UTF-8, else Latin-1), lists joined."""
    if isinstance(value, bytes | bytearray):
        raw = bytes(value[: MAX_VALUE * 4]).rstrip(b"\x00")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")
    if isinstance(value, list | tuple):
        return ", ".join(as_text(v) for v in value[:20])
    return str(value)


def clip(text: str) -> str:
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


# ISO 6709 as QuickTime and Android write it: "+55.7558+037.6173+120.000/".
_ISO6709 = re.compile(r"([+-]\d{1,2}(?:\.\d+)?)([+-]\d{1,3}(?:\.\d+)?)")


def iso6709(text: str) -> str | None:
    """'55.7558, 37.6173' from an ISO 6709 string, or None."""
    m = _ISO6709.search(text[:100])
    if m is None:
        return None
    return coordinates(float(m.group(1)), float(m.group(2)))


def coordinates(lat: float, lon: float) -> str | None:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return f"{lat:.6f}".rstrip("0").rstrip(".") + ", " + f"{lon:.6f}".rstrip("0").rstrip(".")
