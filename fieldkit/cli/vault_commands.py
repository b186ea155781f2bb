"""init, passphrase change, recover, recovery-code new, wipe."""

from __future__ import annotations

import argparse
import time
from typing import Any

from fieldkit.cli.context import Context
from fieldkit.cli.progress import upgrade_reporter
from fieldkit.crypto import kdf
from fieldkit.errors import InvalidInput, UsageError, VaultExists
from fieldkit.i18n import N_, _, ngettext
from fieldkit.services import identity, passphrase_policy
from fieldkit.services.vault import Vault, vault_exists, wipe


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("init", parents=[common], help=_("create a new (field) vault"))
    p.add_argument("--name", help=_("this device's name on its card (e.g. 'FW-03 laptop')"))
    add_generate_option(p)
    p.set_defaults(func=cmd_init)

    pc = sub.add_parser("passphrase", parents=[common], help=_("passphrase management"))
    pcs = pc.add_subparsers(dest="passphrase_cmd", required=True, metavar="change")
    change = pcs.add_parser("change", parents=[common], help=_("set a new passphrase"))
    change.add_argument(
        "--new-passphrase-file",
        metavar="FILE",
        help=_("read the new passphrase from FILE (- for stdin)"),
    )
    add_generate_option(change)
    change.set_defaults(func=cmd_passphrase_change)

    r = sub.add_parser(
        "recover",
        parents=[common],
        help=_("unlock with the recovery code and set a new passphrase"),
    )
    r.add_argument(
        "--recovery-code-file", metavar="FILE", help=_("read the code from FILE (- for stdin)")
    )
    r.add_argument(
        "--new-passphrase-file",
        metavar="FILE",
        help=_("read the new passphrase from FILE (- for stdin)"),
    )
    add_generate_option(r)
    r.set_defaults(func=cmd_recover)

    rc = sub.add_parser("recovery-code", parents=[common], help=_("recovery code management"))
    rcs = rc.add_subparsers(dest="recovery_cmd", required=True, metavar="new")
    new = rcs.add_parser(
        "new",
        parents=[common],
        help=_("replace the recovery code (the old one stops working)"),
    )
    new.set_defaults(func=cmd_recovery_new)

    w = sub.add_parser(
        "wipe",
        parents=[common],
        help=_("crypto-shred the vault: nothing opens it afterwards"),
    )
    w.add_argument("--yes", action="store_true", help=_("do not ask for confirmation"))
    w.set_defaults(func=cmd_wipe)

    wa = sub.add_parser(
        "wipe-after",
        parents=[common],
        help=_("wipe the vault after this many failed unlocks in a row (off by default)"),
    )
    wa.add_argument(
        "limit",
        nargs="?",
        choices=("off", "5", "10", "20"),
        help=_("off, 5, 10 or 20; leave out to see the current setting"),
    )
    wa.set_defaults(func=cmd_wipe_after)


def add_generate_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--generate-passphrase",
        action="store_true",
        help=_("let fieldkit choose the new passphrase (six words), shown once on the terminal"),
    )


def _kdf_params(ctx: Context) -> tuple[kdf.Argon2Params, float | None]:
    if ctx.kdf_params is not None:
        return ctx.kdf_params, None
    if not ctx.as_json:
        ctx.info(_("Calibrating Argon2id for this machine (about two seconds)..."))
    return kdf.calibrate()


def choose_passphrase(ctx: Context, source: str | None, *, prompt: str) -> str:
    """A new passphrase that passes the policy: typed twice, read from `source`, or, with
    --generate-passphrase, suggested, shown once on the terminal and typed back."""
    if getattr(ctx.args, "generate_passphrase", False):
        return _generated(ctx, source)
    value = ctx.read_secret(
        N_("new passphrase"), source, prompt=prompt, confirm=True, check=passphrase_policy.check
    )
    passphrase_policy.check(value)  # from a file or stdin: checked here
    return value


def _generated(ctx: Context, source: str | None) -> str:
    if source is not None:
        raise UsageError(
            N_("--generate-passphrase chooses the passphrase itself"),
            hint=N_("leave out the passphrase file, or leave out --generate-passphrase"),
        )
    if not ctx.has_tty():
        raise UsageError(
            N_("--generate-passphrase shows the passphrase on a terminal, and there is none"),
            hint=N_("run it at a terminal, or give your own with a passphrase file"),
        )
    value = passphrase_policy.suggest()
    passphrase_policy.check(value)
    # To the terminal only: never stdout, which may be a log file or a pipe.
    ctx.show_on_tty(
        _(
            "Your new passphrase (six words from the EFF list, shown only now). Write it\n"
            "down and keep it apart from this laptop:"
        )
        + f"\n\n    {value}\n\n"
    )
    typed = ctx.read_secret(N_("passphrase"), None, prompt=_("Type it to confirm you have it: "))
    if " ".join(typed.split()) != value:
        raise InvalidInput(
            N_("what you typed is not the passphrase shown"),
            hint=N_("nothing was changed; run the command again for a new suggestion"),
        )
    return value


def cmd_init(ctx: Context) -> int:
    return create_vault(ctx, kind="field", name=ctx.args.name)


