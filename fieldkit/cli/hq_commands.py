"""HQ side: hq init, card, enroll, devices, revoke, export-identity, import, export."""

from __future__ import annotations

import argparse
import shutil
import textwrap
from pathlib import Path
from typing import Any

from fieldkit.cli import custody_commands, hq_desk_commands, vault_commands
from fieldkit.cli.context import Context
from fieldkit.cli.progress import reporter
from fieldkit.cli.record_commands import opened
from fieldkit.cli.shared import (
    accept_card,
    add_fingerprint_options,
    card_json,
    say,
    unknown_recipients_note,
    write_card,
)
from fieldkit.errors import FieldkitError, FileAccessError, UsageError, VaultBusy
from fieldkit.formats import text as text_rules
from fieldkit.i18n import N_, _, ngettext
from fieldkit.services import analysis_export, fsio, hq_import, identity, receipts, trust

# Seconds `hq import` waits for another process's write (another import) before exit 11.
IMPORT_WAIT = 300


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    hq = sub.add_parser("hq", parents=[common], help=_("HQ operations"))
    hs = hq.add_subparsers(dest="hq_cmd", required=True, metavar="COMMAND")

    i = hs.add_parser("init", parents=[common], help=_("create an HQ vault"))
    i.add_argument("--name", help=_("HQ's name on its card (e.g. 'HQ Almaty')"))
    vault_commands.add_generate_option(i)
    i.set_defaults(func=cmd_hq_init)

    c = hs.add_parser("card", parents=[common], help=_("write HQ's card for fieldworkers"))
    c.add_argument("--out", required=True, metavar="FILE")
    c.set_defaults(func=cmd_hq_card)

    e = hs.add_parser("enroll", parents=[common], help=_("enrol a device from its card"))
    e.add_argument("card", metavar="DEVICECARD")
    add_fingerprint_options(e)
    e.set_defaults(func=cmd_enroll)

    d = hs.add_parser("devices", parents=[common], help=_("the device roster"))
    d.set_defaults(func=cmd_devices)

    r = hs.add_parser("revoke", parents=[common], help=_("refuse all later bundles of a device"))
    which = r.add_mutually_exclusive_group(required=True)
    which.add_argument("device", nargs="?", help=_("its fingerprint (4+ characters)"))
    which.add_argument("--name", help=_("the device's exact name instead (a device names itself)"))
    r.set_defaults(func=cmd_revoke)

    x = hs.add_parser(
        "export-identity",
        parents=[common],
        help=_("write HQ's age identity file, to open bundles with stock age"),
    )
    x.add_argument("--out", required=True, metavar="FILE")
    x.set_defaults(func=cmd_export_identity)

    im = hs.add_parser("import", parents=[common], help=_("verify and import bundles"))
    im.add_argument("bundles", nargs="+", metavar="BUNDLE")
    im.add_argument("--receipts", metavar="DIR", help=_("write a signed receipt per bundle here"))
    im.add_argument(
        "--wait",
        type=int,
        default=IMPORT_WAIT,
        metavar="SECONDS",
        help=_(
            "how long to wait while another fieldkit process writes to the vault "
            "(default {seconds})"
        ).format(seconds=IMPORT_WAIT),
    )
    im.set_defaults(func=cmd_import)

    ex = hs.add_parser("export", parents=[common], help=_("export testimony for analysis"))
    ex.add_argument("--format", choices=analysis_export.FORMATS, default="jsonl")
    ex.add_argument("--out", required=True, metavar="FILE")
    ex.add_argument(
        "--scope",
        choices=sorted(analysis_export.SCOPES),
        default="hq",
        help=_("which consent scopes to include (withdrawn consent never is)"),
    )
    ex.add_argument(
        "--omit-sensitive",
        action="store_true",
        help=_("leave out real names, contacts and exact addresses"),
    )
    hq_desk_commands.add_filters(ex)
    ex.add_argument(
        "--bom", action="store_true", help=_("start a CSV with a UTF-8 BOM (Excel reads Cyrillic)")
    )
    ex.set_defaults(func=cmd_analysis_export)

    hq_desk_commands.register(hs, common)
    custody_commands.register(hs, common, hq=True)


def cmd_hq_init(ctx: Context) -> int:
    return vault_commands.create_vault(ctx, kind="hq", name=ctx.args.name)


def cmd_hq_card(ctx: Context) -> int:
    with opened(ctx) as vault:
        me = identity.hq(vault.db)
        text = me.card_text()
    write_card(ctx, Path(ctx.args.out), text, me.card)
    return 0


