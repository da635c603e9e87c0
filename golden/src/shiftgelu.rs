//! ShiftGELU, the integer GELU (spec: `integer-ops.md`, "ShiftGELU (I-ViT `IntGELU`)"),
//! GELU(x) ~ x * sigmoid(1.702 x).
//!
//! Parameters: `n` (23 in the vector files), `x0 = floor(-1 / (S * 1.702))` (1.702 is folded into the
//! scale offline). Input: one row of int8 (a token's hidden features).
//! ```text
//! m       = max(x)
//! e_i     = exp_shift(x_i - m, x0, n)
//! emax    = exp_shift(-m, x0, n)          # when m < 0 the argument is positive: q < 0, the shift exceeds n
//! s_i     = min(e_i + emax, 2^31)          # saturate: emax can be far above 2^31
//! factor  = recip(s_i)                     # one reciprocal per element
//! sig_i   = (e_i * factor) >> 24           # in [0, 128], scale 2^-7
//! out_i   = x_i * sig_i                    # int16, scale S * 2^-7
//! ```
//! `emax` comes from [`exp_shift`], which saturates at `2^62` (exact below): `min(e_i + emax, 2^31)` is
//! the same as with the unbounded value, since `e_i >= 1`.
//!
//! Range: `sig_i <= 128` whenever every `e_i <= 2^31`, i.e. when `|x0| * 2^n <= 2^31` (with `n = 23`:
//! `|x0| <= 256`, which includes the vector files' `-128 ..= -1`); then `out_i` is in
//! `-16384 ..= 16256`. Larger `|x0| * 2^n` (accepted: `|x0| <= 2^15`, `n <= 30`) can give
//! `sig_i > 128`; it is computed exactly, not clipped.

use crate::exp_shift::{check_exp_shift_params, exp_shift, ExpShiftParamError};
use crate::recip::recip;

/// The per-element denominator saturation: spec "`s_i = min(e_i + emax, 2^31)`".
pub const DEN_CAP: i64 = 1 << 31;

/// The sigmoid's output shift: spec "`sig_i = (e_i * factor) >> 24`" (scale `2^-7`).
pub const SIG_SHIFT: u32 = 24;

/// The constant folded into `x0`: `x0 = floor(-1 / (S * 1.702))`.
pub const GELU_ALPHA: f64 = 1.702;

/// Why a ShiftGELU configuration or input row is rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShiftgeluError {
    /// `x0` or `n` out of range.
    #[error(transparent)]
    Params(#[from] ExpShiftParamError),
    /// The row has no elements.
    #[error("row is empty (ShiftGELU needs at least 1 element)")]
    EmptyRow,
    /// An input element is not int8.
    #[error("x[{index}] = {value} out of range -128..=127 (int8)")]
    Input {
        /// Position in the row.
        index: usize,
        /// The rejected value.
        value: i32,
    },
    /// An input element of [`shiftgelu_tail`] is not int16.
    #[error("u[{index}] = {value} out of range -32768..=32767 (int16)")]
    InputWide {
        /// Position in the row.
        index: usize,
        /// The rejected value.
        value: i32,
    },
}

/// Checks the parameters: `x0` in `-2^15 ..= -1`, then `n` in `1 ..= 30`.
pub fn check_shiftgelu_params(x0: i64, n: u32) -> Result<(), ShiftgeluError> {
    Ok(check_exp_shift_params(x0, n)?)
}

/// Checks an input row: non-empty, every element int8 (first violation returned).
pub fn check_shiftgelu_row(row: &[i32]) -> Result<(), ShiftgeluError> {
    if row.is_empty() {
        return Err(ShiftgeluError::EmptyRow);
    }
    match row
        .iter()
        .enumerate()
        .find(|(_, v)| !(-128..=127).contains(*v))
    {
        Some((index, &value)) => Err(ShiftgeluError::Input { index, value }),
        None => Ok(()),
    }
}

/// The sigmoid part `sig_i` of ShiftGELU (scale `2^-7`, in `0 ..= 128` for the range in the module
/// doc), after validating parameters and row.
pub fn shiftgelu_sigmoid_checked(row: &[i32], x0: i64, n: u32) -> Result<Vec<i64>, ShiftgeluError> {
    check_shiftgelu_params(x0, n)?;
    check_shiftgelu_row(row)?;
    let m = *row.iter().max().expect("row is non-empty") as i64;
    let emax = exp_shift(-m, x0, n);
    Ok(row
        .iter()
        .map(|&x| {
            let e_i = exp_shift(x as i64 - m, x0, n);
            // e_i <= 2^45 and emax <= 2^62: the sum fits i64.
            let s_i = (e_i + emax).min(DEN_CAP) as u64;
            let factor = recip(s_i) as i128;
            ((e_i as i128 * factor) >> SIG_SHIFT) as i64
        })
        .collect())
}

/// [`shiftgelu_sigmoid_checked`], panicking on an invalid configuration or row (message
/// `"shiftgelu: <the error>"`).
pub fn shiftgelu_sigmoid(row: &[i32], x0: i64, n: u32) -> Vec<i64> {
    shiftgelu_sigmoid_checked(row, x0, n).unwrap_or_else(|e| panic!("shiftgelu: {e}"))
}

