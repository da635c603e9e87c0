//! `golden::requant` against a second, deliberately naive formulation written here with `i128`
//! arithmetic and exact rational comparisons, plus hand-worked known answers for `Dyadic`.

use golden::requant::{
    frexp, requant, requant_add, requant_add_rows, requant_rows, round_shift, saturate, Dyadic,
    DyadicError, Rounding, C_MAX, M_MAX,
};
use proptest::prelude::*;
use std::cmp::Ordering;

// ---------------------------------------------------------------------------------------------
// The naive model: round(p / 2^c) as an exact rational, floor by div_euclid on a positive divisor,
// ties decided by comparing 2 * remainder with the divisor.

fn naive_round(p: i128, c: u32, rounding: Rounding) -> i128 {
    let d: i128 = 1 << c; // positive, so div_euclid is floor division
    let q = p.div_euclid(d);
    let r = p.rem_euclid(d); // p = q * d + r, 0 <= r < d
    match (2 * r).cmp(&d) {
        Ordering::Less => q,
        Ordering::Greater => q + 1,
        Ordering::Equal => match rounding {
            Rounding::HalfUp => q + 1,
            Rounding::HalfEven => {
                if q.rem_euclid(2) == 0 {
                    q
                } else {
                    q + 1
                }
            }
        },
    }
}

fn naive_clamp(y: i128, bits: u32) -> i128 {
    let hi = (1i128 << (bits - 1)) - 1;
    let lo = -(1i128 << (bits - 1));
    y.max(lo).min(hi)
}

fn naive_requant(x: i32, m: u32, c: u32, bits: u32, rounding: Rounding) -> i128 {
    naive_clamp(naive_round(x as i128 * m as i128, c, rounding), bits)
}

fn is_tie(p: i128, c: u32) -> bool {
    c > 0 && 2 * p.rem_euclid(1 << c) == 1 << c
}

// ---------------------------------------------------------------------------------------------
// Strategies.

fn rounding() -> impl Strategy<Value = Rounding> {
    prop_oneof![Just(Rounding::HalfEven), Just(Rounding::HalfUp)]
}

fn bits() -> impl Strategy<Value = u32> {
    prop_oneof![Just(8u32), Just(16u32)]
}

/// int32 with the extremes and small values over-represented.
fn x_i32() -> impl Strategy<Value = i32> {
    prop_oneof![
        4 => any::<i32>(),
        1 => Just(i32::MIN),
        1 => Just(i32::MAX),
        1 => Just(0),
        2 => -1000i32..=1000,
    ]
}

/// m over the full vector-file range, with its ends and powers of two over-represented.
fn m_full() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => 1u32..=M_MAX,
        1 => Just(1u32),
        1 => Just(M_MAX),
        1 => Just(1u32 << 30),
        1 => (0u32..=30).prop_map(|k| 1u32 << k),
    ]
}

/// An exact tie: odd_x * 2^s times odd_m * 2^t with c = s + t + 1, so p = odd * 2^(c-1).
fn tie_case() -> impl Strategy<Value = (i32, u32, u32)> {
    (0u32..=30, 0u32..=30, any::<i32>(), any::<u32>()).prop_map(|(s, t, xr, mr)| {
        let odd_x = (xr >> s) | 1; // odd, fits 32 - s bits (signed)
        let x = odd_x << s;
        let odd_m = (mr % ((M_MAX >> t) + 1)) | 1;
        let m = odd_m << t;
        let c = s + t + 1;
        (x, m, c)
    })
}

