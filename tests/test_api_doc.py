"""docs/api.md is the modules' contract: every name it documents exists in the code.

Each `## path.py` section names the modules its lines speak of; in a bullet, a module
named in backticks (`gui/x.py`) takes over until the next. There, a backticked call
`name(...)`, a slash list `a/b/c`, a dotted call `cfg.replace(...)`, a class name or a
CONSTANT must be a module-level name of one of those modules or an attribute of a class
defined there.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api.md"
MODULE_PATH = re.compile(r"\b((?:core|gui)/[\w/*]+\.py)")
SPAN = re.compile(r"`([^`]+)`")
CALL = re.compile(r"^([A-Za-z_][\w.]*)\(")
SLASHES = re.compile(r"^\w+(?:/\w+)+$")
BARE = re.compile(r"^(?:[A-Z][a-z]\w*|[A-Z][A-Z0-9_]{2,})$")


def _modules(paths: list[str]) -> list[ModuleType]:
    found = []
    for path in paths:
        for file in sorted(ROOT.glob(path)):
            if file.name != "__init__.py":
                found.append(importlib.import_module(
                    ".".join(file.relative_to(ROOT).with_suffix("").parts)))
    return found


def _names(span: str) -> list[str]:
    """The code names a backticked span documents ([] for values, strings, shapes)."""
    if SLASHES.match(span):
        return span.split("/")
    out = []
    for part in span.split(" / "):
        m = CALL.match(part.strip())
        if m:
            out.append(m.group(1).split(".")[-1])
        elif BARE.match(part.strip()):
            out.append(part.strip())
    return out


def documented() -> list[tuple[str, tuple[str, ...]]]:
    """(name, module paths it belongs to) for every documented name: a section's modules,
    or in a bullet the module most recently named in backticks (`gui/x.py`)."""
    pairs = []
    section: list[str] = []
    current: list[str] = []
    for line in API.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = current = MODULE_PATH.findall(line)
            continue
        if line.startswith("- "):
            current = section
        for span in SPAN.findall(line):
            if MODULE_PATH.fullmatch(span):
                current = [span]
                continue
            pairs.extend((name, tuple(current)) for name in _names(span))
    return [(n, m) for n, m in pairs if m]


def _exists(name: str, modules: list[ModuleType]) -> bool:
    for mod in modules:
        if hasattr(mod, name):
            return True
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if cls.__module__ == mod.__name__ and hasattr(cls, name):
                return True
    return False


DOCUMENTED = documented()


def test_the_api_doc_documents_names_in_every_core_module_section():
    assert len(DOCUMENTED) > 60
    assert {"core/engine.py", "core/slices.py", "gui/main_window.py"} <= {
        m for _, mods in DOCUMENTED for m in mods}


@pytest.mark.parametrize(("name", "paths"), DOCUMENTED,
                         ids=[f"{'+'.join(p)}:{n}" for n, p in DOCUMENTED])
def test_every_name_the_api_doc_documents_exists(name, paths):
    assert _exists(name, _modules(list(paths))), f"docs/api.md documents {name!r} in " \
        f"{', '.join(paths)}, but no such name is there"
