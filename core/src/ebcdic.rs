//! Host code pages: IBM's Japanese EBCDIC (930, 939, 1390, 1399) and the vendor pages
//! (Fujitsu JEF, Hitachi KEIS, NEC JIPS), both ways, strictly.
//!
//! A page is a single-byte page and a double-byte page. Double-byte text sits between a
//! shift-out and a shift-in code in a mixed field (IBM's SO `0x0E` and SI `0x0F`, JEF's
//! `0x28` and `0x29`, KEIS's `0x0A 0x42` and `0x0A 0x41`, JIPS's `0x1A 0x70` and
//! `0x1A 0x71`), or fills a graphic field (COBOL `PIC G`/`PIC N`) with no shift codes at
//! all. The same byte means different characters in either state, so a value is decoded
//! with its state from its first byte: single-byte in a mixed field, double-byte in a
//! graphic one.
//!
//! IBM's tables are generated from glibc's iconv by `core/gen_ebcdic.py` and checked
//! against it by the Python test suite: text, one line per code, parsed once per
//! process. Only exact round trips are in them. The vendors' tables are not public: a
//! vendor page ships what can be derived (JIS X 0208 at its place, the single bytes every
//! EBCDIC page agrees on), a user's code-page table adds the rest ([`Page::define`]), and
//! a double-byte code that no table maps reads as a private-use character of plane 15,
//! U+F0000 plus the code (0xB0A1 as U+FB0A1): a 外字 to identify, reported with its
//! bytes and written back as them, never guessed.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use crate::decode::Seen;
use crate::typed::{is_half, three_byte_char, Check, Kinds};

/// IBM's shift-out: double-byte text follows.
pub const SO: u8 = 0x0E;
/// IBM's shift-in: single-byte text follows.
pub const SI: u8 = 0x0F;
/// A writer table entry for a character the page lacks.
pub const UNENCODABLE: u16 = 0xFFFF;
/// Where an unmapped double-byte code reads: U+F0000 plus the code.
pub const CARRIER: u32 = 0xF_0000;

/// How a field holds its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Shift {
    /// Single bytes only: a shift code is an error.
    #[default]
    None,
    /// Single bytes, with double-byte runs between shift codes, counted in the width.
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

impl Char {
    fn of(chars: &[char], read_only: bool) -> Self {
        let mut utf8 = [0u8; 8];
        let mut at = 0;
        for ch in chars {
            at += ch.encode_utf8(&mut utf8[at..]).len();
        }
        Self {
            utf8: u64::from_le_bytes(utf8),
            len: at as u8, // at most two characters of four bytes
            half: chars.len() == 1 && is_half(u32::from(chars[0])),
            read_only,
        }
    }
}

/// What a page is built from: its structure and its tables' text.
struct Source {
    name: &'static str,
    /// Shift-out sequences: the first is written, the others read (and marked).
    so: &'static [&'static [u8]],
    si: &'static [u8],
    /// Single-byte table text.
    singles: &'static str,
    /// Double-byte table texts, each with the offset added to its codes.
    doubles: &'static [(&'static str, u16)],
    /// Rectangles (lead, trail ranges) of double-byte codes that read as U+F0000 plus
    /// the code where no table maps them; none for IBM, whose tables are complete.
    carriers: &'static [[u8; 4]],
}

const DBCS300: &str = include_str!("../tables/dbcs300.txt");
const DBCS16684: &str = include_str!("../tables/dbcs16684.txt");
const JISX0208: &str = include_str!("../tables/jisx0208.txt");
const INVARIANT: &str = include_str!("../tables/ebcdic-invariant.sbcs");

impl Source {
    /// One of IBM's pages: SO and SI, complete tables (no carriers).
    const fn ibm(
        name: &'static str,
        singles: &'static str,
        doubles: &'static [(&'static str, u16)],
    ) -> Self {
        Self {
            name,
            so: &[&[SO]],
            si: &[SI],
            singles,
            doubles,
            carriers: &[],
        }
    }
}

/// The pages chukan ships, by name.
const SHIPPED: [Source; 7] = [
    Source::ibm(
        "ibm930",
        include_str!("../tables/ibm930.sbcs"),
        &[(DBCS300, 0)],
    ),
    Source::ibm(
        "ibm939",
        include_str!("../tables/ibm939.sbcs"),
        &[(DBCS300, 0)],
    ),
    Source::ibm(
        "ibm1390",
        include_str!("../tables/ibm1390.sbcs"),
        &[(DBCS16684, 0)],
    ),
    Source::ibm(
        "ibm1399",
        include_str!("../tables/ibm1399.sbcs"),
        &[(DBCS16684, 0)],
    ),
    // JEF: KI 0x28 (12-point; 0x38, 9-point, is read too), KO 0x29; JIS X 0208 at its
    // row-cell code + 0x8080; U+3000 written as 0x4040 as Fujitsu's hosts do
    Source {
        name: "jef",
        so: &[&[0x28], &[0x38]],
        si: &[0x29],
        singles: INVARIANT,
        doubles: &[("4040\tU+3000\n", 0), (JISX0208, 0x8080)],
        carriers: &[[0x41, 0xFE, 0xA1, 0xFE]],
    },
    // KEIS: 0x0A 0x42 in, 0x0A 0x41 out; JIS X 0208 at its row-cell code + 0x8080
    Source {
        name: "keis",
        so: &[&[0x0A, 0x42]],
        si: &[0x0A, 0x41],
        singles: INVARIANT,
        doubles: &[(JISX0208, 0x8080)],
        carriers: &[[0x41, 0xFE, 0xA1, 0xFE]],
    },
    // JIPS(J): 0x1A 0x70 in, 0x1A 0x71 out; JIS X 0201 single bytes; JIS X 0208 at its
    // row-cell code (G0), NEC's extension at A1–FE × A1–FE (G1)
    Source {
        name: "jips",
        so: &[&[0x1A, 0x70]],
        si: &[0x1A, 0x71],
        singles: include_str!("../tables/jisx0201.sbcs"),
        doubles: &[(JISX0208, 0)],
        carriers: &[[0x21, 0x7E, 0x21, 0x7E], [0xA1, 0xFE, 0xA1, 0xFE]],
    },
];

