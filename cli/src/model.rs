//! `itx quantize` and `itx model ...`: all-MiniLM-L6-v2 through the integer pipeline.
//!
//! The model's files (`config.json`, `model.safetensors`, `tokenizer.json`) come from the cache folder
//! `scripts/fetch-model.sh` fills (`make model`, called by `make setup`): `--model DIR`, else
//! `$ITX_MODEL_DIR`, else `$HOME/.cache/itx/all-MiniLM-L6-v2`. Tokenization uses the model's own
//! `tokenizer.json` (the `tokenizers` crate), without padding and truncated at 256 tokens as
//! sentence-transformers does. The float reference is `golden::bert_float` (plain Rust); the
//! candle-transformers BERT is run beside it as an independent check.
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use golden::bert_float::{self, BertConfig, BertWeights};
use golden::encoder::{Program, ScoresArith};
use golden::layernorm::SqrtMode;
use golden::quantize::{self, QuantOptions};

/// The calibration sentences committed with the code (`cli/data/calibration.txt`).
pub const CALIBRATION: &str = include_str!("../data/calibration.txt");
/// The evaluation sentences (`cli/data/eval.txt`), disjoint from the calibration set; groups of 4
/// related sentences on consecutive lines.
pub const EVALUATION: &str = include_str!("../data/eval.txt");
/// sentence-transformers' `max_seq_length` for this model.
pub const MAX_TOKENS: usize = 256;
/// Where `itx quantize` writes the program unless told otherwise.
pub const DEFAULT_PROGRAM: &str = "build/model/minilm.itxp";

/// The model folder: `dir`, else `$ITX_MODEL_DIR`, else `$HOME/.cache/itx/all-MiniLM-L6-v2`.
pub fn model_dir(dir: Option<&Path>) -> Result<PathBuf> {
    if let Some(d) = dir {
        return Ok(d.to_path_buf());
    }
    if let Some(d) = std::env::var_os("ITX_MODEL_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("neither --model, ITX_MODEL_DIR nor HOME is set: cannot find the model folder")?;
    Ok(Path::new(&home).join(".cache/itx/all-MiniLM-L6-v2"))
}

fn read_model_file(dir: &Path, name: &str) -> Result<Vec<u8>> {
    let path = dir.join(name);
    std::fs::read(&path).with_context(|| {
        format!(
            "cannot read {} (fetch the model with `make model`, or point --model / ITX_MODEL_DIR at a folder with config.json, model.safetensors and tokenizer.json)",
            path.display()
        )
    })
}

/// The float weights of the model in `dir`.
pub fn load_weights(dir: &Path) -> Result<BertWeights> {
    let cfg = String::from_utf8(read_model_file(dir, "config.json")?)
        .with_context(|| format!("{}: not UTF-8", dir.join("config.json").display()))?;
    let config = BertConfig::from_json(&cfg)
        .with_context(|| format!("in {}", dir.join("config.json").display()))?;
    let bytes = read_model_file(dir, "model.safetensors")?;
    BertWeights::from_safetensors(&bytes, config)
        .with_context(|| format!("in {}", dir.join("model.safetensors").display()))
}

/// The model's tokenizer (no padding, truncation at [`MAX_TOKENS`]).
pub struct Tokenizer(tokenizers::Tokenizer);

impl Tokenizer {
    /// Loads `tokenizer.json` from the model folder.
    pub fn load(dir: &Path) -> Result<Tokenizer> {
        let path = dir.join("tokenizer.json");
        let bytes = read_model_file(dir, "tokenizer.json")?;
        let mut t = tokenizers::Tokenizer::from_bytes(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        t.with_padding(None);
        t.with_truncation(Some(tokenizers::TruncationParams {
            max_length: MAX_TOKENS,
            ..Default::default()
        }))
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(Tokenizer(t))
    }

    /// Token ids of one sentence, with `[CLS]` and `[SEP]`.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .0
            .encode(text, true)
            .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
        Ok(enc.get_ids().to_vec())
    }
}

/// Sentences of a text: one per line, blank lines and lines starting with `#` skipped.
pub fn sentences(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Reads a sentence file ([`sentences`]); an empty file is an error naming it.
pub fn read_sentences(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read sentence file {}", path.display()))?;
    let s = sentences(&text);
    if s.is_empty() {
        bail!(
            "{}: no sentences (one per line; blank and # lines are skipped)",
            path.display()
        );
    }
    Ok(s)
}

/// Loads a program file.
pub fn load_program(path: &Path) -> Result<Program> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "cannot read program {} (make one with `itx quantize --out {}`)",
            path.display(),
            path.display()
        )
    })?;
    golden::program::from_bytes(&bytes).with_context(|| format!("program {}", path.display()))
}

