//! Float reference of a BERT encoder (all-MiniLM-L6-v2 and models of its shape): the forward pass the
//! integer encoder ([`crate::encoder`]) is measured against, written out in plain `f32` Rust.
//!
//! It is the model as trained, not an approximation: post-LayerNorm BERT blocks (self-attention with
//! `1/sqrt(head_dim)` scaling, erf GELU, LayerNorm with the config's `eps`), token type 0 everywhere,
//! then sentence-transformers' pooling (mean over the tokens, L2 normalization). Weights come from the
//! model's `model.safetensors` ([`BertWeights::from_safetensors`], the Hugging Face tensor names) and
//! its `config.json` ([`BertConfig::from_json`]).
//!
//! [`forward`] takes an [`Observer`] that sees every activation the integer pipeline quantizes (one
//! [`Site`] each): that is how [`crate::quantize`] calibrates its activation scales.

use std::collections::HashMap;

use safetensors::{Dtype, SafeTensors};

/// Why a model's files are rejected.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// `config.json` is not what a BERT encoder of this kind has.
    #[error("config.json: {0}")]
    Config(String),
    /// The safetensors file cannot be parsed.
    #[error("model.safetensors: {0}")]
    Format(String),
    /// A tensor the model needs is not in the file.
    #[error("model.safetensors: tensor `{0}` is missing")]
    Missing(String),
    /// A tensor has another shape than the config implies.
    #[error("model.safetensors: tensor `{name}` has shape {found:?}, expected {expected:?}")]
    Shape {
        /// Tensor name.
        name: String,
        /// Shape the config implies.
        expected: Vec<usize>,
        /// Shape in the file.
        found: Vec<usize>,
    },
    /// A tensor is not float32.
    #[error("model.safetensors: tensor `{name}` is {found}, expected F32")]
    Dtype {
        /// Tensor name.
        name: String,
        /// Its dtype.
        found: String,
    },
}

/// The hyper-parameters of a BERT encoder (the fields of Hugging Face's `config.json` that matter).
#[derive(Clone, Debug, PartialEq)]
pub struct BertConfig {
    /// `hidden_size` (384 for MiniLM-L6).
    pub hidden: usize,
    /// `num_attention_heads` (12).
    pub heads: usize,
    /// `num_hidden_layers` (6).
    pub layers: usize,
    /// `intermediate_size` (1536).
    pub ffn: usize,
    /// `vocab_size` (30522).
    pub vocab: usize,
    /// `max_position_embeddings` (512).
    pub max_positions: usize,
    /// `type_vocab_size` (2).
    pub type_vocab: usize,
    /// `layer_norm_eps` (1e-12).
    pub ln_eps: f64,
}

impl BertConfig {
    /// Parses a Hugging Face `config.json`. Refuses what this reference does not implement: another
    /// `hidden_act` than `gelu`, relative position embeddings, a hidden size not divisible by the head
    /// count.
    pub fn from_json(text: &str) -> Result<BertConfig, ModelError> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ModelError::Config(e.to_string()))?;
        let int = |key: &str| -> Result<usize, ModelError> {
            v.get(key)
                .and_then(serde_json::Value::as_u64)
                .filter(|&n| n > 0)
                .map(|n| n as usize)
                .ok_or_else(|| {
                    ModelError::Config(format!("`{key}` missing or not a positive integer"))
                })
        };
        let act = v
            .get("hidden_act")
            .and_then(|a| a.as_str())
            .unwrap_or("gelu");
        if act != "gelu" {
            return Err(ModelError::Config(format!(
                "hidden_act `{act}` is not supported (only `gelu`, the erf GELU)"
            )));
        }
        let pos = v
            .get("position_embedding_type")
            .and_then(|a| a.as_str())
            .unwrap_or("absolute");
        if pos != "absolute" {
            return Err(ModelError::Config(format!(
                "position_embedding_type `{pos}` is not supported (only `absolute`)"
            )));
        }
        let c = BertConfig {
            hidden: int("hidden_size")?,
            heads: int("num_attention_heads")?,
            layers: int("num_hidden_layers")?,
            ffn: int("intermediate_size")?,
            vocab: int("vocab_size")?,
            max_positions: int("max_position_embeddings")?,
            type_vocab: int("type_vocab_size")?,
            ln_eps: v
                .get("layer_norm_eps")
                .and_then(|e| e.as_f64())
                .unwrap_or(1e-12),
        };
        if !c.hidden.is_multiple_of(c.heads) {
            return Err(ModelError::Config(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                c.hidden, c.heads
            )));
        }
        Ok(c)
    }

    /// `hidden / heads` (32 for MiniLM-L6).
    pub fn head_dim(&self) -> usize {
        self.hidden / self.heads
    }
}

