"""Which received testimony an HQ export or count covers: filters, streamed from one
snapshot.

Filters (each optional, all must hold):
  date_from, date_to  an incident's date range overlaps [date_from, date_to]
                      (YYYY-MM-DD; an incident without a date does not match)
  device              the name on the sending device's card (every enrolled device
                      with that exact name; a device names itself)
  country             where the incident happened (place.country, two letters)
  incident_type       the incident's type (model.INCIDENT_TYPES)

A record matches when it came from a matching device and, if any incident filter is
given, at least one of its incidents matches them all; those incidents are its
`incidents`. Records whose consent is withdrawn never match, and `scope` keeps only
the consent scopes it names (analysis_export.SCOPES).
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator
from dataclasses import dataclass
from datetime import date
from typing import Any

from fieldkit.errors import InvalidInput, NotFound
from fieldkit.formats.cards import short_code
from fieldkit.services import model
from fieldkit.store import analysis as store
from fieldkit.store.db import Database

SCOPES = {
    "hq": ("hq_only", "anonymised_publication", "named_publication"),
    "anonymised": ("anonymised_publication", "named_publication"),
    "named": ("named_publication",),
}
_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class Filters:
    date_from: str | None = None
    date_to: str | None = None
    device: str | None = None
    country: str | None = None
    incident_type: str | None = None

    @property
    def on_incidents(self) -> bool:
        return bool(self.date_from or self.date_to or self.country or self.incident_type)

    def checked(self) -> Filters:
        """The filters normalised (country upper-case, blanks as None), or InvalidInput."""

        def blank(v: str | None) -> str | None:
            return v.strip() if v and v.strip() else None

        f = Filters(
            blank(self.date_from),
            blank(self.date_to),
            blank(self.device),
            (blank(self.country) or "").upper() or None,
            blank(self.incident_type),
        )
        for what, v in (("from", f.date_from), ("to", f.date_to)):
            if v is not None:
                try:
                    date.fromisoformat(v)
                except ValueError:
                    raise InvalidInput(
                        f"'{what}' is not a date", hint="use YYYY-MM-DD, e.g. 2026-04-01"
                    ) from None
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
                    raise InvalidInput(f"'{what}' is not a date", hint="use YYYY-MM-DD")
        if f.date_from and f.date_to and f.date_from > f.date_to:
            raise InvalidInput("the date range ends before it starts")
        if f.country is not None and not _COUNTRY.fullmatch(f.country):
            raise InvalidInput("a country is a two-letter code", hint="e.g. RU, TJ, KZ")
        if f.incident_type is not None and f.incident_type not in model.INCIDENT_TYPES:
            raise InvalidInput(
                f"unknown incident type {f.incident_type!r}",
                hint="one of " + ", ".join(model.INCIDENT_TYPES),
            )
        return f

    def incident_matches(self, inc: dict[str, Any]) -> bool:
        if self.incident_type and inc.get("type") != self.incident_type:
            return False
        if self.country and (inc.get("place") or {}).get("country") != self.country:
            return False
        if self.date_from or self.date_to:
            d = inc.get("date") or {}
            first, last = d.get("earliest"), d.get("latest") or d.get("earliest")
            if not first or not last:
                return False
            if self.date_from and last < self.date_from:
                return False
            if self.date_to and first > self.date_to:
                return False
        return True


@dataclass(frozen=True)
class Received:
    id: str
    version: int
    doc: dict[str, Any]
    device: bytes | None  # the sending device's fingerprint; None if not received
    device_name: str  # "" when the record was not received from a device
    device_code: str
    incidents: list[dict[str, Any]]  # those that match the filters (all, without filters)


@dataclass
class Tally:
    matched: int = 0
    withheld: int = 0  # by consent (withdrawn, or outside the scope)


def received(
    db: Database, filters: Filters, scope: str = "hq", tally: Tally | None = None
) -> Generator[Received, None, None]:
    """Every matching record's current version, one at a time, from one read snapshot:
    what other connections commit meanwhile does not show. Memory does not grow with
    the number of records."""
    if scope not in SCOPES:
        raise InvalidInput(f"unknown scope {scope!r}", hint="use hq, anonymised or named")
    filters = filters.checked()
    tally = tally if tally is not None else Tally()
    with store.snapshot(db):
        names = store.device_names(db)
        codes = {fp: short_code(fp) for fp in names}
        devices: list[bytes] | None = None
        if filters.device is not None:
            devices = [fp for fp, name in names.items() if name == filters.device]
            if not devices:
                raise NotFound(
                    f"no enrolled device is named {filters.device!r}",
                    hint="'fieldkit hq devices' lists the names",
                )
        for row in store.current_records(db, devices):
            doc = model.upgrade(json.loads(row.doc))  # schema 1 from older devices
            incidents = list(doc.get("incidents") or [])
            if filters.on_incidents:
                incidents = [i for i in incidents if filters.incident_matches(i)]
                if not incidents:
                    continue
            consent = doc.get("consent") or {}
            if consent.get("withdrawn") or consent.get("scope") not in SCOPES[scope]:
                tally.withheld += 1
                continue
            tally.matched += 1
            yield Received(
                row.id,
                row.version,
                doc,
                row.device,
                names.get(row.device, "") if row.device is not None else "",
                "" if row.device is None else codes.get(row.device) or short_code(row.device),
                incidents,
            )
