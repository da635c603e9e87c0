//! `golden::recip` against a second formulation written here: `floor(2^31 * rne24(1/s))` with the
//! 24-bit significand of `1/s` found by searching the exponent (no `bit_length`, no final shift of `R`),
//! all in `i128` rationals. Exhaustive for `s < 2^20`, every power of two up to `2^31` with its
//! neighbours, and seeded samples of the whole range.

use golden::recip::{bit_length, recip, round_half_even_div, RECIP_S_MAX, RECIP_S_MIN};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// The naive model.

/// `1/s = m * 2^-k` with the significand `m` rounded to 24 bits, ties to even: the smallest `k` with
/// `2^k / s >= 2^23` puts the exact quotient in `[2^23, 2^24)`; `m` is its nearest integer (ties to
/// even), possibly `2^24`. Returns `(m, k)`.
fn naive_rne24_recip(s: i128) -> (i128, u32) {
    let mut k = 0u32;
    while (1i128 << k) < (1i128 << 23) * s {
        k += 1;
    }
    let num = 1i128 << k;
    let lo = num.div_euclid(s); // s > 0: floor
    let hi = lo + 1;
    // Distances to the exact quotient num/s, times s: num - lo*s and hi*s - num.
    let d_lo = num - lo * s;
    let d_hi = hi * s - num;
    let m = if d_lo < d_hi {
        lo
    } else if d_hi < d_lo {
        hi
    } else if lo % 2 == 0 {
        lo
    } else {
        hi
    };
    (m, k)
}

/// `floor(2^31 * m / 2^k)`.
fn naive_recip(s: u64) -> u64 {
    let (m, k) = naive_rne24_recip(s as i128);
    ((m << 31).div_euclid(1i128 << k)) as u64
}

// ---------------------------------------------------------------------------------------------
// Spec examples and facts.

#[test]
fn recip_spec_examples() {
    assert_eq!(recip(1), 1 << 31);
    assert_eq!(recip(3), 715827904);
    assert_eq!(recip(6), 357913952);
    assert_eq!(recip(1 << 31), 1);
    // "`2^31 div 3` is 715827882": the spec's recip is not the floor quotient.
    assert_ne!(recip(3), (1u64 << 31) / 3);
}

#[test]
fn recip_naive_model_spec_examples() {
    assert_eq!(naive_recip(1), 1 << 31);
    assert_eq!(naive_recip(3), 715827904);
    assert_eq!(naive_recip(6), 357913952);
    assert_eq!(naive_recip(1 << 31), 1);
}

/// Spec: "A plain `2^31 div s` differs from it for 70% of `s < 128`".
#[test]
fn recip_differs_from_floor_quotient_for_70_percent_below_128() {
    let differ = (1u64..128)
        .filter(|&s| recip(s) != (1u64 << 31) / s)
        .count();
    let pct = differ as f64 * 100.0 / 127.0;
    assert!(
        (65.0..75.0).contains(&pct),
        "{differ} of 127 differ ({pct:.1}%)"
    );
}

#[test]
fn recip_exhaustive_below_2_pow_20() {
    let mut prev = u64::MAX;
    for s in 1u64..(1 << 20) {
        let got = recip(s);
        assert_eq!(got, naive_recip(s), "s = {s}");
        assert!(got <= prev, "recip not monotone at s = {s}");
        prev = got;
    }
}

#[test]
fn recip_powers_of_two_and_neighbours_up_to_2_pow_31() {
    for k in 0..=31u32 {
        let p = 1u64 << k;
        assert_eq!(recip(p), 1 << (31 - k), "recip(2^{k})");
        for s in [p - 1, p, p + 1] {
            if (RECIP_S_MIN..=RECIP_S_MAX).contains(&s) {
                assert_eq!(recip(s), naive_recip(s), "s = {s} (2^{k} neighbourhood)");
            }
        }
    }
}

#[test]
fn recip_range_ends() {
    assert_eq!(recip(RECIP_S_MAX - 1), naive_recip(RECIP_S_MAX - 1));
    assert_eq!(recip(RECIP_S_MAX - 1), 1); // floor(2^31 * rne24(1/(2^31 - 1))) = floor(1 + ...) = 1
    assert_eq!(recip(2), 1 << 30);
}

#[test]
#[should_panic(expected = "recip: s = 0 out of range 1..=2147483648 (1..=2^31)")]
fn recip_rejects_0() {
    recip(0);
}

#[test]
#[should_panic(expected = "recip: s = 2147483649 out of range 1..=2147483648 (1..=2^31)")]
fn recip_rejects_2_pow_31_plus_1() {
    recip(RECIP_S_MAX + 1);
}

#[test]
fn bit_length_boundaries() {
    assert_eq!(bit_length(0), 0);
    assert_eq!(bit_length(1), 1);
    for k in 1..63u32 {
        assert_eq!(bit_length((1 << k) - 1), k);
        assert_eq!(bit_length(1 << k), k + 1);
    }
}

#[test]
#[should_panic(expected = "round_half_even_div: den = 0 (must be >= 1)")]
fn round_half_even_div_rejects_0() {
    round_half_even_div(1, 0);
}

/// Nearest of `floor` and `floor + 1` by comparing `|2*num - 2*c*den|`, ties to the even candidate.
fn naive_rhe(num: u64, den: u64) -> u128 {
    let (num, den) = (num as i128, den as i128);
    let lo = num.div_euclid(den);
    let cands = [lo, lo + 1];
    let dist = |c: i128| (2 * num - 2 * c * den).abs();
    let best = if dist(cands[0]) != dist(cands[1]) {
        *cands.iter().min_by_key(|&&c| dist(c)).unwrap()
    } else {
        *cands.iter().find(|&&c| c % 2 == 0).unwrap()
    };
    best as u128
}

// ---------------------------------------------------------------------------------------------
// Seeded samples (proptest's default seed handling; a failure prints the input and persists it).

fn s_full() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => RECIP_S_MIN..=RECIP_S_MAX,
        2 => (1u64 << 16)..(1u64 << 24),
        1 => (0u32..=31).prop_map(|k| 1u64 << k),
        1 => (1u32..=31).prop_map(|k| (1u64 << k) - 1),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20000))]

    #[test]
    fn recip_matches_naive(s in s_full()) {
        prop_assert_eq!(recip(s), naive_recip(s), "s = {}", s);
    }

    /// `recip(s) = floor(2^31 * R / 2^(23+j))` with `R` in `[2^23, 2^24]`: `recip(s) * s` is within
    /// `2^31 * 2^-24` (relative) plus one floor step of `2^31`.
    #[test]
    fn recip_close_to_2_pow_31_over_s(s in s_full()) {
        let err = recip(s) as f64 * s as f64 - 2f64.powi(31);
        prop_assert!(err.abs() <= 2f64.powi(31) * 2f64.powi(-24) + s as f64, "s = {} err = {}", s, err);
    }

    #[test]
    fn round_half_even_div_matches_naive(num in any::<u64>(), den in 1u64..=u64::MAX) {
        prop_assert_eq!(round_half_even_div(num as u128, den as u128), naive_rhe(num, den));
    }

    #[test]
    fn round_half_even_div_ties(q in 0u64..(1 << 40), den_half in 1u64..(1 << 20)) {
        // num / den = q + 1/2 exactly.
        let den = 2 * den_half;
        let num = q as u128 * den as u128 + den_half as u128;
        let expect = if q % 2 == 0 { q } else { q + 1 };
        prop_assert_eq!(round_half_even_div(num, den as u128), expect as u128);
    }
}
