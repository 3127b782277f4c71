"""Cross-camera identity: tracklet rows of every camera -> identities (calibration, topology, stitching,
the Hungarian linker, link evaluation). Never imports ``reid.video``: the video stage hands it store rows."""

from reid.link.link import link_tracklets

__all__ = ["link_tracklets"]
