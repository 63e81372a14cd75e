"""The lecture's models, their parameter names, initial values and a numpy forward pass.

All models work in the training unit (data unit / scale). Parameter arrays are named as the
lecture writes them:

- linear: y = b + sum_j w_j x_j, arrays ``"w"`` (days,) and ``"b"`` ().
- networks (sigmoid, hard-sigmoid, relu) with L hidden layers of K units:
  h0 = x, h_l = act(b_l + W_l h_{l-1}) for l = 1..L, y = b + sum_i c_i h_L[i];
  arrays ``"W{l}"`` (K, fan_in), ``"b{l}"`` (K,), ``"c"`` (K,), ``"b"`` ().

Activations: sigmoid(z) = 1 / (1 + exp(-z)); relu(z) = max(0, z); hard sigmoid(z) =
clip(z / 6 + 1/2, 0, 1), i.e. flat 0 for z <= -3, a straight ramp to 1 at z = 3, then flat
(the same form as ``torch.nn.Hardsigmoid``): the lecture's "flat, ramp, flat" piece, centred
like the sigmoid it approximates.

Scalar names pick one number out of the arrays, 1-based: ``"w1".."w{days}"`` and ``"b"``
for linear; ``"W{l}[i,j]"``, ``"b{l}[i]"``, ``"c[i]"`` and ``"b"`` for networks.

This module is numpy only (the surface slices and the GUI call `forward_numpy`); the torch
forward pass for training lives in `core.net_engine`.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

MODELS = ("linear", "sigmoid", "hard-sigmoid", "relu")
NETWORKS = ("sigmoid", "hard-sigmoid", "relu")


def sigmoid(z: np.ndarray) -> np.ndarray:
    # exp of a negative magnitude only: no overflow warnings for large |z|.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def hard_sigmoid(z: np.ndarray) -> np.ndarray:
    """clip(z / 6 + 1/2, 0, 1): 0 below z = -3, 1 above z = 3, a straight ramp between."""
    return np.clip(z / 6.0 + 0.5, 0.0, 1.0)


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


ACTIVATIONS = {"sigmoid": sigmoid, "hard-sigmoid": hard_sigmoid, "relu": relu}


def activation(model: str, z: np.ndarray) -> np.ndarray:
    """The hidden-unit activation of `model` (a network name) applied to `z`."""
    return ACTIVATIONS[model](np.asarray(z, dtype=np.float64))


def param_shapes(model: str, n_features: int, units: int = 1, layers: int = 1
                 ) -> dict[str, tuple[int, ...]]:
    """Array name -> shape, in the canonical order (the order `scalar_names` follows)."""
    if model == "linear":
        return {"w": (n_features,), "b": ()}
    if model not in NETWORKS:
        raise ValueError(f"unknown model {model!r}")
    shapes: dict[str, tuple[int, ...]] = {}
    fan_in = n_features
    for layer in range(1, layers + 1):
        shapes[f"W{layer}"] = (units, fan_in)
        shapes[f"b{layer}"] = (units,)
        fan_in = units
    shapes["c"] = (units,)
    shapes["b"] = ()
    return shapes


def n_layers(params: dict[str, np.ndarray]) -> int:
    """Hidden layers of a network's parameter dict (0 for linear)."""
    return sum(1 for k in params if k.startswith("W"))


def scalar_names(model: str, n_features: int, units: int = 1, layers: int = 1) -> list[str]:
    """Every scalar parameter's name, e.g. ["w1", "w2", "b"] or ["W1[1,1]", ..., "b"]."""
    names: list[str] = []
    for key, shape in param_shapes(model, n_features, units, layers).items():
        if shape == ():
            names.append(key)
        elif key == "w":
            names += [f"w{j + 1}" for j in range(shape[0])]
        elif len(shape) == 1:
            names += [f"{key}[{i + 1}]" for i in range(shape[0])]
        else:
            names += [f"{key}[{i + 1},{j + 1}]" for i in range(shape[0]) for j in range(shape[1])]
    return names


_SCALAR = re.compile(r"^(?:w(\d+)|b|c\[(\d+)\]|b(\d+)\[(\d+)\]|W(\d+)\[(\d+),(\d+)\])$")


def parse_scalar(name: str) -> tuple[str, tuple[int, ...]]:
    """A scalar name -> (array name, 0-based index); ValueError for a malformed name."""
    m = _SCALAR.match(name.replace(" ", ""))
    if m is None:
        raise ValueError(f"not a parameter name: {name!r}")
    wj, ci, bl, bi, wl, wi, wj2 = m.groups()
    if wj is not None:
        return "w", (int(wj) - 1,)
    if ci is not None:
        return "c", (int(ci) - 1,)
    if bl is not None:
        return f"b{bl}", (int(bi) - 1,)
    if wl is not None:
        return f"W{wl}", (int(wi) - 1, int(wj2) - 1)
    return "b", ()


