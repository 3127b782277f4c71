"""A tracklet's best crops become the store's JPEG thumbnails in the video stage (``Tracklet.record``)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from reid.store import TrackletRecord
from reid.video.thumbnails import THUMB_MAX_HEIGHT, encode_thumbnail
from reid.video.types import Crop, Tracklet


def tracklet(crops: list[Crop]) -> Tracklet:
    frames = np.arange(4)
    return Tracklet("cam1", "a.mp4", 7, frames, frames / 10.0, np.tile([10, 20, 50, 120], (4, 1)).astype(np.float32),
                    np.full(4, 0.8, np.float32), crops, embedding=np.array([0.6, 0.8], np.float32))


def test_record_encodes_crops_best_first_at_most_128_rows():
    crops = [Crop(frame=k, image=np.full((200, 80, 3), 40 * (k + 1), np.uint8), quality=float(k)) for k in range(3)]
    record = tracklet(crops).record()
    assert isinstance(record, TrackletRecord)
    assert (record.track_id, record.quality) == (7, 2.0)
    assert [f for f, _ in record.thumbnails] == [2, 1, 0]
    img = cv2.imdecode(np.frombuffer(record.thumbnails[0][1], np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (THUMB_MAX_HEIGHT, 51, 3)  # 200x80 scaled to height 128
    assert abs(int(img.mean()) - 120) <= 2  # crop 2 is solid 120
    np.testing.assert_array_equal(record.embedding, np.array([0.6, 0.8], np.float32))


def test_small_crops_keep_their_size_and_no_crops_give_no_thumbnails():
    img = cv2.imdecode(np.frombuffer(encode_thumbnail(np.zeros((40, 20, 3), np.uint8)), np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (40, 20, 3)
    record = tracklet([]).record()
    assert record.thumbnails == () and record.quality == 0.0


def test_a_crop_that_cannot_be_encoded_names_the_tracklet():
    with pytest.raises(ValueError, match="a.mp4: tracklet 7: crop must be"):
        tracklet([Crop(frame=0, image=np.zeros((0, 5, 3), np.uint8), quality=1.0)]).record()
