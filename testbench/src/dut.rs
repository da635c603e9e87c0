//! Per-block knowledge the harness needs: the golden model of one sample, seeded random samples,
//! corner cases, and how a vector-file case becomes a stream of samples.
//!
//! Samples are `Vec<i64>` in the order of the block's [`hdl::stream::StreamIo`] fields.
use anyhow::{bail, Result};
use golden::requant::{channel, requant, Rounding, C_MAX, M_MAX};
use hdl::blocks::Config;
use rand::Rng;

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
        other => unreachable!("no golden mapping for block `{other}`"),
    }
}

/// Golden outputs for many samples.
pub fn golden_all(config: &Config, samples: &[Vec<i64>]) -> Vec<Vec<i64>> {
    samples.iter().map(|s| golden(config, s)).collect()
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
                .map(|_| match r.gen_range(0..6) {
                    0 | 1 => vec![
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
                        vec![x, 1 << j, c]
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
                        vec![x.clamp(i32::MIN as i64, i32::MAX as i64), m, c]
                    }
                })
                .collect()
        }
        other => unreachable!("no random generator for block `{other}`"),
    }
}

/// A vector-file case as a stream for the hardware: the configuration it needs, the samples, and
/// the expected outputs (the case's `y`, or golden when `y` is absent). `None`: no block runs this
/// op yet (the case is skipped).
pub struct StreamCase {
    pub config: Config,
    pub samples: Vec<Vec<i64>>,
    pub expected: Vec<Vec<i64>>,
    /// `(row, column)` of each sample, for reports.
    pub positions: Vec<(usize, usize)>,
}

/// Turns a vector case into samples for its block, or `None` when no block implements the op.
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
        _ => Ok(None),
    }
}