/// A dense layer `y = W x + b`, `W` stored as PyTorch does: `out` rows of `inp` weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    /// Output features.
    pub out: usize,
    /// Input features.
    pub inp: usize,
    /// Row-major `[out][inp]`.
    pub w: Vec<f32>,
    /// `[out]`.
    pub b: Vec<f32>,
}

impl Linear {
    /// Row `o` of the weight matrix (the weights of output feature `o`).
    pub fn row(&self, o: usize) -> &[f32] {
        &self.w[o * self.inp..(o + 1) * self.inp]
    }

    /// `W x + b` for one token.
    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        (0..self.out)
            .map(|o| dot(self.row(o), x) + self.b[o])
            .collect()
    }
}

/// LayerNorm's affine parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Norm {
    /// `weight` (gamma).
    pub gamma: Vec<f32>,
    /// `bias` (beta).
    pub beta: Vec<f32>,
}

/// One encoder block's weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// Query projection.
    pub q: Linear,
    /// Key projection.
    pub k: Linear,
    /// Value projection.
    pub v: Linear,
    /// Attention output projection.
    pub o: Linear,
    /// LayerNorm after the attention residual.
    pub ln1: Norm,
    /// Feed-forward up projection (`hidden -> ffn`).
    pub f1: Linear,
    /// Feed-forward down projection (`ffn -> hidden`).
    pub f2: Linear,
    /// LayerNorm after the feed-forward residual.
    pub ln2: Norm,
}

/// A BERT encoder's weights (the pooler is not used: sentence-transformers pools the tokens).
#[derive(Clone, Debug, PartialEq)]
pub struct BertWeights {
    /// The hyper-parameters.
    pub config: BertConfig,
    /// Word embeddings, `[vocab][hidden]`.
    pub word: Vec<f32>,
    /// Position embeddings, `[max_positions][hidden]`.
    pub pos: Vec<f32>,
    /// Token-type embeddings, `[type_vocab][hidden]` (only type 0 is used).
    pub typ: Vec<f32>,
    /// The embeddings' LayerNorm.
    pub emb_ln: Norm,
    /// The encoder blocks.
    pub layers: Vec<Layer>,
}