/// A page: a handle on its tables, which live as long as the process.
#[derive(Clone, Copy)]
pub struct Page(&'static Table);

impl PartialEq for Page {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for Page {}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Page({})", self.0.name)
    }
}

/// Pages defined at run time from users' code-page tables, by name.
fn defined() -> &'static RwLock<HashMap<String, &'static Table>> {
    static DEFINED: OnceLock<RwLock<HashMap<String, &'static Table>>> = OnceLock::new();
    DEFINED.get_or_init(|| RwLock::new(HashMap::new()))
}

impl Page {
    /// The page a layout encoding's codec name means, if it is one: a shipped page or
    /// one defined by [`Page::define`].
    ///
    /// # Panics
    /// Never: the shipped tables are parsed by the tests of every page.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        static TABLES: [OnceLock<Table>; SHIPPED.len()] =
            [const { OnceLock::new() }; SHIPPED.len()];
        // the layout's name, or the Python codec's (`chukan_ibm930`)
        let name = name.strip_prefix("chukan_").unwrap_or(name);
        if let Some(at) = SHIPPED.iter().position(|s| s.name == name) {
            let table = TABLES[at].get_or_init(|| {
                Table::build(&SHIPPED[at], &[]).expect("the shipped tables are well formed")
            });
            return Some(Self(table));
        }
        let found = defined().read().ok()?.get(name).copied();
        found.map(Self)
    }

    /// A page made of a shipped vendor page (`base`) and a user's table `lines` (in the
    /// shipped tables' format: `CODE<TAB>U+XXXX[ U+YYYY]`, a code of two hex digits a
    /// single byte, of four a double byte), which take the place of the base's entries
    /// for the same codes. Defining a name again keeps the first definition (callers name
    /// a page by its content). An error says what is wrong with the table.
    ///
    /// # Errors
    /// An unknown base, an IBM base (their tables are complete), or a line that is not a
    /// code and its characters, or puts a character where a shift code stands.
    pub fn define(name: &str, base: &str, lines: &str) -> Result<Self, String> {
        if SHIPPED.iter().any(|s| s.name == name) {
            return Err(format!("{name:?} is a shipped page's name"));
        }
        if let Some(page) = Self::from_name(name) {
            return Ok(page);
        }
        let source = SHIPPED
            .iter()
            .find(|s| s.name == base && !s.carriers.is_empty())
            .ok_or_else(|| format!("no vendor page {base:?} (jef, keis, jips)"))?;
        let table: &'static Table = Box::leak(Box::new(Table::build(source, &[lines])?));
        let mut map = defined()
            .write()
            .map_err(|_| "the page registry is poisoned".to_owned())?;
        Ok(Self(map.entry(name.to_owned()).or_insert(table)))
    }

    /// The page's tables.
    #[must_use]
    pub fn table(self) -> &'static Table {
        self.0
    }
}

/// A page, parsed: both directions.
pub struct Table {
    name: String,
    singles: [Char; 256],
    /// Every double-byte code, by its value.
    doubles: Vec<Char>,
    /// Each BMP character's code: below 0x100 a single byte, else a double.
    bmp: Vec<u16>,
    /// Characters beyond the BMP, and two-character sequences (a base and a mark).
    others: HashMap<(u32, u32), u16>,
    /// The characters that may start a two-character sequence.
    bases: Vec<bool>,
    /// The same, beyond the BMP (a user's Ext-B kanji with its variation selector).
    astral_bases: std::collections::HashSet<u32>,
    /// Whether any does (IBM 1390 and 1399, and users' tables with selectors).
    has_pairs: bool,
    /// The most UTF-8 bytes a byte of a value decodes to (a double-byte code's are
    /// shared by its two bytes): the room a value's text takes at most.
    widest: usize,
    /// Single bytes that are control characters (shift codes are not text either).
    control: [bool; 256],
    /// The same, for a mixed field: its shift codes are its structure.
    control_mixed: [bool; 256],
    /// Each single byte's ASCII byte, 0 where it stands for none.
    ascii: [u8; 256],
    /// Each ASCII byte's single byte.
    from_ascii: [Option<u8>; 128],
    /// Shift-out sequences (the first is written) and the shift-in sequence.
    so: Vec<Vec<u8>>,
    si: Vec<u8>,
    /// Bytes that start a shift sequence.
    shift_start: [bool; 256],
    /// The bytes of a space, and of U+3000 (two spaces where the page has none).
    space: u8,
    ideographic_space: [u8; 2],
    /// The run of bytes around the space, none of them a control character nor the
    /// start of a shift (0x40–0xFE on IBM's pages): a value whose bytes all lie in it
    /// is found free of control characters without a look-up per byte.
    plain: (u8, u8),
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
    (!chars.is_empty() && chars.len() <= 2).then_some(())?;
    Some((code, chars, parts.next() == Some("r")))
}

/// A table's entries: (code, characters, read only), in order.
type Entries = Vec<(u16, Vec<char>, bool)>;

fn entries(text: &str, offset: u16, width: usize, out: &mut Entries) -> Result<(), String> {
    for row in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (code, chars, read_only) = line(row).ok_or_else(|| format!("bad line {row:?}"))?;
        let digits = row.split('\t').next().map_or(0, str::len);
        if width != 0 && digits != width {
            return Err(format!("bad code in {row:?}"));
        }
        let hex = row.split('\t').next().unwrap_or("");
        if (digits != 2 && digits != 4) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("a code is two or four hex digits: {row:?}"));
        }
        if digits == 4 && code < 0x100 {
            return Err(format!(
                "a double-byte code's first byte is not 00: {row:?}"
            ));
        }
        let code = if digits == 2 {
            code
        } else {
            code.wrapping_add(offset)
        };
        out.push((code, chars, read_only));
    }
    Ok(())
}

/// Shift modes as constants, for the encoder's lean pass (one copy of it per mode).
const SINGLE: u8 = 0;
const MIXED: u8 = 1;
const GRAPHIC: u8 = 2;

