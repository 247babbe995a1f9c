//! Decoding a value's bytes to UTF-8, strictly: a value holds characters of its
//! encoding or it is invalid. Nothing is replaced or guessed.
//!
//! CP932 and `Shift_JIS` are table-driven; the tables are generated from `CPython`'s codecs
//! (`core/gen_tables.py`) and checked against them by the Python test suite, because
//! `CPython`'s codec is the oracle the rest of chukan is measured by. UTF-8 is the
//! standard library's.

use std::sync::OnceLock;

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
    /// UTF-8.
    Utf8,
}

impl Codec {
    /// The codec for a layout encoding's Python codec name, if the core has it.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "cp932" => Some(Self::Cp932),
            "shift_jis" => Some(Self::ShiftJis),
            "utf-8" => Some(Self::Utf8),
            _ => None,
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
            Self::Utf8 => "\u{3000}".as_bytes(),
        }
    }

    fn table(self) -> Option<&'static [u16]> {
        static CP932: OnceLock<Vec<u16>> = OnceLock::new();
        static SHIFT_JIS: OnceLock<Vec<u16>> = OnceLock::new();
        match self {
            Self::Cp932 => {
                Some(CP932.get_or_init(|| unpack(include_bytes!("../tables/cp932.bin"))))
            }
            Self::ShiftJis => {
                Some(SHIFT_JIS.get_or_init(|| unpack(include_bytes!("../tables/shift_jis.bin"))))
            }
            Self::Utf8 => None,
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

/// Whether `b` starts a two-byte character in `codec` (never for UTF-8).
#[must_use]
pub fn is_lead(codec: Codec, b: u8) -> bool {
    codec.table().is_some_and(|t| t[usize::from(b)] == LEAD)
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

/// Append the UTF-8 of `bytes` to `out`; false (and `out` as it was) when some byte or
/// pair decodes to nothing, or the text holds U+FFFD (which chukan reads as a failed
/// decode in any encoding).
pub fn decode_into(codec: Codec, bytes: &[u8], out: &mut Vec<u8>) -> bool {
    let start = out.len();
    let ok = match codec.table() {
        None => match std::str::from_utf8(bytes) {
            Ok(text) if !text.contains('\u{FFFD}') => {
                out.extend_from_slice(text.as_bytes());
                true
            }
            _ => false,
        },
        Some(table) => decode_table(table, ascii_kept(codec), bytes, out),
    };
    if !ok {
        out.truncate(start);
    }
    ok
}

/// Whether every ASCII byte decodes to itself in `codec` (computed once per table).
fn ascii_kept(codec: Codec) -> bool {
    static KEPT: OnceLock<[bool; 2]> = OnceLock::new();
    let kept = KEPT.get_or_init(|| {
        [Codec::Cp932, Codec::ShiftJis].map(|c| {
            c.table()
                .is_some_and(|t| (0..0x80u16).all(|b| t[usize::from(b)] == b))
        })
    });
    match codec {
        Codec::Cp932 => kept[0],
        Codec::ShiftJis => kept[1],
        Codec::Utf8 => true,
    }
}

fn decode_table(table: &[u16], ascii_kept: bool, bytes: &[u8], out: &mut Vec<u8>) -> bool {
    if ascii_kept && bytes.is_ascii() {
        out.extend_from_slice(bytes); // all ASCII, each as itself: one copy
        return true;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let single = table[usize::from(b)];
        let code = if single == LEAD {
            let Some(&trail) = bytes.get(i + 1) else {
                return false; // a lead byte cut off at the value's end
            };
            i += 2;
            table[256 + usize::from(b - 0x80) * 256 + usize::from(trail)]
        } else {
            i += 1;
            single
        };
        // the surrogates are no characters, and U+FFFD is a failed decode in any
        // encoding; no table holds either, but a table is data
        if code == UNDEFINED || code == 0xFFFD || (0xD800..0xE000).contains(&code) {
            return false;
        }
        push_utf8(out, code);
    }
    true
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

/// A whole text in `codec` as UTF-8, exactly as `CPython`'s `decode(codec, "replace")`
/// gives it: a byte that starts no character, or a lead byte whose trail does not
/// complete one, is U+FFFD, and decoding goes on at the next byte. For reading CSV
/// files, whose parser wants UTF-8; the reader then reports every U+FFFD.
#[must_use]
pub fn transcode(codec: Codec, bytes: &[u8]) -> Vec<u8> {
    let Some(table) = codec.table() else {
        return String::from_utf8_lossy(bytes).into_owned().into_bytes();
    };
    let mut out = Vec::with_capacity(bytes.len() * 3 / 2);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let single = table[usize::from(b)];
        if single == LEAD {
            if let Some(&trail) = bytes.get(i + 1) {
                let code = table[256 + usize::from(b - 0x80) * 256 + usize::from(trail)];
                if code != UNDEFINED {
                    push_utf8(&mut out, code);
                    i += 2;
                    continue;
                }
            }
            push_utf8(&mut out, 0xFFFD);
        } else if single != UNDEFINED {
            push_utf8(&mut out, single);
        } else {
            let kept = CP932_PYTHON_SINGLES.iter().find(|(byte, _)| *byte == b);
            match (codec, kept) {
                (Codec::Cp932, Some(&(_, code))) => push_utf8(&mut out, code),
                _ => push_utf8(&mut out, 0xFFFD),
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{decode_into, Codec};

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
