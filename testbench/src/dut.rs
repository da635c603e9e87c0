//! Per-block knowledge the harness needs: the golden model of one sample, seeded random samples,
//! corner cases, and how a vector-file case becomes a stream of samples.
//!
//! Samples are `Vec<i64>` in the order of the block's [`hdl::stream::StreamIo`] fields.
use anyhow::{bail, Context, Result};
use golden::exp_shift::exp_shift;
use golden::float_format::Overflow;
use golden::fmul::fmul;
use golden::layernorm::layernorm_signed;
use golden::lmul::lmul;
use golden::lmul_dot::lmul_dot;
use golden::recip::{recip, RECIP_S_MAX};
use golden::requant::{channel, requant, requant_add, Rounding, C_MAX, M_MAX};
use golden::shiftgelu::{shiftgelu, shiftgelu_tail};
use golden::shiftmax::shiftmax;
use hdl::blocks::Config;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::harness::rng;
use crate::vectors::{Case, CaseData, Output};

fn rounding_of(config: &Config) -> Rounding {
    config
        .get("rounding")
        .parse()
        .expect("rounding checked by Config")
}

fn bits_of(config: &Config) -> u32 {
    config.get("bits").parse().expect("bits checked by Config")
}

/// The golden model's output for one input sample.
pub fn golden(config: &Config, sample: &[i64]) -> Vec<i64> {
    match config.block {
        "requant" => {
            let (x, m, c) = (sample[0] as i32, sample[1] as u32, sample[2] as u32);
            vec![requant(x, m, c, bits_of(config), rounding_of(config)) as i64]
        }
        "requant-add" => {
            let (x, z) = (sample[0] as i32, sample[1] as i32);
            let (m, c, m1, c1) = (
                sample[2] as u32,
                sample[3] as u32,
                sample[4] as u32,
                sample[5] as u32,
            );
            let (bits, rounding) = (bits_of(config), rounding_of(config));
            vec![requant_add(x, z, m, c, m1, c1, bits, rounding) as i64]
        }
        "lmul" => {
            let (a, b) = (sample[0] as u32, sample[1] as u32);
            vec![lmul(config.format(), config.l(), config.overflow(), a, b) as i64]
        }
        "fmul" => {
            let (a, b) = (sample[0] as u32, sample[1] as u32);
            vec![fmul(config.format(), config.overflow(), a, b) as i64]
        }
        "lmul-dot" => {
            let k = config.k();
            let fmt = config.format();
            let a: Vec<u32> = sample[..k].iter().map(|&v| v as u32).collect();
            let b: Vec<u32> = sample[k..].iter().map(|&v| v as u32).collect();
            let r = lmul_dot(fmt, fmt.default_l(), Overflow::Saturate, &a, &b);
            vec![r.acc as i64, i64::from(r.invalid)]
        }
        "exp-shift" => {
            let n = config.int("n") as u32;
            vec![exp_shift(sample[0], sample[1], n).min(EXP_CAP)]
        }
        "recip" => vec![recip(sample[0] as u64) as i64],
        other => unreachable!("no golden mapping for block `{other}`"),
    }
}

/// Golden outputs for many samples. Row units group the samples into rows at each `last` flag
/// (a trailing row without one is still a row) and take `x0` from each row's first element.
pub fn golden_all(config: &Config, samples: &[Vec<i64>]) -> Vec<Vec<i64>> {
    if config.block == "mac-array" {
        return split_rows(samples)
            .into_iter()
            .filter(|t| t.last().is_some_and(|s| s.last() != Some(&0)))
            .flat_map(|t| golden_tile(config, t))
            .collect();
    }
    if !config.is_row_unit() {
        return samples.iter().map(|s| golden(config, s)).collect();
    }
    let mut out = Vec::with_capacity(samples.len());
    for row in split_rows(samples) {
        let y = golden_row(config, row);
        let n = y.len();
        out.extend(
            y.into_iter()
                .enumerate()
                .map(|(i, v)| vec![v, i64::from(i + 1 == n)]),
        );
    }
    out
}

/// For each golden output, the index of the sample that completes it: the sample itself for blocks
/// with one output per sample, the tile's `last` beat for the MAC array (`rows` outputs each).
pub fn output_sources(config: &Config, samples: &[Vec<i64>]) -> Vec<usize> {
    if config.block != "mac-array" {
        return (0..samples.len()).collect();
    }
    let rows = config.int("rows") as usize;
    samples
        .iter()
        .enumerate()
        .filter(|(_, s)| s.last() != Some(&0))
        .flat_map(|(i, _)| std::iter::repeat(i).take(rows))
        .collect()
}

/// The MAC array's field layout for a configuration: `(rows, cols, requant)`; a beat is
/// `[a_0.., b_0.., bias_0.., (m_0.., c_0..,) last]`.
fn array_shape(config: &Config) -> (usize, usize, bool) {
    let t = config.array_timing();
    (t.rows, t.cols, t.requant)
}

/// One MAC-array tile: `A` is rows x K, `B` is K x cols, per-column `bias`, `m`, `c`.
#[derive(Clone, Debug)]
pub struct Tile {
    pub a: Vec<Vec<i64>>,
    pub b: Vec<Vec<i64>>,
    pub bias: Vec<i64>,
    pub m: Vec<i64>,
    pub c: Vec<i64>,
}

impl Tile {
    /// The reduction length.
    pub fn k(&self) -> usize {
        self.b.len()
    }
}

/// The input beats of tiles, in the MAC array's field order (`bias`, `m`, `c` on every beat; the
/// array reads them on the `last` beat).
pub fn tile_samples(config: &Config, tiles: &[Tile]) -> Vec<Vec<i64>> {
    let (rows, cols, rq) = array_shape(config);
    let mut out = Vec::new();
    for t in tiles {
        assert!(t.a.len() == rows && t.bias.len() == cols, "tile shape");
        for k in 0..t.k() {
            let mut s: Vec<i64> = t.a.iter().map(|row| row[k]).collect();
            s.extend(&t.b[k]);
            s.extend(&t.bias);
            if rq {
                s.extend(&t.m);
                s.extend(&t.c);
            }
            s.push(i64::from(k + 1 == t.k()));
            out.push(s);
        }
    }
    out
}

/// Golden rows of one tile given as beats: `matmul` (wrapping int32) then, for `out_bits` 8/16,
/// `requant` per column; `[y_0.., y_last]` per row.
fn golden_tile(config: &Config, beats: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let (rows, cols, rq) = array_shape(config);
    let a: Vec<Vec<i32>> = (0..rows)
        .map(|i| beats.iter().map(|s| s[i] as i32).collect())
        .collect();
    let b: Vec<Vec<i32>> = beats
        .iter()
        .map(|s| s[rows..rows + cols].iter().map(|&v| v as i32).collect())
        .collect();
    let last = beats.last().expect("a tile has beats");
    let bias: Vec<i32> = last[rows + cols..rows + 2 * cols]
        .iter()
        .map(|&v| v as i32)
        .collect();
    let rq = rq.then(|| golden::mac_array::ColumnRequant {
        m: last[rows + 2 * cols..rows + 3 * cols]
            .iter()
            .map(|&v| v as u32)
            .collect(),
        c: last[rows + 3 * cols..rows + 4 * cols]
            .iter()
            .map(|&v| v as u32)
            .collect(),
        bits: config.int("out_bits") as u32,
        rounding: rounding_of(config),
    });
    golden::mac_array::tile(&a, &b, &bias, rq.as_ref())
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let mut out: Vec<i64> = row.into_iter().map(i64::from).collect();
            out.push(i64::from(i + 1 == rows));
            out
        })
        .collect()
}

