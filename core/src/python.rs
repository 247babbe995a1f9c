//! `chukan._core`: the kernel for Python. Arguments are checked before any byte is
//! read (a bad call is a `ValueError`, never a panic), the GIL is released while the
//! kernel runs, and every column comes back as numpy arrays that Python wraps as Arrow
//! buffers without copying.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadwriteArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::compose::{
    in_blocks, write_dates, write_numbers, write_text, Codes, NumberStyle, NumbersWritten,
    TextColumn, TextField,
};
use crate::decode::Codec;
use crate::ebcdic::{Page, Shift};
use crate::kernel::{extract as extract_block, Block, Column, ColumnSpec, Kind};
use crate::typed::{Check, DateForm, DateFormat, Era, NumberForm, MAX_ERAS};

/// A date's form as Python gives it: format, pivot, era index of each code 0–99 (or
/// -1), and the code the writer writes each era with (or -1).
type PyDateForm = (String, i64, Vec<i8>, Vec<i8>);

/// A column spec as Python gives it: offset, length, kind, pad with U+3000, check, and
/// for dates their form.
type PySpec = (usize, usize, String, bool, String, Option<PyDateForm>);

/// The output array borrowed for writing: one that is read-only, or borrowed elsewhere,
/// is an error, never a panic.
fn writable<'py>(array: &Bound<'py, PyArray1<u8>>) -> PyResult<PyReadwriteArray1<'py, u8>> {
    array
        .try_readwrite()
        .map_err(|e| PyValueError::new_err(format!("out cannot be written: {e}")))
}

/// A numpy argument borrowed for reading: an array another borrow holds for writing
/// (the same memory passed twice) is an error, never a panic.
fn readonly<'py, T: numpy::Element>(
    array: &Bound<'py, PyArray1<T>>,
) -> PyResult<PyReadonlyArray1<'py, T>> {
    array
        .try_readonly()
        .map_err(|e| PyValueError::new_err(format!("an array cannot be read: {e}")))
}

fn kind_of(name: &str, date: Option<&PyDateForm>, length: usize) -> PyResult<Kind> {
    match (name, date) {
        ("ascii", None) => Ok(Kind::Ascii),
        ("text", None) => Ok(Kind::Text),
        ("fullwidth", None) => Ok(Kind::Fullwidth),
        ("unsigned", None) => Ok(Kind::Number(NumberForm::Unsigned)),
        ("signed-integer", None) => Ok(Kind::Number(NumberForm::SignedInteger)),
        ("signed-display", None) => Ok(Kind::Number(NumberForm::SignedDisplay)),
        ("date", Some(form)) => {
            let form = date_form(form)?;
            if form.format.width() != length {
                return Err(PyValueError::new_err(
                    "a date field's length does not match its format",
                ));
            }
            Ok(Kind::Date(form))
        }
        _ => Err(PyValueError::new_err(format!(
            "unknown column kind {name:?}, or a date without its form"
        ))),
    }
}

/// A date form as Python gives it, checked: a format the core has, 100 era codes, and
/// no more eras than a form can name.
fn date_form((format, pivot, codes, written): &PyDateForm) -> PyResult<DateForm> {
    let bad = |what: String| Err(PyValueError::new_err(what));
    let Some(format) = DateFormat::from_name(format) else {
        return bad(format!("the core does not handle dates as {format:?}"));
    };
    let Ok(lut) = <[i8; 100]>::try_from(codes.as_slice()) else {
        return bad("a date's era codes must be 100 entries".into());
    };
    if written.len() > MAX_ERAS {
        return bad("a date form names too many eras".into());
    }
    let mut writer = [-1; MAX_ERAS];
    writer[..written.len()].copy_from_slice(written);
    Ok(DateForm {
        format,
        pivot: *pivot,
        lut,
        writer,
    })
}

fn check_of(name: &str) -> PyResult<Check> {
    match name {
        "" => Ok(Check::Nothing),
        "fullwidth" => Ok(Check::NoHalf),
        "halfwidth" => Ok(Check::OnlyHalf),
        "digits" => Ok(Check::Digits),
        _ => Err(PyValueError::new_err(format!("unknown check {name:?}"))),
    }
}

/// A column as a dict of numpy arrays (`views`, `buffers` a list, `valid`, `control`,
/// `invalid`, `padding` or None, `duplicate`, `failed`, `numbers`).
fn column_dict(py: Python<'_>, c: Column) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("views", c.views.into_pyarray(py))?;
    let buffers: Vec<_> = c.buffers.into_iter().map(|b| b.into_pyarray(py)).collect();
    d.set_item("buffers", buffers)?;
    d.set_item("valid", c.valid.into_pyarray(py))?;
    d.set_item("control", c.control.into_pyarray(py))?;
    d.set_item("invalid", c.invalid.into_pyarray(py))?;
    d.set_item("padding", c.padding.map(|p| p.into_pyarray(py)))?;
    d.set_item("duplicate", c.duplicate.into_pyarray(py))?;
    d.set_item("failed", c.failed.into_pyarray(py))?;
    d.set_item("numbers", c.numbers.into_pyarray(py))?;
    Ok(d)
}

/// Decode the columns `specs` (offset, length, kind, pad with U+3000, check, date form)
/// of `n` records that start every `stride` bytes of `data`, in `encoding` (a Python
/// codec name), on `threads` threads (0: one per core). `rewritten` (128 × 256 booleans,
/// lead bytes 0x80–0xFF) marks the two-byte sequences the writer would write otherwise;
/// `eras` (first year, first day, last day) are what date forms' era indexes point at.
#[pyfunction]
#[pyo3(signature = (data, n, stride, specs, encoding, threads = 0, rewritten = None,
                    eras = Vec::new()))]
// pyo3 hands the arguments over by value; the Python signature is the one the kernel needs
#[allow(clippy::needless_pass_by_value, clippy::too_many_arguments)]
fn extract<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyArray1<u8>>,
    n: usize,
    stride: usize,
    specs: Vec<PySpec>,
    encoding: &str,
    threads: usize,
    rewritten: Option<&Bound<'py, PyArray1<bool>>>,
    eras: Vec<(i64, i64, i64)>,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let codec = Codec::from_name(encoding)
        .ok_or_else(|| PyValueError::new_err(format!("the core does not decode {encoding}")))?;
    let data = readonly(data)?;
    let bytes = data.as_slice()?;
    // every record starts inside the data: `n` is bounded by it, whatever the fields
    if n > 0 && (stride == 0 || (n - 1).checked_mul(stride).is_none_or(|s| s >= bytes.len())) {
        return Err(PyValueError::new_err(format!(
            "{n} records of {stride} bytes do not fit {} bytes",
            bytes.len()
        )));
    }
    let mut columns = Vec::with_capacity(specs.len());
    for (offset, length, kind, pad_ideographic, check, date) in &specs {
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
        // an EBCDIC text field's kind names its shift mode too: `text:so-si`
        let (kind, shift) = kind.split_once(':').unwrap_or((kind, "none"));
        columns.push(ColumnSpec {
            offset: *offset,
            length: *length,
            kind: kind_of(kind, date.as_ref(), *length)?,
            pad_ideographic: *pad_ideographic,
            check: check_of(check)?,
            shift: Shift::from_name(shift)
                .ok_or_else(|| PyValueError::new_err(format!("no shift mode {shift:?}")))?,
        });
    }
    let rewritten = rewritten.map(readonly).transpose()?;
    let table = match &rewritten {
        Some(t) => {
            let t = t.as_slice()?;
            if t.len() != 128 * 256 {
                return Err(PyValueError::new_err(
                    "rewritten must hold 128 × 256 entries",
                ));
            }
            // its entries are two-byte characters: where a character may be three bytes
            // (EUC-JP) the pair would stand for the first two of them
            if !codec.paired() {
                return Err(PyValueError::new_err(
                    "rewritten is for encodings of two-byte characters (cp932, shift_jis)",
                ));
            }
            Some(t)
        }
        None => None,
    };
    let eras = era_list(eras);
    let block = Block { bytes, n, stride };
    let decoded = on_threads(py, threads, || {
        extract_block(block, &columns, codec, table, &eras)
    })?;
    decoded.into_iter().map(|c| column_dict(py, c)).collect()
}

/// `work` with the GIL released, on a pool of `threads` threads (0: rayon's own, one per
/// core).
fn on_threads<T: Send>(
    py: Python<'_>,
    threads: usize,
    work: impl FnOnce() -> T + Send,
) -> PyResult<T> {
    let pool = thread_pool(threads)?;
    Ok(py.allow_threads(|| match &pool {
        Some(pool) => pool.install(work),
        None => work(),
    }))
}

/// The most threads a call may ask for.
const MAX_THREADS: usize = 256;

