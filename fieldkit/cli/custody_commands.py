"""Custody reports: `fieldkit hq custody ITEM|verify` at HQ, `fieldkit custody ITEM|verify`
on the laptop. Text a lawyer can attach, or `--json` with everything needed to verify it
elsewhere (python -m fieldkit.custody_verify; docs/custody.md)."""

from __future__ import annotations

import argparse
from typing import Any

from fieldkit.cli.context import Context
from fieldkit.cli.record_commands import opened
from fieldkit.errors import IntegrityError
from fieldkit.i18n import _, ngettext
from fieldkit.services import custody, custody_text, identity
from fieldkit.services.vault import Vault

VERIFY = "verify"


def register(sub: Any, common: argparse.ArgumentParser, *, hq: bool) -> None:
    p = sub.add_parser(
        "custody",
        parents=[common],
        help=_("custody report of an item, or 'verify' to check every custody chain"),
    )
    p.add_argument(
        "item",
        metavar="ITEM",
        help=_(
            "attachment id, record id or record id@version (a unique prefix of 6+ characters);"
            " 'verify' checks every chain in the vault"
        ),
    )
    p.set_defaults(func=cmd_custody, custody_hq=hq)


def _check_kind(vault: Vault, hq: bool) -> None:
    # The HQ command on an HQ vault, the laptop's on a field vault (WrongVaultKind otherwise).
    (identity.hq if hq else identity.device)(vault.db)


def cmd_custody(ctx: Context) -> int:
    if ctx.args.item == VERIFY:
        return _verify(ctx)
    with opened(ctx) as vault:
        _check_kind(vault, ctx.args.custody_hq)
        report, problems = custody.report(vault.db, ctx.args.item)
    if ctx.as_json:
        ctx.emit_json(report)
    else:
        for line in text_report(report, problems):
            ctx.out(line)
    if problems:
        for p in problems:
            ctx.info(_("fieldkit: problem: {problem}").format(problem=p))
        raise IntegrityError(_not_verified(len(problems)))
    return 0


def _not_verified(n: int) -> str:
    return ngettext(
        "the custody log does not verify ({n} problem)",
        "the custody log does not verify ({n} problems)",
        n,
    ).format(n=n)


def _verify(ctx: Context) -> int:
    with opened(ctx) as vault:
        _check_kind(vault, ctx.args.custody_hq)
        check = custody.verify_vault(vault.db)
    if ctx.as_json:
        ctx.emit_json(
            {
                "ok": check.ok,
                "chains": check.chains,
                "entries": check.entries,
                "problems": check.problems,
            }
        )
    elif check.ok:
        ctx.out(
            ngettext(
                "Custody log intact: {n} chain, {e} entries, every signature and link checks.",
                "Custody log intact: {n} chains, {e} entries, every signature and link checks.",
                check.chains,
            ).format(n=check.chains, e=check.entries)
        )
    else:
        for problem in check.problems:
            ctx.info(_("fieldkit: problem: {problem}").format(problem=problem))
    if not check.ok:
        raise IntegrityError(_not_verified(len(check.problems)))
    return 0


def text_report(report: dict[str, Any], problems: list[str]) -> list[str]:
    return custody_text.text_report(report, problems, _)
