//! `golden::exp_shift` against a direct formulation written here: `t` from floor quotients by positive
//! divisors (no shifts), `q` and `r` by a loop adding or subtracting `x0` until `r` lies in `(x0, 0]`,
//! and `e` by repeated doubling (saturating at `2^62` like the golden model). Exhaustive over every
//! int8 difference `d` in `-255..=255`, every `x0` in `-128..=-1` and every `n` in `1..=30`; seeded
//! samples beyond; the spec's bounds as tests.

use golden::exp_shift::{
    check_exp_shift_params, exp_shift, scale_from_x0, ExpShiftParamError, EXP_SHIFT_CAP, N_MAX,
    N_MIN, X0_MAX, X0_MIN,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// The naive model.

fn naive_exp_shift(d: i64, x0: i64, n: u32) -> i64 {
    let d = d as i128;
    let x0 = x0 as i128;
    let n = n as i128;
    // t = d + floor(d/2) - floor(d/16): floor by div_euclid on positive divisors.
    let mut t = d + d.div_euclid(2) - d.div_euclid(16);
    if t < n * x0 {
        t = n * x0;
    }
    // q, r with t = x0*q + r and x0 < r <= 0, by stepping.
    let (mut q, mut r) = (0i128, t);
    while r <= x0 {
        r -= x0; // x0 < 0: r grows toward (x0, 0]
        q += 1;
    }
    while r > 0 {
        r += x0;
        q -= 1;
    }
    // e = floor((r - 2*x0) * 2^(n-q) / 2), by doubling; saturate once the value reaches 2^63 (then
    // e >= 2^62).
    let mut big = r - 2 * x0;
    let mut shift = n - q;
    assert!(shift >= 0, "naive: shift {shift} < 0");
    while shift > 0 {
        big *= 2;
        shift -= 1;
        if big >= 1i128 << 63 {
            return EXP_SHIFT_CAP;
        }
    }
    (big.div_euclid(2) as i64).min(EXP_SHIFT_CAP)
}

// ---------------------------------------------------------------------------------------------
// Exhaustive over the int8 range.

#[test]
fn exp_shift_exhaustive_int8_differences_all_x0_all_n() {
    let mut count = 0u64;
    for x0 in -128i64..=-1 {
        for n in N_MIN..=N_MAX {
            for d in -255i64..=255 {
                assert_eq!(
                    exp_shift(d, x0, n),
                    naive_exp_shift(d, x0, n),
                    "d={d} x0={x0} n={n}"
                );
                count += 1;
            }
        }
    }
    assert_eq!(count, 128 * 30 * 511);
}

/// `e` is non-decreasing in `d` (t is non-decreasing in d, e in t), and at least 1.
#[test]
fn exp_shift_monotone_and_positive() {
    for x0 in [-128i64, -100, -43, -16, -7, -3, -2, -1, X0_MIN] {
        for n in [1u32, 15, 23, 30] {
            let mut prev = 0i64;
            for d in -4000i64..=300 {
                let e = exp_shift(d, x0, n);
                assert!(e >= 1, "e = {e} < 1 at d={d} x0={x0} n={n}");
                assert!(e >= prev, "not monotone at d={d} x0={x0} n={n}");
                prev = e;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Spec facts.

/// Spec: "Bounds for `|x0| <= 128`: `e_i <= 2^22` (equality at `d = 0, x0 = -128`: 23 bits)", with
/// `n = 15` (Shiftmax).
#[test]
fn exp_shift_bound_2_pow_22_for_x0_down_to_m128_n15() {
    let mut at_bound = vec![];
    for x0 in -128i64..=-1 {
        for d in -255i64..=0 {
            let e = exp_shift(d, x0, 15);
            assert!(e <= 1 << 22, "e = {e} > 2^22 at d={d} x0={x0}");
            if e == 1 << 22 {
                at_bound.push((d, x0));
            }
        }
    }
    assert_eq!(at_bound, vec![(0, -128)]);
}

/// For `d <= 0` the maximum is at `d = 0`: `e = |x0| * 2^n`.
#[test]
fn exp_shift_at_d0_is_abs_x0_times_2_pow_n() {
    for x0 in [-1i64, -2, -3, -127, -128, -129, -1000, X0_MIN] {
        for n in N_MIN..=N_MAX {
            assert_eq!(exp_shift(0, x0, n), -x0 << n, "x0={x0} n={n}");
        }
    }
}

/// Spec: "the row sum `<= 2^30` for rows up to 256 elements (equality for a constant row)".
#[test]
fn exp_shift_row_sum_at_most_2_pow_30_for_256_elements() {
    for x0 in -128i64..=-1 {
        let constant: i64 = (0..256).map(|_| exp_shift(0, x0, 15)).sum();
        assert!(constant <= 1 << 30, "x0={x0}: {constant}");
        if x0 == -128 {
            assert_eq!(constant, 1 << 30);
        }
    }
}

/// ShiftGELU's `emax` with `x0 = -1` and `m = -128`: `d = 128`, `t = 184`, `q = -184`, a shift of
/// `23 + 184` bits; saturated at `2^62`, still far above the `2^31` cap.
#[test]
fn exp_shift_positive_d_huge_shift_saturates() {
    assert_eq!(exp_shift(128, -1, 23), EXP_SHIFT_CAP);
    assert_eq!(exp_shift(i64::MAX, -1, 30), EXP_SHIFT_CAP);
    assert_eq!(exp_shift(i64::MIN, -1, 30), 1); // t clamped at n*x0, q = n, e = v >> 1 = 1
                                                // Just below saturation: x0 = -1, v = 2, e = 2^(n - q); d = 32: t = 32 + 16 - 2 = 46, q = -46,
                                                // n = 15: e = 2^61.
    assert_eq!(exp_shift(32, -1, 15), 1 << 61);
    assert_eq!(exp_shift(33, -1, 15), EXP_SHIFT_CAP);
}

// ---------------------------------------------------------------------------------------------
// Parameter checks (messages asserted).

#[test]
fn exp_shift_param_errors() {
    assert_eq!(check_exp_shift_params(-1, 1), Ok(()));
    assert_eq!(check_exp_shift_params(X0_MIN, N_MAX), Ok(()));
    let e = check_exp_shift_params(0, 15).unwrap_err();
    assert_eq!(e, ExpShiftParamError::X0 { x0: 0 });
    assert_eq!(
        e.to_string(),
        "x0 = 0 out of range -32768..=-1 (x0 must be negative and fit 16 bits)"
    );
    assert_eq!(
        check_exp_shift_params(X0_MIN - 1, 15)
            .unwrap_err()
            .to_string(),
        "x0 = -32769 out of range -32768..=-1 (x0 must be negative and fit 16 bits)"
    );
    assert_eq!(
        check_exp_shift_params(-43, 0).unwrap_err().to_string(),
        "n = 0 out of range 1..=30"
    );
    assert_eq!(
        check_exp_shift_params(-43, 31).unwrap_err().to_string(),
        "n = 31 out of range 1..=30"
    );
    // x0 is checked first.
    assert_eq!(
        check_exp_shift_params(5, 0),
        Err(ExpShiftParamError::X0 { x0: 5 })
    );
    assert_eq!(X0_MAX, -1);
}

#[test]
#[should_panic(expected = "exp_shift: x0 = 1 out of range -32768..=-1")]
fn exp_shift_panics_on_positive_x0() {
    exp_shift(0, 1, 15);
}

#[test]
#[should_panic(expected = "exp_shift: n = 31 out of range 1..=30")]
fn exp_shift_panics_on_n_31() {
    exp_shift(0, -1, 31);
}

/// `exp_shift(d) / exp_shift(0)` approximates `e^(d*S)` with `S = -1/x0` (the spec's approximation:
/// `1.4375` for `log2 e`, a linear 2^-fraction, floors in `d >> 1` and `d >> 4` that move `t` by up to
/// 2): within 15% relative for moderate `d`.
#[test]
fn exp_shift_approximates_exp_of_d_times_scale() {
    for x0 in [-128i64, -43, -16] {
        let s = scale_from_x0(x0);
        let e0 = exp_shift(0, x0, 30) as f64;
        for d in -3 * (-x0)..=0 {
            let approx = exp_shift(d, x0, 30) as f64 / e0;
            let exact = (d as f64 * s).exp();
            assert!(
                (approx / exact - 1.0).abs() < 0.15,
                "d={d} x0={x0}: {approx} vs {exact}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Seeded samples beyond the int8 range.

fn x0_any() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => X0_MIN..=X0_MAX,
        2 => -128i64..=-1,
        1 => Just(-1i64),
        1 => Just(X0_MIN),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20000))]

    #[test]
    fn exp_shift_matches_naive_wide_d(d in -(1i64 << 20)..=(1i64 << 12), x0 in x0_any(), n in N_MIN..=N_MAX) {
        // Keep the naive loop short: |t / x0| is bounded by about 2^21.
        prop_assert_eq!(exp_shift(d, x0, n), naive_exp_shift(d, x0, n), "d={} x0={} n={}", d, x0, n);
    }

    #[test]
    fn exp_shift_bounded_for_d_le_0(d in -(1i64 << 40)..=0, x0 in x0_any(), n in N_MIN..=N_MAX) {
        let e = exp_shift(d, x0, n);
        prop_assert!(e >= 1 && e <= (-x0) << n, "d={} x0={} n={} e={}", d, x0, n, e);
    }
}
