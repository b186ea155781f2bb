"""HQ analysis export and counts: time and peak memory at 20k (and 200k) testimonies.

    .venv/bin/python -m bench.bench_hq_export --records 20000 [--old]

Builds an HQ vault with N testimonies (bench/corpus.py) received from 100 devices
(provenance rows as an import writes them), then runs each measurement in a fresh
child process: the export's wall time, the process's peak RSS above what it held before
the export (VmHWM reset through /proc/self/clear_refs just before), and the peak of
Python allocations (tracemalloc, in a second run: it slows
the code down). `--old` also runs the export as it was before the streaming rewrite
(git show main:fieldkit/services/analysis_export.py), for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import peak_rss_mib, save
from bench.corpus import testimony
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from tests.conftest import PASSPHRASE, WEAK

DEVICES = 100
ROOT = Path(__file__).resolve().parent.parent


def build(vault_dir: Path, n: int) -> float:
    t = time.perf_counter()
    hq, _ = Vault.create(vault_dir, PASSPHRASE, kdf_params=WEAK, kind="hq", name="HQ bench")
    rng = random.Random(1)
    rs = RecordService(hq.db)
    db = hq.db
    with db.transaction():
        for d in range(DEVICES):
            db.execute(
                "INSERT INTO devices (fingerprint, name, card, enrolled_at) VALUES (?,?,?,?)",
                (bytes([d]) * 32, f"FW-{d:03d} laptop", "", "2026-01-01T00:00:00Z"),
            )
    for start in range(0, n, 1000):
        docs = [testimony(rng, i) for i in range(start, min(n, start + 1000))]
        ids = rs.add_many(docs)
        with db.transaction():
            for i, rid in enumerate(ids):
                dev = bytes([(start + i) % DEVICES]) * 32
                db.execute(
                    "INSERT INTO provenance (kind, item_id, version, device, bundle_id, seq)"
                    " VALUES ('record', ?, 1, ?, ?, 1)",
                    (rid, dev, bytes(16)),
                )
    hq.lock()
    return time.perf_counter() - t


def child(vault_dir: Path, what: str, fmt: str, trace: bool) -> dict[str, Any]:
    """One measurement in this (fresh) process."""
    import tracemalloc

    from fieldkit.services import analysis_export, stats

    export = analysis_export.export
    if what == "old":
        import importlib.util

        src = subprocess.run(
            ["git", "show", "main:fieldkit/services/analysis_export.py"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        path = Path(tempfile.mkdtemp()) / "old_analysis_export.py"
        path.write_text(src)
        spec = importlib.util.spec_from_file_location("old_analysis_export", path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules["old_analysis_export"] = mod  # dataclasses look their module up
        spec.loader.exec_module(mod)
        export = mod.export
    hq = Vault.unlock(vault_dir, PASSPHRASE)
    out = vault_dir.parent / f"out.{fmt}"
    rss_before = _status_mib("VmRSS")
    _reset_peak()
    if trace:
        tracemalloc.start()
    t = time.perf_counter()
    if what == "stats":
        res: Any = stats.count(hq.db).incidents
    else:
        res = export(hq.db, out, fmt=fmt).records
    seconds = time.perf_counter() - t
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    hq.lock()
    size = out.stat().st_size / 2**20 if out.exists() else 0
    out.unlink(missing_ok=True)
    return {
        "seconds": round(seconds, 2),
        "rss_before_mib": round(rss_before, 1),
        "rss_peak_mib": round(_status_mib("VmHWM") or peak_rss_mib(), 1),
        "traced_peak_mib": None if traced is None else round(traced, 1),
        "result": res,
        "file_mib": round(size, 1),
    }


def _status_mib(field: str) -> float:
    """A field of /proc/self/status in MiB (Linux), 0 elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _reset_peak() -> None:
    """Start the peak RSS (VmHWM) afresh, so it measures the export alone (Linux 4.0+)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def run_child(vault_dir: Path, what: str, fmt: str, trace: bool) -> dict[str, Any]:
    r = subprocess.run(
        [sys.executable, "-m", "bench.bench_hq_export", "--child", str(vault_dir), what, fmt,
         "1" if trace else "0"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if r.returncode != 0:
        raise SystemExit(f"{what} {fmt} failed:\n{r.stderr[-3000:]}")
    return dict(json.loads(r.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--old", action="store_true", help="also measure the pre-streaming export")
    ap.add_argument("--child", nargs=4, metavar=("VAULT", "WHAT", "FMT", "TRACE"))
    args = ap.parse_args()
    if args.child:
        vault, what, fmt, trace = args.child
        print(json.dumps(child(Path(vault), what, fmt, trace == "1")))
        return
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as d:
        vault_dir = Path(d) / "hq"
        result: dict[str, Any] = {"records": args.records, "devices": DEVICES}
        result["build_s"] = round(build(vault_dir, args.records), 1)
        runs = [("new", "jsonl"), ("new", "csv"), ("stats", "-")]
        if args.old:
            runs += [("old", "jsonl"), ("old", "csv")]
        for what, fmt in runs:
            timed = run_child(vault_dir, what, fmt, trace=False)
            traced = run_child(vault_dir, what, fmt, trace=True)
            timed["traced_peak_mib"] = traced["traced_peak_mib"]
            result[f"{what}-{fmt}"] = timed
            print(what, fmt, timed, flush=True)
        save(f"hq-export-{args.records}", result)


if __name__ == "__main__":
    main()