def cmd_enroll(ctx: Context) -> int:
    return accept_card(ctx, N_("Device card"), N_("Enrolled"), trust.enroll)


def cmd_devices(ctx: Context) -> int:
    with opened(ctx) as vault:
        rows = trust.devices(vault.db)
    if ctx.as_json:
        ctx.emit_json(
            [
                {
                    "name": d.name,
                    "fingerprint": d.short_code,
                    "enrolled_at": d.enrolled_at,
                    "revoked_at": d.revoked_at,
                    "last_seq": d.last_seq,
                    "missing": d.missing,
                }
                for d in rows
            ]
        )
        return 0
    if not rows:
        ctx.out(_("No devices enrolled."))
    for d in rows:
        state = _("REVOKED {at}").format(at=d.revoked_at) if d.revoked_at else _("active")
        missing = ", ".join(map(str, d.missing)) if d.missing else _("none")
        ctx.out(
            _("{code}  {name} {state} last bundle {seq}, missing: {missing}").format(
                code=d.short_code,
                name=f"{d.name:<24}",
                state=f"{state:<28}",
                seq=d.last_seq,
                missing=missing,
            )
        )
    return 0


def cmd_revoke(ctx: Context) -> int:
    with opened(ctx) as vault:
        card = trust.revoke(vault.db, ctx.args.device, name=ctx.args.name)
    say(
        ctx,
        _("Revoked {name} ({code}); its later bundles will be refused.").format(
            name=card.name, code=card.short_code
        ),
        card_json(card),
    )
    return 0


def cmd_export_identity(ctx: Context) -> int:
    out = Path(ctx.args.out)
    if out.exists():
        raise FileAccessError(
            _("{path} already exists").format(path=out), hint=N_("choose another file name")
        )
    with opened(ctx) as vault:
        me = identity.hq(vault.db)
        text = (
            f"# fieldkit HQ identity: {me.name}\n"
            f"# public key: {me.age.recipient().encode()}\n"
            f"{me.age.encode()}\n"
        )
    fsio.atomic_write(out, text.encode("ascii", "replace"), mode=0o600)
    ctx.info(_("WARNING: this file opens every bundle sent to this HQ. It is not encrypted."))
    ctx.info(_("Keep it on an encrypted disk, never on the USB stick that carries bundles."))
    say(ctx, str(out), {"path": str(out)})
    return 0


def cmd_import(ctx: Context) -> int:
    receipts_dir = Path(ctx.args.receipts) if ctx.args.receipts else None
    if receipts_dir is not None:
        receipts.check_folder(receipts_dir)  # before any bundle is imported
    if not 0 <= ctx.args.wait <= 24 * 3600:
        raise UsageError(N_("--wait takes 0 to 86400 seconds"))
    first_failure = 0
    results: list[dict[str, Any]] = []
    with opened(ctx) as vault:
        vault.db.patience = ctx.args.wait

        def waiting(seconds: float) -> None:
            ctx.info(
                _(
                    "fieldkit: waiting: another fieldkit process is writing to this vault "
                    "({seconds} s so far, up to {limit} s)"
                ).format(seconds=int(seconds), limit=ctx.args.wait)
            )

        vault.db.on_wait = waiting
        paths = [Path(n) for n in ctx.args.bundles]
        names = dict(zip(paths, ctx.args.bundles, strict=True))
        order = hq_import.import_order(vault.db, paths)
        for n, path in enumerate(order):
            name = names[path]
            try:
                rep = hq_import.import_bundle(
                    vault.db,
                    path,
                    receipts_dir=receipts_dir,
                    progress=reporter(ctx, "import"),
                )
            except VaultBusy as exc:
                # Every later bundle would wait as long again: stop, and name what is left.
                left = [names[p] for p in order[n:]]
                ctx.info(
                    _("fieldkit: error: {message}; not imported: {bundles}").format(
                        message=_(exc.message), bundles=", ".join(left)
                    )
                )
                ctx.info(_("fieldkit: hint: {hint}").format(hint=_(exc.hint)))
                results += [
                    {"bundle": b, "ok": False, "error": exc.message, "exit_code": exc.exit_code}
                    for b in left
                ]
                first_failure = first_failure or exc.exit_code
                break
            except FieldkitError as exc:
                if not ctx.as_json:
                    for line in _refused(name, exc):
                        ctx.out(line)
                ctx.info(
                    _("fieldkit: error: {bundle}: {message}").format(
                        bundle=name, message=_(exc.message)
                    )
                )
                ctx.info(_("fieldkit: hint: {hint}").format(hint=_(exc.hint)))
                results.append(
                    {"bundle": name, "ok": False, "error": exc.message, "exit_code": exc.exit_code}
                )
                first_failure = first_failure or exc.exit_code
                continue
            results.append(
                {
                    "bundle": name,
                    "ok": True,
                    "duplicate": rep.duplicate,
                    "device": rep.device_name,
                    "seq": rep.seq,
                    "records_new": rep.records_new,
                    "records_known": rep.records_known,
                    "attachments_new": rep.attachments_new,
                    "missing": rep.missing_before,
                    "fingerprint": rep.short_hash,
                    "receipt": str(rep.receipt) if rep.receipt else None,
                    "unknown_recipients": rep.unknown_recipients,
                }
            )
            if not ctx.as_json:
                for line in _describe(rep):
                    ctx.out(line)
            if rep.unknown_recipients:
                note = unknown_recipients_note(rep.unknown_recipients)
                ctx.info(_("fieldkit: warning: {bundle}: {note}").format(bundle=name, note=note))
    if ctx.as_json:
        ctx.emit_json(results)
    return first_failure


