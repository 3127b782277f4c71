"""A synthetic multi-camera scene with ground truth: people walking through 2-3 camera views.

Each person (a distinct ``Appearance`` of ``reid.data.synthetic``) follows a route through 2 or more
cameras: walks across one camera's view (left to right or back, at a random depth; nearer is larger and
lower in the frame), leaves, and after a transit delay walks across the next camera's view. Every camera
has its own background (wall, floor, doors, clutter) and its own nuisance (``camera_profile``: gain, tone
curve, colour cast, blur, sensor noise), so matching across cameras needs colour constancy. People are
paired so that some walk past each other in opposite directions. Output, all on one clock (s)::

    OUT/scene.yaml        manifest (reid.video.manifest format): cameras, files, start times, transit windows
    OUT/<camera>.mp4      mp4v video, default 320x240 at 10 fps
    OUT/gt/<camera>.txt   MOTChallenge ground truth ``frame,id,x,y,w,h,1,-1,-1,-1`` (1-based frames,
                          global person ids 1..N, boxes clipped to the frame)

Everything is a function of the arguments (same seed, same frames and files).

This scene is easy: distinct clothing, people one at a time, no occlusion to speak of (cross-camera IDF1
0.96-0.99 with the hand-crafted descriptor). ``render_scene(..., hard=True)`` renders instead the hard scene of
``reid.data.scenes.forecourt`` (two adjacent views cut from one forecourt, dark look-alike clothing, pairs,
occlusion, border entries, per-camera colour response and resolution), made to score like real footage.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import yaml

from reid.data.scenes.forecourt import render_forecourt
from reid.data.scenes.types import Scene, Visit
from reid.data.synthetic import Appearance, camera_profile, render_person, sample_appearance

log = logging.getLogger(__name__)

HORIZON = 0.35  # wall/floor boundary, fraction of the frame height
CROSSING = (0.8, 1.0)  # walking speed, body heights per second (~1.3-1.7 m/s)
TRANSIT = (2.0, 6.0)  # seconds between leaving one view and entering the next
MIN_VISIBLE = 0.4  # a ground-truth box needs at least this fraction of its width inside the frame


def _height_px(feet: float, height: int, stature: float) -> float:
    """Body height in pixels of a person whose feet are at ``feet`` x frame height (flat-floor perspective)."""
    return stature * (feet - HORIZON) / (1.0 - HORIZON) * 0.75 * height


def _crossing_seconds(feet: float, speed: float, width: int, height: int, stature: float) -> float:
    """Time to walk from just outside one side of the view to just outside the other."""
    ph = _height_px(feet, height, stature)
    return (width + 0.5 * ph) / (speed * ph)


def _distinct_people(n: int, rng: np.random.Generator) -> list[Appearance]:
    """``n`` appearances whose shirt/trouser colours are not near-duplicates of each other's."""
    people: list[Appearance] = []
    for _ in range(50 * n):
        app = sample_appearance(rng)
        colours = np.array(app.shirt + app.trousers, float)
        if all(np.abs(colours - np.array(p.shirt + p.trousers, float)).max() > 40 for p in people):
            people.append(app)
        if len(people) == n:
            return people
    raise ValueError(f"could not draw {n} distinct people; ask for fewer")


