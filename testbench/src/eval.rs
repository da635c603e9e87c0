//! Golden evaluation of vector cases: run the golden model on a validated [`Case`] and compare with its
//! `y`.
//!
//! Every op has a golden model: row ops (`requant`, `requant_add`, `matmul`, `shiftmax`, `shiftgelu`,
//! `layernorm`) give [`Output::Rows`], the float ops (`lmul`, `fmul`) [`Output::Flat`]. A case without
//! `y` is computed and reported, not compared (it counts as passed in the [`Summary`]).

use crate::vectors::{Case, CaseData, Op, Output};
use golden::fmul::fmul;
use golden::layernorm::{layernorm, layernorm_stats};
use golden::lmul::lmul;
use golden::matmul::matmul;
use golden::requant::{channel, requant_add_rows, requant_rows};
use golden::shiftgelu::shiftgelu;
use golden::shiftmax::shiftmax;
use std::fmt;

/// The outcome of one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The golden output equals `y`.
    Pass,
    /// The golden output differs from `y`; `detail` names the first mismatching element.
    Fail { detail: String },
    /// The case had no `y`: the output was computed, nothing compared.
    Computed,
    /// The case was not run. [`eval_case`] no longer produces it (every op has a golden model); callers
    /// that skip cases for other reasons (e.g. no hardware block) still count it.
    Skipped,
}

/// One case's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseResult {
    /// 1-based line number in the vector file.
    pub line: usize,
    pub name: Option<String>,
    pub op: Op,
    /// The golden output (`None` when skipped; [`eval_case`] always computes it).
    pub output: Option<Output>,
    pub verdict: Verdict,
}

fn widen(rows: Vec<Vec<i32>>) -> Output {
    Output::Rows(
        rows.into_iter()
            .map(|r| r.into_iter().map(i64::from).collect())
            .collect(),
    )
}

/// The golden model's output for a case: rows for the row ops, a flat list for `lmul` / `fmul`. Every
/// op has a golden model, so this is always `Some` (the `Option` is kept for callers that pass it on
/// to [`crate::vectors::VectorFile::write_with_outputs`], where `None` keeps a case's own `y`).
///
/// The case must satisfy the rules [`crate::vectors::VectorFile::parse`] checks (the golden functions
/// panic otherwise).
pub fn golden_output(case: &Case) -> Option<Output> {
    match &case.data {
        CaseData::Requant {
            m,
            c,
            bits,
            rounding,
            x,
        } => Some(widen(requant_rows(x, m, c, *bits, *rounding))),
        CaseData::RequantAdd {
            m,
            c,
            m1,
            c1,
            bits,
            rounding,
            x,
            z,
        } => Some(widen(requant_add_rows(
            x, z, m, c, m1, c1, *bits, *rounding,
        ))),
        CaseData::Matmul { a, b, bias, .. } => Some(widen(matmul(a, b, bias))),
        CaseData::Shiftmax { x0, n, out_bits, x } => Some(Output::Rows(
            x.iter()
                .map(|row| shiftmax(row, *x0, *n, *out_bits))
                .collect(),
        )),
        CaseData::Shiftgelu { x0, n, x } => Some(Output::Rows(
            x.iter().map(|row| shiftgelu(row, *x0, *n)).collect(),
        )),
        CaseData::Layernorm { bias, sqrt, x } => Some(Output::Rows(
            x.iter().map(|row| layernorm(row, bias, *sqrt)).collect(),
        )),
        CaseData::Lmul {
            format,
            l,
            overflow,
            a,
            b,
        } => Some(Output::Flat(
            a.iter()
                .zip(b)
                .map(|(&a, &b)| u64::from(lmul(*format, *l, *overflow, a, b)))
                .collect(),
        )),
        CaseData::Fmul {
            format,
            overflow,
            a,
            b,
        } => Some(Output::Flat(
            a.iter()
                .zip(b)
                .map(|(&a, &b)| u64::from(fmul(*format, *overflow, a, b)))
                .collect(),
        )),
    }
}

/// The largest element of a row (for failure messages of the ops that subtract it).
fn row_max(row: &[i32]) -> i32 {
    row.iter().copied().max().unwrap_or(0)
}

/// The inputs that produced element `(i, j)` of a row output, for a failure message.
fn inputs_at(data: &CaseData, i: usize, j: usize) -> String {
    match data {
        CaseData::Requant { m, c, x, .. } => format!(
            "x = {}, m = {}, c = {}",
            x[i][j],
            channel(m, j),
            channel(c, j)
        ),
        CaseData::RequantAdd {
            m, c, m1, c1, x, z, ..
        } => format!(
            "x = {}, z = {}, m = {}, c = {}, m1 = {}, c1 = {}",
            x[i][j],
            z[i][j],
            channel(m, j),
            channel(c, j),
            channel(m1, j),
            channel(c1, j)
        ),
        CaseData::Matmul {
            a_signed, a, bias, ..
        } => format!(
            "row {i} of \"a\" times column {j} of \"b\", K = {}, bias = {}, a_signed = {a_signed}",
            a[i].len(),
            bias[j]
        ),
        CaseData::Shiftmax { x0, n, out_bits, x } => format!(
            "x = {}, row max = {}, x0 = {x0}, n = {n}, out_bits = {out_bits}",
            x[i][j],
            row_max(&x[i])
        ),
        CaseData::Shiftgelu { x0, n, x } => format!(
            "x = {}, row max = {}, x0 = {x0}, n = {n}",
            x[i][j],
            row_max(&x[i])
        ),
        CaseData::Layernorm { bias, sqrt, x } => {
            let st = layernorm_stats(&x[i], *sqrt);
            format!(
                "x = {}, bias = {}, row mean = {}, var = {}, std = {} ({sqrt}), factor = {}",
                x[i][j], bias[j], st.mean, st.var, st.std, st.factor
            )
        }
        CaseData::Lmul { .. } | CaseData::Fmul { .. } => String::new(),
    }
}

