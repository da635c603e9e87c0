//! `golden::lmul_dot` against a naive exact sum written here differently: each lane's L-Mul result is
//! decoded with `Format::to_f64`, NaN/Inf lanes are dropped (and flag the result), and the finite values
//! are summed as exact rationals `num / 2^40` in `i128` (every fp8 product is a dyadic number with at
//! most 16 fraction bits, so `value * 2^40` is an exact integer). K in {1, 2, 3, 16, 64}, random lanes,
//! all-saturated lanes (the accumulator width is then needed to the last bit), NaN and Inf lanes.

use golden::float_format::{Format, Overflow};
use golden::lmul::{lmul, L_MAX, L_MIN};
use golden::lmul_dot::{
    acc_lsb_exponent, acc_width, dot_value, guard_bits, lane_fixed, lmul_dot, lmul_dot_checked,
    product_bits, DotError, DotResult,
};
use proptest::prelude::*;

/// Fraction bits of the naive rational sum.
const D: i32 = 40;

/// (numerator over 2^D, invalid).
fn naive_dot(f: Format, l: u32, ov: Overflow, a: &[u32], b: &[u32]) -> (i128, bool) {
    let mut num = 0i128;
    let mut invalid = false;
    for (&x, &y) in a.iter().zip(b) {
        let v = f.to_f64(lmul(f, l, ov, x, y));
        if !v.is_finite() {
            invalid = true;
            continue;
        }
        let scaled = v * 2f64.powi(D);
        assert_eq!(
            scaled.fract(),
            0.0,
            "{f}: lane value {v} not a multiple of 2^-{D}"
        );
        num += scaled as i128;
    }
    (num, invalid)
}

/// The accumulator as the naive rational numerator over 2^D.
fn acc_over_2_pow_d(f: Format, acc: i128) -> i128 {
    acc << (D + acc_lsb_exponent(f))
}

fn fits_signed(x: i128, width: u32) -> bool {
    let half = 1i128 << (width - 1);
    (-half..half).contains(&x)
}

const KS: [usize; 5] = [1, 2, 3, 16, 64];
const FP8: [Format; 2] = [Format::E4M3, Format::E5M2];

fn check(f: Format, l: u32, ov: Overflow, a: &[u32], b: &[u32]) -> DotResult {
    let r = lmul_dot(f, l, ov, a, b);
    let (num, invalid) = naive_dot(f, l, ov, a, b);
    assert_eq!(
        acc_over_2_pow_d(f, r.acc),
        num,
        "{f} l={l} {ov} a={a:x?} b={b:x?}"
    );
    assert_eq!(r.invalid, invalid, "{f} l={l} {ov} a={a:x?} b={b:x?}");
    assert!(
        fits_signed(r.acc, acc_width(f, a.len())),
        "{f} K={}: acc {} does not fit {} bits",
        a.len(),
        r.acc,
        acc_width(f, a.len())
    );
    if !invalid {
        assert_eq!(dot_value(f, &r), num as f64 / 2f64.powi(D));
    } else {
        assert!(dot_value(f, &r).is_nan());
    }
    r
}

// ---------------------------------------------------------------------------------------------
// Scale and width.

#[test]
fn lsb_width_and_guard_bits_by_hand() {
    assert_eq!(acc_lsb_exponent(Format::E4M3), -9); // 2^(1 - 7 - 3)
    assert_eq!(acc_lsb_exponent(Format::E5M2), -16); // 2^(1 - 15 - 2)
    assert_eq!(product_bits(Format::E4M3), 18); // 448 = 14 << 14 LSBs
    assert_eq!(product_bits(Format::E5M2), 32); // 57344 = 7 << 29 LSBs
    assert_eq!(lane_fixed(Format::E4M3, 0x7E), Some(14 << 14));
    assert_eq!(lane_fixed(Format::E4M3, 0xFE), Some(-(14 << 14)));
    assert_eq!(lane_fixed(Format::E5M2, 0x7B), Some(7 << 29));
    assert_eq!(lane_fixed(Format::E4M3, 0x08), Some(8)); // smallest normal = 2^M LSBs
    assert_eq!(lane_fixed(Format::E4M3, 0x80), Some(0));
    assert_eq!(lane_fixed(Format::E4M3, 0x7F), None);
    assert_eq!(lane_fixed(Format::E5M2, 0xFC), None);
    assert_eq!(lane_fixed(Format::E5M2, 0x7D), None);
    for (k, g) in [
        (0, 0),
        (1, 0),
        (2, 1),
        (3, 2),
        (4, 2),
        (5, 3),
        (16, 4),
        (17, 5),
        (64, 6),
        (65, 7),
    ] {
        assert_eq!(guard_bits(k), g, "K = {k}");
    }
    let want_e4 = [(1, 19), (2, 20), (3, 21), (16, 23), (64, 25)];
    let want_e5 = [(1, 33), (2, 34), (3, 35), (16, 37), (64, 39)];
    for ((k, w4), (_, w5)) in want_e4.into_iter().zip(want_e5) {
        assert_eq!(acc_width(Format::E4M3, k), w4, "e4m3 K = {k}");
        assert_eq!(acc_width(Format::E5M2, k), w5, "e5m2 K = {k}");
    }
}

