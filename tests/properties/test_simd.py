"""The scalar and the AVX2 lane implementations give the same bits (issue #8).

The Rust tests run the same cases through every implementation; here the whole package runs in a
fresh process with ``NEYMAN_SIMD=scalar`` (which forces the scalar implementation) and with the
default choice, on grouped and ungrouped input of every kernel, and every float of every result
must print identically (``repr``). On a CPU without AVX2 both runs are scalar and the test still
checks that the variable is accepted. An unknown value is an error naming the variable.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
import numpy as np, pandas as pd, neyman
rng = np.random.default_rng(11)
n = 300_001
x = rng.normal(10.0, 2.0, n)
den = rng.poisson(8, n) + 1.0
df = pd.DataFrame({
    "arm": rng.integers(0, 3, n).astype(np.int8),
    "y": 1.0 + 0.8 * x + rng.normal(0.0, 1.0, n),
    "x": x,
    "b": (rng.random(n) < 0.3).astype(np.float64),
    "num": rng.binomial(den.astype(int), 0.1).astype(np.float64),
    "den": den,
})
df.loc[rng.integers(0, n, 50), "y"] = np.nan
res = neyman.Experiment(df, variant="arm", control=0).analyze(
    neyman.Mean("y"), neyman.Mean("y", covariate="x", name="cuped"), neyman.Proportion("b"),
    neyman.Ratio("num", "den"), nan_policy="omit",
)
c, t = df.y.to_numpy()[df.arm == 0], df.y.to_numpy()[df.arm == 1]
one = neyman.ttest(c[~np.isnan(c)], t[~np.isnan(t)])
for r in [*res, one]:
    print(r.metric, repr(r.effect), repr(r.se), repr(r.pvalue), repr(r.rel_ci_low))
"""


def _run(env_value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NEYMAN_SIMD"}
    if env_value is not None:
        env["NEYMAN_SIMD"] = env_value
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, env=env
    )


def test_scalar_and_default_paths_agree_bit_for_bit() -> None:
    scalar, default = _run("scalar"), _run(None)
    assert scalar.returncode == 0, scalar.stderr
    assert default.returncode == 0, default.stderr
    lines = scalar.stdout.splitlines()
    assert len(lines) == 9  # 4 metrics x 2 treatment arms, and the array t-test
    assert lines == default.stdout.splitlines()


@pytest.mark.parametrize("value", ["sse9", "AVX512"])
def test_unknown_simd_value_is_named(value: str) -> None:
    out = _run(value)
    assert out.returncode != 0
    assert "NEYMAN_SIMD" in out.stderr
