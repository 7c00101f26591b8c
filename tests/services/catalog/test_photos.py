"""Photos: Pillow checks uploads, resizes them into WebP widths without upscaling, strips
metadata; they are served with long cache headers; garbage is a clear 400."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.routes import test_manage_access as shared
from tests.routes.test_manage_access import EN, login, member
from tourism.extensions import db
from tourism.models import Photo
from tourism.services.catalog import photos

#: Fixtures shared with the other management tests (found by pytest under these names).
app, kallari, make, staff, winak = (
    shared.app,
    shared.kallari,
    shared.make,
    shared.staff,
    shared.winak,
)


def image_bytes(size=(2000, 1000), fmt="JPEG", mode="RGB", color=(30, 90, 40), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- Resizing (the service, no database) ----------------------------------------------------


def test_a_large_photo_becomes_three_webp_widths():
    renditions = photos.render(io.BytesIO(image_bytes((2000, 1000))))
    assert [(r.width, r.height) for r in renditions] == [(320, 160), (640, 320), (1280, 640)]
    for rendition in renditions:
        image = decoded(rendition.data)
        assert image.format == "WEBP"
        assert image.size == (rendition.width, rendition.height)


def test_small_photos_are_never_upscaled():
    medium = photos.render(io.BytesIO(image_bytes((500, 300), fmt="PNG")))
    assert [(r.width, r.height) for r in medium] == [(320, 192), (500, 300)]
    tiny = photos.render(io.BytesIO(image_bytes((200, 100), fmt="WEBP")))
    assert [(r.width, r.height) for r in tiny] == [(200, 100)]


def test_transparency_survives_and_png_palettes_work():
    [rendition] = photos.render(
        io.BytesIO(image_bytes((100, 100), fmt="PNG", mode="RGBA", color=(0, 0, 0, 0)))
    )
    assert decoded(rendition.data).mode == "RGBA"
    palette = Image.new("P", (100, 50))
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG")
    assert photos.render(io.BytesIO(buffer.getvalue()))[0].width == 100


def test_phone_orientation_is_applied_and_metadata_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x010F] = "PhoneMaker"
    data = image_bytes((800, 400), exif=exif.tobytes())
    renditions = photos.render(io.BytesIO(data))
    largest = decoded(renditions[-1].data)
    assert largest.size == (400, 800)  # upright: portrait
    assert not largest.getexif()
    assert "exif" not in largest.info and "xmp" not in largest.info


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"definitely not an image",
        b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",
        image_bytes((50, 50), fmt="GIF", mode="P", color=1),
        image_bytes((400, 400))[:300],  # a truncated JPEG
    ],
    ids=["empty", "text", "svg", "gif", "truncated"],
)
def test_anything_but_a_whole_jpeg_png_or_webp_is_refused(data):
    with pytest.raises(photos.NotAnImage):
        photos.render(io.BytesIO(data))


def test_decompression_bombs_are_refused():
    bomb = image_bytes((8000, 6000), fmt="PNG", mode="1", color=0)
    assert len(bomb) < 2 * 1024 * 1024  # small on the wire, huge once decoded
    with pytest.raises(photos.ImageTooLarge):
        photos.render(io.BytesIO(bomb))


# --- Through the pages ----------------------------------------------------------------------


@pytest.fixture
def experience(make, kallari):
    return make.experience(kallari)


def upload(client, experience, data: bytes, name="foto.jpg", **fields):
    form = {"photo": (io.BytesIO(data), name), "alt_es": "Doña Rosa y su cacao"} | fields
    return client.post(
        f"/manage/experiences/{experience.id}/photos",
        data=form,
        content_type="multipart/form-data",
        headers=EN,
    )


def stored(app) -> list[str]:
    folder = Path(app.config["UPLOAD_DIR"])
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_upload_stores_webp_files_and_a_row_then_serves_them(client, app, staff, experience):
    response = upload(client, experience, image_bytes((1600, 1200)), alt_en="Rosa and her cacao")
    assert response.status_code == 303
    photo = db.session.scalars(select(Photo)).one()
    assert photo.experience_id == experience.id
    assert photo.widths == "320,640,1280"
    assert (photo.width, photo.height) == (1280, 960)
    assert (photo.alt_es, photo.alt_en) == ("Doña Rosa y su cacao", "Rosa and her cacao")
    assert stored(app) == sorted(f"{photo.key}-{w}.webp" for w in (320, 640, 1280))

    with client.get(f"/media/{photo.key}-640.webp") as served:
        assert served.status_code == 200
        assert served.mimetype == "image/webp"
        assert decoded(served.data).size == (640, 480)
        cache = served.headers["Cache-Control"]
    assert "max-age=31536000" in cache and "public" in cache and "immutable" in cache

    page = client.get(f"/manage/experiences/{experience.id}/photos", headers=EN)
    assert f"/media/{photo.key}-320.webp" in page.get_data(as_text=True)


def test_garbage_upload_is_a_clear_400_and_stores_nothing(client, app, staff, experience):
    response = upload(client, experience, b"MZ\x90\x00 not a photo", name="virus.jpg")
    assert response.status_code == 400
    assert "JPEG, PNG or WebP" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Photo.id))) == 0
    assert stored(app) == []


def test_a_photo_needs_a_spanish_description(client, app, staff, experience):
    response = upload(client, experience, image_bytes((400, 300)), alt_es="")
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Photo.id))) == 0
    assert stored(app) == []


def test_an_upload_above_the_size_limit_is_refused(client, app, staff, experience):
    app.config["MAX_CONTENT_LENGTH"] = 100_000  # small, so the test's body stays in memory
    noise = Image.effect_noise((400, 400), 100).convert("RGB")
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    assert len(buffer.getvalue()) > 100_000
    assert upload(client, experience, buffer.getvalue(), name="big.png").status_code == 413
    assert db.session.scalar(select(func.count(Photo.id))) == 0


def test_deleting_removes_the_row_and_the_files(client, app, staff, experience):
    upload(client, experience, image_bytes((700, 700)))
    photo = db.session.scalars(select(Photo)).one()
    key = photo.key
    response = client.post(f"/manage/photos/{photo.id}/delete")
    assert response.status_code == 303
    assert db.session.scalar(select(func.count(Photo.id))) == 0
    assert stored(app) == []
    assert client.get(f"/media/{key}-320.webp").status_code == 404


def test_another_associations_photo_cannot_be_deleted(client, app, make, winak):
    theirs = make.experience(winak)
    login(client, member(make, winak))
    upload(client, theirs, image_bytes((400, 400)))
    photo = db.session.scalars(select(Photo)).one()
    kallari_staff = member(make, make.association())
    login(client, kallari_staff)
    assert client.post(f"/manage/photos/{photo.id}/delete").status_code == 404
    assert client.get(f"/manage/experiences/{theirs.id}/photos").status_code == 404
    assert db.session.scalar(select(func.count(Photo.id))) == 1
    assert len(stored(app)) == 2


@pytest.mark.parametrize(
    "path",
    [
        "/media/0123456789abcdef0123456789abcdef-320.webp",
        "/media/not-a-key-320.webp",
        "/media/..%2F..%2Fsecret_key-320.webp",
        "/media/0123456789abcdef0123456789abcdef-99999.webp",
    ],
)
def test_unknown_media_is_not_found(client, path):
    assert client.get(path).status_code == 404
