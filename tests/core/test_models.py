"""Model names, initial values and the numpy forward pass."""

import types

import numpy as np
import pytest

from core.models import (
    forward_numpy,
    get_scalar,
    hard_sigmoid,
    init_params,
    param_shapes,
    parse_scalar,
    pieces_numpy,
    scalar_names,
    set_scalar,
)


def _cfg(**kw):
    base = {"model": "relu", "units": 3, "layers": 1, "init": None}
    return types.SimpleNamespace(**{**base, **kw})


def test_linear_names_follow_the_lecture():
    assert scalar_names("linear", 3) == ["w1", "w2", "w3", "b"]
    assert param_shapes("linear", 3) == {"w": (3,), "b": ()}


def test_network_names_per_layer():
    shapes = param_shapes("relu", 2, units=4, layers=2)
    assert shapes == {"W1": (4, 2), "b1": (4,), "W2": (4, 4), "b2": (4,), "c": (4,), "b": ()}
    names = scalar_names("relu", 2, units=4, layers=2)
    assert names[0] == "W1[1,1]" and names[-1] == "b" and "c[4]" in names and "b2[3]" in names
    assert len(names) == 8 + 4 + 16 + 4 + 4 + 1


def test_scalar_names_index_the_arrays_one_based():
    assert parse_scalar("W2[3,1]") == ("W2", (2, 0))
    assert parse_scalar("w7") == ("w", (6,))
    params = {"W1": np.arange(6.0).reshape(3, 2), "b1": np.zeros(3), "c": np.ones(3),
              "b": np.asarray(0.5)}
    assert get_scalar(params, "W1[3,2]") == 5.0
    set_scalar(params, "b", 2.0)
    assert get_scalar(params, "b") == 2.0
    with pytest.raises(ValueError):
        get_scalar(params, "W1[4,1]")


def test_linear_init_sets_every_weight_to_w0():
    p = init_params(_cfg(model="linear", init=(0.5, -1.0)), 4, np.random.default_rng(0))
    assert list(p["w"]) == [0.5] * 4 and float(p["b"]) == -1.0
    p0 = init_params(_cfg(model="linear"), 2, np.random.default_rng(0))
    assert list(p0["w"]) == [0.0, 0.0] and float(p0["b"]) == 0.0


def test_network_forward_is_constant_plus_sum_of_pieces():
    rng = np.random.default_rng(1)
    for model in ("sigmoid", "hard-sigmoid", "relu"):
        p = init_params(_cfg(model=model, units=5), 1, rng, x_mean=np.array([3.0]), y_mean=3.0)
        x = np.linspace(1.0, 6.0, 30)
        total = pieces_numpy(model, p, x).sum(axis=0) + float(p["b"])
        np.testing.assert_allclose(forward_numpy(model, p, x[:, None]), total)


def test_hard_sigmoid_is_flat_ramp_flat():
    z = np.array([-10.0, -3.0, 0.0, 1.5, 3.0, 10.0])
    np.testing.assert_allclose(hard_sigmoid(z), [0.0, 0.0, 0.5, 0.75, 1.0, 1.0])


def test_a_one_day_networks_pieces_start_inside_the_data() -> None:
    rng = np.random.default_rng(0)
    p = init_params(_cfg(model="relu", units=50), 1, rng, x_mean=np.array([4.0]), y_mean=4.0)
    z = p["W1"] @ np.array([4.0]) + p["b1"]
    assert np.all(np.abs(z) <= 1.0 + 1e-12)
    assert float(p["b"]) == 4.0


def test_a_many_day_network_starts_as_torch_would_start_it() -> None:
    """nn.Linear's default: weights and biases uniform in +-1/sqrt(fan_in), every layer."""
    import torch

    rng = np.random.default_rng(0)
    p = init_params(_cfg(model="relu", units=50, layers=2), 56, rng, x_mean=np.full(56, 4.0),
                    y_mean=4.0)
    for key, fan_in in (("W1", 56), ("b1", 56), ("W2", 50), ("b2", 50), ("c", 50)):
        bound = 1.0 / np.sqrt(fan_in)
        assert np.all(np.abs(p[key]) <= bound) and np.abs(p[key]).max() > 0.5 * bound, key
    assert abs(float(p["b"])) <= 1.0 / np.sqrt(50)          # not moved to the label mean
    layer = torch.nn.Linear(56, 50)      # torch's own default has the same bounds
    for t in (layer.weight, layer.bias):
        assert 0.9 / np.sqrt(56) < float(t.detach().abs().max()) <= 1.0 / np.sqrt(56)
