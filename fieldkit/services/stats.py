"""Incident counts HQ reads at a glance: by type, by month, by perpetrator kind and by
country, as terminal bar charts and as a table (CSV) for a report.

Counts are over incidents (a record with three incidents counts three times), of the
records the filters and consent scope select (services/hq_query.py: withdrawn consent
never counts), streamed from one snapshot. An incident's month is the month of its
earliest date; one without a date counts under "unknown", as does one without a country.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fieldkit.errors import FileAccessError
from fieldkit.formats import text as text_rules
from fieldkit.msgids import N_
from fieldkit.services import fsio, hq_query, identity, model
from fieldkit.services.analysis_export import BOM, cell
from fieldkit.services.hq_query import Filters
from fieldkit.store.db import Database

UNKNOWN = "unknown"
DIMENSIONS = ("type", "month", "perpetrator", "country")
TITLES = {
    "type": N_("Incidents by type"),
    "month": N_("Incidents by month"),
    "perpetrator": N_("Incidents by perpetrator kind"),
    "country": N_("Incidents by country"),
}
MAX_KEYS = 500  # distinct values kept per dimension (a hostile bundle cannot grow it)


@dataclass
class Stats:
    records: int = 0
    incidents: int = 0
    counts: dict[str, Counter[str]] = field(
        default_factory=lambda: {d: Counter() for d in DIMENSIONS}
    )

    def add(self, dim: str, key: str) -> None:
        c = self.counts[dim]
        if key in c or len(c) < MAX_KEYS:
            c[key] += 1
        else:
            c["other"] += 1

    def rows(self, dim: str) -> list[tuple[str, int]]:
        """(value, count), largest first; months in calendar order."""
        c = self.counts[dim]
        if dim == "month":
            return sorted(c.items(), key=lambda kv: (kv[0] == UNKNOWN, kv[0]))
        return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))


def count(db: Database, filters: Filters | None = None, scope: str = "hq") -> Stats:
    identity.hq(db)
    st = Stats()
    with contextlib.closing(hq_query.received(db, filters or Filters(), scope)) as records:
        for rec in records:
            st.records += 1
            for inc in rec.incidents:
                st.incidents += 1
                d = inc.get("date") or {}
                earliest = d.get("earliest") or ""
                st.add("type", str(inc.get("type") or UNKNOWN))
                st.add("month", earliest[:7] if len(earliest) >= 7 else UNKNOWN)
                actor = (inc.get("perpetrator") or {}).get("actor_type")
                st.add("perpetrator", str(actor or UNKNOWN))
                st.add("country", str((inc.get("place") or {}).get("country") or UNKNOWN))
    return st


def label(dim: str, key: str) -> str:
    """What a person reads for a value: the vocabulary's label for types and actors."""
    if dim == "type":
        return model.INCIDENT_TYPES.get(key, key)
    if dim == "perpetrator":
        return model.ACTOR_TYPES.get(key, key)
    return key


def bars(rows: list[tuple[str, int]], width: int = 80) -> list[str]:
    """Horizontal bars scaled to the largest count: 'label ████ 12', each line at most
    `width` columns. Labels are escaped (formats/text.py) and cut to half the width."""
    if not rows:
        return ["(none)"]
    names = [text_rules.escape(key, keep_newlines=False) for key, _ in rows]
    label_width = max(1, min(max(len(n) for n in names), width // 2))
    top = max(n for _, n in rows)
    digits = len(str(top))
    room = max(width - label_width - digits - 3, 1)
    out = []
    for name, (_, n) in zip(names, rows, strict=True):
        if len(name) > label_width:
            name = name[: label_width - 1] + "…"
        length = max(1, round(n * room / top)) if n else 0
        out.append(f"{name:<{label_width}} {'█' * length:<{room}} {n:>{digits}}")
    return out


def _same(msgid: str) -> str:
    return msgid


def _english(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def chart_lines(
    st: Stats,
    width: int = 80,
    gettext: Callable[[str], str] = _same,
    ngettext: Callable[[str, str, int], str] = _english,
) -> list[str]:
    """The counts as bar charts. Headings and vocabulary labels go through `gettext` and
    `ngettext` (the CLI's and the app's catalogue; English without them); months,
    country codes and any value from a bundle are shown as sent."""
    records = ngettext("{n} record", "{n} records", st.records).format(n=st.records)
    out = [
        ngettext("{n} incident in {records}", "{n} incidents in {records}", st.incidents).format(
            n=st.incidents, records=records
        )
    ]
    for dim in DIMENSIONS:
        out += ["", gettext(TITLES[dim])]
        rows = st.rows(dim)
        if not rows:
            out.append(gettext(N_("(none)")))
            continue
        out += bars([(_bar_label(dim, k, gettext), n) for k, n in rows], width)
    return out


def _bar_label(dim: str, key: str, gettext: Callable[[str], str]) -> str:
    if key == UNKNOWN:
        return gettext(N_("unknown"))
    shown = label(dim, key)
    # A vocabulary label is an N_() msgid; any other value came from a bundle: as sent.
    return gettext(shown) if shown != key else shown


CSV_COLUMNS = ("dimension", "value", "label", "count")


def write_csv(st: Stats, out: Path, *, bom: bool = False) -> Path:
    """The counts as one table (dimension, value, label, count), atomically, for a
    report. Values come from bundles: cells are neutralised as in analysis exports."""
    try:
        with fsio.atomic_writer(out, mode=0o600) as raw:
            fh = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            if bom:
                fh.write(BOM)
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(CSV_COLUMNS)
            for dim in DIMENSIONS:
                for key, n in st.rows(dim):
                    w.writerow([dim, cell(key), cell(label(dim, key)), n])
            fh.flush()
            fh.detach()
    except OSError as exc:
        raise FileAccessError.from_os(f"cannot write {out}", exc) from None
    return out
