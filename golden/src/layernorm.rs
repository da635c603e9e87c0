//! I-LayerNorm (spec: `integer-ops.md`, "I-LayerNorm (I-ViT `IntLayerNorm`)").
//!
//! Parameters: row length `C`, per-channel `bias_int[c]` (int32, `floor((beta_c/gamma_c) /
//! (sqrt(C)/2^30))`, computed offline; `gamma_c > 0`), square-root mode ([`SqrtMode`]). Input: one row
//! of int16. `eps` is not used.
//! ```text
//! mean   = round_half_even(sum(x) / C)     # exact rational rounding, ties to even
//! y_c    = x_c - mean
//! var    = sum(y_c^2)                      # not divided by C; up to ~2^42 for C = 768
//! std    = isqrt(var)                      # isqrt_ivit or isqrt_exact
//! factor = recip(std)
//! out_c  = sat_i32(((y_c * factor) >> 1) + bias_int[c])   # scale sqrt(C)/2^30 * gamma_c
//! ```
//! Rows are limited to `C <= 2^16` ([`C_MAX`]) int16 values, so `|sum| <= 2^31`, `|y_c| <= 2^16 - 1`,
//! `var < 2^48`, `std` in `1 ..= 2^31` in both modes (the domain of [`recip`]), and
//! `|y_c * factor| < 2^47`: everything fits `i64`/`u64`.

use std::fmt;
use std::str::FromStr;

use num_integer::Integer;

use crate::recip::recip;

/// Longest row: `C <= 2^16`, which keeps `var < 2^48` and `std <= 2^31` (see the module doc).
pub const C_MAX: usize = 1 << 16;

/// The square root of I-LayerNorm.
///
/// Spec: "`ivit` (default, bit-exact with the reference)" and "`exact`: `max(floor(sqrt(var)), 1)` by
/// digit recurrence (shifts and subtracts, no divider). Not bit-exact with the reference; more accurate
/// for small-variance rows and cheaper in hardware."
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SqrtMode {
    /// [`isqrt_ivit`]: 10 unconditional Newton steps from `2^16` (the reference's behaviour).
    #[default]
    Ivit,
    /// [`isqrt_exact`]: `max(floor(sqrt(var)), 1)`.
    Exact,
}

impl SqrtMode {
    /// Every mode, in the order the error messages list them.
    pub const ALL: [SqrtMode; 2] = [SqrtMode::Ivit, SqrtMode::Exact];

    /// The name used in vector files and on the command line: `"ivit"` or `"exact"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            SqrtMode::Ivit => "ivit",
            SqrtMode::Exact => "exact",
        }
    }

    /// The square root of this mode: [`isqrt_ivit`] or [`isqrt_exact`].
    pub fn isqrt(&self, var: u64) -> u64 {
        match self {
            SqrtMode::Ivit => isqrt_ivit(var),
            SqrtMode::Exact => isqrt_exact(var),
        }
    }
}

impl fmt::Display for SqrtMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A square-root mode name that is neither `ivit` nor `exact`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid sqrt {value:?} (allowed: ivit, exact)")]
pub struct ParseSqrtModeError {
    /// The rejected name, as given.
    pub value: String,
}

impl FromStr for SqrtMode {
    type Err = ParseSqrtModeError;

    /// Parses `"ivit"` or `"exact"` (exact, case-sensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SqrtMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| ParseSqrtModeError {
                value: s.to_string(),
            })
    }
}

/// Number of Newton steps of [`isqrt_ivit`]: spec "exactly 10 times".
pub const IVIT_STEPS: u32 = 10;

/// Starting value of [`isqrt_ivit`]: spec "`k = 2^16`".
pub const IVIT_START: u64 = 1 << 16;

/// The reference's square root: spec "`k = 2^16`, then exactly 10 times `k = (k + var div k) div 2`.
/// No early exit."
///
/// Not a true isqrt; the spec's quirks are kept: for small `var` it has not converged (`var = 3200`
/// gives 79), the result is never below 64, and for `var = k^2 - 1` it can return `k`.
///
/// `k` never reaches 0: each step gives at least `floor(k/2)`, so after step `i` `k >= 2^(16-i)`, and
/// the result is `>= 2^6 = 64` (exactly 64 for `var = 0`, where every step halves). No overflow for
/// any `u64` `var`: the first step gives at most `(2^16 + 2^48) / 2`, and later steps do not grow
/// beyond the larger of that and `isqrt(var) + 1`. For `var < 2^48` the result is at most `2^31`.
/// (`div` is floor division; on unsigned values Rust's `/` is exactly that.)
pub fn isqrt_ivit(var: u64) -> u64 {
    let mut k = IVIT_START;
    for _ in 0..IVIT_STEPS {
        k = (k + var / k) / 2;
    }
    k
}

