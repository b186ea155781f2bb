"""A device trusts at most as many HQ cards as a bundle can name as recipients: one
more would make every later bundle one that HQ refuses (MAX_RECIPIENTS)."""

from __future__ import annotations

import pytest

from fieldkit.crypto import signing
from fieldkit.crypto.age_keys import HybridIdentity
from fieldkit.errors import InvalidInput
from fieldkit.formats import bundle, cards
from fieldkit.formats.cards import Card
from fieldkit.services import export as export_svc
from fieldkit.services import hq_import, trust
from tests.bundle_fixtures import Pair


def _hq_card(name: str) -> str:
    secret = signing.generate_secret()
    card = Card("hq", name, signing.public_key(secret), HybridIdentity.generate().recipient())
    return cards.serialise(card, secret)


def test_a_device_trusts_no_more_hq_cards_than_a_bundle_can_name(pair: Pair) -> None:
    db = pair.field.db
    while len(trust.trusted_hq_cards(db)) < bundle.MAX_RECIPIENTS:
        trust.trust_hq(db, _hq_card(f"HQ {len(trust.trusted_hq_cards(db))}"))
    one_more = _hq_card("one too many")
    with pytest.raises(InvalidInput, match="the most a bundle can name"):
        trust.trust_hq(db, one_more)
    assert len(trust.trusted_hq_cards(db)) == bundle.MAX_RECIPIENTS
    # With the most a bundle can name, HQ still imports what the device sends.
    pair.add_testimony("sixteen recipients")
    out = pair.tmp / "b.age"
    assert export_svc.export(db, out) is not None
    assert hq_import.import_bundle(pair.hq.db, out).records_new == 1
