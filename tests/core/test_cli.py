"""The command-line contract: flags, JSON keys and one-line errors people script against."""

import json
import os
import subprocess
import sys

import pytest

from core.cli import main


def run_cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


TRAIN_KEYS = {"train_loss", "unseen_loss", "params", "updates", "epochs", "seconds", "diverged"}


def test_train_json_has_the_promised_keys_in_the_data_unit(capsys):
    code, out, _ = run_cli(capsys, "train", "--days", "1", "--updates", "3000", "--json")
    assert code == 0
    result = json.loads(out)
    assert set(result) >= TRAIN_KEYS
    assert set(result["params"]) == {"w", "b"} and len(result["params"]["w"]) == 1
    # views, not thousands: a channel's daily error is hundreds of views
    assert 100 < result["train_loss"] < 2000
    assert result["updates"] == 3000 and result["diverged"] is False


def test_train_prints_a_readable_summary(capsys):
    code, out, _ = run_cli(capsys, "train", "--days", "7", "--updates", "500")
    assert code == 0
    assert "training loss" in out and "unseen loss" in out and "k" in out


def test_a_runaway_loss_reads_as_the_app_writes_it_and_json_keeps_the_number(capsys):
    """Too large a learning rate, stopped before it counts as diverged: the summary said
    "3.8e+10k"; now "L > 10¹³" as the status line and the loss table write it (one
    formatter), while --json keeps the loss itself, in the data unit."""
    from core.results import format_loss

    args = ("train", "--loss", "mse", "--optimizer", "gd", "--lr", "0.045",
            "--updates", "100", "--init", "0.2,2")
    code, out, _ = run_cli(capsys, *args, "--json")
    assert code == 0
    result = json.loads(out)
    assert result["diverged"] is False and result["train_loss"] > 1e10
    code, out, _ = run_cli(capsys, *args)
    assert code == 0
    lines = out.splitlines()
    for name, symbol, key in (("training loss", "L ", "train_loss"),
                              ("unseen loss  ", "L'", "unseen_loss")):
        power = len(str(int(result[key]))) - 1
        shown = format_loss(result[key])
        assert shown.startswith("> 10") and shown == f"> 10{superscript(power)}"
        assert f"  {name} {symbol} {shown}" in lines, out
    assert "e+" not in out
    assert "b = " in out                       # the parameters are still written


def superscript(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def test_epochs_limit_counts_updates_per_epoch(capsys):
    code, out, _ = run_cli(capsys, "train", "--batch-size", "146", "--epochs", "2",
                           "--optimizer", "gd", "--lr", "0.01", "--json")
    result = json.loads(out)
    assert code == 0 and result["epochs"] == pytest.approx(2.0)
    assert result["updates"] % 2 == 0


def test_a_divergent_learning_rate_is_reported_not_raised(capsys):
    code, out, _ = run_cli(capsys, "train", "--optimizer", "gd", "--lr", "1e5",
                           "--updates", "200", "--json")
    assert code == 0
    assert json.loads(out)["diverged"] is True


@pytest.mark.parametrize("args", [
    ("train", "--days", "0"),
    ("train", "--lr", "-1"),
    ("train", "--data", "no_such_file.csv"),
    ("train", "--init", "1"),
    ("train", "--split", "not-a-date"),
])
def test_bad_input_exits_non_zero_with_one_line(capsys, args):
    code, _out, err = run_cli(capsys, *args)
    assert code != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and "Traceback" not in err
    assert len(lines) == 1


def test_datasets_lists_the_builtins(capsys):
    code, out, _ = run_cli(capsys, "datasets", "--json")
    names = {d["name"] for d in json.loads(out)}
    assert code == 0 and {"channel", "wikipedia", "births"} <= names


def test_console_script_entry_runs_headless_without_importing_qt():
    code = ("import sys; from gui.launcher import main; rc = main(['datasets']); "
            "assert 'PySide6' not in sys.modules, 'Qt imported'; sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "channel" in proc.stdout and "synthetic" in proc.stdout


def test_the_fnlab_command_ends_train_at_once_with_its_output_whole():
    """As the `fnlab` command, a finished `train` ends without the interpreter's teardown
    (gui.launcher.end_now); its output, block-buffered into a pipe, still arrives whole
    and the exit code is the command's."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.run([sys.executable, "-m", "gui.launcher", "train", "--updates", "40",
                           "--json"], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["updates"] == 40


def test_table_json_rows_name_their_table_and_shape(capsys):
    code, out, _ = run_cli(capsys, "table", "--json", "--net-updates", "30", "--no-progress")
    assert code == 0
    rows = json.loads(out)
    assert [r["table"] for r in rows] == [1] * 4 + [2] * 4 + [3] * 4
    assert rows[-1]["label"] == "56 days, 4 layers x 100 ReLU"
    for r in rows:
        assert TRAIN_KEYS | {"table", "label", "days", "model", "units", "layers"} <= set(r)
        assert r["seeds"] == [0] and r["unseen_spread"] == 0.0


def test_table_over_seeds_gives_means_spreads_the_training_and_the_wall_time(capsys):
    code, out, err = run_cli(capsys, "table", "--net-updates", "30", "--seeds", "0,1",
                             "--no-progress")
    assert code == 0
    assert "Every network: torch's default initialisation" in out and "30 full-batch" in out
    assert "± " in out and "The lecture's story on channel:" in out
    assert "s wall" in err
    code, out, _ = run_cli(capsys, "table", "--json", "--net-updates", "30", "--seeds", "0,1",
                           "--no-progress")
    rows = json.loads(out)
    assert all(r["seeds"] == [0, 1] for r in rows)
    line = rows[0]                                     # linear: the same for every seed
    assert line["train_spread"] == 0.0 and line["unseen_spread"] == 0.0
    deep = rows[-1]
    assert deep["train_spread"] > 0 and deep["unseen_spread"] > 0


@pytest.mark.parametrize("seeds", ["0,x", "1,1", "-1", ","])
def test_bad_seeds_are_one_line(capsys, seeds):
    code, _, err = run_cli(capsys, "table", f"--seeds={seeds}")
    assert code == 2 and "--seeds" in err and len(err.strip().splitlines()) == 1
