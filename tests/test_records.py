"""Records: create, read, update, list, search (Latin, Cyrillic, Tajik), validation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fieldkit.errors import InvalidInput, NotFound
from fieldkit.services import model
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault


def _doc(**changes: Any) -> dict[str, Any]:
    d = model.template()
    d.update(changes)
    return d


def test_template_is_valid_and_complete() -> None:
    t = model.template()
    assert model.validate(t) == t
    assert {i["type"] for i in t["incidents"]} <= set(model.INCIDENT_TYPES)


def test_create_read_update(vault: Vault) -> None:
    rs = RecordService(vault.db)
    rid = rs.add(model.template())
    rec = rs.get(rid)
    assert rec.version == 1 and rec.doc == model.template()
    changed = _doc(narrative="Second telling, with more detail.", status="complete")
    assert rs.edit(rid, changed) == 2
    assert rs.get(rid).doc["narrative"] == "Second telling, with more detail."
    assert rs.get(rid, 1).doc["narrative"] == model.template()["narrative"]
    assert rs.summary(rid).status == "complete"
    assert [e.action for e in rs.history(rid)] == ["record.create", "record.update"]


def test_prefix_lookup(vault: Vault) -> None:
    rs = RecordService(vault.db)
    rid = rs.add(model.template())
    assert rs.resolve(rid[:8]) == rid
    with pytest.raises(NotFound):
        rs.resolve("rzzzzzzzz")
    with pytest.raises(NotFound):
        rs.resolve(rid[:3])  # too short to be a prefix


def test_list_filters_and_sort(vault: Vault) -> None:
    rs = RecordService(vault.db)
    a = rs.add(_doc(pseudonym="A", risk="low"))
    b = rs.add(
        _doc(
            pseudonym="B", risk="critical", status="complete", incidents=[{"type": "surveillance"}]
        )
    )
    assert {r.id for r in rs.list_records()} == {a, b}
    assert [r.id for r in rs.list_records(risk="critical")] == [b]
    assert [r.id for r in rs.list_records(status="draft")] == [a]
    assert [r.id for r in rs.list_records(incident_type="surveillance")] == [b]
    assert [r.id for r in rs.list_records(incident_type="arbitrary_detention")] == [a]
    assert [r.id for r in rs.list_records(sort="risk")] == [b, a]
    assert [r.id for r in rs.list_records(sort="pseudonym")] == [a, b]
    with pytest.raises(InvalidInput):
        rs.list_records(status="nonsense")


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("Detained after the protest in Yekaterinburg", "yekaterinburg"),
        ("Detained after the protest in Yekaterinburg", "protes"),  # prefix while typing
        ("Задержан после мирного протеста у посольства", "ЗАДЕРЖАН"),
        ("Задержан после мирного протеста у посольства", "посольств"),
        ("Қодир ғайрат кӯҳ ҳамсоя ҷавоб ӣ", "қодир"),
        ("Қодир ғайрат кӯҳ ҳамсоя ҷавоб ӣ", "Кодир"),  # typed without a Tajik keyboard
        ("Қодир ғайрат кӯҳ ҳамсоя ҷавоб ӣ", "ҷавоб"),
        ("Қодир ғайрат кӯҳ ҳамсоя ҷавоб ӣ", "чавоб"),
        ("Қодир ғайрат кӯҳ ҳамсоя ҷавоб ӣ", "ҲАМСОЯ"),
        ("Қодир ғайрат кӯҳ ҳамсоя ҷавоб ӣ", "гайрат кух"),
        ("Её выслали в ёлочный посёлок", "поселок"),
    ],
)
def test_search_latin_cyrillic_tajik(vault: Vault, text: str, query: str) -> None:
    rs = RecordService(vault.db)
    rid = rs.add({"pseudonym": "Z-1", "narrative": text})
    other = rs.add({"pseudonym": "Z-2", "narrative": "unrelated words only"})
    hits = [r.id for r in rs.search(query)]
    assert rid in hits and other not in hits


def test_search_other_fields_and_updates(vault: Vault) -> None:
    rs = RecordService(vault.db)
    d = _doc(narrative="nothing here")
    d["incidents"][0]["place"]["locality"] = "Душанбе"
    rid = rs.add(d)
    assert [r.id for r in rs.search("душанбе")] == [rid]
    assert [r.id for r in rs.search("Witness")] == [rid]  # pseudonym
    d["incidents"][0]["place"]["locality"] = "Худжанд"
    rs.edit(rid, d)
    assert rs.search("душанбе") == []  # the old version is no longer indexed
    assert [r.id for r in rs.search("худжанд")] == [rid]


def test_search_input_is_never_fts_syntax(vault: Vault) -> None:
    rs = RecordService(vault.db)
    rs.add(model.template())
    for hostile in ('"', "NEAR(", "a OR b AND", "*", "col:foo", "^x", "' OR 1=1 --", ""):
        rs.search(hostile)  # must not raise


def test_search_with_filters(vault: Vault) -> None:
    rs = RecordService(vault.db)
    a = rs.add(_doc(narrative="protest", risk="low"))
    rs.add(_doc(narrative="protest", risk="high"))
    assert [r.id for r in rs.search("protest", risk="low")] == [a]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("pseudonym"), "pseudonym"),
        (lambda d: d.update(risk="extreme"), "risk"),
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d["interview"].update(date="14/05/2026"), "interview.date"),
        (lambda d: d["interview"].update(date="2026-02-30"), "interview.date"),
        (lambda d: d["incidents"][1].update(type="robbery"), "incidents[1].type"),
        (
            lambda d: d["incidents"][0]["date"].update(earliest="2026-05-01"),
            "incidents[0].date.latest",
        ),
        (
            lambda d: d["incidents"][0]["legal"]["fine"].update(currency="rub"),
            "incidents[0].legal.fine.currency",
        ),
        (
            lambda d: d["incidents"][0]["legal"]["fine"].update(amount="-5"),
            "incidents[0].legal.fine.amount",
        ),
        (lambda d: d["incidents"][0].update(victims=["p9"]), "incidents[0].victims"),
        (lambda d: d["persons"][1].update(relationship=""), "persons[1].relationship"),
        (lambda d: d["persons"][1].update(related_to="p7"), "persons[1].related_to"),
        (
            lambda d: d["persons"][0]["sensitive"].update(passport="X"),
            "persons[0].sensitive.passport",
        ),
        (lambda d: d["persons"][0].update(birth_year=1700), "persons[0].birth_year"),
        (lambda d: d["consent"].update(scope="everyone"), "consent.scope"),
        (lambda d: d["consent"].update(withdrawn="yes"), "consent.withdrawn"),
        (lambda d: d.update(narrative="x" * (model.MAX_NARRATIVE + 1)), "narrative"),
        (lambda d: d.update(tags=["ok", ""]), "tags[1]"),
        (lambda d: d.update(persons=[{}] * (model.MAX_PERSONS + 1)), "persons"),
    ],
)
def test_validation_names_field_and_problem(mutate: Any, field: str) -> None:
    d = copy.deepcopy(model.template())
    mutate(d)
    with pytest.raises(InvalidInput) as e:
        model.validate(d)
    assert field in [p for p, _ in e.value.problems], e.value.problems
    assert e.value.message.startswith("invalid record: ")


def test_approximate_dates() -> None:
    p = model._Problems()
    assert model.approx_date("2026-04", "d", p) == {
        "earliest": "2026-04-01",
        "latest": "2026-04-30",
        "text": "",
    }
    assert model.approx_date("2024-02", "d", p)["latest"] == "2024-02-29"
    assert model.approx_date("2026", "d", p) == {
        "earliest": "2026-01-01",
        "latest": "2026-12-31",
        "text": "",
    }
    spring = {"earliest": "2026-03-01", "latest": "2026-05-31", "text": "spring"}
    assert model.approx_date(spring, "d", p) == spring
    assert not p.items
    model.approx_date("April", "d", p)
    assert p.items


def test_user_cannot_set_delivered(vault: Vault) -> None:
    with pytest.raises(InvalidInput, match="status"):
        RecordService(vault.db).add(_doc(status="delivered"))


def test_person_and_incident_ids_assigned() -> None:
    d = model.template()
    for x in d["persons"] + d["incidents"]:
        x.pop("id")
    for inc in d["incidents"]:
        inc["victims"] = []
    clean = model.validate(d)
    assert [p["id"] for p in clean["persons"]] == ["p1", "p2"]
    assert [i["id"] for i in clean["incidents"]] == ["i1", "i2"]


def test_add_many_is_all_or_nothing(vault: Vault) -> None:
    rs = RecordService(vault.db)
    ids = rs.add_many([{"pseudonym": "A"}, {"pseudonym": "B"}])
    assert len(ids) == 2 and rs.count() == 2
    with pytest.raises(InvalidInput):
        rs.add_many([{"pseudonym": "C"}, {"pseudonym": ""}])
    assert rs.count() == 2
