"""Nothing the CLI writes can act on a terminal: text from a record, a bundle, an
attachment or an error reaches stdout and stderr with every control character, DEL,
C1 control and bidi control escaped, in plain and in --json output (which stays
valid JSON holding the exact stored text)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from fieldkit.cli.context import write_line
from fieldkit.formats import text as text_rules
from fieldkit.formats.canonical import canonical_json
from fieldkit.services import identity, trust
from fieldkit.services.vault import Vault
from fieldkit.store import attachments as att_store
from fieldkit.store import records as rec_store
from fieldkit.store import trust as trust_store
from fieldkit.store.attachments import AttachmentRow
from fieldkit.store.records import RecordSummary
from tests.conftest import PASSPHRASE, WEAK, cli

# Clear screen, window title, an OSC 52 clipboard write, DEL, a C1 CSI, a bidi
# override and isolate, a carriage return and a NUL: each would act on a terminal.
EVIL = (
    "hostileword \x1b[2J\x1b]0;owned\x07\x1b]52;c;ZXZpbA==\x07\x7f\x9b31m"
    "\u202egpj.exe\u2066\u200f\r\x00 end"
)
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _clean(text: str) -> None:
    found = RAW.search(text)
    assert found is None, f"raw U+{ord(found.group()):04X} in {text!r}"


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.fixture
def hostile_vault(tmp_path: Path) -> tuple[list[str], str, str]:
    """A vault holding text that validation would refuse today (stored before the
    rule, or by a bug): the output must still be safe. Returns (options, record, att)."""
    vdir = tmp_path / "v"
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    v, _ = Vault.create(vdir, PASSPHRASE, kdf_params=WEAK)
    rid, aid = "r" + "a" * 25, "a" + "b" * 25
    doc = {"pseudonym": EVIL, "narrative": EVIL + "\nline two", "persons": [{"real": EVIL}]}
    with v.db.transaction():
        rec_store.save_version(
            v.db,
            RecordSummary(rid, 1, EVIL, EVIL, EVIL, EVIL, (EVIL,), EVIL, EVIL, bytes(32)),
            canonical_json(doc),
            "hostileword " + EVIL,
        )
        att_store.insert(
            v.db,
            AttachmentRow(aid, rid, EVIL, EVIL, EVIL, 1, bytes(32), EVIL, bytes(16), bytes(32)),
        )
    v.lock()
    return ["--vault", str(vdir), "--passphrase-file", str(pf)], rid, aid


COMMANDS = {
    "record list": lambda rid: ["record", "list"],
    "record show": lambda rid: ["record", "show", rid],
    "search": lambda rid: ["search", "hostileword"],
    "attachment list": lambda rid: ["attachment", "list", rid],
}


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_listing_commands_escape_every_field(
    hostile_vault: tuple[list[str], str, str], command: str, as_json: bool
) -> None:
    opts, rid, _aid = hostile_vault
    r = cli([*COMMANDS[command](rid), *opts, *(["--json"] if as_json else [])])
    assert r.code == 0, r.err
    _clean(r.out)
    _clean(r.err)
    assert "hostileword" in r.out
    if as_json:
        # Still JSON, and it holds exactly the stored text.
        assert EVIL in _strings(r.json())
    else:
        assert "\\x1b[2J" in r.out and "\\u202e" in r.out


def test_hq_devices_escapes_what_it_shows(tmp_path: Path) -> None:
    hq, _ = Vault.create(tmp_path / "hq", PASSPHRASE, kdf_params=WEAK, kind="hq", name="HQ")
    field, _ = Vault.create(tmp_path / "f", PASSPHRASE, kdf_params=WEAK)
    trust.enroll(hq.db, identity.device(field.db).card_text())
    fp = trust.devices(hq.db)[0].fingerprint
    with hq.db.transaction():
        hq.db.execute("UPDATE devices SET enrolled_at=?", (EVIL,))
        trust_store.revoke(hq.db, fp, EVIL)
    hq.lock()
    field.lock()
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    opts = ["--vault", str(tmp_path / "hq"), "--passphrase-file", str(pf)]
    for extra in ([], ["--json"]):
        r = cli(["hq", "devices", *opts, *extra])
        assert r.code == 0, r.err
        _clean(r.out)
        assert "\\x1b" in r.out or "\\u001b" in r.out


def test_an_error_naming_a_hostile_field_is_one_escaped_line(
    hostile_vault: tuple[list[str], str, str], tmp_path: Path
) -> None:
    opts, _rid, _aid = hostile_vault
    doc = {"pseudonym": "x", "\x1b]52;c;ZXZpbA==\x07evil\nfield\u202e": 1}
    r = cli(["record", "add", "--json", "-", *opts], stdin=json.dumps(doc))
    assert r.code == 5, r.err
    _clean(r.err)
    lines = r.err.splitlines()
    assert len(lines) == 2 and "evil" in lines[0], r.err


def test_write_line_is_the_one_escaper() -> None:
    out = io.StringIO()
    write_line(out, "a\x1bb\nc\u202ed")
    assert out.getvalue() == "a\\x1bb\nc\\u202ed\n"
    one = io.StringIO()
    write_line(one, "a\nb\rc", one_line=True)
    assert one.getvalue() == "a\\x0ab\\x0dc\n"
    js = io.StringIO()
    write_line(js, json.dumps({"k": "\x7f\x9b\u202e\x1b"}, ensure_ascii=False), is_json=True)
    _clean(js.getvalue())
    assert json.loads(js.getvalue()) == {"k": "\x7f\x9b\u202e\x1b"}
    assert text_rules.escape("\ud800") == "\\ud800"
