//! The byte-matrix → string-columns kernel: records of a fixed width, cut into fields,
//! decoded to UTF-8 with padding stripped, and the rows whose bytes were unusable marked.
//!
//! The same contract as the Python kernel it replaces (`chukan/_kernel.py`), which the
//! test suite keeps as an independent oracle and compares against on random blocks.
//! Each column is built in Arrow's string-view layout, the one Polars keeps its strings
//! in, so that Python hands it to Polars without a copy: a 16-byte view per row (a value
//! of up to 12 bytes inside it), the longer values in one buffer per chunk of rows.

use rayon::prelude::*;

use crate::decode::{decode_seen, Codec, Seen};
use crate::ebcdic::Shift;
use crate::pieces;
use crate::typed::{self, Check, DateForm, Era, NumberForm};
use crate::views::INLINE;

/// How a field's bytes become text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// No decoding: kept whole (null when all spaces); a byte that is not printable ASCII
    /// becomes `?`, so that the field's type check reports it.
    Ascii,
    /// Decoded, trailing spaces removed.
    Text,
    /// Decoded, trailing spaces and U+3000 removed.
    Fullwidth,
    /// A date read on its bytes: days since 1970-01-01 where it is plainly complete and
    /// valid (the other rows are left to the full parser).
    Date(DateForm),
    /// A number read on its bytes: its value where it is plain zero-padded digits.
    Number(NumberForm),
}

/// Where a field sits in the record and how to read it.
#[derive(Clone, Copy, Debug)]
pub struct ColumnSpec {
    /// Byte offset in the record.
    pub offset: usize,
    /// Bytes.
    pub length: usize,
    /// How its bytes become text.
    pub kind: Kind,
    /// Full-width fields: whether the writer pads with U+3000 (else with spaces).
    pub pad_ideographic: bool,
    /// Text fields: the check made on each decoded value.
    pub check: Check,
    /// EBCDIC text fields: single bytes only, mixed with SO/SI, or graphic (double bytes
    /// only, read as a paired full-width field).
    pub shift: Shift,
}

/// One decoded column, ready to be an Arrow `Utf8View` array.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Column {
    /// Arrow's view of each row, 16 bytes: the value's length (`i32`), then the value
    /// itself when it is at most 12 bytes, else its first 4 bytes, the index of its
    /// buffer and its offset there (`i32` each). A null row's view is zeros.
    pub views: Vec<u8>,
    /// The buffers that the views of values longer than 12 bytes point into.
    pub buffers: Vec<Vec<u8>>,
    /// Rows with a value (the others are null).
    pub valid: Vec<bool>,
    /// Rows nulled because their bytes held a control character.
    pub control: Vec<bool>,
    /// Rows nulled because their bytes did not decode.
    pub invalid: Vec<bool>,
    /// Full-width fields: rows whose padding writing back would not give.
    pub padding: Option<Vec<bool>>,
    /// Rows holding a two-byte character in bytes the writer would not give back (a
    /// CP932 duplicate outside the layout's policy), where a table of such pairs is given.
    pub duplicate: Vec<bool>,
    /// Text fields: rows whose value fails the spec's check.
    pub failed: Vec<bool>,
    /// Dates and numbers: each row's value (days, or the unscaled number), 0 where the
    /// row is not `valid` (not taken by the short path).
    pub numbers: Vec<i64>,
}

/// The two-byte sequences (lead 0x80–0xFF × trail, 128 × 256) that the writer would
/// write as other bytes: the caller computes them with the writer itself.
pub type PairTable<'a> = Option<&'a [bool]>;

/// The records of a block: `n` rows starting every `stride` bytes of `bytes`.
#[derive(Clone, Copy, Debug)]
pub struct Block<'a> {
    /// The bytes under the block (the last row may end early: only its fields are read).
    pub bytes: &'a [u8],
    /// Number of records.
    pub n: usize,
    /// Distance between record starts.
    pub stride: usize,
}

impl Block<'_> {
    fn field(&self, row: usize, spec: &ColumnSpec) -> &[u8] {
        let start = row * self.stride + spec.offset;
        &self.bytes[start..start + spec.length]
    }
}

