//! A bracketed root finder: Brent's method (Brent 1973, *Algorithms for Minimization without
//! Derivatives*, ch. 4, the `zero` procedure), which keeps a sign change at every step and combines
//! bisection with secant and inverse quadratic interpolation, so it converges whenever the bracket
//! holds a root and superlinearly near a simple one. Used to solve power equations for the
//! unknown (effect, sample size, power or alpha) and Dunnett's critical value.

use crate::error::{NeymanError, Result};

/// The root of `f` in `[a, b]`, where `f(a)` and `f(b)` differ in sign, to within
/// `2 eps |x| + xtol` (`eps` the machine epsilon). `arg` names the unknown in errors.
pub fn brent<F>(arg: &str, mut f: F, a: f64, b: f64, xtol: f64) -> Result<f64>
where
    F: FnMut(f64) -> Result<f64>,
{
    let (mut a, mut b) = (a, b);
    let (mut fa, mut fb) = (f(a)?, f(b)?);
    if fa.is_nan() || fb.is_nan() {
        return Err(NeymanError::invalid(
            arg,
            "the equation is undefined at the ends of the search interval",
        ));
    }
    if fa == 0.0 {
        return Ok(a);
    }
    if fb == 0.0 {
        return Ok(b);
    }
    if fa.signum() == fb.signum() {
        return Err(NeymanError::invalid(
            arg,
            format!("no solution between {a} and {b}"),
        ));
    }
    let (mut c, mut fc) = (a, fa);
    let (mut d, mut e) = (b - a, b - a);
    for _ in 0..500 {
        if fb.signum() == fc.signum() {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + 0.5 * xtol;
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb == 0.0 {
            return Ok(b);
        }
        if e.abs() < tol || fa.abs() <= fb.abs() {
            d = m;
            e = m;
        } else {
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * m * s;
                q = 1.0 - s;
            } else {
                let qa = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * m * qa * (qa - r) - (b - a) * (r - 1.0));
                q = (qa - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol { d } else { tol * m.signum() };
        fb = f(b)?;
        if fb.is_nan() {
            return Err(NeymanError::invalid(
                arg,
                format!("the equation is undefined at {b}"),
            ));
        }
    }
    Err(NeymanError::invalid(
        arg,
        "the root finder did not converge",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_simple_roots() {
        let r = brent("x", |x| Ok(x * x - 2.0), 0.0, 2.0, 1e-15).unwrap();
        assert!((r - std::f64::consts::SQRT_2).abs() < 1e-14);
        let r = brent("x", |x| Ok(x.cos() - x), 0.0, 1.0, 1e-15).unwrap();
        assert!((r - 0.739_085_133_215_160_6).abs() < 1e-14);
        assert!(brent("x", |x| Ok(x * x + 1.0), 0.0, 1.0, 1e-12).is_err());
    }
}
