//! Cluster-robust least squares from per-cluster sums ([`ClusterSums`]): coefficients, the
//! CR0-CR3 covariance, degrees of freedom, and the design effect of clustering.
//!
//! With `G_g = X_g'X_g`, `M = (X'X)^-1`, `b = M X'y` and the cluster scores
//! `u_g = X_g'y_g - G_g b = X_g'e_g`:
//!
//! - `CR0 = M (sum_g u_g u_g') M` (Liang and Zeger 1986);
//! - `CR1 = CR0 G/(G-1) (N-1)/(N-p)`, Stata's factor (statsmodels' `cov_type="cluster"`, pyfixest's
//!   `CRV1`);
//! - `CR2` (Bell and McCaffrey 2002): the scores adjusted by `A_g = (I - H_gg)^{-1/2}`, through the
//!   push-through identity `X_g'(I - X_g M X_g')^{-1/2} = (I - G_g M)^{-1/2} X_g'` and
//!   `(I - G_g M)^{-1/2} = M^{-1/2} (I - B_g)^{-1/2} M^{1/2}` with the symmetric
//!   `B_g = M^{1/2} G_g M^{1/2}`: one `p x p` eigendecomposition per cluster (as Kolesar's
//!   dfadjust), never an `n_g x n_g` matrix. `V = M^{1/2} (sum_g r_g r_g') M^{1/2}` with
//!   `r_g = (I - B_g)^{-1/2} M^{1/2} u_g`;
//! - `CR3`, the cluster jackknife of MacKinnon, Nielsen and Webb (2023, "CV3"):
//!   `(G-1)/G sum_g (b_{-g} - b)(b_{-g} - b)'`, centred at the full-sample `b`, with
//!   `b_{-g} - b = -(X'X - G_g)^{-1} u_g = -M^{1/2} (I - B_g)^{-1} M^{1/2} u_g`. pyfixest's `CRV3`
//!   is the same sum times `G/(G-1) (N-1)/(N-p)` instead of `(G-1)/G`.
//!
//! Degrees of freedom: `G - 1` for CR0, CR1 and CR3 (Stata, pyfixest); for CR2 the Bell-McCaffrey
//! Satterthwaite approximation per coefficient (Imbens and Kolesar 2016, eq. 9; Pustejovsky and
//! Tipton 2018 with the working model `I`): with `a_g = A_g X_g M c`, `df = (tr C)^2 / tr(C^2)`,
//! `C = diag(a_g'a_g) - W'MW`, `W = [X_g'a_g]`. In the eigenbasis of `B_g` (`v = M^{1/2} c`,
//! `t = U_g'v`): `a_g'a_g = sum_l l/(1-l) t_l^2` and `M^{1/2} X_g'a_g = omega_g =
//! sum_l l/sqrt(1-l) t_l U_l`, so `tr C = sum_g a_g'a_g - tr Q` and
//! `tr C^2 = sum_g (a_g'a_g)^2 - 2 sum_g a_g'a_g |omega_g|^2 + |Q|_F^2`, `Q = sum_g omega_g omega_g'`:
//! `O(G p^3)` work in all.
//!
//! Two-way clustering (Cameron, Gelbach and Miller 2011): `V = V_A + V_B - V_{A and B}` of the CR0
//! terms; CR1 scales the sum by `G_min/(G_min-1) (N-1)/(N-p)` with `G_min = min(G_A, G_B)`, the
//! default of pyfixest 0.60 and fixest (`G_df = "min"`); Stata's cluster2 and statsmodels give each
//! term its own `G_i/(G_i-1)` instead. `df = min(G_A, G_B) - 1`. The sum may fail to be positive semi-definite: the fit says
//! so (`psd`) and leaves the matrix as it is (no eigenvalue clipping), as fixest warns.
//!
//! No clusters: each row is its own cluster ([`row_fit`], one more pass over the rows with the
//! rank-one `B_i`): CR0 is HC0, CR1 with `G = N` is HC1, CR2 is HC2 with the Bell-McCaffrey df,
//! CR3 is `(N-1)/N` times the jackknife HC3.
//!
//! The design effect of a coefficient is its clustered variance over its i.i.d. (classical OLS)
//! variance `s^2 (X'X)^-1`, and the intra-cluster correlation of the residuals is the one-way
//! ANOVA estimator `(MSB - MSW) / (MSB + (n0 - 1) MSW)` with `n0 = (N - sum n_g^2 / N) / (G - 1)`
//! (Donner 1986), from the per-cluster sums of the residuals and of their squares.
//!
//! Sums are stored around a reference point (see [`crate::stats::cluster`]); the fit runs in that
//! basis and maps coefficients and covariance back at the end (`b = T'b~ + s_y w`, `V = T'V~T`),
//! with the covariates of an arms model centred at their pooled means, so that the arms'
//! coefficients are adjusted means.

