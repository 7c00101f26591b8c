"""The thinnest WSGI app gunicorn can serve: the floor under ``/healthz``.

``bench/http_bench.py`` serves it with the project's ``gunicorn.conf.py`` next to the app and
reports the app's ``/healthz`` as a ratio of it: what the app costs per request before any
view runs (settings, middlewares, session, host checks, logging).
"""


def app(environ, start_response):
    start_response(
        "200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")]
    )
    return [b"ok"]
