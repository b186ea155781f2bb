"""Findings about identifying metadata (services/media.py) as CLI lines and JSON.

Values come from the file: write_line escapes them when they are printed."""

from __future__ import annotations

from typing import Any

from fieldkit.i18n import _
from fieldkit.services.media import NOT_MEDIA, UNREADABLE, Findings


def labels(found: Findings) -> list[str]:
    """The kinds of metadata found, each once, in the order found lists them."""
    return list(dict.fromkeys(f.label for f in found.items))


def heading(found: Findings) -> str:
    if found.kind == "image":
        return _("This photo carries identifying metadata:")
    if found.kind == "video":
        return _("This video carries identifying metadata:")
    return _("This recording carries identifying metadata:")


def lines(found: Findings, title: str | None = None) -> list[str]:
    """What a person reads about one file: nothing for a file that is not media."""
    if found.status == NOT_MEDIA:
        return []
    if found.status == UNREADABLE:
        return [_("Its metadata could not be read: {problem}").format(problem=found.problem)]
    if not found.identifying:
        return [_("No identifying metadata found in it.")]
    out = [title or heading(found)]
    out += [f"  {_(f.label)}: {f.value}" for f in found.items]
    if found.more:
        out.append("  " + _("… and {n} more").format(n=found.more))
    return out


def intake_lines(found: Findings) -> list[str]:
    """At intake: what was found, and what happens to it."""
    out = lines(found)
    if found.identifying:
        out.append(
            _(
                "The original is kept unaltered in the vault as evidence; copies HQ "
                "extracts are stripped of this metadata by default."
            )
        )
    return out


def as_json(found: Findings) -> dict[str, Any]:
    return {
        "status": found.status,
        "kind": found.kind,
        "format": found.format,
        "items": [{"what": f.label, "value": f.value} for f in found.items],
        "more": found.more,
        "problem": found.problem,
    }
