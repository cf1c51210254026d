//! Small dense linear algebra for the normal equations of regression adjustment and the sandwich
//! of cluster-robust variance: matrices of a few dozen rows as `Vec<Vec<f64>>` (or flat row-major
//! slices of `p * p`). The symmetric eigendecomposition is the cyclic Jacobi method (Golub and Van
//! Loan 2013, section 8.5), accurate to a few ulps for the small matrices here; square roots and
//! inverse square roots of symmetric positive (semi-)definite matrices come from it.

/// Inverse of a symmetric positive-definite matrix by Cholesky; `Err(k)` names the first column
/// that is (numerically) a combination of earlier ones.
pub fn spd_inverse(m: &[Vec<f64>]) -> std::result::Result<Vec<Vec<f64>>, usize> {
    let p = m.len();
    let mut l = vec![vec![0.0; p]; p];
    for j in 0..p {
        let mut diag = m[j][j];
        for k in 0..j {
            diag -= l[j][k] * l[j][k];
        }
        // Relative pivot tolerance: the part of column j not explained by earlier columns.
        let independent = diag > 1e-10 * m[j][j].abs().max(f64::MIN_POSITIVE);
        if !independent {
            return Err(j);
        }
        let ljj = diag.sqrt();
        l[j][j] = ljj;
        for i in j + 1..p {
            let mut v = m[i][j];
            for k in 0..j {
                v -= l[i][k] * l[j][k];
            }
            l[i][j] = v / ljj;
        }
    }
    // inv = L^-T L^-1: solve for each unit vector.
    let mut inv = vec![vec![0.0; p]; p];
    for c in 0..p {
        let mut x = vec![0.0; p];
        for i in 0..p {
            let mut v = if i == c { 1.0 } else { 0.0 };
            for k in 0..i {
                v -= l[i][k] * x[k];
            }
            x[i] = v / l[i][i];
        }
        for i in (0..p).rev() {
            let mut v = x[i];
            for k in i + 1..p {
                v -= l[k][i] * x[k];
            }
            x[i] = v / l[i][i];
        }
        for r in 0..p {
            inv[r][c] = x[r];
        }
    }
    Ok(inv)
}

/// Eigendecomposition of a symmetric `p x p` matrix (row-major, length `p * p`) by cyclic Jacobi
/// rotations: `(values, vectors)` with `vectors[k * p + j]` the `j`-th entry of the `k`-th
/// eigenvector (unit length), values in the order the rotations leave them (not sorted). Only the
/// upper triangle is read.
pub fn sym_eigen(a: &[f64], p: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = vec![0.0; p * p];
    for i in 0..p {
        for j in i..p {
            m[i * p + j] = a[i * p + j];
            m[j * p + i] = a[i * p + j];
        }
    }
    // v holds the eigenvectors as rows: m = v' diag v at the end.
    let mut v = vec![0.0; p * p];
    for i in 0..p {
        v[i * p + i] = 1.0;
    }
    for _sweep in 0..64 {
        let mut off = 0.0;
        let mut diag = 0.0;
        for i in 0..p {
            diag += m[i * p + i] * m[i * p + i];
            for j in i + 1..p {
                off += m[i * p + j] * m[i * p + j];
            }
        }
        if off <= f64::EPSILON * f64::EPSILON * diag * 1e-4 || off == 0.0 {
            break;
        }
        for i in 0..p {
            for j in i + 1..p {
                let aij = m[i * p + j];
                if aij == 0.0 {
                    continue;
                }
                let (aii, ajj) = (m[i * p + i], m[j * p + j]);
                // The rotation that zeroes m[i][j] (Golub and Van Loan, Algorithm 8.5.1).
                let theta = (ajj - aii) / (2.0 * aij);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..p {
                    let (mki, mkj) = (m[k * p + i], m[k * p + j]);
                    m[k * p + i] = c * mki - s * mkj;
                    m[k * p + j] = s * mki + c * mkj;
                }
                for k in 0..p {
                    let (mik, mjk) = (m[i * p + k], m[j * p + k]);
                    m[i * p + k] = c * mik - s * mjk;
                    m[j * p + k] = s * mik + c * mjk;
                }
                for k in 0..p {
                    let (vik, vjk) = (v[i * p + k], v[j * p + k]);
                    v[i * p + k] = c * vik - s * vjk;
                    v[j * p + k] = s * vik + c * vjk;
                }
            }
        }
    }
    ((0..p).map(|i| m[i * p + i]).collect(), v)
}

