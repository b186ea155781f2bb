"""Custody reports: `fieldkit hq custody ITEM|verify` at HQ, `fieldkit custody ITEM|verify`
on the laptop. Text a lawyer can attach, or `--json` with everything needed to verify it
elsewhere (python -m fieldkit.custody_verify; docs/custody.md)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from fieldkit.cli.context import Context
from fieldkit.cli.record_commands import opened
from fieldkit.errors import IntegrityError
from fieldkit.i18n import N_, _, ngettext
from fieldkit.services import custody, identity
from fieldkit.services.vault import Vault

VERIFY = "verify"
IND = "     "  # entry details, under the entry

EVENT_TEXT = {
    "capture": N_("captured (hashed at intake)"),
    "edit": N_("saved as a new version (edit)"),
    "derived": N_("derived copy made"),
    "export": N_("put in a bundle to HQ"),
    "receipt": N_("HQ's receipt imported"),
    "purge": N_("purged from the laptop after HQ's receipt"),
    "hq_import": N_("imported at HQ"),
    "extraction": N_("extracted out of the HQ vault"),
    "analyst_export": N_("included in an analyst export"),
}


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
    """The report as lines of text (shown literally: reasons and names come from people)."""
    keys = {k["fingerprint"]: k for k in report["keys"]}
    out = [
        _("fieldkit custody report (format {v}), made {at}").format(
            v=report["v"], at=report["generated"]
        ),
        "",
    ]
    for chain in report["chains"]:
        item = chain["item"] or {}
        if item.get("kind") == "attachment":
            out.append(_("Attachment {id}").format(id=item.get("id")))
            out.append("  " + _("SHA-256 of its content: {h}").format(h=item.get("sha256")))
        else:
            out.append(
                _("Record {id}, version {v}").format(id=item.get("id"), v=item.get("version"))
            )
            out.append(
                "  "
                + _("SHA-256 of the stored document (canonical JSON): {h}").format(
                    h=item.get("sha256")
                )
            )
        for e in chain["entries"]:
            out += _entry_lines(e, keys)
        out.append("")
    out.append(_("Keys that signed (compare the codes with the cards, out of band):"))
    for k in report["keys"]:
        role = _("device") if k["role"] == "device" else _("HQ")
        out.append(f"  {role}  {k['name']}  {k['short_code']}")
        out.append("    " + _("fingerprint {fp}").format(fp=k["fingerprint"]))
        out.append("    " + _("Ed25519 public key {key}").format(key=k["signing_key"]))
    out.append("")
    if problems:
        out.append(_("NOT VERIFIED: see the problems listed on stderr."))
    else:
        out.append(_("Verified: every entry's signature and chain link checks."))
    out += [
        _("To verify elsewhere: save this report with --json, then run"),
        "  python -m fieldkit.custody_verify report.json",
        _("(needs only Python and its 'cryptography' package), or by hand as in docs/custody.md."),
    ]
    return out


def _entry_lines(e: dict[str, Any], keys: dict[str, Any]) -> list[str]:
    try:
        body = json.loads(e["body"])
    except ValueError:
        return ["  " + _("(an entry that cannot be read)")]
    actor = body.get("actor", {})
    k = keys.get(actor.get("fp"), {})
    who = (
        f"{_('device') if k.get('role') == 'device' else _('HQ')} {k.get('name')}"
        f" ({k.get('short_code')})"
        if k
        else _("an unknown key")
    )
    if actor.get("name"):
        who += " / " + actor["name"]
    event = str(body.get("event"))
    out = [
        f"  {body.get('seq')}. {body.get('time')}  {_(EVENT_TEXT.get(event, event))}",
        IND + _("by {who}").format(who=who),
    ]
    details = body.get("details", {})
    if details.get("backfilled"):
        out.append(IND + _("recorded at the upgrade to the custody log, not at the event itself"))
    if "bundle_hash" in details:
        out.append(
            IND
            + _("bundle {seq}, hash {h}").format(
                seq=details["bundle_seq"], h=details["bundle_hash"]
            )
        )
    elif "bundle_id" in details:
        out.append(
            IND
            + _("bundle {seq}, id {id}").format(seq=details["bundle_seq"], id=details["bundle_id"])
        )
    if "device" in details:
        out.append(IND + _("sent by device {fp}").format(fp=details["device"]))
    if "hq" in details:
        out.append(IND + _("receipt signed by HQ {fp}").format(fp=details["hq"]))
    if "parent_sha256" in details:
        out.append(IND + _("previous version's SHA-256 {h}").format(h=details["parent_sha256"]))
    if "reason" in details:
        out.append(IND + _("reason: {reason}").format(reason=details["reason"]))
    if "derived_sha256" in details:
        stripped = " " + _("(identifying metadata removed)") if details.get("stripped") else ""
        out.append(
            IND
            + _("copy written: SHA-256 {h}{stripped}").format(
                h=details["derived_sha256"], stripped=stripped
            )
        )
    if "export_sha256" in details:
        out.append(
            IND
            + _("export of {n} record versions, list hash {h}").format(
                n=details.get("records"), h=details["export_sha256"]
            )
        )
    out.append(IND + _("entry hash {h}").format(h=e["hash"]))
    return out
