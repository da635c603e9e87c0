//! `golden::fmul` (the exact round-to-nearest-even multiplier baseline) against the shared known
//! answers, the `lmul.md` examples, and a second formulation written here in `f64`: decode both operands
//! exactly, flush subnormals, multiply exactly in `f64` (fp8 and bf16 products are exact there), then
//! round by scanning every candidate `(exponent, mantissa)` of the format — extended by one virtual
//! binade below the smallest normal and one above the largest — for the nearest, ties to the even
//! mantissa. e4m3 and e5m2 are checked on all 65,536 pairs in both overflow modes; bf16 by proptest.
//! Also checks `Format::to_f64` and `exact_product_f64`, which the reference relies on.

mod common;

use common::{bf16_code, bf16_edge_pair, overflow_mode, u32_list, vectors_path};

use golden::float_format::{Format, Overflow, Rule};
use golden::fmul::{exact_product_f64, fmul, fmul_checked, fmul_with_rule};
use golden::lmul::lmul_with_rule;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// The naive model.

fn naive_fmul(f: Format, ov: Overflow, a: u32, b: u32) -> u32 {
    let min_normal = 2f64.powi(1 - f.bias);
    // Denormals are zero (NaN and Inf pass unchanged: their comparison is false / not below).
    let daz = |x: f64| {
        if x.abs() < min_normal {
            0.0f64.copysign(x)
        } else {
            x
        }
    };
    // IEEE f64 semantics give rules 1-4: NaN propagates, Inf x 0 = NaN, Inf x finite = signed Inf,
    // signed zeros multiply to the XOR of the signs.
    let p = daz(f.to_f64(a)) * daz(f.to_f64(b));
    if p.is_nan() {
        return f.canonical_nan();
    }
    let s = (p.is_sign_negative() as u32) << (f.e + f.m);
    if p.is_infinite() {
        return s | f.inf().expect("an Inf operand means the format has Inf");
    }
    if p == 0.0 {
        return s;
    }
    let mag = p.abs();
    let top = (1u32 << f.e) - 1;
    // (distance, exponent field, mantissa field), exponent 0 and top + 1 being virtual binades.
    let mut best: Option<(f64, u32, u32)> = None;
    for e in 0..=top + 1 {
        for k in 0..(1u32 << f.m) {
            let v = ((1u64 << f.m) + k as u64) as f64 * 2f64.powi(e as i32 - f.bias - f.m as i32);
            let d = (v - mag).abs();
            let better = match best {
                None => true,
                Some((bd, _, _)) => d < bd || (d == bd && k % 2 == 0),
            };
            if better {
                best = Some((d, e, k));
            }
        }
    }
    let (_, e, k) = best.unwrap();
    if e == 0 {
        return s; // rounded value still below the smallest normal: flushed
    }
    let v = ((1u64 << f.m) + k as u64) as f64 * 2f64.powi(e as i32 - f.bias - f.m as i32);
    if v > f.to_f64(f.max_finite()) {
        return match (ov, f.inf()) {
            (Overflow::Ieee, Some(inf)) => s | inf,
            _ => s | f.max_finite(),
        };
    }
    s | (e << f.m) | k
}

// ---------------------------------------------------------------------------------------------
// Known answers: the shared vector file.

struct Case {
    line: usize,
    name: String,
    fmt: Format,
    overflow: Overflow,
    a: Vec<u32>,
    b: Vec<u32>,
    y: Vec<u32>,
}

