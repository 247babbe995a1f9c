//! Typed fields on their bytes: the plain, valid dates and numbers that most records
//! hold, parsed in the same pass that decodes the text, and the character checks of text
//! fields on the decoded value.
//!
//! These are short paths, not whole parsers: a value they do not take (不詳 parts, blank,
//! an error, a space-padded number) is left to the full parser in Python, which runs only
//! over those rows and says what is wrong. The short path never accepts what the full
//! parser would refuse: the test suite compares the two on random and edge-case bytes.

/// A date field's byte form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateFormat {
    /// `YYYYMMDD`
    Ymd,
    /// `YYYY-MM-DD`
    IsoDashes,
    /// `YYMMDD`, the century from a pivot
    ShortYear,
    /// `GYYMMDD`: a one-digit era code
    Era1,
    /// `GGYYMMDD`: a two-digit era code
    Era2,
}

impl DateFormat {
    /// The format for its layout name, if the short path takes it.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "YYYYMMDD" => Some(Self::Ymd),
            "YYYY-MM-DD" => Some(Self::IsoDashes),
            "YYMMDD" => Some(Self::ShortYear),
            "GYYMMDD" => Some(Self::Era1),
            "GGYYMMDD" => Some(Self::Era2),
            _ => None,
        }
    }

    /// Bytes of the form.
    #[must_use]
    pub fn width(self) -> usize {
        match self {
            Self::Ymd | Self::Era2 => 8,
            Self::IsoDashes => 10,
            Self::ShortYear => 6,
            Self::Era1 => 7,
        }
    }
}

/// An era: the first year, and its first and last day (days since 1970-01-01).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Era {
    /// Gregorian year of the era's first year (元年).
    pub start_year: i64,
    /// Its first day.
    pub start_day: i64,
    /// Its last day (the day before the next era begins; far in the future for the last).
    pub end_day: i64,
}

/// How a date field is read on the short path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateForm {
    /// The byte form.
    pub format: DateFormat,
    /// `YYMMDD`: two-digit years below it are 20YY, the others 19YY.
    pub pivot: i64,
    /// Era formats: era index (into the eras given to the kernel) of each code 0–99, or
    /// -1 for a code the field's table lacks.
    pub lut: [i8; 100],
    /// Era formats: the code the writer writes each era with (by era index), or -1.
    pub writer: [i8; MAX_ERAS],
}

/// Eras a date form can name.
pub const MAX_ERAS: usize = 16;

/// How a number field is read on the short path: zero-padded digits, after a sign byte
/// where the field has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberForm {
    /// Digits only.
    Unsigned,
    /// A signed integer: the first byte is `-` or a digit.
    SignedInteger,
    /// A signed display decimal: the first byte is `+` or `-`.
    SignedDisplay,
}

/// The character check of a text field, made on the decoded value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// None.
    Nothing,
    /// 全角 only: no ASCII and no half-width katakana.
    NoHalf,
    /// 半角 only: ASCII and half-width katakana.
    OnlyHalf,
    /// ASCII digits only.
    Digits,
}

/// Half-width: printable ASCII and the half-width katakana block (a code point).
#[must_use]
pub const fn is_half(c: u32) -> bool {
    (c >= 0x20 && c <= 0x7E) || (c >= 0xFF61 && c <= 0xFF9F)
}

/// The character of the three UTF-8 bytes at `v[i..]` (kanji and kana: most of a
/// Japanese value), both continuation bytes judged at once; None where no such three
/// bytes stand there (the writers' general decoders then say what does).
#[inline]
#[must_use]
pub fn three_byte_char(v: &[u8], i: usize) -> Option<u32> {
    let &[b0, b1, b2] = v.get(i..i.checked_add(3)?)? else {
        return None;
    };
    if !(0xE0..=0xEF).contains(&b0) || ((b1 ^ 0x80) | (b2 ^ 0x80)) >= 0x40 {
        return None;
    }
    Some((u32::from(b0 & 0x0F) << 12) | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F))
}

