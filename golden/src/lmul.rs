//! L-Mul, the linear-complexity multiplier (spec: `lmul.md`; Luo & Sun, "Addition is All You Need for
//! Energy-efficient Language Models", arXiv 2410.00907).
//!
//! "L-Mul replaces a floating-point multiply by one integer addition of the operands' exponent+mantissa
//! fields [...] **The adder form is the specification**, not the real-valued formula: when
//! `x_m + y_m + offset >= 1` the carry runs into the exponent". The rules, in priority order:
//!
//! 1. Sign `s = sign(a) XOR sign(b)` for every result except NaN (zero and flushed results included).
//! 2. Any NaN input: canonical NaN, always with sign 0.
//! 3. Inf (formats that have it): Inf x zero = canonical NaN; Inf x anything else = Inf with sign `s`.
//! 4. Exponent field 0 (zero or subnormal) is zero ("denormals are zero"): result is signed zero `s`.
//! 5. Core: `T = EM(a) + EM(b) - (bias << M) + ((1 << M) >> l)` computed exactly (at least E+M+2 bits,
//!    signed), where `EM(v)` is the E+M-bit field without the sign.
//! 6. Underflow: `T < (1 << M)` (biased exponent <= 0): signed zero.
//! 7. Overflow: `T > MAXFIN` (for e4m3 `T == 0x7F` counts as overflow, since it is NaN): saturate to
//!    `s | MAXFIN`. An optional IEEE mode returns Inf for e5m2 and bf16; saturation is the default.
//! 8. Otherwise: `s | T`.
//!
//! Known answers (e4m3): `0x38 x 0x38 = 0x39` (1 x 1 = 1.125), `0x40 x 0x44 = 0x4D` (2 x 3 = 6.5);
//! bf16 `0x3F80 x 0x3F80 = 0x3F88` (1.0625).

use crate::float_format::{
    check_operand, special_product, Format, FormatError, OperandError, Overflow, Rule,
};

/// Smallest offset parameter `l`: spec "`1 <= l <= 16`".
pub const L_MIN: u32 = 1;
/// Largest offset parameter `l`.
pub const L_MAX: u32 = 16;

/// Invalid L-Mul parameters or operands; the message names the parameter and its allowed range.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LmulError {
    /// `l` outside `1..=16`.
    #[error("l = {l} out of range 1..=16")]
    L {
        /// The rejected value.
        l: u32,
    },
    /// An operand wider than the format.
    #[error(transparent)]
    Operand(#[from] OperandError),
    /// A custom format with a field out of range.
    #[error(transparent)]
    Format(#[from] FormatError),
}

/// `Ok` when `l` is in `1..=16`.
pub fn check_l(l: u32) -> Result<(), LmulError> {
    if (L_MIN..=L_MAX).contains(&l) {
        Ok(())
    } else {
        Err(LmulError::L { l })
    }
}

/// The offset added in rule 5, `(1 << M) >> l`: `2^(M - l)` for `l <= M`, else 0 ("any `l > M` means
/// no offset (plain Mitchell)"). e4m3 with the default `l = 3`: 1; bf16 with `l = 4`: 8.
pub fn offset(fmt: Format, l: u32) -> u32 {
    ((1u64 << fmt.m) >> l) as u32
}

/// L-Mul of two bit patterns, exactly per rules 1-8, with the rule that decided the result.
///
/// `T` is computed in `i64` (far more than the E+M+2 bits the spec asks for).
///
/// # Panics
/// If `fmt` is not valid ([`Format::validate`]), `l` is outside `1..=16`, or an operand does not fit
/// `fmt.bits()` (configuration errors; [`lmul_checked`] returns them as errors).
pub fn lmul_with_rule(fmt: Format, l: u32, overflow: Overflow, a: u32, b: u32) -> (u32, Rule) {
    if let Err(e) = validate(fmt, l, a, b) {
        panic!("lmul: {e}");
    }
    if let Some(special) = special_product(fmt, a, b) {
        return special; // rules 1-4
    }
    let s = fmt.sign(a) ^ fmt.sign(b);
    let t =
        fmt.em(a) as i64 + fmt.em(b) as i64 - ((fmt.bias as i64) << fmt.m) + offset(fmt, l) as i64; // rule 5
    if t < 1 << fmt.m {
        (s << (fmt.e + fmt.m), Rule::Underflow) // rule 6
    } else if t > fmt.max_finite() as i64 {
        (fmt.overflow_result(overflow, s), Rule::Overflow) // rule 7
    } else {
        ((s << (fmt.e + fmt.m)) | t as u32, Rule::Normal) // rule 8
    }
}

/// L-Mul of two bit patterns (see [`lmul_with_rule`]).
///
/// # Panics
/// As [`lmul_with_rule`].
pub fn lmul(fmt: Format, l: u32, overflow: Overflow, a: u32, b: u32) -> u32 {
    lmul_with_rule(fmt, l, overflow, a, b).0
}

/// [`lmul`] with the parameters checked: the format's fields, `l` in `1..=16`, both operands within
/// `fmt.bits()`. Errors name the parameter (`l`, `a`, `b` or the format field).
pub fn lmul_checked(
    fmt: Format,
    l: u32,
    overflow: Overflow,
    a: u32,
    b: u32,
) -> Result<u32, LmulError> {
    validate(fmt, l, a, b)?;
    Ok(lmul(fmt, l, overflow, a, b))
}

fn validate(fmt: Format, l: u32, a: u32, b: u32) -> Result<(), LmulError> {
    fmt.validate()?;
    check_l(l)?;
    check_operand(fmt, "a", a)?;
    check_operand(fmt, "b", b)?;
    Ok(())
}