/// A random tile of reduction length `k`: uniform operands, or (`kind` 1) operands near the
/// extremes; `m` in HAWQ's range or anywhere, `c` where the requantized values are not all
/// saturated, or anywhere in 0..=62.
pub fn random_tile(config: &Config, k: usize, r: &mut impl Rng) -> Tile {
    let (rows, cols, _) = array_shape(config);
    let a_signed = config.a_signed();
    let extreme = r.gen_bool(0.2);
    let a_val = |r: &mut dyn rand::RngCore| -> i64 {
        match (a_signed, extreme) {
            (true, false) => r.gen_range(-128..=127),
            (true, true) => [-128, 127, -127, 0][r.gen_range(0..4)],
            (false, false) => r.gen_range(0..=65535),
            (false, true) => [0, 65535, 32768, 32767][r.gen_range(0..4)],
        }
    };
    let b_val = |r: &mut dyn rand::RngCore| -> i64 {
        if extreme {
            [-128, 127, -1, 1][r.gen_range(0..4)]
        } else {
            r.gen_range(-128..=127)
        }
    };
    let a = (0..rows)
        .map(|_| (0..k).map(|_| a_val(r)).collect())
        .collect();
    let b = (0..k)
        .map(|_| (0..cols).map(|_| b_val(r)).collect())
        .collect();
    let bias = (0..cols)
        .map(|_| match r.gen_range(0..4) {
            0 => r.gen::<i32>() as i64,
            1 => [i32::MAX, i32::MIN, 0, -1][r.gen_range(0..4)] as i64,
            _ => r.gen_range(-100_000..=100_000),
        })
        .collect();
    // |sum| is about sqrt(k) * 2^14 (int8) or 2^22 (u16); aim c near its bit length.
    let scale = (k as f64).sqrt().log2() as i64 + if a_signed { 14 } else { 22 };
    let m = (0..cols)
        .map(|_| {
            if r.gen_bool(0.8) {
                r.gen_range(1i64 << 30..=M_MAX as i64)
            } else {
                r.gen_range(0..=M_MAX as i64)
            }
        })
        .collect();
    let c = (0..cols)
        .map(|_| {
            if r.gen_bool(0.8) {
                (scale + 31 - 7 + r.gen_range(-3..=3)).clamp(0, C_MAX as i64)
            } else {
                r.gen_range(0..=C_MAX as i64)
            }
        })
        .collect();
    Tile { a, b, bias, m, c }
}

/// The tiles every MAC array is checked on: `K` = 1, 2, 3, 64 and 1000; int8 extremes
/// (-128 x -128 everywhere, 127 x -128), unsigned `A` at 2^15 and 65535 (and, for unsigned `A`,
/// `K` = 300 of 65535 x -128, which wraps the accumulator); bias at both int32 ends (so the final
/// sum wraps); requantization with the largest `m`, `c` = 0 and 62, `m` = 0.
pub fn mac_corner_tiles(config: &Config) -> Vec<Tile> {
    let (rows, cols, _) = array_shape(config);
    let mut r = rng(0x4d41_4341);
    let mut tiles = Vec::new();
    for k in [1, 2, 3, 64, 1000] {
        tiles.push(random_tile(config, k, &mut r));
    }
    let (a_lo, a_hi) = if config.a_signed() {
        (-128, 127)
    } else {
        (32768, 65535)
    };
    let fill = |v: i64, n: usize, k: usize| vec![vec![v; k]; n];
    for (a, b, bias, k) in [
        (a_lo, -128, 0i64, 64usize),
        (a_hi, -128, i32::MAX as i64, 3),
        (a_lo, 127, i32::MIN as i64, 2),
        (a_hi, 127, i32::MAX as i64, 1),
    ] {
        let mut t = random_tile(config, k, &mut r);
        t.a = fill(a, rows, k);
        t.b = fill(b, k, cols);
        t.bias = vec![bias; cols];
        tiles.push(t);
    }
    for (m, c) in [
        (M_MAX as i64, 0i64),
        (M_MAX as i64, 62),
        (0, 5),
        (1 << 30, 31),
    ] {
        let mut t = random_tile(config, 5, &mut r);
        t.m = vec![m; cols];
        t.c = vec![c; cols];
        tiles.push(t);
    }
    tiles
}

/// Seeded random tiles, back to back, of random lengths (short ones below the array's tile
/// period among them), until at least `n` beats.
pub fn mac_random_tiles(config: &Config, n: usize, seed: u64) -> Vec<Tile> {
    let mut r = rng(seed);
    let period = config.array_timing().min_tile_period();
    let mut tiles = Vec::new();
    let mut beats = 0;
    while beats < n.max(1) {
        let k = match r.gen_range(0..4) {
            0 => r.gen_range(1..=period),
            1 => r.gen_range(1..=4),
            _ => r.gen_range(period..=3 * period),
        };
        tiles.push(random_tile(config, k, &mut r));
        beats += k;
    }
    tiles
}

/// Splits row-unit samples (`[.., last]`, `last` the final field) into rows.
pub fn split_rows(samples: &[Vec<i64>]) -> Vec<&[Vec<i64>]> {
    let mut rows = Vec::new();
    let mut start = 0;
    for (i, s) in samples.iter().enumerate() {
        if *s.last().expect("row samples have fields") != 0 {
            rows.push(&samples[start..=i]);
            start = i + 1;
        }
    }
    if start < samples.len() {
        rows.push(&samples[start..]);
    }
    rows
}

/// The golden outputs of one row of a row unit.
fn golden_row(config: &Config, row: &[Vec<i64>]) -> Vec<i64> {
    let x: Vec<i32> = row.iter().map(|s| s[0] as i32).collect();
    match config.block {
        "shiftmax" => {
            let (n, ob) = (config.int("n") as u32, config.int("out_bits") as u32);
            shiftmax(&x, row[0][1], n, ob)
        }
        "shiftgelu" if config.in_bits() == 16 => {
            shiftgelu_tail(&x, row[0][1], config.int("n") as u32)
        }
        "shiftgelu" => shiftgelu(&x, row[0][1], config.int("n") as u32),
        "layernorm" => {
            let bias: Vec<i32> = row.iter().map(|s| s[1] as i32).collect();
            let neg: Vec<bool> = row.iter().map(|s| s[2] != 0).collect();
            layernorm_signed(&x, &bias, &neg, config.sqrt_mode())
        }
        other => unreachable!("no row golden for block `{other}`"),
    }
}

