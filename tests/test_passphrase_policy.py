"""The passphrase policy refuses what an attacker tries first (zxcvbn's estimate), and
the passphrases fieldkit suggests pass it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fieldkit.errors import WeakPassphrase
from fieldkit.services import passphrase_policy as policy
from fieldkit.services.vault import Vault, vault_exists
from tests.conftest import NEW_PASSPHRASE, PASSPHRASE, WEAK, cli
from tests.pty_driver import PtyProcess

# Each was accepted by the old hand-written rules (SECURITY.md said weak ones were refused).
ACCEPTED_BEFORE = ["qwerty123456", "password12345", "iloveyou1234", "Password2024!", "my pw is ok"]


@pytest.mark.parametrize("weak", ACCEPTED_BEFORE)
def test_common_passphrases_are_refused(weak: str, tmp_path: Path) -> None:
    problem = policy.strength_problem(weak)
    assert problem is not None
    with pytest.raises(WeakPassphrase, match="refused"):
        Vault.create(tmp_path / "v", weak, kdf_params=WEAK)
    r = cli(["init", "--vault", str(tmp_path / "c"), "--passphrase-file", "-"], stdin=weak + "\n")
    assert r.code == 7 and problem in r.err
    assert not vault_exists(tmp_path / "c")


@pytest.mark.parametrize("weak", ["password12345", "Password2024!", "qwerty123456"])
def test_refusal_gives_the_estimators_reason(weak: str) -> None:
    assert "common" in (policy.strength_problem(weak) or "")
    assert policy.guesses_log10(weak) < policy.MIN_GUESSES_LOG10


def test_a_keyboard_walk_on_a_russian_layout_is_refused() -> None:
    # The keys of "qwertyuiop[]", typed on ЙЦУКЕН; zxcvbn's lists are Latin.
    assert policy.strength_problem("йцукенгшщзхъ") is not None
    assert policy.strength_problem("Ячсмитьбюфыв") is not None


@pytest.mark.parametrize("good", [PASSPHRASE, NEW_PASSPHRASE, "Ҷавоб ғалаба қуллаи кӯҳ"])
def test_long_unrelated_words_are_accepted(good: str) -> None:
    assert policy.strength_problem(good) is None
    assert policy.strength_label(good) in ("good", "strong")


def test_only_the_first_72_characters_are_scored_so_long_input_is_fine() -> None:
    long = PASSPHRASE + " " + "x" * 900
    assert policy.strength_problem(long) is None
    assert policy.strength_problem("a" * 100) is not None
    assert "longer than" in (policy.strength_problem("b" * 1025) or "")


def test_the_word_list_is_the_eff_large_list() -> None:
    words = policy.word_list()
    assert len(words) == len(set(words)) == 7776
    assert words[0] == "abacus" and words[-1] == "zoom"


def test_generated_passphrases_pass_the_policy() -> None:
    words = set(policy.word_list())
    seen = set()
    for _ in range(40):
        p = policy.suggest()
        parts = p.split(" ")
        assert len(parts) == policy.SUGGESTED_WORDS and set(parts) <= words
        assert policy.strength_problem(p) is None
        seen.add(p)
    assert len(seen) == 40


def test_init_generate_passphrase_at_terminal(tmp_path: Path) -> None:
    vault = tmp_path / "v"
    p = PtyProcess(["init", "--generate-passphrase", "--vault", str(vault)])
    screen = p.expect("Type it to confirm you have it:")
    shown = re.search(r"\n +([a-z-]+(?: [a-z-]+){5})\r?\n", screen)
    assert shown is not None, screen
    passphrase = shown.group(1)
    p.send(passphrase)
    assert p.finish() == 0, p.output
    assert p.output.count(passphrase) == 1  # shown once, not echoed back
    Vault.unlock(vault, passphrase).lock()


def test_generate_passphrase_typed_back_wrong_changes_nothing(tmp_path: Path) -> None:
    p = PtyProcess(["init", "--generate-passphrase", "--vault", str(tmp_path / "v")])
    p.expect("Type it to confirm you have it:")
    p.send("something else entirely")
    assert p.finish() == 5 and "not the passphrase shown" in p.output
    assert not vault_exists(tmp_path / "v")


def test_generate_passphrase_needs_a_terminal_and_no_file(tmp_path: Path, pass_file: Path) -> None:
    v = ["--vault", str(tmp_path / "v")]
    assert cli(["init", "--generate-passphrase", *v]).code == 2
    both = cli(["init", "--generate-passphrase", "--passphrase-file", str(pass_file), *v])
    assert both.code == 2
    assert not vault_exists(tmp_path / "v")


def test_init_at_terminal_judges_the_passphrase_before_asking_it_again(tmp_path: Path) -> None:
    """Reproduced: a weak passphrase was refused only after it was typed twice."""
    p = PtyProcess(["init", "--vault", str(tmp_path / "v")])
    p.expect("Choose a passphrase:")
    p.send("qwerty123456")
    assert p.finish() == 7, p.output
    assert "Repeat to confirm" not in p.output
    assert policy.strength_problem("qwerty123456") in p.output.replace("\r\n", " ")
    assert not vault_exists(tmp_path / "v")
