"""Group-sequential designs: :class:`GroupSequentialDesign` (Lan-DeMets alpha spending, classical
O'Brien-Fleming and Pocock boundaries, non-binding beta-spending futility), its bounds at
observed information fractions, the test of observed z statistics, and the power of the
normal-mixture mSPRT watched at given looks (:func:`msprt_power`).

The numerics are in the Rust core (``estimators/group_sequential.rs``): recursive numerical
integration over the looks (Armitage, McPherson and Rowe 1969; Jennison and Turnbull 2000,
ch. 19) on J&T's grid with ``r = 32`` (``12r - 3`` Simpson points per look), whose crossing
probabilities agree with scipy's multivariate normal cdf to about ``1e-9``, and Brent's method
for each look's bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neyman import _neyman
from neyman._results import DisplayMixin, format_number
from neyman._validate import ALTERNATIVES, check_choice, check_finite, check_unit_interval
from neyman.errors import InputError, InputTypeError

__all__ = [
    "GroupSequentialBounds",
    "GroupSequentialDesign",
    "GroupSequentialTest",
    "MsprtDesign",
    "msprt_power",
]

SPENDING = (
    "obrien-fleming",
    "pocock",
    "hsd",
    "power",
    "classical-obrien-fleming",
    "classical-pocock",
)
FUTILITY = ("obrien-fleming", "pocock", "hsd", "power")
GRID_R = 32


def _fractions(value: Any, *, design: bool) -> np.ndarray:
    """Information fractions: numbers, strictly increasing, in (0, 1] ending at 1 for a design."""
    try:
        t = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InputTypeError(f"information_fractions must be numbers: {e}") from None
    if isinstance(value, int | float) or t.ndim == 0:
        k = int(value) if isinstance(value, int) and not isinstance(value, bool) else 0
        if k < 1:
            raise InputError(
                "information_fractions must be a sequence of fractions or a number of equally "
                f"spaced looks (a positive integer), got {value!r}"
            )
        t = np.arange(1, k + 1, dtype=np.float64) / k
    if t.ndim != 1 or t.size == 0:
        raise InputError("information_fractions must be a non-empty 1-D sequence")
    for k, v in enumerate(t):
        if not (math.isfinite(v) and v > 0.0):
            raise InputError(
                f"information_fractions: look {k + 1} has {v}; fractions must be positive"
            )
        if k > 0 and v <= t[k - 1]:
            raise InputError(
                f"information_fractions must increase: look {k + 1} has {v} after {t[k - 1]}"
            )
    if design:
        if t[-1] > 1.0 + 1e-12 or abs(t[-1] - 1.0) > 1e-12:
            raise InputError(
                "information_fractions of a design lie in (0, 1] and end at 1 (full "
                f"information), got last {t[-1]}"
            )
        t[-1] = 1.0
    return np.ascontiguousarray(t)


def _tail(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _nominal(bounds: np.ndarray, alternative: str) -> np.ndarray:
    sides = 2.0 if alternative == "two-sided" else 1.0
    return np.array([min(1.0, sides * _tail(abs(b))) for b in bounds])


@dataclass(frozen=True, repr=False)
class GroupSequentialTest(DisplayMixin):
    """Observed z statistics tested against a design's bounds.

    Attributes
    ----------
    decision : {'efficacy', 'futility', 'continue'}
        ``'efficacy'``: a z statistic crossed the efficacy bound (reject the null);
        ``'futility'``: one crossed the (non-binding) futility bound, or the last planned look
        ended without crossing; ``'continue'``: no bound crossed yet.
    look : int or None
        The look (1-based) at which the decision was reached.
    z_statistics, z_bounds, futility_bounds : numpy.ndarray
        Per observed look.
    """

    decision: str
    look: int | None
    z_statistics: np.ndarray
    z_bounds: np.ndarray
    futility_bounds: np.ndarray
    alternative: str

    @property
    def reject(self) -> bool:
        """Whether the null hypothesis is rejected."""
        return self.decision == "efficacy"

    def _display_columns(self) -> tuple[str, ...]:
        if self.alternative == "two-sided":
            return ("look", "z", "z_bound", "crossed")
        return ("look", "z", "z_bound", "futility_bound", "crossed")

    def _records(self) -> list[dict[str, Any]]:
        rows = []
        for k, z in enumerate(self.z_statistics):
            crossed = self.decision if self.look == k + 1 else ""
            rows.append(
                {
                    "look": k + 1,
                    "z": float(z),
                    "z_bound": float(self.z_bounds[k]),
                    "futility_bound": float(self.futility_bounds[k]),
                    "crossed": crossed,
                }
            )
        return rows

    def _caption(self) -> str:
        at = f" at look {self.look}" if self.look is not None else ""
        return f"group-sequential test ({self.alternative}): {self.decision}{at}"


def _test(
    z_statistics: Any,
    bounds: np.ndarray,
    futility: np.ndarray,
    alternative: str,
    final: bool,
) -> GroupSequentialTest:
    z = np.atleast_1d(np.asarray(z_statistics, dtype=np.float64))
    if z.ndim != 1 or z.size == 0:
        raise InputError("z_statistics must be a non-empty 1-D sequence, one per look")
    if z.size > bounds.size:
        raise InputError(
            f"z_statistics has {z.size} looks but the bounds have {bounds.size}; call "
            "design.bounds(information_fractions) with the observed fractions"
        )
    if not np.all(np.isfinite(z)):
        bad = int(np.flatnonzero(~np.isfinite(z))[0]) + 1
        raise InputError(f"z_statistics: look {bad} is not finite")
    decision, look = "continue", None
    for k, v in enumerate(z):
        b, a = bounds[k], futility[k]
        if alternative == "two-sided":
            up, down = abs(v) >= b, False
        elif alternative == "greater":
            up, down = v >= b, v <= a and not v >= b
        else:
            up, down = v <= b, v >= a and not v <= b
        if up:
            decision, look = "efficacy", k + 1
            break
        if down and np.isfinite(a):
            decision, look = "futility", k + 1
            break
    if decision == "continue" and final and z.size == bounds.size:
        decision, look = "futility", int(z.size)
    n = z.size
    return GroupSequentialTest(
        decision=decision,
        look=look,
        z_statistics=z,
        z_bounds=bounds[:n].copy(),
        futility_bounds=futility[:n].copy(),
        alternative=alternative,
    )


def _signed(b: np.ndarray, f: np.ndarray, alternative: str) -> tuple[np.ndarray, np.ndarray]:
    """Core bounds (upper side) to the user's direction; no futility is -inf ('greater')."""
    if alternative == "less":
        return -b, -f
    if alternative == "two-sided":
        return b, np.full_like(b, np.nan)
    return b, f


