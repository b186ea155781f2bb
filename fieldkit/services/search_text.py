"""What goes into the full-text index, and how a typed query becomes an FTS5 query.

Both the indexed text and the query are folded the same way: lower case, ё -> е,
and the Tajik letters to the Russian letters people type when they have no Tajik
keyboard (ғ->г, ӣ->и, қ->к, ӯ->у, ҳ->х, ҷ->ч). So "Қодир", "қодир" and "кодир"
all find each other. The index itself is contentless: it stores no second copy
of the text.
"""

from __future__ import annotations

import re
from typing import Any

_FOLD = str.maketrans({"ё": "е", "ғ": "г", "ӣ": "и", "қ": "к", "ӯ": "у", "ҳ": "х", "ҷ": "ч"})
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_TERMS = 16


def fold(text: str) -> str:
    return text.lower().translate(_FOLD)


def index_body(doc: dict[str, Any]) -> str:
    """The text a record is found by: narrative and the main fields."""
    parts: list[str] = [doc.get("pseudonym", ""), doc.get("narrative", "")]
    parts += doc.get("tags", [])
    iv = doc.get("interview", {})
    parts += [iv.get("place", ""), iv.get("interviewer", ""), iv.get("interpreter", "")]
    for person in doc.get("persons", []):
        parts += [person.get("pseudonym", ""), person.get("relationship", "")]
        parts += [person.get("sensitive", {}).get("real_name", "")]
    for inc in doc.get("incidents", []):
        place = inc.get("place", {})
        perp = inc.get("perpetrator", {})
        legal = inc.get("legal", {})
        date = inc.get("date") or {}
        parts += [
            inc.get("type", "").replace("_", " "),
            inc.get("type_other", ""),
            inc.get("description", ""),
            place.get("locality", ""),
            place.get("detail", ""),
            perp.get("unit", ""),
            legal.get("charge", ""),
            legal.get("court", ""),
            legal.get("outcome", ""),
            date.get("text", ""),
        ]
    return fold("\n".join(p for p in parts if p))


def fts_query(typed: str) -> str | None:
    """Every word must match; the last one as a prefix, so results follow typing.

    Each term is quoted, so nothing the user types is read as FTS5 syntax.
    """
    words = _WORD.findall(fold(typed))[:MAX_QUERY_TERMS]
    if not words:
        return None
    terms = [f'"{w}"' for w in words]
    terms[-1] += "*"
    return " ".join(terms)
