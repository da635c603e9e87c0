//! Test-vector files (JSON Lines, `shared/reference/vectors.md`): reading, full validation, write-back.
//!
//! One JSON object per line; lines starting with `#` are comments and blank lines are allowed (both are
//! kept verbatim, so a write-back preserves them). Every line is parsed and validated before any case
//! runs: [`VectorFile::parse`] returns the first problem as a [`VectorError`] whose message is
//! `FILE:LINE: <problem naming the field>`.
//!
//! Every op has a golden model and is validated fully: field presence and types, value ranges (the
//! vectors.md table and the golden model's own parameter checks), shapes, and the shape and range of
//! `y`. A validated case therefore never makes the golden model panic.
//!
//! Defaults for omitted `params` (everything else is required):
//! - `shiftmax` `n`: 15, `shiftgelu` `n`: 23 (the values integer-ops.md fixes; vectors.md lists `n` in
//!   every example and the shared files always carry it).
//! - `lmul` `l`: the format's `l(M)` ([`Format::default_l`]: 3 for e4m3, 2 for e5m2, 4 for bf16);
//!   `lmul` / `fmul` `overflow`: `saturate` (lmul.md).
//!
//! `layernorm` `sqrt` stays required, like `requant` `rounding`, although integer-ops.md calls `ivit`
//! (and `half-even`) the default: vectors.md gives no default for either.
//!
//! Ranges beyond the table: `x0` in `-32768..=-1` and `n` in `1..=30` (what the golden model accepts,
//! vectors.md), `layernorm` rows of at most 65536 int16 values with one int32 `bias` per column,
//! float operands and `y` bit patterns within the format's `1 + E + M` bits.

use golden::exp_shift::{ExpShiftParamError, N_MAX, N_MIN, X0_MAX, X0_MIN};
use golden::float_format::{check_operand, Format, Overflow};
use golden::layernorm::{check_layernorm_inputs, LayerNormError, SqrtMode};
use golden::lmul::{check_l, L_MAX, L_MIN};
use golden::requant::{Rounding, C_MAX, M_MAX};
use golden::shiftgelu::{check_shiftgelu_params, check_shiftgelu_row, ShiftgeluError};
use golden::shiftmax::{check_shiftmax_params, check_shiftmax_row, ShiftmaxError};
use serde_json::{Map, Value};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// An op of the vector format (the JSON `"op"` value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `requant`: dyadic requantization of int32 rows.
    Requant,
    /// `requant_add`: requantized residual add.
    RequantAdd,
    /// `matmul`: the MAC array.
    Matmul,
    /// `shiftmax`: I-ViT integer softmax.
    Shiftmax,
    /// `shiftgelu`: I-ViT integer GELU.
    Shiftgelu,
    /// `layernorm`: I-ViT integer LayerNorm.
    Layernorm,
    /// `lmul`: L-Mul on float bit patterns.
    Lmul,
    /// `fmul`: the exact float multiplier baseline.
    Fmul,
}

/// The shape family of an op's data: row ops carry `x` (and `y`) as lists of rows, `matmul` carries
/// matrices `a`, `b`, `y`, the float ops flat lists `a`, `b`, `y`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Rows,
    Matrix,
    Flat,
}

impl Op {
    /// Every op, in the order error messages list them.
    pub const ALL: [Op; 8] = [
        Op::Requant,
        Op::RequantAdd,
        Op::Matmul,
        Op::Shiftmax,
        Op::Shiftgelu,
        Op::Layernorm,
        Op::Lmul,
        Op::Fmul,
    ];

