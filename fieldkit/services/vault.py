"""The vault: create, unlock, lock, change passphrase, recover, duress, wipe.

A vault is a directory (0700) with an SQLCipher database keyed by a random
256-bit master key and a keyslot file (0600, version 2: formats/keyslots.py) holding
that key wrapped under Argon2id of the passphrase and of the recovery code, and maybe
a duress marker under the duress passphrase, which shreds the vault when entered.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NoReturn

from fieldkit.crypto import kdf
from fieldkit.errors import (
    AuthenticationFailed,
    CorruptVault,
    FileAccessError,
    InvalidInput,
    MalformedData,
    VaultExists,
    VaultNotFound,
)
from fieldkit.formats import keyslots, keyslots_v1, recovery_code
from fieldkit.formats.attempts import Attempts
from fieldkit.formats.keyslots import KeyslotFile, Slot, SlotKind
from fieldkit.locations import VaultPaths
from fieldkit.msgids import N_
from fieldkit.services import (
    attachments,
    attempts,
    custody,
    fsio,
    identity,
    keyring,
    keyslot_upgrade,
    passphrase_policy,
    search_text,
)
from fieldkit.services.clock import iso_utc
from fieldkit.services.wipe import sweep_temp_files
from fieldkit.services.wipe import wipe as wipe
from fieldkit.store import meta, schema
from fieldkit.store.db import Database

VAULT_KINDS = ("field", "hq")
# (records done, records in all) while a migration indexes the vault again.
Progress = Callable[[int, int], None]
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
        _check_free(root)
        master_key = bytearray(random_bytes(keyring.MASTER_KEY_SIZE))
        vault_id = random_bytes(keyslots.VAULT_ID_SIZE)
        code_raw = random_bytes(recovery_code.CODE_BYTES)
        base = KeyslotFile(vault_id, kdf_params, random_bytes(kdf.SALT_SIZE), ())
        pass_slot = keyring.seal_slot(
            base,
            SlotKind.PASSPHRASE,
            keyring.derive(_secret(passphrase), base),
            master_key,
            random_bytes(keyring.SLOT_MATERIAL_SIZE),
        )
        rec_slot = keyring.seal_slot(
            base,
            SlotKind.RECOVERY,
            keyring.derive(code_raw, base),
            master_key,
            random_bytes(keyring.SLOT_MATERIAL_SIZE),
        )
        unused = random_bytes(2 * keyslots.SLOT_SIZE)
        slot_file = replace(
            base,
            slots=(
                pass_slot,
                rec_slot,
                Slot.from_bytes(unused[: keyslots.SLOT_SIZE]),
                Slot.from_bytes(unused[keyslots.SLOT_SIZE :]),
            ),
        )
        vault = cls._make(root, kind, name, slot_file, master_key, random_bytes, now)
        return vault, recovery_code.encode(code_raw)

    @classmethod
    def _make(
        cls,
        root: Path,
        kind: str,
        name: str,
        slot_file: KeyslotFile,
        master_key: bytearray,
        random_bytes: Callable[[int], bytes],
        now: Callable[[], float],
    ) -> Vault:
        """Write a new vault's files: the folder, the database, the counter, the keyslots."""
        paths = VaultPaths(root)
        fsio.make_secret_dir(root)
        # Database first, keyslots last: a crash in between leaves no keyslot
        # file, so the half-made vault is recognisably not a vault.
        old_umask = os.umask(0o077)
        try:
            db = Database.open(paths.database, master_key, create=True, upgrade=_upgrade(None))
        finally:
            os.umask(old_umask)
        with db.transaction():
            identity.create(db, kind, name, iso_utc(now()), random_bytes=random_bytes)
            meta.put(db, "kind", kind)
            meta.put(db, "vault_id", slot_file.vault_id.hex())
            meta.put(db, "created_at", iso_utc(now()))
            meta.put(db, "kdf", slot_file.params.describe())
        attempts.write(paths, Attempts())
        fsio.atomic_write(paths.keyslots, keyslots.serialise(slot_file))
        return cls(paths, db, slot_file, master_key)

    @classmethod
    def unlock(cls, root: Path, passphrase: str, *, on_upgrade: Progress | None = None) -> Vault:
        """Open with the passphrase. The duress passphrase, if one is set, opens too: it
        shreds this vault and returns a new, empty one (docs/vault-format.md, "Duress").
        The first unlock after a schema change may take a while: a migration that indexes
        every record again reports (done, total) to `on_upgrade`."""
        return cls._unlock(root, SlotKind.PASSPHRASE, _secret(passphrase), on_upgrade)

    @classmethod
    def unlock_with_recovery_code(
        cls, root: Path, code: str, *, on_upgrade: Progress | None = None
    ) -> Vault:
        return cls._unlock(root, SlotKind.RECOVERY, recovery_code.decode(code), on_upgrade)

    @classmethod
    def _unlock(
        cls, root: Path, kind: SlotKind, secret: bytes, on_upgrade: Progress | None = None
    ) -> Vault:
        paths = VaultPaths(root)
        slot_file = read_keyslots(paths)
        if isinstance(slot_file, keyslots_v1.KeyslotFile):
            return cls._unlock_v1(paths, slot_file, kind, secret, on_upgrade)
        # Counted as a failure on disk before Argon2id runs (services/attempts.py).
        counted = attempts.before_attempt(paths)
        t0 = time.perf_counter()
        k = _derive(secret, slot_file)
        # Every slot is tried, in every form, whichever matches (keyring.open_all).
        opened = keyring.open_all(slot_file, k)
        t1 = time.perf_counter()
        master_key = next((o.plaintext for o in opened if o.kind == kind), None)
        if master_key is None and kind == SlotKind.PASSPHRASE:
            for o in opened:
                vault_kind = keyring.duress_vault_kind(o.plaintext)
                if o.kind == SlotKind.DURESS and vault_kind is not None:
                    vault = cls._duress(paths, slot_file, k, vault_kind)
                    vault.timings = UnlockTimings(t1 - t0, time.perf_counter() - t1)
                    return vault
        if master_key is None:
            _failed(root, counted, kind)
        db = _open_database(paths, slot_file.vault_id, master_key, on_upgrade)
        t2 = time.perf_counter()
        return cls(paths, db, slot_file, master_key, UnlockTimings(t1 - t0, t2 - t1))

    @classmethod
    def _unlock_v1(
        cls,
        paths: VaultPaths,
        slot_file: keyslots_v1.KeyslotFile,
        kind: SlotKind,
        secret: bytes,
        on_upgrade: Progress | None = None,
    ) -> Vault:
        """A vault from before keyslot version 2: unlock as v1 did, then upgrade the file."""
        slot = slot_file.slot(keyslots_v1.SlotKind(int(kind)))
        if slot is None:
            raise AuthenticationFailed("this vault has no recovery code slot")
        counted = attempts.before_attempt(paths)
        t0 = time.perf_counter()
        try:
            master_key = keyring.unwrap_v1(slot, secret, slot_file.vault_id)
        except AuthenticationFailed:
            _failed(paths.root, counted, kind)
        except MalformedData as exc:
            raise _no_memory(exc) from None
        t1 = time.perf_counter()
        db = _open_database(paths, slot_file.vault_id, master_key, on_upgrade)
        try:
            upgraded = keyslot_upgrade.upgrade(slot_file, kind, secret, master_key)
            fsio.atomic_write(paths.keyslots, keyslots.serialise(upgraded))
        except MalformedData as exc:
            db.close()
            raise _no_memory(exc) from None
        except BaseException:
            db.close()
            raise
        t2 = time.perf_counter()
        return cls(paths, db, upgraded, master_key, UnlockTimings(t1 - t0, t2 - t1))

    @classmethod
    def _duress(
        cls, paths: VaultPaths, slot_file: KeyslotFile, k: bytes, vault_kind: str
    ) -> Vault:
        """The duress passphrase was entered: shred this vault exactly as `fieldkit wipe`
        does, then make a new one in its place, as `init` would, with that passphrase,
        and return it open. The new vault reuses the file's salt and parameters, so the
        Argon2id run already done opens it: no second run (the wipe and the new files
        add a few hundred milliseconds, docs/performance.md). It has no recovery code
        (nobody could have seen one); its slot is random like any unused one."""
        wipe(paths.root)
        master_key = bytearray(os.urandom(keyring.MASTER_KEY_SIZE))
        base = KeyslotFile(
            os.urandom(keyslots.VAULT_ID_SIZE), slot_file.params, slot_file.salt, ()
        )
        pass_slot = keyring.seal_slot(
            base, SlotKind.PASSPHRASE, k, master_key, os.urandom(keyring.SLOT_MATERIAL_SIZE)
        )
        new_file = replace(
            base, slots=(pass_slot, *(keyring.random_slot() for _ in range(3)))
        )
        name = DEFAULT_NAMES[vault_kind]
        vault = cls._make(paths.root, vault_kind, name, new_file, master_key, os.urandom, time.time)
        # What a normal unlock does after opening (the new vault has nothing to tidy).
        attempts.after_success(paths, vault.db)
        return vault

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
        return self.keyslot_file.params

    # ---- key management ---------------------------------------------------
    def _current_keyslots(self) -> KeyslotFile:
        """The keyslot file as it is on disk now (another process may have changed it)."""
        on_disk = read_keyslots(self.paths)
        if not isinstance(on_disk, KeyslotFile) or on_disk.vault_id != self.keyslot_file.vault_id:
            raise CorruptVault("the keyslot file changed under this vault")
        return on_disk

    def _opened_by(self, k: bytes, f: KeyslotFile) -> list[SlotKind]:
        """The roles K (Argon2id of a secret) opens in `f`: a passphrase or recovery slot
        only if it wraps this vault's key. Opens no database."""
        found = keyring.open_all(f, k)
        key = self._key()
        kinds = []
        for o in found:
            if o.kind == SlotKind.DURESS or hmac.compare_digest(bytes(o.plaintext), key):
                kinds.append(o.kind)
            for i in range(len(o.plaintext)):
                o.plaintext[i] = 0
        return kinds

    def check_passphrase(self, passphrase: str) -> bool:
        """Whether `passphrase` opens this vault's passphrase slot as it is on disk now
        (asked again before security settings change). Runs Argon2: use a worker.
        Opens no database, changes nothing, and is not an unlock: it is not counted as
        a failed one, and the duress passphrase here is only a wrong one."""
        f = self._current_keyslots()
        return SlotKind.PASSPHRASE in self._opened_by(_derive(_secret(passphrase), f), f)

    def change_passphrase(self, new_passphrase: str) -> None:
        """Rewrap the master key under a new passphrase; every other slot stays
        byte-identical. Runs Argon2id once with the file's salt and parameters."""
        passphrase_policy.check(new_passphrase)
        f = self._current_keyslots()
        k = _derive(_secret(new_passphrase), f)
        if SlotKind.DURESS in self._opened_by(k, f):
            raise InvalidInput(
                N_("the new passphrase is the duress passphrase"),
                hint=N_("choose another one, or remove the duress passphrase first"),
            )
        slot = keyring.seal_slot(
            f, SlotKind.PASSPHRASE, k, self._key(), os.urandom(keyring.SLOT_MATERIAL_SIZE)
        )
        self._write_keyslots(f.with_slot(SlotKind.PASSPHRASE, slot))

    def new_recovery_code(self) -> str:
        """Replace the recovery slot; the old code stops working. Returns the new code."""
        raw = os.urandom(recovery_code.CODE_BYTES)
        f = self._current_keyslots()
        slot = keyring.seal_slot(
            f,
            SlotKind.RECOVERY,
            _derive(raw, f),
            self._key(),
            os.urandom(keyring.SLOT_MATERIAL_SIZE),
        )
        self._write_keyslots(f.with_slot(SlotKind.RECOVERY, slot))
        return recovery_code.encode(raw)

    # ---- duress passphrase ------------------------------------------------
    def has_duress_passphrase(self) -> bool:
        return keyring.has_duress(self._current_keyslots(), self._key())

    def set_duress_passphrase(self, duress_passphrase: str) -> None:
        """Set (or replace) the duress passphrase. It passes the same strength policy as
        the passphrase and must differ from it. Ask for the passphrase again first."""
        passphrase_policy.check(duress_passphrase)
        f = self._current_keyslots()
        k = _derive(_secret(duress_passphrase), f)
        key = self._key()
        if SlotKind.PASSPHRASE in self._opened_by(k, f):
            raise InvalidInput(
                N_("the duress passphrase must differ from the passphrase"),
                hint=N_("choose another one: it must open an empty vault, not this one"),
            )
        marker = keyring.duress_marker(self.kind)
        material = keyring.duress_material(key, f.vault_id)
        slot = keyring.seal_slot(f, SlotKind.DURESS, k, marker, material)
        self._write_keyslots(f.with_slot(SlotKind.DURESS, slot))

    def remove_duress_passphrase(self) -> bool:
        """Make the duress slot random bytes again. Returns whether one was set."""
        f = self._current_keyslots()
        was_set = keyring.has_duress(f, self._key())
        self._write_keyslots(f.with_slot(SlotKind.DURESS, keyring.random_slot()))
        return was_set

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


