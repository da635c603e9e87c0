//! K-term L-Mul dot product with an exact fixed-point accumulator (spec: `lmul.md`, "Dot products").
//!
//! "For the fp8 formats a product's value is `(-1)^s * mant * 2^(exp - bias - M)` with a 4-bit (e4m3)
//! or 3-bit (e5m2) significand, so an L-Mul dot product can be accumulated **exactly** in a fixed-point
//! (Kulisch-style) two's-complement accumulator: no rounding, order-independent, bit-exact by
//! construction. Width: enough fraction bits for the smallest product and enough integer bits for the
//! largest, plus `ceil(log2(K))` guard bits. [...] a lane whose product is NaN (or Inf, e5m2)
//! contributes 0 and sets a sticky `invalid` flag that is part of the result; saturated products
//! contribute their saturated value."
//!
//! Definitions made here:
//! - **Lane value.** Lane `i` computes `y_i = lmul(a[i], b[i])` ([`crate::lmul::lmul`], all rules
//!   included) and decodes the *result* bits: with exponent field `exp` and significand
//!   `mant = 2^M + mantissa field` (hidden 1), the value is `(-1)^s * mant * 2^(exp - bias - M)`.
//!   L-Mul results are never subnormal (rule 6 flushes), so exponent field 0 means a (signed) zero
//!   result, which contributes 0.
//! - **Scale.** The accumulator LSB is `2^(1 - bias - M)` ([`acc_lsb_exponent`]: -9 for e4m3, -16 for
//!   e5m2): the spacing of the lowest normal binade (exponent field 1), whose smallest value is
//!   `2^M` LSBs. Every nonzero lane is the integer `+-(mant << (exp - 1))` in LSB units
//!   ([`lane_fixed`]), and the odd significands of binade 1 need this LSB, so no coarser scale is exact.
//! - **Width.** [`acc_width`]`(fmt, K) = P + ceil(log2 K) + 1` where `P` is the bit length of the
//!   largest lane magnitude, the saturated `MAXFIN` (`0x7E` = 448 = 14 << 14 LSBs: `P = 18` for e4m3;
//!   `0x7B` = 57344 = 7 << 29 LSBs: `P = 32` for e5m2), then `ceil(log2 K)` guard bits and a sign bit.
//!   Of the `P` magnitude bits, `bias + M - 1` are fraction bits (9 and 16) and the rest integer bits
//!   (9 and 16). `K` lanes of magnitude `< 2^P` sum to less than `2^(P + ceil(log2 K))`, so the
//!   two's-complement result always fits; for `K` a power of two (and 1, 3) `K` saturated lanes need
//!   every bit.
//! - **Invalid.** A lane whose result is NaN (a NaN input, or Inf x zero) or Inf (an Inf input, or
//!   overflow in [`Overflow::Ieee`] mode; e5m2 only, e4m3 has no Inf) contributes 0 and sets the
//!   sticky `invalid` flag.
//!
//! Only the 8-bit formats (e4m3, e5m2, or a custom format of at most 8 bits) are supported: bf16
//! products span `2^-266 .. 2^256` and would need an accumulator of hundreds of bits. The functions
//! panic on a wider format; [`lmul_dot_checked`] returns [`DotError::Format`].

use crate::float_format::{pow2, Format, OperandError, Overflow};
use crate::lmul::{lmul, LmulError};

/// The dot product: the exact sum as an integer in units of `2^acc_lsb_exponent(fmt)`, and the sticky
/// invalid flag (some lane was NaN or Inf and contributed 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct DotResult {
    /// The two's-complement accumulator; fits [`acc_width`]`(fmt, K)` bits.
    pub acc: i128,
    /// Set when any lane's L-Mul result was NaN or Inf.
    pub invalid: bool,
}

/// Invalid dot-product parameters or operands; messages name the parameter.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DotError {
    /// A format wider than 8 bits (e.g. bf16).
    #[error("format {format} has {bits} bits; only 8-bit formats are supported (e4m3, e5m2)")]
    Format {
        /// The format's name.
        format: String,
        /// Its width.
        bits: u32,
    },
    /// `a` and `b` have different lengths.
    #[error("a has {a} lanes but b has {b}")]
    Length {
        /// Lanes of `a`.
        a: usize,
        /// Lanes of `b`.
        b: usize,
    },
    /// `l`, a lane operand (named `a[i]` / `b[i]`) or the format's fields.
    #[error(transparent)]
    Lmul(#[from] LmulError),
}

/// `Ok` for a valid format of at most 8 bits.
pub fn check_dot_format(fmt: Format) -> Result<(), DotError> {
    fmt.validate().map_err(LmulError::from)?;
    if fmt.bits() > 8 {
        return Err(DotError::Format {
            format: fmt.name(),
            bits: fmt.bits(),
        });
    }
    Ok(())
}

fn assert_dot_format(fmt: Format, what: &str) {
    if let Err(e) = check_dot_format(fmt) {
        panic!("{what}: {e}");
    }
}

