//! One encoder block of a quantized BERT ([`golden::encoder`]) through the generated hardware in
//! Verilator: every matmul as MAC-array tiles, every row op through its row unit, every
//! requantization and residual add through the requantizers, each stage checked bit for bit
//! against the golden model's [`BlockTrace`].
//!
//! The stages run one after another, each as one stream through its block (no overlap between
//! stages: the cycle count is that of a machine with one unit of each kind, run in sequence). Each
//! stage takes the previous stages' *hardware* outputs as its inputs, so the chain is the hardware
//! computing the layer, not a set of unit tests fed from golden. A stage checks two things:
//! every output beat against the golden model of its block (padding included), and the outputs at
//! the layer's real positions against the encoder's trace. The first stage that fails stops the
//! run with a [`crate::verify::Outcome`]-style report (case, inputs, both outputs, waveform).
//!
//! | stage | block (Verilator) | golden |
//! |---|---|---|
//! | q, k, v | `mac-array a_signed=true out_bits=8` | `BlockTrace::{q, k, v}` |
//! | scores (per head) | `mac-array a_signed=true out_bits=8` (`q_h k_h^T`, one `(m, c)`) | `scores` |
//! | probabilities | `shiftmax n=15 out_bits=16` | `probs` |
//! | context (per head) | `mac-array a_signed=false out_bits=8` (uint16 x int8) | `context` |
//! | output projection | `mac-array a_signed=true out_bits=32`, then `requant-add bits=16` with the residual | `r1` |
//! | LayerNorm 1 | `layernorm`, then `requant bits=8` and `bits=16` | `h1` |
//! | feed-forward up | `mac-array a_signed=true out_bits=16` | `f1_wide` |
//! | GELU | `shiftgelu in_bits=16 n=23` (ShiftGELU with the linear tail), `requant bits=16` | `ga` |
//! | feed-forward down | `mac-array a_signed=false out_bits=32` (offset-binary uint16 A), `requant-add bits=16` | `r2` |
//! | LayerNorm 2 | `layernorm`, `requant bits=8` and `bits=16` | `out` |
//!
//! GELU's offset to unsigned 16 bits (`+2^15`, [`golden::encoder::GELU_OFFSET`]) is wiring: the
//! sign bit inverted between the requantizer and the array's `A` port; the harness does that
//! inversion and nothing else between blocks.
use std::fmt;

use anyhow::{bail, Context, Result};
use golden::encoder::{self, BlockTrace, Program, QBlock, QLinear, QNorm, Rq, GELU_OFFSET};
use golden::requant::channel;
use hdl::blocks::Config;

use crate::dut::{self, Tile};
use crate::verify::{Bench, Sim, Traffic};

/// The array shape and the simulator of a hardware run.
#[derive(Clone, Copy, Debug)]
pub struct LayerHw {
    /// MAC-array rows (tokens per tile).
    pub rows: usize,
    /// MAC-array columns (output channels per tile).
    pub cols: usize,
    /// The back end (Verilator is the ground truth; RustHDL is too slow for a real layer).
    pub sim: Sim,
    /// A line on stderr as each stage passes.
    pub progress: bool,
}

impl Default for LayerHw {
    fn default() -> Self {
        LayerHw {
            rows: 4,
            cols: 4,
            sim: Sim::Verilator,
            progress: false,
        }
    }
}

/// One stage of the layer: what ran, how long, whether it matched.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StageReport {
    /// The stage (`q`, `scores head 3`, ...).
    pub stage: String,
    /// The block configuration it ran on.
    pub block: String,
    /// Input beats streamed.
    pub beats: usize,
    /// Output beats checked.
    pub outputs: usize,
    /// Cycles from the first input offered to the last output taken (no stalls).
    pub cycles: u64,
}

/// A whole layer's run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LayerReport {
    /// Tokens of the sentence.
    pub tokens: usize,
    /// The block index in the program.
    pub block: usize,
    /// MAC-array shape.
    pub array: String,
    /// Stages in order.
    pub stages: Vec<StageReport>,
    /// Sum of the stages' cycles.
    pub total_cycles: u64,
    /// Every stage's values equal the golden encoder's (a failing stage is an error instead).
    pub bit_exact: bool,
}