/// The inputs that produced element `k` of a flat output, for a failure message.
fn inputs_at_flat(data: &CaseData, k: usize) -> String {
    match data {
        CaseData::Lmul {
            format,
            l,
            overflow,
            a,
            b,
        } => format!(
            "a = {} ({:#x}), b = {} ({:#x}), format = {format}, l = {l}, overflow = {overflow}",
            a[k], a[k], b[k], b[k]
        ),
        CaseData::Fmul {
            format,
            overflow,
            a,
            b,
        } => format!(
            "a = {} ({:#x}), b = {} ({:#x}), format = {format}, overflow = {overflow}",
            a[k], a[k], b[k], b[k]
        ),
        _ => String::new(),
    }
}

/// Compares two flat outputs of equal length: `None` when equal, else the failure detail.
fn compare_flat(case: &Case, want: &[u64], got: &[u64]) -> Option<String> {
    let mut first = None;
    let mut count = 0usize;
    for (k, (&w, &g)) in want.iter().zip(got).enumerate() {
        if w != g {
            count += 1;
            first.get_or_insert((k, w, g));
        }
    }
    first.map(|(k, w, g)| {
        format!(
            "element {k}: {}: expected {w} ({w:#x}), got {g} ({g:#x}) ({count} of {} elements differ)",
            inputs_at_flat(&case.data, k),
            want.len()
        )
    })
}

/// Compares golden output `got` with the expected `want`; `None` when equal, else the failure detail.
fn compare(case: &Case, want: &Output, got: &Output) -> Option<String> {
    if let (Output::Flat(w), Output::Flat(g)) = (want, got) {
        if w.len() != g.len() {
            return Some(format!(
                "output shape differs: expected {}, got {}",
                want.shape(),
                got.shape()
            ));
        }
        return compare_flat(case, w, g);
    }
    let (Output::Rows(want_rows), Output::Rows(got_rows)) = (want, got) else {
        return (want != got).then(|| {
            format!(
                "output kind or shape differs: expected {}, got {}",
                want.shape(),
                got.shape()
            )
        });
    };
    if want.shape() != got.shape()
        || want_rows
            .iter()
            .zip(got_rows)
            .any(|(w, g)| w.len() != g.len())
    {
        return Some(format!(
            "output shape differs: expected {}, got {}",
            want.shape(),
            got.shape()
        ));
    }
    let mut first = None;
    let mut count = 0usize;
    let mut total = 0usize;
    for (i, (w_row, g_row)) in want_rows.iter().zip(got_rows).enumerate() {
        for (j, (&w, &g)) in w_row.iter().zip(g_row).enumerate() {
            total += 1;
            if w != g {
                count += 1;
                first.get_or_insert((i, j, w, g));
            }
        }
    }
    first.map(|(i, j, w, g)| {
        format!(
            "row {i}, column {j}: {}: expected {w}, got {g} ({count} of {total} elements differ)",
            inputs_at(&case.data, i, j)
        )
    })
}

/// Runs the golden model on one case: a case without `y` gives [`Verdict::Computed`], otherwise the
/// output is compared with `y` ([`Verdict::Fail`] names the first mismatching element, by row and
/// column for rows or by index for flat lists, with its inputs, expected and actual values, and how
/// many elements mismatch in total).
pub fn eval_case(case: &Case) -> CaseResult {
    let output = golden_output(case);
    let verdict = match (&output, &case.y) {
        (None, _) => Verdict::Skipped,
        (Some(_), None) => Verdict::Computed,
        (Some(got), Some(want)) => match compare(case, want, got) {
            None => Verdict::Pass,
            Some(detail) => Verdict::Fail { detail },
        },
    };
    CaseResult {
        line: case.line,
        name: case.name.clone(),
        op: case.op,
        output,
        verdict,
    }
}

/// Case counts; [`Verdict::Computed`] counts as passed. Displays as `"N passed, M failed, K skipped"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Summary {
    /// Counts one verdict.
    pub fn record(&mut self, verdict: &Verdict) {
        match verdict {
            Verdict::Pass | Verdict::Computed => self.passed += 1,
            Verdict::Fail { .. } => self.failed += 1,
            Verdict::Skipped => self.skipped += 1,
        }
    }

    /// The counts of a list of results.
    pub fn of<'a>(results: impl IntoIterator<Item = &'a CaseResult>) -> Summary {
        let mut s = Summary::default();
        for r in results {
            s.record(&r.verdict);
        }
        s
    }

    /// No case failed.
    pub fn ok(&self) -> bool {
        self.failed == 0
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}
