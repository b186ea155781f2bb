"""age v1 files: encrypt to recipients and decrypt with identities, streaming.

This module ties the header format (formats/age_header.py) to the key arithmetic
(crypto/age_primitives.py, crypto/age_stream.py). Decryption checks, in order:
header syntax; stanza syntax for every stanza of a type we hold an identity for;
that some stanza opens; the header MAC; then each payload chunk as it is read.
Nothing from the payload is released before the header MAC has been verified.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO

from cryptography.hazmat.primitives.asymmetric import x25519

from fieldkit.crypto import age_primitives as prim
from fieldkit.crypto.age_keys import (
    HybridIdentity,
    HybridRecipient,
    Identity,
    Recipient,
    ScryptPassphrase,
    X25519Identity,
    X25519Recipient,
)
from fieldkit.crypto.age_stream import Sink, StreamWriter, decrypt_chunks, read_up_to
from fieldkit.errors import EnvelopeAuthFailed, EnvelopeMalformed, NoMatchingKey
from fieldkit.formats import age_armor, age_header
from fieldkit.formats.age_header import Header, Stanza

TYPE_PQ = "mlkem768x25519"
TYPE_X25519 = "X25519"
TYPE_SCRYPT = "scrypt"
_LOG_N = re.compile(r"^[1-9][0-9]*$")


# ---- stanzas: wrap ---------------------------------------------------------------


def _wrap(file_key: bytes, r: Recipient, random_bytes: Callable[[int], bytes]) -> Stanza:
    if isinstance(r, HybridRecipient):
        enc, body = prim.pq_wrap(file_key, r.public)
        return Stanza(TYPE_PQ, (age_header.b64encode(enc).decode(),), body)
    if isinstance(r, X25519Recipient):
        share, body = prim.x25519_wrap(file_key, r.public, random_bytes(32))
        return Stanza(TYPE_X25519, (age_header.b64encode(share).decode(),), body)
    salt = random_bytes(prim.SCRYPT_SALT_SIZE)
    body = prim.scrypt_wrap(file_key, r.passphrase, salt, r.log_n)
    return Stanza(TYPE_SCRYPT, (age_header.b64encode(salt).decode(), str(r.log_n)), body)


def check_recipient_policy(recipients: Sequence[Recipient]) -> None:
    """Never mix post-quantum and classic recipients; scrypt stands alone."""
    if not recipients:
        raise ValueError("at least one recipient is needed")
    kinds = {type(r) for r in recipients}
    if HybridRecipient in kinds and X25519Recipient in kinds:
        raise ValueError("post-quantum and X25519 recipients are never mixed in one file")
    if ScryptPassphrase in kinds and len(recipients) > 1:
        raise ValueError("a passphrase recipient must be the only recipient")


class Encryptor:
    """Write an age file to `sink`: header now, payload as you write, final chunk on close."""

    def __init__(
        self,
        sink: Sink,
        recipients: Sequence[Recipient],
        *,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        check_recipient_policy(recipients)
        file_key = random_bytes(prim.FILE_KEY_SIZE)
        stanzas = [_wrap(file_key, r, random_bytes) for r in recipients]
        mac_input = age_header.serialise_without_mac(stanzas)
        header = age_header.serialise(mac_input, prim.header_mac(file_key, mac_input))
        nonce = random_bytes(prim.PAYLOAD_NONCE_SIZE)
        sink.write(header)
        sink.write(nonce)
        self.header_size = len(header)
        self._stream = StreamWriter(prim.payload_key(file_key, nonce), sink)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        return self._stream.write(data)

    def close(self) -> None:
        self._stream.close()


def encrypt_bytes(data: bytes, recipients: Sequence[Recipient]) -> bytes:
    out = io.BytesIO()
    enc = Encryptor(out, recipients)
    enc.write(data)
    enc.close()
    return out.getvalue()


# ---- stanzas: unwrap -------------------------------------------------------------


def _arg_bytes(stanza: Stanza, index: int, size: int) -> bytes:
    value = age_header.b64decode_canonical(stanza.args[index], f"{stanza.type} argument")
    if len(value) != size:
        raise EnvelopeMalformed(f"{stanza.type} stanza argument has the wrong length")
    return value


def _check_body(stanza: Stanza) -> None:
    # Checked before any decryption, to leave no partitioning oracle.
    if len(stanza.body) != prim.WRAPPED_FILE_KEY_SIZE:
        raise EnvelopeMalformed(f"{stanza.type} stanza body has the wrong length")


def _unwrap(stanza: Stanza, identity: Identity) -> bytes | None:
    if isinstance(identity, HybridIdentity):
        if stanza.type != TYPE_PQ:
            return None
        if len(stanza.args) != 1:
            raise EnvelopeMalformed("mlkem768x25519 stanza needs exactly one argument")
        enc = _arg_bytes(stanza, 0, prim.PQ_ENC_SIZE)
        _check_body(stanza)
        _refuse_low_order(identity, enc[-32:])
        return prim.pq_unwrap(identity.private_key(), enc, stanza.body)
    if isinstance(identity, X25519Identity):
        if stanza.type != TYPE_X25519:
            return None
        if len(stanza.args) != 1:
            raise EnvelopeMalformed("X25519 stanza needs exactly one argument")
        share = _arg_bytes(stanza, 0, prim.X25519_SIZE)
        _check_body(stanza)
        try:
            return prim.x25519_unwrap(identity.secret, share, stanza.body)
        except prim.LowOrderPoint:
            raise EnvelopeMalformed("X25519 share is a low-order point") from None
    if stanza.type != TYPE_SCRYPT:
        return None
    if len(stanza.args) != 2:
        raise EnvelopeMalformed("scrypt stanza needs exactly two arguments")
    salt = _arg_bytes(stanza, 0, prim.SCRYPT_SALT_SIZE)
    if not _LOG_N.match(stanza.args[1]) or len(stanza.args[1]) > 2:
        raise EnvelopeMalformed("scrypt work factor is not a plain decimal number")
    log_n = int(stanza.args[1])
    if log_n > prim.SCRYPT_MAX_LOG_N:
        raise EnvelopeMalformed("scrypt work factor is too high")
    _check_body(stanza)
    return prim.scrypt_unwrap(identity.passphrase, salt, log_n, stanza.body)


def _refuse_low_order(identity: HybridIdentity, x25519_enc: bytes) -> None:
    """The spec's vectors require refusing an X25519 share giving an all-zero secret."""
    try:
        shared = identity.x25519_part().exchange(
            x25519.X25519PublicKey.from_public_bytes(x25519_enc)
        )
    except ValueError:
        raise EnvelopeMalformed("mlkem768x25519 share is a low-order point") from None
    if shared == b"\x00" * 32:
        raise EnvelopeMalformed("mlkem768x25519 share is a low-order point")