def _bound_records(b: Any, beta_spent: np.ndarray | None = None) -> list[dict[str, Any]]:
    """One display record per look of a design or of its bounds at observed fractions."""
    rows = []
    for k in range(b.information_fractions.size):
        row = {
            "look": k + 1,
            "fraction": float(b.information_fractions[k]),
            "z_bound": float(b.z_bounds[k]),
            "futility_bound": float(b.futility_bounds[k]),
            "nominal_pvalue": float(b.nominal_pvalue[k]),
            "alpha_spent": float(b.alpha_spent[k]),
        }
        if beta_spent is not None:
            row["beta_spent"] = float(beta_spent[k])
        rows.append(row)
    return rows


@dataclass(frozen=True, repr=False)
class GroupSequentialBounds(DisplayMixin):
    """A design's bounds at observed (possibly unplanned) information fractions: the spending
    functions evaluated at those fractions (:meth:`GroupSequentialDesign.bounds`).

    Attributes
    ----------
    information_fractions : numpy.ndarray
    z_bounds : numpy.ndarray
        Efficacy bounds on the z scale (negative for ``alternative='less'``; ``|z|`` for
        two-sided).
    futility_bounds : numpy.ndarray
        Non-binding futility bounds (``-inf``/``inf`` where none, NaN for two-sided designs).
    alpha_spent : numpy.ndarray
        Cumulative type-I error spent at each look (both sides for two-sided).
    nominal_pvalue : numpy.ndarray
        The fixed-sample p-value of each look's bound: reject at a look when its p-value is below.
    alternative : str
    """

    information_fractions: np.ndarray
    z_bounds: np.ndarray
    futility_bounds: np.ndarray
    alpha_spent: np.ndarray
    nominal_pvalue: np.ndarray
    alternative: str

    def test(self, z_statistics: Any) -> GroupSequentialTest:
        """Tests the observed z statistics, one per look (see
        :meth:`GroupSequentialDesign.test`)."""
        final = bool(self.information_fractions[-1] >= 1.0 - 1e-12)
        return _test(z_statistics, self.z_bounds, self.futility_bounds, self.alternative, final)

    def _display_columns(self) -> tuple[str, ...]:
        cols = ("look", "fraction", "z_bound", "nominal_pvalue", "alpha_spent")
        return cols if self.alternative == "two-sided" else (*cols[:3], "futility_bound", *cols[3:])

    def _records(self) -> list[dict[str, Any]]:
        return _bound_records(self)

    def _caption(self) -> str:
        return f"group-sequential bounds ({self.alternative}) at the observed fractions"


