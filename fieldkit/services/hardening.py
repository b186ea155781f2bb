"""Process hardening, done once at start by the entry point (CLI and app alike).

An unlocked fieldkit holds the master key, passphrases and testimony in memory. A core
dump (a crash, or `kill -QUIT`) would write all of it to disk in plaintext, often to a
place the user never looks (systemd-coredump, apport), defeating guarantee A1. So the
process asks for none: RLIMIT_CORE 0 (soft and hard, so nothing later raises it), and
on Linux prctl(PR_SET_DUMPABLE, 0), which also stops the kernel's core pipe handlers
and keeps other processes of the same user from ptrace-attaching or reading
/proc/PID/mem. Best effort elsewhere: a platform without these simply keeps its
defaults, and fieldkit still runs.
"""

from __future__ import annotations

import ctypes
import sys

PR_GET_DUMPABLE = 3  # <linux/prctl.h>
PR_SET_DUMPABLE = 4


def disable_core_dumps() -> list[str]:
    """Forbid core dumps of this process. Returns what could not be done (empty when
    everything held); never raises, so start-up cannot fail on an unusual platform."""
    missing: list[str] = []
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        missing.append("RLIMIT_CORE")
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
                missing.append("PR_SET_DUMPABLE")
        except (OSError, AttributeError):
            missing.append("PR_SET_DUMPABLE")
    return missing
