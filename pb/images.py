"""Checking, storing and serving uploaded images: a proposal's picture, a follow-up
update's photo and a process's picture all go through here.

An upload is read with a size cap, opened with Pillow, refused unless it is a JPEG, PNG or
WebP of sensible dimensions, turned upright, shrunk to at most ``MAX_SIDE`` pixels and
encoded again from the pixels alone, so EXIF (GPS position, camera, time) and any other
metadata or trailing bytes are gone. The file gets a random name in a folder under
``UPLOAD_DIR``: ``PROPOSALS`` (proposals and follow-up photos) or ``PROCESSES``. Which
file may be seen by whom is the serving route's question: it finds the row that names the
file and asks that row's own rule.
"""

from __future__ import annotations

import io
import re
import secrets
import warnings
from pathlib import Path
from typing import IO, Any

from flask import Response, abort, current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from pb.security import FILE_CSP

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MIMETYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
MAX_PIXELS = 40_000_000
MAX_SIDE = 2000
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{20,40}\.(jpg|png|webp)$")
PROPOSALS = "proposals"  # proposals' pictures and follow-up photos
PROCESSES = "processes"  # processes' pictures
FOLDERS = (PROPOSALS, PROCESSES)
CACHE = "private, max-age=3600"  # the browser's own cache only: a draft's file is not public


class ImageRejected(ValueError):
    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


def store(stream: IO[bytes], upload_dir: str | Path, max_bytes: int, *, folder: str) -> str:
    """Check, clean and save an uploaded image; return its new file name.
    Raises ``ImageRejected`` with a message for the user."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageRejected(
            _l("The image is too large. It may be at most %(mb)s MB.", mb=max_bytes // 1048576)
        )
    if not data:
        raise ImageRejected(_l("The file is empty."))
    not_image = _l("The file is not an image we can use. Use a JPEG, PNG or WebP picture.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img: Image.Image = Image.open(io.BytesIO(data))
            if img.format not in FORMATS:
                raise ImageRejected(not_image)
            width, height = img.size
            if width < 1 or height < 1 or width * height > MAX_PIXELS:
                raise ImageRejected(_l("The image has too many pixels."))
            img.load()
    except ImageRejected:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Warning) as exc:
        raise ImageRejected(not_image) from exc
    except Image.DecompressionBombError as exc:
        raise ImageRejected(_l("The image has too many pixels.")) from exc

    ext = FORMATS[str(img.format)]
    img = ImageOps.exif_transpose(img) or img
    img.thumbnail((MAX_SIDE, MAX_SIDE))
    keep_alpha = ext != "jpg" and (img.mode in ("RGBA", "LA") or "transparency" in img.info)
    clean = Image.new("RGBA" if keep_alpha else "RGB", img.size)
    clean.paste(img.convert("RGBA" if keep_alpha else "RGB"))
    out = io.BytesIO()
    if ext == "jpg":
        clean.save(out, "JPEG", quality=85, optimize=True)
    elif ext == "png":
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "WEBP", quality=85)

    if folder not in FOLDERS:
        raise ValueError(folder)
    target = Path(upload_dir) / folder
    target.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(18)}.{ext}"
    (target / name).write_bytes(out.getvalue())
    return name


def path_of(upload_dir: str | Path, name: str, *, folder: str) -> Path | None:
    """The stored file for a name we made, or None for anything else."""
    if folder not in FOLDERS or not NAME_RE.match(name):
        return None
    path = Path(upload_dir) / folder / name
    return path if path.is_file() else None


def remove(upload_dir: str | Path, name: str, *, folder: str) -> None:
    path = path_of(upload_dir, name, folder=folder) if name else None
    if path is not None:
        path.unlink(missing_ok=True)


# -- in a request ----------------------------------------------------------------------


def store_upload(field: Any, *, folder: str) -> tuple[bool, str | None]:
    """Store the file a form's ``FileField`` carries, with the app's ``UPLOAD_DIR`` and
    ``UPLOAD_MAX_BYTES``: (True, its new name), (True, None) when no file was sent, or
    (False, None) with the reason added to the field's errors."""
    upload = field.data
    if not upload or not getattr(upload, "filename", ""):
        return True, None
    cfg = current_app.config
    try:
        return True, store(upload.stream, cfg["UPLOAD_DIR"], cfg["UPLOAD_MAX_BYTES"],
                           folder=folder)  # fmt: skip
    except ImageRejected as exc:
        field.errors = [*field.errors, exc.message]
        return False, None


def discard(name: str, *, folder: str) -> None:
    """Remove a stored file of this app (a replaced picture, or one whose save failed)."""
    remove(current_app.config["UPLOAD_DIR"], name, folder=folder)


def send(name: str, *, folder: str, cache: str | None = CACHE) -> Response:
    """A stored file as its answer: its own type, shown inline, a policy under which it
    can load nothing, and ``cache`` as Cache-Control (None: the app's default for the
    page). 404 for a name we did not make or a file that is gone."""
    path = path_of(current_app.config["UPLOAD_DIR"], name, folder=folder)
    if path is None:
        abort(404)
    response = Response(path.read_bytes(), mimetype=MIMETYPES[name.rsplit(".", 1)[-1]])
    if cache:
        response.headers["Cache-Control"] = cache
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["Content-Disposition"] = "inline"
    return response