// ---------------------------------------------------------------------------------------------
// round_shift, saturate, requant vs the naive model.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn round_shift_matches_naive_all_c(p in -(1i64 << 62)..=(1i64 << 62), c in 0u32..=C_MAX, r in rounding()) {
        prop_assert_eq!(round_shift(p, c, r) as i128, naive_round(p as i128, c, r));
    }

    #[test]
    fn round_shift_any_i64_no_overflow(p in any::<i64>(), c in 1u32..=C_MAX, r in rounding()) {
        prop_assert_eq!(round_shift(p, c, r) as i128, naive_round(p as i128, c, r));
    }

    #[test]
    fn round_shift_c_0_is_exact(p in any::<i64>(), r in rounding()) {
        prop_assert_eq!(round_shift(p, 0, r), p);
    }

    #[test]
    fn saturate_matches_clamp(y in any::<i64>(), bits in 1u32..=32) {
        prop_assert_eq!(saturate(y, bits) as i128, naive_clamp(y as i128, bits));
    }

    #[test]
    fn requant_matches_naive(x in x_i32(), m in m_full(), c in 0u32..=C_MAX, bits in bits(), r in rounding()) {
        prop_assert_eq!(requant(x, m, c, bits, r) as i128, naive_requant(x, m, c, bits, r),
            "x={} m={} c={} bits={} rounding={}", x, m, c, bits, r);
    }

    /// Every c in 0..=62 for every sampled (x, m): the shift is the part most likely to be wrong.
    #[test]
    fn requant_matches_naive_every_c(x in x_i32(), m in m_full(), bits in bits(), r in rounding()) {
        for c in 0..=C_MAX {
            prop_assert_eq!(requant(x, m, c, bits, r) as i128, naive_requant(x, m, c, bits, r),
                "x={} m={} c={} bits={} rounding={}", x, m, c, bits, r);
        }
    }

    /// m above the vector range (up to u32::MAX) is still exact: |x * m| < 2^63.
    #[test]
    fn requant_any_u32_m_exact(x in x_i32(), m in any::<u32>(), c in 0u32..=C_MAX, bits in bits(), r in rounding()) {
        prop_assert_eq!(requant(x, m, c, bits, r) as i128, naive_requant(x, m, c, bits, r));
    }

    #[test]
    fn requant_exact_ties((x, m, c) in tie_case(), bits in bits()) {
        let p = x as i128 * m as i128;
        prop_assert!(is_tie(p, c), "not a tie: x={} m={} c={}", x, m, c);
        let even = requant(x, m, c, bits, Rounding::HalfEven);
        let up = requant(x, m, c, bits, Rounding::HalfUp);
        prop_assert_eq!(even as i128, naive_requant(x, m, c, bits, Rounding::HalfEven));
        prop_assert_eq!(up as i128, naive_requant(x, m, c, bits, Rounding::HalfUp));
        // Unclamped, the two modes differ on a tie exactly when floor(p / 2^c) is even.
        let q = p.div_euclid(1 << c);
        prop_assert_eq!(round_shift(p as i64, c, Rounding::HalfUp) as i128, q + 1);
        prop_assert_eq!(round_shift(p as i64, c, Rounding::HalfEven) as i128, if q % 2 == 0 { q } else { q + 1 });
    }

    #[test]
    fn requant_add_matches_naive(
        x in x_i32(), z in x_i32(), m in m_full(), m1 in m_full(),
        c in 0u32..=C_MAX, c1 in 0u32..=C_MAX, bits in bits(), r in rounding(),
    ) {
        let want = naive_clamp(
            naive_round(x as i128 * m as i128, c, r) + naive_round(z as i128 * m1 as i128, c1, r),
            bits,
        );
        prop_assert_eq!(requant_add(x, z, m, c, m1, c1, bits, r) as i128, want,
            "x={} z={} m={} c={} m1={} c1={} bits={} rounding={}", x, z, m, c, m1, c1, bits, r);
    }

    /// Ties in both branches, which must each be rounded before the sum.
    #[test]
    fn requant_add_ties_both_branches((x, m, c) in tie_case(), (z, m1, c1) in tie_case(), bits in bits(), r in rounding()) {
        let want = naive_clamp(
            naive_round(x as i128 * m as i128, c, r) + naive_round(z as i128 * m1 as i128, c1, r),
            bits,
        );
        prop_assert_eq!(requant_add(x, z, m, c, m1, c1, bits, r) as i128, want);
    }

    /// u32::MAX multipliers with c = c1 = 0 overflow an i64 sum; the clamped result is still exact.
    #[test]
    fn requant_add_any_u32_m_exact(
        x in x_i32(), z in x_i32(), m in any::<u32>(), m1 in any::<u32>(),
        c in 0u32..=2, c1 in 0u32..=2, bits in bits(), r in rounding(),
    ) {
        let want = naive_clamp(
            naive_round(x as i128 * m as i128, c, r) + naive_round(z as i128 * m1 as i128, c1, r),
            bits,
        );
        prop_assert_eq!(requant_add(x, z, m, c, m1, c1, bits, r) as i128, want);
    }

    #[test]
    fn requant_rows_broadcast_scalar_and_per_channel(
        x in prop::collection::vec(prop::collection::vec(x_i32(), 5), 1..4),
        m in prop::collection::vec(m_full(), 5), c in prop::collection::vec(0u32..=C_MAX, 5),
        bits in bits(), r in rounding(),
    ) {
        // per-channel m, scalar c; scalar m, per-channel c
        let y = requant_rows(&x, &m, &c[..1], bits, r);
        let y2 = requant_rows(&x, &m[..1], &c, bits, r);
        for (i, row) in x.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                prop_assert_eq!(y[i][j] as i128, naive_requant(v, m[j], c[0], bits, r));
                prop_assert_eq!(y2[i][j] as i128, naive_requant(v, m[0], c[j], bits, r));
            }
        }
    }

    #[test]
    fn requant_add_rows_broadcast_independently(
        xz in prop::collection::vec(prop::collection::vec((x_i32(), x_i32()), 3), 1..4),
        m in prop::collection::vec(m_full(), 3), c in prop::collection::vec(0u32..=C_MAX, 3),
        m1 in m_full(), c1 in prop::collection::vec(0u32..=C_MAX, 3),
        bits in bits(), r in rounding(),
    ) {
        let x: Vec<Vec<i32>> = xz.iter().map(|row| row.iter().map(|p| p.0).collect()).collect();
        let z: Vec<Vec<i32>> = xz.iter().map(|row| row.iter().map(|p| p.1).collect()).collect();
        let y = requant_add_rows(&x, &z, &m, &c[..1], &[m1], &c1, bits, r);
        for i in 0..x.len() {
            for j in 0..3 {
                let want = naive_clamp(
                    naive_round(x[i][j] as i128 * m[j] as i128, c[0], r)
                        + naive_round(z[i][j] as i128 * m1 as i128, c1[j], r),
                    bits,
                );
                prop_assert_eq!(y[i][j] as i128, want);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Known answers worked out by hand.

const HALF: u32 = 1 << 30; // m = 2^30 with c = 31 is exactly 1/2

#[test]
fn requant_halves_by_hand() {
    use Rounding::{HalfEven as E, HalfUp as U};
    // x / 2 for x = 3, 5, -5, -3, 1, -1: 1.5, 2.5, -2.5, -1.5, 0.5, -0.5
    let cases = [
        (3, 2, 2),
        (5, 2, 3),
        (-5, -2, -2),
        (-3, -2, -1),
        (1, 0, 1),
        (-1, 0, 0),
        (4, 2, 2),
    ];
    for (x, even, up) in cases {
        assert_eq!(requant(x, HALF, 31, 16, E), even, "half-even x = {x}");
        assert_eq!(requant(x, HALF, 31, 16, U), up, "half-up x = {x}");
    }
}

#[test]
fn requant_c_0_is_exact_then_clamped() {
    for r in Rounding::ALL {
        assert_eq!(requant(3, 5, 0, 16, r), 15);
        assert_eq!(requant(-3, 5, 0, 8, r), -15);
        assert_eq!(requant(1000, 1000, 0, 16, r), 32767);
        assert_eq!(requant(-1000, 1000, 0, 16, r), -32768);
    }
}

#[test]
fn requant_c_62_int32_extremes() {
    // x = i32::MIN, m = 2^30: p = -2^61, p / 2^62 = -0.5 exactly: a tie with floor -1.
    assert_eq!(requant(i32::MIN, 1 << 30, 62, 8, Rounding::HalfEven), 0);
    assert_eq!(requant(i32::MIN, 1 << 30, 62, 8, Rounding::HalfUp), 0);
    // x = i32::MAX, m = 2^31 - 1: p = 2^62 - 2^32 + 1, p / 2^62 just below 1: rounds to 1.
    assert_eq!(requant(i32::MAX, M_MAX, 62, 8, Rounding::HalfEven), 1);
    // x = i32::MIN, m = 2^31 - 1: p / 2^62 = -(1 - 2^-31) -> -1.
    assert_eq!(requant(i32::MIN, M_MAX, 62, 16, Rounding::HalfUp), -1);
    // 0.5 exactly at c = 1: x = 1, m = 1.
    assert_eq!(requant(1, 1, 1, 8, Rounding::HalfEven), 0);
    assert_eq!(requant(1, 1, 1, 8, Rounding::HalfUp), 1);
}

#[test]
fn requant_saturation_edges_bits_8_and_16() {
    // x * 2^30 / 2^32 = x / 4
    let m = 1 << 30;
    for r in Rounding::ALL {
        assert_eq!(requant(508, m, 32, 8, r), 127);
        assert_eq!(requant(512, m, 32, 8, r), 127);
        assert_eq!(requant(-512, m, 32, 8, r), -128);
        assert_eq!(requant(-516, m, 32, 8, r), -128);
        assert_eq!(requant(i32::MAX, m, 32, 8, r), 127);
        assert_eq!(requant(i32::MIN, m, 32, 8, r), -128);
        assert_eq!(requant(4 * 32767, m, 32, 16, r), 32767);
        assert_eq!(requant(4 * 32768, m, 32, 16, r), 32767);
        assert_eq!(requant(-4 * 32768, m, 32, 16, r), -32768);
        assert_eq!(requant(-4 * 32769, m, 32, 16, r), -32768);
    }
    // 510 / 4 = 127.5: half-even 128 -> 127 after the clamp, half-up 128 -> 127
    assert_eq!(requant(510, m, 32, 8, Rounding::HalfEven), 127);
    // -514 / 4 = -128.5: half-even -128, half-up -128
    assert_eq!(requant(-514, m, 32, 8, Rounding::HalfEven), -128);
    assert_eq!(requant(-514, m, 32, 8, Rounding::HalfUp), -128);
    // -518 / 4 = -129.5 rounds to -130 or -129, both clamp to -128
    assert_eq!(requant(-518, m, 32, 8, Rounding::HalfUp), -128);
}

#[test]
fn requant_add_rounds_each_branch_separately() {
    // x/2 + z/2 with x = z = 1: each branch 0.5 -> half-even 0 + 0 = 0 (not round(1.0) = 1).
    assert_eq!(
        requant_add(1, 1, HALF, 31, HALF, 31, 8, Rounding::HalfEven),
        0
    );
    // half-up: 1 + 1 = 2
    assert_eq!(
        requant_add(1, 1, HALF, 31, HALF, 31, 8, Rounding::HalfUp),
        2
    );
    // one clamp after the sum: 100 + 100 = 200 -> 127 (each branch alone is in range)
    assert_eq!(
        requant_add(200, 200, HALF, 31, HALF, 31, 8, Rounding::HalfEven),
        127
    );
    // and a branch beyond the range is pulled back by the other: 200 - 100 = 100
    assert_eq!(
        requant_add(400, -200, HALF, 31, HALF, 31, 8, Rounding::HalfEven),
        100
    );
}

#[test]
#[should_panic(expected = "requant: c = 63 out of range 0..=62")]
fn requant_panics_on_c_63() {
    requant(1, 1, 63, 8, Rounding::HalfEven);
}

#[test]
#[should_panic(expected = "requant: bits = 12 not allowed (allowed: 8, 16)")]
fn requant_panics_on_bits_12() {
    requant(1, 1, 0, 12, Rounding::HalfEven);
}

#[test]
#[should_panic(expected = "requant_add: c1 = 63 out of range 0..=62")]
fn requant_add_panics_on_c1_63() {
    requant_add(1, 1, 1, 0, 1, 63, 8, Rounding::HalfEven);
}

#[test]
#[should_panic(expected = "round_shift: c = 63 out of range 0..=62")]
fn round_shift_panics_on_c_63() {
    round_shift(1, 63, Rounding::HalfUp);
}

#[test]
#[should_panic(
    expected = "requant_rows: m has length 3, which matches neither 1 nor the row length 4"
)]
fn requant_rows_panics_on_channel_length() {
    requant_rows(&[vec![1, 2, 3, 4]], &[1, 2, 3], &[0], 8, Rounding::HalfEven);
}

#[test]
#[should_panic(expected = "requant_rows: x is ragged (row 1 has 3 elements, row 0 has 4)")]
fn requant_rows_panics_on_ragged() {
    requant_rows(
        &[vec![1, 2, 3, 4], vec![1, 2, 3]],
        &[1],
        &[0],
        8,
        Rounding::HalfEven,
    );
}

#[test]
#[should_panic(expected = "requant_add_rows: z does not have the shape of x (1 rows of 2)")]
fn requant_add_rows_panics_on_shape() {
    requant_add_rows(
        &[vec![1, 2]],
        &[vec![1]],
        &[1],
        &[0],
        &[1],
        &[0],
        8,
        Rounding::HalfEven,
    );
}

// ---------------------------------------------------------------------------------------------
// Rounding names.

#[test]
fn rounding_names_round_trip() {
    for r in Rounding::ALL {
        assert_eq!(r.as_str().parse::<Rounding>().unwrap(), r);
        assert_eq!(r.to_string(), r.as_str());
    }
    assert_eq!(Rounding::default(), Rounding::HalfEven);
    assert_eq!(Rounding::HalfEven.as_str(), "half-even");
    assert_eq!(Rounding::HalfUp.as_str(), "half-up");
}

#[test]
fn rounding_parse_error_names_value_and_allowed() {
    let err = "half_even".parse::<Rounding>().unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"invalid rounding "half_even" (allowed: half-even, half-up)"#
    );
    assert!("HALF-UP".parse::<Rounding>().is_err());
    assert!("".parse::<Rounding>().is_err());
}