def _open_database(
    paths: VaultPaths, vault_id: bytes, master_key: bytearray, on_upgrade: Progress | None
) -> Database:
    """After the key is known: sweep, open, check it is this vault, tidy, count a success."""
    # A crash during a passphrase change leaves a keyslot temp file that opens the
    # vault with the new passphrase; the user believes it was never set.
    sweep_temp_files(paths.root)
    db = Database.open(paths.database, master_key, upgrade=_upgrade(on_upgrade))
    try:
        if meta.get(db, "vault_id") != vault_id.hex():
            raise CorruptVault("the keyslot file belongs to another vault")
        vault_kind = meta.get(db, "kind") or "field"
        if vault_kind in VAULT_KINDS:  # schema 1 had no identities
            name = DEFAULT_NAMES[vault_kind]
            identity.create_if_never_had_one(db, vault_kind, name, iso_utc(time.time()))
        attachments.tidy_storage(db)
        custody.backfill(db)
        attempts.after_success(paths, db)
    except BaseException:
        db.close()
        raise
    return db


def _upgrade(progress: Progress | None) -> schema.Upgrade:
    """What the store's migrations need from services: how a stored document becomes
    the text the search index holds, and who hears of a long re-index."""
    return schema.Upgrade(index_body=search_text.stored_index_body, progress=progress)