/// `f(A)` of a symmetric matrix through its eigendecomposition: `sum_k f(l_k) v_k v_k'`.
pub fn sym_function(a: &[f64], p: usize, f: impl Fn(f64) -> f64) -> Vec<f64> {
    let (values, vectors) = sym_eigen(a, p);
    let mut out = vec![0.0; p * p];
    for (k, &l) in values.iter().enumerate() {
        let fl = f(l);
        let vk = &vectors[k * p..(k + 1) * p];
        for i in 0..p {
            for j in 0..p {
                out[i * p + j] += fl * vk[i] * vk[j];
            }
        }
    }
    out
}

/// The symmetric square root of a positive semi-definite matrix (negative rounding clipped to 0).
pub fn sym_sqrt(a: &[f64], p: usize) -> Vec<f64> {
    sym_function(a, p, |l| l.max(0.0).sqrt())
}

/// `A B` of two flat row-major `p x p` matrices.
pub fn mat_mul(a: &[f64], b: &[f64], p: usize) -> Vec<f64> {
    let mut out = vec![0.0; p * p];
    for i in 0..p {
        for k in 0..p {
            let aik = a[i * p + k];
            for j in 0..p {
                out[i * p + j] += aik * b[k * p + j];
            }
        }
    }
    out
}

/// `A x` of a flat row-major `p x p` matrix and a vector.
pub fn mat_vec(a: &[f64], x: &[f64], p: usize) -> Vec<f64> {
    (0..p)
        .map(|i| (0..p).map(|j| a[i * p + j] * x[j]).sum())
        .collect()
}

/// A `Vec<Vec<f64>>` as one flat row-major vector.
pub fn flatten(m: &[Vec<f64>]) -> Vec<f64> {
    m.iter().flatten().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_eigen_reconstructs() {
        // A 3 x 3 with known eigenvalues 1, 2, 4 (A = Q diag Q' for a rotation Q).
        let a = [2.0, -1.0, 0.0, -1.0, 2.0, -1.0, 0.0, -1.0, 2.0];
        let (mut l, v) = sym_eigen(&a, 3);
        let back = sym_function(&a, 3, |x| x);
        for (x, y) in back.iter().zip(&a) {
            assert!((x - y).abs() < 1e-14, "{back:?}");
        }
        for k in 0..3 {
            let vk = &v[k * 3..k * 3 + 3];
            let av = mat_vec(&a, vk, 3);
            for j in 0..3 {
                assert!((av[j] - l[k] * vk[j]).abs() < 1e-14);
            }
        }
        l.sort_by(f64::total_cmp);
        // Eigenvalues of the second-difference matrix: 2 - sqrt(2), 2, 2 + sqrt(2).
        let want = [2.0 - 2f64.sqrt(), 2.0, 2.0 + 2f64.sqrt()];
        for (x, y) in l.iter().zip(want) {
            assert!((x - y).abs() < 1e-14);
        }
    }

    #[test]
    fn square_root_squares_back_and_diagonal_is_exact() {
        let a = [4.0, 2.0, 0.5, 2.0, 3.0, 0.25, 0.5, 0.25, 1.0];
        let r = sym_sqrt(&a, 3);
        let rr = mat_mul(&r, &r, 3);
        for (x, y) in rr.iter().zip(&a) {
            assert!((x - y).abs() < 1e-13);
        }
        let d = sym_function(&[9.0, 0.0, 0.0, 16.0], 2, |l| 1.0 / l.sqrt());
        assert_eq!(d, vec![1.0 / 3.0, 0.0, 0.0, 0.25]);
        let (l, _) = sym_eigen(&[5.0], 1);
        assert_eq!(l, vec![5.0]);
        assert_eq!(
            flatten(&[vec![1.0, 2.0], vec![3.0, 4.0]]),
            vec![1.0, 2.0, 3.0, 4.0]
        );
    }

    #[test]
    fn inverse_of_spd() {
        let m = vec![vec![4.0, 2.0], vec![2.0, 3.0]];
        let inv = spd_inverse(&m).unwrap();
        // det 8: inverse [[3, -2], [-2, 4]] / 8.
        assert!((inv[0][0] - 0.375).abs() < 1e-15 && (inv[0][1] + 0.25).abs() < 1e-15);
        assert!((inv[1][1] - 0.5).abs() < 1e-15);
    }
}
