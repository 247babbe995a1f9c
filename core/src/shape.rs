//! A personal value replaced by its shape for a masked report: its characters counted
//! by class, the classes in the order first met (`[全角5 数字2]`). The class of every
//! code point comes from the caller (Python's `unicodedata` says which are full width),
//! so the core and the oracle never disagree on a Unicode version.

/// Append the shape of `text` to `out`: `kinds[c]` is the class of code point `c` (an
/// index into `names`; a code point beyond the table counts as the last class).
pub fn shape_into(text: &str, kinds: &[u8], names: &[String], out: &mut Vec<u8>) {
    let mut counts = vec![0usize; names.len()];
    let mut order = Vec::with_capacity(names.len());
    let last = names.len().saturating_sub(1);
    for c in text.chars() {
        let kind = kinds
            .get(c as usize)
            .map_or(last, |&k| usize::from(k).min(last));
        if counts[kind] == 0 {
            order.push(kind);
        }
        counts[kind] += 1;
    }
    out.push(b'[');
    for (i, &kind) in order.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(names[kind].as_bytes());
        out.extend_from_slice(counts[kind].to_string().as_bytes());
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::shape_into;

    #[test]
    fn classes_in_the_order_first_met() {
        let names: Vec<String> = ["数字", "英字", "他"]
            .iter()
            .map(|s| (*s).to_string())
            .collect();
        let mut kinds = vec![2u8; 128];
        kinds[usize::from(b'0')..=usize::from(b'9')].fill(0);
        kinds[usize::from(b'A')..=usize::from(b'Z')].fill(1);
        let mut out = Vec::new();
        shape_into("A12-B", &kinds, &names, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "[英字2 数字2 他1]");
        let mut out = Vec::new();
        shape_into("", &kinds, &names, &mut out);
        assert_eq!(out, b"[]");
        let mut out = Vec::new();
        shape_into("山", &kinds, &names, &mut out); // beyond the table: the last class
        assert_eq!(String::from_utf8(out).unwrap(), "[他1]");
    }
}