    /// The JSON name (`"requant"`, `"requant_add"`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            Op::Requant => "requant",
            Op::RequantAdd => "requant_add",
            Op::Matmul => "matmul",
            Op::Shiftmax => "shiftmax",
            Op::Shiftgelu => "shiftgelu",
            Op::Layernorm => "layernorm",
            Op::Lmul => "lmul",
            Op::Fmul => "fmul",
        }
    }

    /// Top-level fields a line of this op may have (`op`, `name`, `params`, data fields, `y`).
    pub fn fields(&self) -> &'static [&'static str] {
        match self {
            Op::RequantAdd => &["op", "name", "params", "x", "z", "y"],
            Op::Matmul => &["op", "name", "params", "a", "b", "bias", "y"],
            Op::Lmul | Op::Fmul => &["op", "name", "params", "a", "b", "y"],
            Op::Requant | Op::Shiftmax | Op::Shiftgelu | Op::Layernorm => {
                &["op", "name", "params", "x", "y"]
            }
        }
    }

    /// Names allowed in this op's `params` object (vectors.md).
    pub fn params(&self) -> &'static [&'static str] {
        match self {
            Op::Requant => &["m", "c", "bits", "rounding"],
            Op::RequantAdd => &["m", "c", "m1", "c1", "bits", "rounding"],
            Op::Matmul => &["a_signed"],
            Op::Shiftmax => &["x0", "n", "out_bits"],
            Op::Shiftgelu => &["x0", "n"],
            Op::Layernorm => &["bias", "sqrt"],
            Op::Lmul => &["format", "l", "overflow"],
            Op::Fmul => &["format", "overflow"],
        }
    }

    fn family(&self) -> Family {
        match self {
            Op::Matmul => Family::Matrix,
            Op::Lmul | Op::Fmul => Family::Flat,
            _ => Family::Rows,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn known_ops() -> String {
    Op::ALL.map(|o| o.as_str()).join(", ")
}

/// An `"op"` value that names no known op.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown op {op:?} (known: {})", known_ops())]
pub struct UnknownOp {
    /// The name as given.
    pub op: String,
}

impl FromStr for Op {
    type Err = UnknownOp;

    fn from_str(s: &str) -> Result<Op, UnknownOp> {
        Op::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownOp { op: s.to_string() })
    }
}

/// The validated inputs of one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseData {
    /// `requant`: `m`, `c` have length 1 or the row length of `x`.
    Requant {
        m: Vec<u32>,
        c: Vec<u32>,
        bits: u32,
        rounding: Rounding,
        x: Vec<Vec<i32>>,
    },
    /// `requant_add`: `z` has the shape of `x`; each of `m`, `c`, `m1`, `c1` has length 1 or the row
    /// length.
    RequantAdd {
        m: Vec<u32>,
        c: Vec<u32>,
        m1: Vec<u32>,
        c1: Vec<u32>,
        bits: u32,
        rounding: Rounding,
        x: Vec<Vec<i32>>,
        z: Vec<Vec<i32>>,
    },
    /// `matmul`: `a` is M x K, `b` is K x N, `bias` has N entries, M, K, N >= 1.
    Matmul {
        a_signed: bool,
        a: Vec<Vec<i32>>,
        b: Vec<Vec<i32>>,
        bias: Vec<i32>,
    },
    /// `shiftmax`: `x0` in `-32768..=-1`, `n` in `1..=30` (default 15), `out_bits` 8 or 16; `x` rows
    /// of int8. `y` has the shape of `x`, values unsigned `0..=2^(out_bits-1)`.
    Shiftmax {
        x0: i64,
        n: u32,
        out_bits: u32,
        x: Vec<Vec<i32>>,
    },
    /// `shiftgelu`: `x0` in `-32768..=-1`, `n` in `1..=30` (default 23); `x` rows of int8. `y` has the
    /// shape of `x`, int16 values.
    Shiftgelu { x0: i64, n: u32, x: Vec<Vec<i32>> },
    /// `layernorm`: `x` rows of int16, at most 65536 columns; `bias` int32, one per column; `sqrt`
    /// defaults to `ivit` (integer-ops.md). `y` has the
    /// shape of `x`, int32 values.
    Layernorm {
        bias: Vec<i32>,
        sqrt: SqrtMode,
        x: Vec<Vec<i32>>,
    },
    /// `lmul`: `l` in `1..=16` (default [`Format::default_l`]), `overflow` default saturate; `a`, `b`
    /// equally long, non-empty lists of bit patterns that fit the format. `y` is a flat list of the
    /// same length, each fitting the format.
    Lmul {
        format: Format,
        l: u32,
        overflow: Overflow,
        a: Vec<u32>,
        b: Vec<u32>,
    },
    /// `fmul`: as [`CaseData::Lmul`] without `l`.
    Fmul {
        format: Format,
        overflow: Overflow,
        a: Vec<u32>,
        b: Vec<u32>,
    },
}

/// An op's output: rows (`requant`, `requant_add`, `matmul`, and the row ops) or a flat list of bit
/// patterns (`lmul`, `fmul`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Rows(Vec<Vec<i64>>),
    Flat(Vec<u64>),
}

impl Output {
    /// The JSON value written as `y`.
    pub fn to_json(&self) -> Value {
        match self {
            Output::Rows(rows) => Value::from(rows.clone()),
            Output::Flat(v) => Value::from(v.clone()),
        }
    }

    /// `"MxN"` for rows, the length for a flat list (for messages).
    pub fn shape(&self) -> String {
        match self {
            Output::Rows(rows) => format!("{}x{}", rows.len(), rows.first().map_or(0, Vec::len)),
            Output::Flat(v) => v.len().to_string(),
        }
    }
}

/// One validated case (one JSON line).
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// 1-based line number in the file.
    pub line: usize,
    /// The optional `"name"` label.
    pub name: Option<String>,
    pub op: Op,
    pub data: CaseData,
    /// The expected output, when the line has `"y"`.
    pub y: Option<Output>,
    /// The whole line as parsed (field order preserved), used for write-back.
    pub raw: Value,
}

/// One line of a vector file.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // a file holds few lines; boxing would only obscure matching
pub enum Line {
    /// A `#` comment or a blank line, kept verbatim (without the line terminator).
    Comment(String),
    Case(Case),
}

/// A parsed and fully validated vector file.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorFile {
    /// The path it was read from (for [`VectorFile::parse`], the name given).
    pub path: PathBuf,
    pub lines: Vec<Line>,
}

