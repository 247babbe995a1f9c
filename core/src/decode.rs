//! Decoding a value's bytes to UTF-8, strictly: a value holds characters of its
//! encoding or it is invalid. Nothing is replaced or guessed.
//!
//! CP932 and `Shift_JIS` are table-driven; the tables are generated from `CPython`'s codecs
//! (`core/gen_tables.py`) and checked against them by the Python test suite, because
//! `CPython`'s codec is the oracle the rest of chukan is measured by. UTF-8 is the
//! standard library's.

use std::sync::OnceLock;

use crate::ebcdic::Page;
use crate::typed::is_half;

/// A table entry for a lead byte (single-byte part of the table).
const LEAD: u16 = 0xFFFF;
/// A table entry for a byte or pair that decodes to nothing.
const UNDEFINED: u16 = 0xFFFE;

/// The encodings the core decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// Windows-31J, as `CPython`'s `cp932` decodes it (0x80, 0xA0, 0xFD–0xFF undefined).
    Cp932,
    /// JIS X 0208 `Shift_JIS`, as `CPython`'s `shift_jis` decodes it.
    ShiftJis,
    /// EUC-JP, as `CPython`'s `euc_jp` decodes it: JIS X 0208 in pairs of 0xA1–0xFE,
    /// half-width katakana after 0x8E, JIS X 0212 in three bytes after 0x8F.
    EucJp,
    /// UTF-8.
    Utf8,
    /// A host code page (IBM's Japanese EBCDIC, JEF, KEIS, JIPS): stateful (shift codes),
    /// decoded by [`crate::ebcdic`].
    Ebcdic(Page),
}

impl Codec {
    /// The codec for a layout encoding's Python codec name, if the core has it.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "cp932" => Some(Self::Cp932),
            "shift_jis" => Some(Self::ShiftJis),
            "euc_jp" => Some(Self::EucJp),
            "utf-8" => Some(Self::Utf8),
            _ => Page::from_name(name).map(Self::Ebcdic),
        }
    }

    /// The half-width space: what pads text and codes (`chukan.spec.Encoding.space`).
    #[must_use]
    pub fn space(self) -> u8 {
        match self {
            Self::Ebcdic(page) => page.table().space(),
            _ => b' ',
        }
    }

    /// The digit zero; the digits are it and the nine bytes after it.
    #[must_use]
    pub fn zero(self) -> u8 {
        match self {
            Self::Ebcdic(page) => page.table().from_ascii(b'0').unwrap_or(0xF0),
            _ => b'0',
        }
    }

    /// Every full-width character is one aligned two-byte pair (U+3000 is 0x81 0x40).
    #[must_use]
    pub fn paired(self) -> bool {
        matches!(self, Self::Cp932 | Self::ShiftJis)
    }

    /// The bytes of U+3000 (the ideographic space) in this encoding.
    #[must_use]
    pub fn ideographic_space(self) -> &'static [u8] {
        match self {
            Self::Cp932 | Self::ShiftJis => &[0x81, 0x40],
            Self::EucJp => &[0xA1, 0xA1],
            Self::Utf8 => "\u{3000}".as_bytes(),
            Self::Ebcdic(page) => page.table().ideographic_space(),
        }
    }

    fn table(self) -> Option<&'static [u16]> {
        static CP932: OnceLock<Vec<u16>> = OnceLock::new();
        static SHIFT_JIS: OnceLock<Vec<u16>> = OnceLock::new();
        static EUC_JP: OnceLock<Vec<u16>> = OnceLock::new();
        match self {
            Self::Cp932 => {
                Some(CP932.get_or_init(|| unpack(include_bytes!("../tables/cp932.bin"))))
            }
            Self::ShiftJis => {
                Some(SHIFT_JIS.get_or_init(|| unpack(include_bytes!("../tables/shift_jis.bin"))))
            }
            Self::EucJp => {
                Some(EUC_JP.get_or_init(|| unpack(include_bytes!("../tables/euc_jp.bin"))))
            }
            Self::Utf8 | Self::Ebcdic(_) => None,
        }
    }
}

/// A committed table (little-endian `u16`s) as values, once per process.
fn unpack(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect()
}

