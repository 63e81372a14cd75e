"""Run settings: validated on construction, one clear line for each bad value."""

import pytest

from core.config import ConfigError, RunConfig


def test_defaults_are_the_lectures_first_model():
    cfg = RunConfig()
    assert (cfg.dataset, cfg.days, cfg.model, cfg.loss) == ("channel", 1, "linear", "mae")


@pytest.mark.parametrize(("field", "value", "words"), [
    ("days", 0, "days"), ("days", 366, "days"), ("units", 4097, "units"),
    ("layers", 11, "layers"), ("lr", 0.0, "learning rate"), ("lr", 2e6, "learning rate"),
    ("lr", float("nan"), "learning rate"), ("model", "tree", "model"),
    ("loss", "huber", "loss"), ("optimizer", "lbfgs", "optimizer"),
    ("batch_size", 0, "batch size"), ("init", (1.0, float("inf")), "init"),
    ("momentum", 1.0, "momentum"),
])
def test_bad_values_are_refused_with_a_message_naming_the_setting(field, value, words):
    with pytest.raises(ConfigError) as err:
        RunConfig(**{field: value})
    message = str(err.value)
    assert words in message
    assert "\n" not in message


def test_extremes_inside_the_bounds_are_accepted():
    RunConfig(lr=1e-9, days=365, units=4096, layers=10, batch_size=1)
    RunConfig(lr=1e6, days=1, units=1, layers=1)


def test_update_and_epoch_limits_are_exclusive():
    with pytest.raises(ConfigError, match="not both"):
        RunConfig(limit_updates=10, limit_epochs=2)


def test_live_changes_do_not_need_a_new_run_but_shape_changes_do():
    a = RunConfig()
    assert not a.needs_new_run(a.replace(lr=0.5, batch_size=10, optimizer="adam", loss="mse"))
    assert a.live_changes(a.replace(lr=0.5)) == {"lr": 0.5}
    for change in ({"days": 7}, {"model": "relu"}, {"dataset": "births"}, {"units": 9}):
        assert a.needs_new_run(a.replace(**change))


def test_json_round_trip_is_exact(tmp_path):
    cfg = RunConfig(days=7, model="relu", units=10, layers=2, init=(0.5, 0.1), batch_size=32)
    path = tmp_path / "preset.json"
    path.write_text(cfg.to_json())
    assert RunConfig.load(path) == cfg


def test_a_broken_preset_file_gives_one_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{ not json")
    with pytest.raises(ConfigError, match=r"broken\.json"):
        RunConfig.load(path)
    path.write_text('{"days": 7, "colour": "red"}')
    with pytest.raises(ConfigError, match="colour"):
        RunConfig.load(path)
