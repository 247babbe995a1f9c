//! Encoding values for the writer: UTF-8 text to the bytes of a two-byte legacy
//! encoding, through a table of every BMP character's code that Python builds from
//! `CPython`'s codec and the layout's duplicate policy (`chukan.codec.encode_table`), so
//! that the writer's bytes are `CPython`'s and the policy's by construction.

use rayon::prelude::*;

/// A table entry for a character the encoding lacks.
pub const UNENCODABLE: u16 = 0xFFFF;

/// A table's codes (`chukan.codec.encode_table`): below 0x100 one byte, from 0x8000 two
/// (big-endian); between them EUC-JP's three-byte characters (JIS X 0212), `0x8F` then
/// the code's two bytes with the first one's high bit set.
pub const THREE_BELOW: u8 = 0x80;
/// EUC-JP's lead byte of three-byte characters.
pub const THREE: u8 = 0x8F;

/// A table code's bytes (as [`THREE_BELOW`] says), and how many of them it has.
#[inline]
#[must_use]
pub fn code_bytes(code: u16) -> ([u8; 3], usize) {
    let [hi, lo] = code.to_be_bytes();
    match hi {
        0 => ([lo, 0, 0], 1),
        THREE_BELOW.. => ([hi, lo, 0], 2),
        _ => ([THREE, hi | 0x80, lo], 3),
    }
}

/// Bytes of text each task encodes (then cut at the next line feed).
const PIECE: usize = 1 << 20;

/// A whole text of lines (a CSV's) encoded with `table`, pieces of it at once (on the
/// caller's rayon pool), each cut after a line feed, which is never inside a character;
/// None where a character has no code (or the text is not UTF-8).
#[must_use]
pub fn encode_lines(text: &[u8], table: &[u16]) -> Option<Vec<u8>> {
    let mut cuts = vec![0];
    let mut at = 0;
    while text.len() - at > PIECE {
        at = match memchr::memchr(b'\n', &text[at + PIECE..]) {
            Some(k) => at + PIECE + k + 1,
            None => text.len(),
        };
        cuts.push(at);
    }
    if at < text.len() {
        cuts.push(text.len());
    }
    let pieces: Vec<Option<Vec<u8>>> = cuts
        .par_windows(2)
        .map(|w| {
            let mut out = Vec::with_capacity(w[1] - w[0]);
            encode_value(&text[w[0]..w[1]], table, &mut out).then_some(out)
        })
        .collect();
    let mut out = Vec::with_capacity(text.len());
    for piece in pieces {
        out.extend_from_slice(&piece?);
    }
    Some(out)
}

/// Values encoded back to back, with each value's byte length and whether it held a
/// character the encoding lacks (such a value is left out: length 0).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Encoded {
    /// The bytes of the values that encode, back to back.
    pub data: Vec<u8>,
    /// Each value's byte length (0 for one left out).
    pub lengths: Vec<i64>,
    /// Values left out because a character has no code.
    pub unencodable: Vec<bool>,
}

/// Encode the values of `text` (UTF-8, value `i` at `offsets[i]..offsets[i + 1]`) with
/// `table` (65,536 entries: a code's bytes as [`THREE_BELOW`] says).
///
/// # Panics
/// When an offset lies outside `text` (the caller passes Arrow's own buffers).
#[must_use]
pub fn encode(text: &[u8], offsets: &[i64], table: &[u16]) -> Encoded {
    encode_with(text, offsets, |value, out| encode_value(value, table, out))
}

/// Encode each value of `text` (as [`encode`] cuts it) with `one`, which appends a
/// value's bytes and says whether it could; a value it cannot encode is left out.
///
/// # Panics
/// When an offset lies outside `text`.
pub fn encode_with(
    text: &[u8],
    offsets: &[i64],
    mut one: impl FnMut(&[u8], &mut Vec<u8>) -> bool,
) -> Encoded {
    let n = offsets.len().saturating_sub(1);
    let mut out = Encoded {
        data: Vec::with_capacity(text.len()),
        lengths: Vec::with_capacity(n),
        unencodable: vec![false; n],
    };
    for i in 0..n {
        let value = &text[offsets[i] as usize..offsets[i + 1] as usize];
        let start = out.data.len();
        if !one(value, &mut out.data) {
            out.data.truncate(start);
            out.unencodable[i] = true;
        }
        out.lengths.push((out.data.len() - start) as i64);
    }
    out
}

