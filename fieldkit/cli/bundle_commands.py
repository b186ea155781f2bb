"""Field side of bundles: card, trust, export, receipt import, purge; and inspect."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

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
from fieldkit.crypto.age_keys import X25519Recipient, parse_identity_file, parse_recipient
from fieldkit.errors import ConsentNotConfirmed, FileAccessError, MalformedData, UsageError
from fieldkit.formats import cards
from fieldkit.i18n import N_, _, n_attachments, n_records, ngettext
from fieldkit.services import export as export_svc
from fieldkit.services import fsio, identity, inspect, purge, receipts, trust
from fieldkit.services.vault import Vault


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    c = sub.add_parser("card", parents=[common], help=_("write this device's card (public keys)"))
    c.add_argument("--out", required=True, metavar="FILE")
    c.set_defaults(func=cmd_card)

    t = sub.add_parser("trust", parents=[common], help=_("trust an HQ card (field side)"))
    t.add_argument("card", metavar="HQCARD")
    add_fingerprint_options(t)
    t.set_defaults(func=cmd_trust)

    u = sub.add_parser("untrust", parents=[common], help=_("stop encrypting to an HQ card"))
    u.add_argument(
        "code", metavar="FINGERPRINT", help=_("the HQ card's fingerprint (4+ characters)")
    )
    u.add_argument("--yes", action="store_true", help=_("do not ask for confirmation"))
    u.set_defaults(func=cmd_untrust)

    e = sub.add_parser(
        "export",
        parents=[common],
        help=_("pack records changed since the last export into a bundle for HQ"),
    )
    e.add_argument(
        "--out",
        required=True,
        metavar="FILE|DIR",
        help=_("the bundle file, or a folder to write it in under a random name (XXXXXXXX.age)"),
    )
    e.add_argument("--all", action="store_true", help=_("every record, not only changes"))
    e.add_argument(
        "--resend",
        type=int,
        metavar="SEQ",
        help=_("write bundle SEQ again (a lost USB stick): HQ sees a duplicate"),
    )
    e.add_argument(
        "--x25519-recipient",
        metavar="AGE1...",
        help=_(
            "with --resend: a compatibility copy for age older than 1.3 "
            "(classic X25519 only; not quantum-safe)"
        ),
    )
    e.add_argument("--dry-run", action="store_true", help=_("only show what would go"))
    consent = e.add_mutually_exclusive_group()
    consent.add_argument(
        "--include-without-consent",
        action="store_true",
        help=_("export records that lack recorded consent too, without asking"),
    )
    consent.add_argument(
        "--hold-without-consent",
        action="store_true",
        help=_("keep records that lack recorded consent on this laptop; export the rest"),
    )
    e.set_defaults(func=cmd_export)

    r = sub.add_parser("receipt", parents=[common], help=_("HQ receipts"))
    rs = r.add_subparsers(dest="receipt_cmd", required=True, metavar="import")
    ri = rs.add_parser(
        "import", parents=[common], help=_("verify a receipt, mark records delivered")
    )
    ri.add_argument("file")
    ri.set_defaults(func=cmd_receipt_import)

    p = sub.add_parser("purge", parents=[common], help=_("remove records HQ has receipted"))
    p.add_argument("--delivered", action="store_true", required=True)
    p.add_argument("--yes", action="store_true", help=_("do not ask for confirmation"))
    p.set_defaults(func=cmd_purge)

    i = sub.add_parser("inspect", parents=[common], help=_("what a bundle reveals, and verify it"))
    i.add_argument("bundle")
    i.add_argument("--identity", metavar="FILE", help=_("an age identity file (HQ's)"))
    i.add_argument(
        "--with-vault",
        action="store_true",
        help=_("use the HQ vault (--vault) to decrypt and check the signer"),
    )
    i.set_defaults(func=cmd_inspect)


def cmd_card(ctx: Context) -> int:
    with opened(ctx) as vault:
        me = identity.device(vault.db)
        text = me.card_text()
    write_card(ctx, Path(ctx.args.out), text, me.card)
    return 0


def cmd_trust(ctx: Context) -> int:
    return accept_card(ctx, N_("HQ card"), N_("Trusted HQ"), trust.trust_hq)


def cmd_untrust(ctx: Context) -> int:
    with opened(ctx) as vault:
        card = trust.find_trusted_hq(vault.db, ctx.args.code)
        ctx.require_confirmation(
            _(
                'Stop trusting the HQ card "{name}" ({code})?\n'
                "Later bundles will not be encrypted to it."
            ).format(name=card.name, code=card.short_code),
            typed="yes",
            action=N_("untrust"),
        )
        trust.untrust_hq(vault.db, card.short_code)
    say(
        ctx,
        _("No longer trusted: {name} ({code}).").format(name=card.name, code=card.short_code),
        card_json(card),
    )
    return 0


def cmd_export(ctx: Context) -> int:
    out = Path(ctx.args.out)
    if out.is_dir():  # a folder (the stick): a new file in it with a name that says nothing
        out = fsio.neutral_name(out)
    if ctx.args.x25519_recipient and ctx.args.resend is None:
        raise UsageError(
            N_("--x25519-recipient only makes a compatibility copy of a bundle"),
            hint=N_("export normally first, then add --resend SEQ"),
        )
    with opened(ctx) as vault:
        include = bool(ctx.args.include_without_consent)
        # A bundle written again (--resend) carries what it carried: nothing to ask.
        if ctx.args.resend is None or ctx.args.dry_run:
            plan = export_svc.plan(vault.db, everything=ctx.args.all)
            lacking = plan.without_consent
            if lacking and not (include or ctx.args.hold_without_consent or ctx.args.dry_run):
                include = _confirm_without_consent(ctx, lacking)
            if include and lacking:
                plan = export_svc.plan(
                    vault.db, everything=ctx.args.all, include_without_consent=True
                )
        if ctx.args.dry_run:
            say(
                ctx,
                ngettext(
                    "Would export {records} and {attachments}, about {kib} KiB, "
                    "to {n} HQ recipient.",
                    "Would export {records} and {attachments}, about {kib} KiB, "
                    "to {n} HQ recipients.",
                    len(plan.recipients),
                ).format(
                    records=n_records(plan.record_count),
                    attachments=n_attachments(len(plan.attachments)),
                    kib=plan.content_bytes // 1024,
                    n=len(plan.recipients),
                )
                + _left_over(plan)
                + _included_note(plan.without_consent if include else ()),
                {
                    "records": plan.record_count,
                    "versions": len(plan.records),
                    "attachments": len(plan.attachments),
                    "bytes": plan.content_bytes,
                    "recipients": len(plan.recipients),
                    "left_records": plan.left_records,
                    "left_attachments": plan.left_attachments,
                    "held_without_consent": [h.id for h in plan.held],
                    "included_without_consent": (
                        [h.id for h in plan.without_consent] if include else []
                    ),
                },
            )
            _warn_held(ctx, plan.held)
            return 0
        progress = reporter(ctx, _("export"))
        res: export_svc.ExportResult | None
        if ctx.args.resend is not None:
            classic = None
            if ctx.args.x25519_recipient:
                parsed = parse_recipient(ctx.args.x25519_recipient)
                if not isinstance(parsed, X25519Recipient):
                    raise UsageError(N_("--x25519-recipient takes a classic age1... recipient"))
                classic = parsed
                ctx.info(
                    _("WARNING: this copy is NOT quantum-safe (X25519 only), for old age tools.")
                )
            res = export_svc.resend(
                vault.db, ctx.args.resend, out, progress=progress, x25519=classic
            )
        else:
            res = export_svc.export(
                vault.db,
                out,
                everything=ctx.args.all,
                include_without_consent=include,
                progress=progress,
            )
    if res is None:
        held = plan.held if ctx.args.resend is None else ()
        say(
            ctx,
            (
                _("Nothing else to export.")
                if held
                else _("Nothing to export: every record is already in a bundle.")
            ),
            {"exported": False, "held_without_consent": [h.id for h in held]},
        )
        _warn_held(ctx, held)
        return 0
    if res.abandoned is not None:
        ctx.info(
            _(
                "Bundle {old} was never written and its content changed since: it "
                "is abandoned, and what it carried is in bundle {seq} (HQ is told so)."
            ).format(old=res.abandoned, seq=res.seq)
        )
    say(
        ctx,
        _("Bundle {seq}: {records}, {attachments}, {size} bytes").format(
            seq=res.seq,
            records=n_records(res.records),
            attachments=n_attachments(res.attachments),
            size=res.size,
        )
        + f"\n{res.path}\n"
        + _("Fingerprint: {code}").format(code=res.short_hash)
        + _left_over(res)
        + _included_note(res.included_without_consent),
        {
            "exported": True,
            "path": str(res.path),
            "seq": res.seq,
            "records": res.records,
            "versions": res.versions,
            "attachments": res.attachments,
            "size": res.size,
            "fingerprint": res.short_hash,
            "bundle_id": res.bundle_id.hex(),
            "bundle_hash": res.bundle_hash.hex(),
            "left_records": res.left_records,
            "left_attachments": res.left_attachments,
            "abandoned": res.abandoned,
            "held_without_consent": [h.id for h in res.held],
            "included_without_consent": [h.id for h in res.included_without_consent],
        },
    )
    _warn_held(ctx, res.held)
    return 0


MAX_LISTED = 20  # records lacking consent named at the prompt; the rest are counted


def _listing(records: tuple[export_svc.Held, ...]) -> str:
    lines = [f"  {h.id[:12]}  {h.pseudonym}" for h in records[:MAX_LISTED]]
    if len(records) > MAX_LISTED:
        lines.append(
            "  "
            + _("and {n} more ('fieldkit record list' marks each with !)").format(
                n=len(records) - MAX_LISTED
            )
        )
    return "\n".join(lines)


def _confirm_without_consent(ctx: Context, records: tuple[export_svc.Held, ...]) -> bool:
    """Ask at the terminal whether records lacking consent go too. "no" (any answer but
    yes) holds them back and exports the rest; Ctrl-C or Ctrl-D stops (exit 12). With
    no terminal to ask on, nothing is exported (exit 13): never silently in, never
    silently out."""
    n = len(records)
    if not ctx.has_tty():
        raise ConsentNotConfirmed(
            ngettext(
                "{n} record to export lacks recorded consent, and there is no terminal to ask on",
                "{n} records to export lack recorded consent, and there is no terminal to ask on",
                n,
            ).format(n=n)
        )
    question = (
        ngettext(
            "{n} record to export lacks recorded consent (not recorded, or not obtained):",
            "{n} records to export lack recorded consent (not recorded, or not obtained):",
            n,
        ).format(n=n)
        + "\n"
        + _listing(records)
        + "\n"
        + _("Export them anyway? Otherwise they stay on this laptop and the rest is exported.")
    )
    return ctx.confirm(question, typed="yes", interrupt_cancels=True)


def _warn_held(ctx: Context, held: tuple[export_svc.Held, ...]) -> None:
    """Records held back for lack of consent: a warning on stderr, also with --json."""
    if not held:
        return
    ctx.info(
        _("fieldkit: warning: {note}").format(
            note=ngettext(
                "HELD BACK: {n} record lacks recorded consent and stays on this laptop; it "
                "goes in a later export once consent is recorded in it, or when you confirm:",
                "HELD BACK: {n} records lack recorded consent and stay on this laptop; they "
                "go in a later export once consent is recorded in them, or when you confirm:",
                len(held),
            ).format(n=len(held))
        )
        + "\n"
        + _listing(held)
    )


def _included_note(included: tuple[export_svc.Held, ...]) -> str:
    if not included:
        return ""
    return "\n" + ngettext(
        "Included as you confirmed: {n} record that lacks recorded consent.",
        "Included as you confirmed: {n} records that lack recorded consent.",
        len(included),
    ).format(n=len(included))


def _left_over(r: export_svc.ExportPlan | export_svc.ExportResult) -> str:
    if not (r.left_records or r.left_attachments):
        return ""
    more = ngettext("{n} more record", "{n} more records", r.left_records)
    return "\n" + _(
        "{records} and {attachments} did not fit in one bundle "
        "(docs/bundle-format.md, limits): run 'fieldkit export' again for the next."
    ).format(records=more.format(n=r.left_records), attachments=n_attachments(r.left_attachments))


def cmd_receipt_import(ctx: Context) -> int:
    with opened(ctx) as vault:
        r = receipts.import_receipt(vault.db, Path(ctx.args.file))
    note = _(" (already receipted before: nothing changed)") if r.already else ""
    pending = (
        _(", {n} with versions or attachments HQ has not acknowledged yet").format(n=r.pending)
        if r.pending
        else ""
    )
    say(
        ctx,
        _(
            "Receipt from {hq} for bundle {seq}{note}: {delivered} delivered, "
            "{superseded} edited since and not delivered{pending}."
        ).format(
            hq=r.hq_name,
            seq=r.seq,
            note=note,
            delivered=n_records(r.delivered),
            superseded=r.superseded,
            pending=pending,
        ),
        {
            "seq": r.seq,
            "hq": r.hq_name,
            "delivered": r.delivered,
            "superseded": r.superseded,
            "pending": r.pending,
            "already": r.already,
        },
    )
    return 0


def cmd_purge(ctx: Context) -> int:
    with opened(ctx) as vault:
        n = len(purge.delivered_records(vault.db))
        if n:
            ctx.require_confirmation(
                ngettext(
                    "Remove {n} delivered record from this laptop?",
                    "Remove {n} delivered records from this laptop?",
                    n,
                ).format(n=n),
                typed="yes",
                action=N_("purge"),
            )
        res = purge.purge_delivered(vault.db)
    kept = purge.kept_text(res.kept, _)
    say(
        ctx,
        ngettext(
            "Purged {n} delivered record and {attachments}.",
            "Purged {n} delivered records and {attachments}.",
            res.records,
        ).format(n=res.records, attachments=n_attachments(res.attachments))
        + (f"\n{kept}" if kept else ""),
        {"records": res.records, "attachments": res.attachments, "kept": res.kept},
    )
    return 0


def cmd_inspect(ctx: Context) -> int:
    path = Path(ctx.args.bundle)
    if ctx.args.identity:
        try:
            with open(ctx.args.identity, encoding="utf-8") as fh:
                text = fh.read(100_001)
        except (OSError, UnicodeDecodeError) as exc:
            raise FileAccessError(
                _("cannot read identity file: {reason}").format(reason=exc)
            ) from None
        try:
            ids = parse_identity_file(text)
        except MalformedData as exc:
            raise MalformedData(
                _("identity file: {message}").format(message=_(exc.message))
            ) from None
        result = inspect.inside(path, list(ids))
    elif ctx.args.with_vault:
        vault = Vault.unlock(ctx.vault_dir, ctx.passphrase())
        try:
            me = identity.hq(vault.db)
            result = inspect.inside(path, [me.age], vault.db)
        finally:
            vault.lock()
    else:
        result = inspect.outside(path)
    _print_inspection(ctx, result)
    return result.exit_code  # a failed verification exits as 'hq import' would


def _print_inspection(ctx: Context, r: inspect.Inspection) -> None:
    m = r.manifest
    data: dict[str, Any] = {
        "path": str(r.path),
        "size": r.size,
        "recipients": len(r.stanza_types),
        "types": sorted(set(r.stanza_types)),
    }
    if m is not None and r.bundle_hash is not None:
        data.update(
            {
                "bundle_id": m.bundle_id.hex(),
                "device": cards.short_code(m.device),
                "seq": m.seq,
                "created": m.created,
                "records": len({e.id for e in m.records}),
                "versions": len(m.records),
                "attachments": len(m.attachments),
                "content_bytes": m.content_size(),
                "fingerprint": cards.short_code(r.bundle_hash),
                "signer": r.signer,
                "verified": r.verified,
                "problems": r.problems,
                "duplicate": r.duplicate,
                "unknown_recipients": r.unknown_recipients,
            }
        )
    if ctx.as_json:
        ctx.emit_json(data)
        return
    ctx.out(
        ngettext(
            "{path}: {size} bytes, age v1, {n} recipient: {types}",
            "{path}: {size} bytes, age v1, {n} recipients: {types}",
            len(r.stanza_types),
        ).format(
            path=r.path,
            size=r.size,
            n=len(r.stanza_types),
            types=", ".join(sorted(set(r.stanza_types))),
        )
    )
    if m is None:
        ctx.out(_("Contents, sender and record count are not visible without an HQ identity."))
        return
    ctx.out(
        _("Bundle {seq} from {signer}, fingerprint {code}").format(
            seq=m.seq, signer=r.signer, code=data["fingerprint"]
        )
    )
    ctx.out(
        _("{records}, {attachments}, {size} bytes of content").format(
            records=n_records(len({e.id for e in m.records})),
            attachments=n_attachments(len(m.attachments)),
            size=m.content_size(),
        )
    )
    for a in m.attachments:
        ctx.out(
            _("  attachment {id} {type} {size} bytes {sha256}").format(
                id=a.id, type=a.media_type, size=a.size, sha256=a.sha256.hex()[:16]
            )
        )
    ctx.out(_("Verification: {result}").format(result=_("OK") if r.verified else _("FAILED")))
    for p in r.problems:
        ctx.out(f"  - {_(p)}")
    if r.duplicate:
        ctx.out(_("  already imported: 'hq import' would change nothing"))
    if r.unknown_recipients:
        ctx.out(_("  WARNING: {note}").format(note=unknown_recipients_note(r.unknown_recipients)))
