"""Static files under content-hashed names cached for a year, compressed text responses, and
pages with ETags and a Cache-Control that depends on who is signed in."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli
import pytest
from flask import url_for

from tourism.static_files import StaticManifest

STATIC = Path(__file__).resolve().parents[2] / "tourism" / "static"


def hashed_url(app, filename: str) -> str:
    with app.test_request_context():
        return url_for("static", filename=filename)


def test_url_for_static_names_the_files_content_hash(app):
    url = hashed_url(app, "css/site.css")
    digest = hashlib.sha256((STATIC / "css" / "site.css").read_bytes()).hexdigest()[:12]
    assert url == f"/static/css/site.{digest}.css"
    # Unknown files keep their name (and are a 404 when asked for).
    assert hashed_url(app, "css/nothing.css") == "/static/css/nothing.css"


def test_a_changed_file_gets_a_new_name(tmp_path):
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "a.css").write_text("a{}")
    before = StaticManifest(tmp_path).url_name("css/a.css")
    (tmp_path / "css" / "a.css").write_text("a{color:red}")
    after = StaticManifest(tmp_path).url_name("css/a.css")
    assert re.fullmatch(r"css/a\.[0-9a-f]{12}\.css", before)
    assert before != after


def test_hashed_url_is_immutable_for_a_year(client, app):
    url = hashed_url(app, "css/site.css")
    with client.get(url) as response:
        assert response.status_code == 200
        assert response.mimetype == "text/css"
        cache = response.cache_control
        assert cache.public and cache.immutable and cache.max_age == 31536000
        assert response.get_data() == (STATIC / "css" / "site.css").read_bytes()


@pytest.mark.parametrize("path", ["/static/css/site.css", "/static/css/site.0123456789ab.css"])
def test_plain_or_stale_names_serve_the_file_but_revalidate(client, path):
    with client.get(path) as response:
        assert response.status_code == 200
        assert response.cache_control.no_cache
        assert not response.cache_control.immutable
        assert response.get_data() == (STATIC / "css" / "site.css").read_bytes()


@pytest.mark.parametrize(
    "path", ["/static/css/nothing.css", "/static/css/nothing.0123456789ab.css", "/static/../x"]
)
def test_unknown_static_files_are_404(client, path):
    with client.get(path) as response:
        assert response.status_code == 404


def test_pages_reference_hashed_static_files(client):
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'href="/static/css/site\.[0-9a-f]{12}\.css"', html)
    assert re.search(r'href="/static/favicon\.[0-9a-f]{12}\.svg"', html)
    assert "/static/css/site.css" not in html


@pytest.mark.parametrize(
    ("encoding", "decode"), [("br", brotli.decompress), ("gzip", gzip.decompress)]
)
def test_html_and_css_are_compressed(client, app, encoding, decode):
    page = client.get("/", headers={"Accept-Encoding": encoding})
    assert page.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in page.headers["Vary"]
    assert b"<!doctype html>" in decode(page.get_data())
    with client.get(hashed_url(app, "css/site.css"), headers={"Accept-Encoding": encoding}) as css:
        assert css.headers["Content-Encoding"] == encoding
        assert decode(css.get_data()) == (STATIC / "css" / "site.css").read_bytes()


def test_without_accept_encoding_nothing_is_compressed(client):
    page = client.get("/", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in page.headers
    assert b"<!doctype html>" in page.get_data()


def test_anonymous_pages_have_an_etag_and_answer_304_when_unchanged(client):
    first = client.get("/", headers={"Accept-Encoding": "br"})
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "private, no-cache"
    etag = first.headers["ETag"]
    again = client.get("/", headers={"Accept-Encoding": "br", "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    # Each encoding is its own representation with its own validator.
    plain = client.get("/", headers={"Accept-Encoding": "identity"})
    assert plain.headers["ETag"] != etag
    other = client.get("/", headers={"Accept-Encoding": "identity", "If-None-Match": etag})
    assert other.status_code == 200


def test_a_view_that_says_no_store_gets_no_etag(client):
    login = client.get("/login")
    assert login.status_code == 200
    assert login.headers["Cache-Control"] == "no-store"
    assert "ETag" not in login.headers


def test_signed_in_pages_are_never_stored(client, session, make):
    from tests.routes.test_manage_access import login
    from tourism.models import Role

    association = make.association()
    user = make.user(password="", memberships=[(association, Role.STAFF)])
    session.commit()
    login(client, user)
    page = client.get("/manage/")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in page.headers


def test_errors_and_posts_get_no_etag(client):
    missing = client.get("/experiences/no-such-thing")
    assert missing.status_code == 404
    assert "ETag" not in missing.headers


def test_static_files_and_photos_do_not_vary_on_the_session_cookie(client, app, session, make):
    import io

    from PIL import Image

    from tourism.services.catalog import photos

    experience = make.experience(make.association())
    picture = io.BytesIO()
    Image.new("RGB", (400, 300), (40, 90, 50)).save(picture, format="JPEG")
    picture.seek(0)
    photo = photos.add_photo(session, experience, picture, app.config["UPLOAD_DIR"], "Cacao")
    session.commit()
    with client.session_transaction() as cookie_session:  # as the booking form's CSRF token
        cookie_session["csrf_token"] = "x" * 40
        cookie_session.permanent = True  # such a cookie is refreshed by every saved response
    for url in (hashed_url(app, "css/site.css"), f"/media/{photo.key}-320.webp"):
        with client.get(url) as response:
            assert response.status_code == 200
            assert "Cookie" not in response.headers.get("Vary", ""), url
            assert "Set-Cookie" not in response.headers, url
    page = client.get("/")
    assert "Cookie" in page.headers["Vary"]  # pages still do


def test_the_cookie_signer_is_built_once_and_follows_a_new_key(app):
    interface = app.session_interface
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    signed = first.dumps({"n": 1})
    old_key, app.secret_key = app.secret_key, "another-key-" + "x" * 40
    try:
        second = interface.get_signing_serializer(app)
        assert second is not first
        with pytest.raises(Exception, match="[Ss]ignature"):
            second.loads(signed)  # a cookie signed with the old key is refused
        app.config["SECRET_KEY_FALLBACKS"] = [old_key]
        assert interface.get_signing_serializer(app).loads(signed) == {"n": 1}
    finally:
        app.secret_key = old_key
        app.config["SECRET_KEY_FALLBACKS"] = []