/// Every `fmul` case in the shared file; panics clearly if the file is missing.
fn read_fmul_cases() -> Vec<Case> {
    let path = vectors_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "known-answer file {} is missing or unreadable ({e}); it lives in the shared tree \
             (/work/shared/vectors/lmul.jsonl)",
            path.display()
        )
    });
    let mut cases = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim();
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(raw)
            .unwrap_or_else(|e| panic!("lmul.jsonl line {line}: not JSON: {e}"));
        if v["op"] != "fmul" {
            continue;
        }
        let p = &v["params"];
        let fmt = Format::from_name(p["format"].as_str().unwrap_or("<missing>"))
            .unwrap_or_else(|e| panic!("lmul.jsonl line {line}: {e}"));
        let overflow = p["overflow"].as_str().map_or(Overflow::default(), |s| {
            s.parse()
                .unwrap_or_else(|e| panic!("lmul.jsonl line {line}: {e}"))
        });
        let (a, b, y) = (
            u32_list(&v, "a", line),
            u32_list(&v, "b", line),
            u32_list(&v, "y", line),
        );
        assert!(
            a.len() == b.len() && b.len() == y.len(),
            "lmul.jsonl line {line}: a, b, y lengths differ"
        );
        cases.push(Case {
            line,
            name: v["name"].as_str().unwrap_or("").to_string(),
            fmt,
            overflow,
            a,
            b,
            y,
        });
    }
    cases
}