use crate::error::{NeymanError, Result};
use crate::inference::distributions::{check_confidence_level, interval, Reference};
use crate::inference::{compare, Alternative, Arm, Comparison, Contrast, Options};
use crate::linalg::{mat_mul, mat_vec, spd_inverse, sym_eigen, sym_sqrt};
use crate::parallel::reduce_blocks;
use crate::scan::{fold_rows, ClusterDesign};
use crate::stats::cluster::packed;
use crate::stats::ClusterSums;

/// The cluster-robust covariance estimator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vcov {
    CR0,
    CR1,
    CR2,
    CR3,
}

impl Vcov {
    /// `"CR0"` ... `"CR3"`; any other name is an error naming `vcov`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "CR0" => Ok(Vcov::CR0),
            "CR1" => Ok(Vcov::CR1),
            "CR2" => Ok(Vcov::CR2),
            "CR3" => Ok(Vcov::CR3),
            _ => Err(NeymanError::invalid(
                "vcov",
                format!("must be 'CR0', 'CR1', 'CR2' or 'CR3', got {s:?}"),
            )),
        }
    }

    /// The name.
    pub fn name(self) -> &'static str {
        match self {
            Vcov::CR0 => "CR0",
            Vcov::CR1 => "CR1",
            Vcov::CR2 => "CR2",
            Vcov::CR3 => "CR3",
        }
    }
}

/// A fitted cluster-robust regression.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterFit {
    /// Coefficient names.
    pub names: Vec<String>,
    /// Coefficients.
    pub params: Vec<f64>,
    /// Covariance (`p x p`, row-major).
    pub vcov: Vec<f64>,
    /// Degrees of freedom per coefficient.
    pub df: Vec<f64>,
    /// Degrees of freedom of each contrast asked for (see [`cluster_fit_contrasts`]).
    pub contrast_df: Vec<f64>,
    /// Classical i.i.d. OLS variance of each coefficient, `s^2 (X'X)^-1` on the diagonal.
    pub iid_var: Vec<f64>,
    /// The classical i.i.d. OLS covariance `s^2 (X'X)^-1` (`p x p`, row-major).
    pub iid_vcov: Vec<f64>,
    /// Rows used.
    pub n: u64,
    /// Clusters with rows (the smaller of the two with two-way clustering; `n` without clusters).
    pub n_clusters: u64,
    /// Rows skipped for a NaN, and for an infinity.
    pub n_nan: u64,
    pub n_inf: u64,
    /// Intra-cluster correlation of the residuals (NaN without a constant or without clusters).
    pub icc: f64,
    /// Whether the covariance is positive semi-definite (false only for two-way clustering).
    pub psd: bool,
    /// The estimator.
    pub vcov_type: Vcov,
}

impl ClusterFit {
    /// Design effect of coefficient `k`: clustered over i.i.d. variance, and the effective sample
    /// size `n / deff`.
    pub fn design_effect(&self, k: usize) -> (f64, f64) {
        let p = self.params.len();
        design_effect(self.vcov[k * p + k], self.iid_var[k], self.n)
    }
}

/// t-tests of each coefficient against zero: standard errors, statistics, p-values and intervals.
#[derive(Clone, Debug, PartialEq)]
pub struct CoefficientTests {
    pub se: Vec<f64>,
    pub statistic: Vec<f64>,
    pub pvalue: Vec<f64>,
    pub ci_low: Vec<f64>,
    pub ci_high: Vec<f64>,
}

/// Tests of `params` with standard errors `se` against Student's t with `df` (each its own).
pub fn coefficient_tests(
    params: &[f64],
    se: &[f64],
    df: &[f64],
    alternative: Alternative,
    confidence_level: f64,
) -> Result<CoefficientTests> {
    check_confidence_level(confidence_level)?;
    let mut out = CoefficientTests {
        se: se.to_vec(),
        statistic: Vec::new(),
        pvalue: Vec::new(),
        ci_low: Vec::new(),
        ci_high: Vec::new(),
    };
    for ((&b, &s), &d) in params.iter().zip(se).zip(df) {
        let reference = if d.is_finite() && d > 0.0 {
            Reference::T(d)
        } else if d.is_infinite() {
            Reference::Normal
        } else {
            // No degrees of freedom (a NaN variance): no test.
            out.statistic.push(f64::NAN);
            out.pvalue.push(f64::NAN);
            out.ci_low.push(f64::NAN);
            out.ci_high.push(f64::NAN);
            continue;
        };
        let t = b / s;
        out.statistic.push(t);
        out.pvalue.push(reference.pvalue(t, alternative)?);
        let q = reference.critical(alternative, confidence_level)?;
        let (lo, hi) = interval(b, s, q, alternative);
        out.ci_low.push(lo);
        out.ci_high.push(hi);
    }
    Ok(out)
}

