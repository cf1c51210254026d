"""Where neyman's time goes on W1, W2 and W7 at 10M rows: each step of the call path timed alone.

A diagnostic for developers, not part of ``make bench``: ``python benchmarks/breakdown.py``
(``--n`` to change the size, ``--threads`` to pin the thread count). It times the public call, then
the steps it is made of (variant codes, column conversion, the Rust kernels, the finalize), next to
``floor_sum`` over the same bytes. Steps use neyman's private helpers; a step whose helper no
longer exists is reported as skipped rather than failing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workloads import build_w1, build_w2, build_w7

REPS = 7


def timed(fn: Callable[[], Any], reps: int = REPS) -> float:
    """Median seconds of ``reps`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def report(label: str, fn: Callable[[], Any], floor_s: float | None = None) -> float | None:
    """Print one step: median ms and, if a floor is given, the ratio to it."""
    try:
        s = timed(fn)
    except (AttributeError, ImportError, TypeError) as exc:
        print(f"  {label:58s} skipped ({type(exc).__name__}: {exc})")
        return None
    ratio = f"{s / floor_s:7.1f}x floor" if floor_s else ""
    print(f"  {label:58s} {s * 1e3:9.2f} ms  {ratio}")
    return s


def w1(n: int) -> None:
    """Steps of ``neyman.ttest`` on arrays and on a pandas frame."""
    import neyman
    import numpy as np
    from neyman import _convert, _neyman

    d = build_w1(n)
    c, t, y, df = d["c"], d["t"], d["y"], d["df"]
    print(f"W1, {n:,} rows")
    fl = timed(lambda: (_neyman.floor_sum(c), _neyman.floor_sum(t)))
    print(f"  {'floor_sum(c) + floor_sum(t)  [80 MB at 8 B/row]':58s} {fl * 1e3:9.2f} ms")
    report("neyman.ttest(c, t)", lambda: neyman.ttest(c, t), fl)
    report(
        "  _neyman.moments(c) + moments(t)", lambda: (_neyman.moments(c), _neyman.moments(t)), fl
    )
    mc, mt = _neyman.moments(c), _neyman.moments(t)
    report(
        "  _neyman.mean_test(...) (finalize)",
        lambda: _neyman.mean_test(mc[:3], mt[:3], "welch", "two-sided", 0.95, "delta"),
    )
    fy = timed(lambda: _neyman.floor_sum(y))
    fr = fy * 1.5  # y is float64 (8 B/row), arm int32 (4 B/row): the frame path reads 12 B/row
    print(f"  {'floor_sum(y) * 1.5  [y and the int32 arm: 12 B/row]':58s} {fr * 1e3:9.2f} ms")
    report("neyman.ttest(df, metric='y', variant='arm', control=0)", _w1_frame(neyman, df), fr)
    report(
        "  _convert.variant_codes(df, 'arm', 0)", lambda: _convert.variant_codes(df, "arm", 0), fr
    )
    codes = _convert.variant_codes(df, "arm", 0)
    same = np.shares_memory(codes.codes, df["arm"].to_numpy())
    print(f"  {'    (codes share the arm column buffer: ' + str(same) + ')':58s}")
    report("  _convert.frame_column(df, 'y')", lambda: _convert.frame_column(df, "y", arg="m"), fr)
    report(
        "  _neyman.grouped_moments(y, codes, 2)",
        lambda: _neyman.grouped_moments(y, codes.codes, 2),
        fr,
    )
    report("  _neyman.moments(y) (ungrouped, same bytes of y)", lambda: _neyman.moments(y), fr)
    report("    pandas Series.unique() on arm", lambda: df["arm"].unique(), fr)
    report("    pandas Series.isna().sum() on y", lambda: df["y"].isna().sum(), fr)


def _w1_frame(neyman: Any, df: Any) -> Callable[[], Any]:
    """The W1 frame call."""
    return lambda: neyman.ttest(df, metric="y", variant="arm", control=0)


def w2(n: int) -> None:
    """Steps of ``neyman.cuped`` on arrays and on pandas and polars frames."""
    import neyman
    from neyman import _convert, _neyman

    d = build_w2(n)
    y, x, arm = d["y"], d["x"], d["arm"]
    print(f"W2, {n:,} rows")
    fl = timed(lambda: (_neyman.floor_sum(y), _neyman.floor_sum(x))) * 17 / 16
    print(f"  {'floor_sum(y) + floor_sum(x), * 17/16  [+ int8 arm]':58s} {fl * 1e3:9.2f} ms")
    report(
        "neyman.cuped(yc, xc, yt, xt)",
        lambda: neyman.cuped(d["yc"], d["xc"], d["yt"], d["xt"]),
        fl,
    )
    for label in ("df", "pl"):
        report(
            f"neyman.cuped({'pandas' if label == 'df' else 'polars'} frame)",
            lambda label=label: neyman.cuped(
                d[label], metric="y", covariate="x", variant="arm", control=0
            ),
            fl,
        )
    report(
        "  _convert.variant_codes(df, 'arm', 0)",
        lambda: _convert.variant_codes(d["df"], "arm", 0),
        fl,
    )
    report("    _neyman.code_summary(arm, 64)", lambda: _neyman.code_summary(arm, 64), fl)
    names = ["y", "x"]
    report(
        "  _neyman.grouped_comoments([y, x], arm, 2)",
        lambda: _neyman.grouped_comoments([y, x], arm, 2, names),
        fl,
    )
    report(
        "  _neyman.grouped_comoments([y, x], None, 1) (ungrouped)",
        lambda: _neyman.grouped_comoments([y, x], None, 1, names),
        fl,
    )


def w7(n: int) -> None:
    """Steps of ``neyman.ratio`` on arrays and on pandas and polars frames."""
    import neyman
    from neyman import _convert, _neyman

    d = build_w7(n)
    nc, dc, nt, dt = d["nc"], d["dc"], d["nt"], d["dt"]
    clicks, imp, df, pl = d["clicks"], d["impressions"], d["df"], d["pl"]
    print(f"W7, {n:,} users")
    fl = timed(lambda: [_neyman.floor_sum(a) for a in (nc, dc, nt, dt)])
    print(f"  {'floor_sum of nc, dc, nt, dt  [16 B/user]':58s} {fl * 1e3:9.2f} ms")
    report("neyman.ratio(nc, dc, nt, dt)", lambda: neyman.ratio(nc, dc, nt, dt), fl)
    names = ["numerator", "denominator"]
    report(
        "  _neyman.grouped_comoments([num, den], None, 1, [1]) x 2 arms",
        lambda: (
            _neyman.grouped_comoments([nc, dc], None, 1, names, [1]),
            _neyman.grouped_comoments([nt, dt], None, 1, names, [1]),
        ),
        fl,
    )
    ff = timed(lambda: (_neyman.floor_sum(clicks), _neyman.floor_sum(imp))) * 1.25
    print(f"  {'floor_sum(clicks, impressions) * 1.25  [+ int32 arm]':58s} {ff * 1e3:9.2f} ms")
    for label, frame in (("pandas", df), ("polars", pl)):
        report(
            f"neyman.ratio({label} frame)",
            _w7_frame(neyman, frame),
            ff,
        )
        report(
            f"  _convert.variant_codes({label}, 'arm', 0)",
            lambda frame=frame: _convert.variant_codes(frame, "arm", 0),
            ff,
        )
        report(
            f"  _convert.frame_column({label}, clicks) + (.., impressions)",
            lambda frame=frame: (
                _convert.frame_column(frame, "clicks", arg="numerator"),
                _convert.frame_column(frame, "impressions", arg="denominator"),
            ),
            ff,
        )
    codes = _convert.variant_codes(df, "arm", 0)
    report(
        "  _neyman.grouped_comoments([clicks, impressions], codes, 2, [1])",
        lambda: _neyman.grouped_comoments([clicks, imp], codes.codes, 2, names, [1]),
        ff,
    )
    report(
        "  _neyman.grouped_comoments([clicks, impressions], None, 1)",
        lambda: _neyman.grouped_comoments([clicks, imp], None, 1, names),
        ff,
    )
    report("    pandas Series.unique() on arm", lambda: df["arm"].unique(), ff)
    report("    polars Series.unique() on arm", lambda: pl["arm"].unique(), ff)


def _w7_frame(neyman: Any, frame: Any) -> Callable[[], Any]:
    """The W7 frame call."""
    return lambda: neyman.ratio(
        frame, numerator="clicks", denominator="impressions", variant="arm", control=0
    )


def main() -> None:
    """Parse the options and print both breakdowns."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="rows (default 10M)")
    parser.add_argument("--threads", type=int, default=None, help="neyman threads")
    args = parser.parse_args()
    import neyman

    if args.threads:
        neyman.set_num_threads(args.threads)
    print(f"neyman threads: {neyman.get_num_threads()}; medians of {REPS} calls after a warm-up")
    w1(args.n)
    w2(args.n)
    w7(args.n)


if __name__ == "__main__":
    main()