/// Rows decoded together: each record's bytes are read once for all its fields, and a
/// chunk is one task for the thread pool.
const CHUNK_ROWS: usize = 4096;

/// Decode every column of `block`: chunks of rows in parallel, each row's fields in
/// order (the record's bytes stay in cache). Each chunk writes its rows' views and marks
/// straight into the columns' arrays (nothing is joined after) and fills one buffer of
/// long values per column, which is moved into the column whole.
///
/// # Panics
/// When a field lies outside `block.bytes` (the caller checks the layout against the
/// record length first).
#[must_use]
pub fn extract(
    block: Block<'_>,
    specs: &[ColumnSpec],
    codec: Codec,
    rewritten: PairTable<'_>,
    eras: &[Era],
) -> Vec<Column> {
    extract_in(
        block,
        specs,
        codec,
        rewritten,
        eras,
        CHUNK_ROWS,
        i32::MAX as usize,
    )
}

fn extract_in(
    block: Block<'_>,
    specs: &[ColumnSpec],
    codec: Codec,
    rewritten: PairTable<'_>,
    eras: &[Era],
    rows: usize,
    limit: usize,
) -> Vec<Column> {
    let n = block.n;
    let mut out: Vec<Column> = specs.iter().map(|s| empty(s, n)).collect();
    let count = n.div_ceil(rows);
    // the columns' arrays cut into each chunk's rows, then regrouped by chunk
    let mut by_column: Vec<std::vec::IntoIter<Part<'_>>> = out
        .iter_mut()
        .zip(specs)
        .map(|(c, spec)| c.parts(spec, rows, count, limit).into_iter())
        .collect();
    let by_chunk: Vec<Vec<Part<'_>>> = (0..count)
        .map(|_| by_column.iter_mut().filter_map(Iterator::next).collect())
        .collect();
    let filled: Vec<Vec<Vec<Vec<u8>>>> = by_chunk
        .into_par_iter()
        .enumerate()
        .map(|(k, mut parts)| {
            let first = k * rows..n.min((k + 1) * rows);
            chunk(block, first, specs, codec, rewritten, eras, &mut parts);
            parts.into_iter().map(|p| p.buffers).collect()
        })
        .collect();
    // a view points at buffer `k` of chunk `k`; a chunk whose values filled more than
    // one buffer (fields of many megabytes) moves the later chunks' buffers along
    let mut shift = vec![0u32; specs.len()];
    for (k, buffers) in filled.into_iter().enumerate() {
        let range = k * rows..n.min((k + 1) * rows);
        for ((col, mut part), by) in out.iter_mut().zip(buffers).zip(shift.iter_mut()) {
            if *by > 0 {
                crate::views::renumber(&mut col.views[16 * range.start..16 * range.end], *by);
            }
            *by += u32::try_from(part.len())
                .unwrap_or(u32::MAX)
                .saturating_sub(1);
            col.buffers.append(&mut part);
        }
    }
    out
}

fn is_control(b: u8) -> bool {
    b < 0x20 || b == 0x7F
}

fn empty(spec: &ColumnSpec, n: usize) -> Column {
    let typed = matches!(spec.kind, Kind::Date(_) | Kind::Number(_));
    Column {
        views: if typed { Vec::new() } else { vec![0; 16 * n] },
        buffers: Vec::new(),
        valid: vec![false; n],
        control: vec![false; n],
        invalid: vec![false; n],
        padding: (spec.kind == Kind::Fullwidth).then(|| vec![false; n]),
        duplicate: vec![false; n],
        failed: vec![false; n],
        numbers: if typed { vec![0; n] } else { Vec::new() },
    }
}