/// Where in a field a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// The field as a whole.
    Whole,
    /// Element `i` of a flat list.
    Element(usize),
    /// Row `i` of a list of rows.
    Row(usize),
    /// Row `i`, column `j` of a list of rows.
    Cell(usize, usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Whole => Ok(()),
            Location::Element(i) => write!(f, " (element {i})"),
            Location::Row(i) => write!(f, " (row {i})"),
            Location::Cell(i, j) => write!(f, " (row {i}, column {j})"),
        }
    }
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(names: &[String]) -> &'static str {
    if names.len() == 1 {
        ""
    } else {
        "s"
    }
}

/// What is wrong with one line (the part of the message after `FILE:LINE: `).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("expected a JSON object, found {found}")]
    NotAnObject { found: String },
    #[error(transparent)]
    UnknownOp(#[from] UnknownOp),
    #[error("missing field {field:?}")]
    MissingField { field: String },
    #[error("unknown field{} {} for op {op} (allowed: {})", plural(.fields), quoted_list(.fields), .op.fields().join(", "))]
    UnknownFields { op: Op, fields: Vec<String> },
    #[error("unknown param{} {} for op {op} (allowed: {})", plural(.params), quoted_list(.params), .op.params().join(", "))]
    UnknownParams { op: Op, params: Vec<String> },
    #[error("field {field:?}: expected {expected}, found {found}{at}")]
    WrongType {
        field: String,
        expected: &'static str,
        found: String,
        at: Location,
    },
    #[error("field {field:?}: value {value} out of range {range}{at}")]
    OutOfRange {
        field: String,
        value: i128,
        range: String,
        at: Location,
    },
    #[error("field {field:?}: invalid value {value} (allowed: {allowed})")]
    NotAllowed {
        field: String,
        value: String,
        allowed: &'static str,
    },
    #[error("field {field:?}: empty list{at}")]
    Empty { field: String, at: Location },
    #[error("field {field:?}: ragged rows (row {row} has {len} elements, row 0 has {first})")]
    Ragged {
        field: String,
        row: usize,
        len: usize,
        first: usize,
    },
    #[error("field {field:?}: length {len} matches neither 1 nor the row length {row_len}")]
    ChannelLength {
        field: String,
        len: usize,
        row_len: usize,
    },
    #[error("field {field:?}: {detail}")]
    Shape { field: String, detail: String },
    /// A bit pattern wider than its float format (`format` is the format's name).
    #[error("field {field:?}: value {value}{at} does not fit the {bits} bits of {format}")]
    DoesNotFit {
        field: String,
        value: i128,
        at: Location,
        bits: u32,
        format: String,
    },
    /// A golden-model parameter or input check failed that the range checks above did not catch (a
    /// safety net: the checks here mirror the golden ones, so this only fires if they drift apart).
    #[error("field {field:?}: rejected by the golden model: {detail}")]
    Golden { field: String, detail: String },
}

/// Errors reading, validating or writing a vector file.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    /// A line is malformed: `FILE:LINE: <problem>`.
    #[error("{file}:{line}: {problem}")]
    Invalid {
        file: String,
        line: usize,
        /// Boxed to keep `Result<_, VectorError>` small.
        problem: Box<Problem>,
    },
    /// Reading or writing failed: `cannot <action> PATH: <io error>`.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// [`VectorFile::write_with_outputs`] got a list of another length than the number of cases.
    #[error("{}: {given} outputs given for {cases} cases", .path.display())]
    OutputCount {
        path: PathBuf,
        given: usize,
        cases: usize,
    },
    /// [`VectorFile::write_with_outputs`] got a flat output for a row op or the reverse.
    #[error("{file}:{line}: output for op {op} must be {expected}, got {got}")]
    OutputKind {
        file: String,
        line: usize,
        op: Op,
        expected: &'static str,
        got: &'static str,
    },
}

// -------------------------------------------------------------------------------------------------
// Value helpers. Each returns the Problem for the first offending element, in document order.

/// A short description of a JSON value for "found ..." (scalars verbatim, containers by kind).
fn describe(v: &Value) -> String {
    match v {
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
        Value::String(s) if s.chars().count() > 40 => {
            format!("{:?}...", s.chars().take(40).collect::<String>())
        }
        other => other.to_string(),
    }
}

fn wrong_type(field: &str, expected: &'static str, v: &Value, at: Location) -> Problem {
    Problem::WrongType {
        field: field.to_string(),
        expected,
        found: describe(v),
        at,
    }
}

fn get<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<&'a Value, Problem> {
    obj.get(field).ok_or_else(|| Problem::MissingField {
        field: field.to_string(),
    })
}

fn as_int(v: &Value) -> Option<i128> {
    v.as_i64()
        .map(i128::from)
        .or_else(|| v.as_u64().map(i128::from))
}

/// An integer in `lo..=hi`.
fn int_in(field: &str, v: &Value, lo: i128, hi: i128, at: Location) -> Result<i128, Problem> {
    let n = as_int(v).ok_or_else(|| wrong_type(field, "an integer", v, at))?;
    if n < lo || n > hi {
        return Err(Problem::OutOfRange {
            field: field.to_string(),
            value: n,
            range: format!("{lo}..={hi}"),
            at,
        });
    }
    Ok(n)
}

