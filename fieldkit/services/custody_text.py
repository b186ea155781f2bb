"""The custody report as text a lawyer can attach (docs/custody.md, section 5), for the
CLI and the app alike: one renderer, translated by the caller."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fieldkit.msgids import N_

IND = "     "  # an entry's details, under the entry

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


def text_report(
    report: dict[str, Any], problems: list[str], translate: Callable[[str], str] = str
) -> list[str]:
    """The report as lines of text, in the reader's language through `translate` (the
    msgids are N_-marked here; reasons and names are shown as written, and the caller
    escapes them for its terminal or screen)."""
    _ = translate
    keys = {k["fingerprint"]: k for k in report["keys"]}
    out = [
        _(N_("fieldkit custody report (format {v}), made {at}")).format(
            v=report["v"], at=report["generated"]
        ),
        "",
    ]
    for chain in report["chains"]:
        item = chain["item"] or {}
        if item.get("kind") == "attachment":
            out.append(_(N_("Attachment {id}")).format(id=item.get("id")))
            out.append("  " + _(N_("SHA-256 of its content: {h}")).format(h=item.get("sha256")))
        else:
            out.append(
                _(N_("Record {id}, version {v}")).format(id=item.get("id"), v=item.get("version"))
            )
            out.append(
                "  "
                + _(N_("SHA-256 of the stored document (canonical JSON): {h}")).format(
                    h=item.get("sha256")
                )
            )
        for e in chain["entries"]:
            out += _entry_lines(e, keys, translate)
        out.append("")
    out.append(_(N_("Keys that signed (compare the codes with the cards, out of band):")))
    for k in report["keys"]:
        role = _(N_("device")) if k["role"] == "device" else _(N_("HQ"))
        out.append(f"  {role}  {k['name']}  {k['short_code']}")
        out.append("    " + _(N_("fingerprint {fp}")).format(fp=k["fingerprint"]))
        out.append("    " + _(N_("Ed25519 public key {key}")).format(key=k["signing_key"]))
    out.append("")
    if problems:
        out.append(_(N_("NOT VERIFIED: the problems are listed with this report.")))
    else:
        out.append(_(N_("Verified: every entry's signature and chain link checks.")))
    out += [
        _(N_("To verify elsewhere: save this report with --json, then run")),
        "  python -m fieldkit.custody_verify report.json",
        _(
            N_(
                "(needs only Python and its 'cryptography' package),"
                " or by hand as in docs/custody.md."
            )
        ),
    ]
    return out


def _entry_lines(e: dict[str, Any], keys: dict[str, Any], _: Callable[[str], str]) -> list[str]:
    try:
        body = json.loads(e["body"])
    except ValueError:
        return ["  " + _(N_("(an entry that cannot be read)"))]
    actor = body.get("actor", {})
    k = keys.get(actor.get("fp"), {})
    who = (
        f"{_(N_('device')) if k.get('role') == 'device' else _(N_('HQ'))} {k.get('name')}"
        f" ({k.get('short_code')})"
        if k
        else _(N_("an unknown key"))
    )
    if actor.get("name"):
        who += " / " + actor["name"]
    event = str(body.get("event"))
    out = [
        f"  {body.get('seq')}. {body.get('time')}  {_(EVENT_TEXT.get(event, event))}",
        IND + _(N_("by {who}")).format(who=who),
    ]
    details = body.get("details", {})
    if details.get("backfilled"):
        out.append(
            IND + _(N_("recorded at the upgrade to the custody log, not at the event itself"))
        )
    if "bundle_hash" in details:
        out.append(
            IND
            + _(N_("bundle {seq}, hash {h}")).format(
                seq=details["bundle_seq"], h=details["bundle_hash"]
            )
        )
    elif "bundle_id" in details:
        out.append(
            IND
            + _(N_("bundle {seq}, id {id}")).format(
                seq=details["bundle_seq"], id=details["bundle_id"]
            )
        )
    if "device" in details:
        out.append(IND + _(N_("sent by device {fp}")).format(fp=details["device"]))
    if "hq" in details:
        out.append(IND + _(N_("receipt signed by HQ {fp}")).format(fp=details["hq"]))
    if "parent_sha256" in details:
        out.append(IND + _(N_("previous version's SHA-256 {h}")).format(h=details["parent_sha256"]))
    if "reason" in details:
        out.append(IND + _(N_("reason: {reason}")).format(reason=details["reason"]))
    if "derived_sha256" in details:
        stripped = " " + _(N_("(identifying metadata removed)")) if details.get("stripped") else ""
        out.append(
            IND
            + _(N_("copy written: SHA-256 {h}{stripped}")).format(
                h=details["derived_sha256"], stripped=stripped
            )
        )
    if "export_sha256" in details:
        out.append(
            IND
            + _(N_("export of {n} record versions, list hash {h}")).format(
                n=details.get("records"), h=details["export_sha256"]
            )
        )
    out.append(IND + _(N_("entry hash {h}")).format(h=e["hash"]))
    return out
