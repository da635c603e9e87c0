//! Vector files: the shared known answers through the golden model, the exact message of every class
//! of malformed input, and the atomic write-back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use golden::float_format::{Format, Overflow};
use golden::layernorm::SqrtMode;
use testbench::eval::{eval_case, golden_output, Summary, Verdict};
use testbench::vectors::{
    Case, CaseData, Line, Op, Output, VectorError, VectorFile, SHIFTGELU_DEFAULT_N,
    SHIFTMAX_DEFAULT_N,
};

/// A file of the shared known-answer vectors (`/work/shared/vectors/`, a sibling of the repository);
/// fails loudly when it is missing rather than passing without checking anything.
fn shared(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors")
        .join(name);
    assert!(
        path.is_file(),
        "shared vector file {} is missing: the known-answer vectors must be checked out next to the \
         repository (../shared/vectors/ relative to the workspace root)",
        path.display()
    );
    path
}

fn read_shared(name: &str) -> VectorFile {
    let path = shared(name);
    VectorFile::read(&path).unwrap_or_else(|e| panic!("{e}"))
}

// -------------------------------------------------------------------------------------------------
// Shared known answers.

/// Runs every case of a shared file through the golden model; asserts none fails, none is skipped or
/// merely computed, and each op in `ops` passed at least once. Returns the per-op pass counts.
fn golden_pass_counts(name: &str, ops: &[Op]) -> BTreeMap<&'static str, usize> {
    let file = read_shared(name);
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut results = Vec::new();
    for case in file.cases() {
        let result = eval_case(case);
        match &result.verdict {
            Verdict::Pass => *counts.entry(case.op.as_str()).or_default() += 1,
            Verdict::Fail { detail } => failures.push(format!(
                "line {} ({}): {detail}",
                case.line,
                case.name.as_deref().unwrap_or("unnamed")
            )),
            Verdict::Computed => panic!("line {}: shared vectors always carry y", case.line),
            Verdict::Skipped => panic!("line {}: {} case skipped", case.line, case.op),
        }
        assert!(result.output.is_some(), "line {}", case.line);
        results.push(result);
    }
    assert!(
        failures.is_empty(),
        "{name}: golden mismatches:\n{}",
        failures.join("\n")
    );
    eprintln!("{name} golden passes: {counts:?}");
    for op in ops {
        assert!(
            counts.get(op.as_str()).copied().unwrap_or(0) > 0,
            "no {op} case in {name} passed (counts: {counts:?})"
        );
    }
    let summary = Summary::of(&results);
    assert_eq!(summary.failed, 0);
    assert_eq!(summary.skipped, 0);
    assert_eq!(summary.passed, file.cases().count());
    assert_eq!(summary.passed, counts.values().sum::<usize>());
    counts
}

#[test]
fn integer_ops_golden_cases_all_pass() {
    let counts = golden_pass_counts(
        "integer-ops.jsonl",
        &[
            Op::Requant,
            Op::RequantAdd,
            Op::Matmul,
            Op::Shiftmax,
            Op::Shiftgelu,
            Op::Layernorm,
        ],
    );
    assert_eq!(counts.len(), 6, "{counts:?}");
}

#[test]
fn lmul_golden_cases_all_pass() {
    let counts = golden_pass_counts("lmul.jsonl", &[Op::Lmul, Op::Fmul]);
    assert_eq!(counts.len(), 2, "{counts:?}");
}

#[test]
fn shared_files_parse_without_error() {
    for name in ["integer-ops.jsonl", "lmul.jsonl"] {
        let file = read_shared(name);
        let n = file.cases().count();
        assert!(n > 0, "{name}: no cases");
        assert!(
            file.cases().all(|c| c.y.is_some()),
            "{name}: a case without y"
        );
        assert!(
            matches!(file.lines.first(), Some(Line::Comment(s)) if s.starts_with("# vectorgen")),
            "{name}: the generator comment is the first line"
        );
        // Each case carries the typed data of its op.
        for case in file.cases() {
            let ok = matches!(
                (&case.data, case.op),
                (CaseData::Requant { .. }, Op::Requant)
                    | (CaseData::RequantAdd { .. }, Op::RequantAdd)
                    | (CaseData::Matmul { .. }, Op::Matmul)
                    | (CaseData::Shiftmax { .. }, Op::Shiftmax)
                    | (CaseData::Shiftgelu { .. }, Op::Shiftgelu)
                    | (CaseData::Layernorm { .. }, Op::Layernorm)
                    | (CaseData::Lmul { .. }, Op::Lmul)
                    | (CaseData::Fmul { .. }, Op::Fmul)
            );
            assert!(
                ok,
                "{name}:{}: {:?} data for op {}",
                case.line, case.data, case.op
            );
        }
    }
    let lmul = read_shared("lmul.jsonl");
    for case in lmul.cases() {
        assert!(matches!(case.op, Op::Lmul | Op::Fmul), "line {}", case.line);
        assert!(matches!(case.y, Some(Output::Flat(_))));
        // the shared file gives l explicitly for lmul and never overflow: the default applies
        match &case.data {
            CaseData::Lmul {
                format,
                l,
                overflow,
                ..
            } => {
                assert_eq!(Some(*l as u64), case.raw["params"]["l"].as_u64());
                assert_eq!(format.preset_name(), case.raw["params"]["format"].as_str());
                assert_eq!(*overflow, Overflow::Saturate);
            }
            CaseData::Fmul { overflow, .. } => assert_eq!(*overflow, Overflow::Saturate),
            other => panic!("line {}: {other:?}", case.line),
        }
    }
}

// -------------------------------------------------------------------------------------------------
// Malformed input: exact messages.

const REQUANT_OK: &str = r#"{"op":"requant","params":{"m":[1073741824],"c":[31],"bits":8,"rounding":"half-even"},"x":[[1,2,3]],"y":[[0,1,2]]}"#;

