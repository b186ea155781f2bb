"""HQ at its desk: hq show, hq extract, hq extractions, hq stats, and the filter options
that hq export and hq stats share."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from fieldkit.cli import media_text
from fieldkit.cli.context import Context
from fieldkit.cli.record_commands import attachment_json, opened
from fieldkit.cli.shared import say
from fieldkit.i18n import _, ngettext
from fieldkit.services import extraction, hq_view, identity, model, stats
from fieldkit.services.hq_query import SCOPES, Filters


def register(hs: Any, common: argparse.ArgumentParser) -> None:
    sh = hs.add_parser("show", parents=[common], help=_("read one received record"))
    sh.add_argument("id", help=_("record id (or a unique prefix of 6+ characters)"))
    sh.add_argument("--version", type=int, help=_("an earlier version"))
    sh.add_argument("--width", type=int, help=_("wrap at this many columns (default: terminal)"))
    sh.set_defaults(func=cmd_show)

    x = hs.add_parser(
        "extract",
        parents=[common],
        help=_("write an attachment out, with a reason that is logged"),
    )
    x.add_argument("attachment", metavar="ATT", help=_("attachment id (or a 6+ character prefix)"))
    x.add_argument("--out", required=True, metavar="PATH")
    x.add_argument(
        "--reason",
        required=True,
        help=_("why it leaves the vault (kept in the vault's extraction log; no testimony)"),
    )
    x.add_argument("--force", action="store_true", help=_("replace PATH if it exists"))
    x.add_argument(
        "--original",
        action="store_true",
        help=_(
            "write the bit-exact original, with its metadata (GPS position, camera serial, "
            "author, ...); by default the copy is stripped of it"
        ),
    )
    x.set_defaults(func=cmd_extract)

    lg = hs.add_parser("extractions", parents=[common], help=_("the log of extracted attachments"))
    lg.set_defaults(func=cmd_extractions)

    st = hs.add_parser("stats", parents=[common], help=_("incident counts as bar charts"))
    add_filters(st)
    st.add_argument("--scope", choices=sorted(SCOPES), default="hq")
    st.add_argument("--csv", metavar="FILE", help=_("also write the counts as a table (CSV)"))
    st.add_argument("--bom", action="store_true", help=_("start the CSV with a UTF-8 BOM (Excel)"))
    st.add_argument("--width", type=int, help=_("chart width in columns (default: terminal)"))
    st.set_defaults(func=cmd_stats)


def add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help=_("incidents from"))
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help=_("incidents until"))
    p.add_argument("--device", metavar="NAME", help=_("records sent by the device of this name"))
    p.add_argument("--country", metavar="CC", help=_("incidents in this country (two letters)"))
    p.add_argument(
        "--type",
        dest="incident_type",
        choices=sorted(model.INCIDENT_TYPES),
        metavar="INCIDENT_TYPE",
        help=_("incidents of this type"),
    )


def filters_of(args: argparse.Namespace) -> Filters:
    return Filters(
        args.date_from, args.date_to, args.device, args.country, args.incident_type
    ).checked()


def _width(ctx: Context) -> int:
    given = getattr(ctx.args, "width", None)
    if given:
        return max(40, min(int(given), 1000))
    return max(40, min(shutil.get_terminal_size((80, 24)).columns, 120))


def cmd_show(ctx: Context) -> int:
    with opened(ctx) as vault:
        identity.hq(vault.db)
        view = hq_view.record_view(vault.db, ctx.args.id, ctx.args.version)
    secs = hq_view.sections(view)
    if ctx.as_json:
        ctx.emit_json(
            {
                "id": view.record.id,
                "version": view.record.version,
                "latest_version": view.latest_version,
                "device_name": view.device_name,
                "device": view.device_code,
                "sections": [
                    {
                        "title": str(s.title),
                        "fields": [
                            {"label": f.label, "value": str(f.value), "multiline": f.multiline}
                            for f in s.fields
                        ],
                    }
                    for s in secs
                ],
                "attachments": [
                    {
                        **attachment_json(a),
                        "metadata": media_text.as_json(view.findings[a.id]),
                    }
                    for a in view.attachments
                ],
            }
        )
        return 0
    # Titles, labels and our words (yes, a role) are msgids: JSON keeps them English,
    # the text is translated; the record's own values stay as stored.
    for line in hq_view.text_lines(secs, _width(ctx), _):
        ctx.out(line)
    return 0


def cmd_extract(ctx: Context) -> int:
    out = Path(ctx.args.out)
    reason = extraction.check_reason(ctx.args.reason)  # before the passphrase is asked
    with opened(ctx) as vault:
        done = extraction.extract(
            vault.db,
            ctx.args.attachment,
            out,
            reason,
            original=ctx.args.original,
            overwrite=ctx.args.force,
        )
    row = done.row
    ctx.info(_("this copy is NOT encrypted; the extraction and its reason are logged"))
    if done.stripped:
        if done.found.identifying:
            ctx.info(
                _("removed from the copy: {what}").format(
                    what=", ".join(_(label) for label in media_text.labels(done.found))
                )
            )
        else:
            ctx.info(_("the original carries no identifying metadata fieldkit can read"))
        if done.format == "JPEG":
            ctx.info(_("the photo was re-encoded with its own quality settings to drop it"))
        text = ngettext(
            "{name}: a copy without identifying metadata ({n} byte) written to {path}",
            "{name}: a copy without identifying metadata ({n} bytes) written to {path}",
            done.size,
        )
    else:
        for line in media_text.lines(done.found, _("The original carries:")):
            ctx.info(line)
        text = ngettext(
            "{name} ({n} byte, hash checked) written to {path}",
            "{name} ({n} bytes, hash checked) written to {path}",
            done.size,
        )
    say(
        ctx,
        text.format(name=row.filename, n=done.size, path=out),
        {
            "path": str(out),
            **attachment_json(row),
            "stripped": done.stripped,
            "copy_sha256": done.sha256.hex(),
            "copy_size": done.size,
            "metadata": media_text.as_json(done.found),
        },
    )
    return 0


def cmd_extractions(ctx: Context) -> int:
    with opened(ctx) as vault:
        rows = extraction.log(vault.db)
    if ctx.as_json:
        ctx.emit_json(
            [
                {
                    "at": e.at,
                    "attachment_id": e.attachment_id,
                    "record_id": e.record_id,
                    "sha256": e.sha256.hex(),
                    "reason": e.reason,
                    "outcome": e.outcome,
                    "copy": e.copy,
                    "copy_sha256": e.copy_sha256.hex() if e.copy_sha256 is not None else None,
                }
                for e in rows
            ]
        )
        return 0
    if not rows:
        ctx.out(_("No attachment was extracted."))
    for e in rows:
        outcome = e.outcome
        if e.copy == "stripped":
            outcome = _("written (stripped copy)")
        elif e.copy == "original":
            outcome = _("written (unaltered original)")
        ctx.out(
            _("{at}  {attachment}  record {record}  {outcome}").format(
                at=e.at, attachment=e.attachment_id[:12], record=e.record_id[:12], outcome=outcome
            )
        )
        ctx.out("  " + _("reason: {reason}").format(reason=e.reason))
    return 0


def cmd_stats(ctx: Context) -> int:
    filters = filters_of(ctx.args)
    with opened(ctx) as vault:
        st = stats.count(vault.db, filters, ctx.args.scope)
    if ctx.args.csv:
        stats.write_csv(st, Path(ctx.args.csv), bom=ctx.args.bom)
        ctx.info(_("counts written to {path} (not encrypted)").format(path=ctx.args.csv))
    if ctx.as_json:
        ctx.emit_json(
            {
                "records": st.records,
                "incidents": st.incidents,
                **{dim: dict(st.rows(dim)) for dim in stats.DIMENSIONS},
            }
        )
        return 0
    for line in stats.chart_lines(st, _width(ctx), _, ngettext):
        ctx.out(line)
    return 0
