//! Group-sequential designs: Lan-DeMets alpha spending (Lan and DeMets 1983) with efficacy
//! bounds by recursive numerical integration (Armitage, McPherson and Rowe 1969; Jennison and
//! Turnbull 2000, ch. 19, "J&T" below), optional non-binding beta-spending futility bounds
//! (Pampallona, Tsiatis and Kim 2001, as gsDesign's `test.type = 4`), classical O'Brien-Fleming
//! and Pocock boundaries, the maximum-information inflation factor and the expected sample size,
//! and the power of a normal-mixture mSPRT (Johari et al. 2022) watched at given looks, whose
//! rejection region is a group-sequential boundary on the z scale.
//!
//! The z statistics at information fractions `t_1 < ... < t_K` are those of Brownian motion with
//! drift: `S_k = Z_k sqrt(t_k)`, `S_k - S_{k-1} ~ N(drift (t_k - t_{k-1}), t_k - t_{k-1})`,
//! `drift = theta sqrt(I_max)` (J&T eq. 3.1). The sub-density of `Z_k` on the continuation
//! region (not stopped before) follows (J&T eq. 19.3)
//!
//! ```text
//! h_k(z) = sum_i w_i h_{k-1}(z_i) sqrt(t_k / D) phi((z sqrt(t_k) - z_i sqrt(t_{k-1}) - drift D) / sqrt(D)),
//! ```
//!
//! `D = t_k - t_{k-1}`, `h_1(z) = phi(z - drift sqrt(t_1))`, the sum over the grid of look
//! `k - 1` with Simpson weights `w_i`, and the crossing probabilities of a bound `b` are the same
//! sums with `phi` replaced by the normal tail (J&T eq. 19.4). The grid is J&T's (sec. 19.2.1):
//! `6r - 1` points around the mean `drift sqrt(t_k)`, dense within 3 standard deviations and
//! spreading out logarithmically to `3 + 4 log r`, trimmed to the continuation interval (its ends
//! added), with midpoints for Simpson's rule (`12r - 3` points before trimming). With the default
//! `r = 32` crossing probabilities agree with scipy's multivariate normal cdf to about `1e-9`
//! and bounds with the published tables to their four decimals.

use crate::error::{NeymanError, Result};
use crate::inference::distributions::norm_ppf;
use crate::inference::mixture::half_width;
use crate::inference::options::Alternative;
use crate::inference::roots::brent;

/// J&T's grid parameter `r` (J&T recommend 16 or more; 32 keeps errors near `1e-9`).
pub const GRID_R: usize = 32;

const XTOL: f64 = 1e-11;

fn phi(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Upper normal tail by statrs' `erfc` (about `1e-10` absolute, well under the grid's error,
/// and several times faster than the incomplete gamma of `distributions::norm_cdf`).
fn tail(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(x / std::f64::consts::SQRT_2)
}

/// A Lan-DeMets spending function: the cumulative error `f(level, t)` spent by information
/// fraction `t` of a one-sided test at `level` (`f(level, 0) = 0`, `f(level, t >= 1) = level`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Spending {
    /// O'Brien-Fleming type: `2 - 2 Phi(z_{level/2} / sqrt(t))` (Lan and DeMets 1983).
    ObrienFleming,
    /// Pocock type: `level log(1 + (e - 1) t)` (Lan and DeMets 1983).
    Pocock,
    /// Hwang, Shih and DeCani (1990): `level (1 - e^{-gamma t}) / (1 - e^{-gamma})`, linear at
    /// `gamma = 0`.
    Hsd(f64),
    /// Kim and DeMets (1987): `level t^rho`, `rho > 0`.
    Power(f64),
}

