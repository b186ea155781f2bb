"""Core dumps are off from the first moment of the CLI and the app (one entry point)."""

from __future__ import annotations

import sys

import pytest

from tests.conftest import child

# Replace `run` so the entry point stops right after its start-up, then report what the
# kernel says about this process.
REPORT = """
import ctypes, resource, sys
from fieldkit.cli import main

def report(argv, **kw):
    libc = ctypes.CDLL(None, use_errno=True)
    print(resource.getrlimit(resource.RLIMIT_CORE), libc.prctl(3, 0, 0, 0, 0))
    return 0

main.run = report
main.entry()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_entry_point_disables_core_dumps() -> None:
    proc = child(REPORT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert out.split() == ["(0,", "0)", "0"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_a_fresh_python_dumps_until_hardened() -> None:
    """The check above can fail: without the call, a child is dumpable."""
    script = REPORT.replace("main.entry()", "sys.exit(main.run([]))")
    proc = child(script)
    out, _ = proc.communicate(timeout=120)
    assert out.split()[-1] == "1"


def test_disable_core_dumps_reports_nothing_missing_here() -> None:
    script = "from fieldkit.services.hardening import disable_core_dumps as d; print(d())"
    proc = child(script)
    out, _ = proc.communicate(timeout=120)
    assert out.strip() == "[]"
