"""record template/add/list/show/edit, search, history verify (record delete: erase_commands)."""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator
from typing import Any

from fieldkit.cli.context import Context
from fieldkit.errors import IntegrityError, InvalidInput
from fieldkit.services import delivery, model
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
    rec = sub.add_parser("record", parents=[common], help="add, list, show and edit records")
    rs = rec.add_subparsers(
        dest="record_cmd", required=True, metavar="{template,add,list,show,edit,history,delete}"
    )
    t = rs.add_parser("template", parents=[common], help="print a complete example record (JSON)")
    t.set_defaults(func=cmd_template, needs_vault=False)

    a = rs.add_parser("add", parents=[vault_opts], help="add a record from JSON; prints its id")
    a.add_argument(
        "--json",
        dest="json_source",
        metavar="FILE|-",
        required=True,
        help="the record as JSON, from FILE or - (stdin)",
    )
    a.set_defaults(func=cmd_add)

    ls = rs.add_parser("list", parents=[common], help="list records")
    _filters(ls)
    ls.add_argument("--sort", choices=sorted(SORT_COLUMNS), default="updated")
    ls.add_argument("--limit", type=int, default=1000)
    ls.set_defaults(func=cmd_list)

    sh = rs.add_parser("show", parents=[common], help="show one record")
    sh.add_argument("id", help="record id (or a unique prefix of 6+ characters)")
    sh.add_argument("--version", type=int, help="an earlier version")
    sh.set_defaults(func=cmd_show)

    ed = rs.add_parser("edit", parents=[vault_opts], help="save a new version of a record")
    ed.add_argument("id")
    ed.add_argument("--json", dest="json_source", metavar="FILE|-", required=True)
    ed.set_defaults(func=cmd_edit)

    hi = rs.add_parser("history", parents=[common], help="a record's edit history")
    hi.add_argument("id")
    hi.set_defaults(func=cmd_record_history)

    from fieldkit.cli import erase_commands  # it imports `opened` from here

    erase_commands.register_record_delete(rs, common)

    s = sub.add_parser("search", parents=[common], help="full-text search")
    s.add_argument(
        "query",
        nargs="?",
        help="words to find; omit it to type the query at a prompt, "
        "which keeps it out of shell history",
    )
    s.add_argument("--query-file", metavar="FILE|-", help="read the query from FILE or stdin")
    _filters(s)
    s.add_argument("--limit", type=int, default=100)
    s.set_defaults(func=cmd_search)

    h = sub.add_parser("history", parents=[common], help="edit-history tools")
    hs = h.add_subparsers(dest="history_cmd", required=True, metavar="verify")
    v = hs.add_parser(
        "verify",
        parents=[common],
        help="check the hash chain against every stored record and attachment",
    )
    v.add_argument(
        "--attachments",
        action="store_true",
        help="also re-hash every attachment's content (slow for large files)",
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
    vault = Vault.unlock(ctx.vault_dir, ctx.passphrase())
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
        ctx.out(f"{record_id} version {version}")
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
            f"this is 'record show' output of record {doc['id']}, not {record_id}",
            hint="edit the record it came from, or show this one",
        )
    if doc["version"] != latest:
        raise InvalidInput(
            f"this is version {doc['version']} of the record; it is at version {latest} now",
            hint=f"show the record again ('fieldkit record show {record_id} --json') and "
            "make the change there, so the edits since are kept",
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
    _print_summaries(ctx, rows, states)
    return 0


def cmd_search(ctx: Context) -> int:
    query = ctx.args.query
    if query is None:
        if ctx.args.query_file is not None:
            query = ctx.read_text_input(ctx.args.query_file, "query", MAX_QUERY)
        else:
            query = ctx.read_secret("search query", None, prompt="Search for: ")
    if len(query) > MAX_QUERY:
        raise InvalidInput(f"the query is longer than {MAX_QUERY} characters")
    with opened(ctx) as vault:
        rows = RecordService(vault.db).search(
            query,
            status=ctx.args.status,
            incident_type=ctx.args.incident_type,
            risk=ctx.args.risk,
            limit=ctx.args.limit,
        )
        states = _delivery(vault, rows)
    _print_summaries(ctx, rows, states)
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
                "attachments": [attachment_json(a) for a in atts],
            }
        )
        return 0
    ctx.out(f"Record {rec.id}  version {rec.version} of {summary.version}  status {summary.status}")
    if state is not None:
        ctx.out(f"Delivery: {state.label()}")
    ctx.out(f"Created {rec.created_at}  updated {rec.updated_at}")
    for a in atts:
        ctx.out(f"Attachment {a.id}  {a.media_type}  {a.size} bytes  sha256 {a.sha256.hex()}")
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
        ctx.out(f"History intact: {report.entries} entries, every record and attachment matches.")
    else:
        for problem in report.problems:
            ctx.info(f"fieldkit: problem: {problem}")
    if not report.ok:
        raise IntegrityError(
            f"the edit history does not match the vault ({len(report.problems)} problem(s))"
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


def _print_summaries(
    ctx: Context, rows: list[RecordSummary], states: dict[str, delivery.DeliveryState]
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
                }
                for r in rows
            ]
        )
        return
    if not rows:
        ctx.out("No records.")
        return
    w = delivery.SHORT_WIDTH
    deliv = f"{'DELIVERY':<{w}} " if states else ""
    ctx.out(
        f"{'ID':<12} {'STATUS':<9} {deliv}{'INTERVIEW':<10} {'RISK':<8} "
        f"{'PSEUDONYM':<20} INCIDENTS"
    )
    for r in rows:
        deliv = f"{states[r.id].short():<{w}} " if states else ""
        ctx.out(
            f"{r.id[:12]:<12} {r.status:<9} {deliv}"
            f"{r.interview_date or '-':<10} {r.risk:<8} "
            f"{r.pseudonym[:20]:<20} {', '.join(r.incident_types)}"
        )