/// Row-unit samples for `rows` with a fixed per-row `x0`: `[x, x0, last]`.
fn row_samples(rows: &[(Vec<i64>, i64)]) -> Vec<Vec<i64>> {
    let mut out = Vec::new();
    for (row, x0) in rows {
        for (j, &x) in row.iter().enumerate() {
            out.push(vec![x, *x0, i64::from(j + 1 == row.len())]);
        }
    }
    out
}

/// The rows every int8 row unit is checked on: lengths 1, 2, 3, 197 and `max_len`; all-equal rows
/// (at -128, 0 and 127), a single non-zero among zeros or among -128s, all-negative rows, ramps,
/// each with `x0 = -1`, a middle `x0`, and the most negative `x0` the port allows.
fn int8_row_corners(config: &Config) -> Vec<Vec<i64>> {
    let max = config.max_len();
    let x0_lo = -(1i64 << (config.x0_bits() - 1));
    let mut lens = vec![1, 2, 3, 197, max];
    lens.retain(|&l| l <= max);
    lens.dedup();
    let mut rows: Vec<(Vec<i64>, i64)> = Vec::new();
    for &x0 in &[-1i64, -43, x0_lo] {
        for &len in &lens {
            for v in [-128i64, 0, 127] {
                rows.push((vec![v; len], x0));
            }
            let mut one = vec![0i64; len];
            one[len / 2] = 100;
            rows.push((one, x0));
            let mut low = vec![-128i64; len];
            low[len - 1] = 127;
            rows.push((low, x0));
            rows.push(((0..len as i64).map(|i| -1 - (i * 7) % 128).collect(), x0));
            rows.push(((0..len as i64).map(|i| (i * 37) % 256 - 128).collect(), x0));
        }
    }
    row_samples(&rows)
}

/// A random row length (1, 2, 3, 197, `max_len` or uniform) and `x0` (-1, the most negative value
/// of the port, uniform over the port, or uniform over the int8 range) for a row unit.
fn random_len_x0(config: &Config, r: &mut impl Rng) -> (usize, i64) {
    let max = config.max_len();
    let x0_lo = -(1i64 << (config.x0_bits() - 1));
    let len = match r.gen_range(0..6) {
        0 => 1,
        1 => 2.min(max),
        2 => 3.min(max),
        3 => 197.min(max),
        4 => max,
        _ => r.gen_range(1..=max),
    };
    let x0 = match r.gen_range(0..5) {
        0 => -1,
        1 => x0_lo,
        2 => r.gen_range(x0_lo..=-1),
        _ => r.gen_range(-128.max(x0_lo)..=-1),
    };
    (len, x0)
}

/// Seeded random int8 rows up to about `n` samples: lengths drawn from 1, 2, 3, 197, `max_len` and
/// uniform, contents uniform, narrow (peaked), all-equal or all-negative, `x0` from -1 to the most
/// negative value of the port.
fn int8_row_random(config: &Config, n: usize, r: &mut impl Rng) -> Vec<Vec<i64>> {
    let mut rows: Vec<(Vec<i64>, i64)> = Vec::new();
    let mut total = 0;
    while total < n {
        let (len, x0) = random_len_x0(config, r);
        let kind = r.gen_range(0..5);
        let c: i64 = r.gen_range(-128..=127);
        let row: Vec<i64> = (0..len)
            .map(|_| match kind {
                0 | 1 => r.gen_range(-128..=127),
                2 => (c + r.gen_range(-8..=8)).clamp(-128, 127),
                3 => c,
                _ => r.gen_range(-128..=-1),
            })
            .collect();
        total += len;
        rows.push((row, x0));
    }
    row_samples(&rows)
}

/// The rows `shiftgelu in_bits=16` (int16 in, the linear tail) is checked on: lengths 1, 2, 3,
/// 197 and `max_len`; rows all within int8 (the tail adds nothing), all above 127 (every element
/// saturates; only the tail differs), mixed, all at the int16 ends, alternating -32768/32767, the
/// int8 boundary 126..=129 and -129..=-128, a single 32767 among int8 values; each with `x0 = -1`,
/// a model-like `x0 = -15` and the most negative `x0` the port allows.
fn tail_row_corners(config: &Config) -> Vec<Vec<i64>> {
    let max = config.max_len();
    let x0_lo = -(1i64 << (config.x0_bits() - 1));
    let mut lens = vec![1, 2, 3, 197, max];
    lens.retain(|&l| l <= max);
    lens.dedup();
    let mut rows: Vec<(Vec<i64>, i64)> = Vec::new();
    for &x0 in &[-1i64, -15, x0_lo] {
        for &len in &lens {
            let l = len as i64;
            for v in [-32768i64, 127, 128, 32767] {
                rows.push((vec![v; len], x0));
            }
            rows.push(((0..l).map(|i| (i * 37) % 256 - 128).collect(), x0));
            rows.push(((0..l).map(|i| 128 + (i * 4099) % 32640).collect(), x0));
            rows.push(((0..l).map(|i| (i * 211) % 1000 - 300).collect(), x0));
            rows.push((
                (0..l)
                    .map(|i| if i % 2 == 0 { -32768 } else { 32767 })
                    .collect(),
                x0,
            ));
            let edges = [126i64, 127, 128, 129, -128, -129, 0, 32767, -32768];
            rows.push(((0..len).map(|i| edges[i % edges.len()]).collect(), x0));
            let mut one = (0..l).map(|i| (i * 7) % 100 - 50).collect::<Vec<i64>>();
            one[len / 2] = 32767;
            rows.push((one, x0));
        }
    }
    row_samples(&rows)
}

/// Seeded random int16 rows for `shiftgelu in_bits=16`, up to about `n` samples, lengths as
/// [`int8_row_random`]'s. Mostly a realistic spread (the encoder's `u`: roughly normal, sigma 20
/// to 60, with a tail up to about 6 times the int8 range), also uniform over int16, int8 rows with
/// some int16 extremes, rows entirely above 127, and narrow rows around a centre in -300..=800.
fn tail_row_random(config: &Config, n: usize, r: &mut impl Rng) -> Vec<Vec<i64>> {
    let mut rows: Vec<(Vec<i64>, i64)> = Vec::new();
    let mut total = 0;
    while total < n {
        let (len, x0) = random_len_x0(config, r);
        let kind = r.gen_range(0..8);
        let sigma: i64 = r.gen_range(20..=60);
        let c: i64 = r.gen_range(-300..=800);
        let row: Vec<i64> = (0..len)
            .map(|_| match kind {
                0..=3 => {
                    // Sum of four uniforms: about normal with standard deviation sigma.
                    let v: i64 =
                        (0..4).map(|_| r.gen_range(-sigma..=sigma)).sum::<i64>() * 87 / 100;
                    if r.gen_bool(0.05) {
                        r.gen_range(100..=800)
                    } else {
                        v
                    }
                }
                4 => r.gen_range(-32768..=32767),
                5 => match r.gen_range(0..10) {
                    0 => -32768,
                    1 => 32767,
                    _ => r.gen_range(-128..=127),
                },
                6 => r.gen_range(127..=32767),
                _ => (c + r.gen_range(-40..=40)).clamp(-32768, 32767),
            })
            .collect();
        total += len;
        rows.push((row, x0));
    }
    row_samples(&rows)
}

