"""A record that lacks recorded consent is not exported until the fieldworker confirms
(issue 10): the service holds it back with every pending version and attachment and says
so; the CLI asks at a terminal (a real pty), refuses without one (exit 13) unless told
which way to go; what was held back stays owed to HQ (delivery state) and travels whole
once confirmed; withdrawn consent keeps reaching HQ."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from fieldkit.services import delivery, hq_import, model
from fieldkit.services import export as export_svc
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from tests.bundle_fixtures import Pair, make_pair
from tests.conftest import PASSPHRASE, cli
from tests.pty_driver import PtyProcess, run_at_terminal


def _doc(name: str, obtained: bool | None) -> dict[str, Any]:
    d = model.template()
    d["pseudonym"] = name
    d["consent"]["obtained"] = obtained
    if obtained is not True:
        d["consent"].update(method="", obtained_on=None, obtained_by="")
    return d


def _carried(pair: Pair, out: Path) -> dict[str, list[int]]:
    """Record id -> versions a bundle carries, as HQ reads them."""
    hq_import.import_bundle(pair.hq.db, out)
    held: dict[str, list[int]] = {}
    for rid, v in pair.hq.db.all("SELECT record_id, version FROM record_versions"):
        held.setdefault(str(rid), []).append(int(v))
    return held


def test_records_lacking_consent_are_held_back_whole_and_named(pair: Pair) -> None:
    rs = RecordService(pair.field.db)
    ok = rs.add(_doc("Has consent", True))
    unknown = rs.add(_doc("Not recorded", None))
    refused = rs.add(_doc("Not obtained", False))
    rs.edit(unknown, _doc("Not recorded, v2", None))  # two versions owed
    AttachmentService(pair.field.db).add_stream(
        unknown, io.BytesIO(b"scan"), filename="scan.jpg", media_type="image/jpeg"
    )
    plan = export_svc.plan(pair.field.db)
    assert [(h.id, h.pseudonym) for h in plan.held] == [
        (unknown, "Not recorded, v2"),
        (refused, "Not obtained"),
    ]
    assert plan.records == [(ok, 1)] and plan.attachments == []

    out = pair.tmp / "1.fkb"
    res = export_svc.export(pair.field.db, out)
    assert res is not None and res.records == 1 and res.attachments == 0
    assert {h.id for h in res.held} == {unknown, refused} and res.included_without_consent == ()
    assert _carried(pair, out) == {ok: [1]}
    # Held back is not sent, and owes HQ all it did: nothing is lost or marked delivered.
    states = delivery.states(pair.field.db, [rs.summary(unknown), rs.summary(refused)])
    assert {s.kind for s in states.values()} == {"not_sent"}

    # Consent recorded since: the next export carries the record whole.
    fixed = rs.get(refused).doc
    fixed["consent"].update(obtained=True, method="oral")
    rs.edit(refused, fixed)
    out2 = pair.tmp / "2.fkb"
    res2 = export_svc.export(pair.field.db, out2)
    assert res2 is not None and [h.id for h in res2.held] == [unknown]
    assert _carried(pair, out2)[refused] == [1, 2]

    # Confirmed: included, with both versions and the attachment, and said so.
    out3 = pair.tmp / "3.fkb"
    res3 = export_svc.export(pair.field.db, out3, include_without_consent=True)
    assert res3 is not None and res3.held == ()
    assert [h.id for h in res3.included_without_consent] == [unknown]
    assert res3.attachments == 1
    assert _carried(pair, out3)[unknown] == [1, 2]
    assert export_svc.export(pair.field.db, pair.tmp / "4.fkb") is None


def test_only_records_lacking_consent_means_nothing_to_export(pair: Pair) -> None:
    rid = RecordService(pair.field.db).add(_doc("Alone", None))
    assert export_svc.export(pair.field.db, pair.tmp / "x.fkb") is None
    assert not (pair.tmp / "x.fkb").exists()
    assert [h.id for h in export_svc.plan(pair.field.db).held] == [rid]


def test_a_new_attachment_of_a_delivered_record_lacking_consent_is_held_too(pair: Pair) -> None:
    rs = RecordService(pair.field.db)
    rid = rs.add(_doc("Sent once", None))
    assert export_svc.export(pair.field.db, pair.tmp / "1.fkb", include_without_consent=True)
    AttachmentService(pair.field.db).add_stream(
        rid, io.BytesIO(b"later"), filename="later.jpg", media_type="image/jpeg"
    )
    plan = export_svc.plan(pair.field.db)
    assert plan.empty and [h.id for h in plan.held] == [rid]


def test_withdrawn_consent_still_reaches_hq_that_has_the_record(pair: Pair) -> None:
    """Unchanged behaviour: a withdrawal must reach HQ, which then leaves the record out
    of every analysis export; a record HQ never had is held back as any other."""
    rs = RecordService(pair.field.db)
    sent = rs.add(_doc("Sent, then withdrawn", None))
    assert export_svc.export(pair.field.db, pair.tmp / "1.fkb", include_without_consent=True)
    d = rs.get(sent).doc
    d["consent"].update(withdrawn=True, withdrawn_on="2026-06-01")
    rs.edit(sent, d)
    never = rs.add(dict(_doc("Never sent, withdrawn", None)))
    d2 = rs.get(never).doc
    d2["consent"].update(withdrawn=True)
    rs.edit(never, d2)
    plan = export_svc.plan(pair.field.db)
    assert plan.records == [(sent, 2)]
    assert [h.id for h in plan.held] == [never]


def test_sql_and_model_agree_on_lacking_consent(pair: Pair) -> None:
    rs = RecordService(pair.field.db)
    ids = {rs.add(_doc(str(o), o)): o for o in (True, False, None)}
    assert rs.lacking_consent(list(ids)) == {rid for rid, o in ids.items() if o is not True}
    for rid in ids:
        assert (rid in rs.lacking_consent([rid])) == model.lacks_consent(rs.get(rid).doc)


# ---- the CLI -------------------------------------------------------------------------


@pytest.fixture
def cli_pair(tmp_path: Path) -> tuple[list[str], Path]:
    p = make_pair(tmp_path)
    rs = RecordService(p.field.db)
    rs.add(_doc("Has consent", True))
    rs.add(_doc("Witness [b]X[/b] \u202eevil", None))
    p.field.lock()
    p.hq.lock()
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    return ["--vault", str(tmp_path / "field"), "--passphrase-file", str(pf)], tmp_path


def _versions_exported(tmp: Path) -> int:
    with Vault.unlock(tmp / "field", PASSPHRASE) as v:
        return int(v.db.scalar("SELECT count(*) FROM export_items WHERE kind='record'"))


def test_cli_without_a_terminal_refuses_and_exports_nothing(
    cli_pair: tuple[list[str], Path],
) -> None:
    opts, tmp = cli_pair
    out = tmp / "b.fkb"
    r = cli(["export", "--out", str(out), *opts])
    assert r.code == 13, r.err
    lines = r.err.strip().splitlines()
    assert lines[0] == (
        "fieldkit: error: 1 record to export lacks recorded consent, and there is no "
        "terminal to ask on"
    )
    assert lines[1].startswith("fieldkit: hint: ") and "--include-without-consent" in lines[1]
    assert not out.exists() and _versions_exported(tmp) == 0
    # --dry-run says what would be held back, and asks nothing.
    dry = cli(["export", "--out", str(out), "--dry-run", "--json", *opts])
    assert dry.code == 0 and dry.json()["records"] == 1
    assert len(dry.json()["held_without_consent"]) == 1 and "HELD BACK" in dry.err


def test_cli_hold_flag_exports_the_rest_and_says_so_loudly(
    cli_pair: tuple[list[str], Path],
) -> None:
    opts, tmp = cli_pair
    r = cli(["export", "--out", str(tmp / "b.fkb"), "--hold-without-consent", "--json", *opts])
    assert r.code == 0, r.err
    assert r.json()["records"] == 1 and len(r.json()["held_without_consent"]) == 1
    assert "fieldkit: warning: HELD BACK: 1 record lacks recorded consent" in r.err
    # The pseudonym is shown literally: markup as text, the bidi override escaped.
    assert "Witness [b]X[/b] \\u202eevil" in r.err and "\u202e" not in r.err
    inc = cli(["export", "--out", str(tmp / "c.fkb"), "--include-without-consent", *opts])
    assert inc.code == 0, inc.err
    assert "Included as you confirmed: 1 record that lacks recorded consent." in inc.out
    assert _versions_exported(tmp) == 2
    both = cli(["export", "--out", str(tmp / "d"), "--hold-without-consent",
                "--include-without-consent", *opts])  # fmt: skip
    assert both.code == 2


def test_cli_asks_at_a_real_terminal_no_holds_back(cli_pair: tuple[list[str], Path]) -> None:
    opts, tmp = cli_pair
    code, screen = run_at_terminal(
        ["export", "--out", str(tmp / "b.fkb"), *opts], [("to continue:", "no")]
    )
    assert code == 0, screen
    assert "1 record to export lacks recorded consent" in screen
    assert "Witness [b]X[/b] \\u202eevil" in screen and "Export them anyway?" in screen
    assert "HELD BACK" in screen and "Bundle 1: 1 record" in screen
    assert _versions_exported(tmp) == 1


def test_cli_asks_at_a_real_terminal_yes_includes(cli_pair: tuple[list[str], Path]) -> None:
    opts, tmp = cli_pair
    code, screen = run_at_terminal(
        ["export", "--out", str(tmp / "b.fkb"), *opts], [("to continue:", "yes")]
    )
    assert code == 0, screen
    assert "Included as you confirmed" in screen and "HELD BACK" not in screen
    assert _versions_exported(tmp) == 2


def test_cli_ctrl_d_at_the_question_cancels_everything(
    cli_pair: tuple[list[str], Path],
) -> None:
    opts, tmp = cli_pair
    p = PtyProcess(["export", "--out", str(tmp / "b.fkb"), *opts])
    p.expect("to continue:")
    p.send_key(b"\x04")
    assert p.finish() == 12, p.output
    assert "Traceback" not in p.output
    assert not (tmp / "b.fkb").exists() and _versions_exported(tmp) == 0


def test_cli_list_marks_records_lacking_consent(cli_pair: tuple[list[str], Path]) -> None:
    opts, _ = cli_pair
    r = cli(["record", "list", *opts])
    lines = r.out.splitlines()
    marked = [line for line in lines[1:-1] if " ! " in line]
    assert len(marked) == 1 and "Witness" in marked[0]
    assert lines[-1].startswith("! consent not recorded or not obtained")
    js = cli(["record", "list", "--json", *opts]).json()
    assert sorted(x["lacks_consent"] for x in js) == [False, True]
