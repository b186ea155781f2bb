"""One root error class; each subclass carries its exit code and a hint.

Only the CLI and the UI turn these into output. Messages never contain testimony
plaintext, passphrases or key material: they name fields, files and problems.
The exit codes are part of the interface and are listed in docs/cli.md.

Messages and hints are English. Constant ones are marked with N_ (fieldkit/msgids.py)
so they reach the translation catalogue; the CLI and the app translate them where they
show them (a message with values in it stays English unless its raiser translated it).
"""

from __future__ import annotations

import errno
from pathlib import Path

from fieldkit.msgids import N_


class FieldkitError(Exception):
    """Root of every error fieldkit raises on purpose."""

    exit_code: int = 1
    hint: str = N_("this is a bug in fieldkit; please report it (see SECURITY.md)")

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint


class UsageError(FieldkitError):
    """The command line itself is wrong."""

    exit_code = 2
    hint = N_("run 'fieldkit --help' or 'fieldkit COMMAND --help'")


class VaultNotFound(FieldkitError):
    """No vault at the given place."""

    exit_code = 3
    hint = N_("create one with 'fieldkit init', or point --vault (or FIELDKIT_VAULT) at it")


class VaultExists(FieldkitError):
    """Refusing to create a vault over an existing one."""

    exit_code = 3
    hint = N_("choose another --vault directory; fieldkit never overwrites a vault")


class AuthenticationFailed(FieldkitError):
    """Wrong passphrase or recovery code.

    One opaque error for every authentication failure, so nothing tells an
    attacker which check failed.
    """

    exit_code = 4
    hint = N_(
        "check the keyboard layout and Caps Lock; if the passphrase is lost, use 'fieldkit recover'"
    )


