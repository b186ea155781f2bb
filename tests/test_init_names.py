"""A vault's name is checked before anything is made, and a card name cannot hold a
fingerprint-like code (the check dialog shows the name above the card's own code)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldkit.errors import MalformedData
from fieldkit.formats import cards
from tests.conftest import PASSPHRASE, cli


@pytest.mark.parametrize("kind", [["init"], ["hq", "init"]])
@pytest.mark.parametrize("name", ["H\tQ", "x" * 5000, "HQ (fingerprint BW65-J88R-MW4T-42AD-C49K)"])
def test_a_refused_name_leaves_no_half_made_vault(
    tmp_path: Path, kind: list[str], name: str
) -> None:
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    root = tmp_path / "vault"
    r = cli([*kind, "--name", name, "--vault", str(root), "--passphrase-file", str(pf)])
    assert r.code == 5, r.err
    assert len(r.err.strip().splitlines()) == 2 and "--name" in r.err
    assert not root.exists()
    ok = cli([*kind, "--name", "HQ Almaty", "--vault", str(root), "--passphrase-file", str(pf)])
    assert ok.code == 0, ok.err


@pytest.mark.parametrize(
    "name",
    [
        "HQ  (fingerprint BW65-J88R-MW4T-42AD-C49K)",
        "HQ BW65 J88R MW4T",
        "bw65-j88r-mw4t-42ad",
        "WXYZ-ABCD-EFGH",
    ],
)
def test_a_card_name_that_looks_like_a_fingerprint_is_refused(name: str) -> None:
    with pytest.raises(MalformedData, match="looks like a fingerprint"):
        cards.check_name(name)


def test_a_card_carrying_such_a_name_is_refused_when_read() -> None:
    """A card made elsewhere (not by fieldkit's init) with another card's code in its name
    is refused at `trust` and `hq enroll`, before any dialog shows it."""
    from fieldkit.crypto import signing
    from fieldkit.crypto.age_keys import HybridIdentity
    from fieldkit.formats.cards import Card

    secret = signing.generate_secret()
    name = "HQ Almaty Fingerprint: BW65-J88R-MW4T-42AD-C49K"
    card = Card("hq", name, signing.public_key(secret), HybridIdentity.generate().recipient())
    with pytest.raises(MalformedData, match="looks like a fingerprint"):
        cards.parse(cards.serialise(card, secret))


@pytest.mark.parametrize(
    "name", ["HQ Almaty", "FW-03 laptop", "Open Data Tech Hub", "Правозащитный центр Душанбе"]
)
def test_ordinary_names_stay(name: str) -> None:
    assert cards.check_name(name) == name
