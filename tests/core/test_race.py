"""Optimizers racing from one start, and the critical learning rate of the MSE surface."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.cli import main
from core.config import RunConfig
from core.data import load_series, window
from core.engine import Trainer
from core.race import Race, Racer, critical_lr, racer_config


def _one_day(name: str):
    return window(load_series(name), 1, None)


@pytest.mark.parametrize("dataset", ["channel", "wikipedia", "births"])
def test_gradient_descent_converges_below_the_critical_rate_and_diverges_above(dataset):
    data = _one_day(dataset)
    crit = critical_lr(data)
    base = RunConfig(dataset=dataset, loss="mse", optimizer="gd", limit_updates=4000)
    below = Trainer(base.replace(lr=0.95 * crit), data)
    below.run(4000)
    above = Trainer(base.replace(lr=1.05 * crit), data)
    above.run(4000)
    assert above.diverged
    assert not below.diverged
    # Below the bound the top direction contracts by |1 - 0.95 * 2| = 0.9 per update:
    # after 4,000 updates the loss sits at its least-squares minimum.
    x = np.hstack([data.x_train.reshape(-1, 1), np.ones((len(data.y_train), 1))])
    coef, *_ = np.linalg.lstsq(x, data.y_train.reshape(-1), rcond=None)
    best = float(np.mean((x @ coef - data.y_train.reshape(-1)) ** 2)) * data.scale ** 2
    assert below.train_loss() <= best * 1.01


def test_the_critical_rate_is_two_over_the_hessians_largest_eigenvalue():
    data = _one_day("channel")
    x = data.x_train.reshape(-1)
    h = 2.0 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    assert critical_lr(data) == pytest.approx(2.0 / np.linalg.eigvalsh(h).max(), rel=1e-12)


def test_each_racer_moves_exactly_as_the_same_run_alone():
    data = _one_day("channel")
    base = RunConfig(loss="mae", init=(0.2, 1.5), limit_updates=300)
    racers = [Racer("gd", 0.05), Racer("momentum", 0.02), Racer("nesterov", 0.02),
              Racer("adam", 0.05)]
    race = Race(base, racers, data)
    while not race.done:
        race.run(64)
    for racer, trainer in zip(racers, race.trainers, strict=True):
        alone = Trainer(base.replace(optimizer=racer.optimizer, lr=racer.lr), data)
        alone.run(300)
        assert trainer.update == alone.update == 300
        np.testing.assert_array_equal(trainer.params()["w"], alone.params()["w"])
        np.testing.assert_array_equal(trainer.params()["b"], alone.params()["b"])
    ends = {tuple(np.round(t.snapshot(extras=False).path[-1], 6)) for t in race.trainers}
    assert len(ends) == len(racers)   # different optimizers, different places


def test_a_diverging_racer_stops_alone_and_the_others_go_on():
    data = _one_day("channel")
    crit = critical_lr(data)
    base = RunConfig(loss="mse", init=(0.2, 1.5), limit_updates=2000)
    race = Race(base, [Racer("gd", 3.0 * crit), Racer("gd", 0.5 * crit),
                       Racer("adam", 0.05)], data)
    while not race.done:
        race.run(100)
    wild, calm, adam = race.trainers
    assert wild.diverged and wild.update < 2000
    assert not calm.diverged and calm.update == 2000
    assert not adam.diverged and adam.update == 2000


def test_a_racers_learning_rate_changes_at_its_next_update():
    data = _one_day("channel")
    race = Race(RunConfig(loss="mse", limit_updates=100), [Racer("gd", 0.01),
                                                           Racer("gd", 0.01)], data)
    race.run(10)
    race.set_lr(0, 0.02)
    assert race.trainers[0].config.lr == 0.02 and race.trainers[1].config.lr == 0.01
    assert race.trainers[0].update == 10   # no reset


def test_fnlab_race_prints_one_object_per_racer(capsys):
    rc = main(["race", "--optimizers", "gd,momentum,adam", "--lr", "0.05,0.05,0.003",
               "--updates", "150", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["optimizer"] for r in out] == ["gd", "momentum", "adam"]
    train_keys = {"train_loss", "unseen_loss", "params", "updates", "epochs", "seconds",
                  "diverged"}
    for r in out:
        assert train_keys <= r.keys()
        assert r["updates"] == 150
        assert np.asarray(r["path"]).shape[1] == 2
        assert len(r["path"]) >= 150   # every update of a short run is recorded
    # The racers share their start: the first path point is the same for all.
    assert len({tuple(r["path"][0]) for r in out}) == 1


def test_fnlab_race_numbers_equal_fnlab_train(capsys):
    assert main(["race", "--optimizers", "gd,adam", "--lr", "0.05,0.003", "--updates",
                 "120", "--json"]) == 0
    race = json.loads(capsys.readouterr().out)
    for racer in race:
        assert main(["train", "--optimizer", racer["optimizer"], "--lr",
                     str(racer["config"]["lr"]), "--updates", "120", "--json"]) == 0
        alone = json.loads(capsys.readouterr().out)
        assert alone["params"] == racer["params"]
        assert alone["train_loss"] == racer["train_loss"]


@pytest.mark.parametrize("argv,needle", [
    (["race", "--optimizers", "gd"], "2 to 6"),
    (["race", "--optimizers", "gd,sgdx"], "unknown optimizer"),
    (["race", "--optimizers", "gd,adam", "--lr", "0.1"], "one value per optimizer"),
    (["race", "--optimizers", "gd,adam", "--lr", "0.1,-1"], "learning rate"),
])
def test_bad_race_input_is_one_line(argv, needle, capsys):
    assert main(argv) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err


def test_the_timeline_keeps_every_early_update_and_thins_the_rest():
    from core.race import FULL_UPDATES, LATE_POINTS

    data = _one_day("channel")
    race = Race(RunConfig(loss="mae", init=(0.2, 1.5), limit_updates=30_000),
                [Racer("gd", 0.01), Racer("adam", 0.01)], data)
    alone = Trainer(RunConfig(loss="mae", init=(0.2, 1.5), optimizer="gd", lr=0.01,
                              limit_updates=30_000), data)
    seen: dict[int, tuple[float, float]] = {}

    def keep(start: int, traj: np.ndarray) -> None:
        for i, (a, b) in enumerate(traj):
            seen[start + i + 1] = (float(a), float(b))

    alone.on_chunk = keep
    while not race.done:
        race.run(777)
    alone.run(30_000)
    line = race.timelines[0]
    assert line.updates[: FULL_UPDATES + 1] == list(range(FULL_UPDATES + 1))
    assert len(line) <= FULL_UPDATES + 1 + LATE_POINTS
    assert line.last_update == 30_000
    # Every recorded moment is exactly where the run was at that update.
    for k in (1, 2, 17, 2048, line.updates[-50], 30_000):
        u, a, b = line.at(k)
        assert u == k
        assert (a, b) == seen[k]
    # Between recorded moments, at() answers the newest one before.
    late = [u for u in line.updates if u > FULL_UPDATES]
    gap = late[1] - late[0]
    assert gap > 1 and line.at(late[0] + gap - 1)[0] == late[0]
    assert np.array_equal(line.path()[-1], seen[30_000])


def test_a_new_start_starts_new_timelines():
    data = _one_day("channel")
    race = Race(RunConfig(loss="mse", limit_updates=100), [Racer("gd", 0.01),
                                                           Racer("momentum", 0.01)], data)
    race.run(50)
    race.set_start(0.5, 2.0)
    for line in race.timelines:
        assert line.updates == [0] and line.points == [(0.5, 2.0)]


def test_a_racers_settings_say_where_it_started_and_retrace_it_alone():
    """What the run gallery keeps of a racer: the shared settings with its optimizer,
    rate and momentum, and the clicked start as its init, so the same run alone (as
    `fnlab train` trains it) lands on the very same parameters."""
    data = _one_day("channel")
    base = RunConfig(loss="mae", limit_updates=80)
    start = (0.35, 1.25)
    race = Race(base, [Racer("gd", 0.05), Racer("momentum", 0.02, 0.8)], data, start)
    while not race.done:
        race.run(32)
    for trainer, racer in zip(race.trainers, race.racers, strict=True):
        cfg = trainer.config
        assert cfg == racer_config(base, racer, start)
        assert (cfg.optimizer, cfg.lr, cfg.momentum, cfg.init) == \
            (racer.optimizer, racer.lr, racer.momentum, start)
        assert trainer.timeline().path[0].tolist() == list(start)
        alone = Trainer(cfg, data)
        alone.run(80)
        for k in ("w", "b"):
            assert alone.params()[k].tobytes() == trainer.params()[k].tobytes()
    # on a network the start moves only the tracked pair: no init can say that
    net = RunConfig(model="relu", days=7)
    assert racer_config(net, Racer("adam", 0.01), start).init is None


def test_each_racer_is_timed_for_its_own_updates_not_the_kernels_first_load(monkeypatch):
    """The first racer of a race read ~0.3-0.7 s and the others 0.0: it was charged the
    process's first load of the compiled full-batch MAE kernel. A clock that jumps 100 s
    inside that first load: no racer's seconds may contain the jump."""
    import core.engine
    from core import linear_kernels as kernels

    now = [0.0]
    real_run = kernels.run

    def first_load_jumps(*args):           # the kernel's first call is its load
        if not loaded:
            loaded.append(True)
            now[0] += 100.0
        return real_run(*args)

    class Clock:
        @staticmethod
        def perf_counter() -> float:
            now[0] += 1e-6                   # an update's worth of time per reading
            return now[0]

    loaded: list[bool] = []
    monkeypatch.setattr(kernels, "_warmed", set())     # as in a fresh process
    monkeypatch.setattr(kernels, "run", first_load_jumps)
    monkeypatch.setattr(core.engine, "time", Clock)
    base = RunConfig(dataset="channel", loss="mae", limit_updates=40)
    race = Race(base, [Racer("gd", 0.01), Racer("momentum", 0.01), Racer("adam", 0.01)],
                start=(0.2, 2.0))
    race.run(40)
    assert loaded, "the kernel was loaded"
    seconds = [t.snapshot().seconds for t in race.trainers]
    assert all(0 < s < 1.0 for s in seconds), seconds
