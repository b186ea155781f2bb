"""attach, attachment list/extract/describe/remove."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fieldkit.cli import media_text
from fieldkit.cli.context import Context
from fieldkit.cli.progress import reporter
from fieldkit.cli.record_commands import attachment_json, opened
from fieldkit.errors import UsageError
from fieldkit.i18n import N_, _
from fieldkit.services import media
from fieldkit.services.attachments import MAX_DESCRIPTION, AttachmentService


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    a = sub.add_parser("attach", parents=[common], help=_("add a file to a record"))
    a.add_argument("id", help=_("record id"))
    a.add_argument("file", help=_("the file to store (audio, photo of a document, ...)"))
    a.add_argument(
        "--description-file",
        metavar="FILE|-",
        help=_("read a description from FILE or stdin (kept out of argv and history)"),
    )
    a.add_argument("--media-type", help=_("e.g. audio/ogg; guessed from the name if omitted"))
    a.set_defaults(func=cmd_attach)

    at = sub.add_parser("attachment", parents=[common], help=_("work with stored attachments"))
    ats = at.add_subparsers(
        dest="attachment_cmd", required=True, metavar="{list,show,extract,describe,remove}"
    )
    ls = ats.add_parser("list", parents=[common], help=_("a record's attachments"))
    ls.add_argument("id", help=_("record id"))
    ls.set_defaults(func=cmd_list)
    sh = ats.add_parser(
        "show",
        parents=[common],
        help=_("one attachment, with the identifying metadata its file carries"),
    )
    sh.add_argument("attachment_id")
    sh.set_defaults(func=cmd_show)
    ex = ats.add_parser(
        "extract", parents=[common], help=_("write a plaintext copy to a path you name")
    )
    ex.add_argument("attachment_id")
    ex.add_argument("--out", required=True, metavar="PATH")
    ex.add_argument("--force", action="store_true", help=_("replace PATH if it exists"))
    ex.set_defaults(func=cmd_extract)
    de = ats.add_parser("describe", parents=[common], help=_("set an attachment's description"))
    de.add_argument("attachment_id")
    de.add_argument("--description-file", metavar="FILE|-", required=True)
    de.set_defaults(func=cmd_describe)
    rm = ats.add_parser("remove", parents=[common], help=_("delete an attachment"))
    rm.add_argument("attachment_id")
    rm.set_defaults(func=cmd_remove)


def cmd_attach(ctx: Context) -> int:
    description = ""
    if ctx.args.description_file:
        description = ctx.read_text_input(
            ctx.args.description_file, N_("description"), MAX_DESCRIPTION
        )
    with opened(ctx) as vault:
        row = AttachmentService(vault.db).add(
            ctx.args.id,
            Path(ctx.args.file),
            description=description,
            media_type=ctx.args.media_type,
            progress=reporter(ctx, _("stored")),
        )
        # Read back from the vault's copy: what is shown is what HQ will receive.
        found = media.inspect_attachment(vault.db, row)
    if ctx.as_json:
        ctx.emit_json({**attachment_json(row), "metadata": media_text.as_json(found)})
    else:
        ctx.out(row.id)
        ctx.info(
            _("stored {size} bytes, sha256 {sha256}").format(size=row.size, sha256=row.sha256.hex())
        )
        for line in media_text.intake_lines(found):
            ctx.info(line)
    return 0


def cmd_list(ctx: Context) -> int:
    with opened(ctx) as vault:
        rows = AttachmentService(vault.db).for_record(ctx.args.id)
    if ctx.as_json:
        ctx.emit_json([attachment_json(r) for r in rows])
    elif not rows:
        ctx.out(_("No attachments."))
    else:
        for r in rows:
            ctx.out(f"{r.id}  {r.media_type:<24} {r.size:>12}  {r.sha256.hex()[:16]}  {r.filename}")
    return 0


def cmd_show(ctx: Context) -> int:
    with opened(ctx) as vault:
        row = AttachmentService(vault.db).get(ctx.args.attachment_id)
        found = media.inspect_attachment(vault.db, row)
    if ctx.as_json:
        ctx.emit_json({**attachment_json(row), "metadata": media_text.as_json(found)})
        return 0
    ctx.out(
        _("{id}  {type}  {size} bytes  SHA-256 {sha256}").format(
            id=row.id, type=row.media_type, size=row.size, sha256=row.sha256.hex()
        )
    )
    ctx.out(row.filename)
    if row.description:
        ctx.out(row.description)
    for line in media_text.lines(found):
        ctx.out(line)
    return 0


def cmd_extract(ctx: Context) -> int:
    out = Path(ctx.args.out)
    with opened(ctx) as vault:
        if vault.kind == "hq":  # at HQ every extraction is logged with its reason
            raise UsageError(
                _("at HQ an attachment leaves the vault with a reason that is logged"),
                hint=_("use 'fieldkit hq extract ATT --out PATH --reason TEXT'"),
            )
        row = AttachmentService(vault.db).extract(
            ctx.args.attachment_id,
            out,
            overwrite=ctx.args.force,
            progress=reporter(ctx, _("written")),
        )
    if ctx.as_json:
        ctx.emit_json({**attachment_json(row), "path": str(out)})
    else:
        ctx.out(str(out))
        ctx.info(_("this copy is NOT encrypted; delete it when you no longer need it"))
    return 0


def cmd_describe(ctx: Context) -> int:
    text = ctx.read_text_input(ctx.args.description_file, N_("description"), MAX_DESCRIPTION)
    with opened(ctx) as vault:
        row = AttachmentService(vault.db).describe(ctx.args.attachment_id, text)
    if ctx.as_json:
        ctx.emit_json(attachment_json(row))
    else:
        ctx.out(_("{id} described").format(id=row.id))
    return 0


def cmd_remove(ctx: Context) -> int:
    with opened(ctx) as vault:
        AttachmentService(vault.db).remove(ctx.args.attachment_id)
    if ctx.as_json:
        ctx.emit_json({"ok": True})
    else:
        ctx.out(_("removed"))
    return 0
