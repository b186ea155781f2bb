"""Record and attachment ids may be shortened to a unique prefix of 6+ characters
(docs/cli.md); too short and ambiguous prefixes are refused, each with its own message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit.services import attachments, model, records
from tests.conftest import cli


def _fixed_ids(monkeypatch: pytest.MonkeyPatch, module: object, ids: list[str]) -> None:
    """The next ids `module` draws are `ids` (two sharing a long prefix)."""
    supply: Iterator[str] = iter(ids)
    monkeypatch.setattr(module.ids, "new_id", lambda prefix: next(supply))  # type: ignore[attr-defined]


def _add_record(opts: list[str]) -> str:
    r = cli(["record", "add", "--json", "-", *opts], stdin=json.dumps(model.template()))
    assert r.code == 0, r.err
    return r.out.strip()


def test_attachment_commands_take_a_unique_prefix(
    cli_vault: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = _add_record(cli_vault)
    a1, a2 = "a1111111111111111111111111a", "a1111111111111111111111111b"
    _fixed_ids(monkeypatch, attachments, [a1, a2, "a2222222222222222222222222c"])
    src = tmp_path / "photo.jpg"
    for content in (b"first", b"second", b"third"):
        src.write_bytes(content)
        assert cli(["attach", rid, str(src), *cli_vault]).code == 0

    out = tmp_path / "out.bin"
    r = cli(["attachment", "extract", "a22222", "--out", str(out), *cli_vault])
    assert r.code == 0, r.err
    assert out.read_bytes() == b"third"

    desc = tmp_path / "desc.txt"
    desc.write_text("described by prefix")
    r = cli(["attachment", "describe", "a22222", "--description-file", str(desc), *cli_vault])
    assert r.code == 0, r.err

    ambiguous = cli(["attachment", "remove", a1[:20], *cli_vault])
    assert ambiguous.code == 6
    assert "more than one attachment" in ambiguous.err and "more characters" in ambiguous.err
    short = cli(["attachment", "remove", "a2222", *cli_vault])
    assert short.code == 6
    assert "at least 6" in short.err
    unknown = cli(["attachment", "remove", "a999999", *cli_vault])
    assert unknown.code == 6 and "no attachment 'a999999'" in unknown.err
    # The refused commands removed nothing.
    assert len(cli(["attachment", "list", rid, "--json", *cli_vault]).json()) == 3
    assert cli(["attachment", "remove", a2, *cli_vault]).code == 0
    # With a2 gone, the prefix that was ambiguous names exactly one attachment.
    assert cli(["attachment", "remove", a1[:20], *cli_vault]).code == 0
    left = cli(["attachment", "list", rid, "--json", *cli_vault]).json()
    assert [(a["id"], a["description"]) for a in left] == [
        ("a2222222222222222222222222c", "described by prefix")
    ]


def test_record_prefixes_refuse_ambiguous_and_short_the_same_way(
    cli_vault: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    r1, r2 = "r3333333333333333333333333a", "r3333333333333333333333333b"
    _fixed_ids(monkeypatch, records, [r1, r2])
    _add_record(cli_vault)
    _add_record(cli_vault)
    ambiguous = cli(["record", "show", "r33333", *cli_vault])
    assert ambiguous.code == 6 and "more than one record" in ambiguous.err
    short = cli(["record", "show", "r3333", *cli_vault])
    assert short.code == 6 and "at least 6" in short.err
    assert short.err.splitlines()[0] == (
        "fieldkit: error: 'r3333' is too short for a record id: use 6 or more characters"
    )
    assert "no record" not in short.err
    assert cli(["record", "show", r2, "--json", *cli_vault]).json()["id"] == r2
