"""The desktop review app (PySide6) over ``reid.store``: ``reid review DB`` or ``python -m gui.app DB``.

See docs/gui.md. ``reid`` never imports this package (tests/test_layering.py).
"""
