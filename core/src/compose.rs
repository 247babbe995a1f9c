//! The writer's text fields in one pass: each value checked, encoded through the
//! writer's table and copied into its field of the record matrix, whose padding the
//! caller has written. A value that fails a check is left as padding and marked, so that
//! Python reports it with its message; nothing is truncated, replaced or guessed.

use rayon::prelude::*;

use crate::ebcdic::{Page, Shift};
use crate::encode::{code_bytes, UNENCODABLE};
use crate::typed::{three_byte_char, Check, DateForm, DateFormat, Era, Kinds};

/// A table entry for a character that the encoding would read back as another one
/// (〜 written as 0x8160 reads back as ～): refused unless the layout substitutes it, in
/// which case the table holds the substitute's code instead.
pub const LOOKALIKE: u16 = 0xFFFE;

/// Where a text field goes and what its values must be.
#[derive(Clone, Copy, Debug)]
pub struct TextField<'a> {
    /// Byte offset in the record.
    pub offset: usize,
    /// Bytes.
    pub width: usize,
    /// The values' character check (digits: only 0-9).
    pub check: Check,
    /// Digits fields: a value shorter than the field is refused (leading zeros are data).
    pub full_digits: bool,
    /// EBCDIC text: where its double bytes may stand (see [`crate::ebcdic`]).
    pub shift: Shift,
    /// Code fields with a table: its codes (a value not among them is refused).
    pub codes: Option<&'a Codes>,
    /// Full-width fields padded with U+3000 in an encoding whose characters are not all
    /// as long as it (EUC-JP, whose JIS X 0212 characters are three bytes): U+3000's
    /// bytes and the space. The bytes after a value are then as many whole U+3000 as fit,
    /// then spaces, counted from the value's end (the padding the records start with is
    /// counted from the field's start).
    pub repad: Option<(&'a [u8], u8)>,
}

/// A code table's codes, as the writer looks each value up: codes of one or two bytes
/// (most are) in a table of every such value, the longer ones sorted. (A binary search
/// over them all compared each value through `memcmp`, and cost what Polars' `is_in`
/// had cost before it.)
#[derive(Debug)]
pub struct Codes {
    /// Whether each one-byte value (0–255) and two-byte value (256 + 256 × a + b) is a
    /// code.
    short: Vec<bool>,
    /// The codes of three bytes or more, sorted.
    long: Vec<Vec<u8>>,
}

impl Codes {
    /// The table of `codes` (UTF-8).
    #[must_use]
    pub fn new(codes: impl IntoIterator<Item = Vec<u8>>) -> Self {
        let mut short = vec![false; 256 + 65536];
        let mut long = Vec::new();
        for code in codes {
            match Self::short_index(&code) {
                Some(i) => short[i] = true,
                None => long.push(code),
            }
        }
        long.sort_unstable();
        Self { short, long }
    }

    fn short_index(value: &[u8]) -> Option<usize> {
        match *value {
            [a] => Some(usize::from(a)),
            [a, b] => Some(256 + 256 * usize::from(a) + usize::from(b)),
            _ => None,
        }
    }

    /// Whether `value` is one of the codes.
    #[must_use]
    pub fn holds(&self, value: &[u8]) -> bool {
        match Self::short_index(value) {
            Some(i) => self.short[i],
            None => self.long.binary_search_by(|c| c[..].cmp(value)).is_ok(),
        }
    }
}

/// One column's values, as Polars holds them: Arrow string views (see [`crate::views`]).
#[derive(Clone, Copy, Debug)]
pub struct TextColumn<'a> {
    /// 16 bytes per row.
    pub views: &'a [u8],
    /// The buffers the views of values longer than 12 bytes point into.
    pub buffers: &'a [&'a [u8]],
    /// Rows with a value (None: all).
    pub valid: Option<&'a [bool]>,
}

impl<'a> TextColumn<'a> {
    /// Row `row`'s value (UTF-8).
    #[must_use]
    pub fn value(&self, row: usize) -> &'a [u8] {
        crate::views::value(self.views, self.buffers, row)
    }
}

