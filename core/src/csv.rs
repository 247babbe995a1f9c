//! CSV rows: cut into cells and decoded for the reader, formatted for the writer.
//!
//! Reading takes rows whose quotes all stand where RFC 4180 puts them (the reader checks
//! that first, and walks the others itself): a delimiter outside quotes ends a cell, a
//! quoted cell loses its quotes and has its doubled quotes undone, and each cell is
//! decoded as `CPython`'s `decode(encoding, "replace")` decodes it, so that the reader
//! reports every character that did not decode.
//!
//! Writing quotes as Polars quotes (`quote_style = "necessary"`), which the readers and
//! the round-trip tests expect: a value is quoted when it holds the delimiter, the quote
//! character, CR or LF, with each quote inside doubled; an empty value is written `""`
//! so that it is not read as missing, and a missing value is written as nothing.

use std::sync::OnceLock;

use rayon::prelude::*;

use crate::compose::TextColumn;
use crate::decode::{transcode_into, Codec};
use crate::pieces;
use crate::typed::Check;
use crate::views::{Builder, Rows, INLINE};

/// How the rows are written.
#[derive(Clone, Copy, Debug)]
pub struct Style<'a> {
    /// The byte between fields.
    pub delimiter: u8,
    /// The byte around a quoted value.
    pub quote: u8,
    /// The bytes after each row.
    pub terminator: &'a [u8],
}

/// Rows formatted at once: one task for the thread pool.
const CHUNK_ROWS: usize = 4096;

