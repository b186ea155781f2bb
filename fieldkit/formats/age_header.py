"""The age v1 header: version line, recipient stanzas, MAC line (C2SP age spec).

Parsing is strict and bounded: canonical unpadded base64 only, body lines of
exactly 64 columns except the last, arguments of visible ASCII separated by one
space, and limits on line length, stanza count and header size, all checked
before anything is kept in memory.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import BinaryIO

from fieldkit.errors import EnvelopeMalformed

VERSION_LINE = b"age-encryption.org/v1\n"
VERSION_PREFIX = b"age-encryption.org/"
STANZA_PREFIX = b"-> "
MAC_PREFIX = b"---"
COLUMNS = 64

MAX_LINE = 4096  # a post-quantum stanza's argument line is about 1,500 bytes
MAX_STANZAS = 128
MAX_HEADER_SIZE = 1024 * 1024
MAX_BODY_SIZE = 64 * 1024


@dataclass(frozen=True)
class Stanza:
    type: str
    args: tuple[str, ...]
    body: bytes

    def encode(self) -> bytes:
        line = b"-> " + " ".join((self.type, *self.args)).encode("ascii") + b"\n"
        text = b64encode(self.body)
        lines = [text[i : i + COLUMNS] for i in range(0, len(text), COLUMNS)]
        if not lines or len(lines[-1]) == COLUMNS:
            lines.append(b"")  # the body always ends with a line shorter than 64
        return line + b"".join(chunk + b"\n" for chunk in lines)


@dataclass(frozen=True)
class Header:
    stanzas: tuple[Stanza, ...]
    mac: bytes
    # Everything the MAC covers: from the version line up to and including "---".
    mac_input: bytes

    @property
    def size(self) -> int:
        return len(self.mac_input) + 1 + 43 + 1


def b64encode(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def b64decode_canonical(text: bytes | str, what: str = "base64") -> bytes:
    """Unpadded standard base64, rejecting padding, non-alphabet bytes and
    non-canonical encodings (unused trailing bits must be zero)."""
    raw = text.encode("ascii") if isinstance(text, str) else text
    if b"=" in raw or b"\n" in raw or b"\r" in raw or len(raw) % 4 == 1:
        raise EnvelopeMalformed(f"{what} is not canonical unpadded base64")
    try:
        data = base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True)
    except binascii.Error:
        raise EnvelopeMalformed(f"{what} is not valid base64") from None
    if b64encode(data) != raw:
        raise EnvelopeMalformed(f"{what} is not canonical base64")
    return data


def serialise_without_mac(stanzas: list[Stanza]) -> bytes:
    """The bytes the header MAC is computed over (ending with "---")."""
    return VERSION_LINE + b"".join(s.encode() for s in stanzas) + MAC_PREFIX


def serialise(mac_input: bytes, mac: bytes) -> bytes:
    return mac_input + b" " + b64encode(mac) + b"\n"


def _line(source: BinaryIO, consumed: int) -> bytes:
    line = source.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise EnvelopeMalformed("age header line is too long")
    if consumed + len(line) > MAX_HEADER_SIZE:
        raise EnvelopeMalformed("age header is too large")
    if not line.endswith(b"\n"):
        raise EnvelopeMalformed("age header is truncated")
    return line


def _args(line: bytes) -> tuple[str, tuple[str, ...]]:
    rest = line[len(STANZA_PREFIX) : -1]
    parts = rest.split(b" ")
    if not rest or any(not p for p in parts):
        raise EnvelopeMalformed("age stanza has an empty argument")
    for p in parts:
        if any(b < 0x21 or b > 0x7E for b in p):
            raise EnvelopeMalformed("age stanza argument has invalid characters")
    decoded = tuple(p.decode("ascii") for p in parts)
    return decoded[0], decoded[1:]


def parse(source: BinaryIO) -> Header:
    """Read a header from `source`, leaving it positioned at the payload."""
    consumed = 0
    first = _line(source, consumed)
    if first != VERSION_LINE:
        if first.startswith(VERSION_PREFIX):
            raise EnvelopeMalformed("unsupported age version")
        raise EnvelopeMalformed("not an age file")
    consumed += len(first)
    parts = [first]
    stanzas: list[Stanza] = []
    while True:
        line = _line(source, consumed)
        consumed += len(line)
        if line.startswith(MAC_PREFIX):
            break
        if not line.startswith(STANZA_PREFIX):
            raise EnvelopeMalformed("malformed age header line")
        if len(stanzas) >= MAX_STANZAS:
            raise EnvelopeMalformed("age header has too many stanzas")
        parts.append(line)
        kind, args = _args(line)
        body_text = bytearray()
        while True:
            body_line = _line(source, consumed)
            consumed += len(body_line)
            parts.append(body_line)
            content = body_line[:-1]
            if len(content) > COLUMNS:
                raise EnvelopeMalformed("age stanza body line is longer than 64 columns")
            body_text += content
            if len(body_text) > MAX_BODY_SIZE:
                raise EnvelopeMalformed("age stanza body is too large")
            if len(content) < COLUMNS:
                break
        stanzas.append(Stanza(kind, args, b64decode_canonical(bytes(body_text), "stanza body")))
    if not stanzas:
        raise EnvelopeMalformed("age header has no recipient stanza")
    if not line.startswith(b"--- ") or len(line) != 4 + 43 + 1:
        raise EnvelopeMalformed("malformed age header MAC line")
    mac = b64decode_canonical(line[4:-1], "header MAC")
    return Header(tuple(stanzas), mac, b"".join(parts) + MAC_PREFIX)
