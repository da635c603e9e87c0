//! `layernorm` row unit against golden: the corner rows (lengths 1, 2, 3, 4, 197, max; variance 0,
//! single non-zero, all-negative, int16 extremes, mean ties; bias at the int32 ends so the output
//! saturates; and with per-channel signs, the extension for negative gammas) in RustHDL's simulator
//! and Verilator, seeded random rows (random signs) in Verilator for both
//! square-root modes, every shared known-answer case through the hardware, with random stalls on
//! both sides; the per-row latency; lint and synthesis.
mod common;

use common::*;
use golden::layernorm::SqrtMode;
use testbench::dut;
use testbench::harness::Stimulus;
use testbench::verify::{Bench, Sim};

#[test]
fn corner_rows_in_rusthdl_and_verilator() {
    let c = config("layernorm", &["max_len=40", "sqrt=exact"]);
    let s = dut::corner_samples(&c);
    assert_matches_golden(&c, Sim::RustHdl, "corners", &s, 2);
    assert_matches_golden(&c, Sim::Verilator, "corners", &s, 3);
    // ASIC-clean: the same rows with every `initial` block removed (X-propagating Icarus).
    assert_matches_golden(&c, Sim::NoInit, "corners", &s, 4);
    let c = config("layernorm", &["max_len=40"]);
    let s = dut::corner_samples(&c);
    assert_matches_golden(&c, Sim::Verilator, "corners", &s, 5);
    let c = config("layernorm", &[]);
    let s = dut::corner_samples(&c);
    assert_matches_golden(&c, Sim::Verilator, "corners", &s, 1);
}

#[test]
fn random_rows_in_verilator() {
    for sets in [
        &["sqrt=ivit"][..],
        &["sqrt=exact", "max_len=40"],
        &["sqrt=ivit", "max_len=40"],
    ] {
        let c = config("layernorm", sets);
        let s = dut::random_samples(&c, 40_000, 6);
        assert_matches_golden(&c, Sim::Verilator, "random", &s, 7);
    }
}

#[test]
fn shared_vectors_through_hardware() {
    let ran = shared_cases_through_hardware("integer-ops.jsonl", "layernorm", &[Sim::Verilator]);
    assert!(ran >= 10, "{ran} layernorm cases");
}

#[test]
fn row_latency_without_stalls() {
    // A row of L elements: first output L + row_latency cycles after its last input; the next row
    // loads once the previous one is out, so about 3L + row_latency cycles per row.
    for (sqrt, mode) in [
        ("sqrt=ivit", SqrtMode::Ivit),
        ("sqrt=exact", SqrtMode::Exact),
    ] {
        let c = config("layernorm", &[sqrt]);
        let lat = hdl::layernorm::row_latency(mode);
        assert_eq!(c.latency(), lat);
        let mut bench = Bench::new(&c).unwrap();
        let len = 197usize;
        let rows = 3usize;
        let raw: Vec<Vec<u64>> = (0..rows * len)
            .map(|i| {
                vec![
                    ((i * 331) % 65536) as u64,
                    (i as u64 * 12345) & 0xffff_ffff,
                    u64::from(i % 3 == 0),
                    u64::from(i % len == len - 1),
                ]
            })
            .collect();
        let stim = Stimulus::streaming(raw.clone(), c.extra_cycles(raw.len(), rows));
        for sim in [Sim::Verilator, Sim::RustHdl] {
            let t = bench.run(sim, &stim, None).unwrap();
            assert_eq!(t.outputs.len(), raw.len(), "{sim}");
            let first_out = t.outputs[0].0 as usize;
            assert_eq!(
                first_out,
                (len - 1) + len + lat,
                "{sim} {sqrt}: first output cycle"
            );
            let per_row = (t.outputs[raw.len() - 1].0 - t.outputs[len - 1].0) as usize / (rows - 1);
            assert!(
                per_row <= 3 * len + lat + 4,
                "{sim}: {per_row} cycles per row"
            );
        }
    }
}

#[test]
fn lint_and_synthesis() {
    for sets in [
        &["sqrt=exact"][..],
        &["sqrt=exact", "max_len=4096"],
        &["max_len=40"],
    ] {
        assert_lint_clean(&config("layernorm", sets));
    }
    let c = config("layernorm", &["sqrt=ivit"]);
    assert_lint_clean(&c);
    let (ice, ecp) = synth_both(&c);
    assert!(
        ice.brams > 0 && ecp.brams > 0,
        "row buffers in block RAM: {ice:?} {ecp:?}"
    );
    assert!(
        ice.dsps > 0 && ecp.dsps > 0,
        "multipliers on DSPs: {ice:?} {ecp:?}"
    );
    assert_synth_clean(&c, &ice);
    assert_synth_clean(&c, &ecp);
}
