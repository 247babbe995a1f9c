//! Arrow's string views (`Utf8View`, the layout Polars keeps its strings in): 16 bytes
//! per row, the value's length (`u32`), then the value itself when it is at most 12
//! bytes, else its first 4 bytes, the index of its buffer and its offset there.

/// Values up to this many bytes sit in their view.
pub const INLINE: usize = 12;

fn word(view: &[u8], at: usize) -> usize {
    u32::from_le_bytes([view[at], view[at + 1], view[at + 2], view[at + 3]]) as usize
}

/// Row `row`'s value. The caller has checked the views with [`fit`].
#[must_use]
pub fn value<'a>(views: &'a [u8], buffers: &[&'a [u8]], row: usize) -> &'a [u8] {
    let view = &views[16 * row..16 * row + 16];
    let length = word(view, 0);
    if length <= INLINE {
        &view[4..4 + length]
    } else {
        let (buffer, offset) = (word(view, 8), word(view, 12));
        &buffers[buffer][offset..offset + length]
    }
}

/// Row `row`'s value with the bytes after it in its view, [`INLINE`] bytes in all, where
/// it sits there (a writer copies them at a known size, then cuts them to the value).
#[must_use]
pub fn inline(views: &[u8], row: usize) -> Option<&[u8]> {
    let view = &views[16 * row..16 * row + 16];
    (word(view, 0) <= INLINE).then(|| &view[4..])
}

/// Whether `views` hold `n` rows, each inside its buffer (a view from Python is data).
#[must_use]
pub fn fit(views: &[u8], buffers: &[&[u8]], n: usize) -> bool {
    views.len() == 16 * n
        && views.chunks_exact(16).all(|view| {
            let length = word(view, 0);
            length <= INLINE
                || buffers.get(word(view, 8)).is_some_and(|b| {
                    word(view, 12)
                        .checked_add(length)
                        .is_some_and(|end| end <= b.len())
                })
        })
}

/// The view of `value`: the value itself when it is short, else its first bytes and
/// where it sits (`offset` in buffer `buffer`).
#[must_use]
pub fn make(value: &[u8], buffer: u32, offset: u32) -> [u8; 16] {
    let mut view = [0u8; 16];
    write(&mut view, value, buffer, offset);
    view
}

/// [`make`] into `view` (16 bytes, zeros where a short value leaves them): written in
/// place, as the readers fill their columns' views.
pub fn write(view: &mut [u8], value: &[u8], buffer: u32, offset: u32) {
    view[..4].copy_from_slice(&(value.len() as u32).to_le_bytes());
    if value.len() <= INLINE {
        view[4..4 + value.len()].copy_from_slice(value);
    } else {
        view[4..8].copy_from_slice(&value[..4]);
        view[8..12].copy_from_slice(&buffer.to_le_bytes());
        view[12..16].copy_from_slice(&offset.to_le_bytes());
    }
}

/// Add `by` to the buffer index of each view of a long value in `views`: views built
/// against their own buffers, moved behind others.
pub fn renumber(views: &mut [u8], by: u32) {
    for v in views.chunks_exact_mut(16) {
        if word(v, 0) > INLINE {
            let index = u32::from_le_bytes([v[8], v[9], v[10], v[11]]) + by;
            v[8..12].copy_from_slice(&index.to_le_bytes());
        }
    }
}

/// The views of a column's chunks as one column's: each chunk's buffer numbers moved past
/// the buffers of the chunks before it (`buffers[k]`: how many chunk `k` has). A chunk
/// whose length is not whole views is cut to them (the caller's check of the rows finds
/// it).
#[must_use]
pub fn join(chunks: &[&[u8]], buffers: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunks.iter().map(|c| c.len()).sum());
    let mut before = 0u32;
    for (chunk, &held) in chunks.iter().zip(buffers) {
        let at = out.len();
        out.extend_from_slice(&chunk[..chunk.len() / 16 * 16]);
        if before > 0 {
            renumber(&mut out[at..], before);
        }
        before = before.saturating_add(held);
    }
    out
}

/// Views of `values` and the one buffer their long values go in (for tests and for
/// callers that hold plain values).
#[must_use]
pub fn build(values: &[&[u8]]) -> (Vec<u8>, Vec<u8>) {
    let mut built = Builder::default();
    for value in values {
        let start = built.buffer.len();
        built.buffer.extend_from_slice(value);
        built.finish(start);
    }
    (built.views, built.buffer)
}

/// Where a [`Builder`]'s views go.
pub trait Views {
    /// Put the next view.
    fn put(&mut self, view: [u8; 16]);
}

impl Views for Vec<u8> {
    fn put(&mut self, view: [u8; 16]) {
        self.extend_from_slice(&view);
    }
}

