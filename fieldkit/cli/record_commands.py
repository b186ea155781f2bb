"""record template/add/list/show/edit, search, history verify (record delete: erase_commands)."""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator
from typing import Any

from fieldkit.cli.context import Context
from fieldkit.cli.progress import upgrade_reporter
from fieldkit.errors import IntegrityError, InvalidInput
from fieldkit.i18n import N_, _, code_label, ngettext, status_label
from fieldkit.services import delivery, hq_view, model
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.history import verify
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.store.attachments import AttachmentRow
from fieldkit.store.records import SORT_COLUMNS, RecordSummary

MAX_QUERY = 1000


def register(
    sub: Any, common: argparse.ArgumentParser, vault_opts: argparse.ArgumentParser
) -> None:
    rec = sub.add_parser("record", parents=[common], help=_("add, list, show and edit records"))
    rs = rec.add_subparsers(
        dest="record_cmd", required=True, metavar="{template,add,list,show,edit,history,delete}"
    )
    t = rs.add_parser(
        "template", parents=[common], help=_("print a complete example record (JSON)")
    )
    t.set_defaults(func=cmd_template, needs_vault=False)

    a = rs.add_parser("add", parents=[vault_opts], help=_("add a record from JSON; prints its id"))
    a.add_argument(
        "--json",
        dest="json_source",
        metavar="FILE|-",
        required=True,
        help=_("the record as JSON, from FILE or - (stdin)"),
    )
    a.set_defaults(func=cmd_add)

    ls = rs.add_parser("list", parents=[common], help=_("list records"))
    _filters(ls)
    ls.add_argument("--sort", choices=sorted(SORT_COLUMNS), default="updated")
    ls.add_argument("--limit", type=int, default=1000)
    ls.set_defaults(func=cmd_list)

    sh = rs.add_parser("show", parents=[common], help=_("show one record"))
    sh.add_argument("id", help=_("record id (or a unique prefix of 6+ characters)"))
    sh.add_argument("--version", type=int, help=_("an earlier version"))
    sh.set_defaults(func=cmd_show)

    ed = rs.add_parser("edit", parents=[vault_opts], help=_("save a new version of a record"))
    ed.add_argument("id")
    ed.add_argument("--json", dest="json_source", metavar="FILE|-", required=True)
    ed.set_defaults(func=cmd_edit)

    hi = rs.add_parser("history", parents=[common], help=_("a record's edit history"))
    hi.add_argument("id")
    hi.set_defaults(func=cmd_record_history)

    from fieldkit.cli import erase_commands  # it imports `opened` from here

    erase_commands.register_record_delete(rs, common)

    s = sub.add_parser("search", parents=[common], help=_("full-text search"))
    s.add_argument(
        "query",
        nargs="?",
        help=_(
            "words to find; omit it to type the query at a prompt, "
            "which keeps it out of shell history"
        ),
    )
    s.add_argument("--query-file", metavar="FILE|-", help=_("read the query from FILE or stdin"))
    _filters(s)
    s.add_argument("--limit", type=int, default=100)
    s.set_defaults(func=cmd_search)

    h = sub.add_parser("history", parents=[common], help=_("edit-history tools"))
    hs = h.add_subparsers(dest="history_cmd", required=True, metavar="verify")
    v = hs.add_parser(
        "verify",
        parents=[common],
        help=_("check the hash chain against every stored record and attachment"),
    )
    v.add_argument(
        "--attachments",
        action="store_true",
        help=_("also re-hash every attachment's content (slow for large files)"),
    )
    v.set_defaults(func=cmd_history_verify)


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--status", choices=model.USER_STATUSES)
    p.add_argument(
        "--type",
        dest="incident_type",
        choices=sorted(model.INCIDENT_TYPES),
        metavar="INCIDENT_TYPE",
    )
    p.add_argument("--risk", choices=model.RISK_LEVELS)


@contextlib.contextmanager
def opened(ctx: Context) -> Iterator[Vault]:
    vault = Vault.unlock(ctx.vault_dir, ctx.passphrase(), on_upgrade=upgrade_reporter(ctx))
    try:
        yield vault
    finally:
        vault.lock()


def cmd_template(ctx: Context) -> int:
    ctx.emit_json(model.template())
    return 0


def cmd_add(ctx: Context) -> int:
    doc = ctx.read_json(ctx.args.json_source)
    with opened(ctx) as vault:
        record_id = RecordService(vault.db).add(doc)
    if ctx.as_json:
        ctx.emit_json({"id": record_id, "version": 1})
    else:
        ctx.out(record_id)
    return 0


def cmd_edit(ctx: Context) -> int:
    doc = ctx.read_json(ctx.args.json_source)
    with opened(ctx) as vault:
        service = RecordService(vault.db)
        record_id = service.resolve(ctx.args.id)
        doc = _unwrap_shown(doc, record_id, service.summary(record_id).version)
        version = service.edit(record_id, doc)
    if ctx.as_json:
        ctx.emit_json({"id": record_id, "version": version})
    else:
        ctx.out(_("{id} version {version}").format(id=record_id, version=version))
    return 0


