"""Helpers shared by the benchmarks: timing, RSS, and a plain-SQLite twin of the store."""

from __future__ import annotations

import json
import os
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlcipher3

from fieldkit.store import db as store_db
from fieldkit.store import schema
from fieldkit.store.db import Database

OUT = Path(__file__).resolve().parent / "out"

# The store's own pragmas minus the cipher ones: the fair baseline follows any change there.
PLAIN_PRAGMAS = tuple(p for p in store_db._PRAGMAS if "cipher" not in p)


def open_plain(path: Path) -> Database:
    """The same schema and code paths on an unencrypted database (SQLCipher without a key
    is plain SQLite)."""
    conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False)
    for p in PLAIN_PRAGMAS:
        conn.execute(p).fetchall()
    db = Database(conn, path)
    schema.migrate(db)
    return db


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    r = fn()
    return time.perf_counter() - t, r


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50) * 1000, 2),
        "p95_ms": round(percentile(values, 95) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
        "mean_ms": round(statistics.mean(values) * 1000, 2),
    }


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def save(name: str, data: dict[str, Any]) -> None:
    OUT.mkdir(exist_ok=True)
    data = {"machine": {"cpus": os.cpu_count()}, **data}
    (OUT / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False))
    print(json.dumps(data, indent=2, ensure_ascii=False))


def compile_bytecode() -> None:
    """Compile fieldkit's modules once, as `pip install` does for an installed package.

    Where PYTHONDONTWRITEBYTECODE is set (it is in this project's CI shell), an editable
    install would otherwise compile every module from source in every CLI process, about
    60 ms that no installed fieldkit pays."""
    import compileall

    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "fieldkit"), quiet=1)
