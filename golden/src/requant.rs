//! Dyadic requantization (spec: `integer-ops.md`, "Dyadic requantization"; HAWQ-V3 / I-ViT `QuantAct`
//! + `fixedpoint_mul`).
//!
//! Offline, a float scale ratio `r = s_in / s_out` becomes a dyadic number `m / 2^c` ([`Dyadic`]). At run
//! time, for an int32 `x`:
//! ```text
//! p   = x * m                                   # exact, 63 bits
//! y   = round(p / 2^c)                          # rounding mode: half-even (default) or half-up
//! out = clamp(y, -2^(bits-1), 2^(bits-1) - 1)   # bits in {8, 16}
//! ```
//! The residual add rounds each branch separately and clamps once:
//! `out = clamp(round(x*m/2^c) + round(z*m1/2^c1))`.

use std::fmt;
use std::str::FromStr;

/// Largest shift `c` the spec allows: "Valid ranges: `0 <= c <= 62`; anything else is a configuration
/// error."
pub const C_MAX: u32 = 62;

/// Largest multiplier `m` the vector files allow (`m`, `m1`: `1 ..= 2^31 - 1`; the HAWQ construction
/// gives `2^30 ..= 2^31 - 1`).
pub const M_MAX: u32 = (1 << 31) - 1;

/// Rounding mode of `y = round(p / 2^c)`.
///
/// Spec: "`half-even` (default; the PyTorch reference's `torch.round`) and `half-up`
/// (`(p + 2^(c-1)) >> c`, TVM's "UPWARD"). They differ only on exact ties."
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Rounding {
    /// Round to nearest, ties to even (the default; PyTorch's `torch.round`).
    #[default]
    HalfEven,
    /// Round to nearest, ties toward plus infinity: `(p + 2^(c-1)) >> c` (TVM's "UPWARD").
    HalfUp,
}

impl Rounding {
    /// Every mode, in the order the error messages list them.
    pub const ALL: [Rounding; 2] = [Rounding::HalfEven, Rounding::HalfUp];

    /// The name used in vector files and on the command line: `"half-even"` or `"half-up"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Rounding::HalfEven => "half-even",
            Rounding::HalfUp => "half-up",
        }
    }
}

impl fmt::Display for Rounding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rounding-mode name that is neither `half-even` nor `half-up`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid rounding {value:?} (allowed: half-even, half-up)")]
pub struct ParseRoundingError {
    /// The rejected name, as given.
    pub value: String,
}

impl FromStr for Rounding {
    type Err = ParseRoundingError;

    /// Parses `"half-even"` or `"half-up"` (exact, case-sensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rounding::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| ParseRoundingError {
                value: s.to_string(),
            })
    }
}

/// A dyadic scale `m / 2^c`: spec "`m` is a 31-bit unsigned multiplier in [2^30, 2^31) and
/// `r ~ m / 2^c`".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dyadic {
    /// The multiplier `m` (in `2^30 ..= 2^31 - 1` when built by [`Dyadic::from_ratio`]).
    pub m: u32,
    /// The shift `c`, `0 ..= 62`.
    pub c: u32,
}

/// Why float scales cannot become a valid [`Dyadic`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DyadicError {
    /// A scale (or the ratio) is NaN, infinite, zero or negative.
    #[error("{name} = {value:?} must be finite and > 0")]
    NotPositiveFinite {
        /// The parameter: `"s_in"`, `"s_out"` or `"r"`.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// `s_in / s_out` overflows to infinity or underflows to zero in f64.
    #[error("r = s_in / s_out = {s_in:?} / {s_out:?} is not representable in f64 (overflow or underflow)")]
    RatioNotRepresentable {
        /// The input scale.
        s_in: f64,
        /// The output scale.
        s_out: f64,
    },
    /// The shift `c` leaves the valid range `0..=62` (so `r` is at least `2^31 - 2^-22` or below
    /// `2^-32 (1 - 2^-53)`).
    #[error("r = {r:?} gives shift c = {c}, outside 0..=62")]
    ShiftOutOfRange {
        /// The ratio.
        r: f64,
        /// The shift it would need.
        c: i64,
    },
}

/// `frexp` of C: `x = mf * 2^e` with `mf` in `[0.5, 1)` (sign kept), exact, read from the f64 bits.
///
/// Subnormals are normalized; `frexp(0) = (0, 0)`; NaN and infinities are returned as `(x, 0)`.
pub fn frexp(x: f64) -> (f64, i32) {
    const EXP_MASK: u64 = 0x7ff << 52;
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let biased = ((bits & EXP_MASK) >> 52) as i32;
    if biased == 0 {
        // Subnormal: scale by 2^64 (exact) into the normal range.
        let (mf, e) = frexp(x * f64::from_bits(((1023 + 64) as u64) << 52));
        return (mf, e - 64);
    }
    // Replace the exponent by the one of [0.5, 1) (biased 1022); x = mf * 2^(biased - 1022).
    let mf = f64::from_bits((bits & !EXP_MASK) | (1022u64 << 52));
    (mf, biased - 1022)
}

