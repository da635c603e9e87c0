//! Post-training quantization of a BERT encoder into a [`Program`] (`docs/model.md`).
//!
//! - Weights: per-output-channel symmetric int8, `s_w[j] = r_j max_i |W[j][i]| / 127` with `r_j` in
//!   `0.70..=1.00` minimising the row's squared quantization error ([`WeightClip::Mse`], the
//!   default), or `r_j = 1` ([`WeightClip::Max`]).
//! - Biases: int32 in the accumulator's scale, `round(b[j] / (s_in * s_w[j]))`.
//! - Activations: one scale per tensor and block from a calibration set
//!   ([`bert_float::ActivationStats`]): int16 tensors `s = max|x| / 32767`; int8 tensors
//!   `s = clip / 127` with `clip` the [`QuantOptions::percentile`] quantile of `|x|` (values beyond
//!   it saturate).
//! - Requantizations: HAWQ-V3's dyadic `(m, c)` of each scale ratio ([`Dyadic::from_scales`]).
//! - Shiftmax `x0 = floor(-1 / s_scores)`, ShiftGELU `x0 = floor(-1 / (s_g * 1.702))` (the float32
//!   computation of the reference).
//! - LayerNorm: the signed extension (sign of `gamma`, `|gamma|` floored at
//!   [`QuantOptions::gamma_floor`] times the layer's largest `|gamma|`), `bias_int` as the spec.
//! - Embeddings: int16 tables with one scale, `(max|word| + max|position + type 0|) / 32767`, so
//!   their sum cannot overflow int16.

use crate::bert_float::{self, ActivationStats, BertWeights, Linear, Norm, Site};
use crate::encoder::{Program, QBlock, QLinear, QNorm, Rq, ScoresArith};
use crate::layernorm::SqrtMode;
use crate::requant::{Dyadic, Rounding};

/// Quantizer settings.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantOptions {
    /// LayerNorm's square root in the program.
    pub sqrt: SqrtMode,
    /// Rounding of every requantization.
    pub rounding: Rounding,
    /// Floor on `|gamma_c|`, relative to the LayerNorm's largest `|gamma|` (default `2^-7`).
    pub gamma_floor: f64,
    /// Quantile of `|x|` that sets each int8 activation's clipping range (1.0 = the maximum).
    pub percentile: f64,
    /// Largest int8 range of ShiftGELU's input (float units); above it the linear tail takes over.
    pub gelu_clip: f64,
    /// SmoothQuant migration strength for LayerNorm outputs into matmuls (0 = one scale per tensor).
    pub smooth: f64,
    /// The attention scores' arithmetic (the constants are the same for both).
    pub scores: ScoresArith,
    /// How each weight row's int8 scale is chosen.
    pub weight_clip: WeightClip,
}

/// How a weight row's int8 scale is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightClip {
    /// `max |w| / 127`: nothing saturates.
    Max,
    /// The scale in `0.70..=1.00` times that with the least squared error over the row (rounding
    /// plus saturation of the few largest weights).
    Mse,
}

impl std::str::FromStr for WeightClip {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "max" => Ok(WeightClip::Max),
            "mse" => Ok(WeightClip::Mse),
            _ => Err(format!(
                "unknown weight clipping '{s}': expected max or mse"
            )),
        }
    }
}

impl std::fmt::Display for WeightClip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WeightClip::Max => "max",
            WeightClip::Mse => "mse",
        })
    }
}

impl Default for QuantOptions {
    fn default() -> Self {
        QuantOptions {
            sqrt: SqrtMode::Ivit,
            rounding: Rounding::HalfEven,
            gamma_floor: 1.0 / 128.0,
            percentile: 1.0,
            gelu_clip: 5.0,
            smooth: 0.8,
            scores: ScoresArith::Int8,
            weight_clip: WeightClip::Mse,
        }
    }
}

