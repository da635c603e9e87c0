//! all-MiniLM-L6-v2 through `itx quantize` and `itx model`: the quantizer on the real model, a small
//! embedding comparison against the float model, candle against the plain-Rust float reference, and
//! the commands' errors.
//!
//! The model comes from `make model` (called by `make setup`). When it is absent these tests fetch
//! it (`scripts/fetch-model.sh`); only when that is impossible do they skip, saying so, and under CI
//! (`CI` set) they fail instead.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn itx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_itx"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("itx runs")
}

/// `itx model SUB --model DIR --program PROGRAM EXTRA...`.
fn itx_model(sub: &str, dir: &Path, program: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "model",
        sub,
        "--model",
        dir.to_str().unwrap(),
        "--program",
        program.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    itx(&args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The model folder, fetched if needed; `None` (with a message) when it cannot be had.
fn model() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = match std::env::var_os("ITX_MODEL_DIR").filter(|d| !d.is_empty()) {
            Some(d) => PathBuf::from(d),
            None => Path::new(&std::env::var_os("HOME")?).join(".cache/itx/all-MiniLM-L6-v2"),
        };
        let complete = |d: &Path| {
            ["config.json", "model.safetensors", "tokenizer.json"]
                .iter()
                .all(|f| d.join(f).is_file())
        };
        if !complete(&dir) {
            let fetched = Command::new("bash")
                .arg(repo().join("scripts/fetch-model.sh"))
                .status()
                .is_ok_and(|s| s.success());
            if !fetched || !complete(&dir) {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "all-MiniLM-L6-v2 is not in {} and scripts/fetch-model.sh could not fetch it",
                    dir.display()
                );
                eprintln!(
                    "SKIPPED: all-MiniLM-L6-v2 is not in {} and cannot be fetched (no network?): run `make model`",
                    dir.display()
                );
                return None;
            }
        }
        Some(dir)
    })
    .as_deref()
}

/// The program quantized on the built-in calibration set, made once for these tests.
fn program() -> Option<&'static Path> {
    static PROGRAM: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    PROGRAM
        .get_or_init(|| {
            let dir = model()?;
            let t = tempfile::tempdir().unwrap();
            let out = t.path().join("minilm.itxp");
            let o = itx(&[
                "quantize",
                "--model",
                dir.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--json",
            ]);
            assert!(o.status.success(), "{}", text(&o.stderr));
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(v["calibration_sentences"], 320);
            // all-MiniLM-L6-v2's LayerNorms: 3 negative gammas (the last block's output LN) and
            // 3 below the floor, counted by the quantizer.
            assert_eq!(v["negative_gammas"], 3, "{v}");
            assert_eq!(v["floored_gammas"], 3, "{v}");
            Some((t, out))
        })
        .as_ref()
        .map(|(_, p)| p.as_path())
}