fn err(text: &str) -> String {
    match VectorFile::parse("vectors.jsonl", text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// A requant line with `params` and the data fields given as JSON fragments.
fn requant_line(params: &str, data: &str) -> String {
    format!(r#"{{"op":"requant","params":{{{params}}},{data}}}"#)
}

const P8: &str = r#""m":[1073741824],"c":[31],"bits":8,"rounding":"half-even""#;

#[test]
fn valid_requant_line_parses() {
    let f = VectorFile::parse("vectors.jsonl", REQUANT_OK).unwrap();
    let case = f.cases().next().unwrap();
    assert_eq!(case.line, 1);
    assert_eq!(eval_case(case).verdict, Verdict::Pass);
}

#[test]
fn error_value_out_of_range_names_line_field_and_element() {
    let text = format!(
        "# header\n\n{REQUANT_OK}\n# c\n\n   \n{}\n",
        requant_line(
            r#""m":[1073741824],"c":[0,1,63],"bits":8,"rounding":"half-even""#,
            r#""x":[[1,2,3]]"#
        )
    );
    assert_eq!(
        err(&text),
        r#"vectors.jsonl:7: field "c": value 63 out of range 0..=62 (element 2)"#
    );
}

#[test]
fn error_unknown_op() {
    assert_eq!(
        err(r#"{"op":"softmax","params":{},"x":[[1]]}"#),
        r#"vectors.jsonl:1: unknown op "softmax" (known: requant, requant_add, matmul, shiftmax, shiftgelu, layernorm, lmul, fmul)"#
    );
}

#[test]
fn error_missing_field() {
    assert_eq!(
        err(&requant_line(P8, r#""y":[[1]]"#)),
        r#"vectors.jsonl:1: missing field "x""#
    );
    assert_eq!(
        err(r#"{"params":{},"x":[[1]]}"#),
        r#"vectors.jsonl:1: missing field "op""#
    );
    assert_eq!(
        err(r#"{"op":"requant","x":[[1]]}"#),
        r#"vectors.jsonl:1: missing field "params""#
    );
    assert_eq!(
        err(&requant_line(r#""m":[1],"c":[0],"bits":8"#, r#""x":[[1]]"#)),
        r#"vectors.jsonl:1: missing field "rounding""#
    );
    assert_eq!(
        err(r#"{"op":"matmul","params":{},"a":[[1]],"b":[[1]],"bias":[0]}"#),
        r#"vectors.jsonl:1: missing field "a_signed""#
    );
    assert_eq!(
        err(
            r#"{"op":"requant_add","params":{"m":[1],"c":[0],"m1":[1],"c1":[0],"bits":8,"rounding":"half-up"},"x":[[1]]}"#
        ),
        r#"vectors.jsonl:1: missing field "z""#
    );
}

#[test]
fn error_ragged_rows() {
    let text = requant_line(
        P8,
        r#""x":[[1,2,3,4,5,6],[1,2,3,4,5,6],[1,2,3,4,5,6],[1,2,3,4,5]]"#,
    );
    assert_eq!(
        err(&text),
        r#"vectors.jsonl:1: field "x": ragged rows (row 3 has 5 elements, row 0 has 6)"#
    );
}

#[test]
fn error_channel_length() {
    let text = requant_line(
        r#""m":[1,2,3],"c":[0],"bits":8,"rounding":"half-even""#,
        r#""x":[[1,2,3,4]]"#,
    );
    assert_eq!(
        err(&text),
        r#"vectors.jsonl:1: field "m": length 3 matches neither 1 nor the row length 4"#
    );
    let text = r#"{"op":"requant_add","params":{"m":[1],"c":[0,0],"m1":[1],"c1":[0,0,0],"bits":8,"rounding":"half-up"},"x":[[1,2]],"z":[[1,2]]}"#;
    assert_eq!(
        err(text),
        r#"vectors.jsonl:1: field "c1": length 3 matches neither 1 nor the row length 2"#
    );
}

#[test]
fn error_invalid_json() {
    assert_eq!(
        err(r#"{"op":"requant","#),
        "vectors.jsonl:1: invalid JSON: EOF while parsing a value at line 1 column 16"
    );
    assert_eq!(
        err("# ok\n{\"op\":\"requant\" \"x\"}"),
        "vectors.jsonl:2: invalid JSON: expected `,` or `}` at line 1 column 17"
    );
    assert_eq!(
        err(&format!("{REQUANT_OK} trailing")),
        "vectors.jsonl:1: invalid JSON: trailing characters at line 1 column 115"
    );
}

#[test]
fn error_io_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.jsonl");
    let e = VectorFile::read(&path).unwrap_err();
    assert!(matches!(e, VectorError::Io { .. }));
    assert_eq!(
        e.to_string(),
        format!(
            "cannot read {}: No such file or directory (os error 2)",
            path.display()
        )
    );
}

#[test]
fn error_from_read_names_the_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    std::fs::write(&path, format!("# c\n{REQUANT_OK}\n{{\"op\":\"nope\"}}\n")).unwrap();
    let e = VectorFile::read(&path).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}:3: unknown op \"nope\" (known: requant, requant_add, matmul, shiftmax, shiftgelu, layernorm, lmul, fmul)",
            path.display()
        )
    );
}

#[test]
fn error_unknown_top_level_fields() {
    assert_eq!(
        err(&requant_line(P8, r#""x":[[1]],"w":1"#)),
        r#"vectors.jsonl:1: unknown field "w" for op requant (allowed: op, name, params, x, y)"#
    );
    assert_eq!(
        err(&requant_line(P8, r#""x":[[1]],"z":[[1]],"comment":"hi""#)),
        r#"vectors.jsonl:1: unknown fields "z", "comment" for op requant (allowed: op, name, params, x, y)"#
    );
    // "name" is allowed and must be a string
    assert_eq!(
        err(&requant_line(P8, r#""x":[[1]],"name":7"#)),
        r#"vectors.jsonl:1: field "name": expected a string, found 7"#
    );
}

#[test]
fn error_unknown_params() {
    assert_eq!(
        err(&requant_line(
            r#""m":[1],"c":[0],"bits":8,"rounding":"half-even","zero_point":0"#,
            r#""x":[[1]]"#
        )),
        r#"vectors.jsonl:1: unknown param "zero_point" for op requant (allowed: m, c, bits, rounding)"#
    );
    assert_eq!(
        err(r#"{"op":"shiftmax","params":{"x0":-43,"n":15,"out_bit":16},"x":[[1]]}"#),
        r#"vectors.jsonl:1: unknown param "out_bit" for op shiftmax (allowed: x0, n, out_bits)"#
    );
}

#[test]
fn error_not_allowed_values() {
    assert_eq!(
        err(&requant_line(
            r#""m":[1],"c":[0],"bits":12,"rounding":"half-even""#,
            r#""x":[[1]]"#
        )),
        r#"vectors.jsonl:1: field "bits": invalid value 12 (allowed: 8, 16)"#
    );
    assert_eq!(
        err(&requant_line(
            r#""m":[1],"c":[0],"bits":8,"rounding":"half-down""#,
            r#""x":[[1]]"#
        )),
        r#"vectors.jsonl:1: field "rounding": invalid value "half-down" (allowed: half-even, half-up)"#
    );
}

#[test]
fn error_wrong_types() {
    assert_eq!(
        err("[1,2]"),
        "vectors.jsonl:1: expected a JSON object, found a list"
    );
    assert_eq!(
        err(r#"{"op":7}"#),
        r#"vectors.jsonl:1: field "op": expected a string, found 7"#
    );
    assert_eq!(
        err(r#"{"op":"requant","params":[1],"x":[[1]]}"#),
        r#"vectors.jsonl:1: field "params": expected an object, found a list"#
    );
    assert_eq!(
        err(&requant_line(
            r#""m":1073741824,"c":[0],"bits":8,"rounding":"half-even""#,
            r#""x":[[1]]"#
        )),
        r#"vectors.jsonl:1: field "m": expected a list of integers, found 1073741824"#
    );
    assert_eq!(
        err(&requant_line(P8, r#""x":[1,2]"#)),
        r#"vectors.jsonl:1: field "x": expected a row (a list of integers), found 1 (row 0)"#
    );
    assert_eq!(
        err(&requant_line(P8, r#""x":{"a":1}"#)),
        r#"vectors.jsonl:1: field "x": expected a list of rows, found an object"#
    );
    assert_eq!(
        err(&requant_line(P8, r#""x":[[1,2.5]]"#)),
        r#"vectors.jsonl:1: field "x": expected an integer, found 2.5 (row 0, column 1)"#
    );
    assert_eq!(
        err(&requant_line(P8, r#""x":[[1,"2"]]"#)),
        r#"vectors.jsonl:1: field "x": expected an integer, found "2" (row 0, column 1)"#
    );
    assert_eq!(
        err(r#"{"op":"matmul","params":{"a_signed":"yes"},"a":[[1]],"b":[[1]],"bias":[0]}"#),
        r#"vectors.jsonl:1: field "a_signed": expected a boolean, found "yes""#
    );
}

#[test]
fn error_empty_lists_and_rows() {
    assert_eq!(
        err(&requant_line(P8, r#""x":[]"#)),
        r#"vectors.jsonl:1: field "x": empty list"#
    );
    assert_eq!(
        err(&requant_line(P8, r#""x":[[1],[]]"#)),
        r#"vectors.jsonl:1: field "x": empty list (row 1)"#
    );
    assert_eq!(
        err(&requant_line(
            r#""m":[],"c":[0],"bits":8,"rounding":"half-even""#,
            r#""x":[[1]]"#
        )),
        r#"vectors.jsonl:1: field "m": empty list"#
    );
    assert_eq!(
        err(r#"{"op":"lmul","params":{"format":"e4m3"},"a":[],"b":[]}"#),
        r#"vectors.jsonl:1: field "a": empty list"#
    );
}

#[test]
fn error_requant_ranges() {
    let m0 = requant_line(
        r#""m":[0],"c":[0],"bits":8,"rounding":"half-even""#,
        r#""x":[[1]]"#,
    );
    assert_eq!(
        err(&m0),
        r#"vectors.jsonl:1: field "m": value 0 out of range 1..=2147483647 (element 0)"#
    );
    let m_big = requant_line(
        r#""m":[2147483648],"c":[0],"bits":8,"rounding":"half-even""#,
        r#""x":[[1]]"#,
    );
    assert_eq!(
        err(&m_big),
        r#"vectors.jsonl:1: field "m": value 2147483648 out of range 1..=2147483647 (element 0)"#
    );
    assert_eq!(
        err(&requant_line(
            r#""m":[1],"c":[-1],"bits":8,"rounding":"half-even""#,
            r#""x":[[1]]"#
        )),
        r#"vectors.jsonl:1: field "c": value -1 out of range 0..=62 (element 0)"#
    );
    assert_eq!(
        err(&requant_line(P8, r#""x":[[1,2],[3,2147483648]]"#)),
        r#"vectors.jsonl:1: field "x": value 2147483648 out of range -2147483648..=2147483647 (row 1, column 1)"#
    );
    assert_eq!(
        err(&requant_line(P8, r#""x":[[-2147483649]]"#)),
        r#"vectors.jsonl:1: field "x": value -2147483649 out of range -2147483648..=2147483647 (row 0, column 0)"#
    );
    // int32 extremes themselves are fine
    VectorFile::parse("v", &requant_line(P8, r#""x":[[-2147483648,2147483647]]"#)).unwrap();
    // y in the bits range, with the op's output shape
    assert_eq!(
        err(&requant_line(P8, r#""x":[[1,2]],"y":[[0,128]]"#)),
        r#"vectors.jsonl:1: field "y": value 128 out of range -128..=127 (row 0, column 1)"#
    );
    assert_eq!(
        err(&requant_line(
            r#""m":[1],"c":[0],"bits":16,"rounding":"half-up""#,
            r#""x":[[1,2]],"y":[[-32769,0]]"#
        )),
        r#"vectors.jsonl:1: field "y": value -32769 out of range -32768..=32767 (row 0, column 0)"#
    );
    assert_eq!(
        err(&requant_line(P8, r#""x":[[1,2]],"y":[[0,1],[0,1]]"#)),
        r#"vectors.jsonl:1: field "y": shape 2x2 does not match the output shape 1x2"#
    );
}

#[test]
fn error_requant_add_shapes_and_ranges() {
    let p = r#""m":[1],"c":[0],"m1":[1],"c1":[0],"bits":8,"rounding":"half-even""#;
    let line = |data: &str| format!(r#"{{"op":"requant_add","params":{{{p}}},{data}}}"#);
    assert_eq!(
        err(&line(r#""x":[[1,2],[3,4]],"z":[[1,2]]"#)),
        r#"vectors.jsonl:1: field "z": shape 1x2 does not match the shape 2x2 of "x""#
    );
    assert_eq!(
        err(&line(r#""x":[[1,2]],"z":[[1,2,3]]"#)),
        r#"vectors.jsonl:1: field "z": shape 1x3 does not match the shape 1x2 of "x""#
    );
    assert_eq!(
        err(&line(r#""x":[[1,2]],"z":[[1,-2147483649]]"#)),
        r#"vectors.jsonl:1: field "z": value -2147483649 out of range -2147483648..=2147483647 (row 0, column 1)"#
    );
    let bad_m1 = r#"{"op":"requant_add","params":{"m":[1],"c":[0],"m1":[1,0],"c1":[0],"bits":8,"rounding":"half-even"},"x":[[1,2]],"z":[[1,2]]}"#;
    assert_eq!(
        err(bad_m1),
        r#"vectors.jsonl:1: field "m1": value 0 out of range 1..=2147483647 (element 1)"#
    );
    let bad_c1 = r#"{"op":"requant_add","params":{"m":[1],"c":[0],"m1":[1],"c1":[99],"bits":8,"rounding":"half-even"},"x":[[1]],"z":[[1]]}"#;
    assert_eq!(
        err(bad_c1),
        r#"vectors.jsonl:1: field "c1": value 99 out of range 0..=62 (element 0)"#
    );
}

#[test]
fn error_matmul_ranges_and_shapes() {
    let mm = |signed: bool, a: &str, b: &str, bias: &str, y: &str| {
        format!(
            r#"{{"op":"matmul","params":{{"a_signed":{signed}}},"a":{a},"b":{b},"bias":{bias}{y}}}"#
        )
    };
    assert_eq!(
        err(&mm(true, "[[1,128]]", "[[1],[1]]", "[0]", "")),
        r#"vectors.jsonl:1: field "a": value 128 out of range -128..=127 (row 0, column 1)"#
    );
    assert_eq!(
        err(&mm(false, "[[1,-1]]", "[[1],[1]]", "[0]", "")),
        r#"vectors.jsonl:1: field "a": value -1 out of range 0..=65535 (row 0, column 1)"#
    );
    assert_eq!(
        err(&mm(false, "[[65536]]", "[[1]]", "[0]", "")),
        r#"vectors.jsonl:1: field "a": value 65536 out of range 0..=65535 (row 0, column 0)"#
    );
    // 65535 and 32768 are fine unsigned
    VectorFile::parse("v", &mm(false, "[[65535,32768]]", "[[1],[1]]", "[0]", "")).unwrap();
    assert_eq!(
        err(&mm(true, "[[1]]", "[[-129]]", "[0]", "")),
        r#"vectors.jsonl:1: field "b": value -129 out of range -128..=127 (row 0, column 0)"#
    );
    assert_eq!(
        err(&mm(true, "[[1,2,3]]", "[[1],[1]]", "[0]", "")),
        r#"vectors.jsonl:1: field "b": has 2 rows, expected K = 3 (the row length of "a")"#
    );
    assert_eq!(
        err(&mm(true, "[[1]]", "[[1,2,3,4]]", "[0,0,0]", "")),
        r#"vectors.jsonl:1: field "bias": has 3 elements, expected N = 4 (the row length of "b")"#
    );
    assert_eq!(
        err(&mm(true, "[[1]]", "[[1]]", "[2147483648]", "")),
        r#"vectors.jsonl:1: field "bias": value 2147483648 out of range -2147483648..=2147483647 (element 0)"#
    );
    assert_eq!(
        err(&mm(
            true,
            "[[1],[2]]",
            "[[1,1]]",
            "[0,0]",
            r#","y":[[1,1]]"#
        )),
        r#"vectors.jsonl:1: field "y": shape 1x2 does not match the output shape 2x2"#
    );
    assert_eq!(
        err(&mm(true, "[[1]]", "[[1]]", "[0]", r#","y":[[2147483648]]"#)),
        r#"vectors.jsonl:1: field "y": value 2147483648 out of range -2147483648..=2147483647 (row 0, column 0)"#
    );
    assert_eq!(
        err(&mm(true, "[[1]]", "[[1]]", "[0]", r#","x":[[1]]"#)),
        r#"vectors.jsonl:1: unknown field "x" for op matmul (allowed: op, name, params, a, b, bias, y)"#
    );
}

#[test]
fn error_row_and_float_ops_shapes() {
    assert_eq!(
        err(r#"{"op":"shiftmax","params":{"x0":-43,"n":15,"out_bits":16},"a":[1]}"#),
        r#"vectors.jsonl:1: unknown field "a" for op shiftmax (allowed: op, name, params, x, y)"#
    );
    assert_eq!(
        err(r#"{"op":"shiftgelu","params":{"x0":-26,"n":23}}"#),
        r#"vectors.jsonl:1: missing field "x""#
    );
    assert_eq!(
        err(r#"{"op":"layernorm","params":{"bias":[1,2],"sqrt":"ivit"},"x":[[1,2],[3]]}"#),
        r#"vectors.jsonl:1: field "x": ragged rows (row 1 has 1 elements, row 0 has 2)"#
    );
    assert_eq!(
        err(r#"{"op":"shiftmax","params":{"x0":-1,"out_bits":8},"x":[[1,2]],"y":[[1]]}"#),
        r#"vectors.jsonl:1: field "y": shape 1x1 does not match the output shape 1x2"#
    );
    assert_eq!(
        err(r#"{"op":"shiftgelu","params":{"x0":-1},"x":[[1,2]],"y":[[1,2],[3,4]]}"#),
        r#"vectors.jsonl:1: field "y": shape 2x2 does not match the output shape 1x2"#
    );
    assert_eq!(
        err(r#"{"op":"lmul","params":{"format":"e4m3","l":3},"a":[1,2],"b":[1]}"#),
        r#"vectors.jsonl:1: field "b": length 1 does not match the length 2 of "a""#
    );
    assert_eq!(
        err(r#"{"op":"fmul","params":{"format":"e4m3"},"a":[1,2],"b":[1,2],"y":[1,2,3]}"#),
        r#"vectors.jsonl:1: field "y": length 3 does not match the output length 2"#
    );
    assert_eq!(
        err(r#"{"op":"lmul","params":{"format":"bf16"},"a":[1,2],"b":[1,2],"y":[1]}"#),
        r#"vectors.jsonl:1: field "y": length 1 does not match the output length 2"#
    );
    assert_eq!(
        err(r#"{"op":"fmul","params":{"format":"e4m3"},"a":[1,-2],"b":[1,2]}"#),
        r#"vectors.jsonl:1: field "a": value -2 out of range 0..=255 (element 1)"#
    );
    assert_eq!(
        err(r#"{"op":"fmul","params":{"format":"e4m3"},"a":[],"b":[]}"#),
        r#"vectors.jsonl:1: field "a": empty list"#
    );
    assert_eq!(
        err(r#"{"op":"fmul","params":{"format":"e4m3"},"a":[1,1.5],"b":[1,2]}"#),
        r#"vectors.jsonl:1: field "a": expected an integer, found 1.5 (element 1)"#
    );
    assert_eq!(
        err(r#"{"op":"lmul","params":"e4m3","a":[1],"b":[1]}"#),
        r#"vectors.jsonl:1: field "params": expected an object, found "e4m3""#
    );
    assert_eq!(
        err(r#"{"op":"lmul","params":{"format":"e4m3","bits":8},"a":[1],"b":[1]}"#),
        r#"vectors.jsonl:1: unknown param "bits" for op lmul (allowed: format, l, overflow)"#
    );
    assert_eq!(
        err(r#"{"op":"fmul","params":{"format":"e4m3","l":3},"a":[1],"b":[1]}"#),
        r#"vectors.jsonl:1: unknown param "l" for op fmul (allowed: format, overflow)"#
    );
}

// Float ops: format, l, overflow, operand widths.

#[test]
fn error_float_format() {
    assert_eq!(
        err(r#"{"op":"lmul","params":{"format":"fp8","l":3},"a":[1],"b":[1]}"#),
        r#"vectors.jsonl:1: field "format": invalid value "fp8" (allowed: e4m3, e5m2, bf16)"#
    );
    assert_eq!(
        err(r#"{"op":"fmul","params":{"format":"E4M3"},"a":[1],"b":[1]}"#),
        r#"vectors.jsonl:1: field "format": invalid value "E4M3" (allowed: e4m3, e5m2, bf16)"#
    );
    assert_eq!(
        err(r#"{"op":"fmul","params":{"format":8},"a":[1],"b":[1]}"#),
        r#"vectors.jsonl:1: field "format": expected a string, found 8"#
    );
    assert_eq!(
        err(r#"{"op":"fmul","params":{},"a":[1],"b":[1]}"#),
        r#"vectors.jsonl:1: missing field "format""#
    );
}

#[test]
fn error_lmul_l() {
    assert_eq!(
        err(r#"{"op":"lmul","params":{"format":"e4m3","l":0},"a":[1],"b":[1]}"#),
        r#"vectors.jsonl:1: field "l": value 0 out of range 1..=16"#
    );
    assert_eq!(
        err(r#"{"op":"lmul","params":{"format":"bf16","l":17},"a":[1],"b":[1]}"#),
        r#"vectors.jsonl:1: field "l": value 17 out of range 1..=16"#
    );
    assert_eq!(
        err(r#"{"op":"lmul","params":{"format":"bf16","l":-1},"a":[1],"b":[1]}"#),
        r#"vectors.jsonl:1: field "l": value -1 out of range 1..=16"#
    );
    assert_eq!(
        err(r#"{"op":"lmul","params":{"format":"bf16","l":"3"},"a":[1],"b":[1]}"#),
        r#"vectors.jsonl:1: field "l": expected an integer, found "3""#
    );
    // l = 16 (far beyond M: no offset) is accepted
    VectorFile::parse(
        "v",
        r#"{"op":"lmul","params":{"format":"e4m3","l":16},"a":[1],"b":[1]}"#,
    )
    .unwrap();
}

#[test]
fn error_float_overflow_mode() {
    assert_eq!(
        err(r#"{"op":"lmul","params":{"format":"e5m2","overflow":"wrap"},"a":[1],"b":[1]}"#),
        r#"vectors.jsonl:1: field "overflow": invalid value "wrap" (allowed: saturate, ieee)"#
    );
    assert_eq!(
        err(r#"{"op":"fmul","params":{"format":"e5m2","overflow":true},"a":[1],"b":[1]}"#),
        r#"vectors.jsonl:1: field "overflow": expected a string, found true"#
    );
}

#[test]
fn error_float_operand_too_wide() {
    assert_eq!(
        err(r#"{"op":"lmul","params":{"format":"e4m3","l":3},"a":[1,2,3,256],"b":[1,2,3,4]}"#),
        r#"vectors.jsonl:1: field "a": value 256 (element 3) does not fit the 8 bits of e4m3"#
    );
    assert_eq!(
        err(r#"{"op":"fmul","params":{"format":"e5m2"},"a":[255],"b":[4294967296]}"#),
        r#"vectors.jsonl:1: field "b": value 4294967296 (element 0) does not fit the 8 bits of e5m2"#
    );
    assert_eq!(
        err(r#"{"op":"fmul","params":{"format":"bf16"},"a":[65535,0],"b":[0,65536]}"#),
        r#"vectors.jsonl:1: field "b": value 65536 (element 1) does not fit the 16 bits of bf16"#
    );
    assert_eq!(
        err(r#"{"op":"lmul","params":{"format":"e4m3"},"a":[56],"b":[56],"y":[300]}"#),
        r#"vectors.jsonl:1: field "y": value 300 (element 0) does not fit the 8 bits of e4m3"#
    );
    assert_eq!(
        err(r#"{"op":"lmul","params":{"format":"e4m3"},"a":[56],"b":[56],"y":[-1]}"#),
        r#"vectors.jsonl:1: field "y": value -1 out of range 0..=255 (element 0)"#
    );
    // the widest patterns of each format are accepted
    VectorFile::parse(
        "v",
        r#"{"op":"fmul","params":{"format":"bf16"},"a":[65535],"b":[65535],"y":[32704]}"#,
    )
    .unwrap();
}

#[test]
fn float_params_and_defaults() {
    let case = one_case(
        r#"{"op":"lmul","name":"n","params":{"format":"e4m3","l":3,"overflow":"ieee"},"a":[56],"b":[56],"y":[57]}"#,
    );
    assert_eq!(
        case.data,
        CaseData::Lmul {
            format: Format::E4M3,
            l: 3,
            overflow: Overflow::Ieee,
            a: vec![56],
            b: vec![56],
        }
    );
    assert_eq!(case.y, Some(Output::Flat(vec![57])));
    assert_eq!(eval_case(&case).verdict, Verdict::Pass);
    // l defaults to l(M) of the format, overflow to saturate
    for (format, fmt, l) in [
        ("e4m3", Format::E4M3, 3),
        ("e5m2", Format::E5M2, 2),
        ("bf16", Format::BF16, 4),
    ] {
        let case = one_case(&format!(
            r#"{{"op":"lmul","params":{{"format":"{format}"}},"a":[0],"b":[0]}}"#
        ));
        assert_eq!(
            case.data,
            CaseData::Lmul {
                format: fmt,
                l,
                overflow: Overflow::Saturate,
                a: vec![0],
                b: vec![0],
            },
            "{format}"
        );
    }
    let case = one_case(r#"{"op":"fmul","params":{"format":"e5m2"},"a":[60],"b":[60]}"#);
    assert_eq!(
        case.data,
        CaseData::Fmul {
            format: Format::E5M2,
            overflow: Overflow::Saturate,
            a: vec![60],
            b: vec![60],
        }
    );
    // e5m2 0x3C = 1.0: 1 x 1 = 1 exactly
    let r = eval_case(&case);
    assert_eq!(r.verdict, Verdict::Computed);
    assert_eq!(r.output, Some(Output::Flat(vec![60])));
    // overflow mode reaches the golden model: e5m2 max finite 0x7B squared overflows
    let sat = one_case(r#"{"op":"fmul","params":{"format":"e5m2"},"a":[123],"b":[123]}"#);
    let ieee = one_case(
        r#"{"op":"fmul","params":{"format":"e5m2","overflow":"ieee"},"a":[123],"b":[123]}"#,
    );
    assert_eq!(golden_output(&sat), Some(Output::Flat(vec![0x7B])));
    assert_eq!(golden_output(&ieee), Some(Output::Flat(vec![0x7C])));
}

// Shiftmax / ShiftGELU: x0, n, out_bits, int8 rows, y ranges.

const SM: &str = r#""x0":-43,"n":15,"out_bits":16"#;

fn shiftmax_line(params: &str, data: &str) -> String {
    format!(r#"{{"op":"shiftmax","params":{{{params}}},{data}}}"#)
}

fn shiftgelu_line(params: &str, data: &str) -> String {
    format!(r#"{{"op":"shiftgelu","params":{{{params}}},{data}}}"#)
}

#[test]
fn error_x0_out_of_range() {
    let x = r#""x":[[1,2]]"#;
    for (x0, shown) in [("5", "5"), ("0", "0"), ("-32769", "-32769")] {
        assert_eq!(
            err(&shiftmax_line(
                &format!(r#""x0":{x0},"n":15,"out_bits":16"#),
                x
            )),
            format!(r#"vectors.jsonl:1: field "x0": value {shown} out of range -32768..=-1"#)
        );
        assert_eq!(
            err(&shiftgelu_line(&format!(r#""x0":{x0},"n":23"#), x)),
            format!(r#"vectors.jsonl:1: field "x0": value {shown} out of range -32768..=-1"#)
        );
    }
    assert_eq!(
        err(&shiftmax_line(r#""n":15,"out_bits":16"#, x)),
        r#"vectors.jsonl:1: missing field "x0""#
    );
    assert_eq!(
        err(&shiftgelu_line(r#""x0":-1.5"#, x)),
        r#"vectors.jsonl:1: field "x0": expected an integer, found -1.5"#
    );
    // the extremes are accepted
    VectorFile::parse("v", &shiftmax_line(r#""x0":-32768,"n":30,"out_bits":8"#, x)).unwrap();
    VectorFile::parse("v", &shiftgelu_line(r#""x0":-1,"n":1"#, x)).unwrap();
}

#[test]
fn error_n_out_of_range() {
    let x = r#""x":[[1,2]]"#;
    assert_eq!(
        err(&shiftmax_line(r#""x0":-43,"n":31,"out_bits":16"#, x)),
        r#"vectors.jsonl:1: field "n": value 31 out of range 1..=30"#
    );
    assert_eq!(
        err(&shiftgelu_line(r#""x0":-26,"n":0"#, x)),
        r#"vectors.jsonl:1: field "n": value 0 out of range 1..=30"#
    );
    assert_eq!(
        err(&shiftgelu_line(r#""x0":-26,"n":"23""#, x)),
        r#"vectors.jsonl:1: field "n": expected an integer, found "23""#
    );
}

#[test]
fn error_out_bits() {
    let x = r#""x":[[1,2]]"#;
    assert_eq!(
        err(&shiftmax_line(r#""x0":-43,"n":15,"out_bits":12"#, x)),
        r#"vectors.jsonl:1: field "out_bits": invalid value 12 (allowed: 8, 16)"#
    );
    assert_eq!(
        err(&shiftmax_line(r#""x0":-43,"n":15"#, x)),
        r#"vectors.jsonl:1: missing field "out_bits""#
    );
    assert_eq!(
        err(&shiftmax_line(r#""x0":-43,"n":15,"out_bits":"16""#, x)),
        r#"vectors.jsonl:1: field "out_bits": expected an integer, found "16""#
    );
    assert_eq!(
        err(r#"{"op":"shiftgelu","params":{"x0":-26,"n":23,"out_bits":16},"x":[[1]]}"#),
        r#"vectors.jsonl:1: unknown param "out_bits" for op shiftgelu (allowed: x0, n)"#
    );
}

#[test]
fn error_shiftmax_and_shiftgelu_inputs_are_int8() {
    assert_eq!(
        err(&shiftmax_line(SM, r#""x":[[1,2,128]]"#)),
        r#"vectors.jsonl:1: field "x": value 128 out of range -128..=127 (row 0, column 2)"#
    );
    assert_eq!(
        err(&shiftgelu_line(r#""x0":-26,"n":23"#, r#""x":[[1],[-129]]"#)),
        r#"vectors.jsonl:1: field "x": value -129 out of range -128..=127 (row 1, column 0)"#
    );
    assert_eq!(
        err(&shiftmax_line(SM, r#""x":[[1],[]]"#)),
        r#"vectors.jsonl:1: field "x": empty list (row 1)"#
    );
}

#[test]
fn error_shiftmax_and_shiftgelu_y_ranges() {
    // shiftmax y is unsigned 0..=2^(out_bits-1)
    assert_eq!(
        err(&shiftmax_line(SM, r#""x":[[1,2]],"y":[[32768,32769]]"#)),
        r#"vectors.jsonl:1: field "y": value 32769 out of range 0..=32768 (row 0, column 1)"#
    );
    assert_eq!(
        err(&shiftmax_line(SM, r#""x":[[1,2]],"y":[[-1,0]]"#)),
        r#"vectors.jsonl:1: field "y": value -1 out of range 0..=32768 (row 0, column 0)"#
    );
    assert_eq!(
        err(&shiftmax_line(
            r#""x0":-43,"n":15,"out_bits":8"#,
            r#""x":[[1,2]],"y":[[128,129]]"#
        )),
        r#"vectors.jsonl:1: field "y": value 129 out of range 0..=128 (row 0, column 1)"#
    );
    // shiftgelu y is int16
    assert_eq!(
        err(&shiftgelu_line(
            r#""x0":-26,"n":23"#,
            r#""x":[[1,2]],"y":[[-32768,32768]]"#
        )),
        r#"vectors.jsonl:1: field "y": value 32768 out of range -32768..=32767 (row 0, column 1)"#
    );
}

#[test]
fn shiftmax_and_shiftgelu_n_defaults() {
    let case = one_case(&shiftmax_line(r#""x0":-43,"out_bits":8"#, r#""x":[[1,2]]"#));
    assert_eq!(
        case.data,
        CaseData::Shiftmax {
            x0: -43,
            n: SHIFTMAX_DEFAULT_N,
            out_bits: 8,
            x: vec![vec![1, 2]],
        }
    );
    assert_eq!(SHIFTMAX_DEFAULT_N, 15);
    let case = one_case(&shiftgelu_line(r#""x0":-26"#, r#""x":[[1,2]]"#));
    assert_eq!(
        case.data,
        CaseData::Shiftgelu {
            x0: -26,
            n: SHIFTGELU_DEFAULT_N,
            x: vec![vec![1, 2]],
        }
    );
    assert_eq!(SHIFTGELU_DEFAULT_N, 23);
    // an explicit n equal to the default gives the same case data
    let explicit = one_case(&shiftgelu_line(r#""x0":-26,"n":23"#, r#""x":[[1,2]]"#));
    assert_eq!(explicit.data, case.data);
}

// LayerNorm: int16 rows, bias, sqrt.

fn layernorm_line(params: &str, data: &str) -> String {
    format!(r#"{{"op":"layernorm","params":{{{params}}},{data}}}"#)
}

#[test]
fn error_layernorm_inputs() {
    let p = r#""bias":[0,0],"sqrt":"ivit""#;
    assert_eq!(
        err(&layernorm_line(p, r#""x":[[1,40000]]"#)),
        r#"vectors.jsonl:1: field "x": value 40000 out of range -32768..=32767 (row 0, column 1)"#
    );
    assert_eq!(
        err(&layernorm_line(
            r#""bias":[1,2,3],"sqrt":"ivit""#,
            r#""x":[[1,2,3,4]]"#
        )),
        r#"vectors.jsonl:1: field "bias": length 3 does not match the row length 4"#
    );
    assert_eq!(
        err(&layernorm_line(
            r#""bias":[0,2147483648],"sqrt":"ivit""#,
            r#""x":[[1,2]]"#
        )),
        r#"vectors.jsonl:1: field "bias": value 2147483648 out of range -2147483648..=2147483647 (element 1)"#
    );
    assert_eq!(
        err(&layernorm_line(
            r#""bias":[],"sqrt":"ivit""#,
            r#""x":[[1]]"#
        )),
        r#"vectors.jsonl:1: field "bias": empty list"#
    );
    assert_eq!(
        err(&layernorm_line(r#""sqrt":"ivit""#, r#""x":[[1]]"#)),
        r#"vectors.jsonl:1: missing field "bias""#
    );
    assert_eq!(
        err(&layernorm_line(p, r#""x":[[1,2]],"y":[[0,2147483648]]"#)),
        r#"vectors.jsonl:1: field "y": value 2147483648 out of range -2147483648..=2147483647 (row 0, column 1)"#
    );
    // rows of more than 2^16 columns
    let c = 65537;
    let zeros = |n: usize| vec!["0"; n].join(",");
    assert_eq!(
        err(&layernorm_line(
            &format!(r#""bias":[{}],"sqrt":"exact""#, zeros(c)),
            &format!(r#""x":[[{}]]"#, zeros(c))
        )),
        r#"vectors.jsonl:1: field "x": row length 65537 out of range 1..=65536"#
    );
}

#[test]
fn error_layernorm_sqrt() {
    assert_eq!(
        err(&layernorm_line(
            r#""bias":[0],"sqrt":"newton""#,
            r#""x":[[1]]"#
        )),
        r#"vectors.jsonl:1: field "sqrt": invalid value "newton" (allowed: ivit, exact)"#
    );
    // `sqrt` defaults to `ivit`, the spec's default mode.
    let case = one_case(&layernorm_line(r#""bias":[0]"#, r#""x":[[1]]"#));
    assert!(
        matches!(
            case.data,
            CaseData::Layernorm {
                sqrt: SqrtMode::Ivit,
                ..
            }
        ),
        "{:?}",
        case.data
    );
    assert_eq!(
        err(&layernorm_line(r#""bias":[0],"sqrt":1"#, r#""x":[[1]]"#)),
        r#"vectors.jsonl:1: field "sqrt": expected a string, found 1"#
    );
    let case = one_case(&layernorm_line(
        r#""bias":[5,-5],"sqrt":"exact""#,
        r#""x":[[1,-1]]"#,
    ));
    assert_eq!(
        case.data,
        CaseData::Layernorm {
            bias: vec![5, -5],
            sqrt: SqrtMode::Exact,
            x: vec![vec![1, -1]],
        }
    );
}

#[test]
fn first_error_wins_and_comments_are_not_parsed() {
    let text = format!(
        "#{{not json\n  # indented comment\n{REQUANT_OK}\n{{\"op\":\"softmax\"}}\n{{\"op\":\"requant\"\n"
    );
    assert!(err(&text).starts_with("vectors.jsonl:4: unknown op \"softmax\""));
}

#[test]
fn crlf_line_endings_are_accepted() {
    let text = format!("# c\r\n{REQUANT_OK}\r\n\r\n{REQUANT_OK}\r\n");
    let f = VectorFile::parse("v", &text).unwrap();
    let lines: Vec<usize> = f.cases().map(|c| c.line).collect();
    assert_eq!(lines, vec![2, 4]);
}

#[test]
fn op_names_round_trip() {
    for op in Op::ALL {
        assert_eq!(op.as_str().parse::<Op>().unwrap(), op);
        assert_eq!(op.to_string(), op.as_str());
    }
    assert_eq!(
        "requant-add".parse::<Op>().unwrap_err().to_string(),
        r#"unknown op "requant-add" (known: requant, requant_add, matmul, shiftmax, shiftgelu, layernorm, lmul, fmul)"#
    );
}

// -------------------------------------------------------------------------------------------------
// Evaluation details.

fn one_case(text: &str) -> Case {
    VectorFile::parse("v", text)
        .unwrap()
        .cases()
        .next()
        .unwrap()
        .clone()
}

#[test]
fn fail_detail_names_first_mismatch_inputs_and_count() {
    // x / 2 half-even: [0, 1, 2, 2] for x = [1, 2, 3, 5]; y claims half-up results [1, 1, 2, 3]
    let case = one_case(&requant_line(
        r#""m":[1073741824],"c":[31],"bits":8,"rounding":"half-even""#,
        r#""x":[[4,4],[1,2],[3,5]],"y":[[2,2],[1,1],[2,3]]"#,
    ));
    let r = eval_case(&case);
    assert_eq!(
        r.verdict,
        Verdict::Fail {
            detail: "row 1, column 0: x = 1, m = 1073741824, c = 31: expected 1, got 0 (2 of 6 elements differ)"
                .to_string()
        }
    );
    assert_eq!(
        r.output,
        Some(Output::Rows(vec![vec![2, 2], vec![0, 1], vec![2, 2]]))
    );

    let case = one_case(
        r#"{"op":"requant_add","params":{"m":[1073741824],"c":[31,32],"m1":[1],"c1":[0],"bits":16,"rounding":"half-up"},"x":[[4,4]],"z":[[1,2]],"y":[[3,4]]}"#,
    );
    assert_eq!(
        eval_case(&case).verdict,
        Verdict::Fail {
            detail: "row 0, column 1: x = 4, z = 2, m = 1073741824, c = 32, m1 = 1, c1 = 0: expected 4, got 3 (1 of 2 elements differ)"
                .to_string()
        }
    );

    let case = one_case(
        r#"{"op":"matmul","params":{"a_signed":true},"a":[[1,2],[3,4]],"b":[[1],[1]],"bias":[10],"y":[[13],[18]]}"#,
    );
    assert_eq!(
        eval_case(&case).verdict,
        Verdict::Fail {
            detail: "row 1, column 0: row 1 of \"a\" times column 0 of \"b\", K = 2, bias = 10, a_signed = true: expected 18, got 17 (1 of 2 elements differ)"
                .to_string()
        }
    );
}

#[test]
fn fail_detail_for_row_ops() {
    // Shiftmax of a constant pair is 1/2 each: 2^14 at out_bits 16 (x0 = -1, n = 15: e = 2^15 each,
    // recip(2^16) = 2^15, (2^15 * 2^15) >> 16 = 2^14).
    let case = one_case(&shiftmax_line(
        r#""x0":-1,"n":15,"out_bits":16"#,
        r#""x":[[0,0],[5,5]],"y":[[16384,16384],[16384,16383]]"#,
    ));
    let r = eval_case(&case);
    assert_eq!(
        r.verdict,
        Verdict::Fail {
            detail: "row 1, column 1: x = 5, row max = 5, x0 = -1, n = 15, out_bits = 16: expected 16383, got 16384 (1 of 4 elements differ)"
                .to_string()
        }
    );
    assert_eq!(
        r.output,
        Some(Output::Rows(vec![vec![16384, 16384], vec![16384, 16384]]))
    );

    // ShiftGELU of 0 is 0 whatever the sigmoid.
    let case = one_case(&shiftgelu_line(
        r#""x0":-26,"n":23"#,
        r#""x":[[0,0,0]],"y":[[0,1,2]]"#,
    ));
    assert_eq!(
        eval_case(&case).verdict,
        Verdict::Fail {
            detail: "row 0, column 1: x = 0, row max = 0, x0 = -26, n = 23: expected 1, got 0 (2 of 3 elements differ)"
                .to_string()
        }
    );

    // LayerNorm of [1, -1] with the exact square root: mean 0, var 2, std 1, factor recip(1) = 2^31
    // (the reference's float32 (2^31 - 1) / 1 rounds up); out = ((+-1 * 2^31) >> 1) + bias.
    let case = one_case(&layernorm_line(
        r#""bias":[5,-5],"sqrt":"exact""#,
        r#""x":[[1,-1]],"y":[[1073741829,-1073741828]]"#,
    ));
    let r = eval_case(&case);
    assert_eq!(
        r.verdict,
        Verdict::Fail {
            detail: "row 0, column 1: x = -1, bias = -5, row mean = 0, var = 2, std = 1 (exact), factor = 2147483648: expected -1073741828, got -1073741829 (1 of 2 elements differ)"
                .to_string()
        }
    );
    assert_eq!(
        r.output,
        Some(Output::Rows(vec![vec![1073741829, -1073741829]]))
    );
}

#[test]
fn fail_detail_for_float_ops() {
    // lmul.md known answers: e4m3 0x38 x 0x38 = 0x39 (1 x 1 = 1.125), 0x40 x 0x44 = 0x4D.
    let case = one_case(
        r#"{"op":"lmul","params":{"format":"e4m3","l":3},"a":[56,64,56],"b":[56,68,56],"y":[57,77,56]}"#,
    );
    let r = eval_case(&case);
    assert_eq!(
        r.verdict,
        Verdict::Fail {
            detail: "element 2: a = 56 (0x38), b = 56 (0x38), format = e4m3, l = 3, overflow = saturate: expected 56 (0x38), got 57 (0x39) (1 of 3 elements differ)"
                .to_string()
        }
    );
    assert_eq!(r.output, Some(Output::Flat(vec![57, 77, 57])));

    // The exact multiplier: 1 x 1 = 1 (0x38); bf16 1.0 = 0x3F80.
    let case = one_case(
        r#"{"op":"fmul","params":{"format":"bf16","overflow":"ieee"},"a":[16256,16256],"b":[16256,16256],"y":[16264,16264]}"#,
    );
    assert_eq!(
        eval_case(&case).verdict,
        Verdict::Fail {
            detail: "element 0: a = 16256 (0x3f80), b = 16256 (0x3f80), format = bf16, overflow = ieee: expected 16264 (0x3f88), got 16256 (0x3f80) (2 of 2 elements differ)"
                .to_string()
        }
    );
    let case = one_case(r#"{"op":"fmul","params":{"format":"e4m3"},"a":[56],"b":[56],"y":[56]}"#);
    assert_eq!(eval_case(&case).verdict, Verdict::Pass);
}

#[test]
fn case_without_y_is_computed_and_counts_as_passed() {
    let case = one_case(&requant_line(P8, r#""x":[[1,2,3]]"#));
    let r = eval_case(&case);
    assert_eq!(r.verdict, Verdict::Computed);
    assert_eq!(r.output, Some(Output::Rows(vec![vec![0, 1, 2]])));
    assert_eq!(golden_output(&case), r.output);
    let s = Summary::of([&r]);
    assert_eq!(s.to_string(), "1 passed, 0 failed, 0 skipped");
}

#[test]
fn summary_display() {
    let s = Summary {
        passed: 16,
        failed: 2,
        skipped: 29,
    };
    assert_eq!(s.to_string(), "16 passed, 2 failed, 29 skipped");
    assert!(!s.ok());
}

// -------------------------------------------------------------------------------------------------
// Write-back.

fn golden_outputs(file: &VectorFile) -> Vec<Option<Output>> {
    file.cases().map(golden_output).collect()
}

#[test]
fn write_back_round_trip_with_golden_outputs() {
    for name in ["integer-ops.jsonl", "lmul.jsonl"] {
        let src = shared(name);
        let file = read_shared(name);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        let outputs = golden_outputs(&file);
        assert!(
            outputs.iter().all(Option::is_some),
            "{name}: every op has golden"
        );
        file.write_with_outputs(&out, &outputs).unwrap();

        let back = VectorFile::read(&out).unwrap();
        assert_eq!(back.cases().count(), file.cases().count());
        for ((orig, new), golden) in file.cases().zip(back.cases()).zip(&outputs) {
            assert_eq!(orig.line, new.line);
            assert_eq!(orig.data, new.data);
            assert_eq!(new.y.as_ref(), golden.as_ref(), "{name}:{}", new.line);
        }
        let comments = |f: &VectorFile| -> Vec<String> {
            f.lines
                .iter()
                .filter_map(|l| match l {
                    Line::Comment(s) => Some(s.clone()),
                    Line::Case(_) => None,
                })
                .collect()
        };
        assert_eq!(comments(&back), comments(&file));
        assert!(!comments(&back).is_empty());
        // The golden outputs equal the known answers and the writer keeps field order and compact
        // formatting, so the file comes back byte for byte.
        assert!(
            std::fs::read_to_string(&out).unwrap() == std::fs::read_to_string(&src).unwrap(),
            "{name}: write-back is not byte-identical"
        );
        // Nothing else was left in the directory (no temporary file).
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.jsonl")]);
    }
}

#[test]
fn write_back_adds_missing_y_and_keeps_comments_and_blanks() {
    let text = format!(
        "# generated by hand\n\n{}\n# between\n{REQUANT_OK}\n",
        requant_line(P8, r#""x":[[5,7]]"#)
    );
    let file = VectorFile::parse("hand.jsonl", &text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hand.jsonl");
    // case 0 gets its y computed; case 1 (None) keeps its own
    let outputs = vec![golden_output(file.cases().next().unwrap()), None];
    file.write_with_outputs(&out, &outputs).unwrap();
    let written = std::fs::read_to_string(&out).unwrap();
    let expected = format!(
        "# generated by hand\n\n{}\n# between\n{REQUANT_OK}\n",
        requant_line(P8, r#""x":[[5,7]],"y":[[2,4]]"#)
    );
    assert_eq!(written, expected);
    let back = VectorFile::read(&out).unwrap();
    assert!(back.cases().all(|c| eval_case(c).verdict == Verdict::Pass));

    // Overwriting an existing file in place works too (atomic rename over it).
    file.write_with_outputs(&out, &[None, None]).unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
}

#[test]
fn failed_write_leaves_no_file() {
    let file = read_shared("integer-ops.jsonl");
    let outputs = golden_outputs(&file);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no-such-dir").join("out.jsonl");
    let e = file.write_with_outputs(&out, &outputs).unwrap_err();
    assert!(matches!(e, VectorError::Io { .. }), "{e:?}");
    assert!(
        e.to_string().contains(&out.display().to_string()),
        "the message names the target: {e}"
    );
    assert!(!out.exists());
    assert!(!dir.path().join("no-such-dir").exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // A wrong number of outputs is rejected before anything is written.
    let out = dir.path().join("out.jsonl");
    let e = file.write_with_outputs(&out, &outputs[1..]).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: {} outputs given for {} cases",
            shared("integer-ops.jsonl").display(),
            outputs.len() - 1,
            outputs.len()
        )
    );
    assert!(!out.exists());

    // A flat output for a row op is rejected before anything is written.
    let mut wrong = outputs.clone();
    wrong[0] = Some(Output::Flat(vec![1]));
    let e = file.write_with_outputs(&out, &wrong).unwrap_err();
    assert!(
        e.to_string()
            .ends_with(":2: output for op shiftmax must be rows, got a flat list"),
        "{e}"
    );
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // And rows for a float op.
    let lmul = read_shared("lmul.jsonl");
    let mut wrong = golden_outputs(&lmul);
    wrong[0] = Some(Output::Rows(vec![vec![1]]));
    let e = lmul.write_with_outputs(&out, &wrong).unwrap_err();
    assert!(
        e.to_string()
            .ends_with(":2: output for op lmul must be a flat list, got rows"),
        "{e}"
    );
    assert!(!out.exists());
}