/// `itx quantize`.
pub struct QuantizeArgs<'a> {
    pub model: Option<&'a Path>,
    pub calibration: Option<&'a Path>,
    pub sqrt: SqrtMode,
    pub gamma_floor: f64,
    pub percentile: f64,
    pub gelu_clip: f64,
    pub smooth: f64,
    pub scores: golden::encoder::ScoresArith,
    pub weight_clip: golden::quantize::WeightClip,
    pub out: &'a Path,
    pub json: bool,
}

/// Calibrates, quantizes and writes the program; prints a summary.
pub fn quantize_cmd(a: &QuantizeArgs) -> Result<bool> {
    if !(a.gamma_floor.is_finite() && a.gamma_floor > 0.0 && a.gamma_floor < 1.0) {
        bail!(
            "--gamma-floor {} out of range: must be in (0, 1)",
            a.gamma_floor
        );
    }
    if !(a.gelu_clip.is_finite() && a.gelu_clip >= 0.5) {
        bail!(
            "--gelu-clip {} out of range: must be at least 0.5",
            a.gelu_clip
        );
    }
    if !(a.smooth.is_finite() && (0.0..=1.0).contains(&a.smooth)) {
        bail!("--smooth {} out of range: must be in 0..=1", a.smooth);
    }
    if !(a.percentile.is_finite() && a.percentile > 0.5 && a.percentile <= 1.0) {
        bail!(
            "--percentile {} out of range: must be in (0.5, 1]",
            a.percentile
        );
    }
    let dir = model_dir(a.model)?;
    let weights = load_weights(&dir)?;
    let tok = Tokenizer::load(&dir)?;
    let (source, text) = match a.calibration {
        Some(p) => (
            p.display().to_string(),
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read calibration file {}", p.display()))?,
        ),
        None => (
            "cli/data/calibration.txt (built in)".to_string(),
            CALIBRATION.to_string(),
        ),
    };
    let sents = sentences(&text);
    if sents.is_empty() {
        bail!("calibration file {source}: no sentences");
    }
    let tokens: Vec<Vec<u32>> = sents.iter().map(|s| tok.encode(s)).collect::<Result<_>>()?;
    let start = Instant::now();
    let cal = quantize::calibrate(&weights, &tokens)?;
    let opts = QuantOptions {
        sqrt: a.sqrt,
        gamma_floor: a.gamma_floor,
        percentile: a.percentile,
        gelu_clip: a.gelu_clip,
        smooth: a.smooth,
        scores: a.scores,
        weight_clip: a.weight_clip,
        ..QuantOptions::default()
    };
    let program = quantize::quantize(&weights, &cal, &opts)?;
    let report = quantize::report(&weights, &program, &opts);
    let bytes = golden::program::to_bytes(
        &program,
        &[
            ("source", format!("all-MiniLM-L6-v2 from {}", dir.display())),
            (
                "calibration",
                format!("{} sentences from {source}", sents.len()),
            ),
            ("gamma_floor", a.gamma_floor.to_string()),
            ("percentile", a.percentile.to_string()),
            ("gelu_clip", a.gelu_clip.to_string()),
            ("smooth", a.smooth.to_string()),
            ("weight_clip", a.weight_clip.to_string()),
        ],
    );
    crate::output::write_all(&[(a.out.to_path_buf(), bytes.clone())])?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "program": a.out.display().to_string(),
                "bytes": bytes.len(),
                "calibration_sentences": sents.len(),
                "sqrt": a.sqrt.as_str(),
                "gamma_floor": a.gamma_floor,
                "negative_gammas": report.negative,
                "floored_gammas": report.floored,
                "seconds": start.elapsed().as_secs_f64(),
            })
        );
    } else {
        println!(
            "quantized all-MiniLM-L6-v2 on {} calibration sentences in {:.1} s -> {} ({} bytes)",
            sents.len(),
            start.elapsed().as_secs_f64(),
            a.out.display(),
            bytes.len()
        );
        println!(
            "LayerNorm extension: {} channels with gamma < 0 (sign carried by the integer), {} with |gamma| below the floor {} x max|gamma| (raised to it)",
            report.negative, report.floored, a.gamma_floor
        );
    }
    Ok(true)
}

