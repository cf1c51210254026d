# Hand-written stub of the compiled module (checked by mypy.stubtest).
from typing import Any, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "ClusterStats",
    "CupedStats",
    "MeanStats",
    "ProportionStats",
    "RatioCupedStats",
    "RatioStats",
    "RegressionStats",
    "assign_ints",
    "assign_strings",
    "assignment_hashes",
    "balance_test",
    "cluster_compare",
    "cluster_ols",
    "cluster_ols_two_way",
    "code_summary",
    "coefficient_test",
    "confidence_sequence_path",
    "cuped_test",
    "dense_cluster_codes",
    "design_effect",
    "floor_indices",
    "floor_normals",
    "floor_sum",
    "get_num_threads",
    "gsd_bounds",
    "gsd_crossing",
    "gsd_design",
    "gsd_msprt_power",
    "history_by_day",
    "icc_anova",
    "mean_test",
    "msprt_horizon_tau2",
    "msprt_paths",
    "multiple_critical_value",
    "nct_cdf",
    "permutation_test_units",
    "post_stratified_test",
    "power_solve",
    "proportion_test",
    "quantile_arms",
    "quantile_compare",
    "ratio_cuped_test",
    "ratio_test",
    "regression_from_stats",
    "regression_test",
    "rows_ols",
    "scan_cluster",
    "scan_cuped",
    "scan_mean",
    "scan_proportion",
    "scan_ratio",
    "scan_ratio_cluster",
    "scan_ratio_cuped",
    "sequential_srm_path",
    "set_num_threads",
    "simulate_power",
    "simulate_resampling",
    "srm_test",
    "wild_cluster_bootstrap_test",
]

_Codes = (
    npt.NDArray[np.int8] | npt.NDArray[np.int16] | npt.NDArray[np.int32] | npt.NDArray[np.int64]
)
_F64 = npt.NDArray[np.float64]
_Opts = tuple[str, float, str]

@final
class MeanStats:
    def __new__(cls, n: Any, mean: Any, m2: Any, n_nan: Any = None) -> MeanStats: ...
    @classmethod
    def from_sums(cls, n: Any, sum: Any, sum_sq: Any) -> MeanStats: ...
    @classmethod
    def from_mean_std(cls, n: Any, mean: Any, std: Any) -> MeanStats: ...
    def merge(self, other: Any) -> MeanStats: ...
    @property
    def n(self) -> int: ...
    @property
    def mean(self) -> float: ...
    @property
    def m2(self) -> float: ...
    @property
    def n_nan(self) -> int: ...
    @property
    def variance(self) -> float: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __reduce__(self) -> tuple[type[MeanStats], tuple[Any, ...]]: ...

@final
class ProportionStats:
    def __new__(cls, successes: Any, trials: Any, n_nan: Any = None) -> ProportionStats: ...
    @classmethod
    def from_sums(cls, n: Any, sum: Any) -> ProportionStats: ...
    def merge(self, other: Any) -> ProportionStats: ...
    @property
    def successes(self) -> int: ...
    @property
    def trials(self) -> int: ...
    @property
    def n(self) -> int: ...
    @property
    def n_nan(self) -> int: ...
    @property
    def proportion(self) -> float: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __reduce__(self) -> tuple[type[ProportionStats], tuple[Any, ...]]: ...