/// A non-empty flat list of integers in `lo..=hi`.
fn int_list(field: &str, v: &Value, lo: i128, hi: i128) -> Result<Vec<i128>, Problem> {
    let items = v
        .as_array()
        .ok_or_else(|| wrong_type(field, "a list of integers", v, Location::Whole))?;
    if items.is_empty() {
        return Err(Problem::Empty {
            field: field.to_string(),
            at: Location::Whole,
        });
    }
    items
        .iter()
        .enumerate()
        .map(|(i, e)| int_in(field, e, lo, hi, Location::Element(i)))
        .collect()
}

/// A non-empty, rectangular list of non-empty rows of integers in `lo..=hi`.
fn int_rows(field: &str, v: &Value, lo: i128, hi: i128) -> Result<Vec<Vec<i128>>, Problem> {
    let rows = v
        .as_array()
        .ok_or_else(|| wrong_type(field, "a list of rows", v, Location::Whole))?;
    if rows.is_empty() {
        return Err(Problem::Empty {
            field: field.to_string(),
            at: Location::Whole,
        });
    }
    let mut out = Vec::with_capacity(rows.len());
    let mut first = 0;
    for (i, row) in rows.iter().enumerate() {
        let items = row.as_array().ok_or_else(|| {
            wrong_type(field, "a row (a list of integers)", row, Location::Row(i))
        })?;
        if items.is_empty() {
            return Err(Problem::Empty {
                field: field.to_string(),
                at: Location::Row(i),
            });
        }
        if i == 0 {
            first = items.len();
        } else if items.len() != first {
            return Err(Problem::Ragged {
                field: field.to_string(),
                row: i,
                len: items.len(),
                first,
            });
        }
        out.push(
            items
                .iter()
                .enumerate()
                .map(|(j, e)| int_in(field, e, lo, hi, Location::Cell(i, j)))
                .collect::<Result<Vec<_>, _>>()?,
        );
    }
    Ok(out)
}

fn to_i32_rows(rows: Vec<Vec<i128>>) -> Vec<Vec<i32>> {
    rows.into_iter()
        .map(|r| r.into_iter().map(|v| v as i32).collect())
        .collect()
}

fn to_i64_rows(rows: Vec<Vec<i128>>) -> Vec<Vec<i64>> {
    rows.into_iter()
        .map(|r| r.into_iter().map(|v| v as i64).collect())
        .collect()
}

fn to_u32(v: Vec<i128>) -> Vec<u32> {
    v.into_iter().map(|v| v as u32).collect()
}

const I32: (i128, i128) = (i32::MIN as i128, i32::MAX as i128);
const INT16: (i128, i128) = (i16::MIN as i128, i16::MAX as i128);
const INT8: (i128, i128) = (-128, 127);
const UINT16: (i128, i128) = (0, 65535);

fn shape_of<T>(rows: &[Vec<T>]) -> (usize, usize) {
    (rows.len(), rows.first().map_or(0, Vec::len))
}

/// `m`/`c`-style per-channel list: length 1 or the row length.
fn check_channels(field: &str, len: usize, row_len: usize) -> Result<(), Problem> {
    if len == 1 || len == row_len {
        Ok(())
    } else {
        Err(Problem::ChannelLength {
            field: field.to_string(),
            len,
            row_len,
        })
    }
}

fn check_same_shape(
    field: &str,
    got: (usize, usize),
    other: &str,
    want: (usize, usize),
) -> Result<(), Problem> {
    if got == want {
        Ok(())
    } else {
        Err(Problem::Shape {
            field: field.to_string(),
            detail: format!(
                "shape {}x{} does not match the shape {}x{} of {other:?}",
                got.0, got.1, want.0, want.1
            ),
        })
    }
}

/// `y` as rows of the given shape with values in `lo..=hi`.
fn output_rows(
    obj: &Map<String, Value>,
    shape: (usize, usize),
    range: (i128, i128),
) -> Result<Option<Output>, Problem> {
    let Some(v) = obj.get("y") else {
        return Ok(None);
    };
    let rows = int_rows("y", v, range.0, range.1)?;
    let got = shape_of(&rows);
    if got != shape {
        return Err(Problem::Shape {
            field: "y".to_string(),
            detail: format!(
                "shape {}x{} does not match the output shape {}x{}",
                got.0, got.1, shape.0, shape.1
            ),
        });
    }
    Ok(Some(Output::Rows(to_i64_rows(rows))))
}

fn bits_param(params: &Map<String, Value>) -> Result<u32, Problem> {
    let v = get(params, "bits")?;
    let n = as_int(v).ok_or_else(|| wrong_type("bits", "an integer", v, Location::Whole))?;
    match n {
        8 | 16 => Ok(n as u32),
        _ => Err(Problem::NotAllowed {
            field: "bits".to_string(),
            value: v.to_string(),
            allowed: "8, 16",
        }),
    }
}

fn rounding_param(params: &Map<String, Value>) -> Result<Rounding, Problem> {
    let v = get(params, "rounding")?;
    let s = v
        .as_str()
        .ok_or_else(|| wrong_type("rounding", "a string", v, Location::Whole))?;
    s.parse().map_err(|_| Problem::NotAllowed {
        field: "rounding".to_string(),
        value: v.to_string(),
        allowed: "half-even, half-up",
    })
}