// ---------------------------------------------------------------------------------------------
// frexp and Dyadic.

#[test]
fn frexp_by_hand() {
    assert_eq!(frexp(1.0), (0.5, 1));
    assert_eq!(frexp(0.5), (0.5, 0));
    assert_eq!(frexp(3.0), (0.75, 2));
    assert_eq!(frexp(-3.0), (-0.75, 2));
    assert_eq!(frexp(0.1), (0.8, -3));
    assert_eq!(frexp(f64::MAX), (1.0 - f64::EPSILON / 2.0, 1024));
    assert_eq!(frexp(f64::MIN_POSITIVE), (0.5, -1021));
    // subnormals: the smallest is 2^-1074 = 0.5 * 2^-1073
    assert_eq!(frexp(f64::from_bits(1)), (0.5, -1073));
    assert_eq!(frexp(f64::from_bits(3)), (0.75, -1072));
    assert_eq!(frexp(0.0), (0.0, 0));
}

proptest! {
    #[test]
    fn frexp_reconstructs(bits in any::<u64>()) {
        let x = f64::from_bits(bits);
        prop_assume!(x.is_finite() && x != 0.0);
        let (mf, e) = frexp(x);
        prop_assert!((0.5..1.0).contains(&mf.abs()), "mf = {}", mf);
        // mf * 2^e in two exact steps (2^e alone may not be representable)
        let back = mf * 2f64.powi(e / 2) * 2f64.powi(e - e / 2);
        prop_assert_eq!(back, x);
    }
}

