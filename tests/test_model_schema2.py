"""Record schema 2 (issue 10): several interview languages, several roles per person, and
whether, how, when and by whom consent was obtained. Schema-1 documents (older vaults and
devices) still validate, and come back as schema 2; upgrade() does the same for a stored
document without changing it; lacks_consent() says which records need the fieldworker's
confirmation before export."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fieldkit.errors import InvalidInput
from fieldkit.formats.canonical import canonical_json
from fieldkit.services import model


def v1_doc() -> dict[str, Any]:
    """A normalised schema-1 document, as fieldkit before issue 10 stored and sent it."""
    return {
        "schema": 1,
        "pseudonym": "Witness K-7",
        "status": "complete",
        "risk": "high",
        "tags": ["expulsion"],
        "interview": {
            "date": "2026-05-14",
            "place": "Almaty",
            "language": "ru",
            "interviewer": "FW-03",
            "interpreter": "",
        },
        "narrative": "Задержан 2 апреля.",
        "persons": [
            {
                "id": "p1",
                "role": "informant",
                "pseudonym": "K-7",
                "relationship": "",
                "related_to": None,
                "gender": "male",
                "birth_year": 1994,
                "nationality": "TJ",
                "sensitive": {"real_name": "", "contacts": "", "exact_address": ""},
            },
            {
                "id": "p2",
                "role": "relative",
                "pseudonym": "K-7 mother",
                "relationship": "mother",
                "related_to": "p1",
                "gender": "female",
                "birth_year": None,
                "nationality": "TJ",
                "sensitive": {"real_name": "", "contacts": "", "exact_address": ""},
            },
        ],
        "incidents": [],
        "consent": {
            "scope": "hq_only",
            "contact_allowed": True,
            "withdrawn": False,
            "withdrawn_on": None,
            "notes": "",
        },
    }


def problems(doc: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as exc:
        model.validate(doc)
    return list(exc.value.problems)


def paths(doc: Any) -> list[str]:
    return [path for path, _ in problems(doc)]


def test_the_template_is_schema_2_and_valid_as_it_stands() -> None:
    t = model.template()
    assert model.SCHEMA_VERSION == 2 and t["schema"] == 2
    assert model.validate(t) == t
    assert t["interview"]["languages"] == ["ru", "tg"]
    assert t["persons"][0]["roles"] == ["informant", "victim"]
    assert not model.lacks_consent(t)


def test_a_schema_1_document_validates_and_comes_back_as_schema_2() -> None:
    old = v1_doc()
    before = copy.deepcopy(old)
    clean = model.validate(old)
    assert old == before  # the input is not changed
    assert clean["schema"] == 2
    assert clean["interview"]["languages"] == ["ru"] and "language" not in clean["interview"]
    assert [p["roles"] for p in clean["persons"]] == [["informant"], ["relative"]]
    assert all("role" not in p for p in clean["persons"])
    c = clean["consent"]
    assert (c["obtained"], c["method"], c["obtained_on"], c["obtained_by"]) == (None, "", None, "")
    assert model.lacks_consent(clean)
    # Everything else is as it was.
    assert clean["consent"]["contact_allowed"] is True and clean["narrative"] == old["narrative"]


def test_upgrade_equals_validate_for_a_normalised_schema_1_document() -> None:
    old = v1_doc()
    up = model.upgrade(old)
    assert up == model.validate(old)
    assert model.validate(up) == up  # and the result is a normalised schema-2 document
    assert old == v1_doc()  # upgrade copies, never changes what was read
    # The key order inside an object stays readable: languages where language was.
    assert list(up["interview"]) == ["date", "place", "languages", "interviewer", "interpreter"]
    assert list(up["persons"][0])[:2] == ["id", "roles"]


def test_upgrade_of_an_empty_language_is_no_language() -> None:
    old = v1_doc()
    old["interview"]["language"] = ""
    assert model.upgrade(old)["interview"]["languages"] == []
    assert model.validate(old)["interview"]["languages"] == []


def test_upgrade_of_a_schema_2_document_is_an_equal_copy() -> None:
    t = model.template()
    up = model.upgrade(t)
    assert up == t and up is not t
    up["persons"][0]["roles"].append("witness")
    assert t["persons"][0]["roles"] == ["informant", "victim"]


@pytest.mark.parametrize("schema", [0, 3, "1", True, 1.0, None])
def test_an_unknown_schema_is_refused(schema: Any) -> None:
    doc = model.template()
    doc["schema"] = schema
    assert "schema" in paths(doc)
    with pytest.raises(InvalidInput):
        model.upgrade(doc)


def test_upgrade_refuses_what_is_not_a_document() -> None:
    with pytest.raises(InvalidInput):
        model.upgrade(["not", "a", "record"])


def test_a_document_without_schema_is_read_as_the_current_schema() -> None:
    doc = model.template()
    del doc["schema"]
    assert model.validate(doc)["schema"] == 2
    old = v1_doc()
    del old["schema"]
    assert "interview.language" in paths(old)  # schema 2 rules apply


def test_each_schema_has_only_its_own_field_names() -> None:
    old = v1_doc()
    old["interview"]["languages"] = ["ru"]
    old["persons"][0]["roles"] = ["victim"]
    old["consent"]["obtained"] = True
    got = paths(old)
    assert "interview.languages" in got
    assert "persons[0].roles" in got
    assert "consent.obtained" in got

    new = model.template()
    new["interview"]["language"] = "ru"
    new["persons"][1]["role"] = "relative"
    found = problems(new)
    assert ("interview.language", "schema 2 has 'languages', a list such as [ru, tg]") in found
    assert [p for p, _ in found].count("interview.language") == 1  # one clear message, not two
    assert "persons[1].role" in [p for p, _ in found]


def test_languages_keep_their_order_and_are_checked() -> None:
    doc = model.template()
    doc["interview"]["languages"] = ["tg", "ru", "uz-Cyrl"]
    assert model.validate(doc)["interview"]["languages"] == ["tg", "ru", "uz-Cyrl"]
    doc["interview"]["languages"] = []
    assert model.validate(doc)["interview"]["languages"] == []
    for bad, where in [
        (["ru", "ru"], "interview.languages[1]"),
        (["RU"], "interview.languages[0]"),
        (["ru\n"], "interview.languages[0]"),
        ([""], "interview.languages[0]"),
        ([7], "interview.languages[0]"),
        ("ru", "interview.languages"),
        ([f"l{chr(97 + i)}" for i in range(model.MAX_LANGUAGES + 1)], "interview.languages"),
    ]:
        doc["interview"]["languages"] = bad
        assert where in paths(doc), bad
    doc["interview"]["languages"] = [f"l{chr(97 + i)}" for i in range(model.MAX_LANGUAGES)]
    assert len(model.validate(doc)["interview"]["languages"]) == model.MAX_LANGUAGES


def test_roles_keep_their_order_and_are_checked() -> None:
    doc = model.template()
    doc["persons"][0]["roles"] = ["victim", "informant", "witness"]
    assert model.validate(doc)["persons"][0]["roles"] == ["victim", "informant", "witness"]
    doc["persons"][0]["roles"] = list(model.PERSON_ROLES)[:4]  # 'relative' needs more
    with pytest.raises(InvalidInput):
        model.validate(doc)
    for bad, where in [
        ([], "persons[0].roles"),
        (None, "persons[0].roles"),
        ("victim", "persons[0].roles"),
        (["victim", "victim"], "persons[0].roles[1]"),
        (["judge"], "persons[0].roles[0]"),
        ([*model.PERSON_ROLES, "victim"], "persons[0].roles"),
    ]:
        doc["persons"][0]["roles"] = bad
        assert where in paths(doc), bad
    del doc["persons"][0]["roles"]
    assert "persons[0].roles" in paths(doc)  # a person has at least one role


def test_a_relative_among_several_roles_needs_a_relationship() -> None:
    doc = model.template()
    doc["persons"][0]["roles"] = ["victim", "relative"]
    assert "persons[0].relationship" in paths(doc)
    doc["persons"][0]["relationship"] = "brother"
    assert model.validate(doc)["persons"][0]["roles"] == ["victim", "relative"]


def test_consent_defaults_to_not_recorded() -> None:
    doc = model.template()
    doc["consent"] = {}
    c = model.validate(doc)["consent"]
    assert c == {
        "scope": "hq_only",
        "contact_allowed": False,
        "withdrawn": False,
        "withdrawn_on": None,
        "notes": "",
        "obtained": None,
        "method": "",
        "obtained_on": None,
        "obtained_by": "",
    }


def test_consent_obtained_needs_a_method() -> None:
    doc = model.template()
    doc["consent"].update(obtained=True, method="")
    found = problems(doc)
    assert found == [("consent.method", "say how consent was obtained: oral or written")]
    doc["consent"]["method"] = "written"
    assert model.validate(doc)["consent"]["method"] == "written"


def test_consent_obtained_without_date_or_taker_is_a_warning_not_an_error() -> None:
    doc = model.template()
    doc["consent"].update(obtained=True, method="oral", obtained_on=None, obtained_by="")
    clean = model.validate(doc)
    assert [p for p, _ in model.consent_warnings(clean)] == [
        "consent.obtained_on",
        "consent.obtained_by",
    ]
    assert model.consent_warnings(model.template()) == []
    clean["consent"]["obtained"] = False
    assert model.consent_warnings(clean) == []  # nothing to date when none was obtained


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("obtained", "yes"),
        ("obtained", 1),
        ("method", "video"),
        ("method", "Oral"),
        ("obtained_on", "14.05.2026"),
        ("obtained_on", "2026-02-30"),
        ("obtained_by", "FW-03\nrm -rf"),
        ("obtained_by", "\x1b[31mred"),
        ("obtained_by", "x" * (model.MAX_SHORT + 1)),
        ("obtained_by", 3),
    ],
)
def test_consent_fields_refuse_bad_values(field: str, value: Any) -> None:
    doc = model.template()
    doc["consent"][field] = value
    assert f"consent.{field}" in paths(doc)


def test_hostile_text_in_obtained_by_is_kept_literally_when_allowed() -> None:
    doc = model.template()
    doc["consent"]["obtained_by"] = "[bold red]FW[/] <b>03</b> $(id)"
    assert model.validate(doc)["consent"]["obtained_by"] == "[bold red]FW[/] <b>03</b> $(id)"


def test_lacks_consent() -> None:
    t = model.template()
    assert model.lacks_consent(t) is False
    for obtained in (None, False):
        t["consent"]["obtained"] = obtained
        assert model.lacks_consent(t) is True
    assert model.lacks_consent(v1_doc()) is True  # schema 1 never recorded it
    assert model.lacks_consent({"schema": 2}) is True
    assert model.lacks_consent(None) is True


def test_withdrawn_consent_is_unchanged_by_schema_2() -> None:
    doc = model.template()
    doc["consent"].update(withdrawn=True, withdrawn_on="2026-06-01")
    c = model.validate(doc)["consent"]
    assert (c["withdrawn"], c["withdrawn_on"], c["obtained"]) == (True, "2026-06-01", True)


def test_a_normalised_bundle_document_is_recognised_in_either_schema() -> None:
    """HQ refuses a record that is not in normalised form; for a schema-1 document that means
    upgrade(doc) == validate(doc) (services/hq_import.py)."""
    old = v1_doc()
    assert model.upgrade(old) == model.validate(old)
    loose = v1_doc()
    del loose["interview"]["interpreter"]  # valid, but not as fieldkit writes it
    assert model.upgrade(loose) != model.validate(loose)
    t = model.template()
    assert model.upgrade(t) == model.validate(t)


def test_upgraded_and_stored_bytes_differ_so_stored_ones_are_never_replaced() -> None:
    """A reminder of why upgrade is a copy: the canonical bytes (and so the version hash)
    of a schema-1 document are not those of its upgrade."""
    old = v1_doc()
    assert canonical_json(old) != canonical_json(model.upgrade(old))
