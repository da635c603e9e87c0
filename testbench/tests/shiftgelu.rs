//! `shiftgelu` row unit against golden: the corner rows (lengths 1, 2, 3, 197, max; all-equal,
//! single non-zero, all-negative; x0 = -1 and the most negative x0) in RustHDL's simulator and
//! Verilator, seeded random rows in Verilator, every shared known-answer case through the
//! hardware, with random stalls on both sides; lint and synthesis. `in_bits=16` (int16 rows, the
//! linear tail): corner rows in RustHDL's simulator, Verilator and ASIC-clean Icarus, corner and
//! random rows up to 2048 long in Verilator, lint and synthesis of the encoder's configuration.
mod common;

use common::*;
use testbench::dut;
use testbench::harness::Stimulus;
use testbench::verify::{Bench, Sim};

#[test]
fn corner_rows_in_rusthdl_and_verilator() {
    let c = config("shiftgelu", &[]);
    let s = dut::corner_samples(&c);
    assert_matches_golden(&c, Sim::Verilator, "corners", &s, 1);
    let c = config("shiftgelu", &["max_len=40"]);
    let s = dut::corner_samples(&c);
    assert_matches_golden(&c, Sim::RustHdl, "corners", &s, 2);
    assert_matches_golden(&c, Sim::Verilator, "corners", &s, 3);
    // ASIC-clean: the same rows with every `initial` block removed (X-propagating Icarus).
    assert_matches_golden(&c, Sim::NoInit, "corners", &s, 4);
}

#[test]
fn random_rows_in_verilator() {
    for sets in [
        &["max_len=768"][..],
        &["max_len=197", "n=15"],
        &["x0_bits=12", "n=20", "max_len=3"],
        &["x0_bits=16", "n=16", "max_len=1000"],
    ] {
        let c = config("shiftgelu", sets);
        let s = dut::random_samples(&c, 60_000, 4);
        assert_matches_golden(&c, Sim::Verilator, "random", &s, 5);
    }
}

#[test]
fn shared_vectors_through_hardware() {
    let ran = shared_cases_through_hardware("integer-ops.jsonl", "shiftgelu", &[Sim::Verilator]);
    assert!(ran >= 8, "{ran} shiftgelu cases");
}

#[test]
fn rows_stream_back_to_back() {
    // Without stalls, a row of L elements costs about 2L + ROW_LATENCY cycles in steady state:
    // the next row loads while this one drains through the pass pipeline.
    let c = config("shiftgelu", &[]);
    let mut bench = Bench::new(&c).unwrap();
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
        // Last input at cycle len - 1, then ROW_LATENCY.
        assert_eq!(
            first_out,
            (len - 1) + hdl::shiftgelu::ROW_LATENCY,
            "{sim}: first output cycle"
        );
        let per_row = (t.outputs[raw.len() - 1].0 - t.outputs[len - 1].0) as usize / (rows - 1);
        assert!(
            per_row <= 2 * len + hdl::shiftgelu::ROW_LATENCY,
            "{sim}: {per_row} cycles per row"
        );
    }
}

#[test]
fn lint_and_synthesis() {
    for sets in [
        &["max_len=1536"][..],
        &["n=15", "x0_bits=16", "max_len=256"],
    ] {
        let c = config("shiftgelu", sets);
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

/// `in_bits=16`: short corner rows in all three simulators, then the encoder's parameters
/// (`n = 23`, 8-bit `x0`) with rows up to 2048 long: corner rows and seeded random int16 rows with
/// a realistic spread, random stalls on both sides.
#[test]
fn tail_rows_in_rusthdl_verilator_and_icarus() {
    let c = config("shiftgelu", &["in_bits=16", "max_len=40"]);
    let s = dut::corner_samples(&c);
    assert_matches_golden(&c, Sim::RustHdl, "tail corners", &s, 11);
    assert_matches_golden(&c, Sim::Verilator, "tail corners", &s, 12);
    assert_matches_golden(&c, Sim::NoInit, "tail corners", &s, 13);
    let c = config(
        "shiftgelu",
        &["in_bits=16", "n=23", "x0_bits=8", "max_len=2048"],
    );
    let mut s = dut::corner_samples(&c);
    s.extend(dut::random_samples(&c, 40_000, 14));
    assert_matches_golden(&c, Sim::Verilator, "tail corners + random", &s, 15);
}

/// The encoder's feed-forward GELU (`F = 1536`): lint-clean, and synthesizes with the row buffer
/// (1536 x 16 bits) in block RAM.
#[test]
fn tail_lint_and_synthesis() {
    let c = config(
        "shiftgelu",
        &["in_bits=16", "n=23", "x0_bits=8", "max_len=1536"],
    );
    assert_lint_clean(&c);
    let (ice, ecp) = synth_both(&c);
    println!("{c}: iCE40 {ice:?}\nECP5 {ecp:?}");
    assert!(
        ice.brams > 0 && ecp.brams > 0,
        "row buffer in block RAM: {ice:?} {ecp:?}"
    );
    assert_synth_clean(&c, &ice);
    assert_synth_clean(&c, &ecp);
}
