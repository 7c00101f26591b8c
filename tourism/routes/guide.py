"""guide pages (being built)."""

from flask import Blueprint

bp = Blueprint("guide", __name__, url_prefix="/guide")
