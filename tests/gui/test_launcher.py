"""`fnlab` on a machine that cannot show its window says so in one line and ends: without
a display (and how to render screenshots offscreen), or when Qt's X11 plugin lacks system
libraries (which ones, and the apt / dnf packages that bring them). The headless
subcommands keep working without a display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gui import launcher

ROOT = Path(__file__).resolve().parents[2]
DISPLAY_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")

# ldd on libqxcb.so of a fresh Ubuntu desktop (PySide6 6.8): the first missing libraries
LDD_FRESH_UBUNTU = """\
\tlinux-vdso.so.1 (0x00007ffd6a5f2000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f2a1c200000)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f2a1c1d0000)
\tlibxkbcommon-x11.so.0 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2a1be00000)
"""


def _headless_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DISPLAY_VARS}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _fnlab(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gui.launcher", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.skipif(not launcher._uses_a_display(), reason="X11 / Wayland systems only")
def test_without_a_display_fnlab_says_so_in_one_line_and_ends():
    done = _fnlab([], _headless_env())
    assert done.returncode == launcher.EXIT_NO_DISPLAY != 0
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith("fnlab: no display")
    assert "QT_QPA_PLATFORM=offscreen fnlab --screenshot" in lines[0]
    assert _fnlab(["--lecture"], _headless_env()).returncode == launcher.EXIT_NO_DISPLAY


def test_the_headless_commands_need_no_display():
    done = _fnlab(["datasets"], _headless_env())
    assert done.returncode == 0, done.stderr
    assert "channel" in done.stdout and done.stderr == ""


def test_a_screenshot_or_a_chosen_platform_is_not_stopped():
    assert launcher.display_problem(["--screenshot", "a.png"], {}) is None
    assert launcher.display_problem(["--screenshot=a.png"], {}) is None
    assert launcher.display_problem([], {"QT_QPA_PLATFORM": "offscreen"}) is None


def test_missing_xcb_libraries_are_named_with_their_packages(monkeypatch):
    plugin = Path("/venv/PySide6/Qt/plugins/platforms/libqxcb.so")
    monkeypatch.setattr(launcher, "xcb_plugin_files", lambda: [plugin])
    monkeypatch.setattr(launcher, "run_ldd", lambda path: LDD_FRESH_UBUNTU)
    msg = launcher.display_problem([], {"DISPLAY": ":0"})
    assert msg is not None and "\n" not in msg
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4, libxkbcommon-x11.so.0" in msg
    assert "Debian/Ubuntu: sudo apt install libxcb-cursor0 libxcb-icccm4 " \
           "libxkbcommon-x11-0" in msg
    assert "Fedora: sudo dnf install libxkbcommon-x11 xcb-util-cursor xcb-util-wm" in msg
    # a Wayland session does not load the X11 plugin
    assert launcher.display_problem([], {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0",
                                         "XDG_SESSION_TYPE": "wayland"}) is None


def test_an_unknown_missing_library_is_still_named(monkeypatch):
    monkeypatch.setattr(launcher, "xcb_plugin_files", lambda: [Path("libqxcb.so")])
    monkeypatch.setattr(launcher, "run_ldd",
                        lambda path: "\tlibfancy.so.2 => not found\n\tlibxcb-cursor.so.0 =>"
                                     " not found\n")
    msg = launcher.display_problem([], {"DISPLAY": ":0"})
    assert "libfancy.so.2" in msg and "the packages that provide libfancy.so.2" in msg
    assert "sudo apt install libxcb-cursor0" in msg


def test_the_launcher_ends_before_qt_when_libraries_are_missing(monkeypatch, capsys):
    monkeypatch.setattr(launcher, "xcb_plugin_files", lambda: [Path("libqxcb.so")])
    monkeypatch.setattr(launcher, "run_ldd", lambda path: LDD_FRESH_UBUNTU)
    for var in DISPLAY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(launcher, "_uses_a_display", lambda: True)
    assert launcher.main([]) == launcher.EXIT_NO_DISPLAY
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sudo apt install libxcb-cursor0" in err


def test_this_machines_plugin_is_found_and_checked():
    """The real plugin and the real ldd: the names parse, whatever is installed here."""
    files = launcher.xcb_plugin_files()
    assert any(f.name == "libqxcb.so" for f in files)
    out = launcher.run_ldd(files[0])
    assert "=>" in out
    missing = launcher.missing_libraries(out)
    assert all(name.startswith("lib") for name in missing)


def test_the_readme_names_the_packages_of_a_fresh_desktop():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for lib in ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1",
                "libxcb-image.so.0", "libxcb-render-util.so.0", "libxkbcommon-x11.so.0"):
        apt, dnf = launcher.XCB_PACKAGES[lib]
        assert f" {apt}" in readme and f" {dnf}" in readme, lib
