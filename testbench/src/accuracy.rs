//! Accuracy of the integer arithmetic against float references: L-Mul and the exact multiplier
//! (spec `lmul.md`, "Error: the numbers to reproduce") and the I-ViT nonlinear ops (spec
//! `integer-ops.md`, "Accuracy references").
//!
//! Everything here is pure, deterministic computation on the golden model: random inputs come from
//! [`ChaCha8Rng`] with fixed seeds, so a report is the same on every machine and every run.
//!
//! # Multipliers
//! The error of a product is relative to the exact real product of the decoded operands
//! ([`exact_product_f64`]): `(approx - exact) / |exact|`. Every figure names the pair set it covers
//! ([`PairSet`]); the default set is each multiplier's own [`Rule::Normal`] pairs (finite non-zero
//! normal operands, result finite and normal, neither saturated nor flushed to zero). 8-bit formats
//! are exhaustive (65,536 pairs); bf16 uses seeded uniform random bit patterns.
//!
//! [`truncated_mantissa_experiment`] reproduces the paper's comparison (L-Mul on k-bit truncated
//! mantissas against fp8 inputs rounded to nearest, multiplied exactly).
//!
//! # Nonlinear ops
//! Absolute error of Shiftmax, ShiftGELU and I-LayerNorm against their float references on seeded
//! random rows at ViT shapes ([`shiftmax_error`], [`shiftgelu_error`], [`layernorm_error`]).
//!
//! [`report`] gathers everything with fixed seeds; its `Display` is two markdown tables.

use std::fmt;

use golden::exp_shift::scale_from_x0;
use golden::float_format::{default_l, pow2, Format, Overflow, Rule};
use golden::fmul::{exact_product_f64, fmul_with_rule};
use golden::layernorm::{layernorm, layernorm_f64, SqrtMode};
use golden::lmul::lmul_with_rule;
use golden::shiftgelu::{gelu_f64, gelu_scale_from_x0, shiftgelu};
use golden::shiftmax::{shiftmax, softmax_f64};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Relative-error statistics of a multiplier over a set of operand pairs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrStats {
    /// Number of pairs in the set (the pairs the means are taken over).
    pub n: u64,
    /// Mean of `|approx - exact| / |exact|`.
    pub mean_rel: f64,
    /// Largest `|approx - exact| / |exact|`.
    pub max_rel: f64,
    /// Mean of `(approx - exact) / |exact|` (the bias; positive means the result is too large in
    /// magnitude).
    pub mean_signed: f64,
}

/// Absolute-error statistics of a nonlinear op over every output element of a set of rows.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AbsStats {
    /// Number of output elements.
    pub n: u64,
    /// Mean of `|integer output (dequantized) - float reference|`.
    pub mean_abs: f64,
    /// Largest `|integer output (dequantized) - float reference|`.
    pub max_abs: f64,
}

/// Which operand pairs a multiplier error figure covers (spec: "always say which set a figure
/// covers").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PairSet {
    /// The multiplier's own [`Rule::Normal`] pairs: both operands finite, non-zero and normal, the
    /// result finite and normal, neither saturated/overflowed nor flushed/underflowed. L-Mul and the
    /// exact multiplier each use their own set (they differ only at the edges of the range).
    Normal,
    /// Every pair of finite, non-zero, normal operands (exponent field neither 0 nor, with Inf, all
    /// ones; not NaN), whatever the result: flushed results count at relative error 1, saturated
    /// ones at their saturated value (overflow mode `saturate`).
    NormalOperands,
    /// [`PairSet::NormalOperands`] without the pairs the multiplier saturates (rule 7): flushed
    /// results still count at relative error 1.
    NotSaturated,
}

impl PairSet {
    /// A short description for report rows.
    pub fn describe(&self) -> &'static str {
        match self {
            PairSet::Normal => "own normal results (finite, not saturated, not flushed)",
            PairSet::NormalOperands => "all normal operands (flushed and saturated counted)",
            PairSet::NotSaturated => "normal operands, not saturated (flushed counted)",
        }
    }
}