impl Spending {
    /// Parses `'obrien-fleming'`, `'pocock'`, `'hsd'` (with `gamma`) or `'power'` (with `rho`);
    /// `arg` names the argument in errors.
    pub fn parse(arg: &str, name: &str, param: Option<f64>) -> Result<Self> {
        match (name, param) {
            ("obrien-fleming", _) => Ok(Spending::ObrienFleming),
            ("pocock", _) => Ok(Spending::Pocock),
            ("hsd", Some(g)) if g.is_finite() => Ok(Spending::Hsd(g)),
            ("hsd", _) => Err(NeymanError::invalid(
                "gamma",
                format!("{arg}='hsd' needs a finite gamma"),
            )),
            ("power", Some(r)) if r > 0.0 && r.is_finite() => Ok(Spending::Power(r)),
            ("power", _) => Err(NeymanError::invalid(
                "rho",
                format!("{arg}='power' needs a positive rho"),
            )),
            _ => Err(NeymanError::invalid(
                arg,
                format!(
                    "unknown spending function {name:?}; expected 'obrien-fleming', 'pocock', \
                     'hsd' or 'power'"
                ),
            )),
        }
    }

    /// Cumulative error spent by fraction `t` (clamped to `[0, 1]`) at one-sided `level`.
    pub fn cumulative(&self, level: f64, t: f64) -> f64 {
        let t = t.clamp(0.0, 1.0);
        if t <= 0.0 {
            return 0.0;
        }
        if t >= 1.0 {
            return level;
        }
        let v = match *self {
            Spending::ObrienFleming => {
                let z = norm_ppf(1.0 - level / 2.0).unwrap_or(f64::NAN);
                2.0 * tail(z / t.sqrt())
            }
            Spending::Pocock => level * (1.0 + (std::f64::consts::E - 1.0) * t).ln(),
            Spending::Hsd(g) if g.abs() < 1e-12 => level * t,
            Spending::Hsd(g) => level * (1.0 - (-g * t).exp()) / (1.0 - (-g).exp()),
            Spending::Power(rho) => level * t.powf(rho),
        };
        v.min(level)
    }
}

/// The boundary family of a design.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Boundary {
    /// Lan-DeMets spending.
    Spending(Spending),
    /// Classical O'Brien-Fleming: `b_k = C / sqrt(t_k)` (O'Brien and Fleming 1979).
    ClassicalObrienFleming,
    /// Classical Pocock: `b_k = C` (Pocock 1977).
    ClassicalPocock,
}

impl Boundary {
    /// Parses a spending name (see [`Spending::parse`]) or `'classical-obrien-fleming'` /
    /// `'classical-pocock'`.
    pub fn parse(name: &str, param: Option<f64>) -> Result<Self> {
        match name {
            "classical-obrien-fleming" => Ok(Boundary::ClassicalObrienFleming),
            "classical-pocock" => Ok(Boundary::ClassicalPocock),
            _ => Spending::parse("spending", name, param).map(Boundary::Spending),
        }
    }
}

/// Grid points and Simpson weights over a continuation interval (J&T sec. 19.2.1).
fn grid(mean: f64, lo: f64, hi: f64, r: usize) -> (Vec<f64>, Vec<f64>) {
    let rf = r as f64;
    let n = 6 * r - 1;
    let mut x = Vec::with_capacity(n + 2);
    for i in 1..=n {
        let fi = i as f64;
        let v = if i < r {
            -3.0 - 4.0 * (rf / fi).ln()
        } else if i <= 5 * r {
            -3.0 + 3.0 * (fi - rf) / (2.0 * rf)
        } else {
            3.0 + 4.0 * (rf / (6.0 * rf - fi)).ln()
        };
        x.push(mean + v);
    }
    // Trim to (lo, hi), the finite ends added (J&T: the points beyond an end replaced by it).
    let mut pts = Vec::with_capacity(n + 2);
    if lo > x[0] {
        pts.push(lo);
    }
    pts.extend(x.iter().copied().filter(|&v| v > lo && v < hi));
    if hi < x[n - 1] {
        pts.push(hi);
    }
    if pts.len() < 2 || lo >= hi {
        return (Vec::new(), Vec::new());
    }
    let m = pts.len();
    let mut z = Vec::with_capacity(2 * m - 1);
    let mut w = Vec::with_capacity(2 * m - 1);
    for j in 0..m {
        let left = if j > 0 { pts[j] - pts[j - 1] } else { 0.0 };
        let right = if j + 1 < m { pts[j + 1] - pts[j] } else { 0.0 };
        z.push(pts[j]);
        w.push((left + right) / 6.0);
        if j + 1 < m {
            z.push(0.5 * (pts[j] + pts[j + 1]));
            w.push(4.0 * right / 6.0);
        }
    }
    (z, w)
}