/// A chunk's rows of a column whose views are allocated whole: its views are written
/// in place, from the first, so that nothing is joined after.
#[derive(Debug)]
pub struct Rows<'a> {
    /// The chunk's part of the column's views.
    pub views: &'a mut [u8],
    /// The views written.
    pub len: usize,
}

impl Views for Rows<'_> {
    fn put(&mut self, view: [u8; 16]) {
        self.views[16 * self.len..16 * self.len + 16].copy_from_slice(&view);
        self.len += 1;
    }
}

/// Views built one value at a time: each value is written at the end of `buffer`, then
/// [`Builder::finish`] makes its view (a short value moves into the view). The views of
/// long values point at `buffer` as the column's buffer number `index`.
#[derive(Debug, Default)]
pub struct Builder<V = Vec<u8>> {
    /// 16 bytes per finished value.
    pub views: V,
    /// The values longer than [`INLINE`] bytes.
    pub buffer: Vec<u8>,
    /// The number of `buffer` among its column's buffers.
    pub index: u32,
}

impl<V: Views> Builder<V> {
    /// Add `value` (copied once: into its view when it is short, else into the buffer).
    pub fn push(&mut self, value: &[u8]) {
        let start = self.buffer.len();
        if value.len() > INLINE {
            self.buffer.extend_from_slice(value);
        }
        self.views.put(make(value, self.index, start as u32));
    }

    /// [`Builder::push`] of `data[from..to]`. A short value's view is made from the
    /// twelve bytes at `from` with those past the value masked off: copies of one fixed
    /// size, where a copy of the value's own length is a call to `memcpy` for every
    /// value.
    #[inline]
    pub fn push_at(&mut self, data: &[u8], from: usize, to: usize) {
        let length = to - from;
        let Some(twelve) = data.get(from..from + INLINE).filter(|_| length <= INLINE) else {
            self.push(&data[from..to]);
            return;
        };
        let mut view = [0u8; 16];
        view[4..].copy_from_slice(twelve);
        // the length's word, and the value's bytes: 32 + 8·length bits kept
        let kept = u128::MAX >> (8 * (INLINE - length));
        let view = (u128::from_le_bytes(view) & kept) | length as u128;
        self.views.put(view.to_le_bytes());
    }

    /// The view of the value written at `buffer[start..]`. The buffer stays below 4 GiB
    /// (the caller's blocks are far smaller).
    pub fn finish(&mut self, start: usize) {
        self.views
            .put(make(&self.buffer[start..], self.index, start as u32));
        if self.buffer.len() - start <= INLINE {
            self.buffer.truncate(start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{build, fit, join, value, Builder};

    #[test]
    fn short_values_sit_in_their_view_and_long_ones_in_the_buffer() {
        let values: [&[u8]; 3] = [b"", b"twelve bytes", "東京都千代田区".as_bytes()];
        let (views, buffer) = build(&values);
        let buffers = [&buffer[..]];
        assert!(fit(&views, &buffers, 3));
        for (row, v) in values.iter().enumerate() {
            assert_eq!(value(&views, &buffers, row), *v);
        }
        assert_eq!(buffer.len(), "東京都千代田区".len());
        assert!(!fit(&views, &buffers[..0], 3)); // a long value with no buffer
        assert!(!fit(&views, &buffers, 2)); // not the rows said
    }

    #[test]
    fn joined_chunks_point_at_their_own_buffers() {
        let (a, a_buffer) = build(&["a long value here".as_bytes(), b"short"]);
        let (b, b_buffer) = build(&["another long value".as_bytes()]);
        let views = join(&[&a, &b], &[1, 1]);
        let buffers = [&a_buffer[..], &b_buffer[..]];
        assert!(fit(&views, &buffers, 3));
        assert_eq!(value(&views, &buffers, 1), b"short");
        assert_eq!(value(&views, &buffers, 2), b"another long value");
    }

    #[test]
    fn a_value_pushed_from_its_place_has_the_view_of_the_value_pushed_alone() {
        // every length up to past a view's, at every place up to the data's end (where
        // fewer than twelve bytes follow), with bytes on both sides that must stay out
        let data: Vec<u8> = (0..40u8).map(|b| b.wrapping_mul(37) | 0x80).collect();
        for from in 0..data.len() {
            for to in from..=data.len().min(from + 20) {
                let (mut at, mut alone) =
                    (Builder::<Vec<u8>>::default(), Builder::<Vec<u8>>::default());
                at.push_at(&data, from, to);
                alone.push(&data[from..to]);
                assert_eq!(at.views, alone.views, "{from}..{to}");
                assert_eq!(at.buffer, alone.buffer, "{from}..{to}");
            }
        }
    }
}
