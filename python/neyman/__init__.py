"""neyman: statistics for online controlled experiments (A/B tests), with Rust kernels.

Functions for arrays (``ttest``, ``ztest``, ``proportions``, ``ratio``, ``cuped``, ``srm``,
``wild_cluster_bootstrap``) and an
experiment-level API for frames (``Experiment`` with ``Mean``, ``Proportion``, ``Ratio``). Every
estimator is built on mergeable sufficient statistics (``MeanStats``, ``ProportionStats``, ...):
frozen objects backed by the Rust core's structs, filled in one parallel pass, that merge across
chunks and processes and pickle.
"""

from neyman._config import get_num_threads, set_num_threads
from neyman._results import (
    AdjustedResult,
    AnalysisResult,
    ConfidenceInterval,
    CupedResult,
    SRMResult,
    TestResult,
    WildBootstrapResult,
)
from neyman._stats import (
    CupedStats,
    MeanStats,
    ProportionStats,
    RatioCupedStats,
    RatioStats,
    RegressionStats,
    merge_arms,
)
from neyman.adjustment import regression_adjust
from neyman.comparisons import cuped, proportions, ratio, ttest, ztest
from neyman.errors import (
    InputError,
    InputTypeError,
    InsufficientDataError,
    LengthMismatchError,
    NeymanError,
    PrecisionLossError,
    ZeroVarianceError,
)
from neyman.experiment import Experiment, srm
from neyman.metrics import Mean, Metric, Proportion, Ratio
from neyman.wild_cluster_bootstrap import wild_cluster_bootstrap

__version__ = "0.1.0"

__all__ = [
    "AdjustedResult",
    "AnalysisResult",
    "ConfidenceInterval",
    "CupedResult",
    "CupedStats",
    "Experiment",
    "InputError",
    "InputTypeError",
    "InsufficientDataError",
    "LengthMismatchError",
    "Mean",
    "MeanStats",
    "Metric",
    "NeymanError",
    "PrecisionLossError",
    "Proportion",
    "ProportionStats",
    "Ratio",
    "RatioCupedStats",
    "RatioStats",
    "RegressionStats",
    "SRMResult",
    "TestResult",
    "WildBootstrapResult",
    "ZeroVarianceError",
    "__version__",
    "cuped",
    "get_num_threads",
    "merge_arms",
    "proportions",
    "ratio",
    "regression_adjust",
    "set_num_threads",
    "srm",
    "ttest",
    "wild_cluster_bootstrap",
    "ztest",
]
