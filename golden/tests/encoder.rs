//! The integer encoder, its quantizer and program file, and the signed LayerNorm, on a small random
//! BERT (no model files needed; the real model is tested in `cli/tests/model.rs`).
use golden::bert_float::{self, BertConfig, BertWeights, Layer, Linear, Norm};
use golden::encoder::{self, Program, ScoresArith};
use golden::float_format::{Format, Overflow};
use golden::layernorm::{
    layernorm, layernorm_signed, layernorm_signed_checked, LayerNormError, SqrtMode,
};
use golden::lmul::lmul;
use golden::matmul::matmul;
use golden::program;
use golden::quantize::{self, QuantOptions};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn rand_vec(rng: &mut ChaCha8Rng, n: usize, amp: f32) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-amp..amp)).collect()
}

fn linear(rng: &mut ChaCha8Rng, out: usize, inp: usize) -> Linear {
    let amp = 1.0 / (inp as f32).sqrt();
    Linear {
        out,
        inp,
        w: rand_vec(rng, out * inp, amp),
        b: rand_vec(rng, out, 0.1),
    }
}

fn norm(rng: &mut ChaCha8Rng, h: usize, negative: bool) -> Norm {
    let mut gamma: Vec<f32> = (0..h).map(|_| rng.gen_range(0.5..1.5)).collect();
    if negative {
        gamma[1] = -0.8; // a negative gamma
        gamma[2] = -1e-9; // and a tiny one, as all-MiniLM-L6-v2's last LayerNorm has
    }
    Norm {
        gamma,
        beta: rand_vec(rng, h, 0.2),
    }
}

/// A small random BERT: hidden 16, 2 heads, ffn 32, vocab 40, 2 layers.
fn tiny_model(seed: u64) -> BertWeights {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let config = BertConfig {
        hidden: 16,
        heads: 2,
        layers: 2,
        ffn: 32,
        vocab: 40,
        max_positions: 24,
        type_vocab: 2,
        ln_eps: 1e-12,
    };
    let h = config.hidden;
    let layers = (0..config.layers)
        .map(|l| Layer {
            q: linear(&mut rng, h, h),
            k: linear(&mut rng, h, h),
            v: linear(&mut rng, h, h),
            o: linear(&mut rng, h, h),
            ln1: norm(&mut rng, h, false),
            f1: linear(&mut rng, config.ffn, h),
            f2: linear(&mut rng, h, config.ffn),
            ln2: norm(&mut rng, h, l == config.layers - 1),
        })
        .collect();
    BertWeights {
        word: rand_vec(&mut rng, config.vocab * h, 1.0),
        pos: rand_vec(&mut rng, config.max_positions * h, 0.3),
        typ: rand_vec(&mut rng, config.type_vocab * h, 0.1),
        emb_ln: norm(&mut rng, h, false),
        layers,
        config,
    }
}

fn sentences(seed: u64, n: usize, w: &BertWeights) -> Vec<Vec<u32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let len = rng.gen_range(2..=w.config.max_positions);
            (0..len)
                .map(|_| rng.gen_range(0..w.config.vocab as u32))
                .collect()
        })
        .collect()
}

fn tiny_program() -> (BertWeights, Program) {
    let w = tiny_model(1);
    let cal = quantize::calibrate(&w, &sentences(2, 64, &w)).unwrap();
    let p = quantize::quantize(&w, &cal, &QuantOptions::default()).unwrap();
    (w, p)
}

#[test]
fn integer_embeddings_follow_the_float_model() {
    let (w, p) = tiny_program();
    let eval = sentences(3, 32, &w);
    let mut worst = 1f64;
    let mut sum = 0f64;
    for s in &eval {
        let c = bert_float::cosine(&p.embed(s).unwrap(), &bert_float::embed(&w, s));
        worst = worst.min(c);
        sum += c;
    }
    let mean = sum / eval.len() as f64;
    // A random 16-wide model quantized to int8 is far noisier than the real one; these bounds
    // catch a broken dataflow (a wrong scale gives cosines near 0), not small losses.
    assert!(mean > 0.97, "mean cosine {mean}");
    assert!(worst > 0.9, "min cosine {worst}");
}