/// The float reference's embedding of each tokenized sentence.
pub fn float_embeddings(w: &BertWeights, tokens: &[Vec<u32>]) -> Vec<Vec<f32>> {
    tokens.iter().map(|t| bert_float::embed(w, t)).collect()
}

/// Evaluation figures of one program variant against the float reference.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EvalFigures {
    pub variant: String,
    pub sentences: usize,
    pub mean_cosine: f64,
    pub min_cosine: f64,
    pub top1_agreement: f64,
    /// Sentences whose float top-1 neighbour leads the second by less than [`NEAR_TIE`].
    pub near_ties: usize,
    /// Disagreements among those.
    pub flips_at_near_ties: usize,
    pub seconds_per_sentence: f64,
}

/// Each vector's nearest other vector by cosine (ties: the lower index), and its margin over the
/// second nearest.
pub fn nearest_neighbours(v: &[Vec<f32>]) -> Vec<(usize, f64)> {
    (0..v.len())
        .map(|i| {
            let mut best = (f64::NEG_INFINITY, usize::MAX);
            let mut second = f64::NEG_INFINITY;
            for j in 0..v.len() {
                if j != i {
                    let c = bert_float::cosine(&v[i], &v[j]);
                    if c > best.0 {
                        second = best.0;
                        best = (c, j);
                    } else if c > second {
                        second = c;
                    }
                }
            }
            (best.1, best.0 - second)
        })
        .collect()
}

/// Float top-1 margin below which a neighbour is called a near-tie in the evaluation.
pub const NEAR_TIE: f64 = 0.01;

/// Compares integer embeddings with float ones.
pub fn figures(variant: &str, ints: &[Vec<f32>], floats: &[Vec<f32>], secs: f64) -> EvalFigures {
    let cos: Vec<f64> = ints
        .iter()
        .zip(floats)
        .map(|(a, b)| bert_float::cosine(a, b))
        .collect();
    let n = cos.len().max(1) as f64;
    let nn_i = nearest_neighbours(ints);
    let nn_f = nearest_neighbours(floats);
    let agree = nn_i.iter().zip(&nn_f).filter(|(a, b)| a.0 == b.0).count();
    let near_ties = nn_f.iter().filter(|f| f.1 < NEAR_TIE).count();
    let flips_at_near_ties = nn_i
        .iter()
        .zip(&nn_f)
        .filter(|(a, b)| a.0 != b.0 && b.1 < NEAR_TIE)
        .count();
    EvalFigures {
        variant: variant.to_string(),
        sentences: cos.len(),
        mean_cosine: cos.iter().sum::<f64>() / n,
        min_cosine: cos.iter().copied().fold(f64::INFINITY, f64::min),
        top1_agreement: agree as f64 / n,
        near_ties,
        flips_at_near_ties,
        seconds_per_sentence: secs / n,
    }
}

/// `itx model eval`.
pub struct EvalArgs<'a> {
    pub model: Option<&'a Path>,
    pub program: &'a Path,
    pub eval: Option<&'a Path>,
    pub limit: Option<usize>,
    pub json: bool,
    pub json_out: Option<&'a Path>,
}