const M_RANGE: (i128, i128) = (1, M_MAX as i128);
const C_RANGE: (i128, i128) = (0, C_MAX as i128);

fn channel_param(
    params: &Map<String, Value>,
    field: &str,
    range: (i128, i128),
) -> Result<Vec<u32>, Problem> {
    Ok(to_u32(int_list(
        field,
        get(params, field)?,
        range.0,
        range.1,
    )?))
}

fn bits_range(bits: u32) -> (i128, i128) {
    (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
}

// -------------------------------------------------------------------------------------------------
// Per-op validation.

fn parse_requant(
    obj: &Map<String, Value>,
    params: &Map<String, Value>,
) -> Result<(CaseData, Option<Output>), Problem> {
    let m = channel_param(params, "m", M_RANGE)?;
    let c = channel_param(params, "c", C_RANGE)?;
    let bits = bits_param(params)?;
    let rounding = rounding_param(params)?;
    let x = int_rows("x", get(obj, "x")?, I32.0, I32.1)?;
    let shape = shape_of(&x);
    check_channels("m", m.len(), shape.1)?;
    check_channels("c", c.len(), shape.1)?;
    let y = output_rows(obj, shape, bits_range(bits))?;
    let x = to_i32_rows(x);
    Ok((
        CaseData::Requant {
            m,
            c,
            bits,
            rounding,
            x,
        },
        y,
    ))
}

fn parse_requant_add(
    obj: &Map<String, Value>,
    params: &Map<String, Value>,
) -> Result<(CaseData, Option<Output>), Problem> {
    let m = channel_param(params, "m", M_RANGE)?;
    let c = channel_param(params, "c", C_RANGE)?;
    let m1 = channel_param(params, "m1", M_RANGE)?;
    let c1 = channel_param(params, "c1", C_RANGE)?;
    let bits = bits_param(params)?;
    let rounding = rounding_param(params)?;
    let x = int_rows("x", get(obj, "x")?, I32.0, I32.1)?;
    let shape = shape_of(&x);
    for (field, len) in [
        ("m", m.len()),
        ("c", c.len()),
        ("m1", m1.len()),
        ("c1", c1.len()),
    ] {
        check_channels(field, len, shape.1)?;
    }
    let z = int_rows("z", get(obj, "z")?, I32.0, I32.1)?;
    check_same_shape("z", shape_of(&z), "x", shape)?;
    let y = output_rows(obj, shape, bits_range(bits))?;
    Ok((
        CaseData::RequantAdd {
            m,
            c,
            m1,
            c1,
            bits,
            rounding,
            x: to_i32_rows(x),
            z: to_i32_rows(z),
        },
        y,
    ))
}

fn parse_matmul(
    obj: &Map<String, Value>,
    params: &Map<String, Value>,
) -> Result<(CaseData, Option<Output>), Problem> {
    let sv = get(params, "a_signed")?;
    let a_signed = sv
        .as_bool()
        .ok_or_else(|| wrong_type("a_signed", "a boolean", sv, Location::Whole))?;
    let a_range = if a_signed { INT8 } else { UINT16 };
    let a = int_rows("a", get(obj, "a")?, a_range.0, a_range.1)?;
    let (m, k) = shape_of(&a);
    let b = int_rows("b", get(obj, "b")?, INT8.0, INT8.1)?;
    let (kb, n) = shape_of(&b);
    if kb != k {
        return Err(Problem::Shape {
            field: "b".to_string(),
            detail: format!("has {kb} rows, expected K = {k} (the row length of \"a\")"),
        });
    }
    let bias = int_list("bias", get(obj, "bias")?, I32.0, I32.1)?;
    if bias.len() != n {
        return Err(Problem::Shape {
            field: "bias".to_string(),
            detail: format!(
                "has {} elements, expected N = {n} (the row length of \"b\")",
                bias.len()
            ),
        });
    }
    let y = output_rows(obj, (m, n), I32)?;
    Ok((
        CaseData::Matmul {
            a_signed,
            a: to_i32_rows(a),
            b: to_i32_rows(b),
            bias: bias.into_iter().map(|v| v as i32).collect(),
        },
        y,
    ))
}

/// Default `n` of `shiftmax` when `params` omit it (integer-ops.md: "`n = 15`").
pub const SHIFTMAX_DEFAULT_N: u32 = 15;
/// Default `n` of `shiftgelu` when `params` omit it (integer-ops.md: "`n = 23`").
pub const SHIFTGELU_DEFAULT_N: u32 = 23;

/// Maps a failed golden-model check to [`Problem::Golden`] on `field`.
fn golden_check<E: fmt::Display>(field: &str, r: Result<(), E>) -> Result<(), Problem> {
    r.map_err(|e| Problem::Golden {
        field: field.to_string(),
        detail: e.to_string(),
    })
}

/// An integer param in `lo..=hi`; `default` when absent (`None`: required).
fn int_param(
    params: &Map<String, Value>,
    field: &str,
    (lo, hi): (i128, i128),
    default: Option<i128>,
) -> Result<i128, Problem> {
    match (params.get(field), default) {
        (Some(v), _) => int_in(field, v, lo, hi, Location::Whole),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(Problem::MissingField {
            field: field.to_string(),
        }),
    }
}

/// A string param naming one of a fixed set of values (`allowed` lists them for the message);
/// `default` when absent (`None`: required).
fn name_param<T>(
    params: &Map<String, Value>,
    field: &str,
    allowed: &'static str,
    default: Option<T>,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, Problem> {
    let v = match (params.get(field), default) {
        (Some(v), _) => v,
        (None, Some(d)) => return Ok(d),
        (None, None) => {
            return Err(Problem::MissingField {
                field: field.to_string(),
            })
        }
    };
    let s = v
        .as_str()
        .ok_or_else(|| wrong_type(field, "a string", v, Location::Whole))?;
    parse(s).ok_or_else(|| Problem::NotAllowed {
        field: field.to_string(),
        value: v.to_string(),
        allowed,
    })
}

/// `x0` and `n` of the exp_shift ops (the golden model's ranges, vectors.md).
fn exp_shift_params(params: &Map<String, Value>, default_n: u32) -> Result<(i64, u32), Problem> {
    let x0 = int_param(params, "x0", (X0_MIN as i128, X0_MAX as i128), None)? as i64;
    let n = int_param(
        params,
        "n",
        (N_MIN as i128, N_MAX as i128),
        Some(default_n as i128),
    )? as u32;
    Ok((x0, n))
}

/// The field an exp_shift parameter error is about.
fn exp_shift_field(e: &ExpShiftParamError) -> &'static str {
    match e {
        ExpShiftParamError::X0 { .. } => "x0",
        ExpShiftParamError::N { .. } => "n",
    }
}

/// The field a Shiftmax check error is about.
fn shiftmax_field(e: &ShiftmaxError) -> &'static str {
    match e {
        ShiftmaxError::Params(p) => exp_shift_field(p),
        ShiftmaxError::OutBits { .. } => "out_bits",
        ShiftmaxError::EmptyRow | ShiftmaxError::Input { .. } => "x",
    }
}