/// The state after a look: the grid of `Z_k` on the continuation interval and `w_i h_k(z_i)`.
#[derive(Clone, Debug)]
struct State {
    t: f64,
    z: Vec<f64>,
    wh: Vec<f64>,
}

/// One look at fraction `t` following `prev` (`None` for the first look), under `drift`.
struct Step<'a> {
    prev: Option<&'a State>,
    t: f64,
    drift: f64,
}

impl Step<'_> {
    /// `P(Z_k > b, not stopped before)` (J&T eq. 19.4).
    fn upper(&self, b: f64) -> f64 {
        if b == f64::INFINITY {
            return 0.0;
        }
        match self.prev {
            None => tail(b - self.drift * self.t.sqrt()),
            Some(p) => {
                let d = self.t - p.t;
                let (st, sp, sd) = (self.t.sqrt(), p.t.sqrt(), d.sqrt());
                p.z.iter()
                    .zip(&p.wh)
                    .map(|(&z, &wh)| wh * tail((b * st - z * sp - self.drift * d) / sd))
                    .sum()
            }
        }
    }

    /// `P(Z_k < a, not stopped before)`.
    fn lower(&self, a: f64) -> f64 {
        if a == f64::NEG_INFINITY {
            return 0.0;
        }
        match self.prev {
            None => tail(-(a - self.drift * self.t.sqrt())),
            Some(p) => {
                let d = self.t - p.t;
                let (st, sp, sd) = (self.t.sqrt(), p.t.sqrt(), d.sqrt());
                p.z.iter()
                    .zip(&p.wh)
                    .map(|(&z, &wh)| wh * tail(-(a * st - z * sp - self.drift * d) / sd))
                    .sum()
            }
        }
    }

    /// The state on the continuation interval `(lo, hi)` (J&T eq. 19.3).
    fn state(&self, lo: f64, hi: f64, r: usize) -> State {
        let mean = self.drift * self.t.sqrt();
        let (z, w) = grid(mean, lo, hi, r);
        let wh = match self.prev {
            None => z
                .iter()
                .zip(&w)
                .map(|(&x, &wi)| wi * phi(x - mean))
                .collect(),
            Some(p) => {
                let d = self.t - p.t;
                let (st, sp, sd) = (self.t.sqrt(), p.t.sqrt(), d.sqrt());
                let scale = st / sd;
                let shifted: Vec<f64> = p.z.iter().map(|&zi| zi * sp + self.drift * d).collect();
                z.iter()
                    .zip(&w)
                    .map(|(&x, &wi)| {
                        let xs = x * st;
                        let s: f64 = shifted
                            .iter()
                            .zip(&p.wh)
                            .map(|(&m, &wh)| wh * phi((xs - m) / sd))
                            .sum();
                        wi * scale * s
                    })
                    .collect()
            }
        };
        State { t: self.t, z, wh }
    }
}

/// Checks information fractions: finite, positive, strictly increasing (`final_one`: the last
/// equal to 1, as a design's planned looks).
pub fn check_fractions(t: &[f64], final_one: bool) -> Result<()> {
    const ARG: &str = "information_fractions";
    if t.is_empty() {
        return Err(NeymanError::invalid(ARG, "needs at least one look"));
    }
    for (k, &v) in t.iter().enumerate() {
        if !(v.is_finite() && v > 0.0) {
            return Err(NeymanError::invalid(
                ARG,
                format!(
                    "look {} has fraction {v}; fractions must be positive",
                    k + 1
                ),
            ));
        }
        if k > 0 && v <= t[k - 1] {
            return Err(NeymanError::invalid(
                ARG,
                format!(
                    "fractions must increase: look {} has {v} after {}",
                    k + 1,
                    t[k - 1]
                ),
            ));
        }
    }
    if final_one && (t[t.len() - 1] - 1.0).abs() > 1e-12 {
        return Err(NeymanError::invalid(
            ARG,
            format!(
                "the last look of a design is at fraction 1 (full information), got {}",
                t[t.len() - 1]
            ),
        ));
    }
    if final_one && t.iter().any(|&v| v > 1.0 + 1e-12) {
        return Err(NeymanError::invalid(ARG, "fractions must lie in (0, 1]"));
    }
    Ok(())
}

