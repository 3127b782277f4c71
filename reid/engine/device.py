"""Device choice lives in ``reid.models.device`` (inference needs it without the trainer); the trainer's
modules import it from here under its old name."""

from reid.models.device import describe, resolve_device

__all__ = ["describe", "resolve_device"]