/// `max(floor(sqrt(var)), 1)` by digit recurrence (restoring square root, one result bit per step,
/// shifts, adds and compares only, no divider), as hardware computes it.
///
/// 32 fixed steps `i = 31 ..= 0`, one per pair of bits of `var`, most significant first. Entering step
/// `i`, `P` is the partial root (the bits of `floor(sqrt(var))` above bit `i`), `rem = var - P^2` and
/// `root = P * 2^(i+1)`, so the trial subtrahend `root + 4^i` is `(P + 2^i)^2 - P^2`: if `rem` is at
/// least that, bit `i` of the root is set (`rem -= trial`, `root = root/2 + 4^i = (P + 2^i) * 2^i`),
/// otherwise `root = root/2`. After step 0, `root = P = floor(sqrt(var))`. Every value stays below
/// `2^63` (`P < 2^32`).
pub fn isqrt_exact(var: u64) -> u64 {
    let mut rem = var;
    let mut root: u64 = 0;
    for i in (0..32u32).rev() {
        let bit = 1u64 << (2 * i);
        let trial = root + bit;
        if rem >= trial {
            rem -= trial;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
    }
    root.max(1)
}

/// Why an I-LayerNorm row or bias is rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LayerNormError {
    /// The row has no elements.
    #[error("row is empty (LayerNorm needs C >= 1)")]
    EmptyRow,
    /// The row is longer than [`C_MAX`].
    #[error("row length C = {len} out of range 1..=65536")]
    RowTooLong {
        /// The row length.
        len: usize,
    },
    /// `bias` does not have one entry per channel.
    #[error("bias has {bias} entries but the row has C = {row} (must be equal)")]
    BiasLength {
        /// `bias.len()`.
        bias: usize,
        /// The row length `C`.
        row: usize,
    },
    /// The sign list of [`layernorm_signed`] does not have one entry per channel.
    #[error("sign has {sign} entries but the row has C = {row} (must be equal)")]
    SignLength {
        /// `negative.len()`.
        sign: usize,
        /// The row length `C`.
        row: usize,
    },
    /// An input element is not int16.
    #[error("x[{index}] = {value} out of range -32768..=32767 (int16)")]
    Input {
        /// Position in the row.
        index: usize,
        /// The rejected value.
        value: i32,
    },
}

/// Checks a row (non-empty, at most [`C_MAX`] elements, every element int16) and its bias (one entry
/// per element), in that order; the first violation is returned.
pub fn check_layernorm_inputs(row: &[i32], bias: &[i32]) -> Result<(), LayerNormError> {
    check_row(row)?;
    if bias.len() != row.len() {
        return Err(LayerNormError::BiasLength {
            bias: bias.len(),
            row: row.len(),
        });
    }
    Ok(())
}

fn check_row(row: &[i32]) -> Result<(), LayerNormError> {
    if row.is_empty() {
        return Err(LayerNormError::EmptyRow);
    }
    if row.len() > C_MAX {
        return Err(LayerNormError::RowTooLong { len: row.len() });
    }
    match row
        .iter()
        .enumerate()
        .find(|(_, v)| !(-32768..=32767).contains(*v))
    {
        Some((index, &value)) => Err(LayerNormError::Input { index, value }),
        None => Ok(()),
    }
}

/// The row statistics of I-LayerNorm (the values hardware computes before the per-channel output).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerNormStats {
    /// `round_half_even(sum(x) / C)`.
    pub mean: i64,
    /// `sum((x_c - mean)^2)`, not divided by `C`.
    pub var: u64,
    /// `isqrt(var)` in the chosen mode, in `1 ..= 2^31`.
    pub std: u64,
    /// `recip(std)`, in `1 ..= 2^31`.
    pub factor: u64,
}

/// Spec "`mean = round_half_even(sum(x) / C)`": the exact rational rounded to nearest, ties to even,
/// from the floor quotient (`div_floor`, so a negative sum rounds like a positive one mirrored).
///
/// # Panics
/// If `c == 0`.
pub fn mean_half_even(sum: i64, c: i64) -> i64 {
    assert!(c > 0, "mean_half_even: C = {c} (must be >= 1)");
    let (q, r) = sum.div_mod_floor(&c); // sum = q*C + r, 0 <= r < C
    let twice = 2 * r as i128;
    let up = twice > c as i128 || (twice == c as i128 && q.is_odd());
    q + up as i64
}