fn check_level(arg: &str, v: f64) -> Result<()> {
    if !(v > 0.0 && v < 1.0) {
        return Err(NeymanError::invalid(
            arg,
            format!("must lie in (0, 1), got {v}"),
        ));
    }
    Ok(())
}

/// Per-look crossing probabilities of the bounds `upper` (efficacy) and `lower` (futility, or
/// `-upper` for a symmetric two-sided test; `-inf` for none) under `drift`: `(up, low)`, the
/// probability of first crossing each bound at each look.
pub fn crossing(
    t: &[f64],
    upper: &[f64],
    lower: &[f64],
    drift: f64,
    r: usize,
) -> (Vec<f64>, Vec<f64>) {
    let mut state: Option<State> = None;
    let (mut up, mut low) = (Vec::with_capacity(t.len()), Vec::with_capacity(t.len()));
    for k in 0..t.len() {
        let step = Step {
            prev: state.as_ref(),
            t: t[k],
            drift,
        };
        let (lo, hi) = (lower[k].min(upper[k]), upper[k]);
        up.push(step.upper(hi));
        low.push(step.lower(lo));
        if k + 1 < t.len() {
            state = Some(step.state(lo, hi, r));
        }
    }
    (up, low)
}

/// Efficacy bounds (z scale, upper side) by spending `level` per side at fractions `t`: each
/// look's bound solves `P_0(cross at k) = f(t_k) - f(t_{k-1})` (Brent). `two_sided`: symmetric
/// bounds `+/- b_k` each spending `level` (so the total is `2 level`). Returns the bounds and
/// the cumulative error spent per side. A look with nothing to spend has bound `+inf`.
pub fn spending_bounds(
    t: &[f64],
    level: f64,
    two_sided: bool,
    spending: Spending,
    r: usize,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut state: Option<State> = None;
    let mut bounds = Vec::with_capacity(t.len());
    let mut spent = Vec::with_capacity(t.len());
    let mut before = 0.0;
    for k in 0..t.len() {
        let cum = spending.cumulative(level, t[k]);
        let inc = cum - before;
        let step = Step {
            prev: state.as_ref(),
            t: t[k],
            drift: 0.0,
        };
        let b = if inc <= 1e-15 {
            f64::INFINITY
        } else {
            let (mut lo, hi) = (-2.0, 40.0);
            while step.upper(lo) < inc {
                lo -= 4.0;
                if lo < -50.0 {
                    return Err(NeymanError::invalid(
                        "alpha",
                        format!("look {}: cannot spend {inc} at this look", k + 1),
                    ));
                }
            }
            brent("alpha", |b| Ok(step.upper(b) - inc), lo, hi, XTOL)?
        };
        bounds.push(b);
        spent.push(cum);
        before = cum;
        if k + 1 < t.len() {
            let lo = if two_sided { -b } else { f64::NEG_INFINITY };
            state = Some(step.state(lo, b, r));
        }
    }
    Ok((bounds, spent))
}