/// `(deff, n_eff)`: the design effect `clustered / iid` of a variance and the effective sample
/// size `n / deff`.
pub fn design_effect(clustered_var: f64, iid_var: f64, n: u64) -> (f64, f64) {
    let deff = clustered_var / iid_var;
    (deff, n as f64 / deff)
}

/// The model in the stored basis: totals, inverse, square root, coefficients, and the map back.
struct Model {
    p: usize,
    n: u64,
    m: Vec<f64>,
    m_half: Vec<f64>,
    b: Vec<f64>,
    /// `T` (row-major): stored-basis design `x~ = T x^c`.
    t: Vec<f64>,
    /// `v_k = M^{1/2} T c_k`, one per coefficient (`c_k = e_k`), then one per extra contrast
    /// (row-major, `p` entries each).
    v: Vec<f64>,
    /// Rows of `v`.
    nv: usize,
    /// Sum of squared residuals.
    sse: f64,
    /// `s_y` on the constant columns: `b = T'b~ + s_y w`.
    y_shift: Vec<f64>,
}

impl Model {
    fn new(s: &ClusterSums, contrasts: &[Vec<f64>]) -> Result<Model> {
        let l = &s.layout;
        let p = l.p();
        let w = l.width();
        let names = l.names();
        let n: u64 = s.n.iter().sum();
        if (n as usize) <= p {
            return Err(NeymanError::TooFewObservations {
                arg: "y".into(),
                n,
                needed: p as u64 + 1,
            });
        }
        let totals: Vec<f64> = {
            let t = crate::stats::cluster::tri(w);
            let mut acc = vec![0.0; t];
            for g in 0..s.n_clusters() {
                acc.iter_mut().zip(s.cluster(g)).for_each(|(a, b)| *a += b);
            }
            acc
        };
        let at = |a: usize, b: usize| totals[packed(w, a, b)];
        let xtx: Vec<Vec<f64>> = (0..p).map(|a| (0..p).map(|b| at(a, b)).collect()).collect();
        let xty: Vec<f64> = (0..p).map(|a| at(a, p)).collect();
        let m = spd_inverse(&xtx).map_err(|k| {
            let name = names.get(k).cloned().unwrap_or_default();
            NeymanError::ZeroVariance {
                arg: name.clone(),
                msg: format!(
                    "column '{name}' is constant, empty or collinear with the other columns, so \
                     its coefficient is not identified"
                ),
            }
        })?;
        let m = crate::linalg::flatten(&m);
        let b = mat_vec(&m, &xty, p);
        let sse = (at(p, p) - b.iter().zip(&xty).map(|(x, y)| x * y).sum::<f64>()).max(0.0);
        let m_half = sym_sqrt(&m, p);
        // The target centre: pooled means of the covariates with arms, zero otherwise.
        let nc = l.n_constant();
        let k = l.numeric.len();
        let centre: Vec<f64> = (0..k)
            .map(|j| {
                if l.arms.is_empty() {
                    0.0
                } else {
                    let sum: f64 = (0..nc).map(|c| at(c, nc + j)).sum();
                    s.shift[j] + sum / n as f64
                }
            })
            .collect();
        let mut t = vec![0.0; p * p];
        for i in 0..p {
            t[i * p + i] = 1.0;
        }
        for row in 0..p {
            if let Some((j, base)) = l.shifted(row) {
                let delta = s.shift[j] - centre[j];
                for c in base {
                    t[row * p + c] -= delta;
                }
            }
        }
        if let Some(c) = contrasts.iter().find(|c| c.len() != p) {
            return Err(NeymanError::invalid(
                "contrasts",
                format!(
                    "each contrast needs {p} weights (one per coefficient), got {}",
                    c.len()
                ),
            ));
        }
        let nv = p + contrasts.len();
        let mut v = vec![0.0; nv * p];
        for kk in 0..nv {
            let c: Vec<f64> = if kk < p {
                (0..p).map(|j| if j == kk { 1.0 } else { 0.0 }).collect()
            } else {
                contrasts[kk - p].clone()
            };
            let tc = mat_vec(&t, &c, p);
            let vk = mat_vec(&m_half, &tc, p);
            v[kk * p..(kk + 1) * p].copy_from_slice(&vk);
        }
        let mut y_shift = vec![0.0; p];
        if nc > 0 {
            for c in y_shift.iter_mut().take(nc) {
                *c = s.shift[k];
            }
        }
        Ok(Model {
            p,
            n,
            m,
            m_half,
            b,
            t,
            v,
            nv,
            sse,
            y_shift,
        })
    }

    /// Coefficients in the caller's basis.
    fn params(&self) -> Vec<f64> {
        let p = self.p;
        (0..p)
            .map(|k| (0..p).map(|r| self.t[r * p + k] * self.b[r]).sum::<f64>() + self.y_shift[k])
            .collect()
    }

