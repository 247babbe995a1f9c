//! chukan's compiled core. Python orchestrates; this crate does the per-record work:
//! [`kernel::extract`] turns a block of fixed-width records into decoded columns in
//! Arrow's layout, with the rows whose bytes were unusable marked, never guessed.
//!
//! The Python bindings (`chukan._core`) are behind the `python` feature, so that
//! `cargo test` tests the kernel without a Python to link against.

pub mod compose;
pub mod csv;
pub mod decode;
pub mod ebcdic;
pub mod encode;
pub mod glyph;
pub mod kernel;
pub mod packed;
pub mod replace;
pub mod shape;
pub mod split;
pub mod typed;
pub mod views;

#[cfg(feature = "python")]
mod python;

/// `count` pieces of `items` of `size` each (the last one shorter), empty ones where
/// `items` runs out (an empty array, or a width of no fields): the parts of a column
/// that the parallel tasks of a block or a chunk write in place.
pub(crate) fn pieces<T>(items: &mut [T], size: usize, count: usize) -> Vec<&mut [T]> {
    let mut pieces: Vec<&mut [T]> = items.chunks_mut(size.max(1)).collect();
    pieces.resize_with(count, Default::default);
    pieces
}

/// Every block's columns are fresh memory handed to Python: mimalloc reuses freed pages
/// where the system allocator asked the kernel for new, zeroed ones each time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
