//! CSV formatting: text columns → the rows of a CSV file, quoted as Polars quotes them
//! (`quote_style = "necessary"`), which the readers and the round-trip tests expect.
//!
//! A value is quoted when it holds the delimiter, the quote character, CR or LF, with
//! each quote inside doubled; an empty value is written `""` so that it is not read as
//! missing, and a missing value is written as nothing.

use rayon::prelude::*;

use crate::compose::TextColumn;

/// How the rows are written.
#[derive(Clone, Copy, Debug)]
pub struct Style<'a> {
    /// The byte between fields.
    pub delimiter: u8,
    /// The byte around a quoted value.
    pub quote: u8,
    /// The bytes after each row.
    pub terminator: &'a [u8],
}

/// Rows formatted at once: one task for the thread pool.
const CHUNK_ROWS: usize = 4096;

/// The `n` rows of `columns` (each field's values, as Arrow holds them), in order. The
/// caller checks that every column has `n` rows.
#[must_use]
pub fn format(columns: &[TextColumn<'_>], n: usize, style: Style<'_>) -> Vec<u8> {
    let parts: Vec<Vec<u8>> = (0..n.div_ceil(CHUNK_ROWS))
        .into_par_iter()
        .map(|k| rows(columns, k * CHUNK_ROWS..n.min((k + 1) * CHUNK_ROWS), style))
        .collect();
    let mut out = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for part in parts {
        out.extend_from_slice(&part);
    }
    out
}

fn rows(columns: &[TextColumn<'_>], rows: std::ops::Range<usize>, style: Style<'_>) -> Vec<u8> {
    let size: usize = columns
        .iter()
        .map(|c| {
            rows.clone()
                .map(|row| c.value(row).len() + 1)
                .sum::<usize>()
        })
        .sum();
    let mut out = Vec::with_capacity(size + rows.len() * style.terminator.len());
    for row in rows {
        for (j, c) in columns.iter().enumerate() {
            if j > 0 {
                out.push(style.delimiter);
            }
            if c.valid.is_some_and(|v| !v[row]) {
                continue;
            }
            value_into(&mut out, c.value(row), style);
        }
        out.extend_from_slice(style.terminator);
    }
    out
}

fn value_into(out: &mut Vec<u8>, value: &[u8], style: Style<'_>) {
    let needs = value.is_empty()
        || value
            .iter()
            .any(|&b| b == style.delimiter || b == style.quote || b == b'\n' || b == b'\r');
    if !needs {
        out.extend_from_slice(value);
        return;
    }
    out.push(style.quote);
    for &b in value {
        if b == style.quote {
            out.push(b);
        }
        out.push(b);
    }
    out.push(style.quote);
}

#[cfg(test)]
mod tests {
    use super::{format, Style};
    use crate::compose::TextColumn;

    #[test]
    fn values_are_quoted_only_where_they_must_be() {
        let values: [&[u8]; 6] = [b"a", b"a,b", b"c\"d", b"", b"\nx", b""];
        let (views, buffer) = crate::views::build(&values);
        let buffers = [&buffer[..]];
        let valid = [true, true, true, true, true, false];
        let column = TextColumn {
            views: &views,
            buffers: &buffers,
            valid: Some(&valid),
            skip: None,
        };
        let style = Style {
            delimiter: b',',
            quote: b'"',
            terminator: b"\r\n",
        };
        let got = format(&[column, column], 6, style);
        assert_eq!(
            String::from_utf8(got).unwrap(),
            "a,a\r\n\"a,b\",\"a,b\"\r\n\"c\"\"d\",\"c\"\"d\"\r\n\"\",\"\"\r\n\"\nx\",\"\nx\"\r\n,\r\n"
        );
    }
}
