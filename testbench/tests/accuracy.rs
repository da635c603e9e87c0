//! `testbench::accuracy` against the figures of the specs: L-Mul and exact-multiplier error
//! (`lmul.md`, "Error: the numbers to reproduce"), the paper's truncated-mantissa experiment, and the
//! nonlinear ops against their float references (`integer-ops.md`, "Accuracy references"). The
//! report renders and its JSON round-trips. No timing assertions.

use golden::float_format::Format;
use golden::layernorm::SqrtMode;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use testbench::accuracy::*;

const QUICK: usize = 100_000;

fn in_range(what: &str, x: f64, lo: f64, hi: f64) {
    assert!(
        (lo..=hi).contains(&x),
        "{what} = {x:.5} outside [{lo}, {hi}]"
    );
}

#[test]
fn lmul_e4m3_exhaustive_default_l_and_offset_0() {
    let s = lmul_error(Format::E4M3, 3, PairSet::Normal, None);
    in_range("e4m3 l=3 mean rel (spec ~5.2%)", s.mean_rel, 0.045, 0.06);
    in_range("e4m3 l=3 bias (spec +4.9%)", s.mean_signed, 0.04, 0.06);
    let s0 = lmul_error(Format::E4M3, 4, PairSet::Normal, None);
    in_range(
        "e4m3 offset 0 mean rel (spec ~3.8%)",
        s0.mean_rel,
        0.03,
        0.045,
    );
}

#[test]
fn lmul_e5m2_exhaustive_default_l() {
    let s = lmul_error(Format::E5M2, 2, PairSet::Normal, None);
    in_range("e5m2 l=2 mean rel (spec ~14.7%)", s.mean_rel, 0.13, 0.16);
}

#[test]
fn lmul_bf16_sampled_default_l() {
    let s = lmul_error(Format::BF16, 4, PairSet::Normal, Some((QUICK, SEED_BF16)));
    in_range("bf16 l=4 mean rel (spec ~2.65%)", s.mean_rel, 0.02, 0.032);
    // Uniform patterns: about 3/4 of the pairs have a finite normal result.
    assert!(s.n > QUICK as u64 / 2 && s.n < QUICK as u64, "n = {}", s.n);
}

/// Round to nearest at M bits is within half an ulp: relative error <= 2^-(M+1).
#[test]
fn exact_multiplier_max_error_is_half_an_ulp() {
    for (fmt, samples) in [
        (Format::E4M3, None),
        (Format::E5M2, None),
        (Format::BF16, Some((QUICK, SEED_BF16))),
    ] {
        let s = fmul_error(fmt, PairSet::Normal, samples);
        let bound = 0.5f64.powi(fmt.m as i32 + 1);
        assert!(
            s.max_rel <= bound,
            "{fmt}: max rel {} > 2^-{}",
            s.max_rel,
            fmt.m + 1
        );
        assert!(s.n > 0 && s.mean_rel < bound);
    }
}

/// The sets are nested: own normal results within the non-saturated pairs within all normal
/// operands; the wider sets count flushed results at error 1.
#[test]
fn pair_sets_are_nested() {
    let f = Format::E4M3;
    let n = lmul_error(f, 3, PairSet::Normal, None);
    let ns = lmul_error(f, 3, PairSet::NotSaturated, None);
    let all = lmul_error(f, 3, PairSet::NormalOperands, None);
    assert!(n.n < ns.n && ns.n < all.n);
    assert_eq!(
        all.n,
        238 * 238,
        "e4m3 has 2 NaN and 16 zero/subnormal codes"
    );
    assert!(n.max_rel < 1.0 && ns.max_rel == 1.0 && all.max_rel == 1.0);
    assert!(n.mean_rel < ns.mean_rel && ns.mean_rel < all.mean_rel);
}

