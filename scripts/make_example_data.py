"""Generate the deterministic example A/B-test dataset ``data/example_experiment.parquet``.

The dataset simulates a two-week, three-arm experiment (``control``, ``treatment_a``,
``treatment_b``) with 200,000 users, one row per user. All randomness comes from a single
``numpy.random.default_rng(20261123)`` stream and the Parquet file is written without any
run-dependent metadata, so re-running the script with the same numpy/pyarrow versions
produces a byte-identical file.

Every covariate and every noise term is drawn for all users independently of the arm; the
arm only enters through exact multiplicative factors on per-user quantities. Hence the true
effects hold exactly in expectation:

* ``revenue``: ``treatment_a`` multiplies the expected revenue by 1.03; ``treatment_b``: none.
* ``converted``: ``treatment_a`` multiplies the conversion probability by 1.05;
  ``treatment_b``: none.
* ``clicks / impressions``: ``treatment_b`` multiplies the per-user CTR by 1.04;
  ``treatment_a``: none (impressions are unaffected by any arm).

See ``data/README.md`` for the column dictionary and the generating model.

Usage::

    python scripts/make_example_data.py [--out PATH]
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

SEED = 20261123
N_USERS = 200_000
N_DAYS = 14

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "data" / "example_experiment.parquet"

ARMS = ("control", "treatment_a", "treatment_b")
ARM_PROBS = (0.50, 0.25, 0.25)

# True multiplicative effects (exact in expectation by construction).
REVENUE_LIFT = {"control": 1.0, "treatment_a": 1.03, "treatment_b": 1.0}
CONVERSION_LIFT = {"control": 1.0, "treatment_a": 1.05, "treatment_b": 1.0}
CTR_LIFT = {"control": 1.0, "treatment_a": 1.0, "treatment_b": 1.04}

COUNTRIES = ("US", "DE", "GB", "FR", "BR", "IN")
COUNTRY_PROBS = (0.38, 0.16, 0.14, 0.12, 0.12, 0.08)
COUNTRY_N_CITIES = (110, 60, 60, 50, 70, 50)  # 400 cities in total
COUNTRY_LOG_SPEND = (0.25, 0.10, 0.15, 0.05, -0.35, -0.60)
COUNTRY_LOGIT_BUY = (0.20, 0.05, 0.10, 0.00, -0.25, -0.40)

PLATFORMS = ("ios", "android", "web")
PLATFORM_PROBS = (0.40, 0.42, 0.18)
PLATFORM_LOG_SPEND = (0.20, -0.10, 0.00)
PLATFORM_LOGIT_BUY = (0.15, -0.10, -0.05)
PLATFORM_LOG_CTR = (0.00, 0.05, -0.25)
PLATFORM_LOG_CONV = (0.05, -0.05, 0.00)

CITY_ZIPF_EXPONENT = 1.1
CITY_LOG_SPEND_SD = 0.20
CITY_LOGIT_BUY_SD = 0.15

EXPOSURE_DAY_DECAY = 0.80  # P(first_exposure_day = d) proportional to 0.8**d
NEW_USER_SHARE = 0.10  # users without pre-period history -> revenue_pre is NaN

# Revenue: hurdle model. P(buy) = sigmoid(logit), spend = exp(log_mu + SPEND_SD * eps).
BUY_INTERCEPT = -2.40
BUY_INTERCEPT_PRE = -1.65  # pre-period window is longer (four weeks)
BUY_VALUE_LOADING = 2.20
BUY_EXPOSURE_LOADING = 0.60  # times log(days exposed / 7)
SPEND_LOG_BASE = np.log(18.0)
SPEND_LOG_BASE_PRE = np.log(30.0)
SPEND_VALUE_LOADING = 0.50
SPEND_HABIT_SD = 0.80  # persistent per-user spend level, shared by both periods
SPEND_SD = 0.45  # period-specific log-spend noise

# Conversion: p = min(CONV_BASE * exp(L * value - L**2 / 2 + platform), CONV_CAP) * lift.
CONV_BASE = 0.10
CONV_VALUE_LOADING = 0.35
CONV_CAP = 0.90

# Engagement: impressions = 1 + Poisson(lambda), lambda gamma-mixed (negative binomial).
IMPRESSIONS_EXTRA_MEAN = 19.0
IMPRESSIONS_GAMMA_SHAPE = 2.0
IMPRESSIONS_VALUE_LOADING = 0.20
CTR_BETA_A = 4.0  # Beta(4, 76) has mean 0.05
CTR_BETA_B = 76.0
CTR_CAP = 0.90

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def sigmoid(x: FloatArray) -> FloatArray:
    """Numerically plain logistic function (inputs here are small)."""
    return 1.0 / (1.0 + np.exp(-x))


def draw_categories(
    rng: np.random.Generator,
    probs: Sequence[float] | FloatArray,
    n: int,
) -> IntArray:
    """Draw ``n`` independent category codes with the given probabilities."""
    p = np.asarray(probs, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int64)


def draw_cities(rng: np.random.Generator, country: IntArray) -> IntArray:
    """Assign each user a city inside their country with Zipf-like city sizes.

    Country ``k`` owns ``COUNTRY_N_CITIES[k]`` cities; within a country the city of rank ``r``
    has weight ``r ** -CITY_ZIPF_EXPONENT``. City ids are a random permutation of
    ``0..n_cities-1`` so they do not reveal the country.
    """
    n_cities = int(sum(COUNTRY_N_CITIES))
    city_ids = rng.permutation(n_cities).astype(np.int64)
    city = np.empty(country.shape[0], dtype=np.int64)
    start = 0
    for code, n_local in enumerate(COUNTRY_N_CITIES):
        ids = city_ids[start : start + n_local]
        start += n_local
        ranks = np.arange(1, n_local + 1, dtype=np.float64)
        weights = ranks**-CITY_ZIPF_EXPONENT
        members = np.flatnonzero(country == code)
        local = rng.choice(n_local, size=members.shape[0], p=weights / weights.sum())
        city[members] = ids[local]
    return city


def simulate(
    rng: np.random.Generator,
) -> tuple[dict[str, np.ndarray], dict[str, FloatArray]]:
    """Simulate all columns; also return per-user control-arm expectations (not written)."""
    n = N_USERS
    # Unique 9-digit ids in random order.
    user_id = 100_000_000 + rng.choice(900_000_000, size=n, replace=False)
    arm = draw_categories(rng, ARM_PROBS, n)
    country = draw_categories(rng, COUNTRY_PROBS, n)
    platform = draw_categories(rng, PLATFORM_PROBS, n)
    city = draw_cities(rng, country)
    n_cities = int(sum(COUNTRY_N_CITIES))
    city_log_spend = rng.normal(0.0, CITY_LOG_SPEND_SD, size=n_cities)
    city_logit_buy = rng.normal(0.0, CITY_LOGIT_BUY_SD, size=n_cities)

    day_weights = EXPOSURE_DAY_DECAY ** np.arange(N_DAYS, dtype=np.float64)
    first_day = draw_categories(rng, day_weights, n)
    days_exposed = (N_DAYS - first_day).astype(np.float64)

    value = rng.standard_normal(n)  # latent user value, shared by all outcomes
    # Persistent spend level, shared by the pre-period and in-experiment revenue.
    habit = rng.standard_normal(n)
    is_new = rng.random(n) < NEW_USER_SHARE

    # Per-arm multipliers (the only place where the arm enters).
    rev_lift = np.array([REVENUE_LIFT[a] for a in ARMS])[arm]
    conv_lift = np.array([CONVERSION_LIFT[a] for a in ARMS])[arm]
    ctr_lift = np.array([CTR_LIFT[a] for a in ARMS])[arm]

    # Revenue: hurdle (buy or not) x lognormal spend, pre-period and in-experiment.
    base_logit = (
        BUY_VALUE_LOADING * value
        + np.asarray(COUNTRY_LOGIT_BUY)[country]
        + np.asarray(PLATFORM_LOGIT_BUY)[platform]
        + city_logit_buy[city]
    )
    base_log_spend = (
        SPEND_VALUE_LOADING * value
        + SPEND_HABIT_SD * habit
        + np.asarray(COUNTRY_LOG_SPEND)[country]
        + np.asarray(PLATFORM_LOG_SPEND)[platform]
        + city_log_spend[city]
    )
    p_buy_pre = sigmoid(BUY_INTERCEPT_PRE + base_logit)
    exposure_logit = BUY_EXPOSURE_LOADING * np.log(days_exposed / 7.0)
    p_buy = sigmoid(BUY_INTERCEPT + base_logit + exposure_logit)

    buy_pre = rng.random(n) < p_buy_pre
    noise_pre = SPEND_SD * rng.standard_normal(n)
    spend_pre = np.exp(SPEND_LOG_BASE_PRE + base_log_spend + noise_pre)
    revenue_pre = np.where(buy_pre, spend_pre, 0.0)
    revenue_pre[is_new] = np.nan

    buy = rng.random(n) < p_buy
    log_mu = SPEND_LOG_BASE + base_log_spend
    spend = np.exp(log_mu + SPEND_SD * rng.standard_normal(n)) * rev_lift
    revenue = np.where(buy, spend, 0.0)

    # Conversion: per-user probability, multiplied by the arm's lift.
    conv_norm = np.exp(-0.5 * CONV_VALUE_LOADING**2)
    p_conv_base = np.minimum(
        CONV_BASE
        * conv_norm
        * np.exp(CONV_VALUE_LOADING * value + np.asarray(PLATFORM_LOG_CONV)[platform]),
        CONV_CAP,
    )
    p_conv = p_conv_base * conv_lift
    converted = rng.random(n) < p_conv

    # Engagement: negative-binomial impressions (>= 1) and binomial clicks.
    imp_norm = np.exp(-0.5 * IMPRESSIONS_VALUE_LOADING**2)
    imp_value = np.exp(IMPRESSIONS_VALUE_LOADING * value)
    imp_scale = IMPRESSIONS_EXTRA_MEAN * imp_norm * imp_value
    gamma = rng.gamma(IMPRESSIONS_GAMMA_SHAPE, 1.0 / IMPRESSIONS_GAMMA_SHAPE, size=n)
    impressions = 1 + rng.poisson(imp_scale * gamma)
    ctr_platform = np.exp(np.asarray(PLATFORM_LOG_CTR)[platform])
    ctr_draw = rng.beta(CTR_BETA_A, CTR_BETA_B, size=n)
    ctr_base = np.minimum(ctr_draw * ctr_platform, CTR_CAP)
    ctr = ctr_base * ctr_lift
    clicks = rng.binomial(impressions, ctr)

    columns: dict[str, np.ndarray] = {
        "user_id": user_id,
        "arm": arm,
        "country": country,
        "platform": platform,
        "city": city.astype(np.int32),
        "first_exposure_day": first_day.astype(np.int16),
        "revenue_pre": revenue_pre,
        "revenue": revenue,
        "converted": converted.astype(np.int8),
        "impressions": impressions.astype(np.int32),
        "clicks": clicks.astype(np.int32),
    }
    # Per-user control-arm expectations given the covariates (for reporting only); the
    # expectation under arm ``a`` is exactly ``LIFT[a]`` times these.
    oracle = {
        "revenue": p_buy * np.exp(log_mu + 0.5 * SPEND_SD**2),
        "converted": p_conv_base,
        "clicks": impressions * ctr_base,
        "impressions": impressions.astype(np.float64),
    }
    return columns, oracle


def to_table(columns: dict[str, np.ndarray]) -> pa.Table:
    """Convert the simulated columns to an Arrow table with plain string categories."""
    levels = {"arm": ARMS, "country": COUNTRIES, "platform": PLATFORMS}
    arrays: dict[str, pa.Array] = {}
    for name, values in columns.items():
        if name in levels:
            dictionary = pa.array(levels[name], type=pa.string())
            arrays[name] = dictionary.take(pa.array(values))
        else:
            arrays[name] = pa.array(values)
    return pa.table(arrays)


def write_parquet(table: pa.Table, out: Path) -> None:
    """Write ``table`` deterministically (zstd, no timestamps or run-dependent metadata)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        table,
        out,
        compression="zstd",
        compression_level=9,
        write_statistics=True,
        use_dictionary=True,
        row_group_size=N_USERS,
    )


