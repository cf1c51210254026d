"""neyman: statistics for online controlled experiments (A/B tests), with Rust kernels.

Functions for arrays (``ttest``, ``ztest``, ``proportions``, ``ratio``, ``cuped``, ``srm``) and an
experiment-level API for frames (``Experiment`` with ``Mean``, ``Proportion``, ``Ratio``), and
experiment design (``power``, ``mde``, ``mde_by_duration``, ``simulate_power``, ``assign``,
``balance``). Every
estimator is built on mergeable sufficient statistics (``MeanStats``, ``ProportionStats``, ...):
frozen objects backed by the Rust core's structs, filled in one parallel pass, that merge across
chunks and processes and pickle.
"""

from neyman._config import get_num_threads, set_num_threads
from neyman._design_results import BalanceResult, DurationResult, PowerResult, SimulationResult
from neyman._results import (
    AdjustedResult,
    AnalysisResult,
    ConfidenceInterval,
    CupedResult,
    SRMResult,
    TestResult,
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
from neyman.design import assign, balance, mde, mde_by_duration, power, simulate_power
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

__version__ = "0.1.0"

__all__ = [
    "AdjustedResult",
    "AnalysisResult",
    "BalanceResult",
    "ConfidenceInterval",
    "CupedResult",
    "CupedStats",
    "DurationResult",
    "Experiment",
    "InputError",
    "InputTypeError",
    "InsufficientDataError",
    "LengthMismatchError",
    "Mean",
    "MeanStats",
    "Metric",
    "NeymanError",
    "PowerResult",
    "PrecisionLossError",
    "Proportion",
    "ProportionStats",
    "Ratio",
    "RatioCupedStats",
    "RatioStats",
    "RegressionStats",
    "SRMResult",
    "SimulationResult",
    "TestResult",
    "ZeroVarianceError",
    "__version__",
    "assign",
    "balance",
    "cuped",
    "get_num_threads",
    "mde",
    "mde_by_duration",
    "merge_arms",
    "power",
    "proportions",
    "ratio",
    "regression_adjust",
    "set_num_threads",
    "simulate_power",
    "srm",
    "ttest",
    "ztest",
]