def plan_visits(people: int, cameras: list[str], seconds: float, width: int, height: int,
                rng: np.random.Generator, statures: list[float]) -> list[Visit]:
    """Routes of all people: each crosses 2..len(cameras) views; odd people start in the view of the
    even person before them, walking the other way, so the two pass each other."""
    visits: list[Visit] = []
    for p in range(people):
        n = int(rng.integers(2, len(cameras) + 1))
        route = [str(c) for c in rng.permutation(cameras)]
        direction = [int(rng.choice([-1, 1])) for _ in range(n)]
        if p % 2 == 1:  # pass the previous person (id p, ids are 1-based) in their first view
            other = next(v for v in visits if v.person == p)
            route.remove(other.camera)
            route.insert(0, other.camera)
            direction[0] = -other.direction
        route = route[:n]
        feet = [float(rng.uniform(0.62, 0.95)) for _ in route]
        speed = [float(rng.uniform(*CROSSING)) for _ in route]
        gaps = [float(rng.uniform(*TRANSIT)) for _ in route]
        durations = [_crossing_seconds(f, s, width, height, statures[p]) for f, s in zip(feet, speed, strict=True)]
        while len(route) > 2 and sum(durations[: len(route)]) + sum(gaps[: len(route) - 1]) > 0.9 * seconds:
            route.pop()
        total = sum(durations[: len(route)]) + sum(gaps[: len(route) - 1])
        if total > seconds:
            raise ValueError(f"{seconds} s is too short for a person to cross two views (~{total:.0f} s)")
        if p % 2 == 1:
            start = min(other.t_enter + float(rng.uniform(0.0, 1.0)), seconds - total)
        else:
            start = float(rng.uniform(0.0, seconds - total))
        t = start
        for k, cam in enumerate(route):
            visits.append(Visit(p + 1, cam, t, direction[k], feet[k], speed[k]))
            t += durations[k] + gaps[k]
    return visits


def _background(camid: int, width: int, height: int) -> np.ndarray:
    """Static backdrop (H, W, 3) float32 RGB of camera ``camid``: wall with doors/windows, tiled floor."""
    cam = camera_profile(camid)
    rng = np.random.default_rng([4111, camid])
    horizon = int(HORIZON * height)
    img = np.empty((height, width, 3), np.float32)
    img[:horizon] = cam.wall
    img[horizon:] = cam.floor
    for _ in range(int(rng.integers(2, 5))):  # doors, windows, shelves on the wall
        w, h = int(rng.uniform(0.08, 0.2) * width), int(rng.uniform(0.3, 0.9) * horizon)
        x = int(rng.integers(0, width - w))
        shade = rng.uniform(0.55, 1.4) * np.array(cam.wall, np.float32) + rng.normal(0, 12, 3)
        img[horizon - h:horizon, x:x + w] = shade
    for k in range(1, 8):  # floor lines receding to the horizon
        y = horizon + int((height - horizon) * (k / 8) ** 1.6)
        img[y:y + 1] *= 0.8
    low = rng.normal(0.0, 12.0, (5, 7, 3)).astype(np.float32)  # low-frequency clutter and light falloff
    img += cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC)
    xs = (np.arange(width, dtype=np.float32) / width - 0.5)[None, :, None]
    img *= 1.0 - 0.35 * xs**2
    return img