/// A chunk's rows of one column: its slices of the column's arrays, and the buffer its
/// long values are decoded into.
struct Part<'a> {
    views: &'a mut [u8],
    valid: &'a mut [bool],
    control: &'a mut [bool],
    invalid: &'a mut [bool],
    padding: Option<&'a mut [bool]>,
    duplicate: &'a mut [bool],
    failed: &'a mut [bool],
    numbers: &'a mut [i64],
    /// The buffer being filled (values are decoded into it, then viewed).
    data: Vec<u8>,
    /// Buffers filled before it (only values of many megabytes fill one).
    buffers: Vec<Vec<u8>>,
    /// The index, in the column, of the buffer being filled.
    index: u32,
    /// The most bytes a buffer holds (`i32::MAX`: a view's offset is an `i32`).
    limit: usize,
}

impl Column {
    fn parts(
        &mut self,
        spec: &ColumnSpec,
        rows: usize,
        count: usize,
        limit: usize,
    ) -> Vec<Part<'_>> {
        let views = pieces(&mut self.views, 16 * rows, count);
        let mut padding: Vec<Option<&mut [bool]>> = match self.padding.as_mut() {
            Some(p) => pieces(p, rows, count).into_iter().map(Some).collect(),
            None => (0..count).map(|_| None).collect(),
        };
        let mut numbers = pieces(&mut self.numbers, rows, count).into_iter();
        let mut marks = [
            pieces(&mut self.valid, rows, count),
            pieces(&mut self.control, rows, count),
            pieces(&mut self.invalid, rows, count),
            pieces(&mut self.duplicate, rows, count),
            pieces(&mut self.failed, rows, count),
        ]
        .map(Vec::into_iter);
        // full-width text grows by half in UTF-8; other text is mostly ASCII, and values
        // of up to 12 bytes never stay in the buffer
        let capacity = |rows: usize| match spec.kind {
            Kind::Fullwidth => rows * spec.length * 3 / 2,
            Kind::Date(_) | Kind::Number(_) => 0,
            _ => rows * spec.length / 2,
        };
        views
            .into_iter()
            .zip(padding.drain(..))
            .enumerate()
            .map(|(k, (views, padding))| {
                let [valid, control, invalid, duplicate, failed] =
                    marks.each_mut().map(|p| p.next().unwrap_or_default());
                let data = Vec::with_capacity(capacity(valid.len()));
                Part {
                    views,
                    valid,
                    control,
                    invalid,
                    padding,
                    duplicate,
                    failed,
                    numbers: numbers.next().unwrap_or_default(),
                    data,
                    buffers: Vec::new(),
                    index: u32::try_from(k).unwrap_or(u32::MAX),
                    limit,
                }
            })
            .collect()
    }
}

/// The row's view of the value decoded at `data[start..]` (a valid row): a short value
/// moves into its view and leaves the buffer.
fn view(col: &mut Part<'_>, row: usize, start: usize) {
    crate::views::write(
        &mut col.views[16 * row..16 * row + 16],
        &col.data[start..],
        col.index,
        start as u32,
    );
    if col.data.len() - start <= INLINE {
        col.data.truncate(start);
    }
}

/// Close the buffer being filled when `room` more bytes could take its offsets past
/// what a view holds (`i32`): views then point into the next one.
fn make_room(col: &mut Part<'_>, room: usize) {
    if col.data.len() + room > col.limit {
        let full = std::mem::take(&mut col.data);
        col.buffers.push(full);
        col.index += 1;
    }
}