/// The field a ShiftGELU check error is about.
fn shiftgelu_field(e: &ShiftgeluError) -> &'static str {
    match e {
        ShiftgeluError::Params(p) => exp_shift_field(p),
        ShiftgeluError::EmptyRow
        | ShiftgeluError::Input { .. }
        | ShiftgeluError::InputWide { .. } => "x",
    }
}

fn parse_shiftmax(
    obj: &Map<String, Value>,
    params: &Map<String, Value>,
) -> Result<(CaseData, Option<Output>), Problem> {
    let (x0, n) = exp_shift_params(params, SHIFTMAX_DEFAULT_N)?;
    let ov = get(params, "out_bits")?;
    let out_bits = match as_int(ov) {
        Some(b)
            if golden::shiftmax::OUT_BITS_ALLOWED
                .iter()
                .any(|&a| a as i128 == b) =>
        {
            b as u32
        }
        Some(_) => {
            return Err(Problem::NotAllowed {
                field: "out_bits".to_string(),
                value: ov.to_string(),
                allowed: "8, 16",
            })
        }
        None => return Err(wrong_type("out_bits", "an integer", ov, Location::Whole)),
    };
    if let Err(e) = check_shiftmax_params(x0, n, out_bits) {
        golden_check(shiftmax_field(&e), Err(e))?;
    }
    let x = to_i32_rows(int_rows("x", get(obj, "x")?, INT8.0, INT8.1)?);
    for row in &x {
        if let Err(e) = check_shiftmax_row(row) {
            golden_check(shiftmax_field(&e), Err(e))?;
        }
    }
    let y = output_rows(obj, shape_of(&x), (0, 1i128 << (out_bits - 1)))?;
    Ok((CaseData::Shiftmax { x0, n, out_bits, x }, y))
}

fn parse_shiftgelu(
    obj: &Map<String, Value>,
    params: &Map<String, Value>,
) -> Result<(CaseData, Option<Output>), Problem> {
    let (x0, n) = exp_shift_params(params, SHIFTGELU_DEFAULT_N)?;
    if let Err(e) = check_shiftgelu_params(x0, n) {
        golden_check(shiftgelu_field(&e), Err(e))?;
    }
    let x = to_i32_rows(int_rows("x", get(obj, "x")?, INT8.0, INT8.1)?);
    for row in &x {
        if let Err(e) = check_shiftgelu_row(row) {
            golden_check(shiftgelu_field(&e), Err(e))?;
        }
    }
    let y = output_rows(obj, shape_of(&x), INT16)?;
    Ok((CaseData::Shiftgelu { x0, n, x }, y))
}

