"""Drive fieldkit at a real pseudo-terminal, as a person at a keyboard would.

The child gets a new session whose controlling terminal is the pty's slave, so
`/dev/tty` inside it is that pty (what getpass and the confirmation prompts open),
and its stdin, stdout and stderr are the same terminal. The timeouts only stop a
hung test; nothing here measures speed.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

TIMEOUT = 120.0  # a guard against a hang on a loaded machine, not a measurement

# Runs the CLI like the `fieldkit` entry point, with the tests' weak Argon2id profile
# passed in explicitly (the only way it can be: there is no flag or variable for it).
CLI_SCRIPT = (
    "import sys\n"
    "from fieldkit.cli.main import run\n"
    "from tests.conftest import WEAK\n"
    "sys.exit(run(sys.argv[1:], kdf_params=WEAK))\n"
)


# The child runs this first: as the leader of its new session (start_new_session), it
# makes the pty on its stdin its controlling terminal, so /dev/tty is the pty. (Done in
# the child's own code rather than a preexec_fn, which is unsafe in a threaded parent.)
TAKE_TERMINAL = "import fcntl, termios\nfcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"


class PtyProcess:
    def __init__(
        self,
        argv: list[str],
        *,
        script: str = CLI_SCRIPT,
        cwd: Path = ROOT,
        command: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """Run `script` (the CLI) with `argv` at a new pty, as the session's terminal; or,
        where `command` is given, that program as it is, in exactly the environment `env`."""
        master, slave = os.openpty()
        if command is None:
            command = [sys.executable, "-c", TAKE_TERMINAL + script, *argv]
            env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm", "LANG": "C.UTF-8"}
            env.pop("FIELDKIT_VAULT", None)
        self.proc = subprocess.Popen(
            command,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.fd = master
        self.output = ""
        self._eof = False
        self._pos = 0

    def _read_some(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: the child closed its side
            data = b""
        if not data:
            self._eof = True
            return False
        self.output += data.decode("utf-8", "replace")
        return True

    def expect(self, text: str, timeout: float = TIMEOUT) -> str:
        """Read until `text` appears after the previous match; return all output so far."""
        waited = 0.0
        while text not in self.output[self._pos :]:
            if self._eof:
                raise AssertionError(f"exited before {text!r} appeared; output:\n{self.output}")
            if not self._read_some(1.0):
                waited += 1.0
                if waited >= timeout:
                    raise AssertionError(f"{text!r} did not appear; output:\n{self.output}")
        self._pos = self.output.index(text, self._pos) + len(text)
        return self.output

    def send(self, line: str) -> None:
        """Type `line` and press Enter (a terminal sends a carriage return)."""
        os.write(self.fd, line.encode("utf-8") + b"\r")

    def send_key(self, key: bytes) -> None:
        """Press a key as the terminal sends it, e.g. b"\x03" for Ctrl-C, b"\x04" for Ctrl-D."""
        os.write(self.fd, key)

    def finish(self, timeout: float = TIMEOUT) -> int:
        """Read everything until the child exits; return its exit code."""
        waited = 0.0
        while not self._eof and waited < timeout:
            if not self._read_some(1.0):
                waited += 1.0
        code = self.proc.wait(timeout=timeout)
        os.close(self.fd)
        return code


def run_at_terminal(argv: list[str], answers: list[tuple[str, str]]) -> tuple[int, str]:
    """Run the CLI at a pty; for each (prompt, answer) wait for the prompt and type the
    answer. Returns the exit code and everything the terminal showed."""
    p = PtyProcess(argv)
    try:
        for prompt, answer in answers:
            p.expect(prompt)
            p.send(answer)
        return p.finish(), p.output
    finally:
        if p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait()
