"""record delete, draft list, draft discard."""

from __future__ import annotations

import argparse
from typing import Any

from fieldkit.cli.context import Context
from fieldkit.cli.record_commands import opened
from fieldkit.cli.shared import say
from fieldkit.errors import Cancelled, UsageError
from fieldkit.i18n import N_, _, ngettext, status_label
from fieldkit.services.drafts import Draft, DraftService
from fieldkit.services.erase import delete_record
from fieldkit.services.records import RecordService


def register_record_delete(record_sub: Any, common: argparse.ArgumentParser) -> None:
    d = record_sub.add_parser(
        "delete",
        parents=[common],
        help=_("delete a record with its versions, attachments and drafts, for good"),
    )
    d.add_argument("id", help=_("record id (or a unique prefix of 6+ characters)"))
    d.add_argument("--yes", action="store_true", help=_("do not ask for confirmation"))
    d.set_defaults(func=cmd_record_delete)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    dr = sub.add_parser("draft", parents=[common], help=_("editor drafts: list, discard"))
    ds = dr.add_subparsers(dest="draft_cmd", required=True, metavar="{list,discard}")
    ls = ds.add_parser("list", parents=[common], help=_("unsaved editor drafts"))
    ls.set_defaults(func=cmd_draft_list)
    dd = ds.add_parser("discard", parents=[common], help=_("throw a draft away"))
    dd.add_argument("id", help=_("draft id (or a unique prefix of 6+ characters)"))
    dd.set_defaults(func=cmd_draft_discard)


def _confirm(ctx: Context, question: str, what: str) -> None:
    if ctx.args.yes:
        return
    if ctx.confirm(question, typed="DELETE"):
        return
    if not ctx.has_tty():
        raise UsageError(
            _("{action}: needs confirmation").format(action=_(what)),
            hint=N_("pass --yes to delete without asking"),
        )
    raise Cancelled(_("{action}: cancelled").format(action=_(what)))


def cmd_record_delete(ctx: Context) -> int:
    with opened(ctx) as vault:
        summary = RecordService(vault.db).summary(ctx.args.id)
        _confirm(
            ctx,
            _(
                "This deletes record {id} ({pseudonym}, status {status}) with every "
                "version, attachment and draft, for good."
            ).format(
                id=summary.id,
                pseudonym=summary.pseudonym[:80],
                status=status_label(summary.status),
            ),
            N_("record deletion"),
        )
        done = delete_record(vault.db, summary.id)
    attachments = ngettext("{n} attachment", "{n} attachments", done.attachments).format(
        n=done.attachments
    )
    drafts = ngettext("{n} draft", "{n} drafts", done.drafts).format(n=done.drafts)
    message = _("Deleted record {id} with {attachments} and {drafts}.").format(
        id=summary.id, attachments=attachments, drafts=drafts
    )
    say(ctx, message, {"id": summary.id, "attachments": done.attachments, "drafts": done.drafts})
    return 0


def cmd_draft_list(ctx: Context) -> int:
    with opened(ctx) as vault:
        drafts = DraftService(vault.db).all()
    if ctx.as_json:
        ctx.emit_json([_draft_json(d) for d in drafts])
        return 0
    for d in drafts:
        ctx.out(f"{d.id}  {d.updated_at}  {_of(d)}  {_pseudonym(d)[:80]}")
    if not drafts:
        ctx.out(_("No drafts."))
    return 0


def cmd_draft_discard(ctx: Context) -> int:
    with opened(ctx) as vault:
        service = DraftService(vault.db)
        draft_id = service.resolve(ctx.args.id)
        service.discard(draft_id)
    # Locking checkpoints and truncates the WAL; secure_delete overwrote the row.
    say(ctx, _("Discarded draft {id}.").format(id=draft_id), {"id": draft_id, "discarded": True})
    return 0


def _of(d: Draft) -> str:
    if d.gone_record_id is not None:
        return _("edit of deleted record {id}").format(id=d.gone_record_id)
    if d.record_id is None:
        return _("new record")
    return _("edit of {id}").format(id=d.record_id)


def _pseudonym(d: Draft) -> str:
    value = d.doc.get("pseudonym", "") if isinstance(d.doc, dict) else ""
    return value if isinstance(value, str) else ""


def _draft_json(d: Draft) -> dict[str, Any]:
    return {
        "id": d.id,
        "record_id": d.record_id,
        "deleted_record_id": d.gone_record_id,
        "updated_at": d.updated_at,
        "pseudonym": _pseudonym(d),
    }
