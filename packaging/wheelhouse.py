"""Build an offline wheelhouse: every wheel requirements.lock names, for each target, plus
fieldkit's own wheel and the lock itself, and a SHA256SUMS file over all of them.

    python packaging/wheelhouse.py --out wheelhouse [--target linux-x86_64] [--python 3.11]

For each target (platform x CPython version) the lock's environment markers are evaluated
for that target (not for the machine running this), and `pip download --no-deps
--only-binary=:all: --require-hashes` fetches exactly the pinned files for its tags: pip
checks every download against the lock's hashes, and a target that lacks a wheel for some
pin fails loudly instead of falling back to an sdist that would need a compiler offline.

Installing from it needs no network (docs/install.md):

    pip install --no-index --find-links wheelhouse --require-hashes -r wheelhouse/requirements.lock
    pip install --no-index --find-links wheelhouse --no-deps fieldkit
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.tags import mac_platforms

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = ("3.11", "3.12", "3.13")
# Every packaged timestamp, unless SOURCE_DATE_EPOCH says otherwise (the Makefile sets it
# to the last commit's time): 2026-01-01T00:00:00Z.
DEFAULT_EPOCH = "1767225600"


def epoch() -> int:
    return int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))


@dataclass(frozen=True)
class Target:
    name: str
    sys_platform: str
    platform_system: str
    platform_machine: str

    def platforms(self) -> list[str]:
        """Every platform tag a wheel for this target may carry. pip's --platform does
        not widen a tag to the older ones it implies, so all are spelled out: glibc 2.28
        (Debian 10 and later, Tails 4 and later) down to manylinux2014's 2.17; macOS 11
        down to 10.x, universal2 included."""
        arch = self.platform_machine
        if self.sys_platform == "darwin":
            return list(mac_platforms((11, 0), arch))
        tags = [f"manylinux_2_{minor}_{arch}" for minor in range(28, 16, -1)]
        return [*tags, f"manylinux2014_{arch}"]


# No Intel macOS: cryptography (from 50) and argon2-cffi-bindings (from 26.2) publish
# macOS wheels for arm64 only, so an Intel Mac must compile them (docs/install.md).
TARGETS = {
    t.name: t
    for t in [
        Target("linux-x86_64", "linux", "Linux", "x86_64"),
        Target("linux-aarch64", "linux", "Linux", "aarch64"),
        Target("macos-arm64", "darwin", "Darwin", "arm64"),
    ]
}

LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*==[^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def marker_env(target: Target, python: str) -> dict[str, str]:
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "os_name": "posix",
        "platform_machine": target.platform_machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": target.platform_system,
        "platform_version": "",
        "python_full_version": f"{python}.0",
        "python_version": python,
        "sys_platform": target.sys_platform,
    }


def requirements_for(lock_text: str, env: dict[str, str]) -> list[str]:
    """The lock's pins that apply to `env`, one line each with their hashes and no
    marker (already decided here, so pip does not judge it by the machine running it)."""
    out: list[list[str]] = []
    current: list[str] | None = None
    for raw in lock_text.splitlines():
        line = raw.strip()
        if line.startswith("--hash="):
            if current is not None:
                current.append(line.rstrip(" \\"))
            continue
        match = LINE.match(raw)
        if match is None:
            continue
        current = None
        if match[2] is None or Marker(match[2]).evaluate(env):
            current = [match[1]]
            out.append(current)
    return [" ".join(parts) for parts in out]


def pip_download(reqs: list[str], target: Target, python: str, dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        req_file = Path(tmp) / "requirements.txt"
        req_file.write_text("\n".join(reqs) + "\n", "utf-8")
        abi = "cp" + python.replace(".", "")
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        cmd += ["--only-binary=:all:", "--require-hashes", "--dest", str(dest)]
        for platform in target.platforms():
            cmd += ["--platform", platform]
        cmd += ["--python-version", python, "--implementation", "cp", "--abi", abi]
        cmd += ["-r", str(req_file)]
        subprocess.run(cmd, check=True)


def build_fieldkit_wheel(dest: Path) -> Path:
    """fieldkit's own wheel, built from a clean copy of the sources (a stale build/ or
    egg-info in the tree cannot leak into it), without fetching a build backend: the
    locked setuptools must already be installed (packaging/build.lock)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ["pyproject.toml", "README.md", "LICENSE"]:
            if (ROOT / name).exists():
                shutil.copy2(ROOT / name, src / name)
        shutil.copytree(
            ROOT / "fieldkit",
            src / "fieldkit",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
        )
        out = Path(tmp) / "out"
        cmd = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
        cmd += ["--no-build-isolation", "--no-index", "--wheel-dir", str(out), str(src)]
        env = {**os.environ, "PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": str(epoch())}
        subprocess.run(cmd, check=True, env=env)
        (wheel,) = out.glob("fieldkit-*.whl")
        for old in dest.glob("fieldkit-*.whl"):
            old.unlink()
        return Path(shutil.copy2(wheel, dest / wheel.name))


def sha256sums(folder: Path) -> str:
    lines = []
    for path in sorted([*folder.glob("*.whl"), folder / "requirements.lock"]):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.name}\n")
    return "".join(lines)


def build(out: Path, targets: list[Target], pythons: list[str], lock: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lock_text = lock.read_text("utf-8")
    for target in targets:
        for python in pythons:
            reqs = requirements_for(lock_text, marker_env(target, python))
            print(f"wheelhouse: {target.name} CPython {python}: {len(reqs)} pins", flush=True)
            pip_download(reqs, target, python, out)
    # The lock travels with the wheels, so the folder alone is enough on the stick.
    shutil.copyfile(lock, out / "requirements.lock")
    wheel = build_fieldkit_wheel(out)
    print(f"wheelhouse: built {wheel.name}", flush=True)
    (out / "SHA256SUMS").write_text(sha256sums(out), "utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--target", action="append", choices=sorted(TARGETS))
    parser.add_argument("--python", action="append", choices=PYTHONS)
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    args = parser.parse_args()
    targets = [TARGETS[name] for name in (args.target or sorted(TARGETS))]
    build(args.out, targets, args.python or list(PYTHONS), args.lock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
