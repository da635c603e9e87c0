//! `LMulDot` against `golden::lmul_dot`: seeded random vectors and corners (zeros, saturated
//! lanes of both signs, cancellation, NaN and Inf lanes) for K in {1, 2, 3, 16, 64}, in Verilator
//! and RustHDL's simulator; latency, ASIC-clean reset, lint and synthesis.
mod common;

use common::*;
use hdl::blocks::Config;
use testbench::dut;
use testbench::harness::Stimulus;
use testbench::verify::{Bench, Sim};

const KS: [usize; 5] = [1, 2, 3, 16, 64];

fn samples(c: &Config, n: usize, seed: u64) -> Vec<Vec<i64>> {
    let mut s = dut::corner_samples(c);
    s.extend(dut::random_samples(c, n, seed));
    s
}

#[test]
fn verilator_every_k_both_formats() {
    for f in ["e4m3", "e5m2"] {
        for k in KS {
            let c = config("lmul-dot", &[&format!("format={f}"), &format!("k={k}")]);
            assert_matches_golden(
                &c,
                Sim::Verilator,
                "dot",
                &samples(&c, 20_000, k as u64),
                k as u64,
            );
        }
    }
}

#[test]
fn rusthdl_every_k_both_formats() {
    for f in ["e4m3", "e5m2"] {
        for k in KS {
            let c = config("lmul-dot", &[&format!("format={f}"), &format!("k={k}")]);
            let n = if k == 64 { 300 } else { 2_000 };
            assert_matches_golden(
                &c,
                Sim::RustHdl,
                "dot",
                &samples(&c, n, 100 + k as u64),
                100 + k as u64,
            );
        }
    }
}

/// The corners reach what they claim: the saturated sum is the accumulator's extreme, NaN and
/// Inf lanes set `invalid`.
#[test]
fn corners_hit_saturation_and_invalid() {
    for f in ["e4m3", "e5m2"] {
        let c = config("lmul-dot", &[&format!("format={f}"), "k=64"]);
        let fmt = c.format();
        let s = dut::corner_samples(&c);
        let y = dut::golden_all(&c, &s);
        let max_lane = golden::lmul_dot::lane_fixed(fmt, fmt.max_finite()).unwrap() as i64;
        assert!(
            y.iter().any(|v| v[0] == 64 * max_lane),
            "{f}: all lanes saturated"
        );
        assert!(
            y.iter().any(|v| v[0] == -64 * max_lane),
            "{f}: all lanes saturated, negative"
        );
        assert!(y.iter().any(|v| v[1] == 1), "{f}: a NaN lane sets invalid");
        let width = golden::lmul_dot::acc_width(fmt, 64);
        assert!(
            (64 * max_lane) < (1i64 << (width - 1)),
            "{f}: fits the accumulator"
        );
    }
}

#[test]
fn latency_is_one_plus_tree_depth() {
    for (k, lat) in [(1usize, 1usize), (3, 3), (16, 5), (64, 7)] {
        let c = config("lmul-dot", &[&format!("k={k}")]);
        assert_eq!(c.latency(), lat);
        let mut bench = Bench::new(&c).unwrap();
        let raw: Vec<Vec<u64>> = (0..8).map(|_| vec![0x38; 2 * k]).collect();
        for sim in [Sim::RustHdl, Sim::Verilator] {
            let t = bench
                .run(sim, &Stimulus::streaming(raw.clone(), lat), None)
                .unwrap();
            for (i, (cycle, _)) in t.outputs.iter().enumerate() {
                assert_eq!(*cycle, (i + lat) as u64, "{sim} k={k}");
            }
        }
    }
}

#[test]
fn asic_clean_lint_clean_and_synthesizes() {
    for k in KS {
        for f in ["e4m3", "e5m2"] {
            let c = config("lmul-dot", &[&format!("format={f}"), &format!("k={k}")]);
            assert_lint_clean(&c);
        }
    }
    for k in [3usize, 64] {
        let c = config("lmul-dot", &[&format!("k={k}")]);
        assert_matches_golden(
            &c,
            Sim::NoInit,
            "noinit",
            &dut::random_samples(&c, 300, 5),
            5,
        );
    }
    let c = config("lmul-dot", &["k=16"]);
    let (ice, ecp) = synth_both(&c);
    assert_eq!(ice.dsps + ecp.dsps, 0, "L-Mul lanes need no multiplier");
    assert!(ice.luts > 16 && ecp.luts > 16);
}