/// Runs the evaluation set through the float reference, candle, and the integer program (with its
/// own square root and with the other one).
pub fn eval_cmd(a: &EvalArgs) -> Result<bool> {
    let mut sents = match a.eval {
        Some(p) => read_sentences(p)?,
        None => sentences(EVALUATION),
    };
    let dir = model_dir(a.model)?;
    let weights = load_weights(&dir)?;
    let tok = Tokenizer::load(&dir)?;
    let program = load_program(a.program)?;
    if let Some(n) = a.limit {
        if n == 0 {
            bail!("--limit 0: nothing to evaluate");
        }
        sents.truncate(n);
    }
    let tokens: Vec<Vec<u32>> = sents.iter().map(|s| tok.encode(s)).collect::<Result<_>>()?;
    let start = Instant::now();
    let floats = float_embeddings(&weights, &tokens);
    let float_secs = start.elapsed().as_secs_f64() / tokens.len() as f64;
    let candle = crate::candle_ref::CandleBert::load(&dir)?;
    let mut candle_diff = 0f64;
    for (t, f) in tokens.iter().zip(&floats) {
        let c = candle.embed(t)?;
        for (x, y) in c.iter().zip(f) {
            candle_diff = candle_diff.max((x - y).abs() as f64);
        }
    }
    // What the LayerNorm floor alone changes in the float model.
    let meta = golden::program::metadata(&std::fs::read(a.program)?)?;
    let floor_effect = match meta.get("gamma_floor").and_then(|f| f.parse::<f64>().ok()) {
        Some(f) => {
            let floored = quantize::with_floored_gammas(&weights, f);
            let fl = float_embeddings(&floored, &tokens);
            let cos: Vec<f64> = fl
                .iter()
                .zip(&floats)
                .map(|(a, b)| bert_float::cosine(a, b))
                .collect();
            Some((
                f,
                cos.iter().sum::<f64>() / cos.len() as f64,
                cos.iter().copied().fold(f64::INFINITY, f64::min),
            ))
        }
        None => None,
    };
    let mut rows = Vec::new();
    let other = match program.sqrt {
        SqrtMode::Ivit => SqrtMode::Exact,
        SqrtMode::Exact => SqrtMode::Ivit,
    };
    let other_scores = match program.scores {
        ScoresArith::Int8 => ScoresArith::LmulE4m3,
        ScoresArith::LmulE4m3 => ScoresArith::Int8,
    };
    for (sqrt, scores) in [
        (program.sqrt, program.scores),
        (other, program.scores),
        (program.sqrt, other_scores),
    ] {
        let p = Program {
            sqrt,
            scores,
            ..program.clone()
        };
        let start = Instant::now();
        let ints: Vec<Vec<f32>> = tokens
            .iter()
            .map(|t| p.embed(t))
            .collect::<std::result::Result<_, _>>()?;
        let secs = start.elapsed().as_secs_f64();
        rows.push(figures(
            &format!(
                "{} attention scores, {} sqrt",
                match scores {
                    ScoresArith::Int8 => "int8",
                    ScoresArith::LmulE4m3 => "L-Mul e4m3",
                },
                sqrt.as_str()
            ),
            &ints,
            &floats,
            secs,
        ));
    }
    let main = &rows[0];
    let obj = serde_json::json!({
                "sentences": main.sentences,
                "mean_cosine": main.mean_cosine,
                "min_cosine": main.min_cosine,
                "top1_agreement": main.top1_agreement,
                "variants": rows,
                "float_seconds_per_sentence": float_secs,
                "candle_max_abs_diff": candle_diff,
                "gamma_floor_effect": floor_effect.map(|(f, mean, min)| serde_json::json!({
                    "gamma_floor": f, "mean_cosine": mean, "min_cosine": min,
                })),
                "program": a.program.display().to_string(),
    });
    if let Some(path) = a.json_out {
        crate::output::write_all(&[(path.to_path_buf(), format!("{obj}\n").into_bytes())])?;
    }
    if a.json {
        println!("{obj}");
    } else {
        println!(
            "{} evaluation sentences; float reference {:.1} ms/sentence; candle-transformers vs plain-Rust float embeddings: max |diff| {:.2e}",
            main.sentences,
            float_secs * 1e3,
            candle_diff
        );
        if let Some((f, mean, min)) = floor_effect {
            println!(
                "LayerNorm floor alone (float model with |gamma| raised to {f} x max|gamma|) vs the float model: mean cosine {mean:.6}, min {min:.6}"
            );
        }
        println!(
            "| variant | mean cosine | min cosine | top-1 agreement | disagreements at float near-ties (margin < {NEAR_TIE}) | ms/sentence |"
        );
        println!("|---|---|---|---|---|---|");
        for r in &rows {
            let flips = ((1.0 - r.top1_agreement) * r.sentences as f64).round() as usize;
            println!(
                "| {} | {:.4} | {:.4} | {:.1}% | {} of {} (near-ties: {}) | {:.1} |",
                r.variant,
                r.mean_cosine,
                r.min_cosine,
                r.top1_agreement * 100.0,
                r.flips_at_near_ties,
                flips,
                r.near_ties,
                r.seconds_per_sentence * 1e3
            );
        }
    }
    Ok(true)
}

