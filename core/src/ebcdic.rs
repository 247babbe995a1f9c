//! Japanese EBCDIC: IBM's host code pages 930, 939, 1390 and 1399, both ways, strictly.
//!
//! A page is a single-byte page and a double-byte page. Double-byte text sits between
//! shift-out (SO, `0x0E`) and shift-in (SI, `0x0F`) in a mixed field, or fills a
//! graphic field (COBOL `PIC G`/`PIC N`) with no shift codes at all. The same byte
//! means different characters in either state, so a value is decoded with its state
//! from its first byte: single-byte in a mixed field, double-byte in a graphic one.
//!
//! The tables are generated from glibc's iconv by `core/gen_ebcdic.py` and checked
//! against it by the Python test suite: text, one line per code, parsed once per
//! process. Only exact round trips are in them (see the generator for what glibc
//! substitutes and chukan does not).

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::decode::Seen;
use crate::typed::is_half;

/// Shift-out: double-byte text follows.
pub const SO: u8 = 0x0E;
/// Shift-in: single-byte text follows.
pub const SI: u8 = 0x0F;
/// The single-byte space, which pads every EBCDIC field but a graphic one.
pub const SPACE: u8 = 0x40;
/// The double-byte space (U+3000), which pads a graphic field.
pub const DOUBLE_SPACE: [u8; 2] = [0x40, 0x40];
/// A writer table entry for a character the page lacks.
pub const UNENCODABLE: u16 = 0xFFFF;

/// IBM's Japanese host code pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Page {
    /// CCSID 930: katakana single bytes (CCSID 290, no Latin lowercase), kanji CCSID 300.
    Ibm930,
    /// CCSID 939: Latin single bytes (CCSID 1027), kanji CCSID 300.
    Ibm939,
    /// CCSID 1390: 930 with the euro, kanji CCSID 16684 (300 and JIS X 0213 kanji).
    Ibm1390,
    /// CCSID 1399: 939 with the euro, kanji CCSID 16684.
    Ibm1399,
}

/// How a field holds its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Shift {
    /// Single bytes only: a shift code is an error.
    #[default]
    None,
    /// Single bytes, with double-byte runs between SO and SI, counted in the width.
    SoSi,
    /// Double bytes only, with no shift codes.
    Graphic,
}

impl Shift {
    /// The mode a layout names (`none`, `so-si`, `graphic`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "none" | "" => Some(Self::None),
            "so-si" => Some(Self::SoSi),
            "graphic" => Some(Self::Graphic),
            _ => None,
        }
    }
}

/// One code's characters, ready to write as UTF-8: eight bytes written whole, then
/// `len` of them kept (a base and its mark take at most six, a character beyond the BMP
/// four), so that a character costs one load and one store.
#[derive(Clone, Copy, Debug, Default)]
struct Char {
    utf8: u64,
    /// 0: the code decodes to nothing.
    len: u8,
    /// One half-width character (ASCII or half-width katakana).
    half: bool,
    /// The writer writes these characters as another code (a duplicate).
    read_only: bool,
}

/// A page, parsed: both directions.
pub struct Table {
    singles: [Char; 256],
    /// Lead and trail 0x40–0xFF: `(lead - 0x40) * 192 + trail - 0x40`.
    doubles: Vec<Char>,
    /// Each BMP character's code: below 0x100 a single byte, else a double.
    bmp: Vec<u16>,
    /// Characters beyond the BMP, and two-character sequences (a base and a mark).
    others: HashMap<(u32, u32), u16>,
    /// The characters that may start a two-character sequence.
    bases: Vec<bool>,
    /// Single bytes that are control characters (SO and SI are not text either).
    control: [bool; 256],
    /// The same, for a mixed field: its shift codes are its structure.
    control_mixed: [bool; 256],
    /// Each single byte's ASCII byte, 0 where it stands for none.
    ascii: [u8; 256],
}

fn double_index(lead: u8, trail: u8) -> Option<usize> {
    (lead >= 0x40 && trail >= 0x40)
        .then(|| usize::from(lead - 0x40) * 192 + usize::from(trail - 0x40))
}

