"""Synthetic multi-camera scenes with ground truth, for tests, benchmarks and ``tools/make_synthetic_scene.py``:
``scene.render_scene`` (the easy scene, or the hard forecourt with ``hard=True``), ``forecourt`` (two views cut
from one forecourt), ``walks`` (where people walk), ``people`` (a crowd that is hard to tell apart),
``types`` (what a rendered scene is)."""

from reid.data.scenes.scene import render_scene
from reid.data.scenes.types import Scene

__all__ = ["Scene", "render_scene"]
