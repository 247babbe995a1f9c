//! Packed decimals (COBOL `COMP-3`): two digits a byte, the sign in the last nibble
//! (C or F positive, D negative). Read and written in place in the record matrix.

/// The sign nibbles a packed value may end in.
const PLUS: u8 = 0x0C;
const MINUS: u8 = 0x0D;
const UNSIGNED: u8 = 0x0F;

/// What reading a packed column found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Unpacked {
    /// Each row's unscaled value (0 where its digits are bad).
    pub values: Vec<i64>,
    /// Rows with a digit nibble above 9.
    pub bad_digits: Vec<bool>,
    /// Rows whose sign nibble is none of C, D, F.
    pub bad_sign: Vec<bool>,
}

/// The packed values of `width` bytes at `offset` of `n` records `stride` bytes apart.
/// A value holds at most 18 digits (the layout loader's limit), so it fits an `i64`.
///
/// # Panics
/// When a field lies outside `bytes` (the caller checks the layout against the block).
#[must_use]
pub fn unpack(bytes: &[u8], n: usize, stride: usize, offset: usize, width: usize) -> Unpacked {
    let mut out = Unpacked {
        values: vec![0; n],
        bad_digits: vec![false; n],
        bad_sign: vec![false; n],
    };
    for row in 0..n {
        let field = &bytes[row * stride + offset..row * stride + offset + width];
        let Some((&last, before)) = field.split_last() else {
            continue; // (no field: the caller refuses a width of 0)
        };
        // two digits a byte from a table (a nibble above 9 makes the byte's entry 100 or
        // more), then the last byte's digit beside its sign: half the steps of a nibble
        // at a time
        let (mut value, mut bad) = (0i64, false);
        for &b in before {
            let pair = PAIR[usize::from(b)];
            bad |= pair >= 100;
            value = value.wrapping_mul(100).wrapping_add(i64::from(pair));
        }
        bad |= last >> 4 > 9;
        value = value.wrapping_mul(10).wrapping_add(i64::from(last >> 4));
        let sign = last & 0x0F;
        out.bad_digits[row] = bad;
        out.bad_sign[row] = !matches!(sign, PLUS | MINUS | UNSIGNED);
        out.values[row] = match (bad, sign) {
            (true, _) => 0,
            (false, MINUS) => -value,
            (false, _) => value,
        };
    }
    out
}

/// Write `values` as packed decimals of `width` bytes at `offset` of `n` records
/// `stride` bytes apart in `out`: negative values end in D when `signed`, the others in
/// `positive` (C or F). The caller has refused values with more digits than the field.
///
/// # Panics
/// When a field lies outside `out` or `values` is shorter than `n`.
pub fn pack(
    out: &mut [u8],
    stride: usize,
    offset: usize,
    width: usize,
    values: &[i64],
    signed: bool,
    positive: u8,
) {
    for (row, &v) in values.iter().enumerate() {
        let field = &mut out[row * stride + offset..row * stride + offset + width];
        let mut mag = v.unsigned_abs();
        let sign = if signed && v < 0 { MINUS } else { positive };
        // from the last byte: its digit beside the sign, then two digits a byte (one
        // division a byte, not one a digit: half the work of this pass)
        let Some((last, before)) = field.split_last_mut() else {
            continue; // (no field: the caller refuses a width of 0)
        };
        *last = (((mag % 10) as u8) << 4) | sign;
        mag /= 10;
        for byte in before.iter_mut().rev() {
            *byte = BCD[(mag % 100) as usize];
            mag /= 100;
        }
    }
}

/// Each byte's two decimal digits as a number below 100, or 100 and more where a nibble
/// is above 9.
const PAIR: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        let (hi, lo) = (b >> 4, b & 0x0F);
        table[b] = if hi > 9 || lo > 9 {
            255
        } else {
            (hi * 10 + lo) as u8
        };
        b += 1;
    }
    table
};