impl Page {
    /// The page a layout encoding's codec name means, if it is one.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        // the layout's name, or the Python codec's (`chukan_ibm930`)
        match name.strip_prefix("chukan_").unwrap_or(name) {
            "ibm930" => Some(Self::Ibm930),
            "ibm939" => Some(Self::Ibm939),
            "ibm1390" => Some(Self::Ibm1390),
            "ibm1399" => Some(Self::Ibm1399),
            _ => None,
        }
    }

    fn sources(self) -> (&'static str, &'static str) {
        const DBCS300: &str = include_str!("../tables/dbcs300.txt");
        const DBCS16684: &str = include_str!("../tables/dbcs16684.txt");
        match self {
            Self::Ibm930 => (include_str!("../tables/ibm930.sbcs"), DBCS300),
            Self::Ibm939 => (include_str!("../tables/ibm939.sbcs"), DBCS300),
            Self::Ibm1390 => (include_str!("../tables/ibm1390.sbcs"), DBCS16684),
            Self::Ibm1399 => (include_str!("../tables/ibm1399.sbcs"), DBCS16684),
        }
    }

    /// The page's tables, parsed on first use.
    #[must_use]
    pub fn table(self) -> &'static Table {
        static TABLES: [OnceLock<Table>; 4] = [const { OnceLock::new() }; 4];
        let at = match self {
            Self::Ibm930 => 0,
            Self::Ibm939 => 1,
            Self::Ibm1390 => 2,
            Self::Ibm1399 => 3,
        };
        TABLES[at].get_or_init(|| {
            let (sbcs, dbcs) = self.sources();
            Table::parse(sbcs, dbcs)
        })
    }
}

/// A table line: code, characters, whether the writer writes them as another code.
fn line(text: &str) -> Option<(u16, Vec<char>, bool)> {
    let mut parts = text.split('\t');
    let code = u16::from_str_radix(parts.next()?, 16).ok()?;
    let chars = parts
        .next()?
        .split(' ')
        .map(|u| {
            u.strip_prefix("U+")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
        })
        .collect::<Option<Vec<char>>>()?;
    Some((code, chars, parts.next() == Some("r")))
}

impl Table {
    fn parse(sbcs: &str, dbcs: &str) -> Self {
        let mut table = Self {
            singles: [Char::default(); 256],
            doubles: vec![Char::default(); 192 * 192],
            bmp: vec![UNENCODABLE; 65536],
            others: HashMap::new(),
            bases: vec![false; 65536],
            control: [false; 256],
            control_mixed: [false; 256],
            ascii: [0; 256],
        };
        let rows = sbcs.lines().chain(dbcs.lines());
        for (code, chars, read_only) in rows.filter(|l| !l.starts_with('#')).filter_map(line) {
            let mut c = Char {
                read_only,
                ..Char::default()
            };
            let mut utf8 = [0u8; 8];
            let mut at = 0;
            for ch in &chars {
                at += ch.encode_utf8(&mut utf8[at..]).len();
            }
            c.utf8 = u64::from_le_bytes(utf8);
            c.len = at as u8; // at most two characters of four bytes
            c.half = chars.len() == 1 && is_half(u32::from(chars[0]));
            if code < 0x100 {
                let b = code as u8;
                table.singles[usize::from(b)] = c;
                let x = u32::from(chars[0]);
                table.control[usize::from(b)] =
                    chars.len() == 1 && (x < 0x20 || (0x7F..0xA0).contains(&x));
            } else if let Some(i) = double_index((code >> 8) as u8, code as u8) {
                table.doubles[i] = c;
            }
            if read_only {
                continue;
            }
            match chars[..] {
                [one] if u32::from(one) < 0x10000 => table.bmp[one as usize] = code,
                [one] => {
                    table.others.insert((u32::from(one), 0), code);
                }
                [base, mark] => {
                    table
                        .others
                        .insert((u32::from(base), u32::from(mark)), code);
                    if let Ok(b) = u16::try_from(u32::from(base)) {
                        table.bases[usize::from(b)] = true;
                    }
                }
                _ => {}
            }
        }
        for (b, c) in table.singles.iter().enumerate() {
            let first = c.utf8.to_le_bytes()[0];
            if c.len == 1 && first < 0x80 && !c.read_only {
                table.ascii[b] = first;
            }
        }
        table.control_mixed = table.control;
        table.control[usize::from(SO)] = true;
        table.control[usize::from(SI)] = true;
        table
    }

    /// Which single bytes are control characters in a field of this shift mode.
    #[must_use]
    pub fn controls(&self, shift: Shift) -> &[bool; 256] {
        if shift == Shift::SoSi {
            &self.control_mixed
        } else {
            &self.control
        }
    }

    /// Write `c` at `out[*at..]` (room for eight bytes there), noting what it is.
    fn put(c: Char, out: &mut [u8], at: &mut usize, seen: &mut Seen) -> bool {
        out[*at..*at + 8].copy_from_slice(&c.utf8.to_le_bytes());
        *at += usize::from(c.len);
        seen.half |= c.half;
        seen.other |= !c.half;
        seen.rewritten |= c.read_only;
        c.len != 0
    }