/// Every L-Mul result (all pairs, every l, both modes) is an integer number of LSBs, `lane_fixed`
/// agrees with `to_f64`, the smallest nonzero product is 2^M LSBs, and odd multiples of the LSB occur
/// (so no coarser LSB would be exact).
#[test]
fn lsb_is_exact_and_necessary_all_products() {
    for f in FP8 {
        let lsb = 2f64.powi(acc_lsb_exponent(f));
        let (mut min_nonzero, mut saw_odd) = (f64::INFINITY, false);
        for l in L_MIN..=L_MAX {
            for ov in Overflow::ALL {
                for a in 0..256 {
                    for b in 0..256 {
                        let y = lmul(f, l, ov, a, b);
                        let v = f.to_f64(y);
                        match lane_fixed(f, y) {
                            None => assert!(!v.is_finite(), "{f} {y:#x}"),
                            Some(n) => {
                                assert_eq!(n as f64 * lsb, v, "{f} {y:#x}");
                                if n != 0 {
                                    min_nonzero = min_nonzero.min(v.abs());
                                }
                                saw_odd |= n % 2 != 0;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(min_nonzero, lsb * (1 << f.m) as f64, "{f}");
        assert!(saw_odd, "{f}: no product needs the LSB");
    }
}

/// K saturated lanes fill the accumulator: they fit `acc_width` but not one bit less.
#[test]
fn all_max_lanes_need_the_full_width_k_1_2_3_16_64() {
    for f in FP8 {
        let max = f.max_finite();
        let lane = lane_fixed(f, max).unwrap();
        for k in KS {
            let w = acc_width(f, k);
            for (sa, want) in [(0, k as i128 * lane), (f.sign_mask(), -(k as i128) * lane)] {
                let a = vec![sa | max; k];
                let b = vec![max; k];
                let r = check(f, f.default_l(), Overflow::Saturate, &a, &b);
                assert_eq!(
                    r,
                    DotResult {
                        acc: want,
                        invalid: false
                    },
                    "{f} K={k}"
                );
                assert!(fits_signed(r.acc, w));
                if want > 0 {
                    assert!(!fits_signed(r.acc, w - 1), "{f} K={k}: width {w} not tight");
                }
            }
        }
    }
    // e5m2 in ieee mode: the same lanes overflow to Inf, contribute 0 and set invalid.
    for k in KS {
        let a = vec![0x7B; k];
        let r = check(Format::E5M2, 2, Overflow::Ieee, &a, &a);
        assert_eq!(
            r,
            DotResult {
                acc: 0,
                invalid: true
            }
        );
    }
}

/// A custom 8-bit format with the widest products (e6m1, bias 31, no Inf): 64-bit lanes.
#[test]
fn widest_8_bit_format_all_max_k_64() {
    let f = Format::new(6, 1, 31, false).unwrap();
    assert_eq!(product_bits(f), 64);
    let k = 64;
    let a = vec![f.max_finite() | f.sign_mask(); k];
    let b = vec![f.max_finite(); k];
    let r = check(f, 1, Overflow::Saturate, &a, &b);
    assert_eq!(r.acc, -64 * (1i128 << 63));
    assert_eq!(acc_width(f, k), 71);
}

// ---------------------------------------------------------------------------------------------
// Special lanes.

#[test]
fn nan_and_inf_lanes_contribute_zero_and_set_invalid() {
    let (e4, e5) = (Format::E4M3, Format::E5M2);
    let (sat, ieee) = (Overflow::Saturate, Overflow::Ieee);
    // e4m3: 1 x 1 (L-Mul 1.125 = 576 LSBs) + NaN x 1 + (-2) x 3 (-6.5 = -3328 LSBs).
    let r = check(e4, 3, sat, &[0x38, 0x7F, 0xC0], &[0x38, 0x38, 0x44]);
    assert_eq!(
        r,
        DotResult {
            acc: 576 - 3328,
            invalid: true
        }
    );
    assert!(dot_value(e4, &r).is_nan());
    let ok = check(e4, 3, sat, &[0x38, 0xC0], &[0x38, 0x44]);
    assert_eq!(
        ok,
        DotResult {
            acc: 576 - 3328,
            invalid: false
        }
    );
    assert_eq!(dot_value(e4, &ok), 1.125 - 6.5);
    // e5m2: an Inf input gives an Inf product in either mode; Inf x 0 is NaN.
    for ov in [sat, ieee] {
        let r = check(e5, 2, ov, &[0x3C, 0x7C], &[0x3C, 0xBC]);
        assert!(r.invalid);
        assert_eq!(r.acc, lane_fixed(e5, lmul(e5, 2, ov, 0x3C, 0x3C)).unwrap());
        assert!(check(e5, 2, ov, &[0x7C], &[0x00]).invalid);
    }
    // e5m2 overflow: saturated in saturate mode (contributes MAXFIN), Inf in ieee mode (invalid).
    let s = check(e5, 2, sat, &[0x7B, 0x3C], &[0x7B, 0x3C]);
    assert!(!s.invalid);
    assert_eq!(s.acc, (7 << 29) + lane_fixed(e5, 0x3D).unwrap());
    let i = check(e5, 2, ieee, &[0x7B, 0x3C], &[0x7B, 0x3C]);
    assert_eq!(
        i,
        DotResult {
            acc: lane_fixed(e5, 0x3D).unwrap(),
            invalid: true
        }
    );
    // Zero, subnormal and flushed lanes contribute 0 and are valid.
    let z = check(e4, 3, sat, &[0x00, 0x81, 0x08], &[0x7E, 0x7E, 0x08]);
    assert_eq!(
        z,
        DotResult {
            acc: 0,
            invalid: false
        }
    );
}

#[test]
fn empty_dot_product_is_zero() {
    for f in FP8 {
        assert_eq!(
            lmul_dot(f, 1, Overflow::Saturate, &[], &[]),
            DotResult::default()
        );
        assert_eq!(acc_width(f, 0), product_bits(f) + 1);
    }
}

// ---------------------------------------------------------------------------------------------
// Random lanes against the naive sum.

fn fp8_format() -> impl Strategy<Value = Format> {
    prop_oneof![Just(Format::E4M3), Just(Format::E5M2)]
}

/// An fp8 code: anything, with NaN/Inf/max/zero codes over-represented.
fn fp8_code() -> impl Strategy<Value = u32> {
    prop_oneof![
        8 => 0u32..=255,
        1 => prop::sample::select(vec![0x00u32, 0x80, 0x7B, 0x7C, 0x7E, 0x7F, 0xFB, 0xFC, 0xFE, 0xFF]),
    ]
}

/// (format, l, overflow, a, b) with K drawn from {1, 2, 3, 16, 64}; `l` the default, M + 1, or any.
fn problem() -> impl Strategy<Value = (Format, u32, Overflow, Vec<u32>, Vec<u32>)> {
    (
        fp8_format(),
        prop::sample::select(KS.to_vec()),
        prop_oneof![Just(Overflow::Saturate), Just(Overflow::Ieee)],
        0u32..=2,
        L_MIN..=L_MAX,
    )
        .prop_flat_map(|(f, k, ov, lsel, lany)| {
            let l = [f.default_l(), f.m + 1, lany][lsel as usize];
            (
                Just(f),
                Just(l),
                Just(ov),
                prop::collection::vec(fp8_code(), k),
                prop::collection::vec(fp8_code(), k),
            )
        })
}

/// Like [`problem`] but without NaN/Inf inputs, so most results are valid sums.
fn finite_problem() -> impl Strategy<Value = (Format, u32, Overflow, Vec<u32>, Vec<u32>)> {
    (
        fp8_format(),
        prop::sample::select(KS.to_vec()),
        L_MIN..=L_MAX,
    )
        .prop_flat_map(|(f, k, l)| {
            let finite = prop::sample::select(
                (0u32..=255)
                    .filter(|&v| !f.is_nan(v) && !f.is_inf(v))
                    .collect::<Vec<_>>(),
            );
            (
                Just(f),
                Just(l),
                Just(Overflow::Saturate),
                prop::collection::vec(finite.clone(), k),
                prop::collection::vec(finite, k),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn lmul_dot_matches_naive_sum((f, l, ov, a, b) in problem()) {
        check(f, l, ov, &a, &b);
    }

    #[test]
    fn lmul_dot_finite_lanes_match_naive_sum((f, l, ov, a, b) in finite_problem()) {
        let r = check(f, l, ov, &a, &b);
        prop_assert!(!r.invalid);
    }

    #[test]
    fn lmul_dot_is_order_independent((f, l, ov, a, b) in problem(), seed in any::<u64>()) {
        let r = lmul_dot(f, l, ov, &a, &b);
        // A seeded rotation and reversal of the lanes.
        let k = a.len();
        let shift = (seed % k as u64) as usize;
        let mut pa: Vec<u32> = a.iter().rev().cloned().collect();
        let mut pb: Vec<u32> = b.iter().rev().cloned().collect();
        pa.rotate_left(shift);
        pb.rotate_left(shift);
        prop_assert_eq!(lmul_dot(f, l, ov, &pa, &pb), r);
    }
}

// ---------------------------------------------------------------------------------------------
// Parameter errors.

#[test]
fn lmul_dot_checked_errors_name_the_parameter() {
    let s = Overflow::Saturate;
    let e = lmul_dot_checked(Format::BF16, 4, s, &[0x3F80], &[0x3F80]).unwrap_err();
    assert_eq!(
        e,
        DotError::Format {
            format: "bf16".into(),
            bits: 16
        }
    );
    assert_eq!(
        e.to_string(),
        "format bf16 has 16 bits; only 8-bit formats are supported (e4m3, e5m2)"
    );
    assert_eq!(
        lmul_dot_checked(Format::E4M3, 3, s, &[0x38, 0x38], &[0x38])
            .unwrap_err()
            .to_string(),
        "a has 2 lanes but b has 1"
    );
    assert_eq!(
        lmul_dot_checked(Format::E4M3, 0, s, &[0x38], &[0x38])
            .unwrap_err()
            .to_string(),
        "l = 0 out of range 1..=16"
    );
    assert_eq!(
        lmul_dot_checked(
            Format::E4M3,
            3,
            s,
            &[0x38, 0x38, 0x100],
            &[0x38, 0x38, 0x38]
        )
        .unwrap_err()
        .to_string(),
        "a[2] = 0x100 does not fit the 8 bits of e4m3"
    );
    assert_eq!(
        lmul_dot_checked(Format::E5M2, 2, s, &[0x38], &[0x1FF])
            .unwrap_err()
            .to_string(),
        "b[0] = 0x1ff does not fit the 8 bits of e5m2"
    );
    assert_eq!(
        lmul_dot_checked(Format::E4M3, 3, s, &[0x38, 0x40], &[0x38, 0x44]),
        Ok(DotResult {
            acc: 576 + 3328,
            invalid: false
        })
    );
}

#[test]
#[should_panic(
    expected = "lmul_dot: format bf16 has 16 bits; only 8-bit formats are supported (e4m3, e5m2)"
)]
fn lmul_dot_panics_on_bf16() {
    lmul_dot(Format::BF16, 4, Overflow::Saturate, &[0x3F80], &[0x3F80]);
}

#[test]
#[should_panic(expected = "acc_width: format bf16 has 16 bits")]
fn acc_width_panics_on_bf16() {
    acc_width(Format::BF16, 4);
}

#[test]
#[should_panic(expected = "lmul_dot: a has 1 lanes but b has 2")]
fn lmul_dot_panics_on_length_mismatch() {
    lmul_dot(Format::E4M3, 3, Overflow::Saturate, &[0x38], &[0x38, 0x38]);
}
