//! Record splitting: whether a chunk of a terminated fixed-width file is whole records
//! and nothing else, so that it can be cut by length alone.

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

#[cfg(test)]
mod tests {
    use super::intact;

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
}