/// The pool of `threads` threads (None for 0: rayon's own, one per core). One per size,
/// for the process: calls made at once (the reader keeps two blocks in flight) share it,
/// so that `threads` bounds them together, and no call pays for starting threads.
fn thread_pool(threads: usize) -> PyResult<Option<Arc<rayon::ThreadPool>>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    if threads == 0 {
        return Ok(None);
    }
    // (as `chukan._threads.MAX_THREADS`: a hundred thousand threads hung the call while
    // they started)
    if threads > MAX_THREADS {
        return Err(PyValueError::new_err(format!(
            "at most {MAX_THREADS} threads, not {threads}"
        )));
    }
    // a poisoned lock still holds whole pools: a panic cannot leave one half made
    let mut pools = POOLS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(pool) = pools.get(&threads) {
        return Ok(Some(Arc::clone(pool)));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("chukan-core-{i}"))
        .build()
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let pool = Arc::new(pool);
    pools.insert(threads, Arc::clone(&pool));
    Ok(Some(pool))
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

/// `rows` rows of `width` bytes, all of `data`: the matrix a binding walks row by row.
fn rows_of<'a>(
    data: &'a PyReadonlyArray1<'_, u8>,
    rows: usize,
    width: usize,
) -> PyResult<&'a [u8]> {
    let data = data.as_slice()?;
    if rows.checked_mul(width) != Some(data.len()) {
        return Err(PyValueError::new_err(format!(
            "{rows} rows of {width} bytes are not {} bytes",
            data.len()
        )));
    }
    Ok(data)
}

/// A host code page by its layout name (`ibm930`) or its codec's (`chukan_ibm930`).
fn page_named(page: &str) -> PyResult<Page> {
    Page::from_name(page).ok_or_else(|| PyValueError::new_err(format!("no EBCDIC page {page:?}")))
}

/// A field's shift mode by its layout name (`none`, `so-si`, `graphic`).
fn shift_named(shift: &str) -> PyResult<Shift> {
    Shift::from_name(shift).ok_or_else(|| PyValueError::new_err(format!("no shift mode {shift:?}")))
}

/// Each `width`-byte row of `data` (`rows` of them) decoded strictly on its own, with
/// the GIL released: their text back to back, where each starts (`rows + 1` offsets),
/// and whether each decoded (an EBCDIC row in `shift` mode). The values a table of
/// problems shows, all at once.
#[pyfunction]
fn decode_rows<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyArray1<u8>>,
    rows: usize,
    width: usize,
    encoding: &str,
    shift: &str,
) -> PyResult<DecodedRows<'py>> {
    let codec = Codec::from_name(encoding)
        .ok_or_else(|| PyValueError::new_err(format!("the core does not decode {encoding}")))?;
    let shift = shift_named(shift)?;
    let data = readonly(data)?;
    let data = rows_of(&data, rows, width)?;
    let (text, starts, ok) =
        py.allow_threads(|| crate::decode::decode_rows(codec, shift, data, rows, width));
    Ok((
        text.into_pyarray(py),
        starts.into_pyarray(py),
        ok.into_pyarray(py),
    ))
}

/// Rows' text back to back, and where each starts ([`hex_rows`]).
type TextRows<'py> = (Bound<'py, PyArray1<u8>>, Bound<'py, PyArray1<i64>>);

/// Rows' text, where each starts, and whether each decoded ([`decode_rows`]).
type DecodedRows<'py> = (
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<bool>>,
);

/// Copy values (back to back in `data`, each `lengths[i]` bytes) left-aligned into a
/// field of each record of `out` (`n` rows of `stride` bytes): the field starts at
/// `offset` and is `width` bytes, its padding already written. The writer's hot copy.
#[pyfunction]
#[allow(clippy::needless_pass_by_value)] // pyo3 hands the arguments over by value
fn place(
    py: Python<'_>,
    out: &Bound<'_, PyArray1<u8>>,
    stride: usize,
    offset: usize,
    width: usize,
    data: &Bound<'_, PyArray1<u8>>,
    lengths: &Bound<'_, PyArray1<i64>>,
) -> PyResult<()> {
    let mut out = writable(out)?;
    let out = out.as_slice_mut()?;
    let data = readonly(data)?;
    let data = data.as_slice()?;
    let lengths = readonly(lengths)?;
    let lengths = lengths.as_slice()?;
    let n = lengths.len();
    let fits = lengths.iter().all(|&l| l >= 0 && (l as usize) <= width);
    let total: usize = lengths.iter().map(|&l| l.max(0) as usize).sum();
    if !fits
        || total != data.len()
        || offset.checked_add(width).is_none_or(|end| end > stride)
        || n.checked_mul(stride).is_none_or(|size| size > out.len())
    {
        return Err(PyValueError::new_err(
            "values do not fit the records as given",
        ));
    }
    py.allow_threads(|| crate::kernel::place(out, stride, offset, data, lengths));
    Ok(())
}

/// An encoded column for Python: bytes, each value's length, values left out.
type PyEncoded<'py> = (
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<bool>>,
);

/// Encode the values of a UTF-8 column (`text`, `offsets` as Arrow holds them) with
/// `table` (65,536 codes): the bytes, each value's length, and the values left out for
/// a character the encoding lacks.
#[pyfunction]
#[allow(clippy::needless_pass_by_value)] // pyo3 hands the arguments over by value
fn encode<'py>(
    py: Python<'py>,
    text: &Bound<'py, PyArray1<u8>>,
    offsets: &Bound<'py, PyArray1<i64>>,
    table: &Bound<'py, PyArray1<u16>>,
) -> PyResult<PyEncoded<'py>> {
    let (text, offsets, table) = (readonly(text)?, readonly(offsets)?, readonly(table)?);
    let (text, offsets, table) = (text.as_slice()?, offsets.as_slice()?, table.as_slice()?);
    check_offsets(text, offsets)?;
    whole_table(table)?;
    let got = py.allow_threads(|| crate::encode::encode(text, offsets, table));
    Ok((
        got.data.into_pyarray(py),
        got.lengths.into_pyarray(py),
        got.unencodable.into_pyarray(py),
    ))
}

/// An encoder's table holds a code for every BMP character.
fn whole_table(table: &[u16]) -> PyResult<()> {
    if table.len() == 65536 {
        Ok(())
    } else {
        Err(PyValueError::new_err("the table must hold 65,536 codes"))
    }
}

/// A whole text of lines (UTF-8) encoded with `table` (65,536 codes), in pieces on
/// `threads` threads with the GIL released; None where a character has no code.
#[pyfunction]
fn encode_lines<'py>(
    py: Python<'py>,
    text: &Bound<'py, PyArray1<u8>>,
    table: &Bound<'py, PyArray1<u16>>,
    threads: usize,
) -> PyResult<Option<Bound<'py, PyArray1<u8>>>> {
    let (text, table) = (readonly(text)?, readonly(table)?);
    let (text, table) = (text.as_slice()?, table.as_slice()?);
    whole_table(table)?;
    let got = on_threads(py, threads, || crate::encode::encode_lines(text, table))?;
    Ok(got.map(|data| data.into_pyarray(py)))
}

/// The packed decimals of `width` bytes at `offset` of `n` records `stride` bytes apart
/// in `data`: (unscaled values, rows with a bad digit, rows with a bad sign nibble).
#[pyfunction]
#[allow(clippy::type_complexity)] // the three arrays Python unpacks
fn unpack_packed<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyArray1<u8>>,
    n: usize,
    stride: usize,
    offset: usize,
    width: usize,
) -> PyResult<(
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<bool>>,
    Bound<'py, PyArray1<bool>>,
)> {
    let data = readonly(data)?;
    let bytes = data.as_slice()?;
    check_packed(bytes.len(), n, stride, offset, width)?;
    let got = py.allow_threads(|| crate::packed::unpack(bytes, n, stride, offset, width));
    Ok((
        got.values.into_pyarray(py),
        got.bad_digits.into_pyarray(py),
        got.bad_sign.into_pyarray(py),
    ))
}

/// Write `values` as packed decimals of `width` bytes at `offset` of records `stride`
/// bytes apart in `out` (negative ones ending in D when `signed`, the others in
/// `positive`, 0x0C or 0x0F).
#[pyfunction]
#[pyo3(signature = (out, stride, offset, width, values, signed, positive, threads = 0))]
#[allow(clippy::too_many_arguments)] // the field's place and form, as the writer has them
fn pack_packed(
    py: Python<'_>,
    out: &Bound<'_, PyArray1<u8>>,
    stride: usize,
    offset: usize,
    width: usize,
    values: &Bound<'_, PyArray1<i64>>,
    signed: bool,
    positive: u8,
    threads: usize,
) -> PyResult<()> {
    let mut out = writable(out)?;
    let out = out.as_slice_mut()?;
    let values = readonly(values)?;
    let values = values.as_slice()?;
    check_packed(out.len(), values.len(), stride, offset, width)?;
    // (whole records: the blocks are cut by them)
    if values
        .len()
        .checked_mul(stride)
        .is_none_or(|size| size > out.len())
    {
        return Err(PyValueError::new_err("out holds fewer records than values"));
    }
    if !matches!(positive, 0x0C | 0x0F) {
        return Err(PyValueError::new_err("positive must be 0x0C or 0x0F"));
    }
    if values
        .iter()
        .any(|v| v.unsigned_abs() >= 10u64.pow(2 * width as u32 - 1))
    {
        return Err(PyValueError::new_err(
            "a value has more digits than the field",
        ));
    }
    // blocks of records on the core's threads (one pass over every record, strided)
    on_threads(py, threads, || {
        in_blocks(out, stride, values.len(), |block, rows| {
            crate::packed::pack(
                block,
                stride,
                offset,
                width,
                &values[rows],
                signed,
                positive,
            );
        })
    })?;
    Ok(())
}

