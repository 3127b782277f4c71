"""Real-window check of the review app: ``reid review`` in a real X window (Xvfb), driven by xdotool keys,
each step checked in the database (issue 21, part 5).

On the known-answer site of ``tests/review_people.py`` (7 people on two cameras, threshold 0.5: two missed
links, suggested as merges, and one false link) it: goes to the work queue's top (Ctrl+N), accepts the
suggested merge (Y: the two views of person 1 join), skips the next suggestion (Ctrl+N), rejects the false
link (N: person 4's tracklet leaves person 3's identity, a cannot-link is stored and the relink writes the
re-formed identities into the same review_log entry), opens the vetoes (V) and the decision history (Ctrl+H), undoes the reject and then the merge (Ctrl+Z twice),
and takes a screenshot of the whole screen after every step. Exit 0 when every effect is in the database,
1 when one is missing (the line says which), 2 when Xvfb, xdotool or ImageMagick's ``import`` is missing.

    python tools/real_window_check.py [--shots DIR] [--timeout 20]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tools")]

import cv2  # noqa: E402
import numpy as np  # noqa: E402

TOOLS = ("Xvfb", "xdotool", "import")
SCREEN = "1400x900x24"
# Shirt and trousers colours (BGR) of the thumbnails and stand-in videos, one pair per person.
COLOURS = {
    0: ((40, 40, 200), (60, 60, 60)),
    1: ((200, 90, 40), (40, 40, 40)),
    2: ((40, 170, 40), (90, 70, 50)),
    3: ((30, 200, 220), (50, 50, 90)),
    4: ((50, 190, 230), (60, 40, 110)),  # person 4 looks like person 3 (the false link)
    5: ((180, 60, 160), (50, 50, 50)),
    6: ((200, 200, 200), (30, 30, 30)),
}


class CheckFailed(Exception):
    """An expected effect did not appear."""


def missing_tools() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


def person_jpeg(person: int) -> bytes:
    """A 48x128 crop: a figure in the person's colours on a grey background."""
    shirt, trousers = COLOURS[person]
    img = np.full((128, 48, 3), 150, np.uint8)
    cv2.circle(img, (24, 16), 10, (140, 170, 210), -1)
    img[28:72, 10:38] = shirt
    img[72:122, 12:36] = trousers
    img[72:122, 23:25] = 150
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def build_db(folder: Path) -> tuple[Path, dict[tuple[str, int], int]]:
    """The known-answer site, linked at its threshold, with real thumbnails and stand-in videos."""
    from gui_screenshots import render_videos
    from review_people import build_site, link_site

    from reid.store import Store

    db = folder / "site.db"
    with Store(db) as store:
        ids = build_site(store, folder / "gt")
        link_site(store)
        with store.conn:
            for (_, person), tid in ids.items():
                store.conn.execute(
                    "UPDATE thumbnails SET jpeg = ? WHERE tracklet_id = ?", (person_jpeg(person), tid)
                )
        render_videos(store, folder, {v.id for v in store.videos()})
    return db, ids


def expected_queue(db: Path) -> list[tuple]:
    from reid.link.review_queue import review_items
    from reid.store import Store

    with Store(db, readonly=True) as store:
        return [(i.kind, i.identity, i.other, i.tracklet) for i in review_items(store)]