class InvalidInput(FieldkitError):
    """A record, JSON document or argument does not pass validation."""

    exit_code = 5
    hint = N_("see 'fieldkit record template' for a complete valid example")

    def __init__(
        self,
        message: str,
        *,
        problems: list[tuple[str, str]] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.problems: list[tuple[str, str]] = problems or []


class FingerprintMismatch(InvalidInput):
    """A card's fingerprint is not the one its owner gave (--fingerprint): perhaps
    a substituted card. Nothing is trusted or enrolled."""

    hint = N_(
        "do not use this card; ask its owner for the card again over a channel you trust "
        "and compare the fingerprint they read to you"
    )


class NotFound(FieldkitError):
    """A record or attachment id that the vault does not hold."""

    exit_code = 6
    hint = N_("list what the vault holds with 'fieldkit record list'")


class WeakPassphrase(FieldkitError):
    """The chosen passphrase is refused by the policy."""

    exit_code = 7
    hint = N_(
        "use four or more unrelated words, or have one suggested "
        "('fieldkit init --generate-passphrase')"
    )


class CorruptVault(FieldkitError):
    """Vault files are malformed (not an authentication failure)."""

    exit_code = 8
    hint = N_("restore the vault directory from a backup; do not edit its files")


class MalformedData(FieldkitError):
    """Bytes from outside do not parse. Wraps the cause, never the bytes."""

    exit_code = 8
    hint = N_("the file is damaged or is not what fieldkit expects")


class FileAccessError(FieldkitError):
    """A file the user named cannot be read or written."""

    exit_code = 9
    hint = N_("check the path and its permissions")

    @classmethod
    def from_os(cls, what: str, exc: OSError) -> FileAccessError:
        """'{what}: {the system's reason}', with a hint for that reason (a full USB
        stick wants different advice from a missing folder)."""
        reason = exc.strerror or type(exc).__name__
        return cls(f"{what}: {reason}", hint=_OS_HINTS.get(exc.errno or 0))


MAX_LISTED = 10


class WipeIncomplete(FileAccessError):
    """`wipe` could not remove everything in the vault folder; the message names what is left."""

    hint = N_(
        "remove what is left by hand (check permissions and that no other program holds"
        " the files), or destroy the disk"
    )

    @classmethod
    def listing(
        cls, root: Path, left: list[Path], *, keys_left: bool, not_overwritten: list[Path]
    ) -> WipeIncomplete:
        if keys_left:
            state = "a keyslot file could not be overwritten or removed: the vault may still open"
        elif not_overwritten:
            names = ", ".join(p.name for p in not_overwritten)
            state = f"{names} could not be overwritten before removal, so its bytes may be on disk"
        else:
            state = "the keyslots are destroyed, so nothing opens the vault"
        shown = [str(p) for p in left[:MAX_LISTED]]  # escaped where shown (CLI, app)
        more = f" and {len(left) - MAX_LISTED} more" if len(left) > MAX_LISTED else ""
        what = f"; still there: {', '.join(shown)}{more}" if shown else ""
        return cls(f"wipe of {root} is incomplete: {state}{what}")


class IntegrityError(FieldkitError):
    """Stored data does not match its recorded hashes (tampering or corruption)."""

    exit_code = 10
    hint = N_(
        "the vault was changed outside fieldkit; keep a copy and contact your security contact"
    )


class VaultBusy(FieldkitError):
    """Another process held the vault's write lock for longer than this one would wait."""

    exit_code = 11
    hint = (
        "wait until the other fieldkit command finishes (importing a large bundle can take "
        "minutes) and run this one again; nothing of it was written"
    )


class Cancelled(FieldkitError):
    """The user declined or interrupted."""

    exit_code = 12
    hint = N_("nothing was changed")


class ConsentNotConfirmed(FieldkitError):
    """`export` found records that lack recorded consent, and no one confirmed exporting
    them (no terminal to ask on, and neither --include-without-consent nor
    --hold-without-consent). Nothing was exported."""

    exit_code = 13
    hint = N_(
        "record consent in each record (or run at a terminal to be asked); or pass "
        "--hold-without-consent to export the rest, or --include-without-consent to "
        "export them anyway"
    )


# ---- bundles and the age envelope (exit codes 20-29) -------------------------


class EnvelopeMalformed(MalformedData):
    """Not an age v1 file, or its header or armor is malformed."""

    exit_code = 20
    hint = N_("the file is damaged or is not a fieldkit bundle; ask for it to be sent again")


class NoMatchingKey(FieldkitError):
    """The file is not encrypted to any identity we hold."""

    exit_code = 21
    hint = N_("this bundle was made for another HQ key; check which HQ card the device trusts")


class EnvelopeAuthFailed(AuthenticationFailed):
    """The header MAC or a payload chunk does not authenticate: tampered or truncated.

    One class and one message for every such failure; `stage` is kept for tests and
    diagnostics only and never changes what the user is told.
    """

    exit_code = 22
    hint = N_("the file was altered or cut short in transit; ask for it to be sent again")

    def __init__(self, stage: str, message: str = "the bundle failed authentication") -> None:
        super().__init__(N_("the bundle failed authentication (damaged, truncated or altered)"))
        self.stage = stage
        self.detail = message


class UnknownDevice(FieldkitError):
    """A bundle signed by a device HQ has not enrolled."""

    exit_code = 23
    hint = N_(
        "enrol the device first: 'fieldkit hq enroll DEVICECARD' after comparing fingerprints"
    )


class BadSignature(AuthenticationFailed):
    """The bundle's or receipt's signature does not verify."""

    exit_code = 24
    hint = N_("the bundle was forged or altered; nothing was imported")


class RevokedDevice(FieldkitError):
    """The device that signed the bundle has been revoked."""

    exit_code = 25
    hint = N_("bundles from a revoked device are refused; talk to the fieldworker out of band")


class NotForThisHQ(FieldkitError):
    """The signed manifest does not name this HQ among its recipients."""

    exit_code = 26
    hint = N_("the bundle was made for another HQ and forwarded here; nothing was imported")


class ForkDetected(FieldkitError):
    """Two different bundles claim the same place in a device's chain."""

    exit_code = 28
    hint = N_("the device's key may be in someone else's hands; consider 'fieldkit hq revoke'")


class OutOfOrder(FieldkitError):
    """A bundle needs an earlier bundle of the same device imported first: it adds an
    attachment to a record that only that earlier bundle carries (bundles made before
    attachments travelled with their record). The message names the bundles."""

    exit_code = 32
    hint = N_("import the bundles the message names, then this one again; nothing was imported")


class ContentMismatch(IntegrityError):
    """A record or attachment in a bundle does not match the hash in the signed manifest."""

    exit_code = 29
    hint = N_("the bundle is damaged or was tampered with; nothing was imported")


class NotConfigured(FieldkitError):
    """The vault lacks what the command needs (an identity, a trusted HQ card)."""

    exit_code = 30
    hint = N_("see docs/hq-guide.md for enrolment")


class WrongVaultKind(FieldkitError):
    """A field command on an HQ vault or the other way round."""

    exit_code = 31
    hint = N_("point --vault at the right vault ('fieldkit init': field; 'fieldkit hq init': HQ)")


_OS_HINTS: dict[int, str] = {
    errno.ENOSPC: N_("the disk is full: free some space or choose another disk"),
    errno.EDQUOT: N_("your disk quota is used up: free some space or choose another disk"),
    errno.EROFS: N_("that disk is read-only: choose another, or check a USB stick's lock switch"),
    errno.EIO: N_("the disk reported an error: it may be failing or was unplugged; try another"),
    errno.ENOENT: N_("check the path: nothing is there (a typo, or a USB stick not mounted?)"),
    errno.EISDIR: N_("that is a folder: name a file inside it"),
    errno.ENAMETOOLONG: N_("choose a shorter file name"),
}