/// Why a model cannot be quantized.
#[derive(Debug, thiserror::Error)]
pub enum QuantizeError {
    /// No calibration sentences.
    #[error("the calibration set is empty")]
    NoCalibration,
    /// A calibration sentence is not a valid token sequence.
    #[error("calibration sentence {index}: {problem}")]
    Tokens {
        /// Its index.
        index: usize,
        /// What is wrong.
        problem: String,
    },
    /// An activation was zero everywhere in calibration, so it has no scale.
    #[error("block {layer} {site:?}: every calibration value is 0 (no scale)")]
    ZeroActivation {
        /// Block.
        layer: usize,
        /// Site.
        site: Site,
    },
    /// A scale ratio has no dyadic form with `c` in `0..=62`.
    #[error("{what}: {source}")]
    Dyadic {
        /// Which requantization.
        what: String,
        /// The dyadic error.
        source: crate::requant::DyadicError,
    },
    /// A Shiftmax/ShiftGELU `x0` leaves `-2^15..=-1`.
    #[error(
        "{what}: x0 = {x0} out of range -32768..=-1 (the activation scale {scale:e} is too small)"
    )]
    X0 {
        /// Which op.
        what: String,
        /// The value.
        x0: i64,
        /// The scale it came from.
        scale: f64,
    },
}

struct Ctx<'a> {
    stats: &'a ActivationStats,
    percentile: f64,
}

impl Ctx<'_> {
    fn scale(&self, site: Site, layer: usize, bits: u32) -> Result<f64, QuantizeError> {
        let st = self.stats.sites.get(&(site, layer));
        let q = if bits == 8 { self.percentile } else { 1.0 };
        let m = st.map_or(0.0, |st| st.quantile(q)) as f64;
        if m <= 0.0 {
            return Err(QuantizeError::ZeroActivation { layer, site });
        }
        Ok(m / ((1u64 << (bits - 1)) - 1) as f64)
    }
}

fn dyadic(s_in: f64, s_out: f64, what: impl Fn() -> String) -> Result<(u32, u32), QuantizeError> {
    Dyadic::from_scales(s_in, s_out)
        .map(|d| (d.m, d.c))
        .map_err(|source| QuantizeError::Dyadic {
            what: what(),
            source,
        })
}

fn rq_one(s_in: f64, s_out: f64, what: impl Fn() -> String) -> Result<Rq, QuantizeError> {
    let (m, c) = dyadic(s_in, s_out, what)?;
    Ok(Rq {
        m: vec![m],
        c: vec![c],
    })
}

fn rq_channels_to(
    s_in: &[f64],
    s_out: &[f64],
    what: impl Fn(usize) -> String,
) -> Result<Rq, QuantizeError> {
    let mut rq = Rq {
        m: Vec::with_capacity(s_in.len()),
        c: Vec::with_capacity(s_in.len()),
    };
    for (j, (&a, &b)) in s_in.iter().zip(s_out).enumerate() {
        let (m, c) = dyadic(a, b, || what(j))?;
        rq.m.push(m);
        rq.c.push(c);
    }
    Ok(rq)
}

fn rq_channels(
    s_in: &[f64],
    s_out: f64,
    what: impl Fn(usize) -> String,
) -> Result<Rq, QuantizeError> {
    let mut rq = Rq {
        m: Vec::with_capacity(s_in.len()),
        c: Vec::with_capacity(s_in.len()),
    };
    for (j, &s) in s_in.iter().enumerate() {
        let (m, c) = dyadic(s, s_out, || what(j))?;
        rq.m.push(m);
        rq.c.push(c);
    }
    Ok(rq)
}

/// Per-output-channel int8 weights and int32 bias of a dense layer whose input has scale `s_in`
/// (one per input channel, or one for all): the input scales are folded into the weights first
/// (`W'[j][c] = W[j][c] * s_in[c]`), so the accumulator of output `j` has scale `s_w'[j]`. Returns the
/// layer (with an empty `rq`) and those accumulator scales.
fn quantize_linear(lin: &Linear, s_in: &[f64], clip: WeightClip) -> (QLinear, Vec<f64>) {
    let s_c = |c: usize| if s_in.len() == 1 { s_in[0] } else { s_in[c] };
    let mut w = Vec::with_capacity(lin.w.len());
    let mut bias = Vec::with_capacity(lin.out);
    let mut s_acc = Vec::with_capacity(lin.out);
    for o in 0..lin.out {
        let row: Vec<f64> = lin
            .row(o)
            .iter()
            .enumerate()
            .map(|(c, &v)| v as f64 * s_c(c))
            .collect();
        let mx = row.iter().fold(0f64, |m, v| m.max(v.abs()));
        let s = if mx > 0.0 {
            row_scale(&row, mx, clip)
        } else {
            1.0
        };
        w.extend(
            row.iter()
                .map(|&v| (v / s).round().clamp(-127.0, 127.0) as i8),
        );
        bias.push(
            (lin.b[o] as f64 / s)
                .round()
                .clamp(i32::MIN as f64, i32::MAX as f64) as i32,
        );
        s_acc.push(s);
    }
    (
        QLinear {
            out: lin.out,
            inp: lin.inp,
            w,
            bias,
            rq: Rq {
                m: vec![],
                c: vec![],
            },
        },
        s_acc,
    )
}

