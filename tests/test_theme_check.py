"""Shopify's Theme Check finds no error in the theme app extension (npm ci installs it)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALLED = (ROOT / "node_modules" / "@shopify" / "theme-check-node").is_dir()


@pytest.mark.skipif(not INSTALLED and not os.environ.get("ADVOCATE_REQUIRE_THEME_CHECK"),
                    reason="Theme Check is not installed: run `npm ci` (CI does)")
def test_theme_check_reports_no_error_on_the_extension():
    assert shutil.which("node"), "Theme Check needs Node.js"
    run = subprocess.run(["node", "scripts/theme_check.js", "extensions/advocate-theme"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    lines = run.stdout.strip().splitlines()
    assert lines, f"Theme Check printed nothing (did `npm ci` install it?): {run.stderr[-2000:]}"
    summary = json.loads(lines[-1])
    assert run.returncode == 0 and summary["errors"] == 0, run.stdout + run.stderr
