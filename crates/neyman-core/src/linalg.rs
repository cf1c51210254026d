//! Small dense linear algebra for the normal equations of regression adjustment and, soon, the
//! sandwich of cluster-robust variance: matrices of a few dozen rows as `Vec<Vec<f64>>`.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_of_spd() {
        let m = vec![vec![4.0, 2.0], vec![2.0, 3.0]];
        let inv = spd_inverse(&m).unwrap();
        // det 8: inverse [[3, -2], [-2, 4]] / 8.
        assert!((inv[0][0] - 0.375).abs() < 1e-15 && (inv[0][1] + 0.25).abs() < 1e-15);
        assert!((inv[1][1] - 0.5).abs() < 1e-15);
    }
}