def _checked_index(params: dict[str, np.ndarray], name: str) -> tuple[str, tuple[int, ...]]:
    key, idx = parse_scalar(name)
    if key not in params:
        raise ValueError(f"this model has no parameter {name!r}")
    shape = np.shape(params[key])
    if len(idx) != len(shape) or any(not 0 <= i < n for i, n in zip(idx, shape, strict=True)):
        raise ValueError(f"this model has no parameter {name!r}")
    return key, idx


def get_scalar(params: dict[str, np.ndarray], name: str) -> float:
    """The value of one named scalar parameter."""
    key, idx = _checked_index(params, name)
    return float(np.asarray(params[key])[idx])


def set_scalar(params: dict[str, np.ndarray], name: str, value: float) -> None:
    """Set one named scalar parameter in place (arrays must be writable numpy arrays)."""
    key, idx = _checked_index(params, name)
    arr = params[key]
    if np.ndim(arr) == 0:
        params[key] = np.asarray(float(value), dtype=np.float64)
    else:
        arr[idx] = value


def default_track(model: str) -> tuple[str, str]:
    """The two scalars a run tracks from its first update and the error surface shows
    first: w1, b for the line; a network's first output weight and its output bias.

    The one place this pair is decided: the trainer records it from update 0 and the
    surface opens on it, so a run played before the surface has set up draws its path
    from update 0 (when the two disagreed, the surface's pick reached the trainer a few
    updates late and the path started there)."""
    return ("w1", "b") if model == "linear" else ("c[1]", "b")


def init_params(config: Any, n_features: int, rng: np.random.Generator,
                x_mean: np.ndarray | None = None, y_mean: float | None = None
                ) -> dict[str, np.ndarray]:
    """Starting parameters (float64, training unit).

    Linear: every w_j = w0 and b = b0 from ``config.init``; without it w = 0, b = 0, a fixed
    start so a class sees the same path every time.

    Networks: every weight and bias uniform in +-1/sqrt(fan_in), torch's ``nn.Linear``
    default, so a network here starts as the same network would in a class's own torch
    code. A one-day network (the lecture's pictures of pieces) is then moved so each
    unit's ramp or kink starts inside the data: when the feature mean is given, the first
    layer's biases are shifted by -W1 x_mean (raw inputs ~2-8 would otherwise leave most
    pieces flat over the whole data), and the output bias starts at the label mean so the
    first curve lies over the points. Networks on several days keep torch's default as
    it is: the lecture's tables train them (see `core.experiments`), and centring every
    unit on the data made deep networks memorise the training years within a few hundred
    updates.
    """
    model = config.model
    if model == "linear":
        w0, b0 = config.init if config.init is not None else (0.0, 0.0)
        return {"w": np.full(n_features, float(w0)), "b": np.asarray(float(b0))}
    shapes = param_shapes(model, n_features, config.units, config.layers)
    params: dict[str, np.ndarray] = {}
    for key, shape in shapes.items():
        if key in ("c", "b"):       # the output layer: fan-in = units
            fan_in = config.units
        elif key.startswith("W"):
            fan_in = shape[1]
        else:  # a hidden bias b{l}: the fan-in of its layer's W{l}
            fan_in = shapes["W" + key[1:]][1]
        bound = 1.0 / np.sqrt(fan_in)
        params[key] = rng.uniform(-bound, bound, size=shape) if shape else \
            np.asarray(rng.uniform(-bound, bound))
    if n_features == 1:
        if x_mean is not None:
            params["b1"] = params["b1"] - params["W1"] @ np.asarray(x_mean, dtype=np.float64)
        if y_mean is not None:
            params["b"] = np.asarray(float(y_mean))
    if config.init is not None:  # (w0, b0) for the two tracked scalars
        name_w, name_b = default_track(model)
        set_scalar(params, name_w, config.init[0])
        set_scalar(params, name_b, config.init[1])
    return params


def hidden_numpy(model: str, params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The last hidden layer's activations, (n, units)."""
    h = np.asarray(x, dtype=np.float64)
    for layer in range(1, n_layers(params) + 1):
        h = activation(model, h @ np.asarray(params[f"W{layer}"]).T + params[f"b{layer}"])
    return h


def forward_numpy(model: str, params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Predictions (n,) in the training unit for inputs x (n, days) in the training unit."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if model == "linear":
        return x @ np.asarray(params["w"], dtype=np.float64) + float(params["b"])
    return hidden_numpy(model, params, x) @ np.asarray(params["c"]) + float(params["b"])


def pieces_numpy(model: str, params: dict[str, np.ndarray], x1: np.ndarray) -> np.ndarray:
    """Each unit's contribution c_i * act(b1_i + W1_i1 x1), (K, n), for one-day, one-layer
    networks: the curve is b + the sum of these pieces (training unit)."""
    x1 = np.asarray(x1, dtype=np.float64).reshape(-1)
    w1 = np.asarray(params["W1"])[:, 0]
    z = w1[:, None] * x1[None, :] + np.asarray(params["b1"])[:, None]
    return np.asarray(params["c"])[:, None] * activation(model, z)
