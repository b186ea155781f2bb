"""The schema 8 upgrade of a built HQ vault: how long the first unlock takes while it
indexes every record again, and the index's size before and after.

    .venv/bin/python -m bench.bench_search_upgrade --vault /tmp/fk-hq-20k

The vault must be at schema 7 (bench_hq.py builds one with an older fieldkit, or use a
copy made before the upgrade): it is upgraded in place, so work on a copy.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import sqlcipher3

from bench.bench_hq import PASSPHRASE
from bench.common import peak_rss_mib, save
from fieldkit.formats.keyslots import SlotKind
from fieldkit.locations import VaultPaths
from fieldkit.services import keyring
from fieldkit.services.vault import Vault, _secret, read_keyslots


def _raw_facts(root: Path) -> dict[str, Any]:
    """Schema version, index definition and size, read without migrating."""
    paths = VaultPaths(root)
    slots = read_keyslots(paths)
    slot = slots.slot(SlotKind.PASSPHRASE)
    assert slot is not None
    key = keyring.unwrap(slot, _secret(PASSPHRASE), slots.vault_id)
    conn = sqlcipher3.connect(str(paths.database), isolation_level=None)
    try:
        conn.execute(f"PRAGMA key = \"x'{bytes(key).hex()}'\"")
        conn.execute("PRAGMA cipher_compatibility = 4")
        return {
            "schema": conn.execute("PRAGMA user_version").fetchone()[0],
            "records": conn.execute("SELECT count(*) FROM records").fetchone()[0],
            "index_sql": conn.execute(
                "SELECT sql FROM sqlite_master WHERE name='records_fts'"
            ).fetchone()[0],
            "index_mib": round(
                conn.execute("SELECT sum(length(block)) FROM records_fts_data").fetchone()[0]
                / 2**20,
                1,
            ),
            "file_mib": round(paths.database.stat().st_size / 2**20, 1),
        }
    finally:
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vault", type=Path, required=True)
    args = ap.parse_args()
    before = _raw_facts(args.vault)
    if before["schema"] != 7:
        raise SystemExit("the vault is not at schema 7")
    marks: list[tuple[int, float]] = []
    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        marks.append((done, time.perf_counter() - start))
        if done % 20_000 < 500 or done == total:
            print(f"  {done} of {total} ({marks[-1][1]:.0f} s)", file=sys.stderr, flush=True)

    Vault.unlock(args.vault, PASSPHRASE, on_upgrade=progress).lock()
    took = time.perf_counter() - start
    after = _raw_facts(args.vault)
    first = marks[0][1] if marks else 0.0
    save(
        f"search-upgrade-{before['records']}",
        {
            "before": before,
            "after": after,
            "unlock_with_upgrade_s": round(took, 1),
            "until_first_progress_s": round(first, 2),
            "progress_reports": len(marks),
            "peak_rss_mib": round(peak_rss_mib(), 1),
        },
    )


if __name__ == "__main__":
    main()
