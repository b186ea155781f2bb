"""Translations: the catalogues are complete, consistent with the code, compiled, and
the language is chosen as docs say (fieldkit/i18n.py).

Update the catalogues after changing strings with `make translations` (see Makefile)."""

from __future__ import annotations

import ast
import gettext
import io
import re
import string
import unicodedata
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from fieldkit import i18n
from fieldkit.services import model

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "fieldkit" / "locale"
POT = LOCALE / "fieldkit.pot"
LANGS = ("ru", "tg")
# The same keywords as `make pot` (Babel's defaults: _, gettext, ngettext, N_, ...).
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def _catalog(path: Path, locale: str | None = None):  # type: ignore[no-untyped-def]
    with open(path, "rb") as fh:
        return read_po(fh, locale=locale)


def _po(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "fieldkit.po"


def _ids(cat) -> set[str]:  # type: ignore[no-untyped-def]
    return {m.id if isinstance(m.id, str) else m.id[0] for m in cat if m.id}


def _placeholders(text: str) -> list[str]:
    """{name} fields and %-conversions (%s, %(n)d), in a canonical order."""
    found: list[str] = []
    for _literal, field, spec, conv in string.Formatter().parse(text):
        if field is not None:
            found.append(
                "{" + field + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
            )
    found += re.findall(r"%(?:\([a-z_]+\))?[-#0 +]*\d*(?:\.\d+)?[sdirf%]", text)
    return sorted(found)


# ---- the template is what the code says ---------------------------------------


def test_template_holds_every_marked_string_of_the_code() -> None:
    in_code = {
        msg[2] if isinstance(msg[2], str) else msg[2][0]
        for msg in extract_from_dir(str(ROOT / "fieldkit"), keywords=KEYWORDS)
    }
    template = _ids(_catalog(POT))
    missing = sorted(in_code - template)
    stale = sorted(template - in_code)
    assert not missing, f"run 'make translations': not in fieldkit.pot: {missing[:10]}"
    assert not stale, f"run 'make translations': no longer in the code: {stale[:10]}"


def test_vocabulary_labels_are_in_the_template() -> None:
    template = _ids(_catalog(POT))
    labels = [*model.INCIDENT_TYPES.values(), *model.ACTOR_TYPES.values()]
    codes = [*model.PERSON_ROLES, *model.RISK_LEVELS, *model.STATUSES]
    scopes = [i18n.SCOPE_LABELS[s] for s in model.CONSENT_SCOPES]
    assert not [x for x in labels + codes + scopes if x not in template]


# ---- each catalogue is complete and consistent ----------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_msgid_is_translated(lang: str) -> None:
    cat = _catalog(_po(lang), lang)
    template_ids = _ids(_catalog(POT))
    assert _ids(cat) == template_ids, "run 'make po': the catalogue lags the template"
    untranslated = []
    for m in cat:
        if not m.id:
            continue
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        if "fuzzy" in m.flags or not all(forms):
            untranslated.append(m.id)
        if isinstance(m.id, tuple):
            assert len(forms) == cat.num_plurals, m.id
    assert not untranslated, f"{lang}: untranslated or fuzzy: {untranslated[:10]}"


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_and_edges_match(lang: str) -> None:
    bad = []
    for m in _catalog(_po(lang), lang):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        expected = _placeholders(ids[-1])
        for form in forms:
            if _placeholders(form) != expected:
                bad.append((ids[0], form))
            # Leading/trailing spaces and newlines are layout: "Passphrase: " stays a prompt.
            if (form[:1].isspace(), form[-1:].isspace()) != (
                ids[0][:1].isspace(),
                ids[0][-1:].isspace(),
            ):
                bad.append((ids[0], form))
            if form.count("\n") != ids[0].count("\n"):
                bad.append((ids[0], form))
    assert not bad, f"{lang}: {bad[:5]}"


def _mixed_script_words(text: str) -> list[str]:
    """Words mixing Latin and Cyrillic letters (a Latin 'o' in a Russian word, ...)."""
    out = []
    for word in re.findall(r"\w+", text):
        scripts = {unicodedata.name(c, "").split()[0] for c in word if c.isalpha()}
        if {"LATIN", "CYRILLIC"} <= scripts:
            out.append(word)
    return out


@pytest.mark.parametrize("lang", LANGS)
def test_no_look_alike_letters(lang: str) -> None:
    bad = []
    for m in _catalog(_po(lang), lang):
        for form in m.string if isinstance(m.string, tuple) else (m.string,):
            bad += _mixed_script_words(form or "")
    assert not bad, bad


def test_tajik_uses_its_own_letters() -> None:
    """Ғ Ӣ Қ Ӯ Ҳ Ҷ, not the Russian Г И К У Х Ч in their place: common Tajik words
    must be spelt with them (a catalogue typed on a Russian layout fails here)."""
    text = " ".join(
        s
        for m in _catalog(_po("tg"), "tg")
        for s in (m.string if isinstance(m.string, tuple) else (m.string,))
    )
    for letter in "ғӣқӯҳҷ":
        assert letter in text
    for wrong in ("хамаи", "хеч", "чустучу", "кулф", "чабрдида", "рузи", "шахрванди"):
        assert wrong not in text.lower(), wrong
    assert "ҷабрдида" in text and "розигӣ" in text.lower() and "ихроҷ" in text.lower()


# ---- the compiled catalogues are those of the .po files -------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_compiled_catalogue_is_not_stale(lang: str) -> None:
    mo = _po(lang).with_suffix(".mo")
    with open(mo, "rb") as fh:
        shipped = gettext.GNUTranslations(fh)
    buf = io.BytesIO()
    write_mo(buf, _catalog(_po(lang), lang))
    buf.seek(0)
    fresh = gettext.GNUTranslations(buf)
    # The header ("") holds dates Babel fills in when it reads a .po; the plural rule in
    # it is compared below, by its results.
    messages = {k: v for k, v in shipped._catalog.items() if k != ""}  # type: ignore[attr-defined]
    expected = {k: v for k, v in fresh._catalog.items() if k != ""}  # type: ignore[attr-defined]
    assert messages == expected, f"run 'make mo': {mo} is stale"
    for n in range(0, 130):
        assert shipped.plural(n) == fresh.plural(n)  # type: ignore[attr-defined]


# ---- plural forms ----------------------------------------------------------------


def test_russian_has_three_plural_forms() -> None:
    i18n.set_language("ru")
    forms = {n: i18n.n_records(n) for n in (1, 2, 5, 11, 21, 22, 25, 111)}
    assert forms == {
        1: "1 запись",
        2: "2 записи",
        5: "5 записей",
        11: "11 записей",
        21: "21 запись",
        22: "22 записи",
        25: "25 записей",
        111: "111 записей",
    }


def test_tajik_plural_forms_follow_cldr() -> None:
    """CLDR: tg 'one' is i = 0 or n = 1; a Tajik noun after a numeral stays singular,
    so both forms read alike ("5 сабт") and the rule matters only for the header."""
    cat = _catalog(_po("tg"), "tg")
    assert cat.num_plurals == 2 and cat.plural_expr.replace(" ", "") == "(n>1)"
    i18n.set_language("tg")
    assert i18n.n_records(5) == "5 сабт"
    assert i18n.ngettext("{n} record", "{n} records", 0) == "{n} сабт"


# ---- choosing the language ---------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LANG": "tg_TJ.UTF-8"}, "tg"),
        ({"LC_MESSAGES": "ru_RU.UTF-8", "LANG": "en_US.UTF-8"}, "ru"),
        ({"LC_ALL": "C", "LANG": "ru_RU.UTF-8"}, None),
        ({"LANGUAGE": "fr:tg", "LANG": "ru_RU.UTF-8"}, "tg"),
        ({"LANGUAGE": "fr", "LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LANG": "de_DE.UTF-8"}, None),
    ],
)
def test_language_follows_the_locale(env: dict[str, str], expected: str | None) -> None:
    assert i18n.from_environment(env) == expected


