"""What goes into the full-text index, and how a typed query becomes an FTS5 query.

Both the indexed text and the query are folded the same way: lower case, ё -> е,
and the Tajik letters to the Russian letters people type when they have no Tajik
keyboard (ғ->г, ӣ->и, қ->к, ӯ->у, ҳ->х, ҷ->ч). So "Қодир", "қодир" and "кодир"
all find each other. The index itself is contentless: it stores no second copy
of the text.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from fieldkit.errors import CorruptVault
from fieldkit.msgids import N_

_FOLD = str.maketrans({"ё": "е", "ғ": "г", "ӣ": "и", "қ": "к", "ӯ": "у", "ҳ": "х", "ҷ": "ч"})
MAX_QUERY_TERMS = 16
# Letters in Python's Unicode data that FTS5's unicode61 tokenizer, built on older tables,
# reads as separators (New Tai Lue vowel signs and two Vedic signs, once spacing marks).
# Inside a quoted query word they would cut it in two, and a two-token phrase is refused
# by an index without word positions (detail=column, store/schema.py version 8).
# tests/test_search_index.py checks every code point against the SQLite in use.
_NOT_TOKEN = frozenset(map(chr, (*range(0x19B0, 0x19C1), 0x19C8, 0x19C9, 0x1CF2, 0x1CF3)))


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


def stored_index_body(doc: bytes) -> str:
    """index_body of a document as the vault stores it (canonical JSON), for the schema
    migration that indexes every record again (store/schema.py, version 8). A document
    that does not decode stops the migration, which then changes nothing."""
    try:
        parsed = json.loads(doc)
        if not isinstance(parsed, dict):
            raise TypeError("not an object")
        return index_body(parsed)
    except (ValueError, TypeError, AttributeError):
        raise CorruptVault(
            N_("a stored record does not decode, so the search index cannot be made again"),
            hint=N_("nothing was changed; restore the vault folder from a copy"),
        ) from None


def is_word_char(ch: str) -> bool:
    """Whether the index's tokenizer keeps `ch` inside a word: letters, digits and
    private-use characters; everything else (spaces, punctuation, '_', quotes, FTS5's
    own syntax characters, controls) separates words."""
    category = unicodedata.category(ch)
    return (category[0] in "LN" or category == "Co") and ch not in _NOT_TOKEN


def query_words(typed: str) -> list[str]:
    """The words of typed text, folded, each of which the tokenizer reads as one word."""
    words: list[str] = []
    current: list[str] = []
    for ch in fold(typed):
        if is_word_char(ch):
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def fts_query(typed: str) -> str | None:
    """Every word must match; the last one as a prefix, so results follow typing.

    Each term is one word of letters and digits only, quoted: nothing the user types is
    read as FTS5 syntax (NEAR, OR, *, ^, quotes, column filters), and no term is a phrase
    of several tokens (which the index, having no positions, would refuse).
    """
    words = query_words(typed)[:MAX_QUERY_TERMS]
    if not words:
        return None
    terms = [f'"{w}"' for w in words]
    terms[-1] += "*"
    return " ".join(terms)