/// Each number below 100 as a byte of two decimal digits.
const BCD: [u8; 100] = {
    let mut table = [0; 100];
    let mut k = 0;
    while k < 100 {
        table[k] = (((k / 10) << 4) | (k % 10)) as u8;
        k += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::{pack, unpack};

    #[test]
    fn values_read_with_their_sign_and_bad_nibbles_marked() {
        let bytes = [
            0x01, 0x23, 0x4C, 0x00, 0x00, 0x5D, 0x00, 0x01, 0x2A, 0x0A, 0x00, 0x0C,
        ];
        let got = unpack(&bytes, 4, 3, 0, 3);
        assert_eq!(got.values, vec![1234, -5, 12, 0]);
        assert_eq!(got.bad_sign, vec![false, false, true, false]);
        assert_eq!(got.bad_digits, vec![false, false, false, true]);
    }

    #[test]
    fn values_write_in_place_and_read_back() {
        let mut out = vec![0x40u8; 2 * 5];
        pack(&mut out, 5, 1, 3, &[1234, -5], true, 0x0C);
        assert_eq!(
            out,
            vec![0x40, 0x01, 0x23, 0x4C, 0x40, 0x40, 0x00, 0x00, 0x5D, 0x40]
        );
        let mut out = vec![0u8; 8];
        pack(&mut out, 8, 0, 8, &[123_456_789_012_345], false, 0x0F);
        assert_eq!(unpack(&out, 1, 8, 0, 8).values, vec![123_456_789_012_345]);
        assert_eq!(out[7], 0x5F);
    }

    #[test]
    fn every_two_byte_field_reads_as_its_nibbles_say() {
        // the reader's table against nibbles taken one at a time, on all 65,536 fields
        let bytes: Vec<u8> = (0..=u16::MAX).flat_map(u16::to_be_bytes).collect();
        let got = unpack(&bytes, 65536, 2, 0, 2);
        for (row, field) in bytes.chunks(2).enumerate() {
            let nibbles = [field[0] >> 4, field[0] & 0x0F, field[1] >> 4];
            let bad = nibbles.iter().any(|&d| d > 9);
            let sign = field[1] & 0x0F;
            let magnitude = nibbles.iter().fold(0, |v, &d| v * 10 + i64::from(d));
            let value = match (bad, sign) {
                (true, _) => 0,
                (false, 0x0D) => -magnitude,
                _ => magnitude,
            };
            assert_eq!(
                (got.values[row], got.bad_digits[row], got.bad_sign[row]),
                (value, bad, !matches!(sign, 0x0C | 0x0D | 0x0F)),
                "{field:02x?}"
            );
        }
    }

    #[test]
    fn every_width_holds_its_digits_as_the_spelled_number_says() {
        use std::fmt::Write;

        for width in 1..=9usize {
            let digits = 2 * width as u32 - 1;
            let top = 10i64.pow(digits) - 1;
            let values = [0, 1, 9, 10, 99, 100, top / 7, top, -1, -top, -(top / 3)];
            let values: Vec<i64> = values.into_iter().filter(|v| v.abs() <= top).collect();
            let mut out = vec![0xEEu8; width * values.len()];
            pack(&mut out, width, 0, width, &values, true, 0x0C);
            for (row, &v) in values.iter().enumerate() {
                // the digits as text, then the sign: two nibbles a byte
                let sign = if v < 0 { 'd' } else { 'c' };
                let spelled = format!("{:0w$}{sign}", v.unsigned_abs(), w = digits as usize);
                let field = &out[row * width..(row + 1) * width];
                let nibbles = field.iter().fold(String::new(), |mut hex, b| {
                    write!(hex, "{b:02x}").expect("a String takes it");
                    hex
                });
                assert_eq!(nibbles, spelled, "{v} in {width} bytes");
            }
            assert_eq!(unpack(&out, values.len(), width, 0, width).values, values);
        }
    }
}
