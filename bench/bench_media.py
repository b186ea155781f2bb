"""Identifying metadata (services/media.py): the cost of reading it from an attachment in
the vault, and of making a stripped copy, for a 24-megapixel photo and a long recording.

    .venv/bin/python -m bench.bench_media [--wav-seconds 3000]

Each case runs in a fresh process, so its peak RSS is its own; `rss_before_mib` is the
peak after unlocking, before the case. The recording needs ffmpeg (Debian: ffmpeg).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import peak_rss_mib, save, timed
from fieldkit.crypto.kdf import Argon2Params
from fieldkit.services import media, model
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault

PASSPHRASE = "benchmark passphrase with enough words"
# A weak profile on purpose: the unlock is not what is measured here.
WEAK = Argon2Params(time_cost=1, memory_kib=8 * 1024, parallelism=1)


def _photo(path: Path) -> None:
    from PIL import Image

    size = (6000, 4000)
    noise = Image.effect_noise(size, 40)
    flipped = noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    im = Image.merge("RGB", (noise, noise.rotate(180), flipped))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "EOS 5D"
    exif.get_ifd(0x8769)[0xA431] = "SN-4242"
    g = exif.get_ifd(0x8825)
    g[1], g[2], g[3], g[4] = "N", (55.0, 45.0, 20.88), "E", (37.0, 37.0, 2.28)
    im.save(path, "JPEG", quality=92, exif=exif)


def _recording(path: Path, seconds: int) -> None:
    subprocess.run(  # a fixed ffmpeg command line
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"anoisesrc=d={seconds}:a=0.1", "-ac", "1", "-ar", "44100",
         "-metadata", "artist=Ivan Petrov", "-metadata", "date=2026-04-02",
         "-c:a", "pcm_s16le", str(path)],
        check=True,
    )  # fmt: skip


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mib() -> float:
    return _status_mib("VmRSS")


def _hwm_mib() -> float:
    return _status_mib("VmHWM")


def _reset_peak() -> None:
    """Linux: writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS."""
    Path("/proc/self/clear_refs").write_text("5")


def _one(case: str, root: Path, att_id: str) -> None:
    """Runs in its own process: unlock, then one case; prints a JSON line."""
    with Vault.unlock(root, PASSPHRASE) as v:
        row = AttachmentService(v.db).get(att_id)
        before = peak_rss_mib()
        now_before = _rss_mib()
        _reset_peak()  # so the peak read after the case is the case's own
        if case.startswith("inspect"):
            seconds, found = timed(lambda: media.inspect_attachment(v.db, row))
            result = {"status": found.status, "findings": len(found.items)}
        else:
            # A file, as `hq extract` writes (its temp file beside the destination).
            with open(root.parent / "copy.out", "w+b") as out:

                def strip() -> media.Stripped:
                    from fieldkit.store import attachments as att_store

                    with att_store.open_content(v.db, row) as src:
                        return media.strip(src, out)

                seconds, done = timed(strip)
            (root.parent / "copy.out").unlink()
            result = {"copy_bytes": done.size, "left": done.after.identifying}
    print(json.dumps({
        "case": case, "bytes": row.size, "seconds": round(seconds, 3),
        "rss_before_mib": round(before, 1), "rss_now_before_mib": round(now_before, 1),
        "rss_peak_during_mib": round(_hwm_mib(), 1), **result,
    }))  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--wav-seconds", type=int, default=3000)
    p.add_argument("--one", nargs=3, metavar=("CASE", "VAULT", "ATT"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        _one(args.one[0], Path(args.one[1]), args.one[2])
        return
    tmp = Path(tempfile.mkdtemp(prefix="fk-bench-media-"))
    try:
        v, _ = Vault.create(tmp / "vault", PASSPHRASE, kdf_params=WEAK)
        rid = RecordService(v.db).add(model.template())
        atts = AttachmentService(v.db)
        cases: list[tuple[str, str]] = []
        _photo(tmp / "photo.jpg")
        photo = atts.add(rid, tmp / "photo.jpg").id
        cases += [("inspect photo 24 MP", photo), ("strip photo 24 MP", photo)]
        if shutil.which("ffmpeg"):
            _recording(tmp / "rec.wav", args.wav_seconds)
            rec = atts.add(rid, tmp / "rec.wav").id
            cases += [("inspect recording (WAV)", rec), ("strip recording (WAV)", rec)]
        for f in tmp.glob("*.*"):
            f.unlink()
        v.lock()
        results = []
        for case, att in cases:
            out = subprocess.run(  # this interpreter, this module
                [sys.executable, "-m", "bench.bench_media", "--one", case, str(tmp / "vault"), att],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(results[-1])
        save("media", {"cases": results})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
