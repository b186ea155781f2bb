"""Helpers for driving the app with Pilot."""

from __future__ import annotations

import itertools
from pathlib import Path

from textual.app import App
from textual.pilot import Pilot

from fieldkit.services.vault import Vault
from fieldkit.ui.app import FieldkitApp
from fieldkit.ui.context import AppContext
from fieldkit.ui.screens.records import RecordsScreen
from tests.conftest import PASSPHRASE, WEAK


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def deterministic_random() -> object:
    counter = itertools.count(1)

    def random_bytes(n: int) -> bytes:
        seed = next(counter).to_bytes(4, "big")
        return (seed * (n // 4 + 1))[:n]

    return random_bytes


def make_app(
    vault_dir: Path,
    start_dir: Path,
    *,
    clock: FakeClock | None = None,
    deterministic: bool = False,
    removable_root: Path | None = None,
) -> FieldkitApp:
    """The app on `vault_dir`, with a fake clock and short timers. Drives are looked for
    under `removable_root` (by default a folder that does not exist: no drive mounted)."""
    clock = clock or FakeClock()
    kwargs: dict[str, object] = {}
    if deterministic:
        kwargs["random_bytes"] = deterministic_random()
    return FieldkitApp(
        AppContext(
            vault_dir,
            kdf_params=WEAK,
            now=clock,
            monotonic=clock,
            start_dir=start_dir,
            # Never the real "/": a test must not offer (or write to) a mounted USB stick.
            removable_root=removable_root or start_dir / "no-drives",
            autosave_seconds=0.2,
            idle_check_seconds=0.1,
            wipe_tick_seconds=0.05,
            **kwargs,
        )
    )  # type: ignore[arg-type]


async def type_into(pilot: Pilot[None], selector: str, text: str) -> None:
    """Type `text` into an Input as a person does: focus it, clear it with keys (Home,
    Ctrl+K), then one key press per character, so the Input's own key handling,
    restrictions and change events all run."""
    # A screen that was just pushed may not have composed its widgets yet.
    await wait_for(pilot, lambda: bool(pilot.app.screen.query(selector)))
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    await pilot.pause()
    assert widget.has_focus, f"{selector} cannot take the focus"
    await pilot.press("home", "ctrl+k", *(KEY_NAMES.get(c, c) for c in text))
    await pilot.pause()


KEY_NAMES = {" ": "space"}


def locked_vault(root: Path, *, kind: str = "field", name: str | None = None) -> Path:
    """A new vault at `root` (PASSPHRASE, the tests' weak Argon2id), locked again, as the
    app finds it at start."""
    Vault.create(root, PASSPHRASE, kdf_params=WEAK, kind=kind, name=name)[0].lock()
    return root


async def unlock(pilot: Pilot[None], app: App[None], screen: type = RecordsScreen) -> None:
    """Type PASSPHRASE at the unlock screen, press Enter and wait for `screen` (the
    records list unless another is named, e.g. the HQ desk)."""
    await type_into(pilot, "#passphrase", PASSPHRASE)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, screen))


async def wait_for(pilot: Pilot[None], condition: object, timeout: float = 10.0) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)


def screen_lines(app: App[None]) -> list[str]:
    """What a person sees on the app's screen (and the screens under a modal), line by
    line: characters drawn in their background's colour are blanks. Fails if a control
    character would reach the terminal."""
    from rich.cells import cell_len

    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    lines = []
    for line in update.strips:  # type: ignore[union-attr]
        shown = []
        for strip in line:
            for seg in strip:
                if seg.control:
                    continue
                bad = [c for c in seg.text if not c.isprintable() and c != " "]
                assert not bad, f"control characters reach the terminal: {bad!r} in {seg.text!r}"
                style = seg.style
                hidden = style is not None and (
                    bool(style.conceal)
                    or (style.color is not None and style.color == style.bgcolor)
                )
                shown.append(" " * cell_len(seg.text) if hidden else seg.text)
        lines.append("".join(shown))
    return lines


def screen_text(app: App[None]) -> str:
    return "\n".join(screen_lines(app))
