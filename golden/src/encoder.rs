//! The integer-only BERT encoder: a quantized model ([`Program`]) run with the ops of this crate only
//! (the spec's matmul, requantization, Shiftmax, ShiftGELU and the extended I-LayerNorm), following
//! I-ViT's dataflow. The dataflow and its extension of LayerNorm are written down in
//! `docs/model.md`; this module is that page in code.
//!
//! Per sentence of `T` tokens (hidden `H`, `heads` heads of `dh`, feed-forward `F`):
//! ```text
//! e      = sat16(emb_word[id] + emb_pos[p])                         int16 (token type 0 folded in)
//! x      = layernorm_signed(e)                                      int32, per-channel scale
//! x8,x16 = requant(x) to int8 (matmul input) and int16 (residual)
//! per block:
//!   q,k,v  = requant8(x8 Wq + bq), ...                              int8, per-column (m, c)
//!   s_h    = requant8(q_h k_h^T)                                    int8 (1/sqrt(dh) folded in)
//!   p_h    = shiftmax(s_h row, x0_s, n = 15, out_bits = 16)         uint16, scale 2^-15
//!   c_h    = requant8(p_h v_h)                                      int8 (uint16 x int8 matmul)
//!   r1     = requant_add16(c Wo + bo, x16)                          int16 residual
//!   h1     = layernorm_signed(r1) -> requant to int8 h8 and int16 h16
//!   u      = requant16(h8 W1 + b1)                                  int16, scale s_g
//!   g      = shiftgelu(sat8(u), x0_g, n = 23) + 128 max(u - 127, 0)  scale s_g 2^-7 (linear tail)
//!   a      = requant16(g) + 2^15                                    uint16 (offset binary)
//!   r2     = requant_add16(a W2 + b2', h16)                         int16 residual; b2' has
//!                                                                   the offset's -2^15 sum W2
//!   x      = layernorm_signed(r2) -> requant to int8 / int16 for the next block
//! embedding = l2normalize(sum_t x[t][c] * out_scale[c])             the only float: the final
//!                                                                   dequantize and normalization
//! ```
//! Every matmul is a MAC-array tile ([`crate::mac_array::tile`] semantics: wrapping int32 sums,
//! bias, per-column requantization); every row op is the golden function of its block.

use crate::float_format::{Format, Overflow};
use crate::layernorm::{layernorm_signed, SqrtMode};
use crate::lmul_dot::{acc_lsb_exponent, lmul_dot};
use crate::requant::{requant_add_rows, requant_rows, Rounding};
use crate::shiftgelu::{sat8, shiftgelu_tail};
use crate::shiftmax::shiftmax;

/// Shiftmax's exponent clamp in the encoder (I-ViT's `n = 15`).
pub const SHIFTMAX_N: u32 = 15;
/// Shiftmax's output width in the encoder (uint16 probabilities, scale `2^-15`).
pub const SHIFTMAX_BITS: u32 = 16;
/// The offset that turns GELU's int16 output into the down projection's unsigned 16-bit `A` operand
/// (offset binary: the sign bit inverted); the down projection's bias subtracts `2^15 * sum_k W[j][k]`.
pub const GELU_OFFSET: i32 = 1 << 15;
/// ShiftGELU's exponent clamp (I-ViT's `n = 23`).
pub const SHIFTGELU_N: u32 = 23;

/// How the attention scores `q_h k_h^T` are multiplied (`docs/model.md`, "L-Mul attention scores").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ScoresArith {
    /// int8 x int8 on the MAC array (the spec's matmul).
    #[default]
    Int8,
    /// L-Mul: `q` and `k` (int8) converted to e4m3 ([`Format::from_int`]: round to nearest even,
    /// no scale change), each product approximated by L-Mul (`l = 3`), the products summed exactly
    /// ([`lmul_dot`]: a fixed-point accumulator in units of `2^-9`), then requantized with the int8
    /// path's `(m, c + 9)`.
    LmulE4m3,
}

impl ScoresArith {
    /// The name in program files and on the command line.
    pub fn as_str(&self) -> &'static str {
        match self {
            ScoresArith::Int8 => "int8",
            ScoresArith::LmulE4m3 => "lmul-e4m3",
        }
    }
}

/// A scores arithmetic name that is neither `int8` nor `lmul-e4m3`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scores arithmetic `{0}` (allowed: int8, lmul-e4m3)")]
pub struct ParseScoresArithError(pub String);

impl std::str::FromStr for ScoresArith {
    type Err = ParseScoresArithError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "int8" => Ok(ScoresArith::Int8),
            "lmul-e4m3" => Ok(ScoresArith::LmulE4m3),
            other => Err(ParseScoresArithError(other.to_string())),
        }
    }
}