    /// Append the UTF-8 of a field's bytes (padding already cut) to `out`; None (and
    /// `out` as it was) where a byte or pair decodes to nothing, a shift code has no
    /// partner or stands where `shift` allows none, or the value ends in double-byte
    /// mode. `Seen::rewritten` marks bytes the writer would not give back: a duplicate
    /// code, or an empty SO SI pair.
    pub fn decode(&self, bytes: &[u8], shift: Shift, out: &mut Vec<u8>) -> Option<Seen> {
        let start = out.len();
        let got = self.decode_inner(bytes, shift, out);
        if got.is_none() {
            out.truncate(start);
        }
        got
    }

    fn decode_inner(&self, bytes: &[u8], shift: Shift, out: &mut Vec<u8>) -> Option<Seen> {
        let mut seen = Seen::default();
        let mut double = shift == Shift::Graphic;
        // room for the longest text (four UTF-8 bytes per input byte: a pair that is a
        // base and a mark) and the eight bytes each write carries
        let mut at = out.len();
        out.resize(at + 4 * bytes.len() + 8, 0);
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b == SO || b == SI {
                // SO only from single-byte mode, SI only from double-byte mode, and
                // neither in a graphic or single-byte field
                if shift != Shift::SoSi || double == (b == SO) {
                    return None;
                }
                seen.rewritten |= b == SI && i > 0 && bytes[i - 1] == SO;
                double = b == SO;
                i += 1;
            } else if double {
                let trail = *bytes.get(i + 1)?;
                let c = self.doubles[double_index(b, trail)?];
                if !Self::put(c, out, &mut at, &mut seen) {
                    return None;
                }
                i += 2;
            } else {
                if !Self::put(self.singles[usize::from(b)], out, &mut at, &mut seen) {
                    return None;
                }
                i += 1;
            }
        }
        out.truncate(at);
        (!double || shift == Shift::Graphic).then_some(seen)
    }

    /// The code of `first`, or of `first` and `next` together where the page writes a
    /// base and its combining mark as one code (then true: `next` is taken).
    fn code_of(&self, first: char, next: Option<char>) -> Option<(u16, bool)> {
        let c = u32::from(first);
        if c < 0x10000 && self.bases[c as usize] {
            if let Some(mark) = next {
                if let Some(&code) = self.others.get(&(c, u32::from(mark))) {
                    return Some((code, true));
                }
            }
        }
        let code = if c < 0x10000 {
            self.bmp[c as usize]
        } else {
            *self.others.get(&(c, 0))?
        };
        (code != UNENCODABLE).then_some((code, false))
    }

    /// Append the bytes of `text` to `out`: single bytes, and double-byte runs between
    /// SO and SI (`Shift::SoSi`) or double bytes only (`Shift::Graphic`). False (and
    /// `out` as it was) where a character has no code, or no code of the kind the
    /// field holds.
    pub fn encode(&self, text: &str, shift: Shift, out: &mut Vec<u8>) -> bool {
        let start = out.len();
        let mut double = false;
        let mut chars = text.chars().peekable();
        while let Some(first) = chars.next() {
            let Some((code, pair)) = self.code_of(first, chars.peek().copied()) else {
                out.truncate(start);
                return false;
            };
            if pair {
                chars.next();
            }
            let wide = code >= 0x100;
            let fits = match shift {
                Shift::None => !wide,
                Shift::SoSi => true,
                Shift::Graphic => wide,
            };
            if !fits {
                out.truncate(start);
                return false;
            }
            if shift == Shift::SoSi && wide != double {
                out.push(if wide { SO } else { SI });
                double = wide;
            }
            if wide {
                out.extend_from_slice(&code.to_be_bytes());
            } else {
                out.push(code as u8);
            }
        }
        if double {
            out.push(SI);
        }
        true
    }

    /// The single byte of an ASCII byte's character, or None: numbers, dates, codes and
    /// digits are formatted in ASCII and written in the page's bytes.
    #[must_use]
    pub fn from_ascii(&self, b: u8) -> Option<u8> {
        let code = *self.bmp.get(usize::from(b))?;
        (b < 0x80 && code < 0x100).then_some(code as u8)
    }

    /// Each single byte's ASCII byte (0 where it stands for none).
    #[must_use]
    pub fn ascii_bytes(&self) -> &[u8; 256] {
        &self.ascii
    }
}

/// Encode values back to back (UTF-8 `text`, value `i` at `offsets[i]..offsets[i+1]`),
/// as [`crate::encode::encode`] does for the two-byte encodings.
///
/// # Panics
/// When an offset lies outside `text` (the caller checks them).
#[must_use]
pub fn encode_values(
    text: &[u8],
    offsets: &[i64],
    page: Page,
    shift: Shift,
) -> crate::encode::Encoded {
    let table = page.table();
    crate::encode::encode_with(text, offsets, |value, out| {
        std::str::from_utf8(value).is_ok_and(|v| table.encode(v, shift, out))
    })
}

#[cfg(test)]
mod tests {
    use super::{encode_values, Page, Shift, SI, SO};

