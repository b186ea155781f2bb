"""The whole walk at a real terminal (scripts/tmux_walk.py): tmux, 80x24, keys only, in
Russian and Tajik. Each step waits for its text in that language, so a key that does
nothing, a string left in English or a screen cut short stops it. Slow (two apps,
one after the other, driven through tmux)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]


@pytest.mark.parametrize("lang", ["ru", "tg"])
def test_walk_in_tmux(tmp_path: Path, lang: str) -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "tmux_walk.py"), "--lang", lang,
         "--out", str(tmp_path), "--socket", f"fieldkit-walk-{lang}-{os.getpid()}"],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        f"{lang}-{n}.txt"
        for n in ("unlock", "records", "editor-persons", "editor-consent",
                  "editor-metadata-found", "export-without-consent", "export-result",
                  "hq-import-report", "hq-record", "hq-custody", "hq-extracted", "hq-counts",
                  "receipt-purge")
    )  # fmt: skip
    for path in tmp_path.iterdir():
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) <= 24 and all(len(line) <= 80 for line in lines), path.name
