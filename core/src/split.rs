//! Record splitting: whether a chunk of a terminated fixed-width file is whole records
//! and nothing else, so that it can be cut by length alone; and, where it is not, its
//! good records gathered from where its lines start.

/// Whether the first `n` records of `bytes` (`size` bytes of data, then the terminator
/// `term`) each end in `term` and, with `feeds`, hold no other line feed: then no short
/// record hides in a pair of them, and cutting by length is exact. (Records with binary
/// fields may hold 0x0A as data: for them the terminators alone decide.) One pass over
/// the bytes.
#[must_use]
pub fn intact(bytes: &[u8], n: usize, size: usize, term: &[u8], feeds: bool) -> bool {
    let Some(stride) = size.checked_add(term.len()) else {
        return false;
    };
    let Some(body) = n.checked_mul(stride).and_then(|end| bytes.get(..end)) else {
        return false;
    };
    if stride == 0 || !body.chunks_exact(stride).all(|r| &r[size..] == term) {
        return n == 0;
    }
    // bytecount: the SIMD counter ripgrep uses (a line feed per byte would be slower)
    !feeds || bytecount::count(body, b'\n') == n * bytecount::count(term, b'\n')
}

/// The `size` bytes at each of `starts` in `bytes`, one after the other: the records of
/// a chunk that holds a bad one, as a matrix, from where its lines start. None where a
/// record would run past the end (the caller finds the lines, so this is its error).
/// (numpy's gather through a matrix of indices made eight bytes of index per byte
/// copied: reading a file with one short record in 10,000 took twice the time.)
#[must_use]
pub fn gather(bytes: &[u8], starts: &[i64], size: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(starts.len().checked_mul(size)?);
    for &start in starts {
        let start = usize::try_from(start).ok()?;
        out.extend_from_slice(bytes.get(start..start.checked_add(size)?)?);
    }
    Some(out)
}

/// The bytes at each of `starts`, `lengths[i]` of them, back to back (None when one
/// runs past the end of `bytes`): rejected records read again, whatever their lengths.
#[must_use]
pub fn gather_spans(bytes: &[u8], starts: &[i64], lengths: &[i64]) -> Option<Vec<u8>> {
    let total = lengths
        .iter()
        .try_fold(0usize, |n, &l| n.checked_add(usize::try_from(l).ok()?))?;
    let mut out = Vec::with_capacity(total);
    for (&start, &length) in starts.iter().zip(lengths) {
        let start = usize::try_from(start).ok()?;
        let length = usize::try_from(length).ok()?;
        out.extend_from_slice(bytes.get(start..start.checked_add(length)?)?);
    }
    Some(out)
}

/// Rows of bytes (row `i` is `bytes[at[i]..at[i + 1]]`) in lower-case hex, a space
/// between two bytes: their text back to back, and where each row's starts (None when
/// `at` is not a run of places in `bytes`). A reject file's records, as a person reads
/// them.
#[must_use]
pub fn hex_rows(bytes: &[u8], at: &[i64]) -> Option<(Vec<u8>, Vec<i64>)> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = Vec::with_capacity(bytes.len() * 3);
    let mut starts = Vec::with_capacity(at.len());
    starts.push(0);
    for pair in at.windows(2) {
        let (from, to) = (
            usize::try_from(pair[0]).ok()?,
            usize::try_from(pair[1]).ok()?,
        );
        for (k, &b) in bytes.get(from..to)?.iter().enumerate() {
            if k > 0 {
                text.push(b' ');
            }
            text.extend_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
        starts.push(i64::try_from(text.len()).ok()?);
    }
    Some((text, starts))
}

#[cfg(test)]
mod tests {
    use super::{gather, gather_spans, hex_rows, intact};

    #[test]
    fn rows_in_hex() {
        let (text, starts) = hex_rows(b"AB\x00\xff", &[0, 2, 2, 4]).unwrap();
        assert_eq!(text, b"41 4200 ff");
        assert_eq!(starts, [0, 5, 5, 10]);
        assert!(hex_rows(b"AB", &[0, 3]).is_none());
        assert!(hex_rows(b"AB", &[2, 1]).is_none());
    }

    #[test]
    fn spans_of_any_length() {
        assert_eq!(
            gather_spans(b"abcdef", &[4, 0, 2], &[2, 1, 0]).as_deref(),
            Some(&b"efa"[..])
        );
        assert_eq!(gather_spans(b"abcdef", &[5], &[2]), None); // past the end
        assert_eq!(gather_spans(b"abcdef", &[-1], &[1]), None);
        assert_eq!(
            gather_spans(b"abcdef", &[0, 1], &[1]).as_deref(),
            Some(&b"a"[..])
        ); // (zip)
    }

    #[test]
    fn whole_records_and_nothing_else() {
        assert!(intact(b"ab\r\ncd\r\n", 2, 2, b"\r\n", true));
        assert!(intact(b"ab\r\ncd\r\nx", 2, 2, b"\r\n", true)); // the rest is not read
        assert!(!intact(b"ab\r\ncdx\n", 2, 2, b"\r\n", true)); // a terminator out of place
        assert!(!intact(b"a\nb\ncde\n", 2, 3, b"\n", true)); // two short records in one
        assert!(intact(b"\n\nb\n\ncd\n", 2, 3, b"\n", false)); // binary data may hold 0x0A
        assert!(!intact(b"ab\n", 2, 2, b"\n", true)); // fewer bytes than records
        assert!(intact(b"", 0, 2, b"\n", true));
        assert!(!intact(b"ab", 1, 0, b"", true)); // no stride: nothing to cut
    }

    #[test]
    fn records_gathered_from_their_starts() {
        assert_eq!(gather(b"ab\nc\ncd\n", &[0, 5], 2), Some(b"abcd".to_vec()));
        assert_eq!(gather(b"ab\n", &[], 2), Some(Vec::new()));
        assert_eq!(gather(b"ab\ncd", &[3, 4], 2), None); // runs past the end
        assert_eq!(gather(b"ab", &[-1], 1), None);
    }
}