/// The raw scores `q_h k_h^T` by L-Mul in e4m3 with an exact sum ([`ScoresArith::LmulE4m3`]), in
/// units of `2^acc_lsb_exponent(e4m3)` (`2^-9`) of the int8 product's scale. `q` is `[T][dh]`, `k`
/// is `[T][dh]` (keys by row).
pub fn lmul_scores(q: &[Vec<i32>], k: &[Vec<i32>]) -> Vec<Vec<i32>> {
    let f = Format::E4M3;
    let enc = |x: &[Vec<i32>]| -> Vec<Vec<u32>> {
        x.iter()
            .map(|r| r.iter().map(|&v| f.from_int(v as i64)).collect())
            .collect()
    };
    let (qe, ke) = (enc(q), enc(k));
    qe.iter()
        .map(|qr| {
            ke.iter()
                .map(|kr| {
                    let r = lmul_dot(f, f.default_l(), Overflow::Saturate, qr, kr);
                    // int8 operands round to at most 128 in e4m3, so every L-Mul product is below
                    // 2^15, 2^24 units of 2^-9: a sum of dh <= 64 of them fits int32.
                    i32::try_from(r.acc).expect("L-Mul scores: sum outside int32")
                })
                .collect()
        })
        .collect()
}

/// One requantization: per-channel `(m, c)` lists (length 1 = the same for every channel).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rq {
    /// Multipliers.
    pub m: Vec<u32>,
    /// Shifts.
    pub c: Vec<u32>,
}

impl Rq {
    /// The channels `r` of a per-channel requantization (a single `(m, c)` stays as it is).
    pub fn slice(&self, r: std::ops::Range<usize>) -> Rq {
        let pick = |v: &[u32]| {
            if v.len() == 1 {
                v.to_vec()
            } else {
                v[r.clone()].to_vec()
            }
        };
        Rq {
            m: pick(&self.m),
            c: pick(&self.c),
        }
    }
}

/// A quantized dense layer: int8 weights `[out][inp]` (per-output-channel scale), int32 bias in the
/// accumulator's scale, and the requantization of the int32 sums.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QLinear {
    /// Output features.
    pub out: usize,
    /// Input features.
    pub inp: usize,
    /// Row-major `[out][inp]`, each in `-127..=127`.
    pub w: Vec<i8>,
    /// `[out]`, int32.
    pub bias: Vec<i32>,
    /// Requantization of the sums (to int8, or the first branch of a residual add).
    pub rq: Rq,
}

impl QLinear {
    /// `W x + b` for each row of `x`, in wrapping int32 (MAC-array semantics).
    pub fn sums(&self, x: &[Vec<i32>]) -> Vec<Vec<i32>> {
        x.iter()
            .map(|row| {
                assert!(
                    row.len() == self.inp,
                    "QLinear: input has {} features, expected {}",
                    row.len(),
                    self.inp
                );
                (0..self.out)
                    .map(|o| {
                        let w = &self.w[o * self.inp..(o + 1) * self.inp];
                        w.iter().zip(row).fold(self.bias[o], |acc, (&w, &x)| {
                            acc.wrapping_add((w as i32).wrapping_mul(x))
                        })
                    })
                    .collect()
            })
            .collect()
    }

    /// The weights as the MAC array's `B` operand (`[inp][out]`, K x N) for a block of output
    /// channels `cols`.
    pub fn b_operand(&self, cols: std::ops::Range<usize>) -> Vec<Vec<i32>> {
        (0..self.inp)
            .map(|k| {
                cols.clone()
                    .map(|o| self.w[o * self.inp + k] as i32)
                    .collect()
            })
            .collect()
    }
}

/// A quantized LayerNorm: the extended I-LayerNorm's per-channel sign and `bias_int`, then the
/// requantizations of its int32 output to int8 and int16.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QNorm {
    /// `true` where `gamma_c < 0`.
    pub negative: Vec<bool>,
    /// `floor((beta_c / |gamma_c|) / (sqrt(C) / 2^30))`, saturated to int32.
    pub bias: Vec<i32>,
    /// To int8 (the next matmul's input); absent after the last block.
    pub to8: Rq,
    /// To int16 (the residual stream).
    pub to16: Rq,
}

