"""Every question the CLI asks, answered at a real terminal (a pty), never with --yes.

These prompts once opened /dev/tty in a mode that fails on a terminal, and the failure
was read as "no": trust, hq enroll, purge and wipe could only be passed with --yes,
which skipped the fingerprint comparison. Here a person answers yes and no.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from fieldkit.services import model, trust
from fieldkit.services.vault import Vault, vault_exists
from tests.conftest import PASSPHRASE, cli
from tests.pty_driver import PtyProcess, run_at_terminal

HQ_NAME = 'HQ "Almaty" [b]ZZZZ-ZZZZ[/b]'  # markup and quotes, shown literally


@dataclass
class Pair:
    tmp: Path
    field: list[str]
    hq: list[str]
    hq_card: Path
    hq_code: str
    dev_card: Path
    dev_code: str


def _opts(vault: Path, pf: Path) -> list[str]:
    return ["--vault", str(vault), "--passphrase-file", str(pf)]


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    field, hq = _opts(tmp_path / "field", pf), _opts(tmp_path / "hq", pf)
    dev = cli(["init", "--name", "FW-03 laptop", "--json", *field])
    assert dev.code == 0, dev.err
    r = cli(["hq", "init", "--name", HQ_NAME, "--json", *hq])
    assert r.code == 0, r.err
    assert cli(["hq", "card", "--out", str(tmp_path / "hq.card"), *hq]).code == 0
    assert cli(["card", "--out", str(tmp_path / "dev.card"), *field]).code == 0
    return Pair(
        tmp_path,
        field,
        hq,
        tmp_path / "hq.card",
        r.json()["fingerprint"],
        tmp_path / "dev.card",
        dev.json()["fingerprint"],
    )


def _trusted(p: Pair) -> list[str]:
    v = Vault.unlock(p.tmp / "field", PASSPHRASE)
    try:
        return [c.short_code for c in trust.trusted_hq_cards(v.db)]
    finally:
        v.lock()


def _enrolled(p: Pair) -> list[str]:
    return [d["fingerprint"] for d in cli(["hq", "devices", "--json", *p.hq]).json()]


# ---- trust ---------------------------------------------------------------------------


def test_trust_at_terminal_shows_name_and_code_then_yes_trusts(pair: Pair) -> None:
    code, screen = run_at_terminal(
        ["trust", str(pair.hq_card), *pair.field], [("to continue:", "yes")]
    )
    assert code == 0, screen
    assert f'"{HQ_NAME}"' in screen  # literal, in quotes, markup not interpreted
    assert pair.hq_code in screen
    assert _trusted(pair) == [pair.hq_code]


def test_trust_at_terminal_no_trusts_nothing(pair: Pair) -> None:
    code, screen = run_at_terminal(
        ["trust", str(pair.hq_card), *pair.field], [("to continue:", "no")]
    )
    assert code == 12, screen
    assert "not confirmed" in screen
    assert _trusted(pair) == []


@pytest.mark.parametrize("key", [b"\x03", b"\x04"], ids=["ctrl-c", "ctrl-d"])
def test_ctrl_c_or_ctrl_d_at_the_question_is_no(pair: Pair, key: bytes) -> None:
    p = PtyProcess(["trust", str(pair.hq_card), *pair.field])
    p.expect("to continue:")
    p.send_key(key)
    assert p.finish() == 12, p.output
    assert "Traceback" not in p.output
    assert _trusted(pair) == []


def test_blind_yes_does_not_trust(pair: Pair) -> None:
    r = cli(["trust", str(pair.hq_card), "--yes", *pair.field])
    assert r.code == 2 and "--fingerprint" in r.err
    assert _trusted(pair) == []


def test_trust_with_fingerprint_argument_compares_it(pair: Pair) -> None:
    wrong = "0000-0000-0000-0000-0000"
    r = cli(["trust", str(pair.hq_card), "--fingerprint", wrong, "--yes", *pair.field])
    # Its real code is not shown: pasted back, it would trust a substituted card.
    assert r.code == 5 and "does not match" in r.err and pair.hq_code not in r.err
    assert _trusted(pair) == []
    # Typed as heard over the phone: lower case, no dashes.
    heard = pair.hq_code.replace("-", "").lower()
    ok = cli(["trust", str(pair.hq_card), "--fingerprint", heard, *pair.field])
    assert ok.code == 0, ok.err
    assert _trusted(pair) == [pair.hq_code]


def test_untrust_at_terminal(pair: Pair) -> None:
    assert cli(["trust", str(pair.hq_card), "--fingerprint", pair.hq_code, *pair.field]).code == 0
    no, screen = run_at_terminal(
        ["untrust", pair.hq_code[:9], *pair.field], [("to continue:", "no")]
    )
    assert no == 12 and pair.hq_code in screen
    assert _trusted(pair) == [pair.hq_code]
    yes, screen = run_at_terminal(
        ["untrust", pair.hq_code[:9], *pair.field], [("to continue:", "yes")]
    )
    assert yes == 0, screen
    assert _trusted(pair) == []
    again = cli(["untrust", pair.hq_code, "--yes", *pair.field])
    assert again.code == 6


def test_untrust_without_terminal_needs_yes(pair: Pair) -> None:
    assert cli(["trust", str(pair.hq_card), "--fingerprint", pair.hq_code, *pair.field]).code == 0
    assert cli(["untrust", pair.hq_code, *pair.field]).code == 2
    assert _trusted(pair) == [pair.hq_code]
    assert cli(["untrust", pair.hq_code, "--yes", *pair.field]).code == 0
    assert _trusted(pair) == []


# ---- hq enroll and revoke --------------------------------------------------------------


def test_enroll_at_terminal_yes_and_no(pair: Pair) -> None:
    no, screen = run_at_terminal(
        ["hq", "enroll", str(pair.dev_card), *pair.hq], [("to continue:", "n")]
    )
    assert no == 12, screen
    assert '"FW-03 laptop"' in screen and pair.dev_code in screen
    assert _enrolled(pair) == []
    yes, screen = run_at_terminal(
        ["hq", "enroll", str(pair.dev_card), *pair.hq], [("to continue:", "yes")]
    )
    assert yes == 0, screen
    assert _enrolled(pair) == [pair.dev_code]


def test_blind_yes_does_not_enroll(pair: Pair) -> None:
    r = cli(["hq", "enroll", str(pair.dev_card), "--yes", *pair.hq])
    assert r.code == 2
    assert _enrolled(pair) == []


def test_revoke_matches_a_name_only_when_asked(pair: Pair, tmp_path: Path) -> None:
    enrol = ["hq", "enroll", str(pair.dev_card), "--fingerprint", pair.dev_code, *pair.hq]
    assert cli(enrol).code == 0
    by_name = cli(["hq", "revoke", "FW-03 laptop", *pair.hq])
    assert by_name.code == 6  # a name is not a fingerprint
    assert cli(["hq", "devices", "--json", *pair.hq]).json()[0]["revoked_at"] is None
    asked = cli(["hq", "revoke", "--name", "FW-03 laptop", *pair.hq])
    assert asked.code == 0, asked.err
    assert cli(["hq", "devices", "--json", *pair.hq]).json()[0]["revoked_at"] is not None


def test_a_device_named_like_a_fingerprint_is_not_revoked_by_code(tmp_path: Path) -> None:
    """A device whose name is another's code must not draw that code's revocation."""
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    hq = _opts(tmp_path / "hq", pf)
    assert cli(["hq", "init", *hq]).code == 0
    a, b = _opts(tmp_path / "a", pf), _opts(tmp_path / "b", pf)
    code_a = cli(["init", "--json", *a]).json()["fingerprint"]
    code_b = cli(["init", "--name", code_a[:9], "--json", *b]).json()["fingerprint"]
    for opts, code in ((a, code_a), (b, code_b)):
        card = tmp_path / f"{code}.card"
        assert cli(["card", "--out", str(card), *opts]).code == 0
        assert cli(["hq", "enroll", str(card), "--fingerprint", code, *hq]).code == 0
    r = cli(["hq", "revoke", code_a[:9], "--json", *hq])
    assert r.code == 0 and r.json()["fingerprint"] == code_a


# ---- purge and wipe --------------------------------------------------------------------


def _deliver_one(p: Pair) -> None:
    assert cli(["trust", str(p.hq_card), "--fingerprint", p.hq_code, *p.field]).code == 0
    assert cli(["hq", "enroll", str(p.dev_card), "--fingerprint", p.dev_code, *p.hq]).code == 0
    add = cli(["record", "add", "--json", "-", *p.field], stdin=json.dumps(model.template()))
    assert add.code == 0, add.err
    bundle, receipts = p.tmp / "b1.fkb", p.tmp / "receipts"
    receipts.mkdir()
    assert cli(["export", "--out", str(bundle), *p.field]).code == 0
    assert cli(["hq", "import", str(bundle), "--receipts", str(receipts), *p.hq]).code == 0
    r = cli(["receipt", "import", str(next(receipts.iterdir())), *p.field])
    assert r.code == 0, r.err


def test_purge_at_terminal_no_then_yes(pair: Pair) -> None:
    _deliver_one(pair)
    no, screen = run_at_terminal(
        ["purge", "--delivered", *pair.field], [("to continue:", "no")]
    )
    assert no == 12, screen
    assert len(cli(["record", "list", "--json", *pair.field]).json()) == 1
    yes, screen = run_at_terminal(
        ["purge", "--delivered", *pair.field], [("to continue:", "yes")]
    )
    assert yes == 0, screen
    assert "Purged 1" in screen
    assert cli(["record", "list", "--json", *pair.field]).json() == []


def test_wipe_at_terminal_no_then_yes(pair: Pair) -> None:
    vault = pair.tmp / "field"
    no, screen = run_at_terminal(["wipe", "--vault", str(vault)], [("to continue:", "wipe")])
    assert no == 12, screen
    assert vault_exists(vault)
    yes, screen = run_at_terminal(["wipe", "--vault", str(vault)], [("to continue:", "WIPE")])
    assert yes == 0, screen
    assert not vault_exists(vault)


# ---- passphrases (getpass) -------------------------------------------------------------


def test_init_and_unlock_passphrases_at_terminal(tmp_path: Path) -> None:
    vault = tmp_path / "v"
    code, screen = run_at_terminal(
        ["init", "--vault", str(vault)],
        [("Choose a passphrase:", PASSPHRASE), ("Repeat to confirm:", PASSPHRASE)],
    )
    assert code == 0, screen
    assert PASSPHRASE not in screen  # no echo
    assert "Recovery code" in screen
    wrong, screen = run_at_terminal(
        ["record", "list", "--vault", str(vault)], [("Passphrase:", "not the passphrase")]
    )
    assert wrong == 4, screen
    right, screen = run_at_terminal(
        ["record", "list", "--vault", str(vault)], [("Passphrase:", PASSPHRASE)]
    )
    assert right == 0, screen


def test_init_refuses_two_different_passphrases_at_terminal(tmp_path: Path) -> None:
    code, screen = run_at_terminal(
        ["init", "--vault", str(tmp_path / "v")],
        [("Choose a passphrase:", PASSPHRASE), ("Repeat to confirm:", PASSPHRASE + "x")],
    )
    assert code == 5 and "differ" in screen
    assert not vault_exists(tmp_path / "v")


def test_a_question_shows_control_characters_escaped(tmp_path: Path) -> None:
    """A folder name is data: its escape sequence (clear screen) is shown, not obeyed."""
    vault = tmp_path / "v\x1b[2Jx"
    made = cli(["init", "--vault", str(vault), "--passphrase-file", "-"], stdin=PASSPHRASE + "\n")
    assert made.code == 0
    code, screen = run_at_terminal(["wipe", "--vault", str(vault)], [("to continue:", "no")])
    assert code == 12
    assert "v\\x1b[2Jx" in screen and "\x1b[2J" not in screen