/// LayerNorm samples `[x, bias, last]` for rows of `(x, bias)` (one bias per element).
fn bias_row_samples(rows: &[(Vec<i64>, Vec<i64>, Vec<bool>)]) -> Vec<Vec<i64>> {
    let mut out = Vec::new();
    for (row, bias, neg) in rows {
        assert_eq!(row.len(), bias.len());
        assert_eq!(row.len(), neg.len());
        for (j, ((&x, &b), &n)) in row.iter().zip(bias).zip(neg).enumerate() {
            out.push(vec![x, b, i64::from(n), i64::from(j + 1 == row.len())]);
        }
    }
    out
}

const I32_LO: i64 = i32::MIN as i64;
const I32_HI: i64 = i32::MAX as i64;

/// The rows the `layernorm` unit is checked on: lengths 1, 2, 3, 197 and `max_len`; all-equal
/// rows (variance 0) at 0 and at both int16 ends, a single non-zero among zeros, all-negative rows,
/// alternating ±32767/-32768 extremes, ramps and mean ties; each with zero bias, a small mixed bias,
/// and bias at the int32 ends (so the output saturates both ways), and twice with channel signs.
fn int16_row_corners(config: &Config) -> Vec<Vec<i64>> {
    let max = config.max_len();
    let mut lens = vec![1, 2, 3, 4, 197, max];
    lens.retain(|&l| l <= max);
    lens.sort_unstable();
    lens.dedup();
    let mut xs: Vec<Vec<i64>> = Vec::new();
    for &len in &lens {
        let l = len as i64;
        xs.push(vec![0; len]);
        xs.push(vec![32767; len]);
        xs.push(vec![-32768; len]);
        xs.push(vec![-5; len]);
        let mut one = vec![0; len];
        one[len / 2] = 1;
        xs.push(one);
        let mut big = vec![0; len];
        big[len - 1] = -32768;
        xs.push(big);
        let mut big = vec![-32768; len];
        big[0] = 32767;
        xs.push(big);
        xs.push(
            (0..l)
                .map(|i| if i % 2 == 0 { 32767 } else { -32768 })
                .collect(),
        );
        xs.push(
            (0..l)
                .map(|i| if i % 2 == 0 { -32768 } else { 32767 })
                .collect(),
        );
        xs.push((0..l).map(|i| -1 - (i * 977) % 32768).collect());
        xs.push((0..l).map(|i| (i * 4099) % 65536 - 32768).collect());
        xs.push((0..l).map(|i| i - l / 2).collect());
        // Mean ties: sums of C/2 mod C (when C is even), both signs.
        let mut tie = vec![0; len];
        tie[0] = l / 2 + 2 * l;
        xs.push(tie.clone());
        tie[0] = -(l / 2 + 2 * l).min(32768);
        xs.push(tie);
        xs.push((0..l).map(|i| if i == 0 { 0 } else { -1 }).collect());
    }
    let mut rows: Vec<(Vec<i64>, Vec<i64>, Vec<bool>)> = Vec::new();
    for x in xs {
        let len = x.len() as i64;
        let biases: [Vec<i64>; 4] = [
            vec![0; x.len()],
            (0..len).map(|i| (i * 7919) % 2001 - 1000).collect(),
            (0..len)
                .map(|i| if i % 2 == 0 { I32_HI } else { I32_LO })
                .collect(),
            (0..len)
                .map(|i| if i % 2 == 0 { I32_LO } else { I32_HI - 5 })
                .collect(),
        ];
        // Signs (the extension for negative gammas): none with every bias pattern, then every
        // channel negated with the small mixed bias, and alternate channels with the bias at the
        // int32 ends (saturation on the negated side).
        let n = x.len();
        rows.push((x.clone(), biases[1].clone(), vec![true; n]));
        rows.push((
            x.clone(),
            biases[2].clone(),
            (0..n).map(|i| i % 2 == 1).collect(),
        ));
        for b in biases {
            rows.push((x.clone(), b, vec![false; n]));
        }
    }
    bias_row_samples(&rows)
}

/// Seeded random `layernorm` rows up to about `n` samples: lengths 1, 2, 3, 197, `max_len` or
/// uniform; contents uniform int16, narrow around a centre (small variance, `ivit` has not
/// converged), all-equal, all-negative or small; bias zero, small, uniform int32 or near the ends.
fn int16_row_random(config: &Config, n: usize, r: &mut impl Rng) -> Vec<Vec<i64>> {
    let max = config.max_len();
    let mut rows: Vec<(Vec<i64>, Vec<i64>, Vec<bool>)> = Vec::new();
    let mut total = 0;
    while total < n {
        let len = match r.gen_range(0..6) {
            0 => 1,
            1 => 2.min(max),
            2 => 3.min(max),
            3 => 197.min(max),
            4 => max,
            _ => r.gen_range(1..=max),
        };
        let kind = r.gen_range(0..6);
        let c: i64 = r.gen_range(-32768..=32767);
        let w: i64 = 1 << r.gen_range(0..15);
        let row: Vec<i64> = (0..len)
            .map(|_| match kind {
                0 | 1 => r.gen_range(-32768..=32767),
                2 => (c + r.gen_range(-w..=w)).clamp(-32768, 32767),
                3 => c,
                4 => r.gen_range(-32768..=-1),
                _ => r.gen_range(-8..=8),
            })
            .collect();
        let bkind = r.gen_range(0..4);
        let bias: Vec<i64> = (0..len)
            .map(|_| match bkind {
                0 => 0,
                1 => r.gen_range(-100_000..=100_000),
                2 => r.gen_range(I32_LO..=I32_HI),
                _ => {
                    if r.gen() {
                        I32_HI - r.gen_range(0..1 << 24)
                    } else {
                        I32_LO + r.gen_range(0..1 << 24)
                    }
                }
            })
            .collect();
        // Signs: none (the spec's positive gammas) half the time, else all or random channels.
        let skind = r.gen_range(0..4);
        let neg: Vec<bool> = (0..len)
            .map(|_| match skind {
                0 | 1 => false,
                2 => true,
                _ => r.gen(),
            })
            .collect();
        total += len;
        rows.push((row, bias, neg));
    }
    bias_row_samples(&rows)
}

/// A value of `x` near the boundaries: 0, ±1, the int8/int16/int32 edges and their neighbours.
const X_EDGES: [i64; 16] = [
    0,
    1,
    -1,
    2,
    -2,
    127,
    128,
    -128,
    -129,
    32767,
    32768,
    -32768,
    -32769,
    i32::MAX as i64,
    i32::MIN as i64,
    i32::MIN as i64 + 1,
];

