"""Installing where fieldworkers are (docs/install.md), proven end to end. Slow: run with
`make test-packaging` (or `make test-slow`); needs the network to PyPI once (pip caches),
and for the .deb Debian's dpkg-deb, lintian and python3.11.

- The wheelhouse: built for every target, then a fresh venv of each CPython on this
  machine installs from it with pip refused the network (--no-index, --isolated), and
  the installed `fieldkit` runs init -> record add -> export -> HQ import -> receipt.
- The .deb: built twice, byte for byte the same; unpacked with dpkg-deb -x into a
  temporary root, whose packaged command runs the same round trip; lintian finds no error.

The installed command calibrates Argon2id for real (no test profile can reach it), so each
unlock costs about a second: that is the slowness here.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

NARRATIVE = "Рассказ о задержании; Қодир, Ғафур, Ҳасан"


def _env(home: Path) -> dict[str, str]:
    """No pip configuration or PYTHON* variable from this machine; a private HOME."""
    keep = {"PATH", "LANG", "LC_ALL", "TERM", "SOURCE_DATE_EPOCH"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(home), PIP_CONFIG_FILE=os.devnull, PYTHONIOENCODING="utf-8")
    return env


def _run(cmd: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True)
    assert done.returncode == 0, f"{cmd[1:4]}: {done.stderr}"
    return done


def round_trip(fieldkit: Path, work: Path) -> dict[str, object]:
    """The fieldworker's and HQ's first day, with the installed command only."""
    work.mkdir()
    env = _env(work)
    pf = work / "pass"
    pf.write_text(PASSPHRASE + "\n", "utf-8")

    def fk(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return _run([str(fieldkit), *args, "--passphrase-file", str(pf)], env, stdin)

    field = ["--vault", str(work / "field")]
    hq = ["--vault", str(work / "hq")]
    fk("init", "--name", "FW-01 laptop", *field)
    hq_code = json.loads(fk("hq", "init", "--name", "HQ", "--json", *hq).stdout)["fingerprint"]
    fk("hq", "card", "--out", str(work / "hq.card"), *hq)
    fk("card", "--out", str(work / "dev.card"), *field)
    fk("trust", str(work / "hq.card"), "--fingerprint", hq_code, "--yes", *field)
    shown = subprocess.run(
        [str(fieldkit), "hq", "enroll", str(work / "dev.card"), "--passphrase-file", str(pf), *hq],
        env=env,
        capture_output=True,
        text=True,
    )
    dev_code = shown.stderr.split("Fingerprint: ")[1].split()[0]
    fk("hq", "enroll", str(work / "dev.card"), "--fingerprint", dev_code, *hq)

    template = json.loads(fk("record", "template", *field).stdout)
    template["narrative"] = NARRATIVE
    rid = fk("record", "add", "--json", "-", *field, stdin=json.dumps(template)).stdout.strip()
    usb = work / "usb"
    usb.mkdir()
    exported = json.loads(fk("export", "--out", str(usb), "--json", *field).stdout)
    (bundle,) = usb.glob("*.age")
    receipts = work / "receipts"
    receipts.mkdir()
    imported = json.loads(
        fk("hq", "import", str(bundle), "--receipts", str(receipts), "--json", *hq).stdout
    )
    found = json.loads(fk("search", "Қодир", "--json", *hq).stdout)
    (receipt,) = receipts.glob("*.age")
    acknowledged = json.loads(fk("receipt", "import", str(receipt), "--json", *field).stdout)
    result = {
        "record": rid,
        "export": exported,
        "import": imported,
        "search": found,
        "receipt": acknowledged,
    }
    assert exported["seq"] == 1
    assert imported[0]["records_new"] == 1
    assert [hit["id"] for hit in found] == [rid]
    assert acknowledged["delivered"] == 1
    assert NARRATIVE.encode("utf-8") not in bundle.read_bytes()
    return result


# --- the wheelhouse -------------------------------------------------------------------


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "wheelhouse.py"), "--out", str(out)], check=True
    )
    return out


def test_the_wheelhouse_has_every_target_and_true_sums(wheelhouse: Path) -> None:
    sums = (wheelhouse / "SHA256SUMS").read_text("utf-8").splitlines()
    named = {line.split("  ")[1]: line.split("  ")[0] for line in sums}
    assert set(named) == {p.name for p in wheelhouse.glob("*.whl")} | {"requirements.lock"}
    copied = (wheelhouse / "requirements.lock").read_bytes()
    assert copied == (ROOT / "requirements.lock").read_bytes()
    for name, digest in named.items():
        assert hashlib.sha256((wheelhouse / name).read_bytes()).hexdigest() == digest
    sqlcipher = sorted(n for n in named if n.startswith("sqlcipher3-"))
    for py in ["cp311", "cp312", "cp313"]:
        for arch in ["manylinux_2_28_x86_64", "manylinux_2_28_aarch64", "macosx_11_0_arm64"]:
            assert any(py in n and arch in n for n in sqlcipher), (py, arch)
    assert any(n.startswith("fieldkit-") for n in named)


def _interpreter(version: str) -> str | None:
    """A CPython `version` on this machine: on PATH, or one pyenv installed but did
    not make global (its shim then refuses to run it)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(str(p) for p in pyenv.glob(f"{version}.*/bin/python{version}"))
    for candidate in candidates:
        if candidate is None:
            continue
        probe = [candidate, "-c", "import sys; print(sys.executable)"]
        done = subprocess.run(probe, capture_output=True, text=True)
        if done.returncode == 0:
            return done.stdout.strip()
    return None


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_offline_install_from_the_wheelhouse_then_a_round_trip(
    wheelhouse: Path, tmp_path: Path, version: str
) -> None:
    python = _interpreter(version)
    if python is None:
        pytest.skip(f"no CPython {version} on this machine")
    venv = tmp_path / "venv"
    env = _env(tmp_path)
    _run([python, "-m", "venv", str(venv)], env)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--isolated", "install", "--quiet"]
    offline = ["--no-index", "--find-links", str(wheelhouse)]
    started = time.monotonic()
    _run([*pip, *offline, "--require-hashes", "-r", str(wheelhouse / "requirements.lock")], env)
    _run([*pip, *offline, "--no-deps", "fieldkit"], env)
    print(f"python{version}: offline install took {time.monotonic() - started:.1f} s")
    result = round_trip(venv / "bin" / "fieldkit", tmp_path / "trip")
    print(json.dumps(result, ensure_ascii=False))


