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
    custody_commands,
    duress_commands,
    erase_commands,
    hq_commands,
    record_commands,
    vault_commands,
)
from fieldkit.cli.context import Context, write_line
from fieldkit.crypto.kdf import Argon2Params
from fieldkit.errors import FieldkitError, UsageError
from fieldkit.i18n import LANGUAGES, N_, _, ngettext, set_language
from fieldkit.services import hardening

EXIT_INTERRUPTED = 130

# argparse translates its own headings and errors with gettext's default domain (its
# module globals `_` and `ngettext`, looked up at each call); route them through
# fieldkit's catalogue instead. The msgids below are argparse's own (Python 3.11-3.13),
# the ones a person can meet: help headings and the errors of a mistyped command line.
# Option names, choices and values inside them stay as typed.
argparse._ = _  # type: ignore[attr-defined]
argparse.ngettext = ngettext  # type: ignore[attr-defined]
_ARGPARSE_MSGIDS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("show program's version number and exit"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("unrecognized arguments: %s"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
    N_("ignored explicit argument %r"),
)


def _argparse_plurals() -> None:
    # argparse's one counted message (nargs=N), for the extractor.
    ngettext("expected %s argument", "expected %s arguments", 2)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # `message` is already in the reader's language (argparse._ above).
        raise UsageError(message, hint=_("run '{command} --help'").format(command=self.prog))


def build_parser() -> argparse.ArgumentParser:
    # Global options are accepted before or after the command. `record add` and
    # `record edit` take --json FILE as their input, so they get `vault_opts` only.
    vault_opts = _Parser(add_help=False)
    vault_opts.add_argument(
        "--vault",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help=_("vault directory (default: FIELDKIT_VAULT, else the user data folder)"),
    )
    vault_opts.add_argument(
        "--passphrase-file",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help=_("read the passphrase from FILE's first line (- for stdin)"),
    )
    vault_opts.add_argument(
        "--lang",
        choices=sorted(LANGUAGES),
        default=argparse.SUPPRESS,
        help=_("language of messages and of the app (default: the locale, else English)"),
    )
    common = _Parser(add_help=False, parents=[vault_opts])
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help=_("machine-readable output")
    )
    parser = _Parser(
        prog="fieldkit",
        description=_("Secure, encrypted, offline field documentation."),
        epilog=_("Exit codes are listed in docs/cli.md. Passphrases are never taken from argv."),
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"fieldkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    vault_commands.register(sub, common)
    duress_commands.register(sub, common)
    record_commands.register(sub, common, vault_opts)
    attachment_commands.register(sub, common)
    bundle_commands.register(sub, common)
    hq_commands.register(sub, common)
    erase_commands.register(sub, common)
    custody_commands.register(sub, common, hq=False)
    tui = sub.add_parser("tui", parents=[common], help=_("open the app (also: no command at all)"))
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
    set_language(_lang_option(argv))
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
        # Messages and hints are English msgids (errors.py); those in the catalogue are
        # shown translated, the others (with values in them) in English.
        write_line(
            err, _("fieldkit: error: {message}").format(message=_(exc.message)), one_line=True
        )
        write_line(err, _("fieldkit: hint: {hint}").format(hint=_(exc.hint)), one_line=True)
        return exc.exit_code
    except KeyboardInterrupt:
        print(_("fieldkit: error: {message}").format(message=_("interrupted")), file=err)
        print(_("fieldkit: hint: {hint}").format(hint=_("nothing half-written was kept")), file=err)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except Exception as exc:
        # Never print the message or traceback: either could hold testimony text.
        internal = _("internal error ({name})").format(name=type(exc).__name__)
        print(_("fieldkit: error: {message}").format(message=internal), file=err)
        print(_("fieldkit: hint: {hint}").format(hint=_(FieldkitError.hint)), file=err)
        return FieldkitError.exit_code


def cmd_tui(ctx: Context) -> int:
    if getattr(ctx.args, "passphrase_file", None):
        raise UsageError(
            N_("the app asks for the passphrase itself"), hint=N_("leave out --passphrase-file")
        )
    if not ctx.stdout.isatty():
        raise UsageError(
            N_("the app needs a terminal"),
            hint=N_("run 'fieldkit --help' for the command-line interface"),
        )
    from fieldkit.ui.app import FieldkitApp
    from fieldkit.ui.context import AppContext

    app = FieldkitApp(AppContext(ctx.vault_dir))
    app.run()
    return app.return_code or 0  # 1 after a crash (its one-line report is on stderr)


def _lang_option(argv: Sequence[str]) -> str | None:
    """--lang, read before the parser is built so that --help is translated too."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def entry() -> None:
    # First, before any secret is read: no core dumps (SECURITY.md).
    hardening.disable_core_dumps()
    sys.exit(run(sys.argv[1:]))