/// The statistics of one row ([`LayerNormStats`]) after validating it (non-empty, `C <= 2^16`, int16).
pub fn layernorm_stats_checked(
    row: &[i32],
    sqrt: SqrtMode,
) -> Result<LayerNormStats, LayerNormError> {
    check_row(row)?;
    let sum: i64 = row.iter().map(|&x| x as i64).sum();
    let mean = mean_half_even(sum, row.len() as i64);
    let var: u64 = row
        .iter()
        .map(|&x| {
            let y = x as i64 - mean;
            (y * y) as u64
        })
        .sum();
    let std = sqrt.isqrt(var);
    let factor = recip(std);
    Ok(LayerNormStats {
        mean,
        var,
        std,
        factor,
    })
}

/// [`layernorm_stats_checked`], panicking on an invalid row (message `"layernorm: <the error>"`).
pub fn layernorm_stats(row: &[i32], sqrt: SqrtMode) -> LayerNormStats {
    layernorm_stats_checked(row, sqrt).unwrap_or_else(|e| panic!("layernorm: {e}"))
}

/// I-LayerNorm of one row (module doc), after validating row and bias ([`check_layernorm_inputs`]).
/// Outputs are int32 (saturated), scale `sqrt(C)/2^30 * gamma_c`.
pub fn layernorm_checked(
    row: &[i32],
    bias: &[i32],
    sqrt: SqrtMode,
) -> Result<Vec<i64>, LayerNormError> {
    layernorm_signed_checked(row, bias, &vec![false; row.len()], sqrt)
}

/// The signed extension of I-LayerNorm (`docs/model.md`, "LayerNorm with any gamma"): channel `c`
/// with `negative[c]` uses `y_c = mean - x_c` instead of `x_c - mean`, so its output has the scale
/// `sqrt(C)/2^30 * |gamma_c|` and the sign of a negative `gamma_c` is carried by the integer; the
/// offline `bias_int[c] = floor((beta_c / |gamma_c|) / (sqrt(C)/2^30))`. With every `negative[c]`
/// false this is [`layernorm_checked`] exactly. Errors as [`check_layernorm_inputs`], then
/// [`LayerNormError::SignLength`].
pub fn layernorm_signed_checked(
    row: &[i32],
    bias: &[i32],
    negative: &[bool],
    sqrt: SqrtMode,
) -> Result<Vec<i64>, LayerNormError> {
    check_layernorm_inputs(row, bias)?;
    if negative.len() != row.len() {
        return Err(LayerNormError::SignLength {
            sign: negative.len(),
            row: row.len(),
        });
    }
    let st = layernorm_stats_checked(row, sqrt)?;
    let factor = st.factor as i64;
    Ok(row
        .iter()
        .zip(bias.iter().zip(negative))
        .map(|(&x, (&b, &neg))| {
            let y = if neg {
                st.mean - x as i64
            } else {
                x as i64 - st.mean
            };
            (((y * factor) >> 1) + b as i64).clamp(i32::MIN as i64, i32::MAX as i64)
        })
        .collect())
}

/// [`layernorm_signed_checked`], panicking on invalid input (message `"layernorm: <the error>"`).
pub fn layernorm_signed(row: &[i32], bias: &[i32], negative: &[bool], sqrt: SqrtMode) -> Vec<i64> {
    layernorm_signed_checked(row, bias, negative, sqrt).unwrap_or_else(|e| panic!("layernorm: {e}"))
}

/// [`layernorm_checked`], panicking on an invalid row or bias (message `"layernorm: <the error>"`).
pub fn layernorm(row: &[i32], bias: &[i32], sqrt: SqrtMode) -> Vec<i64> {
    layernorm_checked(row, bias, sqrt).unwrap_or_else(|e| panic!("layernorm: {e}"))
}

/// Float reference, in the units of the integer output times `sqrt(C)/2^30` (that is, with
/// `gamma_c = 1`): `(x_c - mean) / sigma + bias_c * sqrt(C) / 2^30`, where `mean` and the population
/// standard deviation `sigma` are f64 (no `eps`). The input scale cancels, so none is needed. A
/// constant row (`sigma = 0`) gives the bias term alone, as the integer op does (`y_c = 0`). Compare
/// with `layernorm(..) as f64 * sqrt(C) / 2^30` (before saturation).
///
/// # Panics
/// If `bias` does not have one entry per element.
pub fn layernorm_f64(row: &[i32], bias: &[i32]) -> Vec<f64> {
    assert!(
        bias.len() == row.len(),
        "layernorm_f64: bias has {} entries but the row has C = {} (must be equal)",
        bias.len(),
        row.len()
    );
    let c = row.len() as f64;
    let mean = row.iter().map(|&x| x as f64).sum::<f64>() / c;
    let sigma = (row.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / c).sqrt();
    row.iter()
        .zip(bias)
        .map(|(&x, &b)| {
            let norm = if sigma == 0.0 {
                0.0
            } else {
                (x as f64 - mean) / sigma
            };
            norm + b as f64 * c.sqrt() / (1u64 << 30) as f64
        })
        .collect()
}
