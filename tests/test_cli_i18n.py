"""The CLI speaks the locale's language (LANG=ru_RU.UTF-8) or the one --lang names;
stored values stay codes and JSON output stays the same in every language."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fieldkit.services import model
from tests.conftest import NEW_PASSPHRASE, ROOT, cli


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    return subprocess.run(
        [sys.executable, "-m", "fieldkit", *args],
        cwd=ROOT,
        env={**clean, "PYTHONPATH": str(ROOT), "FIELDKIT_CONFIG_DIR": str(tmp_path / "cfg"), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_and_errors_follow_lang_in_the_environment(tmp_path: Path) -> None:
    r = _run(["--help"], tmp_path, LANG="ru_RU.UTF-8")
    assert r.returncode == 0
    assert "использование: fieldkit" in r.stdout
    assert "Защищённое, зашифрованное, автономное документирование в поле." in r.stdout
    assert "полнотекстовый поиск" in r.stdout  # a subcommand's help
    pw = tmp_path / "pw"
    pw.write_text("x\n", encoding="utf-8")
    missing = ["record", "list", "--vault", str(tmp_path / "none"), "--passphrase-file", str(pw)]
    r = _run(missing, tmp_path, LANG="ru_RU.UTF-8")
    assert r.returncode == 3
    lines = r.stderr.splitlines()
    assert lines[0].startswith("fieldkit: ошибка: ")
    assert lines[1] == (
        "fieldkit: подсказка: создайте его командой 'fieldkit init' или укажите путь в "
        "--vault (или FIELDKIT_VAULT)"
    )
    # --lang beats the locale; C is English.
    r = _run([*missing, "--lang", "tg"], tmp_path, LANG="ru_RU.UTF-8")
    assert r.stderr.splitlines()[1].startswith("fieldkit: маслиҳат: онро бо 'fieldkit init' созед")
    r = _run(missing, tmp_path, LANG="C.UTF-8")
    assert r.stderr.splitlines()[1].startswith("fieldkit: hint: create one with")


def test_record_commands_in_tajik(cli_vault: list[str], tmp_path: Path) -> None:
    tpl = cli(["record", "template"]).out
    src = tmp_path / "rec.json"
    src.write_text(tpl, encoding="utf-8")
    added = cli(["record", "add", "--json", str(src), *cli_vault[:4], "--lang", "tg"])
    assert added.code == 0, added.err
    record_id = added.out.strip()

    listed = cli(["record", "list", *cli_vault, "--lang", "tg"])
    head, row = listed.out.splitlines()[:2]
    assert head.split()[:2] == ["ID", "ҲОЛАТ"]
    assert "пешнавис" in row or "тайёр" in row  # the status label, translated

    shown = cli(["record", "show", record_id, *cli_vault, "--lang", "tg"])
    assert shown.out.startswith(f"Сабти {record_id}  версияи 1 аз 1  ҳолат ")
    assert "Расонидан: фиристода нашуд" in shown.out

    # Stored values stay codes: JSON is the same in every language.
    as_json = cli(["record", "show", record_id, "--json", *cli_vault, "--lang", "tg"]).json()
    assert as_json["status"] in model.USER_STATUSES
    assert as_json["delivery"]["text"] == "not sent"
    assert as_json["record"]["incidents"][0]["type"] in model.INCIDENT_TYPES

    bad = cli(["record", "show", "zz", *cli_vault, "--lang", "tg"])
    assert bad.err.splitlines()[0].startswith("fieldkit: хатогӣ: ")


def test_plural_forms_in_russian_output(cli_vault: list[str], tmp_path: Path) -> None:
    verify = cli(["history", "verify", *cli_vault, "--lang", "ru"])
    assert verify.code == 0, verify.err
    n = int(verify.out.split()[2])
    word = {1: "запись", 2: "записи", 3: "записи", 4: "записи"}.get(n % 10, "записей")
    if 11 <= n % 100 <= 14:
        word = "записей"
    assert verify.out.startswith(f"История цела: {n} {word}, ")
    draft_list = cli(["draft", "list", *cli_vault, "--lang", "ru"])
    assert draft_list.out.strip() == "Черновиков нет."
    assert json.loads(cli(["draft", "list", "--json", *cli_vault, "--lang", "ru"]).out) == []


def test_hq_and_vault_commands_in_russian_and_tajik(tmp_path: Path, pass_file: Path) -> None:
    hq_dir = tmp_path / "hq"
    hq = ["--vault", str(hq_dir), "--passphrase-file", str(pass_file)]
    made = cli(["hq", "init", "--name", "HQ Almaty", *hq, "--lang", "ru"])
    assert made.code == 0, made.err
    lines = made.out.splitlines()
    assert lines[0] == f"Хранилище штаба создано: {hq_dir}"
    assert lines[1].startswith("Формирование ключа: ")
    assert lines[2].startswith("Ключ: HQ Almaty, отпечаток ")
    assert "Код восстановления (показан один раз;" in made.out

    devices = cli(["hq", "devices", *hq, "--lang", "ru"])
    assert devices.out.strip() == "Нет зарегистрированных устройств."
    assert cli(["hq", "devices", "--json", *hq, "--lang", "ru"]).json() == []
    chart = cli(["hq", "stats", *hq, "--lang", "ru"]).out.splitlines()
    assert chart[:4] == ["0 инцидентов, 0 записей", "", "Инциденты по типу", "(нет)"]

    # Russian has three plural forms: 5 takes the third.
    five = cli(["wipe-after", "5", *hq, "--lang", "ru"])
    assert five.code == 0, five.err
    assert five.out.startswith("Хранилище стирает себя после 5 неудачных попыток открытия подряд")
    off = cli(["wipe-after", "off", *hq, "--lang", "tg"])
    assert off.out.strip() == "Кушодани ноком ҳеҷ гоҳ анборро нобуд намекунад (хомӯш)."
    assert cli(["wipe-after", "--json", *hq, "--lang", "tg"]).json() == {
        "wipe_after_failures": None
    }

    # The message is translated on the terminal; --json carries the English one.
    new = tmp_path / "new.txt"
    new.write_text(NEW_PASSPHRASE + "\n", encoding="utf-8")
    change = ["passphrase", "change", "--new-passphrase-file", str(new)]
    changed = cli([*change, *hq, "--lang", "ru", "--json"])
    assert changed.code == 0, changed.err
    assert changed.json()["message"] == "Passphrase changed. The recovery code is unchanged."
    hq[-1] = str(new)
    again = cli([*change, *hq, "--lang", "ru"])
    assert again.out.strip() == "Пароль изменён. Код восстановления прежний."


def test_argparse_usage_errors_and_help_are_translated(tmp_path: Path) -> None:
    """argparse's own words (usage, headings, -h, its error messages) come from
    fieldkit's catalogue; option names and the values typed stay as they are."""
    r = _run(["hq", "show"], tmp_path, LANG="ru_RU.UTF-8")
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "fieldkit: ошибка: не хватает обязательных аргументов: id",
        "fieldkit: подсказка: выполните 'fieldkit hq show --help'",
    ]
    r = _run(["bogus"], tmp_path, LANG="ru_RU.UTF-8")
    assert r.stderr.startswith(
        "fieldkit: ошибка: аргумент COMMAND: недопустимый вариант: 'bogus' (выберите из: "
    )
    r = _run(["record", "show", "--version", "x", "r123456"], tmp_path, LANG="tg_TJ.UTF-8")
    assert r.stderr.splitlines()[0] == (
        "fieldkit: хатогӣ: аргументи --version: қимати нодурусти int: 'x'"
    )
    r = _run(["--lang", "tg", "record", "list", "extra"], tmp_path)
    assert r.stderr.splitlines()[0] == "fieldkit: хатогӣ: аргументҳои номаълум: extra"

    r = _run(["hq", "show", "--help"], tmp_path, LANG="tg_TJ.UTF-8")
    assert r.returncode == 0
    assert r.stdout.startswith("истифода: fieldkit hq show ")
    assert "\nаргументҳои мавқеӣ:\n" in r.stdout and "\nимконот:\n" in r.stdout
    assert "-h, --help" in r.stdout and "show this help message" not in r.stdout
    for english in ("usage:", "positional arguments", "options:"):
        assert english not in r.stdout
