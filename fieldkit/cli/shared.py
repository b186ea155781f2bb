"""Small pieces several command modules share: confirming a fingerprint, printing a
result as text or JSON."""

from __future__ import annotations

from typing import Any

from fieldkit.cli.context import Context
from fieldkit.errors import Cancelled, UsageError
from fieldkit.formats import cards


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