fn parse_layernorm(
    obj: &Map<String, Value>,
    params: &Map<String, Value>,
) -> Result<(CaseData, Option<Output>), Problem> {
    let bias: Vec<i32> = int_list("bias", get(params, "bias")?, I32.0, I32.1)?
        .into_iter()
        .map(|v| v as i32)
        .collect();
    let sqrt: SqrtMode = name_param(params, "sqrt", "ivit, exact", Some(SqrtMode::Ivit), |s| {
        s.parse().ok()
    })?;
    let x = to_i32_rows(int_rows("x", get(obj, "x")?, INT16.0, INT16.1)?);
    let shape = shape_of(&x);
    if shape.1 > golden::layernorm::C_MAX {
        return Err(Problem::Shape {
            field: "x".to_string(),
            detail: format!(
                "row length {} out of range 1..={}",
                shape.1,
                golden::layernorm::C_MAX
            ),
        });
    }
    if bias.len() != shape.1 {
        return Err(Problem::Shape {
            field: "bias".to_string(),
            detail: format!(
                "length {} does not match the row length {}",
                bias.len(),
                shape.1
            ),
        });
    }
    for row in &x {
        if let Err(e) = check_layernorm_inputs(row, &bias) {
            let field = match e {
                LayerNormError::BiasLength { .. } => "bias",
                _ => "x",
            };
            golden_check(field, Err(e))?;
        }
    }
    let y = output_rows(obj, shape, I32)?;
    Ok((CaseData::Layernorm { bias, sqrt, x }, y))
}

/// A non-empty flat list of bit patterns of `format`: non-negative integers that fit its
/// `1 + E + M` bits (golden [`check_operand`]).
fn bit_patterns(field: &str, v: &Value, format: Format) -> Result<Vec<u32>, Problem> {
    let items = v
        .as_array()
        .ok_or_else(|| wrong_type(field, "a list of integers", v, Location::Whole))?;
    if items.is_empty() {
        return Err(Problem::Empty {
            field: field.to_string(),
            at: Location::Whole,
        });
    }
    let max = (1i128 << format.bits()) - 1;
    items
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let at = Location::Element(i);
            let n = as_int(e).ok_or_else(|| wrong_type(field, "an integer", e, at))?;
            if n < 0 {
                return Err(Problem::OutOfRange {
                    field: field.to_string(),
                    value: n,
                    range: format!("0..={max}"),
                    at,
                });
            }
            match u32::try_from(n) {
                Ok(p) if check_operand(format, field, p).is_ok() => Ok(p),
                _ => Err(Problem::DoesNotFit {
                    field: field.to_string(),
                    value: n,
                    at,
                    bits: format.bits(),
                    format: format.name(),
                }),
            }
        })
        .collect()
}

/// `lmul` and `fmul`: `format`, (`l`,) `overflow`, then `a`, `b` and `y`.
fn parse_float(
    op: Op,
    obj: &Map<String, Value>,
    params: &Map<String, Value>,
) -> Result<(CaseData, Option<Output>), Problem> {
    let format = name_param(params, "format", "e4m3, e5m2, bf16", None, |s| {
        Format::from_name(s).ok()
    })?;
    let l = if op == Op::Lmul {
        let l = int_param(
            params,
            "l",
            (L_MIN as i128, L_MAX as i128),
            Some(format.default_l() as i128),
        )? as u32;
        golden_check("l", check_l(l))?;
        l
    } else {
        0
    };
    let overflow: Overflow = name_param(
        params,
        "overflow",
        "saturate, ieee",
        Some(Overflow::default()),
        |s| s.parse().ok(),
    )?;
    let a = bit_patterns("a", get(obj, "a")?, format)?;
    let b = bit_patterns("b", get(obj, "b")?, format)?;
    if b.len() != a.len() {
        return Err(Problem::Shape {
            field: "b".to_string(),
            detail: format!(
                "length {} does not match the length {} of \"a\"",
                b.len(),
                a.len()
            ),
        });
    }
    let y = match obj.get("y") {
        None => None,
        Some(v) => {
            let y = bit_patterns("y", v, format)?;
            if y.len() != a.len() {
                return Err(Problem::Shape {
                    field: "y".to_string(),
                    detail: format!(
                        "length {} does not match the output length {}",
                        y.len(),
                        a.len()
                    ),
                });
            }
            Some(Output::Flat(y.into_iter().map(u64::from).collect()))
        }
    };
    let data = match op {
        Op::Lmul => CaseData::Lmul {
            format,
            l,
            overflow,
            a,
            b,
        },
        _ => CaseData::Fmul {
            format,
            overflow,
            a,
            b,
        },
    };
    Ok((data, y))
}

