//! `chukan._core`: the kernel for Python. Arguments are checked before any byte is
//! read (a bad call is a `ValueError`, never a panic), the GIL is released while the
//! kernel runs, and every column comes back as numpy arrays that Python wraps as Arrow
//! buffers without copying.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::decode::Codec;
use crate::kernel::{extract as extract_block, Block, ColumnSpec, Kind};

/// One column for Python: offsets, UTF-8 data, valid, control, invalid, padding,
/// duplicate.
type PyColumn<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyArray1<bool>>,
    Bound<'py, PyArray1<bool>>,
    Bound<'py, PyArray1<bool>>,
    Option<Bound<'py, PyArray1<bool>>>,
    Bound<'py, PyArray1<bool>>,
);

fn kind_of(name: &str) -> PyResult<Kind> {
    match name {
        "ascii" => Ok(Kind::Ascii),
        "text" => Ok(Kind::Text),
        "fullwidth" => Ok(Kind::Fullwidth),
        _ => Err(PyValueError::new_err(format!(
            "unknown column kind {name:?}"
        ))),
    }
}

/// Decode the columns `specs` (offset, length, kind, pad with U+3000) of `n` records
/// that start every `stride` bytes of `data`, in `encoding` (a Python codec name), on
/// `threads` threads (0: one per core). `rewritten` (128 × 256 booleans, lead bytes
/// 0x80–0xFF) marks the two-byte sequences the writer would write otherwise.
#[pyfunction]
#[pyo3(signature = (data, n, stride, specs, encoding, threads = 0, rewritten = None))]
// pyo3 hands the arguments over by value; the Python signature is the one the kernel needs
#[allow(clippy::needless_pass_by_value, clippy::too_many_arguments)]
fn extract<'py>(
    py: Python<'py>,
    data: PyReadonlyArray1<'py, u8>,
    n: usize,
    stride: usize,
    specs: Vec<(usize, usize, String, bool)>,
    encoding: &str,
    threads: usize,
    rewritten: Option<PyReadonlyArray1<'py, bool>>,
) -> PyResult<Vec<PyColumn<'py>>> {
    let codec = Codec::from_name(encoding)
        .ok_or_else(|| PyValueError::new_err(format!("the core does not decode {encoding}")))?;
    let bytes = data.as_slice()?;
    let mut columns = Vec::with_capacity(specs.len());
    for (offset, length, kind, pad_ideographic) in &specs {
        let end = offset.checked_add(*length).unwrap_or(usize::MAX);
        let last = if n == 0 {
            0
        } else {
            (n - 1).saturating_mul(stride).saturating_add(end)
        };
        if n > 0 && (end > stride || last > bytes.len()) {
            return Err(PyValueError::new_err(format!(
                "a field at bytes {offset}..{end} lies outside the records"
            )));
        }
        columns.push(ColumnSpec {
            offset: *offset,
            length: *length,
            kind: kind_of(kind)?,
            pad_ideographic: *pad_ideographic,
        });
    }
    let table = match &rewritten {
        Some(t) => {
            let t = t.as_slice()?;
            if t.len() != 128 * 256 {
                return Err(PyValueError::new_err(
                    "rewritten must hold 128 × 256 entries",
                ));
            }
            Some(t)
        }
        None => None,
    };
    let block = Block { bytes, n, stride };
    let pool = if threads > 0 {
        Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|e| PyValueError::new_err(e.to_string()))?,
        )
    } else {
        None
    };
    let decoded = py.allow_threads(|| match &pool {
        Some(pool) => pool.install(|| extract_block(block, &columns, codec, table)),
        None => extract_block(block, &columns, codec, table),
    });
    Ok(decoded
        .into_iter()
        .map(|c| {
            (
                c.offsets.into_pyarray(py),
                c.data.into_pyarray(py),
                c.valid.into_pyarray(py),
                c.control.into_pyarray(py),
                c.invalid.into_pyarray(py),
                c.padding.map(|p| p.into_pyarray(py)),
                c.duplicate.into_pyarray(py),
            )
        })
        .collect())
}

/// One value's bytes decoded strictly, or None where they do not decode (the kernel's
/// decoder, for the differential tests against `CPython`'s codecs).
#[pyfunction]
fn decode(data: &[u8], encoding: &str) -> PyResult<Option<String>> {
    let codec = Codec::from_name(encoding)
        .ok_or_else(|| PyValueError::new_err(format!("the core does not decode {encoding}")))?;
    let mut out = Vec::with_capacity(data.len() * 2);
    if !crate::decode::decode_into(codec, data, &mut out) {
        return Ok(None);
    }
    String::from_utf8(out)
        .map(Some)
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(extract, m)?)?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    Ok(())
}
