"""What the app is handed: where the vault is, and the clock and randomness to use.

Tests hand a weak KDF profile, a fixed clock and fixed randomness; production passes
none of them (the KDF is calibrated, time and randomness are real)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fieldkit.crypto.kdf import Argon2Params


@dataclass
class AppContext:
    vault_dir: Path
    kdf_params: Argon2Params | None = None
    now: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    random_bytes: Callable[[int], bytes] = os.urandom
    autosave_seconds: float = 3.0
    idle_check_seconds: float = 1.0
    # One step of the quick-wipe countdown (five steps); tests shorten it.
    wipe_tick_seconds: float = 1.0
    start_dir: Path = field(default_factory=Path.home)
    # "/" as far as finding mounted USB drives goes (tests hand a fake one).
    removable_root: Path = Path("/")