/// The UTF-8 of a BMP code point (every table value is one), without a `char` check.
fn push_utf8(out: &mut Vec<u8>, code: u16) {
    let c = u32::from(code);
    if c < 0x80 {
        out.push(c as u8);
    } else if c < 0x800 {
        out.extend_from_slice(&[0xC0 | (c >> 6) as u8, 0x80 | (c & 0x3F) as u8]);
    } else {
        out.extend_from_slice(&[
            0xE0 | (c >> 12) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    }
}

/// What decoding a value saw besides its text, for the checks made on it in the same
/// pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// A half-width character: printable ASCII or half-width katakana.
    pub half: bool,
    /// A character that is not half-width.
    pub other: bool,
    /// A two-byte character in bytes that the `rewritten` table marks.
    pub rewritten: bool,
}

/// Append the UTF-8 of `bytes` to `out`; false (and `out` as it was) when some byte or
/// pair decodes to nothing, or the text holds U+FFFD (which chukan reads as a failed
/// decode in any encoding).
pub fn decode_into(codec: Codec, bytes: &[u8], out: &mut Vec<u8>) -> bool {
    decode_seen(codec, bytes, out, None).is_some()
}

/// [`decode_into`], saying what it saw: the kinds of characters, and whether a two-byte
/// character (lead 0x80–0xFF × trail, 128 × 256) is marked in `rewritten`. One pass.
pub fn decode_seen(
    codec: Codec,
    bytes: &[u8],
    out: &mut Vec<u8>,
    rewritten: Option<&[bool]>,
) -> Option<Seen> {
    if let Codec::Ebcdic(page) = codec {
        // a value on its own, as a stream holds it: single bytes first, shifts between
        return page.table().decode(bytes, crate::ebcdic::Shift::SoSi, out);
    }
    let start = out.len();
    let seen = match codec.compiled() {
        None => match std::str::from_utf8(bytes) {
            Ok(text) if !text.contains('\u{FFFD}') => {
                out.extend_from_slice(text.as_bytes());
                Some(Seen {
                    half: text.chars().any(|c| is_half(c.into())),
                    other: !text.chars().all(|c| is_half(c.into())),
                    rewritten: false,
                })
            }
            _ => None,
        },
        Some(compiled) => decode_entries(compiled, bytes, out, rewritten),
    };
    if seen.is_none() {
        out.truncate(start);
    }
    seen
}

/// Each of the `rows` values of `width` bytes back to back in `data` decoded on its own
/// (an EBCDIC value in `shift` mode): the text of them all, where each one's starts
/// (`rows + 1` offsets), and whether each decoded. A value that did not is empty: the
/// caller shows its bytes another way (a report replaces what does not decode; the
/// core never does). What a table of problems shows of many values at once.
#[must_use]
pub fn decode_rows(
    codec: Codec,
    shift: crate::ebcdic::Shift,
    data: &[u8],
    rows: usize,
    width: usize,
) -> (Vec<u8>, Vec<i64>, Vec<bool>) {
    let mut text = Vec::with_capacity(data.len() + data.len() / 2);
    let mut starts = Vec::with_capacity(rows + 1);
    let mut ok = Vec::with_capacity(rows);
    starts.push(0);
    for row in 0..rows {
        let value = data.get(row * width..(row + 1) * width).unwrap_or_default();
        let decoded = match codec {
            Codec::Ebcdic(page) => page.table().decode(value, shift, &mut text).is_some(),
            _ => decode_into(codec, value, &mut text),
        };
        ok.push(decoded);
        starts.push(i64::try_from(text.len()).unwrap_or(i64::MAX));
    }
    (text, starts, ok)
}

/// A table's characters ready to write: each entry holds its UTF-8 and what the
/// readers check, so that a character costs one load (bits 0–1: UTF-8 length, 0 for no
/// character; bit 2: half-width; bit 3: a lead byte; bits 8–31: the UTF-8 bytes).
struct Compiled {
    entries: Vec<u32>,
    /// Every ASCII byte decodes to itself.
    ascii_kept: bool,
}

const LENGTH: u32 = 0b11;
const HALF: u32 = 0b100;
const LEAD_ENTRY: u32 = 0b1000;
/// Where a table's rows for three-byte characters start (after the single bytes and the
/// pairs), by their second byte 0x80–0xFF: EUC-JP's only.
const THIRDS: usize = 256 + 128 * 256;

impl Compiled {
    fn new(table: &[u16]) -> Self {
        let entries = table
            .iter()
            .enumerate()
            .map(|(i, &code)| match code {
                // a lead byte, or a pair that leads a third byte (EUC-JP's 0x8F)
                LEAD if i < THIRDS => LEAD_ENTRY,
                // the surrogates are no characters, and U+FFFD is a failed decode in
                // any encoding; no table holds either, but a table is data
                LEAD | UNDEFINED | 0xFFFD | 0xD800..=0xDFFF => 0,
                _ => {
                    let mut utf8 = Vec::with_capacity(3);
                    push_utf8(&mut utf8, code);
                    let half = is_half(u32::from(code));
                    utf8.iter().enumerate().fold(
                        utf8.len() as u32 | if half { HALF } else { 0 },
                        |e, (k, &b)| e | u32::from(b) << (8 + 8 * k),
                    )
                }
            })
            .collect();
        Self {
            entries,
            ascii_kept: (0..0x80u16).all(|b| table[usize::from(b)] == b),
        }
    }
}

impl Codec {
    /// Whether printable ASCII bytes decode each to itself, and a space pads: `cp932`
    /// and UTF-8 (`shift_jis` reads 0x5C as ¥ and 0x7E as ‾; a host page is EBCDIC).
    #[must_use]
    pub fn ascii_as_is(self) -> bool {
        match self {
            Self::Utf8 => true,
            Self::Cp932 | Self::ShiftJis | Self::EucJp => {
                self.compiled().is_some_and(|c| c.ascii_kept)
            }
            Self::Ebcdic(_) => false,
        }
    }

    fn compiled(self) -> Option<&'static Compiled> {
        static CP932: OnceLock<Compiled> = OnceLock::new();
        static SHIFT_JIS: OnceLock<Compiled> = OnceLock::new();
        static EUC_JP: OnceLock<Compiled> = OnceLock::new();
        let cell = match self {
            Self::Cp932 => &CP932,
            Self::ShiftJis => &SHIFT_JIS,
            Self::EucJp => &EUC_JP,
            Self::Utf8 | Self::Ebcdic(_) => return None,
        };
        Some(cell.get_or_init(|| Compiled::new(self.table().unwrap_or_default())))
    }
}