def test_saved_choice_beats_the_locale_and_lang_beats_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIELDKIT_CONFIG_DIR", str(tmp_path / "cfg"))
    ru = {"LANG": "ru_RU.UTF-8"}
    assert i18n.resolve(None, ru) == "ru"
    i18n.save_language("tg")
    assert (tmp_path / "cfg" / "language").read_text(encoding="utf-8") == "tg\n"
    assert i18n.resolve(None, ru) == "tg"
    assert i18n.resolve("en", ru) == "en"
    assert i18n.resolve(None, {}) == "tg"


def test_english_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE", "de")
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert i18n.set_language() == "en"
    assert i18n._("Settings") == "Settings"
    assert i18n.set_language("ru") == "ru"
    assert i18n._("Settings") == "Настройки"
    assert i18n._("a sentence no catalogue has") == "a sentence no catalogue has"


# ---- no sentence escapes _() ---------------------------------------------------------

# The CLI modules whose strings are wrapped.
WRAPPED_CLI = (
    "main",
    "context",
    "shared",
    "record_commands",
    "attachment_commands",
    "bundle_commands",
    "erase_commands",
    "hq_commands",
    "hq_desk_commands",
    "vault_commands",
)
# Calls whose (first or given) arguments a person reads.
_SHOWN_CALLS = {
    "out": (0,),
    "info": (0,),
    "say": (1,),
    "require_confirmation": (0,),
    "confirm": (0,),
    "notify": (0,),
    "Label": (0,),
    "Button": (0,),
    "Static": (0,),
    "Checkbox": (0,),
    "RadioButton": (0,),
    "TabPane": (0,),
    "ConfirmScreen": (0,),
    "SecretOnceScreen": (0,),
    "FilePickerScreen": (1,),
    "UsageError": (0,),
    "InvalidInput": (0,),
    "Cancelled": (0,),
    "FileAccessError": (0,),
    "MalformedData": (0,),
    "IntegrityError": (0,),
    "FieldkitError": (0,),
}
_SHOWN_KEYWORDS = {"help", "description", "epilog", "hint", "prompt", "placeholder", "title", "yes"}
# Examples of a format, codes and product names: the same in every language.
_NOT_SENTENCES = {
    "YYYY-MM-DD",
    "ru, tg, en…",
    "p1",
    "p1, p2",
    "TJ",
    "RU",
    "RUB",
    "XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX",
    "JSON Lines",
    "CSV",
    "fieldkit",
}


