"""Multi-camera person re-identification: training, video processing, identity store."""

__version__ = "0.1.0"