/// Samples that hit every corner the spec names: every `c` in 0..=62 with edge `x` and edge `m`,
/// exact ties for every `c` (where a tie is representable) in both signs, values right at the
/// saturation bounds, and `INT32_MIN`.
pub fn corner_samples(config: &Config) -> Vec<Vec<i64>> {
    match config.block {
        "requant" => {
            let mut out = Vec::new();
            let ms = [
                1i64,
                2,
                1 << 30,
                (1 << 30) + 1,
                M_MAX as i64 - 1,
                M_MAX as i64,
            ];
            for c in 0..=C_MAX as i64 {
                for &x in &X_EDGES {
                    for &m in &ms {
                        out.push(vec![x, m, c]);
                    }
                }
            }
            // Exact ties: x * 2^j = (2k+1) * 2^(c-1), for both signs and even/odd floors.
            for j in 0..=30i64 {
                for c in (j + 1)..=(j + 31).min(C_MAX as i64) {
                    let unit = 1i64 << (c - 1 - j);
                    for k in [0i64, 1, 2, 3, 126, 127, 128, 32766, 32767, 32768] {
                        for sign in [1i64, -1] {
                            let x = sign * (2 * k + 1) * unit;
                            if x >= i32::MIN as i64 && x <= i32::MAX as i64 {
                                out.push(vec![x, 1 << j, c]);
                            }
                        }
                    }
                }
            }
            out
        }
        "requant-add" => requant_add_corners(config),
        "lmul" | "fmul" => float_corners(config),
        "lmul-dot" => dot_corners(config),
        "exp-shift" => {
            // Every d the port carries, for every x0 in -1..=-128 and the widest x0 values.
            let lo = -(1i64 << (config.x0_bits() - 1));
            let mut x0s: Vec<i64> = (-128..=-1).collect();
            x0s.extend([
                lo,
                lo + 1,
                lo / 2,
                lo / 2 - 1,
                lo / 2 + 1,
                -129,
                -255,
                -256,
                -257,
            ]);
            x0s.retain(|&x| x >= lo);
            x0s.sort_unstable();
            x0s.dedup();
            let mut out = Vec::with_capacity(x0s.len() * 1024);
            for &x0 in &x0s {
                for d in -512..=511 {
                    out.push(vec![d, x0]);
                }
            }
            out
        }
        "recip" => recip_corners(),
        "shiftgelu" if config.in_bits() == 16 => tail_row_corners(config),
        "shiftmax" | "shiftgelu" => int8_row_corners(config),
        "mac-array" => tile_samples(config, &mac_corner_tiles(config)),
        "layernorm" => int16_row_corners(config),
        other => unreachable!("no corner cases for block `{other}`"),
    }
}

/// Seeded random samples: a third fully uniform, the rest with `x` scaled so the result lands near
/// the output range (where rounding and saturation decide), and some exact ties.
pub fn random_samples(config: &Config, n: usize, seed: u64) -> Vec<Vec<i64>> {
    let mut r = rng(seed);
    match config.block {
        "requant" => {
            let bits = bits_of(config) as i64;
            (0..n)
                .map(|_| requant_branch(&mut r, bits).to_vec())
                .collect()
        }
        "requant-add" => {
            let bits = bits_of(config) as i64;
            (0..n)
                .map(|_| {
                    // Two independent branches (each of requant's kinds), and sometimes a branch
                    // that cancels the other's bulk so the sum lands near the output range.
                    let [x, m, c] = requant_branch(&mut r, bits);
                    let [z, m1, c1] = if r.gen_range(0..4) == 0 {
                        // z = -x with m1 = m, c1 = c +- small: the branches nearly cancel.
                        let c1 = (c + r.gen_range(-1..=1)).clamp(0, C_MAX as i64);
                        [(-x).clamp(i32::MIN as i64, i32::MAX as i64), m, c1]
                    } else {
                        requant_branch(&mut r, bits)
                    };
                    vec![x, z, m, c, m1, c1]
                })
                .collect()
        }
        "lmul" | "fmul" => {
            let fmt = config.format();
            let mask = (1u64 << fmt.bits()) - 1;
            let keep = float_operand_filter(config);
            let mut out = Vec::with_capacity(n);
            while out.len() < n {
                let (a, b) = (r.gen::<u64>() & mask, r.gen::<u64>() & mask);
                if keep(a as u32) && keep(b as u32) {
                    out.push(vec![a as i64, b as i64]);
                }
            }
            out
        }
        "lmul-dot" => {
            let k = config.k();
            (0..n)
                .map(|_| {
                    // Mostly finite operands, so most dot products are valid; some NaN lanes.
                    (0..2 * k)
                        .map(|_| {
                            let v: u8 = r.gen();
                            if r.gen_bool(0.98) && config.format().is_nan(v as u32) {
                                0x38
                            } else {
                                v as i64
                            }
                        })
                        .collect()
                })
                .collect()
        }
        "exp-shift" => {
            let lo = -(1i64 << (config.x0_bits() - 1));
            (0..n)
                .map(|_| vec![r.gen_range(-512..=511), r.gen_range(lo..=-1)])
                .collect()
        }
        "recip" => (0..n)
            .map(|_| {
                // Uniform over bit lengths, then uniform within one.
                let j = r.gen_range(1..=32u32);
                let s = r.gen_range(1u64 << (j - 1)..1u64 << j).min(RECIP_S_MAX);
                vec![s as i64]
            })
            .collect(),
        "shiftgelu" if config.in_bits() == 16 => tail_row_random(config, n, &mut r),
        "shiftmax" | "shiftgelu" => int8_row_random(config, n, &mut r),
        "mac-array" => tile_samples(config, &mac_random_tiles(config, n, seed)),
        "layernorm" => int16_row_random(config, n, &mut r),
        other => unreachable!("no random generator for block `{other}`"),
    }
}

/// One random `(x, m, c)` of the requantizer: a third fully uniform, a sixth exact ties with
/// `m = 2^j`, the rest HAWQ-style `m` with `x` sized so `x*m/2^c` is about `+-2^(bits+1)` (where
/// rounding and saturation decide).
fn requant_branch(r: &mut ChaCha8Rng, bits: i64) -> [i64; 3] {
    match r.gen_range(0..6) {
        0 | 1 => [
            r.gen::<i32>() as i64,
            r.gen_range(1..=M_MAX as i64),
            r.gen_range(0..=C_MAX as i64),
        ],
        2 => {
            // Exact tie with m = 2^j.
            let j = r.gen_range(0..=30i64);
            let c = r.gen_range(j + 1..=(j + 31).min(C_MAX as i64));
            let span = 31 - (c - 1 - j);
            let k = r.gen_range(0..(1i64 << (span - 1).clamp(0, 30)));
            let x = (2 * k + 1) << (c - 1 - j);
            let x = if r.gen() { x } else { -x };
            let x = x.clamp(i32::MIN as i64, i32::MAX as i64);
            [x, 1 << j, c]
        }
        _ => {
            // HAWQ-style m, and x sized so x*m/2^c is about +-2^(bits+1).
            let m = r.gen_range((1i64 << 30)..=M_MAX as i64);
            let c = r.gen_range(0..=C_MAX as i64);
            let mag_bits = (c - 30 + bits + 1).clamp(0, 31);
            let x = if mag_bits == 0 {
                r.gen_range(-1..=1)
            } else {
                r.gen_range(-(1i64 << mag_bits)..(1i64 << mag_bits))
            };
            [x.clamp(i32::MIN as i64, i32::MAX as i64), m, c]
        }
    }
}