/// The bytes of the given columns (offset, length) of `n` records `stride` bytes apart
/// in `data`, each column translated through `table` (256 bytes) into an array of its
/// own (`n` × length, row-major): an EBCDIC reader's numbers and dates, in ASCII for the
/// parsers, in one pass over the records. (numpy's `table[matrix]` widened every byte
/// to an index first, and cost a fifth of reading a host file.)
#[pyfunction]
#[allow(clippy::needless_pass_by_value)] // pyo3 hands the list over by value
fn translated_columns<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyArray1<u8>>,
    n: usize,
    stride: usize,
    spans: Vec<(usize, usize)>,
    table: &[u8],
) -> PyResult<Vec<Bound<'py, PyArray1<u8>>>> {
    let data = readonly(data)?;
    let data = data.as_slice()?;
    let table: &[u8; 256] = table
        .try_into()
        .map_err(|_| PyValueError::new_err("table must hold 256 bytes"))?;
    let inside = |&(o, l): &(usize, usize)| {
        let end = o.checked_add(l).filter(|&e| e <= stride);
        let last = n.checked_sub(1).map_or(Some(0), |k| {
            k.checked_mul(stride).and_then(|s| s.checked_add(end?))
        });
        end.is_some() && last.is_some_and(|l| l <= data.len())
    };
    if !spans.iter().all(inside) {
        return Err(PyValueError::new_err("a column lies outside the records"));
    }
    let columns = py.allow_threads(|| {
        let mut columns: Vec<Vec<u8>> = spans.iter().map(|&(_, l)| vec![0; n * l]).collect();
        // each column's rows one after the other (a width of 0 has none), the records
        // read once, in order
        let mut rows: Vec<_> = columns
            .iter_mut()
            .zip(&spans)
            .map(|(c, &(_, l))| c.chunks_exact_mut(l.max(1)))
            .collect();
        // (a stride of 0 holds only columns of 0 bytes)
        for record in data.chunks(stride.max(1)).take(n) {
            for (to, &(offset, length)) in rows.iter_mut().zip(&spans) {
                if let Some(to) = to.next() {
                    for (t, &b) in to.iter_mut().zip(&record[offset..offset + length]) {
                        *t = table[usize::from(b)];
                    }
                }
            }
        }
        columns
    });
    Ok(columns.into_iter().map(|c| c.into_pyarray(py)).collect())
}

/// Value offsets that rise from 0 and stay inside `text`: encoding never reads outside.
fn check_offsets(text: &[u8], offsets: &[i64]) -> PyResult<()> {
    let ordered = offsets.windows(2).all(|w| 0 <= w[0] && w[0] <= w[1]);
    if !ordered || offsets.last().is_some_and(|&o| o as usize > text.len()) {
        return Err(PyValueError::new_err("offsets do not fit the text"));
    }
    Ok(())
}

/// A packed field of `n` records fits the buffer, and its digits an `i64`.
fn check_packed(len: usize, n: usize, stride: usize, offset: usize, width: usize) -> PyResult<()> {
    let end = offset.checked_add(width);
    let last = n.checked_sub(1).map_or(Some(0), |k| {
        k.checked_mul(stride).and_then(|s| s.checked_add(end?))
    });
    if width == 0 || width > 9 || end.is_none_or(|e| e > stride) || last.is_none_or(|l| l > len) {
        return Err(PyValueError::new_err(
            "a packed field of 1 to 9 bytes must lie inside the records",
        ));
    }
    Ok(())
}

/// Translate the bytes of the given columns (offset, length) of records `stride` bytes
/// apart in `out` through `table` (256 bytes): an EBCDIC writer's numbers and dates,
/// spelled in ASCII, become the page's bytes in one pass, blocks of records on
/// `threads` threads (0: one per core).
#[pyfunction]
#[pyo3(signature = (out, stride, spans, table, threads = 0))]
#[allow(clippy::needless_pass_by_value)] // pyo3 hands the list over by value
fn translate_columns(
    py: Python<'_>,
    out: &Bound<'_, PyArray1<u8>>,
    stride: usize,
    spans: Vec<(usize, usize)>,
    table: &[u8],
    threads: usize,
) -> PyResult<()> {
    let mut out = writable(out)?;
    let out = out.as_slice_mut()?;
    let table: &[u8; 256] = table
        .try_into()
        .map_err(|_| PyValueError::new_err("table must hold 256 bytes"))?;
    if stride == 0
        || out.len() % stride != 0
        || spans
            .iter()
            .any(|&(o, l)| o.checked_add(l).is_none_or(|e| e > stride))
    {
        return Err(PyValueError::new_err("a column lies outside the records"));
    }
    let n = out.len() / stride;
    on_threads(py, threads, || {
        in_blocks(out, stride, n, |block, _| {
            for record in block.chunks_exact_mut(stride) {
                for &(offset, length) in &spans {
                    for b in &mut record[offset..offset + length] {
                        *b = table[usize::from(*b)];
                    }
                }
            }
        })
    })?;
    Ok(())
}

/// Encode values in a Japanese EBCDIC page, each in a field's shift mode (`none`,
/// `so-si`, `graphic`): as [`encode`] returns them.
#[pyfunction]
fn encode_ebcdic<'py>(
    py: Python<'py>,
    text: &Bound<'py, PyArray1<u8>>,
    offsets: &Bound<'py, PyArray1<i64>>,
    page: &str,
    shift: &str,
) -> PyResult<PyEncoded<'py>> {
    let page = page_named(page)?;
    let shift = shift_named(shift)?;
    let (text, offsets) = (readonly(text)?, readonly(offsets)?);
    let (text, offsets) = (text.as_slice()?, offsets.as_slice()?);
    check_offsets(text, offsets)?;
    let got = py.allow_threads(|| crate::ebcdic::encode_values(text, offsets, page, shift));
    Ok((
        got.data.into_pyarray(py),
        got.lengths.into_pyarray(py),
        got.unencodable.into_pyarray(py),
    ))
}

/// Where each character of each `width`-byte row of `data` stands in a host page's
/// field of a shift mode (`Table::char_places`), with the GIL released: per character,
/// its row, offset and width, rows in order. A 外字's own bytes, for a report.
#[pyfunction]
fn char_places<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyArray1<u8>>,
    rows: usize,
    width: usize,
    page: &str,
    shift: &str,
) -> PyResult<CharPlaces<'py>> {
    let page = page_named(page)?;
    let shift = shift_named(shift)?;
    let data = readonly(data)?;
    let data = rows_of(&data, rows, width)?;
    let (row, offset, size) = py.allow_threads(|| {
        let table = page.table();
        let (mut row, mut offset, mut size) = (Vec::new(), Vec::new(), Vec::new());
        for r in 0..rows {
            for (at, w) in table.char_places(&data[r * width..(r + 1) * width], shift) {
                row.push(r as i64);
                offset.push(at as i64);
                size.push(w as i64);
            }
        }
        (row, offset, size)
    });
    Ok((
        row.into_pyarray(py),
        offset.into_pyarray(py),
        size.into_pyarray(py),
    ))
}

/// Per character: its row, offset and width ([`char_places`]).
type CharPlaces<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
);

/// One value of a Japanese EBCDIC page as text, strictly (None where it does not
/// decode), in a field's shift mode: for the reports and the Python codec.
#[pyfunction]
fn decode_ebcdic(data: &[u8], page: &str, shift: &str) -> PyResult<Option<String>> {
    let page = page_named(page)?;
    let shift = shift_named(shift)?;
    let mut out = Vec::with_capacity(data.len() * 2);
    Ok(page
        .table()
        .decode(data, shift, &mut out)
        .and_then(|_| String::from_utf8(out).ok()))
}

/// The ASCII byte each byte of a page stands for (0 where none), and the page's byte
/// for each ASCII byte (0 where none): numbers, dates, codes and digits are read and
/// formatted in ASCII and translated at the edge.
#[pyfunction]
fn ebcdic_ascii(page: &str) -> PyResult<(Vec<u8>, Vec<u8>)> {
    let page = page_named(page)?;
    let t = page.table();
    let to = t.ascii_bytes().to_vec();
    let from = (0..128u8).map(|b| t.from_ascii(b).unwrap_or(0)).collect();
    Ok((to, from))
}

/// A page's space, zero, U+3000, shift-out sequences and shift-in.
type PageFacts = (u8, u8, Vec<u8>, Vec<Vec<u8>>, Vec<u8>);

