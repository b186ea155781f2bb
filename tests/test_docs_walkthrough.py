"""The README's walkthrough and the HQ guide, typed as written.

Every fenced `sh` block of README.md's walkthrough and of docs/hq-guide.md is read from the
files (so a change to the docs changes what runs) and run in order by bash at a real
terminal, in a temporary home, with the installed `.venv/bin/fieldkit` and production
Argon2id. Passphrases, the recovery code, search words and confirmations are typed at the
prompts, as a person does: never on the command line.

What is not as a person has it, and why:
- Aliases are expanded in a script only with `shopt -s expand_aliases` (an interactive
  shell does it by itself), and `set -e` stops at the first failing command.
- `/secure` (HQ's encrypted disk) and `/media/usb` (the stick) are folders in the
  temporary home.
- The premises the docs state in words: the recording to attach exists, the stick is
  mounted; for the guide, the laptop holds a testimony before it exports (the README's
  walkthrough shows how one is added), and for the README, HQ's vault and card were made
  by the guide's first section (run from the guide, too).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.pty_driver import PtyProcess

FIELDKIT = ROOT / ".venv" / "bin" / "fieldkit"
MEDIA_FIXTURE = ROOT / "tests" / "fixtures" / "media" / "tagged.ogg"
P1 = "correct horse battery staple mountain"
P2 = "another long passphrase for the field 2026"
TIMEOUT = 900.0  # a guard against a hang on a loaded machine, not a measurement

# Production Argon2id at every unlock, some thirty commands: a few minutes.
walkthrough = pytest.mark.slow


def sh_blocks(doc: Path) -> list[str]:
    """Every ```sh fenced block of `doc`, in order, as written."""
    return re.findall(r"^```sh\n(.*?)^```$", doc.read_text(encoding="utf-8"), re.S | re.M)


def _readme_walkthrough() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Walkthrough (command line)")
    end = text.index("\n## ", start + 1)
    return re.findall(r"^```sh\n(.*?)^```$", text[start:end], re.S | re.M)


def _guide_sections() -> list[str]:
    return sh_blocks(ROOT / "docs" / "hq-guide.md")


class Terminal(PtyProcess):
    """bash at a pseudo-terminal, answering fieldkit's prompts as a person would."""

    PROMPTS = re.compile(
        r"(Choose a passphrase: |New passphrase: |Repeat to confirm: |Current passphrase: "
        r"|Passphrase: |Recovery code: |Search for: |Type (\S+) to continue: )"
    )

    def __init__(self, script: Path, home: Path) -> None:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "TERM": "xterm",
            "LANG": "C.UTF-8",
        }
        bash = shutil.which("bash") or "/bin/bash"
        super().__init__([], command=[bash, str(script)], env=env)
        self.new_passphrases = [P2, P1]  # passphrase change, then recover back to P1
        self.chosen = P1

    def run(self) -> int:
        """Answer each prompt as it appears until bash exits; return its exit code."""
        pos = 0
        end = time.monotonic() + TIMEOUT
        while time.monotonic() < end:
            self._read_some(1.0)
            if self._eof:
                break
            m = self.PROMPTS.search(self.output, pos)
            if m is None:
                continue
            pos = m.end()
            self.send(self._answer(m))
        else:
            self.proc.kill()
            raise AssertionError(f"the walkthrough hung; terminal:\n{self.output}")
        return self.proc.wait(timeout=60)

    def _answer(self, m: re.Match[str]) -> str:
        prompt = m.group(1)
        if prompt.startswith("Type "):
            return m.group(2)
        if prompt == "Search for: ":
            return "Witness"
        if prompt == "Recovery code: ":
            shown = r"Recovery code \(shown once.*?\n\s*\n\s+(\S[^\r\n]*)"
            return re.findall(shown, self.output, re.S)[-1].strip()
        if prompt == "Choose a passphrase: ":
            self.chosen = P1
        elif prompt == "New passphrase: ":
            self.chosen = self.new_passphrases.pop(0)
        elif prompt == "Repeat to confirm: ":
            return self.chosen
        else:
            return P1
        return self.chosen


def _run(blocks: list[str], home: Path, *, premise: dict[int, str]) -> str:
    """Run `blocks` in order in one bash, `premise[i]` (shell) before block i."""
    secure, usb = home / "secure", home / "usb"
    secure.mkdir()
    usb.mkdir()
    (home / "recordings").mkdir()
    # A real Ogg recording, tagged as a recorder tags it (artist, date, location): the
    # guide's `hq extract` writes it without them (scripts/make_media_fixtures.py).
    (home / "recordings" / "interview.ogg").write_bytes(MEDIA_FIXTURE.read_bytes())
    # The guide takes `fieldkit` as installed; the README's own alias line redefines it.
    parts = ["set -euo pipefail", "shopt -s expand_aliases", 'cd "$HOME"']
    parts.append(f"alias fieldkit={FIELDKIT}")
    for i, block in enumerate(blocks):
        parts.append(premise.get(i, ""))
        parts.append(block.replace("/secure/", f"{secure}/").replace("/media/usb", str(usb)))
    script = home / "walkthrough.sh"
    script.write_text("\n".join(parts) + "\n", encoding="utf-8")
    term = Terminal(script, home)
    code = term.run()
    assert code == 0, term.output
    assert "Traceback" not in term.output and "internal error" not in term.output
    return term.output


@walkthrough
def test_readme_walkthrough_as_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # HQ's side first: its vault and card, from the guide's first section.
    blocks = [_guide_sections()[0], *_readme_walkthrough()]
    # The walkthrough starts in the fieldkit folder (its alias takes the path from there).
    out = _run(blocks, home, premise={1: f"cd {ROOT}"})
    assert (home / "draft.json").exists() and (home / "corrected.json").exists()
    assert (home / "copy.ogg").read_bytes() == (home / "recordings" / "interview.ogg").read_bytes()
    # The record was added, then edited: both saved versions travel (SECURITY.md, 18).
    assert "verified and imported 2 new record versions, 1 attachment" in " ".join(out.split())
    assert not (home / ".local" / "share" / "vault" / "keyslots").exists()  # wiped
    # ... from where the README says the vault lives (no folder name says fieldkit)
    assert f"Created vault at {home}/.local/share/vault" in " ".join(out.split())


@walkthrough
def test_hq_guide_as_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    blocks = _guide_sections()
    assert len(blocks) >= 8
    assert all("--vault" in line for b in blocks for line in b.splitlines() if " hq " in line)
    # Before the laptop's first export (section 3), it holds a testimony.
    # Section 8 reads that record and extracts its attachment: $rid and $att name them.
    add = (
        f"rid=$({FIELDKIT} record template | {FIELDKIT} record add --json -); "
        f'att=$({FIELDKIT} attach "$rid" "$HOME/recordings/interview.ogg")'
    )
    export_at = next(i for i, b in enumerate(blocks) if "fieldkit export" in b)
    out = _run(blocks, home, premise={export_at: add})
    assert "verified and imported 1 new record version, 1 attachment" in " ".join(out.split())
    recording = (home / "recordings" / "interview.ogg").read_bytes()
    # By default the copy leaves without its tags; --original is the bit-exact original.
    stripped = (home / "secure" / "order.jpg").read_bytes()
    assert stripped != recording and b"Ivan Petrov" in recording and b"Ivan Petrov" not in stripped
    assert (home / "secure" / "original.jpg").read_bytes() == recording
    assert (home / "analysis.jsonl").exists() and (home / "for-report.csv").exists()
    assert (home / "hq-identity.txt").stat().st_mode & 0o777 == 0o600


def test_every_hq_command_of_the_guide_names_the_hq_vault() -> None:
    """Reproduced: the guide dropped --vault after its first section, so its HQ commands
    ran against the laptop's default vault. Fast, and in the default suite."""
    lines = [
        ln for b in _guide_sections() for ln in b.splitlines() if ln.startswith("fieldkit hq ")
    ]
    assert len(lines) >= 7
    assert all("--vault /secure/hq-vault" in ln for ln in lines), lines
    readme_hq = [
        ln for b in _readme_walkthrough() for ln in b.splitlines() if ln.startswith("fieldkit hq ")
    ]
    assert readme_hq and all("--vault /secure/hq-vault" in ln for ln in readme_hq)
    assert shutil.which("bash")