/// Classical bounds `C / sqrt(t_k)` (O'Brien-Fleming) or `C` (Pocock) with total type-I error
/// `alpha_total` (both sides for `two_sided`); `C` by Brent.
pub fn classical_bounds(
    t: &[f64],
    alpha_total: f64,
    two_sided: bool,
    obrien_fleming: bool,
    r: usize,
) -> Result<Vec<f64>> {
    let shape = |c: f64| -> Vec<f64> {
        t.iter()
            .map(|&tk| if obrien_fleming { c / tk.sqrt() } else { c })
            .collect()
    };
    let size = |c: f64| {
        let b = shape(c);
        let lower: Vec<f64> = if two_sided {
            b.iter().map(|v| -v).collect()
        } else {
            vec![f64::NEG_INFINITY; t.len()]
        };
        let (up, low) = crossing(t, &b, &lower, 0.0, r);
        up.iter().sum::<f64>() + low.iter().sum::<f64>()
    };
    let c = brent("alpha", |c| Ok(size(c) - alpha_total), 0.5, 12.0, XTOL)?;
    Ok(shape(c))
}

/// Non-binding beta-spending futility bounds under `drift` (one-sided designs): each look's
/// bound solves `P_drift(Z_k < a_k, a_j < Z_j < b_j for j < k) = g(t_k) - g(t_{k-1})`, clipped
/// to the efficacy bound where it would exceed it. At a look with `t >= 1` the bound is the
/// efficacy bound (the final decision).
pub fn futility_bounds(
    t: &[f64],
    upper: &[f64],
    drift: f64,
    beta: f64,
    spending: Spending,
    r: usize,
) -> Result<Vec<f64>> {
    futility_path(t, upper, drift, beta, spending, r, false)
}

/// [`futility_bounds`]; `unclipped_last`: the last look's bound solved as if it were an interim
/// look, not clipped to the efficacy bound (the equation for the drift).
fn futility_path(
    t: &[f64],
    upper: &[f64],
    drift: f64,
    beta: f64,
    spending: Spending,
    r: usize,
    unclipped_last: bool,
) -> Result<Vec<f64>> {
    let mut state: Option<State> = None;
    let mut out = Vec::with_capacity(t.len());
    let mut before = 0.0;
    for k in 0..t.len() {
        let cum = spending.cumulative(beta, t[k]);
        let inc = cum - before;
        before = cum;
        let step = Step {
            prev: state.as_ref(),
            t: t[k],
            drift,
        };
        let b = upper[k];
        let free = unclipped_last && k + 1 == t.len();
        let a = if t[k] >= 1.0 - 1e-12 && !free {
            b
        } else if inc <= 1e-15 {
            f64::NEG_INFINITY
        } else if !free && b.is_finite() && step.lower(b) <= inc {
            b
        } else {
            let hi = if b.is_finite() && !free {
                b
            } else {
                drift * t[k].sqrt() + 40.0
            };
            if free && step.lower(hi) <= inc {
                // Less than the increment is left to spend: the drift is too large.
                out.push(hi);
                break;
            }
            let mut lo = hi.min(0.0) - 10.0;
            while step.lower(lo) > inc {
                lo -= 10.0;
                if lo < -200.0 {
                    break;
                }
            }
            brent("beta", |a| Ok(step.lower(a) - inc), lo, hi, XTOL)?
        };
        out.push(a);
        if k + 1 < t.len() {
            state = Some(step.state(a, b, r));
        }
    }
    Ok(out)
}

/// The drift at which a fixed-sample test at one-sided `level` per side (two-sided: both tails
/// count) has power `power`.
pub fn fixed_drift(level: f64, power: f64, two_sided: bool) -> Result<f64> {
    let z = norm_ppf(1.0 - level)?;
    let one = z + norm_ppf(power)?;
    if !two_sided {
        return Ok(one);
    }
    let f = |d: f64| Ok(tail(z - d) + tail(z + d) - power);
    brent("power", f, 0.0, one + 1.0, XTOL)
}

/// Options of a design.
#[derive(Clone, Copy, Debug)]
pub struct DesignOptions {
    /// Total type-I error (both sides for a two-sided test).
    pub alpha: f64,
    /// Symmetric two-sided (else one-sided, upper).
    pub two_sided: bool,
    /// Boundary family.
    pub boundary: Boundary,
    /// Target power at the design drift.
    pub power: f64,
    /// Beta-spending function of non-binding futility bounds (one-sided designs only).
    pub futility: Option<Spending>,
    /// Grid parameter.
    pub r: usize,
}

