"""The screens in Russian and Tajik at 80x24: their strings are longer, and nothing may be
cut off or pushed off screen. The scenes are the English snapshots' (tests/ui_scenes.py),
taken once per language; update with --snapshot-update on this file and read each SVG's
text before accepting."""

from __future__ import annotations

import pytest

from fieldkit import i18n
from tests import ui_scenes as scenes
from tests.ui_scenes import (
    SnapCompare,
    fixed_ids,  # noqa: F401 - autouse: ids from a counter, steady cursors
    take,
)

LANGS = ("ru", "tg")


@pytest.fixture(params=LANGS)
def lang(request: pytest.FixtureRequest) -> str:
    code: str = request.param
    i18n.set_language(code)  # conftest sets English back after each test
    return code


def test_setup_welcome(snap_compare: SnapCompare, lang: str) -> None:
    assert take(snap_compare, scenes.setup_welcome(f"{lang}-setup-welcome"))


def test_setup_passphrase(snap_compare: SnapCompare, lang: str) -> None:
    assert take(snap_compare, scenes.setup_passphrase(f"{lang}-setup-passphrase"))


def test_unlock(snap_compare: SnapCompare, lang: str) -> None:
    assert take(snap_compare, scenes.unlock_screen(f"{lang}-unlock"))


def test_unlock_wrong_passphrase(snap_compare: SnapCompare, lang: str) -> None:
    assert take(snap_compare, scenes.unlock_wrong(f"{lang}-unlock-wrong"))


def test_recover_screen(snap_compare: SnapCompare, lang: str) -> None:
    assert take(snap_compare, scenes.recover(f"{lang}-recover"))


def test_recovery_code_dialog(snap_compare: SnapCompare, lang: str) -> None:
    assert take(snap_compare, scenes.recovery_code(f"{lang}-recovery-code"))


def test_records_list(snap_compare: SnapCompare, lang: str) -> None:
    assert take(snap_compare, scenes.records(f"{lang}-records"))


@pytest.mark.parametrize(
    "tab", ["interview", "persons", "incidents", "consent", "narrative", "attachments", "history"]
)
def test_editor(snap_compare: SnapCompare, lang: str, tab: str) -> None:
    assert take(snap_compare, scenes.editor(f"{lang}-editor-{tab}", tab))


@pytest.mark.parametrize(
    "key,name", [("ctrl+t", "export"), ("ctrl+r", "receipts"), ("ctrl+o", "settings")]
)
def test_field_screens(snap_compare: SnapCompare, lang: str, key: str, name: str) -> None:
    assert take(snap_compare, scenes.field_screen(f"{lang}-field-{name}", key))


def test_purge_confirm_dialog(snap_compare: SnapCompare, lang: str) -> None:
    question = i18n._(
        "Remove {n} delivered record(s) and their attachments from this laptop? HQ keeps them."
    ).format(n=2)
    assert take(snap_compare, scenes.confirm(f"{lang}-confirm", question, i18n._("Purge")))


@pytest.mark.parametrize("tab", ["import", "devices", "testimony", "export", "counts"])
def test_hq_screens(snap_compare: SnapCompare, lang: str, tab: str) -> None:
    assert take(snap_compare, scenes.hq_tab(f"{lang}-hq-{tab}", tab))


def test_hq_record_view(snap_compare: SnapCompare, lang: str) -> None:
    assert take(snap_compare, scenes.hq_record_view(f"{lang}-hq-view"))


def test_hq_extract_dialog(snap_compare: SnapCompare, lang: str) -> None:
    assert take(snap_compare, scenes.hq_extract(f"{lang}-hq-extract"))


def test_hq_counts(snap_compare: SnapCompare, lang: str) -> None:
    assert take(snap_compare, scenes.hq_counts(f"{lang}-hq-counts-drawn"))


def test_hq_import_report(snap_compare: SnapCompare, lang: str) -> None:
    assert take(snap_compare, scenes.hq_import_report(f"{lang}-hq-import-report"))
