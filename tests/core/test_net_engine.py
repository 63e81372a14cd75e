"""The network update's two matrix-product paths (oneDNN, torch.mm) against autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core import net_engine
from core.config import RunConfig
from core.models import init_params
from core.net_engine import NetCore


def _core(model: str, units: int, layers: int, loss: str, rows: int = 300) -> NetCore:
    rng = np.random.default_rng(3)
    x = rng.random((rows, 6))
    y = x @ rng.standard_normal(6) + 0.1 * rng.standard_normal(rows)
    config = RunConfig(days=6, model=model, units=units, layers=layers)
    params = init_params(config, 6, np.random.default_rng(0), x.mean(axis=0), float(y.mean()))
    return NetCore(model, params, x, y, x[:0], y[:0], loss, "adam", 1e-2, 0.9, None, 0)


_ACT = {"sigmoid": torch.sigmoid, "relu": torch.relu,
        "hard-sigmoid": torch.nn.functional.hardsigmoid}


def _autograd_forward(core: NetCore) -> torch.Tensor:
    """The network as torch's reference writes it (addmm, the activation), with a graph."""
    t, h = core.tensors, core.x
    for layer in range(core.layers):
        h = _ACT[core.model](torch.addmm(t[2 * layer + 1], h, t[2 * layer].t()))
    return torch.addmv(t[-1], h, t[-2])


def _autograd(core: NetCore) -> tuple[float, list[np.ndarray]]:
    for t in core.tensors:
        t.grad = None
    loss = core._loss_of(_autograd_forward(core), core.y)
    loss.backward()
    return float(loss.detach()), [t.grad.detach().double().numpy() for t in core.tensors]


@pytest.mark.parametrize("onednn", [True, False])
@pytest.mark.parametrize("model", ["relu", "sigmoid", "hard-sigmoid"])
@pytest.mark.parametrize("shape", [(5, 1, "mae"), (40, 3, "mae"), (4, 2, "mse"),
                                   (30, 1, "mae"), (100, 1, "mse"), (600, 1, "mae"),
                                   (600, 1, "mse"), (600, 2, "mse")])
