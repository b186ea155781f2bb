"""Random identifiers for records and attachments: 128 bits, lower-case Crockford base32."""

from __future__ import annotations

import os
from collections.abc import Callable

from fieldkit.errors import NotFound

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
MIN_PREFIX = 6  # docs/cli.md: ids may be shortened to a unique prefix this long or longer


def new_id(prefix: str, random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    value = int.from_bytes(random_bytes(16), "big")
    chars = [_ALPHABET[(value >> (5 * i)) & 31] for i in range(26)]
    return prefix + "".join(reversed(chars))


def match_prefix(
    given: str,
    what: str,
    starting_with: Callable[[str, int], list[str]],
    *,
    hint: str | None = None,
) -> str:
    """The one id that starts with `given`, once an exact look-up found nothing.

    `starting_with(prefix, limit)` lists up to `limit` stored ids with that prefix.
    Too short, ambiguous and unknown each get their own message (all exit 6); `hint`
    goes with "unknown"."""
    if len(given) < MIN_PREFIX:
        # Said as such: "no record" made people look for a record that may well exist.
        raise NotFound(
            f"{given!r} is too short for a {what} id: use {MIN_PREFIX} or more characters",
            hint=f"type the whole id, or at least {MIN_PREFIX} of its first characters",
        )
    matches = starting_with(given, 2)
    if len(matches) > 1:
        raise NotFound(
            f"more than one {what} id starts with {given!r}",
            hint="type more characters of the id",
        )
    if not matches:
        raise NotFound(f"no {what} {given!r} in this vault", hint=hint)
    return matches[0]