/// Exact ties of one requantizer branch, `x * 2^j = (2k+1) * 2^(c-1)`: every `c` in 1..=62 for
/// `j` in {0, 15, 30}, both signs, even and odd floors (`k` even and odd).
fn tie_branches() -> Vec<[i64; 3]> {
    let mut out = Vec::new();
    for j in [0i64, 15, 30] {
        for c in (j + 1)..=(j + 31).min(C_MAX as i64) {
            let unit = 1i64 << (c - 1 - j);
            for k in [0i64, 1, 2, 3, 32767] {
                for sign in [1i64, -1] {
                    let x = sign * (2 * k + 1) * unit;
                    if x >= i32::MIN as i64 && x <= i32::MAX as i64 {
                        out.push([x, 1 << j, c]);
                    }
                }
            }
        }
    }
    out
}

/// Corners of the residual add: extremes of every input (`x`, `z` at 0, +-1 and the int32 edges,
/// `m`, `m1` at 1 and 2^31-1, `c`, `c1` at 0 and 62) in combination, every `c` against the edge
/// values of `c1` and back, the largest sums (`INT32_MIN * (2^31-1)` twice: `-2^63 + 2^32`), exact
/// ties in either branch and in both, and sums right at the saturation bounds on both sides.
fn requant_add_corners(config: &Config) -> Vec<Vec<i64>> {
    let mut out = Vec::new();
    let (min, max) = (i32::MIN as i64, i32::MAX as i64);
    let mmax = M_MAX as i64;
    // Extremes in combination.
    let xs = [0i64, 1, -1, 127, -128, 32767, -32768, max, min, min + 1];
    let shifts = [
        (0i64, 0i64),
        (0, 62),
        (62, 0),
        (62, 62),
        (31, 31),
        (30, 32),
        (1, 1),
    ];
    for &x in &xs {
        for &z in &xs {
            for m in [1i64, mmax] {
                for m1 in [1i64, mmax] {
                    for &(c, c1) in &shifts {
                        out.push(vec![x, z, m, c, m1, c1]);
                    }
                }
            }
        }
    }
    // Every c against the edge values of c1, and every c1 against the edge values of c.
    let pairs = [(max, max), (min, min), (min, max), (3, -5)];
    let ms = [(mmax, mmax), (1 << 30, (1 << 30) + 1)];
    for a in 0..=C_MAX as i64 {
        for b in [0i64, 1, 31, 32, 62] {
            for &(x, z) in &pairs {
                for &(m, m1) in &ms {
                    out.push(vec![x, z, m, a, m1, b]);
                    out.push(vec![z, x, m1, b, m, a]);
                }
            }
        }
    }
    // Ties: in the x branch (z branch zero, exact, or a tie too), and in the z branch.
    let ties = tie_branches();
    let others: [[i64; 3]; 2] = [[0, 1, 0], [-3, 1 << 30, 31]];
    for (i, t) in ties.iter().enumerate() {
        let u = ties[(i * 7 + 3) % ties.len()];
        for o in others.iter().chain(std::iter::once(&u)) {
            out.push(vec![t[0], o[0], t[1], t[2], o[1], o[2]]);
            out.push(vec![o[0], t[0], o[1], o[2], t[1], t[2]]);
        }
    }
    // Sums at the saturation bounds: exact branches (c = 0, m = 1) summing to each bound and its
    // neighbours, and half-way sums (a tie in each branch) just inside and outside.
    let bits = bits_of(config) as i64;
    let (hi, lo) = ((1i64 << (bits - 1)) - 1, -(1i64 << (bits - 1)));
    for v in [hi - 1, hi, hi + 1, hi + 2, lo - 2, lo - 1, lo, lo + 1] {
        for w in [0i64, 1, -1, 1000, -1000, v, -v, max, min] {
            let x = v - w;
            if (min..=max).contains(&x) {
                out.push(vec![x, w, 1, 0, 1, 0]);
            }
        }
        // x*2^30/2^31 = x/2: x = 2v - 1 gives v - 1/2, tied; z/2 likewise.
        for (x, z) in [
            (2 * v - 1, 0),
            (2 * v + 1, 0),
            (2 * v - 1, 1),
            (2 * v + 1, -1),
        ] {
            out.push(vec![x, z, 1 << 30, 31, 1 << 30, 31]);
        }
    }
    // The largest magnitudes the branches reach, with and without the other branch cancelling.
    for (x, z) in [(min, min), (max, max), (min, max), (max, min)] {
        out.push(vec![x, z, mmax, 0, mmax, 0]);
        out.push(vec![x, -z.max(min + 1), mmax, 0, mmax, 0]);
    }
    out
}

/// The value the `exp-shift` block saturates at.
const EXP_CAP: i64 = 1 << 31;

/// Every power of two up to 2^31 with its neighbours, the spec's examples, and the ends.
fn recip_corners() -> Vec<Vec<i64>> {
    let mut v: Vec<u64> = vec![
        1,
        2,
        3,
        5,
        6,
        7,
        255,
        256,
        257,
        RECIP_S_MAX - 1,
        RECIP_S_MAX,
    ];
    for k in 1..=31u32 {
        let p = 1u64 << k;
        v.extend([p - 1, p, p + 1, p + p / 2, p + p / 2 + 1]);
    }
    v.retain(|&s| (1..=RECIP_S_MAX).contains(&s));
    v.sort_unstable();
    v.dedup();
    v.into_iter().map(|s| vec![s as i64]).collect()
}

/// Which operands a float block's verification uses: every pattern with `specials=full`; with
/// `specials=none` (the bare adder, no NaN/Inf rules) only finite ones, where golden defines it.
fn float_operand_filter(config: &Config) -> impl Fn(u32) -> bool {
    let fmt = config.format();
    let full = config.get("specials") == "full";
    move |v| full || !(fmt.is_nan(v) || fmt.is_inf(v))
}

