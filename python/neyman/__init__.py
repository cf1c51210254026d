"""neyman: statistics for online controlled experiments (A/B tests), with Rust kernels.

Functions for arrays (``ttest``, ``ztest``, ``proportions``, ``ratio``, ``cuped``, ``srm``), least
squares with cluster-robust inference (``ols``, ``wild_cluster_bootstrap``), an experiment-level
API for frames (``Experiment`` with ``Mean``, ``Proportion``, ``Ratio``), and experiment design
(``power``, ``mde``, ``mde_by_duration``, ``simulate_power``, ``assign``, ``balance``), and
sequential testing (``msprt``, ``confidence_sequence``, ``sequential_srm``, ``Monitor``). Every
estimator is built on mergeable sufficient statistics (``MeanStats``, ``ProportionStats``, ...):
frozen objects backed by the Rust core's structs, filled in one parallel pass, that merge across
chunks and processes and pickle.
"""

from neyman._config import get_num_threads, set_num_threads
from neyman._design_results import BalanceResult, DurationResult, PowerResult, SimulationResult
from neyman._results import (
    AdjustedResult,
    AnalysisResult,
    ClusteredResult,
    ConfidenceInterval,
    CupedResult,
    OLSResult,
    PermutationResult,
    QuantileResult,
    SequentialPath,
    SequentialResult,
    SequentialSRMResult,
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
from neyman.confidence_sequence import confidence_sequence, confidence_sequence_path
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
from neyman.group_sequential import (
    GroupSequentialBounds,
    GroupSequentialDesign,
    GroupSequentialTest,
    MsprtDesign,
    msprt_power,
)
from neyman.metrics import Mean, Metric, Proportion, Quantile, Ratio
from neyman.monitor import Monitor
from neyman.msprt import msprt, msprt_path
from neyman.permutation import permutation_test
from neyman.quantile import quantile
from neyman.sequential_srm import sequential_srm
from neyman.wild_cluster_bootstrap import wild_cluster_bootstrap

__version__ = "0.1.0"

__all__ = [
    "AdjustedResult",
    "AnalysisResult",
    "BalanceResult",
    "ClusterStats",
    "ClusteredResult",
    "ConfidenceInterval",
    "CupedResult",
    "CupedStats",
    "DurationResult",
    "Experiment",
    "GroupSequentialBounds",
    "GroupSequentialDesign",
    "GroupSequentialTest",
    "InputError",
    "InputTypeError",
    "InsufficientDataError",
    "LengthMismatchError",
    "Mean",
    "MeanStats",
    "Metric",
    "Monitor",
    "MsprtDesign",
    "NeymanError",
    "OLSResult",
    "PermutationResult",
    "PowerResult",
    "PrecisionLossError",
    "Proportion",
    "ProportionStats",
    "Quantile",
    "QuantileResult",
    "Ratio",
    "RatioCupedStats",
    "RatioStats",
    "RegressionStats",
    "SRMResult",
    "SequentialPath",
    "SequentialResult",
    "SequentialSRMResult",
    "SimulationResult",
    "TestResult",
    "WildBootstrapResult",
    "ZeroVarianceError",
    "__version__",
    "assign",
    "balance",
    "cluster_stats",
    "confidence_sequence",
    "confidence_sequence_path",
    "cuped",
    "get_num_threads",
    "mde",
    "mde_by_duration",
    "merge_arms",
    "msprt",
    "msprt_path",
    "msprt_power",
    "ols",
    "permutation_test",
    "power",
    "proportions",
    "quantile",
    "ratio",
    "regression_adjust",
    "sequential_srm",
    "set_num_threads",
    "simulate_power",
    "srm",
    "ttest",
    "wild_cluster_bootstrap",
    "ztest",
]