@dataclass(frozen=True, repr=False)
class GroupSequentialDesign(DisplayMixin):
    """A group-sequential design: efficacy (and futility) bounds at planned looks.

    Efficacy bounds spend the type-I error by a Lan-DeMets spending function ``f(t)`` of the
    information fraction ``t`` (Lan and DeMets 1983): look ``k``'s bound ``b_k`` solves
    ``P_0(first crossing at look k) = f(t_k) - f(t_{k-1})``, the crossing probabilities computed
    by recursive numerical integration (Jennison and Turnbull 2000, ch. 19). Two-sided designs
    are symmetric and spend ``alpha / 2`` per side (as gsDesign and rpact). Futility bounds
    (one-sided designs) are non-binding and spend ``beta = 1 - power`` under the alternative
    (Pampallona, Tsiatis and Kim 2001; gsDesign's ``test.type=4``): the efficacy bounds ignore
    them, so type-I error holds whether or not they are obeyed, and the maximum information is
    solved so the last futility bound meets the last efficacy bound.

    Parameters
    ----------
    information_fractions : sequence of float or int
        Planned fractions of the maximum information at each look, increasing, in (0, 1], the
        last 1; an integer ``K`` means ``K`` equally spaced looks.
    alpha : float, default 0.05
        Total type-I error (both sides for a two-sided design).
    alternative : {'two-sided', 'greater', 'less'}, default 'two-sided'
    spending : str, default 'obrien-fleming'
        ``'obrien-fleming'``: ``2 - 2 Phi(z_{a/2} / sqrt(t))`` at one-sided level ``a``;
        ``'pocock'``: ``a log(1 + (e - 1) t)``; ``'hsd'`` (Hwang, Shih and DeCani 1990):
        ``a (1 - exp(-gamma t)) / (1 - exp(-gamma))``; ``'power'`` (Kim and DeMets 1987):
        ``a t^rho``; or the classical boundaries ``'classical-obrien-fleming'`` (``C /
        sqrt(t_k)``) and ``'classical-pocock'`` (``C``), not spending functions.
    gamma, rho : float, optional
        Parameters of ``'hsd'`` and ``'power'``.
    power : float, default 0.8
        Target power: gives the drift of the inflation factor and of the futility bounds.
    beta : float, optional
        ``1 - power``, instead of ``power``.
    futility : str, optional
        Beta-spending function of non-binding futility bounds (``'obrien-fleming'``,
        ``'pocock'``, ``'hsd'`` or ``'power'``); one-sided designs only.
    futility_gamma, futility_rho : float, optional
        Its parameter.

    Attributes
    ----------
    z_bounds, futility_bounds, alpha_spent, nominal_pvalue : numpy.ndarray
        Per look (see :class:`GroupSequentialBounds`).
    beta_spent : numpy.ndarray
        Cumulative futility probability under the alternative (zeros without futility).
    inflation_factor : float
        Maximum sample size relative to the fixed design with the same alpha and power.
    expected_sample_size_h0, expected_sample_size_h1 : float
        Expected sample size under the null and at the design's alternative, as fractions of
        the fixed design's (stopping at the futility bounds when there are).
    drift, drift_fixed : float
        ``theta sqrt(I_max)`` of the design and of the fixed design at the target power.

    Raises
    ------
    InputError
        Fractions that do not increase, outside (0, 1] or not ending at 1 (naming the look);
        ``alpha`` or ``power`` outside (0, 1); an unknown spending function; ``gamma`` or
        ``rho`` missing; futility with a two-sided design.

    References
    ----------
    Lan, K. K. G. and DeMets, D. L. (1983). Discrete sequential boundaries for clinical trials.
    Biometrika 70, 659-663.
    Jennison, C. and Turnbull, B. W. (2000). Group Sequential Methods with Applications to
    Clinical Trials. Chapman & Hall/CRC, ch. 2, 7 and 19.

    Examples
    --------
    >>> import neyman
    >>> d = neyman.GroupSequentialDesign(3, alpha=0.05, spending="obrien-fleming")
    >>> d.z_bounds.round(3).tolist()
    [3.71, 2.511, 1.993]
    >>> round(d.inflation_factor, 3)
    1.013
    >>> d.test([1.2, 2.7]).decision
    'efficacy'
    """

    information_fractions: Any
    alpha: float = 0.05
    alternative: str = "two-sided"
    spending: str = "obrien-fleming"
    gamma: float | None = None
    rho: float | None = None
    power: float | None = 0.8
    beta: float | None = None
    futility: str | None = None
    futility_gamma: float | None = None
    futility_rho: float | None = None
    z_bounds: np.ndarray = field(init=False)
    futility_bounds: np.ndarray = field(init=False)
    alpha_spent: np.ndarray = field(init=False)
    beta_spent: np.ndarray = field(init=False)
    nominal_pvalue: np.ndarray = field(init=False)
    inflation_factor: float = field(init=False)
    expected_sample_size_h0: float = field(init=False)
    expected_sample_size_h1: float = field(init=False)
    drift: float = field(init=False)
    drift_fixed: float = field(init=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "information_fractions", _fractions(self.information_fractions, design=True))
        set_(self, "alpha", check_unit_interval("alpha", self.alpha))
        set_(self, "alternative", check_choice("alternative", self.alternative, ALTERNATIVES))
        set_(self, "spending", check_choice("spending", self.spending, SPENDING))
        if self.beta is not None:
            beta = check_unit_interval("beta", self.beta)
            if (
                self.power is not None
                and self.power != 0.8
                and abs(self.power - (1 - beta)) > 1e-12
            ):
                raise InputError(f"beta == {beta} and power == {self.power}: give one of them")
            set_(self, "power", 1.0 - beta)
        set_(self, "power", check_unit_interval("power", self.power))
        set_(self, "beta", 1.0 - float(self.power))  # type: ignore[arg-type]
        if self.futility is not None:
            set_(self, "futility", check_choice("futility", self.futility, FUTILITY))
            if self.alternative == "two-sided":
                raise InputError(
                    "futility bounds are for one-sided designs: alternative='greater' or 'less'"
                )
        out = _neyman.gsd_design(self.information_fractions, self._opts())
        b, f = _signed(out["efficacy"], out["futility"], self.alternative)
        set_(self, "z_bounds", b)
        set_(self, "futility_bounds", f)
        set_(self, "alpha_spent", out["alpha_spent"])
        set_(self, "beta_spent", out["beta_spent"])
        set_(self, "nominal_pvalue", _nominal(out["efficacy"], self.alternative))
        set_(self, "inflation_factor", float(out["inflation"]))
        set_(self, "expected_sample_size_h0", float(out["expected_h0"]))
        set_(self, "expected_sample_size_h1", float(out["expected_h1"]))
        set_(self, "drift", float(out["drift"]))
        set_(self, "drift_fixed", float(out["drift_fixed"]))

    def _opts(self) -> tuple[Any, ...]:
        param = None
        if self.spending == "hsd":
            if self.gamma is None:
                raise InputError("gamma: spending='hsd' needs gamma= (e.g. -4)")
            param = check_finite("gamma", self.gamma)
        elif self.spending == "power":
            if self.rho is None:
                raise InputError("rho: spending='power' needs rho= (e.g. 3)")
            param = check_finite("rho", self.rho)
            if param <= 0:
                raise InputError(f"rho == {param}, must be positive")
        fparam = None
        if self.futility == "hsd":
            if self.futility_gamma is None:
                raise InputError("futility_gamma: futility='hsd' needs futility_gamma=")
            fparam = check_finite("futility_gamma", self.futility_gamma)
        elif self.futility == "power":
            if self.futility_rho is None:
                raise InputError("futility_rho: futility='power' needs futility_rho=")
            fparam = check_finite("futility_rho", self.futility_rho)
            if fparam <= 0:
                raise InputError(f"futility_rho == {fparam}, must be positive")
        return (
            self.alpha,
            self.alternative == "two-sided",
            self.spending,
            param,
            self.power,
            self.futility,
            fparam,
            GRID_R,
        )

    @property
    def expected_sample_size(self) -> dict[str, float]:
        """Expected sample size under ``'h0'`` and ``'h1'``, as fractions of the fixed design."""
        return {"h0": self.expected_sample_size_h0, "h1": self.expected_sample_size_h1}

    def bounds(self, information_fractions: Any) -> GroupSequentialBounds:
        """Bounds at the observed information fractions (e.g. looks that came early or late):
        the spending functions evaluated at them, so the alpha spent at each look is exactly
        ``f(t)``; futility bounds keep the design's drift. Fractions past 1 spend nothing more.

        Parameters
        ----------
        information_fractions : sequence of float
            Observed fractions of the planned maximum information so far, increasing, > 0.

        Returns
        -------
        GroupSequentialBounds

        Examples
        --------
        >>> import neyman
        >>> d = neyman.GroupSequentialDesign([0.5, 1.0], spending="pocock")
        >>> b = d.bounds([0.4, 0.7])
        >>> b.alpha_spent.round(4).tolist()
        [0.0262, 0.0395]
        """
        t = _fractions(information_fractions, design=False)
        if self.spending.startswith("classical"):
            raise InputError(
                "spending: classical boundaries are not spending functions; recompute the "
                "design at the observed fractions (fractions ending at 1) instead"
            )
        out = _neyman.gsd_bounds(t, self._opts(), self.drift)
        b, f = _signed(out["efficacy"], out["futility"], self.alternative)
        return GroupSequentialBounds(
            information_fractions=t,
            z_bounds=b,
            futility_bounds=f,
            alpha_spent=out["alpha_spent"],
            nominal_pvalue=_nominal(out["efficacy"], self.alternative),
            alternative=self.alternative,
        )

    def repeated_pvalue(self, information_fractions: Any, z_statistics: Any) -> float:
        """The repeated p-value after the looks so far (Jennison and Turnbull 2000, sec. 9.3):
        the smallest ``alpha`` at which a design like this one (same spending function, looks at
        the observed fractions) would have crossed its efficacy bound at some look. It is valid
        at any look (below ``alpha`` exactly when the design has crossed), so a monitor can
        report it every day. Bisection on ``log(alpha)`` to a relative 1e-6, one bound
        computation per step.

        Parameters
        ----------
        information_fractions : sequence of float
            The observed fractions, increasing.
        z_statistics : sequence of float
            The z statistic at each of those looks.

        Returns
        -------
        float

        Examples
        --------
        >>> import neyman
        >>> d = neyman.GroupSequentialDesign([0.5, 1.0])
        >>> round(d.repeated_pvalue([0.5], [3.2]), 4) < 0.05, d.repeated_pvalue([0.5], [0.1])
        (True, 1.0)
        """
        t = _fractions(information_fractions, design=False)
        z = np.atleast_1d(np.asarray(z_statistics, dtype=np.float64))
        if z.shape != t.shape or not np.all(np.isfinite(z)):
            raise InputError("z_statistics must hold one finite z statistic per fraction")
        if self.spending.startswith("classical"):
            raise InputError("spending: classical boundaries have no repeated p-value here")
        if self.alternative == "two-sided":
            s = np.abs(z)
        else:
            s = z if self.alternative == "greater" else -z
        opts = list(self._opts())

        def crossed(alpha: float) -> bool:
            opts[0] = alpha
            out = _neyman.gsd_bounds(t, tuple(opts), self.drift)
            return bool(np.any(s >= out["efficacy"]))

        top = 0.999 if self.alternative == "two-sided" else 0.4999
        if not crossed(top):
            return 1.0
        lo, hi = math.log(1e-15), math.log(top)
        if crossed(math.exp(lo)):
            return 1e-15
        while hi - lo > 1e-6:
            mid = 0.5 * (lo + hi)
            if crossed(math.exp(mid)):
                hi = mid
            else:
                lo = mid
        return math.exp(hi)

    def test(self, z_statistics: Any) -> GroupSequentialTest:
        """Tests z statistics observed at the planned looks (the first ``len(z_statistics)``).

        Stops at the first look whose statistic crosses the efficacy bound (``'efficacy'``) or
        the futility bound (``'futility'``); after all planned looks without crossing, the
        decision is ``'futility'`` (accept the null); before, ``'continue'``.

        Examples
        --------
        >>> import neyman
        >>> d = neyman.GroupSequentialDesign([0.5, 1.0], alternative="greater", alpha=0.025)
        >>> t = d.test([1.5, 1.8])
        >>> t.decision, t.look
        ('futility', 2)
        """
        return _test(z_statistics, self.z_bounds, self.futility_bounds, self.alternative, True)

    def _display_columns(self) -> tuple[str, ...]:
        cols = ("look", "fraction", "z_bound", "nominal_pvalue", "alpha_spent")
        if self.futility is not None:
            return (*cols[:3], "futility_bound", *cols[3:], "beta_spent")
        return cols

    def _records(self) -> list[dict[str, Any]]:
        return _bound_records(self, self.beta_spent)

    def _caption(self) -> str:
        k = self.information_fractions.size
        return (
            f"group-sequential design: {self.spending} bounds, {self.alternative} alpha "
            f"{format_number(self.alpha)}, {k} looks"
        )

    def _footer(self) -> list[str]:
        return [
            f"max n = {format_number(self.inflation_factor)} x fixed design (power "
            f"{format_number(float(self.power or 0))}); expected n = "
            f"{format_number(self.expected_sample_size_h0)} (H0), "
            f"{format_number(self.expected_sample_size_h1)} (H1) x fixed"
        ]