/// A page's facts: its space, its digit zero, its U+3000, its shift-out sequences (the
/// first is written) and its shift-in.
#[pyfunction]
fn page_facts(page: &str) -> PyResult<PageFacts> {
    let page = Page::from_name(page)
        .ok_or_else(|| PyValueError::new_err(format!("no host code page {page:?}")))?;
    let t = page.table();
    let (so, si) = t.shift_codes();
    let zero = t
        .from_ascii(b'0')
        .ok_or_else(|| PyValueError::new_err("the page has no digit zero"))?;
    Ok((
        t.space(),
        zero,
        t.ideographic_space().to_vec(),
        so.to_vec(),
        si.to_vec(),
    ))
}

/// Define a page from a vendor page (`jef`, `keis`, `jips`) and a user's table lines
/// (`CODE<TAB>U+XXXX[ U+YYYY]`); `ValueError` says what is wrong with them.
#[pyfunction]
fn define_page(name: &str, base: &str, lines: &str) -> PyResult<()> {
    Page::define(name, base, lines).map_err(PyValueError::new_err)?;
    Ok(())
}

/// A whole text in `encoding` as UTF-8, as `CPython`'s `decode(encoding, "replace")`
/// gives it (for the CSV reader).
#[pyfunction]
fn transcode<'py>(py: Python<'py>, data: &[u8], encoding: &str) -> PyResult<Bound<'py, PyBytes>> {
    let codec = Codec::from_name(encoding)
        .ok_or_else(|| PyValueError::new_err(format!("the core does not decode {encoding}")))?;
    let out = py.allow_threads(|| crate::decode::transcode(codec, data));
    Ok(PyBytes::new(py, &out))
}

/// A text column as Python gives it: Arrow string views and their buffers (as Polars
/// holds them), and an optional valid mask.
type PyTextColumn<'py> = (
    Bound<'py, PyArray1<u8>>,
    Vec<Bound<'py, PyArray1<u8>>>,
    Option<Bound<'py, PyArray1<bool>>>,
);

/// A column of string views made by the core, and the buffers they point into.
type ViewsOut<'py> = (Bound<'py, PyArray1<u8>>, Vec<Bound<'py, PyArray1<u8>>>);

/// The arrays of text columns, borrowed for reading.
type Borrowed<'py> = (
    PyReadonlyArray1<'py, u8>,
    Vec<PyReadonlyArray1<'py, u8>>,
    Option<PyReadonlyArray1<'py, bool>>,
);

fn borrow_columns<'py>(columns: &[PyTextColumn<'py>]) -> PyResult<Vec<Borrowed<'py>>> {
    columns
        .iter()
        .map(|(views, buffers, valid)| {
            Ok((
                readonly(views)?,
                buffers.iter().map(readonly).collect::<PyResult<_>>()?,
                valid.as_ref().map(readonly).transpose()?,
            ))
        })
        .collect()
}

/// Each borrowed column's buffers as slices (what its views point into).
fn buffer_slices<'a>(borrowed: &'a [Borrowed<'_>]) -> PyResult<Vec<Vec<&'a [u8]>>> {
    borrowed
        .iter()
        .map(|(_, buffers, _)| buffers.iter().map(|b| Ok(b.as_slice()?)).collect())
        .collect()
}

/// Borrowed text columns as the core reads them, each checked to hold `n` rows whose
/// views stay inside their buffers.
fn text_columns<'a>(
    borrowed: &'a [Borrowed<'_>],
    buffers: &'a [Vec<&'a [u8]>],
    n: usize,
) -> PyResult<Vec<TextColumn<'a>>> {
    let mut columns = Vec::with_capacity(borrowed.len());
    for ((views, _, valid), buffers) in borrowed.iter().zip(buffers) {
        let views = views.as_slice()?;
        let valid = valid.as_ref().map(PyReadonlyArray1::as_slice).transpose()?;
        if !crate::views::fit(views, buffers, n) || valid.is_some_and(|v| v.len() != n) {
            return Err(PyValueError::new_err("a column does not fit its records"));
        }
        columns.push(TextColumn {
            views,
            buffers,
            valid,
        });
    }
    Ok(columns)
}

/// The `n` rows of text `columns` as CSV (Polars' "necessary" quoting): `delimiter` and
/// `quote` one byte each, `terminator` after each row; on `threads` threads (0: one per
/// core).
#[pyfunction]
#[pyo3(signature = (columns, n, delimiter, quote, terminator, threads = 0))]
#[allow(clippy::needless_pass_by_value)]
fn format_csv<'py>(
    py: Python<'py>,
    columns: Vec<PyTextColumn<'py>>,
    n: usize,
    delimiter: u8,
    quote: u8,
    terminator: &[u8],
    threads: usize,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    let style = crate::csv::Style {
        delimiter,
        quote,
        terminator,
    };
    let (out, _) = csv_rows(py, &columns, n, style, threads, None)?;
    Ok(out.into_pyarray(py))
}

/// The CSV rows of `columns`, and what a writer refuses in them where `judged` gives
/// each column's limit and check.
fn csv_rows(
    py: Python<'_>,
    columns: &[PyTextColumn<'_>],
    n: usize,
    style: crate::csv::Style<'_>,
    threads: usize,
    judged: Option<(&[usize], &[Check])>,
) -> PyResult<(Vec<u8>, Vec<crate::csv::Refused>)> {
    let borrowed = borrow_columns(columns)?;
    let buffers = buffer_slices(&borrowed)?;
    let views = text_columns(&borrowed, &buffers, n)?;
    on_threads(py, threads, || match judged {
        Some((limits, checks)) => crate::csv::format_checked(&views, n, style, limits, checks),
        None => (crate::csv::format(&views, n, style), Vec::new()),
    })
}

/// The string views of a column's chunks joined as one column's, each chunk's buffer
/// numbers moved past the `buffers` (counts) of the chunks before it.
#[pyfunction]
#[allow(clippy::needless_pass_by_value)]
fn join_views<'py>(
    py: Python<'py>,
    chunks: Vec<Bound<'py, PyArray1<u8>>>,
    buffers: Vec<u32>,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    if chunks.len() != buffers.len() {
        return Err(PyValueError::new_err("one buffer count per chunk"));
    }
    let borrowed = chunks.iter().map(readonly).collect::<PyResult<Vec<_>>>()?;
    let slices = borrowed
        .iter()
        .map(|c| Ok(c.as_slice()?))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(crate::views::join(&slices, &buffers).into_pyarray(py))
}

/// A text column of `n` rows as a fixed-width byte matrix (`n` × `width`, row-major):
/// each value of exactly `width` bytes as it is, a null row as spaces, any other value
/// as `?` (so that it fails the check of a field of that width); on `threads` threads.
#[pyfunction]
#[pyo3(signature = (column, n, width, threads = 0))]
#[allow(clippy::needless_pass_by_value)]
fn views_matrix<'py>(
    py: Python<'py>,
    column: PyTextColumn<'py>,
    n: usize,
    width: usize,
    threads: usize,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    use rayon::prelude::*;
    let size = n
        .checked_mul(width)
        .filter(|&s| isize::try_from(s).is_ok())
        .ok_or_else(|| PyValueError::new_err("the matrix is too large"))?;
    let borrowed = borrow_columns(std::slice::from_ref(&column))?;
    let buffers = buffer_slices(&borrowed)?;
    let views = text_columns(&borrowed, &buffers, n)?;
    let c = &views[0];
    let fill = || {
        let mut out = vec![b'?'; size];
        if width > 0 {
            out.par_chunks_mut(width)
                .enumerate()
                .for_each(|(row, field)| {
                    if c.valid.is_some_and(|v| !v[row]) {
                        field.fill(b' ');
                    } else {
                        let value = c.value(row);
                        if value.len() == width {
                            field.copy_from_slice(value);
                        }
                    }
                });
        }
        out
    };
    let out = on_threads(py, threads, fill)?;
    Ok(out.into_pyarray(py))
}

/// Each value of a text column replaced by its shape (`crate::shape`): `kinds` gives
/// the class of every code point, `names` each class's name. Their text back to back,
/// where each starts, and which rows hold a value; with the GIL released.
#[pyfunction]
#[allow(clippy::needless_pass_by_value)] // pyo3 hands the arguments over by value
fn shapes<'py>(
    py: Python<'py>,
    column: PyTextColumn<'py>,
    n: usize,
    kinds: &Bound<'py, PyArray1<u8>>,
    names: Vec<String>,
) -> PyResult<(TextRows<'py>, Bound<'py, PyArray1<bool>>)> {
    let borrowed = borrow_columns(std::slice::from_ref(&column))?;
    let buffers = buffer_slices(&borrowed)?;
    let views = text_columns(&borrowed, &buffers, n)?;
    let c = &views[0];
    let kinds = readonly(kinds)?;
    let kinds = kinds.as_slice()?;
    let (text, starts, valid) = py.allow_threads(|| {
        let mut text = Vec::new();
        let mut starts = Vec::with_capacity(n + 1);
        let mut valid = Vec::with_capacity(n);
        starts.push(0i64);
        for row in 0..n {
            let held = c.valid.is_none_or(|v| v[row]);
            if held {
                let value = String::from_utf8_lossy(c.value(row));
                crate::shape::shape_into(&value, kinds, &names, &mut text);
            }
            valid.push(held);
            starts.push(i64::try_from(text.len()).unwrap_or(i64::MAX));
        }
        (text, starts, valid)
    });
    Ok((
        (text.into_pyarray(py), starts.into_pyarray(py)),
        valid.into_pyarray(py),
    ))
}

