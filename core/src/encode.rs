//! Encoding values for the writer: UTF-8 text to the bytes of a two-byte legacy
//! encoding, through a table of every BMP character's code that Python builds from
//! `CPython`'s codec and the layout's duplicate policy (`chukan.codec.encode_table`), so
//! that the writer's bytes are `CPython`'s and the policy's by construction.

/// A table entry for a character the encoding lacks.
pub const UNENCODABLE: u16 = 0xFFFF;

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
/// `table` (65,536 entries: a code below 0x100 is one byte, above it two, big-endian).
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
        if code < 0x100 {
            out.push(code as u8);
        } else {
            out.extend_from_slice(&code.to_be_bytes());
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::{encode, UNENCODABLE};

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
}