/// The int8 scale of one weight row whose largest magnitude is `mx`: `mx / 127`, or with
/// [`WeightClip::Mse`] the scale `r mx / 127`, `r` in `1.00, 0.99, ..., 0.70`, with the least squared
/// rounding-and-clipping error over the row (the first such `r` on ties).
fn row_scale(row: &[f64], mx: f64, clip: WeightClip) -> f64 {
    let err = |s: f64| -> f64 {
        row.iter()
            .map(|&v| {
                let e = v - (v / s).round().clamp(-127.0, 127.0) * s;
                e * e
            })
            .sum()
    };
    let mut best = (err(mx / 127.0), mx / 127.0);
    if clip == WeightClip::Mse {
        for k in 1..=30 {
            let s = mx * (100 - k) as f64 / 100.0 / 127.0;
            let e = err(s);
            if e < best.0 {
                best = (e, s);
            }
        }
    }
    best.1
}

/// Per-channel int8 scales of a LayerNorm output that feeds `consumers` (SmoothQuant's migration):
/// with `alpha = 0` one scale for the tensor; otherwise channel `c` is divided by
/// `f_c = act_c^alpha / w_c^(1 - alpha)` (`act_c` its largest calibrated `|x|`, `w_c` the largest
/// `|W[j][c]|` of the consumers) before one tensor scale, and `f_c` is folded into the weights.
fn smooth_scales(
    st: &crate::bert_float::Magnitudes,
    consumers: &[&Linear],
    alpha: f64,
) -> Vec<f64> {
    let n = consumers[0].inp;
    let act: Vec<f64> = (0..n)
        .map(|c| st.channel_max.get(c).copied().unwrap_or(0.0) as f64)
        .collect();
    let f: Vec<f64> = (0..n)
        .map(|c| {
            if alpha == 0.0 {
                return 1.0;
            }
            let w = consumers
                .iter()
                .flat_map(|l| (0..l.out).map(move |j| l.w[j * l.inp + c].abs()))
                .fold(0f32, f32::max) as f64;
            act[c].max(1e-6).powf(alpha) / w.max(1e-6).powf(1.0 - alpha)
        })
        .collect();
    let t = (0..n)
        .map(|c| act[c] / f[c])
        .fold(0f64, f64::max)
        .max(1e-12)
        / 127.0;
    f.iter().map(|fc| t * fc).collect()
}

/// The signed LayerNorm's sign, `bias_int` and per-channel output unit `sqrt(C)/2^30 * |gamma_c|`.
fn quantize_norm(n: &Norm, floor_rel: f64) -> (Vec<bool>, Vec<i32>, Vec<f64>) {
    let c = n.gamma.len() as f64;
    let base = c.sqrt() / (1u64 << 30) as f64;
    let gmax = n.gamma.iter().fold(0f32, |m, g| m.max(g.abs())) as f64;
    let floor = (gmax * floor_rel).max(f64::MIN_POSITIVE);
    let mut neg = Vec::new();
    let mut bias = Vec::new();
    let mut unit = Vec::new();
    for (&g, &b) in n.gamma.iter().zip(&n.beta) {
        let g = g as f64;
        let mag = g.abs().max(floor);
        neg.push(g < 0.0);
        bias.push(
            ((b as f64 / mag) / base)
                .floor()
                .clamp(i32::MIN as f64, i32::MAX as f64) as i32,
        );
        unit.push(base * mag);
    }
    (neg, bias, unit)
}

fn norm_q(
    n: &Norm,
    opts: &QuantOptions,
    s8: &[f64],
    s16: f64,
    what: &str,
) -> Result<(QNorm, Vec<f64>), QuantizeError> {
    let (negative, bias, unit) = quantize_norm(n, opts.gamma_floor);
    let to8 = rq_channels_to(&unit, s8, |j| format!("{what} channel {j} to int8"))?;
    let to16 = rq_channels(&unit, s16, |j| format!("{what} channel {j} to int16"))?;
    Ok((
        QNorm {
            negative,
            bias,
            to8,
            to16,
        },
        unit,
    ))
}