/// What a CSV writer refuses in each text column (of `n` rows): a dict of `over` (more
/// characters than the column's limit, 0 for none), `control` (a control character the
/// reader refuses: all but LF, and CR before LF), `class` (a character the column's
/// check, `""`, `fullwidth`, `halfwidth` or `digits`, does not allow) and `replacement`
/// (U+FFFD), each a mask or None where no row failed; on `threads` threads (0: one per
/// core).
#[pyfunction]
#[pyo3(signature = (columns, n, limits, checks, threads = 0))]
#[allow(clippy::needless_pass_by_value)]
fn csv_refused<'py>(
    py: Python<'py>,
    columns: Vec<PyTextColumn<'py>>,
    n: usize,
    limits: Vec<usize>,
    checks: Vec<String>,
    threads: usize,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let checks = refusal_checks(&columns, &limits, &checks)?;
    let borrowed = borrow_columns(&columns)?;
    let buffers = buffer_slices(&borrowed)?;
    let views = text_columns(&borrowed, &buffers, n)?;
    let check = || -> Vec<_> {
        views
            .iter()
            .zip(limits.iter().zip(&checks))
            .map(|(c, (&limit, &check))| crate::csv::refused(c, n, limit, check))
            .collect()
    };
    let found = on_threads(py, threads, check)?;
    refused_dicts(py, found)
}

/// A CSV's rows, and what a writer refuses in each column.
type RowsAndRefusals<'py> = (Bound<'py, PyArray1<u8>>, Vec<Bound<'py, PyDict>>);

/// [`format_csv`] and [`csv_refused`] in one pass: the rows as they are, and what a
/// writer refuses in them (the caller writes the rows again without it, if any).
#[pyfunction]
#[pyo3(signature = (columns, n, delimiter, quote, terminator, limits, checks, threads = 0))]
#[allow(clippy::needless_pass_by_value, clippy::too_many_arguments)]
fn format_csv_checked<'py>(
    py: Python<'py>,
    columns: Vec<PyTextColumn<'py>>,
    n: usize,
    delimiter: u8,
    quote: u8,
    terminator: &[u8],
    limits: Vec<usize>,
    checks: Vec<String>,
    threads: usize,
) -> PyResult<RowsAndRefusals<'py>> {
    let checks = refusal_checks(&columns, &limits, &checks)?;
    let style = crate::csv::Style {
        delimiter,
        quote,
        terminator,
    };
    let judged = Some((&limits[..], &checks[..]));
    let (out, found) = csv_rows(py, &columns, n, style, threads, judged)?;
    Ok((out.into_pyarray(py), refused_dicts(py, found)?))
}

fn refusal_checks(
    columns: &[PyTextColumn<'_>],
    limits: &[usize],
    checks: &[String],
) -> PyResult<Vec<Check>> {
    if limits.len() != columns.len() || checks.len() != columns.len() {
        return Err(PyValueError::new_err("one limit and one check per column"));
    }
    checks.iter().map(|c| check_of(c)).collect()
}

fn refused_dicts(
    py: Python<'_>,
    found: Vec<crate::csv::Refused>,
) -> PyResult<Vec<Bound<'_, PyDict>>> {
    found
        .into_iter()
        .map(|f| {
            let d = PyDict::new(py);
            d.set_item("over", f.over.map(|m| m.into_pyarray(py)))?;
            d.set_item("control", f.control.map(|m| m.into_pyarray(py)))?;
            d.set_item("class", f.class.map(|m| m.into_pyarray(py)))?;
            d.set_item("replacement", f.replacement.map(|m| m.into_pyarray(py)))?;
            Ok(d)
        })
        .collect()
}

/// Where `byte` stands in `data` (ascending), found with SIMD, with the GIL released.
#[pyfunction]
fn byte_places<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyArray1<u8>>,
    byte: u8,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let data = readonly(data)?;
    let data = data.as_slice()?;
    let places: Vec<i64> =
        py.allow_threads(|| memchr::memchr_iter(byte, data).map(|i| i as i64).collect());
    Ok(places.into_pyarray(py))
}

/// Which rows of a text column (of `n` rows) hold a value that is none of `codes` (a
/// code table's, UTF-8): the reader's unknown codes, one lookup a row.
#[pyfunction]
#[allow(clippy::needless_pass_by_value)]
fn outside_codes<'py>(
    py: Python<'py>,
    column: PyTextColumn<'py>,
    n: usize,
    codes: Vec<Vec<u8>>,
) -> PyResult<Bound<'py, PyArray1<bool>>> {
    let borrowed = borrow_columns(std::slice::from_ref(&column))?;
    let buffers = buffer_slices(&borrowed)?;
    let views = text_columns(&borrowed, &buffers, n)?;
    let c = &views[0];
    let outside = py.allow_threads(|| {
        let codes = Codes::new(codes);
        (0..n)
            .map(|row| c.valid.is_none_or(|v| v[row]) && !codes.holds(c.value(row)))
            .collect::<Vec<bool>>()
    });
    Ok(outside.into_pyarray(py))
}

/// Numbers read from text, and what each row held.
type Numbers<'py, T> = (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<T>>);

/// Each value of a text column (`n` rows) read by `read` into a number and what it held
/// (a missing row: 0 and `missing`), with the GIL released.
fn numbers_of<'py, T: numpy::Element + Copy + Send>(
    py: Python<'py>,
    column: &PyTextColumn<'py>,
    n: usize,
    missing: T,
    read: impl Fn(&[u8]) -> (i64, T) + Send + Sync,
) -> PyResult<Numbers<'py, T>> {
    let borrowed = borrow_columns(std::slice::from_ref(column))?;
    let buffers = buffer_slices(&borrowed)?;
    let views = text_columns(&borrowed, &buffers, n)?;
    let c = &views[0];
    let (values, held): (Vec<i64>, Vec<T>) = py.allow_threads(|| {
        (0..n)
            .map(|row| {
                if c.valid.is_some_and(|v| !v[row]) {
                    (0, missing)
                } else {
                    read(c.value(row))
                }
            })
            .unzip()
    });
    Ok((values.into_pyarray(py), held.into_pyarray(py)))
}

/// A CSV integer column (`n` rows) read as [`crate::typed::csv_integer`] reads each
/// value: the numbers (0 where none), and the rows that hold a value that is not one.
/// Polars' expressions for the same (a strip, a pattern, a cast) took ten times as long.
#[pyfunction]
#[allow(clippy::needless_pass_by_value)]
fn csv_integers<'py>(
    py: Python<'py>,
    column: PyTextColumn<'py>,
    n: usize,
    signed: bool,
    limit: usize,
) -> PyResult<Numbers<'py, bool>> {
    numbers_of(py, &column, n, false, |value| {
        crate::typed::csv_integer(value, signed, limit).map_or((0, true), |v| (v, false))
    })
}

/// A CSV decimal column (`n` rows) read as [`crate::typed::csv_decimal`] reads each
/// value: the unscaled numbers (0 where none), and each row's state: 0 a number (or
/// missing), 1 not a decimal, 2 a decimal its precision cannot hold (null, as Polars'
/// cast has it).
#[pyfunction]
#[allow(clippy::needless_pass_by_value)]
fn csv_decimals<'py>(
    py: Python<'py>,
    column: PyTextColumn<'py>,
    n: usize,
    signed: bool,
    whole: usize,
    scale: usize,
    precision: usize,
) -> PyResult<Numbers<'py, u8>> {
    numbers_of(py, &column, n, 0, |value| {
        match crate::typed::csv_decimal(value, signed, whole, scale, precision) {
            Some(Some(v)) => (v, 0),
            None => (0, 1),
            Some(None) => (0, 2),
        }
    })
}

/// Which of the text columns (of `n` rows) hold a character of the private use area
/// (外字), on `threads` threads (0: one per core).
#[pyfunction]
#[pyo3(signature = (columns, n, threads = 0))]
#[allow(clippy::needless_pass_by_value)]
fn private_use<'py>(
    py: Python<'py>,
    columns: Vec<PyTextColumn<'py>>,
    n: usize,
    threads: usize,
) -> PyResult<Vec<bool>> {
    let borrowed = borrow_columns(&columns)?;
    let buffers = buffer_slices(&borrowed)?;
    let views = text_columns(&borrowed, &buffers, n)?;
    let check = || -> Vec<bool> {
        views
            .iter()
            .map(|c| crate::csv::holds_private_use(c, n))
            .collect()
    };
    on_threads(py, threads, check)
}