/// What a refused row failed (bits of [`Written::reasons`]).
pub mod reason {
    /// The character check.
    pub const CLASS: u8 = 1;
    /// Digits only, but fewer than the field's width.
    pub const SHORT: u8 = 2;
    /// A character the encoding would read back as another one.
    pub const LOOKALIKE: u8 = 4;
    /// A control character.
    pub const CONTROL: u8 = 8;
    /// A character the encoding lacks.
    pub const UNENCODABLE: u8 = 16;
    /// More bytes than the field holds.
    pub const OVERFLOW: u8 = 32;
    /// A code the field's table lacks (marked whatever else the row failed).
    pub const UNKNOWN_CODE: u8 = 64;
}

/// What became of a column's values: only the rows not written, as few as they are, so
/// that a clean column costs nothing to report. Each refused row has its reasons (bits
/// of [`reason`]; a row can fail several of the first three, after them only the first
/// that fails is marked) and its value's length in bytes (for an overflow, the length
/// it would have).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// The refused rows, in order.
    pub rows: Vec<i64>,
    /// Each one's reasons.
    pub reasons: Vec<u8>,
    /// Each one's bytes.
    pub lengths: Vec<i64>,
}

impl Written {
    /// The rows of `other` after these.
    fn extend(&mut self, other: Self) {
        self.rows.extend(other.rows);
        self.reasons.extend(other.reasons);
        self.lengths.extend(other.lengths);
    }

    fn refuse(&mut self, row: usize, reasons: u8, length: usize) {
        self.rows.push(row as i64);
        self.reasons.push(reasons);
        self.lengths.push(length as i64);
    }

    /// The rows (of `n`) that failed `what` (a bit of [`reason`]), as a mask.
    #[must_use]
    pub fn mask(&self, what: u8, n: usize) -> Vec<bool> {
        let mut mask = vec![false; n];
        for (&row, &r) in self.rows.iter().zip(&self.reasons) {
            if r & what != 0 {
                mask[row as usize] = true;
            }
        }
        mask
    }
}

/// What one pass over a value found: four findings, independent of each other.
#[derive(Default)]
#[allow(clippy::struct_excessive_bools)]
struct Scan {
    class: bool,
    lookalike: bool,
    control: bool,
    unencodable: bool,
}

/// The next character of UTF-8 `v` at `i` and its length, or None where the bytes are
/// not UTF-8 (Arrow's strings always are; a direct caller's may not be).
fn next_char(v: &[u8], i: usize) -> Option<(u32, usize)> {
    let b0 = *v.get(i)?;
    let cont = |k: usize| v.get(i + k).map(|&b| u32::from(b & 0x3F));
    match b0 {
        0x00..=0x7F => Some((u32::from(b0), 1)),
        0xC2..=0xDF => Some(((u32::from(b0 & 0x1F) << 6) | cont(1)?, 2)),
        0xE0..=0xEF => Some(((u32::from(b0 & 0x0F) << 12) | (cont(1)? << 6) | cont(2)?, 3)),
        0xF0..=0xF4 => Some((0x1_0000, 4)), // beyond the BMP: no legacy encoding has it
        _ => None,
    }
}

/// An ASCII value in an encoding that keeps ASCII as it is: its checks on the bytes, in
/// one pass that the compiler vectorises (no early exit).
fn scan_ascii(value: &[u8], check: Check) -> Scan {
    let (mut control, mut printable, mut digits) = (false, true, true);
    for &b in value {
        control |= b < 0x20 || b == 0x7F;
        printable &= (0x20..=0x7E).contains(&b);
        digits &= b.is_ascii_digit();
    }
    Scan {
        class: match check {
            Check::Nothing => false,
            // an ASCII value holds a half-width character unless it is all controls
            Check::NoHalf => value.iter().any(|&b| (0x20..=0x7E).contains(&b)),
            Check::OnlyHalf => !printable,
            Check::Digits => !digits,
        },
        control,
        ..Scan::default()
    }
}