/// Validates one JSON line into a case (without its line number).
fn parse_case(text: &str, line: usize) -> Result<Case, Problem> {
    let raw: Value = serde_json::from_str(text).map_err(|e| Problem::InvalidJson(e.to_string()))?;
    let obj = raw.as_object().ok_or_else(|| Problem::NotAnObject {
        found: describe(&raw),
    })?;
    let op_v = get(obj, "op")?;
    let op: Op = op_v
        .as_str()
        .ok_or_else(|| wrong_type("op", "a string", op_v, Location::Whole))?
        .parse()?;
    let unknown: Vec<String> = obj
        .keys()
        .filter(|k| !op.fields().contains(&k.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(Problem::UnknownFields {
            op,
            fields: unknown,
        });
    }
    let name = match obj.get("name") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => return Err(wrong_type("name", "a string", v, Location::Whole)),
    };
    let pv = get(obj, "params")?;
    let params = pv
        .as_object()
        .ok_or_else(|| wrong_type("params", "an object", pv, Location::Whole))?;
    let unknown: Vec<String> = params
        .keys()
        .filter(|k| !op.params().contains(&k.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(Problem::UnknownParams {
            op,
            params: unknown,
        });
    }
    let (data, y) = match op {
        Op::Requant => parse_requant(obj, params)?,
        Op::RequantAdd => parse_requant_add(obj, params)?,
        Op::Matmul => parse_matmul(obj, params)?,
        Op::Shiftmax => parse_shiftmax(obj, params)?,
        Op::Shiftgelu => parse_shiftgelu(obj, params)?,
        Op::Layernorm => parse_layernorm(obj, params)?,
        Op::Lmul => parse_float(Op::Lmul, obj, params)?,
        Op::Fmul => parse_float(Op::Fmul, obj, params)?,
    };
    Ok(Case {
        line,
        name,
        op,
        data,
        y,
        raw,
    })
}

fn is_comment_or_blank(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

impl VectorFile {
    /// Reads and fully validates `path`; messages name the path as given.
    pub fn read(path: &Path) -> Result<VectorFile, VectorError> {
        let text = std::fs::read_to_string(path).map_err(|source| VectorError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        let mut file = VectorFile::parse(&path.display().to_string(), &text)?;
        file.path = path.to_path_buf();
        Ok(file)
    }

    /// Parses and fully validates `text`; `name` is the `FILE` of error messages (and becomes
    /// [`VectorFile::path`]). Returns the first problem, in line order.
    pub fn parse(name: &str, text: &str) -> Result<VectorFile, VectorError> {
        let mut lines = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if is_comment_or_blank(line) {
                lines.push(Line::Comment(line.to_string()));
                continue;
            }
            let case = parse_case(line, i + 1).map_err(|problem| VectorError::Invalid {
                file: name.to_string(),
                line: i + 1,
                problem: Box::new(problem),
            })?;
            lines.push(Line::Case(case));
        }
        Ok(VectorFile {
            path: PathBuf::from(name),
            lines,
        })
    }

    /// The cases, in file order (comments and blank lines skipped).
    pub fn cases(&self) -> impl Iterator<Item = &Case> {
        self.lines.iter().filter_map(|l| match l {
            Line::Case(c) => Some(c),
            Line::Comment(_) => None,
        })
    }

    /// The file's text with each case's `y` replaced by `outputs[i]` (case index `i`; `None` keeps the
    /// case's own `y`, or its absence). Other fields keep their order; comments and blank lines are
    /// kept verbatim; every line ends with `\n`.
    pub fn render_with_outputs(&self, outputs: &[Option<Output>]) -> Result<String, VectorError> {
        let n_cases = self.cases().count();
        if outputs.len() != n_cases {
            return Err(VectorError::OutputCount {
                path: self.path.clone(),
                given: outputs.len(),
                cases: n_cases,
            });
        }
        let mut text = String::new();
        let mut outputs = outputs.iter();
        for line in &self.lines {
            match line {
                Line::Comment(s) => text.push_str(s),
                Line::Case(case) => {
                    let mut raw = case.raw.clone();
                    if let Some(out) = outputs.next().expect("counted above") {
                        let (expected, got) = match (case.op.family(), out) {
                            (Family::Flat, Output::Rows(_)) => ("a flat list", "rows"),
                            (Family::Rows | Family::Matrix, Output::Flat(_)) => {
                                ("rows", "a flat list")
                            }
                            _ => ("", ""),
                        };
                        if !expected.is_empty() {
                            return Err(VectorError::OutputKind {
                                file: self.path.display().to_string(),
                                line: case.line,
                                op: case.op,
                                expected,
                                got,
                            });
                        }
                        if let Value::Object(map) = &mut raw {
                            map.insert("y".to_string(), out.to_json());
                        }
                    }
                    text.push_str(&serde_json::to_string(&raw).expect("a JSON value serializes"));
                }
            }
            text.push('\n');
        }
        Ok(text)
    }

    /// Writes the file to `out` with each case's `y` replaced by the given outputs (by case index;
    /// `None` keeps the case's own `y`), atomically: the text goes to a temporary file in `out`'s
    /// directory, which is then renamed over `out`, so a failure leaves no half-written file.
    pub fn write_with_outputs(
        &self,
        out: &Path,
        outputs: &[Option<Output>],
    ) -> Result<(), VectorError> {
        let text = self.render_with_outputs(outputs)?;
        let io = |action: &'static str| {
            move |source: std::io::Error| VectorError::Io {
                action,
                path: out.to_path_buf(),
                source,
            }
        };
        let dir = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".itx-vectors-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(io("create a temporary file for"))?;
        tmp.write_all(text.as_bytes()).map_err(io("write"))?;
        // A temporary file is created 0600; give the result the usual permissions of a data file
        // (or keep those of the file it replaces).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let perms = std::fs::metadata(out)
                .map(|m| m.permissions())
                .unwrap_or_else(|_| std::fs::Permissions::from_mode(0o644));
            tmp.as_file().set_permissions(perms).map_err(io("write"))?;
        }
        tmp.as_file().sync_all().map_err(io("write"))?;
        tmp.persist(out).map_err(|e| io("write")(e.error))?;
        Ok(())
    }
}