def msprt_power(
    drift: float,
    looks: Any,
    *,
    mixing_variance: float | None = None,
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> float:
    """Power of the normal-mixture mSPRT watched at given looks up to a horizon.

    The mSPRT (:func:`neyman.msprt`) rejects at a look when the mixture likelihood ratio
    reaches ``1 / alpha``, i.e. when ``|Z_k| >= h(v_k) / sqrt(v_k)`` with ``h`` the half-width
    of its interval and ``v_k`` the estimate's variance: a group-sequential boundary on the z
    scale, whose crossing probability under the drift is computed by the same recursive
    integration as :class:`GroupSequentialDesign` (exact for the looks given, up to the grid's
    ``1e-9``; continuous monitoring is approached with many looks).

    Parameters
    ----------
    drift : float
        The effect divided by its standard error at the horizon (the last look).
    looks : sequence of float or int
        Fractions of the horizon's information at which the test is checked (the last is the
        horizon, 1), or a number of equally spaced looks.
    mixing_variance : float, optional
        ``tau2`` relative to the estimate's variance at the horizon; default the value that
        makes the two-sided interval at the horizon narrowest (``msprt(planned_n=...)``'s).
    alpha : float, default 0.05
    alternative : {'two-sided', 'greater', 'less'}, default 'two-sided'
        One-sided tests mix over the half-normal; ``drift`` is signed.

    Returns
    -------
    float
        ``P(the mSPRT rejects by the horizon)``.

    Examples
    --------
    >>> import neyman
    >>> round(neyman.msprt_power(2.8, 50), 3) < 0.8  # the fixed test's power is 0.80
    True
    """
    d = check_finite("drift", drift)
    alpha = check_unit_interval("alpha", alpha)
    alternative = check_choice("alternative", alternative, ALTERNATIVES)
    t = _fractions(looks, design=False)
    t = t / t[-1]
    tau2 = (
        _neyman.msprt_horizon_tau2(1.0, alpha)
        if mixing_variance is None
        else check_finite("mixing_variance", mixing_variance)
    )
    if tau2 <= 0:
        raise InputError(f"mixing_variance == {tau2}, must be positive")
    return float(_neyman.gsd_msprt_power(t, d, tau2, alpha, alternative, GRID_R))


@dataclass(frozen=True)
class MsprtDesign:
    """The normal-mixture mSPRT watched at planned looks, for :func:`neyman.power`
    (``sequential=MsprtDesign(...)``): power and sample size by :func:`msprt_power`.

    Parameters
    ----------
    looks : sequence of float or int
        Fractions of the horizon (maximum sample size) at which the test is checked, or a
        number of equally spaced looks (e.g. 28 daily looks).
    mixing_variance : float, optional
        ``tau2`` relative to the estimate's variance at the horizon (default: the value that
        makes the two-sided interval at the horizon narrowest).

    Examples
    --------
    >>> import neyman
    >>> res = neyman.power(effect=0.1, sd=1.0, n=None, power=0.8, test="z",
    ...                    sequential=neyman.MsprtDesign(looks=20))
    >>> res.inflation_factor > 1.5
    True
    """

    looks: Any = 20
    mixing_variance: float | None = None

    def power(self, drift: float, alpha: float, alternative: str) -> float:
        """Power at ``drift`` (the effect over its standard error at the horizon)."""
        return msprt_power(
            drift,
            self.looks,
            mixing_variance=self.mixing_variance,
            alpha=alpha,
            alternative=alternative,
        )


def _fixed_drift(power: float, alpha: float, alternative: str) -> float:
    """The drift at which the fixed-sample z-test has ``power`` (both tails for two-sided)."""
    sides = 2.0 if alternative == "two-sided" else 1.0
    z = _ppf(1.0 - alpha / sides)

    def f(d: float) -> float:
        return _tail(z - d) + (_tail(z + d) if sides == 2.0 else 0.0) - power

    return _bisect(f, -40.0, 40.0)


def _ppf(p: float) -> float:
    return _bisect(lambda x: 1.0 - _tail(x) - p, -40.0, 40.0)


def _bisect(f: Any, lo: float, hi: float, tol: float = 1e-12) -> float:
    """Root of an increasing ``f`` in ``[lo, hi]`` by bisection."""
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if f(mid) < 0:
            lo = mid
        else:
            hi = mid
        if hi - lo < tol:
            break
    return 0.5 * (lo + hi)


def sequential_plan(
    sequential: Any, solved: str, alpha: float, power: float, alternative: str
) -> tuple[float, str]:
    """For :func:`neyman.power`: the factor ``f`` by which the fixed design's sample size is
    scaled to the sequential design's maximum (``n_max = f n_fixed`` at the same power), for
    solving ``n`` or ``effect``; and the design's name."""
    name = _check_sequential(sequential, alpha, alternative)
    if isinstance(sequential, GroupSequentialDesign):
        if abs(float(sequential.power or 0.0) - power) > 1e-12:
            raise InputError(
                f"sequential: the design was built for power {sequential.power}, not {power}; "
                "build it with the power solved for"
            )
        return sequential.inflation_factor, name
    target = _bisect(lambda d: sequential.power(d, alpha, alternative) - power, 0.0, 40.0, 1e-10)
    return (target / _fixed_drift(power, alpha, alternative)) ** 2, name


def _check_sequential(sequential: Any, alpha: float, alternative: str) -> str:
    if isinstance(sequential, GroupSequentialDesign):
        if abs(sequential.alpha - alpha) > 1e-12 or sequential.alternative != alternative:
            raise InputError(
                f"sequential: the design has alpha {sequential.alpha} and alternative "
                f"{sequential.alternative!r}; power() was given {alpha} and {alternative!r}"
            )
        return "group-sequential"
    if isinstance(sequential, MsprtDesign):
        return "msprt"
    raise InputTypeError(
        "sequential must be a neyman.GroupSequentialDesign or neyman.MsprtDesign, got "
        f"{type(sequential).__name__}"
    )


def sequential_power(
    sequential: Any, fixed_power: float, alpha: float, alternative: str
) -> tuple[float, float, float]:
    """For :func:`neyman.power`: the sequential design's power at the drift where the fixed
    design of the maximum sample size has ``fixed_power``, and its expected sample sizes under
    the null and at that drift as fractions of the maximum."""
    _check_sequential(sequential, alpha, alternative)
    drift = _fixed_drift(fixed_power, alpha, alternative)
    if isinstance(sequential, MsprtDesign):
        return sequential.power(drift, alpha, alternative), math.nan, math.nan
    return _gsd_power(sequential, drift)


def _gsd_power(d: GroupSequentialDesign, drift: float) -> tuple[float, float, float]:
    t = d.information_fractions
    up = np.abs(d.z_bounds)
    if d.alternative == "two-sided":
        low = -up
    elif d.alternative == "less":
        low = -d.futility_bounds
    else:
        low = d.futility_bounds
    low = np.ascontiguousarray(np.where(np.isnan(low), -np.inf, low))
    up = np.ascontiguousarray(up)

    def fraction(x: float) -> tuple[float, float]:
        c = _neyman.gsd_crossing(t, up, low, x, GRID_R)
        u, lo = c["upper"], c["lower"]
        stop = u + lo
        e = float(np.sum(t[:-1] * stop[:-1]) + t[-1] * (1.0 - np.sum(stop[:-1])))
        reject = float(np.sum(u) + (np.sum(lo) if d.alternative == "two-sided" else 0.0))
        return reject, e

    p1, e1 = fraction(drift)
    _, e0 = fraction(0.0)
    return p1, e0, e1
