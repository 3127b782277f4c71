"""The simulated reviewer's answers from reference persons."""

from __future__ import annotations

from reid.link.review_oracle import answer, majority_person
from reid.link.review_queue import ReviewItem

PERSONS = {1: 7, 2: 7, 3: 8, 4: None, 5: 8, 6: None}


def link(tracklet, identity):
    return ReviewItem("link", identity, None, tracklet, None, 0.3, 0.9, 1, 0.2)


def merge(a, b):
    return ReviewItem("merge", a, b, 0, 0, 0.6, 0.3, 1, 0.6)


def test_majority_counts_tracklets_and_nobody_loses_ties():
    assert majority_person([1, 2, 3], PERSONS) == 7
    assert majority_person([4, 3], PERSONS) == 8  # a tie with nobody goes to the person
    assert majority_person([4, 6, 3], PERSONS) is None
    assert majority_person([], PERSONS) is None


def test_a_link_is_right_when_the_tracklet_is_the_rest_of_its_identity():
    members = {10: [1, 2, 3], 11: [4, 5]}
    assert answer(link(2, 10), members, PERSONS)
    assert not answer(link(3, 10), members, PERSONS)  # the odd one out
    assert not answer(link(4, 11), members, PERSONS)  # on nobody: never anybody's


def test_a_merge_is_right_when_both_majorities_are_one_person():
    members = {10: [1, 2], 11: [3, 5], 12: [2], 13: [4, 6]}
    assert answer(merge(10, 12), members, PERSONS)
    assert not answer(merge(10, 11), members, PERSONS)
    assert not answer(merge(13, 13), members, PERSONS)  # nobody is nobody's match