/// What [`Table::encode_checked`] found of a value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Its bytes are in the output.
    pub written: bool,
    /// It holds a control character.
    pub control: bool,
    /// It fails its field's character check.
    pub class: bool,
}

/// The character of UTF-8 `v` at `i` and its length, or None where the bytes are not
/// UTF-8 there (Arrow's strings always are; a direct caller's may not be).
// the encoder's inner loop calls it per character: not inlined, it was 8% of a write
#[allow(clippy::inline_always)]
#[inline(always)]
fn utf8_at(v: &[u8], i: usize) -> Option<(u32, usize)> {
    let b0 = *v.get(i)?;
    if b0 < 0x80 {
        return Some((u32::from(b0), 1));
    }
    let cont = |k: usize| {
        v.get(i + k)
            .filter(|&&b| b & 0xC0 == 0x80)
            .map(|&b| u32::from(b & 0x3F))
    };
    match b0 {
        0x00..=0x7F => Some((u32::from(b0), 1)),
        0xC2..=0xDF => Some(((u32::from(b0 & 0x1F) << 6) | cont(1)?, 2)),
        0xE0..=0xEF => Some(((u32::from(b0 & 0x0F) << 12) | (cont(1)? << 6) | cont(2)?, 3)),
        0xF0..=0xF4 => Some((
            (u32::from(b0 & 0x07) << 18) | (cont(1)? << 12) | (cont(2)? << 6) | cont(3)?,
            4,
        )),
        _ => None,
    }
}

impl Table {
    fn build(source: &Source, user: &[&str]) -> Result<Self, String> {
        let mut rows = Entries::new();
        entries(source.singles, 0, 2, &mut rows)?;
        for (text, offset) in source.doubles {
            entries(text, *offset, 4, &mut rows)?;
        }
        for text in user {
            entries(text, 0, 0, &mut rows)?;
        }
        let mut table = Self {
            name: source.name.to_owned(),
            singles: [Char::default(); 256],
            doubles: vec![Char::default(); 65536],
            bmp: vec![UNENCODABLE; 65536],
            others: HashMap::new(),
            bases: vec![false; 65536],
            astral_bases: std::collections::HashSet::new(),
            has_pairs: false,
            widest: 8,
            control: [false; 256],
            control_mixed: [false; 256],
            ascii: [0; 256],
            from_ascii: [None; 128],
            so: source.so.iter().map(|s| s.to_vec()).collect(),
            si: source.si.to_vec(),
            shift_start: [false; 256],
            space: 0x40,
            ideographic_space: [0x40, 0x40],
            plain: (1, 0),
        };
        for seq in source.so.iter().chain([&source.si]) {
            table.shift_start[usize::from(seq[0])] = true;
        }
        // a user's line takes the place of a shipped one for the same code
        let mut last: HashMap<u16, usize> = HashMap::new();
        for (i, (code, _, _)) in rows.iter().enumerate() {
            last.insert(*code, i);
        }
        for (i, (code, chars, read_only)) in rows.iter().enumerate() {
            if last[code] != i {
                continue;
            }
            let [lead, trail] = code.to_be_bytes();
            let starts_shift = if *code < 0x100 {
                table.shift_start[usize::from(trail)]
            } else {
                table.shift_start[usize::from(lead)]
            };
            // no code is a shift code or starts with one, in a user's table nor in a
            // shipped one: a field with no shift codes is read with no look for them
            // (`decode_unshifted`), where a look-up refuses a shift byte as they are
            // refused out of place
            if starts_shift {
                return Err(format!("{code:X} stands where a shift code starts"));
            }
            table.put_entry(*code, chars, *read_only);
        }
        table.finish(source.carriers);
        Ok(table)
    }

    /// Add one code: its reading, and its writing unless another code has it already.
    fn put_entry(&mut self, code: u16, chars: &[char], read_only: bool) {
        let written = match chars {
            [one] if u32::from(*one) < 0x10000 => self.bmp[*one as usize] != UNENCODABLE,
            [one] => self.others.contains_key(&(u32::from(*one), 0)),
            [base, mark] => self
                .others
                .contains_key(&(u32::from(*base), u32::from(*mark))),
            _ => true,
        };
        let read_only = read_only || written;
        let c = Char::of(chars, read_only);
        if code < 0x100 {
            let b = usize::from(code as u8);
            self.singles[b] = c;
            let x = u32::from(chars[0]);
            self.control[b] = chars.len() == 1 && (x < 0x20 || (0x7F..0xA0).contains(&x));
        } else {
            self.doubles[usize::from(code)] = c;
        }
        if read_only {
            return;
        }
        match chars {
            [one] if u32::from(*one) < 0x10000 => self.bmp[*one as usize] = code,
            [one] => {
                self.others.insert((u32::from(*one), 0), code);
            }
            [base, mark] => {
                self.others
                    .insert((u32::from(*base), u32::from(*mark)), code);
                match u16::try_from(u32::from(*base)) {
                    Ok(b) => self.bases[usize::from(b)] = true,
                    Err(_) => {
                        self.astral_bases.insert(u32::from(*base));
                    }
                }
                self.has_pairs = true;
            }
            _ => {}
        }
    }

