"""SQL for trust: HQ cards a device trusts, and the HQ's device roster."""

from __future__ import annotations

from dataclasses import dataclass

from fieldkit.store.db import Database, as_bytes


@dataclass(frozen=True)
class TrustedHQ:
    fingerprint: bytes
    name: str
    card: str
    added_at: str


@dataclass(frozen=True)
class DeviceRow:
    fingerprint: bytes
    name: str
    card: str
    enrolled_at: str
    revoked_at: str | None


def add_hq(db: Database, t: TrustedHQ) -> None:
    db.execute(
        "INSERT INTO trusted_hq (fingerprint, name, card, added_at) VALUES (?,?,?,?)"
        " ON CONFLICT(fingerprint) DO UPDATE SET name=excluded.name, card=excluded.card",
        (t.fingerprint, t.name, t.card, t.added_at),
    )


def list_hq(db: Database) -> list[TrustedHQ]:
    return [
        TrustedHQ(as_bytes(r[0]), str(r[1]), str(r[2]), str(r[3]))
        for r in db.all(
            "SELECT fingerprint, name, card, added_at FROM trusted_hq ORDER BY added_at"
        )
    ]


def remove_hq(db: Database, fingerprint: bytes) -> int:
    return int(db.execute("DELETE FROM trusted_hq WHERE fingerprint=?", (fingerprint,)).rowcount)


def _device(r: tuple[object, ...]) -> DeviceRow:
    return DeviceRow(
        as_bytes(r[0]), str(r[1]), str(r[2]), str(r[3]), None if r[4] is None else str(r[4])
    )


def enroll(db: Database, d: DeviceRow) -> None:
    db.execute(
        "INSERT INTO devices (fingerprint, name, card, enrolled_at, revoked_at)"
        " VALUES (?,?,?,?,NULL)",
        (d.fingerprint, d.name, d.card, d.enrolled_at),
    )


def get_device(db: Database, fingerprint: bytes) -> DeviceRow | None:
    row = db.one(
        "SELECT fingerprint, name, card, enrolled_at, revoked_at FROM devices WHERE fingerprint=?",
        (fingerprint,),
    )
    return None if row is None else _device(row)


def list_devices(db: Database) -> list[DeviceRow]:
    return [
        _device(r)
        for r in db.all(
            "SELECT fingerprint, name, card, enrolled_at, revoked_at FROM devices"
            " ORDER BY enrolled_at, name"
        )
    ]


def revoke(db: Database, fingerprint: bytes, at: str) -> None:
    db.execute(
        "UPDATE devices SET revoked_at=? WHERE fingerprint=? AND revoked_at IS NULL",
        (at, fingerprint),
    )
