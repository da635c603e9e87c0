//! `FMul` against `golden::fmul`: exhaustive over all 65,536 operand pairs for e4m3 and e5m2 in
//! Verilator and RustHDL's simulator, bf16 on 1e6 seeded pairs plus every pair of special classes,
//! across the generator parameters; lint and synthesis.
mod common;

use common::*;
use hdl::blocks::Config;
use testbench::dut;
use testbench::verify::Sim;

fn exhaustive_or_corners(c: &Config) -> Vec<Vec<i64>> {
    let s = dut::corner_samples(c);
    if c.format().bits() == 8 {
        assert!(s.len() >= 65_000, "8-bit formats are exhaustive");
    }
    s
}

#[test]
fn e4m3_exhaustive_verilator_and_rusthdl() {
    let c = config("fmul", &["format=e4m3"]);
    let s = exhaustive_or_corners(&c);
    assert_eq!(s.len(), 65_536);
    assert_matches_golden(&c, Sim::Verilator, "e4m3", &s, 1);
    assert_matches_golden(&c, Sim::RustHdl, "e4m3", &s, 2);
}

#[test]
fn e5m2_exhaustive_verilator_and_rusthdl() {
    let c = config("fmul", &["format=e5m2"]);
    let s = exhaustive_or_corners(&c);
    assert_matches_golden(&c, Sim::Verilator, "e5m2", &s, 3);
    assert_matches_golden(&c, Sim::RustHdl, "e5m2", &s, 4);
}

/// Parameters: IEEE overflow (Inf), combinational.
#[test]
fn parameter_variants_exhaustive_in_verilator() {
    for sets in [
        &["format=e5m2", "overflow=ieee"][..],
        &["format=e4m3", "overflow=ieee"],
        &["format=e5m2", "registered=false"],
    ] {
        let c = config("fmul", sets);
        let s = exhaustive_or_corners(&c);
        assert_matches_golden(&c, Sim::Verilator, "variant", &s, 5);
    }
}

/// `specials=none` (the bare multiplier) matches golden on every finite operand pair.
#[test]
fn bare_adder_matches_golden_on_finite_operands() {
    for f in ["e4m3", "e5m2"] {
        let c = config("fmul", &[&format!("format={f}"), "specials=none"]);
        let s = dut::corner_samples(&c);
        let fmt = c.format();
        assert!(s
            .iter()
            .all(|v| !fmt.is_nan(v[0] as u32) && !fmt.is_inf(v[1] as u32)));
        assert_matches_golden(&c, Sim::Verilator, "bare", &s, 6);
    }
}

#[test]
fn bf16_specials_and_a_million_random_pairs() {
    let c = config("fmul", &["format=bf16"]);
    let mut s = dut::corner_samples(&c);
    assert!(s.len() >= 1600, "every pair of the special classes");
    s.extend(dut::random_samples(&c, 1_000_000, 7));
    assert_matches_golden(&c, Sim::Verilator, "bf16", &s, 7);
    let mut short = dut::corner_samples(&c);
    short.extend(dut::random_samples(&c, 20_000, 8));
    assert_matches_golden(&c, Sim::RustHdl, "bf16", &short, 8);
    let c = config(
        "fmul",
        &["format=bf16", "overflow=ieee", "registered=false"],
    );
    let mut s = dut::corner_samples(&c);
    s.extend(dut::random_samples(&c, 100_000, 9));
    assert_matches_golden(&c, Sim::Verilator, "bf16-ieee", &s, 9);
}

/// Latency is the parameter: 1 registered, 0 combinational.
#[test]
fn latency_registered_and_combinational() {
    for (reg, lat) in [("true", 1u64), ("false", 0)] {
        let c = config("fmul", &[&format!("registered={reg}")]);
        assert_eq!(c.latency() as u64, lat);
        let mut bench = testbench::verify::Bench::new(&c).unwrap();
        let raw: Vec<Vec<u64>> = (0..16u64).map(|i| vec![0x38 + i, 0x38]).collect();
        for sim in [Sim::RustHdl, Sim::Verilator] {
            let t = bench
                .run(
                    sim,
                    &testbench::harness::Stimulus::streaming(raw.clone(), c.latency()),
                    None,
                )
                .unwrap();
            for (i, (cycle, _)) in t.outputs.iter().enumerate() {
                assert_eq!(*cycle, i as u64 + lat, "{sim} registered={reg}");
            }
        }
    }
}

#[test]
fn shared_vectors_through_hardware() {
    let file = testbench::vectors::VectorFile::read(&shared_vectors("lmul.jsonl")).unwrap();
    let mut ran = 0;
    for case in file.cases() {
        let Some(sc) = dut::stream_case(case).unwrap() else {
            continue;
        };
        if sc.config.block != "fmul" {
            continue;
        }
        let mut bench = testbench::verify::Bench::new(&sc.config).unwrap();
        for sim in [Sim::RustHdl, Sim::Verilator] {
            let o = bench
                .check(
                    sim,
                    &format!("line {}", case.line),
                    &sc.samples,
                    &sc.expected,
                    stalls(1),
                    None,
                )
                .unwrap();
            assert!(o.passed(), "{o}");
        }
        ran += 1;
    }
    assert!(ran > 0);
}

/// ASIC-clean: no X on any output after reset with the `initial` blocks removed.
#[test]
fn asic_clean_without_initial_blocks() {
    for f in ["e4m3", "bf16"] {
        let c = config("fmul", &[&format!("format={f}")]);
        let s = dut::random_samples(&c, 400, 11);
        assert_matches_golden(&c, Sim::NoInit, "noinit", &s, 11);
    }
}

#[test]
fn lint_clean_and_synthesizes() {
    for f in ["e4m3", "e5m2", "bf16"] {
        for extra in ["specials=full", "specials=none"] {
            for reg in ["registered=true", "registered=false"] {
                let c = config("fmul", &[&format!("format={f}"), extra, reg]);
                assert_lint_clean(&c);
            }
        }
        let c = config("fmul", &[&format!("format={f}")]);
        let (ice, ecp) = synth_both(&c);
        // The significand product is one multiply: at most one DSP block.
        assert!(ice.dsps <= 1, "{:?}", ice.cells);
        assert!(ecp.dsps <= 1, "{:?}", ecp.cells);
        assert!(ice.luts > 0 && ecp.luts > 0);
    }
}
