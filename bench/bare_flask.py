"""A Flask app with nothing but a ``/healthz`` view, served like ``bench/bare_wsgi.py``.

``bench/http_bench.py`` runs it between the bare WSGI app and the project's ``/healthz``:
bare WSGI → bare Flask is what Flask's own request machinery costs (request and app
contexts, routing, the response object), bare Flask → ``/healthz`` what this project adds
(proxy fix, security headers, session, CSRF, language, compression, teardowns).
"""

from flask import Flask

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
