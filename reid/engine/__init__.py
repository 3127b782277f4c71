"""Training and evaluation machinery: device choice, LR schedule, checkpoints, trainer, feature extraction.

Submodules are imported by name (``from reid.engine.trainer import train``) so that loading a checkpoint
(``reid.engine.checkpoint.load_embedder``) does not pull in the data and loss packages.
"""