fn decode_entries(
    compiled: &Compiled,
    bytes: &[u8],
    out: &mut Vec<u8>,
    rewritten: Option<&[bool]>,
) -> Option<Seen> {
    if compiled.ascii_kept && bytes.is_ascii() {
        out.extend_from_slice(bytes); // all ASCII, each as itself: one copy
        return Some(Seen {
            half: bytes.iter().any(|&b| (0x20..0x7F).contains(&b)),
            other: bytes.iter().any(|&b| !(0x20..0x7F).contains(&b)),
            rewritten: false,
        });
    }
    let entries = &compiled.entries;
    let start = out.len();
    // room for the longest UTF-8 (three bytes per input byte) and the fourth byte each
    // write carries: every character is written whole, then its length counted
    out.resize(start + 3 * bytes.len() + 1, 0);
    let (mut at, mut i) = (start, 0);
    // every entry or'd in, and every entry's complement: a character's HALF bit set in
    // the one and clear in the other, with no branch per character
    let (mut any, mut any_not, mut marked) = (0u32, 0u32, false);
    while i < bytes.len() {
        let b = bytes[i];
        let mut entry = entries[usize::from(b)];
        if entry & LEAD_ENTRY != 0 {
            // a lead byte cut off at the value's end decodes to nothing
            let pair = usize::from(b - 0x80) * 256 + usize::from(*bytes.get(i + 1)?);
            if let Some(table) = rewritten {
                marked |= table[pair];
            }
            entry = entries[256 + pair];
            i += 2;
        } else {
            i += 1;
        }
        let mut length = (entry & LENGTH) as usize;
        if length == 0 {
            // no character, but for a pair that leads a third byte (EUC-JP's JIS X 0212,
            // its second byte 0xA1–0xFE): looked at only here, off the path every other
            // character takes
            if entry & LEAD_ENTRY == 0 {
                return None;
            }
            let second = usize::from(bytes[i - 1] - 0x80);
            entry = entries[THIRDS + second * 256 + usize::from(*bytes.get(i)?)];
            i += 1;
            length = (entry & LENGTH) as usize;
            if length == 0 {
                return None;
            }
        }
        out[at..at + 4].copy_from_slice(&(entry >> 8).to_le_bytes());
        at += length;
        any |= entry;
        any_not |= !entry;
    }
    out.truncate(at);
    Some(Seen {
        half: any & HALF != 0,
        other: any_not & HALF != 0,
        rewritten: marked,
    })
}

