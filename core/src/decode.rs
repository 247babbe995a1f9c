//! Decoding a value's bytes to UTF-8, strictly: a value holds characters of its
//! encoding or it is invalid. Nothing is replaced or guessed.
//!
//! CP932 and `Shift_JIS` are table-driven; the tables are generated from `CPython`'s codecs
//! (`core/gen_tables.py`) and checked against them by the Python test suite, because
//! `CPython`'s codec is the oracle the rest of chukan is measured by. UTF-8 is the
//! standard library's.

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

    fn table(self) -> Option<&'static [u8]> {
        match self {
            Self::Cp932 => Some(include_bytes!("../tables/cp932.bin")),
            Self::ShiftJis => Some(include_bytes!("../tables/shift_jis.bin")),
            Self::Utf8 => None,
        }
    }
}

fn entry(table: &[u8], index: usize) -> u16 {
    u16::from_le_bytes([table[2 * index], table[2 * index + 1]])
}

/// Append the UTF-8 of `bytes` to `out`; false (and `out` as it was) when some byte or
/// pair decodes to nothing, or the text holds U+FFFD (which chukan reads as a failed
/// decode in any encoding).
pub fn decode_into(codec: Codec, bytes: &[u8], out: &mut Vec<u8>) -> bool {
    let start = out.len();
    let ok = match codec.table() {
        None => match std::str::from_utf8(bytes) {
            Ok(text) => {
                out.extend_from_slice(text.as_bytes());
                true
            }
            Err(_) => false,
        },
        Some(table) => decode_table(table, bytes, out),
    };
    if ok && !contains_replacement(&out[start..]) {
        return true;
    }
    out.truncate(start);
    false
}

fn decode_table(table: &[u8], bytes: &[u8], out: &mut Vec<u8>) -> bool {
    let mut i = 0;
    let mut buf = [0u8; 4];
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 && entry(table, usize::from(b)) == u16::from(b) {
            out.push(b); // ASCII as itself: the common case, without a char round trip
            i += 1;
            continue;
        }
        let single = entry(table, usize::from(b));
        let code = if single == LEAD {
            let Some(&trail) = bytes.get(i + 1) else {
                return false; // a lead byte cut off at the value's end
            };
            i += 2;
            entry(
                table,
                256 + usize::from(b - 0x80) * 256 + usize::from(trail),
            )
        } else {
            i += 1;
            single
        };
        if code == UNDEFINED {
            return false;
        }
        let Some(ch) = char::from_u32(u32::from(code)) else {
            return false;
        };
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    true
}

fn contains_replacement(utf8: &[u8]) -> bool {
    utf8.windows(3).any(|w| w == [0xEF, 0xBF, 0xBD])
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