# The keys of `record show --json`: its output, edited, can be given back to `record edit`.
_SHOWN_KEYS = frozenset({"id", "version", "latest_version", "record"})


def _unwrap_shown(doc: Any, record_id: str, latest: int) -> Any:
    """The record document inside `record show --json` output (a bare document is taken
    as it is). That output names its record and version: another record's, or an older
    version than the latest (saving it would undo the edits made since), is refused."""
    if not (isinstance(doc, dict) and _SHOWN_KEYS <= doc.keys()):
        return doc
    if doc["id"] != record_id:
        raise InvalidInput(
            _("this is 'record show' output of record {other}, not {id}").format(
                other=doc["id"], id=record_id
            ),
            hint=_("edit the record it came from, or show this one"),
        )
    if doc["version"] != latest:
        raise InvalidInput(
            _("this is version {old} of the record; it is at version {latest} now").format(
                old=doc["version"], latest=latest
            ),
            hint=_(
                "show the record again ('fieldkit record show {id} --json') and "
                "make the change there, so the edits since are kept"
            ).format(id=record_id),
        )
    return doc["record"]


def cmd_list(ctx: Context) -> int:
    with opened(ctx) as vault:
        rows = RecordService(vault.db).list_records(
            status=ctx.args.status,
            incident_type=ctx.args.incident_type,
            risk=ctx.args.risk,
            sort=ctx.args.sort,
            limit=ctx.args.limit,
        )
        states = _delivery(vault, rows)
        lacking = RecordService(vault.db).lacking_consent([r.id for r in rows])
    _print_summaries(ctx, rows, states, lacking)
    return 0


def cmd_search(ctx: Context) -> int:
    query = ctx.args.query
    if query is None:
        if ctx.args.query_file is not None:
            query = ctx.read_text_input(ctx.args.query_file, N_("query"), MAX_QUERY)
        else:
            query = ctx.read_secret(N_("search query"), None, prompt=_("Search for: "))
    if len(query) > MAX_QUERY:
        raise InvalidInput(_("the query is longer than {limit} characters").format(limit=MAX_QUERY))
    with opened(ctx) as vault:
        rows = RecordService(vault.db).search(
            query,
            status=ctx.args.status,
            incident_type=ctx.args.incident_type,
            risk=ctx.args.risk,
            limit=ctx.args.limit,
        )
        states = _delivery(vault, rows)
        lacking = RecordService(vault.db).lacking_consent([r.id for r in rows])
    _print_summaries(ctx, rows, states, lacking)
    return 0


def cmd_show(ctx: Context) -> int:
    with opened(ctx) as vault:
        records = RecordService(vault.db)
        rec = records.get(ctx.args.id, ctx.args.version)
        summary = records.summary(rec.id)
        atts = AttachmentService(vault.db).for_record(rec.id)
        state = _delivery(vault, [summary]).get(summary.id)
    if ctx.as_json:
        ctx.emit_json(
            {
                "id": rec.id,
                "version": rec.version,
                "latest_version": summary.version,
                "status": summary.status,
                **({"delivery": state.as_json()} if state else {}),
                "created_at": rec.created_at,
                "updated_at": rec.updated_at,
                "record": rec.doc,
                "stored_schema": rec.stored_schema,
                "lacks_consent": model.lacks_consent(rec.doc),
                "attachments": [attachment_json(a) for a in atts],
            }
        )
        return 0
    ctx.out(
        _("Record {id}  version {version} of {latest}  status {status}").format(
            id=rec.id,
            version=rec.version,
            latest=summary.version,
            status=status_label(summary.status),
        )
    )
    if state is not None:
        ctx.out(_("Delivery: {state}").format(state=state.label(_)))
    ctx.out(consent_line(rec.doc, field=state is not None))
    ctx.out(
        _("Created {created}  updated {updated}").format(
            created=rec.created_at, updated=rec.updated_at
        )
    )
    for a in atts:
        ctx.out(
            _("Attachment {id}  {type}  {size} bytes  sha256 {sha256}").format(
                id=a.id, type=a.media_type, size=a.size, sha256=a.sha256.hex()
            )
        )
    ctx.out(json.dumps(rec.doc, ensure_ascii=False, indent=2))
    return 0


def cmd_record_history(ctx: Context) -> int:
    with opened(ctx) as vault:
        entries = RecordService(vault.db).history(ctx.args.id)
    rows = [
        {
            "seq": e.seq,
            "at": e.at,
            "action": e.action,
            "version": e.version,
            "content_hash": e.content_hash.hex(),
            "entry_hash": e.entry_hash.hex(),
        }
        for e in entries
    ]
    if ctx.as_json:
        ctx.emit_json(rows)
    else:
        for r in rows:
            ctx.out(
                f"{r['seq']:>6}  {r['at']}  {r['action']:<16} v{r['version']}  "
                f"{str(r['entry_hash'])[:16]}"
            )
    return 0


