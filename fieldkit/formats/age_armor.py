"""Strict ASCII armor for age files (RFC 7468 strict PEM, label AGE ENCRYPTED FILE).

Accepted: white space before and after the block, LF or CRLF line ends. Rejected:
headers, any other label, lines other than 64 columns except the last, white space
inside, non-canonical base64, padding anywhere but the end, data after the end line.
The reader decodes line by line, so memory does not grow with the file.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import BinaryIO

from fieldkit.errors import EnvelopeMalformed

BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
END = b"-----END AGE ENCRYPTED FILE-----"
COLUMNS = 64
_WS = b" \t\r\n"
MAX_LINE = 128


class ArmorError(EnvelopeMalformed):
    """The armor itself is malformed."""


def looks_armored(prefix: bytes) -> bool:
    return prefix.lstrip(_WS).startswith(BEGIN[:10])


class ArmorReader(io.RawIOBase):
    def __init__(self, source: BinaryIO) -> None:
        self._src = source
        self._pending = b""
        self._state = "start"  # start -> body -> done

    def readable(self) -> bool:
        return True

    def _line(self) -> tuple[bytes, bool]:
        """One line without its end, and whether it had one."""
        line = self._src.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise ArmorError("armored line too long")
        if line.endswith(b"\r\n"):
            return line[:-2], True
        if line.endswith(b"\n"):
            return line[:-1], True
        return line, False

    def _start(self) -> None:
        while True:
            line = self._src.readline(MAX_LINE + 1)
            if not line:
                raise ArmorError("no armored block found")
            if line.strip(_WS):
                break
        body = line.rstrip(b"\n")
        body = body[:-1] if body.endswith(b"\r") else body
        if body != BEGIN or not line.endswith(b"\n"):
            raise ArmorError("armor does not start with the AGE ENCRYPTED FILE line")
        self._state = "body"

    def _next_body(self) -> bytes:
        line, had_eol = self._line()
        if line == END:
            self._finish()
            return b""
        if not had_eol:
            raise ArmorError("armor has no end line")
        if not line or len(line) > COLUMNS:
            raise ArmorError("armored line has the wrong length")
        data = _decode(line)
        if len(line) < COLUMNS or line.endswith(b"="):
            # A short (or padded) line must be the last one.
            end, _ = self._line()
            if end != END:
                raise ArmorError("armored body continues after a short line")
            self._finish()
        return data

    def _finish(self) -> None:
        rest = self._src.read(MAX_LINE + 1)
        if rest.strip(_WS) or len(rest) > MAX_LINE:
            raise ArmorError("data after the armor end line")
        self._state = "done"

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._state == "start":
            self._start()
        while not self._pending and self._state == "body":
            self._pending = self._next_body()
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _decode(line: bytes) -> bytes:
    if len(line) % 4:
        raise ArmorError("armored line is not a multiple of 4 characters")
    try:
        data = base64.b64decode(line, validate=True)
    except binascii.Error:
        raise ArmorError("armored line is not valid base64") from None
    if base64.b64encode(data) != line:
        raise ArmorError("armored base64 is not canonical")
    return data
