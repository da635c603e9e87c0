//! Integer matrix multiply, the MAC array (spec: `integer-ops.md`, "Integer matrix multiply").
//!
//! ```text
//! Y[i][j] = bias[j] + sum_k A[i][k] * B[k][j]
//! ```
//! with `A` int8 or unsigned 16-bit (`0..=65535`, attention probabilities up to 2^15 times V), `B` int8,
//! `bias` int32, "accumulated in 32-bit two's complement (wrapping, documented; with zero bias the
//! largest `K` that cannot wrap for int8 x int8 is 2^17 - 1, since 2^17 * (-128)^2 = 2^31)".

/// `Y[i][j] = bias[j] + sum_k A[i][k] * B[k][j]`, accumulated in wrapping 32-bit two's complement.
///
/// `A` is `M x K` (int8 `-128..=127` or unsigned 16-bit `0..=65535`, given as `i32`), `B` is `K x N`
/// int8, `bias` has `N` int32 entries; the result is `M x N` int32.
///
/// Wrapping: the result is the exact integer sum reduced modulo 2^32 into `i32` (which is
/// order-independent, so the MAC array may accumulate in any order). With zero bias, int8 x int8 cannot
/// wrap for `K <= 2^17 - 1`; `K = 2^17` products of `(-128) * (-128)` sum to `2^31`, which wraps to
/// `i32::MIN`. For the unsigned 16-bit `A`, one product reaches `65535 * 128 < 2^23`, so `K <= 255`
/// cannot wrap. Values outside the stated ranges are not rejected here (the vector reader checks them);
/// for any `i32` inputs the result is still the exact sum modulo 2^32.
///
/// # Panics
/// On a shape mismatch: `A` ragged, `B` not having `K` rows, or a row of `B` not having `bias.len()`
/// entries. The message names the offending row.
pub fn matmul(a: &[Vec<i32>], b: &[Vec<i32>], bias: &[i32]) -> Vec<Vec<i32>> {
    let k = a.first().map_or(0, Vec::len);
    for (i, row) in a.iter().enumerate() {
        assert!(
            row.len() == k,
            "matmul: A is ragged (row {i} has {} elements, row 0 has {k})",
            row.len()
        );
    }
    assert!(
        b.len() == k,
        "matmul: B has {} rows but A has K = {k} columns",
        b.len()
    );
    let n = bias.len();
    for (r, row) in b.iter().enumerate() {
        assert!(
            row.len() == n,
            "matmul: B row {r} has {} elements but bias has N = {n}",
            row.len()
        );
    }
    a.iter()
        .map(|a_row| {
            (0..n)
                .map(|j| {
                    a_row.iter().zip(b).fold(bias[j], |acc, (&a_ik, b_row)| {
                        acc.wrapping_add(a_ik.wrapping_mul(b_row[j]))
                    })
                })
                .collect()
        })
        .collect()
}
