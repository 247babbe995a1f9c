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
pub mod split;
pub mod typed;
pub mod views;

#[cfg(feature = "python")]
mod python;

/// Every block's columns are fresh memory handed to Python: mimalloc reuses freed pages
/// where the system allocator asked the kernel for new, zeroed ones each time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
