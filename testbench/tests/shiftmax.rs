//! `shiftmax` row unit against golden: the corner rows (lengths 1, 2, 3, 197, max; all-equal,
//! single non-zero, all-negative; x0 = -1 and the most negative x0) in RustHDL's simulator and
//! Verilator, seeded random rows in Verilator, every shared known-answer case through the
//! hardware, with random stalls on both sides; lint and synthesis.
mod common;

use common::*;
use testbench::dut;
use testbench::harness::Stimulus;
use testbench::verify::{Bench, Sim};

#[test]
fn corner_rows_in_rusthdl_and_verilator() {
    let c = config("shiftmax", &[]);
    let s = dut::corner_samples(&c);
    assert_matches_golden(&c, Sim::Verilator, "corners", &s, 1);
    let c = config("shiftmax", &["max_len=40", "out_bits=8", "recip=pipelined"]);
    let s = dut::corner_samples(&c);
    assert_matches_golden(&c, Sim::Verilator, "corners", &s, 5);
    let c = config("shiftmax", &["max_len=40", "out_bits=8"]);
    let s = dut::corner_samples(&c);
    assert_matches_golden(&c, Sim::RustHdl, "corners", &s, 2);
    assert_matches_golden(&c, Sim::Verilator, "corners", &s, 3);
    // ASIC-clean: the same rows with every `initial` block removed (X-propagating Icarus).
    assert_matches_golden(&c, Sim::NoInit, "corners", &s, 4);
}

#[test]
fn random_rows_in_verilator() {
    for sets in [
        &["out_bits=16"][..],
        &["out_bits=8", "max_len=197"],
        &["x0_bits=16", "max_len=1000"],
        &["x0_bits=12", "n=20", "max_len=3", "recip=pipelined"],
    ] {
        let c = config("shiftmax", sets);
        let s = dut::random_samples(&c, 60_000, 4);
        assert_matches_golden(&c, Sim::Verilator, "random", &s, 5);
    }
}

#[test]
fn shared_vectors_through_hardware() {
    let ran = shared_cases_through_hardware("integer-ops.jsonl", "shiftmax", &[Sim::Verilator]);
    assert!(ran >= 10, "{ran} shiftmax cases");
}

#[test]
fn rows_stream_back_to_back() {
    // Without stalls, a row of L elements costs about 2L + the row latency cycles in steady
    // state: the next row loads while this one is in its reciprocal and output passes.
    for (recip, lat) in [
        ("iterative", hdl::shiftmax::ROW_LATENCY_ITER),
        ("pipelined", hdl::shiftmax::ROW_LATENCY),
    ] {
        let c = config("shiftmax", &[&format!("recip={recip}")]);
        assert_eq!(c.latency(), lat);
        back_to_back(&c, lat);
    }
}

fn back_to_back(c: &hdl::blocks::Config, lat: usize) {
    let mut bench = Bench::new(c).unwrap();
    let len = 197usize;
    let rows = 8usize;
    let raw: Vec<Vec<u64>> = (0..rows * len)
        .map(|i| vec![(i % 251) as u64 & 0xff, 0xd5, u64::from(i % len == len - 1)])
        .collect();
    let stim = Stimulus::streaming(raw.clone(), c.extra_cycles(raw.len(), rows));
    for sim in [Sim::Verilator, Sim::RustHdl] {
        let t = bench.run(sim, &stim, None).unwrap();
        assert_eq!(t.outputs.len(), raw.len(), "{sim}");
        let first_out = t.outputs[0].0 as usize;
        // Last input at cycle len - 1; the exp pass reads len elements; then ROW_LATENCY.
        assert_eq!(
            first_out,
            (len - 1) + len + lat,
            "{c} {sim}: first output cycle"
        );
        let per_row = (t.outputs[raw.len() - 1].0 - t.outputs[len - 1].0) as usize / (rows - 1);
        assert!(
            per_row <= 2 * len + lat,
            "{c} {sim}: {per_row} cycles per row"
        );
    }
}

#[test]
fn lint_and_synthesis() {
    for sets in [
        &["out_bits=16"][..],
        &[
            "out_bits=8",
            "x0_bits=16",
            "max_len=1024",
            "recip=pipelined",
        ],
    ] {
        let c = config("shiftmax", sets);
        assert_lint_clean(&c);
        let (ice, ecp) = synth_both(&c);
        assert!(
            ice.brams > 0 && ecp.brams > 0,
            "row buffers in block RAM: {ice:?} {ecp:?}"
        );
        assert_synth_clean(&c, &ice);
        assert_synth_clean(&c, &ecp);
    }
}