#[test]
fn lmul_attention_scores_follow_the_float_model_and_are_the_lane_sum() {
    // The L-Mul variant of the scores: each lane's L-Mul result decoded on its own (lmul + to_f64,
    // not lmul_dot's accumulator) and summed in f64 is exact here (a few dozen terms of at most 19
    // significant bits), then scaled to the 2^-9 units of lmul_scores.
    let f = Format::E4M3;
    let mut r = ChaCha8Rng::seed_from_u64(11);
    let q: Vec<Vec<i32>> = (0..5)
        .map(|_| (0..8).map(|_| r.gen_range(-128..=127)).collect())
        .collect();
    let k: Vec<Vec<i32>> = (0..4)
        .map(|_| (0..8).map(|_| r.gen_range(-128..=127)).collect())
        .collect();
    let got = encoder::lmul_scores(&q, &k);
    for (i, qr) in q.iter().enumerate() {
        for (j, kr) in k.iter().enumerate() {
            let sum: f64 = qr
                .iter()
                .zip(kr)
                .map(|(&a, &b)| {
                    let y = lmul(
                        f,
                        f.default_l(),
                        Overflow::Saturate,
                        f.from_int(a as i64),
                        f.from_int(b as i64),
                    );
                    f.to_f64(y)
                })
                .sum();
            assert_eq!(got[i][j] as f64, sum * 512.0, "q row {i}, k row {j}");
        }
    }
    // The whole model with L-Mul scores stays close to the float model (same bounds as int8).
    let (w, mut p) = tiny_program();
    p.scores = ScoresArith::LmulE4m3;
    let eval = sentences(3, 32, &w);
    let cos: Vec<f64> = eval
        .iter()
        .map(|s| bert_float::cosine(&p.embed(s).unwrap(), &bert_float::embed(&w, s)))
        .collect();
    let mean = cos.iter().sum::<f64>() / cos.len() as f64;
    assert!(mean > 0.97, "L-Mul scores: mean cosine {mean}");
    // And it is a different computation: some embedding differs from the int8 program's.
    let int8 = Program {
        scores: ScoresArith::Int8,
        ..p.clone()
    };
    assert!(
        eval.iter()
            .any(|s| p.embed(s).unwrap() != int8.embed(s).unwrap()),
        "L-Mul scores changed nothing"
    );
}

#[test]
fn a_wrong_scale_is_caught_by_the_cosine() {
    // The bound above must be able to fail: break one requantization and watch the cosine drop.
    let (w, mut p) = tiny_program();
    p.blocks[0].o.rq.c.iter_mut().for_each(|c| *c -= 3); // 8x too large attention output
    let eval = sentences(3, 32, &w);
    let mean: f64 = eval
        .iter()
        .map(|s| bert_float::cosine(&p.embed(s).unwrap(), &bert_float::embed(&w, s)))
        .sum::<f64>()
        / eval.len() as f64;
    assert!(mean < 0.97, "a broken program still scores {mean}");
}

#[test]
fn program_file_round_trips() {
    let (_, p) = tiny_program();
    let bytes = program::to_bytes(&p, &[("source", "test".into())]);
    let q = program::from_bytes(&bytes).unwrap();
    assert_eq!(p, q);
    assert!(
        program::to_bytes(&q, &[("source", "test".into())]) == bytes,
        "the bytes differ between two writes"
    );
    assert_eq!(program::metadata(&bytes).unwrap()["source"], "test");
}

