"""Headless Chromium for the tests that check a page really renders (skipped where there is none)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium() -> str:
    for name in CHROMIUM_NAMES:
        exe = shutil.which(name)
        if exe:
            return exe
    pytest.skip("no Chromium found (apt-get install chromium): the browser render is not checked")


def run_chromium(*args: str) -> subprocess.CompletedProcess:
    """Chromium headless with a throwaway profile (nothing lands in the home folder)."""
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=120, check=True,
        )
