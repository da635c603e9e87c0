//! Time per sentence of the integer golden model and of the float reference, all-MiniLM-L6-v2
//! (`make bench`). Needs the model (`make model`); without it the benchmark says so and does nothing.
//! The sentence is a fixed sequence of 16 token ids ([CLS], 14 word-piece ids, [SEP]; golden has no
//! tokenizer, and the time depends on the length only).
use criterion::{criterion_group, criterion_main, Criterion};
use golden::bert_float::{self, BertConfig, BertWeights};
use golden::quantize::{self, QuantOptions};

const SENTENCE: [u32; 16] = [
    101, 1996, 4248, 2829, 4419, 14523, 2058, 1996, 13971, 3899, 2379, 1996, 2314, 2924, 1012, 102,
];

fn load() -> Option<BertWeights> {
    let dir = match std::env::var_os("ITX_MODEL_DIR").filter(|d| !d.is_empty()) {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            std::path::Path::new(&std::env::var_os("HOME")?).join(".cache/itx/all-MiniLM-L6-v2")
        }
    };
    let cfg = std::fs::read_to_string(dir.join("config.json")).ok()?;
    let bytes = std::fs::read(dir.join("model.safetensors")).ok()?;
    BertWeights::from_safetensors(&bytes, BertConfig::from_json(&cfg).ok()?).ok()
}

fn bench(c: &mut Criterion) {
    let Some(w) = load() else {
        eprintln!("model bench skipped: all-MiniLM-L6-v2 not found (run `make model`)");
        return;
    };
    // Calibrated on the sentence itself: the timing does not depend on the constants.
    let cal = quantize::calibrate(&w, &[SENTENCE.to_vec()]).expect("calibrates");
    let p = quantize::quantize(&w, &cal, &QuantOptions::default()).expect("quantizes");
    let mut g = c.benchmark_group("minilm-16-tokens");
    g.sample_size(20);
    g.bench_function("float-reference", |b| {
        b.iter(|| bert_float::embed(&w, &SENTENCE))
    });
    g.bench_function("integer-golden", |b| b.iter(|| p.embed(&SENTENCE).unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