/// A computed design.
#[derive(Clone, Debug, PartialEq)]
pub struct Design {
    /// Efficacy z bounds (upper side).
    pub efficacy: Vec<f64>,
    /// Futility z bounds (`-inf` where none; the lower efficacy bound `-b` for two-sided).
    pub futility: Vec<f64>,
    /// Cumulative type-I error spent (both sides for two-sided).
    pub alpha_spent: Vec<f64>,
    /// Cumulative futility probability spent under the design drift (zeros without futility).
    pub beta_spent: Vec<f64>,
    /// `theta sqrt(I_max)` giving the target power.
    pub drift: f64,
    /// The fixed design's drift at the same alpha and power.
    pub drift_fixed: f64,
    /// `(drift / drift_fixed)^2`: maximum information relative to the fixed design.
    pub inflation: f64,
    /// Expected information under `theta = 0` and at the design drift, relative to the fixed design.
    pub expected_h0: f64,
    /// See `expected_h0`.
    pub expected_h1: f64,
    /// Probability of stopping for efficacy at each look under `theta = 0` (both sides).
    pub cross_h0: Vec<f64>,
    /// Probability of stopping for efficacy at each look at the design drift (upper side).
    pub cross_h1: Vec<f64>,
}

fn power_at(t: &[f64], upper: &[f64], lower: &[f64], two_sided: bool, drift: f64, r: usize) -> f64 {
    let (up, low) = crossing(t, upper, lower, drift, r);
    up.iter().sum::<f64>()
        + if two_sided {
            low.iter().sum::<f64>()
        } else {
            0.0
        }
}

fn expected(t: &[f64], up: &[f64], low: &[f64]) -> f64 {
    let k = t.len();
    let mut stopped = 0.0;
    let mut e = 0.0;
    for j in 0..k - 1 {
        let p = up[j] + low[j];
        e += t[j] * p;
        stopped += p;
    }
    e + t[k - 1] * (1.0 - stopped)
}

/// The efficacy bounds (upper side) and cumulative alpha spent (total) at fractions `t`.
pub fn efficacy(t: &[f64], o: &DesignOptions) -> Result<(Vec<f64>, Vec<f64>)> {
    check_level("alpha", o.alpha)?;
    let sides = if o.two_sided { 2.0 } else { 1.0 };
    let level = o.alpha / sides;
    match o.boundary {
        Boundary::Spending(s) => {
            let (b, spent) = spending_bounds(t, level, o.two_sided, s, o.r)?;
            Ok((b, spent.iter().map(|v| v * sides).collect()))
        }
        Boundary::ClassicalObrienFleming | Boundary::ClassicalPocock => {
            let b = classical_bounds(
                t,
                o.alpha,
                o.two_sided,
                o.boundary == Boundary::ClassicalObrienFleming,
                o.r,
            )?;
            let lower: Vec<f64> = if o.two_sided {
                b.iter().map(|v| -v).collect()
            } else {
                vec![f64::NEG_INFINITY; t.len()]
            };
            let (up, low) = crossing(t, &b, &lower, 0.0, o.r);
            let mut acc = 0.0;
            let spent = up
                .iter()
                .zip(&low)
                .map(|(u, l)| {
                    acc += u + l;
                    acc
                })
                .collect();
            Ok((b, spent))
        }
    }
}