impl fmt::Display for LayerReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "encoder block {} of a {}-token sentence through the hardware ({} MAC array, Verilator):",
            self.block, self.tokens, self.array
        )?;
        writeln!(
            f,
            "{:<28} {:<58} {:>9} {:>8} {:>9}",
            "stage", "block", "beats", "outputs", "cycles"
        )?;
        for s in &self.stages {
            writeln!(
                f,
                "{:<28} {:<58} {:>9} {:>8} {:>9}",
                s.stage, s.block, s.beats, s.outputs, s.cycles
            )?;
        }
        write!(
            f,
            "total {} cycles; every stage bit-exact with golden: {}",
            self.total_cycles, self.bit_exact
        )
    }
}

fn cols_of(x: &[Vec<i32>], r: std::ops::Range<usize>) -> Vec<Vec<i32>> {
    x.iter().map(|row| row[r.clone()].to_vec()).collect()
}

fn transpose(x: &[Vec<i32>]) -> Vec<Vec<i32>> {
    let n = x.first().map_or(0, Vec::len);
    (0..n).map(|j| x.iter().map(|r| r[j]).collect()).collect()
}

/// The smallest run-time `x0` port width (8, 12 or 16 bits) that holds every `x0`.
fn x0_bits(x0s: &[i64]) -> Result<usize> {
    let lo = x0s.iter().copied().min().unwrap_or(-1);
    [8usize, 12, 16]
        .into_iter()
        .find(|&b| lo >= -(1i64 << (b - 1)))
        .with_context(|| format!("x0 = {lo} does not fit a 16-bit x0 port"))
}

/// Runs stages and keeps their reports.
struct Runner {
    hw: LayerHw,
    rounding: String,
    stages: Vec<StageReport>,
    benches: Vec<Bench>,
}

impl Runner {
    fn bench(&mut self, config: Config) -> Result<&mut Bench> {
        let i = match self.benches.iter().position(|b| b.config == config) {
            Some(i) => i,
            None => {
                self.benches.push(Bench::new(&config)?);
                self.benches.len() - 1
            }
        };
        Ok(&mut self.benches[i])
    }

    /// Streams `samples` through `config`, checks every output against `expected` (the block's
    /// golden model), and returns the hardware's decoded outputs.
    fn stream(
        &mut self,
        stage: &str,
        config: Config,
        samples: &[Vec<i64>],
        expected: &[Vec<i64>],
    ) -> Result<Vec<Vec<i64>>> {
        let sim = self.hw.sim;
        let block = config.to_string();
        let bench = self.bench(config)?;
        let o = bench.check(sim, stage, samples, expected, Traffic::Streaming, None)?;
        if !o.passed() {
            bail!("stage `{stage}` ({block}) differs from golden:\n{o}");
        }
        let io = &bench.emitted.io;
        let got: Vec<Vec<i64>> = o
            .trace
            .outputs
            .iter()
            .map(|(_, v)| {
                io.outputs
                    .iter()
                    .zip(v)
                    .map(|(f, &x)| f.decode(x))
                    .collect()
            })
            .collect();
        let report = StageReport {
            stage: stage.to_string(),
            block,
            beats: samples.len(),
            outputs: got.len(),
            cycles: o.trace.cycles,
        };
        if self.hw.progress {
            eprintln!(
                "  {:<28} {:>8} cycles  bit-exact  ({})",
                report.stage, report.cycles, report.block
            );
        }
        self.stages.push(report);
        Ok(got)
    }

    fn array(&self, a_signed: bool, out_bits: u32) -> Result<Config> {
        Ok(Config::from_sets(
            "mac-array",
            &[
                format!("rows={}", self.hw.rows),
                format!("cols={}", self.hw.cols),
                format!("a_signed={a_signed}"),
                format!("out_bits={out_bits}"),
                format!("rounding={}", self.rounding),
            ],
        )?)
    }

