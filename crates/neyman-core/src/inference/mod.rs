//! Inference from statistics: reference distributions and critical values, the comparison of two
//! arms (effect, standard error, interval, test), the relative effect by the delta method or
//! Fieller's theorem, and the adjusted-comparison result shared by CUPED and regression.
//!
//! | module | holds |
//! | --- | --- |
//! | [`options`] | `Alternative`, `RelativeCi`, `Options` |
//! | [`distributions`] | `Reference` (normal, Student's t with Cornish-Fisher at large df), noncentral t, chi-square tail, intervals |
//! | [`relative`](mod@relative) | `Relative`, the delta method and Fieller's interval |
//! | [`compare`](mod@compare) | `Comparison`, `Arm`, `Contrast`, `compare`, power-of-two rescaling |
//! | [`means`] | arm checks, Welch-Satterthwaite df, the unpooled difference of means |
//! | [`adjusted`] | `Adjusted` |
//! | [`fit`] | `Fit` (adjusted means and their covariance), `CovType`, `compare_fit` |
//! | [`roots`] | Brent's bracketed root finder |
//! | [`multiplicity`] | Bonferroni and Dunnett critical values for several arms against one control |

pub mod adjusted;
pub mod compare;
pub mod distributions;
pub mod fit;
pub mod means;
pub mod mixture;
pub mod multiplicity;
pub mod options;
pub mod relative;
pub mod roots;

pub use adjusted::Adjusted;
pub use compare::{compare, Arm, Comparison, Contrast};
pub use distributions::{check_confidence_level, chi2_sf, interval, Reference};
pub use fit::{compare_fit, CovType, Fit};
pub use options::{Alternative, Options, RelativeCi};
pub use relative::{relative, Quotient, Relative};
