"""Progress on stderr for long work: a single updating line on a terminal, quiet otherwise."""

from __future__ import annotations

from collections.abc import Callable

from fieldkit.cli.context import Context
from fieldkit.i18n import _


def reporter(ctx: Context, label: str) -> Callable[[int, int], None]:
    last = [-1]

    def report(done: int, total: int) -> None:
        if ctx.as_json or not ctx.stderr.isatty() or total <= 0:
            return
        pct = min(100, done * 100 // total)
        if pct != last[0]:
            last[0] = pct
            mib = 1024 * 1024
            line = _("{label} {pct}%  {done} of {total} MiB").format(
                label=label, pct=f"{pct:3d}", done=done // mib, total=total // mib
            )
            ctx.stderr.write("\r" + line)
            if done >= total:
                ctx.stderr.write("\n")
            ctx.stderr.flush()

    return report
