//! `golden::lmul` (and the shared `golden::float_format`) against the shared known answers, the
//! `lmul.md` table, and a second, naive decode-to-fields formulation written here: sign, exponent and
//! mantissa as separate integers, exponent sum and mantissa sum + offset with an explicit carry loop into
//! the exponent, and overflow decided by comparing (exponent, mantissa) pairs rather than one integer.
//! e4m3 and e5m2 are checked on all 65,536 pairs for every `l` and both overflow modes; bf16 by
//! proptest. Ends with the exhaustive error figures of `lmul.md` ("Error: the numbers to reproduce").

mod common;

use common::{bf16_code, bf16_edge_pair, overflow_mode, u32_list, vectors_path};

use golden::float_format::{default_l, Format, FormatError, Overflow, Rule};
use golden::fmul::exact_product_f64;
use golden::lmul::{check_l, lmul, lmul_checked, lmul_with_rule, offset, LmulError, L_MAX, L_MIN};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// The naive model.

/// The fields of a pattern, decoded by hand: (sign, exponent field, mantissa field).
fn fields(f: Format, v: u32) -> (u32, u32, u32) {
    let s = (v >> (f.e + f.m)) & 1;
    let e = (v >> f.m) % (1 << f.e);
    let m = v % (1 << f.m);
    (s, e, m)
}

fn naive_lmul(f: Format, l: u32, ov: Overflow, a: u32, b: u32) -> (u32, Rule) {
    let (sa, ea, ma) = fields(f, a);
    let (sb, eb, mb) = fields(f, b);
    let top = (1u32 << f.e) - 1; // all-ones exponent
    let mtop = (1u32 << f.m) - 1; // all-ones mantissa
    let is_nan = |e: u32, m: u32| {
        if f.has_inf {
            e == top && m != 0
        } else {
            e == top && m == mtop
        }
    };
    let is_inf = |e: u32, m: u32| f.has_inf && e == top && m == 0;
    let nan = if f.has_inf {
        (top << f.m) + (1 << (f.m - 1))
    } else {
        (top << f.m) + mtop
    };
    let s = sa ^ sb;
    let signed = |mag: u32| (s << (f.e + f.m)) + mag;

    if is_nan(ea, ma) || is_nan(eb, mb) {
        return (nan, Rule::Nan);
    }
    if is_inf(ea, ma) || is_inf(eb, mb) {
        return if ea == 0 || eb == 0 {
            (nan, Rule::Nan)
        } else {
            (signed(top << f.m), Rule::Inf)
        };
    }
    if ea == 0 || eb == 0 {
        return (signed(0), Rule::Zero);
    }
    // 1.ma * 1.mb ~ (1 + ma + mb + offset) * 2^(ea + eb - bias), with the carry of the adder.
    let mut e = ea as i64 + eb as i64 - f.bias as i64;
    let off: i64 = if l > f.m { 0 } else { 1 << (f.m - l) };
    let mut mant = ma as i64 + mb as i64 + off;
    while mant > mtop as i64 {
        mant -= 1 << f.m;
        e += 1;
    }
    if e <= 0 {
        return (signed(0), Rule::Underflow);
    }
    // Largest finite value as (exponent, mantissa).
    let (emax, mmax) = if f.has_inf {
        (top as i64 - 1, mtop as i64)
    } else {
        (top as i64, mtop as i64 - 1)
    };
    if e > emax || (e == emax && mant > mmax) {
        let mag = if ov == Overflow::Ieee && f.has_inf {
            top << f.m
        } else {
            ((emax << f.m) + mmax) as u32
        };
        return (signed(mag), Rule::Overflow);
    }
    (signed(((e << f.m) + mant) as u32), Rule::Normal)
}

// ---------------------------------------------------------------------------------------------
// Known answers: the shared vector file.

struct Case {
    line: usize,
    name: String,
    fmt: Format,
    l: u32,
    overflow: Overflow,
    a: Vec<u32>,
    b: Vec<u32>,
    y: Vec<u32>,
}

