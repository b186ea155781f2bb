"""The record data model (after the HURIDOCS Events Standard Formats) and its validation.

A record is one testimony: the interview, the persons, the incidents, consent,
the narrative, risk, tags and status. It is stored as one JSON document per
version; docs/data-model.md describes every field. Validation is strict: an
unknown field is an error (a typo must not silently drop testimony), and every
problem names its field, e.g. ``incidents[1].date.earliest: not a date``.

Schema 2 (issue 10) holds several interview languages, several roles per person and
whether, how, when and by whom consent was obtained. Stored versions are never
rewritten: their bytes and hashes are evidence, and HQ may already hold them. A
schema-1 document is upgraded when it is read (``upgrade``), and ``validate`` accepts
schema 1 and 2 and always returns schema 2, so the next saved version is schema 2.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fieldkit.errors import InvalidInput
from fieldkit.formats import bundle
from fieldkit.formats import text as text_rules
from fieldkit.formats.canonical import canonical_json
from fieldkit.msgids import N_

SCHEMA_VERSION = 2
# Every schema validate() reads: 1 from devices and vaults older than issue 10.
READABLE_SCHEMAS = (1, 2)

INCIDENT_TYPES: dict[str, str] = {
    "arbitrary_detention": N_("Arbitrary arrest or detention"),
    "administrative_charge": N_("Administrative charge or fine"),
    "expulsion_order": N_("Expulsion or deportation order"),
    "forcible_return": N_("Forcible return or rendition"),
    "enforced_disappearance": N_("Enforced disappearance"),
    "family_pressure": N_("Threats or pressure on family"),
    "coercion_to_denounce": N_("Coercion to denounce"),
    "criminal_charge_threat": N_("Threat of criminal (e.g. terrorism) charges"),
    "ill_treatment": N_("Ill-treatment"),
    "document_revocation": N_("Revocation of citizenship or documents"),
    "surveillance": N_("Surveillance"),
    "other": N_("Other"),
}
ACTOR_TYPES: dict[str, str] = {
    "police": N_("Police"),
    "security_service": N_("Security service"),
    "migration_authority": N_("Migration authority"),
    "court": N_("Court"),
    "prosecutor": N_("Prosecutor"),
    "diplomatic_mission": N_("Embassy or consulate"),
    "military": N_("Military"),
    "prison_staff": N_("Prison or detention staff"),
    "local_official": N_("Local official"),
    "employer": N_("Employer"),
    "non_state": N_("Other non-state actor"),
    "unknown": N_("Unknown"),
}
PERSON_ROLES = ("informant", "victim", "relative", "witness", "other")
CONSENT_METHODS = ("oral", "written")
CONSENT_SCOPES = ("hq_only", "anonymised_publication", "named_publication")
RISK_LEVELS = ("low", "medium", "high", "critical")
# 'exported' and 'delivered' are read only in bundles from older devices: delivery is
# derived (services/delivery.py), and a field vault stores only USER_STATUSES.
STATUSES = ("draft", "complete", "exported", "delivered")
USER_STATUSES = ("draft", "complete")
SENSITIVE_PERSON_FIELDS = ("real_name", "contacts", "exact_address")
MULTILINE_SENSITIVE = ("contacts", "exact_address")

MAX_SHORT = 200
MAX_TEXT = 20_000
MAX_NARRATIVE = 1_000_000
MAX_PERSONS = 100
MAX_INCIDENTS = 100
MAX_TAGS = 40
MAX_VICTIMS = 100
MAX_LANGUAGES = 8
MAX_ROLES = len(PERSON_ROLES)
MAX_AMOUNT = 32  # characters of a fine's amount
# A record travels as one section of at most bundle.MAX_RECORD_SIZE bytes: its document
# in canonical JSON plus the id, version and two timestamps around it (< 200 bytes).
MAX_DOC_BYTES = bundle.MAX_RECORD_SIZE - 4096

_ID_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_TAG_RE = re.compile(r"^[\w][\w .:/+-]{0,63}$")


class _Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, problem: str) -> None:
        self.items.append((path, problem))


def validate(doc: Any) -> dict[str, Any]:
    """Return the normalised schema-2 record document, or raise InvalidInput listing every
    problem. A schema-1 document is checked by the rules of schema 1 (its fields, not the
    new ones) and returned upgraded, as ``upgrade`` would."""
    p = _Problems()
    out = _record(doc, p)
    if p.items:
        first = f"{p.items[0][0]}: {p.items[0][1]}"
        more = f" (and {len(p.items) - 1} more)" if len(p.items) > 1 else ""
        raise InvalidInput(f"invalid record: {first}{more}", problems=p.items)
    return out


# ---- record -------------------------------------------------------------


def _record(doc: Any, p: _Problems) -> dict[str, Any]:
    if not isinstance(doc, dict):
        p.add("record", "must be a JSON object")
        return {}
    _unknown(
        doc,
        {
            "schema",
            "pseudonym",
            "status",
            "risk",
            "tags",
            "interview",
            "narrative",
            "persons",
            "incidents",
            "consent",
        },
        "",
        p,
    )
    schema = doc.get("schema", SCHEMA_VERSION)
    if type(schema) is not int or schema not in READABLE_SCHEMAS:
        p.add("schema", f"must be {' or '.join(str(n) for n in READABLE_SCHEMAS)}")
        schema = SCHEMA_VERSION
    v1 = schema == 1
    out: dict[str, Any] = {"schema": SCHEMA_VERSION}
    out["pseudonym"] = _text(doc.get("pseudonym"), "pseudonym", p, required=True)
    out["status"] = _choice(doc.get("status", "draft"), "status", STATUSES, p)
    out["risk"] = _choice(doc.get("risk", "medium"), "risk", RISK_LEVELS, p)
    out["tags"] = _tags(doc.get("tags", []), p)
    out["interview"] = _interview(doc.get("interview", {}), p, v1=v1)
    out["narrative"] = _long(doc.get("narrative", ""), "narrative", p, limit=MAX_NARRATIVE)
    person = _person_v1 if v1 else _person
    out["persons"] = _list(doc.get("persons", []), "persons", MAX_PERSONS, person, p)
    _assign_ids(out["persons"], "p")
    _unique_ids(out["persons"], "persons", p)
    person_ids = {person.get("id") for person in out["persons"]}
    for i, person in enumerate(out["persons"]):
        rel = person.get("related_to")
        if rel is not None and rel not in person_ids:
            p.add(f"persons[{i}].related_to", f"no person with id '{rel}' in this record")
    out["incidents"] = _list(doc.get("incidents", []), "incidents", MAX_INCIDENTS, _incident, p)
    _assign_ids(out["incidents"], "i")
    _unique_ids(out["incidents"], "incidents", p)
    for i, inc in enumerate(out["incidents"]):
        for v in inc.get("victims", []):
            if v not in person_ids:
                p.add(f"incidents[{i}].victims", f"no person with id '{v}' in this record")
    out["consent"] = _consent(doc.get("consent"), p, v1=v1)
    if not p.items and len(canonical_json(out)) > MAX_DOC_BYTES:
        p.add("record", f"is larger than {MAX_DOC_BYTES} bytes as JSON (shorten the texts)")
    return out


def _interview(v: Any, p: _Problems, *, v1: bool = False) -> dict[str, Any]:
    if not isinstance(v, dict):
        p.add("interview", "must be an object")
        return {}
    # A schema-2 document that still says 'language' gets told the new name.
    langs_key = "language" if v1 else "languages"
    _unknown(
        v, {"date", "place", "language", langs_key, "interviewer", "interpreter"}, "interview", p
    )
    if not v1 and "language" in v:
        p.add("interview.language", "schema 2 has 'languages', a list such as [ru, tg]")
    out: dict[str, Any] = {}
    d = v.get("date")
    if d is None or d == "":
        out["date"] = None
    else:
        out["date"] = _iso_date(d, "interview.date", p)
    out["place"] = _text(v.get("place", ""), "interview.place", p, limit=MAX_SHORT)
    if v1:
        lang = v.get("language", "")
        if lang and (not isinstance(lang, str) or not _LANG_RE.fullmatch(lang)):
            p.add("interview.language", "use a language code such as ru, tg, en or uz")
        out["languages"] = [lang] if isinstance(lang, str) and lang else []
    else:
        out["languages"] = _codes(
            v.get("languages", []),
            "interview.languages",
            p,
            check=lambda c: _LANG_RE.fullmatch(c) is not None,
            hint="use a language code such as ru, tg, en or uz",
            most=MAX_LANGUAGES,
        )
    out["interviewer"] = _text(
        v.get("interviewer", ""), "interview.interviewer", p, limit=MAX_SHORT
    )
    out["interpreter"] = _text(
        v.get("interpreter", ""), "interview.interpreter", p, limit=MAX_SHORT
    )
    return out


def _codes(
    v: Any,
    path: str,
    p: _Problems,
    *,
    check: Callable[[str], bool],
    hint: str,
    most: int,
    least: int = 0,
) -> list[str]:
    """A list of codes, each passing `check`, none twice, order kept (the first is the main one)."""
    if not isinstance(v, list) or not least <= len(v) <= most:
        at_least = f"at least {least} and " if least else ""
        p.add(path, f"must be a list of {at_least}at most {most} codes")
        return []
    out: list[str] = []
    for i, c in enumerate(v):
        if not isinstance(c, str) or not check(c):
            p.add(f"{path}[{i}]", hint)
        elif c in out:
            p.add(f"{path}[{i}]", f"'{c}' is listed twice")
        else:
            out.append(c)
    return out


def _person_v1(v: Any, path: str, p: _Problems) -> dict[str, Any]:
    return _person(v, path, p, v1=True)


def _person(v: Any, path: str, p: _Problems, *, v1: bool = False) -> dict[str, Any]:
    if not isinstance(v, dict):
        p.add(path, "must be an object")
        return {}
    _unknown(
        v,
        {
            "id",
            "role",
            "role" if v1 else "roles",
            "pseudonym",
            "relationship",
            "related_to",
            "gender",
            "birth_year",
            "nationality",
            "sensitive",
        },
        path,
        p,
    )
    out: dict[str, Any] = {}
    if "id" in v:
        out["id"] = _ident(v["id"], f"{path}.id", p)
    if v1:
        out["roles"] = [_choice(v.get("role"), f"{path}.role", PERSON_ROLES, p)]
    else:
        if "role" in v:
            p.add(f"{path}.role", "schema 2 has 'roles', a list such as [informant, victim]")
        out["roles"] = _codes(
            v.get("roles"),
            f"{path}.roles",
            p,
            check=lambda c: c in PERSON_ROLES,
            hint=f"must be one of: {', '.join(PERSON_ROLES)}",
            most=MAX_ROLES,
            least=1,
        )
    out["pseudonym"] = _text(v.get("pseudonym", ""), f"{path}.pseudonym", p, limit=MAX_SHORT)
    out["relationship"] = _text(
        v.get("relationship", ""), f"{path}.relationship", p, limit=MAX_SHORT
    )
    if "relative" in out["roles"] and not out["relationship"]:
        p.add(f"{path}.relationship", "a relative needs a relationship (e.g. mother, brother)")
    rel = v.get("related_to")
    out["related_to"] = None if rel in (None, "") else _ident(rel, f"{path}.related_to", p)
    out["gender"] = _text(v.get("gender", ""), f"{path}.gender", p, limit=64)
    by = v.get("birth_year")
    if by is not None and (
        not isinstance(by, int) or isinstance(by, bool) or not 1900 <= by <= 2100
    ):
        p.add(f"{path}.birth_year", "must be a year between 1900 and 2100")
        by = None
    out["birth_year"] = by
    out["nationality"] = _country(v.get("nationality", ""), f"{path}.nationality", p)
    sens = v.get("sensitive", {})
    if not isinstance(sens, dict):
        p.add(f"{path}.sensitive", "must be an object")
        sens = {}
    _unknown(sens, set(SENSITIVE_PERSON_FIELDS), f"{path}.sensitive", p)
    out["sensitive"] = {
        f: (_long if f in MULTILINE_SENSITIVE else _text)(
            sens.get(f, ""), f"{path}.sensitive.{f}", p, limit=MAX_TEXT
        )
        for f in SENSITIVE_PERSON_FIELDS
    }
    return out


def _incident(v: Any, path: str, p: _Problems) -> dict[str, Any]:
    if not isinstance(v, dict):
        p.add(path, "must be an object")
        return {}
    _unknown(
        v,
        {
            "id",
            "type",
            "type_other",
            "victims",
            "date",
            "place",
            "perpetrator",
            "description",
            "legal",
        },
        path,
        p,
    )
    out: dict[str, Any] = {}
    if "id" in v:
        out["id"] = _ident(v["id"], f"{path}.id", p)
    out["type"] = _choice(v.get("type"), f"{path}.type", tuple(INCIDENT_TYPES), p)
    out["type_other"] = _text(v.get("type_other", ""), f"{path}.type_other", p, limit=MAX_SHORT)
    if out["type"] == "other" and not out["type_other"]:
        p.add(f"{path}.type_other", "say what kind of incident 'other' is")
    victims = v.get("victims", [])
    if not isinstance(victims, list) or len(victims) > MAX_VICTIMS:
        p.add(f"{path}.victims", f"must be a list of at most {MAX_VICTIMS} person ids")
        victims = []
    out["victims"] = [_ident(x, f"{path}.victims[{j}]", p) for j, x in enumerate(victims)]
    out["date"] = approx_date(v.get("date"), f"{path}.date", p)
    out["place"] = _place(v.get("place", {}), f"{path}.place", p)
    out["perpetrator"] = _perpetrator(v.get("perpetrator", {}), f"{path}.perpetrator", p)
    out["description"] = _long(v.get("description", ""), f"{path}.description", p, limit=MAX_TEXT)
    out["legal"] = _legal(v.get("legal", {}), f"{path}.legal", p)
    return out


def _place(v: Any, path: str, p: _Problems) -> dict[str, Any]:
    if not isinstance(v, dict):
        p.add(path, "must be an object")
        return {}
    _unknown(v, {"country", "locality", "detail"}, path, p)
    return {
        "country": _country(v.get("country", ""), f"{path}.country", p),
        "locality": _text(v.get("locality", ""), f"{path}.locality", p, limit=MAX_SHORT),
        "detail": _long(v.get("detail", ""), f"{path}.detail", p, limit=MAX_TEXT),
    }


def _perpetrator(v: Any, path: str, p: _Problems) -> dict[str, Any]:
    if not isinstance(v, dict):
        p.add(path, "must be an object")
        return {}
    _unknown(v, {"actor_type", "country", "unit"}, path, p)
    return {
        "actor_type": _choice(
            v.get("actor_type", "unknown"), f"{path}.actor_type", tuple(ACTOR_TYPES), p
        ),
        "country": _country(v.get("country", ""), f"{path}.country", p),
        "unit": _text(v.get("unit", ""), f"{path}.unit", p, limit=MAX_SHORT),
    }


def _legal(v: Any, path: str, p: _Problems) -> dict[str, Any]:
    if not isinstance(v, dict):
        p.add(path, "must be an object")
        return {}
    _unknown(v, {"charge", "court", "case_number", "outcome", "fine", "expulsion"}, path, p)
    out: dict[str, Any] = {
        "charge": _text(v.get("charge", ""), f"{path}.charge", p, limit=MAX_SHORT),
        "court": _text(v.get("court", ""), f"{path}.court", p, limit=MAX_SHORT),
        "case_number": _text(v.get("case_number", ""), f"{path}.case_number", p, limit=MAX_SHORT),
        "outcome": _long(v.get("outcome", ""), f"{path}.outcome", p, limit=MAX_TEXT),
    }
    fine = v.get("fine")
    if fine is None:
        out["fine"] = None
    elif not isinstance(fine, dict):
        p.add(f"{path}.fine", "must be an object with amount and currency, or null")
        out["fine"] = None
    else:
        _unknown(fine, {"amount", "currency"}, f"{path}.fine", p)
        out["fine"] = {
            "amount": _amount(fine.get("amount"), f"{path}.fine.amount", p),
            "currency": _currency(fine.get("currency"), f"{path}.fine.currency", p),
        }
    exp = v.get("expulsion", False)
    if not isinstance(exp, bool):
        p.add(f"{path}.expulsion", "must be true or false")
        exp = False
    out["expulsion"] = exp
    return out


def _consent(v: Any, p: _Problems, *, v1: bool = False) -> dict[str, Any]:
    if v is None:
        v = {}
    if not isinstance(v, dict):
        p.add("consent", "must be an object")
        return {}
    fields = {"scope", "contact_allowed", "withdrawn", "withdrawn_on", "notes"}
    if not v1:
        fields |= {"obtained", "method", "obtained_on", "obtained_by"}
    _unknown(v, fields, "consent", p)
    out: dict[str, Any] = {
        "scope": _choice(v.get("scope", "hq_only"), "consent.scope", CONSENT_SCOPES, p)
    }
    for key in ("contact_allowed", "withdrawn"):
        val = v.get(key, False)
        if not isinstance(val, bool):
            p.add(f"consent.{key}", "must be true or false")
            val = False
        out[key] = val
    wo = v.get("withdrawn_on")
    out["withdrawn_on"] = None if wo in (None, "") else _iso_date(wo, "consent.withdrawn_on", p)
    if out["withdrawn_on"] and not out["withdrawn"]:
        p.add("consent.withdrawn_on", "set withdrawn to true as well")
    out["notes"] = _long(v.get("notes", ""), "consent.notes", p, limit=MAX_TEXT)
    # Whether consent was obtained: null until the fieldworker records it (schema 1 never did).
    obtained = v.get("obtained")
    if obtained is not None and not isinstance(obtained, bool):
        p.add("consent.obtained", "must be true, false or null (not recorded yet)")
        obtained = None
    out["obtained"] = obtained
    method = v.get("method", "")
    if method is None:
        method = ""
    if method != "" and method not in CONSENT_METHODS:
        p.add("consent.method", f"must be one of: {', '.join(CONSENT_METHODS)}, or empty")
        method = ""
    out["method"] = method
    if obtained is True and not out["method"]:
        p.add("consent.method", "say how consent was obtained: oral or written")
    on = v.get("obtained_on")
    out["obtained_on"] = None if on in (None, "") else _iso_date(on, "consent.obtained_on", p)
    out["obtained_by"] = _text(v.get("obtained_by", ""), "consent.obtained_by", p, limit=MAX_SHORT)
    return out


# ---- schema 2: reading older documents, consent -------------------------


def upgrade(doc: Any) -> dict[str, Any]:
    """A schema-2 copy of a record document read from a vault or a bundle; `doc` itself is
    not changed, and a schema-2 document comes back as an equal copy.

    The stored bytes of a version never change (its hash is evidence and HQ may hold it):
    upgrade happens on reading, for display, editing and analysis. For a normalised
    schema-1 document the result equals ``validate(doc)``. Only the shape changes: a
    schema-1 ``interview.language`` "ru" becomes ``languages`` ["ru"] ("" becomes []),
    each person's ``role`` becomes ``roles`` [role], and consent gets ``obtained`` null
    (not recorded), ``method`` "", ``obtained_on`` null and ``obtained_by`` "".
    """
    if not isinstance(doc, dict):
        raise InvalidInput("invalid record: record: must be a JSON object")
    out = copy.deepcopy(doc)
    schema = out.get("schema", SCHEMA_VERSION)
    if type(schema) is int and schema == SCHEMA_VERSION:
        return out
    if type(schema) is not int or schema != 1:
        raise InvalidInput(
            f"invalid record: schema: must be {' or '.join(str(n) for n in READABLE_SCHEMAS)}",
            problems=[("schema", "unknown schema")],
        )
    out["schema"] = SCHEMA_VERSION
    interview = out.get("interview")
    if isinstance(interview, dict) and "language" in interview:
        lang = interview["language"]
        # Only "" means no language; anything else is kept for validate() to judge.
        _rename(interview, "language", "languages", [] if lang == "" else [lang])
    for person in out.get("persons") or []:
        if isinstance(person, dict) and "role" in person:
            _rename(person, "role", "roles", [person["role"]])
    consent = out.get("consent")
    if isinstance(consent, dict):
        for key, default in (
            ("obtained", None),
            ("method", ""),
            ("obtained_on", None),
            ("obtained_by", ""),
        ):
            consent.setdefault(key, default)
    return out


def _rename(d: dict[str, Any], old: str, new: str, value: Any) -> None:
    """Replace key `old` by `new` holding `value`, in the same place among the keys."""
    items = [(new, value) if k == old else (k, v) for k, v in d.items()]
    d.clear()
    d.update(items)


def lacks_consent(doc: Any) -> bool:
    """True when the record does not say that consent was obtained (obtained is null, i.e.
    not recorded, or false). Such a record is flagged in the list and is exported only
    after the fieldworker confirms. Reads schema 1 (never recorded) and schema 2."""
    if not isinstance(doc, dict):
        return True
    consent = upgrade(doc).get("consent")
    return not (isinstance(consent, dict) and consent.get("obtained") is True)


def consent_warnings(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """Advice for a valid schema-2 document, not errors: when consent was obtained, say
    when and by whom. Each entry is (field, problem), like InvalidInput.problems."""
    c = doc.get("consent") or {}
    if c.get("obtained") is not True:
        return []
    out: list[tuple[str, str]] = []
    if not c.get("obtained_on"):
        out.append(("consent.obtained_on", "say when consent was obtained"))
    if not c.get("obtained_by"):
        out.append(("consent.obtained_by", "say who took the consent"))
    return out


# ---- dates --------------------------------------------------------------


def approx_date(v: Any, path: str, p: _Problems) -> dict[str, Any] | None:
    """An exact or approximate date as {earliest, latest, text}.

    Accepts "2026-04-02" (a day), "2026-04" (a month), "2026" (a year), or an
    object {"earliest": ..., "latest": ..., "text": "early April"}. An exact
    date has earliest == latest.
    """
    if v is None or v == "":
        return None
    if isinstance(v, str):
        rng = _range_from_string(v)
        if rng is None:
            p.add(path, "use YYYY-MM-DD, YYYY-MM or YYYY, or {earliest, latest, text}")
            return None
        return {"earliest": rng[0], "latest": rng[1], "text": ""}
    if not isinstance(v, dict):
        p.add(path, "must be a date string or an object")
        return None
    _unknown(v, {"earliest", "latest", "text"}, path, p)
    earliest = _iso_date(v.get("earliest"), f"{path}.earliest", p)
    latest = _iso_date(v.get("latest", v.get("earliest")), f"{path}.latest", p)
    if earliest and latest and earliest > latest:
        p.add(f"{path}.latest", "is before earliest")
    text = _text(v.get("text", ""), f"{path}.text", p, limit=MAX_SHORT)
    return {"earliest": earliest, "latest": latest, "text": text}


def _range_from_string(s: str) -> tuple[str, str] | None:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            date.fromisoformat(s)
            return s, s
        if re.fullmatch(r"\d{4}-\d{2}", s):
            y, m = int(s[:4]), int(s[5:])
            first = date(y, m, 1)
            nxt = date(y + (m == 12), m % 12 + 1, 1)
            return first.isoformat(), date.fromordinal(nxt.toordinal() - 1).isoformat()
        if re.fullmatch(r"\d{4}", s):
            return f"{s}-01-01", f"{s}-12-31"
    except ValueError:
        return None
    return None


def _iso_date(v: Any, path: str, p: _Problems) -> str | None:
    if not isinstance(v, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        p.add(path, "not a date (use YYYY-MM-DD)")
        return None
    try:
        date.fromisoformat(v)
    except ValueError:
        p.add(path, "not a real calendar date")
        return None
    return v


# ---- small fields -------------------------------------------------------


def _text(
    v: Any,
    path: str,
    p: _Problems,
    *,
    required: bool = False,
    limit: int = MAX_SHORT,
    multiline: bool = False,
) -> str:
    """Single-line text: no control characters at all (formats/text.py)."""
    if v is None:
        v = ""
    if not isinstance(v, str):
        p.add(path, "must be text")
        return ""
    bad = text_rules.problem(v, multiline=multiline)
    if bad is not None:
        p.add(path, bad)
        return ""
    if required and not v.strip():
        p.add(path, "is required")
    if len(v) > limit:
        p.add(path, f"is longer than {limit} characters")
        return v[:limit]
    return v


def _long(v: Any, path: str, p: _Problems, *, limit: int) -> str:
    """Multi-line text: newlines and tabs, no other control character."""
    return _text(v, path, p, limit=limit, multiline=True)


def _choice(v: Any, path: str, allowed: tuple[str, ...], p: _Problems) -> str:
    if v not in allowed:
        p.add(path, f"must be one of: {', '.join(allowed)}")
        return allowed[0]
    return str(v)


def _ident(v: Any, path: str, p: _Problems) -> str:
    if not isinstance(v, str) or not _ID_RE.fullmatch(v):
        p.add(path, "an id is 1-32 lower-case letters, digits, '_' or '-', starting with a letter")
        return "invalid"
    return v


def _country(v: Any, path: str, p: _Problems) -> str:
    if v in (None, ""):
        return ""
    if not isinstance(v, str) or not _COUNTRY_RE.fullmatch(v):
        p.add(path, "use a two-letter country code such as RU, TJ, KZ")
        return ""
    return v


def _currency(v: Any, path: str, p: _Problems) -> str:
    if not isinstance(v, str) or not _CURRENCY_RE.fullmatch(v):
        p.add(path, "use a three-letter currency code such as RUB, TJS, USD")
        return ""
    return v


def _amount(v: Any, path: str, p: _Problems) -> str:
    if (
        isinstance(v, bool)
        or not isinstance(v, (int, str))
        or (len(v) > MAX_AMOUNT if isinstance(v, str) else abs(v) >= 10**MAX_AMOUNT)
    ):
        p.add(path, 'must be a number written as text, e.g. "5000" or "5000.50"')
        return ""
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        p.add(path, "is not a number")
        return ""
    if not d.is_finite() or d < 0 or d >= Decimal(10) ** 15:
        p.add(path, "must be zero or a positive amount")
        return ""
    return str(v)


def _tags(v: Any, p: _Problems) -> list[str]:
    if not isinstance(v, list) or len(v) > MAX_TAGS:
        p.add("tags", f"must be a list of at most {MAX_TAGS} tags")
        return []
    out: list[str] = []
    for i, t in enumerate(v):
        if not isinstance(t, str) or not _TAG_RE.fullmatch(t):
            p.add(f"tags[{i}]", "a tag is 1-64 letters, digits, spaces or . : / + - _")
            continue
        if t not in out:
            out.append(t)
    return out


def _list(v: Any, path: str, limit: int, item: Any, p: _Problems) -> list[dict[str, Any]]:
    if not isinstance(v, list):
        p.add(path, "must be a list")
        return []
    if len(v) > limit:
        p.add(path, f"holds more than {limit} entries")
        return []
    return [item(x, f"{path}[{i}]", p) for i, x in enumerate(v)]


def _unknown(d: dict[str, Any], allowed: set[str], path: str, p: _Problems) -> None:
    for key in d:
        if key not in allowed:
            # The name is the sender's: escaped and cut, it cannot act on a terminal.
            name = text_rules.escape(str(key)[:64], keep_newlines=False)
            where = f"{path}.{name}" if path else name
            p.add(where, "unknown field (check the spelling against 'fieldkit record template')")


def _assign_ids(items: list[dict[str, Any]], prefix: str) -> None:
    used = {it.get("id") for it in items}
    n = 1
    for it in items:
        if "id" not in it:
            while f"{prefix}{n}" in used:
                n += 1
            it["id"] = f"{prefix}{n}"
            used.add(it["id"])
    for it in items:  # keep "id" first in each object for readability
        ident = it.pop("id")
        rest = dict(it)
        it.clear()
        it["id"] = ident
        it.update(rest)


def _unique_ids(items: list[dict[str, Any]], path: str, p: _Problems) -> None:
    seen: set[str] = set()
    for i, it in enumerate(items):
        ident = it.get("id")
        if ident in seen:
            p.add(f"{path}[{i}].id", f"id '{ident}' is used twice")
        if isinstance(ident, str):
            seen.add(ident)


def template() -> dict[str, Any]:
    """A complete example record, valid as it stands."""
    return {
        "schema": SCHEMA_VERSION,
        "pseudonym": "Witness K-7",
        "status": "draft",
        "risk": "high",
        "tags": ["protest-2026-04", "expulsion"],
        "interview": {
            "date": "2026-05-14",
            "place": "Community centre, Almaty",
            "languages": ["ru", "tg"],
            "interviewer": "FW-03",
            "interpreter": "",
        },
        "narrative": "Задержан 2 апреля после мирного протеста у посольства. ...",
        "persons": [
            {
                "id": "p1",
                "roles": ["informant", "victim"],
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
                "roles": ["relative"],
                "pseudonym": "K-7 mother",
                "relationship": "mother",
                "related_to": "p1",
                "gender": "female",
                "birth_year": None,
                "nationality": "TJ",
                "sensitive": {"real_name": "", "contacts": "", "exact_address": ""},
            },
        ],
        "incidents": [
            {
                "id": "i1",
                "type": "arbitrary_detention",
                "type_other": "",
                "victims": ["p1"],
                "date": {"earliest": "2026-04-02", "latest": "2026-04-02", "text": "2 April"},
                "place": {"country": "RU", "locality": "Moscow", "detail": "police station"},
                "perpetrator": {"actor_type": "police", "country": "RU", "unit": ""},
                "description": "Held for 48 hours without a lawyer.",
                "legal": {
                    "charge": "Administrative offence (unauthorised assembly)",
                    "court": "District court",
                    "case_number": "",
                    "outcome": "Fine and expulsion order",
                    "fine": {"amount": "15000", "currency": "RUB"},
                    "expulsion": True,
                },
            },
            {
                "id": "i2",
                "type": "family_pressure",
                "type_other": "",
                "victims": ["p2"],
                "date": {"earliest": "2026-04-01", "latest": "2026-04-10", "text": "early April"},
                "place": {"country": "TJ", "locality": "", "detail": ""},
                "perpetrator": {"actor_type": "security_service", "country": "TJ", "unit": ""},
                "description": "Officers visited the family home.",
                "legal": {
                    "charge": "",
                    "court": "",
                    "case_number": "",
                    "outcome": "",
                    "fine": None,
                    "expulsion": False,
                },
            },
        ],
        "consent": {
            "scope": "hq_only",
            "contact_allowed": True,
            "withdrawn": False,
            "withdrawn_on": None,
            "notes": "",
            "obtained": True,
            "method": "oral",
            "obtained_on": "2026-05-14",
            "obtained_by": "FW-03",
        },
    }
