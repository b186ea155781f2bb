"""What one CLI invocation works with: streams, options, and how secrets are read.

Secrets come from a TTY prompt, a file, or standard input (`-`), never from argv.
Standard input is read as lines, in order, so one pipe can feed several secrets
(for example the old and the new passphrase).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from fieldkit.crypto.kdf import Argon2Params
from fieldkit.errors import Cancelled, FileAccessError, InvalidInput, UsageError
from fieldkit.formats import text as text_rules
from fieldkit.i18n import N_, _
from fieldkit.locations import default_vault_dir

MAX_SECRET_FILE = 64 * 1024
MAX_JSON_INPUT = 16 * 1024 * 1024
# Options that read standard input when given '-'. Secrets share it (one per line, in
# order); any other input takes all of it, so it cannot share stdin with anything.
_SECRET_SOURCES = {
    "passphrase_file": N_("the passphrase"),
    "new_passphrase_file": N_("the new passphrase"),
    "recovery_code_file": N_("the recovery code"),
}
_TEXT_SOURCES = {
    "json_source": N_("the JSON record"),
    "description_file": N_("the description"),
    "query_file": N_("the query"),
}
MAX_ANSWER = 1024  # an answer at a prompt: "yes", "WIPE"


@dataclass
class Context:
    args: argparse.Namespace
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    # Set only by in-process callers (tests, benchmarks). There is no flag or
    # environment variable for it: production always calibrates.
    kdf_params: Argon2Params | None = None
    tty_available: bool | None = None
    _stdin_used_for: str | None = None

    def __post_init__(self) -> None:
        """Refuse two uses of standard input from argv alone, before reading anything."""
        dashed = [
            what
            for dest, what in {**_SECRET_SOURCES, **_TEXT_SOURCES}.items()
            if getattr(self.args, dest, None) == "-"
        ]
        texts = [w for w in dashed if w in _TEXT_SOURCES.values()]
        if texts and len(dashed) > 1:
            other = next(w for w in dashed if w != texts[0])
            raise UsageError(
                _("standard input cannot carry both {first} and {second}").format(
                    first=_(texts[0]), second=_(other)
                ),
                hint=_("read {what} from a file instead of '-'").format(what=_(other)),
            )

    # ---- options ---------------------------------------------------------
    @property
    def vault_dir(self) -> Path:
        given = getattr(self.args, "vault", None)
        return Path(given).expanduser() if given else default_vault_dir()

    @property
    def as_json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    # ---- output: every line goes through write_line --------------------------
    def out(self, text: str = "") -> None:
        write_line(self.stdout, text)

    def info(self, text: str) -> None:
        write_line(self.stderr, text)

    def emit_json(self, value: Any) -> None:
        write_line(self.stdout, json.dumps(value, ensure_ascii=False, indent=2), is_json=True)

    # ---- input -------------------------------------------------------------
    def _claim_stdin(self, purpose: str) -> None:
        if self._stdin_used_for is not None and self._stdin_used_for != "secrets":
            raise UsageError(
                _("standard input is already used for {what}").format(what=_(self._stdin_used_for)),
                hint=_("read {what} from a file instead of '-'").format(what=_(purpose)),
            )
        self._stdin_used_for = (
            N_("secrets") if purpose in ("passphrase", "recovery code") else purpose
        )

    def has_tty(self) -> bool:
        """Whether a person's terminal is there to ask (the controlling terminal)."""
        if self.tty_available is not None:
            return self.tty_available
        try:
            os.close(_open_tty())
        except OSError:
            return False
        return True

    def read_secret(
        self,
        what: str,
        source: str | None,
        *,
        prompt: str,
        confirm: bool = False,
        check: Callable[[str], None] | None = None,
    ) -> str:
        """A secret from a file, from stdin ('-'), or typed on the TTY (no echo). On the
        TTY, `check` judges the first entry before it is asked for again."""
        if source == "-":
            self._claim_stdin("passphrase" if "pass" in what else what)
            line = self.stdin.readline(MAX_SECRET_FILE)
            if not line:
                raise InvalidInput(_("nothing on standard input ({what})").format(what=_(what)))
            return line.rstrip("\r\n")
        if source is not None:
            return _first_line(Path(source), what)
        if not self.has_tty():
            raise UsageError(
                _("no {what} given and no terminal to ask on").format(what=_(what)),
                hint=_("pass --passphrase-file FILE (or - for standard input)"),
            )
        try:
            first = getpass.getpass(prompt)
            if check is not None:
                check(first)
            if confirm:
                again = getpass.getpass(_("Repeat to confirm: "))
                if again != first:
                    raise InvalidInput(
                        _("the two entries differ ({what})").format(what=_(what)),
                        hint=_("nothing was changed; try again"),
                    )
        except (EOFError, KeyboardInterrupt):
            raise Cancelled(N_("cancelled at the prompt")) from None
        return first

    def passphrase(self, *, prompt: str | None = None) -> str:
        return self.read_secret(
            N_("passphrase"),
            getattr(self.args, "passphrase_file", None),
            prompt=prompt if prompt is not None else _("Passphrase: "),
        )

    def read_json(self, source: str) -> Any:
        if source == "-":
            self._claim_stdin(N_("the JSON record"))
            text = self.stdin.read(MAX_JSON_INPUT + 1)
        else:
            text = _read_text(Path(source), MAX_JSON_INPUT, N_("JSON file"))
        if len(text) > MAX_JSON_INPUT:
            raise InvalidInput(N_("the JSON input is larger than 16 MiB"))
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            # Position only: the message must not echo testimony text.
            raise InvalidInput(
                _("not valid JSON (line {line}, column {column})").format(
                    line=exc.lineno, column=exc.colno
                ),
                hint=N_("check the file with 'fieldkit record template' as a model"),
            ) from None

    def read_text_input(self, source: str, what: str, limit: int) -> str:
        if source == "-":
            self._claim_stdin(what)
            text = self.stdin.read(limit + 1)
        else:
            text = _read_text(Path(source), limit, what)
        if len(text) > limit:
            raise InvalidInput(
                _("{what}: longer than {limit} characters").format(what=_(what), limit=limit)
            )
        return text.rstrip("\r\n")

    def show_on_tty(self, text: str) -> None:
        """Write to the person's terminal only (a secret shown once): never to stdout or
        stderr, which may be files or pipes."""
        fd = _open_tty()
        try:
            os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)

    def require_confirmation(self, question: str, *, typed: str, action: str) -> None:
        """Go on only if --yes was given or the person types `typed` at the terminal.
        Without a terminal and without --yes: a usage error (exit 2); any other answer:
        Cancelled (exit 12). Not for taking in cards: see shared.confirm_fingerprint."""
        if getattr(self.args, "yes", False):
            return
        if not self.has_tty():
            raise UsageError(
                _("{action}: needs confirmation and there is no terminal to ask on").format(
                    action=_(action)
                ),
                hint=_("pass --yes to go ahead without asking"),
            )
        if not self.confirm(question, typed=typed):
            raise Cancelled(_("{action}: cancelled").format(action=_(action)))

    def confirm(self, question: str, *, typed: str, interrupt_cancels: bool = False) -> bool:
        """Ask on the terminal; True only if the person types `typed` exactly.

        The question goes to the terminal itself, not to stdout or stderr, so the person
        sees it even when output is redirected, and what a card or a file contributes to
        it is shown with control characters escaped. No terminal, end of input or
        Ctrl-C count as "no"; with `interrupt_cancels`, Ctrl-C and end of input raise
        Cancelled instead (where "no" still goes on, without something).
        """
        if not self.has_tty():
            return False
        try:
            fd = _open_tty()
        except OSError:
            return False
        try:
            text = _("{question} Type {answer} to continue: ").format(
                question=terminal_safe(question), answer=typed
            )
            os.write(fd, text.encode("utf-8", "replace"))
            answer = _read_tty_line(fd)
        except KeyboardInterrupt:
            if interrupt_cancels:
                raise Cancelled(N_("cancelled at the prompt")) from None
            return False
        except OSError:
            return False
        finally:
            os.close(fd)
        if answer is None and interrupt_cancels:
            raise Cancelled(N_("cancelled at the prompt"))
        return answer is not None and answer.strip() == typed


