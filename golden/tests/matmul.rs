//! `golden::matmul` against a naive formulation: the exact sum in `i64`, then one reduction modulo 2^32.

use golden::matmul::matmul;
use proptest::prelude::*;

/// Exact `bias[j] + sum_k a[i][k] * b[k][j]` in i64, then wrapped to i32 once at the end.
fn naive(a: &[Vec<i32>], b: &[Vec<i32>], bias: &[i32]) -> Vec<Vec<i32>> {
    let mut y = vec![vec![0i32; bias.len()]; a.len()];
    for (i, y_row) in y.iter_mut().enumerate() {
        for (j, y_ij) in y_row.iter_mut().enumerate() {
            let mut s = bias[j] as i64;
            for k in 0..b.len() {
                s += a[i][k] as i64 * b[k][j] as i64;
            }
            *y_ij = s.rem_euclid(1 << 32) as u32 as i32;
        }
    }
    y
}

fn int8() -> impl Strategy<Value = i32> {
    prop_oneof![4 => -128i32..=127, 1 => Just(-128), 1 => Just(127)]
}

fn uint16() -> impl Strategy<Value = i32> {
    prop_oneof![4 => 0i32..=65535, 1 => Just(65535), 1 => Just(32768), 1 => Just(0)]
}

fn int32() -> impl Strategy<Value = i32> {
    prop_oneof![4 => any::<i32>(), 1 => Just(i32::MIN), 1 => Just(i32::MAX), 1 => Just(0)]
}

/// (a, b, bias) with M, K, N in 1..=8 and A signed (int8) or unsigned (16-bit).
fn problem(k_max: usize) -> impl Strategy<Value = (Vec<Vec<i32>>, Vec<Vec<i32>>, Vec<i32>)> {
    (1usize..=8, 1usize..=k_max, 1usize..=8, any::<bool>()).prop_flat_map(|(m, k, n, signed)| {
        let a_elem = if signed {
            int8().boxed()
        } else {
            uint16().boxed()
        };
        (
            prop::collection::vec(prop::collection::vec(a_elem, k), m),
            prop::collection::vec(prop::collection::vec(int8(), n), k),
            prop::collection::vec(int32(), n),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn matmul_matches_naive_small((a, b, bias) in problem(8)) {
        prop_assert_eq!(matmul(&a, &b, &bias), naive(&a, &b, &bias));
    }

    /// K up to 300 with extreme 16-bit A and an extreme bias wraps often.
    #[test]
    fn matmul_matches_naive_k_300((a, b, bias) in problem(300)) {
        prop_assert_eq!(matmul(&a, &b, &bias), naive(&a, &b, &bias));
    }
}

#[test]
fn matmul_by_hand_2x3_by_3x2() {
    let a = vec![vec![1, -2, 3], vec![-128, 127, 0]];
    let b = vec![vec![1, 2], vec![-1, -2], vec![127, -128]];
    let bias = vec![0, 100];
    // row 0: 1 + 2 + 381 = 384; 2 + 4 - 384 + 100 = -278
    // row 1: -128 - 127 + 0 = -255; -256 - 254 + 100 = -410
    assert_eq!(
        matmul(&a, &b, &bias),
        vec![vec![384, -278], vec![-255, -410]]
    );
}

#[test]
fn matmul_1x1x1() {
    assert_eq!(
        matmul(&[vec![-128]], &[vec![-128]], &[0]),
        vec![vec![16384]]
    );
    assert_eq!(
        matmul(&[vec![65535]], &[vec![-128]], &[0]),
        vec![vec![-8388480]]
    );
}

#[test]
fn matmul_k_2_pow_17_minus_1_does_not_wrap() {
    const K: usize = (1 << 17) - 1;
    let a = vec![vec![-128; K]];
    let b = vec![vec![-128]; K];
    // (2^17 - 1) * 2^14 = 2^31 - 2^14
    assert_eq!(matmul(&a, &b, &[0]), vec![vec![i32::MAX - (1 << 14) + 1]]);
}

#[test]
fn matmul_k_2_pow_17_wraps_to_i32_min() {
    const K: usize = 1 << 17;
    let a = vec![vec![-128; K]];
    let b = vec![vec![-128]; K];
    // 2^17 * (-128)^2 = 2^31, which wraps to -2^31
    assert_eq!(matmul(&a, &b, &[0]), vec![vec![i32::MIN]]);
    assert_eq!(naive(&a, &b, &[0]), vec![vec![i32::MIN]]);
}

#[test]
fn matmul_bias_wraps() {
    assert_eq!(
        matmul(&[vec![1]], &[vec![1]], &[i32::MAX]),
        vec![vec![i32::MIN]]
    );
    assert_eq!(
        matmul(&[vec![1]], &[vec![-1]], &[i32::MIN]),
        vec![vec![i32::MAX]]
    );
}

#[test]
#[should_panic(expected = "matmul: A is ragged (row 1 has 2 elements, row 0 has 3)")]
fn matmul_panics_on_ragged_a() {
    matmul(
        &[vec![1, 2, 3], vec![1, 2]],
        &[vec![1], vec![1], vec![1]],
        &[0],
    );
}

#[test]
#[should_panic(expected = "matmul: B has 2 rows but A has K = 3 columns")]
fn matmul_panics_on_inner_dimension() {
    matmul(&[vec![1, 2, 3]], &[vec![1], vec![1]], &[0]);
}

#[test]
#[should_panic(expected = "matmul: B row 1 has 1 elements but bias has N = 2")]
fn matmul_panics_on_bias_length() {
    matmul(&[vec![1, 2]], &[vec![1, 2], vec![1]], &[0, 0]);
}
