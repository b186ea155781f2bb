"""The CLI: every command, its exit codes, one-line errors and no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fieldkit.services import model
from tests.conftest import NEW_PASSPHRASE, PASSPHRASE, cli

TEMPLATE = json.dumps(model.template(), ensure_ascii=False)


def _one_error_line(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("fieldkit: error: ")
    assert lines[1].startswith("fieldkit: hint: ")
    assert "Traceback" not in err


def test_init_prints_params_and_recovery_code(vault_dir: Path, pass_file: Path) -> None:
    r = cli(["init", "--vault", str(vault_dir), "--passphrase-file", str(pass_file), "--json"])
    assert r.code == 0, r.err
    out = r.json()
    assert out["kdf"]["algorithm"] == "argon2id"
    assert len(out["recovery_code"].replace("-", "")) == 32
    again = cli(["init", "--vault", str(vault_dir), "--passphrase-file", str(pass_file)])
    assert again.code == 3
    _one_error_line(again.err)


def test_init_refuses_weak_passphrase(vault_dir: Path) -> None:
    r = cli(["init", "--vault", str(vault_dir), "--passphrase-file", "-"], stdin="short\n")
    assert r.code == 7
    _one_error_line(r.err)
    assert "12 characters" in r.err
    assert not (vault_dir / "keyslots").exists()


def test_record_round_trip(cli_vault: list[str], tmp_path: Path) -> None:
    add = cli(["record", "add", "--json", "-", *cli_vault], stdin=TEMPLATE)
    assert add.code == 0, add.err
    rid = add.out.strip()
    assert rid.startswith("r") and len(rid) == 27
    show = cli(["record", "show", rid[:8], "--json", *cli_vault])
    assert show.code == 0
    assert show.json()["record"] == model.template()
    edited = dict(model.template(), narrative="Новый текст показаний")
    f = tmp_path / "edit.json"
    f.write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")
    ed = cli(["record", "edit", rid, "--json", str(f), *cli_vault])
    assert ed.code == 0 and ed.out.strip() == f"{rid} version 2"
    lst = cli(["--json", "record", "list", *cli_vault])
    assert [r["id"] for r in lst.json()] == [rid]
    found = cli(["search", "показаний", "--json", *cli_vault])
    assert [r["id"] for r in found.json()] == [rid]
    via_stdin = cli(["search", "--query-file", "-", "--json", *cli_vault], stdin="показаний\n")
    assert [r["id"] for r in via_stdin.json()] == [rid]
    hist = cli(["record", "history", rid, "--json", *cli_vault])
    assert [h["action"] for h in hist.json()] == ["record.create", "record.update"]
    ok = cli(["history", "verify", *cli_vault])
    assert ok.code == 0 and "intact" in ok.out
    tmpl = cli(["record", "template"])
    assert json.loads(tmpl.out) == model.template()


def test_attach_and_extract(cli_vault: list[str], tmp_path: Path) -> None:
    rid = cli(["record", "add", "--json", "-", *cli_vault], stdin=TEMPLATE).out.strip()
    src = tmp_path / "audio.ogg"
    src.write_bytes(b"OggS" + bytes(100_000))
    desc = tmp_path / "desc.txt"
    desc.write_text("Interview, part 1", encoding="utf-8")
    att = cli(["attach", rid, str(src), "--description-file", str(desc), "--json", *cli_vault])
    assert att.code == 0, att.err
    meta = att.json()
    assert meta["media_type"] == "audio/ogg" and meta["description"] == "Interview, part 1"
    out = tmp_path / "copy.ogg"
    ex = cli(["attachment", "extract", meta["id"], "--out", str(out), *cli_vault])
    assert ex.code == 0 and out.read_bytes() == src.read_bytes()
    assert "NOT encrypted" in ex.err
    again = cli(["attachment", "extract", meta["id"], "--out", str(out), *cli_vault])
    assert again.code == 9
    _one_error_line(again.err)
    ls = cli(["attachment", "list", rid, "--json", *cli_vault])
    assert [a["id"] for a in ls.json()] == [meta["id"]]
    assert cli(["attachment", "remove", meta["id"], *cli_vault]).code == 0


def test_passphrase_change_and_recover(vault_dir: Path, pass_file: Path, tmp_path: Path) -> None:
    init = cli(["init", "--vault", str(vault_dir), "--passphrase-file", str(pass_file), "--json"])
    code = init.json()["recovery_code"]
    base = ["--vault", str(vault_dir)]
    ch = cli(
        ["passphrase", "change", *base, "--passphrase-file", "-", "--new-passphrase-file", "-"],
        stdin=f"{PASSPHRASE}\n{NEW_PASSPHRASE}\n",
    )
    assert ch.code == 0, ch.err
    old = cli(["record", "list", *base, "--passphrase-file", str(pass_file)])
    assert old.code == 4
    _one_error_line(old.err)
    third = "a third passphrase that is long"
    rec = cli(
        ["recover", *base, "--recovery-code-file", "-", "--new-passphrase-file", "-"],
        stdin=f"{code}\n{third}\n",
    )
    assert rec.code == 0, rec.err
    assert cli(["record", "list", *base, "--passphrase-file", "-"], stdin=third + "\n").code == 0
    bad = cli(
        ["recover", *base, "--recovery-code-file", "-", "--new-passphrase-file", "-"],
        stdin="0000-0000-0000-0000-0000-0000-0000-0000\nwhatever long passphrase\n",
    )
    assert bad.code == 4
    new_code = cli(
        ["recovery-code", "new", "--json", *base, "--passphrase-file", "-"], stdin=third + "\n"
    )
    assert new_code.code == 0 and new_code.json()["recovery_code"] != code


def test_wipe(cli_vault: list[str], vault_dir: Path) -> None:
    no_tty = cli(["wipe", *cli_vault])
    assert no_tty.code == 2
    _one_error_line(no_tty.err)
    assert (vault_dir / "keyslots").exists()
    assert cli(["wipe", "--yes", *cli_vault]).code == 0
    after = cli(["record", "list", *cli_vault])
    assert after.code == 3
    _one_error_line(after.err)


@pytest.mark.parametrize(
    ("argv", "stdin", "code", "says"),
    [
        (["record", "show", "rnothere00"], "", 6, "no record 'rnothere00'"),
        (["record", "add", "--json", "-"], "{not json", 5, "not valid JSON (line 1, column 2)"),
        (["record", "add", "--json", "-"], '{"pseudonym": ""}', 5, "pseudonym: is required"),
        (
            ["record", "add", "--json", "-"],
            '{"pseudonym": "x", "colour": 1}',
            5,
            "colour: unknown field",
        ),
        (["record", "add", "--json", "/nonexistent/file.json"], "", 9, "does not exist"),
        (["record", "list", "--status", "nonsense"], "", 2, "--status: invalid choice"),
        (["frobnicate"], "", 2, "invalid choice: 'frobnicate'"),
        (["attach", "rnothere00", "/nonexistent"], "", 6, "no record 'rnothere00'"),
        (
            ["attachment", "extract", "anothere", "--out", "/tmp/x"],
            "",
            6,
            "no attachment 'anothere'",
        ),
    ],
)
def test_errors_are_one_line_with_exit_code(
    cli_vault: list[str], argv: list[str], stdin: str, code: int, says: str
) -> None:
    """Each failure exits with its own code, for its own reason (the message says which)."""
    r = cli([*argv, *cli_vault], stdin=stdin)
    assert r.code == code, r.err
    _one_error_line(r.err)
    assert says in r.err.splitlines()[0]


def test_json_error_does_not_echo_input(cli_vault: list[str]) -> None:
    secret = "Рустам Назаров, улица Ленина 5"
    r = cli(["record", "add", "--json", "-", *cli_vault], stdin='{"narrative": "' + secret)
    assert r.code == 5
    assert secret not in r.err and "Рустам" not in r.err


@pytest.mark.parametrize(
    "argv",
    [
        ["record", "add", "--json", "-"],
        ["record", "edit", "{rid}", "--json", "-"],
        ["attach", "{rid}", "{file}", "--description-file", "-"],
        ["attachment", "describe", "{aid}", "--description-file", "-"],
        ["search", "--query-file", "-"],
    ],
)
@pytest.mark.parametrize("stdin", ["{pass}\n{doc}", "{doc}", ""])
def test_stdin_cannot_serve_two_purposes(
    cli_vault: list[str], vault_dir: Path, tmp_path: Path, argv: list[str], stdin: str
) -> None:
    """A usage error seen in argv alone: exit 2 before anything is read or changed,
    whatever stdin holds (it used to depend on it: 2, or 5 for 'not valid JSON')."""
    rid = cli(["record", "add", "--json", "-", *cli_vault], stdin=TEMPLATE).out.strip()
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"photo")
    aid = cli(["attach", rid, str(photo), *cli_vault]).out.strip()
    before = cli(["record", "show", rid, "--json", *cli_vault]).json()
    filled = [a.format(rid=rid, aid=aid, file=photo) for a in argv]
    r = cli(
        [*filled, "--vault", str(vault_dir), "--passphrase-file", "-"],
        stdin=stdin.format(**{"pass": PASSPHRASE, "doc": TEMPLATE}),
    )
    assert r.code == 2, r.err
    assert "standard input" in r.err
    _one_error_line(r.err)
    assert cli(["record", "list", "--json", *cli_vault]).json()[0]["id"] == rid
    assert len(cli(["record", "list", "--json", *cli_vault]).json()) == 1
    assert cli(["record", "show", rid, "--json", *cli_vault]).json() == before


def test_no_passphrase_and_no_tty(cli_vault: list[str], vault_dir: Path) -> None:
    r = cli(["record", "list", "--vault", str(vault_dir)])
    assert r.code == 2
    assert "--passphrase-file" in r.err


def test_real_entry_point_calibrates_and_never_tracebacks(tmp_path: Path) -> None:
    """Through the installed console script, with the production KDF calibration."""
    exe = Path(sys.executable).parent / "fieldkit"
    pf = tmp_path / "p"
    pf.write_text(PASSPHRASE + "\n")
    vault = tmp_path / "v"
    r = subprocess.run(
        [str(exe), "init", "--vault", str(vault), "--passphrase-file", str(pf), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    params = json.loads(r.stdout)["kdf"]
    assert params["time_cost"] >= 3 and params["parallelism"] >= 4
    assert params["memory_kib"] >= 64 * 1024
    bad = subprocess.run(
        [
            str(exe),
            "record",
            "show",
            "rx",
            "--vault",
            str(vault),
            "--passphrase-file",
            str(tmp_path / "missing"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 9 and "Traceback" not in bad.stderr
    assert subprocess.run([str(exe), "--help"], capture_output=True, timeout=60).returncode == 0


def test_record_show_json_output_goes_back_into_record_edit(
    cli_vault: list[str], tmp_path: Path
) -> None:
    """Reproduced: `record show --json` output, edited, was refused by `record edit`."""
    doc = model.template()
    rid = cli(["record", "add", "--json", "-", *cli_vault], stdin=json.dumps(doc)).out.strip()
    shown = cli(["record", "show", rid, "--json", *cli_vault]).json()
    shown["record"]["narrative"] = "Исправлено"
    edited = cli(["record", "edit", rid, "--json", "-", *cli_vault], stdin=json.dumps(shown))
    assert edited.code == 0, edited.err
    assert cli(["record", "show", rid, "--json", *cli_vault]).json()["record"]["narrative"] == (
        "Исправлено"
    )
    # The same output again is version 1 of a record now at version 2: edits would be lost.
    stale = cli(["record", "edit", rid[:8], "--json", "-", *cli_vault], stdin=json.dumps(shown))
    assert stale.code == 5 and "it is at version 2 now" in stale.err
    other = cli(["record", "add", "--json", "-", *cli_vault], stdin=json.dumps(doc)).out.strip()
    wrong = cli(["record", "edit", other, "--json", "-", *cli_vault], stdin=json.dumps(shown))
    assert wrong.code == 5 and f"output of record {rid}, not {other}" in wrong.err
