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
        let (mut value, mut bad) = (0i64, false);
        for (k, &b) in field.iter().enumerate() {
            let (hi, lo) = (b >> 4, b & 0x0F);
            bad |= hi > 9;
            value = value.wrapping_mul(10).wrapping_add(i64::from(hi));
            if k + 1 < width {
                bad |= lo > 9;
                value = value.wrapping_mul(10).wrapping_add(i64::from(lo));
            }
        }
        let sign = field.last().map_or(0, |b| b & 0x0F);
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
        // nibbles from the last: the sign, then digits right to left
        let mut low = true;
        let mut at = width;
        let mut byte = sign;
        for _ in 0..2 * width - 1 {
            let digit = (mag % 10) as u8;
            mag /= 10;
            if low {
                byte |= digit << 4;
                at -= 1;
                field[at] = byte;
            } else {
                byte = digit;
            }
            low = !low;
        }
    }
}

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
}