/// A naive reference for `round_to_format`: the nearest of all finite normal codes, ties to the
/// even mantissa field.
fn nearest_code(fmt: Format, x: f64) -> u32 {
    let mut best: Option<(f64, u32)> = None;
    for code in 0..1u32 << fmt.bits() {
        if fmt.is_nan(code) || fmt.is_inf(code) || fmt.is_zero_or_subnormal(code) {
            continue;
        }
        let d = (fmt.to_f64(code) - x).abs();
        best = match best {
            Some((bd, bc)) if bd < d || (bd == d && fmt.man_field(bc) & 1 == 0) => Some((bd, bc)),
            _ => Some((d, code)),
        };
    }
    best.unwrap().1
}

#[test]
fn round_to_format_matches_nearest_code_scan() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for fmt in [Format::E4M3, Format::E5M2] {
        // Random values inside the normal range, and every midpoint between neighbouring codes.
        let mut xs: Vec<f64> = (0..20_000)
            .map(|_| {
                let v = (1.0 + rng.gen::<f64>()) * 2f64.powi(rng.gen_range(-6..=7));
                if rng.gen() {
                    -v
                } else {
                    v
                }
            })
            .collect();
        for code in 1 << fmt.m..fmt.max_finite() {
            xs.push((fmt.to_f64(code) + fmt.to_f64(code + 1)) / 2.0);
        }
        for x in xs {
            assert_eq!(
                round_to_format(fmt, x),
                Some(nearest_code(fmt, x)),
                "{fmt}: x = {x}"
            );
        }
    }
    // Ties to even: 1.0625 lies between 1.0 (0x38) and 1.125 (0x39); 1.1875 between 0x39 and 0x3A.
    assert_eq!(round_to_format(Format::E4M3, 1.0625), Some(0x38));
    assert_eq!(round_to_format(Format::E4M3, 1.1875), Some(0x3A));
    // Out of the normal range, or not a normal f64.
    assert_eq!(round_to_format(Format::E4M3, 1000.0), None);
    assert_eq!(round_to_format(Format::E4M3, 2f64.powi(-8)), None);
    assert_eq!(round_to_format(Format::E4M3, 0.0), None);
    assert_eq!(round_to_format(Format::E4M3, f64::NAN), None);
}

/// Spec: "measured 2.96% (4-bit L-Mul) vs 2.93% (e4m3), 4.83% (3-bit) vs 5.86% (e5m2), on 200k
/// uniform-mantissa samples". Within 0.5 percentage point on 100k samples (the report's seeds).
///
/// The data: the 3-bit L-Mul is clearly better than e5m2 (about 1 point); the 4-bit L-Mul is about
/// as precise as e4m3, marginally worse (0.02 point here, as in the spec's 2.96% vs 2.93%).
#[test]
fn truncated_mantissa_experiment_reproduces_the_spec() {
    let (l4, e4m3) = truncated_mantissa_experiment(4, QUICK, SEED_TRUNCATED + 4);
    let (l3, e5m2) = truncated_mantissa_experiment(3, QUICK, SEED_TRUNCATED + 3);
    for (what, s, spec) in [
        ("4-bit L-Mul", l4, 0.0296),
        ("e4m3", e4m3, 0.0293),
        ("3-bit L-Mul", l3, 0.0483),
        ("e5m2", e5m2, 0.0586),
    ] {
        assert_eq!(s.n, QUICK as u64, "{what}: every pair counted");
        in_range(what, s.mean_rel, spec - 0.005, spec + 0.005);
    }
    assert!(
        l3.mean_rel + 0.005 < e5m2.mean_rel,
        "3-bit L-Mul {l3:?} not better than e5m2 {e5m2:?}"
    );
    assert!(
        (l4.mean_rel - e4m3.mean_rel).abs() < 0.001,
        "4-bit L-Mul {l4:?} vs e4m3 {e4m3:?}"
    );
    assert!(
        l4.mean_rel > e4m3.mean_rel,
        "the data show e4m3 marginally ahead"
    );
}

#[test]
fn truncated_experiment_formats() {
    assert_eq!(truncated_lmul_format(4).name(), "e8m4b127");
    assert_eq!(truncated_baseline_format(4), Format::E4M3);
    assert_eq!(truncated_baseline_format(3), Format::E5M2);
}

#[test]
fn shiftmax_row_197() {
    let s = shiftmax_error(197, 300, SHIFTMAX_X0, 16, SEED_SHIFTMAX + 197);
    assert_eq!(s.n, 197 * 300);
    assert!(s.mean_abs < 1e-3 && s.max_abs < 0.1, "{s:?}");
}

