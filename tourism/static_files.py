"""Static files under content-hashed names, cached by browsers for a year.

At start-up every file under ``static/`` is hashed once. ``url_for('static', filename=...)``
then produces ``/static/css/site.<hash>.css``, so templates keep asking for the plain name
and a changed file gets a new URL on the next deploy. Such a URL always means the same bytes:
``Cache-Control: public, max-age=31536000, immutable``.

The route still answers the other shapes, without the year-long promise:

- the plain name (``/static/css/site.css``): the current file, revalidated each time
  (``no-cache`` with an ETag), for anything that does not go through ``url_for``;
- a name with a hash that is not the current one (a page rendered before a deploy, or by a
  node that has another release during a rolling deploy): the current file, ``no-cache``, so
  a cache never keeps it under a name that promises other bytes;
- anything else: 404.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from pathlib import Path

from flask import Flask, Response, abort, current_app, request
from flask.sessions import SecureCookieSessionInterface

ONE_YEAR = 365 * 24 * 3600
HASH_LENGTH = 12
#: ``css/site.0123456789ab.css`` → (``css/site``, ``0123456789ab``, ``.css``).
HASHED_NAME = re.compile(
    rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{HASH_LENGTH}}})(?P<suffix>\.[^./]+)$"
)


class StaticManifest:
    """The content hash of each static file, computed once; the files are small and few,
    so their bytes are kept too and served from memory."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        #: plain name → hashed name (``css/site.css`` → ``css/site.0123456789ab.css``)
        self.hashed: dict[str, str] = {}
        #: hashed name → plain name
        self.plain: dict[str, str] = {}
        #: plain name → (digest, bytes)
        self.files: dict[str, tuple[str, bytes]] = {}
        for path in sorted(self.folder.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            name = path.relative_to(self.folder).as_posix()
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()[:HASH_LENGTH]
            self.files[name] = (digest, data)
            stem, dot, suffix = name.rpartition(".")
            if not dot or "/" in suffix:
                continue  # no extension: served under its plain name only
            hashed = f"{stem}.{digest}.{suffix}"
            self.hashed[name] = hashed
            self.plain[hashed] = name

    def url_name(self, filename: str) -> str:
        """The name to put in a URL: hashed when the file is known, as given otherwise."""
        return self.hashed.get(filename, filename)

    def response(self, name: str, immutable: bool) -> Response:
        digest, data = self.files[name]
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        response = Response(data, mimetype=mimetype)
        response.set_etag(digest)
        if immutable:
            response.cache_control.public = True
            response.cache_control.max_age = ONE_YEAR
            response.cache_control.immutable = True
        else:
            response.cache_control.no_cache = True
        return response.make_conditional(request)


def _rehash_while_debugging() -> None:
    # While developing, an edited file gets its new name without a restart.
    if current_app.debug and current_app.static_folder:
        current_app.extensions["static_manifest"] = StaticManifest(current_app.static_folder)


def serve_static(filename: str) -> Response:
    """The ``static`` endpoint: hashed names for a year, anything else revalidated."""
    files = current_app.extensions["static_manifest"]
    plain = files.plain.get(filename)
    if plain is not None:
        return files.response(plain, immutable=True)
    if filename not in files.files:
        shape = HASHED_NAME.match(filename)
        candidate = f"{shape['stem']}{shape['suffix']}" if shape else None
        if candidate not in files.files:
            abort(404)
        filename = candidate  # an old or newer hash: today's file, but no promise
    return files.response(filename, immutable=False)


#: Endpoints whose responses are the same for everyone: static files and photos.
SESSIONLESS_ENDPOINTS = frozenset({"static", "media.photo"})


class SessionlessAssets(SecureCookieSessionInterface):
    """The usual signed-cookie session, except that static files and photos neither refresh
    the cookie nor say ``Vary: Cookie``. Flask adds that header whenever the session was
    looked at, and Flask-Login looks on every response. A cache that honours ``Vary`` (the
    nginx proxy cache in deploy/) would then keep one copy of each file per visitor's
    cookie."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, object] = {}

    def get_signing_serializer(self, app: Flask):
        """The cookie signer, built once per set of keys instead of twice per request (it
        derives nothing from the request; building it was a tenth of ``/healthz``)."""
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(keys)
        if serializer is None and app.secret_key:
            serializer = super().get_signing_serializer(app)
            self._serializers = {keys: serializer}  # a changed key replaces the old signer
        return serializer

    def save_session(self, app: Flask, session, response: Response) -> None:
        if request.endpoint in SESSIONLESS_ENDPOINTS and not session.modified:
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Hash the static folder and make ``url_for('static', ...)`` point at hashed names."""
    if not app.static_folder or "static" not in app.view_functions:
        return
    app.extensions["static_manifest"] = StaticManifest(app.static_folder)
    app.view_functions["static"] = serve_static
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = SessionlessAssets()
    app.before_request(_rehash_while_debugging)

    @app.url_defaults
    def _hashed_static_names(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            files = app.extensions["static_manifest"]
            values["filename"] = files.url_name(values["filename"])