    /// `T' V T`.
    fn back(&self, v: &[f64]) -> Vec<f64> {
        let p = self.p;
        let mut tt = vec![0.0; p * p];
        for i in 0..p {
            for j in 0..p {
                tt[i * p + j] = self.t[j * p + i];
            }
        }
        mat_mul(&mat_mul(&tt, v, p), &self.t, p)
    }

    /// `A S A` for symmetric `A`.
    fn sandwich(a: &[f64], s: &[f64], p: usize) -> Vec<f64> {
        mat_mul(&mat_mul(a, s, p), a, p)
    }
}

/// Per-cluster accumulations of one estimator; merged in cluster order.
#[derive(Clone)]
struct Acc {
    /// `sum r r'` (`p x p`).
    meat: Vec<f64>,
    /// For the CR2 df, per coefficient: `sum a`, `sum a^2`, `sum a |omega|^2`, and `Q` (`p x p`).
    sa: Vec<f64>,
    sa2: Vec<f64>,
    saw: Vec<f64>,
    q: Vec<f64>,
    /// Clusters with rows.
    g: u64,
    /// The first cluster with leverage 1 (its index), if any.
    singular: Option<usize>,
    /// ICC parts: `sum_g (sum e)^2 / n_g`, `sum_g n_g^2`, `sum e`.
    ssb: f64,
    sn2: f64,
    se: f64,
}

impl Acc {
    fn new(p: usize, nv: usize) -> Acc {
        Acc {
            meat: vec![0.0; p * p],
            sa: vec![0.0; nv],
            sa2: vec![0.0; nv],
            saw: vec![0.0; nv],
            q: vec![0.0; nv * p * p],
            g: 0,
            singular: None,
            ssb: 0.0,
            sn2: 0.0,
            se: 0.0,
        }
    }

    fn add(mut self, o: Acc) -> Acc {
        let add = |a: &mut Vec<f64>, b: &[f64]| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add(&mut self.meat, &o.meat);
        add(&mut self.sa, &o.sa);
        add(&mut self.sa2, &o.sa2);
        add(&mut self.saw, &o.saw);
        add(&mut self.q, &o.q);
        self.g += o.g;
        self.singular = self.singular.or(o.singular);
        self.ssb += o.ssb;
        self.sn2 += o.sn2;
        self.se += o.se;
        self
    }

    /// Add one cluster: its score `u` and the eigenpairs of `B_g` with non-zero eigenvalues
    /// (`values[l]`, `vectors[l * p..]`); `index` names it in an error.
    fn cluster(
        &mut self,
        model: &Model,
        vcov: Vcov,
        u: &[f64],
        values: &[f64],
        vectors: &[f64],
        index: usize,
    ) {
        let p = model.p;
        self.g += 1;
        let r = match vcov {
            Vcov::CR0 | Vcov::CR1 => u.to_vec(),
            Vcov::CR2 | Vcov::CR3 => {
                if values.iter().any(|&l| l >= 1.0 - 1e-10) {
                    self.singular = self.singular.or(Some(index));
                    return;
                }
                let r0 = mat_vec(&model.m_half, u, p);
                let mut r = r0.clone();
                for (l, &lam) in values.iter().enumerate() {
                    let ul = &vectors[l * p..(l + 1) * p];
                    let f = if vcov == Vcov::CR2 {
                        1.0 / (1.0 - lam).sqrt() - 1.0
                    } else {
                        lam / (1.0 - lam)
                    };
                    let proj: f64 = ul.iter().zip(&r0).map(|(a, b)| a * b).sum();
                    r.iter_mut().zip(ul).for_each(|(x, y)| *x += f * proj * y);
                }
                if vcov == Vcov::CR2 {
                    self.df_parts(model, values, vectors);
                }
                r
            }
        };
        for i in 0..p {
            for j in 0..p {
                self.meat[i * p + j] += r[i] * r[j];
            }
        }
    }

    fn df_parts(&mut self, model: &Model, values: &[f64], vectors: &[f64]) {
        let p = model.p;
        let mut omega = vec![0.0; p];
        for k in 0..model.nv {
            let v = &model.v[k * p..(k + 1) * p];
            omega.iter_mut().for_each(|x| *x = 0.0);
            let mut a = 0.0;
            for (l, &lam) in values.iter().enumerate() {
                let ul = &vectors[l * p..(l + 1) * p];
                let t: f64 = ul.iter().zip(v).map(|(x, y)| x * y).sum();
                a += lam / (1.0 - lam) * t * t;
                let f = lam / (1.0 - lam).sqrt() * t;
                omega.iter_mut().zip(ul).for_each(|(o, u)| *o += f * u);
            }
            let norm2: f64 = omega.iter().map(|x| x * x).sum();
            self.sa[k] += a;
            self.sa2[k] += a * a;
            self.saw[k] += a * norm2;
            let q = &mut self.q[k * p * p..(k + 1) * p * p];
            for i in 0..p {
                for j in 0..p {
                    q[i * p + j] += omega[i] * omega[j];
                }
            }
        }
    }