def unwrap_file_key(header: Header, identities: Sequence[Identity]) -> bytes:
    types = [s.type for s in header.stanzas]
    if TYPE_SCRYPT in types and len(types) > 1:
        raise EnvelopeMalformed("a scrypt stanza must be alone in the header")
    for identity in identities:
        for stanza in header.stanzas:
            key = _unwrap(stanza, identity)
            if key is None:
                continue
            if len(key) != prim.FILE_KEY_SIZE:
                raise EnvelopeMalformed("the wrapped file key has the wrong length")
            return key
    raise NoMatchingKey("the file is not encrypted to any key we hold")


# ---- decrypt ---------------------------------------------------------------------


class Decryption:
    """An age file being decrypted. `header` is parsed and the MAC verified on creation;
    iterate `chunks()` (or `read()`) for the payload, which authenticates as it goes."""

    def __init__(
        self, source: BinaryIO, identities: Sequence[Identity], *, armored: bool | None = None
    ) -> None:
        buffered = (
            source
            if isinstance(source, io.BufferedReader)
            else io.BufferedReader(
                _RawAdapter(source), buffer_size=prim.PAYLOAD_NONCE_SIZE + 70_000
            )
        )
        if armored is None:
            armored = age_armor.looks_armored(buffered.peek(64)[:64])
        if armored:
            buffered = io.BufferedReader(age_armor.ArmorReader(buffered), buffer_size=70_000)
        self._src = buffered
        self.header = age_header.parse(buffered)
        file_key = unwrap_file_key(self.header, identities)
        if not prim.header_mac_matches(file_key, self.header.mac_input, self.header.mac):
            raise EnvelopeAuthFailed("header", "the header MAC does not match")
        nonce = read_up_to(buffered.read, prim.PAYLOAD_NONCE_SIZE)
        if len(nonce) != prim.PAYLOAD_NONCE_SIZE:
            raise EnvelopeMalformed("the payload nonce is missing")
        self._key = prim.payload_key(file_key, nonce)
        self._chunks: Iterator[bytes] | None = None
        self._buf = b""

    def chunks(self) -> Iterator[bytes]:
        if self._chunks is None:
            self._chunks = decrypt_chunks(self._key, self._src)
        return self._chunks

    def read(self, n: int) -> bytes:
        """n plaintext bytes, fewer only at the authenticated end (b"" there)."""
        return read_up_to(self.read_some, n)

    def read_some(self, n: int) -> bytes:
        """Between 1 and n plaintext bytes, at most the rest of one chunk (b"" only at
        the authenticated end); a whole chunk is handed over without a copy."""
        if not self._buf:
            nxt = next(self.chunks(), None)
            if nxt is None:
                return b""
            self._buf = nxt
        if len(self._buf) <= n:
            piece, self._buf = self._buf, b""
        else:
            piece, self._buf = self._buf[:n], self._buf[n:]
        return piece

    def read_exact(self, n: int) -> bytes:
        data = self.read(n)
        if len(data) != n:
            raise EOFError("payload ended early")
        return data


def decrypt_bytes(data: bytes, identities: Sequence[Identity]) -> bytes:
    d = Decryption(io.BytesIO(data), identities)
    return b"".join(d.chunks())


def stanza_types(source: BinaryIO) -> tuple[Header, int]:
    """Parse only the header (no keys needed): for `inspect`."""
    buffered = io.BufferedReader(_RawAdapter(source))
    header = age_header.parse(buffered)
    return header, header.size


class _RawAdapter(io.RawIOBase):
    def __init__(self, source: BinaryIO) -> None:
        self._s = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._s.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n
