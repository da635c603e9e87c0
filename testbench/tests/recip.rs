//! `recip` against golden: every `s` below 2^20 and every power of two up to 2^31 with its
//! neighbours in Verilator, seeded random samples over all bit lengths in RustHDL's simulator and
//! Verilator, with random stalls; lint and synthesis.
mod common;

use common::*;
use testbench::dut;
use testbench::verify::Sim;

#[test]
fn every_s_below_2_pow_20_in_verilator() {
    let c = config("recip", &[]);
    let samples: Vec<Vec<i64>> = (1..1i64 << 20).map(|s| vec![s]).collect();
    assert_matches_golden(&c, Sim::Verilator, "exhaustive-2^20", &samples, 1);
}

#[test]
fn corners_and_random() {
    let c = config("recip", &[]);
    let corners = dut::corner_samples(&c);
    assert!(corners.contains(&vec![1 << 31]) && corners.contains(&vec![(1 << 30) + 1]));
    assert_matches_golden(&c, Sim::RustHdl, "corners", &corners, 2);
    assert_matches_golden(&c, Sim::Verilator, "corners", &corners, 3);
    // ASIC-clean: every `initial` block removed (X-propagating Icarus).
    assert_matches_golden(&c, Sim::NoInit, "corners", &corners, 8);
    let samples = dut::random_samples(&c, 2000, 4);
    assert_matches_golden(&c, Sim::RustHdl, "random", &samples, 5);
    let samples = dut::random_samples(&c, 200_000, 6);
    assert_matches_golden(&c, Sim::Verilator, "random", &samples, 7);
}

#[test]
fn lint_and_synthesis() {
    let c = config("recip", &[]);
    assert_lint_clean(&c);
    let (ice, ecp) = synth_both(&c);
    assert!(ice.luts > 0 && ecp.luts > 0, "{ice:?} {ecp:?}");
    assert!(ice.warnings.is_empty() && ecp.warnings.is_empty());
}
