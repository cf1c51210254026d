"""Bad input to ``neyman.wild_cluster_bootstrap``: each raises the documented class with a message
naming the argument (``tests/conftest.py``'s ``check_raises`` checks the exact class and that input
errors are also ``ValueError`` / ``TypeError``), and the caller's arrays are left untouched.

No tolerances: every check is of an exception class and message.
"""

from __future__ import annotations

import numpy as np
import pytest
from neyman import (
    InputError,
    InputTypeError,
    InsufficientDataError,
    LengthMismatchError,
    ZeroVarianceError,
    wild_cluster_bootstrap,
)

from tests.conftest import check_raises


def data(G: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cl = np.repeat(np.arange(G), 10)
    X = np.column_stack([rng.normal(0, 1, len(cl)), rng.normal(0, 1, len(cl))])
    y = X[:, 0] + rng.normal(0, 1, G)[cl] + rng.normal(0, 1, len(cl))
    return y, X, cl


def wcb(*args, **kwargs):
    kwargs.setdefault("param", 0)
    return wild_cluster_bootstrap(*args, **kwargs)


def test_cluster_count() -> None:
    y, X, cl = data()
    check_raises(InsufficientDataError, r"cluster has 1 cluster; at least 2", wcb, y, X, 0 * cl)
    # One cluster left after dropping NaN rows.
    y2 = y.copy()
    y2[cl > 0] = np.nan
    check_raises(InsufficientDataError, "cluster has 1 cluster", wcb, y2, X, cl, nan_policy="omit")
    cl2 = cl.astype(float)
    cl2[3] = np.nan
    check_raises(InputError, "cluster has 1 missing values", wcb, y, X, cl2)
    cl3 = cl.astype(object)
    cl3[0] = None
    check_raises(InputError, "cluster has 1 missing values", wcb, y, X, cl3)


def test_lengths() -> None:
    y, X, cl = data()
    check_raises(
        LengthMismatchError, "cluster has length 79 but y has length 80", wcb, y, X, cl[1:]
    )
    check_raises(LengthMismatchError, "X has 79 rows but y has length 80", wcb, y, X[1:], cl)


def test_nan_and_inf() -> None:
    y, X, cl = data()
    y2 = y.copy()
    y2[4] = np.nan
    check_raises(InputError, r"y or X has NaN in 1 rows \(nan_policy='raise'\)", wcb, y2, X, cl,
                 nan_policy="raise")  # fmt: skip
    res = wcb(y2, X, cl)
    assert np.isnan(res.pvalue)
    assert np.isnan(res.statistic)
    y2[4] = np.inf
    check_raises(InputError, "y has 1 infinite values", wcb, y2, X, cl, nan_policy="omit")
    X2 = X.copy()
    X2[0, 1] = -np.inf
    check_raises(InputError, "X has 1 infinite values", wcb, y, X2, cl)


def test_param() -> None:
    y, X, cl = data()
    check_raises(InputError, r"param == 'z' is not a column of X", wcb, y, X, cl, param="z")
    check_raises(InputError, "param == 2 is not a column index of X, which has 2", wcb, y, X, cl,
                 param=2)  # fmt: skip
    check_raises(InputError, "param is a contrast of 3 weights but X has 2 columns", wcb, y, X,
                 cl, param=[1.0, 0.0, 0.0])  # fmt: skip
    check_raises(InputError, "param is a contrast of zeros", wcb, y, X, cl, param=[0.0, 0.0])
    check_raises(InputError, "param == nan, must be finite", wcb, y, X, cl, param=[np.nan, 1.0])
    check_raises(InputTypeError, "param must be a column name, a column index or a contrast", wcb,
                 y, X, cl, param=1.5)  # fmt: skip
    check_raises(InputTypeError, "param must be", wcb, y, X, cl, param=True)


def test_options() -> None:
    y, X, cl = data()
    check_raises(InputError, "weights == 'mammen', must be one of 'rademacher', 'webb'", wcb, y,
                 X, cl, weights="mammen")  # fmt: skip
    check_raises(InputError, "n_resamples == 0, must be at least 1", wcb, y, X, cl, n_resamples=0)
    check_raises(InputError, "n_resamples == 100000000, must be at most 10_000_000", wcb, y, X,
                 cl, n_resamples=10**8)  # fmt: skip
    check_raises(InputTypeError, "n_resamples must be an int, got float", wcb, y, X, cl,
                 n_resamples=99.0)  # fmt: skip
    check_raises(InputError, "rng == -1, must be a seed in", wcb, y, X, cl, rng=-1)
    check_raises(InputTypeError, "rng must be an int seed, a numpy.random.Generator", wcb, y, X,
                 cl, rng="seed")  # fmt: skip
    check_raises(InputError, "confidence_level == 1.5, must be strictly between 0 and 1", wcb, y,
                 X, cl, confidence_level=1.5)  # fmt: skip
    check_raises(InputError, "alternative == 'larger', must be one of", wcb, y, X, cl,
                 alternative="larger")  # fmt: skip
    check_raises(InputError, "nan_policy == 'drop', must be one of", wcb, y, X, cl,
                 nan_policy="drop")  # fmt: skip
    check_raises(InputTypeError, "intercept must be True or False", wcb, y, X, cl, intercept="no")
    check_raises(InputError, "null == inf, must be finite", wcb, y, X, cl, null=np.inf)
    check_raises(InputTypeError, "null must be a number, got str", wcb, y, X, cl, null="0")


def test_data_types_and_degenerate_designs() -> None:
    y, X, cl = data()
    check_raises(InputTypeError, "y", wcb, np.array(["a"] * 80), X, cl)
    check_raises(InputTypeError, "X column 0 has string dtype", wcb, y, np.full((80, 2), "b"), cl)
    # A constant column next to the intercept: X'X is singular.
    Xc = np.column_stack([X[:, 0], np.ones(80)])
    check_raises(InputError, "X: column 2 is a linear combination of the others", wcb, y, Xc, cl)
    # No more rows than regressors.
    check_raises(InsufficientDataError, "y has 3 observations; at least 4 are needed", wcb,
                 y[:3], X[:3], np.array([0, 1, 2]))  # fmt: skip
    # y an exact linear function of X: no variance.
    check_raises(ZeroVarianceError, "y: the cluster-robust standard error", wcb,
                 1.0 + 2.0 * X[:, 0] - X[:, 1], X, cl)  # fmt: skip


def test_caller_data_untouched() -> None:
    y, X, cl = data()
    y[2] = np.nan
    copies = (y.copy(), X.copy(), cl.copy())
    wcb(y, X, cl, nan_policy="omit", rng=1)
    with pytest.raises(InputError):
        wcb(y, X, cl, nan_policy="raise")
    for a, b in zip((y, X, cl), copies, strict=True):
        np.testing.assert_array_equal(a, b)
