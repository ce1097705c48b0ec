"""Real services the tests use: required when CI=true, skipped loudly where they are missing."""

from __future__ import annotations

import os
import socket

import pytest

ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, what: str) -> None:
    """Skip when a real service is missing on a developer's machine; fail on CI, where it is required."""
    if condition:
        return
    if ON_CI:
        pytest.fail(f"{what} is required when CI=true but is not available")
    pytest.skip(f"SKIPPED LOUDLY: {what} is not available on this machine")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False
