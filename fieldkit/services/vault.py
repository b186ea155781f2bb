"""The vault: create, unlock, lock, change passphrase, recover, wipe.

A vault is a directory (0700) with an SQLCipher database keyed by a random
256-bit master key and a keyslot file (0600) holding that key wrapped under
Argon2id of the passphrase and of the recovery code.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fieldkit.crypto import kdf
from fieldkit.errors import (
    AuthenticationFailed,
    CorruptVault,
    FileAccessError,
    MalformedData,
    VaultExists,
    VaultNotFound,
)
from fieldkit.formats import keyslots, recovery_code
from fieldkit.formats.attempts import Attempts
from fieldkit.formats.keyslots import KeyslotFile, SlotKind
from fieldkit.locations import VaultPaths
from fieldkit.services import (
    attachments,
    attempts,
    custody,
    fsio,
    identity,
    keyring,
    passphrase_policy,
)
from fieldkit.services.clock import iso_utc
from fieldkit.services.wipe import sweep_temp_files
from fieldkit.services.wipe import wipe as wipe
from fieldkit.store import meta
from fieldkit.store.db import Database

VAULT_KINDS = ("field", "hq")
DEFAULT_NAMES = {"field": "fieldkit device", "hq": "fieldkit HQ"}


@dataclass
class UnlockTimings:
    kdf_seconds: float = 0.0
    open_seconds: float = 0.0


@dataclass
class Vault:
    """An unlocked vault. `lock()` closes the database and zeroes the master key."""

    paths: VaultPaths
    db: Database
    keyslot_file: KeyslotFile
    _master_key: bytearray
    timings: UnlockTimings = field(default_factory=UnlockTimings)
    # Every other keyed connection handed out by connect(): lock() closes them too.
    _others: list[Database] = field(default_factory=list)

    # ---- lifecycle -------------------------------------------------------
    @classmethod
    def create(
        cls,
        root: Path,
        passphrase: str,
        *,
        kdf_params: kdf.Argon2Params,
        kind: str = "field",
        name: str | None = None,
        random_bytes: Callable[[int], bytes] = os.urandom,
        now: Callable[[], float] = time.time,
    ) -> tuple[Vault, str]:
        """Make a new vault; returns it unlocked with its recovery code (show it once)."""
        passphrase_policy.check(passphrase)
        if kind not in VAULT_KINDS:
            raise ValueError("vault kind must be 'field' or 'hq'")
        name = identity.valid_name(name or DEFAULT_NAMES[kind])
        paths = VaultPaths(root)
        if paths.keyslots.exists() or paths.database.exists():
            raise VaultExists(f"a vault already exists at {root}")
        if root.exists() and any(root.iterdir()):
            raise VaultExists(f"{root} is not empty")
        fsio.make_secret_dir(root)
        master_key = bytearray(random_bytes(keyring.MASTER_KEY_SIZE))
        vault_id = random_bytes(keyslots.VAULT_ID_SIZE)
        code_raw = random_bytes(recovery_code.CODE_BYTES)
        code = recovery_code.encode(code_raw)
        pass_slot = keyring.make_slot(
            SlotKind.PASSPHRASE,
            _secret(passphrase),
            master_key,
            vault_id,
            kdf_params,
            random_bytes=random_bytes,
        )
        rec_slot = keyring.make_slot(
            SlotKind.RECOVERY,
            code_raw,
            master_key,
            vault_id,
            kdf_params,
            random_bytes=random_bytes,
        )
        slot_file = KeyslotFile(vault_id, (pass_slot, rec_slot))
        # Database first, keyslots last: a crash in between leaves no keyslot
        # file, so the half-made vault is recognisably not a vault.
        old_umask = os.umask(0o077)
        try:
            db = Database.open(paths.database, master_key, create=True)
        finally:
            os.umask(old_umask)
        with db.transaction():
            identity.create(
                db, kind, name, iso_utc(now()), random_bytes=random_bytes
            )
            meta.put(db, "kind", kind)
            meta.put(db, "vault_id", vault_id.hex())
            meta.put(db, "created_at", iso_utc(now()))
            meta.put(db, "kdf", kdf_params.describe())
        attempts.write(paths, Attempts())
        fsio.atomic_write(paths.keyslots, keyslots.serialise(slot_file))
        return cls(paths, db, slot_file, master_key), code

    @classmethod
    def unlock(cls, root: Path, passphrase: str) -> Vault:
        return cls._unlock(root, SlotKind.PASSPHRASE, _secret(passphrase))

    @classmethod
    def unlock_with_recovery_code(cls, root: Path, code: str) -> Vault:
        return cls._unlock(root, SlotKind.RECOVERY, recovery_code.decode(code))

    @classmethod
    def _unlock(cls, root: Path, kind: SlotKind, secret: bytes) -> Vault:
        paths = VaultPaths(root)
        slot_file = read_keyslots(paths)
        slot = slot_file.slot(kind)
        if slot is None:
            raise AuthenticationFailed("this vault has no recovery code slot")
        # Counted as a failure on disk before Argon2id runs (services/attempts.py).
        counted = attempts.before_attempt(paths)
        t0 = time.perf_counter()
        try:
            master_key = keyring.unwrap(slot, secret, slot_file.vault_id)
        except AuthenticationFailed:
            attempts.after_failure(root, counted)  # wipes if this reached the limit
            what = "passphrase" if kind == SlotKind.PASSPHRASE else "recovery code"
            raise AuthenticationFailed(f"wrong {what}") from None
        except MalformedData as exc:  # Argon2id could not get its memory
            raise CorruptVault(
                f"the keyslot file is damaged or asks for more than this machine has: "
                f"{exc.message}",
                hint="close other programs and try again; if it persists, restore the"
                " vault folder from a copy",
            ) from None
        t1 = time.perf_counter()
        # A crash during a passphrase change leaves a keyslot temp file that opens the
        # vault with the new passphrase; the user believes it was never set.
        sweep_temp_files(root)
        db = Database.open(paths.database, master_key)
        stored_id = meta.get(db, "vault_id")
        if stored_id != slot_file.vault_id.hex():
            db.close()
            raise CorruptVault("the keyslot file belongs to another vault")
        vault_kind = meta.get(db, "kind") or "field"
        if vault_kind in VAULT_KINDS:  # schema 1 had no identities
            name = DEFAULT_NAMES[vault_kind]
            identity.create_if_never_had_one(db, vault_kind, name, iso_utc(time.time()))
        attachments.tidy_storage(db)
        custody.backfill(db)
        attempts.after_success(paths, db)
        t2 = time.perf_counter()
        return cls(paths, db, slot_file, master_key, UnlockTimings(t1 - t0, t2 - t1))

    def connect(self) -> Database:
        """Another connection to this unlocked vault, for work in a background thread
        (export, import, large attachments). The caller closes it."""
        if self.is_locked:
            raise CorruptVault("the vault is locked")
        conn = Database.open(self.paths.database, self._master_key)
        self._others = [c for c in self._others if c.is_open] + [conn]
        return conn

    def lock(self) -> None:
        """Close the database and every connection handed out by connect() (work still
        running on one fails and rolls back), then zero the master key (best effort in
        Python; see SECURITY.md)."""
        self.db.close()
        for conn in self._others:
            conn.close()
        self._others = []
        for i in range(len(self._master_key)):
            self._master_key[i] = 0

    def _key(self) -> bytes:
        """A copy of the master key for rewrapping, or an error if the vault was locked
        (lock() closes the database before it zeroes the key, so a copy taken while
        the database is still open is the real key, never zeros)."""
        key = bytes(self._master_key)
        if self.is_locked:
            raise CorruptVault("the vault is locked")
        return key

    @property
    def is_locked(self) -> bool:
        return not self.db.is_open

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock()

    # ---- facts ----------------------------------------------------------
    @property
    def kind(self) -> str:
        return meta.get(self.db, "kind") or "field"

    def kdf_params(self) -> kdf.Argon2Params:
        slot = self.keyslot_file.slot(SlotKind.PASSPHRASE)
        if slot is None:  # parse() guarantees a passphrase slot
            raise CorruptVault("keyslot file has no passphrase slot")
        return slot.params

    # ---- key management ---------------------------------------------------
    def check_passphrase(self, passphrase: str) -> bool:
        """Whether `passphrase` opens this vault's passphrase slot as it is on disk now
        (asked again before security settings change). Runs Argon2: use a worker.
        Opens no database and changes nothing."""
        slot_file = read_keyslots(self.paths)
        slot = slot_file.slot(SlotKind.PASSPHRASE)
        if slot is None:  # parse() guarantees a passphrase slot
            raise CorruptVault("keyslot file has no passphrase slot")
        try:
            key = keyring.unwrap(slot, _secret(passphrase), slot_file.vault_id)
        except AuthenticationFailed:
            return False
        same = hmac.compare_digest(bytes(key), self._key())
        for i in range(len(key)):
            key[i] = 0
        return same

    def change_passphrase(
        self, new_passphrase: str, *, kdf_params: kdf.Argon2Params | None = None
    ) -> None:
        """Rewrap the master key under a new passphrase; the recovery slot stays byte-identical."""
        passphrase_policy.check(new_passphrase)
        params = kdf_params or self.kdf_params()
        slot = keyring.make_slot(
            SlotKind.PASSPHRASE,
            _secret(new_passphrase),
            self._key(),
            self.keyslot_file.vault_id,
            params,
        )
        self._write_keyslots(self.keyslot_file.with_slot(slot))

    def new_recovery_code(self, *, kdf_params: kdf.Argon2Params | None = None) -> str:
        """Replace the recovery slot; the old code stops working. Returns the new code."""
        raw = os.urandom(recovery_code.CODE_BYTES)
        slot = keyring.make_slot(
            SlotKind.RECOVERY,
            raw,
            self._key(),
            self.keyslot_file.vault_id,
            kdf_params or self.kdf_params(),
        )
        self._write_keyslots(self.keyslot_file.with_slot(slot))
        return recovery_code.encode(raw)

    def wipe_after_failures(self) -> int:
        """After how many failed unlocks in a row the vault wipes itself (0: never)."""
        return attempts.stored_limit(self.db)

    def set_wipe_after_failures(self, limit: int) -> None:
        """0 (off), 5, 10 or 20. Ask for the passphrase again before calling this."""
        if self.is_locked:
            raise CorruptVault("the vault is locked")
        attempts.set_limit(self.paths, self.db, limit)

    def _write_keyslots(self, new: KeyslotFile) -> None:
        fsio.atomic_write(self.paths.keyslots, keyslots.serialise(new))
        self.keyslot_file = new


def read_keyslots(paths: VaultPaths) -> KeyslotFile:
    try:
        with open(paths.keyslots, "rb") as fh:
            data = fh.read(keyslots.MAX_FILE_SIZE + 1)
    except FileNotFoundError:
        raise VaultNotFound(f"no vault at {paths.root}") from None
    except OSError as exc:
        raise FileAccessError.from_os("cannot read the keyslot file", exc) from None
    try:
        return keyslots.parse(data)
    except MalformedData as exc:
        raise CorruptVault(f"the keyslot file is damaged: {exc.message}") from None


def vault_exists(root: Path) -> bool:
    return VaultPaths(root).keyslots.exists()


def _secret(passphrase: str) -> bytes:
    return passphrase_policy.normalise(passphrase).encode("utf-8")