/// A text column (of `n` rows) with `keys` replaced by `values` (keys of one or two BMP
/// characters; at each place the longest), as string views and their buffers; on
/// `threads` threads (0: one per core).
#[pyfunction]
#[pyo3(signature = (column, n, keys, values, threads = 0))]
#[allow(clippy::needless_pass_by_value)]
fn replace_chars<'py>(
    py: Python<'py>,
    column: PyTextColumn<'py>,
    n: usize,
    keys: Vec<String>,
    values: Vec<String>,
    threads: usize,
) -> PyResult<ViewsOut<'py>> {
    if keys.len() != values.len() {
        return Err(PyValueError::new_err("one value per key"));
    }
    let table = crate::replace::Table::new(&keys, &values)
        .ok_or_else(|| PyValueError::new_err("keys are one or two BMP characters"))?;
    let borrowed = borrow_columns(std::slice::from_ref(&column))?;
    let buffers = buffer_slices(&borrowed)?;
    let views = text_columns(&borrowed, &buffers, n)?;
    let out = on_threads(py, threads, || {
        crate::replace::replace(&views[0], n, &table)
    })?;
    let buffers: Vec<_> = out
        .buffers
        .into_iter()
        .map(|b| b.into_pyarray(py))
        .collect();
    Ok((out.views.into_pyarray(py), buffers))
}

/// A full-width field's padding counted from its value's end: U+3000's bytes, and the
/// space (`compose::TextField::repad`).
type Repad = (Vec<u8>, u8);

/// Write text columns into their fields (offset, width, check, digits must fill it) of
/// `n` records `stride` bytes apart in `out`, encoding through `table` (65,536 codes, with
/// 0xFFFF for a character the encoding lacks and 0xFFFE for one it would read back as
/// another), or in an EBCDIC `page` with each field's shift mode (`shifts`). A field
/// given its table's `codes` (None: any value) refuses every other value. Each
/// field's refused rows come back (`rows`), each with its reasons (`reasons`, bits of
/// [`crate::compose::reason`]) and its value's byte length (`lengths`); those rows are
/// left as the padding already in `out`. A field given `repads` (U+3000's bytes and the
/// space) is padded after its value as EUC-JP needs (see `compose::TextField::repad`).
/// Blocks of records are written on `threads` threads (0: one per core).
#[pyfunction]
#[pyo3(signature = (
    out, stride, n, fields, columns, table, page=None, shifts=None, codes=None, threads=0,
    repads=None
))]
// pyo3 hands the arguments over by value; the Python signature is the one the writer needs
#[allow(clippy::needless_pass_by_value, clippy::too_many_arguments)]
fn compose_text<'py>(
    py: Python<'py>,
    out: &Bound<'py, PyArray1<u8>>,
    stride: usize,
    n: usize,
    fields: Vec<(usize, usize, String, bool)>,
    columns: Vec<PyTextColumn<'py>>,
    table: Option<&Bound<'py, PyArray1<u16>>>,
    page: Option<&str>,
    shifts: Option<Vec<String>>,
    codes: Option<Vec<Option<Vec<Vec<u8>>>>>,
    threads: usize,
    repads: Option<Vec<Option<Repad>>>,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let bad = |what: &str| PyValueError::new_err(what.to_string());
    let repads = repads.unwrap_or_else(|| vec![None; fields.len()]);
    let page = page
        .map(|p| Page::from_name(p).ok_or_else(|| bad("no such EBCDIC page")))
        .transpose()?;
    let shifts = shifts.unwrap_or_else(|| vec![String::new(); fields.len()]);
    let codes: Vec<Option<Codes>> = codes
        .unwrap_or_else(|| vec![None; fields.len()])
        .into_iter()
        .map(|c| c.map(Codes::new))
        .collect();
    if shifts.len() != fields.len() || codes.len() != fields.len() || repads.len() != fields.len() {
        return Err(bad("one shift mode, code list and padding per field"));
    }
    if repads.iter().flatten().any(|(unit, _)| unit.is_empty()) {
        return Err(bad("a padding unit of no bytes"));
    }
    let mut out = writable(out)?;
    let out = out.as_slice_mut()?;
    // an EBCDIC page encodes with its own tables; the others need the writer's table
    let table = table.map(readonly).transpose()?;
    let table = match &table {
        Some(t) => t.as_slice()?,
        None => &[],
    };
    if table.len() != 65536 && page.is_none() {
        return Err(bad("table must hold 65,536 codes"));
    }
    if fields.len() != columns.len() || n.checked_mul(stride).is_none_or(|s| s > out.len()) {
        return Err(bad("fields, columns and records do not fit together"));
    }
    let mut specs = Vec::with_capacity(fields.len());
    for ((((offset, width, check, full_digits), shift), codes), repad) in
        fields.iter().zip(&shifts).zip(&codes).zip(&repads)
    {
        if offset.checked_add(*width).is_none_or(|end| end > stride) {
            return Err(bad("a field lies outside the records"));
        }
        specs.push(TextField {
            offset: *offset,
            width: *width,
            check: check_of(check)?,
            full_digits: *full_digits,
            shift: Shift::from_name(shift).ok_or_else(|| bad("no such shift mode"))?,
            codes: codes.as_ref(),
            repad: repad
                .as_ref()
                .map(|(unit, space)| (unit.as_slice(), *space)),
        });
    }
    let borrowed = borrow_columns(&columns)?;
    let buffers = buffer_slices(&borrowed)?;
    let views = text_columns(&borrowed, &buffers, n)?;
    let written = on_threads(py, threads, || {
        write_text(out, stride, n, &specs, &views, table, page)
    })?;
    written
        .into_iter()
        .map(|w| {
            let d = PyDict::new(py);
            d.set_item("rows", w.rows.into_pyarray(py))?;
            d.set_item("reasons", w.reasons.into_pyarray(py))?;
            d.set_item("lengths", w.lengths.into_pyarray(py))?;
            Ok(d)
        })
        .collect()
}

/// The records of `out` and one field in them, checked: `n` rows of `stride` bytes, the
/// field at `offset`, `width` bytes (at least one).
fn field_fits(out: &[u8], stride: usize, n: usize, offset: usize, width: usize) -> PyResult<()> {
    if width == 0
        || offset.checked_add(width).is_none_or(|end| end > stride)
        || n.checked_mul(stride).is_none_or(|size| size > out.len())
    {
        return Err(PyValueError::new_err("the field does not fit the records"));
    }
    Ok(())
}

/// Write unscaled numbers into a field (offset, width) of the records in `out`, in
/// `style` (`spaced`, `zero-padded`, `signed-display`, `digits` or `zoned`); rows not
/// `present` are left as padding. Returns the rows refused: `lowest`, `negative` (in an
/// unsigned field), `overflow`. Blocks of records are written on `threads` threads (0:
/// one per core).
#[pyfunction]
#[pyo3(signature = (out, stride, offset, width, style, signed, values, present, threads = 0))]
#[allow(clippy::needless_pass_by_value, clippy::too_many_arguments)]
fn compose_numbers<'py>(
    py: Python<'py>,
    out: &Bound<'py, PyArray1<u8>>,
    stride: usize,
    offset: usize,
    width: usize,
    style: &str,
    signed: bool,
    values: &Bound<'py, PyArray1<i64>>,
    present: &Bound<'py, PyArray1<bool>>,
    threads: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let style = match style {
        "spaced" => NumberStyle::Spaced,
        "zero-padded" => NumberStyle::ZeroPadded,
        "signed-display" => NumberStyle::SignedDisplay,
        "digits" => NumberStyle::Digits,
        "zoned" => NumberStyle::Zoned,
        _ => {
            return Err(PyValueError::new_err(format!(
                "unknown number style {style:?}"
            )))
        }
    };
    let mut out = writable(out)?;
    let out = out.as_slice_mut()?;
    let (values, present) = (readonly(values)?, readonly(present)?);
    let (values, present) = (values.as_slice()?, present.as_slice()?);
    if values.len() != present.len() {
        return Err(PyValueError::new_err("values and present differ in length"));
    }
    field_fits(out, stride, values.len(), offset, width)?;
    let n = values.len();
    let w = on_threads(py, threads, || {
        NumbersWritten::join(in_blocks(out, stride, n, |block, rows| {
            let (values, present) = (&values[rows.clone()], &present[rows]);
            write_numbers(block, stride, offset, width, style, signed, values, present)
        }))
    })?;
    let d = PyDict::new(py);
    d.set_item("lowest", w.lowest.into_pyarray(py))?;
    d.set_item("negative", w.negative.into_pyarray(py))?;
    d.set_item("overflow", w.overflow.into_pyarray(py))?;
    Ok(d)
}

/// Write complete dates (days since 1970-01-01) into a field at `offset` of the records
/// in `out`, in the date `form` (format, pivot, era codes, the writer's code of each
/// era) with `eras` (first year, first day, last day); rows not `present` are left as
/// padding. Returns the rows the form cannot write. Blocks of records are written on
/// `threads` threads (0: one per core).
#[pyfunction]
#[pyo3(signature = (out, stride, offset, form, eras, days, present, threads = 0))]
#[allow(clippy::needless_pass_by_value, clippy::too_many_arguments)]
fn compose_dates<'py>(
    py: Python<'py>,
    out: &Bound<'py, PyArray1<u8>>,
    stride: usize,
    offset: usize,
    form: PyDateForm,
    eras: Vec<(i64, i64, i64)>,
    days: &Bound<'py, PyArray1<i64>>,
    present: &Bound<'py, PyArray1<bool>>,
    threads: usize,
) -> PyResult<Bound<'py, PyArray1<bool>>> {
    let form = date_form(&form)?;
    let mut out = writable(out)?;
    let out = out.as_slice_mut()?;
    let (days, present) = (readonly(days)?, readonly(present)?);
    let (days, present) = (days.as_slice()?, present.as_slice()?);
    if days.len() != present.len() {
        return Err(PyValueError::new_err("days and present differ in length"));
    }
    field_fits(out, stride, days.len(), offset, form.format.width())?;
    let eras = era_list(eras);
    let failed = on_threads(py, threads, || {
        in_blocks(out, stride, days.len(), |block, rows| {
            let (days, present) = (&days[rows.clone()], &present[rows]);
            write_dates(block, stride, offset, &form, &eras, days, present)
        })
        .concat()
    })?;
    Ok(failed.into_pyarray(py))
}

