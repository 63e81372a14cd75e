"""`python -m bench [--json FILE] [name ...]`: run the benchmarks, print a table, a verdict.

Names are module suffixes (`surface` for `bench/bench_surface.py`); none means all. The
machine's reference (`bench.reference`: a pure-Python loop and single-thread sgemm, measured
now) is printed first, so every figure below can be read against the machine it ran on.
`--json FILE` also writes the reference and every result to FILE, from which
`python -m bench.readme FILE` writes the README's speed section.

Exit code: 1 if a benchmark crashed or a ratio floor (ours against a baseline measured in
this run) failed; absolute targets (milliseconds, seconds, MB) depend on the machine and are
reported as MISSED without failing the run.
"""

from __future__ import annotations

# Before numpy's import (the reference loads torch, torch loads numpy): OpenBLAS reads its
# thread count once, when it loads, and every benchmark runs with the app's settings.
from core.runtime import use_engine_threads

use_engine_threads()

import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from dataclasses import asdict  # noqa: E402
from pathlib import Path  # noqa: E402

from bench import Result, fmt_value  # noqa: E402
from bench import reference as ref_mod  # noqa: E402

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def header() -> str:
    return (f"{'benchmark':<40} {'ours':>16} {'baseline':>16} {'ratio':>9} {'floor':>8}  "
            "result")


def line(r: Result) -> str:
    ratio = r.ratio
    ratio_s = f"{ratio:,.1f}x" if ratio is not None else "-"
    if r.floor is not None:
        floor_s = f">={r.floor:g}x"
    elif r.limit is not None:
        floor_s = ("<=" if r.lower_is_better else ">=") + f"{r.limit:g}"
    else:
        floor_s = "-"
    text = (f"{r.name:<40} {fmt_value(r.ours, r.unit):>16} "
            f"{fmt_value(r.baseline, r.unit):>16} {ratio_s:>9} {floor_s:>8}  {r.status}")
    return text + (f"  ({r.note})" if r.note else "")


def load_line() -> str:
    """The machine's load: ratios measured while other work runs are noisy."""
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0]
    busy = "  WARNING: busy machine, ratios are noisy" if load > 0.75 * cores else ""
    return f"load average {load:.1f} on {cores} cores{busy}"


def run(names: list[str], json_path: str | None = None) -> int:
    known = available()
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(known)}",
              file=sys.stderr)
        return 2
    results: list[Result] = []
    crashed: list[str] = []
    sections: dict[str, list[Result]] = {}
    paces: dict[str, list[float]] = {}     # per section: the machine's pace at its end
    t_all = time.perf_counter()
    reference = ref_mod.current()
    for text in reference.lines():
        print(text, flush=True)
    print(load_line(), flush=True)
    for name in names or known:
        print(f"== {name}", flush=True)
        print(header(), flush=True)
        t0 = time.perf_counter()
        got = sections.setdefault(name, [])
        try:
            module = importlib.import_module(f"bench.bench_{name}")
            # main() returns a list or yields results one by one (printed as they come).
            for r in module.main() or []:
                print(line(r), flush=True)
                results.append(r)
                got.append(r)
        except Exception:
            traceback.print_exc()
            crashed.append(name)
        seconds = time.perf_counter() - t0
        pace = ref_mod.pace_ms()
        paces[name] = pace
        print(f"   ({seconds:.1f} s; {load_line()}; {ref_mod.pace_text(pace)})", flush=True)
    failed = [r for r in results if r.status == "FAIL"]
    missed = [r for r in results if r.status == "MISSED"]
    seconds = time.perf_counter() - t_all
    print()
    print(f"summary: ratio floors {sum(r.status == 'PASS' for r in results)} PASS, "
          f"{len(failed)} FAIL; absolute targets {sum(r.status == 'MET' for r in results)} "
          f"MET, {len(missed)} MISSED (machine-dependent: read them with the reference); "
          f"{sum(r.status == '-' for r in results)} reported without a floor; {seconds:.0f} s")
    for text in reference.lines()[:1]:
        print(text)
    print(load_line())
    for r in missed:
        print(f"MISSED  {line(r)}")
    for r in failed:
        print(f"FAIL  {line(r)}")
    if json_path:
        write_json(Path(json_path), reference, sections, paces, crashed, seconds)
    if crashed:
        print(f"CRASHED: {', '.join(crashed)}")
    if failed or crashed:
        print("make bench: a ratio floor failed or a benchmark crashed (see above)",
              file=sys.stderr)
        return 1
    return 0


def write_json(path: Path, reference: ref_mod.Reference, sections: dict[str, list[Result]],
               paces: dict[str, list[float]], crashed: list[str], seconds: float) -> None:
    """The run as data: the reference, the load at the end, every result with its status,
    and each section's pace sample (`bench.reference.pace_ms`, ms)."""
    doc = {
        "reference": reference.as_dict(),
        "load_end": os.getloadavg(),
        "seconds": seconds,
        "crashed": crashed,
        "pace_ms": paces,
        "sections": {name: [{**asdict(r), "ratio": r.ratio, "status": r.status}
                            for r in rs] for name, rs in sections.items()},
    }
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(f"usage: python -m bench [--json FILE] [{'|'.join(available())} ...]")
        return 0
    json_path = None
    if "--json" in args:
        i = args.index("--json")
        if i + 1 >= len(args):
            print("python -m bench: --json needs a file name", file=sys.stderr)
            return 2
        json_path = args[i + 1]
        del args[i:i + 2]
    return run(args, json_path)


if __name__ == "__main__":
    sys.exit(main())