    /// Bell-McCaffrey degrees of freedom of each coefficient, then of each extra contrast.
    fn bm_df(&self, p: usize, nv: usize) -> Vec<f64> {
        (0..nv)
            .map(|k| {
                let q = &self.q[k * p * p..(k + 1) * p * p];
                let tr_q: f64 = (0..p).map(|i| q[i * p + i]).sum();
                let frob: f64 = q.iter().map(|x| x * x).sum();
                let tr_c = self.sa[k] - tr_q;
                let tr_c2 = self.sa2[k] - 2.0 * self.saw[k] + frob;
                tr_c * tr_c / tr_c2
            })
            .collect()
    }
}

/// Finish: covariance in the stored basis from the accumulations, then the fit.
fn finish(
    model: &Model,
    acc: &Acc,
    vcov: Vcov,
    names: Vec<String>,
    counts: (u64, u64),
    label: impl Fn(usize) -> String,
) -> Result<ClusterFit> {
    let p = model.p;
    if let Some(g) = acc.singular {
        return Err(NeymanError::invalid(
            "vcov",
            format!(
                "{} is undefined: cluster {} has leverage 1 (its rows alone determine part of the \
                 fit, so I - H_gg is singular); use vcov='CR1' or drop the cluster",
                vcov.name(),
                label(g)
            ),
        ));
    }
    let (n, g) = (model.n as f64, acc.g as f64);
    let v = match vcov {
        Vcov::CR0 | Vcov::CR1 => {
            let v = Model::sandwich(&model.m, &acc.meat, p);
            if vcov == Vcov::CR1 {
                let f = g / (g - 1.0) * (n - 1.0) / (n - p as f64);
                v.into_iter().map(|x| x * f).collect()
            } else {
                v
            }
        }
        Vcov::CR2 => Model::sandwich(&model.m_half, &acc.meat, p),
        Vcov::CR3 => Model::sandwich(&model.m_half, &acc.meat, p)
            .into_iter()
            .map(|x| x * (g - 1.0) / g)
            .collect(),
    };
    let vcov_back = model.back(&v);
    let mut df = if vcov == Vcov::CR2 {
        acc.bm_df(p, model.nv)
    } else {
        vec![g - 1.0; model.nv]
    };
    let contrast_df = df.split_off(p);
    let sigma2 = model.sse / (n - p as f64);
    let iid_vcov: Vec<f64> = model.back(&model.m).iter().map(|v| sigma2 * v).collect();
    let iid_var = (0..p).map(|k| iid_vcov[k * p + k]).collect();
    // One-way ANOVA ICC of the residuals.
    let icc = if acc.g >= 2 && model.n > acc.g {
        let ebar = acc.se / n;
        let ssb = acc.ssb - n * ebar * ebar;
        let ssw = (model.sse - acc.ssb).max(0.0);
        let msb = ssb / (g - 1.0);
        let msw = ssw / (n - g);
        let n0 = (n - acc.sn2 / n) / (g - 1.0);
        (msb - msw) / (msb + (n0 - 1.0) * msw)
    } else {
        f64::NAN
    };
    Ok(ClusterFit {
        names,
        params: model.params(),
        vcov: vcov_back,
        df,
        contrast_df,
        iid_var,
        iid_vcov,
        n: model.n,
        n_clusters: acc.g,
        n_nan: counts.0,
        n_inf: counts.1,
        icc,
        psd: true,
        vcov_type: vcov,
    })
}

/// Treatment arm `g` of an arms model (coefficient `g` the arm's adjusted mean, arm 0 the
/// control) against the control from a cluster-robust fit: `effect = b_g - b_0` with variance
/// `v_gg + v_00 - 2 v_0g`, Student's t with `df` (the contrast's Bell-McCaffrey df for CR2,
/// `G - 1` otherwise), the relative effect `b_g / b_0 - 1` by the delta method or Fieller with
/// the covariance of the two means; `n` the rows of the two arms. Also the design effect of the
/// contrast (its clustered over its i.i.d. OLS variance) and the effective sample size.
pub fn compare_arm(
    fit: &ClusterFit,
    g: usize,
    df: f64,
    n: (u64, u64),
    opts: &Options,
) -> Result<(Comparison, f64, f64)> {
    let p = fit.params.len();
    let v = |a: usize, b: usize| fit.vcov[a * p + b];
    let var = (v(g, g) + v(0, 0) - 2.0 * v(0, g)).max(0.0);
    if var.is_nan() || var <= 0.0 {
        return Err(NeymanError::ZeroVariance {
            arg: "y".into(),
            msg: "the cluster-robust standard error of the effect is zero".into(),
        });
    }
    if df.is_nan() || df <= 0.0 {
        return Err(NeymanError::invalid(
            "cluster",
            format!("the degrees of freedom of the effect are {df}; more clusters are needed"),
        ));
    }
    let contrast = Contrast {
        control: Arm {
            value: fit.params[0],
            var: v(0, 0),
            n: n.0,
        },
        treatment: Arm {
            value: fit.params[g],
            var: v(g, g),
            n: n.1,
        },
        cov: v(0, g),
        var_effect: var,
        se_test: var.sqrt(),
        reference: Reference::T(df),
    };
    let comparison = compare(&contrast, opts)?;
    let w = |a: usize, b: usize| fit.iid_vcov[a * p + b];
    let iid = w(g, g) + w(0, 0) - 2.0 * w(0, g);
    let (deff, n_eff) = design_effect(var, iid, n.0 + n.1);
    Ok((comparison, deff, n_eff))
}

