"""Padmé length padding, shared by bundles and stored attachments."""

from __future__ import annotations


def padme(length: int) -> int:
    """Padmé (PURBs, Nikitin et al. 2019): round up so that at most O(log log L) bits of
    the length remain; overhead at most about 12%."""
    if length < 2:
        return length
    e = length.bit_length() - 1
    s = e.bit_length()
    mask = (1 << (e - s)) - 1
    return (length + mask) & ~mask
