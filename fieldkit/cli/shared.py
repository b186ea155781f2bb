"""Small pieces several command modules share: confirming a fingerprint, taking in a
card, writing one, printing a result as text or JSON."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fieldkit.cli.context import Context
from fieldkit.cli.record_commands import opened
from fieldkit.errors import Cancelled, UsageError
from fieldkit.formats import cards
from fieldkit.i18n import N_, _, ngettext
from fieldkit.services import identity, trust
from fieldkit.store.db import Database


def add_fingerprint_options(parser: argparse.ArgumentParser) -> None:
    """--fingerprint and --yes for a command that takes in a card (trust, hq enroll)."""
    parser.add_argument(
        "--fingerprint",
        metavar="CODE",
        help=_(
            "the fingerprint its owner read to you; compared with the card's, no question asked"
        ),
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help=_("do not ask (needs --fingerprint: a card is never taken in unchecked)"),
    )


def confirm_fingerprint(ctx: Context, card: cards.Card, what: str) -> None:
    """The trust ceremony. The person compares the card's fingerprint with the one its
    owner reads out, either by giving it as --fingerprint CODE (compared here) or by
    answering at the terminal, where the card's name (literal, quoted) and fingerprint
    are part of the question. --yes alone never takes a card in."""
    expected = getattr(ctx.args, "fingerprint", None)
    if expected is not None:
        trust.check_expected_code(card, expected)
        ctx.info(_("The fingerprint matches the one given: {code}").format(code=card.short_code))
        return
    if ctx.args.yes:
        raise UsageError(
            N_("--yes does not skip the fingerprint comparison"),
            hint=N_(
                "compare it with its owner, then pass the code they read to you as "
                "--fingerprint CODE"
            ),
        )
    if not ctx.has_tty():
        ctx.info(f'{_(what)}: "{card.name}"')
        ctx.info(_("Fingerprint: {code}").format(code=card.short_code))
        raise UsageError(
            N_("confirmation needed and no terminal to ask on"),
            hint=N_("compare the fingerprint with its owner, then pass --fingerprint CODE"),
        )
    question = (
        f'{_(what)}: "{card.name}"\n'
        + _("Fingerprint: {code}").format(code=card.short_code)
        + "\n"
        + _(
            "Ask its owner to read you the fingerprint (phone call, in person) and compare\n"
            "every group. If it differs, this card may come from someone else.\n"
            "Does it match exactly?"
        )
    )
    if not ctx.confirm(question, typed="yes"):
        raise Cancelled(N_("not confirmed"), hint=N_("nothing was trusted or enrolled"))


def say(ctx: Context, text: str, data: dict[str, Any]) -> None:
    if ctx.as_json:
        ctx.emit_json(data)
    else:
        ctx.out(text)


def unknown_recipients_note(codes: list[str]) -> str:
    return ngettext(
        "the bundle is also encrypted to {n} recipient this HQ does not know "
        "({codes}): the device may trust a substituted HQ card; check its "
        "trusted cards with the fieldworker",
        "the bundle is also encrypted to {n} recipients this HQ does not know "
        "({codes}): the device may trust a substituted HQ card; check its "
        "trusted cards with the fieldworker",
        len(codes),
    ).format(n=len(codes), codes=", ".join(codes))


def card_json(card: cards.Card) -> dict[str, Any]:
    return {"name": card.name, "fingerprint": card.short_code}


def accept_card(
    ctx: Context, what: str, done: str, apply: Callable[[Database, str], object]
) -> int:
    """Read the card named on the command line, have its fingerprint confirmed, then
    `apply` it to the vault (trust an HQ, enrol a device)."""
    text, card = trust.load_card_file(Path(ctx.args.card))
    confirm_fingerprint(ctx, card, what)
    with opened(ctx) as vault:
        apply(vault.db, text)
    say(ctx, f"{_(done)} {card.name} ({card.short_code}).", card_json(card))
    return 0


def write_card(ctx: Context, out: Path, text: str, card: cards.Card) -> None:
    identity.write_card(out, text)
    if ctx.as_json:
        ctx.emit_json({"path": str(out), **card_json(card)})
    else:
        ctx.out(_("Card written to {path}").format(path=out))
        ctx.out(_("Fingerprint: {code}").format(code=card.short_code))