    /// `a (T x K) * b (K x N) + bias`, requantized per column by `rq` (`None`: the raw int32 sums),
    /// as MAC-array tiles of `rows x cols` (A's rows and B's columns zero-padded to whole tiles),
    /// all tiles in one stream. The result at the real positions must equal `want`.
    #[allow(clippy::too_many_arguments)]
    fn matmul(
        &mut self,
        stage: &str,
        a_signed: bool,
        a: &[Vec<i32>],
        b: &[Vec<i32>],
        bias: &[i32],
        rq: Option<(&Rq, u32)>,
        want: &[Vec<i32>],
    ) -> Result<Vec<Vec<i32>>> {
        let (r, c) = (self.hw.rows, self.hw.cols);
        let (t, n) = (a.len(), bias.len());
        let k = b.len();
        let out_bits = rq.map_or(32, |(_, bits)| bits);
        let config = self.array(a_signed, out_bits)?;
        let mut tiles = Vec::new();
        let mut places = Vec::new();
        for r0 in (0..t).step_by(r) {
            for c0 in (0..n).step_by(c) {
                let ta = (r0..r0 + r)
                    .map(|i| match a.get(i) {
                        Some(row) => row.iter().map(|&v| v as i64).collect(),
                        None => vec![0; k],
                    })
                    .collect();
                let col = |j: usize| c0 + j;
                let tb = b
                    .iter()
                    .map(|row| {
                        (0..c)
                            .map(|j| row.get(col(j)).map_or(0, |&v| v as i64))
                            .collect()
                    })
                    .collect();
                let per = |f: &dyn Fn(usize) -> i64| -> Vec<i64> {
                    (0..c)
                        .map(|j| if col(j) < n { f(col(j)) } else { 0 })
                        .collect()
                };
                let tbias = per(&|j| bias[j] as i64);
                let (m, cc) = match rq {
                    Some((q, _)) => (
                        per(&|j| channel(&q.m, j) as i64),
                        per(&|j| channel(&q.c, j) as i64),
                    ),
                    None => (vec![], vec![]),
                };
                tiles.push(Tile {
                    a: ta,
                    b: tb,
                    bias: tbias,
                    m,
                    c: cc,
                });
                places.push((r0, c0));
            }
        }
        let samples = dut::tile_samples(&config, &tiles);
        let expected = dut::golden_all(&config, &samples);
        let got = self.stream(stage, config, &samples, &expected)?;
        let mut out = vec![vec![0i32; n]; t];
        for (ti, &(r0, c0)) in places.iter().enumerate() {
            for i in 0..r {
                for j in 0..c {
                    if r0 + i < t && c0 + j < n {
                        out[r0 + i][c0 + j] = got[ti * r + i][j] as i32;
                    }
                }
            }
        }
        same(stage, &out, want)?;
        Ok(out)
    }