fn d(m: u32, c: u32) -> Dyadic {
    Dyadic { m, c }
}

#[test]
fn dyadic_by_hand() {
    assert_eq!(Dyadic::from_ratio(1.0), Ok(d(1 << 30, 30)));
    assert_eq!(Dyadic::from_ratio(0.5), Ok(d(1 << 30, 31)));
    // 3 = 0.75 * 2^2: m = 0.75 * 2^31 = 1610612736, c = 29
    assert_eq!(Dyadic::from_ratio(3.0), Ok(d(1_610_612_736, 29)));
    // 0.1 = 0.8 * 2^-3: 0.8 * 2^31 = 1717986918.4 -> 1717986918, c = 34
    assert_eq!(Dyadic::from_ratio(0.1), Ok(d(1_717_986_918, 34)));
    assert_eq!(Dyadic::from_scales(0.3, 3.0), Dyadic::from_ratio(0.3 / 3.0));
    assert_eq!(Dyadic::from_scales(6.0, 2.0), Ok(d(1_610_612_736, 29)));
    // the largest and smallest shifts: 2^30 (c = 0) and 2^-32 (c = 62)
    assert_eq!(Dyadic::from_ratio(1073741824.0), Ok(d(1 << 30, 0)));
    assert_eq!(Dyadic::from_ratio(2f64.powi(-32)), Ok(d(1 << 30, 62)));
    // c = 0 with the largest mantissa: 2^31 - 1 itself is exact
    assert_eq!(Dyadic::from_ratio(2147483647.0), Ok(d(M_MAX, 0)));
}

