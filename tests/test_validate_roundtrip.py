"""Anything validation accepts travels: validate -> save -> export -> HQ import gives HQ
the same document. Validation and HQ's reader used to disagree (a lone surrogate
passed validation and crashed canonical JSON; a valid record could exceed the 8 MiB a
reader takes), so a device could hold testimony it could never deliver."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from fieldkit.errors import InvalidInput
from fieldkit.formats import bundle
from fieldkit.formats.canonical import canonical_json
from fieldkit.services import export as export_svc
from fieldkit.services import hq_import, model
from fieldkit.services.records import RecordService
from tests.bundle_fixtures import Pair, make_pair

_n = itertools.count()

# Half the records are hostile: any text at all (controls, bidi controls, surrogates,
# every plane), and in half of those any value in coded fields. The other half are
# what a fieldworker types, so that many make the trip.
_PRINTABLE = st.characters(exclude_categories=("Cc", "Cs"))
_DANGEROUS = st.sampled_from("\x00\x1b\x7f\x85\x9b\r\n\t\u202e\u2066\u2028\ud800\udfff")
# st.text never yields a lone surrogate, so characters are joined by hand.
ANY = st.lists(
    _DANGEROUS | st.characters() | st.characters(categories=["Cs"]), max_size=40
).map("".join)
LINE = st.text(_PRINTABLE, max_size=40)
LINES = st.text(_PRINTABLE | st.sampled_from("\n\t"), max_size=400)


@st.composite
def record_docs(draw: st.DrawFn) -> dict[str, Any]:
    hostile = draw(st.booleans())  # any text in the text fields
    wild = hostile and draw(st.booleans())  # and any value in the coded ones
    line = ANY if hostile else LINE
    lines = ANY if hostile else LINES

    def coded(good: st.SearchStrategy[Any]) -> Any:
        return draw(pick(good))

    def pick(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return good | ANY if wild else good

    d = model.template()
    d["pseudonym"] = "K" + draw(line)  # required
    d["status"] = draw(st.sampled_from(model.USER_STATUSES))
    tag = st.from_regex(r"[a-z0-9][a-z0-9 .:/+-]{0,20}", fullmatch=True)
    d["tags"] = draw(st.lists(pick(tag), max_size=4))
    d["narrative"] = draw(lines)
    d["interview"]["place"] = draw(line)
    d["interview"]["languages"] = coded(
        st.lists(st.sampled_from(["ru", "tg-Cyrl", "en", "uz"]), unique=True, max_size=3)
    )
    d["interview"]["date"] = coded(st.none() | st.dates().map(str))
    person = d["persons"][0]
    person["pseudonym"] = draw(line)
    person["gender"] = draw(line)
    person["nationality"] = coded(st.sampled_from(["", "TJ", "RU"]))
    person["sensitive"]["contacts"] = draw(lines)
    person["sensitive"]["real_name"] = draw(line)
    inc = d["incidents"][0]
    inc["description"] = draw(lines)
    inc["date"] = coded(
        st.none() | st.from_regex(r"20[0-9]{2}(-0[1-9](-[0-2][1-9])?)?", fullmatch=True)
    )
    inc["place"]["locality"] = draw(line)
    inc["legal"]["outcome"] = draw(lines)
    inc["legal"]["fine"]["amount"] = coded(
        st.integers(min_value=0, max_value=10**14)
        | st.from_regex(r"[0-9]{1,14}(\.[0-9]{1,3})?", fullmatch=True)
    )
    d["consent"]["notes"] = draw(lines)
    d["consent"]["obtained_by"] = draw(line)
    return d


@pytest.fixture(scope="module")
def trip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    p = make_pair(tmp_path_factory.mktemp("trip"))
    yield p
    p.field.lock()
    p.hq.lock()


def _round_trip(pair: Pair, doc: dict[str, Any]) -> None:
    try:
        clean = model.validate(doc)
    except InvalidInput:
        event("refused by validation")
        return  # refused at the laptop, with a message naming the field
    event("accepted")
    rid = RecordService(pair.field.db).add(doc)
    out = pair.tmp / f"trip-{next(_n)}.fkb"
    assert export_svc.export(pair.field.db, out) is not None
    report = hq_import.import_bundle(pair.hq.db, out)
    assert report.records_new == 1
    assert RecordService(pair.hq.db).get(rid).doc == clean


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def _template_with(**changes: Any) -> dict[str, Any]:
    d = model.template()
    d.update(changes)
    return d


# What validation once let through and the trip then failed on, always tried.
@_settings(20)
@given(doc=record_docs())
@example(doc=_template_with(narrative="text \ud800"))
@example(doc=_template_with(pseudonym="K-7 \udfff"))
@example(doc=_template_with(pseudonym="K-7 \x1b[2J", narrative="\x9b\x7f"))
def test_what_validation_accepts_reaches_hq(trip: Pair, doc: dict[str, Any]) -> None:
    _round_trip(trip, doc)


@pytest.mark.slow
@_settings(600)
@given(doc=record_docs())
def test_what_validation_accepts_reaches_hq_long(trip: Pair, doc: dict[str, Any]) -> None:
    _round_trip(trip, doc)


def test_a_record_at_the_size_limit_reaches_hq(pair: Pair, tmp_path: Path) -> None:
    """The largest record validation accepts, in four-byte characters, still fits a
    bundle's record section and imports."""
    d = model.template()
    d["narrative"] = ""
    person = d["persons"][0]
    person["sensitive"]["contacts"] = "𝔸" * model.MAX_TEXT
    d["persons"] = [dict(person, id=f"p{i}") for i in range(1, 61)]
    for inc in d["incidents"]:
        inc["victims"] = ["p1"]
    room = model.MAX_DOC_BYTES - len(canonical_json(model.validate(d)))
    d["narrative"] = "𝔸" * (room // 4) + "x" * (room % 4)
    assert len(canonical_json(model.validate(d))) == model.MAX_DOC_BYTES
    rid = RecordService(pair.field.db).add(d)
    export_svc.export(pair.field.db, tmp_path / "big.fkb")
    assert hq_import.import_bundle(pair.hq.db, tmp_path / "big.fkb").records_new == 1
    assert RecordService(pair.hq.db).get(rid).doc["narrative"] == d["narrative"]
    d["narrative"] += "x"
    with pytest.raises(InvalidInput):
        model.validate(d)
    assert model.MAX_DOC_BYTES < bundle.MAX_RECORD_SIZE