fn x0_of(scale: f64, what: String) -> Result<i64, QuantizeError> {
    let x0 = (-1.0f32 / scale as f32).floor() as i64;
    if !(-32768..=-1).contains(&x0) {
        return Err(QuantizeError::X0 { what, x0, scale });
    }
    Ok(x0)
}

/// Runs the float model over the calibration sentences and records every quantized activation's
/// magnitude statistics.
pub fn calibrate(
    w: &BertWeights,
    sentences: &[Vec<u32>],
) -> Result<ActivationStats, QuantizeError> {
    if sentences.is_empty() {
        return Err(QuantizeError::NoCalibration);
    }
    let mut obs = ActivationStats::default();
    for (index, s) in sentences.iter().enumerate() {
        w.check_tokens(s)
            .map_err(|problem| QuantizeError::Tokens { index, problem })?;
        bert_float::forward(w, s, &mut obs);
    }
    Ok(obs)
}

/// Builds the [`Program`] from the float weights and a calibration run ([`calibrate`]).
pub fn quantize(
    w: &BertWeights,
    cal: &ActivationStats,
    opts: &QuantOptions,
) -> Result<Program, QuantizeError> {
    let cfg = &w.config;
    let h = cfg.hidden;
    let cx = Ctx {
        stats: cal,
        percentile: opts.percentile,
    };
    // Embeddings: one int16 scale for word and position (+ type 0) tables.
    let word_max = w.word.iter().fold(0f32, |m, v| m.max(v.abs())) as f64;
    let pos_typ: Vec<f32> = (0..cfg.max_positions * h)
        .map(|i| w.pos[i] + w.typ[i % h])
        .collect();
    let pos_max = pos_typ.iter().fold(0f32, |m, v| m.max(v.abs())) as f64;
    let s_e = (word_max + pos_max).max(f64::MIN_POSITIVE) / 32767.0;
    let q16 = |v: &f32| (*v as f64 / s_e).round().clamp(-32767.0, 32767.0) as i16;
    let emb_word: Vec<i16> = w.word.iter().map(q16).collect();
    let emb_pos: Vec<i16> = pos_typ.iter().map(q16).collect();

    // The int8 scales of every LayerNorm output, per channel (smoothed into the consumers).
    let stats = |site: Site, l: usize| {
        cal.sites
            .get(&(site, l))
            .ok_or(QuantizeError::ZeroActivation { layer: l, site })
    };
    let mut s_in8 = Vec::with_capacity(cfg.layers + 1);
    let mut s_h8 = Vec::with_capacity(cfg.layers);
    for (l, lw) in w.layers.iter().enumerate() {
        s_in8.push(smooth_scales(
            stats(Site::Input, l)?,
            &[&lw.q, &lw.k, &lw.v],
            opts.smooth,
        ));
        s_h8.push(smooth_scales(stats(Site::Ln1, l)?, &[&lw.f1], opts.smooth));
    }
    // The last LayerNorm's int8 view feeds nothing: one tensor scale.
    s_in8.push(vec![cx.scale(Site::Input, cfg.layers, 8)?; h]);
    let (emb_ln, emb_unit) = norm_q(
        &w.emb_ln,
        opts,
        &s_in8[0],
        cx.scale(Site::Input, 0, 16)?,
        "embeddings LayerNorm",
    )?;
    let dh = cfg.head_dim() as f64;
    let mut blocks = Vec::with_capacity(cfg.layers);
    let mut out_scale = emb_unit;
    for (l, lw) in w.layers.iter().enumerate() {
        let s_x8 = &s_in8[l];
        let s_x16 = cx.scale(Site::Input, l, 16)?;
        let proj =
            |lin: &Linear, site: Site, name: &str| -> Result<(QLinear, f64), QuantizeError> {
                let (mut q, s_acc) = quantize_linear(lin, s_x8, opts.weight_clip);
                let s_out = cx.scale(site, l, 8)?;
                q.rq = rq_channels(&s_acc, s_out, |j| format!("block {l} {name} column {j}"))?;
                Ok((q, s_out))
            };
        let (q, s_q) = proj(&lw.q, Site::Q, "query")?;
        let (k, s_k) = proj(&lw.k, Site::K, "key")?;
        let (v, s_v) = proj(&lw.v, Site::V, "value")?;
        // One int8 scale (and Shiftmax x0) per head: heads differ in range by a factor of 4.
        let s_a: Vec<f64> = (0..cfg.heads)
            .map(|hd| {
                let m = cal
                    .heads
                    .get(&(l, hd))
                    .map_or(0.0, |st| st.quantile(opts.percentile)) as f64;
                if m > 0.0 {
                    Ok(m / 127.0)
                } else {
                    Err(QuantizeError::ZeroActivation {
                        layer: l,
                        site: Site::Scores,
                    })
                }
            })
            .collect::<Result<_, _>>()?;
        let scores = rq_channels_to(&vec![s_q * s_k / dh.sqrt(); cfg.heads], &s_a, |hd| {
            format!("block {l} scores head {hd}")
        })?;
        let x0_softmax = s_a
            .iter()
            .enumerate()
            .map(|(hd, &s)| x0_of(s, format!("block {l} head {hd} Shiftmax")))
            .collect::<Result<Vec<_>, _>>()?;
        let s_c = smooth_scales(stats(Site::Context, l)?, &[&lw.o], opts.smooth);
        let context = rq_channels_to(&vec![s_v / 32768.0; h], &s_c, |j| {
            format!("block {l} context channel {j}")
        })?;
        let s_r1 = cx.scale(Site::AttnResidual, l, 16)?;
        let (mut o, s_acc_o) = quantize_linear(&lw.o, &s_c, opts.weight_clip);
        o.rq = rq_channels(&s_acc_o, s_r1, |j| {
            format!("block {l} attention output column {j}")
        })?;
        let res1 = rq_one(s_x16, s_r1, || format!("block {l} first residual"))?;
        let s_h16 = cx.scale(Site::Ln1, l, 16)?;
        let (ln1, _) = norm_q(
            &lw.ln1,
            opts,
            &s_h8[l],
            s_h16,
            &format!("block {l} first LayerNorm"),
        )?;
        let (mut f1, s_acc_f1) = quantize_linear(&lw.f1, &s_h8[l], opts.weight_clip);
        // ShiftGELU keeps its precision only over a few units (docs/model.md): its int8 range is
        // clipped at `gelu_clip` and the linear tail carries the rest.
        let s_g = cx.scale(Site::Ffn1, l, 8)?.min(opts.gelu_clip / 127.0);
        f1.rq = rq_channels(&s_acc_f1, s_g, |j| format!("block {l} ffn up column {j}"))?;
        let x0_gelu = x0_of(s_g * 1.702, format!("block {l} ShiftGELU"))?;
        let s_f = cx.scale(Site::Gelu, l, 16)?;
        let gelu = rq_one(s_g / 128.0, s_f, || format!("block {l} GELU output"))?;
        let s_r2 = cx.scale(Site::FfnResidual, l, 16)?;
        let (mut f2, s_acc_f2) = quantize_linear(&lw.f2, &[s_f], opts.weight_clip);
        // The A operand is `q + 2^15` (unsigned 16-bit): take `2^15 * sum_k W[j][k]` off the bias,
        // in wrapping int32 as the array accumulates (exact whenever the true sum fits int32).
        for j in 0..f2.out {
            let wsum: i32 = f2.w[j * f2.inp..(j + 1) * f2.inp]
                .iter()
                .map(|&w| w as i32)
                .sum();
            f2.bias[j] = f2.bias[j].wrapping_sub(wsum.wrapping_mul(crate::encoder::GELU_OFFSET));
        }
        f2.rq = rq_channels(&s_acc_f2, s_r2, |j| {
            format!("block {l} ffn down column {j}")
        })?;
        let res2 = rq_one(s_h16, s_r2, || format!("block {l} second residual"))?;
        let (ln2, unit) = norm_q(
            &lw.ln2,
            opts,
            &s_in8[l + 1],
            cx.scale(Site::Input, l + 1, 16)?,
            &format!("block {l} second LayerNorm"),
        )?;
        out_scale = unit;
        blocks.push(QBlock {
            q,
            k,
            v,
            scores,
            x0_softmax,
            context,
            o,
            res1,
            ln1,
            f1,
            x0_gelu,
            gelu,
            f2,
            res2,
            ln2,
        });
    }
    Ok(Program {
        hidden: h,
        heads: cfg.heads,
        ffn: cfg.ffn,
        vocab: cfg.vocab,
        max_positions: cfg.max_positions,
        sqrt: opts.sqrt,
        rounding: opts.rounding,
        scores: opts.scores,
        emb_word,
        emb_pos,
        emb_ln,
        blocks,
        out_scale,
    })
}

