//! `exp-shift` against golden: every `d` the port carries for every `x0` in -1..=-128 (and the
//! widest `x0` of the port) in Verilator, seeded random samples in RustHDL's simulator and
//! Verilator, with random stalls; lint and synthesis.
mod common;

use common::*;
use testbench::dut;
use testbench::verify::Sim;

#[test]
fn exhaustive_d_and_x0_in_verilator() {
    for sets in [
        &["n=15"][..],
        &["n=23"],
        &["n=23", "x0_bits=16"],
        &["n=1", "x0_bits=12"],
    ] {
        let c = config("exp-shift", sets);
        let samples = dut::corner_samples(&c);
        assert!(samples.len() >= 128 * 1024);
        assert_matches_golden(&c, Sim::Verilator, "exhaustive", &samples, 3);
    }
}

#[test]
fn random_in_rusthdl_and_verilator() {
    let c = config("exp-shift", &["n=23", "x0_bits=10"]);
    let samples = dut::random_samples(&c, 3000, 7);
    assert_matches_golden(&c, Sim::RustHdl, "random", &samples, 8);
    // ASIC-clean: every `initial` block removed (X-propagating Icarus).
    assert_matches_golden(&c, Sim::NoInit, "random", &samples[..500], 11);
    let samples = dut::random_samples(&c, 50_000, 9);
    assert_matches_golden(&c, Sim::Verilator, "random", &samples, 10);
}

#[test]
fn lint_and_synthesis() {
    let c = config("exp-shift", &[]);
    assert_lint_clean(&c);
    let (ice, ecp) = synth_both(&c);
    assert!(ice.luts > 0 && ecp.luts > 0, "{ice:?} {ecp:?}");
    assert!(ice.warnings.is_empty() && ecp.warnings.is_empty());
}
