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

#[cfg(test)]
mod tests {
    use super::{gather, intact};

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
