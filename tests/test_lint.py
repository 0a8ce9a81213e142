"""The code stays free of what a reader trips on: no unused import or variable, no undefined
name (ruff's pyflakes rules, over the library, the page and the tests)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_no_unused_import_or_undefined_name():
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--select", "F", "--no-cache", "rag", "ui", "tests"],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
