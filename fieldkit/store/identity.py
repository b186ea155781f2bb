"""SQL for this vault's own keys (device or HQ)."""

from __future__ import annotations

from dataclasses import dataclass

from fieldkit.store.db import Database, as_bytes


@dataclass(frozen=True)
class IdentityRow:
    role: str
    name: str
    signing_key: bytes
    age_identity: bytes
    created_at: str


def get(db: Database, role: str) -> IdentityRow | None:
    row = db.one(
        "SELECT role, name, signing_key, age_identity, created_at FROM identity WHERE role=?",
        (role,),
    )
    if row is None:
        return None
    return IdentityRow(str(row[0]), str(row[1]), as_bytes(row[2]), as_bytes(row[3]), str(row[4]))


def put(db: Database, row: IdentityRow) -> None:
    db.execute(
        "INSERT INTO identity (role, name, signing_key, age_identity, created_at)"
        " VALUES (?,?,?,?,?)",
        (row.role, row.name, row.signing_key, row.age_identity, row.created_at),
    )


def never_had_one(db: Database) -> bool:
    """No identity, and no bundle ever made or imported: a vault from before schema 2
    (which had no identities), not one whose identity went missing."""
    return bool(
        db.scalar(
            "SELECT NOT EXISTS (SELECT 1 FROM identity)"
            " AND NOT EXISTS (SELECT 1 FROM exports)"
            " AND NOT EXISTS (SELECT 1 FROM device_bundles)"
        )
    )
