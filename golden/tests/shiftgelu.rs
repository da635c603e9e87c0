//! `golden::shiftgelu`: every `shiftgelu` case of the shared known-answer file
//! (`shared/vectors/integer-ops.jsonl`) reproduced exactly, the spec's remark on `recip` (a sigmoid of
//! exactly 1/2 is 64/128 for small `|x0|`, where a plain `2^31 div s` gives 63), the output range,
//! accuracy against the float `x * sigmoid(1.702 x)`, and the parameter checks with their messages.

mod common;

use common::{int, rows, vector_cases};

use golden::exp_shift::{exp_shift, ExpShiftParamError};
use golden::shiftgelu::{
    check_shiftgelu_params, check_shiftgelu_row, gelu_f64, gelu_scale_from_x0, sat8, shiftgelu,
    shiftgelu_checked, shiftgelu_sigmoid, shiftgelu_tail, shiftgelu_tail_checked, ShiftgeluError,
    TAIL_OUT_MAX, TAIL_OUT_MIN,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Shared known answers.

#[test]
fn shiftgelu_shared_vectors_reproduced_exactly() {
    let cases = vector_cases("shiftgelu");
    let mut failures = vec![];
    let mut rows_checked = 0;
    for (line, case) in &cases {
        let name = case["name"].as_str().unwrap_or("?");
        let p = &case["params"];
        let x0 = int(&p["x0"], "x0");
        let n = int(&p["n"], "n") as u32;
        let x = rows(&case["x"], "x");
        let y = rows(&case["y"], "y");
        assert_eq!(x.len(), y.len(), "line {line} ({name}): x and y row counts");
        for (i, (xr, yr)) in x.iter().zip(&y).enumerate() {
            let row: Vec<i32> = xr.iter().map(|&v| v as i32).collect();
            let got = shiftgelu(&row, x0, n);
            rows_checked += 1;
            if &got != yr {
                failures.push(format!(
                    "line {line} ({name}) row {i}: got {got:?}, expected {yr:?}"
                ));
            }
        }
    }
    println!(
        "shiftgelu: {} shared-vector cases ({rows_checked} rows), {} failed",
        cases.len(),
        failures.len()
    );
    assert!(
        !cases.is_empty(),
        "no shiftgelu cases in the shared vectors"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// The spec's remark on recip: "A plain `2^31 div s` ... breaks ShiftGELU systematically for
// `|x0| <= 7` (a sigmoid of exactly 1/2 comes out 63/128 instead of 64/128)."
//
// An element `x = 0` has `e_i = emax` (both are `exp_shift(-m)`), so `s_i = 2 e_i`: an exact 1/2.
// When the row maximum `m` is large enough for the exponent of `-m` to sit at its clamp (`t <= n*x0`,
// then `e_i = |x0|`), `s_i = 2|x0|` is small and `recip` keeps all 24 bits: `|x0| * recip(2|x0|)` is at
// least 2^30 exactly when `rne24(1/(2|x0|))` rounds up or is exact, which holds for every `|x0| <= 7`.
// For unclamped exponents `s_i` is large, `recip(s_i)` keeps only a few bits (the spec's "4-5 bit
// division") and the sigmoid of 1/2 can be 60..=63 with `recip` too (e.g. `x0 = -7, m = 0`: `s =
// 7 * 2^24`, `recip = 18`, `sig = 63`), as in the reference; the remark is about the clamped rows.

/// `sig` of an element equal to 0 when the row maximum is `m`, computed with `2^31 div s` instead of
/// `recip(s)`.
fn sig_of_zero_with_floor_quotient(m: i32, x0: i64, n: u32) -> i64 {
    let e = exp_shift(-(m as i64), x0, n);
    let s = (2 * e).min(1 << 31);
    (e * ((1i64 << 31) / s)) >> 24
}

#[test]
fn shiftgelu_sigmoid_of_one_half_is_64_for_x0_down_to_m7_clamped() {
    for x0 in -7i64..=-1 {
        let mut clamped_rows = 0;
        for m in 0i32..=127 {
            if exp_shift(-(m as i64), x0, 23) != -x0 {
                continue; // exponent not at its clamp
            }
            clamped_rows += 1;
            let row = [0, m, -128];
            assert_eq!(shiftgelu_sigmoid(&row, x0, 23)[0], 64, "x0={x0} m={m}");
            let plain = sig_of_zero_with_floor_quotient(m, x0, 23);
            if [-1, -2, -4].contains(&x0) {
                assert_eq!(plain, 64, "x0={x0} m={m}"); // 2|x0| is a power of two: exact
            } else {
                assert_eq!(plain, 63, "x0={x0} m={m}"); // the break the spec describes
            }
        }
        assert!(clamped_rows > 0, "x0={x0}: no clamped row in 0..=127");
    }
}

/// Unclamped, the 1/2 is not always 64 with `recip` either (see the comment above).
#[test]
fn shiftgelu_sigmoid_of_one_half_x0m7_m0_is_63() {
    assert_eq!(exp_shift(0, -7, 23), 7 << 23);
    assert_eq!(golden::recip::recip(7 << 24), 18);
    assert_eq!(shiftgelu_sigmoid(&[0], -7, 23), vec![63]);
}

/// The `n = 23` exponent clamp limits small `|x0|`: with `x0 = -8`, `x = -128` and `m = 127`, `e_i`
/// is clamped to `|x0| = 8` while `emax` is 9, so the sigmoid of `1.702 * -9.4` comes out
/// `8/17 ~ 60/128`. Hand-worked: `d = -255`, `t = -367 -> -184`, `e_i = 16 >> 1 = 8`; `emax`: `t = -183`,
/// `q = 22`, `r = -7`, `e = (9 << 1) >> 1 = 9`; `recip(17) = rne(2^28/17) << 3 = 126322568`;
/// `8 * 126322568 >> 24 = 60`. Spec behaviour, not a defect of the model.
#[test]
fn shiftgelu_exponent_clamp_x0m8_hand_worked() {
    assert_eq!(exp_shift(-255, -8, 23), 8);
    assert_eq!(exp_shift(-127, -8, 23), 9);
    assert_eq!(golden::recip::recip(17), 126322568);
    // The maximum itself: s = 2^26 + 9, recip = rne(2^50 / s) >> 19 = 16777214 >> 19 = 31 (the coarse
    // division), sig = 2^26 * 31 >> 24 = 124.
    assert_eq!(golden::recip::recip((1 << 26) + 9), 31);
    assert_eq!(shiftgelu_sigmoid(&[-128, 127], -8, 23), vec![60, 124]);
    assert_eq!(shiftgelu(&[-128, 127], -8, 23), vec![-7680, 15748]);
}

/// Accuracy against `v * sigmoid(1.702 v)`, `v = x * S` with `S = 1 / (1.702 |x0|)` (spec: "ShiftGELU
/// mean 0.012 (max 0.31, from its 4-5 bit division)"), exhaustive: every `x0` in `-128..=-10`, every
/// row maximum `m` and every `x <= m` (the sigmoid of `x` depends on nothing else). Max at most 0.31,
/// mean at most 0.04 real units over these (uniform) pairs (the spec's 0.012 is on its random data;
/// uniform pairs reach about 0.03 near `|x0| = 128`). For `|x0| <= 9` the `n = 23` exponent clamp
/// dominates (see above: up to 37 real units at `x0 = -1`), so they are not covered.
#[test]
fn shiftgelu_close_to_float_exhaustive_x0_m128_to_m10() {
    for x0 in -128i64..=-10 {
        let s = gelu_scale_from_x0(x0);
        let (mut max, mut sum, mut count) = (0f64, 0f64, 0u32);
        for m in -128i32..=127 {
            for x in -128..=m {
                let got = shiftgelu(&[x, m], x0, 23)[0] as f64 * s / 128.0;
                let err = (got - gelu_f64(&[x], s)[0]).abs();
                assert!(err <= 0.31, "x0={x0} m={m} x={x}: error {err}");
                max = max.max(err);
                sum += err;
                count += 1;
            }
        }
        let mean = sum / count as f64;
        assert!(mean <= 0.04, "x0={x0}: mean error {mean} (max {max})");
    }
}

// ---------------------------------------------------------------------------------------------
// Properties.

fn int8_row(max_len: usize) -> impl Strategy<Value = Vec<i32>> {
    prop::collection::vec(-128i32..=127, 1..=max_len)
}

fn x0_vec() -> impl Strategy<Value = i64> {
    prop_oneof![3 => -128i64..=-1, 1 => Just(-1i64), 1 => Just(-128i64)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// For `|x0| <= 128` and `n = 23` (`|x0| * 2^n <= 2^31`): `sig` in `[0, 128]` and
    /// `out = x * sig` in int16.
    #[test]
    fn shiftgelu_range(row in int8_row(128), x0 in x0_vec()) {
        let sig = shiftgelu_sigmoid(&row, x0, 23);
        let out = shiftgelu(&row, x0, 23);
        for i in 0..row.len() {
            prop_assert!((0..=128).contains(&sig[i]), "sig {} at {}", sig[i], i);
            prop_assert_eq!(out[i], row[i] as i64 * sig[i]);
            prop_assert!((-16384..=16256).contains(&out[i]));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ShiftGELU with a linear tail (int16 rows).

/// An int16 row with a realistic spread (most elements within int8, some far above it) or, one
/// time in four, uniform over int16.
fn int16_row(max_len: usize) -> impl Strategy<Value = Vec<i32>> {
    let elem = prop_oneof![
        6 => -128i32..=127,
        2 => 100i32..=600,
        1 => -32768i32..=32767,
        1 => prop::sample::select(vec![-32768, -129, -128, 126, 127, 128, 32766, 32767]),
    ];
    prop::collection::vec(elem, 1..=max_len)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Within int8 the tail adds nothing: exactly ShiftGELU.
    #[test]
    fn shiftgelu_tail_is_shiftgelu_within_int8(row in int8_row(128), x0 in x0_vec(), n in 1u32..=23) {
        prop_assert_eq!(shiftgelu_tail(&row, x0, n), shiftgelu(&row, x0, n));
    }

    /// The definition: ShiftGELU of `sat8(u)` plus `128 max(u - 127, 0)`; above 127 the output rises
    /// by exactly 128 per step of `u`, so it is monotone there; the range is int23's
    /// `-16384 ..= 4194176` when `|x0| 2^n <= 2^31`.
    #[test]
    fn shiftgelu_tail_monotone_tail_and_bound(row in int16_row(64), x0 in x0_vec()) {
        let g = shiftgelu_tail(&row, x0, 23);
        let x8: Vec<i32> = row.iter().map(|&v| sat8(v)).collect();
        let base = shiftgelu(&x8, x0, 23);
        for i in 0..row.len() {
            prop_assert_eq!(g[i], base[i] + 128 * (row[i] as i64 - 127).max(0));
            prop_assert!((TAIL_OUT_MIN..=TAIL_OUT_MAX).contains(&g[i]), "g {} at {}", g[i], i);
            for j in 0..row.len() {
                if row[i] >= row[j] && row[j] >= 127 {
                    prop_assert_eq!(g[i] - g[j], 128 * (row[i] - row[j]) as i64);
                }
            }
        }
        // Raising an element that is already at or above 127 changes only its own output.
        if let Some(k) = row.iter().position(|&v| (127..32767).contains(&v)) {
            let mut up = row.clone();
            up[k] += 1;
            let h = shiftgelu_tail(&up, x0, 23);
            for i in 0..row.len() {
                prop_assert_eq!(h[i] - g[i], if i == k { 128 } else { 0 });
            }
        }
    }
}

/// The extremes: the bound is reached by 32767 with the row's maximum at 127 (`sig = 128` with
/// `|x0| 2^n = 2^31`), the minimum by -128 and below.
#[test]
fn shiftgelu_tail_extremes() {
    assert_eq!(TAIL_OUT_MAX, 4_194_176);
    const { assert!(TAIL_OUT_MAX < 1 << 22 && TAIL_OUT_MIN >= -(1 << 22)) };
    assert_eq!(shiftgelu_tail(&[32767], -256, 23), vec![TAIL_OUT_MAX]);
    let g = shiftgelu_tail(&[-32768, 32767, 127, 128], -26, 23);
    assert_eq!(g[0], shiftgelu(&[-128, 127, 127, 127], -26, 23)[0]);
    assert_eq!(g[1] - g[2], 128 * 32640);
    assert_eq!(g[3] - g[2], 128);
    assert_eq!(
        shiftgelu_tail_checked(&[0, 32768], -26, 23),
        Err(ShiftgeluError::InputWide {
            index: 1,
            value: 32768
        })
    );
    assert_eq!(
        shiftgelu_tail_checked(&[-32769], -26, 23)
            .unwrap_err()
            .to_string(),
        "u[0] = -32769 out of range -32768..=32767 (int16)"
    );
    assert_eq!(
        shiftgelu_tail_checked(&[], -26, 23),
        Err(ShiftgeluError::EmptyRow)
    );
}

/// Beyond `|x0| * 2^n <= 2^31` the sigmoid is computed exactly, not clipped: `x0 = -2^15`, `n = 30`,
/// one element 0: `e = emax = 2^45`, `s = 2^31`, `recip = 1`, `sig = 2^45 >> 24 = 2^21`.
#[test]
fn shiftgelu_outside_guaranteed_range_is_exact() {
    assert_eq!(shiftgelu_sigmoid(&[0], -32768, 30), vec![1 << 21]);
    assert_eq!(shiftgelu(&[1], -32768, 30), vec![1 << 21]);
    // Inside it (|x0| * 2^n = 2^31), the maximum element gets exactly 128.
    assert_eq!(shiftgelu_sigmoid(&[1], -256, 23), vec![128]);
}

#[test]
fn gelu_f64_known_values() {
    let s = 0.05;
    let g = gelu_f64(&[0, 20, -20], s); // v = 0, 1, -1
    assert_eq!(g[0], 0.0);
    assert!((g[1] - 1.0 / (1.0 + (-1.702f64).exp())).abs() < 1e-15);
    assert!((g[1] - g[2] - 1.0).abs() < 1e-12); // v*sig(av) - (-v)*sig(-av) = v
}

// ---------------------------------------------------------------------------------------------
// Parameter checks (messages asserted).

#[test]
fn shiftgelu_param_errors() {
    assert_eq!(check_shiftgelu_params(-26, 23), Ok(()));
    assert_eq!(
        check_shiftgelu_params(-40000, 23),
        Err(ShiftgeluError::Params(ExpShiftParamError::X0 {
            x0: -40000
        }))
    );
    assert_eq!(
        check_shiftgelu_params(-40000, 23).unwrap_err().to_string(),
        "x0 = -40000 out of range -32768..=-1 (x0 must be negative and fit 16 bits)"
    );
    assert_eq!(
        check_shiftgelu_params(-26, 0).unwrap_err().to_string(),
        "n = 0 out of range 1..=30"
    );
    assert_eq!(
        check_shiftgelu_row(&[]).unwrap_err().to_string(),
        "row is empty (ShiftGELU needs at least 1 element)"
    );
    assert_eq!(
        check_shiftgelu_row(&[1, -200]).unwrap_err().to_string(),
        "x[1] = -200 out of range -128..=127 (int8)"
    );
    assert_eq!(
        shiftgelu_checked(&[300], -26, 23),
        Err(ShiftgeluError::Input {
            index: 0,
            value: 300
        })
    );
}

#[test]
#[should_panic(expected = "shiftgelu: n = 31 out of range 1..=30")]
fn shiftgelu_panics_on_n_31() {
    shiftgelu(&[1], -26, 31);
}