class Db:
    """Read-only look at the database the window writes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def identity_of(self, tracklet: int) -> int | None:
        rows = self._rows("SELECT identity_id FROM identity_members WHERE tracklet_id = ?", (tracklet,))
        return rows[0][0] if rows else None

    def members(self, identity: int) -> set[int]:
        return {
            r[0]
            for r in self._rows("SELECT tracklet_id FROM identity_members WHERE identity_id = ?", (identity,))
        }

    def log(self) -> list[tuple[str, int]]:
        """``(action, undone)`` of every review_log entry, oldest first."""
        return [(a, u) for a, u in self._rows("SELECT action, undone FROM review_log ORDER BY id")]

    def last_payload(self) -> dict:
        rows = self._rows("SELECT payload FROM review_log ORDER BY id DESC LIMIT 1")
        return json.loads(rows[0][0]) if rows else {}

    def cannot_link(self, a: int, b: int) -> bool:
        sql = "SELECT 1 FROM cannot_link WHERE tracklet_a = ? AND tracklet_b = ?"
        return bool(self._rows(sql, (min(a, b), max(a, b))))


class Screen:
    """An Xvfb display, the app in it, keys by xdotool and screenshots by ImageMagick's ``import``."""

    def __init__(self, shots: Path, timeout: float) -> None:
        self.shots = shots
        self.timeout = timeout
        self.xvfb: subprocess.Popen | None = None
        self.app: subprocess.Popen | None = None
        self.env = dict(os.environ)
        self.window = ""
        self.n_shots = 0

    def start_display(self) -> None:
        read, write = os.pipe()
        self.xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", SCREEN, "-nolisten", "tcp"],
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as f:
            number = f.readline().strip()
        if not number:
            raise CheckFailed("Xvfb did not start")
        self.env.update(DISPLAY=f":{number}", QT_QPA_PLATFORM="xcb")
        self.env.pop("WAYLAND_DISPLAY", None)

    def start_app(self, db: Path, log: Path) -> None:
        self.env["XDG_CONFIG_HOME"] = str(db.parent / "config")  # recent files: not the user's settings
        cmd = [
            sys.executable,
            "-c",
            "import sys; from reid.cli import main; sys.exit(main())",
            "review",
            str(db),
        ]
        with open(log, "w") as out:
            self.app = subprocess.Popen(cmd, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        title = f"{db.name} — reid review"
        found = self._wait(lambda: self._search(title), f"a window named {title!r}", self.timeout * 3)
        self.window = found.split()[0]
        self.xdo("windowmove", self.window, "0", "0")
        self.xdo("windowfocus", "--sync", self.window)

    def _search(self, title: str) -> str:
        if self.app is not None and self.app.poll() is not None:
            raise CheckFailed(f"the app exited with code {self.app.returncode} before showing its window")
        out = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", title],
            env=self.env,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def xdo(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env=self.env, check=True, capture_output=True)

    def key_to(self, title: str, keys: str) -> None:
        """Focus the (first) window named ``title`` (a dialog of the app) and type ``keys`` there."""
        window = self._search(title).splitlines()[0]
        self.xdo("windowfocus", "--sync", window)
        self.xdo("key", "--clearmodifiers", keys)

    def key(self, keys: str) -> None:
        """Focus the window and type ``keys`` (xdotool syntax, e.g. ``ctrl+n``) through XTEST."""
        self.xdo("windowfocus", "--sync", self.window)
        self.xdo("key", "--clearmodifiers", keys)

    def shot(self, name: str) -> Path:
        self.n_shots += 1
        path = self.shots / f"{self.n_shots:02d}-{name}.png"
        subprocess.run(
            ["import", "-window", "root", str(path)], env=self.env, check=True, capture_output=True
        )
        return path

    def _wait(self, probe: Callable[[], object], what: str, timeout: float | None = None) -> object:
        end = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < end:
            value = probe()
            if value:
                return value
            time.sleep(0.2)
        raise CheckFailed(f"timed out waiting for {what}")

    def wait_for(self, probe: Callable[[], bool], what: str) -> None:
        self._wait(probe, what)

    def stop(self) -> None:
        for proc in (self.app, self.xvfb):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()


def run_check(screen: Screen, db: Path, ids: dict[tuple[str, int], int], pause: float) -> list[str]:
    """The sequence; returns what was seen, one line per step (raises CheckFailed when an effect is missing)."""
    d = Db(db)
    seen: list[str] = []
    p1a, p1b = ids["cam1", 1], ids["cam2", 1]  # the missed link, suggested as the first merge
    p3, p4 = ids["cam1", 3], ids["cam2", 4]  # the false link
    id_p1a, id_p1b, id_p3 = d.identity_of(p1a), d.identity_of(p1b), d.identity_of(p3)
    if id_p1a == id_p1b or d.identity_of(p4) != id_p3:
        raise CheckFailed(
            "the site is not as expected before review (missed link joined or false link absent)"
        )
    before_p3 = d.members(id_p3)

    def settle() -> None:
        time.sleep(pause)  # the view's queries, the relink in its worker thread and the queue's next item

    settle()
    screen.shot("opened")
    screen.key("ctrl+n")  # the queue's top: the suggested merge of person 1's two views
    settle()
    screen.shot("queue-top-suggested-merge")
    screen.key("y")
    screen.wait_for(lambda: d.identity_of(p1a) == d.identity_of(p1b), f"Y to join tracklets {p1a} and {p1b}")
    screen.wait_for(lambda: d.log() == [("merge", 0)], "one merge in review_log")
    seen.append(f"Y on the suggested merge: tracklets {p1a} and {p1b} in identity {d.identity_of(p1a)}")
    settle()
    screen.shot("merge-accepted")
    screen.key("ctrl+n")  # skip the second suggested merge: on to the false link
    settle()
    screen.shot("false-link-on-screen")
    screen.key("n")
    screen.wait_for(
        lambda: d.identity_of(p4) not in (None, id_p3), f"N to move tracklet {p4} out of identity {id_p3}"
    )
    screen.wait_for(
        lambda: [a for a, u in d.log() if not u] == ["merge", "reject"], "merge, reject in review_log"
    )
    screen.wait_for(lambda: d.cannot_link(p3, p4), f"a cannot-link between {p3} and {p4}")
    screen.wait_for(lambda: d.members(id_p3) == before_p3 - {p4}, f"identity {id_p3} re-formed without {p4}")
    seen.append(
        f"N on the false link: tracklet {p4} now in identity {d.identity_of(p4)} (members "
        f"{sorted(d.members(d.identity_of(p4) or -1))}), identity {id_p3} holds {sorted(d.members(id_p3))}, "
        f"cannot-link {p3}-{p4} stored"
    )
    settle()
    seen.append(f"reject's review_log entry after its relink: keys {sorted(d.last_payload())}")
    screen.shot("false-link-rejected")
    screen.key("ctrl+f")  # find the identity the false link left (the queue moved on to its next item)
    screen.xdo("type", "--delay", "60", str(id_p3))
    screen.key("Return")
    settle()
    screen.key("v")  # its vetoes: the reject's cannot-link is listed there
    screen.wait_for(
        lambda: bool(screen._search(f"Vetoes of identity #{id_p3}")), f"V to show identity {id_p3}'s vetoes"
    )
    settle()
    screen.shot("vetoes-dialog")
    screen.key_to("Vetoes of identity", "Escape")
    screen.wait_for(lambda: not screen._search("Vetoes of identity"), "Escape to close the vetoes")
    screen.key("ctrl+h")  # the decision history: merge and reject, either revertible alone
    screen.wait_for(lambda: bool(screen._search("Decision history")), "Ctrl+H to show the decision history")
    seen.append(f"V showed the vetoes of identity {id_p3}; Ctrl+H the decision history")
    settle()
    screen.shot("decision-history")
    screen.key_to("Decision history", "Escape")
    screen.wait_for(lambda: not screen._search("Decision history"), "Escape to close the history")
    settle()
    screen.key("ctrl+z")
    screen.wait_for(lambda: d.identity_of(p4) == id_p3, f"Ctrl+Z to put {p4} back into identity {id_p3}")
    screen.wait_for(lambda: not d.cannot_link(p3, p4), "Ctrl+Z to remove the cannot-link")
    screen.wait_for(lambda: d.log() == [("merge", 0), ("reject", 1)], "the reject marked undone")
    seen.append(f"Ctrl+Z: tracklet {p4} back in identity {id_p3}, cannot-link gone, reject marked undone")
    settle()
    screen.shot("reject-undone")
    screen.key("ctrl+z")
    screen.wait_for(lambda: d.identity_of(p1a) != d.identity_of(p1b), f"Ctrl+Z to part {p1a} and {p1b} again")
    screen.wait_for(lambda: d.log() == [("merge", 1), ("reject", 1)], "the merge marked undone")
    if (d.identity_of(p1a), d.identity_of(p1b)) != (id_p1a, id_p1b):
        raise CheckFailed("the second Ctrl+Z did not restore the identities before the merge")
    seen.append(f"Ctrl+Z again: tracklets {p1a} and {p1b} back in identities {id_p1a} and {id_p1b}")
    settle()
    screen.shot("merge-undone")
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=Path, help="folder for the screenshots (default: a temporary one)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for each effect")
    parser.add_argument("--pause", type=float, default=1.5, help="seconds to let the window settle per step")
    args = parser.parse_args(argv)
    if missing := missing_tools():
        print(
            f"real-window check: {', '.join(missing)} not on PATH (apt-get install xvfb xdotool imagemagick)",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="reid-real-window-") as tmp:
        folder = Path(tmp)
        shots = args.shots or Path(tempfile.mkdtemp(prefix="reid-real-window-shots-"))
        shots.mkdir(parents=True, exist_ok=True)
        db, ids = build_db(folder)
        queue = expected_queue(db)
        if [q[0] for q in queue[:3]] != ["merge", "merge", "link"] or queue[2][3] != ids["cam2", 4]:
            print(f"real-window check: the site's queue is not as expected: {queue}", file=sys.stderr)
            return 1
        screen = Screen(shots, args.timeout)
        app_log = shots / "app.log"
        try:
            screen.start_display()
            screen.start_app(db, app_log)
            seen = run_check(screen, db, ids, args.pause)
        except CheckFailed as exc:
            with contextlib.suppress(Exception):
                screen.shot("failed")
            print(f"real-window check FAILED: {exc} (screenshots and app log in {shots})", file=sys.stderr)
            print(app_log.read_text()[-2000:] if app_log.exists() else "", file=sys.stderr)
            return 1
        finally:
            screen.stop()
    for line in seen:
        print(line)
    print(f"real-window check passed: {screen.n_shots} screenshots in {shots}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