def cmd_history_verify(ctx: Context) -> int:
    with opened(ctx) as vault:
        report = verify(vault.db, attachment_content=ctx.args.attachments)
    if ctx.as_json:
        ctx.emit_json({"ok": report.ok, "entries": report.entries, "problems": report.problems})
    elif report.ok:
        ctx.out(
            ngettext(
                "History intact: {n} entry, every record and attachment matches.",
                "History intact: {n} entries, every record and attachment matches.",
                report.entries,
            ).format(n=report.entries)
        )
    else:
        for problem in report.problems:
            ctx.info(_("fieldkit: problem: {problem}").format(problem=problem))
    if not report.ok:
        raise IntegrityError(
            ngettext(
                "the edit history does not match the vault ({n} problem)",
                "the edit history does not match the vault ({n} problems)",
                len(report.problems),
            ).format(n=len(report.problems))
        )
    return 0


def attachment_json(a: AttachmentRow) -> dict[str, Any]:
    return {
        "id": a.id,
        "record_id": a.record_id,
        "filename": a.filename,
        "media_type": a.media_type,
        "description": a.description,
        "size": a.size,
        "sha256": a.sha256.hex(),
        "added_at": a.added_at,
    }


def _delivery(vault: Vault, rows: list[RecordSummary]) -> dict[str, delivery.DeliveryState]:
    """Each record's delivery state on a field vault; nothing at HQ, which sends nothing."""
    return delivery.states(vault.db, rows) if vault.kind == "field" else {}


def consent_line(doc: dict[str, Any], *, field: bool = True) -> str:
    """Whether consent was obtained, how, when and by whom, as `record show` says it; a
    record lacking it is marked with '!' as in `record list`."""
    c = doc.get("consent") or {}
    if c.get("obtained") is True:
        # The label, not the code: the msgid "written" means bytes written.
        method = hq_view.METHOD_LABELS.get(c.get("method") or "", "?")
        parts = [_("obtained ({method})").format(method=_(method))]
        if c.get("obtained_on"):
            parts.append(_("on {date}").format(date=c["obtained_on"]))
        if c.get("obtained_by"):
            parts.append(_("by {name}").format(name=c["obtained_by"]))
        return _("Consent: {what}").format(what=", ".join(parts))
    what = _("NOT OBTAINED") if c.get("obtained") is False else _("NOT RECORDED")
    if not field:  # at HQ: nothing is exported from here
        return _("Consent: ! {what}").format(what=what)
    return _("Consent: ! {what} (export asks before sending this record)").format(what=what)


def _print_summaries(
    ctx: Context,
    rows: list[RecordSummary],
    states: dict[str, delivery.DeliveryState],
    lacking: set[str],
) -> None:
    if ctx.as_json:
        ctx.emit_json(
            [
                {
                    "id": r.id,
                    "version": r.version,
                    "status": r.status,
                    **({"delivery": states[r.id].as_json()} if states else {}),
                    "risk": r.risk,
                    "pseudonym": r.pseudonym,
                    "interview_date": r.interview_date,
                    "incident_types": list(r.incident_types),
                    "updated_at": r.updated_at,
                    "lacks_consent": r.id in lacking,
                }
                for r in rows
            ]
        )
        return
    if not rows:
        ctx.out(_("No records."))
        return
    w = delivery.SHORT_WIDTH
    # Column headings and labels are cut to their column so the table stays aligned in
    # every language; codes in INCIDENTS stay codes (they are what --type takes).
    head = {
        "id": _("ID")[:12],
        "status": _("STATUS")[:9],
        "delivery": _("DELIVERY")[:w],
        "interview": _("INTERVIEW")[:10],
        "risk": _("RISK")[:8],
        "pseudonym": _("PSEUDONYM")[:20],
        "incidents": _("INCIDENTS"),
    }
    deliv = f"{head['delivery']:<{w}} " if states else ""
    ctx.out(
        f"{head['id']:<12} {head['status']:<9} {deliv}{head['interview']:<10} "
        f"{head['risk']:<8} ! {head['pseudonym']:<20} {head['incidents']}"
    )
    for r in rows:
        deliv = f"{states[r.id].short(_)[:w]:<{w}} " if states else ""
        ctx.out(
            f"{r.id[:12]:<12} {status_label(r.status)[:9]:<9} {deliv}"
            f"{r.interview_date or '-':<10} {code_label(r.risk)[:8]:<8} "
            f"{'!' if r.id in lacking else ' '} "
            f"{r.pseudonym[:20]:<20} {', '.join(r.incident_types)}"
        )
    if lacking:
        ctx.out(
            _("! consent not recorded or not obtained: export asks before sending these")
            if states
            else _("! consent not recorded or not obtained")
        )