#[test]
fn integer_embeddings_match_the_float_model_and_candle_matches_plain_rust() {
    let (Some(dir), Some(prog)) = (model(), program()) else {
        return;
    };
    let o = itx_model("eval", dir, prog, &["--limit", "12", "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["sentences"], 12);
    // Two float implementations of the same model: plain Rust and candle-transformers.
    let diff = v["candle_max_abs_diff"].as_f64().unwrap();
    assert!(
        diff <= 1e-5,
        "candle vs plain-Rust float embeddings differ by {diff}"
    );
    // The integer pipeline on these 12 sentences measured mean 0.991, min 0.987; these bounds catch
    // a broken dataflow or a badly chosen scale (both give cosines far below), not small drifts.
    let mean = v["mean_cosine"].as_f64().unwrap();
    let min = v["min_cosine"].as_f64().unwrap();
    assert!(mean >= 0.985, "mean cosine {mean}");
    assert!(min >= 0.97, "min cosine {min}");
    // The program's own variant, the other square root, the other scores arithmetic (L-Mul).
    let variants = v["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 3, "{v}");
    assert!(
        variants[2]["variant"]
            .as_str()
            .is_some_and(|s| s.starts_with("L-Mul e4m3 attention scores")),
        "{v}"
    );
}

#[test]
fn embed_prints_unit_vectors_and_float_differs_from_integer() {
    let (Some(dir), Some(prog)) = (model(), program()) else {
        return;
    };
    let run = |extra: &[&str]| -> Vec<f64> {
        let mut args = vec!["--text", "A systolic array multiplies matrices.", "--json"];
        args.extend_from_slice(extra);
        let o = itx_model("embed", dir, prog, &args);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["text"], "A systolic array multiplies matrices.");
        v["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let int = run(&[]);
    let float = run(&["--float"]);
    assert_eq!(int.len(), 384);
    for e in [&int, &float] {
        let norm: f64 = e.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }
    let cos: f64 = int.iter().zip(&float).map(|(a, b)| a * b).sum();
    assert!(cos > 0.98 && cos < 1.0 - 1e-7, "cosine {cos}");
}

#[test]
fn quantize_is_deterministic_and_the_program_is_self_describing() {
    let Some(dir) = model() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let cal = t.path().join("cal.txt");
    let sentences: Vec<&str> = include_str!("../data/calibration.txt")
        .lines()
        .take(24)
        .collect();
    std::fs::write(&cal, sentences.join("\n")).unwrap();
    let mut bytes = vec![];
    for name in ["a.itxp", "b.itxp"] {
        let out = t.path().join(name);
        let o = itx(&[
            "quantize",
            "--model",
            dir.to_str().unwrap(),
            "--calibration",
            cal.to_str().unwrap(),
            "--sqrt",
            "exact",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert!(
            text(&o.stdout).contains("24 calibration sentences"),
            "{}",
            text(&o.stdout)
        );
        bytes.push(std::fs::read(&out).unwrap());
    }
    assert!(bytes[0] == bytes[1], "two runs wrote different programs");
    let meta = golden_metadata(&bytes[0]);
    assert_eq!(meta["format"], "itx-program");
    assert_eq!(meta["sqrt"], "exact");
    assert_eq!(meta["layers"], "6");
    assert!(meta["calibration"].starts_with("24 sentences"), "{meta:?}");
}

/// The program file's metadata, read the way any safetensors reader would (no ITX code).
fn golden_metadata(bytes: &[u8]) -> std::collections::HashMap<String, String> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let inner = header["__metadata__"]["itx_program"].as_str().unwrap();
    serde_json::from_str(inner).unwrap()
}

#[test]
fn bad_input_is_refused_by_name_without_output() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("p.itxp");
    let missing = t.path().join("nowhere");
    // A model folder without the files: the message names the file and how to get it.
    let o = itx(&[
        "quantize",
        "--model",
        missing.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = text(&o.stderr);
    assert!(e.contains("config.json") && e.contains("make model"), "{e}");
    assert!(!out.exists());
    // Parameters out of range name the flag.
    for (flag, value) in [
        ("--gamma-floor", "0"),
        ("--percentile", "1.5"),
        ("--gelu-clip", "0.1"),
        ("--weight-clip", "min"),
    ] {
        let o = itx(&["quantize", flag, value, "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{flag}");
        assert!(
            text(&o.stderr).contains(flag),
            "{flag}: {}",
            text(&o.stderr)
        );
        assert!(!out.exists());
    }
    let o = itx(&[
        "quantize",
        "--sqrt",
        "newton",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--sqrt"), "{}", text(&o.stderr));
    // A program file that is not one.
    let junk = t.path().join("junk.itxp");
    std::fs::write(&junk, b"not a program").unwrap();
    if let Some(dir) = model() {
        let o = itx_model("embed", dir, &junk, &["--text", "hello"]);
        assert_eq!(o.status.code(), Some(2));
        let e = text(&o.stderr);
        assert!(e.contains("junk.itxp") && e.contains("safetensors"), "{e}");
        // An empty sentence file names the file.
        let empty = t.path().join("empty.txt");
        std::fs::write(&empty, "\n# only a comment\n").unwrap();
        let o = itx_model(
            "eval",
            dir,
            &junk,
            &["--sentences", empty.to_str().unwrap()],
        );
        assert_eq!(o.status.code(), Some(2));
        let e = text(&o.stderr);
        assert!(e.contains("empty.txt") && e.contains("no sentences"), "{e}");
    }
}

/// Issue 6's hardware check: the first encoder block of a short sentence through the generated
/// hardware in Verilator (4x4 MAC array tiles, Shiftmax, ShiftGELU with its tail, LayerNorm, the
/// requantizers), every stage bit-exact with the golden encoder (`itx model hardware` exits
/// non-zero and names the stage otherwise).
#[test]
fn one_encoder_block_through_the_hardware_is_bit_exact() {
    let (Some(dir), Some(program)) = (model(), program()) else {
        return;
    };
    let o = itx_model("hardware", dir, program, &["--text", "Dogs run.", "--json"]);
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["bit_exact"], true, "{v}");
    // [CLS] dogs run . [SEP]
    assert_eq!(v["tokens"], 5, "{v}");
    let stages = v["stages"].as_array().unwrap();
    // q, k, v; per head (12): scores, shiftmax, context; output projection, residual; LayerNorm
    // and its two requantizations; up projection, GELU, its requantization; down projection,
    // residual; LayerNorm and its two requantizations.
    assert_eq!(stages.len(), 3 + 3 * 12 + 2 + 3 + 3 + 2 + 3, "{v}");
    let mut total = 0;
    for s in stages {
        let (beats, cycles) = (s["beats"].as_u64().unwrap(), s["cycles"].as_u64().unwrap());
        assert!(
            cycles >= beats,
            "a stage faster than one beat per cycle: {s}"
        );
        total += cycles;
    }
    assert_eq!(v["total_cycles"].as_u64(), Some(total));
    // A wrong block index is refused by name.
    let o = itx_model("hardware", dir, program, &["--block", "6"]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("--block 6"), "{}", text(&o.stderr));
}