def terminal_safe(text: str) -> str:
    """`text` as a terminal may show it: controls and bidi controls escaped
    (formats/text.py), so what a card or a file says cannot move the cursor,
    recolour or hide part of a question."""
    return text_rules.escape(text)


def _open_tty() -> int:
    # Raw descriptor, read and write: /dev/tty is not seekable, so Python's buffered
    # text mode "r+" refuses it (that refusal was once read as "no").
    return os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)


def _read_tty_line(fd: int) -> str | None:
    """One line from the terminal (bounded), or None at end of input."""
    data = bytearray()
    while b"\n" not in data and len(data) < MAX_ANSWER:
        chunk = os.read(fd, MAX_ANSWER - len(data))
        if not chunk:
            return None
        data.extend(chunk)
    return bytes(data).split(b"\n", 1)[0].decode("utf-8", "replace")


def write_line(stream: TextIO, text: str, *, is_json: bool = False, one_line: bool = False) -> None:
    """The one way the CLI writes to stdout and stderr. Text from a bundle, a card,
    a record or a file name may hold terminal escapes (clear the screen, set the
    title, write the clipboard), C1 controls or bidi overrides: each is shown as
    \\xNN or \\uNNNN. JSON stays valid JSON (its C0 are escaped by json.dumps, the
    rest here as \\uNNNN). Only the newlines between lines are kept, and none with
    `one_line` (an error is one line)."""
    if is_json:
        safe = text_rules.escape_json(text)
    else:
        safe = text_rules.escape(text, keep_newlines=not one_line)
    stream.write(safe + "\n")


def _first_line(path: Path, what: str) -> str:
    text = _read_text(path, MAX_SECRET_FILE, what)
    line = text.splitlines()[0] if text else ""
    if not line:
        raise InvalidInput(_("{what}: the file {path} is empty").format(what=_(what), path=path))
    return line


def _read_text(path: Path, limit: int, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read(limit + 1)
    except FileNotFoundError:
        raise FileAccessError(
            _("{what}: {path} does not exist").format(what=_(what), path=path)
        ) from None
    except UnicodeDecodeError:
        raise InvalidInput(
            _("{what}: {path} is not UTF-8 text").format(what=_(what), path=path)
        ) from None
    except OSError as exc:
        raise FileAccessError.from_os(
            _("cannot read {what} {path}").format(what=_(what), path=path), exc
        ) from None