#[test]
fn fmul_reproduces_every_shared_vector() {
    let cases = read_fmul_cases();
    let mut failures = Vec::new();
    let mut per_format = [0usize; 3];
    let mut elements = 0;
    for c in &cases {
        per_format[Format::PRESETS.iter().position(|f| *f == c.fmt).unwrap()] += 1;
        for i in 0..c.a.len() {
            elements += 1;
            let got = fmul(c.fmt, c.overflow, c.a[i], c.b[i]);
            if got != c.y[i] {
                failures.push(format!(
                    "line {} ({}) [{i}]: {} {:#x} x {:#x} = {got:#x}, expected {:#x}",
                    c.line, c.name, c.fmt, c.a[i], c.b[i], c.y[i]
                ));
            }
        }
    }
    assert!(
        !cases.is_empty(),
        "no fmul cases in {}",
        vectors_path().display()
    );
    for (f, n) in Format::PRESETS.iter().zip(per_format) {
        assert!(n > 0, "no fmul cases for {f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {elements} fmul elements differ:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    eprintln!(
        "fmul: {} cases, {elements} elements reproduced (e4m3/e5m2/bf16 cases: {per_format:?})",
        cases.len()
    );
}

// ---------------------------------------------------------------------------------------------
// lmul.md examples and hand-worked cases.

#[test]
fn fmul_lmul_md_examples() {
    let f = Format::E4M3;
    // "a product that rounds up into the smallest normal is kept (e4m3 0x09 x 0x36 = 0x08)":
    // 1.125 * 2^-6 x 1.75 * 2^-1 = 1.96875 * 2^-7, rounds to 2^-6.
    assert_eq!(
        fmul_with_rule(f, Overflow::Saturate, 0x09, 0x36),
        (0x08, Rule::Normal)
    );
    // "e4m3 0x0C x 0x32 is 1.875 x 2^-7 [...] so it is 0x00" (no subnormal grid).
    assert_eq!(
        fmul_with_rule(f, Overflow::Saturate, 0x0C, 0x32),
        (0x00, Rule::Underflow)
    );
    assert_eq!(exact_product_f64(f, 0x0C, 0x32), 1.875 * 2f64.powi(-7));
    assert_eq!(fmul(f, Overflow::Saturate, 0x8C, 0x32), 0x80);
}

#[test]
fn fmul_rounding_by_hand() {
    let (e4, e5, bf) = (Format::E4M3, Format::E5M2, Format::BF16);
    let (sat, ieee) = (Overflow::Saturate, Overflow::Ieee);
    assert_eq!(fmul(e4, sat, 0x38, 0x38), 0x38); // 1 x 1 = 1 exactly
    assert_eq!(fmul(e4, sat, 0x40, 0x44), 0x4C); // 2 x 3 = 6 exactly
    assert_eq!(fmul(e4, sat, 0x39, 0x39), 0x3A); // 1.125^2 = 1.265625 -> 1.25
    assert_eq!(fmul(e4, sat, 0x39, 0x3C), 0x3E); // 1.6875: tie between 1.625 and 1.75 -> even 1.75
    assert_eq!(fmul(e4, sat, 0x3A, 0x3A), 0x3C); // 1.5625: tie between 1.5 and 1.625 -> even 1.5
    assert_eq!(fmul(e4, sat, 0x3F, 0x3F), 0x46); // 1.875^2 = 3.515625 -> 3.5
    assert_eq!(fmul(e4, sat, 0x3F, 0x3E), 0x45); // 1.875 x 1.75 = 3.28125 -> 3.25
                                                 // Rounding carry into the exponent: 1.75 x 1.125 = 1.96875 rounds to 2.0.
    assert_eq!(fmul(e4, sat, 0x3E, 0x39), 0x40);
    // Overflow: 448 x 448 saturates; 448 x 1.125 = 504 rounds to 512 > 448.
    assert_eq!(fmul_with_rule(e4, sat, 0x7E, 0x7E), (0x7E, Rule::Overflow));
    assert_eq!(fmul_with_rule(e4, ieee, 0xFE, 0x39), (0xFE, Rule::Overflow));
    // 448 x 1 stays; 240 x 1.875 = 450 rounds to 448 (normal, below the 464 midpoint).
    assert_eq!(fmul_with_rule(e4, sat, 0x7E, 0x38), (0x7E, Rule::Normal));
    assert_eq!(fmul_with_rule(e4, sat, 0x77, 0x3F), (0x7E, Rule::Normal));
    // e5m2: 57344 x 1.25 overflows to 0x7B or Inf.
    assert_eq!(fmul(e5, sat, 0x7B, 0x3D), 0x7B);
    assert_eq!(fmul(e5, ieee, 0x7B, 0x3D), 0x7C);
    assert_eq!(fmul(e5, ieee, 0xFB, 0x3D), 0xFC);
    // Specials as L-Mul (rules 2-4).
    assert_eq!(fmul_with_rule(e5, sat, 0x7C, 0x01), (0x7E, Rule::Nan));
    assert_eq!(fmul_with_rule(e5, sat, 0xFC, 0x3C), (0xFC, Rule::Inf));
    assert_eq!(fmul_with_rule(e4, sat, 0xFF, 0xB8), (0x7F, Rule::Nan));
    assert_eq!(fmul_with_rule(e4, sat, 0x87, 0x7E), (0x80, Rule::Zero));
    assert_eq!(fmul_with_rule(bf, sat, 0x7F80, 0x0000), (0x7FC0, Rule::Nan));
    assert_eq!(fmul(bf, sat, 0x4040, 0x4080), 0x4140); // 3 x 4 = 12
    assert_eq!(fmul(bf, ieee, 0x7F7F, 0x4000), 0x7F80);
}

#[test]
fn fmul_checked_errors_name_the_operand() {
    let s = Overflow::Saturate;
    assert_eq!(fmul_checked(Format::E4M3, s, 0x38, 0x38), Ok(0x38));
    assert_eq!(
        fmul_checked(Format::E4M3, s, 0x100, 0x38)
            .unwrap_err()
            .to_string(),
        "a = 0x100 does not fit the 8 bits of e4m3"
    );
    assert_eq!(
        fmul_checked(Format::E5M2, s, 0x38, 0x200)
            .unwrap_err()
            .to_string(),
        "b = 0x200 does not fit the 8 bits of e5m2"
    );
    let bad = Format {
        bias: 0,
        ..Format::E5M2
    };
    assert_eq!(
        fmul_checked(bad, s, 0, 0).unwrap_err().to_string(),
        "format field bias = 0 out of range 1..=30"
    );
}

#[test]
#[should_panic(expected = "fmul: a = 0x100 does not fit the 8 bits of e4m3")]
fn fmul_panics_on_wide_operand() {
    fmul(Format::E4M3, Overflow::Saturate, 0x100, 0x38);
}

// ---------------------------------------------------------------------------------------------
// to_f64 and exact_product_f64, which the naive model relies on.

#[test]
fn to_f64_bf16_is_f32_top_half_all_codes() {
    let f = Format::BF16;
    for v in 0..=0xFFFFu32 {
        let want = f32::from_bits(v << 16) as f64;
        let got = f.to_f64(v);
        if want.is_nan() {
            assert!(got.is_nan(), "{v:#x}");
        } else {
            assert_eq!(got.to_bits(), want.to_bits(), "{v:#x}");
        }
    }
}

#[test]
fn to_f64_fp8_by_hand_and_monotone() {
    let (e4, e5) = (Format::E4M3, Format::E5M2);
    let p = |n: i32| 2f64.powi(n);
    for (v, x) in [
        (0x00, 0.0),
        (0x01, p(-9)),
        (0x07, 7.0 * p(-9)),
        (0x08, p(-6)),
        (0x09, 1.125 * p(-6)),
        (0x38, 1.0),
        (0x3C, 1.5),
        (0x77, 240.0),
        (0x78, 256.0),
        (0x7E, 448.0),
        (0xFE, -448.0),
        (0xB8, -1.0),
    ] {
        assert_eq!(e4.to_f64(v), x, "e4m3 {v:#x}");
    }
    for (v, x) in [
        (0x01, p(-16)),
        (0x03, 3.0 * p(-16)),
        (0x04, p(-14)),
        (0x3C, 1.0),
        (0x3E, 1.5),
        (0x7B, 57344.0),
        (0x7C, f64::INFINITY),
        (0xFC, f64::NEG_INFINITY),
    ] {
        assert_eq!(e5.to_f64(v), x, "e5m2 {v:#x}");
    }
    assert!(e4.to_f64(0x7F).is_nan() && e4.to_f64(0xFF).is_nan());
    assert!(e5.to_f64(0x7D).is_nan() && e5.to_f64(0xFF).is_nan());
    assert!(e4.to_f64(0x80).is_sign_negative() && e4.to_f64(0x80) == 0.0);
    // Positive codes are strictly increasing up to the first NaN; negative mirror positive.
    for f in [e4, e5, Format::BF16] {
        let mut prev = -1.0;
        for v in 0..=f.em_mask() {
            let x = f.to_f64(v);
            if x.is_nan() {
                assert!(f.is_nan(v), "{f} {v:#x}");
                continue;
            }
            assert!(x > prev, "{f} {v:#x}: {x} after {prev}");
            prev = x;
            let n = f.to_f64(v | f.sign_mask());
            assert_eq!(n.to_bits(), (-x).to_bits(), "{f} {v:#x}");
        }
    }
}

#[test]
fn exact_product_f64_is_the_real_product() {
    let (e4, e5, bf) = (Format::E4M3, Format::E5M2, Format::BF16);
    assert_eq!(exact_product_f64(e4, 0x7E, 0x7E), 448.0 * 448.0);
    assert_eq!(exact_product_f64(e4, 0x01, 0x01), 2f64.powi(-18)); // subnormals at their value
    assert_eq!(exact_product_f64(e4, 0x3F, 0xBF), -1.875 * 1.875);
    assert!(exact_product_f64(e5, 0x7C, 0x00).is_nan());
    assert_eq!(exact_product_f64(e5, 0x7C, 0xBC), f64::NEG_INFINITY);
    assert_eq!(exact_product_f64(bf, 0x0001, 0x0001), 2f64.powi(-266));
    assert_eq!(
        exact_product_f64(bf, 0x7F7F, 0x7F7F),
        (f32::from_bits(0x7F7F_0000) as f64).powi(2)
    );
}

// ---------------------------------------------------------------------------------------------
// Equivalence with the naive model.

fn exhaustive(f: Format) {
    let mut bad = Vec::new();
    for ov in Overflow::ALL {
        for a in 0..256 {
            for b in 0..256 {
                let got = fmul(f, ov, a, b);
                let want = naive_fmul(f, ov, a, b);
                if got != want && bad.len() < 20 {
                    bad.push(format!(
                        "{ov} {a:#04x} x {b:#04x}: {got:#x} vs naive {want:#x}"
                    ));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{f}: differs from the naive model:\n{}",
        bad.join("\n")
    );
}

#[test]
fn fmul_e4m3_all_pairs_both_modes_match_naive() {
    exhaustive(Format::E4M3);
}

#[test]
fn fmul_e5m2_all_pairs_both_modes_match_naive() {
    exhaustive(Format::E5M2);
}

#[test]
fn fmul_custom_8_bit_formats_all_pairs_match_naive() {
    for f in [
        Format::new(3, 4, 3, false).unwrap(),
        Format::new(4, 3, 7, true).unwrap(),
        Format::new(2, 5, 1, true).unwrap(),
        Format::new(6, 1, 31, false).unwrap(),
    ] {
        exhaustive(f);
    }
}

#[test]
fn fmul_e4m3_ieee_is_saturate_all_pairs() {
    for a in 0..256 {
        for b in 0..256 {
            assert_eq!(
                fmul(Format::E4M3, Overflow::Ieee, a, b),
                fmul(Format::E4M3, Overflow::Saturate, a, b)
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn fmul_bf16_matches_naive(a in bf16_code(), b in bf16_code(), ov in overflow_mode()) {
        let f = Format::BF16;
        prop_assert_eq!(fmul(f, ov, a, b), naive_fmul(f, ov, a, b));
    }

    #[test]
    fn fmul_bf16_edges_match_naive((a, b) in bf16_edge_pair(), ov in overflow_mode()) {
        let f = Format::BF16;
        prop_assert_eq!(fmul(f, ov, a, b), naive_fmul(f, ov, a, b));
    }
}

// ---------------------------------------------------------------------------------------------
// Error figures (sanity): the exact multiplier next to L-Mul.

/// Mean and max relative error of `fmul` over the pairs `keep` selects.
fn fmul_figures(f: Format, keep: impl Fn(u32, u32) -> bool) -> (f64, f64, usize) {
    let (mut sum, mut max, mut n) = (0.0f64, 0.0f64, 0);
    for a in 0..256 {
        for b in 0..256 {
            if !keep(a, b) {
                continue;
            }
            let p = exact_product_f64(f, a, b);
            let e = (f.to_f64(fmul(f, Overflow::Saturate, a, b)) - p).abs() / p.abs();
            sum += e;
            max = max.max(e);
            n += 1;
        }
    }
    (sum / n as f64, max, n)
}

#[test]
fn fmul_error_figures_exhaustive_fp8() {
    for (f, l) in [(Format::E4M3, 3), (Format::E5M2, 2)] {
        let own = |a, b| fmul_with_rule(f, Overflow::Saturate, a, b).1 == Rule::Normal;
        let (mean, max, n) = fmul_figures(f, own);
        eprintln!(
            "fmul {f}, rule-8 pairs of fmul: n = {n}, mean relative error {:.4}%, max {:.4}%",
            100.0 * mean,
            100.0 * max
        );
        // Round to nearest at M bits: at most half an ulp, 2^-(M+1) relative.
        assert!(max <= 2f64.powi(-(f.m as i32) - 1), "{f}: max {max}");
        let lmul_set = |a, b| lmul_with_rule(f, l, Overflow::Saturate, a, b).1 == Rule::Normal;
        let (mean_l, _, n_l) = fmul_figures(f, lmul_set);
        eprintln!(
            "fmul {f}, on L-Mul's (l = {l}) rule-8 pairs: n = {n_l}, mean relative error {:.4}%",
            100.0 * mean_l
        );
    }
}
