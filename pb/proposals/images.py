"""Checking and storing a proposal's image.

An upload is read with a size cap, opened with Pillow, refused unless it is a JPEG, PNG or
WebP of sensible dimensions, turned upright, shrunk to at most ``MAX_SIDE`` pixels and
encoded again from the pixels alone, so EXIF (GPS position, camera, time) and any other
metadata or trailing bytes are gone. The file gets a random name under ``UPLOAD_DIR``.
"""

from __future__ import annotations

import io
import re
import secrets
import warnings
from pathlib import Path
from typing import IO

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MIMETYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
MAX_PIXELS = 40_000_000
MAX_SIDE = 2000
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{20,40}\.(jpg|png|webp)$")
SUBDIR = "proposals"


class ImageRejected(ValueError):
    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


def store(stream: IO[bytes], upload_dir: str | Path, max_bytes: int) -> str:
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

    folder = Path(upload_dir) / SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(18)}.{ext}"
    (folder / name).write_bytes(out.getvalue())
    return name


def path_of(upload_dir: str | Path, name: str) -> Path | None:
    """The stored file for a name we made, or None for anything else."""
    if not NAME_RE.match(name):
        return None
    path = Path(upload_dir) / SUBDIR / name
    return path if path.is_file() else None


def remove(upload_dir: str | Path, name: str) -> None:
    path = path_of(upload_dir, name) if name else None
    if path is not None:
        path.unlink(missing_ok=True)