    /// What follows from the entries: the carriers of unmapped codes, ASCII, controls
    /// and spaces.
    fn finish(&mut self, carriers: &[[u8; 4]]) {
        for &[lead_lo, lead_hi, trail_lo, trail_hi] in carriers {
            for lead in lead_lo..=lead_hi {
                for trail in trail_lo..=trail_hi {
                    let code = u16::from_be_bytes([lead, trail]);
                    if self.doubles[usize::from(code)].len == 0
                        && !self.shift_start[usize::from(lead)]
                    {
                        let ch = char::from_u32(CARRIER + u32::from(code))
                            .expect("plane 15 holds every 16-bit offset");
                        self.put_entry(code, &[ch], false);
                    }
                }
            }
        }
        for (b, c) in self.singles.iter().enumerate() {
            let first = c.utf8.to_le_bytes()[0];
            if c.len == 1 && first < 0x80 && !c.read_only {
                self.ascii[b] = first;
                self.from_ascii[usize::from(first)] = Some(b as u8);
            }
        }
        // a zoned number's last byte carries its sign in the zone nibble (C: +, D: -),
        // whatever character a page puts there; numbers are read through ASCII, where
        // the overpunch of a signed zero is `{` and `}` (the others are A-I and J-R,
        // which every EBCDIC page has at C1-C9 and D1-D9)
        if self.from_ascii[usize::from(b'0')] == Some(0xF0) {
            for (byte, punch) in [(0xC0u8, b'{'), (0xD0, b'}')] {
                if self.ascii[usize::from(byte)] == 0
                    && self.from_ascii[usize::from(punch)].is_none()
                {
                    self.ascii[usize::from(byte)] = punch;
                    self.from_ascii[usize::from(punch)] = Some(byte);
                }
            }
        }
        self.widest = self
            .singles
            .iter()
            .map(|c| usize::from(c.len))
            .chain(self.doubles.iter().map(|c| usize::from(c.len).div_ceil(2)))
            .max()
            .unwrap_or(0);
        self.control_mixed = self.control;
        for (b, &starts) in self.shift_start.iter().enumerate() {
            self.control[b] |= starts;
        }
        if let Ok(space) = u8::try_from(self.bmp[0x20]) {
            self.space = space;
        }
        self.ideographic_space = match self.bmp[0x3000] {
            UNENCODABLE => [self.space; 2],
            code => code.to_be_bytes(),
        };
        // (`control` holds the mixed fields' controls and the shift starts too)
        let clean = |b: u8| !self.control[usize::from(b)];
        let (mut low, mut high) = (self.space, self.space);
        if clean(self.space) {
            while low > 0 && clean(low - 1) {
                low -= 1;
            }
            while high < u8::MAX && clean(high + 1) {
                high += 1;
            }
            self.plain = (low, high);
        }
    }

    /// The single byte that pads a field.
    #[must_use]
    pub fn space(&self) -> u8 {
        self.space
    }

    /// The bytes of U+3000, which pad a graphic field.
    #[must_use]
    pub fn ideographic_space(&self) -> &[u8; 2] {
        &self.ideographic_space
    }

    /// The shift-out sequences (the first is the one written) and the shift-in.
    #[must_use]
    pub fn shift_codes(&self) -> (&[Vec<u8>], &[u8]) {
        (&self.so, &self.si)
    }

