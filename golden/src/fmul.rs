//! The exact multiplier baseline for the L-Mul formats (spec: `lmul.md`, "The exact multiplier
//! baseline").
//!
//! "the exact multiplier for the same format with the same rules 1-4, 6 and 7: the product of the two
//! significands rounded to M bits, round to nearest, ties to even, the rounding carry allowed into the
//! exponent. Underflow is decided after rounding: a product that rounds up into the smallest normal is
//! kept (e4m3 `0x09 x 0x36 = 0x08`); one whose rounded biased exponent is still <= 0 becomes signed
//! zero. Rounding happens at M bits of significand, never on a subnormal grid: e4m3 `0x0C x 0x32` is
//! `1.875 x 2^-7`, representable at 3 bits but below the smallest normal, so it is `0x00`."
//!
//! Also the float reference used by error reports, [`exact_product_f64`].

use crate::float_format::{check_operand, special_product, Format, FormatError, OperandError};
use crate::float_format::{Overflow, Rule};

/// Invalid exact-multiplier parameters or operands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FmulError {
    /// An operand wider than the format.
    #[error(transparent)]
    Operand(#[from] OperandError),
    /// A custom format with a field out of range.
    #[error(transparent)]
    Format(#[from] FormatError),
}

/// Exact product rounded to nearest, ties to even, at M bits, with the rule that decided the result.
///
/// Rules 1-4 as L-Mul ([`special_product`]). Otherwise, with significands `A = 2^M + mant(a)` and
/// `B = 2^M + mant(b)`, the product is `P * 2^(exp(a) + exp(b) - 2 bias - 2M)` with `P = A * B` in
/// `[2^2M, 2^(2M+2))`. `P` is normalized to `M + 1` bits (dropping `M` or `M + 1` low bits), rounded
/// half-even; a rounding carry to `2^(M+1)` moves into the exponent. Then, on the rounded biased
/// exponent `e`: `e <= 0` is signed zero (rule 6), a field `(e << M) | mant` above `MAXFIN` overflows
/// (rule 7: saturate, or Inf in [`Overflow::Ieee`] mode for formats with Inf), else `s | field`.
///
/// # Panics
/// If `fmt` is not valid or an operand does not fit `fmt.bits()` ([`fmul_checked`] returns errors).
pub fn fmul_with_rule(fmt: Format, overflow: Overflow, a: u32, b: u32) -> (u32, Rule) {
    if let Err(e) = validate(fmt, a, b) {
        panic!("fmul: {e}");
    }
    if let Some(special) = special_product(fmt, a, b) {
        return special; // rules 1-4
    }
    let s = fmt.sign(a) ^ fmt.sign(b);
    let m = fmt.m;
    let sig_a = (1u64 << m) | fmt.man_field(a) as u64;
    let sig_b = (1u64 << m) | fmt.man_field(b) as u64;
    let p = sig_a * sig_b; // exact, at most 2M + 2 <= 48 bits
                           // Biased exponent of the result when the significand is in [1, 2).
    let mut e = fmt.exp_field(a) as i64 + fmt.exp_field(b) as i64 - fmt.bias as i64;
    let drop = if p >> (2 * m + 1) != 0 {
        e += 1; // product significand in [2, 4)
        m + 1
    } else {
        m
    };
    let mut q = p >> drop; // M + 1 bits, in [2^M, 2^(M+1))
    let rem = p & ((1u64 << drop) - 1);
    let half = 1u64 << (drop - 1);
    if rem > half || (rem == half && q & 1 == 1) {
        q += 1;
    }
    if q == 1 << (m + 1) {
        q >>= 1; // rounding carry into the exponent
        e += 1;
    }
    if e <= 0 {
        return (s << (fmt.e + m), Rule::Underflow); // rule 6, after rounding
    }
    let field = (e << m) + (q as i64 - (1 << m));
    if field > fmt.max_finite() as i64 {
        return (fmt.overflow_result(overflow, s), Rule::Overflow); // rule 7
    }
    ((s << (fmt.e + m)) | field as u32, Rule::Normal)
}

/// The exact multiplier (see [`fmul_with_rule`]).
///
/// # Panics
/// As [`fmul_with_rule`].
pub fn fmul(fmt: Format, overflow: Overflow, a: u32, b: u32) -> u32 {
    fmul_with_rule(fmt, overflow, a, b).0
}

/// [`fmul`] with the format and operands checked; errors name the operand or format field.
pub fn fmul_checked(fmt: Format, overflow: Overflow, a: u32, b: u32) -> Result<u32, FmulError> {
    validate(fmt, a, b)?;
    Ok(fmul(fmt, overflow, a, b))
}

fn validate(fmt: Format, a: u32, b: u32) -> Result<(), FmulError> {
    fmt.validate()?;
    check_operand(fmt, "a", a)?;
    check_operand(fmt, "b", b)?;
    Ok(())
}

/// The real product of the decoded operands, `fmt.to_f64(a) * fmt.to_f64(b)`, for error reports.
///
/// Subnormal operands count at their real value (not as zero), NaN and Inf follow IEEE `f64`
/// (Inf x 0 is NaN). Exact for every valid format: the significands have at most 24 bits, so the
/// product has at most 48, and with `E <= 8` the exponent stays far inside the `f64` range.
///
/// # Panics
/// If `fmt` is not valid or an operand does not fit `fmt.bits()`.
pub fn exact_product_f64(fmt: Format, a: u32, b: u32) -> f64 {
    if let Err(e) = validate(fmt, a, b) {
        panic!("exact_product_f64: {e}");
    }
    fmt.to_f64(a) * fmt.to_f64(b)
}
