//! The shared exponential step `exp_shift(d, x0, n)`, 2^(d·log2 e) by shifts (spec: `integer-ops.md`,
//! "Shared step: `exp_shift(d, x0, n)`"), used by Shiftmax and ShiftGELU.
//!
//! Inputs: "`d <= 0` (or any integer for ShiftGELU's `emax`), `x0 < 0` (the integer for −1.0 in the
//! input scale: `x0 = floor(-1/S)`, computed offline in float32), `n` (clamp of the exponent)."
//! ```text
//! t = d + (d >> 1) - (d >> 4)        # d * 1.4375 ~ d * log2(e)
//! t = max(t, n * x0)
//! q = t div x0                       # 0..n for d <= 0; negative when d > 0
//! r = t - x0 * q                     # in (x0, 0]
//! e = ((r - 2*x0) << (n - q)) >> 1   # = floor((r/2 - x0) * 2^(n-q)); r - 2*x0 > 0
//! ```
//! `>>` is an arithmetic shift (floor), `div` floor division (toward minus infinity; `x0 < 0`, so Rust's
//! `/` and `div_euclid` would both be wrong for some `t`).
//!
//! # Bounds
//! Let `v = r - 2*x0`, in `|x0| + 1 ..= 2|x0|`, and the shift `n - q >= 0` (the clamp gives `q <= n`).
//! So `e >= 1` always, and `e = floor(v * 2^(n-q-1))`.
//! - `d <= 0`: `0 <= q <= n`, so `e <= |x0| * 2^n` with equality exactly at `d = 0`
//!   (`t = 0, q = 0, r = 0, v = 2|x0|`). Spec: "for `|x0| <= 128`: `e_i <= 2^22` (equality at `d = 0,
//!   x0 = -128`: 23 bits)" with `n = 15`. Over the whole accepted parameter range (`|x0| <= 2^15`,
//!   `n <= 30`) `e <= 2^45`.
//! - `d > 0` (ShiftGELU's `emax = exp_shift(-max(x), ..)` when the row is all negative): `q < 0` and
//!   the shift `n - q` exceeds `n`. With int8 inputs `d <= 128`, `t <= 184`, and `x0 = -1` gives
//!   `q = -184`: a shift of `n + 184` bits, far beyond `i128`. The consumer saturates at `2^31`
//!   (`s_i = min(e_i + emax, 2^31)`), so this function computes in `i128` and returns
//!   `min(e, EXP_SHIFT_CAP)` with `EXP_SHIFT_CAP = 2^62`: exact whenever `e < 2^62`, which covers every
//!   `d <= 0` with valid parameters; a saturated value compares and adds (`+ e_i <= 2^45`) exactly like
//!   the true one against the `2^31` cap. Hardware can saturate at any width above 31 bits.

use num_integer::Integer;

/// Largest `x0`: `-1` (`x0` must be negative).
pub const X0_MAX: i64 = -1;

/// Smallest `x0`: `-2^15` (vectors.md: "the golden model accepts any negative value that fits 16 bits").
pub const X0_MIN: i64 = -(1 << 15);

/// Smallest exponent clamp `n`.
pub const N_MIN: u32 = 1;

/// Largest exponent clamp `n` (vectors.md: "the golden model accepts 1..=30").
pub const N_MAX: u32 = 30;

/// The value [`exp_shift`] saturates at: `2^62` (only reachable for `d > 0`; see the module doc).
pub const EXP_SHIFT_CAP: i64 = 1 << 62;

/// An `x0` or `n` outside the range the golden model accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExpShiftParamError {
    /// `x0` is not negative or does not fit 16 bits.
    #[error("x0 = {x0} out of range -32768..=-1 (x0 must be negative and fit 16 bits)")]
    X0 {
        /// The rejected value.
        x0: i64,
    },
    /// `n` is outside `1..=30`.
    #[error("n = {n} out of range 1..=30")]
    N {
        /// The rejected value.
        n: u32,
    },
}

/// Checks `x0` in `-2^15 ..= -1` and `n` in `1 ..= 30` (first `x0`, then `n`).
pub fn check_exp_shift_params(x0: i64, n: u32) -> Result<(), ExpShiftParamError> {
    if !(X0_MIN..=X0_MAX).contains(&x0) {
        return Err(ExpShiftParamError::X0 { x0 });
    }
    if !(N_MIN..=N_MAX).contains(&n) {
        return Err(ExpShiftParamError::N { n });
    }
    Ok(())
}

/// The input scale `S` for which `x0 = floor(-1/S)` holds without rounding: `S = -1/x0`.
///
/// The offline computation only fixes `S` to `[1/|x0|, 1/(|x0| - 1))`; the float references
/// ([`crate::shiftmax::softmax_f64`]) use this end of the interval, where `2^(-t/x0)` with
/// `t = d * log2(e)` is exactly `e^(d*S)`.
pub fn scale_from_x0(x0: i64) -> f64 {
    -1.0 / x0 as f64
}

/// `exp_shift(d, x0, n)` exactly as the spec (module doc), saturated at [`EXP_SHIFT_CAP`] = `2^62`.
///
/// Returns `min(e, 2^62)`; `e >= 1` always. For `d <= 0`, `e <= |x0| * 2^n <= 2^45` is exact (equality
/// at `d = 0`). All intermediates are `i128` (`|t| < 2^65` for any `i64` `d`).
///
/// # Panics
/// If `x0` or `n` is out of range (see [`check_exp_shift_params`]; a configuration error).
pub fn exp_shift(d: i64, x0: i64, n: u32) -> i64 {
    if let Err(e) = check_exp_shift_params(x0, n) {
        panic!("exp_shift: {e}");
    }
    let d = d as i128;
    let x0 = x0 as i128;
    let n = n as i128;
    let t = d + (d >> 1) - (d >> 4);
    let t = t.max(n * x0);
    let q = Integer::div_floor(&t, &x0);
    let r = t - x0 * q;
    debug_assert!(x0 < r && r <= 0);
    let v = r - 2 * x0; // in |x0| + 1 ..= 2|x0|, at most 17 bits
    let shift = n - q; // >= 0 since q <= n
    debug_assert!(shift >= 0);
    // e = (v << shift) >> 1 = floor(v * 2^(shift - 1)).
    if shift == 0 {
        return (v >> 1) as i64;
    }
    let v_bits = 128 - v.leading_zeros() as i128;
    if v_bits + shift - 1 > 62 {
        // v * 2^(shift-1) >= 2^62: saturate (only for d > 0).
        return EXP_SHIFT_CAP;
    }
    (v << (shift - 1)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d0_x0m128_is_2_pow_22() {
        assert_eq!(exp_shift(0, -128, 15), 1 << 22);
    }

    #[test]
    fn positive_d_saturates() {
        assert_eq!(exp_shift(128, -1, 23), EXP_SHIFT_CAP);
        assert_eq!(exp_shift(i64::MAX, -1, 30), EXP_SHIFT_CAP);
    }
}
