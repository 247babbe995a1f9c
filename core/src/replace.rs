//! Characters replaced by others in a text column, as a mapping's width steps replace
//! them (`ｶﾞ` → `ガ`, `Ａ` → `A`): at each place, left to right, the longest key that
//! starts there, and the text after it is searched again. This is Polars'
//! `str.replace_many(keys, values, leftmost=True)` with the keys longest first, which
//! the Python path uses and the tests compare against.
//!
//! Keys are one or two characters of the Basic Multilingual Plane, so that the first
//! character finds its entry by index, with no hashing per character.

use rayon::prelude::*;

use crate::compose::TextColumn;
use crate::csv::ViewColumn;
use crate::views::Builder;

/// Rows replaced at once: one task for the thread pool.
const CHUNK_ROWS: usize = 4096;

/// The keys and what replaces them.
#[derive(Debug)]
pub struct Table {
    /// For each BMP character, 1 + the index of its entry, or 0 when no key starts with it.
    first: Vec<u32>,
    entries: Vec<Entry>,
}

#[derive(Debug, Default)]
struct Entry {
    /// The replacement of the character alone, when it is a key.
    alone: Option<String>,
    /// The keys of two characters that start with it: their second and the replacement.
    pairs: Vec<(char, String)>,
}

impl Table {
    /// The table of `keys` → `values`; for a key given twice, the first. None when a key
    /// is not one or two characters of the BMP.
    #[must_use]
    pub fn new(keys: &[String], values: &[String]) -> Option<Self> {
        let mut table = Self {
            first: vec![0; 0x1_0000],
            entries: Vec::new(),
        };
        for (key, value) in keys.iter().zip(values) {
            let mut chars = key.chars();
            let (first, second) = (chars.next()?, chars.next());
            if chars.next().is_some()
                || u32::from(first) > 0xFFFF
                || second.is_some_and(|c| u32::from(c) > 0xFFFF)
            {
                return None;
            }
            let slot = &mut table.first[first as usize];
            if *slot == 0 {
                table.entries.push(Entry::default());
                *slot = u32::try_from(table.entries.len()).ok()?;
            }
            let entry = &mut table.entries[*slot as usize - 1];
            match second {
                None => {
                    entry.alone.get_or_insert_with(|| value.clone());
                }
                Some(c) if !entry.pairs.iter().any(|(s, _)| *s == c) => {
                    entry.pairs.push((c, value.clone()));
                }
                Some(_) => {}
            }
        }
        Some(table)
    }

    fn entry(&self, c: char) -> Option<&Entry> {
        let k = *self.first.get(c as usize)?;
        (k > 0).then(|| &self.entries[k as usize - 1])
    }

    /// `value` with its keys replaced, appended to `out`.
    pub fn apply(&self, value: &str, out: &mut Vec<u8>) {
        let mut kept = 0; // the start of the text not yet copied
        let mut chars = value.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            let Some(entry) = self.entry(c) else {
                continue;
            };
            let next = chars.peek().map(|&(_, d)| d);
            let replacement = if let Some((_, r)) =
                next.and_then(|d| entry.pairs.iter().find(|(second, _)| *second == d))
            {
                chars.next();
                r
            } else if let Some(r) = &entry.alone {
                r
            } else {
                continue;
            };
            out.extend_from_slice(&value.as_bytes()[kept..at]);
            out.extend_from_slice(replacement.as_bytes());
            kept = chars.peek().map_or(value.len(), |&(end, _)| end);
        }
        out.extend_from_slice(&value.as_bytes()[kept..]);
    }
}

/// The `n` values of `column` with `table` applied, as string views (a missing value
/// becomes an empty view; the caller keeps the column's validity). A value that is not
/// UTF-8 is kept as it is.
#[must_use]
pub fn replace(column: &TextColumn<'_>, n: usize, table: &Table) -> ViewColumn {
    let parts: Vec<Builder> = (0..n.div_ceil(CHUNK_ROWS))
        .into_par_iter()
        .map(|k| {
            let mut built = Builder::default();
            for row in k * CHUNK_ROWS..n.min((k + 1) * CHUNK_ROWS) {
                let start = built.buffer.len();
                if column.valid.is_none_or(|v| v[row]) {
                    let value = column.value(row);
                    match std::str::from_utf8(value) {
                        Ok(text) => table.apply(text, &mut built.buffer),
                        Err(_) => built.buffer.extend_from_slice(value),
                    }
                }
                built.finish(start);
            }
            built.buffer.shrink_to_fit();
            built
        })
        .collect();
    let mut out = ViewColumn {
        views: Vec::with_capacity(16 * n),
        buffers: Vec::with_capacity(parts.len()),
    };
    for part in parts {
        out.append(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{replace, Table};
    use crate::compose::TextColumn;
    use crate::views::{build, value};

    fn table(pairs: &[(&str, &str)]) -> Table {
        let keys: Vec<String> = pairs.iter().map(|p| p.0.to_owned()).collect();
        let values: Vec<String> = pairs.iter().map(|p| p.1.to_owned()).collect();
        Table::new(&keys, &values).expect("keys of one or two BMP characters")
    }

    #[test]
    fn the_longest_key_at_each_place_wins() {
        let t = table(&[("ｶﾞ", "ガ"), ("ｶ", "カ"), ("ﾞ", "゛"), ("A", "Ａ")]);
        let mut out = Vec::new();
        t.apply("xｶﾞｶﾞｶAﾞz", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "xガガカＡ゛z");
    }

    #[test]
    fn keys_beyond_two_characters_or_the_bmp_are_refused() {
        let keys = ["abc".to_owned()];
        assert!(Table::new(&keys, &["x".to_owned()]).is_none());
        assert!(Table::new(&["𠮷".to_owned()], &["x".to_owned()]).is_none());
        assert!(Table::new(&[String::new()], &["x".to_owned()]).is_none());
    }

    #[test]
    fn a_column_keeps_its_rows_across_chunks() {
        let t = table(&[("ｱ", "ア")]);
        let values: Vec<Vec<u8>> = (0..9000)
            .map(|i| format!("{i}ｱｱｱｱｱ").into_bytes())
            .collect();
        let refs: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
        let (views, buffer) = build(&refs);
        let buffers = [&buffer[..]];
        let column = TextColumn {
            views: &views,
            buffers: &buffers,
            valid: None,
        };
        let out = replace(&column, values.len(), &t);
        let held: Vec<&[u8]> = out.buffers.iter().map(Vec::as_slice).collect();
        for row in [0, 4095, 4096, 8999] {
            let want = format!("{row}アアアアア");
            assert_eq!(value(&out.views, &held, row), want.as_bytes());
        }
    }
}