#[test]
fn shiftgelu_rows_768_and_1536() {
    for len in [768, 1536] {
        let s = shiftgelu_error(len, 50, SHIFTGELU_X0, SEED_SHIFTGELU + len as u64);
        assert!(s.mean_abs < 0.03 && s.max_abs < 0.5, "len {len}: {s:?}");
    }
}

/// Large-variance rows (sigma 500..3000 int16 units, so `var >= 192 * 500^2 > 2^25`): both square
/// roots converge and agree, max error < 0.01. On small-variance rows (sigma 2..16) the `ivit` root
/// has not converged and the `exact` one is more accurate.
#[test]
fn layernorm_both_sqrt_modes() {
    for len in [192, 384, 768] {
        let seed = SEED_LAYERNORM + len as u64;
        let ivit = layernorm_error(len, 100, SqrtMode::Ivit, seed);
        let exact = layernorm_error(len, 100, SqrtMode::Exact, seed);
        for (m, s) in [("ivit", ivit), ("exact", exact)] {
            assert!(s.max_abs < 0.01, "len {len} {m}: {s:?}");
        }
        let small_ivit =
            layernorm_error_spread(len, 100, SqrtMode::Ivit, LAYERNORM_SMALL_SIGMA, seed);
        let small_exact =
            layernorm_error_spread(len, 100, SqrtMode::Exact, LAYERNORM_SMALL_SIGMA, seed);
        assert!(
            small_exact.mean_abs < small_ivit.mean_abs,
            "len {len}: exact {small_exact:?} ivit {small_ivit:?}"
        );
    }
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

fn err_close(a: &ErrStats, b: &ErrStats) -> bool {
    a.n == b.n
        && close(a.mean_rel, b.mean_rel)
        && close(a.max_rel, b.max_rel)
        && close(a.mean_signed, b.mean_signed)
}

fn abs_close(a: &AbsStats, b: &AbsStats) -> bool {
    a.n == b.n && close(a.mean_abs, b.mean_abs) && close(a.max_abs, b.max_abs)
}

#[test]
fn quick_report_renders_and_round_trips_through_json() {
    let r = report(true);
    assert!(r.quick);
    assert_eq!(r, report(true), "deterministic");
    let text = r.to_string();
    assert!(text.contains("| multiplier | format | set | samples |"));
    assert!(text.contains("| op | params | row length | rows |"));
    let table_rows = text
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| multiplier") && !l.starts_with("| op"))
        .count();
    assert_eq!(table_rows, r.lmul.len() + r.nonlinear.len());
    for row in &r.lmul {
        assert!(text.contains(&row.multiplier) && text.contains(&row.samples));
    }
    for op in ["Shiftmax", "ShiftGELU", "I-LayerNorm"] {
        assert!(r.nonlinear.iter().any(|o| o.op == op), "{op} missing");
    }
    assert!(r.nonlinear.iter().any(|o| o.params.contains("sqrt=ivit")));
    assert!(r.nonlinear.iter().any(|o| o.params.contains("sqrt=exact")));

    let json = serde_json::to_string(&r).unwrap();
    let back: AccuracyReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back.quick, r.quick);
    assert_eq!(back.lmul.len(), r.lmul.len());
    assert_eq!(back.nonlinear.len(), r.nonlinear.len());
    for (a, b) in back.lmul.iter().zip(&r.lmul) {
        assert_eq!(
            (&a.multiplier, &a.format, &a.set, &a.samples),
            (&b.multiplier, &b.format, &b.set, &b.samples)
        );
        assert!(err_close(&a.stats, &b.stats), "{a:?} vs {b:?}");
    }
    for (a, b) in back.nonlinear.iter().zip(&r.nonlinear) {
        assert_eq!(
            (&a.op, &a.params, a.len, a.rows, &a.set),
            (&b.op, &b.params, b.len, b.rows, &b.set)
        );
        assert!(abs_close(&a.stats, &b.stats), "{a:?} vs {b:?}");
    }
}
