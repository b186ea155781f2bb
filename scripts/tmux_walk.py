"""Walk the fieldworker's and HQ's screens at a real terminal (tmux, 80x24, keyboard
only) in one language, and save what the screen shows at each key step as text.

    .venv/bin/python scripts/tmux_walk.py --lang ru --out docs/screenshots
    .venv/bin/python scripts/tmux_walk.py --lang tg --out docs/screenshots

Needs tmux. The vaults are made in a temporary folder with a weak Argon2id profile (a
demo, not a vault to keep); everything shown is invented. Each step sends keys with
`tmux send-keys` and waits until the expected text (in the chosen language) is on the
screen, so a key that does nothing or a string left in English stops the walk with the
screen it got stuck on. What it walks: unlock, the records list, a new record with a
person ticked informant as well as victim (Alt+2), consent obtained (Alt+4), a photo with
GPS attached (Alt+6, the dialog listing its metadata), save, export to a USB stick (a fake
/media/$USER/STICK; the earlier record lacks consent and is held back from the dialog),
then at HQ: import the bundle with a receipt, the received record, its custody report
(Ctrl+K), a stripped copy of the photo extracted with a reason, the counts; back on the
laptop the receipt and the purge. tests/test_ui_walk.py runs it (slow marker).
"""

from __future__ import annotations

import argparse
import io
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fieldkit import i18n  # noqa: E402
from fieldkit.crypto.kdf import Argon2Params  # noqa: E402
from fieldkit.services import identity, model, trust  # noqa: E402
from fieldkit.services.attachments import AttachmentService  # noqa: E402
from fieldkit.services.records import RecordService  # noqa: E402
from fieldkit.services.vault import Vault  # noqa: E402

PASS = "липа гром вагон тетрадь облако"
WEAK = Argon2Params(1, 8192, 1)
USER = "walker"
TIMEOUT = 60.0  # a guard against a hang on a loaded machine, not a measurement

# The app as `fieldkit tui` starts it, but with the weak profile and the demo folders.
LAUNCH = """
import sys
from pathlib import Path
from fieldkit import i18n
vault, start, removable, lang = sys.argv[1:5]
i18n.set_language(lang)  # before the screens are imported, as the CLI does
from fieldkit.crypto.kdf import Argon2Params
from fieldkit.ui.app import FieldkitApp
from fieldkit.ui.context import AppContext
FieldkitApp(AppContext(Path(vault), kdf_params=Argon2Params(1, 8192, 1),
    start_dir=Path(start), removable_root=Path(removable))).run()
"""


class Stuck(Exception):
    """The screen never showed what the walk waited for."""