/// The characters `CPython`'s `cp932` decodes the bytes the contract calls undefined to
/// (0x80, 0xA0, 0xFD–0xFF): a transcoded file keeps them, and the reader reports them.
const CP932_PYTHON_SINGLES: [(u8, u16); 5] = [
    (0x80, 0x0080),
    (0xA0, 0xF8F0),
    (0xFD, 0xF8F1),
    (0xFE, 0xF8F2),
    (0xFF, 0xF8F3),
];

/// A whole text in `codec` as UTF-8, as `CPython`'s `decode(codec, "replace")` gives it:
/// a byte that starts no character, or a lead byte whose next bytes do not complete
/// one, is U+FFFD, and decoding goes on at the next byte. One difference: at the very
/// end of its input, `CPython`'s `euc_jp` makes one U+FFFD of 0x8F and the byte after
/// it (a CSV text's last line end); here that byte stands on its own, and a CSV parser
/// reads the same cells either way. For reading CSV files, whose parser wants UTF-8;
/// the reader then reports every U+FFFD.
#[must_use]
pub fn transcode(codec: Codec, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 3 / 2);
    transcode_into(codec, bytes, &mut out);
    out
}

/// [`transcode`], appending to `out`.
pub fn transcode_into(codec: Codec, bytes: &[u8], out: &mut Vec<u8>) {
    if let Codec::Ebcdic(page) = codec {
        // no CSV is read in EBCDIC (the layout loader refuses one): a failed text is
        // one U+FFFD, which the reader reports
        if page
            .table()
            .decode(bytes, crate::ebcdic::Shift::SoSi, out)
            .is_none()
        {
            push_utf8(out, 0xFFFD);
        }
        return;
    }
    let Some(table) = codec.table() else {
        // most text is valid: checked on the fast path, replaced only where it is not
        match std::str::from_utf8(bytes) {
            Ok(_) => out.extend_from_slice(bytes),
            Err(_) => out.extend_from_slice(String::from_utf8_lossy(bytes).as_bytes()),
        }
        return;
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let single = table[usize::from(b)];
        if single == LEAD {
            if let Some(&trail) = bytes.get(i + 1) {
                let mut code = table[256 + usize::from(b - 0x80) * 256 + usize::from(trail)];
                let mut size = 2;
                if code == LEAD {
                    // EUC-JP's JIS X 0212: the trail (0xA1–0xFE) leads a third byte
                    code = bytes.get(i + 2).map_or(UNDEFINED, |&third| {
                        table[THIRDS + usize::from(trail - 0x80) * 256 + usize::from(third)]
                    });
                    size = 3;
                }
                if code != UNDEFINED {
                    push_utf8(out, code);
                    i += size;
                    continue;
                }
            }
            push_utf8(out, 0xFFFD);
        } else if single != UNDEFINED {
            push_utf8(out, single);
        } else {
            let kept = CP932_PYTHON_SINGLES.iter().find(|(byte, _)| *byte == b);
            match (codec, kept) {
                (Codec::Cp932, Some(&(_, code))) => push_utf8(out, code),
                _ => push_utf8(out, 0xFFFD),
            }
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::{decode_into, decode_rows, transcode, Codec};
    use crate::ebcdic::Shift;

    fn decode(codec: Codec, bytes: &[u8]) -> Option<String> {
        let mut out = Vec::new();
        decode_into(codec, bytes, &mut out).then(|| String::from_utf8(out).unwrap())
    }

    #[test]
    fn cp932_decodes_kanji_kana_and_the_extensions() {
        assert_eq!(decode(Codec::Cp932, b"\x8eR\x93c").as_deref(), Some("山田"));
        assert_eq!(decode(Codec::Cp932, b"\xb1\xb2").as_deref(), Some("ｱｲ"));
        assert_eq!(decode(Codec::Cp932, b"\xfb\xfc").as_deref(), Some("髙"));
        assert_eq!(decode(Codec::Cp932, b"\x81`").as_deref(), Some("～"));
        assert_eq!(decode(Codec::Cp932, b"\xf0@").as_deref(), Some("\u{e000}"));
    }

    #[test]
    fn rows_decode_each_on_its_own() {
        // the second row ends in a lead byte: it fails alone, and does not take the
        // third row's first byte as its trail
        let (text, starts, ok) = decode_rows(Codec::Cp932, Shift::None, b"129\x8e@A", 3, 2);
        assert_eq!(ok, [true, false, true]);
        assert_eq!(starts, [0, 2, 2, 4]);
        assert_eq!(text, b"12@A");
        let (text, starts, ok) = decode_rows(Codec::Cp932, Shift::None, b"\x8eR", 1, 2);
        assert_eq!(
            (text.as_slice(), starts.as_slice(), ok.as_slice()),
            ("山".as_bytes(), &[0, 3][..], &[true][..])
        );
    }

    #[test]
    fn shift_jis_is_not_cp932() {
        assert_eq!(decode(Codec::ShiftJis, b"\x81`").as_deref(), Some("〜"));
        assert_eq!(decode(Codec::ShiftJis, b"\xfb\xfc"), None);
    }

    #[test]
    fn undefined_bytes_and_cut_pairs_fail() {
        for bytes in [
            &b"\x80"[..],
            b"\xa0",
            b"\xfd",
            b"A\x81",
            b"\x81\x20",
            b"\x85\x40",
        ] {
            assert_eq!(decode(Codec::Cp932, bytes), None, "{bytes:?}");
        }
    }

    #[test]
    fn euc_jp_decodes_pairs_kana_and_three_byte_characters() {
        // 山 田, ｱ after 0x8E, 丂 (JIS X 0212) after 0x8F
        let text = b"\xbb\xb3\xc5\xc4\x8e\xb1\x8f\xb0\xa1";
        assert_eq!(decode(Codec::EucJp, text).as_deref(), Some("山田ｱ丂"));
        assert_eq!(decode(Codec::EucJp, b"\\~").as_deref(), Some("\\~"));
        // a three-byte character cut, or with a byte outside 0xA1–0xFE; a row of no
        // characters (0xA9); user-defined rows (0xF5–0xFE), which CPython does not map
        for bytes in [
            &b"\x8f\xb0"[..],
            b"\x8f",
            b"\x8f\xb0A",
            b"\x8fA\xa1",
            b"\x8e\xe0",
            b"\xa9\xa1",
            b"\xf5\xa1",
            b"\xa1",
        ] {
            assert_eq!(decode(Codec::EucJp, bytes), None, "{bytes:?}");
        }
    }

    #[test]
    fn euc_jp_transcodes_a_failed_byte_at_a_time() {
        let text = |bytes: &[u8]| String::from_utf8(transcode(Codec::EucJp, bytes)).unwrap();
        assert_eq!(text(b"\x8f\xb0A\x8fA"), "\u{fffd}\u{fffd}A\u{fffd}A");
        assert_eq!(text(b"\x8f\xb0\xa1\x8e\xb1\xa9\xa1"), "丂ｱ\u{fffd}\u{fffd}");
        assert_eq!(text(b"\x8f\n"), "\u{fffd}\n"); // CPython: one U+FFFD, no line end
    }

    #[test]
    fn utf8_is_strict_and_a_replacement_character_is_a_failure() {
        assert_eq!(
            decode(Codec::Utf8, "山田".as_bytes()).as_deref(),
            Some("山田")
        );
        assert_eq!(decode(Codec::Utf8, b"\xe5\xb1"), None);
        assert_eq!(decode(Codec::Utf8, "a\u{fffd}".as_bytes()), None);
    }

    #[test]
    fn a_failed_value_leaves_the_output_as_it_was() {
        let mut out = b"kept".to_vec();
        assert!(!decode_into(Codec::Cp932, b"\x8eR\x80", &mut out));
        assert_eq!(out, b"kept");
    }
}
