"""HTML pages: compressed, with ETags, and a Cache-Control that fits who is looking.

On a slow connection most of a page's cost is bytes. Responses of text types (HTML, CSS,
JavaScript, JSON, SVG) are compressed with Brotli or gzip (Flask-Compress), and a page that
has not changed since the browser last saw it costs a 304 with no body.

The caching decision for an HTML ``GET`` answered 200, when the view has not set its own
``Cache-Control``:

- **someone is signed in**: ``private, no-store`` and no ETag. Management and guide pages
  hold money, families and visitors' names; on a shared office computer nothing of them
  should stay in the browser's cache after signing out. (The guide's offline copies live in
  the service worker's cache, which is cleared on sign-out, not in the HTTP cache.)
- **anyone else**: ``private, no-cache`` with an ETag. The browser keeps the page but asks
  each time; the server renders it and answers 304 when the bytes are the same. ``private``
  because pages carry a per-session CSRF token and depend on the language cookie: a shared
  cache must never hand one visitor's page to another.

A view that sets ``Cache-Control`` itself keeps it; with ``no-store`` it gets no ETag either.
The ETag is computed over the bytes actually sent (after compression), so each encoding has
its own, as HTTP asks. See docs/FRONTEND.md.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_compress import Compress
from flask_login import current_user

compress = Compress()


def _cache_html(response: Response) -> Response:
    if (
        request.method not in ("GET", "HEAD")
        or response.status_code != 200
        or response.mimetype != "text/html"
        or response.is_streamed
    ):
        return response
    if "Cache-Control" not in response.headers:
        if current_user and current_user.is_authenticated:
            response.headers["Cache-Control"] = "private, no-store"
        else:
            response.headers["Cache-Control"] = "private, no-cache"
    if response.cache_control.no_store:
        return response
    response.add_etag()
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    """Compress text responses and give pages their caching headers."""
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    # After-request functions run last-registered first: this one is registered first so it
    # runs after compression and hashes the bytes that are sent.
    app.after_request(_cache_html)
    compress.init_app(app)
