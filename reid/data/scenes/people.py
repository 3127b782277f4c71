"""A crowd that is hard to tell apart: mostly dark, plain clothing, and pairs of near-identical people.

Real pedestrian footage (the shipped ``examples/`` clips: a forecourt in winter) is dominated by dark coats and
trousers with small differences; a colour descriptor cannot separate most people there. ``sample_crowd`` draws
such a crowd from ``reid.data.synthetic_person.Appearance``: most (``DARK_SHARE``) wear dark or grey tops and
trousers (one of a few ``UNIFORMS``, black jacket and dark jeans and the like, each colour nudged by up to 6
grey levels; plain), the rest one coloured or light garment, and some pairs are look-alikes (the second
person a copy of the first with colours nudged by a few grey levels).
"""

from __future__ import annotations

import colorsys
from dataclasses import replace

import numpy as np

from reid.data.synthetic_person import RGB, Appearance, sample_appearance

# Tuned against the sample's reference (docs/linking.md, "Synthetic and real side by side"): with 0.9 / 0.6 the
# crowd was more alike than the sample's (calibrated threshold 0.14-0.20 on three seeds, the sample's 0.25;
# pair recall 0.26-0.38 against 0.72); with 0.85 / 0.2 the thresholds are 0.21-0.36 and the links agree within 0.1.
DARK_SHARE = 0.85  # share of people in dark clothes (by eye on the sample: most; a red, a light blue, a beige coat)
LOOK_ALIKE_SHARE = 0.2  # share of consecutive pairs (1-2, 3-4, ...) who look almost the same
NUDGE = 8  # grey levels by which a look-alike's colours differ from the original's


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return int(r * 255), int(g * 255), int(b * 255)


# What most people wore on the sample's forecourt (by eye): top and trousers, RGB.
UNIFORMS = (((30, 30, 32), (40, 42, 50)),  # black jacket, dark jeans
            ((28, 28, 28), (32, 32, 33)),  # black, black
            ((62, 62, 63), (36, 36, 38)),  # charcoal, black
            ((58, 50, 44), (44, 46, 54)),  # dark brown, dark jeans
            ((40, 42, 52), (80, 80, 82)),  # navy, grey
            ((78, 78, 79), (58, 58, 60)))  # dark grey, grey
# Nearly neutral on purpose: dark cloth seen through a real camera has little saturation left (the sample's
# dark coats read as grey), and saturation is what a colour histogram separates people by.


def _dark(rng: np.random.Generator) -> RGB:
    """A dark or grey garment colour: black, charcoal, navy, dark brown, mid grey."""
    hue = float(rng.choice([0.6, 0.08, 0.0, 0.3, 0.62]))  # navy, brown, neutral, olive, blue-grey
    return _hsv(hue + rng.normal(0, 0.03), float(rng.uniform(0.0, 0.35)), float(rng.uniform(0.08, 0.40)))


def _uniform(rng: np.random.Generator) -> tuple[RGB, RGB]:
    """Top and trousers from one of the ``UNIFORMS``, each colour moved by up to 6 grey levels."""
    top, trousers = UNIFORMS[int(rng.integers(len(UNIFORMS)))]
    return _nudge(top, rng, 6), _nudge(trousers, rng, 6)


def _bright(rng: np.random.Generator) -> RGB:
    """A garment that stands out: a saturated colour or a light beige/grey coat."""
    if rng.random() < 0.5:
        return _hsv(float(rng.random()), float(rng.uniform(0.5, 0.9)), float(rng.uniform(0.45, 0.85)))
    return _hsv(float(rng.uniform(0.05, 0.15)), float(rng.uniform(0.05, 0.3)), float(rng.uniform(0.6, 0.85)))


def dark_appearance(rng: np.random.Generator, coloured: bool = False) -> Appearance:
    """One pedestrian in winter clothing: dark plain top and trousers (or, when ``coloured``, one of the two
    bright), long sleeves, no shorts, dark shoes and bag, rarely a (dark) hat; hair, skin, bag kind and build as
    ``sample_appearance`` draws them."""
    base = sample_appearance(rng)
    shirt, trousers = _uniform(rng)
    if coloured:
        if rng.random() < 0.7:
            shirt = _bright(rng)
        else:
            trousers = _bright(rng)
    return replace(base, shirt=shirt, shirt2=shirt, shirt_pattern="plain", long_sleeves=True, trousers=trousers,
                   trousers2=trousers, trouser_pattern="plain", shorts=False, shoes=_dark(rng),
                   hat=_dark(rng) if rng.random() < 0.1 else None,
                   bag_color=_dark(rng))


def _nudge(colour: RGB, rng: np.random.Generator, by: int = NUDGE) -> RGB:
    c = np.clip(np.asarray(colour, float) + rng.integers(-by, by + 1, 3), 0, 255)
    return int(c[0]), int(c[1]), int(c[2])


def look_alike(app: Appearance, rng: np.random.Generator) -> Appearance:
    """Someone else dressed almost like ``app``: every colour within ``NUDGE`` grey levels, a little taller or
    shorter, the bag sometimes different; the same hair and skin tone family."""
    return replace(app, shirt=_nudge(app.shirt, rng), shirt2=_nudge(app.shirt2, rng),
                   trousers=_nudge(app.trousers, rng), trousers2=_nudge(app.trousers2, rng),
                   shoes=_nudge(app.shoes, rng), skin=_nudge(app.skin, rng), hair=_nudge(app.hair, rng),
                   bag=str(rng.choice(["none", "backpack", "shoulder", "hand"])) if rng.random() < 0.4 else app.bag,
                   stature=float(np.clip(app.stature + rng.normal(0, 0.03), 0.86, 1.0)),
                   build=float(np.clip(app.build + rng.normal(0, 0.01), 0.20, 0.29)))


def sample_crowd(n: int, rng: np.random.Generator) -> tuple[list[Appearance], list[bool]]:
    """``n`` appearances (person ``k`` is list index ``k - 1``) and, per person, whether it is the look-alike
    copy of the person before it. Pairs are (1, 2), (3, 4), ...: each pair is a look-alike pair with
    probability ``LOOK_ALIKE_SHARE``."""
    people: list[Appearance] = []
    copies: list[bool] = []
    for k in range(n):
        if k % 2 == 1 and rng.random() < LOOK_ALIKE_SHARE:
            people.append(look_alike(people[-1], rng))
            copies.append(True)
        else:
            people.append(dark_appearance(rng, coloured=bool(rng.random() > DARK_SHARE)))
            copies.append(False)
    return people, copies
