"""Where people walk on one flat forecourt seen obliquely from a first-floor window, and how it projects.

``Ground`` is the pinhole view of a flat ground plane by one wide camera (``width`` x ``height`` pixels, later
cut into two adjacent views). Ground coordinates are metres: ``X`` across the view (0 at the centre line, the
cut), ``Y`` away from the camera (0 where feet touch 98 % of the frame height). The view is fixed so that a
1.7 m person is 56 px tall with feet at 30 % of a 576-px frame and 140 px tall at 98 %, as in the shipped
sample (``examples/``, OpenCV's vtest.avi); everything scales with ``height``.

``plan_walks`` gives each person a ``Walk``: a polyline that starts and ends outside the view (left, right
or bottom border of the wide view, or a door at the back), walked at 0.9-1.5 m/s. Nearly half walk across
(left to right or back), so they cross the cut between the two cameras; the others turn in or out through the
bottom border or the door, mostly in the right half. Some
walk side by side with the person before them (a pair, 0.6-0.8 m apart, same pace); some retrace an earlier
person's route the other way, timed to meet them half way, so they pass (and occlude) each other; some stand
still half way for a while (a pair stands together).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FAR_ROW, NEAR_ROW = 0.30, 0.98  # feet rows (fraction of the frame height) of the far and near edge of the ground
PERSON_PX = (56.0, 140.0)  # height in px of a 1.7 m person at those rows in a 576-px frame (the sample)
NEAR_DISTANCE = 10.0  # m from the camera to the near edge; with the above, the camera is ~8 m up
SPEED = (0.9, 1.5)  # walking speed, m/s (pedestrian studies: 1.2-1.5 m/s walking, ~1 m/s strolling)
BAND = (6.0, 13.0)  # depth (m) of the paved path most people walk along (feet at 56-76 % of the height)
PAIR_SHARE = 0.35  # share of people who walk beside the person before them
MEET_SHARE = 0.3  # share of the others who retrace an earlier route the other way and meet its walker
STRIDE = 1.4  # m per walking cycle (two steps)
STOP_SHARE = 0.5  # share of (leading) walkers who stand still for a while half way (chatting, waiting)
STOP = (5.0, 30.0)  # how long they stand, s
# With 30 people in 80 s these give ~6 people in view per frame, as the sample's reference has (2.2 left, 4.1
# right; 45 reference ids, 34 people matched by tracklets).


@dataclass(frozen=True)
class Ground:
    """The wide view: ``width`` x ``height`` pixels (both cameras side by side)."""

    width: int
    height: int

    @property
    def _k(self) -> float:
        return self.height / 576.0

    @property
    def camera_height(self) -> float:
        """Metres; the same for every frame size (~8.0)."""
        return (NEAR_ROW - FAR_ROW) * 576.0 / ((PERSON_PX[1] - PERSON_PX[0]) / 1.7)

    @property
    def far(self) -> float:
        """Depth (m) of the far edge of the ground (feet at ``FAR_ROW``)."""
        return PERSON_PX[1] / PERSON_PX[0] * NEAR_DISTANCE - NEAR_DISTANCE

    def scale(self, y: float) -> float:
        """Pixels per metre at depth ``y`` (m)."""
        return PERSON_PX[1] / 1.7 * self._k * NEAR_DISTANCE / (NEAR_DISTANCE + y)

    def project(self, x: float, y: float) -> tuple[float, float, float]:
        """Ground point (m) -> image feet point ``(u, v)`` (px) and the scale there (px per m)."""
        s = self.scale(y)
        horizon = NEAR_ROW * self.height - self.camera_height * self.scale(0.0)
        return self.width / 2 + x * s, horizon + self.camera_height * s, s

    def half_width(self, y: float) -> float:
        """Half the ground width (m) inside the view at depth ``y``."""
        return self.width / 2 / self.scale(y)


@dataclass(frozen=True)
class Walk:
    """Person ``person`` (1-based) walks the polyline ``points`` (ground metres) at ``speed`` m/s from time
    ``t_start`` (s), standing still for ``stop_for`` s after ``stop_at`` m; ``companion`` is the person they
    walk beside, 0 for none."""

    person: int
    t_start: float
    points: tuple[tuple[float, float], ...]
    speed: float
    companion: int = 0
    stop_at: float = 0.0
    stop_for: float = 0.0

    @property
    def length(self) -> float:
        p = np.asarray(self.points)
        return float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum())

    @property
    def duration(self) -> float:
        return self.length / self.speed + self.stop_for

    def at(self, t: float) -> tuple[float, float, float] | None:
        """Ground position ``(x, y)`` at time ``t`` and the distance walked (m); None before the start or
        after the end."""
        d = (t - self.t_start) * self.speed
        if d < 0:
            return None
        if d > self.stop_at:
            d = max(self.stop_at, d - self.stop_for * self.speed)
        walked = d
        p = np.asarray(self.points)
        seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
        for a, b, n in zip(p[:-1], p[1:], seg, strict=True):
            if d <= n:
                q = a + (b - a) * (d / max(n, 1e-9))
                return float(q[0]), float(q[1]), walked
            d -= n
        return None


def _border_point(side: str, ground: Ground, rng: np.random.Generator) -> tuple[float, float]:
    """A point just outside the view on ``side`` (left | right | near), or a door at the back (far)."""
    if side == "near":  # the sample's near left is a grass bank: most come and go on the right
        return float(rng.uniform(-0.3, 0.9) * ground.half_width(0.0)), -3.0
    if side == "far":
        return float(rng.uniform(-0.2, 0.8) * ground.half_width(ground.far)), ground.far + 2.0
    lo, hi = BAND if rng.random() < 0.7 else (0.0, ground.far)
    y = float(rng.uniform(lo, hi))
    x = ground.half_width(y) + 1.0
    return (-x if side == "left" else x), y


def _route(ground: Ground, rng: np.random.Generator) -> tuple[tuple[float, float], ...]:
    """Entry, a bend, exit. Across (left <-> right, through the cut) 45 % of the time; else between a side
    and the bottom border or the door at the back (35 %, the right side 3 times in 4) or between the bottom
    and the door (20 %). As on the sample, the right half is the busier one."""
    r = rng.random()
    if r < 0.45:
        sides = ["left", "right"]
    elif r < 0.8:
        sides = ["right" if rng.random() < 0.75 else "left", "near" if rng.random() < 0.5 else "far"]
    else:
        sides = ["near", "far"]
    if rng.random() < 0.5:
        sides.reverse()
    a, b = (np.asarray(_border_point(s, ground, rng)) for s in sides)
    mid = (a + b) / 2 + rng.normal(0.0, 1.0, 2)
    mid[1] = float(np.clip(mid[1], 0.5, ground.far - 0.5))
    return tuple((float(p[0]), float(p[1])) for p in (a, mid, b))


def _beside(points: tuple[tuple[float, float], ...], offset: float) -> tuple[tuple[float, float], ...]:
    """The polyline shifted sideways by ``offset`` m (perpendicular to the overall direction)."""
    p = np.asarray(points)
    d = p[-1] - p[0]
    normal = np.array([-d[1], d[0]]) / max(float(np.linalg.norm(d)), 1e-9)
    return tuple((float(q[0]), float(q[1])) for q in p + offset * normal)


def plan_walks(people: int, seconds: float, ground: Ground, rng: np.random.Generator) -> list[Walk]:
    """Walks of persons 1..``people``, each seen during [0, ``seconds``) (the middle of every walk falls in
    that window)."""
    walks: list[Walk] = []
    for k in range(1, people + 1):
        prev = walks[-1] if walks else None
        if prev is not None and prev.companion == 0 and rng.random() < PAIR_SHARE:
            side = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.6, 0.8))
            walks.append(Walk(k, prev.t_start + float(rng.normal(0, 0.3)), _beside(prev.points, side), prev.speed,
                              companion=prev.person, stop_at=prev.stop_at, stop_for=prev.stop_for))
            continue
        speed = float(rng.uniform(*SPEED))
        if walks and rng.random() < MEET_SHARE:  # retrace someone's route the other way and meet them
            other = walks[int(rng.integers(len(walks)))]
            points = _beside(other.points[::-1], float(rng.normal(0.0, 0.4)))
            meet = other.t_start + other.duration / 2
            walk = Walk(k, 0.0, points, speed)
            t_start = meet - walk.duration / 2 + float(rng.normal(0.0, 1.0))
        else:
            walk = Walk(k, 0.0, _route(ground, rng), speed)
            if rng.random() < STOP_SHARE:
                walk = Walk(k, 0.0, walk.points, speed, stop_at=0.5 * walk.length, stop_for=float(rng.uniform(*STOP)))
            t_start = float(rng.uniform(-0.4 * walk.duration, seconds - 0.6 * walk.duration))
        t_start = float(np.clip(t_start, -0.5 * walk.duration, seconds - 0.5 * walk.duration))
        walks.append(Walk(k, t_start, walk.points, speed, stop_at=walk.stop_at, stop_for=walk.stop_for))
    return walks