/// The `n` rows of `columns` (each field's values, as Arrow holds them), in order. The
/// caller checks that every column has `n` rows.
#[must_use]
pub fn format(columns: &[TextColumn<'_>], n: usize, style: Style<'_>) -> Vec<u8> {
    format_in(columns, n, style, None).0
}

/// [`format`], each value judged as [`refused`] judges it in the same pass (one look at
/// each value, where checking first and formatting after looked twice): the rows are
/// written as they are, and the caller writes them again without what was refused in
/// the rare case that something was. `limits` and `checks` hold one item per column.
#[must_use]
pub fn format_checked(
    columns: &[TextColumn<'_>],
    n: usize,
    style: Style<'_>,
    limits: &[usize],
    checks: &[Check],
) -> (Vec<u8>, Vec<Refused>) {
    format_in(columns, n, style, Some((limits, checks)))
}

type Judged<'a> = Option<(&'a [usize], &'a [Check])>;

fn format_in(
    columns: &[TextColumn<'_>],
    n: usize,
    style: Style<'_>,
    judged: Judged<'_>,
) -> (Vec<u8>, Vec<Refused>) {
    let parts: Vec<(Vec<u8>, Vec<Mark>)> = (0..n.div_ceil(CHUNK_ROWS))
        .into_par_iter()
        .map(|k| {
            rows(
                columns,
                k * CHUNK_ROWS..n.min((k + 1) * CHUNK_ROWS),
                style,
                judged,
            )
        })
        .collect();
    let mut out = Vec::with_capacity(parts.iter().map(|(p, _)| p.len()).sum());
    let mut found: Vec<Refused> = columns.iter().map(|_| Refused::default()).collect();
    for (part, marks) in parts {
        out.extend_from_slice(&part);
        // (rare: a clean batch has none)
        for Mark { row, column, bits } in marks {
            found[column].mark(row, n, bits);
        }
    }
    (out, found)
}

/// A value refused: its row, its column and why (bits of [`judge`]).
struct Mark {
    row: usize,
    column: usize,
    bits: u8,
}

const OVER: u8 = 1;
const CONTROL: u8 = 2;
const CLASS: u8 = 4;
const REPLACEMENT: u8 = 8;

/// Why a CSV writer refuses a value (see [`refused`]), as bits: [`OVER`], [`CONTROL`],
/// [`CLASS`], [`REPLACEMENT`]; 0 for a value written as it is. `seen`: [`Bytes::seen`]
/// of the value.
#[allow(clippy::inline_always)] // `inline` left it a call: 20 more instructions a value
#[inline(always)]
fn judge(value: &[u8], seen: u8, limit: usize, check: Check) -> u8 {
    let over = over(value, limit);
    // most values hold no byte of the three that these two checks ask about: one test
    // for all of them (CR is data only before LF, which a quoted CR LF is)
    let (control, replacement) = if seen & (byte::CONTROL | byte::CR | byte::BF) == 0 {
        (false, false)
    } else {
        (
            seen & byte::CONTROL != 0 || (seen & byte::CR != 0 && bare_cr(value)),
            seen & byte::EF_BF == byte::EF_BF && holds_replacement(value),
        )
    };
    // the check from what the bytes said, the exact one only where they cannot settle it
    let class = match check {
        Check::Nothing => false,
        Check::Digits => seen & byte::NOT_DIGIT != 0,
        Check::NoHalf => {
            seen & byte::ASCII != 0 || (seen & byte::EF != 0 && crate::typed::half_kana_in(value))
        }
        Check::OnlyHalf => {
            seen & byte::NOT_ASCII != 0 && crate::typed::fails(Check::OnlyHalf, value)
        }
    };
    (u8::from(over) * OVER)
        | (u8::from(control) * CONTROL)
        | (u8::from(class) * CLASS)
        | (u8::from(replacement) * REPLACEMENT)
}

/// Whether `value` holds U+FFFD (EF BF BD), the character decoders put for bytes they
/// could not decode: the readers report it as `invalid-bytes` wherever it stands.
fn holds_replacement(value: &[u8]) -> bool {
    memchr::memchr_iter(0xEF, value).any(|i| value.get(i + 1..i + 3) == Some(&[0xBF, 0xBD]))
}

/// Whether `value` holds a CR that no LF follows.
fn bare_cr(value: &[u8]) -> bool {
    memchr::memchr_iter(b'\r', value).any(|i| value.get(i + 1) != Some(&b'\n'))
}

/// What a byte says of the value it is in, as bits: each value's bytes are looked up
/// once ([`Bytes::seen`]), and the writer's quoting and its checks all read the bits
/// (three passes over each value, one per question, took most of the formatting).
mod byte {
    /// The delimiter, the quote, CR or LF: the value is quoted.
    pub const QUOTED: u8 = 1;
    /// A control character the readers refuse: 0x00–0x1F but LF and CR, and 0x7F
    /// (see [`super::refused`]).
    pub const CONTROL: u8 = 2;
    /// Printable ASCII, which the full-width check refuses.
    pub const ASCII: u8 = 4;
    /// 0xEF, which starts the half-width katakana (and full-width letters and digits).
    pub const EF: u8 = 8;
    /// Not an ASCII digit.
    pub const NOT_DIGIT: u8 = 16;
    /// Not printable ASCII: the half-width check needs a closer look.
    pub const NOT_ASCII: u8 = 32;
    /// CR, which is data only before LF.
    pub const CR: u8 = 64;
    /// 0xBF, which U+FFFD holds (EF BF BD) beside [`EF`]: both, and the value is looked
    /// at for it (one of the two alone is common in Japanese text).
    pub const BF: u8 = 128;
    /// [`EF`] and [`BF`].
    pub const EF_BF: u8 = EF | BF;
}

/// The bits of [`byte`] of every byte, [`byte::QUOTED`] for the bytes in `quoted`.
struct Bytes([u8; 256]);

impl Bytes {
    /// The bits for a writer's rows: a value is quoted for its delimiter, its quote, CR
    /// or LF.
    fn writing(style: Style<'_>) -> Self {
        Self::new(&[style.delimiter, style.quote, b'\n', b'\r'])
    }

    fn new(quoted: &[u8]) -> Self {
        let mut table = [0u8; 256];
        for (b, bits) in (0u8..=255).zip(table.iter_mut()) {
            let quoted = quoted.contains(&b);
            let ascii = (0x20..0x7F).contains(&b);
            *bits = (u8::from(quoted) * byte::QUOTED)
                | (u8::from(is_control(b)) * byte::CONTROL)
                | (u8::from(b == b'\r') * byte::CR)
                | (u8::from(b == 0xBF) * byte::BF)
                | (u8::from(ascii) * byte::ASCII)
                | (u8::from(b == 0xEF) * byte::EF)
                | (u8::from(!b.is_ascii_digit()) * byte::NOT_DIGIT)
                | (u8::from(!ascii) * byte::NOT_ASCII);
        }
        Self(table)
    }

    /// The bits of every byte of `value`, together.
    #[inline]
    fn seen(&self, value: &[u8]) -> u8 {
        value
            .iter()
            .fold(0, |seen, &b| seen | self.0[usize::from(b)])
    }
}

/// A byte that is a control character wherever it stands in a value: 0x00–0x1F but LF
/// and CR (data inside quotes), and DEL. The readers refuse it as `control-char` (or
/// `nul-byte`), and 0x01–0x04 stand for duplicate characters in the Python encoder.
const fn is_control(b: u8) -> bool {
    (b < 0x20 && b != b'\n' && b != b'\r') || b == 0x7F
}

/// Whether UTF-8 `value` holds more than `limit` characters (0: no limit).
fn over(value: &[u8], limit: usize) -> bool {
    // a character is every byte that is not a UTF-8 continuation byte: counted only
    // when the bytes alone could be too many
    limit > 0 && value.len() > limit && bytecount::num_chars(value) > limit
}

/// Whether a value read from a CSV cell fails its column's `check`, or holds more than
/// `limit` characters (0: no limit): the reader checks both of every value.
fn fails_reading(value: &[u8], check: Check, limit: usize) -> bool {
    (check != Check::Nothing && crate::typed::fails(check, value)) || over(value, limit)
}

/// What a CSV writer refuses in a column's values, row by row, so that what it writes
/// reads back: more characters than `limit` (0: no limit), a control character (see
/// [`is_control`]) or a CR before anything but LF, characters the field's `check` does
/// not allow, and U+FFFD ([`holds_replacement`]). None for a check no row failed.
#[must_use]
pub fn refused(column: &TextColumn<'_>, n: usize, limit: usize, check: Check) -> Refused {
    let bytes = Bytes::new(&[]); // (whether a value is quoted is not asked here)
    let marks: Vec<Vec<(usize, u8)>> = (0..n.div_ceil(CHUNK_ROWS))
        .into_par_iter()
        .map(|k| {
            (k * CHUNK_ROWS..n.min((k + 1) * CHUNK_ROWS))
                .filter(|&row| column.valid.is_none_or(|v| v[row]))
                .filter_map(|row| {
                    let value = column.value(row);
                    let bits = judge(value, bytes.seen(value), limit, check);
                    (bits != 0).then_some((row, bits))
                })
                .collect()
        })
        .collect();
    let mut found = Refused::default();
    for (row, bits) in marks.into_iter().flatten() {
        found.mark(row, n, bits);
    }
    found
}

/// The rows a CSV writer refuses, by reason (see [`refused`]); None where no row is.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Refused {
    /// More characters than the limit.
    pub over: Option<Vec<bool>>,
    /// A control character.
    pub control: Option<Vec<bool>>,
    /// A character the field's check does not allow.
    pub class: Option<Vec<bool>>,
    /// U+FFFD.
    pub replacement: Option<Vec<bool>>,
}

impl Refused {
    /// Mark row `row` of `n` refused for the reasons in `bits`.
    fn mark(&mut self, row: usize, n: usize, bits: u8) {
        for (bit, mask) in [
            (OVER, &mut self.over),
            (CONTROL, &mut self.control),
            (CLASS, &mut self.class),
            (REPLACEMENT, &mut self.replacement),
        ] {
            if bits & bit != 0 {
                mask.get_or_insert_with(|| vec![false; n])[row] = true;
            }
        }
    }
}

/// Whether any value of a column holds a private-use character where decoders put 外字:
/// U+E000–U+F8FF (in UTF-8, `EE xx xx` and `EF 80..A3 xx`), or plane 15, where a host
/// page's unmapped double-byte codes read (`F3 B0..BF xx xx`; its last two code points
/// are noncharacters, which a flag for the exact check after it may let through).
#[must_use]
pub fn holds_private_use(column: &TextColumn<'_>, n: usize) -> bool {
    // nearly every column of nearly every batch holds none: one pass over its bytes in
    // bulk says so (a byte pair of one anywhere, even where no value lies, is only a
    // maybe), and only a maybe is looked at value by value (one thread, a million
    // records of the benchmark's 13 text columns: 0.23 s, against 0.34 s value by value)
    may_hold_private_use(column, n) && exact_private_use(column, n)
}

/// A byte pair that starts a private-use character of [`holds_private_use`] (`b`: the
/// byte after `a`).
#[allow(clippy::needless_bitwise_bool)] // lazy operators would branch: 2.6x slower
fn starts_private_use(a: u8, b: u8) -> bool {
    (a == 0xEE) | ((a == 0xEF) & (b <= 0xA3)) | ((a == 0xF3) & (b >= 0xB0))
}

/// Whether `bytes` may hold a private-use character of [`holds_private_use`]: a pair of
/// [`starts_private_use`], or a byte at the end that could start one with bytes after
/// them. One pass over each byte and the next with no early exit, which the compiler
/// vectorises (full-width letters start with EF too: a first pass for the lead bytes
/// alone let most values through).
fn any_private_use(bytes: &[u8]) -> bool {
    let last = bytes.last().is_some_and(|a| [0xEE, 0xEF, 0xF3].contains(a));
    bytes
        .iter()
        .zip(bytes.iter().skip(1))
        .fold(last, |hit, (&a, &b)| hit | starts_private_use(a, b))
}

/// No value of the column's first `n` rows can hold a private-use character when no
/// pair of bytes that starts one lies in the 12 bytes of a short value's view (where it
/// sits whole) nor anywhere in the buffers (where every longer value sits whole; a
/// buffer is read in pieces of a megabyte, a piece's last byte taken as a maybe).
#[allow(clippy::needless_bitwise_bool)] // as in `any_private_use`: no branch per view
fn may_hold_private_use(column: &TextColumn<'_>, n: usize) -> bool {
    let (views, _) = column.views[..16 * n].as_chunks::<16>();
    let short = views.par_chunks(4096).any(|views| {
        views.iter().fold(false, |hit, view| {
            let length = u32::from_le_bytes([view[0], view[1], view[2], view[3]]);
            let mut maybe = [0xEE, 0xEF, 0xF3].contains(&view[15]);
            for i in 4..15 {
                maybe |= starts_private_use(view[i], view[i + 1]);
            }
            hit | (maybe & (length as usize <= crate::views::INLINE))
        })
    });
    short
        || column
            .buffers
            .par_iter()
            .any(|b| b.par_chunks(1 << 20).any(any_private_use))
}

/// [`holds_private_use`] value by value: only the bytes of values held (not missing).
fn exact_private_use(column: &TextColumn<'_>, n: usize) -> bool {
    (0..n).into_par_iter().any(|row| {
        if column.valid.is_some_and(|v| !v[row]) {
            return false;
        }
        let value = column.value(row);
        value
            .iter()
            .zip(value.iter().skip(1))
            .fold(false, |hit, (&a, &b)| hit | starts_private_use(a, b))
    })
}

fn rows(
    columns: &[TextColumn<'_>],
    rows: std::ops::Range<usize>,
    style: Style<'_>,
    judged: Judged<'_>,
) -> (Vec<u8>, Vec<Mark>) {
    // each value's length is the first word of its view: no value is looked at twice
    let size: usize = columns
        .iter()
        .map(|c| {
            c.views[16 * rows.start..16 * rows.end]
                .chunks_exact(16)
                .map(|v| u32::from_le_bytes([v[0], v[1], v[2], v[3]]) as usize + 1)
                .sum::<usize>()
        })
        .sum();
    // (room for a short value's whole view, copied before it is cut to its length)
    let mut out = Vec::with_capacity(size + rows.len() * style.terminator.len() + INLINE);
    let mut marks = Vec::new();
    let bytes = Bytes::writing(style);
    for row in rows {
        for (j, c) in columns.iter().enumerate() {
            if j > 0 {
                out.push(style.delimiter);
            }
            if c.valid.is_some_and(|v| !v[row]) {
                continue;
            }
            let value = c.value(row);
            let seen = bytes.seen(value);
            if let Some((limits, checks)) = judged {
                let bits = judge(value, seen, limits[j], checks[j]);
                if bits != 0 {
                    marks.push(Mark {
                        row,
                        column: j,
                        bits,
                    });
                }
            }
            if value.is_empty() || seen & byte::QUOTED != 0 {
                quoted_into(&mut out, value, style);
            } else if let Some(padded) = crate::views::inline(c.views, row) {
                // a value inside its view: the view's 12 bytes copied whole, then cut
                // (a copy of a known size, where one of the value's size calls memcpy)
                let end = out.len() + value.len();
                out.extend_from_slice(padded);
                out.truncate(end);
            } else {
                out.extend_from_slice(value);
            }
        }
        out.extend_from_slice(style.terminator);
    }
    (out, marks)
}

/// A value quoted, each quote inside it doubled.
fn quoted_into(out: &mut Vec<u8>, value: &[u8], style: Style<'_>) {
    out.push(style.quote);
    for &b in value {
        if b == style.quote {
            out.push(b);
        }
        out.push(b);
    }
    out.push(style.quote);
}

/// The cells of a block of rows.
#[derive(Debug, Default)]
pub struct Cells {
    /// Fields in each row.
    pub counts: Vec<i64>,
    /// The rows with the expected number of fields, whose cells follow.
    pub kept: Vec<i64>,
    /// Where each cell of the kept rows starts in the data (kept rows × fields).
    pub starts: Vec<i64>,
    /// Each field's values in the kept rows, decoded, as string views.
    pub columns: Vec<ViewColumn>,
    /// Each field: whether a value may hold what the reader refuses (see [`suspect`]).
    pub suspect: Vec<bool>,
    /// Whether a cell of the rows kept was quoted.
    pub quoted: bool,
    /// Each field: whether a value of the rows kept fails the field's check (see
    /// [`cells`]).
    pub failing: Vec<bool>,
}

/// String views and the buffers they point into.
#[derive(Debug, Default)]
pub struct ViewColumn {
    /// 16 bytes per value.
    pub views: Vec<u8>,
    /// The values longer than a view holds.
    pub buffers: Vec<Vec<u8>>,
}

impl ViewColumn {
    /// The values of a chunk built on its own (its views point at its one buffer as
    /// buffer 0), after the values already here.
    pub fn append(&mut self, built: Builder) {
        let at = self.views.len();
        self.views.extend_from_slice(&built.views);
        crate::views::renumber(&mut self.views[at..], self.buffers.len() as u32);
        self.buffers.push(built.buffer);
    }
}

/// Rows cut at once: one task for the thread pool.
const CELL_ROWS: usize = 4096;

/// Cut the rows of `data` (each `rows[k]` is the span of a row's content, without its
/// terminator) into cells; the rows with `width` cells are decoded from `codec` into
/// one column per field, each of whose decoded values is judged by the field's check
/// and its length in characters against its limit in `judges` (a limit of 0: none;
/// neither past its end), as the cell is cut: the reader's own checks then run only on
/// a field that has a value failing one.
/// Chunks of rows are cut in parallel, each into its part of the columns' views and a
/// buffer of its own for each column.
#[must_use]
pub fn cells(
    data: &[u8],
    rows: &[(usize, usize)],
    width: usize,
    delimiter: u8,
    quote: u8,
    codec: Codec,
    judges: &[(Check, usize)],
) -> Cells {
    let n = rows.len();
    // the arrays of every row, allocated whole: each chunk writes its rows' part in
    // place (its kept rows first), so that nothing is copied after when every row is
    // kept, as nearly always
    let mut counts = vec![0i64; n];
    let mut starts = vec![0i64; n * width];
    let mut views: Vec<Vec<u8>> = (0..width).map(|_| vec![0u8; 16 * n]).collect();
    let chunks = n.div_ceil(CELL_ROWS);
    let mut by_column: Vec<_> = views
        .iter_mut()
        .map(|v| pieces(v, 16 * CELL_ROWS, chunks).into_iter())
        .collect();
    let jobs: Vec<Job<'_>> = rows
        .chunks(CELL_ROWS)
        .zip(pieces(&mut counts, CELL_ROWS, chunks))
        .zip(pieces(&mut starts, CELL_ROWS * width, chunks))
        .enumerate()
        .map(|(k, ((rows, counts), starts))| Job {
            index: k as u32,
            rows,
            counts,
            starts,
            views: by_column
                .iter_mut()
                .map(|c| c.next().unwrap_or_default())
                .collect(),
        })
        .collect();
    let parts: Vec<Part> = jobs
        .into_par_iter()
        .map(|job| cut(data, job, width, delimiter, quote, codec, judges))
        .collect();
    let kept: usize = parts.iter().map(|p| p.kept.len()).sum();
    if kept < n {
        // rows left out (a wrong number of fields): each chunk's kept rows moved up
        let mut to = 0;
        for (k, part) in parts.iter().enumerate() {
            let (from, m) = (k * CELL_ROWS, part.kept.len());
            for v in &mut views {
                v.copy_within(16 * from..16 * (from + m), 16 * to);
            }
            starts.copy_within(from * width..(from + m) * width, to * width);
            to += m;
        }
        for v in &mut views {
            v.truncate(16 * kept);
        }
        starts.truncate(kept * width);
    }
    let mut out = Cells {
        counts,
        kept: Vec::with_capacity(kept),
        starts,
        columns: views
            .into_iter()
            .map(|views| ViewColumn {
                views,
                buffers: Vec::with_capacity(parts.len()),
            })
            .collect(),
        suspect: vec![false; width],
        quoted: false,
        failing: vec![false; width],
    };
    for (k, part) in parts.into_iter().enumerate() {
        out.quoted |= part.quoted;
        for (fails, &found) in out.failing.iter_mut().zip(&part.failing) {
            *fails |= found;
        }
        for (odd, &found) in out.suspect.iter_mut().zip(&part.suspect) {
            *odd |= found;
        }
        let first = (k * CELL_ROWS) as i64;
        out.kept.extend(part.kept.iter().map(|row| row + first));
        for (column, buffer) in out.columns.iter_mut().zip(part.buffers) {
            column.buffers.push(buffer);
        }
    }
    out
}

/// Where each cell of `row` (at `start` in the data) starts, into `at`; whether the row
/// holds a quote.
fn cell_starts(
    row: &[u8],
    start: usize,
    delimiter: u8,
    quote: u8,
    codec: Codec,
    at: &mut Vec<usize>,
) -> bool {
    at.clear();
    at.push(start);
    // in CP932 and Shift_JIS a `|` may be a character's second byte: looked at only
    // where a lead byte could stand before it
    if let Some(pairs) = pairs_for(codec, delimiter) {
        if paired_delimiter(row, delimiter) {
            return walked_cell_starts(row, start, delimiter, quote, pairs, at);
        }
    }
    // found with SIMD (the memchr crate; the slice's own `contains` looks at a byte at a
    // time): most rows quote nothing, and their cells end at each delimiter
    let quoted = memchr::memchr(quote, row).is_some();
    if quoted {
        // the quotes and delimiters alone (SIMD again): the bytes between are text
        let mut inside = false;
        for i in memchr::memchr2_iter(quote, delimiter, row) {
            if row[i] == quote {
                inside = !inside;
            } else if !inside {
                at.push(start + i + 1);
            }
        }
    } else {
        at.extend(memchr::memchr_iter(delimiter, row).map(|i| start + i + 1));
    }
    quoted
}

/// Whether a byte that may lead a double-byte character stands just before a
/// delimiter byte in `row` (rare: most rows are cut by the delimiter bytes alone).
fn paired_delimiter(row: &[u8], delimiter: u8) -> bool {
    memchr::memchr_iter(delimiter, row).any(|i| i > 0 && row[i - 1] >= 0x81)
}

/// [`cell_starts`] character by character: a lead byte and the byte after it that
/// `pairs` pairs it with are one character, whose second byte is never a delimiter
/// (0x83 0x7C is ポ, not 0x83 and `|`), as `CPython`'s codec reads them.
fn walked_cell_starts(
    row: &[u8],
    start: usize,
    delimiter: u8,
    quote: u8,
    pairs: &[bool],
    at: &mut Vec<usize>,
) -> bool {
    let (mut quoted, mut inside, mut i) = (false, false, 0);
    while i < row.len() {
        if paired_at(row, i, pairs) {
            i += 2;
            continue;
        }
        let b = row[i];
        if b == quote {
            quoted = true;
            inside = !inside;
        } else if b == delimiter && !inside {
            at.push(start + i + 1);
        }
        i += 1;
    }
    quoted
}

/// Whether `bytes[i]` and the byte after it are one character of `pairs` (a lead byte
/// 0x80–0xFF by the byte after it).
fn paired_at(bytes: &[u8], i: usize, pairs: &[bool]) -> bool {
    let b = bytes[i];
    b >= 0x80
        && bytes
            .get(i + 1)
            .is_some_and(|&c| pairs[usize::from(b - 0x80) * 256 + usize::from(c)])
}

/// For CP932 and `Shift_JIS` with a delimiter that can be a character's second byte
/// (0x40–0x7E: `|`): which two bytes are one character (lead byte 0x80–0xFF × second
/// byte, 128 × 256), as the codec decodes them; None where no delimiter can be cut
/// inside a character. Made once per encoding.
fn pairs_for(codec: Codec, delimiter: u8) -> Option<&'static [bool]> {
    static CP932: OnceLock<Vec<bool>> = OnceLock::new();
    static SHIFT_JIS: OnceLock<Vec<bool>> = OnceLock::new();
    let table = match codec {
        Codec::Cp932 => &CP932,
        Codec::ShiftJis => &SHIFT_JIS,
        _ => return None,
    };
    if !(0x40..=0x7E).contains(&delimiter) {
        return None;
    }
    Some(table.get_or_init(|| {
        let mut out = Vec::new();
        (0..128 * 256)
            .map(|k| {
                out.clear();
                let pair = [0x80 + (k / 256) as u8, (k % 256) as u8];
                crate::decode::decode_into(codec, &pair, &mut out)
                    && std::str::from_utf8(&out).is_ok_and(|t| t.chars().count() == 1)
            })
            .collect()
    }))
}

/// A chunk of rows to cut, with its parts of the arrays the cells go in.
struct Job<'a> {
    /// The chunk's number: its buffer's among each column's.
    index: u32,
    rows: &'a [(usize, usize)],
    counts: &'a mut [i64],
    starts: &'a mut [i64],
    views: Vec<&'a mut [u8]>,
}

/// What cutting a chunk found besides the cells written in place.
struct Part {
    /// The rows kept (with the expected number of fields), from the chunk's first.
    kept: Vec<i64>,
    /// Each column's long values.
    buffers: Vec<Vec<u8>>,
    suspect: Vec<bool>,
    quoted: bool,
    failing: Vec<bool>,
}

/// A row's cells (`at`: where each starts, then its end and one) whose bytes are their
/// values as they stand in the data: most rows. `starts` takes where each starts.
fn plain_row(
    columns: &mut [Builder<Rows<'_>>],
    failing: &mut [bool],
    starts: &mut [i64],
    data: &[u8],
    at: &[usize],
    judges: &[(Check, usize)],
) {
    let paired = failing.iter_mut().zip(judges);
    for (j, (column, (fails, &(check, limit)))) in columns.iter_mut().zip(paired).enumerate() {
        let (from, to) = (at[j], at[j + 1] - 1);
        starts[j] = from as i64;
        *fails = *fails || fails_reading(&data[from..to], check, limit);
        column.push_at(data, from, to);
    }
}

/// Whether decoded text may hold what the reader refuses: a control character (LF
/// aside; CR is judged by the reader, since CR LF inside quotes is data) or a character
/// `CPython`'s decoders give for bytes they could not decode (U+FFFD, and CP932's
/// U+0080 and U+F8F0–U+F8F3, which in UTF-8 are characters: the reader lets them
/// through there). Never less than that: the reader's own expressions then find which
/// values, and why, in the columns this marks.
#[must_use]
pub fn suspect(v: &[u8]) -> bool {
    suspect_apart_from(v, b'\n')
}

/// [`suspect`], with byte `delimiter` no control character.
#[allow(clippy::needless_bitwise_bool)] // evaluated for every byte: no branches
fn suspect_apart_from(v: &[u8], delimiter: u8) -> bool {
    let control = v.iter().fold(false, |any, &b| {
        any | ((b < 0x20) & (b != b'\n') & (b != delimiter)) | (b == 0x7F)
    });
    // their first two bytes (C2 80, EF BF, EF A3) in one pass the compiler vectorises,
    // then, where one stands (EF BF is also ￥), the exact characters
    let pairs = v.len() >= 2
        && v.iter().zip(&v[1..]).fold(false, |any, (&x, &y)| {
            any | ((x == 0xC2) & (y == 0x80)) | ((x == 0xEF) & ((y == 0xBF) | (y == 0xA3)))
        });
    control
        || (pairs
            && (v.windows(2).any(|w| w == [0xC2, 0x80])
                || v.windows(3).any(|w| {
                    w == [0xEF, 0xBF, 0xBD]
                        || (w[0] == 0xEF && w[1] == 0xA3 && (0xB0..=0xB3).contains(&w[2]))
                })))
}

fn cut(
    data: &[u8],
    job: Job<'_>,
    width: usize,
    delimiter: u8,
    quote: u8,
    codec: Codec,
    judges: &[(Check, usize)],
) -> Part {
    let Job {
        index,
        rows,
        counts,
        starts,
        views,
    } = job;
    let mut columns: Vec<Builder<Rows<'_>>> = views
        .into_iter()
        .map(|views| Builder {
            views: Rows { views, len: 0 },
            buffer: Vec::new(),
            index,
        })
        .collect();
    let mut out = Part {
        kept: Vec::with_capacity(rows.len()),
        buffers: Vec::new(),
        suspect: vec![false; width],
        quoted: false,
        failing: vec![false; width],
    };
    let judges: Vec<(Check, usize)> = (0..width)
        .map(|j| judges.get(j).copied().unwrap_or((Check::Nothing, 0)))
        .collect();
    let mut at = Vec::with_capacity(width + 1); // where each cell starts, then the end
    let mut scratch = Vec::new();
    for (k, &(start, end)) in rows.iter().enumerate() {
        let row = &data[start..end];
        let quoted = cell_starts(row, start, delimiter, quote, codec, &mut at);
        counts[k] = at.len() as i64;
        if at.len() != width {
            continue;
        }
        // this row's cells' starts, after those of the rows kept before it
        let row_starts = &mut starts[out.kept.len() * width..(out.kept.len() + 1) * width];
        out.kept.push(k as i64);
        at.push(end + 1); // as if a delimiter followed the last cell

        // a row of valid UTF-8 cut at ASCII bytes is cells of valid UTF-8: checked once
        let utf8 = codec == Codec::Utf8
            && delimiter.is_ascii()
            && quote.is_ascii()
            && simdutf8::basic::from_utf8(row).is_ok();
        // and a row with nothing suspect in it has no cell with: looked at once too (the
        // delimiter aside, which no unquoted cell holds; a tab is a control character)
        let plain = utf8 && !quoted && !suspect_apart_from(row, delimiter);
        if plain {
            plain_row(
                &mut columns,
                &mut out.failing,
                row_starts,
                data,
                &at,
                &judges,
            );
            continue;
        }
        let columns = columns.iter_mut().zip(out.suspect.iter_mut());
        let paired = out.failing.iter_mut().zip(&judges);
        for (j, ((column, odd), (fails, &(check, limit)))) in columns.zip(paired).enumerate() {
            let cell = &data[at[j]..at[j + 1] - 1];
            row_starts[j] = at[j] as i64;
            let raw = if cell.first() == Some(&quote) {
                out.quoted = true;
                let inner = match cell.len() {
                    n if n >= 2 && cell[n - 1] == quote => &cell[1..n - 1],
                    _ => &cell[1..],
                };
                scratch.clear();
                let mut i = 0;
                while i < inner.len() {
                    scratch.push(inner[i]);
                    // a doubled quote is one quote
                    i += if inner[i] == quote && inner.get(i + 1) == Some(&quote) {
                        2
                    } else {
                        1
                    };
                }
                &scratch[..]
            } else {
                cell
            };
            // valid UTF-8 read as UTF-8 goes into its view as it is; anything else is
            // decoded into the buffer first
            if utf8 {
                *odd |= !plain && suspect(raw);
                // once a value of the column fails, the others need not be judged
                *fails = *fails || fails_reading(raw, check, limit);
                column.push(raw);
            } else {
                let begin = column.buffer.len();
                transcode_into(codec, raw, &mut column.buffer);
                let value = &column.buffer[begin..];
                *odd |= suspect(value);
                *fails = *fails || fails_reading(value, check, limit);
                column.finish(begin);
            }
        }
    }
    // the frame keeps each buffer as it is: the room doubling left is given back
    out.buffers = columns
        .into_iter()
        .map(|mut column| {
            column.buffer.shrink_to_fit();
            column.buffer
        })
        .collect();
    out
}

/// Where a chunk's rows end, as RFC 4180 quoting tells (see [`row_ends`]).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RowEnds {
    /// The line feeds outside quotes (after an even number of quotes).
    pub ends: Vec<i64>,
    /// The quotes of the chunk.
    pub quotes: usize,
    /// The first quote that stands where RFC 4180 puts none, if one does.
    pub misplaced: Option<usize>,
}

/// The rows of a CSV chunk: the line feeds after an even number of quotes, how many
/// quotes there are, and the first misplaced one, in one pass over the quotes and line
/// feeds (found with SIMD). An even-numbered quote opens a field (at its start: the
/// chunk's, or after a delimiter or a line feed) or is the second of a doubled one; an
/// odd-numbered one closes a field (before a delimiter, CR or LF, a CR then followed by
/// LF, or at the chunk's end) or starts a doubled one. (numpy judged every quote in
/// arrays of eight bytes a quote: a CSV that quotes every cell read nine times as slowly
/// as one that quotes none.)
#[must_use]
pub fn row_ends(data: &[u8], delimiter: u8, quote: u8) -> RowEnds {
    let n = data.len();
    let mut out = RowEnds::default();
    let at = |i: usize| data[i.min(n - 1)];
    for p in memchr::memchr2_iter(quote, b'\n', data) {
        if data[p] == b'\n' {
            if out.quotes % 2 == 0 {
                out.ends.push(p as i64);
            }
            continue;
        }
        if out.misplaced.is_none() {
            let (prev, next) = (at(p.saturating_sub(1)), at(p + 1));
            let pair_before = p > 0 && prev == quote;
            let pair_after = p + 1 < n && next == quote;
            let fits = if out.quotes % 2 == 0 {
                p == 0 || prev == delimiter || prev == b'\n' || pair_before
            } else {
                let closing =
                    p == n - 1 || next == delimiter || next == b'\n' || next == b'\r' || pair_after;
                // a CR after a closing quote must end the row
                let cr_next = next == b'\r' && !pair_after && p + 2 < n;
                closing && (!cr_next || at(p + 2) == b'\n')
            };
            if !fits {
                out.misplaced = Some(p);
            }
        }
        out.quotes += 1;
    }
    out
}

/// Quoted cells that need no quotes: those holding two quotes (their own) and no
/// delimiter, line feed or CR. `starts`: each kept row's cells' starts, `fields` a row
/// (a cell ends a byte before the next one starts, the last at its row's end in
/// `row_ends`). How many, and the first (row-major index). In `codec` (CP932 and
/// `Shift_JIS`), a delimiter byte that is a character's second byte (`竹` is 0x92 0x7C)
/// is the character's, as the cells were cut.
#[must_use]
pub fn needless_quotes(
    data: &[u8],
    starts: &[i64],
    fields: usize,
    row_ends: &[i64],
    (delimiter, quote): (u8, u8),
    codec: Option<Codec>,
) -> (usize, Option<usize>) {
    if fields == 0 {
        return (0, None);
    }
    let pairs = codec.and_then(|c| pairs_for(c, delimiter));
    // blocks of rows on the caller's rayon pool, each counting its own
    starts
        .par_chunks(fields * NEEDLESS_ROWS)
        .zip(row_ends.par_chunks(NEEDLESS_ROWS))
        .enumerate()
        .map(|(b, (starts, ends))| {
            let (mut count, mut first) = (0, None);
            for (r, (row, &row_end)) in starts.chunks_exact(fields).zip(ends).enumerate() {
                for (k, &start) in row.iter().enumerate() {
                    // a cell ends a byte before the next starts; the last at its row's end
                    let end = row.get(k + 1).map_or(row_end, |next| next - 1);
                    if start < row_end && needless(cell(data, start, end), delimiter, quote, pairs)
                    {
                        count += 1;
                        first.get_or_insert((b * NEEDLESS_ROWS + r) * fields + k);
                    }
                }
            }
            (count, first)
        })
        .reduce(
            || (0, None),
            |(n, a), (m, b)| (n + m, a.or(b)), // (blocks in order: the first found first)
        )
}

/// Rows [`needless_quotes`] gives each task.
const NEEDLESS_ROWS: usize = 8192;

/// The bytes `start..end` of `data`, as far as they lie in it.
fn cell(data: &[u8], start: i64, end: i64) -> &[u8] {
    let to = usize::try_from(end).unwrap_or(0).min(data.len());
    usize::try_from(start)
        .ok()
        .and_then(|from| data.get(from..to))
        .unwrap_or_default()
}

/// Whether a cell is quoted with nothing to quote: its own two quotes, no other, and
/// no delimiter, line feed or CR (a delimiter byte that `pairs` makes a character's
/// second byte is none: looked at only where the cell holds the byte).
fn needless(cell: &[u8], delimiter: u8, quote: u8, pairs: Option<&[bool]>) -> bool {
    cell.first() == Some(&quote)
        && memchr::memchr_iter(quote, cell).count() == 2
        && memchr::memchr2(b'\n', b'\r', cell).is_none()
        && (memchr::memchr(delimiter, cell).is_none()
            || pairs.is_some_and(|pairs| !walked_delimiter(cell, delimiter, pairs)))
}

/// Whether `bytes`, read character by character, hold `delimiter` as a byte of its own
/// (not the second byte of a character `pairs` makes).
fn walked_delimiter(bytes: &[u8], delimiter: u8, pairs: &[bool]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if paired_at(bytes, i, pairs) {
            i += 2;
        } else if bytes[i] == delimiter {
            return true;
        } else {
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::{
        byte, format, format_checked, judge, needless_quotes, over, refused, row_ends, Bytes,
        Refused, RowEnds, Style, CHUNK_ROWS, CLASS, CONTROL, OVER, REPLACEMENT,
    };
    use crate::compose::TextColumn;
    use crate::typed::Check;

    #[test]
    fn a_private_use_character_is_found_wherever_it_lies_and_only_in_a_value() {
        let holds = |values: &[&[u8]], valid: Option<&[bool]>, extra: &[u8]| {
            let (views, mut buffer) = crate::views::build(values);
            buffer.extend_from_slice(extra); // bytes no view points at
            let buffers = [&buffer[..]];
            let column = TextColumn {
                views: &views,
                buffers: &buffers,
                valid,
            };
            super::holds_private_use(&column, values.len())
        };
        let pua = "\u{E000}".as_bytes();
        let long = "山田太郎と山田花子".as_bytes(); // longer than a view holds
        assert!(!holds(&[b"a", long, b""], None, b""));
        assert!(holds(&[b"a", pua, long], None, b"")); // in a view
        let mut at_end = long.to_vec();
        at_end.extend_from_slice("\u{F8FF}".as_bytes()); // EF A3 BF, in a buffer
        assert!(holds(&[b"a", &at_end], None, b""));
        // never a missing value's bytes, bytes of the buffer that no value holds, a
        // full-width letter (EF BC xx) or plane 14 (plane 15 is where host pages' 外字 go)
        assert!(!holds(&[b"a", pua], Some(&[true, false]), b""));
        assert!(!holds(&[b"a", long], None, pua));
        assert!(!holds(
            &["Ａ".as_bytes(), "\u{EFFFF}".as_bytes()],
            None,
            b""
        ));
        assert!(holds(&["\u{F0000}".as_bytes()], None, b""));
        // the buffers are read in pieces of a megabyte: a character across two is found
        let mut across = vec![b'a'; (1 << 20) - 1];
        across.extend_from_slice("\u{F0000}".as_bytes()); // F3 | B0 80 80
        assert!(holds(&[&across], None, b""));
        let mut letter = vec![b'a'; (1 << 20) - 1];
        letter.extend_from_slice("Ａ".as_bytes()); // EF | BC A1: a maybe, then no
        assert!(!holds(&[&letter], None, b""));
    }

    /// Values of up to three of `PIECES`, and runs of one piece either side of a view's
    /// 12 bytes: every byte the writer's look-ups tell apart, alone and together.
    fn assorted() -> Vec<Vec<u8>> {
        const PIECES: [&str; 19] = [
            "a", "1", ",", ";", "\"", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{4}", "\u{5}",
            "\u{7f}", "ｱ", "ﾟ", "ａ", "山", "\u{3000}", "\u{FFFD}",
        ];
        let mut out: Vec<Vec<u8>> = vec![Vec::new()];
        for a in PIECES {
            out.push(a.into());
            for b in PIECES {
                out.push(format!("{a}{b}").into());
                for c in PIECES {
                    out.push(format!("{a}{b}{c}").into());
                }
            }
            for n in 10..15 {
                out.push(a.repeat(n).into_bytes()[..n].to_vec());
                out.push(a.repeat(n).into());
            }
        }
        out
    }

    #[test]
    fn a_value_judged_from_its_bytes_looked_up_once_is_judged_as_each_question_apart() {
        for delimiter in [b',', b';', b'\t'] {
            let bytes = Bytes::writing(Style {
                delimiter,
                quote: b'"',
                terminator: b"\n",
            });
            for value in assorted() {
                let seen = bytes.seen(&value);
                let quoted = value
                    .iter()
                    .any(|&b| [delimiter, b'"', b'\n', b'\r'].contains(&b));
                assert_eq!(seen & byte::QUOTED != 0, quoted, "{value:?}");
                for check in [
                    Check::Nothing,
                    Check::NoHalf,
                    Check::OnlyHalf,
                    Check::Digits,
                ] {
                    for limit in [0, 1, 2, 3, 12] {
                        // as the readers' expressions say it: a control character
                        // but LF and CR, a CR before anything but LF, EF BF BD
                        // (on bytes: some values end inside a character)
                        let mut padded = value.clone();
                        padded.push(0);
                        let control = padded.windows(2).any(|w| {
                            (w[0] < 0x20 && w[0] != b'\n' && w[0] != b'\r')
                                || w[0] == 0x7F
                                || (w[0] == b'\r' && w[1] != b'\n')
                        });
                        let fffd = value.windows(3).any(|w| w == [0xEF, 0xBF, 0xBD]);
                        let apart = (u8::from(over(&value, limit)) * OVER)
                            | (u8::from(control) * CONTROL)
                            | (u8::from(crate::typed::fails(check, &value)) * CLASS)
                            | (u8::from(fffd) * REPLACEMENT);
                        assert_eq!(
                            judge(&value, seen, limit, check),
                            apart,
                            "{value:?} {check:?} {limit}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn values_inside_and_outside_their_views_are_written_as_they_are_or_quoted() {
        let values = assorted();
        let refs: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
        let (views, buffer) = crate::views::build(&refs);
        let buffers = [&buffer[..]];
        let column = TextColumn {
            views: &views,
            buffers: &buffers,
            valid: None,
        };
        let style = Style {
            delimiter: b';',
            quote: b'\'',
            terminator: b"\r\n",
        };
        let mut expected = Vec::new();
        for value in &values {
            let plain = !value.is_empty()
                && !value
                    .iter()
                    .any(|b| [b';', b'\'', b'\n', b'\r'].contains(b));
            for _ in 0..2 {
                if plain {
                    expected.extend_from_slice(value);
                } else {
                    expected.push(b'\'');
                    for &b in value {
                        if b == b'\'' {
                            expected.push(b);
                        }
                        expected.push(b);
                    }
                    expected.push(b'\'');
                }
                expected.push(b';');
            }
            expected.pop();
            expected.extend_from_slice(b"\r\n");
        }
        assert_eq!(format(&[column, column], values.len(), style), expected);
    }

    #[test]
    fn values_are_quoted_only_where_they_must_be() {
        let values: [&[u8]; 6] = [b"a", b"a,b", b"c\"d", b"", b"\nx", b""];
        let (views, buffer) = crate::views::build(&values);
        let buffers = [&buffer[..]];
        let valid = [true, true, true, true, true, false];
        let column = TextColumn {
            views: &views,
            buffers: &buffers,
            valid: Some(&valid),
        };
        let style = Style {
            delimiter: b',',
            quote: b'"',
            terminator: b"\r\n",
        };
        let got = format(&[column, column], 6, style);
        assert_eq!(
            String::from_utf8(got).unwrap(),
            "a,a\r\n\"a,b\",\"a,b\"\r\n\"c\"\"d\",\"c\"\"d\"\r\n\"\",\"\"\r\n\"\nx\",\"\nx\"\r\n,\r\n"
        );
    }

    #[test]
    fn cells_are_cut_outside_quotes_unquoted_and_decoded() {
        let data = b"a,\"b,\"\"c\"\"\",\x8eR\nx,y\n1,\"\",3";
        // rows: `a,"b,""c""",山`, `x,y` (two cells: left out), `1,"",3`
        let rows = [(0, 14), (15, 18), (19, 25)];
        let got = super::cells(data, &rows, 3, b',', b'"', crate::decode::Codec::Cp932, &[]);
        assert_eq!(got.counts, [3, 2, 3]);
        assert_eq!(got.kept, [0, 2]);
        assert!(got.quoted);
        assert_eq!(got.starts, [0, 2, 12, 19, 21, 24]);
        let column = |j: usize| -> Vec<String> {
            let c = &got.columns[j];
            let buffers: Vec<&[u8]> = c.buffers.iter().map(Vec::as_slice).collect();
            (0..2)
                .map(|r| {
                    let v = crate::views::value(&c.views, &buffers, r);
                    String::from_utf8(v.to_vec()).unwrap()
                })
                .collect()
        };
        assert_eq!(column(1), ["b,\"c\"", ""]);
        assert_eq!(column(2), ["山", "3"]);
    }

    #[test]
    fn chunks_of_rows_join_in_order_with_their_buffers() {
        // rows of two cells (a short one, a long one) but every seventh, of one: rows
        // and cells keep their places across chunks, long values their buffers
        let n = 2 * super::CELL_ROWS + 5;
        let mut data = Vec::new();
        let mut rows = Vec::new();
        for i in 0..n {
            let start = data.len();
            if i % 7 == 0 {
                data.extend_from_slice(format!("{i}").as_bytes());
            } else {
                data.extend_from_slice(format!("{i},東京都千代田区{i}").as_bytes());
            }
            rows.push((start, data.len()));
            data.push(b'\n');
        }
        let got = super::cells(&data, &rows, 2, b',', b'"', crate::decode::Codec::Utf8, &[]);
        let kept: Vec<usize> = (0..n).filter(|i| i % 7 != 0).collect();
        assert_eq!(got.kept, kept.iter().map(|&i| i as i64).collect::<Vec<_>>());
        assert!(!got.quoted);
        let c = &got.columns[1];
        let buffers: Vec<&[u8]> = c.buffers.iter().map(Vec::as_slice).collect();
        assert_eq!(buffers.len(), 3);
        assert!(crate::views::fit(&c.views, &buffers, kept.len()));
        for (r, &i) in kept.iter().enumerate() {
            let v = crate::views::value(&c.views, &buffers, r);
            assert_eq!(v, format!("東京都千代田区{i}").as_bytes());
            assert_eq!(got.starts[2 * r] as usize, rows[i].0);
        }
    }

    #[test]
    fn every_character_the_reader_refuses_marks_its_column() {
        // (any encoding's: U+0080 and U+F8F0–U+F8F3 are refused in CP932 alone, by the
        // reader's expressions on the columns this marks)
        for c in (0..=0xFFFF_u32).filter_map(char::from_u32) {
            let code = u32::from(c);
            let refused = (code < 0x20 && c != '\n')
                || code == 0x7F
                || code == 0x80
                || code == 0xFFFD
                || (0xF8F0..=0xF8F3).contains(&code);
            for text in [c.to_string(), format!("山{c}ｱ"), format!("ab{c}")] {
                assert_eq!(super::suspect(text.as_bytes()), refused, "U+{code:04X}");
            }
        }
    }

    /// The rows of `data` one per line, each without its LF.
    fn lines(data: &[u8]) -> Vec<(usize, usize)> {
        data.split(|&b| b == b'\n')
            .scan(0, |at, row| {
                let span = (*at, *at + row.len());
                *at += row.len() + 1;
                Some(span)
            })
            .collect()
    }

    #[test]
    fn a_suspect_value_marks_its_own_column_whatever_the_delimiter() {
        // UTF-8 rows are looked at whole first: a tab delimiter is no control character,
        // a tab or a U+FFFD in a value is, quoted or not, and only its column is marked
        let suspect = |data: &[u8], delimiter: u8| {
            let rows = lines(data);
            let got = super::cells(
                data,
                &rows,
                3,
                delimiter,
                b'"',
                crate::decode::Codec::Utf8,
                &[],
            );
            assert_eq!(got.kept.len(), rows.len());
            got.suspect
        };
        assert_eq!(suspect(b"a\tb\tc\nd\te\tf", b'\t'), [false; 3]);
        assert_eq!(
            suspect(b"a\tb\tc\nd\t\"e\tx\"\tf", b'\t'),
            [false, true, false]
        );
        assert_eq!(suspect(b"a,b,c\nd,e\x7f,f", b','), [false, true, false]);
        let odd = "a,b,c\n山,田,\u{FFFD}".as_bytes();
        assert_eq!(suspect(odd, b','), [false, false, true]);
        // a quoted cell counts only in a row kept
        let data = b"\"a\",b\nc,d,e";
        let got = super::cells(
            data,
            &[(0, 5), (6, 11)],
            3,
            b',',
            b'"',
            crate::decode::Codec::Utf8,
            &[],
        );
        assert_eq!((got.kept.len(), got.quoted), (1, false));
        // a LF in quotes is data (the caller cut the rows knowing it)
        let data = b"a,\"b\nc\",d";
        let got = super::cells(
            data,
            &[(0, data.len())],
            3,
            b',',
            b'"',
            crate::decode::Codec::Utf8,
            &[],
        );
        assert_eq!((got.kept.len(), got.suspect), (1, vec![false; 3]));
    }

    /// The rows of `data` (lines of 3 cells) cut with `judges`: how many were kept, and
    /// which columns have a value failing its judge.
    fn judged(
        data: &[u8],
        codec: crate::decode::Codec,
        judges: &[(Check, usize)],
    ) -> (usize, Vec<bool>) {
        let got = super::cells(data, &lines(data), 3, b',', b'"', codec, judges);
        (got.kept.len(), got.failing)
    }

    #[test]
    fn each_field_says_whether_a_value_fails_its_check_as_the_cells_are_cut() {
        // 全角 only, digits, and no check: quoted, in CP932, and in a row left out
        let checks = [(Check::NoHalf, 0), (Check::Digits, 0)];
        let failing = |data: &[u8], codec| judged(data, codec, &checks);
        let utf8 = crate::decode::Codec::Utf8;
        let clean = "山田,012,a\n\"花子\",34,b\nｱ,5x,c,d".as_bytes();
        assert_eq!(failing(clean, utf8), (2, vec![false; 3]));
        let odd = "山田,012,a\n\"花Ａ\",3-4,b".as_bytes();
        assert_eq!(failing(odd, utf8), (2, vec![false, true, false]));
        let cp932 = b"\x8eR\x93c,1,a\n\x8eR\xb1,2,b"; // 山田 / 山ｱ
        assert_eq!(
            failing(cp932, crate::decode::Codec::Cp932),
            (2, vec![true, false, false])
        );
    }

    #[test]
    fn a_field_with_a_value_longer_than_its_limit_fails_counted_in_characters() {
        // limits of 2 characters, none, 3: a value of 2 characters in 6 bytes fits, a
        // quoted one of 3 (its doubled quote one character) does not; in CP932 the
        // decoded value's characters count, and a row left out counts for nothing
        let limits = [
            (Check::Nothing, 2),
            (Check::Nothing, 0),
            (Check::Nothing, 3),
        ];
        let over = |data: &[u8], codec| judged(data, codec, &limits);
        let utf8 = crate::decode::Codec::Utf8;
        let fits = "山田,0123456789,abc\n\"花\"\"\",x,\"a\"\"\"\nあいう,b".as_bytes();
        assert_eq!(over(fits, utf8), (2, vec![false; 3]));
        let long = "山田,x,abc\n\"山田花\",y,abcd".as_bytes();
        assert_eq!(over(long, utf8), (2, vec![true, false, true]));
        let cp932 = b"\x8eR\x93c,1,abc\n\x8eR\x93c\x89\xd4,2,b"; // 山田 / 山田花
        assert_eq!(
            over(cp932, crate::decode::Codec::Cp932),
            (2, vec![true, false, false])
        );
    }

    #[test]
    fn characters_are_counted_not_bytes_and_markers_refused() {
        let values: [&[u8]; 5] = [
            "山田太郎".as_bytes(),
            "山田太郎様".as_bytes(),
            b"ab\x03",
            b"abcde",
            b"abcdef",
        ];
        let (views, buffer) = crate::views::build(&values);
        let buffers = [&buffer[..]];
        let valid = [true, true, true, true, false];
        let column = TextColumn {
            views: &views,
            buffers: &buffers,
            valid: Some(&valid),
        };
        let found = refused(&column, 5, 4, Check::Nothing);
        assert_eq!(found.over, Some(vec![false, true, false, true, false]));
        assert_eq!(found.control, Some(vec![false, false, true, false, false]));
        assert_eq!(found.class, None);
        assert_eq!(refused(&column, 5, 0, Check::Nothing).over, None); // no limit
        let half = refused(&column, 5, 0, Check::NoHalf).class;
        assert_eq!(half, Some(vec![false, false, true, true, false]));
    }

    #[test]
    fn a_delimiter_that_ends_a_character_is_the_characters() {
        let cp932 = crate::decode::Codec::Cp932;
        let starts = |row: &[u8], delimiter: u8, codec| {
            let mut at = Vec::new();
            super::cell_starts(row, 0, delimiter, b'"', codec, &mut at);
            at
        };
        // 竹 is 92 7C, ポ 83 7C; 85 7C is no character (| cuts); 81 7C is －
        let row = b"\x92\x7c|\x83\x7c\"\x83\x7c|\"|\x85|\x81|";
        assert_eq!(starts(row, b'|', cp932), [0, 3, 11, 13]);
        // byte by byte where the delimiter is no second byte, or the encoding has none
        assert_eq!(starts(b"\x92,|,", b',', cp932), [0, 2, 4]);
        let utf8 = crate::decode::Codec::Utf8;
        assert_eq!(starts(b"\x92|\x83|", b'|', utf8), [0, 2, 4]);
    }

    #[test]
    fn what_the_reader_refuses_is_refused_and_line_ends_inside_quotes_are_not() {
        let values: [&[u8]; 11] = [
            b"a\tb",
            b"\r",
            b"a\rb",
            b"a\r\r\n",
            b"x\x7f",
            b"nul\x00",
            b"\x1b\x1a",
            b"a\nb",
            b"a\r\nb\r\n",
            "\u{FFFD}".as_bytes(),
            "￼￾".as_bytes(), // EF BF BC, EF BF BE: beside U+FFFD, not it
        ];
        let (views, buffer) = crate::views::build(&values);
        let buffers = [&buffer[..]];
        let column = TextColumn {
            views: &views,
            buffers: &buffers,
            valid: None,
        };
        let found = refused(&column, 11, 0, Check::Nothing);
        let mut control = vec![true; 7];
        control.extend([false; 4]);
        assert_eq!(found.control, Some(control));
        let mut replacement = vec![false; 11];
        replacement[9] = true;
        assert_eq!(found.replacement, Some(replacement));
    }

    #[test]
    fn rows_checked_as_they_are_formatted_are_the_rows_and_the_refusals_apart() {
        // values of every kind the checks tell apart, in rows across the chunks
        let kinds: [&[u8]; 10] = [
            "山田".as_bytes(),
            "山田太郎様".as_bytes(),
            "ｱｲｳ".as_bytes(),
            "全角１２".as_bytes(),
            b"0123",
            b"12a",
            b"a,\"b\"",
            b"x\x02",
            b"",
            b"line\nbreak",
        ];
        let n = 3 * CHUNK_ROWS + 17;
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as usize
        };
        let columns: Vec<(Vec<u8>, Vec<u8>, Vec<bool>)> = (0..3)
            .map(|_| {
                let values: Vec<&[u8]> = (0..n).map(|_| kinds[next() % kinds.len()]).collect();
                let (views, buffer) = crate::views::build(&values);
                (views, buffer, (0..n).map(|_| next() % 9 != 0).collect())
            })
            .collect();
        let buffers: Vec<[&[u8]; 1]> = columns.iter().map(|(_, b, _)| [&b[..]]).collect();
        let texts: Vec<TextColumn<'_>> = columns
            .iter()
            .zip(&buffers)
            .map(|((views, _, valid), buffers)| TextColumn {
                views,
                buffers,
                valid: Some(valid),
            })
            .collect();
        let style = Style {
            delimiter: b',',
            quote: b'"',
            terminator: b"\r\n",
        };
        let (limits, checks) = ([4, 0, 3], [Check::NoHalf, Check::Digits, Check::OnlyHalf]);
        let (rows, found) = format_checked(&texts, n, style, &limits, &checks);
        assert_eq!(rows, format(&texts, n, style));
        let apart: Vec<Refused> = texts
            .iter()
            .zip(limits.iter().zip(&checks))
            .map(|(c, (&limit, &check))| refused(c, n, limit, check))
            .collect();
        assert_eq!(found, apart);
        assert!(found.iter().all(|f| f.class.is_some()) && found[0].over.is_some());
    }

    #[test]
    fn rows_end_at_line_feeds_outside_quotes_and_a_stray_quote_is_found() {
        let got = row_ends(b"a,\"b\nc\"\r\nd,\"\"\"e\"\n", b',', b'"');
        assert_eq!(
            got,
            RowEnds {
                ends: vec![8, 16],
                quotes: 6,
                misplaced: None
            }
        );
        assert_eq!(row_ends(b"ab\"c\n", b',', b'"').misplaced, Some(2)); // inside a value
        assert_eq!(row_ends(b"\"a\"b\n", b',', b'"').misplaced, Some(2)); // then more
        assert_eq!(row_ends(b"\"a\"\rb\n", b',', b'"').misplaced, Some(2)); // CR, no LF
        assert_eq!(row_ends(b"", b',', b'"'), RowEnds::default());
    }

    #[test]
    fn quoted_cells_with_nothing_to_quote_are_counted() {
        // rows `"a","b,c"` and `x,"y"`: cells start at 0, 4 and 10, 12
        let data = b"\"a\",\"b,c\"\nx,\"y\"\n";
        assert_eq!(
            needless_quotes(data, &[0, 4, 10, 12], 2, &[9, 15], (b',', b'"'), None),
            (2, Some(0))
        );
        assert_eq!(
            needless_quotes(data, &[4, 10], 1, &[9], (b',', b'"'), None),
            (0, None)
        );
        assert_eq!(
            needless_quotes(data, &[], 0, &[], (b',', b'"'), None),
            (0, None)
        );
        // a doubled quote inside is something to quote
        assert_eq!(
            needless_quotes(b"\"a\"\"b\"\n", &[0], 1, &[6], (b',', b'"'), None),
            (0, None)
        );
        // rows `x` then `"y"` in blocks of their own: counted in all, the first first
        let rows = super::NEEDLESS_ROWS * 3;
        let data = b"x\n\"y\"\n";
        let starts: Vec<i64> = (0..rows)
            .map(|r| if r % 5000 == 4999 { 2 } else { 0 })
            .collect();
        let ends: Vec<i64> = starts.iter().map(|&s| if s == 2 { 5 } else { 1 }).collect();
        let got = needless_quotes(data, &starts, 1, &ends, (b',', b'"'), None);
        assert_eq!(got, (rows / 5000, Some(4999)));
    }

    #[test]
    fn a_pipe_that_ends_a_character_needs_no_quotes() {
        // `"竹"|"x|"|"\x85|"`: 竹 is 0x92 0x7C, its | no delimiter; 0x85 0x7C is no
        // character, so that | is one, and so is the one after x
        let data = b"\"\x92|\"|\"x|\"|\"\x85|\"\n";
        let (starts, ends) = ([0, 5, 10], [15]);
        let cp932 = Some(crate::decode::Codec::Cp932);
        assert_eq!(
            needless_quotes(data, &starts, 3, &ends, (b'|', b'"'), cp932),
            (1, Some(0))
        );
        // on bytes alone each cell holds a |
        assert_eq!(
            needless_quotes(data, &starts, 3, &ends, (b'|', b'"'), None),
            (0, None)
        );
    }
}