/// One pass over a value: its checks, and its bytes through `table` into `slot` (its
/// field), as far as they fit; with the bytes the whole value takes. Encoding in place
/// spares each value a buffer made ready and copied (a fifth of this pass); a value
/// then refused is padding again by the caller. The checks are gathered with no branch
/// per character, and judged at the end.
fn scan(value: &[u8], check: Check, table: &[u16], slot: &mut [u8]) -> (Scan, usize) {
    let mut kinds = Kinds::default();
    let (mut lookalike, mut unencodable) = (false, false);
    let (mut i, mut k) = (0, 0);
    while i < value.len() {
        let b0 = value[i];
        // the kanji and kana of a legacy text are three bytes, decoded in place
        let (c, len) = if b0 < 0x80 {
            (u32::from(b0), 1)
        } else if let Some(c) = three_byte_char(value, i) {
            (c, 3)
        } else if let Some(next) = next_char(value, i) {
            next
        } else {
            unencodable = true;
            break;
        };
        i += len;
        kinds.add(c);
        match table.get(c as usize).copied().unwrap_or(UNENCODABLE) {
            LOOKALIKE => lookalike = true,
            UNENCODABLE => unencodable = true,
            code => {
                let ([first, second, third], n) = code_bytes(code);
                // past the field only the length is counted (an overflow is refused);
                // each length written as such (a copy of `n` bytes ran a tenth more
                // instructions in this pass)
                match slot.get_mut(k..k + n) {
                    Some([one]) => *one = first,
                    Some([one, two]) => (*one, *two) = (first, second),
                    Some([one, two, three]) => (*one, *two, *three) = (first, second, third),
                    _ => {}
                }
                k += n;
            }
        }
    }
    let found = Scan {
        class: kinds.fail(check),
        lookalike,
        control: kinds.control(),
        unencodable,
    };
    (found, k)
}

/// A value's checks, and its bytes in an EBCDIC page (with its field's shift codes)
/// into `out`: the page's encoder decides what it can write, and checks the characters
/// as it goes.
fn scan_ebcdic(value: &[u8], field: &TextField<'_>, page: Page, out: &mut Vec<u8>) -> Scan {
    let got = page
        .table()
        .encode_checked(value, field.shift, field.check, out);
    if got.written {
        return Scan {
            class: got.class,
            control: got.control,
            ..Scan::default()
        };
    }
    // refused: the checks over the whole value, as for the other encodings (control
    // characters always: EBCDIC has codes for them, but they are not data)
    let (mut found, _) = scan(value, field.check, &[], &mut []);
    found.unencodable = true;
    found
}

/// Most values of an EBCDIC page: encoded straight into their field `slot` (no copy),
/// the field's padding `pad` put back where the value is refused. The reasons it is
/// refused ([`refusal`], 0: written) and its bytes; None (and `slot` padding again)
/// where the lean encoder does not take it, for the general path to say why.
fn encode_in_place(
    value: &[u8],
    field: &TextField<'_>,
    page: Page,
    unknown: bool,
    slot: &mut [u8],
    pad: &[u8],
) -> Option<(u8, usize)> {
    let Some((got, len)) = page
        .table()
        .encode_into(value, field.shift, field.check, slot)
    else {
        slot.copy_from_slice(pad);
        return None;
    };
    let found = Scan {
        class: got.class,
        control: got.control,
        ..Scan::default()
    };
    let short = field.full_digits && !found.class && value.len() < field.width;
    let refused = refusal(&found, short, unknown, false);
    if refused != 0 {
        slot.copy_from_slice(pad);
    }
    Some((refused, len))
}

