"""`python -m bench [name ...]`: run the benchmark modules, print a table and a verdict.

Names are module suffixes (`surface` for `bench/bench_surface.py`); none means all. The
exit code is 0 unless a benchmark crashes: FAIL lines are a report, not an error.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import traceback
from pathlib import Path

from bench import Result, fmt_value

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


def run(names: list[str]) -> int:
    known = available()
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(known)}",
              file=sys.stderr)
        return 2
    results: list[Result] = []
    crashed: list[str] = []
    t_all = time.perf_counter()
    print(load_line(), flush=True)
    for name in names or known:
        print(f"== {name}", flush=True)
        print(header(), flush=True)
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.bench_{name}")
            # main() returns a list or yields results one by one (printed as they come).
            for r in module.main() or []:
                print(line(r), flush=True)
                results.append(r)
        except Exception:
            traceback.print_exc()
            crashed.append(name)
        print(f"   ({time.perf_counter() - t0:.1f} s)", flush=True)
    passed = [r for r in results if r.status == "PASS"]
    failed = [r for r in results if r.status == "FAIL"]
    print()
    print(f"summary: {len(passed)} PASS, {len(failed)} FAIL, "
          f"{len(results) - len(passed) - len(failed)} reported without a floor, "
          f"{time.perf_counter() - t_all:.0f} s")
    print(load_line())
    for r in failed:
        print(f"FAIL  {line(r)}")
    if crashed:
        print(f"CRASHED: {', '.join(crashed)}")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in args):
        print(f"usage: python -m bench [{'|'.join(available())} ...]")
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
