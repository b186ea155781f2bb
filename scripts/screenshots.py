"""Make the README screenshots (SVG, Textual's own screenshot feature) from a demo vault.

    .venv/bin/python scripts/screenshots.py

Everything shown is invented demo data.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fieldkit.crypto.kdf import Argon2Params  # noqa: E402
from fieldkit.services import model  # noqa: E402
from fieldkit.services.attachments import AttachmentService  # noqa: E402
from fieldkit.services.records import RecordService  # noqa: E402
from fieldkit.services.vault import Vault  # noqa: E402
from fieldkit.ui.app import FieldkitApp  # noqa: E402
from fieldkit.ui.context import AppContext  # noqa: E402

PASS = "demo passphrase for the screenshots"
OUT = ROOT / "docs" / "screenshots"


def demo_vault(root: Path) -> None:
    v, _ = Vault.create(root, PASS, kdf_params=Argon2Params(1, 8192, 1), name="FW-03 laptop")
    rs = RecordService(v.db)
    rid = rs.add(model.template())
    for name, risk, itype, lang, narrative in [
        ("Witness A-2", "low", "surveillance", "ru", "За мной следили после митинга."),
        ("Witness B-5", "critical", "expulsion_order", "tg", "Маро аз кор рондаанд ва ҳуҷҷатҳоро гирифтанд."),
        ("Witness C-1", "medium", "coercion_to_denounce", "ru", "Требовали подписать донос."),
        ("Witness D-8", "high", "enforced_disappearance", "en", "My brother has not been seen since."),
    ]:
        d = model.template()
        d.update(pseudonym=name, risk=risk, narrative=narrative)
        d["interview"]["languages"] = [lang]
        d["incidents"] = [dict(d["incidents"][0], type=itype)]
        rs.add(d)
    AttachmentService(v.db).add_stream(rid, io.BytesIO(b"\xff\xd8" + bytes(48_000)),
                                       filename="expulsion-order-p1.jpg",
                                       media_type="image/jpeg",
                                       description="Expulsion order, page 1")
    v.lock()


async def shoot(root: Path) -> None:
    app = FieldkitApp(AppContext(root, start_dir=Path.home()))
    async with app.run_test(size=(110, 32)) as pilot:
        app.screen.query_one("#passphrase").value = PASS  # type: ignore[attr-defined]
        await pilot.press("enter")
        while app.vault is None or app.screen.__class__.__name__ != "RecordsScreen":
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        app.save_screenshot(str(OUT / "records.svg"))
        table = app.screen.query_one("#table")
        table.focus()
        table.move_cursor(row=4)  # type: ignore[attr-defined]
        await pilot.press("enter")
        while app.screen.__class__.__name__ != "EditorScreen":
            await pilot.pause(0.05)
        app.screen.query_one("#tabs").active = "tab-incidents"  # type: ignore[attr-defined]
        await pilot.pause(1.0)  # let the tab underline finish its animation
        app.save_screenshot(str(OUT / "editor.svg"))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())
    try:
        demo_vault(tmp / "vault")
        asyncio.run(shoot(tmp / "vault"))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