/// Every case of `op` in the shared file (comment lines skipped); panics clearly if the file is missing.
fn read_cases(op: &str) -> Vec<Case> {
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
        if v["op"] != op {
            continue;
        }
        let p = &v["params"];
        let fmt = Format::from_name(p["format"].as_str().unwrap_or("<missing>"))
            .unwrap_or_else(|e| panic!("lmul.jsonl line {line}: {e}"));
        let l = p["l"].as_u64().map_or(fmt.default_l(), |l| l as u32);
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
            l,
            overflow,
            a,
            b,
            y,
        });
    }
    cases
}

#[test]
fn lmul_reproduces_every_shared_vector() {
    let cases = read_cases("lmul");
    let mut failures = Vec::new();
    let mut per_format = [0usize; 3];
    let mut elements = 0;
    for c in &cases {
        per_format[Format::PRESETS.iter().position(|f| *f == c.fmt).unwrap()] += 1;
        for i in 0..c.a.len() {
            elements += 1;
            let got = lmul(c.fmt, c.l, c.overflow, c.a[i], c.b[i]);
            if got != c.y[i] {
                failures.push(format!(
                    "line {} ({}) [{i}]: {} l={} {:#x} x {:#x} = {got:#x}, expected {:#x}",
                    c.line, c.name, c.fmt, c.l, c.a[i], c.b[i], c.y[i]
                ));
            }
        }
    }
    assert!(
        !cases.is_empty(),
        "no lmul cases in {}",
        vectors_path().display()
    );
    for (f, n) in Format::PRESETS.iter().zip(per_format) {
        assert!(n > 0, "no lmul cases for {f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {elements} lmul elements differ:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    eprintln!(
        "lmul: {} cases, {elements} elements reproduced (e4m3/e5m2/bf16 cases: {per_format:?})",
        cases.len()
    );
}

// ---------------------------------------------------------------------------------------------
// The known-answer table of lmul.md.

#[test]
fn lmul_md_known_answer_table() {
    let e4 = Format::E4M3;
    let bf = Format::BF16;
    let s = Overflow::Saturate;
    let table: [(Format, u32, u32, u32, &str); 10] = [
        (e4, 0x38, 0x38, 0x39, "1 x 1 = 1.125 (offset 2^-3)"),
        (e4, 0x3C, 0x3C, 0x41, "1.5 x 1.5 = 2.25"),
        (e4, 0x40, 0x44, 0x4D, "2 x 3 = 6.5"),
        (e4, 0x7E, 0x7E, 0x7E, "saturates"),
        (e4, 0x08, 0x08, 0x00, "flushes to zero"),
        (e4, 0xB8, 0x38, 0xB9, "sign"),
        (e4, 0x80, 0x38, 0x80, "signed zero"),
        (bf, 0x3F80, 0x3F80, 0x3F88, "1 x 1 = 1.0625 (offset 2^-4)"),
        (bf, 0x4040, 0x4080, 0x4148, "3 x 4 = 12.5"),
        (bf, 0x7F80, 0x0000, 0x7FC0, "Inf x 0 = NaN"),
    ];
    for (f, a, b, y, what) in table {
        assert_eq!(
            lmul(f, f.default_l(), s, a, b),
            y,
            "{f} {a:#x} x {b:#x} ({what})"
        );
    }
    // The real values the table quotes.
    assert_eq!(e4.to_f64(0x39), 1.125);
    assert_eq!(e4.to_f64(0x41), 2.25);
    assert_eq!(e4.to_f64(0x4D), 6.5);
    assert_eq!(bf.to_f64(0x3F88), 1.0625);
    assert_eq!(bf.to_f64(0x4148), 12.5);
}

#[test]
fn lmul_rules_by_hand() {
    let (e4, e5, bf) = (Format::E4M3, Format::E5M2, Format::BF16);
    let (sat, ieee) = (Overflow::Saturate, Overflow::Ieee);
    // Rule 2: NaN has sign 0 whatever the operand signs.
    assert_eq!(lmul_with_rule(e4, 3, sat, 0xFF, 0x38), (0x7F, Rule::Nan));
    assert_eq!(lmul_with_rule(e4, 3, sat, 0xB8, 0x7F), (0x7F, Rule::Nan));
    assert_eq!(lmul_with_rule(e5, 2, sat, 0xFD, 0xBC), (0x7E, Rule::Nan));
    assert_eq!(
        lmul_with_rule(bf, 4, sat, 0xFFC1, 0x0000),
        (0x7FC0, Rule::Nan)
    );
    // NaN beats Inf x zero and zero.
    assert_eq!(lmul(e5, 2, sat, 0x7F, 0x7C), 0x7E);
    assert_eq!(lmul(e5, 2, sat, 0x00, 0x7D), 0x7E);
    // Rule 3: Inf x zero (and x subnormal, which is zero) = NaN; Inf x finite = signed Inf, any mode.
    assert_eq!(lmul_with_rule(e5, 2, sat, 0xFC, 0x80), (0x7E, Rule::Nan));
    assert_eq!(lmul_with_rule(e5, 2, sat, 0x7C, 0x01), (0x7E, Rule::Nan));
    assert_eq!(lmul_with_rule(e5, 2, sat, 0x7C, 0xBC), (0xFC, Rule::Inf));
    assert_eq!(lmul_with_rule(e5, 2, sat, 0xFC, 0xFC), (0x7C, Rule::Inf));
    assert_eq!(
        lmul_with_rule(bf, 4, sat, 0xFF80, 0x3F80),
        (0xFF80, Rule::Inf)
    );
    // Rule 4: subnormals are zero; the sign is still the XOR.
    assert_eq!(lmul_with_rule(e4, 3, sat, 0x07, 0x7E), (0x00, Rule::Zero));
    assert_eq!(lmul_with_rule(e4, 3, sat, 0x87, 0x7E), (0x80, Rule::Zero));
    assert_eq!(lmul_with_rule(e4, 3, sat, 0x80, 0x80), (0x00, Rule::Zero));
    assert_eq!(lmul_with_rule(e4, 3, sat, 0x80, 0x00), (0x80, Rule::Zero));
    // Rule 6: signed underflow; T = 8 + 56 - 56 + 1 = 9 is the smallest survivor with 0x08 x 0x38.
    assert_eq!(
        lmul_with_rule(e4, 3, sat, 0x88, 0x08),
        (0x80, Rule::Underflow)
    );
    assert_eq!(lmul_with_rule(e4, 3, sat, 0x08, 0x38), (0x09, Rule::Normal));
    // T = 8 + 48 - 56 + 0 = 0 with offset 0 underflows; with offset 1, T = 1 still underflows.
    assert_eq!(
        lmul_with_rule(e4, 4, sat, 0x08, 0x30),
        (0x00, Rule::Underflow)
    );
    assert_eq!(
        lmul_with_rule(e4, 3, sat, 0x08, 0x30),
        (0x00, Rule::Underflow)
    );
    // T = 8 + 55 - 56 + 1 = 8 = 1 << M: the smallest normal survives.
    assert_eq!(lmul_with_rule(e4, 3, sat, 0x08, 0x37), (0x08, Rule::Normal));
    // Rule 7, e4m3: T == 0x7F (the NaN pattern) counts as overflow; 0x7E is the largest survivor.
    assert_eq!(
        lmul_with_rule(e4, 3, sat, 0x5B, 0x5B),
        (0x7E, Rule::Overflow)
    ); // T = 0x7F
    assert_eq!(lmul_with_rule(e4, 3, sat, 0x5B, 0x5A), (0x7E, Rule::Normal)); // T = 0x7E
    assert_eq!(
        lmul_with_rule(e4, 3, ieee, 0xDB, 0x5B),
        (0xFE, Rule::Overflow)
    ); // no Inf
       // Rule 7, e5m2: saturate to 0x7B or Inf 0x7C in ieee mode, with the sign.
    assert_eq!(lmul(e5, 2, sat, 0x7B, 0x7B), 0x7B);
    assert_eq!(lmul(e5, 2, ieee, 0x7B, 0x7B), 0x7C);
    assert_eq!(lmul(e5, 2, sat, 0xFB, 0x7B), 0xFB);
    assert_eq!(lmul(e5, 2, ieee, 0xFB, 0x7B), 0xFC);
    // T == 0x7C (the Inf pattern) is overflow in e5m2: 0x5C + 0x5C - 60 + 0 = 0x7C > 0x7B.
    assert_eq!(
        lmul_with_rule(e5, 3, sat, 0x5C, 0x5C),
        (0x7B, Rule::Overflow)
    );
    assert_eq!(
        lmul_with_rule(e5, 3, ieee, 0x5C, 0xDC),
        (0xFC, Rule::Overflow)
    );
    assert_eq!(lmul_with_rule(e5, 3, sat, 0x5C, 0x5B), (0x7B, Rule::Normal));
    assert_eq!(lmul(bf, 4, sat, 0x7F7F, 0x4000), 0x7F7F);
    assert_eq!(lmul(bf, 4, ieee, 0x7F7F, 0xC000), 0xFF80);
    // The carry of mantissa + offset runs into the exponent: 1.875 x 1.875 with offset 1/8:
    // 1 + 0.875 + 0.875 + 0.125 = 2.875 -> adder gives 2^1 * 1.875 = 3.75 (field 0x47).
    assert_eq!(lmul(e4, 3, sat, 0x3F, 0x3F), 0x47);
    assert_eq!(e4.to_f64(0x47), 3.75);
    // l = 1 on e4m3 (offset 4/8): the mantissa sum 7 + 7 + 4 = 18 = 2 * 8 + 2 carries twice:
    // exponent 7 + 7 - 7 + 2 = 9, mantissa 2 (field 0x4A = 5.0).
    assert_eq!(lmul(e4, 1, sat, 0x3F, 0x3F), 0x4A);
    assert_eq!(e4.to_f64(0x4A), 5.0);
}

#[test]
fn lmul_offset_per_l() {
    let (e4, e5, bf) = (Format::E4M3, Format::E5M2, Format::BF16);
    assert_eq!(offset(e4, 1), 4);
    assert_eq!(offset(e4, 3), 1);
    assert_eq!(offset(e4, 4), 0);
    assert_eq!(offset(e4, 16), 0);
    assert_eq!(offset(e5, 2), 1);
    assert_eq!(offset(e5, 3), 0);
    assert_eq!(offset(bf, 1), 64);
    assert_eq!(offset(bf, 4), 8);
    assert_eq!(offset(bf, 7), 1);
    assert_eq!(offset(bf, 8), 0);
    assert_eq!(offset(bf, 16), 0);
}

// ---------------------------------------------------------------------------------------------
// Exhaustive equivalence with the naive model (fp8) and proptest (bf16).

fn exhaustive(f: Format) {
    let mut bad = Vec::new();
    let mut n = 0u64;
    for l in L_MIN..=L_MAX {
        for ov in Overflow::ALL {
            for a in 0..256 {
                for b in 0..256 {
                    n += 1;
                    let got = lmul_with_rule(f, l, ov, a, b);
                    let want = naive_lmul(f, l, ov, a, b);
                    if got != want && bad.len() < 20 {
                        bad.push(format!(
                            "l={l} {ov} {a:#04x} x {b:#04x}: {got:?} vs naive {want:?}"
                        ));
                    }
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{f}: differs from the naive model:\n{}",
        bad.join("\n")
    );
    assert_eq!(n, 16 * 2 * 65536);
}

#[test]
fn lmul_e4m3_all_pairs_every_l_1_to_16_both_modes_match_naive() {
    exhaustive(Format::E4M3);
}

#[test]
fn lmul_e5m2_all_pairs_every_l_1_to_16_both_modes_match_naive() {
    exhaustive(Format::E5M2);
}

#[test]
fn lmul_e4m3_ieee_is_saturate_all_pairs() {
    let f = Format::E4M3;
    for l in [default_l(3), 4] {
        for a in 0..256 {
            for b in 0..256 {
                assert_eq!(
                    lmul(f, l, Overflow::Ieee, a, b),
                    lmul(f, l, Overflow::Saturate, a, b)
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8192))]

    #[test]
    fn lmul_bf16_matches_naive(a in bf16_code(), b in bf16_code(), l in L_MIN..=L_MAX, ov in overflow_mode()) {
        let f = Format::BF16;
        prop_assert_eq!(lmul_with_rule(f, l, ov, a, b), naive_lmul(f, l, ov, a, b));
    }

    #[test]
    fn lmul_bf16_edges_match_naive((a, b) in bf16_edge_pair(), l in prop_oneof![Just(4u32), Just(8u32), L_MIN..=L_MAX], ov in overflow_mode()) {
        let f = Format::BF16;
        prop_assert_eq!(lmul_with_rule(f, l, ov, a, b), naive_lmul(f, l, ov, a, b));
    }

    #[test]
    fn lmul_is_commutative_and_sign_symmetric(a in bf16_code(), b in bf16_code(), l in L_MIN..=L_MAX) {
        let f = Format::BF16;
        let y = lmul(f, l, Overflow::Saturate, a, b);
        prop_assert_eq!(y, lmul(f, l, Overflow::Saturate, b, a));
        if !f.is_nan(y) {
            prop_assert_eq!(y ^ 0x8000, lmul(f, l, Overflow::Saturate, a ^ 0x8000, b));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parameter checks and the shared format description.

#[test]
fn lmul_checked_errors_name_the_parameter() {
    let f = Format::E4M3;
    let s = Overflow::Saturate;
    assert_eq!(lmul_checked(f, 3, s, 0x38, 0x38), Ok(0x39));
    assert_eq!(lmul_checked(f, 1, s, 0, 0), Ok(0));
    assert_eq!(lmul_checked(f, 16, s, 0x38, 0x38), Ok(0x38));
    let e = lmul_checked(f, 0, s, 0x38, 0x38).unwrap_err();
    assert_eq!(e, LmulError::L { l: 0 });
    assert_eq!(e.to_string(), "l = 0 out of range 1..=16");
    assert_eq!(
        lmul_checked(f, 17, s, 0x38, 0x38).unwrap_err().to_string(),
        "l = 17 out of range 1..=16"
    );
    assert_eq!(
        lmul_checked(f, 3, s, 0x100, 0x38).unwrap_err().to_string(),
        "a = 0x100 does not fit the 8 bits of e4m3"
    );
    assert_eq!(
        lmul_checked(Format::BF16, 4, s, 0x3F80, 0x1_0000)
            .unwrap_err()
            .to_string(),
        "b = 0x10000 does not fit the 16 bits of bf16"
    );
    let bad = Format {
        e: 9,
        ..Format::E4M3
    };
    assert_eq!(
        lmul_checked(bad, 3, s, 0, 0).unwrap_err().to_string(),
        "format field e = 9 out of range 2..=8"
    );
    assert!(check_l(1).is_ok() && check_l(16).is_ok());
}

#[test]
#[should_panic(expected = "lmul: l = 0 out of range 1..=16")]
fn lmul_panics_on_l_0() {
    lmul(Format::E4M3, 0, Overflow::Saturate, 0x38, 0x38);
}

#[test]
#[should_panic(expected = "lmul: l = 17 out of range 1..=16")]
fn lmul_panics_on_l_17() {
    lmul(Format::E4M3, 17, Overflow::Saturate, 0x38, 0x38);
}

#[test]
#[should_panic(expected = "lmul: b = 0x1ff does not fit the 8 bits of e5m2")]
fn lmul_panics_on_wide_operand() {
    lmul(Format::E5M2, 2, Overflow::Saturate, 0x38, 0x1FF);
}

#[test]
fn format_presets_match_the_table() {
    let rows = [
        // name, E, M, bias, bits, max finite, canonical NaN, Inf, default l
        ("e4m3", 4, 3, 7, 8, 0x7E, 0x7F, None, 3),
        ("e5m2", 5, 2, 15, 8, 0x7B, 0x7E, Some(0x7C), 2),
        ("bf16", 8, 7, 127, 16, 0x7F7F, 0x7FC0, Some(0x7F80), 4),
    ];
    for (name, e, m, bias, bits, maxfin, nan, inf, l) in rows {
        let f = Format::from_name(name).unwrap();
        assert_eq!(
            (f.e, f.m, f.bias, f.has_inf),
            (e, m, bias, inf.is_some()),
            "{name}"
        );
        assert_eq!(f.name(), name);
        assert_eq!(f.to_string(), name);
        assert_eq!(f.bits(), bits, "{name}");
        assert_eq!(f.max_finite(), maxfin, "{name}");
        assert_eq!(f.canonical_nan(), nan, "{name}");
        assert_eq!(f.inf(), inf, "{name}");
        assert_eq!(f.default_l(), l, "{name}");
        assert!(f.validate().is_ok());
        assert!(f.is_nan(nan) && f.is_nan(nan | f.sign_mask()));
        assert!(!f.is_nan(maxfin) && !f.is_inf(maxfin));
    }
    assert_eq!(Format::E4M3.to_f64(0x7E), 448.0);
    assert_eq!(Format::E5M2.to_f64(0x7B), 57344.0);
    assert_eq!(
        Format::BF16.to_f64(0x7F7F),
        f32::from_bits(0x7F7F_0000) as f64
    );
}

#[test]
fn format_classification_counts() {
    // e4m3: NaN only at 0x7F / 0xFF; e5m2 and bf16: 2 * (2^M - 1) NaNs and 2 Infs.
    for (f, nans, infs) in [
        (Format::E4M3, 2, 0),
        (Format::E5M2, 6, 2),
        (Format::BF16, 254, 2),
    ] {
        let all = 0..(1u32 << f.bits());
        assert_eq!(all.clone().filter(|&v| f.is_nan(v)).count(), nans, "{f}");
        assert_eq!(all.clone().filter(|&v| f.is_inf(v)).count(), infs, "{f}");
        let zs = all.clone().filter(|&v| f.is_zero_or_subnormal(v)).count();
        assert_eq!(zs, 2 << f.m, "{f}");
        assert_eq!(
            all.clone().filter(|&v| f.sign(v) == 1).count(),
            1 << (f.bits() - 1)
        );
    }
}

#[test]
fn default_l_of_m() {
    // "l(M) = M for M <= 3, 3 for M = 4, 4 for M > 4"
    let want = [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (7, 4), (23, 4)];
    for (m, l) in want {
        assert_eq!(default_l(m), l, "M = {m}");
    }
}

#[test]
fn format_names_and_errors() {
    for f in Format::PRESETS {
        assert_eq!(Format::from_name(&f.name()), Ok(f));
    }
    let e = Format::from_name("E4M3").unwrap_err();
    assert_eq!(
        e,
        FormatError::UnknownName {
            value: "E4M3".into()
        }
    );
    assert_eq!(
        e.to_string(),
        r#"invalid format "E4M3" (allowed: e4m3, e5m2, bf16)"#
    );
    assert_eq!(
        Format::from_name("fp8").unwrap_err().to_string(),
        r#"invalid format "fp8" (allowed: e4m3, e5m2, bf16)"#
    );
    assert_eq!(
        Format::new(1, 3, 1, false).unwrap_err().to_string(),
        "format field e = 1 out of range 2..=8"
    );
    assert_eq!(
        Format::new(4, 0, 7, false).unwrap_err().to_string(),
        "format field m = 0 out of range 1..=23"
    );
    assert_eq!(
        Format::new(4, 24, 7, false).unwrap_err().to_string(),
        "format field m = 24 out of range 1..=23"
    );
    assert_eq!(
        Format::new(4, 3, 15, false).unwrap_err().to_string(),
        "format field bias = 15 out of range 1..=14"
    );
    assert_eq!(
        Format::new(4, 3, 0, false).unwrap_err().to_string(),
        "format field bias = 0 out of range 1..=14"
    );
    let custom = Format::new(3, 4, 3, false).unwrap();
    assert_eq!(custom.name(), "e3m4b3fn");
    assert_eq!(custom.preset_name(), None);
    assert_eq!(Format::new(4, 3, 7, true).unwrap().name(), "e4m3b7");
    assert_eq!(Format::new(4, 3, 7, false), Ok(Format::E4M3));
}

#[test]
fn overflow_names_and_errors() {
    assert_eq!(Overflow::default(), Overflow::Saturate);
    for o in Overflow::ALL {
        assert_eq!(o.as_str().parse::<Overflow>(), Ok(o));
        assert_eq!(o.to_string(), o.as_str());
    }
    assert_eq!(
        "IEEE".parse::<Overflow>().unwrap_err().to_string(),
        r#"invalid overflow "IEEE" (allowed: saturate, ieee)"#
    );
    assert_eq!(
        "wrap".parse::<Overflow>().unwrap_err().to_string(),
        r#"invalid overflow "wrap" (allowed: saturate, ieee)"#
    );
}

/// A custom no-Inf format (e3m4, bias 3) and an IEEE-style one (e4m3 with Inf): the generic rules.
#[test]
fn lmul_custom_formats_match_naive_all_pairs() {
    for f in [
        Format::new(3, 4, 3, false).unwrap(),
        Format::new(4, 3, 7, true).unwrap(),
        Format::new(2, 5, 1, true).unwrap(),
        Format::new(6, 1, 31, false).unwrap(),
    ] {
        for l in L_MIN..=L_MAX {
            for ov in Overflow::ALL {
                for a in 0..256 {
                    for b in 0..256 {
                        assert_eq!(
                            lmul_with_rule(f, l, ov, a, b),
                            naive_lmul(f, l, ov, a, b),
                            "{f} l={l} {ov} {a:#x} x {b:#x}"
                        );
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Error figures (sanity, not a benchmark): lmul.md "Error: the numbers to reproduce".

struct Figures {
    /// Mean |y - p| / |p|.
    mean_rel: f64,
    /// Mean (|y| - |p|) / |p|.
    bias: f64,
    /// Pairs counted.
    n: usize,
}

/// Over all pairs whose result passes `keep(rule)`: relative error of the decoded result against the
/// exact product of the decoded operands (a flushed result counts as 100%).
fn figures(f: Format, l: u32, keep: impl Fn(Rule) -> bool) -> Figures {
    let (mut sum, mut sum_signed, mut n) = (0.0, 0.0, 0);
    for a in 0..256 {
        for b in 0..256 {
            let (y, rule) = lmul_with_rule(f, l, Overflow::Saturate, a, b);
            if !keep(rule) {
                continue;
            }
            let p = exact_product_f64(f, a, b);
            let y = f.to_f64(y);
            sum += (y - p).abs() / p.abs();
            sum_signed += (y.abs() - p.abs()) / p.abs(); // + when L-Mul overestimates |p|

            n += 1;
        }
    }
    Figures {
        mean_rel: sum / n as f64,
        bias: sum_signed / n as f64,
        n,
    }
}

#[test]
fn lmul_error_figures_exhaustive_fp8_and_bf16_mantissas() {
    let normal = |r: Rule| r == Rule::Normal;
    // Finite normal operands: the flushed (rule 6) and saturated (rule 7) pairs counted too.
    let with_edges = |r: Rule| matches!(r, Rule::Normal | Rule::Underflow | Rule::Overflow);
    let e4 = figures(Format::E4M3, 3, normal);
    let e4_off0 = figures(Format::E4M3, 4, normal);
    let e4_all = figures(Format::E4M3, 3, with_edges);
    let e4_flushed = figures(Format::E4M3, 3, |r| {
        matches!(r, Rule::Normal | Rule::Underflow)
    });
    let e5 = figures(Format::E5M2, 2, normal);
    let e5_off0 = figures(Format::E5M2, 3, normal);
    for (what, x) in [
        ("e4m3 l=3 (offset 2^-3), rule-8 pairs", &e4),
        ("e4m3 l=4 (offset 0), rule-8 pairs", &e4_off0),
        ("e4m3 l=3, rule 6/7/8 pairs (flushed + saturated)", &e4_all),
        (
            "e4m3 l=3, rule 6/8 pairs (flushed, not saturated)",
            &e4_flushed,
        ),
        ("e5m2 l=2 (offset 2^-2), rule-8 pairs", &e5),
        ("e5m2 l=3 (offset 0), rule-8 pairs", &e5_off0),
    ] {
        eprintln!(
            "lmul {what}: n = {}, mean relative error {:.4}%, bias {:+.4}%",
            x.n,
            100.0 * x.mean_rel,
            100.0 * x.bias
        );
    }
    // bf16 has 2^32 pairs; within rule 8 the relative error depends only on the mantissas, so all
    // 2^14 mantissa pairs of [1, 2) x [1, 2) give the rule-8 mean exactly (each exponent pair that
    // neither flushes nor saturates contributes every mantissa pair once).
    let bf = Format::BF16;
    let (mut sum, mut n) = (0.0, 0);
    for ma in 0..128 {
        for mb in 0..128 {
            let (a, b) = (0x3F80 | ma, 0x3F80 | mb);
            let (y, rule) = lmul_with_rule(bf, 4, Overflow::Saturate, a, b);
            assert_eq!(rule, Rule::Normal);
            let p = exact_product_f64(bf, a, b);
            sum += (bf.to_f64(y) - p).abs() / p;
            n += 1;
        }
    }
    let bf_mean = sum / n as f64;
    eprintln!(
        "lmul bf16 l=4 (offset 2^-4), all 2^14 mantissa pairs at 1.x * 1.x: mean relative error {:.4}%",
        100.0 * bf_mean
    );
    // lmul.md: "~5.2% against the exact product (bias +4.9%); with offset 0 (plain Mitchell) ~3.8%.
    // e5m2 ~14.7%; bf16 ~2.65%."
    assert!(
        (0.045..=0.06).contains(&e4.mean_rel),
        "e4m3 default: {}",
        e4.mean_rel
    );
    assert!(
        (0.03..=0.045).contains(&e4_off0.mean_rel),
        "e4m3 offset 0: {}",
        e4_off0.mean_rel
    );
    assert!((0.044..=0.054).contains(&e4.bias), "e4m3 bias: {}", e4.bias);
    assert!(
        (0.142..=0.152).contains(&e5.mean_rel),
        "e5m2: {}",
        e5.mean_rel
    );
    assert!((0.0260..=0.0270).contains(&bf_mean), "bf16: {bf_mean}");
}

/// `Format::from_int` against a brute-force search over every finite code: the nearest value,
/// ties to the even significand, `MAXFIN` beyond the range (e4m3, e5m2; every int16).
#[test]
fn from_int_is_round_to_nearest_even_with_saturation() {
    for f in [Format::E4M3, Format::E5M2] {
        let codes: Vec<u32> = (0..1u32 << f.bits())
            .filter(|&c| !f.is_nan(c) && !f.is_inf(c) && !f.is_zero_or_subnormal(c) || c == 0)
            .collect();
        let max = f.to_f64(f.max_finite());
        for v in -32768i64..=32767 {
            let got = f.from_int(v);
            let x = v as f64;
            let want = if x.abs() >= max {
                (u32::from(v < 0) << (f.e + f.m)) | f.max_finite()
            } else {
                let best = codes
                    .iter()
                    .map(|&c| ((f.to_f64(c) - x).abs(), c))
                    .fold(f64::INFINITY, |b, (d, _)| b.min(d));
                let ties: Vec<u32> = codes
                    .iter()
                    .copied()
                    .filter(|&c| {
                        (f.to_f64(c) - x).abs() == best && (v == 0 || f.sign(c) == u32::from(v < 0))
                    })
                    .collect();
                *ties
                    .iter()
                    .find(|&&c| f.man_field(c) & 1 == 0)
                    .unwrap_or(&ties[0])
            };
            assert_eq!(got, want, "{f}: from_int({v}) = {got:#x}, want {want:#x}");
            assert!(
                v == 0 || f.to_f64(got).signum() == x.signum(),
                "{f}: sign of {v}"
            );
        }
    }
}