    /// Row `x` through a row unit (`[x, p, last]` per element, `p` the per-element parameter).
    fn rows(
        &mut self,
        stage: &str,
        config: Config,
        x: &[Vec<i32>],
        fields: &dyn Fn(usize, usize) -> Vec<i64>,
        want: &[Vec<i32>],
    ) -> Result<Vec<Vec<i32>>> {
        let mut samples = Vec::new();
        for (i, row) in x.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let mut s = vec![v as i64];
                s.extend(fields(i, j));
                s.push(i64::from(j + 1 == row.len()));
                samples.push(s);
            }
        }
        let expected = dut::golden_all(&config, &samples);
        let got = self.stream(stage, config, &samples, &expected)?;
        let mut out = Vec::with_capacity(x.len());
        let mut it = got.iter();
        for row in x {
            out.push(
                (0..row.len())
                    .map(|_| it.next().map_or(0, |v| v[0] as i32))
                    .collect(),
            );
        }
        same(stage, &out, want)?;
        Ok(out)
    }

    /// Elementwise requantization of rows (per-channel `(m, c)`), optionally with a residual.
    fn requant(
        &mut self,
        stage: &str,
        x: &[Vec<i32>],
        rq: &Rq,
        bits: u32,
        residual: Option<(&[Vec<i32>], &Rq)>,
        want: &[Vec<i32>],
    ) -> Result<Vec<Vec<i32>>> {
        let block = if residual.is_some() {
            "requant-add"
        } else {
            "requant"
        };
        let config = Config::from_sets(
            block,
            &[
                format!("bits={bits}"),
                format!("rounding={}", self.rounding),
            ],
        )?;
        let mut samples = Vec::new();
        for (i, row) in x.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let mut s = vec![v as i64];
                if let Some((z, _)) = residual {
                    s.push(z[i][j] as i64);
                }
                s.push(channel(&rq.m, j) as i64);
                s.push(channel(&rq.c, j) as i64);
                if let Some((_, r1)) = residual {
                    s.push(channel(&r1.m, j) as i64);
                    s.push(channel(&r1.c, j) as i64);
                }
                samples.push(s);
            }
        }
        let expected = dut::golden_all(&config, &samples);
        let got = self.stream(stage, config, &samples, &expected)?;
        let mut it = got.iter();
        let out: Vec<Vec<i32>> = x
            .iter()
            .map(|row| {
                row.iter()
                    .map(|_| it.next().map_or(0, |v| v[0] as i32))
                    .collect()
            })
            .collect();
        same(stage, &out, want)?;
        Ok(out)
    }

    fn linear(
        &mut self,
        stage: &str,
        a_signed: bool,
        x: &[Vec<i32>],
        l: &QLinear,
        bits: Option<u32>,
        want: &[Vec<i32>],
    ) -> Result<Vec<Vec<i32>>> {
        let b = l.b_operand(0..l.out);
        let rq = bits.map(|bits| (&l.rq, bits));
        self.matmul(stage, a_signed, x, &b, &l.bias, rq, want)
    }

    fn norm(
        &mut self,
        stage: &str,
        x: &[Vec<i32>],
        n: &QNorm,
        sqrt: &str,
        want: &encoder::Normed,
    ) -> Result<(Vec<Vec<i32>>, Vec<Vec<i32>>)> {
        let h = x.first().map_or(0, Vec::len);
        let config = Config::from_sets(
            "layernorm",
            &[format!("max_len={}", h.max(1)), format!("sqrt={sqrt}")],
        )?;
        let fields = |_: usize, j: usize| vec![n.bias[j] as i64, i64::from(n.negative[j])];
        let y = self.rows(stage, config, x, &fields, &want.y)?;
        let x8 = self.requant(&format!("{stage} to int8"), &y, &n.to8, 8, None, &want.x8)?;
        let x16 = self.requant(
            &format!("{stage} to int16"),
            &y,
            &n.to16,
            16,
            None,
            &want.x16,
        )?;
        Ok((x8, x16))
    }
}

/// The hardware's values at the layer's positions against the golden encoder's.
fn same(stage: &str, got: &[Vec<i32>], want: &[Vec<i32>]) -> Result<()> {
    if got.len() != want.len() {
        bail!(
            "stage `{stage}`: {} rows from the hardware, {} in the golden trace",
            got.len(),
            want.len()
        );
    }
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if let Some(j) = (0..w.len()).find(|&j| g.get(j) != w.get(j)) {
            bail!(
                "stage `{stage}`: token {i}, channel {j}: hardware {:?}, golden encoder {} \
                 (the block matched its own golden model: the stage's wiring differs from the encoder's)",
                g.get(j),
                w[j]
            );
        }
    }
    Ok(())
}