#[test]
fn dyadic_rounds_half_away_from_zero() {
    // r = 0.5 + 2^-32: mf = r, e = 0, mf * 2^31 = 2^30 + 0.5 exactly -> 2^30 + 1 (half-even would give 2^30)
    let r = 0.5 + 2f64.powi(-32);
    assert_eq!(Dyadic::from_ratio(r), Ok(d((1 << 30) + 1, 31)));
    // r = 0.5 + 3 * 2^-32: 2^30 + 1.5 -> 2^30 + 2 (both rules agree here)
    assert_eq!(
        Dyadic::from_ratio(0.5 + 3.0 * 2f64.powi(-32)),
        Ok(d((1 << 30) + 2, 31))
    );
}

#[test]
fn dyadic_renormalizes_when_m_rounds_to_2_pow_31() {
    // The largest f64 below 1: mf = 1 - 2^-53, e = 0, mf * 2^31 = 2^31 - 2^-22 rounds to 2^31,
    // so m = 2^30 and c = 31 - 0 - 1 = 30.
    let r = 1.0 - f64::EPSILON / 2.0;
    assert_eq!(frexp(r), (r, 0));
    assert_eq!(Dyadic::from_ratio(r), Ok(d(1 << 30, 30)));
    // The smallest mf that still rounds up: 1 - 2^-32 (mf * 2^31 = 2^31 - 0.5, half away -> 2^31).
    assert_eq!(Dyadic::from_ratio(1.0 - 2f64.powi(-32)), Ok(d(1 << 30, 30)));
    // And one ulp of 2^-32 below it does not: 2^31 - 0.5 - 2^-1... -> 2^31 - 1, c = 31.
    assert_eq!(
        Dyadic::from_ratio(1.0 - 2f64.powi(-32) - 2f64.powi(-53)),
        Ok(d(M_MAX, 31))
    );
    // Renormalization brings c = 63 back to 62: r just below 2^-32.
    let r = 2f64.powi(-32) * (1.0 - f64::EPSILON / 2.0);
    assert_eq!(frexp(r).1, -32);
    assert_eq!(Dyadic::from_ratio(r), Ok(d(1 << 30, 62)));
}

