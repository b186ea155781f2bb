"""duress set | remove | status: the duress passphrase (docs/vault-format.md, "Duress").

Each unlocks with the current passphrase first, as every command does, so entering the
duress passphrase at that prompt shreds the vault and the command then runs on the new,
empty one (status: off), exactly as it would on a vault just made.
"""

from __future__ import annotations

import argparse
from typing import Any

from fieldkit.cli.context import Context
from fieldkit.cli.vault_commands import add_generate_option, choose_passphrase
from fieldkit.i18n import N_, _
from fieldkit.services.vault import Vault


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    d = sub.add_parser(
        "duress",
        parents=[common],
        help=_("a second passphrase that wipes the vault and opens an empty one"),
    )
    ds = d.add_subparsers(dest="duress_cmd", required=True, metavar="set|remove|status")
    s = ds.add_parser("set", parents=[common], help=_("set or replace the duress passphrase"))
    s.add_argument(
        "--duress-passphrase-file",
        metavar="FILE",
        help=_("read the duress passphrase from FILE (- for stdin)"),
    )
    add_generate_option(s)
    s.set_defaults(func=cmd_duress_set)
    r = ds.add_parser("remove", parents=[common], help=_("remove the duress passphrase"))
    r.set_defaults(func=cmd_duress_remove)
    st = ds.add_parser("status", parents=[common], help=_("whether a duress passphrase is set"))
    st.set_defaults(func=cmd_duress_status)


def cmd_duress_set(ctx: Context) -> int:
    vault = Vault.unlock(ctx.vault_dir, ctx.passphrase(prompt=_("Current passphrase: ")))
    try:
        duress = choose_passphrase(
            ctx, ctx.args.duress_passphrase_file, prompt=_("Duress passphrase: ")
        )
        vault.set_duress_passphrase(duress)
    finally:
        vault.lock()
    _report(
        ctx,
        True,
        N_(
            "Duress passphrase set. Entering it at any unlock wipes this vault and opens "
            "an empty one. It does not protect a copy of the disk: see SECURITY.md."
        ),
    )
    return 0


def cmd_duress_remove(ctx: Context) -> int:
    vault = Vault.unlock(ctx.vault_dir, ctx.passphrase(prompt=_("Current passphrase: ")))
    try:
        vault.remove_duress_passphrase()
    finally:
        vault.lock()
    _report(ctx, False, N_("No duress passphrase is set."))
    return 0


def cmd_duress_status(ctx: Context) -> int:
    vault = Vault.unlock(ctx.vault_dir, ctx.passphrase(prompt=_("Current passphrase: ")))
    try:
        is_set = vault.has_duress_passphrase()
    finally:
        vault.lock()
    if is_set:
        _report(ctx, True, N_("A duress passphrase is set."))
    else:
        _report(ctx, False, N_("No duress passphrase is set."))
    return 0


def _report(ctx: Context, is_set: bool, message: str) -> None:
    if ctx.as_json:
        ctx.emit_json({"duress_passphrase": is_set})
    else:
        ctx.out(_(message))
