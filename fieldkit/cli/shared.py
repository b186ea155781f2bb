"""Small pieces several command modules share: confirming a fingerprint, taking in a
card, writing one, printing a result as text or JSON."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fieldkit.cli.context import Context
from fieldkit.cli.record_commands import opened
from fieldkit.errors import Cancelled, FileAccessError, UsageError
from fieldkit.formats import cards
from fieldkit.services import fsio, trust
from fieldkit.store.db import Database


def confirm_fingerprint(ctx: Context, card: cards.Card, what: str) -> None:
    ctx.info(f"{what}: {card.name}")
    ctx.info(f"Fingerprint: {card.short_code}")
    ctx.info("Compare the fingerprint with its owner over the phone or in person.")
    if ctx.args.yes:
        return
    if not ctx.has_tty():
        raise UsageError("confirmation needed", hint="compare the fingerprint, then pass --yes")
    if not ctx.confirm("Does it match exactly?", typed="yes"):
        raise Cancelled("not confirmed")


def say(ctx: Context, text: str, data: dict[str, Any]) -> None:
    if ctx.as_json:
        ctx.emit_json(data)
    else:
        ctx.out(text)


def unknown_recipients_note(codes: list[str]) -> str:
    return (
        f"the bundle is also encrypted to {len(codes)} recipient(s) this HQ does not know "
        f"({', '.join(codes)}): the device may trust a substituted HQ card; check its "
        "trusted cards with the fieldworker"
    )


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
    say(ctx, f"{done} {card.name} ({card.short_code}).", card_json(card))
    return 0


def write_card(ctx: Context, out: Path, text: str, card: cards.Card) -> None:
    if out.exists():
        raise FileAccessError(f"{out} already exists", hint="choose another file name")
    fsio.atomic_write(out, text.encode("utf-8"), mode=0o644)
    if ctx.as_json:
        ctx.emit_json({"path": str(out), **card_json(card)})
    else:
        ctx.out(f"Card written to {out}")
        ctx.out(f"Fingerprint: {card.short_code}")
