"""One update explained at a replayed moment: the exact gradient at the recorded (w, b),
the step the run took next, and in words what is not known."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core.config import RunConfig
from core.engine import Trainer
from core.surface import linear_gradient


def _trainer(optimizer: str, lr: float, loss: str = "mae") -> Trainer:
    return Trainer(RunConfig(dataset="channel", days=1, model="linear", loss=loss,
                             optimizer=optimizer, lr=lr, init=(0.0, 0.0)))


def _at(t: Trainer, k: int) -> np.ndarray:
    u, row = t.timeline().params_at(k)
    assert u == k
    return np.array([float(row["w"][0]), float(row["b"])])


@pytest.mark.parametrize("loss", ["mae", "mse"])
def test_a_replayed_moment_explains_its_update_with_the_recorded_numbers(loss):
    t = _trainer("momentum", 0.02 if loss == "mae" else 0.01, loss)
    t.run(120)
    k = 37
    e = t.snapshot_at(k).explained
    p_prev, p, p_next = _at(t, k - 1), _at(t, k), _at(t, k + 1)
    x, y = t.data.x_train[:, 0], t.data.y_train
    assert (e.update, e.w, e.b) == (k, p[0], p[1])
    assert e.grad == linear_gradient(x, y, p[0], p[1], loss)     # exactly
    assert e.taken == (p_next[0] - p[0], p_next[1] - p[1])
    # momentum's part of the step is mu times the step before it: its velocity
    np.testing.assert_allclose(e.extra, 0.9 * (p - p_prev), rtol=1e-6, atol=1e-12)
    assert e.note == ""
    snap = t.snapshot_at(k)
    assert float(snap.grad["w"][0]) == e.grad[0] and float(snap.step["b"]) == e.taken[1]


def test_plain_gd_steps_by_minus_eta_times_the_gradient():
    t = _trainer("gd", 0.05)
    t.run(60)
    e = t.snapshot_at(20).explained
    assert e.extra is None
    np.testing.assert_allclose(e.taken, e.gradient_step, rtol=1e-9, atol=1e-15)


def test_a_moments_eta_is_the_one_it_trained_with_after_a_live_change():
    t = _trainer("gd", 0.05)
    t.run(50)
    t.apply(t.config.replace(lr=0.01))
    t.run(50)
    assert t.snapshot_at(30).explained.lr == 0.05
    assert t.snapshot_at(70).explained.lr == 0.01
    np.testing.assert_allclose(t.snapshot_at(70).explained.taken,
                               t.snapshot_at(70).explained.gradient_step, rtol=1e-9)


def test_where_the_next_update_is_not_recorded_only_the_gradient_step_is_shown():
    t = _trainer("adam", 0.05)
    t.run(6000)
    moments = t.timeline().moments()
    k = int(next(u for u, v in itertools.pairwise(moments) if v != u + 1))
    e = t.snapshot_at(k).explained
    assert e.taken is None and e.extra is None
    assert "only plain −η∇L" in e.note and f"{k + 1:,} is not recorded" in e.note
    assert t.snapshot_at(k).step == {}


def test_a_network_moment_has_no_explanation():
    t = Trainer(RunConfig(dataset="channel", days=1, model="relu", units=3, layers=1))
    t.run(5)
    assert t.snapshot_at(2).explained is None
