//! The normalizing reciprocal `recip(s)` (spec: `integer-ops.md`, "`recip(s)`: the reference's
//! `(2**31-1)/s`, in integers"), shared by Shiftmax, ShiftGELU and I-LayerNorm.
//!
//! The PyTorch reference evaluates `(2**31-1)/s` as `reciprocal(s) * (2**31-1)` in float32:
//! `float32(2^31-1)` is `2^31` and `1/s` is rounded to a 24-bit significand. The spec computes exactly
//! that, in integers. For an integer `1 <= s <= 2^31`:
//! ```text
//! j      = bit_length(s)                        # 2^(j-1) <= s < 2^j
//! R      = round_half_even(2^(23+j) / s)        # exact rational rounding; 2^23 <= R <= 2^24
//! recip  = R << (8 - j)   if j <= 8
//!          R >> (j - 8)   if j > 8              # floor
//! ```
//! so `recip(s) = floor(2^31 * rne24(1/s))`. Examples: `recip(1) = 2^31`, `recip(3) = 715827904`
//! (`2^31 div 3` is 715827882), `recip(6) = 357913952`, `recip(2^31) = 1`.
//!
//! Widths (for the hardware): the dividend `2^(23+j)` has at most 56 bits (`j <= 32`), `R` at most 25
//! bits (`R = 2^24` exactly when `s` is a power of two), the result at most 32 bits (`2^31` for `s = 1`).

/// Smallest argument of [`recip`]: `1`.
pub const RECIP_S_MIN: u64 = 1;

/// Largest argument of [`recip`]: `2^31` (the saturated Shiftmax row sum; `recip(2^31) = 1`).
pub const RECIP_S_MAX: u64 = 1 << 31;

/// `round_half_even(num / den)`: the exact rational quotient rounded to the nearest integer, ties to
/// even.
///
/// Computed from the floor quotient `q` and remainder `r` (`num = q*den + r`, `0 <= r < den`): round up
/// when `2r > den`, or when `2r == den` and `q` is odd. `2r` cannot overflow: `r < den <= 2^128 - 1`
/// is compared as `r > den - r`.
///
/// # Panics
/// If `den == 0`.
pub fn round_half_even_div(num: u128, den: u128) -> u128 {
    assert!(den != 0, "round_half_even_div: den = 0 (must be >= 1)");
    let q = num / den;
    let r = num % den;
    let rest = den - r; // 2r vs den  <=>  r vs den - r
    let up = r > rest || (r == rest && q & 1 == 1);
    q + up as u128
}

/// Number of significant bits of `s` (`bit_length(0) = 0`): `2^(j-1) <= s < 2^j` for `s >= 1`.
pub fn bit_length(s: u64) -> u32 {
    u64::BITS - s.leading_zeros()
}

/// `recip(s) = floor(2^31 * rne24(1/s))` for `1 <= s <= 2^31`, exactly as the spec:
/// "`j = bit_length(s)`; `R = round_half_even(2^(23+j) / s)`; `recip = R << (8 - j)` if `j <= 8`,
/// `R >> (j - 8)` if `j > 8` (floor)".
///
/// The result is in `1 ..= 2^31`.
///
/// # Panics
/// If `s` is outside `1 ..= 2^31` (callers saturate or validate first: Shiftmax and ShiftGELU take
/// `min(.., 2^31)` of a positive sum, I-LayerNorm's square root is in `1 ..= 2^31` for its validated
/// inputs).
pub fn recip(s: u64) -> u64 {
    assert!(
        (RECIP_S_MIN..=RECIP_S_MAX).contains(&s),
        "recip: s = {s} out of range 1..=2147483648 (1..=2^31)"
    );
    let j = bit_length(s);
    let r = round_half_even_div(1u128 << (23 + j), s as u128) as u64;
    debug_assert!((1 << 23..=1 << 24).contains(&r));
    if j <= 8 {
        r << (8 - j)
    } else {
        r >> (j - 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        assert_eq!(recip(1), 1 << 31);
        assert_eq!(recip(3), 715827904);
        assert_eq!(recip(6), 357913952);
        assert_eq!(recip(1 << 31), 1);
    }

    #[test]
    fn round_half_even_div_ties() {
        assert_eq!(round_half_even_div(5, 2), 2);
        assert_eq!(round_half_even_div(7, 2), 4);
        assert_eq!(round_half_even_div(u128::MAX, u128::MAX), 1);
        assert_eq!(round_half_even_div(u128::MAX, 2), 1 << 127);
    }
}
