"""Crafted keyslot files through the CLI: the parser accepts exactly the Argon2id
parameters `kdf.calibrate` can produce (and the weaker ones tests pass in), refuses
everything above before Argon2 runs, and a failed allocation is a damaged vault, not an
internal error. Argon2 is replaced by a recorder, so no test here allocates gigabytes."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from argon2.exceptions import HashingError

from fieldkit.crypto import kdf
from fieldkit.formats import keyslots
from tests.conftest import cli

# Where the parameters sit in a version-2 header: magic (8) | version (2) | vault_id (16) |
# kdf u8 | t u32 | m u32 | p u8.
_T = 27
assert keyslots.HEADER_SIZE == 52
_M = _T + 4
_P = _M + 4


def _craft(
    vault_dir: Path, *, t: int | None = None, m: int | None = None, p: int | None = None
) -> None:
    path = vault_dir / "keyslots"
    data = bytearray(path.read_bytes())
    if t is not None:
        data[_T : _T + 4] = struct.pack(">I", t)
    if m is not None:
        data[_M : _M + 4] = struct.pack(">I", m)
    if p is not None:
        data[_P] = p
    path.write_bytes(bytes(data))


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def recorder(**kwargs: Any) -> bytes:
        calls.append(kwargs)
        return bytes(32)  # a wrong key: the AEAD then refuses it

    monkeypatch.setattr(kdf, "hash_secret_raw", recorder)
    return calls


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("fieldkit: hint: "), err
    assert "internal error" not in err and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("m", 2**32 - 1),  # the largest the u32 can say: 4 TiB
        ("m", 4 * 1024 * 1024),  # 4 GiB: accepted before, and Argon2 started on it
        ("m", kdf.PREFERRED_MEMORY_KIB + 1),
        ("t", kdf.MAX_CALIBRATED_TIME_COST + 1),
        ("t", 2**32 - 1),
        ("p", kdf.PARALLELISM + 1),
        ("p", 255),
        ("t", 0),
        ("p", 0),
        ("m", 7),
    ],
)
def test_parameters_calibrate_never_makes_are_refused_before_argon2(
    cli_vault: list[str],
    vault_dir: Path,
    argon2_calls: list[dict[str, Any]],
    field: str,
    value: int,
) -> None:
    _craft(vault_dir, **{field: value})
    r = cli(["record", "list", *cli_vault])
    assert r.code == 8
    assert "keyslot file is damaged" in _one_line(r.err)
    assert argon2_calls == []


def test_the_largest_calibrated_parameters_reach_argon2(
    cli_vault: list[str], vault_dir: Path, argon2_calls: list[dict[str, Any]]
) -> None:
    _craft(vault_dir, t=kdf.MAX_CALIBRATED_TIME_COST, m=kdf.PREFERRED_MEMORY_KIB, p=kdf.PARALLELISM)
    r = cli(["record", "list", *cli_vault])
    assert r.code == 4  # parsed, derived (by the recorder), then the tag does not verify
    assert [c["memory_cost"] for c in argon2_calls] == [kdf.PREFERRED_MEMORY_KIB]


def test_calibrate_stays_inside_the_reader_bounds(argon2_calls: list[dict[str, Any]]) -> None:
    clock = iter([0.0, 1e-6]).__next__  # an impossibly fast machine: the largest time cost
    params, _ = kdf.calibrate(memory_kib=10 * kdf.PREFERRED_MEMORY_KIB, clock=clock)
    params.check_bounds()
    assert params.time_cost == kdf.MAX_CALIBRATED_TIME_COST


@pytest.mark.parametrize("failure", [HashingError("Memory allocation error"), MemoryError()])
def test_an_allocation_failure_is_a_damaged_vault(
    cli_vault: list[str], monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    def fail(**_: Any) -> bytes:
        raise failure

    monkeypatch.setattr(kdf, "hash_secret_raw", fail)
    r = cli(["record", "list", *cli_vault])
    assert r.code == 8
    line = _one_line(r.err)
    assert "could not allocate" in line or "memory" in line