def _camera_look(img: np.ndarray, camid: int, rng: np.random.Generator) -> np.ndarray:
    """Apply camera ``camid``'s tone curve, gain, colour cast, blur and sensor noise; RGB uint8."""
    cam = camera_profile(camid)
    img = 255.0 * np.power(np.clip(img, 0, 255) / 255.0, cam.gamma) * cam.gain * np.array(cam.cast, np.float32)
    if cam.blur > 0.5:
        img = cv2.GaussianBlur(img, (0, 0), cam.blur * 0.6)
    img += cam.noise * rng.standard_normal(img.shape, dtype=np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def render_scene(out: str | Path, people: int = 8, cameras: int | None = None, seconds: float = 30.0, seed: int = 0,
                 fps: float = 10.0, width: int = 320, height: int = 240, hard: bool = False) -> Scene:
    """Render the scene into folder ``out`` (created); returns the paths and the planned visits.

    ``cameras``: 3 when not given. ``hard=True``: the hard forecourt scene of
    ``reid.data.scenes.forecourt.render_forecourt`` instead (always two cameras, ``left`` / ``right``, each
    ``width`` x ``height``; its sample-like defaults are 30 people, 80 s, 5 fps, 384x576); returns the planned
    walks in ``Scene.walks`` and detector-like boxes in ``Scene.detections``.
    """
    if hard:
        if cameras not in (None, 2):
            raise ValueError(f"the hard scene has two cameras (left and right halves of one view); got {cameras}")
        return render_forecourt(out, people=people, seconds=seconds, seed=seed, fps=fps, width=width, height=height)
    cameras = 3 if cameras is None else cameras
    if not 2 <= cameras <= 8 or people < 1 or fps <= 0:
        raise ValueError(f"need 2..8 cameras, >= 1 person and fps > 0; got {cameras}, {people}, {fps}")
    out = Path(out)
    (out / "gt").mkdir(parents=True, exist_ok=True)
    names = [f"cam{k + 1}" for k in range(cameras)]
    rng = np.random.default_rng([seed, 0])
    apps = _distinct_people(people, rng)
    statures = [a.stature for a in apps]
    visits = plan_visits(people, names, seconds, width, height, rng, statures)
    frames = int(round(seconds * fps))
    videos, gts = {}, {}
    for camid, name in enumerate(names):
        videos[name], gts[name] = out / f"{name}.mp4", out / "gt" / f"{name}.txt"
        mine = [v for v in visits if v.camera == name]
        backdrop = _background(camid, width, height)
        writer = cv2.VideoWriter(str(videos[name]), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
        if not writer.isOpened():
            raise OSError(f"{videos[name]}: cannot open an mp4v video writer")
        lines = []
        for f in range(frames):
            t = f / fps
            img = backdrop.copy()
            for v in sorted(mine, key=lambda v: v.feet):  # far people first, near ones occlude them
                box = _draw(img, v, apps[v.person - 1], t, seed)
                if box is not None:
                    x1, y1, x2, y2 = box
                    lines.append(f"{f + 1},{v.person},{x1},{y1},{x2 - x1},{y2 - y1},1,-1,-1,-1\n")
            frame = _camera_look(img, camid, np.random.default_rng([seed, 1, camid, f]))
            writer.write(np.ascontiguousarray(frame[:, :, ::-1]))
        writer.release()
        gts[name].write_text("".join(lines))
    manifest = out / "scene.yaml"
    window = [0.0, float(TRANSIT[1] + 2.0)]  # a visible-to-visible gap also loses the half-visible frames
    doc = {"cameras": {n: {"files": [videos[n].name], "start_time": 0.0} for n in names},
           "transit": {f"{a}->{b}": list(window) for i, a in enumerate(names) for b in names[i + 1:]}}
    manifest.write_text(yaml.safe_dump(doc, sort_keys=False))
    log.info("scene of %d people in %d cameras (%d frames each) written to %s", people, cameras, frames, out)
    return Scene(manifest, videos, gts, tuple(visits))


def _draw(img: np.ndarray, v: Visit, app: Appearance, t: float, seed: int) -> tuple[int, int, int, int] | None:
    """Paste person ``v`` at time ``t`` into ``img`` (in place); returns the clipped xyxy box or None."""
    h_img, w_img = img.shape[:2]
    ph = _height_px(v.feet, h_img, app.stature)
    pw = 0.5 * ph
    walked = (t - v.t_enter) * v.speed * ph  # pixels
    if walked < 0 or walked > w_img + pw:
        return None
    cx = -pw / 2 + walked if v.direction > 0 else w_img + pw / 2 - walked
    x1, y2 = int(round(cx - pw / 2)), int(round(v.feet * h_img))
    hi, wi = int(round(ph)), int(round(pw))
    person, mask = render_person(app, hi, wi, np.random.default_rng([seed, 2, v.person]),
                                 phase=walked / (0.9 * ph))
    if v.direction < 0:
        person, mask = person[:, ::-1], mask[:, ::-1]
    y1 = y2 - hi
    cx1, cx2, cy1, cy2 = max(0, x1), min(w_img, x1 + wi), max(0, y1), min(h_img, y2)
    if cx2 - cx1 < MIN_VISIBLE * wi or cy2 <= cy1:
        return None
    sub_m = mask[cy1 - y1:cy2 - y1, cx1 - x1:cx2 - x1]
    region = img[cy1:cy2, cx1:cx2]
    region[sub_m] = person[cy1 - y1:cy2 - y1, cx1 - x1:cx2 - x1][sub_m]
    cols, rows = np.flatnonzero(sub_m.any(0)), np.flatnonzero(sub_m.any(1))
    if len(cols) == 0:
        return None
    return cx1 + int(cols[0]), cy1 + int(rows[0]), cx1 + int(cols[-1]) + 1, cy1 + int(rows[-1]) + 1  # tight box