    /// Where each character of a field's bytes stands, in a field of this shift mode:
    /// its code's offset and width, once per character the code reads as (a base and
    /// its mark: twice), up to the first code that reads as none. Shift codes are
    /// stepped over as they are, those the writer would not write included. What a
    /// report shows of one character: its own bytes.
    #[must_use]
    pub fn char_places(&self, bytes: &[u8], shift: Shift) -> Vec<(usize, usize)> {
        let mut places = Vec::new();
        let mut double = shift == Shift::Graphic;
        let mut text = Vec::with_capacity(8);
        let mut i = 0;
        'codes: while i < bytes.len() {
            if shift == Shift::SoSi {
                if bytes[i..].starts_with(&self.si) && !self.si.is_empty() {
                    double = false;
                    i += self.si.len();
                    continue;
                }
                for so in &self.so {
                    if !so.is_empty() && bytes[i..].starts_with(so) {
                        double = true;
                        i += so.len();
                        continue 'codes;
                    }
                }
            }
            let width = if double { 2 } else { 1 };
            let Some(code) = bytes.get(i..i + width) else {
                break;
            };
            text.clear();
            let mode = if double { Shift::Graphic } else { Shift::None };
            if self.decode(code, mode, &mut text).is_none() {
                break;
            }
            let chars = String::from_utf8_lossy(&text).chars().count();
            places.extend(std::iter::repeat_n((i, width), chars));
            i += width;
        }
        places
    }

    /// The lowest and highest byte of a run in which no byte is a control character
    /// in a field of any shift mode (the lowest above the highest: no such run).
    #[must_use]
    pub fn plain_bytes(&self) -> (u8, u8) {
        self.plain
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

    /// Whether the last character before `at` in UTF-8 `text` and the first from `at` on
    /// are a base and a mark that the page writes as one code.
    fn pairs_across(&self, text: &[u8], at: usize) -> bool {
        // the last character before `at` starts at the last byte that is no UTF-8
        // continuation: at most four bytes back, whatever the value's length
        let Some(start) = text[..at]
            .iter()
            .rposition(|&b| b & 0xC0 != 0x80)
            .filter(|&k| at - k <= 4)
        else {
            return false;
        };
        let (Some((base, _)), Some((mark, _))) = (utf8_at(text, start), utf8_at(text, at)) else {
            return false;
        };
        self.others.contains_key(&(base, mark))
    }

    /// The shift sequence at the start of `rest`, if one is: whether it shifts to
    /// double bytes, its length, and whether the writer writes it so.
    fn shift_at(&self, rest: &[u8]) -> Option<(bool, usize, bool)> {
        if rest.starts_with(&self.si) {
            return Some((false, self.si.len(), true));
        }
        let at = self.so.iter().position(|s| rest.starts_with(s))?;
        Some((true, self.so[at].len(), at == 0))
    }

    /// Append the UTF-8 of a field's bytes (padding already cut) to `out`; None (and
    /// `out` as it was) where a byte or pair decodes to nothing, a shift code has no
    /// partner or stands where `shift` allows none, or the value ends in double-byte
    /// mode. `Seen::rewritten` marks bytes the writer would not give back: a duplicate
    /// code, another shift-out code than the writer's, or an empty shift pair.
    pub fn decode(&self, bytes: &[u8], shift: Shift, out: &mut Vec<u8>) -> Option<Seen> {
        let start = out.len();
        let got = self.decode_inner(bytes, shift, out);
        if got.is_none() {
            out.truncate(start);
        }
        got
    }

    fn decode_inner(&self, bytes: &[u8], shift: Shift, out: &mut Vec<u8>) -> Option<Seen> {
        if !self.has_pairs && shift != Shift::SoSi {
            return self.decode_unshifted(bytes, shift == Shift::Graphic, out);
        }
        self.decode_shifting(bytes, shift, out)
    }

    /// `decode_inner` in general: shift codes looked for at every byte.
    fn decode_shifting(&self, bytes: &[u8], shift: Shift, out: &mut Vec<u8>) -> Option<Seen> {
        let mut seen = Seen::default();
        let mut double = shift == Shift::Graphic;
        // room for the longest text and the eight bytes each write carries
        let mut at = out.len();
        out.resize(at + self.widest * bytes.len() + 8, 0);
        let mut i = 0;
        // where the last shift code ended: a shift-in there ends an empty pair, and a
        // shift-out there follows a shift-in at once (two runs the writer writes as one)
        let mut shifted_at = usize::MAX;
        let start = at;
        while i < bytes.len() {
            let b = bytes[i];
            if self.shift_start[usize::from(b)] {
                if let Some((to_double, len, canonical)) = self.shift_at(&bytes[i..]) {
                    // shift-out only from single-byte mode, shift-in only from double-byte
                    // mode, and neither in a graphic or single-byte field
                    if shift != Shift::SoSi || double == to_double {
                        return None;
                    }
                    seen.rewritten |= !canonical || shifted_at == i;
                    double = to_double;
                    i += len;
                    shifted_at = i;
                    continue;
                }
            }
            let before = at;
            let c = if double {
                let trail = *bytes.get(i + 1)?;
                i += 2;
                self.doubles[usize::from(u16::from_be_bytes([b, trail]))]
            } else {
                i += 1;
                self.singles[usize::from(b)]
            };
            if !Self::put(c, out, &mut at, &mut seen) {
                return None;
            }
            // two codes whose characters meet as a base and its mark: the writer writes
            // them as the one code that holds both
            if self.has_pairs
                && before > start
                && self.pairs_across(&out[start..at], before - start)
            {
                seen.rewritten = true;
            }
        }
        out.truncate(at);
        (!double || shift == Shift::Graphic).then_some(seen)
    }

    /// `decode_inner` of a field with no shift codes or a graphic one (`graphic`), on a
    /// table where no two codes' characters pair: a byte or a pair at a time, one
    /// look-up each (the general loop's checks were half the cost of reading a host
    /// file's text). A shift code is refused as the general loop refuses one out of
    /// place: no code is one or starts with one (`build`).
    fn decode_unshifted(&self, bytes: &[u8], graphic: bool, out: &mut Vec<u8>) -> Option<Seen> {
        let mut seen = Seen::default();
        let mut at = out.len();
        out.resize(at + self.widest * bytes.len() + 8, 0);
        let mut whole = true;
        if graphic {
            let pairs = bytes.chunks_exact(2);
            if !pairs.remainder().is_empty() {
                return None;
            }
            for pair in pairs {
                let c = self.doubles[usize::from(u16::from_be_bytes([pair[0], pair[1]]))];
                whole &= Self::put(c, out, &mut at, &mut seen);
            }
        } else {
            for &b in bytes {
                whole &= Self::put(self.singles[usize::from(b)], out, &mut at, &mut seen);
            }
        }
        out.truncate(at);
        whole.then_some(seen)
    }

    /// The code of `first`, or of `first` and the character after it (at `rest`)
    /// together where the page writes a base and its combining mark as one code; and the
    /// bytes of `rest` taken with it.
    fn code_of(&self, first: u32, rest: &[u8]) -> Option<(u16, usize)> {
        let base = if first < 0x10000 {
            self.bases[first as usize]
        } else {
            self.astral_bases.contains(&first)
        };
        if self.has_pairs && base {
            if let Some((mark, len)) = utf8_at(rest, 0) {
                if let Some(&code) = self.others.get(&(first, mark)) {
                    return Some((code, len));
                }
            }
        }
        let code = if first < 0x10000 {
            self.bmp[first as usize]
        } else {
            *self.others.get(&(first, 0))?
        };
        (code != UNENCODABLE).then_some((code, 0))
    }

    /// Append the bytes of `text` to `out`: single bytes, and double-byte runs between
    /// shift codes (`Shift::SoSi`) or double bytes only (`Shift::Graphic`). False (and
    /// `out` as it was) where a character has no code, or no code of the kind the
    /// field holds.
    pub fn encode(&self, text: &str, shift: Shift, out: &mut Vec<u8>) -> bool {
        self.encode_value(text.as_bytes(), shift, out).0
    }

    /// [`Table::encode`] on a value's UTF-8 bytes, in one pass that also says whether it
    /// holds a control character (which the writer refuses first): (written, control).
    /// Bytes that are not UTF-8 are not written.
    pub fn encode_value(&self, value: &[u8], shift: Shift, out: &mut Vec<u8>) -> (bool, bool) {
        let got = self.encode_checked(value, shift, Check::Nothing, out);
        (got.written, got.control)
    }

    /// [`Table::encode_value`] with a field's character check made in the same pass.
    /// Where the value is not written, `control` and `class` cover only the characters
    /// before the one refused.
    pub fn encode_checked(
        &self,
        value: &[u8],
        shift: Shift,
        check: Check,
        out: &mut Vec<u8>,
    ) -> Checked {
        let start = out.len();
        // most values are plain BMP text the page has: a lean pass for them, and the
        // general one below for the rest (it starts again, and says what the lean one
        // cannot: which characters came before the one refused)
        if !self.has_pairs {
            // every character's bytes and a shift code on either side, at most
            out.resize(start + 3 * value.len() + 2 * self.si.len(), 0);
            if let Some((got, len)) = self.encode_into(value, shift, check, &mut out[start..]) {
                out.truncate(start + len);
                return got;
            }
            out.truncate(start);
        }
        // the checks of the characters so far: all of them once the value is written
        let mut kinds = Kinds::default();
        let checked = |kinds: &Kinds, written: bool| Checked {
            written,
            control: kinds.control(),
            class: kinds.fail(check),
        };
        let mut double = false;
        let mut i = 0;
        while i < value.len() {
            let Some((c, len)) = utf8_at(value, i) else {
                out.truncate(start);
                return checked(&kinds, false);
            };
            kinds.add(c);
            i += len;
            let Some((code, taken)) = self.code_of(c, &value[i..]) else {
                out.truncate(start);
                return checked(&kinds, false);
            };
            if taken > 0 {
                // the mark written with its base is checked too
                if let Some((mark, _)) = utf8_at(value, i) {
                    kinds.add(mark);
                }
                i += taken;
            }
            let wide = code >= 0x100;
            let fits = match shift {
                Shift::None => !wide,
                Shift::SoSi => true,
                Shift::Graphic => wide,
            };
            if !fits {
                out.truncate(start);
                return checked(&kinds, false);
            }
            if shift == Shift::SoSi && wide != double {
                out.extend_from_slice(if wide { &self.so[0] } else { &self.si });
                double = wide;
            }
            if wide {
                out.extend_from_slice(&code.to_be_bytes());
            } else {
                out.push(code as u8);
            }
        }
        if double {
            out.extend_from_slice(&self.si);
        }
        checked(&kinds, true)
    }

    /// [`Table::encode_checked`]'s lean pass, into `out` from its start: the checks
    /// and the bytes written, where the page has no two-character sequences, every
    /// character is in the BMP and has a code of the field's kind, and the bytes fit in
    /// `out`; else None (and `out` partly written), and [`Table::encode_checked`] says
    /// why. The writer encodes into a record's field this way, with no copy.
    #[must_use]
    pub fn encode_into(
        &self,
        value: &[u8],
        shift: Shift,
        check: Check,
        out: &mut [u8],
    ) -> Option<(Checked, usize)> {
        if self.has_pairs {
            return None;
        }
        match shift {
            Shift::None => self.encode_plain::<SINGLE>(value, check, out),
            Shift::SoSi => self.encode_plain::<MIXED>(value, check, out),
            Shift::Graphic => self.encode_plain::<GRAPHIC>(value, check, out),
        }
    }

    /// [`Table::encode_into`] in a field of shift mode `S` ([`SINGLE`], [`MIXED`] or
    /// [`GRAPHIC`]). The checks are gathered without a branch per character.
    fn encode_plain<const S: u8>(
        &self,
        value: &[u8],
        check: Check,
        out: &mut [u8],
    ) -> Option<(Checked, usize)> {
        let mut kinds = Kinds::default();
        let mut double = false;
        let mut i = 0;
        let mut at = 0;
        while i < value.len() {
            let b0 = value[i];
            let c = if b0 < 0x80 {
                i += 1;
                u32::from(b0)
            } else if let Some(c) = three_byte_char(value, i) {
                i += 3;
                c
            } else {
                let (c, len) = utf8_at(value, i)?;
                i += len;
                c
            };
            kinds.add(c);
            let code = *self.bmp.get(c as usize)?;
            if code == UNENCODABLE {
                return None;
            }
            let wide = code >= 0x100;
            match S {
                SINGLE if wide => return None,
                GRAPHIC if !wide => return None,
                MIXED if wide != double => {
                    let shift = if wide { &self.so[0] } else { &self.si };
                    out.get_mut(at..at + shift.len())?.copy_from_slice(shift);
                    at += shift.len();
                    double = wide;
                }
                _ => {}
            }
            if wide {
                out.get_mut(at..at + 2)?
                    .copy_from_slice(&code.to_be_bytes());
                at += 2;
            } else {
                *out.get_mut(at)? = code.to_le_bytes()[0];
                at += 1;
            }
        }
        if double {
            out.get_mut(at..at + self.si.len())?
                .copy_from_slice(&self.si);
            at += self.si.len();
        }
        let got = Checked {
            written: true,
            control: kinds.control(),
            class: kinds.fail(check),
        };
        Some((got, at))
    }

    /// The single byte of an ASCII byte's character, or None: numbers, dates, codes and
    /// digits are formatted in ASCII and written in the page's bytes.
    #[must_use]
    pub fn from_ascii(&self, b: u8) -> Option<u8> {
        *self.from_ascii.get(usize::from(b))?
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
        table.encode_value(value, shift, out).0
    })
}