    fn decode(page: Page, bytes: &[u8], shift: Shift) -> Option<String> {
        let mut out = Vec::new();
        page.table()
            .decode(bytes, shift, &mut out)
            .map(|_| String::from_utf8(out).unwrap())
    }

    fn encode(page: Page, text: &str, shift: Shift) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        page.table().encode(text, shift, &mut out).then_some(out)
    }

    #[test]
    fn mixed_text_shifts_between_single_and_double_bytes() {
        let bytes = b"\xc1\x0e\x45\x41\x0f\xc2";
        assert_eq!(
            decode(Page::Ibm939, bytes, Shift::SoSi).as_deref(),
            Some("A一B")
        );
        assert_eq!(
            encode(Page::Ibm939, "A一B", Shift::SoSi).as_deref(),
            Some(&bytes[..])
        );
        // 930 has katakana where 939 has Latin lowercase
        assert_eq!(
            decode(Page::Ibm930, b"\x81", Shift::None).as_deref(),
            Some("ｱ")
        );
        assert_eq!(
            decode(Page::Ibm939, b"\x81", Shift::None).as_deref(),
            Some("a")
        );
    }

    #[test]
    fn shift_codes_must_pair_and_stand_where_the_field_allows() {
        for bad in [
            &b"\x0e\x45\x41"[..],
            b"\x0f\xc1",
            b"\x0e\x0e\x45\x41\x0f",
            b"\x0e\x45",
        ] {
            assert_eq!(decode(Page::Ibm930, bad, Shift::SoSi), None, "{bad:?}");
        }
        assert_eq!(decode(Page::Ibm930, b"\x0e\x45\x41\x0f", Shift::None), None);
        assert_eq!(
            decode(Page::Ibm930, b"\x45\x41\x40\x40", Shift::Graphic).as_deref(),
            Some("一\u{3000}")
        );
        assert_eq!(
            decode(Page::Ibm930, b"\x0e\x45\x41\x0f", Shift::Graphic),
            None
        );
        assert_eq!(decode(Page::Ibm930, b"\x45", Shift::Graphic), None);
    }

    #[test]
    fn an_empty_shift_pair_reads_but_is_marked() {
        let mut out = Vec::new();
        let seen = Page::Ibm930
            .table()
            .decode(&[0xC1, SO, SI], Shift::SoSi, &mut out);
        assert!(seen.is_some_and(|s| s.rewritten));
        assert_eq!(out, b"A");
    }

    #[test]
    fn user_defined_codes_are_private_use_and_written_back() {
        assert_eq!(
            decode(Page::Ibm930, b"\x69\x41", Shift::Graphic).as_deref(),
            Some("\u{e000}")
        );
        assert_eq!(
            encode(Page::Ibm930, "\u{e000}", Shift::Graphic),
            Some(vec![0x69, 0x41])
        );
    }

    #[test]
    fn a_graphic_field_takes_no_single_byte_character_and_a_plain_one_no_kanji() {
        assert_eq!(encode(Page::Ibm930, "A", Shift::Graphic), None);
        assert_eq!(encode(Page::Ibm930, "一", Shift::None), None);
        assert_eq!(encode(Page::Ibm930, "€", Shift::SoSi), None); // 1390 has the euro
        assert_eq!(encode(Page::Ibm1390, "€", Shift::None), Some(vec![0xE1]));
    }

    #[test]
    fn ibm1390_writes_a_base_and_mark_as_one_code_and_reads_it_back() {
        let written = encode(Page::Ibm1390, "か\u{309a}", Shift::Graphic).unwrap();
        assert_eq!(written, vec![0xEC, 0xB5]);
        assert_eq!(
            decode(Page::Ibm1390, &written, Shift::Graphic).as_deref(),
            Some("か\u{309a}")
        );
        assert_eq!(encode(Page::Ibm930, "か\u{309a}", Shift::Graphic), None);
    }

    #[test]
    fn digits_translate_both_ways() {
        let t = Page::Ibm930.table();
        assert_eq!(
            (t.from_ascii(b'0'), t.from_ascii(b' '), t.from_ascii(b'-')),
            (Some(0xF0), Some(0x40), Some(0x60))
        );
        assert_eq!(
            (
                t.ascii_bytes()[0xF9],
                t.ascii_bytes()[0xC1],
                t.ascii_bytes()[0xD0]
            ),
            (b'9', b'A', b'}')
        );
        assert_eq!(t.ascii_bytes()[0x0E], 0);
    }

    #[test]
    fn values_encode_back_to_back() {
        let got = encode_values("ｱ一".as_bytes(), &[0, 3, 3, 6], Page::Ibm930, Shift::SoSi);
        assert_eq!(got.data, vec![0x81, SO, 0x45, 0x41, SI]);
        assert_eq!(got.lengths, vec![1, 0, 4]);
    }
}
