//! Helpers shared by the golden test files: the shared known-answer vectors, read as plain JSON
//! (the golden crate does not depend on the testbench reader, so these tests stay independent).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use golden::float_format::Overflow;
use proptest::prelude::*;

use serde_json::Value;

/// `(line number, case)` for every case of `op` in the shared vector file; panics clearly if the file
/// is missing or a line is not JSON.
pub fn vector_cases(op: &str) -> Vec<(usize, Value)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/integer-ops.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the shared known-answer vectors at {}: {e}",
            path.display()
        )
    });
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{}:{}: not JSON: {e}", path.display(), i + 1));
            (i + 1, v)
        })
        .filter(|(_, v)| v["op"] == op)
        .collect()
}

pub fn int(v: &Value, what: &str) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("{what}: not an integer: {v}"))
}

pub fn rows(v: &Value, what: &str) -> Vec<Vec<i64>> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what}: not a list of rows"))
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap_or_else(|| panic!("{what}: row is not a list"))
                .iter()
                .map(|x| int(x, what))
                .collect()
        })
        .collect()
}

// L-Mul / exact-multiplier tests: the float known-answer file and bf16 strategies.

pub fn vectors_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/lmul.jsonl")
}

pub fn u32_list(v: &serde_json::Value, key: &str, line: usize) -> Vec<u32> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("lmul.jsonl line {line}: {key:?} is not a list"))
        .iter()
        .map(|x| {
            x.as_u64()
                .and_then(|x| u32::try_from(x).ok())
                .unwrap_or_else(|| panic!("lmul.jsonl line {line}: {key:?} has {x}, not a u32"))
        })
        .collect()
}

/// A bf16 pattern with specials and the exponent extremes over-represented.
pub fn bf16_code() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => 0u32..=0xFFFF,
        1 => prop::sample::select(vec![
            0x0000u32, 0x8000, 0x0001, 0x007F, 0x0080, 0x3F80, 0xBF80, 0x7F7F, 0xFF7F, 0x7F80,
            0xFF80, 0x7FC0, 0x7F81, 0xFFFF,
        ]),
        2 => (0u32..=1, prop_oneof![0u32..=3, 252u32..=255], 0u32..=127)
            .prop_map(|(s, e, m)| (s << 15) | (e << 7) | m),
    ]
}

/// A bf16 pair whose exponent sum lands near underflow (biased 0) or overflow (biased 254).
pub fn bf16_edge_pair() -> impl Strategy<Value = (u32, u32)> {
    (
        0u32..=1,
        1u32..=254,
        0u32..=127,
        0u32..=1,
        prop::sample::select(vec![-2i32, -1, 0, 1, 2, 252, 253, 254, 255, 256]),
        0u32..=127,
    )
        .prop_map(|(sa, ea, ma, sb, target, mb)| {
            let eb = (target + 127 - ea as i32).clamp(1, 254) as u32;
            ((sa << 15) | (ea << 7) | ma, (sb << 15) | (eb << 7) | mb)
        })
}

pub fn overflow_mode() -> impl Strategy<Value = Overflow> {
    prop_oneof![Just(Overflow::Saturate), Just(Overflow::Ieee)]
}
