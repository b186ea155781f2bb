"""Build fieldkit's Debian package, reproducibly, from the lock file.

    python packaging/debian/build.py --dist bookworm --out dist [--arch amd64] [--wheels DIR]

The package holds fieldkit and exactly the dependencies requirements.lock pins (their
hashes checked by pip) in a private Python environment under /opt/fieldkit, made for the
distribution's own Python (Debian 12 and Tails 6: python3.11; Debian 13: python3.13), so
nothing is fetched on the laptop. /usr/bin/fieldkit points into it; a desktop entry opens
the app in a terminal.

The environment is laid out here rather than made with `python -m venv`, since it must
name the target's interpreter (/usr/bin/python3.X), not the one running this script:
bin/python3 is a symlink to it and pyvenv.cfg names /usr/bin as home, which is all
Python needs to treat the folder as a virtual environment wherever it is unpacked. pip
installs the wheels into lib/python3.X/site-packages for the target's tags (--target,
--platform, --no-compile); postinst byte-compiles them with the installed Python.

Reproducible: every file's time is SOURCE_DATE_EPOCH, owners are root (--root-owner-group),
modes are normalised, compression is single-threaded, and fieldkit's wheel is built with
the same epoch, so building twice gives the same bytes (tests/test_packaging.py).
"""

from __future__ import annotations

import argparse
import email.parser
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))
import wheelhouse  # noqa: E402  (packaging/wheelhouse.py, beside this folder)

PREFIX = "/opt/fieldkit"
MAINTAINER = "fieldkit maintainers <fieldkit@localhost.invalid>"
# Debian release -> (its Python, the suffix that orders this build among them).
DISTS = {"bookworm": ("3.11", "deb12"), "trixie": ("3.13", "deb13")}
ARCHES = {"amd64": "linux-x86_64", "arm64": "linux-aarch64"}


def project_version() -> str:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    return str(meta["version"])


def host_arch() -> str:
    out = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True)
    return out.stdout.strip() or "amd64"


def install_site_packages(site: Path, wheels: Path, target: wheelhouse.Target, py: str) -> None:
    """Exactly the lock's pins for this target, plus fieldkit's own wheel, every file
    checked against its hash."""
    lock_text = (ROOT / "requirements.lock").read_text("utf-8")
    reqs = wheelhouse.requirements_for(lock_text, wheelhouse.marker_env(target, py))
    (own,) = wheels.glob(f"fieldkit-{project_version()}-*.whl")
    own_hash = hashlib.sha256(own.read_bytes()).hexdigest()
    reqs.append(f"fieldkit=={project_version()} --hash=sha256:{own_hash}")
    with tempfile.TemporaryDirectory() as tmp:
        req_file = Path(tmp) / "requirements.txt"
        req_file.write_text("\n".join(reqs) + "\n", "utf-8")
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--isolated"]
        cmd += ["--no-index", "--find-links", str(wheels), "--require-hashes", "--no-deps"]
        cmd += ["--only-binary=:all:", "--no-compile", "--target", str(site)]
        for platform in target.platforms():
            cmd += ["--platform", platform]
        cmd += ["--python-version", py, "--implementation", "cp"]
        cmd += ["--abi", "cp" + py.replace(".", ""), "-r", str(req_file)]
        subprocess.run(cmd, check=True)
    # pip --target puts console scripts (with this machine's interpreter) in bin/.
    shutil.rmtree(site / "bin", ignore_errors=True)
    for cache in site.rglob("__pycache__"):
        shutil.rmtree(cache)


def licences(site: Path) -> str:
    """One line per bundled distribution: name, version and its declared licence."""
    lines = []
    for info in sorted(site.glob("*.dist-info"), key=lambda p: p.name.lower()):
        meta = email.parser.Parser().parsestr((info / "METADATA").read_text("utf-8"))
        licence = meta.get("License-Expression") or ""
        if not licence:
            classifiers = [c for c in meta.get_all("Classifier") or [] if "License ::" in c]
            licence = "; ".join(c.split(" :: ")[-1] for c in classifiers)
        if not licence:
            licence = (meta.get("License") or "see its licence files").splitlines()[0]
        lines.append(f" {meta['Name']} {meta['Version']}: {licence}")
    return "\n".join(lines)


def copyright_text(site: Path, py: str) -> str:
    return f"""fieldkit: secure, encrypted, offline field documentation.

Copyright 2026 the fieldkit authors.
Licence: AGPL-3.0-or-later
 This program is free software: you can redistribute it and/or modify it under the
 terms of the GNU Affero General Public License as published by the Free Software
 Foundation, either version 3 of the License, or (at your option) any later version.
 .
 This program is distributed in the hope that it will be useful, but WITHOUT ANY
 WARRANTY; without even the implied warranty of MERCHANTABILITY or FITNESS FOR A
 PARTICULAR PURPOSE. See the GNU Affero General Public License for more details.
 .
 You should have received a copy of the GNU Affero General Public License along with
 this program. If not, see <https://www.gnu.org/licenses/>.

Bundled under {PREFIX}/lib/python{py}/site-packages, each with its licence files in its
*.dist-info folder, as its authors declare:
{licences(site)}

On Debian systems the full text of the Apache License 2.0 is in
/usr/share/common-licenses/Apache-2.0.
"""


