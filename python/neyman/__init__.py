"""neyman: statistics for online controlled experiments (A/B tests), with Rust kernels.

Functions for arrays (``ttest``, ``ztest``, ``proportions``, ``ratio``, ``cuped``, ``srm``) and an
experiment-level API for frames (``Experiment`` with ``Mean``, ``Proportion``, ``Ratio``). Every
estimator is built on mergeable sufficient statistics computed in one parallel pass.
"""

from neyman._adjust import RegressionStats, regression_adjust
from neyman._config import get_num_threads, set_num_threads
from neyman._functions import (
    CupedStats,
    MeanStats,
    ProportionStats,
    RatioCupedStats,
    RatioStats,
    cuped,
    proportions,
    ratio,
    ttest,
    ztest,
)
from neyman._results import (
    AdjustedResult,
    AnalysisResult,
    ConfidenceInterval,
    CupedResult,
    SRMResult,
    TestResult,
)
from neyman.errors import (
    InputError,
    InputTypeError,
    InsufficientDataError,
    LengthMismatchError,
    NeymanError,
    ZeroVarianceError,
)
from neyman.experiment import Experiment, Mean, Proportion, Ratio, srm

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
    "NeymanError",
    "Proportion",
    "ProportionStats",
    "Ratio",
    "RatioCupedStats",
    "RatioStats",
    "RegressionStats",
    "SRMResult",
    "TestResult",
    "ZeroVarianceError",
    "__version__",
    "cuped",
    "get_num_threads",
    "proportions",
    "ratio",
    "regression_adjust",
    "set_num_threads",
    "srm",
    "ttest",
    "ztest",
]
