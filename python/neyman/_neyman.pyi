# Hand-written stub of the compiled module (checked by mypy.stubtest).
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "code_summary",
    "comoments2_from_sums",
    "comoments4_from_sums",
    "cuped_test",
    "floor_sum",
    "get_num_threads",
    "grouped_binary_counts",
    "grouped_comoments",
    "grouped_moments",
    "mean_test",
    "moments",
    "moments_from_sums",
    "post_stratified_test",
    "proportion_test",
    "ratio_test",
    "regression_from_sums",
    "regression_test",
    "set_num_threads",
    "srm_test",
]

_MomentsTuple = tuple[int, float, float, int, int]
_Codes = (
    npt.NDArray[np.int8] | npt.NDArray[np.int16] | npt.NDArray[np.int32] | npt.NDArray[np.int64]
)
_Ratio6 = tuple[int, float, float, float, float, float]

def moments(x: npt.NDArray[np.float64]) -> _MomentsTuple: ...
def grouped_moments(
    x: npt.NDArray[np.float64], codes: _Codes, n_groups: int
) -> list[_MomentsTuple]: ...
def code_summary(codes: _Codes, limit: int) -> tuple[int, int, list[int] | None] | None: ...
def moments_from_sums(n: int, sum: float, sum_sq: float) -> tuple[int, float, float]: ...
def grouped_comoments(
    cols: list[npt.NDArray[np.float64]],
    codes: _Codes | None,
    n_groups: int,
    names: list[str],
    nonnegative: list[int] = ...,
) -> tuple[list[tuple[int, list[float], list[list[float]], int, int]], list[int]]: ...
def comoments2_from_sums(
    n: int,
    sum_x: float,
    sum_y: float,
    sum_xx: float,
    sum_yy: float,
    sum_xy: float,
    names: tuple[str, str, str] = ...,
) -> _Ratio6: ...
def comoments4_from_sums(
    n: int,
    sums: tuple[float, float, float, float],
    products: tuple[
        tuple[float, float, float, float],
        tuple[float, float, float, float],
        tuple[float, float, float, float],
        tuple[float, float, float, float],
    ],
    names: tuple[str, str, str, str],
) -> tuple[int, list[float], list[list[float]]]: ...
def grouped_binary_counts(
    x: npt.NDArray[np.float64], codes: _Codes | None, n_groups: int
) -> list[tuple[int, int, int, int, int]]: ...
def mean_test(
    control: tuple[int, float, float],
    treatment: tuple[int, float, float],
    test: str,
    alternative: str,
    confidence_level: float,
    relative_ci: str,
) -> dict[str, float]: ...
def proportion_test(
    control: tuple[float, int],
    treatment: tuple[float, int],
    ci_method: str,
    alternative: str,
    confidence_level: float,
    relative_ci: str,
) -> dict[str, float]: ...
def ratio_test(
    control: _Ratio6,
    treatment: _Ratio6,
    alternative: str,
    confidence_level: float,
    relative_ci: str,
) -> dict[str, float]: ...
def cuped_test(
    kind: str,
    control: tuple[int, list[float], list[list[float]]],
    treatment: tuple[int, list[float], list[list[float]]],
    test: str,
    alternative: str,
    confidence_level: float,
    relative_ci: str,
) -> dict[str, Any]: ...
def regression_test(
    y: npt.NDArray[np.float64],
    numeric: list[tuple[str, npt.NDArray[np.float64]]],
    categorical: list[tuple[str, npt.NDArray[np.int32], list[str]]],
    arms: npt.NDArray[np.int32],
    arm_labels: list[str],
    interacted: bool,
    cov_type: str,
    alternative: str,
    confidence_level: float,
    relative_ci: str,
) -> dict[str, Any]: ...
def regression_from_sums(
    arms: list[tuple[int, float, float, list[float], list[float], list[list[float]]]],
    arm_labels: list[str],
    covariates: list[str],
    alternative: str,
    confidence_level: float,
    relative_ci: str,
) -> dict[str, Any]: ...
def post_stratified_test(
    y: npt.NDArray[np.float64],
    name: str,
    strata: npt.NDArray[np.int32],
    level_names: list[str],
    arms: npt.NDArray[np.int32],
    arm_labels: list[str],
    cov_type: str,
    alternative: str,
    confidence_level: float,
    relative_ci: str,
) -> dict[str, Any]: ...
def srm_test(observed: list[float], weights: list[float]) -> tuple[float, float, float]: ...
def get_num_threads() -> int: ...
def set_num_threads(n: int) -> None: ...
def floor_sum(x: npt.NDArray[np.float64]) -> float: ...