/// The accumulator LSB exponent `1 - bias - M`: the value of the accumulator is `acc * 2^this`
/// (-9 for e4m3, -16 for e5m2).
///
/// # Panics
/// For a format wider than 8 bits or an invalid one.
pub fn acc_lsb_exponent(fmt: Format) -> i32 {
    assert_dot_format(fmt, "acc_lsb_exponent");
    1 - fmt.bias - fmt.m as i32
}

/// Guard bits for `k` lanes, `ceil(log2 k)` (0 for `k <= 1`).
pub fn guard_bits(k: usize) -> u32 {
    if k <= 1 {
        0
    } else {
        usize::BITS - (k - 1).leading_zeros()
    }
}

/// Bit length `P` of the largest lane magnitude, the saturated `MAXFIN` in LSB units: 18 (e4m3), 32
/// (e5m2).
///
/// # Panics
/// For a format wider than 8 bits or an invalid one.
pub fn product_bits(fmt: Format) -> u32 {
    assert_dot_format(fmt, "product_bits");
    let max = lane_fixed(fmt, fmt.max_finite()).expect("MAXFIN is finite");
    i128::BITS - max.leading_zeros()
}

/// Two's-complement accumulator width for `k` lanes: `product_bits(fmt) + ceil(log2 k) + 1`
/// (e4m3: `19 + ceil(log2 k)`, e5m2: `33 + ceil(log2 k)`).
///
/// # Panics
/// For a format wider than 8 bits or an invalid one.
pub fn acc_width(fmt: Format, k: usize) -> u32 {
    assert_dot_format(fmt, "acc_width");
    product_bits(fmt) + guard_bits(k) + 1
}

/// One lane's contribution in LSB units from an L-Mul *result* `y`: `None` for NaN or Inf, 0 for
/// exponent field 0 (zero; L-Mul results are never subnormal), else
/// `(-1)^s * (2^M + mantissa) << (exp - 1)`, i.e. `(-1)^s * mant * 2^(exp - bias - M)` divided by
/// `2^(1 - bias - M)`.
///
/// # Panics
/// For a format wider than 8 bits, an invalid one, or `y` wider than the format.
pub fn lane_fixed(fmt: Format, y: u32) -> Option<i128> {
    assert_dot_format(fmt, "lane_fixed");
    assert!(fmt.fits(y), "lane_fixed: y = {y:#x} does not fit {fmt}");
    if fmt.is_nan(y) || fmt.is_inf(y) {
        return None;
    }
    let exp = fmt.exp_field(y);
    if exp == 0 {
        return Some(0);
    }
    let mag = (((1u32 << fmt.m) | fmt.man_field(y)) as i128) << (exp - 1);
    Some(if fmt.sign(y) == 1 { -mag } else { mag })
}

/// The K-term L-Mul dot product `sum_i lmul(a[i], b[i])`, exact (see the module documentation).
///
/// # Panics
/// For a format wider than 8 bits, `l` outside `1..=16`, an operand wider than the format, or
/// `a.len() != b.len()` ([`lmul_dot_checked`] returns these as errors).
pub fn lmul_dot(fmt: Format, l: u32, overflow: Overflow, a: &[u32], b: &[u32]) -> DotResult {
    if let Err(e) = validate(fmt, l, a, b) {
        panic!("lmul_dot: {e}");
    }
    let mut r = DotResult::default();
    for (&x, &y) in a.iter().zip(b) {
        match lane_fixed(fmt, lmul(fmt, l, overflow, x, y)) {
            Some(v) => r.acc += v,
            None => r.invalid = true,
        }
    }
    r
}

/// [`lmul_dot`] with its parameters checked; errors name the parameter (`l`, `a[i]`, `b[i]`, the
/// lane counts, or the format).
pub fn lmul_dot_checked(
    fmt: Format,
    l: u32,
    overflow: Overflow,
    a: &[u32],
    b: &[u32],
) -> Result<DotResult, DotError> {
    validate(fmt, l, a, b)?;
    Ok(lmul_dot(fmt, l, overflow, a, b))
}

fn validate(fmt: Format, l: u32, a: &[u32], b: &[u32]) -> Result<(), DotError> {
    check_dot_format(fmt)?;
    crate::lmul::check_l(l)?;
    if a.len() != b.len() {
        return Err(DotError::Length {
            a: a.len(),
            b: b.len(),
        });
    }
    for (name, v) in [("a", a), ("b", b)] {
        for (i, &x) in v.iter().enumerate() {
            crate::float_format::check_operand(fmt, &format!("{name}[{i}]"), x)
                .map_err(|e: OperandError| LmulError::from(e))?;
        }
    }
    Ok(())
}

/// The value of a dot product as `f64` for reports: NaN when `invalid`, else `acc * 2^lsb` (exact
/// while `|acc| < 2^53`, which holds for e4m3 up to K = 2^34 and e5m2 up to K = 2^20 lanes; rounded to
/// nearest beyond).
///
/// # Panics
/// For a format wider than 8 bits or an invalid one.
pub fn dot_value(fmt: Format, r: &DotResult) -> f64 {
    if r.invalid {
        return f64::NAN;
    }
    r.acc as f64 * pow2(acc_lsb_exponent(fmt))
}