/// Each ASCII character's [`Kinds`] bits.
static ASCII_KINDS: [u8; 128] = {
    let mut table = [0; 128];
    let mut c = 0;
    while c < 128 {
        table[c] = Kinds::of(c as u32);
        c += 1;
    }
    table
};

/// What a value's characters were, as far as the field checks go: gathered character
/// by character with no branch, and judged once at the end (the writer's encoders).
/// The four findings are bits of one byte, so that the loops keep them in a register
/// (as four booleans they went to the stack and back with every character).
#[derive(Clone, Copy, Debug, Default)]
pub struct Kinds(u8);

impl Kinds {
    const HALF: u8 = 1;
    const OTHER_THAN_HALF: u8 = 2;
    const OTHER_THAN_DIGIT: u8 = 4;
    const CONTROL: u8 = 8;

    /// What one character is, class by class (the table of ASCII characters is made
    /// from it; [`Kinds::add`] judges the others in two comparisons).
    const fn of(c: u32) -> u8 {
        let half = is_half(c);
        (if half {
            Self::HALF
        } else {
            Self::OTHER_THAN_HALF
        }) | (if c < 0x30 || c > 0x39 {
            Self::OTHER_THAN_DIGIT
        } else {
            0
        }) | (if c < 0x20 || c == 0x7F {
            Self::CONTROL
        } else {
            0
        })
    }

    /// Count character `c` in: an ASCII one from a table, any other by two comparisons
    /// (a dozen instructions fewer a character than judging every class of every one).
    #[inline]
    pub fn add(&mut self, c: u32) {
        self.0 |= match ASCII_KINDS.get(c as usize) {
            Some(&kinds) => kinds,
            None if (0xFF61..=0xFF9F).contains(&c) => Self::HALF | Self::OTHER_THAN_DIGIT,
            None => Self::OTHER_THAN_HALF | Self::OTHER_THAN_DIGIT,
        };
    }

    /// Whether the characters fail `check`.
    #[must_use]
    pub fn fail(&self, check: Check) -> bool {
        let bit = match check {
            Check::Nothing => 0,
            Check::NoHalf => Self::HALF,
            Check::OnlyHalf => Self::OTHER_THAN_HALF,
            Check::Digits => Self::OTHER_THAN_DIGIT,
        };
        self.0 & bit != 0
    }

    /// Whether one was a control character.
    #[must_use]
    pub fn control(&self) -> bool {
        self.0 & Self::CONTROL != 0
    }
}

/// Whether a decoded value fails its field's check.
#[must_use]
pub fn fails(check: Check, value: &[u8]) -> bool {
    match check {
        Check::Nothing => false,
        Check::Digits => !value.iter().all(u8::is_ascii_digit),
        Check::NoHalf | Check::OnlyHalf => {
            // values come from the decoder or from Polars, always UTF-8 (any other bytes
            // get an answer, and no more)
            // in UTF-8 a byte below 0x80 is a whole character, and half-width katakana
            // U+FF61–U+FF9F are EF BD A1–BF and EF BE 80–9F: found with no character
            // decoded, the full-width check (the common one) in loops the compiler
            // vectorises (bitwise, not lazy: a branch per byte would keep it from that)
            if check == Check::NoHalf {
                // one pass for ASCII and for the byte every half-width katakana starts
                // with (EF, as full-width letters do; kanji and kana do not): the
                // katakana themselves are looked for only where an EF stands
                #[allow(clippy::needless_bitwise_bool)] // no branch per byte: vectorised
                let (ascii, ef) = value.iter().fold((false, false), |(ascii, ef), &b| {
                    (ascii | (b.wrapping_sub(0x20) < 0x5F), ef | (b == 0xEF))
                });
                ascii || (ef && half_kana_in(value))
            } else {
                let mut i = 0;
                while i < value.len() {
                    let b = value[i];
                    if b < 0x80 {
                        if b.wrapping_sub(0x20) >= 0x5F {
                            return true;
                        }
                        i += 1;
                    } else if i + 2 < value.len() && half_kana(b, value[i + 1], value[i + 2]) {
                        i += 3;
                    } else {
                        return true;
                    }
                }
                false
            }
        }
    }
}

