"""Search alone, query by query, on one vault or two side by side (before and after an
index change), without migrating either.

    .venv/bin/python -m bench.bench_search --vault OLD --vault NEW

Each vault is opened with a plain keyed SQLCipher connection (the store's pragmas), so a
schema 7 vault keeps its old index; its queries are built as schema 7 built them (words as
`\\w+`), a schema 8 vault's as today's code builds them. The queries are bench_hq's (300 as
people type, after 20 warm-up ones) and a few hard cases (a first letter, long prefixes of
common words); each query runs `--repeat` times on each vault in turn, and its best time
counts: on a shared machine the best is what the query costs, the rest is waiting for a
core.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from pathlib import Path
from typing import Any

import sqlcipher3

from bench.bench_hq import PASSPHRASE
from bench.common import save, summary_ms
from bench.corpus import queries
from fieldkit.formats.keyslots import SlotKind
from fieldkit.locations import VaultPaths
from fieldkit.services import keyring, search_text
from fieldkit.services.vault import _secret, read_keyslots
from fieldkit.store.db import _PRAGMAS
from fieldkit.store.records import _SUMMARY_COLS
from fieldkit.ui.screens.records import SHOWN

HARD = ("д", "да", "даст", "дастҷ", "дастҷа", "дастҷале", "ҳуоро", "лемиқиин", "кароор дастҷ")


def _open(root: Path) -> Any:
    paths = VaultPaths(root)
    slots = read_keyslots(paths)
    slot = slots.slot(SlotKind.PASSPHRASE)
    if slot is None:
        raise SystemExit("no passphrase slot")
    key = keyring.unwrap(slot, _secret(PASSPHRASE), slots.vault_id)
    conn = sqlcipher3.connect(str(paths.database), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{bytes(key).hex()}'\"")
    for pragma in _PRAGMAS:
        conn.execute(pragma).fetchall()
    return conn


def _schema7_query(typed: str) -> str | None:
    words = re.findall(r"\w+", search_text.fold(typed))[: search_text.MAX_QUERY_TERMS]
    return " ".join(f'"{w}"' for w in words) + "*" if words else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vault", type=Path, action="append", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    cols = ", ".join("r." + c.strip() for c in _SUMMARY_COLS.split(","))
    # Column names from the store's own constant, never from input.
    sql = (
        f"SELECT {cols} FROM records_fts JOIN records r ON r.rid = records_fts.rowid"  # noqa: S608
        " WHERE records_fts MATCH ? ORDER BY records_fts.rowid DESC LIMIT ?"
    )
    vaults = []
    for root in args.vault:
        conn = _open(root)
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        build = _schema7_query if version < 8 else search_text.fts_query
        index = conn.execute("SELECT sql FROM sqlite_master WHERE name='records_fts'").fetchone()
        records = conn.execute("SELECT count(*) FROM records").fetchone()[0]
        vaults.append((str(root), version, build, conn, str(index[0]), records))
    qs = queries(random.Random(3), 300)
    for q in qs[:20]:
        for _, _, build, conn, _, _ in vaults:
            conn.execute(sql, (build(q), SHOWN)).fetchall()
    best: list[list[float]] = [[] for _ in vaults]
    for q in qs + list(HARD):
        for i, (_, _, build, conn, _, _) in enumerate(vaults):
            fq = build(q)
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                if fq is not None:
                    conn.execute(sql, (fq, SHOWN)).fetchall()
                times.append(time.perf_counter() - t)
            best[i].append(min(times))
    out: dict[str, Any] = {"repeat": args.repeat, "vaults": []}
    for (root, version, _, conn, index, records), times in zip(vaults, best, strict=True):
        typed = times[: len(qs)]
        slowest = sorted(zip(typed, qs, strict=True), reverse=True)[:5]
        out["vaults"].append(
            {
                "vault": root,
                "schema": version,
                "records": records,
                "index": " ".join(index.split()),
                "search_best_of_repeat": summary_ms(typed),
                "slowest_ms": [(round(t * 1000, 2), q) for t, q in slowest],
                "hard_ms": {
                    q: round(t * 1000, 2) for q, t in zip(HARD, times[len(qs) :], strict=True)
                },
            }
        )
        conn.close()
    save("search-" + "-vs-".join(str(v["records"]) + f"v{v['schema']}" for v in out["vaults"]), out)


if __name__ == "__main__":
    main()
