"""The hash-pinned lock files match pyproject.toml (offline: nothing is resolved here).

`make lock` resolves them with uv and records a digest of each file's inputs; this test
fails as soon as pyproject.toml's dependencies (or packaging/*.in) change without a new
`make lock`, and also catches hand edits the digest alone would not (packaging/locks.py).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _locks() -> ModuleType:
    # Loaded by path: a folder named packaging/ must not stand in for the library.
    spec = importlib.util.spec_from_file_location("fieldkit_locks", ROOT / "packaging" / "locks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


locks = _locks()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the files the lock check reads, to break one way or another."""
    (tmp_path / "packaging").mkdir()
    for name in ["pyproject.toml", "requirements.lock", "requirements-test.lock"]:
        shutil.copy(ROOT / name, tmp_path / name)
    for name in ["build.in", "build.lock", "lock-tool.in", "lock-tool.lock"]:
        shutil.copy(ROOT / "packaging" / name, tmp_path / "packaging" / name)
    return tmp_path


def test_the_checked_in_lock_files_match_pyproject() -> None:
    assert locks.problems(ROOT) == []


def test_every_runtime_pin_has_wheels_and_hashes() -> None:
    _stamp, pins = locks.read_lock((ROOT / "requirements.lock").read_text("utf-8"))
    names = set(pins)
    for needed in ["cryptography", "sqlcipher3", "argon2-cffi", "textual", "cffi"]:
        assert needed in names
    # A universal lock lists every file of a release: one hash per wheel and sdist.
    assert all(pin.hashes >= 1 for pin_list in pins.values() for pin in pin_list)
    assert pins["sqlcipher3"][0].hashes > 10


def test_a_new_dependency_makes_the_lock_stale(tree: Path) -> None:
    py = tree / "pyproject.toml"
    added = '"msgpack>=1.1",\n    "Babel>=2.16",'
    py.write_text(py.read_text("utf-8").replace('"msgpack>=1.1",', added))
    found = locks.problems(tree)
    assert any("requirements.lock: resolved from other inputs" in line for line in found)
    assert any("Babel>=2.16 is not pinned" in line for line in found)


def test_a_raised_floor_is_caught_even_with_the_digest_restamped(tree: Path) -> None:
    py = tree / "pyproject.toml"
    py.write_text(py.read_text("utf-8").replace('"textual>=8.2"', '"textual>=99"'))
    locks.stamp(tree)  # as if someone ran only the stamp step
    found = locks.problems(tree)
    assert any(re.search(r"textual==[\d.]+ does not satisfy textual>=99", line) for line in found)


def test_a_removed_test_tool_and_a_new_build_floor_are_caught(tree: Path) -> None:
    py = tree / "pyproject.toml"
    text = py.read_text("utf-8").replace('    "hypothesis>=6.100",\n', "")
    py.write_text(text.replace('"setuptools>=77"', '"setuptools>=80"'))
    found = locks.problems(tree)
    assert any(line.startswith("requirements-test.lock: resolved from other") for line in found)
    assert any(line.startswith("packaging/build.lock: resolved from other") for line in found)
    assert not any(line.startswith("requirements.lock:") for line in found)


def test_a_pin_without_hash_and_a_test_lock_drifting_from_runtime_are_caught(tree: Path) -> None:
    runtime = tree / "requirements.lock"
    lines = runtime.read_text("utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("msgpack=="))
    end = at + 1
    while lines[end].startswith("    --hash"):
        end += 1
    lines[at:end] = ["msgpack==1.1.0"]
    runtime.write_text("\n".join(lines) + "\n", "utf-8")
    found = locks.problems(tree)
    assert "requirements.lock: msgpack==1.1.0 has no --hash" in found
    assert "requirements-test.lock: msgpack is pinned otherwise than in requirements.lock" in found


def test_comments_and_formatting_in_pyproject_do_not_count(tree: Path) -> None:
    py = tree / "pyproject.toml"
    py.write_text("# a comment a person added\n" + py.read_text("utf-8"))
    assert locks.problems(tree) == []