fn tensor(st: &SafeTensors, name: &str, shape: &[usize]) -> Result<Vec<f32>, ModelError> {
    let t = st
        .tensor(name)
        .map_err(|_| ModelError::Missing(name.to_string()))?;
    if t.dtype() != Dtype::F32 {
        return Err(ModelError::Dtype {
            name: name.to_string(),
            found: format!("{:?}", t.dtype()),
        });
    }
    if t.shape() != shape {
        return Err(ModelError::Shape {
            name: name.to_string(),
            expected: shape.to_vec(),
            found: t.shape().to_vec(),
        });
    }
    Ok(t.data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

impl BertWeights {
    /// Reads the weights from a safetensors file's bytes, by the Hugging Face `BertModel` names
    /// (with or without a `bert.` prefix), checking every shape against `config`.
    pub fn from_safetensors(bytes: &[u8], config: BertConfig) -> Result<BertWeights, ModelError> {
        let st = SafeTensors::deserialize(bytes).map_err(|e| ModelError::Format(e.to_string()))?;
        let prefix = if st.tensor("bert.embeddings.word_embeddings.weight").is_ok() {
            "bert."
        } else {
            ""
        };
        let (h, f) = (config.hidden, config.ffn);
        let t = |name: &str, shape: &[usize]| tensor(&st, &format!("{prefix}{name}"), shape);
        let linear = |name: &str, out: usize, inp: usize| -> Result<Linear, ModelError> {
            Ok(Linear {
                out,
                inp,
                w: t(&format!("{name}.weight"), &[out, inp])?,
                b: t(&format!("{name}.bias"), &[out])?,
            })
        };
        let norm = |name: &str| -> Result<Norm, ModelError> {
            Ok(Norm {
                gamma: t(&format!("{name}.weight"), &[h])?,
                beta: t(&format!("{name}.bias"), &[h])?,
            })
        };
        let mut layers = Vec::with_capacity(config.layers);
        for l in 0..config.layers {
            let p = format!("encoder.layer.{l}");
            layers.push(Layer {
                q: linear(&format!("{p}.attention.self.query"), h, h)?,
                k: linear(&format!("{p}.attention.self.key"), h, h)?,
                v: linear(&format!("{p}.attention.self.value"), h, h)?,
                o: linear(&format!("{p}.attention.output.dense"), h, h)?,
                ln1: norm(&format!("{p}.attention.output.LayerNorm"))?,
                f1: linear(&format!("{p}.intermediate.dense"), f, h)?,
                f2: linear(&format!("{p}.output.dense"), h, f)?,
                ln2: norm(&format!("{p}.output.LayerNorm"))?,
            });
        }
        Ok(BertWeights {
            word: t("embeddings.word_embeddings.weight", &[config.vocab, h])?,
            pos: t(
                "embeddings.position_embeddings.weight",
                &[config.max_positions, h],
            )?,
            typ: t(
                "embeddings.token_type_embeddings.weight",
                &[config.type_vocab, h],
            )?,
            emb_ln: norm("embeddings.LayerNorm")?,
            layers,
            config,
        })
    }

    /// The summed embedding of token `id` at position `p` (word + position + token type 0), the input
    /// of the embeddings' LayerNorm.
    pub fn embedding(&self, id: u32, p: usize) -> Vec<f32> {
        let h = self.config.hidden;
        let (id, p) = (id as usize, p);
        (0..h)
            .map(|c| self.word[id * h + c] + self.pos[p * h + c] + self.typ[c])
            .collect()
    }

    /// Checks a token sequence against the vocabulary and the position table.
    pub fn check_tokens(&self, tokens: &[u32]) -> Result<(), String> {
        if tokens.is_empty() {
            return Err("no tokens".into());
        }
        if tokens.len() > self.config.max_positions {
            return Err(format!(
                "{} tokens, more than max_position_embeddings = {}",
                tokens.len(),
                self.config.max_positions
            ));
        }
        if let Some(t) = tokens.iter().find(|&&t| t as usize >= self.config.vocab) {
            return Err(format!(
                "token id {t} outside the vocabulary (size {})",
                self.config.vocab
            ));
        }
        Ok(())
    }
}

/// Where in a block an activation is quantized by the integer pipeline (and seen by an [`Observer`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Site {
    /// The summed embeddings, input of the embeddings' LayerNorm (layer index 0).
    Embed,
    /// A block's input: the previous LayerNorm's output (layer `l` for block `l`; `layers` for the
    /// final output).
    Input,
    /// Query projection output.
    Q,
    /// Key projection output.
    K,
    /// Value projection output.
    V,
    /// Attention scores `q.k / sqrt(head_dim)`, before softmax.
    Scores,
    /// Attention context `softmax(scores) V` (all heads, concatenated).
    Context,
    /// `input + attention output projection`: the first LayerNorm's input.
    AttnResidual,
    /// The first LayerNorm's output.
    Ln1,
    /// Feed-forward up projection output, GELU's input.
    Ffn1,
    /// GELU's output, the down projection's input.
    Gelu,
    /// `ln1 output + down projection`: the second LayerNorm's input.
    FfnResidual,
}

/// Sees activations during [`forward`]: `values` is one token's vector at `site` of block `layer`
/// (for [`Site::Scores`], one query token's scores over all keys, for one head).
pub trait Observer {
    /// Called once per token (and head, for scores) and site.
    fn see(&mut self, site: Site, layer: usize, values: &[f32]);

    /// Called for one head's scores of one query token ([`Site::Scores`]); by default [`see`].
    ///
    /// [`see`]: Observer::see
    fn see_head(&mut self, layer: usize, head: usize, values: &[f32]) {
        let _ = head;
        self.see(Site::Scores, layer, values);
    }
}

/// An observer that ignores everything.
pub struct NoObserver;

impl Observer for NoObserver {
    fn see(&mut self, _: Site, _: usize, _: &[f32]) {}
}

/// `sum a_i b_i` in f32 with eight partial sums (the order a vectorizing BLAS would use; results
/// differ from a sequential sum in the last bits only).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 8];
    let chunks = n / 8;
    for i in 0..chunks {
        for j in 0..8 {
            acc[j] += a[8 * i + j] * b[8 * i + j];
        }
    }
    let mut s = 0f32;
    for v in acc {
        s += v;
    }
    for i in chunks * 8..n {
        s += a[i] * b[i];
    }
    s
}

