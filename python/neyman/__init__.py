"""neyman: statistics for online controlled experiments (A/B tests), with Rust kernels.

Functions for arrays (``ttest``, ``ztest``, ``proportions``, ``ratio``, ``cuped``, ``srm``), least
squares with cluster-robust inference (``ols``, ``wild_cluster_bootstrap``), and an
experiment-level API for frames (``Experiment`` with ``Mean``, ``Proportion``, ``Ratio``). Every
estimator is built on mergeable sufficient statistics (``MeanStats``, ``ProportionStats``, ...):
frozen objects backed by the Rust core's structs, filled in one parallel pass, that merge across
chunks and processes and pickle.
"""

from neyman._config import get_num_threads, set_num_threads
from neyman._results import (
    AdjustedResult,
    AnalysisResult,
    ClusteredResult,
    ConfidenceInterval,
    CupedResult,
    OLSResult,
    SRMResult,
    TestResult,
    WildBootstrapResult,
)
from neyman._stats import (
    ClusterStats,
    CupedStats,
    MeanStats,
    ProportionStats,
    RatioCupedStats,
    RatioStats,
    RegressionStats,
    merge_arms,
)
from neyman.adjustment import regression_adjust
from neyman.cluster import cluster_stats, ols
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
    "ClusterStats",
    "ClusteredResult",
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
    "OLSResult",
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
    "cluster_stats",
    "cuped",
    "get_num_threads",
    "merge_arms",
    "ols",
    "proportions",
    "ratio",
    "regression_adjust",
    "set_num_threads",
    "srm",
    "ttest",
    "wild_cluster_bootstrap",
    "ztest",
]
