"""The application with the compressed bytes of cache hits kept per page, not per content: the
negative control of ``tests/reliability/test_page_freshness.py``, nothing else.

``tourism.response_cache`` keeps the compressed bytes of a hit under a digest of the bytes
they compress. Here that digest is replaced by one of the page's address, so an entry
rendered afresh is answered with the bytes compressed from an older rendering, the way a
cache keyed by page and generation did. The freshness test must catch it. It lives in bench/,
never in the package, and refuses to load in production.
"""

from __future__ import annotations

import hashlib
import os
from types import SimpleNamespace

from flask import request

from tourism import create_app, response_cache

if os.environ.get("CHAKRA_ENV", "").strip().lower() == "production":
    raise RuntimeError("this application is a test control; never run it in production")


def _by_address(_body: bytes, digest_size: int = 16):
    return hashlib.blake2b(request.full_path.encode(), digest_size=digest_size)


response_cache.hashlib = SimpleNamespace(blake2b=_by_address)

app = create_app()