/// `itx model embed`.
pub struct EmbedArgs<'a> {
    pub model: Option<&'a Path>,
    pub program: &'a Path,
    pub text: Option<&'a str>,
    pub file: Option<&'a Path>,
    pub float: bool,
    pub json: bool,
}

/// Prints one embedding per sentence (integer-only unless `--float`).
pub fn embed_cmd(a: &EmbedArgs) -> Result<bool> {
    let sents = match (a.text, a.file) {
        (Some(t), None) => vec![t.to_string()],
        (None, Some(f)) => read_sentences(f)?,
        _ => bail!("give exactly one of --text and --file"),
    };
    let dir = model_dir(a.model)?;
    let tok = Tokenizer::load(&dir)?;
    let tokens: Vec<Vec<u32>> = sents.iter().map(|s| tok.encode(s)).collect::<Result<_>>()?;
    let embs: Vec<Vec<f32>> = if a.float {
        let w = load_weights(&dir)?;
        float_embeddings(&w, &tokens)
    } else {
        let p = load_program(a.program)?;
        tokens
            .iter()
            .map(|t| p.embed(t))
            .collect::<std::result::Result<_, _>>()?
    };
    for (s, e) in sents.iter().zip(&embs) {
        if a.json {
            println!("{}", serde_json::json!({ "text": s, "embedding": e }));
        } else {
            let head: Vec<String> = e.iter().take(8).map(|v| format!("{v:+.4}")).collect();
            println!("{} [{} ...] ({} dims)", s, head.join(" "), e.len());
        }
    }
    Ok(true)
}

/// Records every activation of one sentence's float forward pass, by site and layer (tokens
/// concatenated; scores by head, then query token).
#[derive(Default)]
struct Recorder {
    seen: std::collections::BTreeMap<(bert_float::Site, usize), Vec<f32>>,
}

impl bert_float::Observer for Recorder {
    fn see(&mut self, site: bert_float::Site, layer: usize, values: &[f32]) {
        self.seen
            .entry((site, layer))
            .or_default()
            .extend_from_slice(values);
    }
}

fn flat(x: &[Vec<i32>]) -> Vec<f32> {
    x.iter().flatten().map(|&v| v as f32).collect()
}