#[test]
fn program_file_errors_name_the_problem() {
    let (_, p) = tiny_program();
    let bytes = program::to_bytes(&p, &[]);
    let err = program::from_bytes(&bytes[..bytes.len() - 5])
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a safetensors file"), "{err}");
    let mut q = p.clone();
    q.blocks[1].f1.rq.m.pop();
    let err = program::from_bytes(&program::to_bytes(&q, &[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("block.1.f1.m") && err.contains("31 entries"),
        "{err}"
    );
    let err = program::from_bytes(&program::to_bytes(&p, &[("format", "other".into())]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`format`") && err.contains("not an ITX program"),
        "{err}"
    );
    let mut q = p.clone();
    q.blocks[0].scores.c[0] = 70;
    let err = program::from_bytes(&program::to_bytes(&q, &[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("block.0.scores.c") && err.contains("70"),
        "{err}"
    );
}

#[test]
fn bad_tokens_are_refused() {
    let (_, p) = tiny_program();
    assert_eq!(p.embed(&[]).unwrap_err(), encoder::EncodeError::Empty);
    assert!(matches!(
        p.embed(&[1, 40]).unwrap_err(),
        encoder::EncodeError::Token { id: 40, pos: 1, .. }
    ));
    assert!(matches!(
        p.embed(&[1; 25]).unwrap_err(),
        encoder::EncodeError::TooLong { len: 25, max: 24 }
    ));
}

#[test]
fn quantizer_errors_name_the_problem() {
    let w = tiny_model(1);
    assert!(matches!(
        quantize::calibrate(&w, &[]),
        Err(quantize::QuantizeError::NoCalibration)
    ));
    let err = quantize::calibrate(&w, &[vec![1, 2], vec![1, 99]])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("calibration sentence 1") && err.contains("99"),
        "{err}"
    );
}

#[test]
fn the_extension_counts_what_it_touches() {
    let (w, p) = tiny_program();
    let r = quantize::report(&w, &p, &QuantOptions::default());
    assert_eq!((r.negative, r.floored), (2, 1));
    let last = &p.blocks[1].ln2;
    assert_eq!(last.negative.iter().filter(|&&n| n).count(), 2);
    assert!(last.negative[1] && last.negative[2]);
}

#[test]
fn linear_sums_are_the_spec_matmul() {
    let (_, p) = tiny_program();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let f1 = &p.blocks[0].f1;
    let x: Vec<Vec<i32>> = (0..5)
        .map(|_| (0..f1.inp).map(|_| rng.gen_range(-128..=127)).collect())
        .collect();
    assert_eq!(f1.sums(&x), matmul(&x, &f1.b_operand(0..f1.out), &f1.bias));
}

proptest! {
    #[test]
    fn signed_layernorm_without_negatives_is_the_spec(
        row in prop::collection::vec(-32768i32..=32767, 1..64),
        sqrt in prop::sample::select(vec![SqrtMode::Ivit, SqrtMode::Exact]),
    ) {
        let bias: Vec<i32> = row.iter().map(|x| x.wrapping_mul(7919)).collect();
        prop_assert_eq!(
            layernorm_signed(&row, &bias, &vec![false; row.len()], sqrt),
            layernorm(&row, &bias, sqrt)
        );
    }

    #[test]
    fn a_negative_channel_is_the_mirrored_normalization(
        row in prop::collection::vec(-32768i32..=32767, 8..64),
        c in 0usize..8,
    ) {
        // Float reference: channel c gives -(x_c - mean)/sigma * 2^30/sqrt(C) (bias 0), within the
        // error of the integer reciprocal and floor.
        let n = row.len() as f64;
        let mean = row.iter().map(|&x| x as f64).sum::<f64>() / n;
        let sigma = (row.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
        prop_assume!(sigma * n.sqrt() >= 1024.0);
        let mut neg = vec![false; row.len()];
        neg[c] = true;
        let out = layernorm_signed(&row, &vec![0; row.len()], &neg, SqrtMode::Exact);
        let want = -(row[c] as f64 - mean) / sigma * (1u64 << 30) as f64 / n.sqrt();
        let got = out[c] as f64;
        prop_assert!((got - want).abs() <= 2e-3 * want.abs().max((1u64 << 26) as f64), "got {} want {}", got, want);
    }
}

#[test]
fn sign_list_length_is_checked() {
    assert_eq!(
        layernorm_signed_checked(&[1, 2, 3], &[0; 3], &[false; 2], SqrtMode::Ivit),
        Err(LayerNormError::SignLength { sign: 2, row: 3 })
    );
}
