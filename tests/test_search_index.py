"""Search as people type, after schema 8 made the full-text index again with longer
prefix indexes (docs/performance.md, "Search grows with the vault").

- What a search finds is defined here by a naive scan (`naive`): every typed word must be
  a word of the record, the last one may be the start of a word. The full-text index must
  find exactly that, for generated corpora and queries (Hypothesis), for prefixes of 1 to
  8 letters, for Cyrillic and Tajik letters in any case, and for hostile query text (FTS5
  syntax, quotes, control characters), which never raises and never means anything else.
- The migration from schema 7 (real v7 vaults, field and HQ, tests/fixtures/vaults/v7)
  indexes every record again in one transaction, reports its progress, and finds what
  the old index found; a record that does not decode stops it and changes nothing.
- A deleted record leaves nothing in the new prefix indexes either.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import sqlcipher3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.widgets import ProgressBar

from bench import corpus
from fieldkit.errors import CorruptVault
from fieldkit.services import model, search_text
from fieldkit.services.erase import delete_record
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.store import schema
from tests import sqlcipher_pages
from tests.conftest import PASSPHRASE, cli
from tests.test_migrations import _raw, _user_version

FIXTURE = Path(__file__).parent / "fixtures" / "vaults" / "v7"
TAJIK = "ҒӢҚӮҲҶғӣқӯҳҷ"


# ---- the definition: a naive scan ----------------------------------------------------


def words_of(text: str) -> list[str]:
    """The words of a text as the index's tokenizer (unicode61) cuts them: runs of
    letters, digits and private-use characters, after search_text.fold."""
    out: list[str] = []
    word: list[str] = []
    for ch in search_text.fold(text):
        if unicodedata.category(ch)[0] in "LN" or unicodedata.category(ch) == "Co":
            word.append(ch)
        elif word:
            out.append("".join(word))
            word = []
    if word:
        out.append("".join(word))
    return out


def naive(bodies: dict[int, str], typed: str) -> list[int]:
    """Record ids, newest (highest) first, whose text has every typed word, the last
    one as the start of a word."""
    query = words_of(typed)[: search_text.MAX_QUERY_TERMS]
    if not query:
        return []
    *whole, last = query
    found = []
    for rid, text in bodies.items():
        have = words_of(text)
        if all(w in have for w in whole) and any(h.startswith(last) for h in have):
            found.append(rid)
    return sorted(found, reverse=True)


def _fts_table() -> Any:
    """An in-memory table made exactly as schema 8 makes records_fts."""
    conn = sqlcipher3.connect(":memory:")
    create = schema._statements(schema._V8_SEARCH)[-1]
    assert create.startswith("CREATE VIRTUAL TABLE records_fts")
    conn.execute(create)
    return conn


def _fts(conn: Any, typed: str) -> list[int]:
    q = search_text.fts_query(typed)
    if q is None:
        return []
    rows = conn.execute(
        "SELECT rowid FROM records_fts WHERE records_fts MATCH ? ORDER BY rowid DESC", (q,)
    ).fetchall()
    return [int(r[0]) for r in rows]


# Letters in both cases (Latin, Russian, Tajik, ё), digits, and the characters FTS5 reads
# as syntax, spread over few distinct letters so that words and prefixes repeat.
ALPHABET = "abкоКОдДёЁ" + TAJIK + "гикухчГИКУХЧ" + "09 _-.,\"'*^():+{}\n"
texts = st.text(alphabet=ALPHABET, max_size=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(texts, min_size=1, max_size=12), typed=texts)
def test_index_finds_exactly_what_a_naive_scan_finds(records: list[str], typed: str) -> None:
    conn = _fts_table()
    bodies = {i + 1: search_text.fold(t) for i, t in enumerate(records)}
    conn.executemany("INSERT INTO records_fts (rowid, body) VALUES (?, ?)", bodies.items())
    assert _fts(conn, typed) == naive(bodies, typed)
    # A deleted row is found no more, and the others as before.
    conn.execute("DELETE FROM records_fts WHERE rowid = 1")
    del bodies[1]
    assert _fts(conn, typed) == naive(bodies, typed)


@settings(max_examples=300, deadline=None)
@given(typed=st.text(max_size=60))
def test_any_text_typed_is_a_valid_query(typed: str) -> None:
    """Whatever is typed (any code point, controls and surrogate-free text included)
    makes a query FTS5 accepts: words only, each quoted."""
    conn = _fts_table()
    conn.execute("INSERT INTO records_fts (rowid, body) VALUES (1, ?)", (search_text.fold(typed),))
    found = _fts(conn, typed)
    assert found in ([], [1])
    if search_text.query_words(typed) and all(
        search_text.is_word_char(c) or c in " .,;:!?\n\t" for c in search_text.fold(typed)
    ):
        assert found == [1]


def test_every_query_word_character_is_one_the_tokenizer_keeps_in_a_word() -> None:
    """Each query word is quoted; if the tokenizer cut one in two, FTS5 would read a
    phrase, which an index without positions refuses. So every character a query word
    may hold is checked against this SQLite's tokenizer: between two letters it must
    not separate them."""
    conn = _fts_table()
    conn.executemany(
        "INSERT INTO records_fts (rowid, body) VALUES (?, ?)",
        (
            (i, f"q{chr(i)}q")
            for i in range(0x110000)
            if not 0xD800 <= i < 0xE000 and search_text.is_word_char(chr(i))
        ),
    )
    cut = conn.execute("SELECT rowid FROM records_fts WHERE records_fts MATCH '\"q\"'").fetchall()
    assert [hex(r[0]) for r in cut] == []


HOSTILE = (
    '"',
    '""',
    "'",
    '"кодир',
    "кодир\"'",
    "NEAR(кодир суд)",
    "NEAR(кодир суд, 2)",
    "кодир NEAR суд",
    "кодир OR суд",
    "кодир AND суд",
    "кодир NOT суд",
    "NOT кодир",
    "-кодир",
    "+кодир",
    "^кодир",
    "кодир*",
    "*",
    "* *",
    "код*ир",
    "body:кодир",
    "{body}: кодир",
    "- body : суд",
    "(кодир",
    "кодир)",
    "((((",
    "\x00кодир",
    "кодир\x00суд",
    "\x1b[31mкодир\x1b[0m",
    "\u202eкодир",
    "\r\n\t",
    "кодир\\",
    "%_",
    "кодир " * 40,
    "x" * 5000,
)
CORPUS = {
    1: "Қодир задержан у суда",
    2: "кодир and суд: near the court; NOT guilty",
    3: "body of the report, OR notes",
    4: "Ҷавоб not кодиров",
    5: "x" * 5000,
}


@pytest.mark.parametrize("typed", HOSTILE)
def test_hostile_query_text_never_raises_and_means_only_its_words(typed: str) -> None:
    conn = _fts_table()
    bodies = {rid: search_text.fold(t) for rid, t in CORPUS.items()}
    conn.executemany("INSERT INTO records_fts (rowid, body) VALUES (?, ?)", bodies.items())
    assert _fts(conn, typed) == naive(bodies, typed)


# ---- through the vault ------------------------------------------------------------------


def _doc(narrative: str, pseudonym: str = "W") -> dict[str, Any]:
    d = model.template()
    d["narrative"] = narrative
    d["pseudonym"] = pseudonym
    return model.validate(d)


def test_prefixes_of_one_to_eight_letters_in_every_script(vault: Vault) -> None:
    rs = RecordService(vault.db)
    ru = rs.add(_doc("Задержанного ещё допрашивали в отделении полиции"))
    tj = rs.add(_doc("Ҳуҷҷатҳояшро гирифтанд; Ғайратро Қӯрғонтеппа бурданд, Ӣсо ҳамроҳ"))
    en = rs.add(_doc("Interrogated without an interpreter"))

    def found(typed: str) -> set[str]:
        return {s.id for s in rs.search(typed, limit=100)}

    for word, rid in (
        ("допрашивали", ru),
        ("отделении", ru),
        ("ҳуҷҷатҳояшро", tj),
        ("ғайратро", tj),
        ("қӯрғонтеппа", tj),
        ("interrogated", en),
        ("interpreter", en),
    ):
        for k in range(1, 9):
            typed = word[:k]
            assert rid in found(typed), typed
            assert rid in found(typed.upper()), typed.upper()
            assert found(typed) == {r for r in (ru, tj, en) if _has_prefix(rs, r, typed)}
    # Tajik letters in either case, or the Russian letters typed for them on a Russian
    # keyboard, find each other; ё and е too.
    for typed in ("ҲУҶҶАТ", "хучч", "ХуЧЧаТ", "ғайр", "гайр", "ҚӮРҒ", "курго", "ӣсо", "исо"):
        assert found(typed) == {tj}, typed
    assert found("задержанного") == {ru}
    assert found("ЗАДЕРЖАННОГО допраш") == {ru}
    assert found("допраш интерпр") == set()  # every word must match
    assert found("ЕЩЁ") == found("еще") == found("ещё") == {ru}


def _has_prefix(rs: RecordService, rid: str, typed: str) -> bool:
    doc = rs.get(rid).doc
    folded = search_text.fold(typed)
    return any(w.startswith(folded) for w in words_of(search_text.index_body(doc)))


def test_search_pages_newest_first_with_the_limit_in_the_query(vault: Vault) -> None:
    rs = RecordService(vault.db)
    ids = [rs.add(_doc(f"общий текст номер{i}")) for i in range(25)]
    newest_first = list(reversed(ids))
    page1 = [s.id for s in rs.search("общ", limit=10)]
    page2 = [s.id for s in rs.search("общ", limit=10, offset=10)]
    page3 = [s.id for s in rs.search("общ", limit=10, offset=20)]
    assert page1 + page2 + page3 == newest_first


# ---- the migration from schema 7 -------------------------------------------------------


def _copy7(tmp_path: Path) -> Path:
    dest = tmp_path / "v7"
    shutil.copytree(FIXTURE, dest)
    for vault in dest.iterdir():
        if vault.is_dir():
            vault.chmod(0o700)
    return dest


def _fts_sql(root: Path) -> str:
    conn = _raw(root)
    try:
        row = conn.execute("SELECT sql FROM sqlite_master WHERE name='records_fts'").fetchone()
        return str(row[0])
    finally:
        conn.close()


@pytest.mark.parametrize("kind", ["field", "hq"])
def test_v7_vault_gets_the_new_index_with_progress_and_finds_every_record(
    kind: str, tmp_path: Path
) -> None:
    root = _copy7(tmp_path) / kind
    assert _user_version(root) == 7
    assert "prefix='2 3 4'" in _fts_sql(root)
    calls: list[tuple[int, int]] = []
    with Vault.unlock(root, PASSPHRASE, on_upgrade=lambda d, t: calls.append((d, t))) as v:
        assert v.db.pragma("user_version") == schema.CURRENT_VERSION
        rs = RecordService(v.db)
        held = rs.list_records()
        assert held
        assert calls == [(0, len(held)), (len(held), len(held))]
        for s in held:
            doc = rs.get(s.id).doc
            for word in words_of(doc["narrative"]):
                for k in range(1, min(8, len(word)) + 1):
                    assert s.id in {r.id for r in rs.search(word[:k])}, word[:k]
    assert "prefix='1 2 3 4 5 6', detail=column" in _fts_sql(root)
    calls.clear()
    with Vault.unlock(root, PASSPHRASE, on_upgrade=lambda d, t: calls.append((d, t))):
        pass
    assert calls == []  # once only


def test_search_finds_the_same_before_and_after_the_upgrade(tmp_path: Path) -> None:
    """A corpus indexed as schema 7 indexed it (prefix indexes 2, 3, 4) and searched
    with schema 7's query (words as \\w+, each quoted, the last as a prefix); after the
    upgrade, the same searches through today's code give the same records in the same
    order."""
    root = tmp_path / "vault"
    from tests.conftest import WEAK

    v, _ = Vault.create(root, PASSPHRASE, kdf_params=WEAK)
    rng = random.Random(5)
    RecordService(v.db).add_many([corpus.testimony(rng, i) for i in range(150)])
    rows = v.db.all(
        "SELECT r.rid, v.doc FROM records r JOIN record_versions v"
        " ON v.record_id = r.id AND v.version = r.version"
    )
    with v.db.transaction():
        v.db.execute("DROP TABLE records_fts")
        v.db.execute(
            "CREATE VIRTUAL TABLE records_fts USING fts5(body, content='', contentless_delete=1,"
            " tokenize='unicode61 remove_diacritics 0', prefix='2 3 4')"
        )
        for rid, doc in rows:
            v.db.execute(
                "INSERT INTO records_fts (rowid, body) VALUES (?, ?)",
                (rid, search_text.stored_index_body(bytes(doc))),
            )
        _undo_the_rest_of_schema_8(v.db)
        v.db.execute("PRAGMA user_version = 7")
    typed = corpus.queries(random.Random(7), 200)
    typed += [w[:k] for w in ("задержан", "ҳуҷҷат", "қодир", "police") for k in range(1, 9)]

    def schema7_query(text: str) -> str | None:
        words = re.findall(r"\w+", search_text.fold(text))[:16]
        return " ".join(f'"{w}"' for w in words) + "*" if words else None

    before = {}
    for t in typed:
        q = schema7_query(t)
        before[t] = (
            []
            if q is None
            else [
                str(r[0])
                for r in v.db.all(
                    "SELECT r.id FROM records_fts JOIN records r ON r.rid = records_fts.rowid"
                    " WHERE records_fts MATCH ? ORDER BY records_fts.rowid DESC",
                    (q,),
                )
            ]
        )
    v.lock()
    assert sum(map(len, before.values())) > 1000  # the queries find things
    with Vault.unlock(root, PASSPHRASE) as v2:
        assert v2.db.pragma("user_version") == schema.CURRENT_VERSION
        rs = RecordService(v2.db)
        after = {t: [s.id for s in rs.search(t, limit=1000)] for t in typed}
    assert after == before


def test_a_record_that_does_not_decode_stops_the_upgrade_and_changes_nothing(
    tmp_path: Path,
) -> None:
    root = _copy7(tmp_path) / "field"
    conn = _raw(root)
    conn.execute(
        "UPDATE record_versions SET doc = x'7b2262726f6b656e' WHERE (record_id, version) IN"
        " (SELECT id, version FROM records ORDER BY rid DESC LIMIT 1)"
    )
    held = conn.execute("SELECT count(*) FROM records").fetchone()[0]
    conn.close()
    old_sql = _fts_sql(root)
    with pytest.raises(CorruptVault, match="does not decode"):
        Vault.unlock(root, PASSPHRASE)
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    r = cli(["record", "list", "--vault", str(root), "--passphrase-file", str(pf)])
    assert r.code == 8, r.err
    assert "does not decode" in r.err and "Traceback" not in r.err
    # Still schema 7 with its old index and every record: nothing was made anew.
    assert _user_version(root) == 7
    assert _fts_sql(root) == old_sql
    conn = _raw(root)
    try:
        assert conn.execute("SELECT count(*) FROM records").fetchone()[0] == held
        old = conn.execute(
            "SELECT count(*) FROM records_fts WHERE records_fts MATCH '\"кодир\"*'"
        ).fetchone()[0]
        assert old >= 1  # the old index still answers
    finally:
        conn.close()


def test_the_cli_says_it_is_upgrading_the_index(tmp_path: Path) -> None:
    root = _copy7(tmp_path) / "hq"
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    args = ["record", "list", "--json", "--vault", str(root), "--passphrase-file", str(pf)]
    first = cli(args)
    assert first.code == 0, first.err
    assert "Upgrading the search index of" in first.err
    second = cli(args)
    assert second.code == 0 and "Upgrading" not in second.err
    assert first.json() == second.json()


# ---- deleted means deleted, in the prefix indexes too ----------------------------------


def _count(pages: list[sqlcipher_pages.Page], needle: bytes) -> int:
    return sum(p.plain.count(needle) for p in pages)


def test_a_deleted_record_leaves_no_prefix_of_its_words(vault: Vault) -> None:
    """The prefix indexes hold the first 2 to 6 letters of every word. A word that
    starts with letters no other record has is found in the decrypted pages (main
    index and prefix indexes) before, and nowhere after the record is deleted."""
    rs = RecordService(vault.db)
    key = bytes(vault._master_key)
    rng = random.Random()
    unique = "щъ" + "".join(rng.choice("эюяжшщъ") for _ in range(10))
    gone = rs.add(_doc(f"Сказал {unique} и ушёл", pseudonym="Gone"))
    kept = rs.add(_doc("Остальное остаётся", pseudonym="Kept"))
    assert [s.id for s in rs.search(unique[:5])] == [gone]
    for k in (5, 6):
        needle = unique[:k].encode()
        # The main index's word and the prefix index's entry for k letters: two at least.
        assert _count(sqlcipher_pages.pages(vault.paths.database, key), needle) >= 2, k
    delete_record(vault.db, gone)
    assert rs.search(unique[:5]) == [] and rs.search(unique[:6]) == []
    assert [s.id for s in rs.search("остальн")] == [kept]
    for stage in ("open", "locked"):
        if stage == "locked":
            vault.lock()
        pages = sqlcipher_pages.pages(vault.paths.database, key)
        for k in (2, 3, 4, 5, 6):
            assert _count(pages, unique[:k].encode()) == 0, (stage, k)


async def test_the_app_shows_the_upgrade_on_the_unlock_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fieldkit.ui.screens.records import RecordsScreen
    from fieldkit.ui.screens.unlock import UnlockScreen
    from tests.ui_helpers import make_app, type_into, wait_for

    root = _copy7(tmp_path) / "field"
    shown: list[tuple[str, float | None, float | None]] = []
    original = UnlockScreen._show_upgrade

    def spy(self: UnlockScreen, done: int, total: int) -> None:
        original(self, done, total)
        bar = self.query_one("#progress", ProgressBar)
        shown.append((str(self.query_one("#message").render()), bar.progress, bar.total))

    monkeypatch.setattr(UnlockScreen, "_show_upgrade", spy)
    app = make_app(root, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        # Unlocked: the records list, or the editor it opens for the fixture's drafts.
        await wait_for(pilot, lambda: app.vault is not None and app.screen_stack[1:])
        await wait_for(pilot, lambda: any(isinstance(s, RecordsScreen) for s in app.screen_stack))
        await pilot.pause()
    n = len(_expected7()["field"]["records"])
    assert shown == [
        (f"Upgrading the search index: 0 of {n} records…", 0, n),
        (f"Upgrading the search index: {n} of {n} records…", n, n),
    ]


def _expected7() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURE / "expected.json").read_text())
    return data


def _undo_the_rest_of_schema_8(db: Any) -> None:
    """Schema 8 is one migration with parts from other features (store/schema.py): take
    them out too, so the vault is a schema-7 vault the upgrade can run on again."""
    for column in ("copy_sha256", "copy"):
        db.execute(f"ALTER TABLE extraction_log DROP COLUMN {column}")
    db.execute("DROP TABLE custody")
    db.execute("DELETE FROM meta WHERE key = 'custody_backfill_at'")
