"""The production entry point (``wsgi.py``): the app it builds, with start-up's objects
frozen out of the garbage collector's walks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import gc
import wsgi
frozen = gc.get_freeze_count()
response = wsgi.app.test_client().get("/healthz")
print(frozen, response.status_code, response.get_data(as_text=True))
"""


def test_the_entry_point_freezes_what_start_up_built_and_still_serves(tmp_path):
    # A process of its own, as gunicorn's worker: freezing is process-wide.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    frozen, status, body = int(out[0]), out[1], out[2]
    assert frozen > 50_000  # the modules, mappers and templates, not a handful
    assert (status, body) == ("200", "ok")