/// Fit `y` on the design of `s` with cluster-robust covariance `vcov`; see the module docs.
pub fn cluster_fit(s: &ClusterSums, vcov: Vcov) -> Result<ClusterFit> {
    cluster_fit_contrasts(s, vcov, &[])
}

/// [`cluster_fit`], with the degrees of freedom of contrasts `c'b` too (`contrast_df`; each `c`
/// has one weight per coefficient, e.g. treatment minus control of an arms model). Their variance
/// is `c' vcov c`.
pub fn cluster_fit_contrasts(
    s: &ClusterSums,
    vcov: Vcov,
    contrasts: &[Vec<f64>],
) -> Result<ClusterFit> {
    let model = Model::new(s, contrasts)?;
    let p = model.p;
    let w = s.width();
    let nc = s.layout.n_constant();
    let groups = s.n.iter().filter(|&&n| n > 0).count() as u64;
    // Fewer clusters than coefficients leave the cluster-robust covariance singular (its meat
    // has rank below p): a named error rather than a matrix that cannot be trusted.
    let needed = (p as u64).max(2);
    if groups < needed {
        return Err(NeymanError::TooFewClusters {
            arg: "cluster".into(),
            n: groups,
            needed,
        });
    }
    let map = |r: std::ops::Range<usize>| -> Acc {
        let mut acc = Acc::new(p, model.nv);
        let mut gm = vec![0.0; p * p];
        for g in r {
            if s.n[g] == 0 {
                continue;
            }
            let c = s.cluster(g);
            for a in 0..p {
                for b in 0..p {
                    gm[a * p + b] = c[packed(w, a, b)];
                }
            }
            let gb = mat_vec(&gm, &model.b, p);
            let u: Vec<f64> = (0..p).map(|a| c[packed(w, a, p)] - gb[a]).collect();
            // Residual sums: sum e = u on the constant columns; sum e^2 = y'y - 2 b'h + b'G b.
            if nc > 0 {
                let se: f64 = u[..nc].iter().sum();
                let ng = s.n[g] as f64;
                acc.ssb += se * se / ng;
                acc.se += se;
                acc.sn2 += ng * ng;
            }
            let (values, vectors) = if matches!(vcov, Vcov::CR2 | Vcov::CR3) {
                let bg = Model::sandwich(&model.m_half, &gm, p);
                sym_eigen(&bg, p)
            } else {
                (Vec::new(), Vec::new())
            };
            acc.cluster(&model, vcov, &u, &values, &vectors, g);
        }
        acc
    };
    let acc =
        reduce_blocks(s.n_clusters(), map, Acc::add)?.unwrap_or_else(|| Acc::new(p, model.nv));
    let mut fit = finish(
        &model,
        &acc,
        vcov,
        s.layout.names(),
        (s.n_nan, s.n_inf),
        |g| s.keys.label(g),
    )?;
    if nc == 0 {
        // No constant column: the residual sums per cluster are not defined.
        fit.icc = f64::NAN;
    }
    Ok(fit)
}

