//! Helpers shared by the golden test files: the shared known-answer vectors, read as plain JSON
//! (the golden crate does not depend on the testbench reader, so these tests stay independent).
#![allow(dead_code)]

use std::path::Path;

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
