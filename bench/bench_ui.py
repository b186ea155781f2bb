"""App benchmarks:

  startup     from starting the process to the unlock screen being shown (wall clock,
              median of several runs, measured from outside the process)
  search      search-as-you-type with 10,000 records: the time from the search box
              changing to the table showing the results (the 120 ms typing debounce is
              not counted), median and p95 over typed prefixes

    .venv/bin/python -m bench.bench_ui [--records 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from bench.common import compile_bytecode, percentile, save
from bench.corpus import queries, testimony
from fieldkit.crypto.kdf import Argon2Params
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault

PASS = "benchmark passphrase with enough words"
WEAK = Argon2Params(1, 8 * 1024, 1)
ROOT = Path(__file__).resolve().parent.parent

STARTUP = textwrap.dedent(
    """
    import sys, time
    t0 = float(sys.argv[2])
    from pathlib import Path
    from fieldkit.ui.app import FieldkitApp
    from fieldkit.ui.context import AppContext
    from fieldkit.ui.screens.unlock import UnlockScreen
    import asyncio

    async def main():
        app = FieldkitApp(AppContext(Path(sys.argv[1])))
        async with app.run_test(size=(80, 24)) as pilot:
            while not isinstance(app.screen, UnlockScreen):
                await pilot.pause(0.001)
            await pilot.pause()
            print(time.time() - t0)

    asyncio.run(main())
    """
)


def bench_startup(vault: Path, runs: int = 7) -> dict[str, float]:
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", STARTUP, str(vault), repr(time.time())],
                             capture_output=True, text=True, cwd=ROOT, check=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return {"median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3)}


async def _search(vault_dir: Path, qs: list[str]) -> list[float]:
    from fieldkit.ui.app import FieldkitApp
    from fieldkit.ui.context import AppContext
    from fieldkit.ui.screens.records import RecordsScreen

    app = FieldkitApp(AppContext(vault_dir))
    times: list[float] = []
    async with app.run_test(size=(100, 30)) as pilot:
        app.screen.query_one("#passphrase").value = PASS  # type: ignore[attr-defined]
        await pilot.press("enter")
        while not isinstance(app.screen, RecordsScreen):
            await pilot.pause(0.01)
        screen = app.screen
        box = screen.query_one("#search")
        for q in qs:
            for end in range(1, len(q) + 1):  # as typed, letter by letter
                box.value = q[:end]  # type: ignore[attr-defined]
                t = time.perf_counter()
                screen.refresh_list()
                await pilot.pause()  # let the table render
                times.append(time.perf_counter() - t)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=10_000)
    args = ap.parse_args()
    compile_bytecode()  # as an installed fieldkit has it (bench/common.py says why)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as d:
        vault_dir = Path(d) / "vault"
        v, _ = Vault.create(vault_dir, PASS, kdf_params=WEAK)
        rng = random.Random(1)
        rs = RecordService(v.db)
        for start in range(0, args.records, 1000):
            rs.add_many([testimony(rng, i) for i in range(start, start + 1000)])
        v.lock()
        startup = bench_startup(vault_dir)
        qs = [q for q in queries(random.Random(5), 40) if q][:40]
        times = asyncio.run(_search(vault_dir, qs))
    save("ui", {
        "records": args.records,
        "startup_to_unlock_screen": startup,
        "search_as_you_type_ms": {
            "keystrokes": len(times),
            "p50": round(percentile(times, 50) * 1000, 1),
            "p95": round(percentile(times, 95) * 1000, 1),
            "max": round(max(times) * 1000, 1),
        },
    })


if __name__ == "__main__":
    main()