/// Running sums for [`ErrStats`].
#[derive(Default)]
struct RelAcc {
    n: u64,
    sum_abs: f64,
    sum_signed: f64,
    max: f64,
}

impl RelAcc {
    fn add(&mut self, approx: f64, exact: f64) {
        let e = (approx - exact) / exact;
        self.n += 1;
        self.sum_abs += e.abs();
        self.sum_signed += e;
        self.max = self.max.max(e.abs());
    }

    fn stats(&self) -> ErrStats {
        let n = self.n.max(1) as f64;
        ErrStats {
            n: self.n,
            mean_rel: self.sum_abs / n,
            max_rel: self.max,
            mean_signed: self.sum_signed / n,
        }
    }
}

/// Running sums for [`AbsStats`].
#[derive(Default)]
struct AbsAcc {
    n: u64,
    sum: f64,
    max: f64,
}

impl AbsAcc {
    fn add(&mut self, got: f64, want: f64) {
        let e = (got - want).abs();
        self.n += 1;
        self.sum += e;
        self.max = self.max.max(e);
    }

    fn stats(&self) -> AbsStats {
        AbsStats {
            n: self.n,
            mean_abs: self.sum / self.n.max(1) as f64,
            max_abs: self.max,
        }
    }
}

/// Whether `bits` is a finite, non-zero, normal value of `fmt`.
fn is_normal_operand(fmt: Format, bits: u32) -> bool {
    !fmt.is_nan(bits) && !fmt.is_inf(bits) && !fmt.is_zero_or_subnormal(bits)
}

/// The operand pairs: every pair (`samples = None`, exhaustive) or `n` pairs of seeded uniform random
/// bit patterns (`samples = Some((n, seed))`).
///
/// # Panics
/// Exhaustive enumeration of a format wider than 16 bits (over 2^32 pairs).
fn for_each_pair(fmt: Format, samples: Option<(usize, u64)>, mut f: impl FnMut(u32, u32)) {
    match samples {
        None => {
            assert!(
                fmt.bits() <= 16,
                "exhaustive error of {fmt} needs 2^{} pairs: pass samples",
                2 * fmt.bits()
            );
            let count = 1u32 << fmt.bits();
            for a in 0..count {
                for b in 0..count {
                    f(a, b);
                }
            }
        }
        Some((n, seed)) => {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mask = (1u64 << fmt.bits()) - 1;
            for _ in 0..n {
                let a = (rng.gen::<u64>() & mask) as u32;
                let b = (rng.gen::<u64>() & mask) as u32;
                f(a, b);
            }
        }
    }
}

/// Error of one multiplier (`mul` returns the result pattern and its rule) over `set`.
fn mul_error(
    fmt: Format,
    set: PairSet,
    samples: Option<(usize, u64)>,
    mul: impl Fn(u32, u32) -> (u32, Rule),
) -> ErrStats {
    let mut acc = RelAcc::default();
    for_each_pair(fmt, samples, |a, b| {
        let keep = match set {
            PairSet::Normal => true,
            PairSet::NormalOperands | PairSet::NotSaturated => {
                is_normal_operand(fmt, a) && is_normal_operand(fmt, b)
            }
        };
        if !keep {
            return;
        }
        let (r, rule) = mul(a, b);
        match (set, rule) {
            (PairSet::Normal, Rule::Normal) => {}
            (PairSet::Normal, _) | (PairSet::NotSaturated, Rule::Overflow) => return,
            _ => {}
        }
        acc.add(fmt.to_f64(r), exact_product_f64(fmt, a, b));
    });
    acc.stats()
}

/// Relative error of L-Mul (`golden::lmul`, overflow mode `saturate`) with offset parameter `l`
/// against the exact product, over `set`: exhaustive when `samples` is `None` (8-bit formats),
/// otherwise over `samples = (n, seed)` seeded uniform random bit-pattern pairs (bf16). `l > M`
/// is offset 0 (plain Mitchell).
///
/// # Panics
/// `samples = None` for a format wider than 16 bits; an invalid `l` (see `golden::lmul`).
pub fn lmul_error(fmt: Format, l: u32, set: PairSet, samples: Option<(usize, u64)>) -> ErrStats {
    mul_error(fmt, set, samples, |a, b| {
        lmul_with_rule(fmt, l, Overflow::Saturate, a, b)
    })
}

