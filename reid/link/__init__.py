"""Identities from tracklet rows (``reid.store.rows``), across cameras: the link threshold (``calibrate``),
learned exit/entry zones and transit times (``topology``) and the gate they make (``gating``), a camera's lost
tracks joined first (``stitch``), the Hungarian linker (``link``: ``link_tracklets``; its state ``linker``, its
rounds ``rounds``), a whole store linked at once (``database``: ``link_database``) and how right the links are
against a reference (``link_eval``).

Never imports ``reid.video`` (a contract in pyproject.toml): the video stage hands it rows, not frames.
"""

from reid.link.link import link_tracklets

__all__ = ["link_tracklets"]