@pytest.mark.parametrize("rows", [300, 700])
def test_hand_written_gradients_equal_autograd(monkeypatch: pytest.MonkeyPatch, onednn: bool,
                                                model: str, shape: tuple[int, int, str],
                                                rows: int) -> None:
    """Every product path: oneDNN takes full batches of 512 rows or more into skinny
    layers (here 4 and 5 units) and wide ones (600), and the weight gradients of 512 units
    or more; `linear` the rest (40 and 100 units, every 300-row batch). One hidden layer
    takes the backward's rank-one shortcut (on the full batch 30 and 100 units in the
    transposed layout, 600 block by block of samples, each loss), deeper ones the
    layer-by-layer pass."""
    if onednn and net_engine._LINEAR is None:
        pytest.skip("this torch build has no oneDNN linear kernel")
    if not onednn:
        monkeypatch.setattr(net_engine, "_LINEAR", None)
    core = _core(model, *shape, rows=rows)
    want_loss, want = _autograd(core)
    with torch.no_grad():
        loss, grads, out = core._grad_step(core.x, core.y)
        np.testing.assert_allclose(out.double().numpy(),
                                   _autograd_forward(core).double().numpy(), rtol=1e-5,
                                   atol=1e-6)
    assert loss == pytest.approx(want_loss, rel=1e-5)
    for g, w, name in zip(grads, want, core.names, strict=True):
        np.testing.assert_allclose(g.double().numpy(), w, rtol=1e-4, atol=1e-6, err_msg=name)
    # a batch that is not the run's kept full batch (a mini-batch's slice) takes the
    # products apart (no x beside ones): autograd's numbers too
    with torch.no_grad():
        _, alone, _ = core._kernels.grad_pass(core._pt, core.x, core.y, core.model,
                                              core.loss, core._lin)
    for g, w, name in zip(alone, want, core.names, strict=True):
        np.testing.assert_allclose(g.double().numpy(), w, rtol=1e-4, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("model", ["relu", "sigmoid", "hard-sigmoid"])
@pytest.mark.parametrize("days", [1, 7, 56])
@pytest.mark.parametrize("units", [100, 600])
def test_a_forward_pass_alone_gives_the_gradient_passes_outputs(model: str, days: int,
                                                                units: int) -> None:
    """The forward pass alone (a replayed moment's predictions) makes its own [x, 1]^T for
    20 to 300 units, which the full-batch gradient pass keeps, and goes through 512 units
    or more in blocks of 128 samples as the gradient pass does: the same numbers."""
    rng = np.random.default_rng(days)
    x = rng.random((700, days)) * 8
    config = RunConfig(days=days, model=model, units=units, layers=1)
    params = init_params(config, days, np.random.default_rng(1), x.mean(axis=0))
    core = NetCore(model, params, x, x.sum(axis=1), x[:0], x[:0, 0], "mae", "adam", 1e-2,
                   0.9, None, 0)
    with torch.no_grad():
        _, _, out = core._grad_step(core.x, core.y)
        alone = core._kernels.outputs(core._pt, core.x, model, core._lin)
    assert torch.equal(out, alone)


@pytest.mark.parametrize("units, layers", [(600, 1), (16, 2)])
def test_a_replayed_moments_predictions_in_one_call_are_each_samples_own(units: int,
                                                                         layers: int
                                                                         ) -> None:
    """A replayed moment's training and unseen predictions made in one call (samples
    joined where the forward pass goes in blocks) are the numbers of a call on each."""
    rng = np.random.default_rng(2)
    x, xu = rng.random((1460, 1)) * 8, rng.random((365, 1)) * 8
    config = RunConfig(days=1, model="relu", units=units, layers=layers)
    params = init_params(config, 1, np.random.default_rng(4), x.mean(axis=0))
    both = net_engine.forward_float32_each("relu", params, [x, xu])
    for got, alone in zip(both, (x, xu), strict=True):
        np.testing.assert_array_equal(got, net_engine.forward_float32("relu", params, alone))


def test_an_environment_switch_forces_the_public_torch_mm_path(monkeypatch):
    monkeypatch.setenv(net_engine.TORCH_MM_ENV, "1")
    assert net_engine._onednn_linear() is None
    monkeypatch.setenv(net_engine.TORCH_MM_ENV, "0")
    if torch.backends.mkldnn.is_available() and net_engine._LINEAR is not None:
        assert net_engine._onednn_linear() is not None


def test_a_full_batch_chunk_ends_with_the_unseen_outputs_and_loss() -> None:
    """The loss history's unseen point and a snapshot's unseen predictions at the
    parameters a full-batch chunk leaves come from the chunk's own call; their numbers are
    those of a forward pass and the loss made afresh there, and a loss changed since (a
    live knob) or new parameters are not served the kept ones."""
    rng = np.random.default_rng(5)
    x, xu = rng.random((300, 6)), rng.random((40, 6))
    w = rng.standard_normal(6)
    config = RunConfig(days=6, model="relu", units=16, layers=2)
    params = init_params(config, 6, np.random.default_rng(0))
    core = NetCore("relu", params, x, x @ w, xu, xu @ w + 0.3, "mae", "adam", 1e-2, 0.9,
                   None, 0)
    core.run(5)
    kernels, calls = core._kernels, []
    core._kernels = kernels._replace(
        outputs=lambda *args: calls.append("outputs") or kernels.outputs(*args))
    loss, pred = core.unseen_loss(), core.predict("unseen")
    assert calls == []
    with torch.no_grad():
        want = kernels.outputs(core._pt, core.x_unseen, "relu", core._lin)
        want_loss = float(torch.nn.functional.l1_loss(want, core.y_unseen))
        want_mse = float(torch.nn.functional.mse_loss(want, core.y_unseen))
    assert loss == want_loss
    np.testing.assert_array_equal(pred, want.double().numpy())
    core.loss = "mse"                      # a live change of the loss: the kept one is MAE's
    assert core.unseen_loss() == want_mse
    core.set_params(core.params())          # new parameters: computed anew
    assert core.unseen_loss() == want_mse and calls == ["outputs"]


def test_only_a_chunk_whose_end_is_looked_at_makes_the_unseen_pass() -> None:
    """The app's worker runs two or three chunks a snapshot: the chunks between two
    snapshots (no history point at their end) make no pass over the unseen days, the
    chunk that ends at a snapshot or a history point makes it in its own call, and the
    histories and the snapshot are the same as a run whose every chunk made it."""
    from core.data import load_builtin, window
    from core.engine import Trainer

    data = window(load_builtin("channel"), 7)
    config = RunConfig(days=7, model="relu", units=16, layers=2, optimizer="adam", lr=3e-3)
    lean, full = Trainer(config, data), Trainer(config, data)
    seen: list[bool] = []
    run = lean._core.run

    def watched(n, track=None, unseen=True, *rest):   # type: ignore[no-untyped-def]
        seen.append(unseen)
        return run(n, track, unseen, *rest)

    lean._core.run = watched
    for end in (False, False, True, False, True):     # as the worker asks
        lean.run(3, end_point=end)
        full.run(3)
    every = lean._hist.every
    assert seen == [(3 * (k + 1)) % every == 0 or end
                    for k, end in enumerate((False, False, True, False, True))]
    assert seen.count(False) >= 2
    a, b = lean.snapshot(extras=True), full.snapshot(extras=True)
    assert a.update == b.update == 15
    np.testing.assert_array_equal(a.pred_unseen, b.pred_unseen)
    assert a.unseen_loss == b.unseen_loss and a.train_loss == b.train_loss
    np.testing.assert_array_equal(a.hist_update, b.hist_update[np.isin(b.hist_update,
                                                                       a.hist_update)])


@pytest.mark.parametrize("batch_size", [None, 64])
def test_snapshots_between_updates_change_nothing(batch_size: int | None) -> None:
    """A snapshot's gradient pass is reused by the next update: same numbers either way."""
    from core.data import load_builtin, window
    from core.engine import Trainer

    data = window(load_builtin("channel"), 7)
    config = RunConfig(days=7, model="relu", units=16, layers=2, optimizer="adam", lr=3e-3,
                       batch_size=batch_size)
    watched = Trainer(config, data)
    for k in range(40):
        snap = watched.snapshot()
        if k == 20:   # a loss change between a snapshot and the next update
            watched.apply(config.replace(loss="mse"))
        watched.run(1)
    assert snap.update == 39
    again = Trainer(config, data)               # the same run without snapshots
    again.run(20)
    again.apply(config.replace(loss="mse"))
    again.run(20)
    for name, value in again.params().items():
        np.testing.assert_array_equal(watched.params()[name], value, err_msg=name)


def test_a_new_start_is_not_served_an_old_gradient() -> None:
    core = _core("relu", 8, 1, "mae")
    before = core.full_grad()
    params = core.params()
    params["c"] = params["c"] + 1.0
    core.set_params(params)
    after = core.full_grad()
    assert not np.allclose(before["c"], after["c"])
    _, want = _autograd(core)
    np.testing.assert_allclose(after["c"], want[core.names.index("c")], rtol=1e-4, atol=1e-6)


def test_a_full_batch_chunk_ends_with_the_next_updates_pass() -> None:
    """The training loss, gradient and predictions at the parameters a chunk leaves (which
    the trainer checks, a snapshot shows and the next update takes) come from the chunk's
    own call, not a second one that gives the GIL up and waits to take it back from the
    GUI thread; their numbers are those of a pass made afresh there."""
    core = _core("relu", 16, 2, "mae")
    core.run(5)
    kernels, calls = core._kernels, []
    core._kernels = kernels._replace(
        grad_pass=lambda *args: calls.append("grad_pass") or kernels.grad_pass(*args),
        outputs=lambda *args: calls.append("outputs") or kernels.outputs(*args))
    loss, grads, pred = core.train_loss(), core.full_grad(), core.predict("train")
    assert calls == []
    with torch.no_grad():
        want_loss, want, want_out = kernels.grad_pass(
            core._pt, core.x, core.y, core.model, core.loss, net_engine._LINEAR is not None)
    assert loss == want_loss
    for name, w in zip(core.names, want, strict=True):
        np.testing.assert_array_equal(grads[name], w.double().numpy(), err_msg=name)
    np.testing.assert_array_equal(pred, want_out.double().numpy())
    # ... and are the numbers of the forward pass alone, which a replayed moment makes
    np.testing.assert_array_equal(pred, net_engine.forward_float32(
        core.model, core.params(), core.x.double().numpy()))
    core.set_params(core.params())   # a new version: the kept outputs no longer apply
    assert core.predict("train").shape == pred.shape and calls == ["outputs"]


def test_a_chunk_of_updates_trains_while_another_thread_holds_the_gil() -> None:
    """A network's chunk is one TorchScript call that releases the GIL once: it trains
    while a Python thread (the GUI's) holds the GIL. A Python update loop needs the GIL
    again and again within each update and waits for the holder every time.

    Counted in GIL handoffs: the main thread spins in Python, holding the GIL, which the
    interpreter takes from it only once per switch interval (raised to `switch`), for at
    most `most` intervals. The compiled chunk of 40 updates needs one handoff, to return;
    the same updates in Python needed ~35 (measured)."""
    import sys
    import threading
    import time

    # Alone it needs 2-3 intervals; 24 leaves room for a loaded machine (other processes
    # take the cores too) and still fails a Python loop's ~35.
    switch, most = 0.25, 24
    core = _core("relu", 16, 2, "mae")
    assert core.gil_free
    core.run(2)
    started, finished = threading.Event(), threading.Event()

    def train() -> None:
        started.set()
        core.run(40)
        finished.set()

    # Two tries: once in a fresh clone's full suite (of ~5 this stop) the chunk missed
    # its handoffs, other threads of the session's earlier tests taking the GIL in
    # between; a Python loop (~35 handoffs) misses both.
    interval = sys.getswitchinterval()
    done = False
    for _try in range(2):
        started.clear()
        finished.clear()
        sys.setswitchinterval(switch)
        try:
            thread = threading.Thread(target=train)
            thread.start()
            started.wait()
            clock = time.perf_counter
            end = clock() + most * switch
            while not finished.is_set() and clock() < end:   # Python, holding the GIL
                pass
            done = finished.is_set()
        finally:
            sys.setswitchinterval(interval)
        thread.join()
        if done:
            break
    assert done, f"40 updates did not finish within {most} GIL handoffs"
