"""manage pages (being built)."""

from flask import Blueprint

bp = Blueprint("manage", __name__, url_prefix="/manage")