def _describe(rep: hq_import.ImportReport) -> list[str]:
    """The bundle's verdict first (IMPORTED, ALREADY IMPORTED), then what it held, each
    line wrapped at 80 columns (narrower terminals: their width)."""
    if rep.duplicate:
        head = _("ALREADY IMPORTED {path}").format(path=rep.path)
    else:
        head = _("IMPORTED {path}").format(path=rep.path)
    details = [
        _("bundle {seq} from {device} ({code})").format(
            seq=rep.seq, device=rep.device_name, code=rep.device_code
        )
    ]
    if rep.duplicate:
        details.append(_("already imported, nothing changed"))
    else:
        versions = ngettext(
            "{n} new record version", "{n} new record versions", rep.records_new
        ).format(n=rep.records_new)
        attachments = ngettext("{n} attachment", "{n} attachments", rep.attachments_new).format(
            n=rep.attachments_new
        )
        details.append(
            _("verified and imported {versions}, {attachments}").format(
                versions=versions, attachments=attachments
            )
        )
        if rep.missing_before:
            details.append(
                _("missing bundles from this device: {seqs}").format(
                    seqs=", ".join(map(str, rep.missing_before))
                )
            )
    if rep.receipt:
        details.append(_("receipt: {path}").format(path=rep.receipt))
    return _wrapped(head, details)


def _refused(name: str, exc: FieldkitError) -> list[str]:
    detail = _("{message} (exit {code}); nothing imported").format(
        message=_(exc.message), code=exc.exit_code
    )
    return _wrapped(_("REFUSED {bundle}").format(bundle=name), [detail])


def _wrapped(head: str, details: list[str]) -> list[str]:
    width = max(40, min(shutil.get_terminal_size((80, 24)).columns, 80))
    out = textwrap.wrap(
        text_rules.escape(head, keep_newlines=False), width, subsequent_indent="    "
    )
    for d in details:
        out += textwrap.wrap(
            text_rules.escape(d, keep_newlines=False),
            width,
            initial_indent="  ",
            subsequent_indent="    ",
            break_on_hyphens=False,
        )
    return out


def cmd_analysis_export(ctx: Context) -> int:
    filters = hq_desk_commands.filters_of(ctx.args)  # before the passphrase is asked
    with opened(ctx) as vault:
        res = analysis_export.export(
            vault.db,
            Path(ctx.args.out),
            fmt=ctx.args.format,
            scope=ctx.args.scope,
            omit_sensitive=ctx.args.omit_sensitive,
            filters=filters,
            bom=ctx.args.bom,
        )
    ctx.info(_("this export is NOT encrypted; keep it on an encrypted disk"))
    say(
        ctx,
        ngettext(
            "{n} record written to {path}; {withheld} withheld by consent.",
            "{n} records written to {path}; {withheld} withheld by consent.",
            res.records,
        ).format(n=res.records, path=res.path, withheld=res.withheld),
        {
            "path": str(res.path),
            "records": res.records,
            "withheld": res.withheld,
            "custody_sha256": res.custody_sha256.hex() if res.custody_sha256 else None,
        },
    )
    if res.custody_sha256 is not None and not ctx.as_json:
        ctx.info(
            _("logged in each record's custody log as export {hash}").format(
                hash=res.custody_sha256.hex()
            )
        )
    return 0