#[test]
fn dyadic_errors_name_the_parameter() {
    let msg = |e: Result<Dyadic, DyadicError>| e.unwrap_err().to_string();
    assert_eq!(
        msg(Dyadic::from_scales(0.0, 1.0)),
        "s_in = 0.0 must be finite and > 0"
    );
    assert_eq!(
        msg(Dyadic::from_scales(1.0, -2.0)),
        "s_out = -2.0 must be finite and > 0"
    );
    assert_eq!(
        msg(Dyadic::from_scales(f64::NAN, 1.0)),
        "s_in = NaN must be finite and > 0"
    );
    assert_eq!(
        msg(Dyadic::from_scales(1.0, f64::INFINITY)),
        "s_out = inf must be finite and > 0"
    );
    assert_eq!(
        msg(Dyadic::from_scales(-0.0, 1.0)),
        "s_in = -0.0 must be finite and > 0"
    );
    assert_eq!(
        msg(Dyadic::from_ratio(0.0)),
        "r = 0.0 must be finite and > 0"
    );
    assert_eq!(
        msg(Dyadic::from_ratio(-1.0)),
        "r = -1.0 must be finite and > 0"
    );
    assert_eq!(
        msg(Dyadic::from_ratio(f64::NAN)),
        "r = NaN must be finite and > 0"
    );
    assert_eq!(
        msg(Dyadic::from_ratio(f64::NEG_INFINITY)),
        "r = -inf must be finite and > 0"
    );
    assert_eq!(
        msg(Dyadic::from_scales(1e300, 1e-300)),
        "r = s_in / s_out = 1e300 / 1e-300 is not representable in f64 (overflow or underflow)"
    );
    assert_eq!(
        msg(Dyadic::from_scales(1e-300, 1e300)),
        "r = s_in / s_out = 1e-300 / 1e300 is not representable in f64 (overflow or underflow)"
    );
}

