"""die_with_parent.py - a test server stops when the script that started it dies.

A script killed outright (SIGKILL, a CI job cancelled) runs no EXIT trap;
PR_SET_PDEATHSIG has the kernel send SIGTERM when the parent goes, so the
server never outlives it.  Call die_with_parent() first thing in main(),
and start the server from the script's own shell (not from $(...), whose
subshell ends at once).
"""
import ctypes
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent():
    """Ask for SIGTERM when the parent dies (the scripts' servers are their direct children)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass        # no prctl: the script's trap and watchdog still stop us
