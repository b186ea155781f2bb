"""Vault benchmarks: unlock split, a duress unlock against a normal one, bulk insert and
search at 100,000 testimonies, single-save latency, attachment intake; each against plain
SQLite where it applies.

    .venv/bin/python -m bench.bench_vault [--records 100000] [--attachment-mib 256]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.common import open_plain, peak_rss_mib, save, summary_ms, timed
from bench.corpus import queries, testimony
from fieldkit.crypto import kdf
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.store.db import Database

PASSPHRASE = "benchmark passphrase with enough words"
DURESS = "another benchmark passphrase, the duress one"


def bench_unlock(tmp: Path) -> dict[str, object]:
    params, calibrated = kdf.calibrate()
    v, _ = Vault.create(tmp / "unlock", PASSPHRASE, kdf_params=params)
    v.lock()
    runs = []
    for _ in range(5):
        total, vault = timed(lambda: Vault.unlock(tmp / "unlock", PASSPHRASE))
        runs.append((total, vault.timings.kdf_seconds, vault.timings.open_seconds))
        vault.lock()
    return {
        "params": params.describe(),
        "calibrated_estimate_s": round(calibrated, 3),
        "total_s_median": round(sorted(r[0] for r in runs)[2], 3),
        "kdf_s_median": round(sorted(r[1] for r in runs)[2], 3),
        "rest_ms_median": round(sorted(r[0] - r[1] for r in runs)[2] * 1000, 1),
        "rest_ms_max": round(max(r[0] - r[1] for r in runs) * 1000, 1),
    }


def bench_duress(tmp: Path, records: int = 200, attachment_mib: int = 8) -> dict[str, object]:
    """A duress unlock (shred, then a new vault) against a normal unlock of the same vault,
    production calibration: the time after Argon2id is what someone watching could see."""
    params, _ = kdf.calibrate()
    normal, duress = [], []
    for i in range(5):
        root = tmp / f"duress{i}"
        v, _ = Vault.create(root, PASSPHRASE, kdf_params=params)
        rng = random.Random(i)
        RecordService(v.db).add_many([testimony(rng, j) for j in range(records)])
        rid = RecordService(v.db).list_records(limit=1)[0].id
        blob = io.BytesIO(os.urandom(attachment_mib * 1024 * 1024))
        AttachmentService(v.db).add_stream(rid, blob, filename="a.ogg")
        v.set_duress_passphrase(DURESS)
        v.lock()
        total, vault = timed(lambda root=root: Vault.unlock(root, PASSPHRASE))
        normal.append((total, vault.timings.kdf_seconds))
        vault.lock()
        total, vault = timed(lambda root=root: Vault.unlock(root, DURESS))
        duress.append((total, vault.timings.kdf_seconds))
        vault.lock()

    def median_ms(runs: list[tuple[float, float]], rest: bool) -> float:
        values = sorted((t - k) if rest else t for t, k in runs)
        return round(values[len(values) // 2] * 1000, 1)

    return {
        "params": params.describe(),
        "vault": f"{records} records, one {attachment_mib} MiB attachment",
        "normal_total_ms_median": median_ms(normal, False),
        "normal_rest_ms_median": median_ms(normal, True),
        "duress_total_ms_median": median_ms(duress, False),
        "duress_rest_ms_median": median_ms(duress, True),
        "duress_rest_ms_max": round(max(t - k for t, k in duress) * 1000, 1),
    }


def _fill(db: Database, n: int, batch: int = 1000) -> float:
    rng = random.Random(1)
    rs = RecordService(db)
    total = 0.0
    for start in range(0, n, batch):
        docs = [testimony(rng, i) for i in range(start, min(n, start + batch))]
        t, _ = timed(lambda docs=docs: rs.add_many(docs))
        total += t
    return total


def _search(db: Database, qs: list[str]) -> tuple[list[float], int, list[tuple[float, str]]]:
    rs = RecordService(db)
    times, hits, slow = [], 0, []
    for q in qs:
        t, r = timed(lambda q=q: rs.search(q, limit=100))
        times.append(t)
        slow.append((round(t * 1000, 1), q))
        hits += len(r)
    return times, hits, sorted(slow, reverse=True)[:5]


def _single_saves(db: Database, n: int) -> list[float]:
    rng = random.Random(2)
    rs = RecordService(db)
    return [timed(lambda i=i: rs.add(testimony(rng, 10_000_000 + i)))[0] for i in range(n)]


def bench_records(tmp: Path, n: int) -> dict[str, object]:
    weak = kdf.Argon2Params(1, 8 * 1024, 1)  # unlock is measured above; not the subject here
    enc, _ = Vault.create(tmp / "enc", PASSPHRASE, kdf_params=weak)
    plain = open_plain(tmp / "plain.db")
    out: dict[str, object] = {"records": n}
    for name, db in (("sqlcipher", enc.db), ("sqlite", plain)):
        insert_s = _fill(db, n)
        qs = queries(random.Random(3), 300)
        _search(db, qs[:20])  # warm the cache as a user session would be
        times, hits, slowest = _search(db, qs)
        saves = _single_saves(db, 200)
        out[name] = {
            "bulk_insert_s": round(insert_s, 2),
            "bulk_insert_per_s": round(n / insert_s),
            "search": summary_ms(times),
            "search_hits_total": hits,
            "search_slowest_ms": slowest,
            "single_save": summary_ms(saves),
            "db_size_mib": round(
                sum(
                    p.stat().st_size
                    for p in tmp.glob("enc/vault.db*" if name == "sqlcipher" else "plain.db*")
                )
                / 2**20,
                1,
            ),
        }
    c, p = out["sqlcipher"], out["sqlite"]
    assert isinstance(c, dict) and isinstance(p, dict)
    out["ratio_bulk_insert"] = round(c["bulk_insert_s"] / p["bulk_insert_s"], 2)
    out["ratio_search_p95"] = round(c["search"]["p95_ms"] / max(p["search"]["p95_ms"], 1e-3), 2)
    out["ratio_search_p50"] = round(c["search"]["p50_ms"] / max(p["search"]["p50_ms"], 1e-3), 2)
    out["ratio_single_save_p50"] = round(
        c["single_save"]["p50_ms"] / max(p["single_save"]["p50_ms"], 1e-3), 2
    )
    enc.lock()
    plain.close()
    return out


def bench_attachment(tmp: Path, mib: int) -> dict[str, object]:
    src = tmp / "attachment.bin"
    with open(src, "wb") as fh:
        for _ in range(mib):
            fh.write(os.urandom(1024 * 1024))
    weak = kdf.Argon2Params(1, 8 * 1024, 1)
    enc, _ = Vault.create(tmp / "att", PASSPHRASE, kdf_params=weak)
    out: dict[str, object] = {"size_mib": mib}
    mb = mib * 1.048576
    # Baselines: the same bytes copied to a plain file and fsynced, which is the least
    # any durable intake has to do, through the page cache (Python) and around it (dd
    # oflag=direct). Alternated with fieldkit so none always runs cold.
    # Intake writes the file around the page cache (O_DIRECT), so the first extract
    # reads it from disk; the second finds it in the page cache.
    intake, extract, cached, copy, direct = [], [], [], [], []
    rid = RecordService(enc.db).add({"pseudonym": "A"})
    svc = AttachmentService(enc.db)
    for i in range(3):
        t, row = timed(lambda: svc.add(rid, src))
        intake.append(t)
        for times in (extract, cached):
            dest = tmp / f"x{i}.bin"
            te, _ = timed(lambda row=row, dest=dest: svc.extract(row.id, dest))
            times.append(te)
            dest.unlink()
        tc, _ = timed(lambda: _copy_fsync(src, tmp / "copy.bin"))
        copy.append(tc)
        (tmp / "copy.bin").unlink()
        td, _ = timed(lambda: _dd_direct(src, tmp / "copy.bin"))
        direct.append(td)
        (tmp / "copy.bin").unlink()
    out["fieldkit"] = {
        "intake_mb_s": round(mb / statistics.median(intake), 1),
        "extract_after_intake_mb_s": round(mb / statistics.median(extract), 1),
        "extract_from_page_cache_mb_s": round(mb / statistics.median(cached), 1),
    }
    out["plain_copy_fsync_mb_s"] = round(mb / statistics.median(copy), 1)
    out["dd_direct_fsync_mb_s"] = round(mb / statistics.median(direct), 1)
    out["ratio_intake_time_vs_copy"] = round(statistics.median(intake) / statistics.median(copy), 2)
    out["ratio_intake_time_vs_dd_direct"] = round(
        statistics.median(intake) / statistics.median(direct), 2
    )
    out["peak_rss_mib_whole_run"] = round(peak_rss_mib(), 1)
    enc.lock()
    return out


def _dd_direct(src: Path, dest: Path) -> None:
    """The same copy around the page cache, as intake now writes (GNU dd)."""
    subprocess.run(["dd", f"if={src}", f"of={dest}", "bs=4M", "oflag=direct", "conv=fsync"],
                   check=True, capture_output=True)


def _copy_fsync(src: Path, dest: Path) -> None:
    with open(src, "rb") as i, open(dest, "wb") as o:
        shutil.copyfileobj(i, o, 1024 * 1024)
        o.flush()
        os.fsync(o.fileno())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--attachment-mib", type=int, default=256)
    ap.add_argument("--only", choices=["unlock", "duress", "records", "attachment"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as d:
        tmp = Path(d)
        result: dict[str, object] = {}
        if args.only in (None, "unlock"):
            result["unlock"] = bench_unlock(tmp)
        if args.only in (None, "duress"):
            result["duress"] = bench_duress(tmp)
        if args.only in (None, "attachment"):
            result["attachment"] = bench_attachment(tmp, args.attachment_mib)
        if args.only in (None, "records"):
            result["records"] = bench_records(tmp, args.records)
        save("vault" if args.only is None else f"vault-{args.only}", result)


if __name__ == "__main__":
    main()