/// `itx model diagnose`: where the integer pipeline departs from the float model, site by site, for
/// one sentence (cosine between the float activation and the integer one; scale-free).
pub fn diagnose_cmd(model: Option<&Path>, program: &Path, text: &str) -> Result<bool> {
    use bert_float::Site;
    let dir = model_dir(model)?;
    let weights = load_weights(&dir)?;
    let tok = Tokenizer::load(&dir)?;
    let p = load_program(program)?;
    let tokens = tok.encode(text)?;
    p.check_tokens(&tokens)?;
    let mut rec = Recorder::default();
    bert_float::forward(&weights, &tokens, &mut rec);
    let f = |s: Site, l: usize| rec.seen.get(&(s, l)).cloned().unwrap_or_default();
    let mut x = p.embed_norm(&tokens);
    println!("{} tokens", tokens.len());
    println!("| block | site | cosine(int, float) |");
    println!("|---|---|---|");
    let row = |l: usize, name: &str, a: &[f32], b: &[f32]| {
        println!("| {l} | {name} | {:.5} |", bert_float::cosine(a, b));
    };
    row(0, "input (x8)", &flat(&x.x8), &f(Site::Input, 0));
    row(0, "input (x16)", &flat(&x.x16), &f(Site::Input, 0));
    for (l, b) in p.blocks.iter().enumerate() {
        let t = golden::encoder::block(&p, b, &x.x8, &x.x16);
        row(l, "q", &flat(&t.q), &f(Site::Q, l));
        row(l, "k", &flat(&t.k), &f(Site::K, l));
        row(l, "v", &flat(&t.v), &f(Site::V, l));
        let sc: Vec<f32> = t.scores.iter().flat_map(|h| flat(h)).collect();
        row(l, "scores", &sc, &f(Site::Scores, l));
        let mut fp = f(Site::Scores, l);
        for r in fp.chunks_mut(tokens.len()) {
            bert_float::softmax(r);
        }
        let pr: Vec<f32> = t.probs.iter().flat_map(|h| flat(h)).collect();
        row(l, "probs", &pr, &fp);
        row(l, "context", &flat(&t.context), &f(Site::Context, l));
        row(l, "residual 1", &flat(&t.r1), &f(Site::AttnResidual, l));
        row(l, "ln1 (h8)", &flat(&t.h1.x8), &f(Site::Ln1, l));
        row(l, "ffn up (int16)", &flat(&t.f1_wide), &f(Site::Ffn1, l));
        let g16: Vec<f32> = flat(&t.ga)
            .iter()
            .map(|v| v - golden::encoder::GELU_OFFSET as f32)
            .collect();
        row(l, "gelu (int16)", &g16, &f(Site::Gelu, l));
        row(l, "residual 2", &flat(&t.r2), &f(Site::FfnResidual, l));
        row(l, "ln2 (x8)", &flat(&t.out.x8), &f(Site::Input, l + 1));
        row(l, "ln2 (x16)", &flat(&t.out.x16), &f(Site::Input, l + 1));
        x = t.out;
    }
    Ok(true)
}

/// Arguments of `itx model hardware`.
pub struct HardwareArgs<'a> {
    pub model: Option<&'a Path>,
    pub program: &'a Path,
    pub text: &'a str,
    pub block: usize,
    pub rows: usize,
    pub cols: usize,
    pub json: bool,
}

/// `itx model hardware`: one encoder block of one sentence through the generated hardware in
/// Verilator, bit-exact against the golden encoder stage by stage, with the simulated cycles.
pub fn hardware_cmd(a: &HardwareArgs) -> Result<bool> {
    let dir = model_dir(a.model)?;
    let tok = Tokenizer::load(&dir)?;
    let p = load_program(a.program)?;
    let tokens = tok.encode(a.text)?;
    p.check_tokens(&tokens)?;
    if a.block >= p.blocks.len() {
        bail!(
            "--block {}: the program has blocks 0..={}",
            a.block,
            p.blocks.len() - 1
        );
    }
    let mut x = p.embed_norm(&tokens);
    for b in &p.blocks[..a.block] {
        x = golden::encoder::block(&p, b, &x.x8, &x.x16).out;
    }
    let hw = testbench::encoder_hw::LayerHw {
        rows: a.rows,
        cols: a.cols,
        sim: testbench::verify::Sim::Verilator,
        progress: !a.json,
    };
    let report = testbench::encoder_hw::run_block(&p, a.block, &x.x8, &x.x16, hw)?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{report}");
    }
    Ok(report.bit_exact)
}