def changelog(version: str, dist: str) -> bytes:
    # RFC 2822 in English whatever the locale (Python's is C until setlocale is called).
    stamp = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(wheelhouse.epoch()))
    text = (
        f"fieldkit ({version}) {dist}; urgency=medium\n\n"
        "  * Built from fieldkit's sources and requirements.lock.\n\n"
        f" -- {MAINTAINER}  {stamp}\n"
    )
    # mtime=0 and no file name in the header: the same bytes every time.
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def control(version: str, arch: str, py: str, installed_kib: int) -> str:
    return f"""Package: fieldkit
Version: {version}
Architecture: {arch}
Maintainer: {MAINTAINER}
Installed-Size: {installed_kib}
Depends: python{py}, libc6 (>= 2.28)
Section: utils
Priority: optional
Homepage: https://localhost.invalid/fieldkit
Description: secure, encrypted, offline field documentation
 fieldkit records testimony (interviews, persons, incidents, consent,
 attachments) in an encrypted SQLCipher vault whose key is wrapped under
 Argon2id of a passphrase, and sends it to HQ as signed, encrypted age
 bundles carried on a USB stick. It is a terminal app and a command line.
 .
 Its Python dependencies are bundled, pinned by hash, in {PREFIX}, so
 installing it needs no network: it suits offline laptops and Tails.
"""


def normalise(root: Path, executables: set[Path]) -> None:
    """Modes 0755/0644 and every time set to SOURCE_DATE_EPOCH."""
    when = wheelhouse.epoch()
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_symlink():
            os.utime(path, (when, when), follow_symlinks=False)
            continue
        if path.is_dir() or path in executables:
            path.chmod(0o755)
        else:
            path.chmod(0o644)
        os.utime(path, (when, when))
    root.chmod(0o755)
    os.utime(root, (when, when))


def installed_size_kib(root: Path) -> int:
    """As dpkg-gencontrol counts it: each file's size in KiB rounded up, 1 per other entry."""
    total = 0
    for path in root.rglob("*"):
        if "DEBIAN" in path.relative_to(root).parts:
            continue
        if path.is_file() and not path.is_symlink():
            total += (path.stat().st_size + 1023) // 1024
        else:
            total += 1
    return total


def md5sums(root: Path) -> str:
    lines = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = path.relative_to(root)
        if rel.parts[0] == "DEBIAN":
            continue
        lines.append(f"{hashlib.md5(path.read_bytes()).hexdigest()}  {rel}\n")  # noqa: S324
    return "".join(lines)


def build(dist: str, arch: str, out: Path, wheels: Path | None) -> Path:
    py, suffix = DISTS[dist]
    target = wheelhouse.TARGETS[ARCHES[arch]]
    version = f"{project_version()}-1~{suffix}"
    if wheels is None:
        wheels = ROOT / "build" / "deb-wheels" / f"{arch}-py{py}"
        wheelhouse.build(wheels, [target], [py], ROOT / "requirements.lock")
    else:
        wheelhouse.build_fieldkit_wheel(wheels)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        venv = root / PREFIX.lstrip("/")
        site = venv / "lib" / f"python{py}" / "site-packages"
        site.mkdir(parents=True)
        install_site_packages(site, wheels, target, py)
        (venv / "bin").mkdir()
        (venv / "bin" / "python3").symlink_to(f"/usr/bin/python{py}")
        (venv / "bin" / "python").symlink_to("python3")
        shutil.copy(HERE / "fieldkit.sh", venv / "bin" / "fieldkit")
        (venv / "pyvenv.cfg").write_text(
            f"home = /usr/bin\ninclude-system-site-packages = false\nversion = {py}\n", "utf-8"
        )
        (root / "usr" / "bin").mkdir(parents=True)
        (root / "usr" / "bin" / "fieldkit").symlink_to(f"{PREFIX}/bin/fieldkit")
        apps = root / "usr" / "share" / "applications"
        apps.mkdir(parents=True)
        shutil.copy(HERE / "fieldkit.desktop", apps / "fieldkit.desktop")
        doc = root / "usr" / "share" / "doc" / "fieldkit"
        doc.mkdir(parents=True)
        (doc / "copyright").write_text(copyright_text(site, py), "utf-8")
        (doc / "changelog.Debian.gz").write_bytes(changelog(version, dist))
        overrides = root / "usr" / "share" / "lintian" / "overrides"
        overrides.mkdir(parents=True)
        shutil.copy(HERE / "lintian-overrides", overrides / "fieldkit")
        man = root / "usr" / "share" / "man" / "man1"
        man.mkdir(parents=True)
        page = (HERE / "fieldkit.1").read_bytes()
        (man / "fieldkit.1.gz").write_bytes(gzip.compress(page, compresslevel=9, mtime=0))

        debian = root / "DEBIAN"
        debian.mkdir()
        for script in ["postinst", "prerm"]:
            shutil.copy(HERE / script, debian / script)
        (debian / "md5sums").write_text(md5sums(root), "utf-8")
        (debian / "control").write_text(
            control(version, arch, py, installed_size_kib(root)), "utf-8"
        )
        normalise(
            root,
            {venv / "bin" / "fieldkit", debian / "postinst", debian / "prerm"},
        )
        deb = out / f"fieldkit_{version}_{arch}.deb"
        cmd = ["dpkg-deb", "--root-owner-group", "-Zxz", "--threads-max=1"]
        cmd += ["--build", str(root), str(deb)]
        # dpkg-deb dates the ar members by SOURCE_DATE_EPOCH, else by the clock.
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(wheelhouse.epoch())}
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return deb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", choices=sorted(DISTS), default="bookworm")
    parser.add_argument("--arch", choices=sorted(ARCHES), default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--wheels", type=Path, help="a wheelhouse to take the wheels from")
    args = parser.parse_args()
    deb = build(args.dist, args.arch or host_arch(), args.out, args.wheels)
    print(deb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