/// Runs block `index` of `p` on the int8 / int16 views `x8`, `x16` of its input through the
/// hardware, stage by stage (see the module doc), and returns the cycle report. Errors name the
/// first stage that differs from golden.
pub fn run_block(
    p: &Program,
    index: usize,
    x8: &[Vec<i32>],
    x16: &[Vec<i32>],
    hw: LayerHw,
) -> Result<LayerReport> {
    let b: &QBlock = p
        .blocks
        .get(index)
        .with_context(|| format!("block {index}: the program has {}", p.blocks.len()))?;
    if p.scores != encoder::ScoresArith::Int8 {
        bail!(
            "the program's attention scores are `{}`: the hardware check runs int8 programs \
             (the L-Mul dot product block has no int8-to-e4m3 converter in front of it yet)",
            p.scores.as_str()
        );
    }
    let t: BlockTrace = encoder::block(p, b, x8, x16);
    let tokens = x8.len();
    let dh = p.hidden / p.heads;
    let mut run = Runner {
        hw,
        rounding: p.rounding.as_str().to_string(),
        stages: Vec::new(),
        benches: Vec::new(),
    };
    let q = run.linear("q", true, x8, &b.q, Some(8), &t.q)?;
    let k = run.linear("k", true, x8, &b.k, Some(8), &t.k)?;
    let v = run.linear("v", true, x8, &b.v, Some(8), &t.v)?;

    let softmax_x0_bits = x0_bits(&b.x0_softmax)?;
    let softmax = Config::from_sets(
        "shiftmax",
        &[
            format!("max_len={}", tokens.max(1)),
            format!("n={}", encoder::SHIFTMAX_N),
            format!("out_bits={}", encoder::SHIFTMAX_BITS),
            format!("x0_bits={softmax_x0_bits}"),
        ],
    )?;
    let mut context = vec![Vec::with_capacity(p.hidden); tokens];
    for h in 0..p.heads {
        let r = h * dh..(h + 1) * dh;
        let kt = transpose(&cols_of(&k, r.clone()));
        let s = run.matmul(
            &format!("scores head {h}"),
            true,
            &cols_of(&q, r.clone()),
            &kt,
            &vec![0; tokens],
            Some((&b.scores.slice(h..h + 1), 8)),
            &t.scores[h],
        )?;
        let x0 = b.x0_softmax[if b.x0_softmax.len() == 1 { 0 } else { h }];
        let pr = run.rows(
            &format!("shiftmax head {h}"),
            softmax.clone(),
            &s,
            &|_, _| vec![x0],
            &t.probs[h],
        )?;
        let want: Vec<Vec<i32>> = cols_of(&t.context, r.clone());
        let c = run.matmul(
            &format!("context head {h}"),
            false,
            &pr,
            &cols_of(&v, r.clone()),
            &vec![0; dh],
            Some((&b.context.slice(r.clone()), 8)),
            &want,
        )?;
        for (dst, src) in context.iter_mut().zip(c) {
            dst.extend(src);
        }
    }
    let o_sums = run.linear(
        "attention output",
        true,
        &context,
        &b.o,
        None,
        &b.o.sums(&t.context),
    )?;
    let r1 = run.requant(
        "residual 1",
        &o_sums,
        &b.o.rq,
        16,
        Some((x16, &b.res1)),
        &t.r1,
    )?;
    let sqrt = match p.sqrt {
        golden::layernorm::SqrtMode::Ivit => "ivit",
        golden::layernorm::SqrtMode::Exact => "exact",
    };
    let (h8, h16) = run.norm("layernorm 1", &r1, &b.ln1, sqrt, &t.h1)?;
    let f1 = run.linear("ffn up", true, &h8, &b.f1, Some(16), &t.f1_wide)?;
    let gelu = Config::from_sets(
        "shiftgelu",
        &[
            format!("max_len={}", p.ffn.max(1)),
            format!("n={}", encoder::SHIFTGELU_N),
            "in_bits=16".to_string(),
            format!("x0_bits={}", x0_bits(&[b.x0_gelu])?),
        ],
    )?;
    let (_, g_want) = encoder::gelu_with_tail(&t.f1_wide, b.x0_gelu);
    let x0g = b.x0_gelu;
    let g = run.rows("gelu", gelu, &f1, &|_, _| vec![x0g], &g_want)?;
    let ga_want: Vec<Vec<i32>> =
        t.ga.iter()
            .map(|r| r.iter().map(|&v| v - GELU_OFFSET).collect())
            .collect();
    let g16 = run.requant("gelu to int16", &g, &b.gelu, 16, None, &ga_want)?;
    // The offset to unsigned 16 bits: the sign bit inverted (wiring between the two blocks).
    let ga: Vec<Vec<i32>> = g16
        .iter()
        .map(|r| r.iter().map(|&v| (v as u16 ^ 0x8000) as i32).collect())
        .collect();
    same("gelu offset", &ga, &t.ga)?;
    let f2_sums = run.linear("ffn down", false, &ga, &b.f2, None, &b.f2.sums(&t.ga))?;
    let r2 = run.requant(
        "residual 2",
        &f2_sums,
        &b.f2.rq,
        16,
        Some((&h16, &b.res2)),
        &t.r2,
    )?;
    run.norm("layernorm 2", &r2, &b.ln2, sqrt, &t.out)?;
    let total_cycles = run.stages.iter().map(|s| s.cycles).sum();
    Ok(LayerReport {
        tokens,
        block: index,
        array: format!("{}x{}", hw.rows, hw.cols),
        stages: run.stages,
        total_cycles,
        bit_exact: true,
    })
}
