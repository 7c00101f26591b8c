"""Rate limits shared by several blueprints.

Private links (a booking's manage link, a family's statement, a guide's calendar feed) are
long random tokens, so guessing one is hopeless; the limit still stops anyone from trying
at scale, per client address (the proxy-reported one, ``PROXY_FIX_X_FOR``: a forged
X-Forwarded-For does not create new addresses).
"""

from __future__ import annotations

from flask import current_app

from ..extensions import limiter


def _token_lookup_limit() -> str:
    return current_app.config["TOKEN_LOOKUP_RATE_LIMIT"]


#: For views that look something up by a private token in the URL.
token_lookup = limiter.limit(_token_lookup_limit, scope="token_lookup")
