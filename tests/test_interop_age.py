"""Interoperability with an independent age implementation (npm age-encryption 0.3.1,
TypeScript on the noble libraries), installed by `make test` into tests/interop.

- fieldkit bundles open with it, given the identity from `hq export-identity`;
- files it encrypts to a post-quantum recipient open with fieldkit;
- the X25519 compatibility copy opens with it too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from fieldkit.crypto.age_keys import HybridIdentity, X25519Identity, parse_identity
from fieldkit.formats import age
from fieldkit.services import export as export_svc
from fieldkit.services import identity
from tests.bundle_fixtures import Pair
from tests.bundle_forge import decrypt

INTEROP = Path(__file__).parent / "interop"
SCRIPT = INTEROP / "age.mjs"


def _node(*args: str) -> str:
    node = shutil.which("node")
    if node is None or not (INTEROP / "node_modules" / "age-encryption").exists():
        pytest.fail("node and tests/interop/node_modules are required: run 'make test'")
    r = subprocess.run([node, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_stock_age_opens_a_fieldkit_bundle(pair: Pair, tmp_path: Path) -> None:
    pair.add_testimony("Narrative for the independent decoder", attachment=os.urandom(150_000))
    out = tmp_path / "b.fkb"
    export_svc.export(pair.field.db, out)
    me = identity.hq(pair.hq.db)
    ident_file = tmp_path / "hq.key"
    ident_file.write_text(f"# test\n{me.age.encode()}\n")
    _node("decrypt", str(ident_file), str(out), str(tmp_path / "plain"))
    assert (tmp_path / "plain").read_bytes() == decrypt(out.read_bytes(), me.age)
    assert (tmp_path / "plain").read_bytes().startswith(b"FKBUNDLE")


def test_fieldkit_opens_what_stock_age_encrypts(tmp_path: Path) -> None:
    ident_text, recipient = _node("keygen-hybrid").split()
    payload = os.urandom(200_001)
    (tmp_path / "in").write_bytes(payload)
    _node("encrypt", recipient, str(tmp_path / "in"), str(tmp_path / "out.age"))
    ident = parse_identity(ident_text)
    assert isinstance(ident, HybridIdentity)
    assert ident.recipient().encode() == recipient
    assert age.decrypt_bytes((tmp_path / "out.age").read_bytes(), [ident]) == payload


def test_x25519_compatibility_copy(pair: Pair, tmp_path: Path) -> None:
    pair.add_testimony("compat")
    export_svc.export(pair.field.db, tmp_path / "pq.fkb")
    classic = X25519Identity.generate()
    export_svc.resend(pair.field.db, 1, tmp_path / "compat.age", x25519=classic.recipient())
    data = (tmp_path / "compat.age").read_bytes()
    assert b"-> X25519 " in data[:200] and b"mlkem768x25519" not in data[:4000]
    (tmp_path / "x.key").write_text(classic.encode() + "\n")
    _node("decrypt", str(tmp_path / "x.key"), str(tmp_path / "compat.age"), str(tmp_path / "p"))
    pq = decrypt((tmp_path / "pq.fkb").read_bytes(), identity.hq(pair.hq.db).age)
    assert (tmp_path / "p").read_bytes() == pq