/// One quantized encoder block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QBlock {
    /// Query, key, value projections (requantized to int8).
    pub q: QLinear,
    /// Key projection.
    pub k: QLinear,
    /// Value projection.
    pub v: QLinear,
    /// Scores `q_h k_h^T` to int8, one `(m, c)` per head (`1/sqrt(dh)` folded in).
    pub scores: Rq,
    /// Shiftmax's `x0` per head (`floor(-1 / s_scores[h])`).
    pub x0_softmax: Vec<i64>,
    /// Context `p_h v_h` (uint16 x int8) to int8, per channel (`H` entries; head `h` uses its
    /// `dh` columns).
    pub context: Rq,
    /// Output projection; `rq` is the projection branch of the residual add (per channel).
    pub o: QLinear,
    /// The residual branch of the first residual add (`x16` into the sum's scale).
    pub res1: Rq,
    /// First LayerNorm.
    pub ln1: QNorm,
    /// Feed-forward up projection (requantized to int8, GELU's input).
    pub f1: QLinear,
    /// ShiftGELU's `x0` (`floor(-1 / (s_g * 1.702))`).
    pub x0_gelu: i64,
    /// ShiftGELU's int16 output to int8.
    pub gelu: Rq,
    /// Down projection; `rq` is the first branch of the second residual add.
    pub f2: QLinear,
    /// The residual branch of the second residual add (`h16`).
    pub res2: Rq,
    /// Second LayerNorm (its `to8`/`to16` feed the next block).
    pub ln2: QNorm,
}

/// A quantized model: every integer constant the hardware needs, plus the float scales it came from
/// (for reports) and the final dequantization.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// Hidden size `H`.
    pub hidden: usize,
    /// Attention heads.
    pub heads: usize,
    /// Feed-forward size `F`.
    pub ffn: usize,
    /// Vocabulary size.
    pub vocab: usize,
    /// Position table length.
    pub max_positions: usize,
    /// LayerNorm's square root.
    pub sqrt: SqrtMode,
    /// Rounding of every requantization.
    pub rounding: Rounding,
    /// How the attention scores are multiplied.
    pub scores: ScoresArith,
    /// Word embeddings, int16 `[vocab][H]`, scale `s_embed`.
    pub emb_word: Vec<i16>,
    /// Position (+ token type 0) embeddings, int16 `[max_positions][H]`, scale `s_embed`.
    pub emb_pos: Vec<i16>,
    /// The embeddings' LayerNorm.
    pub emb_ln: QNorm,
    /// The blocks.
    pub blocks: Vec<QBlock>,
    /// Per channel: the float value of one unit of the last LayerNorm's int32 output
    /// (`sqrt(H) / 2^30 * |gamma_c|`, its sign folded into the integer).
    pub out_scale: Vec<f64>,
}

/// Why a token sequence cannot be run.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// No tokens.
    #[error("the sentence has no tokens")]
    Empty,
    /// More tokens than positions.
    #[error("{len} tokens, more than the {max} positions of the model")]
    TooLong {
        /// Tokens given.
        len: usize,
        /// Position table length.
        max: usize,
    },
    /// A token id outside the vocabulary.
    #[error("token id {id} (position {pos}) outside the vocabulary of {vocab}")]
    Token {
        /// The id.
        id: u32,
        /// Its position.
        pos: usize,
        /// Vocabulary size.
        vocab: usize,
    },
}

/// The int8 and int16 views of a LayerNorm output, and the int32 output itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Normed {
    /// LayerNorm output, int32, `[T][H]`.
    pub y: Vec<Vec<i32>>,
    /// Requantized to int8.
    pub x8: Vec<Vec<i32>>,
    /// Requantized to int16.
    pub x16: Vec<Vec<i32>>,
}

fn requant_rows_rq(x: &[Vec<i32>], rq: &Rq, bits: u32, rounding: Rounding) -> Vec<Vec<i32>> {
    requant_rows(x, &rq.m, &rq.c, bits, rounding)
}

fn residual(x: &[Vec<i32>], z: &[Vec<i32>], rq: &Rq, rz: &Rq, rounding: Rounding) -> Vec<Vec<i32>> {
    requant_add_rows(x, z, &rq.m, &rq.c, &rz.m, &rz.c, 16, rounding)
}

/// The extended I-LayerNorm over rows, then its int8 and int16 requantizations.
pub fn norm(x: &[Vec<i32>], n: &QNorm, sqrt: SqrtMode, rounding: Rounding) -> Normed {
    let y: Vec<Vec<i32>> = x
        .iter()
        .map(|row| {
            layernorm_signed(row, &n.bias, &n.negative, sqrt)
                .into_iter()
                .map(|v| v as i32)
                .collect()
        })
        .collect();
    Normed {
        x8: requant_rows_rq(&y, &n.to8, 8, rounding),
        x16: requant_rows_rq(&y, &n.to16, 16, rounding),
        y,
    }
}

