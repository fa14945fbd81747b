"""The demo processes' pictures, drawn with Pillow when ``pb demo`` runs (no files in the
repository, no network): a park by a street of brick houses for Lund, and a skatepark with
a graffiti wall at dusk for the Dalby youth budget. Flat shapes in calm colours, drawn at
twice the size and scaled down so the edges are smooth. Each returns PNG bytes that then go
through ``pb.images`` like any upload."""

from __future__ import annotations

import io
import math
import random

from PIL import Image, ImageDraw

W, H = 1280, 560  # 16:7, the shape of a card's picture
S = 2  # drawn at twice the size

Colour = tuple[int, int, int]


def _canvas(top: Colour, bottom: Colour) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("RGB", (W * S, H * S))
    draw = ImageDraw.Draw(img)
    for y in range(H * S):  # the sky, one colour fading into another
        t = y / (H * S)
        draw.line(
            [(0, y), (W * S, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    return img, draw


def _png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.resize((W, H), Image.Resampling.LANCZOS).save(out, "PNG", optimize=True)
    return out.getvalue()


def _box(x0: float, y0: float, x1: float, y1: float) -> list[float]:
    return [x0 * S, y0 * S, x1 * S, y1 * S]


def _tree(draw: ImageDraw.ImageDraw, x: float, ground: float, size: float, leaf: Colour) -> None:
    draw.rectangle(
        _box(x - size * 0.08, ground - size * 0.9, x + size * 0.08, ground), fill=(110, 78, 52)
    )
    for dx, dy, r in ((0, -1.25, 0.55), (-0.35, -0.95, 0.42), (0.35, -0.95, 0.42)):
        cx, cy = x + dx * size, ground + dy * size
        draw.ellipse(_box(cx - r * size, cy - r * size, cx + r * size, cy + r * size), fill=leaf)


def lund_parks() -> bytes:
    """A sunny park: brick houses behind, trees, a winding path, a bench and a street lamp."""
    img, draw = _canvas((150, 200, 235), (222, 238, 246))
    draw.ellipse(_box(1060, 60, 1160, 160), fill=(255, 214, 102))  # the sun
    for i, (x, w, h, brick) in enumerate(
        (
            (40, 180, 150, (170, 74, 52)),
            (230, 150, 190, (190, 96, 64)),
            (390, 200, 140, (156, 66, 48)),
            (610, 170, 175, (181, 86, 58)),
            (800, 190, 150, (165, 72, 50)),
        )
    ):
        top = 330 - h
        draw.rectangle(_box(x, top, x + w, 340), fill=brick)
        draw.polygon(
            [
                (x * S, top * S),
                ((x + w / 2) * S, (top - 45 - 10 * (i % 2)) * S),
                ((x + w) * S, top * S),
            ],
            fill=(84, 52, 44),
        )
        for wx in range(int(x) + 22, int(x + w) - 30, 44):
            for wy in range(int(top) + 22, 300, 48):
                draw.rectangle(_box(wx, wy, wx + 20, wy + 26), fill=(246, 234, 196))
    draw.rectangle(_box(0, 330, W, 372), fill=(120, 124, 130))  # the street
    for x in range(20, W, 90):
        draw.rectangle(_box(x, 349, x + 44, 353), fill=(236, 236, 236))
    draw.rectangle(_box(0, 372, W, H), fill=(118, 182, 92))  # the grass
    draw.ellipse(_box(-200, 420, 700, 760), fill=(104, 168, 80))
    draw.ellipse(_box(600, 440, 1500, 800), fill=(98, 160, 76))
    path = [(520, H), (600, 470), (760, 430), (980, 400), (1280, 392)]
    draw.line([(x * S, y * S) for x, y in path], fill=(232, 214, 170), width=34 * S, joint="curve")
    for x, ground, size, leaf in (
        (110, 470, 120, (58, 128, 64)),
        (300, 440, 95, (72, 146, 70)),
        (1150, 470, 130, (52, 118, 60)),
        (880, 520, 90, (66, 140, 66)),
    ):
        _tree(draw, x, ground, size, leaf)
    draw.rectangle(_box(660, 500, 790, 512), fill=(126, 84, 50))  # a bench
    draw.rectangle(_box(660, 476, 790, 486), fill=(126, 84, 50))
    for x in (672, 770):
        draw.rectangle(_box(x, 512, x + 8, 532), fill=(60, 60, 60))
    draw.rectangle(_box(1010, 300, 1018, 420), fill=(50, 56, 62))  # a street lamp
    draw.ellipse(_box(996, 286, 1032, 316), fill=(255, 236, 150))
    return _png(img)


def _quarter_pipe(
    draw: ImageDraw.ImageDraw, x0: float, x1: float, top: float, ground: float, facing_left: bool
) -> None:
    """A skate ramp seen from the side: a concave curve from the ground up to its deck."""
    r, steps = x1 - x0, 24
    curve = [
        (
            x0 + r * math.sin(math.pi / 2 * i / steps),
            top + (ground - top) * math.cos(math.pi / 2 * i / steps),
        )
        for i in range(steps + 1)
    ]
    if facing_left:  # mirrored: rises to the left
        curve = [(x0 + x1 - x, y) for x, y in curve]
    back = x1 if not facing_left else x0
    ramp = (194, 146, 92)
    draw.polygon([(x * S, y * S) for x, y in [*curve, (back, ground)]], fill=ramp)
    deck = (back, top - 10, back + (40 if not facing_left else -40), top)
    draw.rectangle(_box(min(deck[0], deck[2]), deck[1], max(deck[0], deck[2]), ground), fill=ramp)
    draw.line([(x * S, y * S) for x, y in curve], fill=(112, 76, 46), width=6 * S)


def dalby_youth() -> bytes:
    """Dusk at the youth centre: a half-pipe before a painted wall, lights and music."""
    img, draw = _canvas((58, 52, 120), (246, 168, 110))
    draw.ellipse(_box(560, 70, 660, 170), fill=(255, 220, 150))  # the low sun
    draw.rectangle(_box(700, 200, 1240, 430), fill=(226, 210, 186))  # the youth centre
    draw.polygon([(680 * S, 200 * S), (970 * S, 120 * S), (1260 * S, 200 * S)], fill=(120, 64, 56))
    for wx in range(740, 1200, 90):
        draw.rectangle(_box(wx, 250, wx + 50, 300), fill=(255, 226, 140))
    draw.rectangle(_box(930, 340, 1010, 430), fill=(90, 60, 50))
    draw.rectangle(_box(40, 250, 660, 430), fill=(206, 204, 198))  # the wall, painted
    colours = [
        (230, 57, 70),
        (252, 191, 73),
        (42, 157, 143),
        (69, 123, 157),
        (155, 93, 229),
        (247, 127, 0),
    ]
    for n, colour in enumerate(colours[:3]):  # three bright zigzags
        row = 285 + n * 42
        zigzag = [((60 + i * 50) * S, (row + (18 if i % 2 else -18)) * S) for i in range(12)]
        draw.line(zigzag, fill=colour, width=14 * S, joint="curve")
    rng = random.Random(2026)  # the same picture every time
    for i in range(9):
        x, y, r = 80 + i * 66 + rng.uniform(-8, 8), rng.uniform(262, 296), rng.uniform(10, 16)
        draw.ellipse(_box(x - r, y - r, x + r, y + r), fill=colours[3 + i % 3])
    draw.rectangle(_box(0, 430, W, H), fill=(92, 98, 108))  # the ground
    _quarter_pipe(draw, 110, 250, 400, 520, facing_left=True)  # the half-pipe
    _quarter_pipe(draw, 450, 590, 400, 520, facing_left=False)
    draw.rectangle(_box(250, 512, 450, 520), fill=(194, 146, 92))
    for x in (680, 1262):  # lights on poles
        draw.rectangle(_box(x - 4, 260, x + 4, 430), fill=(50, 50, 60))
        draw.ellipse(_box(x - 18, 244, x + 18, 276), fill=(255, 240, 170))
    for x, y in ((1060, 110), (1120, 80)):  # two notes joined by a beam
        draw.ellipse(_box(x, y, x + 28, y + 20), fill=(255, 255, 255))
        draw.rectangle(_box(x + 22, y - 60, x + 28, y + 10), fill=(255, 255, 255))
    draw.rectangle(_box(1082, 50, 1148, 58), fill=(255, 255, 255))
    return _png(img)


PICTURES = {
    "lund-parker-och-gator-2027": (
        lund_parks,
        "En tecknad park i solsken med träd, en slingrande gångväg, en parkbänk och en "
        "gatlykta, framför en gata med hus i rött tegel.",
        "A drawing of a sunny park with trees, a winding path, a bench and a street lamp, in "
        "front of a street of red-brick houses.",
    ),
    "ungdomsbudget-dalby-2026": (
        dalby_youth,
        "En tecknad skateramp framför en färgglad graffitivägg i skymningen, bredvid "
        "fritidsgården med tända fönster och musiknoter i luften.",
        "A drawing of a skate ramp in front of a colourful graffiti wall at dusk, beside the "
        "youth centre with lit windows and musical notes in the air.",
    ),
}