/// The design at the planned fractions `t` (the last 1): bounds, drift for the target power,
/// inflation factor and expected sample sizes.
pub fn design(t: &[f64], o: &DesignOptions) -> Result<Design> {
    check_fractions(t, true)?;
    check_level("power", o.power)?;
    if o.futility.is_some() && o.two_sided {
        return Err(NeymanError::invalid(
            "futility",
            "futility bounds are for one-sided designs (alternative='greater' or 'less')",
        ));
    }
    let (efficacy_b, alpha_spent) = efficacy(t, o)?;
    let sides = if o.two_sided { 2.0 } else { 1.0 };
    let drift_fixed = fixed_drift(o.alpha / sides, o.power, o.two_sided)?;
    let sym: Vec<f64> = if o.two_sided {
        efficacy_b.iter().map(|v| -v).collect()
    } else {
        vec![f64::NEG_INFINITY; t.len()]
    };
    let beta = 1.0 - o.power;
    let (drift, futility) = match o.futility {
        None => {
            let f = |d: f64| Ok(power_at(t, &efficacy_b, &sym, o.two_sided, d, o.r) - o.power);
            let mut hi = 2.0 * drift_fixed;
            while f(hi)? < 0.0 {
                hi *= 2.0;
            }
            let d = brent("power", f, 0.5 * drift_fixed, hi, XTOL)?;
            (d, sym)
        }
        Some(g) => {
            // The drift at which the last futility bound meets the last efficacy bound
            // (Pampallona et al. 2001): the futility bound at t = 1 before clipping, minus b_K.
            let k = t.len();
            let gap = |d: f64| -> Result<f64> {
                let a = futility_path(t, &efficacy_b, d, beta, g, o.r, true)?;
                Ok(a[k - 1] - efficacy_b[k - 1])
            };
            let (lo, mut hi) = (0.5 * drift_fixed, 1.5 * drift_fixed);
            while gap(hi)? < 0.0 {
                hi *= 1.5;
                if hi > 100.0 * drift_fixed {
                    return Err(NeymanError::invalid("beta", "no drift meets the bounds"));
                }
            }
            let d = brent("beta", gap, lo, hi, 1e-10)?;
            (d, futility_bounds(t, &efficacy_b, d, beta, g, o.r)?)
        }
    };
    let (up0, low0) = crossing(t, &efficacy_b, &futility, 0.0, o.r);
    let (up1, low1) = crossing(t, &efficacy_b, &futility, drift, o.r);
    let inflation = (drift / drift_fixed).powi(2);
    let cross_h0 = if o.two_sided {
        up0.iter().zip(&low0).map(|(u, l)| u + l).collect()
    } else {
        up0.clone()
    };
    let beta_spent = match o.futility {
        Some(_) => {
            let mut acc = 0.0;
            low1.iter()
                .map(|l| {
                    acc += l;
                    acc
                })
                .collect()
        }
        None => vec![0.0; t.len()],
    };
    Ok(Design {
        expected_h0: inflation * expected(t, &up0, &low0),
        expected_h1: inflation * expected(t, &up1, &low1),
        efficacy: efficacy_b,
        futility,
        alpha_spent,
        beta_spent,
        drift,
        drift_fixed,
        inflation,
        cross_h0,
        cross_h1: up1,
    })
}

/// Bounds at observed (possibly unplanned) fractions `t` of a design with drift `drift`: the
/// spending functions evaluated at `t` (capped at 1). Returns `(efficacy, futility, alpha_spent)`.
pub fn bounds_at(
    t: &[f64],
    o: &DesignOptions,
    drift: f64,
) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    check_fractions(t, false)?;
    let (b, spent) = efficacy(t, o)?;
    let fut = match o.futility {
        Some(g) => futility_bounds(t, &b, drift, 1.0 - o.power, g, o.r)?,
        None if o.two_sided => b.iter().map(|v| -v).collect(),
        None => vec![f64::NEG_INFINITY; t.len()],
    };
    Ok((b, fut, spent))
}

/// The z bounds of the normal-mixture mSPRT at fractions `t` of a horizon at which the estimate
/// has variance 1 (so `v_k = 1 / t_k`), with mixing variance `tau2` on that scale: the look
/// rejects when `|Z_k| >= h(v_k) / sqrt(v_k)`, `h` the half-width of `inference::mixture`.
pub fn msprt_bounds(
    t: &[f64],
    tau2: f64,
    alpha: f64,
    alternative: Alternative,
) -> Result<Vec<f64>> {
    t.iter()
        .map(|&tk| {
            let v = 1.0 / tk;
            Ok(half_width(v, tau2, alpha, alternative)? / v.sqrt())
        })
        .collect()
}