/// LayerNorm of one vector: `(x - mean) / sqrt(var + eps) * gamma + beta` (population variance).
pub fn layer_norm(x: &[f32], n: &Norm, eps: f64) -> Vec<f32> {
    let c = x.len() as f32;
    let mean = x.iter().sum::<f32>() / c;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / c;
    let inv = 1.0 / (var + eps as f32).sqrt();
    x.iter()
        .zip(n.gamma.iter().zip(&n.beta))
        .map(|(v, (g, b))| (v - mean) * inv * g + b)
        .collect()
}

/// The erf GELU, `x/2 (1 + erf(x / sqrt 2))` (BERT's `gelu`).
pub fn gelu(x: f32) -> f32 {
    let x = x as f64;
    (0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))) as f32
}

/// Softmax of one row, in place (max subtracted first).
pub fn softmax(row: &mut [f32]) {
    let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut s = 0f32;
    for v in row.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    for v in row.iter_mut() {
        *v /= s;
    }
}

/// The encoder's last hidden states, one vector per token, for a sentence of token ids (token type 0,
/// no padding: one sentence at a time), reporting every quantized activation to `obs`.
///
/// # Panics
/// If a token id is outside the vocabulary or the sentence is longer than the position table (check
/// with [`BertWeights::check_tokens`]).
pub fn forward(w: &BertWeights, tokens: &[u32], obs: &mut dyn Observer) -> Vec<Vec<f32>> {
    if let Err(e) = w.check_tokens(tokens) {
        panic!("bert_float::forward: {e}");
    }
    let cfg = &w.config;
    let (heads, dh) = (cfg.heads, cfg.head_dim());
    let eps = cfg.ln_eps;
    let mut h: Vec<Vec<f32>> = tokens
        .iter()
        .enumerate()
        .map(|(p, &id)| {
            let e = w.embedding(id, p);
            obs.see(Site::Embed, 0, &e);
            layer_norm(&e, &w.emb_ln, eps)
        })
        .collect();
    let scale = 1.0 / (dh as f32).sqrt();
    for (l, lw) in w.layers.iter().enumerate() {
        for x in &h {
            obs.see(Site::Input, l, x);
        }
        let proj = |lin: &Linear, site: Site, obs: &mut dyn Observer, x: &[Vec<f32>]| {
            x.iter()
                .map(|t| {
                    let y = lin.apply(t);
                    obs.see(site, l, &y);
                    y
                })
                .collect::<Vec<_>>()
        };
        let q = proj(&lw.q, Site::Q, obs, &h);
        let k = proj(&lw.k, Site::K, obs, &h);
        let v = proj(&lw.v, Site::V, obs, &h);
        let n = tokens.len();
        let mut ctx = vec![vec![0f32; cfg.hidden]; n];
        for hd in 0..heads {
            let r = hd * dh..(hd + 1) * dh;
            for i in 0..n {
                let mut s: Vec<f32> = (0..n)
                    .map(|j| dot(&q[i][r.clone()], &k[j][r.clone()]) * scale)
                    .collect();
                obs.see_head(l, hd, &s);
                softmax(&mut s);
                for (j, p) in s.iter().enumerate() {
                    for (c, vv) in r.clone().zip(&v[j][r.clone()]) {
                        ctx[i][c] += p * vv;
                    }
                }
            }
        }
        for c in &ctx {
            obs.see(Site::Context, l, c);
        }
        let h1: Vec<Vec<f32>> = ctx
            .iter()
            .zip(&h)
            .map(|(c, x)| {
                let a = lw.o.apply(c);
                let r: Vec<f32> = a.iter().zip(x).map(|(a, x)| a + x).collect();
                obs.see(Site::AttnResidual, l, &r);
                let y = layer_norm(&r, &lw.ln1, eps);
                obs.see(Site::Ln1, l, &y);
                y
            })
            .collect();
        h = h1
            .iter()
            .map(|x| {
                let u = lw.f1.apply(x);
                obs.see(Site::Ffn1, l, &u);
                let g: Vec<f32> = u.iter().map(|&u| gelu(u)).collect();
                obs.see(Site::Gelu, l, &g);
                let d = lw.f2.apply(&g);
                let r: Vec<f32> = d.iter().zip(x).map(|(d, x)| d + x).collect();
                obs.see(Site::FfnResidual, l, &r);
                layer_norm(&r, &lw.ln2, eps)
            })
            .collect();
    }
    for x in &h {
        obs.see(Site::Input, cfg.layers, x);
    }
    h
}