/// Write the values of `columns` into their `fields` of `n` records `stride` bytes
/// apart in `out`, a few hundred records at a time (a field over them all, then the
/// next, while their bytes stay in cache): encoded through `table`, or in an EBCDIC `page` (whose encoder the table then stands aside
/// for). Blocks of rows are written in parallel (on the caller's rayon pool).
///
/// # Panics
/// When a field or an offset lies outside its buffer (the caller checks them).
#[must_use]
pub fn write_text(
    out: &mut [u8],
    stride: usize,
    n: usize,
    fields: &[TextField<'_>],
    columns: &[TextColumn<'_>],
    table: &[u16],
    page: Option<Page>,
) -> Vec<Written> {
    if n == 0 || stride == 0 {
        return fields.iter().map(|_| Written::default()).collect();
    }
    // each field's padding, as the first record holds it (every record does): a value
    // encoded into its field and then refused leaves it as it was
    let pads: Vec<Vec<u8>> = fields
        .iter()
        .map(|f| out[f.offset..f.offset + f.width].to_vec())
        .collect();
    let blocks = in_blocks(out, stride, n, |block, rows| {
        write_rows(block, stride, rows, fields, columns, table, page, &pads)
    });
    let mut written: Vec<Written> = fields.iter().map(|_| Written::default()).collect();
    for block in blocks {
        for (w, part) in written.iter_mut().zip(block) {
            w.extend(part);
        }
    }
    written
}

/// `write` on blocks of the `n` records `stride` bytes apart in `out`, in parallel (on
/// the caller's rayon pool), each with the rows it holds: the blocks' results in order.
/// Blocks are big enough that a thread's start is nothing beside its work.
///
/// # Panics
/// When `out` holds fewer than `n` records.
pub fn in_blocks<R: Send>(
    out: &mut [u8],
    stride: usize,
    n: usize,
    write: impl Fn(&mut [u8], std::ops::Range<usize>) -> R + Sync,
) -> Vec<R> {
    const BLOCK: usize = 16_384;
    if stride == 0 {
        return vec![write(out, 0..n)];
    }
    out[..n * stride]
        .par_chunks_mut(BLOCK * stride)
        .enumerate()
        .map(|(k, block)| write(block, k * BLOCK..k * BLOCK + block.len() / stride))
        .collect()
}

/// Why a value is not written (bits of [`reason`], 0: it is): the first three and an
/// unknown code together, then the first of the others, in the order the Python writer
/// reports them.
fn refusal(found: &Scan, short: bool, unknown: bool, overflow: bool) -> u8 {
    let bit = |on: bool, what: u8| if on { what } else { 0 };
    let checks = bit(found.class, reason::CLASS)
        | bit(short, reason::SHORT)
        | bit(found.lookalike, reason::LOOKALIKE)
        | bit(unknown, reason::UNKNOWN_CODE);
    if checks != 0 {
        checks
    } else if found.control {
        reason::CONTROL
    } else if found.unencodable {
        reason::UNENCODABLE
    } else if overflow {
        reason::OVERFLOW
    } else {
        0
    }
}

/// Rows [`write_rows`] writes one field of before the next.
const FIELD_ROWS: usize = 512;

/// [`write_text`] for the records `rows`, the first of which starts `out`; `pads`: each
/// field's padding.
#[allow(clippy::too_many_arguments)] // (the pieces of `write_text`'s work, passed on)
fn write_rows(
    out: &mut [u8],
    stride: usize,
    rows: std::ops::Range<usize>,
    fields: &[TextField<'_>],
    columns: &[TextColumn<'_>],
    table: &[u16],
    page: Option<Page>,
    pads: &[Vec<u8>],
) -> Vec<Written> {
    let first = rows.start;
    let mut written: Vec<Written> = fields.iter().map(|_| Written::default()).collect();
    // ASCII bytes stand for themselves in every encoding the writer has a table for, but
    // the table decides (a lookalike or an unencodable control would say otherwise)
    let ascii_kept = page.is_none() && (0..0x80u16).all(|b| table.get(usize::from(b)) == Some(&b));
    let mut buf = Vec::new();
    // a field at a time over a few rows, which stay in cache from one field to the
    // next: each field's loop keeps to one kind of value and one check (a fifth faster
    // than each record's fields in turn)
    for sub in rows.clone().step_by(FIELD_ROWS) {
        for (((field, column), w), pad) in
            fields.iter().zip(columns).zip(written.iter_mut()).zip(pads)
        {
            for row in sub..rows.end.min(sub + FIELD_ROWS) {
                let at = row - first;
                if column.valid.is_some_and(|v| !v[row]) {
                    continue;
                }
                let bytes = column.value(row);
                if bytes.is_empty() {
                    continue; // the empty field: padding
                }
                // a code the table lacks is still checked, but never written
                let unknown = field.codes.is_some_and(|codes| !codes.holds(bytes));
                let start = at * stride + field.offset;
                if let Some(page) = page {
                    let slot = &mut out[start..start + field.width];
                    if let Some((refused, len)) =
                        encode_in_place(bytes, field, page, unknown, slot, pad)
                    {
                        if refused != 0 {
                            w.refuse(row, refused, len);
                        }
                        continue;
                    }
                }
                let short =
                    |found: &Scan| field.full_digits && !found.class && bytes.len() < field.width;
                let slot = &mut out[start..start + field.width];
                if let Some(page) = page {
                    buf.clear();
                    let found = scan_ebcdic(bytes, field, page, &mut buf);
                    let refused = refusal(&found, short(&found), unknown, buf.len() > field.width);
                    if refused != 0 {
                        w.refuse(row, refused, buf.len());
                    } else {
                        slot[..buf.len()].copy_from_slice(&buf);
                    }
                    continue;
                }
                // an ASCII value that stands for itself is written from where it is
                let direct = ascii_kept && bytes.is_ascii();
                let (found, len) = if direct {
                    (scan_ascii(bytes, field.check), bytes.len())
                } else {
                    scan(bytes, field.check, table, slot)
                };
                let refused = refusal(&found, short(&found), unknown, len > field.width);
                if refused != 0 {
                    w.refuse(row, refused, len);
                    if !direct {
                        slot.copy_from_slice(pad); // (what fitted of it was written)
                    }
                    continue;
                }
                if direct {
                    slot[..len].copy_from_slice(bytes);
                }
                if let Some((unit, space)) = field.repad {
                    repad(&mut slot[len..], unit, space);
                }
            }
        }
    }
    written
}

/// The padding after a value (`rest`): as many whole `unit`s as fit, then `space`s
/// (after a value of whole units, the same bytes as the field's own padding, which is
/// counted from its start).
fn repad(rest: &mut [u8], unit: &[u8], space: u8) {
    let whole = rest.len() / unit.len().max(1) * unit.len();
    let (units, spaces) = rest.split_at_mut(whole);
    for (k, b) in units.iter_mut().enumerate() {
        *b = unit[k % unit.len()];
    }
    spaces.fill(space);
}

/// How a number field is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberStyle {
    /// Digits right-aligned in spaces, `-` just before them.
    Spaced,
    /// A zero-padded integer whose first byte is `-` for a negative value.
    ZeroPadded,
    /// `+` or `-`, then zero-padded digits (a signed display decimal).
    SignedDisplay,
    /// Zero-padded digits, no sign.
    Digits,
    /// Zero-padded digits, the sign overpunched on the last one (zoned decimal).
    Zoned,
}

/// What became of a number column: the rows refused, each for every reason it has.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NumbersWritten {
    /// The `i64` minimum, which has no magnitude.
    pub lowest: Vec<bool>,
    /// A negative value in an unsigned field.
    pub negative: Vec<bool>,
    /// More digits than the field holds.
    pub overflow: Vec<bool>,
}

impl NumbersWritten {
    /// The blocks' findings, one after the other.
    #[must_use]
    pub fn join(parts: Vec<Self>) -> Self {
        let mut all = Self::default();
        for part in parts {
            all.lowest.extend(part.lowest);
            all.negative.extend(part.negative);
            all.overflow.extend(part.overflow);
        }
        all
    }
}

/// `10^k`, or `i64::MAX` from 19 digits on (as the Python writer bounds it).
fn power(k: usize) -> u64 {
    u32::try_from(k)
        .ok()
        .filter(|&k| k < 19)
        .map_or(i64::MAX.unsigned_abs(), |k| 10u64.pow(k))
}

/// "00" to "99", for writing digits two at a time.
const PAIRS: [u8; 200] = {
    let mut pairs = [0u8; 200];
    let mut k = 0;
    while k < 100 {
        pairs[2 * k] = b'0' + (k / 10) as u8;
        pairs[2 * k + 1] = b'0' + (k % 10) as u8;
        k += 1;
    }
    pairs
};

/// `value` as `out.len()` zero-padded ASCII digits (its last digits where it is longer),
/// two at a time: half the divisions, which are most of a date's or a number's cost.
fn put_digits(mut value: u64, out: &mut [u8]) {
    let mut end = out.len();
    while end >= 2 {
        let pair = (value % 100) as usize;
        value /= 100;
        out[end - 2..end].copy_from_slice(&PAIRS[2 * pair..2 * pair + 2]);
        end -= 2;
    }
    if end == 1 {
        out[0] = b'0' + u8::try_from(value % 10).unwrap_or(0);
    }
}

/// Write the numbers `values` (unscaled; rows not `present` are left as padding) into a
/// field at `offset`, `width` bytes, of `n` records `stride` bytes apart.
///
/// # Panics
/// When the field or a row lies outside `out` (the caller checks them).
#[must_use]
#[allow(clippy::too_many_arguments)] // one field's whole description
pub fn write_numbers(
    out: &mut [u8],
    stride: usize,
    offset: usize,
    width: usize,
    style: NumberStyle,
    signed: bool,
    values: &[i64],
    present: &[bool],
) -> NumbersWritten {
    const PUNCH_POS: &[u8; 10] = b"{ABCDEFGHI";
    const PUNCH_NEG: &[u8; 10] = b"}JKLMNOPQR";
    let n = values.len();
    let mut w = NumbersWritten {
        lowest: vec![false; n],
        negative: vec![false; n],
        overflow: vec![false; n],
    };
    let room = match style {
        NumberStyle::SignedDisplay => power(width.saturating_sub(1)),
        _ => power(width),
    };
    // a '-' takes one byte of a negative integer
    let negative_room = match style {
        NumberStyle::Spaced | NumberStyle::ZeroPadded => power(width.saturating_sub(1)),
        _ => room,
    };
    for (row, (&v, &here)) in values.iter().zip(present).enumerate() {
        if !here {
            continue;
        }
        if v == i64::MIN {
            w.lowest[row] = true;
            continue;
        }
        let (neg, mag) = (v < 0, v.unsigned_abs());
        w.negative[row] = neg && !signed;
        w.overflow[row] = mag >= if neg { negative_room } else { room };
        if w.negative[row] || w.overflow[row] {
            continue;
        }
        let field = &mut out[row * stride + offset..row * stride + offset + width];
        match style {
            NumberStyle::Spaced => {
                let digits = (1..width).filter(|&k| mag >= power(k)).count() + 1;
                let first = width - digits;
                field[..first].fill(b' ');
                put_digits(mag, &mut field[first..]);
                if neg {
                    field[first - 1] = b'-';
                }
            }
            NumberStyle::ZeroPadded if neg => {
                field[0] = b'-';
                put_digits(mag, &mut field[1..]);
            }
            NumberStyle::ZeroPadded | NumberStyle::Digits => put_digits(mag, field),
            NumberStyle::SignedDisplay => {
                field[0] = if neg { b'-' } else { b'+' };
                put_digits(mag, &mut field[1..]);
            }
            NumberStyle::Zoned => {
                put_digits(mag, field);
                let last = &mut field[width - 1];
                let digit = usize::from(*last - b'0');
                *last = if neg {
                    PUNCH_NEG[digit]
                } else {
                    PUNCH_POS[digit]
                };
            }
        }
    }
    w
}

/// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01
/// (H. Hinnant's `civil_from_days`).
#[must_use]
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Write complete dates (days since 1970-01-01; rows not `present` are left as
/// padding) in `form` into a field at `offset` of `n` records `stride` bytes apart: the
/// era the writer chooses is the latest begun by the day, with the form's code for it.
/// Returns the rows the form cannot write (a year outside its range, a day before the
/// first era or in an era without a code).
///
/// # Panics
/// When the field or a row lies outside `out` (the caller checks them).
#[must_use]
pub fn write_dates(
    out: &mut [u8],
    stride: usize,
    offset: usize,
    form: &DateForm,
    eras: &[Era],
    days: &[i64],
    present: &[bool],
) -> Vec<bool> {
    let width = form.format.width();
    let mut failed = vec![false; days.len()];
    let mut digits = [0u8; 8];
    for (row, (&day, &here)) in days.iter().zip(present).enumerate() {
        if !here {
            continue;
        }
        let (y, m, d) = civil_from_days(day);
        let md = m * 100 + d;
        let number = match form.format {
            DateFormat::Era1 | DateFormat::Era2 => {
                let chosen = eras.iter().rposition(|e| e.start_day <= day);
                let code = chosen
                    .and_then(|e| form.writer.get(e))
                    .copied()
                    .unwrap_or(-1);
                let eyear = chosen.map_or(0, |e| y - eras[e].start_year + 1);
                (code >= 0 && (1..=99).contains(&eyear))
                    .then(|| i64::from(code) * 1_000_000 + eyear * 10_000 + md)
            }
            DateFormat::ShortYear => {
                let low = 1900 + form.pivot;
                (low..low + 100)
                    .contains(&y)
                    .then(|| (y % 100) * 10_000 + md)
            }
            DateFormat::Ymd | DateFormat::IsoDashes => {
                (0..=9999).contains(&y).then(|| y * 10_000 + md)
            }
        };
        let Some(number) = number.and_then(|v| u64::try_from(v).ok()) else {
            failed[row] = true;
            continue;
        };
        let field = &mut out[row * stride + offset..row * stride + offset + width];
        if form.format == DateFormat::IsoDashes {
            put_digits(number, &mut digits);
            field[..4].copy_from_slice(&digits[..4]);
            field[4] = b'-';
            field[5..7].copy_from_slice(&digits[4..6]);
            field[7] = b'-';
            field[8..].copy_from_slice(&digits[6..]);
        } else {
            put_digits(number, field);
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::{
        civil_from_days, reason, write_dates, write_numbers, write_text, Codes, NumberStyle,
        TextColumn, TextField, LOOKALIKE,
    };
    use crate::encode::UNENCODABLE;
    use crate::typed::{civil_days, Check, DateForm, DateFormat, Era, MAX_ERAS};

    /// ASCII as itself, あ as 0x82A0, 〜 a lookalike, the rest unencodable.
    fn table() -> Vec<u16> {
        let mut t = vec![UNENCODABLE; 65536];
        for c in 0..0x80u16 {
            t[usize::from(c)] = c;
        }
        t[usize::from(0x3042u16)] = 0x82A0;
        t[usize::from(0x301Cu16)] = LOOKALIKE;
        t
    }

    fn column(values: &[&str]) -> (Vec<u8>, Vec<u8>) {
        let values: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
        crate::views::build(&values)
    }

    #[test]
    fn each_value_is_checked_encoded_and_placed_or_left_as_padding() {
        let values = ["あA", "", "〜", "a\u{1}", "\u{4E00}", "あああ", "x", "〜x"];
        let (views, buffer) = column(&values);
        let buffers = [&buffer[..]];
        let n = values.len();
        let mut out = vec![b'.'; n * 5];
        // every value but the last two is a code of the field's table
        let codes = Codes::new(values[..6].iter().map(|v| v.as_bytes().to_vec()));
        let field = TextField {
            offset: 1,
            width: 4,
            check: Check::Nothing,
            full_digits: false,
            shift: crate::ebcdic::Shift::None,
            codes: Some(&codes),
            repad: None,
        };
        let col = TextColumn {
            views: &views,
            buffers: &buffers,
            valid: None,
        };
        let w = write_text(&mut out, 5, n, &[field], &[col], &table(), None).remove(0);
        assert_eq!(&out[..10], b".\x82\xa0A......");
        assert_eq!(w.rows, [2, 3, 4, 5, 6, 7]); // only the rows refused come back
        assert_eq!(
            w.mask(reason::LOOKALIKE, n),
            [false, false, true, false, false, false, false, true]
        );
        assert_eq!(
            w.mask(reason::CONTROL, n),
            [false, false, false, true, false, false, false, false]
        );
        assert_eq!(
            w.mask(reason::UNENCODABLE, n),
            [false, false, false, false, true, false, false, false]
        );
        assert_eq!(
            w.mask(reason::OVERFLOW, n),
            [false, false, false, false, false, true, false, false]
        );
        assert_eq!(w.lengths[3], 6); // the overflow's bytes
                                     // an unknown code alone, and marked beside the other checks
        assert_eq!(w.reasons[4], reason::UNKNOWN_CODE);
        assert_eq!(w.reasons[5], reason::LOOKALIKE | reason::UNKNOWN_CODE);
        assert!(out[25..].iter().all(|&b| b == b'.')); // overflow and unknown: untouched
    }

    #[test]
    fn codes_of_every_length_are_found_and_nothing_else() {
        let codes = Codes::new(["1", "02", "131016", "\u{3042}"].map(|c| c.as_bytes().to_vec()));
        for code in ["1", "02", "131016", "\u{3042}"] {
            assert!(codes.holds(code.as_bytes()), "{code}");
        }
        for other in [
            "",
            "2",
            "01",
            "1\0",
            "13101",
            "1310160",
            "\u{3044}",
            "\u{3042}\0",
        ] {
            assert!(!codes.holds(other.as_bytes()), "{other:?}");
        }
    }

    #[test]
    fn euc_jp_three_byte_characters_are_placed_whole_and_padded_after() {
        // 丂 is 8F B0 A1; the field's padding is U+3000 (A1 A1) from its start
        let mut t = vec![UNENCODABLE; 65536];
        t[0x4E02] = 0x30A1;
        t[0x5C71] = 0xBBB3; // 山
        let values = ["丂", "山丂", "山", "丂丂丂"];
        let (views, buffer) = column(&values);
        let buffers = [&buffer[..]];
        let mut out = b"\xa1\xa1\xa1\xa1\xa1\xa1".repeat(values.len());
        let field = TextField {
            offset: 0,
            width: 6,
            check: Check::Nothing,
            full_digits: false,
            shift: crate::ebcdic::Shift::None,
            codes: None,
            repad: Some((b"\xa1\xa1", b' ')),
        };
        let col = TextColumn {
            views: &views,
            buffers: &buffers,
            valid: None,
        };
        let w = write_text(&mut out, 6, values.len(), &[field], &[col], &t, None).remove(0);
        assert_eq!(
            out.chunks(6).collect::<Vec<_>>(),
            [
                &b"\x8f\xb0\xa1\xa1\xa1 "[..],
                b"\xbb\xb3\x8f\xb0\xa1 ",
                b"\xbb\xb3\xa1\xa1\xa1\xa1",
                b"\xa1\xa1\xa1\xa1\xa1\xa1", // 9 bytes: refused, the padding kept
            ]
        );
        assert_eq!((w.rows, w.lengths), (vec![3], vec![9]));
    }

    #[test]
    fn digits_must_be_digits_and_fill_the_field() {
        let values = ["0012", "12", "1a"];
        let (views, buffer) = column(&values);
        let buffers = [&buffer[..]];
        let mut out = vec![b' '; 12];
        let field = TextField {
            offset: 0,
            width: 4,
            check: Check::Digits,
            full_digits: true,
            shift: crate::ebcdic::Shift::None,
            codes: None,
            repad: None,
        };
        let col = TextColumn {
            views: &views,
            buffers: &buffers,
            valid: None,
        };
        let w = write_text(&mut out, 4, 3, &[field], &[col], &table(), None).remove(0);
        assert_eq!(&out, b"0012        ");
        assert_eq!(
            (w.mask(reason::CLASS, 3), w.mask(reason::SHORT, 3)),
            (vec![false, false, true], vec![false, true, false])
        );
    }

    #[test]
    fn numbers_in_each_style() {
        let cases: [(NumberStyle, bool, i64, &[u8; 5]); 7] = [
            (NumberStyle::Spaced, true, -12, b"  -12"),
            (NumberStyle::ZeroPadded, true, -12, b"-0012"),
            (NumberStyle::ZeroPadded, true, 12345, b"12345"),
            (NumberStyle::SignedDisplay, true, 12, b"+0012"),
            (NumberStyle::Digits, false, 7, b"00007"),
            (NumberStyle::Zoned, true, -12, b"0001K"),
            (NumberStyle::Zoned, true, 10, b"0001{"),
        ];
        for (style, signed, value, want) in cases {
            let mut out = *b"_____";
            let w = write_numbers(&mut out, 5, 0, 5, style, signed, &[value], &[true]);
            assert_eq!(&out, want, "{style:?} {value}");
            assert_eq!(w.overflow, [false]);
        }
        let mut out = [b'_'; 15];
        let values = [-1234, i64::MIN, -1];
        let style = NumberStyle::ZeroPadded;
        let w = write_numbers(&mut out, 5, 0, 4, style, false, &values, &[true; 3]);
        assert_eq!(&out, b"_______________"); // each refused: left as it was
        assert_eq!(w.lowest, vec![false, true, false]);
        assert_eq!(w.negative, vec![true, false, true]);
        assert_eq!(w.overflow, vec![true, false, false]); // -1234 needs 5 bytes
    }

    #[test]
    fn civil_from_days_inverts_civil_days() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(civil_days(y, m, d), days);
        }
    }

    #[test]
    fn dates_in_their_era_or_refused() {
        let eras = [
            Era {
                start_year: 1989,
                start_day: civil_days(1989, 1, 8),
                end_day: civil_days(2019, 4, 30),
            },
            Era {
                start_year: 2019,
                start_day: civil_days(2019, 5, 1),
                end_day: i64::MAX,
            },
        ];
        let mut writer = [-1; MAX_ERAS];
        writer[0] = 4;
        writer[1] = 5;
        let form = DateForm {
            format: DateFormat::Era1,
            pivot: 0,
            lut: [-1; 100],
            writer,
        };
        let days = [
            civil_days(2019, 4, 30),
            civil_days(2019, 5, 1),
            civil_days(1989, 1, 7),
        ];
        let mut out = [b'_'; 21];
        let failed = write_dates(&mut out, 7, 0, &form, &eras, &days, &[true; 3]);
        assert_eq!(&out, b"43104305010501_______");
        assert_eq!(failed, [false, false, true]);
        let iso = DateForm {
            format: DateFormat::IsoDashes,
            ..form
        };
        let mut out = [b'_'; 10];
        let day = [civil_days(2024, 2, 29)];
        let _ = write_dates(&mut out, 10, 0, &iso, &eras, &day, &[true]);
        assert_eq!(&out, b"2024-02-29");
    }
}