/// For 8-bit formats every operand pair (65,536: exhaustive). For bf16, every pair from the
/// special classes: +-0, smallest and largest subnormal, min and max normal, one, values whose
/// product overflows or underflows, +-Inf, NaNs (canonical, signalling-style, negative).
fn float_corners(config: &Config) -> Vec<Vec<i64>> {
    let fmt = config.format();
    let keep = float_operand_filter(config);
    let values: Vec<u32> = if fmt.bits() <= 8 {
        (0..1u32 << fmt.bits()).collect()
    } else {
        let mut v = vec![
            0x0000, 0x0001, 0x007F, // zero, subnormals
            0x0080, 0x0081, 0x00FF, // min normal and neighbours
            0x3F80, 0x3F81, 0x3FFF, 0x4000, // one, near two
            0x1F80, 0x2000, 0x5F80, 0x6000, // 2^-64, 2^-63, 2^64, 2^65: products at the edges
            0x7F7E, 0x7F7F, // max normal
            0x7F80, 0x7F81, 0x7FC0, 0x7FFF, // Inf, NaNs
        ];
        let neg: Vec<u32> = v.iter().map(|x| x | 0x8000).collect();
        v.extend(neg);
        v
    };
    let values: Vec<u32> = values.into_iter().filter(|&v| keep(v)).collect();
    let mut out = Vec::with_capacity(values.len() * values.len());
    for &a in &values {
        for &b in &values {
            out.push(vec![a as i64, b as i64]);
        }
    }
    out
}

fn float_config(
    block: &str,
    format: &golden::float_format::Format,
    overflow: golden::float_format::Overflow,
    extra: &[(String, String)],
) -> Result<Config> {
    let name = format
        .preset_name()
        .with_context(|| format!("`{block}` has no block for the custom format {format}"))?;
    let mut sets = vec![
        ("format".to_string(), name.to_string()),
        ("overflow".to_string(), overflow.as_str().to_string()),
    ];
    sets.extend_from_slice(extra);
    Ok(Config::new(block, &sets)?)
}

fn float_case(case: &Case, config: Config, a: &[u32], b: &[u32]) -> Result<Option<StreamCase>> {
    let samples: Vec<Vec<i64>> = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| vec![x as i64, y as i64])
        .collect();
    let positions = (0..samples.len()).map(|j| (0, j)).collect();
    let expected = match &case.y {
        Some(Output::Flat(v)) => v.iter().map(|&y| vec![y as i64]).collect(),
        Some(Output::Rows(_)) => bail!(
            "line {}: `{}` `y` must be a flat list",
            case.line,
            config.block
        ),
        None => golden_all(&config, &samples),
    };
    Ok(Some(StreamCase {
        config,
        samples,
        expected,
        positions,
    }))
}

/// Dot-product corners: all zero, every lane saturating (both signs, so the sum reaches the
/// accumulator's extremes), one NaN lane, one Inf lane (e5m2), alternating signs that cancel,
/// and the smallest products.
fn dot_corners(config: &Config) -> Vec<Vec<i64>> {
    let k = config.k();
    let fmt = config.format();
    let max = fmt.max_finite() as i64;
    let neg = max | fmt.sign_mask() as i64;
    let one = (fmt.bias as i64) << fmt.m; // 1.0
    let small = 1i64 << fmt.m; // smallest normal
    let lanes = |a: i64, b: i64| -> Vec<i64> {
        let mut v = vec![a; k];
        v.extend(vec![b; k]);
        v
    };
    let mut out = vec![
        lanes(0, 0),
        lanes(max, max),
        lanes(neg, max),
        lanes(max, neg),
        lanes(one, one),
        lanes(small, one),
    ];
    let mut alt = lanes(max, max);
    for i in (0..k).step_by(2) {
        alt[i] = neg;
    }
    out.push(alt);
    let mut nan = lanes(one, one);
    nan[k - 1] = fmt.canonical_nan() as i64;
    out.push(nan);
    if let Some(inf) = fmt.inf() {
        let mut v = lanes(one, one);
        v[0] = inf as i64;
        out.push(v);
    }
    out
}

/// A vector-file case as a stream for the hardware: the configuration it needs, the samples, and
/// the expected outputs (the case's `y`, or golden when `y` is absent). `None`: no block runs this
/// op yet (the case is skipped).
pub struct StreamCase {
    pub config: Config,
    pub samples: Vec<Vec<i64>>,
    pub expected: Vec<Vec<i64>>,
    /// `(row, column)` in the case of each expected output, for reports (the MAC array's outputs
    /// are whole rows: column 0).
    pub positions: Vec<(usize, usize)>,
}

/// Turns a vector case into samples for its block, or `None` when no block implements the op (every
/// op of the vector files has one today).
pub fn stream_case(case: &Case) -> Result<Option<StreamCase>> {
    match &case.data {
        CaseData::Requant {
            m,
            c,
            bits,
            rounding,
            x,
        } => {
            let config = Config::new(
                "requant",
                &[
                    ("bits".into(), bits.to_string()),
                    ("rounding".into(), rounding.as_str().into()),
                ],
            )?;
            let mut samples = Vec::new();
            let mut positions = Vec::new();
            for (i, row) in x.iter().enumerate() {
                for (j, &xv) in row.iter().enumerate() {
                    samples.push(vec![xv as i64, channel(m, j) as i64, channel(c, j) as i64]);
                    positions.push((i, j));
                }
            }
            let expected = match &case.y {
                Some(Output::Rows(rows)) => rows.iter().flatten().map(|&v| vec![v]).collect(),
                Some(Output::Flat(_)) => bail!("line {}: requant `y` must be rows", case.line),
                None => golden_all(&config, &samples),
            };
            Ok(Some(StreamCase {
                config,
                samples,
                expected,
                positions,
            }))
        }
        CaseData::RequantAdd {
            m,
            c,
            m1,
            c1,
            bits,
            rounding,
            x,
            z,
        } => {
            let config = Config::new(
                "requant-add",
                &[
                    ("bits".into(), bits.to_string()),
                    ("rounding".into(), rounding.as_str().into()),
                ],
            )?;
            let mut samples = Vec::new();
            let mut positions = Vec::new();
            for (i, (xr, zr)) in x.iter().zip(z).enumerate() {
                for (j, (&xv, &zv)) in xr.iter().zip(zr).enumerate() {
                    samples.push(vec![
                        xv as i64,
                        zv as i64,
                        channel(m, j) as i64,
                        channel(c, j) as i64,
                        channel(m1, j) as i64,
                        channel(c1, j) as i64,
                    ]);
                    positions.push((i, j));
                }
            }
            let expected = match &case.y {
                Some(Output::Rows(rows)) => rows.iter().flatten().map(|&v| vec![v]).collect(),
                Some(Output::Flat(_)) => bail!("line {}: requant_add `y` must be rows", case.line),
                None => golden_all(&config, &samples),
            };
            Ok(Some(StreamCase {
                config,
                samples,
                expected,
                positions,
            }))
        }
        CaseData::Lmul {
            format,
            l,
            overflow,
            a,
            b,
        } => {
            let config = float_config(
                "lmul",
                format,
                *overflow,
                &[("l".to_string(), l.to_string())],
            )?;
            float_case(case, config, a, b)
        }
        CaseData::Fmul {
            format,
            overflow,
            a,
            b,
        } => float_case(case, float_config("fmul", format, *overflow, &[])?, a, b),
        CaseData::Shiftmax { x0, n, out_bits, x } => {
            let sets = vec![
                ("n".to_string(), n.to_string()),
                ("out_bits".to_string(), out_bits.to_string()),
            ];
            row_case(case, "shiftmax", sets, *x0, x)
        }
        CaseData::Shiftgelu { x0, n, x } => row_case(
            case,
            "shiftgelu",
            vec![("n".to_string(), n.to_string())],
            *x0,
            x,
        ),
        CaseData::Layernorm { bias, sqrt, x } => layernorm_case(case, bias, *sqrt, x),
        CaseData::Matmul {
            a_signed,
            a,
            b,
            bias,
        } => matmul_case(case, *a_signed, a, b, bias),
    }
}