def _derive(secret: bytes, slot_file: KeyslotFile) -> bytes:
    try:
        return keyring.derive(secret, slot_file)
    except MalformedData as exc:  # Argon2id could not get its memory
        raise _no_memory(exc) from None


def _no_memory(exc: MalformedData) -> CorruptVault:
    return CorruptVault(
        f"the keyslot file is damaged or asks for more than this machine has: {exc.message}",
        hint="close other programs and try again; if it persists, restore the"
        " vault folder from a copy",
    )


def _failed(root: Path, counted: Attempts, kind: SlotKind) -> NoReturn:
    attempts.after_failure(root, counted)  # wipes if this reached the limit
    what = "passphrase" if kind == SlotKind.PASSPHRASE else "recovery code"
    raise AuthenticationFailed(f"wrong {what}")


def _check_free(root: Path) -> None:
    if VaultPaths(root).keyslots.exists() or VaultPaths(root).database.exists():
        raise VaultExists(f"a vault already exists at {root}")
    if root.exists() and any(root.iterdir()):
        raise VaultExists(f"{root} is not empty")


def read_keyslots(paths: VaultPaths) -> KeyslotFile | keyslots_v1.KeyslotFile:
    try:
        with open(paths.keyslots, "rb") as fh:
            data = fh.read(keyslots.MAX_FILE_SIZE + 1)
    except FileNotFoundError:
        raise VaultNotFound(f"no vault at {paths.root}") from None
    except OSError as exc:
        raise FileAccessError.from_os("cannot read the keyslot file", exc) from None
    try:
        return keyslots.parse_any(data)
    except MalformedData as exc:
        raise CorruptVault(f"the keyslot file is damaged: {exc.message}") from None


def vault_exists(root: Path) -> bool:
    return VaultPaths(root).keyslots.exists()


def _secret(passphrase: str) -> bytes:
    return passphrase_policy.normalise(passphrase).encode("utf-8")