#[test]
fn dyadic_shift_out_of_range() {
    let c_of = |r: f64| match Dyadic::from_ratio(r) {
        Err(DyadicError::ShiftOutOfRange { c, .. }) => c,
        other => panic!("r = {r}: expected ShiftOutOfRange, got {other:?}"),
    };
    // too large: 2^31 (e = 32, c = -1); just below 2^31 renormalizes from c = 0 to -1
    assert_eq!(c_of(2147483648.0), -1);
    assert_eq!(c_of(2147483648.0 * (1.0 - f64::EPSILON / 2.0)), -1);
    assert_eq!(c_of(2147483647.75), -1);
    assert_eq!(c_of(1e10), 31 - 34);
    // too small: 2^-33 (c = 63), and the smallest subnormal
    assert_eq!(c_of(2f64.powi(-33)), 63);
    assert_eq!(c_of(2f64.powi(-32) * 0.75), 63);
    assert_eq!(c_of(f64::from_bits(1)), 31 + 1073);
    assert_eq!(
        Dyadic::from_ratio(2147483648.0).unwrap_err().to_string(),
        "r = 2147483648.0 gives shift c = -1, outside 0..=62"
    );
    assert_eq!(
        Dyadic::from_scales(1.0, 2f64.powi(33))
            .unwrap_err()
            .to_string(),
        "r = 1.1641532182693481e-10 gives shift c = 63, outside 0..=62"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// |m / 2^c - r| <= 2^-31 * r, m in [2^30, 2^31), and m is the nearest integer to r * 2^c. The
    /// f64 arithmetic here is exact: eff and r are within a factor 2 of each other (Sterbenz), and
    /// the other steps scale by powers of two.
    #[test]
    fn dyadic_effective_within_2_pow_minus_31(mant in 1.0f64..2.0, e in -32i32..=30) {
        let r = mant * 2f64.powi(e);
        match Dyadic::from_ratio(r) {
            Ok(dy) => {
                prop_assert!((1u32 << 30..=M_MAX).contains(&dy.m), "m = {}", dy.m);
                prop_assert!(dy.c <= C_MAX);
                let err = (dy.effective() - r).abs();
                prop_assert!(err <= r * 2f64.powi(-31), "r = {} m = {} c = {} err = {}", r, dy.m, dy.c, err);
                let scaled = r * 2f64.powi(dy.c as i32);
                prop_assert!((scaled - dy.m as f64).abs() <= 0.5);
            }
            Err(err) => {
                // Only r in [2^31 - 1/2, 2^31) may fail here: m rounds to 2^31 at c = 0 and the
                // renormalization gives c = -1.
                prop_assert!(r >= 2147483647.5, "r = {}: unexpected error {}", r, err);
                prop_assert_eq!(err, DyadicError::ShiftOutOfRange { r, c: -1 });
            }
        }
    }

    #[test]
    fn dyadic_from_scales_is_from_ratio(s_in in 1e-6f64..1e3, s_out in 1e-6f64..1e3) {
        prop_assert_eq!(Dyadic::from_scales(s_in, s_out), Dyadic::from_ratio(s_in / s_out));
    }
}
