//! Reproducible assignment by hashing (XXH3-64, version 1), integer or string ids.

use neyman_core::assignment::{self as core, Ids};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::errors::{input_error, run_detached};

fn contiguous<'a, T: numpy::Element>(
    name: &str,
    a: &'a PyReadonlyArray1<'_, T>,
) -> PyResult<&'a [T]> {
    a.as_slice()
        .map_err(|_| input_error(name, "the array must be C-contiguous"))
}

/// The strata codes as a slice.
fn strata_of<'a>(strata: &'a Option<PyReadonlyArray1<'_, i64>>) -> PyResult<Option<&'a [i64]>> {
    strata.as_ref().map(|s| contiguous("strata", s)).transpose()
}

/// Arm index of each integer id.
#[pyfunction]
#[pyo3(signature = (ids, weights, salt, strata, check_duplicates))]
pub fn assign_ints<'py>(
    py: Python<'py>,
    ids: PyReadonlyArray1<'_, i64>,
    weights: Vec<f64>,
    salt: &str,
    strata: Option<PyReadonlyArray1<'_, i64>>,
    check_duplicates: bool,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    let v = contiguous("ids", &ids)?;
    let s = strata_of(&strata)?;
    let arms = run_detached(py, || {
        core::assign(Ids::Int(v), &weights, salt, s, check_duplicates)
    })?;
    Ok(arms.into_pyarray(py))
}

/// Arm index of each string id (UTF-8 `data`, `len + 1` `offsets`).
#[pyfunction]
#[pyo3(signature = (data, offsets, weights, salt, strata, check_duplicates))]
pub fn assign_strings<'py>(
    py: Python<'py>,
    data: PyReadonlyArray1<'_, u8>,
    offsets: PyReadonlyArray1<'_, i64>,
    weights: Vec<f64>,
    salt: &str,
    strata: Option<PyReadonlyArray1<'_, i64>>,
    check_duplicates: bool,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    let (d, o) = (contiguous("ids", &data)?, contiguous("ids", &offsets)?);
    let s = strata_of(&strata)?;
    let arms = run_detached(py, || {
        core::assign(
            Ids::Str {
                data: d,
                offsets: o,
            },
            &weights,
            salt,
            s,
            check_duplicates,
        )
    })?;
    Ok(arms.into_pyarray(py))
}

/// The 64-bit hash of each integer id under `salt` (step 2 of the scheme), for audits.
#[pyfunction]
pub fn assignment_hashes<'py>(
    py: Python<'py>,
    ids: PyReadonlyArray1<'_, i64>,
    salt: &str,
) -> PyResult<Bound<'py, PyArray1<u64>>> {
    let v = contiguous("ids", &ids)?;
    let h = run_detached(py, || core::hashes(Ids::Int(v), salt))?;
    Ok(h.into_pyarray(py))
}
