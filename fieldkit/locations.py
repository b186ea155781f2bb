"""Every filesystem location fieldkit uses, in one place.

The default vault is a folder named `vault` in the platform's user data folder
(`~/.local/share/vault` on Linux): no folder or file of a vault says "fieldkit". A vault
made by an earlier release at `<user data>/fieldkit/vault` is still found there, as long as
there is no vault at the new place. The environment variable FIELDKIT_VAULT overrides
both, and --vault overrides everything; the vault can be anywhere (a USB stick, an
encrypted volume).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

ENV_VAULT = "FIELDKIT_VAULT"
ENV_CONFIG = "FIELDKIT_CONFIG_DIR"
APP_NAME = "fieldkit"
# The user config folder's name: neutral, the same word as the default vault folder's.
CONFIG_NAME = "vault"


def default_vault_dir() -> Path:
    override = os.environ.get(ENV_VAULT)
    if override:
        return Path(override).expanduser()
    neutral = Path(platformdirs.user_data_dir(appauthor=False)) / "vault"
    older = legacy_vault_dir()
    if not VaultPaths(neutral).keyslots.exists() and VaultPaths(older).keyslots.exists():
        return older  # never lose a vault made before the default changed
    return neutral


def legacy_vault_dir() -> Path:
    """Where releases before issue 11 put the vault by default (its path says fieldkit)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "vault"


def config_dir() -> Path:
    """Settings that must be read before the vault opens (the app's language). Nothing
    secret goes here. `vault` in the platform's user config folder (`~/.config/vault` on
    Linux: no name says fieldkit); FIELDKIT_CONFIG_DIR overrides it."""
    override = os.environ.get(ENV_CONFIG)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(CONFIG_NAME, appauthor=False))


def legacy_language_file() -> Path | None:
    """Where releases before issue 11 kept the language (`~/.config/fieldkit/language`):
    read once, moved to language_file() and removed (fieldkit/i18n.py). None when
    FIELDKIT_CONFIG_DIR is set, which named the same file then as now."""
    if os.environ.get(ENV_CONFIG):
        return None
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "language"


def language_file() -> Path:
    """One line: the language code chosen in the app's Settings (fieldkit/i18n.py)."""
    return config_dir() / "language"


@dataclass(frozen=True)
class VaultPaths:
    """The files inside one vault directory."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "vault.db"

    @property
    def keyslots(self) -> Path:
        return self.root / "keyslots"

    @property
    def attempts(self) -> Path:
        """The failed-unlock counter (docs/vault-format.md), read before unlock."""
        return self.root / "attempts"

    def database_sidecars(self) -> tuple[Path, ...]:
        db = self.database
        return (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"))


# Where desktops mount USB sticks and SD cards: udisks on most Linux desktops (and Tails,
# as user "amnesia") under /media/$USER or /run/media/$USER; macOS under /Volumes.
REMOVABLE_MOUNT_PARENTS = ("media/{user}", "run/media/{user}", "Volumes")


def removable_drives(root: Path = Path("/"), user: str | None = None) -> list[Path]:
    """The mounted removable drives a bundle can be written to, in the order above and
    by name within each folder: every folder directly under one of the mount parents.
    `root` stands for "/" (tests pass a fake one). A folder that resolves to the system
    disk itself (macOS lists it in /Volumes as a link to "/") is left out."""
    if user is None:
        user = os.environ.get("USER") or os.environ.get("LOGNAME") or ""
    system = root.resolve()
    found: list[Path] = []
    for pattern in REMOVABLE_MOUNT_PARENTS:
        if "{user}" in pattern and not user:
            continue
        parent = root / pattern.format(user=user)
        try:
            entries = sorted(parent.iterdir(), key=lambda p: p.name.casefold())
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir() and entry.resolve() != system and entry not in found:
                    found.append(entry)
            except OSError:
                continue
    return found