class Pane:
    def __init__(self, socket: str, session: str) -> None:
        self.tmux = ["tmux", "-L", socket]
        self.session = session

    def start(self, command: str, cwd: Path) -> None:
        subprocess.run(  # noqa: S603 - tmux, with our own arguments
            [*self.tmux, "new-session", "-d", "-s", self.session, "-x", "80", "-y", "24",
             "-c", str(cwd), command],
            check=True,
        )  # fmt: skip

    def keys(self, *keys: str) -> None:
        for key in keys:
            subprocess.run([*self.tmux, "send-keys", "-t", self.session, key], check=True)  # noqa: S603
            time.sleep(0.15)

    def type(self, text: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.session, "-l", text], check=True)  # noqa: S603
        time.sleep(0.15)

    def text(self, escapes: bool = False) -> str:
        args = [*self.tmux, "capture-pane", "-p", "-t", self.session]
        if escapes:
            args.append("-e")
        return subprocess.run(args, check=True, capture_output=True, text=True).stdout  # noqa: S603

    def wait(self, what: str | Callable[[str], bool], timeout: float = TIMEOUT) -> str:
        test = what if callable(what) else (lambda screen: what in screen)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            screen = self.text()
            if test(screen):
                time.sleep(0.3)  # let the frame settle
                return self.text()
            time.sleep(0.25)
        raise Stuck(f"waited for {what!r}; the screen shows:\n{self.text()}")

    def focused_label(self) -> str:
        """The text drawn reversed (a focused button, toggle or table row), '' if none."""
        spans: list[str] = []
        for line in self.text(escapes=True).splitlines():
            reverse, span = False, ""
            for token in re.split(r"(\x1b\[[0-9;]*m)", line):
                if token.startswith("\x1b["):
                    codes = token[2:-1].split(";")
                    if "7" in codes:
                        reverse = True
                    elif "0" in codes or "27" in codes or token == "\x1b[m":
                        reverse = False
                        spans.append(span)
                        span = ""
                elif reverse:
                    span += token
            spans.append(span)
        return " ".join(t.strip(" ▊▎▔▁") for t in spans if t.strip(" ▊▎▔▁"))

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until two captures 0.4 s apart are the same (the app caught up)."""
        end = time.monotonic() + timeout
        last = self.text(escapes=True)
        while time.monotonic() < end:
            time.sleep(0.4)
            now = self.text(escapes=True)
            if now == last:
                return
            last = now

    def tab_to(self, label: str, tries: int = 16) -> None:
        """Press Tab until the button `label` has the focus."""
        for _ in range(tries):
            self.settle()
            if label in self.focused_label():
                return
            self.keys("Tab")
        raise Stuck(f"Tab never reached {label!r}; the screen shows:\n{self.text()}")

    def kill(self) -> None:
        subprocess.run([*self.tmux, "kill-session", "-t", self.session], check=False)  # noqa: S603


def row(screen: str, label: str, value: str) -> bool:
    """True when one line of the screen shows the label and, after it, the value."""
    return any(label in line and value in line.split(label, 1)[1] for line in screen.splitlines())


def column(screen: str, start: int, end: int) -> str:
    """The text in columns [start, end) of every line, as one line of words."""
    return " ".join(" ".join(line[start:end] for line in screen.splitlines()).split())


def gps_photo() -> bytes:
    """A small JPEG with what a phone writes: GPS, make, model and a body serial."""
    from PIL import Image  # a test dependency, as tmux is

    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "EOS 5D"
    exif.get_ifd(0x8769)[0xA431] = "SN-4242"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (55.0, 45.0, 20.88), "E", (37.0, 37.0, 2.28)
    out = io.BytesIO()
    Image.new("RGB", (48, 32), (200, 30, 30)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def make_vaults(root: Path) -> None:
    """A field laptop with one earlier record and an attachment, an HQ that trusts it
    and is trusted by it; a USB stick folder."""
    (root / "start").mkdir()
    (root / "camera").mkdir()  # the attachment comes from here; extracts go to start/
    (root / "camera" / "scan.jpg").write_bytes(gps_photo())
    (root / "removable" / "media" / USER / "STICK").mkdir(parents=True)
    field, _ = Vault.create(root / "field", PASS, kdf_params=WEAK, name="FW-03 ноутбук")
    hq, _ = Vault.create(root / "hq", PASS, kdf_params=WEAK, kind="hq", name="Штаб Алматы")
    trust.trust_hq(field.db, identity.hq(hq.db).card_text())
    trust.enroll(hq.db, identity.device(field.db).card_text())
    doc = model.template()
    doc.update(pseudonym="Свидетель Б-5", risk="high", narrative="Задержали у рынка.")
    doc["incidents"] = [dict(doc["incidents"][0], type="expulsion_order")]
    # Consent not recorded yet: the export asks about it and the walk holds it back.
    doc["consent"] = dict(
        doc["consent"], obtained=None, method="", obtained_on=None, obtained_by=""
    )
    rid = RecordService(field.db).add(doc)
    AttachmentService(field.db).add_stream(
        rid, io.BytesIO(b"\xff\xd8" + bytes(3000)), filename="povestka.jpg",
        media_type="image/jpeg", description="Повестка, стр. 1",
    )  # fmt: skip
    field.lock()
    hq.lock()


def launch(pane: Pane, root: Path, vault: str, lang: str) -> None:
    args = [sys.executable, "-c", LAUNCH, str(root / vault), str(root / "start"),
            str(root / "removable"), lang]  # fmt: skip
    env = f"USER={USER} FIELDKIT_CONFIG_DIR={shlex.quote(str(root / 'cfg'))} "
    pane.start(env + shlex.join(args), ROOT)


def walk(lang: str, out: Path, root: Path, socket: str) -> list[Path]:
    i18n.set_language(lang)
    _ = i18n._
    saved: list[Path] = []

    def save(pane: Pane, name: str) -> None:
        path = out / f"{lang}-{name}.txt"
        path.write_text(pane.text(), encoding="utf-8")
        saved.append(path)

    make_vaults(root)
    field = Pane(socket, f"field-{lang}")
    launch(field, root, "field", lang)
    try:
        field.wait(_("fieldkit is locked"))
        save(field, "unlock")
        field.type(PASS)
        field.keys("Enter")
        field.wait(f"^n {_('New')}")
        field.wait("Свидетель Б-5")
        save(field, "records")

        field.keys("C-n")
        field.wait(_("New record"))
        time.sleep(1.0)  # the pseudonym takes the focus once the form is built
        field.type("Свидетель А-1")
        field.keys("M-2")  # Alt+2: the Persons tab
        field.wait(_("Add person"))
        field.tab_to(_("Add person"))
        field.keys("Enter")
        field.wait("p1:")
        field.tab_to(_("Remove"))
        field.keys("Tab")  # the Roles tick list: victim is ticked, the cursor on informant
        field.settle()
        field.keys("Space")  # tick informant as well
        field.keys("Tab")  # the pseudonym
        field.settle()
        field.type("Брат")
        roles = f"{_('victim')}, {_('informant')}"  # the first role ticked stays the main one
        field.wait(lambda s: f"p1: Брат ({roles})" in column(s, 1, 21))  # the list wraps it
        save(field, "editor-persons")

        field.keys("M-4")  # Alt+4: the Consent tab; the cursor on Obtained
        field.wait(_("Obtained by"))
        field.settle()
        field.keys("Enter", "Down", "Enter")  # Obtained: not recorded -> yes
        field.wait(lambda s: row(s, _("Obtained"), _("yes")))
        field.keys("Tab")
        field.settle()
        field.keys("Enter", "Down", "Enter")  # Method: not said -> oral
        field.wait(lambda s: row(s, _("Method"), _("oral")))
        field.keys("Tab")  # Obtained on
        field.settle()
        field.type("2026-11-28")
        field.keys("Tab")  # Obtained by
        field.settle()
        field.type("FW-03")
        field.wait(lambda s: row(s, _("Obtained by"), "FW-03") and "2026-11-28" in s)
        save(field, "editor-consent")
        field.keys("C-s")
        field.wait(_("Saved (version {n}).").format(n=1))
        field.keys("M-6")  # Alt+6: Attachments
        field.wait(_("Add file…"))
        field.tab_to(_("Add file…"))
        field.keys("Enter")
        field.wait(_("or type a path"))
        field.settle()
        field.keys("Tab")  # from the folder tree to the path
        field.type(str(root / "camera" / "scan.jpg"))
        field.keys("Enter")
        field.wait(_("This photo carries identifying metadata:"))  # GPS, camera, serial
        field.settle()
        save(field, "editor-metadata-found")
        field.keys("Enter")  # OK has the focus
        field.wait(lambda screen: "scan.jpg" in screen and _("or type a path") not in screen
                   and _("This photo carries identifying metadata:") not in screen)  # fmt: skip
        field.keys("Escape")
        field.wait(f"^n {_('New')}")  # back in the list
        field.settle()

        field.keys("C-t")
        field.wait(_("Export a bundle for HQ"))
        field.wait("STICK")
        field.tab_to(_("Export"))
        field.keys("Enter")
        # Свидетель Б-5 has no recorded consent (Свидетель А-1 has): hold it back.
        field.wait(_("Hold them back"))
        field.wait("Свидетель Б-5")
        if "Свидетель А-1" in field.text():
            raise Stuck("the record with consent is listed as lacking it:\n" + field.text())
        field.settle()
        if _("Hold them back") not in field.focused_label():
            raise Stuck("the dialog does not focus 'Hold them back':\n" + field.text())
        save(field, "export-without-consent")
        field.keys("Enter")
        held = _(
            "HELD BACK, without recorded consent: {n} record(s). They stay on this laptop "
            "and go in a later export once consent is recorded, or when you confirm:"
        ).split("{n}")[0]
        field.wait(lambda s: ".age" in s and "STICK" in s and held.strip() in s
                   and "Свидетель Б-5" in s.split(held.strip())[1]
                   and len(list((root / "removable" / "media" / USER / "STICK").glob("*.age"))) == 1)  # fmt: skip
        time.sleep(1.5)
        save(field, "export-result")
    finally:
        field.kill()

    bundle = next((root / "removable" / "media" / USER / "STICK").glob("*.age"))
    hq = Pane(socket, f"hq-{lang}")
    launch(hq, root, "hq", lang)
    try:
        hq.wait(_("fieldkit is locked"))
        hq.type(PASS)
        hq.keys("Enter")
        hq.wait(_("Verify and import"))
        for _i in range(6):  # from the tab bar to the bundle path (a heavy border)
            hq.settle()
            if "┃" in hq.text().split("\n")[4]:
                break
            hq.keys("Tab")
        hq.type(str(bundle))
        hq.keys("Enter")  # adds it to the list
        hq.wait(bundle.name)
        hq.tab_to(_("Verify and import"))
        hq.keys("BTab")  # the receipts folder: the stick
        hq.type(str(bundle.parent))
        hq.tab_to(_("Verify and import"))
        hq.keys("Enter")
        hq.wait(_("IMPORTED"))
        save(hq, "hq-import-report")

        hq.keys("M-3")  # Alt+3: the Testimony tab
        hq.wait("Свидетель А-1")
        hq.settle()  # the search field has the focus
        hq.keys("Tab", "Tab")  # the device filter, then the table
        person = _("Person {id}: {role}").format(id="p1", role=f"{_('victim')}, {_('informant')}")
        for attempt in range(3):  # on a loaded machine the second Tab can land late
            hq.settle()
            hq.keys("Enter")
            try:
                hq.wait(person, timeout=10)
                break
            except Stuck:
                if attempt == 2:
                    raise
                hq.keys("Escape")  # an open device list, if Enter landed there
                hq.settle()
                hq.keys("Tab")
        save(hq, "hq-record")
        hq.keys("C-k")  # the custody report of the record and its attachments
        made = _("fieldkit custody report (format {v}), made {at}").split("{v}")[0]
        hq.wait(lambda s: made.strip() in s and _("Extract…") not in s)
        hq.settle()
        save(hq, "hq-custody")
        hq.keys("Escape")
        hq.wait(_("Extract…"))
        hq.settle()
        hq.keys("C-e")  # extract the attachment, with a reason that is logged
        hq.wait(_("Reason (required)"))
        hq.settle()
        hq.type("сверка повестки с оригиналом")
        original = _("Unaltered original, with its metadata (GPS, serial…)")[:20]
        if any(
            "X" in line.split(original)[0] for line in hq.text().splitlines() if original in line
        ):
            raise Stuck("the unaltered original is ticked by default:\n" + hq.text())
        hq.keys("Enter")  # the default: a copy stripped of its metadata
        written = _(
            "{name} written to {path} (not encrypted) without its metadata ({what}); "
            "the reason is logged."
        )
        hq.wait(written.split("{path}")[1].strip()[:12])
        save(hq, "hq-extracted")
        hq.keys("Escape")
        hq.wait(_("Testimony"))
        hq.keys("M-5")  # Alt+5: the Counts tab
        hq.wait(_("Save table"))
        hq.tab_to(_("Count"))
        hq.keys("Enter")
        # Only Свидетель А-1 came (with no incident): the tables say so, with no bars.
        hq.wait(lambda s: _("Incidents by type") in s and _("Incidents by month") in s)
        save(hq, "hq-counts")
    finally:
        hq.kill()

    stick = root / "removable" / "media" / USER / "STICK"
    receipt = next(p for p in stick.glob("*.age") if p != bundle)
    field = Pane(socket, f"field2-{lang}")
    launch(field, root, "field", lang)
    try:
        field.wait(_("fieldkit is locked"))
        field.type(PASS)
        field.keys("Enter")
        field.wait(f"^n {_('New')}")
        field.keys("C-r")  # the receipt back from HQ, then purge what HQ holds
        field.wait(_("Purge delivered records…"))
        field.settle()
        field.type(str(receipt))
        field.keys("Enter")
        field.wait(
            _(
                "Receipt from {hq} for bundle {seq}: {d} record(s) delivered, {s} edited since."
            ).split("{hq}")[0]
        )
        field.tab_to(_("Purge delivered records…"))
        field.keys("Enter")
        field.wait(_("Purge"))
        field.tab_to(_("Purge"))
        field.keys("Enter")
        field.wait(_("Purged {r} record(s) and {a} attachment(s).").split("{r}")[0])
        save(field, "receipt-purge")
    finally:
        field.kill()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="ru", choices=sorted(i18n.LANGUAGES))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--socket", help="tmux socket name (-L); default fieldkit-walk-LANG")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fieldkit-walk-") as tmp:
        try:
            for path in walk(
                args.lang, out, Path(tmp), args.socket or f"fieldkit-walk-{args.lang}"
            ):
                print(path)
        except Stuck as exc:
            print(f"stuck: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
