"""Pure helpers for the record editor: a blank record, date input, paths and slugs.
No widgets here, so they are easy to test."""

from __future__ import annotations

import re
from typing import Any

from fieldkit.services import model


def blank_record() -> dict[str, Any]:
    return {
        "schema": model.SCHEMA_VERSION,
        "pseudonym": "",
        "status": "draft",
        "risk": "medium",
        "tags": [],
        "interview": {
            "date": None,
            "place": "",
            "languages": [],
            "interviewer": "",
            "interpreter": "",
        },
        "narrative": "",
        "persons": [],
        "incidents": [],
        "consent": {
            "scope": "hq_only",
            "contact_allowed": False,
            "withdrawn": False,
            "withdrawn_on": None,
            "notes": "",
            "obtained": None,
            "method": "",
            "obtained_on": None,
            "obtained_by": "",
        },
    }


def blank_person(n: int) -> dict[str, Any]:
    return {
        "id": f"p{n}",
        "roles": ["victim"],
        "pseudonym": "",
        "relationship": "",
        "related_to": None,
        "gender": "",
        "birth_year": None,
        "nationality": "",
        "sensitive": {"real_name": "", "contacts": "", "exact_address": ""},
    }


def blank_incident(n: int) -> dict[str, Any]:
    return {
        "id": f"i{n}",
        "type": "arbitrary_detention",
        "type_other": "",
        "victims": [],
        "date": None,
        "place": {"country": "", "locality": "", "detail": ""},
        "perpetrator": {"actor_type": "unknown", "country": "", "unit": ""},
        "description": "",
        "legal": {
            "charge": "",
            "court": "",
            "case_number": "",
            "outcome": "",
            "fine": None,
            "expulsion": False,
        },
    }


def next_id(items: list[dict[str, Any]], prefix: str) -> int:
    used = {str(it.get("id", "")) for it in items}
    n = 1
    while f"{prefix}{n}" in used:
        n += 1
    return n


def date_from_input(value: str, text: str) -> Any:
    """'2026-04-02', '2026-04', '2026' or 'A..B' plus the witness's words, as the model
    takes it. Anything else is kept as typed so validation names the problem."""
    value = value.strip()
    if not value and not text.strip():
        return None
    if ".." in value:
        earliest, _, latest = value.partition("..")
        return {"earliest": earliest.strip(), "latest": latest.strip(), "text": text.strip()}
    rng = model._range_from_string(value) if value else None
    if rng is None:
        return value if value else {"earliest": "", "latest": "", "text": text.strip()}
    return {"earliest": rng[0], "latest": rng[1], "text": text.strip()}


def date_to_input(d: Any) -> tuple[str, str]:
    if d is None:
        return "", ""
    if isinstance(d, str):
        return d, ""
    earliest, latest = d.get("earliest") or "", d.get("latest") or ""
    value = earliest if earliest == latest else f"{earliest}..{latest}"
    return value, d.get("text", "")


def split_list(value: str) -> list[str]:
    return [x.strip() for x in re.split(r"[,;]", value) if x.strip()]


def slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


_ITEM = re.compile(r"^(persons|incidents)\[(\d+)\]\.?(.*)$")


def locate(path: str) -> tuple[str | None, int | None, str]:
    """'incidents[1].date.earliest' -> ('incidents', 1, 'date.earliest')."""
    m = _ITEM.match(path)
    if m:
        return m.group(1), int(m.group(2)), m.group(3)
    return None, None, path