fn encode_value(value: &[u8], table: &[u16], out: &mut Vec<u8>) -> bool {
    if value.is_ascii() && value.iter().all(|&b| table[usize::from(b)] == u16::from(b)) {
        out.extend_from_slice(value);
        return true;
    }
    let Ok(text) = std::str::from_utf8(value) else {
        return false;
    };
    for ch in text.chars() {
        let Ok(c) = u16::try_from(u32::from(ch)) else {
            return false; // beyond the BMP: no legacy encoding has it
        };
        let code = table[usize::from(c)];
        if code == UNENCODABLE {
            return false;
        }
        // each length pushed as such (an extend of `n` bytes ran half again as many
        // instructions)
        match code_bytes(code) {
            ([first, _, _], 1) => out.push(first),
            ([first, second, _], 2) => out.extend_from_slice(&[first, second]),
            (three, _) => out.extend_from_slice(&three),
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::{encode, encode_lines, UNENCODABLE};

    #[test]
    fn values_encode_back_to_back_and_a_missing_character_leaves_its_value_out() {
        let mut table = vec![UNENCODABLE; 65536];
        for b in 0..0x80u16 {
            table[usize::from(b)] = b;
        }
        table[0x9AD9] = 0xFBFC; // 髙, under the IBM policy
        let text = "A髙B𠮷".as_bytes();
        let got = encode(text, &[0, 1, 4, 5, 9], &table);
        assert_eq!(got.data, b"A\xfb\xfcB");
        assert_eq!(got.lengths, vec![1, 2, 1, 0]);
        assert_eq!(got.unencodable, vec![false, false, false, true]);
    }

    #[test]
    fn a_code_below_0x8000_is_euc_jps_three_bytes() {
        let mut table = vec![UNENCODABLE; 65536];
        for b in [b'A', b'\n'] {
            table[usize::from(b)] = u16::from(b);
        }
        table[0x4E02] = 0x30A1; // 丂: 8F B0 A1
        table[0x5C71] = 0xBBB3; // 山
        table[0xFF71] = 0x8EB1; // ｱ
        let text = "丂A山ｱ".as_bytes();
        let got = encode(text, &[0, 3, 4, 10], &table);
        assert_eq!(got.data, b"\x8f\xb0\xa1A\xbb\xb3\x8e\xb1");
        assert_eq!(got.lengths, vec![3, 1, 4]);
        assert_eq!(
            encode_lines("丂\n".as_bytes(), &table).unwrap(),
            b"\x8f\xb0\xa1\n"
        );
    }

    #[test]
    fn lines_encode_in_pieces_cut_after_line_feeds() {
        let mut table = vec![UNENCODABLE; 65536];
        for b in 0..0x80u16 {
            table[usize::from(b)] = b;
        }
        table[0x9AD9] = 0xFBFC; // 髙
                                // pieces of a megabyte: a text of several, its characters across the cuts
        let line = "髙,abc\n".repeat(200_000);
        let got = encode_lines(line.as_bytes(), &table).unwrap();
        assert_eq!(got, b"\xfb\xfc,abc\n".repeat(200_000));
        let no_feed = "髙".repeat(400_000); // one piece, however long
        assert_eq!(
            encode_lines(no_feed.as_bytes(), &table).unwrap().len(),
            800_000
        );
        assert_eq!(encode_lines(b"", &table), Some(Vec::new()));
        assert_eq!(encode_lines("a\n\u{3042}\n".as_bytes(), &table), None);
    }
}
