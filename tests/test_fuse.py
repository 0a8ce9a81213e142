"""Hybrid fusion by weighted z-scores (rag/fuse.py)."""
from __future__ import annotations

import statistics

import pytest

from rag.fuse import Fused, fuse, zscores

DENSE = {1: 0.9, 2: 0.5, 3: 0.1}
SPARSE = {2: 12.0, 3: 1.0, 4: 0.5}


def reference_z(scores: dict[int, float]) -> dict[int, float]:
    """The population z-score, written out independently of numpy."""
    mean, std = statistics.fmean(scores.values()), statistics.pstdev(scores.values())
    return {k: (v - mean) / std for k, v in scores.items()}


def test_zscores_fixed_answer():
    assert zscores({1: 3.0, 2: 1.0}) == {1: 1.0, 2: -1.0}
    z = zscores({7: 1.0, 8: 2.0, 9: 3.0})
    assert z[8] == pytest.approx(0.0)
    assert z[9] == pytest.approx(1.224744871, rel=1e-9)
    assert z[7] == pytest.approx(-1.224744871, rel=1e-9)


def test_zscores_match_reference_and_are_standardized():
    z = zscores(SPARSE)
    assert z == pytest.approx(reference_z(SPARSE))
    assert statistics.fmean(z.values()) == pytest.approx(0.0, abs=1e-12)
    assert statistics.pstdev(z.values()) == pytest.approx(1.0)


def test_zscores_flat_single_and_empty():
    assert zscores({1: 5.0, 2: 5.0}) == {1: 0.0, 2: 0.0}
    assert zscores({3: 0.7}) == {3: 0.0}
    assert zscores({}) == {}


def test_fuse_scores_are_weighted_zscores_with_floors():
    w = 0.3
    dz, sz = reference_z(DENSE), reference_z(SPARSE)
    d_floor, s_floor = min(dz.values()), min(sz.values())
    got = {f.id: f.score for f in fuse(DENSE, SPARSE, w)}
    expected = {i: w * dz.get(i, d_floor) + (1 - w) * sz.get(i, s_floor) for i in (1, 2, 3, 4)}
    assert got == pytest.approx(expected)


def test_fuse_order_fixed_answer():
    fused = fuse(DENSE, SPARSE, 0.5)
    assert [f.id for f in fused] == [2, 1, 3, 4]
    assert all(isinstance(f, Fused) for f in fused)
    scores = [f.score for f in fused]
    assert scores == sorted(scores, reverse=True)


def test_fuse_carries_ranks_from_each_list():
    by_id = {f.id: f for f in fuse(DENSE, SPARSE, 0.4)}
    assert {i: (f.dense_rank, f.sparse_rank) for i, f in by_id.items()} == {
        1: (1, None),
        2: (2, 1),
        3: (3, 2),
        4: (None, 3),
    }


def test_missing_doc_gets_the_lists_floor_not_zero():
    # doc 4 is only in SPARSE: its dense part is the lowest dense z-score (doc 3's), not 0
    by_id = {f.id: f.score for f in fuse(DENSE, SPARSE, 1.0)}
    assert by_id[4] == pytest.approx(by_id[3])
    assert by_id[4] == pytest.approx(min(reference_z(DENSE).values()))


def test_dense_weight_extremes():
    # weight 1: dense order only; doc 4 ties doc 3 on the floor and the lower id wins
    assert [f.id for f in fuse(DENSE, SPARSE, 1.0)] == [1, 2, 3, 4]
    # weight 0: BM25 order only; doc 1 ties doc 4 on the floor
    assert [f.id for f in fuse(DENSE, SPARSE, 0.0)] == [2, 3, 1, 4]


def test_weight_moves_a_dense_favourite_up():
    dense = {10: 0.95, 11: 0.30, 12: 0.28}
    sparse = {10: 1.0, 11: 9.0, 12: 8.5}
    assert fuse(dense, sparse, 0.2)[0].id == 11
    assert fuse(dense, sparse, 0.8)[0].id == 10


def test_empty_lists():
    assert fuse({}, {}, 0.4) == []
    only_dense = fuse(DENSE, {}, 0.4)
    assert [f.id for f in only_dense] == [1, 2, 3]
    assert all(f.sparse_rank is None for f in only_dense)
    assert only_dense[0].score == pytest.approx(0.4 * reference_z(DENSE)[1])
    only_sparse = fuse({}, SPARSE, 0.4)
    assert [(f.id, f.sparse_rank, f.dense_rank) for f in only_sparse] == [(2, 1, None), (3, 2, None), (4, 3, None)]


def test_each_id_appears_once():
    fused = fuse({1: 0.5, 2: 0.4}, {1: 3.0, 2: 4.0}, 0.5)
    assert sorted(f.id for f in fused) == [1, 2]