fn era_list(eras: Vec<(i64, i64, i64)>) -> Vec<Era> {
    eras.into_iter()
        .map(|(start_year, start_day, end_day)| Era {
            start_year,
            start_day,
            end_day,
        })
        .collect()
}

/// Whether the first `n` records of `data` (`size` bytes then the terminator `term`
/// each) all end in `term` and, with `feeds`, hold no other line feed: then they are
/// cut by length alone. `data` is a numpy view of the chunk (bytes, bytearray, mmap).
#[pyfunction]
fn intact<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyArray1<u8>>,
    n: usize,
    size: usize,
    term: &[u8],
    feeds: bool,
) -> PyResult<bool> {
    let data = readonly(data)?;
    let data = data.as_slice()?;
    Ok(py.allow_threads(|| crate::split::intact(data, n, size, term, feeds)))
}

/// The `size` bytes at each of `starts` in `data` as a `(len(starts), size)` matrix,
/// with the GIL released: the good records of a chunk cut at its line feeds.
#[pyfunction]
fn gather_records<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyArray1<u8>>,
    starts: &Bound<'py, PyArray1<i64>>,
    size: usize,
) -> PyResult<Bound<'py, PyArray2<u8>>> {
    let (data, starts) = (readonly(data)?, readonly(starts)?);
    let (data, starts) = (data.as_slice()?, starts.as_slice()?);
    let rows = starts.len();
    let out = py
        .allow_threads(|| crate::split::gather(data, starts, size))
        .ok_or_else(|| PyValueError::new_err("a record runs past the end of its chunk"))?;
    out.into_pyarray(py).reshape([rows, size])
}

/// The bytes at each of `starts`, `lengths[i]` of them, back to back, with the GIL
/// released: rejected records read again for the reject file.
#[pyfunction]
fn gather_spans<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyArray1<u8>>,
    starts: &Bound<'py, PyArray1<i64>>,
    lengths: &Bound<'py, PyArray1<i64>>,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    let (data, starts, lengths) = (readonly(data)?, readonly(starts)?, readonly(lengths)?);
    let (data, starts, lengths) = (data.as_slice()?, starts.as_slice()?, lengths.as_slice()?);
    if starts.len() != lengths.len() {
        return Err(PyValueError::new_err(
            "as many starts as lengths are needed",
        ));
    }
    let out = py
        .allow_threads(|| crate::split::gather_spans(data, starts, lengths))
        .ok_or_else(|| PyValueError::new_err("a span runs past the end of the data"))?;
    Ok(out.into_pyarray(py))
}

/// Rows of bytes (row `i` is `data[at[i]..at[i + 1]]`) in hex, a space between two
/// bytes, with the GIL released: their text back to back and where each row's starts.
#[pyfunction]
fn hex_rows<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyArray1<u8>>,
    at: &Bound<'py, PyArray1<i64>>,
) -> PyResult<TextRows<'py>> {
    let (data, at) = (readonly(data)?, readonly(at)?);
    let (data, at) = (data.as_slice()?, at.as_slice()?);
    let (text, starts) = py
        .allow_threads(|| crate::split::hex_rows(data, at))
        .ok_or_else(|| PyValueError::new_err("rows out of place in their bytes"))?;
    Ok((text.into_pyarray(py), starts.into_pyarray(py)))
}

/// The rows of a CSV chunk as RFC 4180 quoting tells: (the line feeds that end rows,
/// how many quotes, where the first misplaced quote stands or -1), with the GIL
/// released.
#[pyfunction]
fn csv_row_ends<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyArray1<u8>>,
    delimiter: u8,
    quote: u8,
) -> PyResult<(Bound<'py, PyArray1<i64>>, usize, i64)> {
    let data = readonly(data)?;
    let data = data.as_slice()?;
    let got = py.allow_threads(|| crate::csv::row_ends(data, delimiter, quote));
    let misplaced = got.misplaced.map_or(-1, |p| p as i64);
    Ok((got.ends.into_pyarray(py), got.quotes, misplaced))
}

/// How many cells of the kept rows are quoted needlessly, and the first (row-major; -1
/// for none), on `threads` threads; `encoding` says which delimiter bytes are a
/// character's: see `csv::needless_quotes`.
#[pyfunction]
#[allow(clippy::too_many_arguments)] // (the arguments of a Python call)
fn needless_quotes<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyArray1<u8>>,
    starts: &Bound<'py, PyArray1<i64>>,
    fields: usize,
    row_ends: &Bound<'py, PyArray1<i64>>,
    delimiter: u8,
    quote: u8,
    encoding: &str,
    threads: usize,
) -> PyResult<(usize, i64)> {
    let (data, starts, ends) = (readonly(data)?, readonly(starts)?, readonly(row_ends)?);
    let (data, starts, ends) = (data.as_slice()?, starts.as_slice()?, ends.as_slice()?);
    // (an encoding the core does not decode pairs no delimiter)
    let codec = Codec::from_name(encoding);
    let (count, first) = on_threads(py, threads, || {
        crate::csv::needless_quotes(data, starts, fields, ends, (delimiter, quote), codec)
    })?;
    Ok((count, first.map_or(-1, |k| k as i64)))
}

/// Space, zero, ideographic space (as bytes), paired.
type Facts<'py> = (
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    bool,
);

/// What the core knows of an encoding (a Python codec name) beyond its table, as
/// `chukan.spec.Encoding` says it: (space, zero, ideographic space, paired); None for an
/// encoding the core does not decode.
#[pyfunction]
fn encoding_facts<'py>(py: Python<'py>, encoding: &str) -> Option<Facts<'py>> {
    Codec::from_name(encoding).map(|c| {
        (
            PyBytes::new(py, &[c.space()]),
            PyBytes::new(py, &[c.zero()]),
            PyBytes::new(py, c.ideographic_space()),
            c.paired(),
        )
    })
}

/// The rows of a CSV chunk (`starts`, `ends`: each row's content, in `data`) cut into
/// cells; the rows with `width` cells decoded from `encoding`, one column of string
/// views per field. A dict: `counts` (fields per row), `kept` (the rows decoded),
/// `starts` (their cells' positions, rows × fields), `columns` ((views, buffers) each),
/// `quoted` (whether a cell of those rows was quoted), `suspect` (each column:
/// whether a value may hold a control character or one its decoder gives for
/// undecodable bytes; never less than that) and `failing` (each column: whether a
/// value fails the column's check in `checks`, named as the writers name them, or holds
/// more characters than its limit in `limits`, 0 for none; none past either's end).
/// `data` is a numpy view of the chunk. On `threads` threads (0: one per core).
#[pyfunction]
#[pyo3(signature = (
    data, starts, ends, width, delimiter, quote, encoding, threads = 0, checks = vec![],
    limits = vec![]
))]
#[allow(clippy::too_many_arguments, clippy::needless_pass_by_value)]
fn csv_cells<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyArray1<u8>>,
    starts: &Bound<'py, PyArray1<i64>>,
    ends: &Bound<'py, PyArray1<i64>>,
    width: usize,
    delimiter: u8,
    quote: u8,
    encoding: &str,
    threads: usize,
    checks: Vec<String>,
    limits: Vec<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let codec = Codec::from_name(encoding)
        .ok_or_else(|| PyValueError::new_err(format!("the core does not decode {encoding}")))?;
    let checks = checks
        .iter()
        .map(|name| check_of(name))
        .collect::<PyResult<Vec<_>>>()?;
    let data = readonly(data)?;
    let data = data.as_slice()?;
    let (starts, ends) = (readonly(starts)?, readonly(ends)?);
    let (starts, ends) = (starts.as_slice()?, ends.as_slice()?);
    let rows: Option<Vec<(usize, usize)>> = (starts.len() == ends.len())
        .then(|| {
            starts
                .iter()
                .zip(ends)
                .map(|(&a, &b)| {
                    let (a, b) = (usize::try_from(a).ok()?, usize::try_from(b).ok()?);
                    (a <= b && b <= data.len()).then_some((a, b))
                })
                .collect()
        })
        .flatten();
    let Some(rows) = rows.filter(|_| width > 0) else {
        return Err(PyValueError::new_err("rows outside the data, or no fields"));
    };
    // each column's check and limit (a list shorter than the other: none past its end)
    let judges: Vec<_> = (0..checks.len().max(limits.len()))
        .map(|j| {
            let check = checks.get(j).copied().unwrap_or(Check::Nothing);
            (check, limits.get(j).copied().unwrap_or(0))
        })
        .collect();
    let cut = || crate::csv::cells(data, &rows, width, delimiter, quote, codec, &judges);
    let cells = on_threads(py, threads, cut)?;
    let d = PyDict::new(py);
    d.set_item("counts", cells.counts.into_pyarray(py))?;
    d.set_item("kept", cells.kept.into_pyarray(py))?;
    d.set_item("starts", cells.starts.into_pyarray(py))?;
    let columns: Vec<_> = cells
        .columns
        .into_iter()
        .map(|c| {
            let buffers: Vec<_> = c.buffers.into_iter().map(|b| b.into_pyarray(py)).collect();
            (c.views.into_pyarray(py), buffers)
        })
        .collect();
    d.set_item("columns", columns)?;
    d.set_item("suspect", cells.suspect)?;
    d.set_item("quoted", cells.quoted)?;
    d.set_item("failing", cells.failing)?;
    Ok(d)
}