def sha256_of(path: Path) -> str:
    """Hex SHA-256 digest of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def summarize(
    columns: dict[str, np.ndarray],
    oracle: dict[str, FloatArray],
    out: Path,
) -> None:
    """Print realised counts, zero shares, correlations and per-arm metrics."""
    arm = columns["arm"]
    rev = columns["revenue"]
    pre = columns["revenue_pre"]
    print(f"rows: {arm.shape[0]:,}")
    for code, name in enumerate(ARMS):
        count = int((arm == code).sum())
        print(f"  {name:<12} n={count:>7,} ({count / arm.shape[0]:.4f})")
    has_pre = ~np.isnan(pre)
    print(f"revenue zero share:       {np.mean(rev == 0):.4f}")
    print(f"revenue_pre zero share:   {np.mean(pre[has_pre] == 0):.4f} (non-NaN)")
    print(f"revenue_pre NaN share:    {np.mean(~has_pre):.4f}")
    corr = np.corrcoef(rev[has_pre], pre[has_pre])[0, 1]
    print(f"corr(revenue, revenue_pre) (non-NaN): {corr:.4f}")
    print("realised per arm:   mean revenue | conversion | clicks/impressions")
    for code, name in enumerate(ARMS):
        m = arm == code
        ctr = columns["clicks"][m].sum() / columns["impressions"][m].sum()
        conv = columns["converted"][m].mean()
        print(f"  {name:<16} {rev[m].mean():12.4f} | {conv:10.5f} | {ctr:.5f}")
    # Expected value if all users were in the arm (average over the realised covariates).
    true_rev = oracle["revenue"].mean()
    true_conv = oracle["converted"].mean()
    true_ctr = oracle["clicks"].sum() / oracle["impressions"].sum()
    print("expected per arm:   mean revenue | conversion | clicks/impressions")
    for name in ARMS:
        rev_a = true_rev * REVENUE_LIFT[name]
        conv_a = true_conv * CONVERSION_LIFT[name]
        ctr_a = true_ctr * CTR_LIFT[name]
        print(f"  {name:<16} {rev_a:12.4f} | {conv_a:10.5f} | {ctr_a:.5f}")
    print(f"mean impressions: {columns['impressions'].mean():.3f}")
    print(f"distinct cities: {np.unique(columns['city']).shape[0]}")
    print(f"file: {out} ({out.stat().st_size:,} bytes)")
    print(f"sha256: {sha256_of(out)}")


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Generate example A/B-test data.")
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"output Parquet path (default: {DEFAULT_OUT})",
    )
    args = parser.parse_args(argv)
    rng = np.random.default_rng(SEED)
    columns, oracle = simulate(rng)
    write_parquet(to_table(columns), args.out)
    summarize(columns, oracle, args.out)


if __name__ == "__main__":
    main()