/// Everything one block computes, in order (the hardware check compares these tile by tile).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockTrace {
    /// `q`, `k`, `v` (int8, `[T][H]`).
    pub q: Vec<Vec<i32>>,
    /// Keys.
    pub k: Vec<Vec<i32>>,
    /// Values.
    pub v: Vec<Vec<i32>>,
    /// Per head: int8 scores `[T][T]`.
    pub scores: Vec<Vec<Vec<i32>>>,
    /// Per head: uint16 probabilities `[T][T]`.
    pub probs: Vec<Vec<Vec<i32>>>,
    /// Context, int8 `[T][H]` (heads concatenated).
    pub context: Vec<Vec<i32>>,
    /// First residual, int16.
    pub r1: Vec<Vec<i32>>,
    /// First LayerNorm and its requantizations.
    pub h1: Normed,
    /// GELU's input, int16 `[T][F]` (scale `s_g`).
    pub f1_wide: Vec<Vec<i32>>,
    /// ShiftGELU's input, int8 `[T][F]` (`f1_wide` saturated).
    pub f1: Vec<Vec<i32>>,
    /// GELU's output requantized to int16 and offset by [`GELU_OFFSET`]: the down projection's
    /// unsigned 16-bit `A` operand, `[T][F]`.
    pub ga: Vec<Vec<i32>>,
    /// Second residual, int16.
    pub r2: Vec<Vec<i32>>,
    /// Second LayerNorm and its requantizations: the block's output.
    pub out: Normed,
}

fn transpose(x: &[Vec<i32>]) -> Vec<Vec<i32>> {
    let cols = x.first().map_or(0, Vec::len);
    (0..cols)
        .map(|j| x.iter().map(|r| r[j]).collect())
        .collect()
}

fn cols(x: &[Vec<i32>], r: std::ops::Range<usize>) -> Vec<Vec<i32>> {
    x.iter().map(|row| row[r.clone()].to_vec()).collect()
}

/// ShiftGELU with a linear tail (`docs/model.md`, "GELU with a linear tail"): the int16 input `u`
/// (scale `s_g`) is saturated to int8 for ShiftGELU, and what saturation cut off above is added
/// back, where GELU is the identity: `g = shiftgelu(sat8(u)) + 128 * max(u - 127, 0)` (scale
/// `s_g / 128`), [`shiftgelu_tail`] row by row (the hardware: `shiftgelu` with `in_bits = 16`).
/// Returns the int8 ShiftGELU input `sat8(u)` (for the trace) and `g`.
pub fn gelu_with_tail(u: &[Vec<i32>], x0: i64) -> (Vec<Vec<i32>>, Vec<Vec<i32>>) {
    let x8 = u
        .iter()
        .map(|row| row.iter().map(|&v| sat8(v)).collect())
        .collect();
    let g = u
        .iter()
        .map(|row| {
            shiftgelu_tail(row, x0, SHIFTGELU_N)
                .into_iter()
                .map(|g| g as i32)
                .collect()
        })
        .collect();
    (x8, g)
}

