"""What validation lets into a record: no control characters in single-line text,
only newline and tab in multi-line text, no lone surrogates, nothing larger than a
bundle's record section; and every error names its field, escaped."""

from __future__ import annotations

import io
from typing import Any

import pytest

from fieldkit.errors import InvalidInput
from fieldkit.formats import bundle
from fieldkit.formats.canonical import canonical_json
from fieldkit.services import model
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault

SINGLE_LINE = [
    "pseudonym",
    "interview.place",
    "interview.interviewer",
    "interview.interpreter",
    "persons.0.pseudonym",
    "persons.0.relationship",
    "persons.0.gender",
    "persons.0.sensitive.real_name",
    "incidents.0.type_other",
    "incidents.0.date.text",
    "incidents.0.place.locality",
    "incidents.0.perpetrator.unit",
    "incidents.0.legal.charge",
    "incidents.0.legal.court",
    "incidents.0.legal.case_number",
]
MULTI_LINE = [
    "narrative",
    "consent.notes",
    "incidents.0.description",
    "incidents.0.place.detail",
    "incidents.0.legal.outcome",
    "persons.0.sensitive.contacts",
    "persons.0.sensitive.exact_address",
]


def _with(path: str, value: str) -> dict[str, Any]:
    doc = model.template()
    node: Any = doc
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value
    return doc


def _refused(doc: dict[str, Any], path: str) -> str:
    with pytest.raises(InvalidInput) as exc:
        model.validate(doc)
    where = path.replace(".0.", "[0].")
    assert [w for w, _ in exc.value.problems] == [where], exc.value.problems
    return exc.value.message


CONTROLS = ["\x1b[2J", "\x07", "\x7f", "\x9b", "\x85", "\x00", "\r", "line\nbreak", "\t"]


@pytest.mark.parametrize("path", SINGLE_LINE)
@pytest.mark.parametrize("bad", CONTROLS, ids=repr)
def test_single_line_fields_refuse_every_control(path: str, bad: str) -> None:
    message = _refused(_with(path, f"K-7 {bad}"), path)
    assert "control character" in message


@pytest.mark.parametrize("path", MULTI_LINE)
def test_multi_line_fields_take_newline_and_tab_only(path: str) -> None:
    ok = model.validate(_with(path, "первая строка\n\tвторая"))
    node: Any = ok
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    assert node == "первая строка\n\tвторая"
    for bad in ("\x1b]0;title\x07", "\x7f", "\x9b", "a\rb", "\x00"):
        _refused(_with(path, f"text {bad}"), path)


@pytest.mark.parametrize("path", SINGLE_LINE + MULTI_LINE)
def test_lone_surrogates_are_refused_not_a_crash(path: str) -> None:
    message = _refused(_with(path, "K-7 \ud800"), path)
    assert "surrogate" in message


def test_a_hostile_field_name_is_escaped_in_the_error() -> None:
    doc = model.template()
    doc["\x1b]52;c;ZXZpbA==\x07\u202e" + "x" * 10_000] = 1
    with pytest.raises(InvalidInput) as exc:
        model.validate(doc)
    assert "\x1b" not in exc.value.message and "\u202e" not in exc.value.message
    assert "\\x1b]52" in exc.value.message and len(exc.value.message) < 300


def test_a_record_validation_accepts_fits_in_a_bundle_record_section() -> None:
    """Each field at its limit would make a record far larger than the 8 MiB a reader
    takes: validation refuses it with one clear problem."""
    doc = model.template()
    person = doc["persons"][0]
    person["sensitive"] = {f: "Ж" * model.MAX_TEXT for f in model.SENSITIVE_PERSON_FIELDS}
    doc["persons"] = [dict(person, id=f"p{i}") for i in range(model.MAX_PERSONS)]
    doc["incidents"][0]["victims"] = ["p1"]
    doc["incidents"][1]["victims"] = ["p2"]
    assert len(canonical_json(doc)) > bundle.MAX_RECORD_SIZE
    with pytest.raises(InvalidInput) as exc:
        model.validate(doc)
    assert exc.value.problems == [(
        "record",
        f"is larger than {model.MAX_DOC_BYTES} bytes as JSON (shorten the texts)",
    )]


def test_an_amount_is_bounded() -> None:
    doc = model.template()
    doc["incidents"][0]["legal"]["fine"]["amount"] = "0." + "0" * 100_000 + "1"
    _refused(doc, "incidents.0.legal.fine.amount")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("interview.language", "ru\n"),
        ("persons.0.nationality", "TJ\n"),
        ("incidents.0.legal.fine.currency", "RUB\n"),
        ("persons.1.id", "p2\n"),
    ],
)
def test_coded_fields_take_no_trailing_newline(path: str, value: str) -> None:
    """A pattern anchored with $ also matches before a final newline."""
    doc = _with(path, value)
    with pytest.raises(InvalidInput):
        model.validate(doc)


def test_a_tag_takes_no_trailing_newline() -> None:
    doc = model.template()
    doc["tags"] = ["protest\n"]
    with pytest.raises(InvalidInput) as exc:
        model.validate(doc)
    assert [w for w, _ in exc.value.problems] == ["tags[0]"]


def test_attachment_intake_applies_the_rules_hq_applies(vault: Vault) -> None:
    """What a bundle may carry in an attachment entry (formats/bundle.py) is checked
    when the file is added, so HQ never refuses a bundle for what the laptop took."""
    rid = RecordService(vault.db).add(model.template())
    svc = AttachmentService(vault.db)
    for kwargs in (
        {"media_type": "image/jpeg\x1b]52;c;ZXZpbA==\x07"},
        {"media_type": "image/\x9bjpeg"},
        {"media_type": "image/jpeg\nX"},
        {"media_type": "x" * 256},
        {"description": "scan \x1b[2J"},
        {"description": "scan \x7f"},
        {"description": "a\rb"},
    ):
        with pytest.raises(InvalidInput):
            svc.add_stream(rid, io.BytesIO(b"x"), filename="scan.jpg", **kwargs)
    ok = svc.add_stream(
        rid, io.BytesIO(b"x"), filename="scan\x1b[2J\u202e.jpg", description="two\n\tlines"
    )
    assert ok.filename == "scan_[2J_.jpg" and ok.description == "two\n\tlines"
    with pytest.raises(InvalidInput):
        svc.describe(ok.id, "\x1b[2J")


def test_attachment_intake_refuses_what_no_bundle_can_carry(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HQ refuses an attachment entry over bundle.MAX_ATTACHMENT_SIZE (1 TiB), so the
    laptop refuses the file at intake and keeps nothing of it."""
    rid = RecordService(vault.db).add(model.template())
    monkeypatch.setattr(bundle, "MAX_ATTACHMENT_SIZE", 10)
    svc = AttachmentService(vault.db)
    with pytest.raises(InvalidInput):
        svc.add_stream(rid, io.BytesIO(b"x" * 11), filename="big.bin")
    assert svc.for_record(rid) == []
    assert svc.add_stream(rid, io.BytesIO(b"x" * 10), filename="fits.bin").size == 10
