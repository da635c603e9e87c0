//! The MAC array (`mac-array`): one tile of the integer matrix multiply with the array's drain
//! (per-column bias, then optionally per-column dyadic requantization), and the array's cycle
//! contract.
//!
//! Spec: `integer-ops.md`, "Integer matrix multiply" ([`crate::matmul`]) and "Dyadic
//! requantization" ([`crate::requant`]). The hardware (`hdl::mac_array`) must give exactly
//! [`tile`]'s rows, at exactly [`ArrayTiming`]'s cycles.
use crate::matmul::matmul;
use crate::requant::{requant, Rounding};

/// Per-column requantization of a tile's int32 results: `y[i][j] = requant(sum[i][j], m[j], c[j],
/// bits, rounding)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnRequant {
    pub m: Vec<u32>,
    pub c: Vec<u32>,
    pub bits: u32,
    pub rounding: Rounding,
}

/// One tile as the array computes it: `bias + A x B` in wrapping int32 ([`matmul`]), then, when
/// `rq` is given, each column requantized with its own `(m, c)`.
///
/// # Panics
/// On a shape mismatch (see [`matmul`]), or when `rq`'s `m`/`c` do not have one entry per column.
pub fn tile(
    a: &[Vec<i32>],
    b: &[Vec<i32>],
    bias: &[i32],
    rq: Option<&ColumnRequant>,
) -> Vec<Vec<i32>> {
    let y = matmul(a, b, bias);
    match rq {
        None => y,
        Some(q) => {
            assert!(
                q.m.len() == bias.len() && q.c.len() == bias.len(),
                "mac_array::tile: {} columns but {} m and {} c",
                bias.len(),
                q.m.len(),
                q.c.len()
            );
            y.into_iter()
                .map(|row| {
                    row.into_iter()
                        .enumerate()
                        .map(|(j, v)| requant(v, q.m[j], q.c[j], q.bits, q.rounding))
                        .collect()
                })
                .collect()
        }
    }
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
///   `max(rows, cols + 4 + product_stages)` cycles apart (the array holds `in_ready` low for an
///   early `last` beat), so tiles with `K >=` that period stream back to back with no bubble, and
///   shorter tiles cost the difference in idle cycles. `rows` because a column's results leave one
///   row per cycle; `cols + 4 + product_stages` because a tile's `bias`/`m`/`c` wait in one
///   register per column from the `last` beat until row 0 of the last column reaches its bias
///   adder, that many cycles later (a register per column and per tile in flight would lift this,
///   at 69 flip-flops each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArrayTiming {
    pub rows: usize,
    pub cols: usize,
    /// `true` when the drain requantizes to int8/int16 (`out_bits` 8 or 16), `false` for raw int32.
    pub requant: bool,
    /// Register stages between a PE's operands and its accumulator's adder, each one cycle of
    /// latency: 0 for the inferred multiply-accumulate (`pe = infer`), 1 for one product register
    /// (`pe = pipelined`, or the shared DSP of `pe = sb_mac16_dual`), more for a DSP with its own
    /// input and output registers (`pe = mult18x18d`).
    pub product_stages: usize,
}

impl ArrayTiming {
    /// Register stages between the input and the result, in order: the input register (the first
    /// stage of every skew line), the PE's multiply-accumulate, the three-stage column collector,
    /// (plus the `product_stages` product registers), the hold register (where the tile's
    /// parameters are latched), the bias adder, the
    /// requantizer (5 stages, when present), and the deskew lines with the output register (`cols`
    /// stages for every column together: column `j` is `j` cycles behind column 0 on the way in
    /// and `cols - 1 - j` on the way out).
    pub fn latency(&self) -> usize {
        1 + 1 + self.product_stages + 3 + 1 + 1 + if self.requant { 5 } else { 0 } + self.cols
    }

    /// The least number of cycles between two accepted `last` beats:
    /// `max(rows, cols + 4 + product_stages)`.
    pub fn min_tile_period(&self) -> usize {
        self.rows.max(self.cols + 4 + self.product_stages)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_requantizes_each_column_with_its_own_scale() {
        // bias + A x B = [[1*3 + 2*4 + 10, 1*5 + 2*6 - 1]] = [[21, 16]].
        let a = vec![vec![1, 2]];
        let b = vec![vec![3, 5], vec![4, 6]];
        assert_eq!(tile(&a, &b, &[10, -1], None), vec![vec![21, 16]]);
        let q = ColumnRequant {
            m: vec![1 << 30, 1 << 30],
            c: vec![31, 33],
            bits: 8,
            rounding: Rounding::HalfEven,
        };
        // 21 / 2 = 10.5 -> 10 (ties to even); 16 / 8 = 2.
        assert_eq!(tile(&a, &b, &[10, -1], Some(&q)), vec![vec![10, 2]]);
    }

    #[test]
    fn contract_spaces_short_tiles_and_streams_long_ones() {
        let t = ArrayTiming {
            rows: 4,
            cols: 4,
            requant: false,
            product_stages: 0,
        };
        assert_eq!(t.latency(), 7 + 4);
        assert_eq!(t.min_tile_period(), 8);
        // K = 8 = the period: back to back, the second tile's rows 8 cycles after the first's.
        let c = t.output_cycles(&[8, 8]);
        assert_eq!(c, vec![18, 19, 20, 21, 26, 27, 28, 29]);
        // K = 1: each tile's `last` waits for the period.
        let c = t.output_cycles(&[1, 1]);
        assert_eq!(c[4] - c[0], 8);
        let tall = ArrayTiming {
            rows: 16,
            cols: 2,
            requant: true,
            product_stages: 1,
        };
        assert_eq!(tall.min_tile_period(), 16);
        assert_eq!(tall.latency(), 7 + 1 + 5 + 2);
        // Deeper product pipelines add one cycle each to both.
        let deep = ArrayTiming {
            rows: 12,
            cols: 12,
            requant: false,
            product_stages: 3,
        };
        assert_eq!(deep.latency(), 7 + 12 + 3);
        assert_eq!(deep.min_tile_period(), 12 + 4 + 3);
    }
}
