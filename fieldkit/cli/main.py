"""fieldkit's command line. Errors become one line on stderr plus a hint, never a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO

from fieldkit import __version__
from fieldkit.cli import (
    attachment_commands,
    bundle_commands,
    erase_commands,
    hq_commands,
    record_commands,
    vault_commands,
)
from fieldkit.cli.context import Context, write_line
from fieldkit.crypto.kdf import Argon2Params
from fieldkit.errors import FieldkitError, UsageError
from fieldkit.services import hardening

EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=f"run '{self.prog} --help'")


def build_parser() -> argparse.ArgumentParser:
    # Global options are accepted before or after the command. `record add` and
    # `record edit` take --json FILE as their input, so they get `vault_opts` only.
    vault_opts = _Parser(add_help=False)
    vault_opts.add_argument(
        "--vault",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="vault directory (default: FIELDKIT_VAULT, else the user data folder)",
    )
    vault_opts.add_argument(
        "--passphrase-file",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="read the passphrase from FILE's first line (- for stdin)",
    )
    common = _Parser(add_help=False, parents=[vault_opts])
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )
    parser = _Parser(
        prog="fieldkit",
        description="Secure, encrypted, offline field documentation.",
        epilog="Exit codes are listed in docs/cli.md. Passphrases are never taken from argv.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"fieldkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    vault_commands.register(sub, common)
    record_commands.register(sub, common, vault_opts)
    attachment_commands.register(sub, common)
    bundle_commands.register(sub, common)
    hq_commands.register(sub, common)
    erase_commands.register(sub, common)
    tui = sub.add_parser("tui", parents=[common], help="open the app (also: no command at all)")
    tui.set_defaults(func=cmd_tui)
    return parser


def run(
    argv: Sequence[str],
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    kdf_params: Argon2Params | None = None,
    tty_available: bool | None = None,
) -> int:
    """Run one command and return its exit code. Tests call this in-process."""
    err = stderr or sys.stderr
    try:
        args = build_parser().parse_args(list(argv))
        ctx = Context(
            args,
            stdin=stdin or sys.stdin,
            stdout=stdout or sys.stdout,
            stderr=err,
            kdf_params=kdf_params,
            tty_available=tty_available,
        )
        func = getattr(args, "func", None)
        if func is None:
            func = cmd_tui
        return int(func(ctx))
    except FieldkitError as exc:
        write_line(err, f"fieldkit: error: {exc.message}", one_line=True)
        write_line(err, f"fieldkit: hint: {exc.hint}", one_line=True)
        return exc.exit_code
    except KeyboardInterrupt:
        print("fieldkit: error: interrupted", file=err)
        print("fieldkit: hint: nothing half-written was kept", file=err)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except Exception as exc:
        # Never print the message or traceback: either could hold testimony text.
        print(f"fieldkit: error: internal error ({type(exc).__name__})", file=err)
        print(f"fieldkit: hint: {FieldkitError.hint}", file=err)
        return FieldkitError.exit_code


def cmd_tui(ctx: Context) -> int:
    if getattr(ctx.args, "passphrase_file", None):
        raise UsageError(
            "the app asks for the passphrase itself", hint="leave out --passphrase-file"
        )
    if not ctx.stdout.isatty():
        raise UsageError(
            "the app needs a terminal", hint="run 'fieldkit --help' for the command-line interface"
        )
    from fieldkit.ui.app import FieldkitApp
    from fieldkit.ui.context import AppContext

    app = FieldkitApp(AppContext(ctx.vault_dir))
    app.run()
    return app.return_code or 0  # 1 after a crash (its one-line report is on stderr)


def entry() -> None:
    # First, before any secret is read: no core dumps (SECURITY.md).
    hardening.disable_core_dumps()
    sys.exit(run(sys.argv[1:]))