fn chunk(
    block: Block<'_>,
    rows: std::ops::Range<usize>,
    specs: &[ColumnSpec],
    codec: Codec,
    rewritten: PairTable<'_>,
    eras: &[Era],
    out: &mut [Part<'_>],
) {
    let widest = specs.iter().map(|s| s.length).max().unwrap_or(0);
    let mut work = vec![0u8; widest];
    // an EBCDIC page's digits, numbers and dates are read as their ASCII bytes
    let ascii = match codec {
        Codec::Ebcdic(page) => Some(page.table().ascii_bytes()),
        _ => None,
    };
    let mut translated = vec![0u8; if ascii.is_some() { widest } else { 0 }];
    let as_is = codec.ascii_as_is();
    for (i, row) in rows.enumerate() {
        for (spec, col) in specs.iter().zip(out.iter_mut()) {
            let mut raw = block.field(row, spec);
            if let (Some(table), Kind::Ascii | Kind::Date(_) | Kind::Number(_)) = (ascii, spec.kind)
            {
                let t = &mut translated[..raw.len()];
                for (t, &b) in t.iter_mut().zip(raw) {
                    *t = table[usize::from(b)];
                }
                raw = t;
            }
            match spec.kind {
                Kind::Date(form) => typed_value(typed::date(raw, &form, eras), i, col),
                Kind::Number(form) => typed_value(typed::number(raw, form), i, col),
                // ASCII bytes in every encoding: an EBCDIC layout's digits reach the
                // kernel translated (above)
                Kind::Ascii => ascii_value(raw, spec.check, i, col),
                Kind::Text if as_is && short_ascii(raw, spec.check, i, col) => {}
                Kind::Text | Kind::Fullwidth => {
                    make_room(col, 3 * spec.length + 1);
                    let start = col.data.len();
                    let seen = text_value(
                        raw,
                        &mut work[..spec.length],
                        spec,
                        codec,
                        rewritten,
                        i,
                        col,
                    );
                    // (an empty value whose bytes the writer would not give back, an
                    // empty shift pair, is marked too)
                    col.duplicate[i] = seen.is_some_and(|s| s.rewritten);
                    if !col.valid[i] {
                        continue;
                    }
                    col.failed[i] = match (spec.check, seen) {
                        (Check::Nothing, _) => false,
                        (Check::NoHalf, Some(s)) => s.half,
                        (Check::OnlyHalf, Some(s)) => s.other,
                        // the digits check, and values trimmed after decoding (UTF-8
                        // full-width)
                        (check, _) => typed::fails(check, &col.data[start..]),
                    };
                    view(col, i, start);
                }
            }
        }
    }
    for (spec, col) in specs.iter().zip(out.iter_mut()) {
        if !matches!(spec.kind, Kind::Date(_) | Kind::Number(_)) {
            let mut last = std::mem::take(&mut col.data);
            // Polars keeps the buffer as it is for the frame's life: room left unused
            // (short values, empty fields) is given back, at the cost of one copy
            if last.capacity() > last.len() + last.len() / 4 + 4096 {
                last.shrink_to_fit();
            }
            col.buffers.push(last);
        }
    }
}

/// A text value of printable ASCII of at most 12 bytes, in an encoding that reads such
/// bytes as themselves: put in its view straight from the record, the rest of the path
/// (decoding into the buffer, a copy into the view, the buffer cut back) skipped. Most
/// of a record's short fields are so (codes, flags, phone numbers). False, with nothing
/// done, for any other value.
fn short_ascii(raw: &[u8], check: Check, row: usize, out: &mut Part<'_>) -> bool {
    let value = &raw[..last_non_space(raw, b' ')];
    if value.len() > INLINE || !value.iter().all(|&b| (0x20..0x7F).contains(&b)) {
        return false;
    }
    if !value.is_empty() {
        crate::views::write(&mut out.views[16 * row..16 * row + 16], value, 0, 0);
        out.valid[row] = true;
        out.failed[row] = match check {
            Check::Nothing | Check::OnlyHalf => false,
            Check::NoHalf => true,
            Check::Digits => typed::fails(check, value),
        };
    }
    true
}

fn typed_value(value: Option<i64>, row: usize, out: &mut Part<'_>) {
    if let Some(v) = value {
        out.numbers[row] = v;
        out.valid[row] = true;
    }
}

/// An ASCII field (digits) kept whole, null when all spaces; a byte that is not
/// printable ASCII becomes `?`, so that the field's check fails it. A value of at most
/// 12 bytes goes straight into its view, a longer one through the column's buffer.
fn ascii_value(raw: &[u8], check: Check, row: usize, out: &mut Part<'_>) {
    if raw.iter().all(|&b| b == b' ') {
        return;
    }
    let printable = |&b: &u8| if (0x20..0x7F).contains(&b) { b } else { b'?' };
    out.valid[row] = true;
    if raw.len() <= INLINE {
        let mut value = [0u8; INLINE];
        let value = &mut value[..raw.len()];
        for (v, b) in value.iter_mut().zip(raw) {
            *v = printable(b);
        }
        crate::views::write(&mut out.views[16 * row..16 * row + 16], value, 0, 0);
        out.failed[row] = typed::fails(check, value);
        return;
    }
    make_room(out, raw.len());
    let start = out.data.len();
    out.data.extend(raw.iter().map(printable));
    out.failed[row] = typed::fails(check, &out.data[start..]);
    view(out, row, start);
}

/// Decode a text value into `out.data`, marking its row; what the decoder saw of it
/// when that is the value as kept (not for a UTF-8 full-width value, trimmed after).
fn text_value(
    raw: &[u8],
    work: &mut [u8],
    spec: &ColumnSpec,
    codec: Codec,
    rewritten: PairTable<'_>,
    row: usize,
    out: &mut Part<'_>,
) -> Option<Seen> {
    // control characters: the row is null, and its bytes read as `?` for the lengths
    // (one pass with no early exit, which the compiler vectorises)
    // an EBCDIC page's own control bytes (a mixed field's shift codes are its text's
    // structure, not control characters)
    let controls = match codec {
        Codec::Ebcdic(page) => Some((
            page.table().controls(spec.shift),
            page.table().plain_bytes(),
        )),
        _ => None,
    };
    let is_ctl = |b: u8| controls.map_or_else(|| is_control(b), |(t, _)| t[usize::from(b)]);
    // the check on every value: chosen once, so that the ASCII one stays a plain
    // comparison the compiler vectorises; a page's table is looked up only for a value
    // with a byte outside the page's plain run (a look-up per byte of every field was a
    // fifth of the kernel's work on a host file)
    let control = match controls {
        Some((t, (low, high))) => {
            let outside = low > high || {
                let span = high - low;
                raw.iter()
                    .fold(0u8, |any, &b| any | u8::from(b.wrapping_sub(low) > span))
                    != 0
            };
            outside && raw.iter().any(|&b| t[usize::from(b)])
        }
        None => raw.iter().fold(false, |any, &b| any | is_control(b)),
    };
    let bytes: &[u8] = if control {
        for (w, &b) in work.iter_mut().zip(raw) {
            *w = if is_ctl(b) { b'?' } else { b };
        }
        work
    } else {
        raw
    };
    out.control[row] = control;
    let paired = spec.kind == Kind::Fullwidth && (codec.paired() || spec.shift == Shift::Graphic);
    let length = if paired {
        paired_length(bytes, codec)
    } else {
        last_non_space(bytes, codec.space())
    };
    if paired {
        if let Some(padding) = out.padding.as_mut() {
            // IBM's and JEF's U+3000 is two single-byte spaces: a graphic field's padding
            // is whole pairs of 0x40 either way; KEIS's and JIPS's U+3000 is not, and a
            // graphic field is padded with it
            let graphic = spec.shift == Shift::Graphic;
            let spaces = codec.ideographic_space() == [codec.space(); 2];
            padding[row] = !(graphic && spaces)
                && odd_pairs(bytes, length, spec.pad_ideographic || graphic, codec);
        }
    }
    let start = out.data.len();
    if length == 0 || control {
        if spec.kind == Kind::Fullwidth && !paired && !control {
            // an empty field: its padding is all spaces, which U+3000 padding is not
            let unit = codec.ideographic_space().len();
            if let Some(padding) = out.padding.as_mut() {
                padding[row] = spec.pad_ideographic && spec.length >= unit;
            }
        }
        return None;
    }
    let decoded = match codec {
        Codec::Ebcdic(page) => page
            .table()
            .decode(&bytes[..length], spec.shift, &mut out.data),
        _ => decode_seen(codec, &bytes[..length], &mut out.data, rewritten),
    };
    let Some(seen) = decoded else {
        out.invalid[row] = true;
        return None;
    };
    let trimmed = spec.kind == Kind::Fullwidth && !paired;
    if trimmed {
        strip_fullwidth(
            &mut out.data,
            start,
            spec,
            codec,
            length,
            row,
            out.padding.as_deref_mut(),
        );
    }
    if out.data.len() == start {
        // all padding; an empty shift pair is said, as the writer would not write it
        return seen.rewritten.then_some(seen);
    }
    out.valid[row] = true;
    (!trimmed).then_some(seen)
}

/// The writer's copy: each value of `data` (lengths in `lengths`) left-aligned into its
/// record's field at `offset`, the records `stride` bytes apart in `out`. The caller
/// checks that every value fits its field and that `out` holds every record.
pub fn place(out: &mut [u8], stride: usize, offset: usize, data: &[u8], lengths: &[i64]) {
    let mut at = 0;
    for (row, &length) in lengths.iter().enumerate() {
        let length = length as usize;
        let start = row * stride + offset;
        out[start..start + length].copy_from_slice(&data[at..at + length]);
        at += length;
    }
}

/// Bytes before the trailing spaces.
fn last_non_space(bytes: &[u8], space: u8) -> usize {
    bytes.iter().rposition(|&b| b != space).map_or(0, |i| i + 1)
}

/// Bytes before the trailing padding of a full-width field where every character is an
/// aligned pair: whole U+3000 or two-space pairs from the field's start, a lone last
/// space; a misaligned pair ending in a space (a half-width character, an error) has its
/// trailing spaces cut as in a text field.
fn paired_length(bytes: &[u8], codec: Codec) -> usize {
    let (space, ideographic) = (codec.space(), codec.ideographic_space());
    let w = bytes.len();
    if w < 2 {
        return last_non_space(bytes, space);
    }
    let half = w / 2;
    let mut content = (0..half)
        .rev()
        .find(|&k| {
            let pair = &bytes[2 * k..2 * k + 2];
            pair != ideographic && pair != [space, space]
        })
        .map_or(0, |k| 2 * (k + 1));
    if w % 2 == 1 && bytes[w - 1] != space {
        content = w;
    }
    if content > 0 && bytes[content - 1] == space {
        content = last_non_space(bytes, space);
    }
    content
}

/// A paired full-width field whose padding holds pairs of the other kind than the
/// writer's (two spaces where U+3000 is written back, or U+3000 where spaces).
fn odd_pairs(bytes: &[u8], length: usize, pad_ideographic: bool, codec: Codec) -> bool {
    let spaces = [codec.space(); 2];
    let other: &[u8] = if pad_ideographic {
        &spaces
    } else {
        codec.ideographic_space()
    };
    (length / 2..bytes.len() / 2).any(|k| &bytes[2 * k..2 * k + 2] == other)
}

/// A full-width value of an encoding whose characters are not all one pair (UTF-8):
/// U+3000 and spaces stripped after decoding, and the padding judged on what was cut.
fn strip_fullwidth(
    data: &mut Vec<u8>,
    start: usize,
    spec: &ColumnSpec,
    codec: Codec,
    length: usize,
    row: usize,
    padding: Option<&mut [bool]>,
) {
    let text = std::str::from_utf8(&data[start..]).unwrap_or("");
    let kept = text.trim_end_matches(['\u{3000}', ' ']).len();
    let cut = &text[kept..];
    let spaces = spec.length - length; // trailing spaces, already cut on bytes
    let odd = if spec.pad_ideographic {
        cut.chars().any(|c| c != '\u{3000}') || spaces >= codec.ideographic_space().len()
    } else {
        cut.contains('\u{3000}')
    };
    if let Some(padding) = padding {
        padding[row] = odd;
    }
    data.truncate(start + kept);
}

#[cfg(test)]
mod tests {
    use super::{extract, Block, Column, ColumnSpec, Kind};
    use crate::decode::Codec;
    use crate::typed::{Check, NumberForm};

    fn one(bytes: &[u8], n: usize, spec: ColumnSpec, codec: Codec) -> Column {
        let stride = bytes.len() / n;
        extract(Block { bytes, n, stride }, &[spec], codec, None, &[]).remove(0)
    }

    fn values(c: &Column) -> Vec<Option<String>> {
        (0..c.valid.len())
            .map(|i| {
                c.valid[i].then(|| {
                    let buffers: Vec<&[u8]> = c.buffers.iter().map(Vec::as_slice).collect();
                    let v = &c.views[16 * i..16 * i + 16];
                    let bytes = crate::views::value(&c.views, &buffers, i).to_vec();
                    if bytes.len() > crate::views::INLINE {
                        assert_eq!(bytes[..4], v[4..8], "a view's prefix is its value's");
                    }
                    String::from_utf8(bytes).unwrap()
                })
            })
            .collect()
    }

    const fn spec(offset: usize, length: usize, kind: Kind) -> ColumnSpec {
        ColumnSpec {
            offset,
            length,
            kind,
            pad_ideographic: true,
            check: Check::Nothing,
            shift: crate::ebcdic::Shift::None,
        }
    }

    #[test]
    fn fullwidth_cp932_strips_ideographic_padding_on_bytes() {
        let bytes = b"\x8eR\x93c\x81@\x81@\x81@  ";
        let c = one(bytes, 2, spec(0, 6, Kind::Fullwidth), Codec::Cp932);
        assert_eq!(values(&c), [Some("山田".into()), None]);
        assert_eq!(c.padding, Some(vec![false, true])); // two spaces where U+3000 goes
    }

    #[test]
    fn control_bytes_null_the_row_and_undefined_bytes_too() {
        let c = one(b"A\x01 \x80  ", 2, spec(0, 3, Kind::Text), Codec::Cp932);
        assert_eq!(values(&c), [None, None]);
        assert_eq!(
            (c.control, c.invalid),
            (vec![true, false], vec![false, true])
        );
    }

    #[test]
    fn ascii_fields_keep_their_spaces_and_mark_odd_bytes() {
        let c = one(b"0012    ", 2, spec(0, 4, Kind::Ascii), Codec::Cp932);
        assert_eq!(values(&c)[0].as_deref(), Some("0012"));
        assert_eq!(values(&c)[1], None);
        let c = one(b"1\x822", 1, spec(0, 3, Kind::Ascii), Codec::Cp932);
        assert_eq!(values(&c)[0].as_deref(), Some("1?2"));
    }

    /// What a column says of each row, whatever buffers its views point into.
    fn said(c: &Column) -> impl PartialEq + std::fmt::Debug + '_ {
        let masks = [&c.valid, &c.control, &c.invalid, &c.duplicate, &c.failed];
        (values(c), masks, &c.padding, &c.numbers)
    }

    #[test]
    fn chunks_join_into_what_one_pass_gives() {
        let rows = super::CHUNK_ROWS * 2 + 13;
        let mut bytes = Vec::new();
        for i in 0..rows {
            // 9 bytes, then 8 more: a value longer than a view holds where the row's
            // number says so, so that the views of every chunk point into its buffer
            bytes.extend_from_slice(match i % 4 {
                0 => b"\x8eR\x93c\x81@A1 ",
                1 => b"      \x01  ",
                2 => b"\x80\x81@   B  ",
                _ => b"\x81@\x81@  9  ",
            });
            bytes.extend_from_slice(if i % 3 == 0 {
                b"\x8eR\x93c\x8eR\x93c"
            } else {
                b"        "
            });
        }
        let specs = [
            spec(0, 6, Kind::Fullwidth),
            spec(6, 3, Kind::Ascii),
            spec(0, 17, Kind::Text),
            spec(7, 2, Kind::Number(NumberForm::Unsigned)),
            ColumnSpec {
                check: Check::OnlyHalf,
                ..spec(0, 9, Kind::Text)
            },
        ];
        let block = Block {
            bytes: &bytes,
            n: rows,
            stride: 17,
        };
        let joined = extract(block, &specs, Codec::Cp932, None, &[]);
        let whole = super::extract_in(block, &specs, Codec::Cp932, None, &[], rows, usize::MAX);
        for (j, w) in joined.iter().zip(&whole) {
            assert_eq!(said(j), said(w));
        }
        assert_eq!(joined[2].buffers.len(), 3);
        assert_eq!(
            values(&joined[2])[(2 * super::CHUNK_ROWS).next_multiple_of(12)].as_deref(),
            Some("山田\u{3000}A1 山田山田")
        );
    }

    #[test]
    fn values_that_fill_a_buffer_go_on_in_the_next_and_later_views_follow() {
        // buffers of at most 60 bytes, and room for 43 asked before each value: each
        // chunk of 3 rows of 14-byte values fills two, so the views of every later chunk
        // point further along
        let bytes: Vec<u8> = (0..10u8)
            .flat_map(|i| {
                let mut v = b"abcdefghijklm".to_vec();
                v.push(b'0' + i);
                v
            })
            .collect();
        let block = Block {
            bytes: &bytes,
            n: 10,
            stride: 14,
        };
        let specs = [spec(0, 14, Kind::Text)];
        let small = super::extract_in(block, &specs, Codec::Cp932, None, &[], 3, 60);
        let whole = extract(block, &specs, Codec::Cp932, None, &[]);
        assert_eq!(said(&small[0]), said(&whole[0]));
        assert_eq!(small[0].buffers.len(), 7); // 2 + 2 + 2 + 1
    }

    #[test]
    fn a_pair_the_writer_writes_otherwise_is_marked_at_a_character_boundary() {
        // 髙 as EE E0 (the NEC-selected spelling) where the table marks EE E0
        let mut table = vec![false; 128 * 256];
        table[(0xEE - 0x80) * 256 + 0xE0] = true;
        let bytes = b"\xee\xe0  \x81\xee\xe0 ";
        let block = Block {
            bytes,
            n: 2,
            stride: 4,
        };
        let got = extract(
            block,
            &[spec(0, 4, Kind::Text)],
            Codec::Cp932,
            Some(&table),
            &[],
        );
        // the second row's EE is a trail byte of 81 EE: no 髙 there
        assert_eq!(got[0].duplicate, vec![true, false]);
    }

    #[test]
    fn typed_columns_and_checks_mark_their_rows() {
        let bytes = b"0012-1\x8eR 0x9 8    ";
        let specs = [
            spec(0, 4, Kind::Number(NumberForm::Unsigned)),
            spec(4, 2, Kind::Number(NumberForm::SignedInteger)),
            ColumnSpec {
                check: Check::Digits,
                ..spec(0, 4, Kind::Ascii)
            },
            ColumnSpec {
                check: Check::NoHalf,
                ..spec(6, 3, Kind::Fullwidth)
            },
        ];
        let block = Block {
            bytes,
            n: 2,
            stride: 9,
        };
        let got = extract(block, &specs, Codec::Cp932, None, &[]);
        assert_eq!(
            (&got[0].numbers, &got[0].valid),
            (&vec![12, 0], &vec![true, false])
        );
        assert_eq!(got[1].numbers, vec![-1, 0]);
        assert_eq!(got[1].valid, vec![true, false]); // "-8" is a number, "8 " is not plain
        assert_eq!(got[2].failed, vec![false, true]);
        assert_eq!(got[3].failed, vec![false, false]); // 山, then a blank field
    }

    #[test]
    fn place_copies_each_value_into_its_field() {
        let mut out = *b"..  |..  |..  |";
        super::place(&mut out, 5, 2, b"ABC", &[2, 0, 1]);
        assert_eq!(&out, b"..AB|..  |..C |");
    }

    #[test]
    fn no_rows_give_empty_columns() {
        let block = Block {
            bytes: &[],
            n: 0,
            stride: 4,
        };
        let got = extract(block, &[spec(0, 4, Kind::Text)], Codec::Cp932, None, &[]);
        assert!(got[0].views.is_empty() && got[0].valid.is_empty());
    }

    #[test]
    fn utf8_fullwidth_strips_after_decoding() {
        let bytes = "山\u{3000}".as_bytes();
        let c = one(bytes, 1, spec(0, bytes.len(), Kind::Fullwidth), Codec::Utf8);
        assert_eq!(values(&c)[0].as_deref(), Some("山"));
        assert_eq!(c.padding, Some(vec![false]));
    }
}