/// ShiftGELU of one row, `out_i = x_i * sig_i` (int16, scale `S * 2^-7`), after validating the
/// parameters ([`check_shiftgelu_params`]) and the row ([`check_shiftgelu_row`]).
pub fn shiftgelu_checked(row: &[i32], x0: i64, n: u32) -> Result<Vec<i64>, ShiftgeluError> {
    let sig = shiftgelu_sigmoid_checked(row, x0, n)?;
    Ok(row.iter().zip(sig).map(|(&x, s)| x as i64 * s).collect())
}

/// [`shiftgelu_checked`], panicking on an invalid configuration or row (message
/// `"shiftgelu: <the error>"`).
pub fn shiftgelu(row: &[i32], x0: i64, n: u32) -> Vec<i64> {
    shiftgelu_checked(row, x0, n).unwrap_or_else(|e| panic!("shiftgelu: {e}"))
}

/// Saturation to int8 (`-128 ..= 127`), ShiftGELU's input in [`shiftgelu_tail`].
pub fn sat8(v: i32) -> i32 {
    v.clamp(-128, 127)
}

/// The largest output of [`shiftgelu_tail`] when `|x0| * 2^n <= 2^31`:
/// `127 * 128 + 128 * (32767 - 127)` = 4,194,176 (below `2^22`: the output fits int23).
pub const TAIL_OUT_MAX: i64 = 127 * 128 + 128 * (32767 - 127);

/// The smallest output of [`shiftgelu_tail`] (and of [`shiftgelu`]) when `|x0| * 2^n <= 2^31`:
/// `-128 * 128`.
pub const TAIL_OUT_MIN: i64 = -128 * 128;

/// ShiftGELU with a linear tail (`docs/model.md`, "GELU with a linear tail") of one row of int16
/// `u` (scale `S`): ShiftGELU of the row saturated to int8, plus what the saturation cut off above,
/// where GELU is the identity:
/// ```text
/// g_i = shiftgelu(sat8(u), x0, n)_i + 128 * max(u_i - 127, 0)       scale S * 2^-7
/// ```
/// (`128 = 2^7`: the tail at ShiftGELU's output scale). ShiftGELU's row maximum is that of
/// `sat8(u)`, so every element of `u` at or above 127 sees the same sigmoid as 127.
///
/// Properties: when every `u_i` is in `-128 ..= 127` this is exactly [`shiftgelu`]; for
/// `u_i >= u_j >= 127` in one row, `g_i - g_j = 128 (u_i - u_j)`. Range: with `|x0| * 2^n <= 2^31`
/// (ShiftGELU's `sig_i <= 128`), `g_i` is in [`TAIL_OUT_MIN`] `..=` [`TAIL_OUT_MAX`], i.e.
/// `-16384 ..= 4194176`, which fits int23 (the hardware's `y` with `in_bits = 16`). Beyond that
/// range of parameters the result is still exact (no clipping), as [`shiftgelu`]'s is.
///
/// Validates the parameters ([`check_shiftgelu_params`]) and the row: non-empty, every element
/// int16 ([`ShiftgeluError::InputWide`] on the first that is not).
pub fn shiftgelu_tail_checked(u: &[i32], x0: i64, n: u32) -> Result<Vec<i64>, ShiftgeluError> {
    check_shiftgelu_params(x0, n)?;
    if u.is_empty() {
        return Err(ShiftgeluError::EmptyRow);
    }
    if let Some((index, &value)) = u
        .iter()
        .enumerate()
        .find(|(_, v)| !(-32768..=32767).contains(*v))
    {
        return Err(ShiftgeluError::InputWide { index, value });
    }
    let x8: Vec<i32> = u.iter().map(|&v| sat8(v)).collect();
    let g = shiftgelu_checked(&x8, x0, n)?;
    Ok(g.into_iter()
        .zip(u)
        .map(|(g, &v)| g + 128 * (v as i64 - 127).max(0))
        .collect())
}

/// [`shiftgelu_tail_checked`], panicking on an invalid configuration or row (message
/// `"shiftgelu_tail: <the error>"`).
pub fn shiftgelu_tail(u: &[i32], x0: i64, n: u32) -> Vec<i64> {
    shiftgelu_tail_checked(u, x0, n).unwrap_or_else(|e| panic!("shiftgelu_tail: {e}"))
}

/// The input scale `S` for which `x0 = floor(-1 / (S * 1.702))` holds without rounding:
/// `S = 1 / (1.702 * |x0|)` (the offline rounding only fixes `S * 1.702` to `[1/|x0|, 1/(|x0|-1))`).
pub fn gelu_scale_from_x0(x0: i64) -> f64 {
    1.0 / (GELU_ALPHA * (-x0) as f64)
}

/// Float reference, the function ShiftGELU approximates: `v * sigmoid(1.702 v)` with `v = x * scale`
/// (real values; compare with `shiftgelu(..) as f64 * scale / 128`). Use [`gelu_scale_from_x0`] for
/// the scale. This is the sigmoid form of GELU the spec names, not the erf form `v * Phi(v)` (they
/// differ by at most about 0.02 in absolute value).
pub fn gelu_f64(row: &[i32], scale: f64) -> Vec<f64> {
    row.iter()
        .map(|&x| {
            let v = x as f64 * scale;
            v / (1.0 + (-GELU_ALPHA * v).exp())
        })
        .collect()
}