impl Dyadic {
    /// From float scales, exactly as the spec: `r = s_in / s_out` (f64), then [`Dyadic::from_ratio`].
    ///
    /// Errors: `s_in` or `s_out` not finite or `<= 0` (the message names which); a ratio that
    /// overflows or underflows f64; a resulting `c` outside `0..=62`.
    pub fn from_scales(s_in: f64, s_out: f64) -> Result<Dyadic, DyadicError> {
        for (name, value) in [("s_in", s_in), ("s_out", s_out)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(DyadicError::NotPositiveFinite { name, value });
            }
        }
        let r = s_in / s_out;
        if !(r.is_finite() && r > 0.0) {
            return Err(DyadicError::RatioNotRepresentable { s_in, s_out });
        }
        Dyadic::from_ratio(r)
    }

    /// From a ratio, spec: "`(mf, e) = frexp(r)` with `mf` in [0.5, 1); `m = round_half_away(mf * 2^31)`;
    /// `c = 31 - e`; if `m == 2^31` then `m = 2^30, c = c - 1`."
    ///
    /// `mf * 2^31` is exact in f64 and `f64::round` rounds half away from zero. Errors: `r` not finite
    /// or `<= 0`; the resulting `c` (after the renormalization) outside `0..=62`.
    pub fn from_ratio(r: f64) -> Result<Dyadic, DyadicError> {
        if !(r.is_finite() && r > 0.0) {
            return Err(DyadicError::NotPositiveFinite {
                name: "r",
                value: r,
            });
        }
        let (mf, e) = frexp(r);
        let mut m = (mf * (1u64 << 31) as f64).round() as u64;
        let mut c = 31 - e as i64;
        if m == 1 << 31 {
            m = 1 << 30;
            c -= 1;
        }
        if !(0..=C_MAX as i64).contains(&c) {
            return Err(DyadicError::ShiftOutOfRange { r, c });
        }
        Ok(Dyadic {
            m: m as u32,
            c: c as u32,
        })
    }

    /// The value this dyadic number represents, `m / 2^c` (exact in f64).
    pub fn effective(&self) -> f64 {
        self.m as f64 / (self.c as f64).exp2()
    }
}

/// `round(p / 2^c)` in the given mode, for `c` in `0..=62` and any `p`.
///
/// Spec: "`half-up` (`(p + 2^(c-1)) >> c`)" and `half-even` (ties to even); `>>` is an arithmetic shift
/// (floor division). "With `c = 0` the result is exact (`y = x * m`, no rounding) in both modes."
///
/// Computed as `floor = p >> c` and the remainder `p - floor * 2^c` in `[0, 2^c)`, compared with the
/// half `2^(c-1)`; this cannot overflow for any `i64` `p`.
///
/// # Panics
/// If `c > 62`.
pub fn round_shift(p: i64, c: u32, rounding: Rounding) -> i64 {
    assert!(c <= C_MAX, "round_shift: c = {c} out of range 0..=62");
    if c == 0 {
        return p;
    }
    let floor = p >> c;
    let rem = p & ((1i64 << c) - 1); // p - floor * 2^c, in [0, 2^c)
    let half = 1i64 << (c - 1);
    let up = match rounding {
        Rounding::HalfUp => rem >= half,
        Rounding::HalfEven => rem > half || (rem == half && floor & 1 == 1),
    };
    floor + up as i64
}

/// Spec: "`clamp(y, -2^(bits-1), 2^(bits-1) - 1)`", for `bits` in `1..=32`.
///
/// # Panics
/// If `bits` is 0 or above 32.
pub fn saturate(y: i64, bits: u32) -> i32 {
    assert!(
        (1..=32).contains(&bits),
        "saturate: bits = {bits} out of range 1..=32"
    );
    let lo = -(1i64 << (bits - 1));
    let hi = (1i64 << (bits - 1)) - 1;
    y.clamp(lo, hi) as i32
}

fn check_requant_params(c: u32, bits: u32, what: &str) {
    assert!(
        c <= C_MAX,
        "{what}: c = {c} out of range 0..=62 (a configuration error; callers validate)"
    );
    assert!(
        bits == 8 || bits == 16,
        "{what}: bits = {bits} not allowed (allowed: 8, 16)"
    );
}

