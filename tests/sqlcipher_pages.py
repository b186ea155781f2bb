"""Read a vault's database the way an attacker holding the master key would: every page of
the database file and every frame of its WAL, decrypted independently of SQLCipher, free
pages and stale WAL frames included. A test that scans only the raw (encrypted) bytes
proves nothing about deleted content; this is what the erasure tests scan instead.

SQLCipher 4 defaults with a raw key (store/db.py: `PRAGMA key = "x'...'"`,
`cipher_compatibility = 4`), as documented by Zetetic and checked here page by page:
- page size 4096; each page ends in 80 reserved bytes: IV (16) | HMAC-SHA512 (64);
- bytes [0, 4016) of a page are AES-256-CBC under the raw key with that IV, except on
  page 1, whose first 16 bytes are the file's salt (in place of "SQLite format 3\\0") and
  are not encrypted;
- HMAC key = PBKDF2-HMAC-SHA512(raw key, salt XOR 0x3a, 2 iterations, 32 bytes); the tag
  covers ciphertext | IV | page number (uint32 little-endian).
- WAL: a 32-byte header, then frames of a 24-byte header (page number, uint32 big-endian,
  first) and one encrypted page.
Every tag is verified, so a wrong reading of the layout fails loudly instead of scanning
garbage.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAGE_SIZE = 4096
IV_SIZE = 16
HMAC_SIZE = 64
RESERVE = IV_SIZE + HMAC_SIZE  # 80
SALT_SIZE = 16
WAL_HEADER = 32
WAL_FRAME_HEADER = 24


@dataclass(frozen=True)
class Page:
    where: str  # "db page N" or "wal frame K (page N)"
    number: int
    plain: bytes


def _salt(db_file: Path) -> bytes:
    with open(db_file, "rb") as fh:
        salt = fh.read(SALT_SIZE)
    if len(salt) != SALT_SIZE:
        raise ValueError(f"{db_file} has no SQLCipher salt")
    return salt


def _hmac_key(key: bytes, salt: bytes) -> bytes:
    mac_salt = bytes(b ^ 0x3A for b in salt)
    return hashlib.pbkdf2_hmac("sha512", key, mac_salt, 2, 32)


def decrypt_page(key: bytes, mac_key: bytes, raw: bytes, number: int) -> bytes:
    """One page's plaintext (without the salt or the reserved bytes); checks its tag."""
    if len(raw) != PAGE_SIZE:
        raise ValueError("short page")
    start = SALT_SIZE if number == 1 else 0
    body_end = PAGE_SIZE - RESERVE
    iv = raw[body_end : body_end + IV_SIZE]
    tag = raw[body_end + IV_SIZE :]
    expected = hmac.new(
        mac_key, raw[start : body_end + IV_SIZE] + struct.pack("<I", number), hashlib.sha512
    ).digest()
    if not hmac.compare_digest(tag, expected):
        raise ValueError(f"page {number}: HMAC does not verify (layout or key wrong)")
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return dec.update(raw[start:body_end]) + dec.finalize()


def pages(db_file: Path, key: bytes) -> list[Page]:
    """Every page of the database file and of its WAL, decrypted."""
    key = bytes(key)
    salt = _salt(db_file)
    mac_key = _hmac_key(key, salt)
    out: list[Page] = []
    data = db_file.read_bytes()
    if len(data) % PAGE_SIZE:
        raise ValueError("database size is not a multiple of the page size")
    for i in range(len(data) // PAGE_SIZE):
        raw = data[i * PAGE_SIZE : (i + 1) * PAGE_SIZE]
        if i > 0 and raw == bytes(PAGE_SIZE):
            continue  # never written
        out.append(Page(f"db page {i + 1}", i + 1, decrypt_page(key, mac_key, raw, i + 1)))
    if out:
        check_header(out[0].plain)
    wal = db_file.with_name(db_file.name + "-wal")
    if wal.exists():
        wdata = wal.read_bytes()
        frame = WAL_FRAME_HEADER + PAGE_SIZE
        if wdata and struct.unpack(">I", wdata[8:12])[0] != PAGE_SIZE:
            raise ValueError("WAL page size is not 4096")
        for k in range((len(wdata) - WAL_HEADER) // frame if wdata else 0):
            off = WAL_HEADER + k * frame
            number = struct.unpack(">I", wdata[off : off + 4])[0]
            raw = wdata[off + WAL_FRAME_HEADER : off + frame]
            plain = decrypt_page(key, mac_key, raw, number)
            out.append(Page(f"wal frame {k} (page {number})", number, plain))
    return out


def check_header(page1: bytes) -> None:
    """Page 1's plaintext starts at file offset 16: the SQLite header's page size (4096),
    file format versions (2 = WAL) and the reserved bytes per page (80) must match."""
    page_size, write_v, read_v, reserve = struct.unpack(">HBBB", page1[:5])
    if (page_size, write_v, read_v, reserve) != (PAGE_SIZE, 2, 2, RESERVE):
        raise ValueError(f"unexpected SQLite header {(page_size, write_v, read_v, reserve)}")


def find(pages_: list[Page], needles: dict[str, bytes]) -> list[str]:
    """'name in where' for every needle found in any decrypted page."""
    return [f"{name} in {p.where}" for p in pages_ for name, n in needles.items() if n in p.plain]
