"""Progress on stderr for long work: a single updating line on a terminal, quiet otherwise."""

from __future__ import annotations

from collections.abc import Callable

from fieldkit.cli.context import Context


def reporter(ctx: Context, label: str) -> Callable[[int, int], None]:
    last = [-1]

    def report(done: int, total: int) -> None:
        if ctx.as_json or not ctx.stderr.isatty() or total <= 0:
            return
        pct = min(100, done * 100 // total)
        if pct != last[0]:
            last[0] = pct
            mib = 1024 * 1024
            ctx.stderr.write(f"\r{label} {pct:3d}%  {done // mib} of {total // mib} MiB")
            if done >= total:
                ctx.stderr.write("\n")
            ctx.stderr.flush()

    return report