def create_vault(ctx: Context, *, kind: str, name: str | None) -> int:
    root = ctx.vault_dir
    if vault_exists(root):
        raise VaultExists(_("a vault already exists at {path}").format(path=root))
    if name is not None:  # before the passphrase and the calibration: nothing is made
        name = identity.valid_name(name)
    passphrase = choose_passphrase(
        ctx, getattr(ctx.args, "passphrase_file", None), prompt=_("Choose a passphrase: ")
    )
    params, seconds = _kdf_params(ctx)
    vault, code = Vault.create(root, passphrase, kdf_params=params, kind=kind, name=name)
    try:
        card = identity.load(vault.db, identity.ROLE_FOR_KIND[kind]).card
    finally:
        vault.lock()
    if ctx.as_json:
        ctx.emit_json(
            {
                "vault": str(root),
                "kind": kind,
                "name": card.name,
                "fingerprint": card.short_code,
                "kdf": {
                    "algorithm": "argon2id",
                    "time_cost": params.time_cost,
                    "memory_kib": params.memory_kib,
                    "parallelism": params.parallelism,
                },
                "recovery_code": code,
            }
        )
        return 0
    if kind == "hq":
        ctx.out(_("Created HQ vault at {path}").format(path=root))
    else:
        ctx.out(_("Created vault at {path}").format(path=root))
    if seconds:
        ctx.out(
            _("Key derivation: {params} ({seconds} s per unlock here)").format(
                params=params.describe(), seconds=f"{seconds:.2f}"
            )
        )
    else:
        ctx.out(_("Key derivation: {params}").format(params=params.describe()))
    ctx.out(_("Identity: {name}, fingerprint {code}").format(name=card.name, code=card.short_code))
    ctx.out("")
    ctx.out(_("Recovery code (shown once; write it on paper and keep it apart from this laptop):"))
    ctx.out("")
    ctx.out(f"    {code}")
    ctx.out("")
    ctx.out(_("Anyone with this code can open the vault. fieldkit does not store it anywhere."))
    return 0


def cmd_passphrase_change(ctx: Context) -> int:
    vault = Vault.unlock(
        ctx.vault_dir,
        ctx.passphrase(prompt=_("Current passphrase: ")),
        on_upgrade=upgrade_reporter(ctx),
    )
    try:
        new = choose_passphrase(ctx, ctx.args.new_passphrase_file, prompt=_("New passphrase: "))
        vault.change_passphrase(new)
    finally:
        vault.lock()
    _done(ctx, N_("Passphrase changed. The recovery code is unchanged."))
    return 0


def cmd_recover(ctx: Context) -> int:
    code = ctx.read_secret(
        N_("recovery code"), ctx.args.recovery_code_file, prompt=_("Recovery code: ")
    )
    vault = Vault.unlock_with_recovery_code(ctx.vault_dir, code, on_upgrade=upgrade_reporter(ctx))
    try:
        new = choose_passphrase(ctx, ctx.args.new_passphrase_file, prompt=_("New passphrase: "))
        vault.change_passphrase(new)
    finally:
        vault.lock()
    _done(
        ctx,
        N_("New passphrase set. Consider 'fieldkit recovery-code new' if the code was exposed."),
    )
    return 0


def cmd_recovery_new(ctx: Context) -> int:
    vault = Vault.unlock(ctx.vault_dir, ctx.passphrase(), on_upgrade=upgrade_reporter(ctx))
    try:
        code = vault.new_recovery_code()
    finally:
        vault.lock()
    if ctx.as_json:
        ctx.emit_json({"recovery_code": code})
    else:
        ctx.out(_("New recovery code (shown once; the old one no longer works):"))
        ctx.out(f"    {code}")
    return 0


def cmd_wipe(ctx: Context) -> int:
    root = ctx.vault_dir
    ctx.require_confirmation(
        _("This destroys the vault at {path} for good.").format(path=root),
        typed="WIPE",
        action=N_("wipe"),
    )
    start = time.perf_counter()
    wipe(root)  # raises WipeIncomplete (exit 9), naming what is left, unless all is gone
    _done(
        ctx,
        N_(
            "Vault wiped in {seconds} s: {path} and every file in it are gone. "
            "It cannot be opened again."
        ),
        seconds=f"{time.perf_counter() - start:.2f}",
        path=root,
    )
    return 0


def cmd_wipe_after(ctx: Context) -> int:
    """A security setting: it needs the passphrase, like `passphrase change`."""
    choice = ctx.args.limit
    vault = Vault.unlock(
        ctx.vault_dir,
        ctx.passphrase(prompt=_("Current passphrase: ")),
        on_upgrade=upgrade_reporter(ctx),
    )
    try:
        if choice is not None:
            vault.set_wipe_after_failures(0 if choice == "off" else int(choice))
        limit = vault.wipe_after_failures()
    finally:
        vault.lock()
    if ctx.as_json:
        ctx.emit_json({"wipe_after_failures": limit or None})
    elif limit:
        ctx.out(
            ngettext(
                "The vault wipes itself after {n} failed unlock in a row (passphrase or "
                "recovery code). This does not protect a copy of the disk: see SECURITY.md.",
                "The vault wipes itself after {n} failed unlocks in a row (passphrase or "
                "recovery code). This does not protect a copy of the disk: see SECURITY.md.",
                limit,
            ).format(n=limit)
        )
    else:
        ctx.out(_("Failed unlocks never wipe the vault (off)."))
    return 0


def _done(ctx: Context, message: str, **values: object) -> None:
    """`message` is an N_() msgid: JSON carries it in English, the terminal translated."""
    if ctx.as_json:
        ctx.emit_json({"ok": True, "message": message.format(**values)})
    else:
        ctx.out(_(message).format(**values))
