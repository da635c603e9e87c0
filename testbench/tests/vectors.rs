//! Vector files: the shared known answers through the golden model, the exact message of every class
//! of malformed input, and the atomic write-back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use testbench::eval::{eval_case, golden_output, Summary, Verdict};
use testbench::vectors::{Case, CaseData, Line, Op, Output, VectorError, VectorFile};

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

#[test]
fn integer_ops_golden_cases_all_pass() {
    let file = read_shared("integer-ops.jsonl");
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
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
            Verdict::Skipped => assert!(!case.op.has_golden(), "line {}", case.line),
        }
        results.push(result);
    }
    assert!(
        failures.is_empty(),
        "golden mismatches:\n{}",
        failures.join("\n")
    );
    eprintln!("integer-ops.jsonl golden passes: {counts:?}");
    for op in ["requant", "requant_add", "matmul"] {
        assert!(
            counts.get(op).copied().unwrap_or(0) > 0,
            "no {op} case in integer-ops.jsonl passed (counts: {counts:?})"
        );
    }
    let summary = Summary::of(&results);
    assert_eq!(summary.failed, 0);
    assert_eq!(summary.passed, counts.values().sum::<usize>());
    assert_eq!(
        summary.skipped,
        file.cases().filter(|c| !c.op.has_golden()).count()
    );
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
    }
    let lmul = read_shared("lmul.jsonl");
    for case in lmul.cases() {
        assert!(matches!(case.op, Op::Lmul | Op::Fmul), "line {}", case.line);
        assert_eq!(case.data, CaseData::Pending { op: case.op });
        assert!(matches!(case.y, Some(Output::Flat(_))));
        assert_eq!(eval_case(case).verdict, Verdict::Skipped);
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
fn error_pending_ops_shapes() {
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
        err(r#"{"op":"shiftmax","params":{},"x":[[1,2]],"y":[[1]]}"#),
        r#"vectors.jsonl:1: field "y": shape 1x1 does not match the output shape 1x2"#
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
        err(r#"{"op":"fmul","params":{"format":"e4m3"},"a":[1,-2],"b":[1,2]}"#),
        r#"vectors.jsonl:1: field "a": value -2 out of range 0..=18446744073709551615 (element 1)"#
    );
    assert_eq!(
        err(r#"{"op":"lmul","params":"e4m3","a":[1],"b":[1]}"#),
        r#"vectors.jsonl:1: field "params": expected an object, found "e4m3""#
    );
    // a valid pending case is kept raw and skipped
    let f = VectorFile::parse(
        "v",
        r#"{"op":"lmul","name":"n","params":{"format":"e4m3","l":3,"overflow":"ieee"},"a":[56],"b":[56],"y":[57]}"#,
    )
    .unwrap();
    let case = f.cases().next().unwrap();
    assert_eq!(case.data, CaseData::Pending { op: Op::Lmul });
    assert_eq!(case.y, Some(Output::Flat(vec![57])));
    assert_eq!(case.raw["params"]["overflow"], "ieee");
    assert_eq!(eval_case(case).verdict, Verdict::Skipped);
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
    let src = shared("integer-ops.jsonl");
    let file = read_shared("integer-ops.jsonl");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let outputs = golden_outputs(&file);
    file.write_with_outputs(&out, &outputs).unwrap();

    let back = VectorFile::read(&out).unwrap();
    assert_eq!(back.cases().count(), file.cases().count());
    for ((orig, new), golden) in file.cases().zip(back.cases()).zip(&outputs) {
        assert_eq!(orig.line, new.line);
        assert_eq!(orig.data, new.data);
        match golden {
            Some(g) => assert_eq!(new.y.as_ref(), Some(g), "line {}", new.line),
            None => assert_eq!(new.y, orig.y, "line {}", new.line),
        }
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
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        std::fs::read_to_string(&src).unwrap()
    );
    // Nothing else was left in the directory (no temporary file).
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("out.jsonl")]);
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
}