# --- the Debian package ---------------------------------------------------------------


def _tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is needed here: apt-get install -y {package}")
    return found


def _build_deb(out: Path, wheels: Path) -> Path:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "packaging" / "debian" / "build.py"),
            "--dist",
            "bookworm",
            "--out",
            str(out),
            "--wheels",
            str(wheels),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def debs(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Path]]:
    _tool("dpkg-deb", "dpkg")
    base = tmp_path_factory.mktemp("debs")
    yield [_build_deb(base / "first", wheelhouse), _build_deb(base / "second", wheelhouse)]


def test_the_deb_builds_reproducibly(debs: list[Path]) -> None:
    first, second = debs
    assert first.name == second.name == "fieldkit_0.1.0-1~deb12_amd64.deb"
    assert first.read_bytes() == second.read_bytes()
    print(f"{first.name}: {first.stat().st_size} bytes")


def test_the_packaged_command_runs_the_round_trip(debs: list[Path], tmp_path: Path) -> None:
    root = tmp_path / "root"
    dpkg_deb = _tool("dpkg-deb", "dpkg")
    subprocess.run([dpkg_deb, "-x", str(debs[0]), str(root)], check=True)
    assert os.readlink(root / "usr" / "bin" / "fieldkit") == "/opt/fieldkit/bin/fieldkit"
    assert os.readlink(root / "opt" / "fieldkit" / "bin" / "python3") == "/usr/bin/python3.11"
    desktop = (root / "usr" / "share" / "applications" / "fieldkit.desktop").read_text("utf-8")
    assert "Terminal=true" in desktop and "Exec=fieldkit" in desktop
    fields = subprocess.run(
        [dpkg_deb, "-f", str(debs[0]), "Depends"], check=True, capture_output=True, text=True
    ).stdout
    assert "python3.11" in fields
    # Nothing compiled is shipped: postinst byte-compiles for the installed Python.
    assert not list(root.rglob("*.pyc"))
    # Every installed file is byte for byte what the hash-pinned wheels held.
    site = root / "opt" / "fieldkit" / "lib" / "python3.11" / "site-packages"
    checked = 0
    for record in site.glob("*.dist-info/RECORD"):
        for row in csv.reader(record.read_text("utf-8").splitlines()):
            name, digest = row[0], row[1]
            if not digest or name.startswith("../"):
                continue  # RECORD itself; console scripts pip wrote (the .deb has its own)
            algorithm, _, expected = digest.partition("=")
            data = (site / name).read_bytes()
            actual = base64.urlsafe_b64encode(hashlib.new(algorithm, data).digest())
            assert actual.rstrip(b"=").decode() == expected, name
            checked += 1
    assert checked > 1000
    result = round_trip(root / "opt" / "fieldkit" / "bin" / "fieldkit", tmp_path / "trip")
    print(json.dumps(result, ensure_ascii=False))


def test_lintian_reports_no_errors(debs: list[Path]) -> None:
    lintian = _tool("lintian", "lintian")
    done = subprocess.run(
        [lintian, "--fail-on", "error", "--display-info", str(debs[0])],
        capture_output=True,
        text=True,
    )
    print(done.stdout)
    errors = [line for line in done.stdout.splitlines() if line.startswith("E:")]
    assert errors == [] and done.returncode == 0, done.stdout + done.stderr