/// The glyphs `glyphs` (ids) of the font `data`, drawn as `size`×`size` coverage bitmaps
/// on `threads` threads (0: one per core), as one array of `len(glyphs)·size²` bytes.
#[pyfunction]
#[pyo3(signature = (data, glyphs, size, fill, threads=0))]
fn render_glyphs<'py>(
    py: Python<'py>,
    data: &[u8],
    glyphs: &Bound<'py, PyArray1<u16>>,
    size: u16,
    fill: f32,
    threads: usize,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    if size == 0 || size > 1024 {
        return Err(PyValueError::new_err("size must be 1-1024"));
    }
    if !(fill.is_finite() && fill > 0.0 && fill <= 4.0) {
        return Err(PyValueError::new_err("fill must be above 0 and at most 4"));
    }
    let glyphs = readonly(glyphs)?;
    let glyphs = glyphs.as_slice()?;
    let drawn = on_threads(py, threads, || {
        crate::glyph::render(data, glyphs, size, fill)
    })?
    .map_err(PyValueError::new_err)?;
    Ok(drawn.into_pyarray(py))
}

/// The glyphs drawn on a `raw`² grid, then moment-normalised onto `size`² (see
/// `glyph::render_normalised`), on `threads` threads.
#[pyfunction]
#[pyo3(signature = (data, glyphs, raw, size, spread, threads=0))]
fn render_normalised<'py>(
    py: Python<'py>,
    data: &[u8],
    glyphs: &Bound<'py, PyArray1<u16>>,
    raw: u16,
    size: u16,
    spread: f32,
    threads: usize,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    if !(2..=1024).contains(&raw) || !(1..=1024).contains(&size) {
        return Err(PyValueError::new_err("sizes must be 2-1024 (raw), 1-1024"));
    }
    if !(spread.is_finite() && spread > 0.0 && spread <= 4.0) {
        return Err(PyValueError::new_err(
            "spread must be above 0 and at most 4",
        ));
    }
    let glyphs = readonly(glyphs)?;
    let glyphs = glyphs.as_slice()?;
    let drawn = on_threads(py, threads, || {
        crate::glyph::render_normalised(data, glyphs, raw, size, spread)
    })?
    .map_err(PyValueError::new_err)?;
    Ok(drawn.into_pyarray(py))
}

/// Each query's `k` chosen candidates scored by where they differ (see
/// `glyph::rerank`), on `threads` threads.
#[pyfunction]
#[pyo3(signature = (queries, glyphs, chosen, k, size, apart, near, bend, threads=0))]
#[allow(clippy::too_many_arguments)] // the Python signature is the one the ranker needs
fn rerank_glyphs<'py>(
    py: Python<'py>,
    queries: &Bound<'py, PyArray1<u8>>,
    glyphs: &Bound<'py, PyArray1<u8>>,
    chosen: &Bound<'py, PyArray1<u32>>,
    k: usize,
    size: usize,
    apart: f32,
    near: f32,
    bend: (usize, usize, usize, f32, f32, f32),
    threads: usize,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let (reach, step, window, blur, smooth, cost) = bend;
    let bend = crate::glyph::Align {
        reach,
        step,
        window,
        blur,
        smooth,
        cost,
    };
    let bad = |what: &str| Err(PyValueError::new_err(what.to_string()));
    let (queries, glyphs, chosen) = (readonly(queries)?, readonly(glyphs)?, readonly(chosen)?);
    let (queries, glyphs, chosen) = (queries.as_slice()?, glyphs.as_slice()?, chosen.as_slice()?);
    if !(1..=1024).contains(&size) || !(1..=64).contains(&k) {
        return bad("size must be 1-1024 and k 1-64");
    }
    let cells = size * size;
    if queries.len() % cells != 0 || glyphs.len() % cells != 0 {
        return bad("bitmaps must be size² bytes each");
    }
    if chosen.len() != queries.len() / cells * k {
        return bad("k candidates per query");
    }
    let sane = |v: f32, top: f32| v.is_finite() && (0.0..=top).contains(&v);
    if !(sane(apart, 64.0) && sane(near, 64.0) && near > 0.0) {
        return bad("apart and near must be 0-64 pixels (near above 0)");
    }
    // the bending's searches grow with these: bounds that keep a call to seconds
    if reach > 16 || step == 0 || step > size || window == 0 || window > size {
        return bad("reach must be 0-16, step and window 1-size");
    }
    if !(sane(blur, 16.0) && blur > 0.0 && sane(smooth, 16.0) && sane(cost, 1.0)) {
        return bad("blur must be 0-16 (above 0), smooth 0-16, cost 0-1");
    }
    if chosen.iter().any(|&c| c as usize >= glyphs.len() / cells) {
        return bad("a candidate past the glyphs");
    }
    let scores = on_threads(py, threads, || {
        crate::glyph::rerank(queries, glyphs, chosen, k, size, apart, near, &bend)
    })?;
    Ok(scores.into_pyarray(py))
}

/// The module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(extract, m)?)?;
    m.add_function(wrap_pyfunction!(render_glyphs, m)?)?;
    m.add_function(wrap_pyfunction!(render_normalised, m)?)?;
    m.add_function(wrap_pyfunction!(rerank_glyphs, m)?)?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(decode_rows, m)?)?;
    m.add_function(wrap_pyfunction!(place, m)?)?;
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    m.add_function(wrap_pyfunction!(transcode, m)?)?;
    m.add_function(wrap_pyfunction!(encode_ebcdic, m)?)?;
    m.add_function(wrap_pyfunction!(translate_columns, m)?)?;
    m.add_function(wrap_pyfunction!(translated_columns, m)?)?;
    m.add_function(wrap_pyfunction!(outside_codes, m)?)?;
    m.add_function(wrap_pyfunction!(csv_integers, m)?)?;
    m.add_function(wrap_pyfunction!(csv_decimals, m)?)?;
    m.add_function(wrap_pyfunction!(unpack_packed, m)?)?;
    m.add_function(wrap_pyfunction!(pack_packed, m)?)?;
    m.add_function(wrap_pyfunction!(decode_ebcdic, m)?)?;
    m.add_function(wrap_pyfunction!(char_places, m)?)?;
    m.add_function(wrap_pyfunction!(ebcdic_ascii, m)?)?;
    m.add_function(wrap_pyfunction!(page_facts, m)?)?;
    m.add_function(wrap_pyfunction!(define_page, m)?)?;
    m.add_function(wrap_pyfunction!(compose_text, m)?)?;
    m.add_function(wrap_pyfunction!(compose_numbers, m)?)?;
    m.add_function(wrap_pyfunction!(compose_dates, m)?)?;
    m.add_function(wrap_pyfunction!(intact, m)?)?;
    m.add_function(wrap_pyfunction!(gather_records, m)?)?;
    m.add_function(wrap_pyfunction!(gather_spans, m)?)?;
    m.add_function(wrap_pyfunction!(hex_rows, m)?)?;
    m.add_function(wrap_pyfunction!(encode_lines, m)?)?;
    m.add_function(wrap_pyfunction!(csv_row_ends, m)?)?;
    m.add_function(wrap_pyfunction!(needless_quotes, m)?)?;
    m.add_function(wrap_pyfunction!(format_csv, m)?)?;
    m.add_function(wrap_pyfunction!(csv_cells, m)?)?;
    m.add_function(wrap_pyfunction!(csv_refused, m)?)?;
    m.add_function(wrap_pyfunction!(format_csv_checked, m)?)?;
    m.add_function(wrap_pyfunction!(byte_places, m)?)?;
    m.add_function(wrap_pyfunction!(private_use, m)?)?;
    m.add_function(wrap_pyfunction!(replace_chars, m)?)?;
    m.add_function(wrap_pyfunction!(join_views, m)?)?;
    m.add_function(wrap_pyfunction!(encoding_facts, m)?)?;
    m.add_function(wrap_pyfunction!(views_matrix, m)?)?;
    m.add_function(wrap_pyfunction!(shapes, m)?)?;
    Ok(())
}