/// Relative error of the exact multiplier (`golden::fmul`, round to nearest even at M bits,
/// overflow mode `saturate`) against the exact product, over `set`; `samples` as in
/// [`lmul_error`].
///
/// # Panics
/// `samples = None` for a format wider than 16 bits.
pub fn fmul_error(fmt: Format, set: PairSet, samples: Option<(usize, u64)>) -> ErrStats {
    mul_error(fmt, set, samples, |a, b| {
        fmul_with_rule(fmt, Overflow::Saturate, a, b)
    })
}

/// `x` rounded to nearest, ties to even, at `M` bits of significand, as a bit pattern of `fmt`;
/// `None` unless the rounded value is a finite, non-zero, normal value of `fmt` (no subnormals, no
/// saturation: the callers keep their values inside the normal range).
///
/// Exact: scaling by powers of two is exact in `f64`, and so is `round_ties_even`.
pub fn round_to_format(fmt: Format, x: f64) -> Option<u32> {
    if !x.is_normal() {
        return None;
    }
    let sign = (x.is_sign_negative() as u32) << (fmt.e + fmt.m);
    let a = x.abs();
    let mut e = ((a.to_bits() >> 52) & 0x7ff) as i32 - 1023; // a is a normal f64
    let sig = a / pow2(e); // in [1, 2)
    let mut q = (sig * pow2(fmt.m as i32)).round_ties_even() as i64; // in [2^M, 2^(M+1)]
    if q == 1 << (fmt.m + 1) {
        q >>= 1;
        e += 1;
    }
    let biased = e as i64 + fmt.bias as i64;
    if biased < 1 {
        return None;
    }
    let field = (biased << fmt.m) | (q - (1 << fmt.m));
    if field > fmt.max_finite() as i64 {
        return None;
    }
    Some(sign | field as u32)
}

/// Operand exponents of [`truncated_mantissa_experiment`]: uniform in `-3 ..= 3`.
///
/// Operands are then in `[2^-3, 2^4)` (at most `16` after rounding), so every product is in
/// `[2^-6, 256]`: finite and normal in e4m3 (`[2^-6, 448]`), e5m2 and the L-Mul formats. Relative
/// errors do not depend on the exponents inside that range; the range only keeps edge effects out.
pub const TRUNCATED_EXP_RANGE: std::ops::RangeInclusive<i32> = -3..=3;

/// The fp8 format [`truncated_mantissa_experiment`] compares a k-bit L-Mul with: e4m3 for `k = 4`,
/// e5m2 for `k = 3` (the paper's claims), e4m3 for `k >= 4` and e5m2 below.
pub fn truncated_baseline_format(k: u32) -> Format {
    if k >= 4 {
        Format::E4M3
    } else {
        Format::E5M2
    }
}

/// The L-Mul format of [`truncated_mantissa_experiment`]: E = 8, M = `k`, bias 127, with Inf
/// (bf16-like exponent).
///
/// # Panics
/// `k` outside `1..=23`.
pub fn truncated_lmul_format(k: u32) -> Format {
    Format::new(8, k, 127, true).expect("truncated_lmul_format: k in 1..=23")
}