/// Two-way clustering: the sums of the same rows clustered by `a`, by `b` and by their
/// intersection `ab`; CR0 or CR1 only (CR2 and CR3 are an error naming `vcov`).
pub fn two_way_fit(
    a: &ClusterSums,
    b: &ClusterSums,
    ab: &ClusterSums,
    vcov: Vcov,
) -> Result<ClusterFit> {
    if matches!(vcov, Vcov::CR2 | Vcov::CR3) {
        return Err(NeymanError::invalid(
            "vcov",
            format!(
                "{} is not defined for two-way clustering; use 'CR1' (the default) or 'CR0'",
                vcov.name()
            ),
        ));
    }
    let fa = cluster_fit(a, Vcov::CR0)?;
    let fb = cluster_fit(b, Vcov::CR0)?;
    let fab = cluster_fit(ab, Vcov::CR0)?;
    let p = fa.params.len();
    let g = fa.n_clusters.min(fb.n_clusters);
    // pyfixest's and fixest's default (`G_df = "min"`): one factor, from the smaller clustering.
    let factor = if vcov == Vcov::CR1 {
        let (gm, n) = (g as f64, fa.n as f64);
        gm / (gm - 1.0) * (n - 1.0) / (n - p as f64)
    } else {
        1.0
    };
    let vcov_sum: Vec<f64> = (0..p * p)
        .map(|i| factor * (fa.vcov[i] + fb.vcov[i] - fab.vcov[i]))
        .collect();
    let (values, _) = sym_eigen(&vcov_sum, p);
    let scale = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let psd = values.iter().all(|&l| l >= -1e-12 * scale);
    Ok(ClusterFit {
        vcov: vcov_sum,
        df: vec![g as f64 - 1.0; p],
        n_clusters: g,
        icc: f64::NAN,
        psd,
        vcov_type: vcov,
        ..fa
    })
}