/// Whether UTF-8 `value` holds a half-width katakana (U+FF61–U+FF9F), found with no
/// character decoded.
#[must_use]
pub fn half_kana_in(value: &[u8]) -> bool {
    value
        .iter()
        .zip(value.iter().skip(1))
        .zip(value.iter().skip(2))
        .fold(false, |any, ((&x, &y), &z)| any | half_kana(x, y, z))
}

/// Whether three bytes are a half-width katakana in UTF-8 (U+FF61–U+FF9F).
#[allow(clippy::needless_bitwise_bool)] // evaluated for every byte: no branches
fn half_kana(x: u8, y: u8, z: u8) -> bool {
    (x == 0xEF) & (((y == 0xBD) & (z >= 0xA1)) | ((y == 0xBE) & (z <= 0x9F)))
}

/// The value of ASCII digits, or None if a byte is not a digit.
fn digits(bytes: &[u8]) -> Option<i64> {
    bytes.iter().try_fold(0i64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// A CSV integer cell: the spaces around it taken off, then ASCII digits, at least one
/// and at most `limit` (18 at most, so that the value fits), a `-` before them if
/// `signed`. None for anything else: a `+`, a space inside, a full-width digit.
#[must_use]
pub fn csv_integer(value: &[u8], signed: bool, limit: usize) -> Option<i64> {
    let start = value.iter().position(|&b| b != b' ')?;
    let end = value.iter().rposition(|&b| b != b' ')? + 1;
    let value = &value[start..end];
    let (negative, magnitude) = match value.split_first() {
        Some((b'-', rest)) if signed => (true, rest),
        _ => (false, value),
    };
    if magnitude.is_empty() || magnitude.len() > limit.min(18) {
        return None;
    }
    digits(magnitude).map(|m| if negative { -m } else { m })
}

/// A CSV decimal cell's unscaled value at `scale` (12.3 at scale 2 is 1230): a sign
/// (`+`, or `-` if `signed`), one to `whole` digits, and where `scale` is not 0 perhaps
/// a point and one to `scale` digits after it. None for any other spelling (a space, a
/// point with no digit after it, too many digits); `Some(None)` for a value of that
/// spelling that `precision` digits cannot hold (Polars' cast makes it null).
#[must_use]
pub fn csv_decimal(
    value: &[u8],
    signed: bool,
    whole: usize,
    scale: usize,
    precision: usize,
) -> Option<Option<i64>> {
    let (negative, rest) = match value.split_first() {
        Some((b'-', rest)) if signed => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, value),
    };
    let (int, frac) = match rest.iter().position(|&b| b == b'.') {
        Some(at) if scale > 0 => (&rest[..at], &rest[at + 1..]),
        _ => (rest, &rest[rest.len()..]),
    };
    let pointed = int.len() < rest.len();
    if int.is_empty() || int.len() > whole || (pointed && (frac.is_empty() || frac.len() > scale)) {
        return None;
    }
    let (int, frac_value) = (digits(int)?, digits(frac)?);
    // at most 18 digits before the point, 18 after: no step overflows an i128
    let unscaled = i128::from(int) * 10i128.pow(scale as u32)
        + i128::from(frac_value) * 10i128.pow((scale - frac.len()) as u32);
    let held = unscaled < 10i128.pow(precision.min(18) as u32);
    Some(held.then(|| {
        let v = i64::try_from(unscaled).unwrap_or_default();
        if negative {
            -v
        } else {
            v
        }
    }))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
#[must_use]
pub fn civil_days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    const DIM: [i64; 13] = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    DIM[usize::try_from(m).unwrap_or(0).min(12)] + i64::from(m == 2 && leap)
}

/// A complete, valid date (days since 1970-01-01) that the writer gives back byte for
/// byte, or None for anything else: 不詳 parts, blanks, a wrong form, an impossible day,
/// a date outside its era, an era or era code the writer would not choose.
#[must_use]
pub fn date(bytes: &[u8], form: &DateForm, eras: &[Era]) -> Option<i64> {
    if bytes.len() != form.format.width() {
        return None;
    }
    let (era, year, month, day) = match form.format {
        DateFormat::Ymd => (None, &bytes[0..4], &bytes[4..6], &bytes[6..8]),
        DateFormat::IsoDashes => {
            if bytes[4] != b'-' || bytes[7] != b'-' {
                return None;
            }
            (None, &bytes[0..4], &bytes[5..7], &bytes[8..10])
        }
        DateFormat::ShortYear => (None, &bytes[0..2], &bytes[2..4], &bytes[4..6]),
        DateFormat::Era1 => (Some(&bytes[0..1]), &bytes[1..3], &bytes[3..5], &bytes[5..7]),
        DateFormat::Era2 => (Some(&bytes[0..2]), &bytes[2..4], &bytes[4..6], &bytes[6..8]),
    };
    let (y, m, d) = (digits(year)?, digits(month)?, digits(day)?);
    let (y, era) = match era {
        Some(code) => {
            let code = digits(code)?;
            let index = usize::try_from(form.lut[usize::try_from(code).ok()?]).ok()?;
            let era = eras.get(index)?;
            if y < 1 || i64::from(*form.writer.get(index)?) != code {
                return None;
            }
            (era.start_year + y - 1, Some((index, era)))
        }
        None if form.format == DateFormat::ShortYear => {
            (if y < form.pivot { 2000 + y } else { 1900 + y }, None)
        }
        None => (y, None),
    };
    if y < 1 || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let days = civil_days(y, m, d);
    match era {
        // on a day two eras share, the writer chooses the new one
        Some((index, e)) => (days >= e.start_day
            && days <= e.end_day
            && eras.iter().rposition(|x| x.start_day <= days) == Some(index))
        .then_some(days),
        None => Some(days),
    }
}

/// A zero-padded number's value, or None for anything else (spaces, a misplaced sign,
/// more digits than an `i64` holds, which the full parser judges).
#[must_use]
pub fn number(bytes: &[u8], form: NumberForm) -> Option<i64> {
    let (&first, rest) = bytes.split_first()?;
    match form {
        NumberForm::Unsigned => (bytes.len() <= 18).then(|| digits(bytes)).flatten(),
        _ if rest.is_empty() || rest.len() > 17 => None,
        NumberForm::SignedInteger if first == b'-' => digits(rest).map(|v| -v),
        NumberForm::SignedInteger => digits(bytes),
        NumberForm::SignedDisplay => match first {
            b'+' => digits(rest),
            b'-' => digits(rest).map(|v| -v),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{
        civil_days, csv_decimal, csv_integer, date, fails, half_kana_in, is_half, number, Check,
        DateForm, DateFormat, Era, Kinds, NumberForm, MAX_ERAS,
    };

    #[test]
    fn a_lone_ef_byte_is_judged_not_a_half_width_katakana_without_a_panic() {
        // (not UTF-8, which a hand-made view may hold: the check once sliced past it)
        for value in [&b"\xEF"[..], b"\xEF\xBD", b"\xEF\xBD\xA1"] {
            let kana = value.len() == 3;
            assert_eq!(half_kana_in(value), kana);
            assert_eq!(fails(Check::NoHalf, value), kana);
        }
    }

    #[test]
    fn kinds_judge_each_check_as_fails_does() {
        // the edges of each class, one character at a time and all together
        let edges = [
            0x00, 0x1F, 0x20, 0x2F, 0x30, 0x39, 0x3A, 0x7E, 0x7F, 0x80, 0x3042, 0xFF60, 0xFF61,
            0xFF9F, 0xFFA0, 0x2_0000,
        ];
        let values: Vec<Vec<u32>> = edges
            .iter()
            .map(|&c| vec![c])
            .chain([edges.to_vec()])
            .collect();
        for chars in values {
            let text: String = chars.iter().filter_map(|&c| char::from_u32(c)).collect();
            let mut kinds = Kinds::default();
            for &c in &chars {
                kinds.add(c);
            }
            for check in [
                Check::Nothing,
                Check::NoHalf,
                Check::OnlyHalf,
                Check::Digits,
            ] {
                assert_eq!(
                    kinds.fail(check),
                    fails(check, text.as_bytes()),
                    "{chars:x?} {check:?}"
                );
            }
            let control = chars.iter().any(|&c| c < 0x20 || c == 0x7F);
            assert_eq!(kinds.control(), control, "{chars:x?}");
        }
    }

    fn form(format: DateFormat) -> DateForm {
        let mut lut = [-1; 100];
        lut[3] = 0; // 昭和 as "3"
        lut[4] = 1; // 平成 as "4"
        lut[8] = 1; // and as "8", which the writer does not write
        let mut writer = [-1; MAX_ERAS];
        writer[0] = 3;
        writer[1] = 4;
        DateForm {
            format,
            pivot: 30,
            lut,
            writer,
        }
    }

    fn eras() -> [Era; 2] {
        [
            Era {
                start_year: 1926,
                start_day: civil_days(1926, 12, 25),
                end_day: civil_days(1989, 1, 7),
            },
            Era {
                start_year: 1989,
                start_day: civil_days(1989, 1, 8),
                end_day: civil_days(2019, 4, 30),
            },
        ]
    }

    #[test]
    fn western_dates_and_their_limits() {
        let f = form(DateFormat::Ymd);
        assert_eq!(date(b"19700101", &f, &[]), Some(0));
        assert_eq!(date(b"20240229", &f, &[]), Some(civil_days(2024, 2, 29)));
        for bad in [
            &b"20230229"[..],
            b"20241301",
            b"20240100",
            b"00000101",
            b"2024 101",
        ] {
            assert_eq!(date(bad, &f, &[]), None, "{bad:?}");
        }
        assert_eq!(
            date(b"2024-02-29", &form(DateFormat::IsoDashes), &[]),
            Some(19782)
        );
        assert_eq!(date(b"2024/02/29", &form(DateFormat::IsoDashes), &[]), None);
        let short = form(DateFormat::ShortYear);
        assert_eq!(date(b"290101", &short, &[]), Some(civil_days(2029, 1, 1)));
        assert_eq!(date(b"300101", &short, &[]), Some(civil_days(1930, 1, 1)));
    }

    #[test]
    fn era_dates_stay_inside_their_era() {
        let f = form(DateFormat::Era1);
        let e = eras();
        assert_eq!(date(b"4010108", &f, &e), Some(civil_days(1989, 1, 8)));
        assert_eq!(date(b"4010107", &f, &e), None); // 平成元年1月7日 was 昭和
        assert_eq!(date(b"3640107", &f, &e), Some(civil_days(1989, 1, 7)));
        assert_eq!(date(b"5010501", &f, &e), None); // a code the table lacks
        assert_eq!(date(b"4000101", &f, &e), None); // year 不詳
        assert_eq!(date(b"8010108", &f, &e), None); // read, but written back as "4"
        let f = form(DateFormat::Era2);
        assert_eq!(date(b"04310430", &f, &e), Some(civil_days(2019, 4, 30)));
        assert_eq!(date(b"04310501", &f, &e), None);
    }

    #[test]
    fn numbers_zero_padded_with_their_sign() {
        assert_eq!(number(b"000123", NumberForm::Unsigned), Some(123));
        assert_eq!(number(b"  0123", NumberForm::Unsigned), None);
        assert_eq!(number(b"-00123", NumberForm::SignedInteger), Some(-123));
        assert_eq!(number(b"100123", NumberForm::SignedInteger), Some(100_123));
        assert_eq!(number(b"+0012", NumberForm::SignedDisplay), Some(12));
        assert_eq!(number(b"00012", NumberForm::SignedDisplay), None);
        assert_eq!(number(b"-", NumberForm::SignedInteger), None);
        assert_eq!(number(b"9999999999999999999", NumberForm::Unsigned), None);
    }

    #[test]
    fn character_checks() {
        assert!(fails(Check::NoHalf, "山田 太郎".as_bytes()));
        assert!(fails(Check::NoHalf, "ﾔﾏﾀﾞ".as_bytes()));
        assert!(!fails(Check::NoHalf, "山田\u{3000}太郎".as_bytes()));
        assert!(fails(Check::OnlyHalf, "ﾔﾏﾀﾞ 山".as_bytes()));
        assert!(!fails(Check::OnlyHalf, "ﾔﾏﾀﾞ ﾀﾛｳ".as_bytes()));
        assert!(fails(Check::Digits, b"12 4"));
        assert!(!fails(Check::Digits, b"0012"));
        assert!(!fails(Check::Nothing, b"anything"));
        // every character of the BMP against the definition, alone and between others
        for c in (0..=0xFFFF_u32).filter_map(char::from_u32) {
            let half = is_half(c.into());
            let (full_around, half_around) = (format!("\u{3000}{c}山"), format!("a{c}ｱ"));
            assert_eq!(fails(Check::NoHalf, c.to_string().as_bytes()), half);
            assert_eq!(fails(Check::OnlyHalf, c.to_string().as_bytes()), !half);
            assert_eq!(fails(Check::NoHalf, full_around.as_bytes()), half);
            assert_eq!(fails(Check::OnlyHalf, half_around.as_bytes()), !half);
        }
    }

    #[test]
    fn a_csv_integer_is_digits_between_spaces_with_a_minus_if_signed() {
        let read = |v: &str, signed| csv_integer(v.as_bytes(), signed, 5);
        assert_eq!(read(" -0012 ", true), Some(-12));
        assert_eq!(read("12345", false), Some(12_345));
        for refused in [
            "", "   ", "-", "+5", "1 2", "-5", "123456", "１２", "1.0", "\t5",
        ] {
            assert_eq!(read(refused, false), None, "{refused:?}");
        }
        assert_eq!(read("--5", true), None);
        assert_eq!(read("+5", true), None);
        // never more digits than an i64 holds, whatever the limit asked
        assert_eq!(csv_integer(b"9999999999999999999", false, 40), None);
        assert_eq!(
            csv_integer(b"999999999999999999", false, 40),
            Some(999_999_999_999_999_999)
        );
    }

    #[test]
    fn a_csv_decimal_is_its_unscaled_digits_at_the_field_s_scale() {
        let read = |v: &str| csv_decimal(v.as_bytes(), true, 3, 2, 5);
        assert_eq!(read("12.3"), Some(Some(1230)));
        assert_eq!(read("-0.05"), Some(Some(-5)));
        assert_eq!(read("+123"), Some(Some(12_300)));
        for refused in [
            "", "-", "1.", ".5", "1.234", "1234", " 1", "1 ", "1,5", "1.2.3", "--1",
        ] {
            assert_eq!(read(refused), None, "{refused:?}");
        }
        assert_eq!(csv_decimal(b"-1", false, 3, 2, 5), None); // unsigned
        assert_eq!(csv_decimal(b"1.5", true, 1, 0, 1), None); // no point at scale 0
                                                              // a spelling the field takes, but its precision cannot hold: no value, no error
        assert_eq!(csv_decimal(b"1.5", true, 1, 2, 2), Some(None));
        assert_eq!(csv_decimal(b"0.5", true, 1, 2, 2), Some(Some(50)));
    }
}
