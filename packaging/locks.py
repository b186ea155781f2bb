"""The hash-pinned lock files, and whether they still match pyproject.toml.

`make lock` writes the lock files with uv and then runs `python packaging/locks.py stamp`,
which records in each file's header a digest of exactly the inputs that file was resolved
from (the dependency tables of pyproject.toml, or a packaging/*.in file). `python
packaging/locks.py check` (and tests/test_locks.py, offline, in the default suite) then
fails when:

- an input changed since the last `make lock` (a dependency added, removed or re-specified,
  requires-python moved, the build backend's floor raised): the digest no longer matches;
- a direct dependency is missing from its lock file, or pinned to a version its specifier
  refuses (a hand edit, or a digest copied over);
- a pin carries no --hash (pip would then refuse the whole file under --require-hashes);
- the test lock pins a runtime package at another version than the runtime lock, so the
  tests would run against something else than what users install.

This file runs as a script (sys.path[0] is packaging/, so the folder's name does not
shadow the `packaging` library) and is loaded by path from the tests.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAMP_PREFIX = "# fieldkit-lock-inputs: sha256="
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


@dataclass(frozen=True)
class LockSpec:
    """One lock file and the inputs it is resolved from."""

    path: str
    # Direct requirements as written in their source (pyproject.toml or a .in file).
    direct: tuple[str, ...]
    # Everything that, if changed, means the file must be resolved again.
    inputs: dict[str, object] = field(hash=False)


def _in_file(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text("utf-8").splitlines())
    return [line for line in lines if line]


def specs(root: Path = ROOT) -> list[LockSpec]:
    project = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
    meta = project["project"]
    runtime = list(meta.get("dependencies", []))
    test = list(meta.get("optional-dependencies", {}).get("test", []))
    python = meta.get("requires-python", "")
    build_in = _in_file(root / "packaging" / "build.in")
    backend = list(project.get("build-system", {}).get("requires", []))
    tool_in = _in_file(root / "packaging" / "lock-tool.in")
    return [
        LockSpec(
            "requirements.lock",
            tuple(runtime),
            {"requires-python": python, "dependencies": runtime},
        ),
        LockSpec(
            "requirements-test.lock",
            tuple(runtime + test),
            {"requires-python": python, "dependencies": runtime, "test": test},
        ),
        LockSpec(
            "packaging/build.lock",
            tuple(build_in + backend),
            {"requires-python": python, "build.in": build_in, "build-system": backend},
        ),
        LockSpec(
            "packaging/lock-tool.lock",
            tuple(tool_in),
            {"requires-python": python, "lock-tool.in": tool_in},
        ),
    ]


def digest(spec: LockSpec) -> str:
    canonical = json.dumps(spec.inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class Pin:
    name: str
    version: str
    marker: str | None
    hashes: int = 0


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(text: str) -> tuple[str | None, dict[str, list[Pin]]]:
    """The recorded input digest and the pins (a name may be pinned twice under
    different markers in a universal lock)."""
    stamp = None
    pins: dict[str, list[Pin]] = {}
    current: Pin | None = None
    for line in text.splitlines():
        if line.startswith(STAMP_PREFIX):
            stamp = line[len(STAMP_PREFIX) :].split()[0]
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("--hash=sha256:"):
            if current is not None:
                current.hashes += 1
            continue
        match = PIN.match(line)
        if match is None:
            current = None
            continue
        current = Pin(canonical_name(match[1]), match[2], match[3])
        pins.setdefault(current.name, []).append(current)
    return stamp, pins


def problems(root: Path = ROOT) -> list[str]:
    """Every way the lock files disagree with their inputs, as lines for a person."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    found: list[str] = []
    runtime_pins: dict[str, list[Pin]] = {}
    for spec in specs(root):
        path = root / spec.path
        if not path.exists():
            found.append(f"{spec.path}: missing; run 'make lock'")
            continue
        stamp, pins = read_lock(path.read_text("utf-8"))
        if stamp != digest(spec):
            found.append(
                f"{spec.path}: resolved from other inputs than today's "
                "(pyproject.toml or packaging/*.in changed); run 'make lock'"
            )
        for pin_list in pins.values():
            for pin in pin_list:
                if pin.hashes == 0:
                    found.append(f"{spec.path}: {pin.name}=={pin.version} has no --hash")
        for text in spec.direct:
            req = Requirement(text)
            name = canonical_name(req.name)
            if name not in pins:
                found.append(f"{spec.path}: {req} is not pinned; run 'make lock'")
                continue
            for pin in pins[name]:
                if not req.specifier.contains(Version(pin.version), prereleases=True):
                    found.append(
                        f"{spec.path}: {name}=={pin.version} does not satisfy {req}; "
                        "run 'make lock'"
                    )
        if spec.path == "requirements.lock":
            runtime_pins = pins
        elif spec.path == "requirements-test.lock":
            for name, pin_list in runtime_pins.items():
                mine = {(p.version, p.marker) for p in pins.get(name, [])}
                theirs = {(p.version, p.marker) for p in pin_list}
                if mine != theirs:
                    found.append(
                        f"{spec.path}: {name} is pinned otherwise than in requirements.lock"
                    )
    return found


def stamp(root: Path = ROOT) -> None:
    """Record each lock file's input digest under uv's header (replacing an old one)."""
    for spec in specs(root):
        path = root / spec.path
        text = path.read_text("utf-8")
        lines = [line for line in text.splitlines() if not line.startswith(STAMP_PREFIX)]
        # uv's header is the leading run of comment lines; the stamp goes at its end.
        at = 0
        while at < len(lines) and lines[at].startswith("#"):
            at += 1
        lines.insert(at, f"{STAMP_PREFIX}{digest(spec)} (checked by tests/test_locks.py)")
        path.write_text("\n".join(lines) + "\n", "utf-8")


def main(argv: list[str]) -> int:
    if argv == ["stamp"]:
        stamp()
        return 0
    if argv == ["check"]:
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0
    print("usage: python packaging/locks.py stamp|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
