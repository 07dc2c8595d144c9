"""What the tests' private servers (redis-server, PostgreSQL) share: skip or fail when one is
missing, and child processes that end with the test run and are awaited until they answer."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

START_TIMEOUT = 10.0


def require(what: str, available: bool, how: str) -> None:
    """Skip when `what` is missing, but fail under CI so that CI never skips silently."""
    if available:
        return
    message = f"{what} is not available ({how})"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run these tests")
    pytest.skip(message)


def die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process dies without stopping us.
    Changing user clears this setting, so a child that does must call it afterwards."""
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def wait_until_ready(
    process: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float = START_TIMEOUT
) -> bool:
    """Poll `ready` until it holds; False as soon as the process exits or the time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if ready():
            return True
        time.sleep(0.02)
    return False


def stop(process: subprocess.Popen[bytes] | None, how: signal.Signals = signal.SIGTERM) -> None:
    """Signal the process by its PID and wait for it; SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(how)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