/// Power of the mSPRT watched at fractions `t` (the last the horizon) under `drift` (the effect
/// over its standard error at the horizon, signed in the direction of `alternative`): the
/// probability that the mixture ratio reaches `1 / alpha` at one of the looks, by the recursion
/// above over the looks' z bounds. Two-sided: either sign counts.
pub fn msprt_power(
    t: &[f64],
    drift: f64,
    tau2: f64,
    alpha: f64,
    alternative: Alternative,
    r: usize,
) -> Result<f64> {
    check_fractions(t, false)?;
    check_level("alpha", alpha)?;
    if !(tau2 > 0.0 && tau2.is_finite()) {
        return Err(NeymanError::invalid(
            "mixing_variance",
            format!("must be positive and finite, got {tau2}"),
        ));
    }
    let alt1 = match alternative {
        Alternative::TwoSided => Alternative::TwoSided,
        _ => Alternative::Greater,
    };
    let b = msprt_bounds(t, tau2, alpha, alt1)?;
    let two = alternative == Alternative::TwoSided;
    let d = if alternative == Alternative::Less {
        -drift
    } else {
        drift
    };
    let lower: Vec<f64> = if two {
        b.iter().map(|v| -v).collect()
    } else {
        vec![f64::NEG_INFINITY; t.len()]
    };
    Ok(power_at(t, &b, &lower, two, d, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(boundary: Boundary, two_sided: bool) -> DesignOptions {
        DesignOptions {
            alpha: 0.05,
            two_sided,
            boundary,
            power: 0.9,
            futility: None,
            r: GRID_R,
        }
    }

    #[test]
    fn classical_constants_match_jennison_turnbull() {
        // J&T Table 2.1 (Pocock C_P) and 2.3 (O'Brien-Fleming C_B), two-sided alpha 0.05.
        let t5 = [0.2, 0.4, 0.6, 0.8, 1.0];
        let p = classical_bounds(&t5, 0.05, true, false, GRID_R).unwrap();
        assert!((p[0] - 2.413).abs() < 6e-4, "{p:?}");
        let b = classical_bounds(&t5, 0.05, true, true, GRID_R).unwrap();
        assert!((b[4] - 2.040).abs() < 6e-4, "{b:?}");
    }

    #[test]
    fn spending_at_one_look_is_fixed_test() {
        let (b, _) =
            spending_bounds(&[1.0], 0.025, false, Spending::ObrienFleming, GRID_R).unwrap();
        assert!((b[0] - 1.959_963_984_540_054).abs() < 1e-8);
    }

    #[test]
    fn design_inflation_classical_obf() {
        // J&T Table 2.4: R_B = 1.026 for K = 5, alpha 0.05 two-sided, power 0.9.
        let t5 = [0.2, 0.4, 0.6, 0.8, 1.0];
        let d = design(&t5, &opts(Boundary::ClassicalObrienFleming, true)).unwrap();
        assert!((d.inflation - 1.026).abs() < 6e-4, "{}", d.inflation);
    }

    #[test]
    fn msprt_bounds_closed_form() {
        // Two-sided: |Z| >= sqrt((v + tau2) / tau2 (2 log(1 / alpha) + log((v + tau2) / v))).
        let (tau2, alpha) = (2.0, 0.05);
        let b = msprt_bounds(&[0.25, 1.0], tau2, alpha, Alternative::TwoSided).unwrap();
        for (tk, bk) in [0.25_f64, 1.0].iter().zip(&b) {
            let v = 1.0 / tk;
            let c = ((v + tau2) / tau2 * (2.0 * (1.0 / alpha).ln() + ((v + tau2) / v).ln())).sqrt();
            assert!((bk - c).abs() < 1e-12, "{bk} {c}");
        }
    }

    #[test]
    fn bad_fractions() {
        assert!(check_fractions(&[0.5, 0.4, 1.0], true).is_err());
        assert!(check_fractions(&[0.5, 0.9], true).is_err());
        assert!(check_fractions(&[0.0, 1.0], true).is_err());
    }
}
