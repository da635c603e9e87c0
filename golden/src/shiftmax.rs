//! Shiftmax, the integer softmax (spec: `integer-ops.md`, "Shiftmax (I-ViT `IntSoftmax`)").
//!
//! Parameters: `n` (15 in the vector files), `out_bits` in {8, 16} (16 for ViT/DeiT, 8 for Swin), `x0`.
//! Input: one row of int8.
//! ```text
//! m      = max(x)
//! e_i    = exp_shift(x_i - m, x0, n)
//! s      = min(sum(e), 2^31)
//! factor = recip(s)
//! out_i  = (e_i * factor) >> (32 - out_bits)       # in [0, 2^(out_bits-1)] inclusive: an UNSIGNED
//!                                                  # out_bits-wide value (2^15 occurs); scale 2^-(out_bits-1)
//! ```
//! Bounds (spec): for `|x0| <= 128` (and `n = 15`), `e_i <= 2^22` and the row sum is `<= 2^30` for rows
//! up to 256 elements (equality for a constant row), so the `2^31` saturation never acts there.
//!
//! Beyond the vector-file range: each `e_i <= |x0| * 2^n` (see [`crate::exp_shift`]). The output stays
//! in `[0, 2^(out_bits-1)]` whenever `|x0| * 2^n <= 2^31` (an unsaturated sum gives
//! `e_i * recip(s) <= 2^31 (1 + 2^-24)`; a saturated one gives `recip(2^31) = 1` and
//! `out_i = e_i >> (32 - out_bits)`). With larger `|x0| * 2^n` the accepted parameters can produce
//! larger outputs; they are computed exactly (the product in `i128`), not clipped.

use crate::exp_shift::{check_exp_shift_params, exp_shift, ExpShiftParamError};
use crate::recip::recip;

/// The output widths Shiftmax supports.
pub const OUT_BITS_ALLOWED: [u32; 2] = [8, 16];

/// The row-sum saturation: spec "`s = min(sum(e), 2^31)`".
pub const SUM_CAP: i64 = 1 << 31;

/// Why a Shiftmax configuration or input row is rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShiftmaxError {
    /// `x0` or `n` out of range.
    #[error(transparent)]
    Params(#[from] ExpShiftParamError),
    /// `out_bits` is neither 8 nor 16.
    #[error("out_bits = {out_bits} not allowed (allowed: 8, 16)")]
    OutBits {
        /// The rejected value.
        out_bits: u32,
    },
    /// The row has no elements.
    #[error("row is empty (Shiftmax needs at least 1 element)")]
    EmptyRow,
    /// An input element is not int8.
    #[error("x[{index}] = {value} out of range -128..=127 (int8)")]
    Input {
        /// Position in the row.
        index: usize,
        /// The rejected value.
        value: i32,
    },
}

/// Checks the parameters: `x0` in `-2^15 ..= -1`, `n` in `1 ..= 30`, `out_bits` in {8, 16} (in this
/// order; the first violation is returned).
pub fn check_shiftmax_params(x0: i64, n: u32, out_bits: u32) -> Result<(), ShiftmaxError> {
    check_exp_shift_params(x0, n)?;
    if !OUT_BITS_ALLOWED.contains(&out_bits) {
        return Err(ShiftmaxError::OutBits { out_bits });
    }
    Ok(())
}

/// Checks an input row: non-empty, every element int8 (first violation returned).
pub fn check_shiftmax_row(row: &[i32]) -> Result<(), ShiftmaxError> {
    if row.is_empty() {
        return Err(ShiftmaxError::EmptyRow);
    }
    match row
        .iter()
        .enumerate()
        .find(|(_, v)| !(-128..=127).contains(*v))
    {
        Some((index, &value)) => Err(ShiftmaxError::Input { index, value }),
        None => Ok(()),
    }
}

/// Shiftmax of one row, after validating the parameters ([`check_shiftmax_params`]) and the row
/// ([`check_shiftmax_row`]). Outputs are unsigned, scale `2^-(out_bits-1)`; see the module doc for the
/// formula and the range.
pub fn shiftmax_checked(
    row: &[i32],
    x0: i64,
    n: u32,
    out_bits: u32,
) -> Result<Vec<i64>, ShiftmaxError> {
    check_shiftmax_params(x0, n, out_bits)?;
    check_shiftmax_row(row)?;
    let m = *row.iter().max().expect("row is non-empty") as i64;
    let e: Vec<i64> = row
        .iter()
        .map(|&x| exp_shift(x as i64 - m, x0, n))
        .collect();
    // Each e_i <= 2^45 and a row has fewer than 2^64 elements: the i128 sum cannot overflow.
    let sum: i128 = e.iter().map(|&v| v as i128).sum();
    let s = sum.min(SUM_CAP as i128) as u64; // >= 1 since every e_i >= 1
    let factor = recip(s) as i128;
    Ok(e.iter()
        .map(|&e_i| ((e_i as i128 * factor) >> (32 - out_bits)) as i64)
        .collect())
}

/// [`shiftmax_checked`], panicking on an invalid configuration or row (message
/// `"shiftmax: <the error>"`).
pub fn shiftmax(row: &[i32], x0: i64, n: u32, out_bits: u32) -> Vec<i64> {
    shiftmax_checked(row, x0, n, out_bits).unwrap_or_else(|e| panic!("shiftmax: {e}"))
}

/// Float reference: `softmax(x * scale)` on the dequantized row, in f64 (max subtracted first).
///
/// Compare with `shiftmax(..) as f64 / 2^(out_bits-1)`. For the scale use
/// [`crate::exp_shift::scale_from_x0`]`(x0) = -1/x0`: the spec's `x0 = floor(-1/S)` only fixes `S` to
/// `[1/|x0|, 1/(|x0|-1))`, and `S = 1/|x0|` is the value for which `exp_shift` approximates
/// `e^(d*S)` (it computes `|x0| * 2^n * 2^(t/|x0|)` with `t ~ d * log2(e)`). An empty row gives an
/// empty result.
pub fn softmax_f64(row: &[i32], scale: f64) -> Vec<f64> {
    let m = row.iter().copied().max().unwrap_or(0) as f64;
    let e: Vec<f64> = row
        .iter()
        .map(|&x| ((x as f64 - m) * scale).exp())
        .collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|v| v / sum).collect()
}
