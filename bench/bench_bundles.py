"""Bundle benchmarks, side by side in one run on the same attachment:

  export   fieldkit export (CLI)   vs  age -r (Debian age 1.1.1, X25519)  vs  gpg --sign --encrypt
  import   fieldkit hq import (CLI) vs  age -d
  memory   peak RSS of export and import (GNU time %M)

    .venv/bin/python -m bench.bench_bundles --mib 512 1024 [--runs 7]

Needs Debian's age, gnupg and time (apt-get install age gnupg time). Vaults use a weak
Argon2id profile so the figures are about bundles, not the KDF (unlocking is measured in
bench_vault.py); each import runs on a fresh copy of the enrolled HQ vault.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.common import compile_bytecode, save
from fieldkit.crypto.kdf import Argon2Params
from fieldkit.services import identity, trust
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault

PASS = "benchmark passphrase with enough words"
WEAK = Argon2Params(1, 8 * 1024, 1)
FIELDKIT = str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "fieldkit")


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS KiB) of one command, from GNU time.

    `sync` first, untimed: age and gpg do not fsync their output, so without it the next
    command (whichever tool) would pay for writing back the previous one's file. fieldkit
    fsyncs the bundle (atomic write) and the vault inside its own time."""
    subprocess.run(["sync"], check=True)
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M", *cmd], capture_output=True, text=True,
                       env=env, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {r.stderr[-500:]}")
    wall, rss = r.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss)


def median(xs: list[float]) -> float:
    return round(statistics.median(xs), 2)


def setup(tmp: Path, mib: int) -> dict[str, Path]:
    src = tmp / "attachment.bin"
    with open(src, "wb") as fh:
        for _ in range(mib):
            fh.write(os.urandom(1024 * 1024))
    field, _ = Vault.create(tmp / "field", PASS, kdf_params=WEAK, name="bench laptop")
    hq, _ = Vault.create(tmp / "hq", PASS, kdf_params=WEAK, kind="hq", name="bench HQ")
    trust.trust_hq(field.db, identity.hq(hq.db).card_text())
    trust.enroll(hq.db, identity.device(field.db).card_text())
    rid = RecordService(field.db).add({"pseudonym": "bench"})
    AttachmentService(field.db).add(rid, src)
    (tmp / "hq.key").write_text(identity.hq(hq.db).age.encode() + "\n")
    field.lock()
    hq.lock()
    (tmp / "pass").write_text(PASS + "\n")
    subprocess.run(["age-keygen", "-o", str(tmp / "x25519.key")], check=True,
                   capture_output=True)
    gnupg = tmp / "gnupg"
    gnupg.mkdir(mode=0o700)
    gpg = ["gpg", "--homedir", str(gnupg), "--batch", "--pinentry-mode", "loopback",
           "--passphrase", ""]
    subprocess.run([*gpg, "--quick-gen-key", "bench@example.invalid", "ed25519", "sign",
                    "never"], check=True, capture_output=True)
    subprocess.run([*gpg, "--quick-add-key", _fpr(gnupg), "cv25519", "encr", "never"],
                   check=True, capture_output=True)
    return {"src": src, "gnupg": gnupg}


def _fpr(gnupg: Path) -> str:
    out = subprocess.run(["gpg", "--homedir", str(gnupg), "--list-keys", "--with-colons"],
                         capture_output=True, text=True, check=True).stdout
    return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr"))