/// What the LayerNorm extension did to a model: channels over all LayerNorms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NormReport {
    /// Channels with `gamma < 0` (carried by the sign).
    pub negative: usize,
    /// Channels with `|gamma|` below the floor (raised to it).
    pub floored: usize,
}

/// Counts the channels the LayerNorm extension touches ([`NormReport`]).
pub fn report(w: &BertWeights, _p: &Program, opts: &QuantOptions) -> NormReport {
    let mut r = NormReport::default();
    let norms = std::iter::once(&w.emb_ln).chain(w.layers.iter().flat_map(|l| [&l.ln1, &l.ln2]));
    for n in norms {
        let gmax = n.gamma.iter().fold(0f32, |m, g| m.max(g.abs())) as f64;
        for &g in &n.gamma {
            r.negative += usize::from(g < 0.0);
            r.floored += usize::from((g as f64).abs() < gmax * opts.gamma_floor);
        }
    }
    r
}

/// The float model with every LayerNorm's `|gamma|` raised to the floor the quantizer applies
/// (sign kept): the float side of the LayerNorm extension, to measure what the floor alone changes.
pub fn with_floored_gammas(w: &BertWeights, floor_rel: f64) -> BertWeights {
    let mut w = w.clone();
    let floor = |n: &mut Norm| {
        let gmax = n.gamma.iter().fold(0f32, |m, g| m.max(g.abs())) as f64;
        let f = (gmax * floor_rel) as f32;
        for g in &mut n.gamma {
            if g.abs() < f {
                *g = if *g < 0.0 { -f } else { f };
            }
        }
    };
    floor(&mut w.emb_ln);
    for l in &mut w.layers {
        floor(&mut l.ln1);
        floor(&mut l.ln2);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sq_err(row: &[f64], s: f64) -> f64 {
        row.iter()
            .map(|&v| (v - (v / s).round().clamp(-127.0, 127.0) * s).powi(2))
            .sum()
    }

    #[test]
    fn max_clip_keeps_the_largest_weight_and_mse_clips_a_lone_outlier() {
        // 20000 weights spread evenly over +-1 and one at 1.1: saturating it to ~1 costs 0.01,
        // the finer step saves the bulk about twice that.
        let mut row: Vec<f64> = (0..20000)
            .map(|i| (i as f64 * 0.618034).fract() * 2.0 - 1.0)
            .collect();
        row.push(1.1);
        let mx = 1.1;
        assert_eq!(row_scale(&row, mx, WeightClip::Max), mx / 127.0);
        let s = row_scale(&row, mx, WeightClip::Mse);
        assert!(s < mx / 127.0 && s >= 0.7 * mx / 127.0 - 1e-15, "{s}");
        assert!(sq_err(&row, s) < sq_err(&row, mx / 127.0));
        // No candidate on the grid does better.
        for k in 0..=30 {
            let c = mx * (100 - k) as f64 / 100.0 / 127.0;
            assert!(
                sq_err(&row, s) <= sq_err(&row, c),
                "r = {}",
                (100 - k) as f64 / 100.0
            );
        }
    }

    #[test]
    fn mse_clip_of_a_row_that_fits_the_grid_exactly_is_the_max() {
        // Every weight a multiple of max/127: zero error at r = 1, and every smaller r has some.
        let row: Vec<f64> = (-127..=127).map(|i| i as f64 * 0.01).collect();
        assert_eq!(row_scale(&row, 1.27, WeightClip::Mse), 1.27 / 127.0);
    }

    #[test]
    fn weight_clip_parses_and_names_bad_values() {
        assert_eq!("mse".parse::<WeightClip>(), Ok(WeightClip::Mse));
        assert_eq!("max".parse::<WeightClip>(), Ok(WeightClip::Max));
        assert!("min".parse::<WeightClip>().unwrap_err().contains("'min'"));
    }
}