/// No clusters: each row of `d` is its own cluster (HC0, HC1, HC2 with Bell-McCaffrey df,
/// jackknife); `s` is the one-cluster sums of the same design (`d.cluster = None`).
pub fn row_fit(d: &ClusterDesign, s: &ClusterSums, vcov: Vcov) -> Result<ClusterFit> {
    let model = Model::new(s, &[])?;
    let p = model.p;
    let row = |acc: &mut Acc, e: &[(usize, f64)]| {
        let mut x = vec![0.0; p];
        let mut y = 0.0;
        for &(j, v) in e {
            if j < p {
                x[j] = v;
            } else {
                y = v;
            }
        }
        let resid = y - x.iter().zip(&model.b).map(|(a, b)| a * b).sum::<f64>();
        let u: Vec<f64> = x.iter().map(|v| v * resid).collect();
        if matches!(vcov, Vcov::CR2 | Vcov::CR3) {
            // B_i = M^{1/2} x x' M^{1/2}: one eigenpair, l = x'Mx, U = M^{1/2}x / sqrt(l).
            let mx = mat_vec(&model.m_half, &x, p);
            let l: f64 = mx.iter().map(|v| v * v).sum();
            if l > 0.0 {
                let unit: Vec<f64> = mx.iter().map(|v| v / l.sqrt()).collect();
                acc.cluster(&model, vcov, &u, &[l], &unit, acc.g as usize);
                return;
            }
        }
        acc.cluster(&model, vcov, &u, &[], &[], acc.g as usize);
    };
    let acc = fold_rows(d, &s.shift, || Acc::new(p, p), row, Acc::add)?;
    let mut fit = finish(
        &model,
        &acc,
        vcov,
        s.layout.names(),
        (s.n_nan, s.n_inf),
        |_| "(a row)".to_string(),
    )?;
    fit.icc = f64::NAN;
    Ok(fit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::cluster_sums;
    use crate::stats::ClusterKeys;

    /// y = 1 + 2x + e on 8 rows in 4 clusters.
    fn data() -> (Vec<f64>, Vec<f64>, Vec<u32>) {
        let x = vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        let e = [0.3, -0.2, 0.5, 0.1, -0.4, 0.2, -0.1, -0.3];
        let y = x.iter().zip(e).map(|(x, e)| 1.0 + 2.0 * x + e).collect();
        (y, x, vec![0, 0, 1, 1, 1, 2, 3, 3])
    }

    fn sums(y: &[f64], x: &[f64], c: Option<&[u32]>) -> ClusterSums {
        let keys = if c.is_some() {
            ClusterKeys::Int(vec![0, 1, 2, 3])
        } else {
            ClusterKeys::Int(vec![0])
        };
        let d = ClusterDesign {
            y,
            numeric: vec![("x", x)],
            arms: None,
            interacted: false,
            intercept: true,
            cluster: c,
            keys,
        };
        cluster_sums(&d).unwrap()
    }

    #[test]
    fn ols_coefficients_and_cr_relations() {
        let (y, x, c) = data();
        let s = sums(&y, &x, Some(&c));
        let f0 = cluster_fit(&s, Vcov::CR0).unwrap();
        let f1 = cluster_fit(&s, Vcov::CR1).unwrap();
        // OLS by hand: xbar 3.5, Sxx 42, Sxy = sum (x - 3.5) y.
        let sxy: f64 = x.iter().zip(&y).map(|(a, b)| (a - 3.5) * b).sum();
        let slope = sxy / 42.0;
        let ybar = y.iter().sum::<f64>() / 8.0;
        assert!((f0.params[1] - slope).abs() < 1e-13);
        assert!((f0.params[0] - (ybar - slope * 3.5)).abs() < 1e-13);
        let factor = 4.0 / 3.0 * 7.0 / 6.0;
        for (a, b) in f1.vcov.iter().zip(&f0.vcov) {
            assert!((a - factor * b).abs() < 1e-15 * (1.0 + b.abs()));
        }
        assert_eq!(f1.df, vec![3.0, 3.0]);
        // CR0 of the slope by hand: M = (X'X)^-1, scores per cluster.
        let (sx, sxx) = (28.0, 140.0);
        let det = 8.0 * sxx - sx * sx;
        let m = [sxx / det, -sx / det, -sx / det, 8.0 / det];
        let b = [f0.params[0], f0.params[1]];
        let mut meat = [0.0; 4];
        for g in 0..4u32 {
            let mut u = [0.0; 2];
            for i in 0..8 {
                if c[i] == g {
                    let e = y[i] - b[0] - b[1] * x[i];
                    u[0] += e;
                    u[1] += e * x[i];
                }
            }
            for a in 0..2 {
                for bb in 0..2 {
                    meat[a * 2 + bb] += u[a] * u[bb];
                }
            }
        }
        let v = Model::sandwich(&m, &meat, 2);
        for (a, b) in f0.vcov.iter().zip(&v) {
            assert!((a - b).abs() < 1e-13, "{a} {b}");
        }
    }

    #[test]
    fn contrast_df_of_a_unit_contrast_is_the_coefficient_df() {
        let (y, x, c) = data();
        let s = sums(&y, &x, Some(&c));
        let f = cluster_fit_contrasts(&s, Vcov::CR2, &[vec![0.0, 1.0], vec![1.0, 1.0]]).unwrap();
        assert!((f.contrast_df[0] - f.df[1]).abs() < 1e-12 * f.df[1]);
        assert!(f.contrast_df[1] > 0.0 && f.contrast_df[1] <= 3.0 + 1e-9);
        let bad = cluster_fit_contrasts(&s, Vcov::CR2, &[vec![1.0]]).unwrap_err();
        assert_eq!(bad.arg(), "contrasts");
    }

    #[test]
    fn errors_name_the_argument() {
        let (y, x, _) = data();
        let one = vec![0u32; 8];
        let s = sums(&y, &x, Some(&one));
        let e = cluster_fit(&s, Vcov::CR1).unwrap_err();
        assert!(matches!(e, NeymanError::TooFewClusters { n: 1, .. }));
        assert_eq!(Vcov::parse("HC9").unwrap_err().arg(), "vcov");
        let constant = vec![1.0; 8];
        let (_, _, c) = data();
        let s = sums(&y, &constant, Some(&c));
        assert_eq!(cluster_fit(&s, Vcov::CR1).unwrap_err().arg(), "x");
        let s = sums(&y, &x, Some(&c));
        assert_eq!(
            two_way_fit(&s, &s, &s, Vcov::CR2).unwrap_err().arg(),
            "vcov"
        );
        // Cluster 2 holds one row: a leverage-1 cluster? No (one row, leverage < 1). A cluster
        // holding both rows of a two-row design does.
        let (y2, x2) = (vec![1.0, 2.0, 4.0], vec![0.0, 1.0, 5.0]);
        let c2 = vec![0u32, 0, 1];
        let d = ClusterDesign {
            y: &y2,
            numeric: vec![("x", &x2)],
            arms: None,
            interacted: false,
            intercept: true,
            cluster: Some(&c2),
            keys: ClusterKeys::Int(vec![0, 1]),
        };
        let s = cluster_sums(&d).unwrap();
        assert_eq!(cluster_fit(&s, Vcov::CR2).unwrap_err().arg(), "vcov");
    }

    #[test]
    fn rows_as_clusters_match_singleton_clusters() {
        let (y, x, _) = data();
        let singletons: Vec<u32> = (0..8).collect();
        let d = ClusterDesign {
            y: &y,
            numeric: vec![("x", &x)],
            arms: None,
            interacted: false,
            intercept: true,
            cluster: Some(&singletons),
            keys: ClusterKeys::Int((0..8).collect()),
        };
        let s8 = cluster_sums(&d).unwrap();
        let one = sums(&y, &x, None);
        let d1 = ClusterDesign {
            cluster: None,
            keys: ClusterKeys::Int(vec![0]),
            ..d
        };
        for vcov in [Vcov::CR0, Vcov::CR1, Vcov::CR2, Vcov::CR3] {
            let a = cluster_fit(&s8, vcov).unwrap();
            let b = row_fit(&d1, &one, vcov).unwrap();
            for (u, v) in a.vcov.iter().zip(&b.vcov) {
                assert!((u - v).abs() < 1e-12 * (1.0 + u.abs()), "{vcov:?} {u} {v}");
            }
            for (u, v) in a.df.iter().zip(&b.df) {
                assert!((u - v).abs() < 1e-9 * (1.0 + u.abs()), "{vcov:?} {u} {v}");
            }
        }
    }
}