/// One encoder block on the int8 / int16 views of its input.
pub fn block(p: &Program, b: &QBlock, x8: &[Vec<i32>], x16: &[Vec<i32>]) -> BlockTrace {
    let rnd = p.rounding;
    let dh = p.hidden / p.heads;
    let q = requant_rows_rq(&b.q.sums(x8), &b.q.rq, 8, rnd);
    let k = requant_rows_rq(&b.k.sums(x8), &b.k.rq, 8, rnd);
    let v = requant_rows_rq(&b.v.sums(x8), &b.v.rq, 8, rnd);
    let t = x8.len();
    let mut scores = Vec::with_capacity(p.heads);
    let mut probs = Vec::with_capacity(p.heads);
    let mut context = vec![Vec::with_capacity(p.hidden); t];
    for h in 0..p.heads {
        let r = h * dh..(h + 1) * dh;
        let qh = cols(&q, r.clone());
        let kt = transpose(&cols(&k, r.clone()));
        let rq = b.scores.slice(h..h + 1);
        let s = match p.scores {
            ScoresArith::Int8 => {
                let s = crate::mac_array::tile(&qh, &kt, &vec![0; t], None);
                requant_rows_rq(&s, &rq, 8, rnd)
            }
            ScoresArith::LmulE4m3 => {
                let s = lmul_scores(&qh, &cols(&k, r.clone()));
                let shift = (-acc_lsb_exponent(Format::E4M3)) as u32;
                let rq = Rq {
                    m: rq.m,
                    c: rq.c.iter().map(|&c| c + shift).collect(),
                };
                requant_rows_rq(&s, &rq, 8, rnd)
            }
        };
        let x0 = b.x0_softmax[if b.x0_softmax.len() == 1 { 0 } else { h }];
        let pr: Vec<Vec<i32>> = s
            .iter()
            .map(|row| {
                shiftmax(row, x0, SHIFTMAX_N, SHIFTMAX_BITS)
                    .into_iter()
                    .map(|v| v as i32)
                    .collect()
            })
            .collect();
        let c = crate::mac_array::tile(&pr, &cols(&v, r.clone()), &vec![0; dh], None);
        let c = requant_rows_rq(&c, &b.context.slice(r.clone()), 8, rnd);
        for (dst, src) in context.iter_mut().zip(c) {
            dst.extend(src);
        }
        scores.push(s);
        probs.push(pr);
    }
    let r1 = residual(&b.o.sums(&context), x16, &b.o.rq, &b.res1, rnd);
    let h1 = norm(&r1, &b.ln1, p.sqrt, rnd);
    let f1_wide = requant_rows_rq(&b.f1.sums(&h1.x8), &b.f1.rq, 16, rnd);
    let (f1, g) = gelu_with_tail(&f1_wide, b.x0_gelu);
    let ga = requant_rows_rq(&g, &b.gelu, 16, rnd)
        .into_iter()
        .map(|row| row.into_iter().map(|v| v + GELU_OFFSET).collect())
        .collect::<Vec<Vec<i32>>>();
    let r2 = residual(&b.f2.sums(&ga), &h1.x16, &b.f2.rq, &b.res2, rnd);
    let out = norm(&r2, &b.ln2, p.sqrt, rnd);
    BlockTrace {
        q,
        k,
        v,
        scores,
        probs,
        context,
        r1,
        h1,
        f1_wide,
        f1,
        ga,
        r2,
        out,
    }
}

impl Program {
    /// Checks a token sequence against the vocabulary and the position table.
    pub fn check_tokens(&self, tokens: &[u32]) -> Result<(), EncodeError> {
        if tokens.is_empty() {
            return Err(EncodeError::Empty);
        }
        if tokens.len() > self.max_positions {
            return Err(EncodeError::TooLong {
                len: tokens.len(),
                max: self.max_positions,
            });
        }
        if let Some((pos, &id)) = tokens
            .iter()
            .enumerate()
            .find(|(_, &t)| t as usize >= self.vocab)
        {
            return Err(EncodeError::Token {
                id,
                pos,
                vocab: self.vocab,
            });
        }
        Ok(())
    }

    /// The int16 embedding rows: `sat16(emb_word[id] + emb_pos[p])`.
    pub fn embeddings(&self, tokens: &[u32]) -> Vec<Vec<i32>> {
        let h = self.hidden;
        tokens
            .iter()
            .enumerate()
            .map(|(p, &id)| {
                (0..h)
                    .map(|c| {
                        let v = self.emb_word[id as usize * h + c] as i32
                            + self.emb_pos[p * h + c] as i32;
                        v.clamp(-32768, 32767)
                    })
                    .collect()
            })
            .collect()
    }

    /// The embeddings' LayerNorm output (the first block's input).
    pub fn embed_norm(&self, tokens: &[u32]) -> Normed {
        norm(
            &self.embeddings(tokens),
            &self.emb_ln,
            self.sqrt,
            self.rounding,
        )
    }

    /// The last LayerNorm's int32 output, `[T][H]`, after every block.
    pub fn forward(&self, tokens: &[u32]) -> Result<Vec<Vec<i32>>, EncodeError> {
        self.check_tokens(tokens)?;
        let mut x = self.embed_norm(tokens);
        for b in &self.blocks {
            x = block(self, b, &x.x8, &x.x16).out;
        }
        Ok(x.y)
    }

    /// The sentence embedding: the integer sum over tokens of the last LayerNorm's output, then the
    /// only float step: per-channel dequantization and L2 normalization.
    pub fn embed(&self, tokens: &[u32]) -> Result<Vec<f32>, EncodeError> {
        let y = self.forward(tokens)?;
        let pooled: Vec<f64> = (0..self.hidden)
            .map(|c| y.iter().map(|t| t[c] as i64).sum::<i64>() as f64 * self.out_scale[c])
            .collect();
        let norm = pooled.iter().map(|v| v * v).sum::<f64>().sqrt();
        Ok(pooled
            .iter()
            .map(|v| if norm > 0.0 { (v / norm) as f32 } else { 0.0 })
            .collect())
    }
}