/// Requantize one int32: spec "`p = x * m` (exact, 63 bits); `y = round(p / 2^c)`;
/// `out = clamp(y, -2^(bits-1), 2^(bits-1) - 1)`".
///
/// `x * m` is exact in `i64` for every `u32` `m` (`|p| < 2^63`; within the vector-file range
/// `m <= 2^31 - 1`, `|p| < 2^62`).
///
/// # Panics
/// If `c > 62` or `bits` is not 8 or 16 (configuration errors; callers validate).
pub fn requant(x: i32, m: u32, c: u32, bits: u32, rounding: Rounding) -> i32 {
    check_requant_params(c, bits, "requant");
    let p = x as i64 * m as i64;
    saturate(round_shift(p, c, rounding), bits)
}

/// Requantized residual add: spec "`out = clamp(round(x*m/2^c) + round(z*m1/2^c1))`, each branch
/// rounded separately, one clamp."
///
/// # Panics
/// If `c` or `c1` is above 62 or `bits` is not 8 or 16.
#[allow(clippy::too_many_arguments)]
pub fn requant_add(
    x: i32,
    z: i32,
    m: u32,
    c: u32,
    m1: u32,
    c1: u32,
    bits: u32,
    rounding: Rounding,
) -> i32 {
    check_requant_params(c, bits, "requant_add");
    assert!(
        c1 <= C_MAX,
        "requant_add: c1 = {c1} out of range 0..=62 (a configuration error; callers validate)"
    );
    let y = round_shift(x as i64 * m as i64, c, rounding);
    let y1 = round_shift(z as i64 * m1 as i64, c1, rounding);
    // The sum can only overflow i64 for m, m1 above 2^31 - 1 with c = c1 = 0; it then saturates far
    // outside the clamp range, so the clamped result is still exact.
    saturate(y.saturating_add(y1), bits)
}

/// Per-channel value: spec "each of `m`, `c`, `m1`, `c1` is per column (length = row length) or a
/// single-element list applied to every column, independently of the others".
pub fn channel(v: &[u32], j: usize) -> u32 {
    if v.len() == 1 {
        v[0]
    } else {
        v[j]
    }
}

fn check_channels(name: &str, v: &[u32], row_len: usize, what: &str) {
    assert!(
        v.len() == 1 || v.len() == row_len,
        "{what}: {name} has length {}, which matches neither 1 nor the row length {row_len}",
        v.len()
    );
}

fn check_rectangular(name: &str, x: &[Vec<i32>], what: &str) -> usize {
    let len = x.first().map_or(0, Vec::len);
    for (i, row) in x.iter().enumerate() {
        assert!(
            row.len() == len,
            "{what}: {name} is ragged (row {i} has {} elements, row 0 has {len})",
            row.len()
        );
    }
    len
}

/// [`requant`] over rows of `x`, with per-channel broadcast: each of `m`, `c` has length 1 (applies to
/// every column) or the row length (column `j` uses element `j`).
///
/// # Panics
/// If the rows are ragged, `m` or `c` has another length, or any parameter is out of range (see
/// [`requant`]).
pub fn requant_rows(
    x: &[Vec<i32>],
    m: &[u32],
    c: &[u32],
    bits: u32,
    rounding: Rounding,
) -> Vec<Vec<i32>> {
    let len = check_rectangular("x", x, "requant_rows");
    check_channels("m", m, len, "requant_rows");
    check_channels("c", c, len, "requant_rows");
    x.iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(j, &v)| requant(v, channel(m, j), channel(c, j), bits, rounding))
                .collect()
        })
        .collect()
}

/// [`requant_add`] over rows of `x` and `z` (same shape), with per-channel broadcast of each of `m`,
/// `c`, `m1`, `c1` independently (length 1 or the row length).
///
/// # Panics
/// If the rows are ragged, `z` has another shape than `x`, a parameter list has another length, or any
/// parameter is out of range (see [`requant_add`]).
#[allow(clippy::too_many_arguments)]
pub fn requant_add_rows(
    x: &[Vec<i32>],
    z: &[Vec<i32>],
    m: &[u32],
    c: &[u32],
    m1: &[u32],
    c1: &[u32],
    bits: u32,
    rounding: Rounding,
) -> Vec<Vec<i32>> {
    const WHAT: &str = "requant_add_rows";
    let len = check_rectangular("x", x, WHAT);
    assert!(
        z.len() == x.len() && z.iter().all(|row| row.len() == len),
        "{WHAT}: z does not have the shape of x ({} rows of {len})",
        x.len()
    );
    for (name, v) in [("m", m), ("c", c), ("m1", m1), ("c1", c1)] {
        check_channels(name, v, len, WHAT);
    }
    x.iter()
        .zip(z)
        .map(|(xr, zr)| {
            xr.iter()
                .zip(zr)
                .enumerate()
                .map(|(j, (&xv, &zv))| {
                    requant_add(
                        xv,
                        zv,
                        channel(m, j),
                        channel(c, j),
                        channel(m1, j),
                        channel(c1, j),
                        bits,
                        rounding,
                    )
                })
                .collect()
        })
        .collect()
}