/// The paper's experiment (spec: "L-Mul with a 4-bit mantissa is about as precise as float8 e4m3
/// multiplication, with a 3-bit mantissa better than e5m2"): mean relative errors of
/// (L-Mul with a `k`-bit mantissa, the fp8 baseline) over `n` seeded operand pairs.
///
/// Operands are fp32 values: random sign, significand `1 + u / 2^23` with `u` uniform in
/// `0 .. 2^23` (uniform mantissa in `[1, 2)`), exponent uniform in [`TRUNCATED_EXP_RANGE`].
/// - L-Mul: each operand's mantissa truncated to its top `k` bits, encoded in
///   [`truncated_lmul_format`]`(k)` and multiplied by `golden::lmul` (the integer-adder form, carry
///   into the exponent) with the default `l(k)` (offset `2^-l(k)`: `l(4) = 3`, `l(3) = 3`).
/// - Baseline: each operand rounded to nearest even in [`truncated_baseline_format`]`(k)` (e4m3 for
///   `k = 4`, e5m2 for `k = 3`; [`round_to_format`]), the product taken exactly in `f64`.
///
/// Both against the exact product of the original (unrounded) operands. Every product of both
/// methods is finite and normal (see [`TRUNCATED_EXP_RANGE`]), so `n` pairs are all counted.
///
/// # Panics
/// `k` outside `1..=23`.
pub fn truncated_mantissa_experiment(k: u32, n: usize, seed: u64) -> (ErrStats, ErrStats) {
    let lfmt = truncated_lmul_format(k);
    let bfmt = truncated_baseline_format(k);
    let l = default_l(k);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let draw = |rng: &mut ChaCha8Rng| -> (u32, i32, u32) {
        let sign = rng.gen_range(0..2u32);
        let exp = rng.gen_range(TRUNCATED_EXP_RANGE);
        let man = rng.gen_range(0..1u32 << 23);
        (sign, exp, man)
    };
    let value = |(sign, exp, man): (u32, i32, u32)| -> f64 {
        let v = (1.0 + man as f64 / pow2(23)) * pow2(exp);
        if sign == 1 {
            -v
        } else {
            v
        }
    };
    let truncated = |(sign, exp, man): (u32, i32, u32)| -> u32 {
        (sign << (lfmt.e + lfmt.m)) | (((exp + lfmt.bias) as u32) << lfmt.m) | (man >> (23 - k))
    };
    let (mut lm, mut base) = (RelAcc::default(), RelAcc::default());
    for _ in 0..n {
        let (x, y) = (draw(&mut rng), draw(&mut rng));
        let exact = value(x) * value(y); // 24 x 24 significand bits: exact in f64
        let (r, rule) = lmul_with_rule(lfmt, l, Overflow::Saturate, truncated(x), truncated(y));
        assert_eq!(
            rule,
            Rule::Normal,
            "truncated experiment: L-Mul result not normal"
        );
        lm.add(lfmt.to_f64(r), exact);
        let rx = round_to_format(bfmt, value(x)).expect("operand in the fp8 normal range");
        let ry = round_to_format(bfmt, value(y)).expect("operand in the fp8 normal range");
        base.add(bfmt.to_f64(rx) * bfmt.to_f64(ry), exact);
    }
    (lm.stats(), base.stats())
}

/// Standard normal deviate (Box-Muller).
fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>(); // (0, 1]
    let u2: f64 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// One row of `len` integers: rounded `N(mean, sigma^2)`, clipped to `lo ..= hi`.
fn gaussian_row(
    rng: &mut ChaCha8Rng,
    len: usize,
    mean: f64,
    sigma: f64,
    lo: i32,
    hi: i32,
) -> Vec<i32> {
    (0..len)
        .map(|_| ((mean + sigma * gaussian(rng)).round() as i64).clamp(lo as i64, hi as i64) as i32)
        .collect()
}

