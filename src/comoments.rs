//! Statistics of two variables per unit (a ratio's numerator and denominator; a metric and its
//! covariate), backed by the core's `CoMoments<2>`, and the grouped co-moments scan they share.

use neyman_core::scan::{grouped_comoments_counting, Code, Scanned};
use neyman_core::stats::CoMoments;
use neyman_core::NeymanError;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::convert::{slice, Codes};
use crate::errors::run_detached;
use crate::with_codes;

/// Co-moments per group of `K` columns, the infinite rows of each group, and the values below zero
/// in each column listed in `nonnegative`.
pub type ScanOut<const K: usize> = (Vec<Scanned<CoMoments<K>>>, Vec<u64>, Vec<u64>);

/// One pass over `K` columns grouped by `codes` (`None`: one group).
pub fn scan<const K: usize>(
    py: Python<'_>,
    cols: [&PyReadonlyArray1<'_, f64>; K],
    names: [&str; K],
    codes: Option<&Codes<'_>>,
    n_groups: usize,
    nonnegative: &[usize],
) -> PyResult<ScanOut<K>> {
    let mut slices: [&[f64]; K] = [&[]; K];
    for a in 0..K {
        slices[a] = slice(names[a], cols[a])?;
    }
    let (stats, negative) = with_codes!(codes, g => run_detached(py, || {
        kernel(&slices, &names, g, n_groups, nonnegative)
    }))?;
    let n_inf = stats.iter().map(|s| s.n_inf).collect();
    Ok((stats, n_inf, negative))
}

fn kernel<const K: usize, C: Code>(
    cols: &[&[f64]; K],
    names: &[&str; K],
    codes: Option<&[C]>,
    n_groups: usize,
    nonnegative: &[usize],
) -> Result<(Vec<Scanned<CoMoments<K>>>, Vec<u64>), NeymanError> {
    grouped_comoments_counting(cols, names, codes, n_groups, nonnegative)
}

/// A statistic class over `CoMoments<2>` with named fields: the two means, the two co-moments of
/// each variable with itself, and the cross co-moment, in the order `(n, mean_a, mean_b, c_aa,
/// c_bb, c_ab, n_nan)`; `from_sums` takes `(n, sum_a, sum_b, sum_a_sq, sum_b_sq, sum_ab)`.
#[macro_export]
macro_rules! two_variable_stats {
    (
        $(#[$doc:meta])*
        $ty:ident, $name:literal,
        fields: ($ma:ident, $mb:ident, $caa:ident, $cbb:ident, $cab:ident),
        sums: ($sa:ident, $sb:ident, $saa:ident, $sbb:ident, $sab:ident)
    ) => {
        $(#[$doc])*
        #[pyclass(frozen, eq, module = "neyman", name = $name)]
        #[derive(Clone, PartialEq)]
        pub struct $ty {
            pub inner: neyman_core::stats::CoMoments<2>,
            pub n_nan: u64,
        }

        impl $ty {
            pub fn from_scan(s: &neyman_core::scan::Scanned<neyman_core::stats::CoMoments<2>>) -> Self {
                $ty { inner: s.stats, n_nan: s.n_nan }
            }

            fn fields<'py>(&self, py: Python<'py>) -> PyResult<$crate::statistic::Fields<'py>> {
                let c = &self.inner;
                Ok(vec![
                    ("n", c.n.into_pyobject(py)?.into_any()),
                    (stringify!($ma), c.mean[0].into_pyobject(py)?.into_any()),
                    (stringify!($mb), c.mean[1].into_pyobject(py)?.into_any()),
                    (stringify!($caa), c.c[0][0].into_pyobject(py)?.into_any()),
                    (stringify!($cbb), c.c[1][1].into_pyobject(py)?.into_any()),
                    (stringify!($cab), c.c[0][1].into_pyobject(py)?.into_any()),
                    ("n_nan", self.n_nan.into_pyobject(py)?.into_any()),
                ])
            }
        }

        $crate::statistic_methods!($ty, $name, {
            #[new]
            #[pyo3(signature = (n, $ma, $mb, $caa, $cbb, $cab, n_nan = None))]
            fn new(
                n: &Bound<'_, PyAny>,
                $ma: &Bound<'_, PyAny>,
                $mb: &Bound<'_, PyAny>,
                $caa: &Bound<'_, PyAny>,
                $cbb: &Bound<'_, PyAny>,
                $cab: &Bound<'_, PyAny>,
                n_nan: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Self> {
                use $crate::convert::{count, finite, nonnegative};
                let n = count("n", n)?;
                let mean = [finite(stringify!($ma), $ma)?, finite(stringify!($mb), $mb)?];
                let caa = nonnegative(stringify!($caa), $caa)?;
                let cbb = nonnegative(stringify!($cbb), $cbb)?;
                let cab = finite(stringify!($cab), $cab)?;
                let n_nan = n_nan.map_or(Ok(0), |v| count("n_nan", v))?;
                let names = [stringify!($caa), stringify!($cbb)];
                let inner = $crate::errors::run(|| {
                    neyman_core::stats::CoMoments::<2>::from_parts(
                        n,
                        mean,
                        [[caa, cab], [cab, cbb]],
                        &names,
                    )
                    .map_err(|e| match e {
                        // The cross co-moment is the one that can be impossible here.
                        neyman_core::NeymanError::InvalidArgument { msg, .. } => {
                            neyman_core::NeymanError::invalid(stringify!($cab), msg)
                        }
                        other => other,
                    })
                })?;
                Ok($ty { inner, n_nan })
            }

            /// From SQL aggregates: the count, both sums, both sums of squares and the cross-sum.
            #[classmethod]
            fn from_sums(
                _cls: &Bound<'_, pyo3::types::PyType>,
                n: &Bound<'_, PyAny>,
                $sa: &Bound<'_, PyAny>,
                $sb: &Bound<'_, PyAny>,
                $saa: &Bound<'_, PyAny>,
                $sbb: &Bound<'_, PyAny>,
                $sab: &Bound<'_, PyAny>,
            ) -> PyResult<Self> {
                use $crate::convert::{count, finite, nonnegative};
                let n = count("n", n)?;
                let sums = (
                    finite(stringify!($sa), $sa)?,
                    finite(stringify!($sb), $sb)?,
                    nonnegative(stringify!($saa), $saa)?,
                    nonnegative(stringify!($sbb), $sbb)?,
                    finite(stringify!($sab), $sab)?,
                );
                let names = [stringify!($saa), stringify!($sbb), stringify!($sab)];
                let inner = $crate::errors::run(|| {
                    neyman_core::stats::CoMoments::<2>::from_sums(n, sums, names)
                })?;
                Ok($ty { inner, n_nan: 0 })
            }

            /// The statistic of both sets of rows.
            fn merge(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
                let o = $crate::statistic::same_type::<$ty>($name, other)?.get();
                let mut inner = self.inner;
                inner.merge(&o.inner);
                Ok($ty { inner, n_nan: self.n_nan + o.n_nan })
            }

            /// Number of units.
            #[getter]
            fn n(&self) -> u64 {
                self.inner.n
            }

            #[getter]
            fn $ma(&self) -> f64 {
                self.inner.mean[0]
            }

            #[getter]
            fn $mb(&self) -> f64 {
                self.inner.mean[1]
            }

            #[getter]
            fn $caa(&self) -> f64 {
                self.inner.c[0][0]
            }

            #[getter]
            fn $cbb(&self) -> f64 {
                self.inner.c[1][1]
            }

            #[getter]
            fn $cab(&self) -> f64 {
                self.inner.c[0][1]
            }

            /// Rows left out because a value was NaN.
            #[getter]
            fn n_nan(&self) -> u64 {
                self.n_nan
            }
        });
    };
}