/// sentence-transformers' pooling: the mean of the token vectors, L2-normalized (a zero mean stays
/// zero).
pub fn mean_pool_normalize(hidden: &[Vec<f32>]) -> Vec<f32> {
    let n = hidden.len().max(1) as f64;
    let dim = hidden.first().map_or(0, Vec::len);
    let mean: Vec<f64> = (0..dim)
        .map(|c| hidden.iter().map(|t| t[c] as f64).sum::<f64>() / n)
        .collect();
    let norm = mean.iter().map(|v| v * v).sum::<f64>().sqrt();
    mean.iter()
        .map(|v| if norm > 0.0 { (v / norm) as f32 } else { 0.0 })
        .collect()
}

/// The sentence embedding: [`forward`], then [`mean_pool_normalize`].
pub fn embed(w: &BertWeights, tokens: &[u32]) -> Vec<f32> {
    mean_pool_normalize(&forward(w, tokens, &mut NoObserver))
}

/// Cosine similarity of two vectors (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (*x as f64, *y as f64);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        ab / (aa.sqrt() * bb.sqrt())
    }
}

/// Magnitude statistics of one activation: the largest `|x|` and a histogram of `|x|` on a log
/// scale (64 bins per octave from `2^-24` to `2^40`), enough for percentiles to within 1.1%.
#[derive(Clone, Debug)]
pub struct Magnitudes {
    /// Largest `|x|` seen.
    pub max: f32,
    /// Values seen.
    pub count: u64,
    /// Largest `|x|` by position in the observed vectors (by channel, for per-token vectors).
    pub channel_max: Vec<f32>,
    bins: Vec<u64>,
}

const BINS_PER_OCTAVE: f64 = 64.0;
const LOG2_LO: f64 = -24.0;
const OCTAVES: usize = 64;

impl Default for Magnitudes {
    fn default() -> Self {
        Magnitudes {
            max: 0.0,
            count: 0,
            channel_max: Vec::new(),
            bins: vec![0; OCTAVES * BINS_PER_OCTAVE as usize + 1],
        }
    }
}

impl Magnitudes {
    fn bin(a: f32) -> usize {
        if a <= 0.0 {
            return 0;
        }
        let b = ((a as f64).log2() - LOG2_LO) * BINS_PER_OCTAVE;
        (b.max(0.0) as usize + 1).min(OCTAVES * BINS_PER_OCTAVE as usize)
    }

    /// Adds values.
    pub fn add(&mut self, values: &[f32]) {
        if self.channel_max.len() < values.len() {
            self.channel_max.resize(values.len(), 0.0);
        }
        for (m, v) in self.channel_max.iter_mut().zip(values) {
            *m = m.max(v.abs());
        }
        for &v in values {
            let a = v.abs();
            self.max = self.max.max(a);
            self.count += 1;
            self.bins[Self::bin(a)] += 1;
        }
    }

    /// The `q` quantile of `|x|` (`q` in `[0, 1]`; 1 gives the maximum): the upper edge of the
    /// histogram bin holding it, never above the maximum.
    pub fn quantile(&self, q: f64) -> f32 {
        if q >= 1.0 || self.count == 0 {
            return self.max;
        }
        let want = (q * self.count as f64).ceil() as u64;
        let mut seen = 0u64;
        for (i, &n) in self.bins.iter().enumerate() {
            seen += n;
            if seen >= want.max(1) {
                if i == 0 {
                    return 0.0;
                }
                let edge = (i as f64 / BINS_PER_OCTAVE + LOG2_LO).exp2() as f32;
                return edge.min(self.max);
            }
        }
        self.max
    }
}

/// Per-site magnitude statistics over everything an observer sees, by `(site, layer)`.
#[derive(Clone, Debug, Default)]
pub struct ActivationStats {
    /// `(site, layer) -> statistics`.
    pub sites: HashMap<(Site, usize), Magnitudes>,
    /// `(layer, head) -> statistics` of the attention scores.
    pub heads: HashMap<(usize, usize), Magnitudes>,
}

impl Observer for ActivationStats {
    fn see(&mut self, site: Site, layer: usize, values: &[f32]) {
        self.sites.entry((site, layer)).or_default().add(values);
    }

    fn see_head(&mut self, layer: usize, head: usize, values: &[f32]) {
        self.see(Site::Scores, layer, values);
        self.heads.entry((layer, head)).or_default().add(values);
    }
}