def _bare_text(node: ast.AST) -> str | None:
    """The text of a string literal or f-string a person would read untranslated."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    else:
        return None
    if text in _NOT_SENTENCES or not re.search(r"[A-Za-z]{2}", text):
        return None
    return text


def _unwrapped(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        args = [node.args[i] for i in _SHOWN_CALLS.get(name, ()) if i < len(node.args)]
        args += [k.value for k in node.keywords if k.arg in _SHOWN_KEYWORDS]
        for arg in args:
            text = _bare_text(arg)
            if text is not None:
                found.append(f"{path.relative_to(ROOT)}:{arg.lineno}: {text!r}")
    return found


def test_no_user_visible_literal_escapes_translation() -> None:
    files = [ROOT / "fieldkit" / "cli" / f"{m}.py" for m in WRAPPED_CLI]
    files += sorted((ROOT / "fieldkit" / "ui").rglob("*.py"))
    found = [hit for f in files for hit in _unwrapped(f)]
    assert not found, "wrap these in _() or N_():\n" + "\n".join(found)


def test_a_language_saved_under_the_old_fieldkit_folder_is_moved_when_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: no file name outside the vault says fieldkit. The old
    `~/.config/fieldkit/language` is read once, written to the neutral place, and removed
    with its folder."""
    from fieldkit import locations

    old = tmp_path / "config" / "fieldkit" / "language"
    old.parent.mkdir(parents=True)
    old.write_text("ru\n", encoding="utf-8")
    monkeypatch.setenv("FIELDKIT_CONFIG_DIR", str(tmp_path / "config" / "vault"))
    monkeypatch.setattr(locations, "legacy_language_file", lambda: old)
    assert i18n.saved_language() == "ru"
    assert (tmp_path / "config" / "vault" / "language").read_text(encoding="utf-8") == "ru\n"
    assert not old.parent.exists()
    assert i18n.saved_language() == "ru"  # from the new place now
    # A saved choice also removes an old file that was never read.
    old.parent.mkdir()
    old.write_text("tg\n", encoding="utf-8")
    i18n.save_language("en")
    assert not old.exists()
    assert i18n.saved_language() == "en"


def test_the_config_folder_name_is_neutral(monkeypatch: pytest.MonkeyPatch) -> None:
    from fieldkit import locations

    monkeypatch.delenv("FIELDKIT_CONFIG_DIR", raising=False)
    assert "fieldkit" not in str(locations.language_file()).lower()
    legacy = locations.legacy_language_file()
    assert legacy is not None and legacy.parent.name == "fieldkit"
