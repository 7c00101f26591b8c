"""Where uploaded files live: ``UPLOAD_DIR``, or ``instance/uploads`` on one machine. Beyond
one node it must be shared storage (docs/DEPLOY.md)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app


def upload_dir() -> Path:
    configured = current_app.config.get("UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads"
