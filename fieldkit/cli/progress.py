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


def upgrade_reporter(ctx: Context) -> Callable[[int, int], None]:
    """For Vault.unlock(on_upgrade=...): the first unlock after an upgrade of fieldkit
    may index every record again (minutes on a large HQ vault). Said on stderr from the
    start, then as a percentage on a terminal, so the command does not look hung."""
    last = [-1]

    def report(done: int, total: int) -> None:
        if total <= 0:
            return
        if last[0] < 0:
            ctx.stderr.write(
                _(
                    "Upgrading the search index of {total} records (once, after an update"
                    " of fieldkit)..."
                ).format(total=total)
                + "\n"
            )
        pct = min(100, done * 100 // total)
        if pct != last[0] and ctx.stderr.isatty():
            line = _("Search index {pct}%  {done} of {total} records").format(
                pct=f"{pct:3d}", done=done, total=total
            )
            ctx.stderr.write("\r" + line + ("\n" if done >= total else ""))
        last[0] = pct
        ctx.stderr.flush()

    return report