#[cfg(test)]
mod tests {
    use super::{encode_values, Page, Shift, SI, SO};
    use crate::typed::Check;

    fn page(name: &str) -> Page {
        Page::from_name(name).unwrap()
    }

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
    fn each_character_is_placed_at_its_own_code() {
        let jef = page("jef").table();
        // shift codes stepped over, the writer's or not: each 山 at its own code
        assert_eq!(
            jef.char_places(b"\x28\xbb\xb3\x29\x28\xbb\xb3\x29", Shift::SoSi),
            [(1, 2), (5, 2)]
        );
        let ibm = page("ibm930").table();
        assert_eq!(
            ibm.char_places(b"\x45\x65\x40\x40", Shift::Graphic),
            [(0, 2), (2, 2)]
        );
        // single bytes, up to the first that reads as nothing (a lone half code here)
        assert_eq!(ibm.char_places(b"\xf1\xf2", Shift::None), [(0, 1), (1, 1)]);
        assert_eq!(ibm.char_places(b"\x45\x65\x40", Shift::Graphic), [(0, 2)]);
    }

    #[test]
    fn mixed_text_shifts_between_single_and_double_bytes() {
        let bytes = b"\xc1\x0e\x45\x41\x0f\xc2";
        assert_eq!(
            decode(page("ibm939"), bytes, Shift::SoSi).as_deref(),
            Some("A一B")
        );
        assert_eq!(
            encode(page("ibm939"), "A一B", Shift::SoSi).as_deref(),
            Some(&bytes[..])
        );
        // 930 has katakana where 939 has Latin lowercase
        assert_eq!(
            decode(page("ibm930"), b"\x81", Shift::None).as_deref(),
            Some("ｱ")
        );
        assert_eq!(
            decode(page("ibm939"), b"\x81", Shift::None).as_deref(),
            Some("a")
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_never_written() {
        let table = page("ibm930").table();
        let write = |value: &[u8], shift| {
            let mut out = vec![0xAA];
            let got = table.encode_checked(value, shift, Check::Nothing, &mut out);
            (got.written, out)
        };
        // 一 is E4 B8 80: each byte of it changed, cut short, or followed by a stray
        for bad in [
            &b"\xe4\xb8"[..],
            b"\xe4",
            b"\xe4\x38\x80",
            b"\xe4\xb8\x00",
            b"\xe4\xb8\xc0",
            b"\xe4\xf8\x80",
            b"\xe4\xb8\x80\xb8",
            b"\xb8\x80",
        ] {
            for shift in [Shift::Graphic, Shift::SoSi] {
                assert_eq!(write(bad, shift), (false, vec![0xAA]), "{bad:x?} {shift:?}");
            }
        }
        assert_eq!(
            write("一".as_bytes(), Shift::Graphic),
            (true, vec![0xAA, 0x45, 0x41])
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
            assert_eq!(decode(page("ibm930"), bad, Shift::SoSi), None, "{bad:?}");
        }
        assert_eq!(
            decode(page("ibm930"), b"\x0e\x45\x41\x0f", Shift::None),
            None
        );
        assert_eq!(
            decode(page("ibm930"), b"\x45\x41\x40\x40", Shift::Graphic).as_deref(),
            Some("一\u{3000}")
        );
        assert_eq!(
            decode(page("ibm930"), b"\x0e\x45\x41\x0f", Shift::Graphic),
            None
        );
        assert_eq!(decode(page("ibm930"), b"\x45", Shift::Graphic), None);
    }

    #[test]
    fn an_empty_shift_pair_reads_but_is_marked() {
        let mut out = Vec::new();
        let seen = page("ibm930")
            .table()
            .decode(&[0xC1, SO, SI], Shift::SoSi, &mut out);
        assert!(seen.is_some_and(|s| s.rewritten));
        assert_eq!(out, b"A");
    }

    #[test]
    fn user_defined_codes_are_private_use_and_written_back() {
        assert_eq!(
            decode(page("ibm930"), b"\x69\x41", Shift::Graphic).as_deref(),
            Some("\u{e000}")
        );
        assert_eq!(
            encode(page("ibm930"), "\u{e000}", Shift::Graphic),
            Some(vec![0x69, 0x41])
        );
    }

    #[test]
    fn a_graphic_field_takes_no_single_byte_character_and_a_plain_one_no_kanji() {
        assert_eq!(encode(page("ibm930"), "A", Shift::Graphic), None);
        assert_eq!(encode(page("ibm930"), "一", Shift::None), None);
        assert_eq!(encode(page("ibm930"), "€", Shift::SoSi), None); // 1390 has the euro
        assert_eq!(encode(page("ibm1390"), "€", Shift::None), Some(vec![0xE1]));
    }

    #[test]
    fn ibm1390_writes_a_base_and_mark_as_one_code_and_reads_it_back() {
        let written = encode(page("ibm1390"), "か\u{309a}", Shift::Graphic).unwrap();
        assert_eq!(written, vec![0xEC, 0xB5]);
        assert_eq!(
            decode(page("ibm1390"), &written, Shift::Graphic).as_deref(),
            Some("か\u{309a}")
        );
        assert_eq!(encode(page("ibm930"), "か\u{309a}", Shift::Graphic), None);
    }

    #[test]
    fn digits_translate_both_ways() {
        let t = page("ibm930").table();
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
        let got = encode_values("ｱ一".as_bytes(), &[0, 3, 3, 6], page("ibm930"), Shift::SoSi);
        assert_eq!(got.data, vec![0x81, SO, 0x45, 0x41, SI]);
        assert_eq!(got.lengths, vec![1, 0, 4]);
    }

    #[test]
    fn vendor_pages_shift_with_their_own_codes() {
        // 山 is JIS 0x3B33: JEF and KEIS at +0x8080, JIPS(J) at the code itself
        assert_eq!(
            encode(page("jef"), "A山1", Shift::SoSi),
            Some(vec![0xC1, 0x28, 0xBB, 0xB3, 0x29, 0xF1])
        );
        assert_eq!(
            encode(page("keis"), "A山", Shift::SoSi),
            Some(vec![0xC1, 0x0A, 0x42, 0xBB, 0xB3, 0x0A, 0x41])
        );
        assert_eq!(
            encode(page("jips"), "A山", Shift::SoSi),
            Some(vec![0x41, 0x1A, 0x70, 0x3B, 0x33, 0x1A, 0x71])
        );
        for (name, bytes) in [
            ("jef", &b"\xc1\x28\xbb\xb3\x29"[..]),
            ("keis", b"\xc1\x0a\x42\xbb\xb3\x0a\x41"),
            ("jips", b"A\x1a\x70\x3b\x33\x1a\x71"),
        ] {
            assert_eq!(
                decode(page(name), bytes, Shift::SoSi).as_deref(),
                Some("A山")
            );
            // a shift-in with no shift-out, and a value that ends in double bytes
            assert_eq!(
                decode(page(name), &bytes[bytes.len() - 2..], Shift::SoSi),
                None
            );
            assert_eq!(
                decode(page(name), &bytes[..bytes.len() - 2], Shift::SoSi),
                None
            );
        }
        // a lone 0x0A in KEIS is no shift code and no character
        assert_eq!(decode(page("keis"), b"\x0a\xc1", Shift::SoSi), None);
        // JEF's 9-point shift-out reads, and is marked: the writer writes 0x28
        let mut out = Vec::new();
        let seen = page("jef")
            .table()
            .decode(b"\x38\xbb\xb3\x29", Shift::SoSi, &mut out);
        assert!(seen.is_some_and(|s| s.rewritten));
        assert_eq!(out, "山".as_bytes());
    }

    #[test]
    fn an_unmapped_vendor_code_is_a_plane_15_character_both_ways() {
        // JEF's user-defined area (lead 0x80-0xA0) and a JIS code with no character
        for (code, ch) in [([0x80u8, 0xA1u8], '\u{F80A1}'), ([0xA2, 0xAF], '\u{FA2AF}')] {
            let text = decode(page("jef"), &code, Shift::Graphic).unwrap();
            assert_eq!(text, ch.to_string());
            assert_eq!(
                encode(page("jef"), &text, Shift::Graphic),
                Some(code.to_vec())
            );
        }
        // outside the structure's codes: undefined, never carried
        assert_eq!(decode(page("jef"), b"\x80\x40", Shift::Graphic), None);
        // a code some table maps is written as that code, so its carrier is not written
        assert_eq!(encode(page("jef"), "\u{FBBB3}", Shift::Graphic), None);
        // IBM's tables are complete: no carriers
        assert_eq!(encode(page("ibm930"), "\u{F4541}", Shift::Graphic), None);
    }

    #[test]
    fn a_users_table_adds_to_a_vendor_page() {
        let user = "80A1\tU+9AD9\n81\tU+FF71\n";
        let p = Page::define("jef-test-1", "jef", user).unwrap();
        assert_eq!(
            decode(p, b"\x80\xa1", Shift::Graphic).as_deref(),
            Some("髙")
        );
        assert_eq!(
            encode(p, "髙ｱ", Shift::SoSi),
            Some(vec![0x28, 0x80, 0xA1, 0x29, 0x81])
        );
        // the shipped page is as it was
        assert_eq!(encode(page("jef"), "髙", Shift::Graphic), None);
        assert_eq!(Page::from_name("chukan_jef-test-1"), Some(p));
        for bad in ["28\tU+0041\n", "80A1\tX\n", "8A1\tU+9AD9\n"] {
            assert!(Page::define("jef-test-bad", "jef", bad).is_err(), "{bad:?}");
        }
        assert!(Page::define("x", "ibm930", user).is_err());
    }

    #[test]
    fn vendor_pages_pad_and_count_with_their_own_spaces() {
        let (jef, keis, jips) = (
            page("jef").table(),
            page("keis").table(),
            page("jips").table(),
        );
        assert_eq!(
            (jef.space(), jef.ideographic_space()),
            (0x40, &[0x40, 0x40])
        );
        assert_eq!(
            (keis.space(), keis.ideographic_space()),
            (0x40, &[0xA1, 0xA1])
        );
        assert_eq!(
            (jips.space(), jips.ideographic_space()),
            (0x20, &[0x21, 0x21])
        );
        assert_eq!(
            (jef.from_ascii(b'7'), jips.from_ascii(b'7')),
            (Some(0xF7), Some(b'7'))
        );
        // JEF reads JIS's U+3000 too, and marks it: the writer writes 0x4040
        let mut out = Vec::new();
        assert!(jef
            .decode(b"\xa1\xa1", Shift::Graphic, &mut out)
            .is_some_and(|s| s.rewritten));
    }

    #[test]
    fn what_the_writer_would_write_otherwise_reads_marked() {
        let mut out = Vec::new();
        // two runs back to back, which the writer writes as one
        let seen =
            page("jef")
                .table()
                .decode(b"\x28\xbb\xb3\x29\x28\xbb\xb3\x29", Shift::SoSi, &mut out);
        assert!(seen.is_some_and(|s| s.rewritten));
        // a base and its mark from two codes, which the writer writes as one
        let p = Page::define(
            "jef-test-pairs",
            "jef",
            "80A5\tU+304B U+309A\n80A6\tU+309A\n",
        )
        .unwrap();
        out.clear();
        let seen = p
            .table()
            .decode(b"\xa4\xab\x80\xa6", Shift::Graphic, &mut out);
        assert!(seen.is_some_and(|s| s.rewritten));
        out.clear();
        let seen = p.table().decode(b"\x80\xa5", Shift::Graphic, &mut out);
        assert!(seen.is_some_and(|s| !s.rewritten));
    }

    #[test]
    fn a_users_table_may_hold_long_characters_and_astral_pairs() {
        // a single byte of two characters beyond the BMP: eight UTF-8 bytes from one byte
        let p = Page::define(
            "jef-test-long",
            "jef",
            "81\tU+20BB7 U+E0100\n80A4\tU+20BB7 U+E0101\n",
        )
        .unwrap();
        let text = decode(p, &[0x81; 9], Shift::None).unwrap();
        assert_eq!(text, "\u{20BB7}\u{E0100}".repeat(9));
        assert_eq!(encode(p, &text, Shift::None), Some(vec![0x81; 9]));
        assert_eq!(
            encode(p, "\u{20BB7}\u{E0101}", Shift::Graphic),
            Some(vec![0x80, 0xA4])
        );
        assert!(Page::define("jef", "jef", "").is_err());
        for bad in ["+1\tU+0041\n", "0041\tU+0041\n"] {
            assert!(
                Page::define("jef-test-bad2", "keis", bad).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn fields_without_shift_codes_read_alike_on_both_loops() {
        // random values over bytes that matter (shift codes, spaces, single bytes, lead
        // and trail bytes) on every page with no pairs, and on a user's
        let user =
            Page::define("jef-test-unshifted", "jef", "81\tU+20BB7\n80A4\tU+20BB6\n").unwrap();
        let pages: Vec<Page> = ["ibm930", "ibm939", "jef", "keis", "jips"]
            .into_iter()
            .map(page)
            .chain([user])
            .collect();
        let alphabet = [
            0x0E, 0x0F, 0x28, 0x29, 0x38, 0x0A, 0x1A, 0x40, 0x41, 0x45, 0x69, 0x80, 0x81, 0xA4,
            0xA1, 0xB0, 0xC1, 0xF0, 0xFE, 0xFF, 0x00,
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = usize::try_from(next() % 9).unwrap();
            let bytes: Vec<u8> = (0..len)
                .map(|_| alphabet[usize::try_from(next() % 21).unwrap()])
                .collect();
            for p in &pages {
                let table = p.table();
                for shift in [Shift::None, Shift::Graphic] {
                    let (mut fast, mut general) = (vec![7], vec![7]);
                    let a = table
                        .decode_unshifted(&bytes, shift == Shift::Graphic, &mut fast)
                        .map(|seen| (seen, fast));
                    let b = table
                        .decode_shifting(&bytes, shift, &mut general)
                        .map(|seen| (seen, general));
                    assert_eq!(a, b, "{} {bytes:x?} {shift:?}", table.name);
                }
            }
        }
    }
}
