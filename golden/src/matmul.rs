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

/// The MAC array's cycle contract: when a tile's operands enter and when its results leave.
///
/// The array (`hdl::mac_array`, block `mac-array`) is a `rows x cols` output-stationary grid. One
/// input beat carries step `k` of a tile: `A[i][k]` for every row `i` and `B[k][j]` for every column
/// `j`, unskewed; the beat with `last` set closes the tile (`K` = the number of beats since the
/// previous `last`, any `K >= 1`) and also carries the tile's per-column `bias` (and, when
/// requantizing, `m` and `c`). One output beat carries one row `i` of the result (`cols` values);
/// `y_last` marks row `rows - 1`.
///
/// Timing, counted in cycles where the array advances (every cycle unless the output is
/// back-pressured, which freezes the whole array):
/// - the first output row of a tile leaves [`latency`](Self::latency) cycles after its `last` beat
///   was accepted, row `i` at `latency + i`;
/// - two `last` beats are accepted at least [`min_tile_period`](Self::min_tile_period) =
///   `max(rows, cols + 4)` cycles apart (the array holds `in_ready` low for an early `last` beat),
///   so tiles with `K >= max(rows, cols + 4)` stream back to back with no bubble, and shorter
///   tiles cost the difference in idle cycles. `rows` because a column's results leave one row per
///   cycle; `cols + 4` because a tile's `bias`/`m`/`c` wait in one register per column from the
///   `last` beat until row 0 of the last column reaches its bias adder, `cols + 4` cycles later
///   (a register per column and per tile in flight would lift this, at 69 flip-flops each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArrayTiming {
    pub rows: usize,
    pub cols: usize,
    /// `true` when the drain requantizes to int8/int16 (`out_bits` 8 or 16), `false` for raw int32.
    pub requant: bool,
}

impl ArrayTiming {
    /// Register stages between the input and the result, in order: the input register (the first
    /// stage of every skew line), the PE's multiply-accumulate, the three-stage column collector,
    /// the hold register (where the tile's parameters are latched), the bias adder, the
    /// requantizer (5 stages, when present), and the deskew lines with the output register (`cols`
    /// stages for every column together: column `j` is `j` cycles behind column 0 on the way in
    /// and `cols - 1 - j` on the way out).
    pub fn latency(&self) -> usize {
        1 + 1 + 3 + 1 + 1 + if self.requant { 5 } else { 0 } + self.cols
    }

    /// The least number of cycles between two accepted `last` beats: `max(rows, cols + 4)`.
    pub fn min_tile_period(&self) -> usize {
        self.rows.max(self.cols + 4)
    }

    /// The cycle (counted from 0 at the first accepted beat) at which each output row leaves, for
    /// tiles of the given lengths offered back to back with no stall on either side.
    pub fn output_cycles(&self, tile_lengths: &[usize]) -> Vec<usize> {
        let mut out = Vec::new();
        let (mut cycle, mut last_at): (usize, Option<usize>) = (0, None);
        for &k in tile_lengths {
            assert!(k >= 1, "tile length K must be at least 1");
            let mut last = cycle + k - 1;
            if let Some(prev) = last_at {
                last = last.max(prev + self.min_tile_period());
            }
            out.extend((0..self.rows).map(|i| last + self.latency() + i));
            last_at = Some(last);
            cycle = last + 1;
        }
        out
    }
}