/// Exponent clamp `n` of Shiftmax (spec: "Parameters: `n = 15`").
pub const SHIFTMAX_N: u32 = 15;
/// Exponent clamp `n` of ShiftGELU (spec: "Parameters: `n = 23`").
pub const SHIFTGELU_N: u32 = 23;
/// Shiftmax `x0` of the report: -43, as in the shared vectors (`S = 1/43`: int8 covers about
/// `+-3` in real units).
pub const SHIFTMAX_X0: i64 = -43;
/// ShiftGELU `x0` of the report: -26, as in the shared vectors (`S = 1/(1.702 * 26) = 0.0226`: int8
/// covers about `+-2.9`).
pub const SHIFTGELU_X0: i64 = -26;
/// Per-row standard deviation of the Shiftmax input rows, in int8 units: uniform in this range
/// (0.47 to 0.70 in real units at `x0 = -43`).
pub const SHIFTMAX_SIGMA: (f64, f64) = (20.0, 30.0);
/// Per-row standard deviation of the ShiftGELU input rows, in int8 units: uniform in this range
/// (0.45 to 1.13 in real units at `x0 = -26`, clipped at int8).
pub const SHIFTGELU_SIGMA: (f64, f64) = (20.0, 50.0);
/// Per-row standard deviation of the I-LayerNorm "large variance" rows, in int16 units: uniform in
/// this range (so `var = C * sigma^2 >= 192 * 500^2 > 2^25`).
pub const LAYERNORM_SIGMA: (f64, f64) = (500.0, 3000.0);
/// Per-row standard deviation of the I-LayerNorm "small variance" rows, where the `ivit` square
/// root has not converged (`var = C * sigma^2` down to `192 * 4 = 768`).
pub const LAYERNORM_SMALL_SIGMA: (f64, f64) = (2.0, 16.0);
/// Per-row mean offset of the I-LayerNorm rows, uniform in `-m ..= m` (int16 units).
pub const LAYERNORM_MEAN: f64 = 1000.0;

/// Shiftmax (`golden::shiftmax`, `n = 15`) against `softmax_f64` on `rows` seeded random int8 rows
/// of `len` elements with the spread [`SHIFTMAX_SIGMA`] (see [`shiftmax_error_spread`]).
///
/// # Panics
/// Invalid `x0` or `out_bits` (see `golden::shiftmax`), `len = 0`.
pub fn shiftmax_error(len: usize, rows: usize, x0: i64, out_bits: u32, seed: u64) -> AbsStats {
    shiftmax_error_spread(len, rows, x0, out_bits, SHIFTMAX_SIGMA, seed)
}

/// Shiftmax (`golden::shiftmax`, `n = 15`) against `softmax_f64` on `rows` seeded random int8 rows
/// of `len` elements: each row a rounded Gaussian, mean 0, standard deviation uniform in `sigma`
/// (int8 units), clipped to int8. Output dequantized as `out * 2^-(out_bits-1)`, reference with
/// scale `scale_from_x0(x0) = -1/x0`. Errors in probability units over every element of every row.
///
/// # Panics
/// Invalid `x0` or `out_bits` (see `golden::shiftmax`), `len = 0`.
pub fn shiftmax_error_spread(
    len: usize,
    rows: usize,
    x0: i64,
    out_bits: u32,
    sigma: (f64, f64),
    seed: u64,
) -> AbsStats {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let scale = scale_from_x0(x0);
    let out_scale = pow2(1 - out_bits as i32);
    let mut acc = AbsAcc::default();
    for _ in 0..rows {
        let s = rng.gen_range(sigma.0..=sigma.1);
        let row = gaussian_row(&mut rng, len, 0.0, s, -128, 127);
        let out = shiftmax(&row, x0, SHIFTMAX_N, out_bits);
        for (o, r) in out.iter().zip(softmax_f64(&row, scale)) {
            acc.add(*o as f64 * out_scale, r);
        }
    }
    acc.stats()
}

/// ShiftGELU (`golden::shiftgelu`, `n = 23`) against `gelu_f64` (`v * sigmoid(1.702 v)`) on `rows`
/// seeded random int8 rows of `len` elements: rounded Gaussian, mean 0, standard deviation uniform
/// in [`SHIFTGELU_SIGMA`], clipped to int8. Input scale `S = gelu_scale_from_x0(x0)`; output
/// dequantized as `out * S / 128`, errors in real units over every element.
///
/// # Panics
/// Invalid `x0` (see `golden::shiftgelu`), `len = 0`.
pub fn shiftgelu_error(len: usize, rows: usize, x0: i64, seed: u64) -> AbsStats {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let scale = gelu_scale_from_x0(x0);
    let mut acc = AbsAcc::default();
    for _ in 0..rows {
        let sigma = rng.gen_range(SHIFTGELU_SIGMA.0..=SHIFTGELU_SIGMA.1);
        let row = gaussian_row(&mut rng, len, 0.0, sigma, -128, 127);
        let out = shiftgelu(&row, x0, SHIFTGELU_N);
        for (o, r) in out.iter().zip(gelu_f64(&row, scale)) {
            acc.add(*o as f64 * scale / 128.0, r);
        }
    }
    acc.stats()
}

