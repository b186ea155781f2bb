"""Helpers for driving the app with Pilot."""

from __future__ import annotations

import itertools
from pathlib import Path

from textual.pilot import Pilot

from fieldkit.ui.app import FieldkitApp
from fieldkit.ui.context import AppContext
from tests.conftest import WEAK


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
    vault_dir: Path, start_dir: Path, *, clock: FakeClock | None = None, deterministic: bool = False
) -> FieldkitApp:
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
            autosave_seconds=0.2,
            idle_check_seconds=0.1,
            **kwargs,
        )
    )  # type: ignore[arg-type]


async def type_into(pilot: Pilot[None], selector: str, text: str) -> None:
    # A screen that was just pushed may not have composed its widgets yet.
    await wait_for(pilot, lambda: bool(pilot.app.screen.query(selector)))
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    await pilot.pause()
    widget.value = text  # type: ignore[attr-defined]
    await pilot.pause()


async def wait_for(pilot: Pilot[None], condition: object, timeout: float = 10.0) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)
