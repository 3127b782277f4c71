"""A person's appearance (the identity) and a fast walking-figure renderer.

Identity lives only in appearance: clothing colours and patterns, sleeve and trouser length, body
proportions, skin and hair, hat and bag. ``render_person`` draws the figure on a transparent canvas
(RGB + mask) with cv2 primitives into a part-label map, then colours the labels with one lookup and
applies patterns and cylinder shading as broadcast numpy operations (~0.5 ms for 256x128 on one core).
Camera nuisance (light, background, blur, occlusion) is added by ``reid.data.synthetic.render_crop``.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import cv2
import numpy as np

RGB = tuple[int, int, int]

# part labels of the label map; 0 = transparent background
_SKIN, _HAIR, _SHIRT, _TROUSERS, _SHOES, _HAT, _BAG, _SHIRT2, _TROUSERS2 = range(1, 10)

PATTERNS = ("plain", "stripes", "checks")
BAGS = ("none", "backpack", "shoulder", "hand")


@dataclass(frozen=True)
class Appearance:
    """What one identity looks like. Colours are RGB uint8 triples; lengths are fractions of body height."""

    shirt: RGB
    shirt2: RGB  # second colour of a patterned shirt
    shirt_pattern: str  # plain | stripes | checks
    long_sleeves: bool
    trousers: RGB
    trousers2: RGB
    trouser_pattern: str  # plain | stripes | checks
    shorts: bool
    shoes: RGB
    skin: RGB
    hair: RGB
    long_hair: bool
    hat: RGB | None  # None = no hat
    bag: str  # none | backpack | shoulder | hand
    bag_color: RGB
    pattern_period: float  # stripe / check period, fraction of body height (0.03..0.07)
    stature: float  # body height as a fraction of a full box (0.86..1.0); see render_crop
    build: float  # shoulder width / body height (0.20..0.29)
    leg_length: float  # hip-to-sole / body height (0.44..0.53)


def _color(rng: np.random.Generator, achromatic_prob: float = 0.3) -> RGB:
    """A clothing colour: grey/black/white with ``achromatic_prob``, else a random hue."""
    if rng.random() < achromatic_prob:
        h, s, v = rng.random(), rng.uniform(0.0, 0.12), rng.uniform(0.08, 0.95)
    else:
        h, s, v = rng.random(), rng.uniform(0.35, 0.95), rng.uniform(0.25, 0.95)
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return int(r * 255), int(g * 255), int(b * 255)


def _contrast(rng: np.random.Generator, base: RGB) -> RGB:
    """A second pattern colour clearly different from ``base`` (another hue or a lightness flip)."""
    if rng.random() < 0.5:
        return _color(rng, achromatic_prob=0.4)
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in base))
    v2 = 0.15 + 0.1 * rng.random() if v > 0.55 else 0.8 + 0.15 * rng.random()
    r, g, b = colorsys.hsv_to_rgb(h, s, v2)
    return int(r * 255), int(g * 255), int(b * 255)


def _mix(rng: np.random.Generator, tones: np.ndarray) -> RGB:
    """A colour between two random neighbouring ``tones`` rows (K, 3)."""
    i = int(rng.integers(len(tones) - 1))
    t = rng.random()
    c = (1 - t) * tones[i] + t * tones[i + 1]
    return int(c[0]), int(c[1]), int(c[2])


_SKIN_TONES = np.array([[255, 224, 196], [234, 192, 160], [198, 144, 108], [141, 94, 62], [88, 56, 38]], float)
_HAIR_TONES = np.array([[20, 16, 14], [60, 40, 26], [110, 74, 42], [196, 160, 100], [150, 60, 30], [170, 170, 170]], float)


def sample_appearance(rng: np.random.Generator) -> Appearance:
    """Draw a random identity from ``rng`` (the only source of randomness)."""
    shirt = _color(rng)
    trousers = _color(rng, achromatic_prob=0.45)  # trousers are more often dark / neutral
    return Appearance(
        shirt=shirt,
        shirt2=_contrast(rng, shirt),
        shirt_pattern=str(rng.choice(PATTERNS, p=[0.5, 0.25, 0.25])),
        long_sleeves=bool(rng.random() < 0.5),
        trousers=trousers,
        trousers2=_contrast(rng, trousers),
        trouser_pattern=str(rng.choice(PATTERNS, p=[0.75, 0.1, 0.15])),
        shorts=bool(rng.random() < 0.2),
        shoes=_color(rng, achromatic_prob=0.6),
        skin=_mix(rng, _SKIN_TONES),
        hair=_mix(rng, _HAIR_TONES),
        long_hair=bool(rng.random() < 0.35),
        hat=_color(rng) if rng.random() < 0.2 else None,
        bag=str(rng.choice(BAGS, p=[0.45, 0.25, 0.2, 0.1])),
        bag_color=_color(rng, achromatic_prob=0.5),
        pattern_period=float(rng.uniform(0.03, 0.07)),
        stature=float(rng.uniform(0.86, 1.0)),
        build=float(rng.uniform(0.20, 0.29)),
        leg_length=float(rng.uniform(0.44, 0.53)),
    )


def _limb(root: np.ndarray, angle: float, length: float) -> np.ndarray:
    """End point of a segment of ``length`` hanging from ``root`` (x, y), rotated ``angle`` rad from down."""
    return root + length * np.array([np.sin(angle), np.cos(angle)])


def _draw_label_map(app: Appearance, h: int, w: int, rng: np.random.Generator, phase: float) -> np.ndarray:
    """Part labels (h, w) uint8 of the figure filling the canvas height, centred horizontally."""
    s = (h - 2) * 1.0  # pixels per body-height unit; 1 px margin top and bottom
    need = 0.5 * app.build + 0.13  # half the widest extent: shoulders + swinging arm / bag
    sx = min(1.0, (w / 2 - 1) / (need * s))  # squeeze horizontally if the canvas is too narrow
    cx, top = w / 2.0, 1.0
    lab = np.zeros((h, w), np.uint8)

    def p(x: float, y: float) -> tuple[int, int]:  # body units (x from centre, y from top) -> pixels
        return int(round(cx + x * s * sx)), int(round(top + y * s))

    def t(frac: float) -> int:  # thickness in pixels
        return max(1, int(round(frac * s * sx)))

    jit = rng.normal(0.0, 0.03, 4)  # small per-call pose jitter (rad)
    swing = np.sin(2 * np.pi * phase)
    leg_amp, arm_amp = 0.28, 0.22
    bw, hip_y, leg = app.build, 1.0 - app.leg_length, app.leg_length
    shoulder_y, hip_hw = 0.175, 0.5 * app.build * 0.8
    thigh, shin = 0.5 * leg, 0.47 * leg

    # legs: thigh + shin with knee bend on the back-swinging leg, shoes at the end
    for side, sgn in ((-1, 1.0), (1, -1.0)):
        hip = np.array([side * hip_hw * 0.5, hip_y])
        a = sgn * leg_amp * swing + jit[0] * side
        knee = _limb(hip, a, thigh)
        bend = max(0.0, -sgn * swing) * 0.6  # the trailing leg bends at the knee
        foot = _limb(knee, a * (1.0 - bend), shin * (1.0 - 0.1 * bend))
        lw = t(0.085 * bw / 0.245)
        cv2.line(lab, p(*hip), p(*knee), _TROUSERS, lw)
        cv2.line(lab, p(*knee), p(*foot), _SKIN if app.shorts else _TROUSERS, t(0.07 * bw / 0.245))
        cv2.ellipse(lab, p(foot[0] + side * 0.012, foot[1] - 0.012), (t(0.035), t(0.016)), 0, 0, 360, _SHOES, -1)
    cv2.rectangle(lab, p(-hip_hw, hip_y - 0.03), p(hip_hw, hip_y + 0.05), _TROUSERS, -1)

    if app.bag == "backpack":  # bag body shows on both sides behind the torso
        cv2.rectangle(lab, p(-0.56 * bw, 0.2), p(0.56 * bw, 0.43), _BAG, -1)
    if app.long_hair:  # hair falling behind the shoulders
        cv2.rectangle(lab, p(-0.055, 0.07), p(0.055, 0.25), _HAIR, -1)

    torso = np.array([p(-bw / 2, shoulder_y), p(bw / 2, shoulder_y), p(hip_hw * 1.05, hip_y + 0.02),
                      p(-hip_hw * 1.05, hip_y + 0.02)], np.int32)
    cv2.fillConvexPoly(lab, torso, _SHIRT)
    cv2.rectangle(lab, p(-0.022, 0.11), p(0.022, shoulder_y + 0.01), _SKIN, -1)  # neck

    if app.bag == "backpack":  # straps
        for side in (-1, 1):
            cv2.line(lab, p(side * 0.3 * bw, shoulder_y), p(side * 0.32 * bw, 0.36), _BAG, t(0.018))
    elif app.bag == "shoulder":
        cv2.line(lab, p(-0.38 * bw, shoulder_y), p(0.5 * bw, hip_y - 0.02), _BAG, t(0.016))
        cv2.rectangle(lab, p(0.4 * bw, hip_y - 0.06), p(0.4 * bw + 0.09, hip_y + 0.04), _BAG, -1)

    # arms swing opposite to the legs; short sleeves show the forearm's skin
    for side, sgn in ((-1, -1.0), (1, 1.0)):
        sh = np.array([side * (bw / 2 - 0.018), shoulder_y + 0.012])
        a = sgn * arm_amp * swing + side * 0.1 + jit[1 + (side > 0)]
        elbow = _limb(sh, a, 0.16)
        hand = _limb(elbow, a + side * 0.05 + 0.15 * abs(swing) * sgn, 0.15)
        cv2.line(lab, p(*sh), p(*elbow), _SHIRT, t(0.05 * bw / 0.245))
        cv2.line(lab, p(*elbow), p(*hand), _SHIRT if app.long_sleeves else _SKIN, t(0.042 * bw / 0.245))
        cv2.circle(lab, p(*hand), t(0.02), _SKIN, -1)
        if app.bag == "hand" and side == 1:
            cv2.rectangle(lab, p(hand[0] - 0.04, hand[1]), p(hand[0] + 0.04, hand[1] + 0.1), _BAG, -1)

    # head: hair shell, face, optional cap
    hx, hy = 0.0 + jit[3] * 0.05, 0.067
    cv2.ellipse(lab, p(hx, hy - 0.004), (t(0.05), t(0.062)), 0, 0, 360, _HAIR, -1)
    cv2.ellipse(lab, p(hx, hy + 0.012), (t(0.042), t(0.052)), 0, 0, 360, _SKIN, -1)
    if app.hat is not None:
        cv2.ellipse(lab, p(hx, hy - 0.012), (t(0.053), t(0.052)), 0, 180, 360, _HAT, -1)
        cv2.line(lab, p(hx - 0.06, hy - 0.012), p(hx + 0.07, hy - 0.012), _HAT, t(0.012))
    return lab


def _pattern(kind: str, h: int, w: int, period_px: float) -> np.ndarray | None:
    """Boolean (h, w) or broadcastable mask choosing the second colour; None for plain."""
    if kind == "plain":
        return None
    rows = (np.arange(h) // max(1.0, period_px / 2)).astype(np.int64) % 2 == 1
    if kind == "stripes":
        return rows[:, None]
    cols = (np.arange(w) // max(1.0, period_px / 2)).astype(np.int64) % 2 == 1
    return rows[:, None] ^ cols[None, :]


def render_person(
    app: Appearance, height: int, width: int, rng: np.random.Generator, phase: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one walking person filling a ``height`` x ``width`` canvas (head at the top row, soles at
    the bottom row, centred; squeezed horizontally when the canvas is narrower than ~0.4 x height).

    ``phase`` animates the walk: fraction of a stride cycle, periodic with period 1.0 (legs and arms
    swing as ``sin(2 pi phase)``). ``rng`` only adds a small pose jitter (a few degrees); pass a freshly
    seeded generator for a frame-stable figure. ``app.stature`` is NOT applied here: a scene renderer
    that wants tall and short people scales ``height`` by it.

    Returns ``(image, mask)``: image (height, width, 3) uint8 RGB, zero outside the person;
    mask (height, width) bool, True on the person.
    """
    if height < 8 or width < 4:
        raise ValueError(f"canvas {height}x{width} is too small to draw a person (need at least 8x4)")
    lab = _draw_label_map(app, height, width, rng, phase)
    lut = np.zeros((10, 3), np.uint8)
    for label, colour in ((_SKIN, app.skin), (_HAIR, app.hair), (_SHIRT, app.shirt), (_TROUSERS, app.trousers),
                          (_SHOES, app.shoes), (_HAT, app.hat or (0, 0, 0)), (_BAG, app.bag_color),
                          (_SHIRT2, app.shirt2), (_TROUSERS2, app.trousers2)):
        lut[label] = colour
    period = app.pattern_period * height
    for kind, first, second in ((app.shirt_pattern, _SHIRT, _SHIRT2), (app.trouser_pattern, _TROUSERS, _TROUSERS2)):
        pat = _pattern(kind, height, width, period)
        if pat is not None:
            lab = np.where((lab == first) & pat, np.uint8(second), lab)
    img = lut[lab]
    mask = lab > 0
    # cylinder shading across the body and a little darker towards the feet
    x = (np.arange(width, dtype=np.float32) - width / 2) / max(1.0, width / 2)
    y = np.arange(height, dtype=np.float32) / height
    shade = (1.0 - 0.35 * x[None, :] ** 2) * (1.0 - 0.15 * y[:, None])
    img = (img.astype(np.float32) * shade[..., None]).astype(np.uint8)
    return img, mask