/// A `matmul` case on a MAC array built at the case's size (`rows` = M, `cols` = N, `out_bits`
/// 32, so the raw int32 sums with bias are compared), as one tile of K beats. Cases with M or N
/// above 32 (the largest array) are refused with the line named.
fn matmul_case(
    case: &Case,
    a_signed: bool,
    a: &[Vec<i32>],
    b: &[Vec<i32>],
    bias: &[i32],
) -> Result<Option<StreamCase>> {
    let (m, n) = (a.len(), bias.len());
    if m > mac_array_max() || n > mac_array_max() {
        bail!(
            "line {}: a {m} x {n} result does not fit the largest mac-array (32 x 32); split the case",
            case.line
        );
    }
    let sets = vec![
        ("rows".to_string(), m.to_string()),
        ("cols".to_string(), n.to_string()),
        ("a_signed".to_string(), a_signed.to_string()),
        ("out_bits".to_string(), "32".to_string()),
    ];
    let config = Config::new("mac-array", &sets).with_context(|| format!("line {}", case.line))?;
    let wide = |rows: &[Vec<i32>]| -> Vec<Vec<i64>> {
        rows.iter()
            .map(|r| r.iter().map(|&v| v as i64).collect())
            .collect()
    };
    let tile = Tile {
        a: wide(a),
        b: wide(b),
        bias: bias.iter().map(|&v| v as i64).collect(),
        m: Vec::new(),
        c: Vec::new(),
    };
    let samples = tile_samples(&config, &[tile]);
    let expected = match &case.y {
        Some(Output::Rows(rows)) => rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut o: Vec<i64> = r.iter().map(|&v| v as i64).collect();
                o.push(i64::from(i + 1 == rows.len()));
                o
            })
            .collect(),
        Some(Output::Flat(_)) => bail!("line {}: matmul `y` must be rows", case.line),
        None => golden_all(&config, &samples),
    };
    Ok(Some(StreamCase {
        config,
        samples,
        expected,
        positions: (0..m).map(|i| (i, 0)).collect(),
    }))
}

fn mac_array_max() -> usize {
    hdl::mac_array::MAX_DIM
}

/// A `layernorm` case: one config (`sqrt`, `max_len` = the default or the longest row), the rows as
/// `[x, bias[c], neg = 0, last]` samples (vector files have no signs: the spec's positive gammas).
fn layernorm_case(
    case: &Case,
    bias: &[i32],
    sqrt: golden::layernorm::SqrtMode,
    x: &[Vec<i32>],
) -> Result<Option<StreamCase>> {
    let longest = x.iter().map(Vec::len).max().unwrap_or(1);
    let default_len = Config::new("layernorm", &[])?.max_len();
    if longest > 4096 {
        bail!(
            "line {}: a row of {longest} elements is longer than the largest `layernorm` max_len (4096)",
            case.line
        );
    }
    let sets = vec![
        ("sqrt".to_string(), sqrt.as_str().to_string()),
        ("max_len".to_string(), longest.max(default_len).to_string()),
    ];
    let config = Config::new("layernorm", &sets).with_context(|| format!("line {}", case.line))?;
    let mut samples = Vec::new();
    let mut positions = Vec::new();
    for (i, r) in x.iter().enumerate() {
        if r.len() != bias.len() {
            bail!(
                "line {}: row {i} has {} elements but bias has {}",
                case.line,
                r.len(),
                bias.len()
            );
        }
        for (j, &v) in r.iter().enumerate() {
            samples.push(vec![
                v as i64,
                bias[j] as i64,
                0,
                i64::from(j + 1 == r.len()),
            ]);
            positions.push((i, j));
        }
    }
    let expected = row_expected(case, &config, &samples)?;
    Ok(Some(StreamCase {
        config,
        samples,
        expected,
        positions,
    }))
}

/// The expected outputs of a row op's case, `[y, y_last]` per element: the case's `y` rows, or
/// golden when the case has none.
fn row_expected(case: &Case, config: &Config, samples: &[Vec<i64>]) -> Result<Vec<Vec<i64>>> {
    match &case.y {
        Some(Output::Rows(rows)) => Ok(rows
            .iter()
            .flat_map(|r| {
                r.iter()
                    .enumerate()
                    .map(move |(j, &v)| vec![v, i64::from(j + 1 == r.len())])
            })
            .collect()),
        Some(Output::Flat(_)) => bail!("line {}: `{}` `y` must be rows", case.line, config.block),
        None => Ok(golden_all(config, samples)),
    }
}

/// A row op's case: `max_len` (default, or the longest row) and `x0_bits` (8, or the width `x0`
/// needs) chosen to fit, the rows as `[x, x0, last]` samples.
fn row_case(
    case: &Case,
    block: &str,
    mut sets: Vec<(String, String)>,
    x0: i64,
    x: &[Vec<i32>],
) -> Result<Option<StreamCase>> {
    let longest = x.iter().map(Vec::len).max().unwrap_or(1);
    let default_len = Config::new(block, &[])?.max_len();
    if longest > 4096 {
        bail!(
            "line {}: a row of {longest} elements is longer than the largest `{block}` max_len (4096)",
            case.line
        );
    }
    sets.push(("max_len".to_string(), longest.max(default_len).to_string()));
    let x0_bits = [8usize, 12, 16]
        .into_iter()
        .find(|&b| x0 >= -(1i64 << (b - 1)))
        .with_context(|| {
            format!(
                "line {}: x0 = {x0} does not fit the widest `{block}` x0 port (16 bits: -32768..=-1)",
                case.line
            )
        })?;
    sets.push(("x0_bits".to_string(), x0_bits.to_string()));
    let config = Config::new(block, &sets).with_context(|| format!("line {}", case.line))?;
    let rows: Vec<(Vec<i64>, i64)> = x
        .iter()
        .map(|r| (r.iter().map(|&v| v as i64).collect(), x0))
        .collect();
    let samples = row_samples(&rows);
    let positions = x
        .iter()
        .enumerate()
        .flat_map(|(i, r)| (0..r.len()).map(move |j| (i, j)))
        .collect();
    let expected = row_expected(case, &config, &samples)?;
    Ok(Some(StreamCase {
        config,
        samples,
        expected,
        positions,
    }))
}