/// I-LayerNorm (`golden::layernorm`) against `layernorm_f64` on `rows` seeded random int16 rows of
/// `len` elements with the "large variance" spread [`LAYERNORM_SIGMA`] (see
/// [`layernorm_error_spread`]).
pub fn layernorm_error(len: usize, rows: usize, sqrt: SqrtMode, seed: u64) -> AbsStats {
    layernorm_error_spread(len, rows, sqrt, LAYERNORM_SIGMA, seed)
}

/// I-LayerNorm in square-root mode `sqrt` against `layernorm_f64` on `rows` seeded random int16
/// rows: each a rounded Gaussian with mean uniform in `+-`[`LAYERNORM_MEAN`] and standard deviation
/// uniform in `sigma`, clipped to int16; bias 0 (the bias adds the same term to both sides, so it
/// adds no error). Output in units of the normalized value, `out * sqrt(C) / 2^30` (`gamma = 1`);
/// errors over every element.
///
/// # Panics
/// `len` outside `1..=2^16`.
pub fn layernorm_error_spread(
    len: usize,
    rows: usize,
    sqrt: SqrtMode,
    sigma: (f64, f64),
    seed: u64,
) -> AbsStats {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let bias = vec![0i32; len];
    let out_scale = (len as f64).sqrt() / pow2(30);
    let mut acc = AbsAcc::default();
    for _ in 0..rows {
        let mean = rng.gen_range(-LAYERNORM_MEAN..=LAYERNORM_MEAN);
        let s = rng.gen_range(sigma.0..=sigma.1);
        let row = gaussian_row(&mut rng, len, mean, s, -32768, 32767);
        let out = layernorm(&row, &bias, sqrt);
        for (o, r) in out.iter().zip(layernorm_f64(&row, &bias)) {
            acc.add(*o as f64 * out_scale, r);
        }
    }
    acc.stats()
}

/// One multiplier figure of the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MulRow {
    /// The multiplier: `"L-Mul l=3"`, `"L-Mul offset 0 (l=4)"`, `"exact (RNE)"`, ...
    pub multiplier: String,
    /// The format (`e4m3`, `e5m2`, `bf16`, or the experiment's formats).
    pub format: String,
    /// The pair set the figure covers.
    pub set: String,
    /// Where the pairs come from: exhaustive, or how many seeded samples with which seed.
    pub samples: String,
    /// The statistics.
    pub stats: ErrStats,
}

/// One nonlinear-op figure of the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpRow {
    /// `"Shiftmax"`, `"ShiftGELU"`, `"I-LayerNorm"`.
    pub op: String,
    /// Parameters: `x0`, `n`, `out_bits`, square-root mode.
    pub params: String,
    /// Row length.
    pub len: usize,
    /// Number of rows.
    pub rows: usize,
    /// The inputs: distribution, spread, seed.
    pub set: String,
    /// The statistics, over `len * rows` elements.
    pub stats: AbsStats,
}

/// Every accuracy figure of the project, computed by [`report`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccuracyReport {
    /// Whether the reduced sample counts of `report(true)` were used.
    pub quick: bool,
    /// Multiplier figures: L-Mul and the exact multiplier per format, then the truncated-mantissa
    /// experiment.
    pub lmul: Vec<MulRow>,
    /// Nonlinear-op figures.
    pub nonlinear: Vec<OpRow>,
}

