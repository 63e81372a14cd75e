"""Loss-table rows and their exports mean the same thing in the CLI and the app."""

import csv
import io
from types import SimpleNamespace

import numpy as np

from core.config import RunConfig
from core.results import (
    COLUMNS,
    format_loss,
    lecture_reference,
    model_label,
    params_in_data_unit,
    result_row,
    to_csv,
    to_latex,
    to_markdown,
)


def _snap(**kw):
    base = {"lr": 0.01, "update": 1000, "train_loss": 480.0, "unseen_loss": 580.0,
            "seconds": 1.25, "diverged": False}
    base.update(kw)
    return SimpleNamespace(**base)


def test_lecture_numbers_are_attached_to_matching_shapes_only():
    assert lecture_reference(RunConfig(days=1)) == (0.48, 0.58)
    assert lecture_reference(RunConfig(days=56, model="relu", units=100, layers=4)) == (0.10, 0.44)
    assert lecture_reference(RunConfig(days=56, model="relu", units=100, layers=5)) is None
    assert lecture_reference(RunConfig(days=1, loss="mse")) is None


def test_labels_read_like_the_board():
    assert model_label(RunConfig(days=56, model="relu", units=100, layers=3)) == \
        "56 days, 3 layers x 100 ReLU"
    assert model_label(RunConfig(days=1)) == "1 day, linear"


def test_losses_are_formatted_in_thousands_as_the_lecture_writes_them():
    assert format_loss(480.0) == "0.48k"
    assert format_loss(float("inf")) == "diverged"
    assert format_loss(21.5, 1.0, "") == "21.50"
    # on its way to diverging, or diverged with a last finite loss: the power of ten it
    # passed in the data unit (was "4.53e+11k", and "7.17e+25k" for a diverged racer)
    assert format_loss(452541641961770.0) == "> 10¹⁴"
    assert format_loss(7.17e28) == "> 10²⁸"
    assert format_loss(2.0e9, 1.0, "") == "> 10⁹"
    assert format_loss(99_999_000.0) == "99999.00k"         # below the line: as before


def test_params_in_data_unit_undo_the_training_scale():
    # y/s = b + w x/s  <=>  y = s b + w x: w is unit-free, b scales.
    p = params_in_data_unit("linear", {"w": np.array([0.97]), "b": np.array(0.1)}, 1000.0)
    assert p == {"w": [0.97], "b": 100.0}
    x = np.array([[2.0, 3.0]]) * 1000
    net = {"W1": np.array([[0.5, -1.0]]), "b1": np.array([3.2]), "c": np.array([2.0]),
           "b": np.array(0.3)}
    d = params_in_data_unit("relu", net, 1000.0)
    trained = 1000 * (0.3 + 2.0 * max(0.0, 3.2 + 0.5 * 2.0 - 1.0 * 3.0))
    direct = d["b"] + d["c"][0] * max(0.0, d["b1"][0] + float(np.dot(d["W1"][0], x[0])))
    assert np.isclose(trained, direct)


def test_rows_export_to_csv_markdown_and_latex():
    rows = [result_row(RunConfig(days=d), _snap(train_loss=400.0 + d)) for d in (1, 7)]
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert [r["days"] for r in parsed] == ["1", "7"]
    assert set(parsed[0]) == set(COLUMNS)
    md = to_markdown(rows).splitlines()
    assert len(md) == 4 and "0.40k" in md[2] and "0.48k / 0.58k" in md[2]
    tex = to_latex(rows)
    assert tex.count(r"\\") == 3 and r"\toprule" in tex


def test_a_mean_over_seeds_shows_its_spread() -> None:
    from core.results import loss_text

    one = {"train_loss": 452.0, "unseen_loss": 463.0, "scale": 1000.0, "suffix": "k"}
    assert loss_text(one, "unseen_loss") == "0.46k"
    three = {**one, "train_spread": 6.0, "unseen_spread": 12.0, "seeds": [0, 1, 2]}
    assert loss_text(three, "train_loss") == "0.45k ± 0.006k"
    assert loss_text(three, "unseen_loss") == "0.46k ± 0.012k"
    assert loss_text({**three, "seeds": [0]}, "unseen_loss") == "0.46k"