@final
class RatioStats:
    def __new__(
        cls,
        n: Any,
        mean_num: Any,
        mean_den: Any,
        c_num_num: Any,
        c_den_den: Any,
        c_num_den: Any,
        n_nan: Any = None,
    ) -> RatioStats: ...
    @classmethod
    def from_sums(
        cls,
        n: Any,
        sum_num: Any,
        sum_den: Any,
        sum_num_sq: Any,
        sum_den_sq: Any,
        sum_num_den: Any,
    ) -> RatioStats: ...
    def merge(self, other: Any) -> RatioStats: ...
    @property
    def n(self) -> int: ...
    @property
    def mean_num(self) -> float: ...
    @property
    def mean_den(self) -> float: ...
    @property
    def c_num_num(self) -> float: ...
    @property
    def c_den_den(self) -> float: ...
    @property
    def c_num_den(self) -> float: ...
    @property
    def n_nan(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __reduce__(self) -> tuple[type[RatioStats], tuple[Any, ...]]: ...

@final
class CupedStats:
    def __new__(
        cls,
        n: Any,
        mean_y: Any,
        mean_x: Any,
        c_yy: Any,
        c_xx: Any,
        c_xy: Any,
        n_nan: Any = None,
    ) -> CupedStats: ...
    @classmethod
    def from_sums(
        cls, n: Any, sum_y: Any, sum_x: Any, sum_y_sq: Any, sum_x_sq: Any, sum_xy: Any
    ) -> CupedStats: ...
    def merge(self, other: Any) -> CupedStats: ...
    @property
    def n(self) -> int: ...
    @property
    def mean_y(self) -> float: ...
    @property
    def mean_x(self) -> float: ...
    @property
    def c_yy(self) -> float: ...
    @property
    def c_xx(self) -> float: ...
    @property
    def c_xy(self) -> float: ...
    @property
    def n_nan(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __reduce__(self) -> tuple[type[CupedStats], tuple[Any, ...]]: ...

@final
class RatioCupedStats:
    def __new__(cls, n: Any, means: Any, comoments: Any, n_nan: Any = None) -> RatioCupedStats: ...
    @classmethod
    def from_sums(cls, n: Any, sums: Any, products: Any) -> RatioCupedStats: ...
    def merge(self, other: Any) -> RatioCupedStats: ...
    @property
    def n(self) -> int: ...
    @property
    def means(self) -> tuple[float, float, float, float]: ...
    @property
    def comoments(self) -> list[list[float]]: ...
    @property
    def n_nan(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __reduce__(self) -> tuple[type[RatioCupedStats], tuple[Any, ...]]: ...

@final
class RegressionStats:
    def __new__(
        cls,
        n: Any,
        sum_y: Any,
        sum_y_sq: Any,
        sum_x: Any,
        sum_xy: Any,
        sum_xx: Any,
        covariates: Any,
    ) -> RegressionStats: ...
    def merge(self, other: Any) -> RegressionStats: ...
    @property
    def n(self) -> int: ...
    @property
    def sum_y(self) -> float: ...
    @property
    def sum_y_sq(self) -> float: ...
    @property
    def sum_x(self) -> list[float]: ...
    @property
    def sum_xy(self) -> list[float]: ...
    @property
    def sum_xx(self) -> list[list[float]]: ...
    @property
    def covariates(self) -> list[str]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __reduce__(self) -> tuple[type[RegressionStats], tuple[Any, ...]]: ...

def scan_mean(
    x: _F64, codes: _Codes | None, n_groups: int, name: str
) -> tuple[list[MeanStats], list[int]]: ...
def scan_proportion(
    x: _F64, codes: _Codes | None, n_groups: int
) -> tuple[list[ProportionStats], list[int], list[int]]: ...
def scan_ratio(
    num: _F64, den: _F64, codes: _Codes | None, n_groups: int, names: tuple[str, str]
) -> tuple[list[RatioStats], list[int], int]: ...
def scan_cuped(
    y: _F64, x: _F64, codes: _Codes | None, n_groups: int, names: tuple[str, str]
) -> tuple[list[CupedStats], list[int]]: ...
def scan_ratio_cuped(
    cols: tuple[_F64, _F64, _F64, _F64],
    codes: _Codes | None,
    n_groups: int,
    names: tuple[str, str, str, str],
) -> tuple[list[RatioCupedStats], list[int], list[int]]: ...
def mean_test(
    control: MeanStats, treatment: MeanStats, test: str, opts: _Opts
) -> dict[str, Any]: ...
def proportion_test(
    control: ProportionStats, treatment: ProportionStats, ci_method: str, opts: _Opts
) -> dict[str, Any]: ...
def ratio_test(control: RatioStats, treatment: RatioStats, opts: _Opts) -> dict[str, Any]: ...
def cuped_test(
    control: CupedStats, treatment: CupedStats, test: str, opts: _Opts
) -> dict[str, Any]: ...
def ratio_cuped_test(
    control: RatioCupedStats, treatment: RatioCupedStats, opts: _Opts
) -> dict[str, Any]: ...
def regression_test(
    y: _F64,
    numeric: list[tuple[str, _F64]],
    categorical: list[tuple[str, npt.NDArray[np.int32], list[str]]],
    arms: tuple[npt.NDArray[np.int32], list[str]],
    model: tuple[bool, str],
    opts: _Opts,
) -> dict[str, Any]: ...
def regression_from_stats(
    arms: list[RegressionStats], arm_labels: list[str], opts: _Opts
) -> dict[str, Any]: ...
def post_stratified_test(
    y: _F64,
    name: str,
    strata: tuple[npt.NDArray[np.int32], list[str]],
    arms: tuple[npt.NDArray[np.int32], list[str]],
    cov_type: str,
    opts: _Opts,
) -> dict[str, Any]: ...
def srm_test(observed: list[float], weights: list[float]) -> tuple[float, float, float]: ...
def get_num_threads() -> int: ...
def set_num_threads(n: int) -> None: ...
def code_summary(codes: _Codes, limit: int) -> tuple[int, int, list[int] | None] | None: ...
def floor_sum(x: _F64) -> float: ...
def wild_cluster_bootstrap_test(
    stats: ClusterStats,
    contrast: list[float],
    null: float,
    test: tuple[str, int, int],
    opts: tuple[str, float],
) -> dict[str, Any]: ...

@final
class ClusterStats:
    def __new__(
        cls,
        keys: Any,
        n: npt.NDArray[np.uint64],
        sums: _F64,
        shift: list[float],
        numeric: list[str],
        arms: list[str],
        interacted: bool,
        intercept: bool,
        n_nan: int = 0,
        n_inf: int = 0,
    ) -> ClusterStats: ...
    @classmethod
    def from_sums(
        cls,
        keys: Any,
        n: npt.NDArray[np.uint64],
        sum_x: _F64,
        sum_xx: _F64,
        sum_xy: _F64,
        sum_y: _F64,
        sum_yy: _F64,
        names: list[str],
        intercept: bool = True,
    ) -> ClusterStats: ...
    def merge(self, other: Any) -> ClusterStats: ...
    @property
    def keys(self) -> list[int] | list[str]: ...
    @property
    def n(self) -> npt.NDArray[np.uint64]: ...
    @property
    def n_clusters(self) -> int: ...
    @property
    def names(self) -> list[str]: ...
    @property
    def n_nan(self) -> int: ...
    @property
    def n_inf(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __reduce__(self) -> tuple[type[ClusterStats], tuple[Any, ...]]: ...

_Numeric = list[tuple[str, _F64]]
_Arms = tuple[npt.NDArray[np.int32], list[str]] | None

def scan_cluster(
    y: _F64,
    numeric: _Numeric,
    arms: _Arms,
    interacted: bool,
    intercept: bool,
    cluster: npt.NDArray[np.uint32],
    keys: Any,
) -> ClusterStats: ...
def cluster_ols(
    stats: ClusterStats, vcov: str, contrasts: list[list[float]] = ...
) -> dict[str, Any]: ...
def cluster_compare(
    stats: ClusterStats, vcov: str, n: list[int], opts: tuple[str, float, str]
) -> dict[str, Any]: ...
def scan_ratio_cluster(
    num: _F64,
    den: _F64,
    arms: npt.NDArray[np.int32],
    labels: list[str],
    cluster: npt.NDArray[np.uint32],
    keys: Any,
) -> ClusterStats: ...
def cluster_ols_two_way(
    a: ClusterStats, b: ClusterStats, ab: ClusterStats, vcov: str
) -> dict[str, Any]: ...
def rows_ols(
    y: _F64, numeric: _Numeric, arms: _Arms, interacted: bool, intercept: bool, vcov: str
) -> dict[str, Any]: ...
def coefficient_test(
    params: list[float], se: list[float], df: list[float], alternative: str, confidence_level: float
) -> dict[str, Any]: ...
def dense_cluster_codes(
    ids: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.uint32], list[int]] | None: ...

# Experiment design (power.rs, simulation.rs, assignment.rs, balance.rs).
_U8 = npt.NDArray[np.uint8]
_I64 = npt.NDArray[np.int64]

def power_solve(
    design_args: dict[str, Any],
    effect: float | None,
    n: float | None,
    power: float | None,
    alpha: float | None,
) -> dict[str, float]: ...
def design_effect(icc: float, cluster_size: float, cv: float) -> float: ...
def history_by_day(
    numerator: _F64,
    denominator: _F64 | None,
    covariate: _F64 | None,
    day: npt.NDArray[np.int32],
    n_days: int,
) -> list[tuple[int, float, float, float] | None]: ...
def icc_anova(
    values: _F64, cluster: npt.NDArray[np.int32], n_clusters: int
) -> tuple[float, float, float]: ...
def nct_cdf(t: float, df: float, nc: float) -> float: ...
def multiple_critical_value(
    alpha: float, k: int, rho: float, df: float, alternative: str, correction: str
) -> float: ...
def simulate_power(
    model: str,
    params: tuple[float, float, float],
    perturbation: str,
    effect: float,
    analysis: str,
    plan_args: dict[str, Any],
) -> dict[str, Any]: ...
def simulate_resampling(
    outcome: _F64,
    covariate: _F64 | None,
    perturbation: str,
    effect: float,
    analysis: str,
    plan_args: dict[str, Any],
) -> dict[str, Any]: ...
def floor_normals(count: int, per_block: int, seed: int) -> float: ...
def assign_ints(
    ids: _I64, weights: list[float], salt: str, strata: _I64 | None, check_duplicates: bool
) -> _U8: ...
def assign_strings(
    data: _U8,
    offsets: _I64,
    weights: list[float],
    salt: str,
    strata: _I64 | None,
    check_duplicates: bool,
) -> _U8: ...
def assignment_hashes(ids: _I64, salt: str) -> npt.NDArray[np.uint64]: ...
def balance_test(
    columns: list[_F64], names: list[str], codes: _I64, treatment: int
) -> dict[str, Any]: ...
def msprt_paths(
    estimates: _F64,
    variances: _F64,
    tau2: _F64,
    n_looks: int,
    opts: tuple[float, float, str],
) -> dict[str, _F64]: ...
def msprt_horizon_tau2(v_h: float, alpha: float) -> float: ...
def confidence_sequence_path(
    estimates: _F64,
    variances: _F64,
    n_units: _F64,
    opts: tuple[float, float, float, str],
) -> dict[str, _F64]: ...
def sequential_srm_path(
    counts: list[float], weights: list[float], concentration: float
) -> dict[str, _F64]: ...
def quantile_arms(
    values: list[_F64], q: float, codes: npt.NDArray[np.int32] | None = None, k: int = 0
) -> tuple[list[tuple[float, float, int, int, int, bool]], int]: ...
def quantile_compare(
    control: tuple[float, float, int],
    treatment: tuple[float, float, int],
    opts: tuple[str, float],
) -> dict[str, Any]: ...
def permutation_test_units(
    sums: _F64,
    counts: _F64,
    n_control: int,
    n_resamples: int | None,
    seed: int,
    opts: tuple[str, str],
) -> dict[str, Any]: ...
def floor_indices(count: int, bound: int, per_block: int, seed: int) -> float: ...

_GsdOpts = tuple[float, bool, str, float | None, float, str | None, float | None, int]

def gsd_design(fractions: _F64, opts: _GsdOpts) -> dict[str, Any]: ...
def gsd_bounds(fractions: _F64, opts: _GsdOpts, drift: float) -> dict[str, _F64]: ...
def gsd_crossing(
    fractions: _F64, upper: _F64, lower: _F64, drift: float, r: int
) -> dict[str, _F64]: ...
def gsd_msprt_power(
    fractions: _F64, drift: float, tau2: float, alpha: float, alternative: str, r: int
) -> float: ...