/// Seed of the bf16 multiplier samples.
pub const SEED_BF16: u64 = 0x4246_3136;
/// Seed of the truncated-mantissa experiment (`+ k`).
pub const SEED_TRUNCATED: u64 = 0x5452_554e;
/// Seed of the Shiftmax rows (`+ len`).
pub const SEED_SHIFTMAX: u64 = 0x534d_4158;
/// Seed of the ShiftGELU rows (`+ len`).
pub const SEED_SHIFTGELU: u64 = 0x4745_4c55;
/// Seed of the I-LayerNorm rows (`+ len`; the two square-root modes see the same rows).
pub const SEED_LAYERNORM: u64 = 0x4c4e_4f52;

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// All the figures, with fixed seeds. `quick` reduces the sample counts (bf16 and the experiment
/// 1e6 -> 1e5 pairs, fewer rows) for tests; the 8-bit formats stay exhaustive either way.
pub fn report(quick: bool) -> AccuracyReport {
    let samples = if quick { 100_000 } else { 1_000_000 };
    let mut lmul = Vec::new();
    for fmt in Format::PRESETS {
        let (src, desc) = if fmt.bits() <= 8 {
            (
                None,
                format!("exhaustive, {} pairs", thousands(1 << (2 * fmt.bits()))),
            )
        } else {
            (
                Some((samples, SEED_BF16)),
                format!(
                    "{} uniform random pattern pairs, seed {:#x}",
                    thousands(samples),
                    SEED_BF16
                ),
            )
        };
        let l = fmt.default_l();
        let l0 = fmt.m + 1;
        let mut push = |multiplier: String, set: PairSet, stats: ErrStats| {
            lmul.push(MulRow {
                multiplier,
                format: fmt.name(),
                set: set.describe().to_string(),
                samples: desc.clone(),
                stats,
            })
        };
        push(
            format!("L-Mul l={l}"),
            PairSet::Normal,
            lmul_error(fmt, l, PairSet::Normal, src),
        );
        push(
            format!("L-Mul offset 0 (l={l0})"),
            PairSet::Normal,
            lmul_error(fmt, l0, PairSet::Normal, src),
        );
        push(
            "exact (RNE)".to_string(),
            PairSet::Normal,
            fmul_error(fmt, PairSet::Normal, src),
        );
        if fmt == Format::E4M3 {
            for set in [PairSet::NotSaturated, PairSet::NormalOperands] {
                push(format!("L-Mul l={l}"), set, lmul_error(fmt, l, set, src));
                push("exact (RNE)".to_string(), set, fmul_error(fmt, set, src));
            }
        }
    }
    for k in [4u32, 3] {
        let seed = SEED_TRUNCATED + k as u64;
        let (lm, base) = truncated_mantissa_experiment(k, samples, seed);
        let bfmt = truncated_baseline_format(k);
        let samples_desc = format!(
            "{} fp32 pairs (uniform mantissa, exponent {}..={}), seed {:#x}",
            thousands(samples),
            TRUNCATED_EXP_RANGE.start(),
            TRUNCATED_EXP_RANGE.end(),
            seed
        );
        lmul.push(MulRow {
            multiplier: format!("L-Mul l={}, mantissa truncated to {k} bits", default_l(k)),
            format: truncated_lmul_format(k).name(),
            set: "vs exact product of the fp32 operands".to_string(),
            samples: samples_desc.clone(),
            stats: lm,
        });
        lmul.push(MulRow {
            multiplier: format!("{bfmt} inputs (RNE), exact product"),
            format: bfmt.name(),
            set: "vs exact product of the fp32 operands".to_string(),
            samples: samples_desc,
            stats: base,
        });
    }

    let mut nonlinear = Vec::new();
    let rows_of = |full: usize| if quick { (full / 10).max(10) } else { full };
    // (row length, out_bits, x0, rows in the full report): ViT/DeiT attention rows (197 tokens,
    // 16-bit probabilities), a Swin window (7 x 7 = 49, 8-bit), and a coarse input scale (x0 = -8).
    for (len, out_bits, x0, full_rows) in [
        (197usize, 16u32, SHIFTMAX_X0, 2000usize),
        (49, 8, SHIFTMAX_X0, 4000),
        (197, 16, -8, 2000),
    ] {
        let rows = rows_of(full_rows);
        let seed = SEED_SHIFTMAX + len as u64;
        nonlinear.push(OpRow {
            op: "Shiftmax".into(),
            params: format!("x0={x0}, n={SHIFTMAX_N}, out_bits={out_bits}"),
            len,
            rows,
            set: format!(
                "int8 N(0, sigma), sigma {}..{} per row, seed {seed:#x}; probability units",
                SHIFTMAX_SIGMA.0, SHIFTMAX_SIGMA.1
            ),
            stats: shiftmax_error(len, rows, x0, out_bits, seed),
        });
    }
    for (len, full_rows) in [(768usize, 1000usize), (1536, 500)] {
        let rows = rows_of(full_rows);
        let seed = SEED_SHIFTGELU + len as u64;
        nonlinear.push(OpRow {
            op: "ShiftGELU".into(),
            params: format!("x0={SHIFTGELU_X0}, n={SHIFTGELU_N}"),
            len,
            rows,
            set: format!(
                "int8 N(0, sigma), sigma {}..{} per row, seed {seed:#x}; real units",
                SHIFTGELU_SIGMA.0, SHIFTGELU_SIGMA.1
            ),
            stats: shiftgelu_error(len, rows, SHIFTGELU_X0, seed),
        });
    }
    for (sigma, label) in [(LAYERNORM_SIGMA, "large"), (LAYERNORM_SMALL_SIGMA, "small")] {
        for (len, full_rows) in [(192usize, 2000usize), (384, 1000), (768, 500)] {
            let rows = rows_of(full_rows);
            let seed = SEED_LAYERNORM + len as u64;
            for sqrt in [SqrtMode::Ivit, SqrtMode::Exact] {
                nonlinear.push(OpRow {
                    op: "I-LayerNorm".into(),
                    params: format!("sqrt={sqrt}, bias 0"),
                    len,
                    rows,
                    set: format!(
                        "{label} variance: int16 N(mu, sigma), mu uniform in +-{}, sigma {}..{} per row, seed {seed:#x}; normalized units",
                        LAYERNORM_MEAN, sigma.0, sigma.1
                    ),
                    stats: layernorm_error_spread(len, rows, sqrt, sigma, seed),
                });
            }
        }
    }
    AccuracyReport {
        quick,
        lmul,
        nonlinear,
    }
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

fn signed_pct(x: f64) -> String {
    format!("{:+.2}%", 100.0 * x)
}

impl fmt::Display for AccuracyReport {
    /// Two markdown tables: the multipliers (relative error) and the nonlinear ops (absolute error).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "### Multipliers: relative error against the exact product{}",
            if self.quick { " (quick)" } else { "" }
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "| multiplier | format | set | samples | pairs | mean rel | max rel | mean signed |"
        )?;
        writeln!(f, "|---|---|---|---|---:|---:|---:|---:|")?;
        for r in &self.lmul {
            writeln!(
                f,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                r.multiplier,
                r.format,
                r.set,
                r.samples,
                thousands(r.stats.n as usize),
                pct(r.stats.mean_rel),
                pct(r.stats.max_rel),
                signed_pct(r.stats.mean_signed)
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "### Nonlinear ops: absolute error against the float reference{}",
            if self.quick { " (quick)" } else { "" }
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "| op | params | row length | rows | inputs | elements | mean abs | max abs |"
        )?;
        writeln!(f, "|---|---|---:|---:|---|---:|---:|---:|")?;
        for r in &self.nonlinear {
            writeln!(
                f,
                "| {} | {} | {} | {} | {} | {} | {:.3e} | {:.3e} |",
                r.op,
                r.params,
                r.len,
                thousands(r.rows),
                r.set,
                thousands(r.stats.n as usize),
                r.stats.mean_abs,
                r.stats.max_abs
            )?;
        }
        Ok(())
    }
}