def run(tmp: Path, mib: int, runs: int) -> dict[str, object]:
    paths = setup(tmp, mib)
    src = paths["src"]
    fopts = ["--vault", str(tmp / "field"), "--passphrase-file", str(tmp / "pass")]
    hopts = ["--vault", str(tmp / "hq-run"), "--passphrase-file", str(tmp / "pass")]
    recipient = next(line.split(": ")[1] for line in (tmp / "x25519.key").read_text().splitlines()
                     if line.startswith("# public key"))

    # Runs alternate fieldkit and age (and gpg) so that neither always runs on a cold
    # page cache: on this VM the first writes into never-used memory are several times
    # slower, which made whichever tool ran first look slow.
    exp: list[tuple[float, int]] = []
    age_enc: list[tuple[float, int]] = []
    age_sync: list[tuple[float, int]] = []
    gpg_enc: list[tuple[float, int]] = []
    imp: list[tuple[float, int]] = []
    age_dec: list[tuple[float, int]] = []
    exp.append(timed([FIELDKIT, "export", "--out", str(tmp / "b.fkb"), *fopts]))
    age_enc.append(timed(["age", "-r", recipient, "-o", str(tmp / "a.age"), str(src)]))
    for i in range(runs - 1):
        exp.append(timed([FIELDKIT, "export", "--resend", "1", "--out", str(tmp / f"r{i}.fkb"),
                          *fopts]))
        (tmp / f"r{i}.fkb").unlink()
        age_enc.append(timed(["age", "-r", recipient, "-o", str(tmp / f"a{i}.age"), str(src)]))
        (tmp / f"a{i}.age").unlink()
        # The same, made durable as fieldkit's atomic write is: age, then fsync its output.
        age_sync.append(timed(["sh", "-c", f"age -r {recipient} -o {tmp}/s{i}.age {src}"
                                           f" && sync {tmp}/s{i}.age"]))
        (tmp / f"s{i}.age").unlink()
    for _ in range(max(1, runs // 2)):
        out = tmp / "g.gpg"
        out.unlink(missing_ok=True)
        gpg_enc.append(timed(["gpg", "--homedir", str(paths["gnupg"]), "--batch", "--yes",
                              "--trust-model", "always", "--sign", "--encrypt", "-r",
                              "bench@example.invalid", "-o", str(out), str(src)]))
    (tmp / "g.gpg").unlink()
    for _ in range(runs):
        shutil.rmtree(tmp / "hq-run", ignore_errors=True)
        shutil.copytree(tmp / "hq", tmp / "hq-run")
        imp.append(timed([FIELDKIT, "hq", "import", str(tmp / "b.fkb"), *hopts]))
        age_dec.append(timed(["age", "-d", "-i", str(tmp / "x25519.key"), "-o",
                              str(tmp / "a.out"), str(tmp / "a.age")]))
        (tmp / "a.out").unlink()
    fe, ae, ge = median([t for t, _ in exp]), median([t for t, _ in age_enc]), median(
        [t for t, _ in gpg_enc])
    fi, ad = median([t for t, _ in imp]), median([t for t, _ in age_dec])
    return {
        "attachment_mib": mib,
        "bundle_bytes": (tmp / "b.fkb").stat().st_size,
        "export_s": {"fieldkit": fe, "age_x25519": ae, "gpg_sign_encrypt": ge},
        "export_ratio_vs_age": round(fe / ae, 2),
        "export_s_age_then_fsync": median([t for t, _ in age_sync]),
        "export_ratio_vs_age_then_fsync": round(fe / median([t for t, _ in age_sync]), 2),
        "export_ratio_vs_gpg": round(fe / ge, 2),
        "import_s": {"fieldkit": fi, "age_decrypt": ad},
        "import_ratio_vs_age": round(fi / ad, 2),
        "peak_rss_mib": {
            "fieldkit_export": round(max(r for _, r in exp) / 1024, 1),
            "fieldkit_import": round(max(r for _, r in imp) / 1024, 1),
            "age_encrypt": round(max(r for _, r in age_enc) / 1024, 1),
            "gpg": round(max(r for _, r in gpg_enc) / 1024, 1),
        },
        "runs": runs,
        "all_s": {
            "fieldkit_export": [t for t, _ in exp],
            "age_encrypt": [t for t, _ in age_enc],
            "age_encrypt_then_fsync": [t for t, _ in age_sync],
            "fieldkit_import": [t for t, _ in imp],
            "age_decrypt": [t for t, _ in age_dec],
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, nargs="+", default=[512, 1024])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    compile_bytecode()
    results = []
    for mib in args.mib:
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as d:
            results.append(run(Path(d), mib, args.runs))
    save("bundles", {"results": results})


if __name__ == "__main__":
    main()
