"""Every filesystem location fieldkit uses, in one place.

The default vault lives in the platform's user data folder; the environment
variable FIELDKIT_VAULT overrides it, and --vault overrides both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

ENV_VAULT = "FIELDKIT_VAULT"
APP_NAME = "fieldkit"


def default_vault_dir() -> Path:
    override = os.environ.get(ENV_VAULT)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "vault"


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
