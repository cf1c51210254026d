"""Analyse the bundled example experiment: ``python -m neyman.demo [path.parquet]``.

The data (``data/example_experiment.parquet``, made by ``scripts/make_example_data.py``) hold 200k
users in three arms with known true effects: treatment_a raises revenue by 3% and conversion by 5%;
treatment_b raises click-through by 4%. The report shows every metric by arm with absolute and
relative effects, their 95% intervals, p-values, and the sample-ratio-mismatch check. Revenue is
also shown adjusted for pre-period revenue (CUPED, with an indicator for new users), which narrows
its interval.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import neyman

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "data" / "example_experiment.parquet"

TRUE_EFFECTS = {
    ("revenue", "treatment_a"): 0.03,
    ("revenue", "treatment_b"): 0.0,
    ("revenue (CUPED)", "treatment_a"): 0.03,
    ("revenue (CUPED)", "treatment_b"): 0.0,
    ("converted", "treatment_a"): 0.05,
    ("converted", "treatment_b"): 0.0,
    ("clicks/impressions", "treatment_a"): 0.0,
    ("clicks/impressions", "treatment_b"): 0.04,
}


def main(argv: list[str] | None = None) -> None:
    """Print the analysis of the example experiment."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(DEFAULT_DATA), help="Parquet file")
    args = parser.parse_args(argv)

    import pyarrow.parquet as pq

    table = pq.read_table(args.path)
    print(f"neyman {neyman.__version__}: {args.path}")
    print(f"{table.num_rows:,} users, columns: {', '.join(table.column_names)}\n")

    start = time.perf_counter()
    exp = neyman.Experiment(
        table,
        variant="arm",
        control="control",
        planned_split={"control": 0.5, "treatment_a": 0.25, "treatment_b": 0.25},
        unit="user_id",
    )
    res = exp.analyze(
        neyman.Mean("revenue"),
        # CUPED on pre-period revenue; new users (no pre-period) kept by an indicator.
        neyman.Mean(
            "revenue",
            covariate="revenue_pre",
            missing_covariate="indicator",
            name="revenue (CUPED)",
        ),
        neyman.Proportion("converted"),
        neyman.Ratio("clicks", "impressions"),
    )
    elapsed = time.perf_counter() - start

    print(res)
    print()
    for c in res:
        if isinstance(c, neyman.AdjustedResult):
            print(
                f"{c.metric}, {c.treatment}: adjustment cut the variance of the effect to "
                f"{100 * c.variance_ratio:.0f}% (CI width {c.ci_high - c.ci_low:.3g} instead of "
                f"{c.unadjusted.ci_high - c.unadjusted.ci_low:.3g})"
            )
    print()
    print("Known true relative effects vs 95% intervals:")
    for c in res:
        truth = TRUE_EFFECTS.get((c.metric, c.treatment))
        if truth is None:
            continue
        covered = c.rel_ci_low <= truth <= c.rel_ci_high
        print(
            f"  {c.metric:>20} {c.treatment:<12} true {100 * truth:+5.1f}%  "
            f"CI [{100 * c.rel_ci_low:+6.2f}%, {100 * c.rel_ci_high:+6.2f}%]  "
            f"{'covered' if covered else 'NOT covered'}"
        )
    print(
        f"\nanalysed in {1000 * elapsed:.1f} ms (first call, imports included) "
        f"on {neyman.get_num_threads()} threads"
    )


if __name__ == "__main__":
    main()
