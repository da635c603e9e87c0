//! Helpers shared by the block test files.
#![allow(dead_code)]
use std::path::{Path, PathBuf};

use hdl::blocks::Config;
use testbench::dut;
use testbench::harness::build_dir;
use testbench::verify::{Bench, Sim, Traffic};
use testbench::verilator::CxxOpt;
use testbench::{lint, yosys};

pub fn config(block: &str, sets: &[&str]) -> Config {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    Config::from_sets(block, &sets).unwrap()
}

pub fn stalls(seed: u64) -> Traffic {
    Traffic::Stalls {
        p_offer: 0.8,
        p_ready: 0.7,
        seed,
    }
}

/// Runs `samples` through `sim` and asserts every output matches golden.
pub fn assert_matches_golden(c: &Config, sim: Sim, label: &str, samples: &[Vec<i64>], seed: u64) {
    let mut bench = Bench::new(c).unwrap();
    let expected = dut::golden_all(c, samples);
    let o = bench
        .check(sim, label, samples, &expected, stalls(seed), None)
        .unwrap();
    assert!(o.passed(), "{c}: {o}\n(seed {seed})");
    assert_eq!(o.trace.outputs.len(), expected.len());
}

/// Writes the emitted Verilog of `c` under `build/<what>/<slug>/`.
pub fn emitted_file(c: &Config, what: &str) -> (PathBuf, String, PathBuf) {
    let em = c.emit("itx_").unwrap();
    let dir = build_dir().join(what).join(c.slug());
    std::fs::create_dir_all(&dir).unwrap();
    let v = dir.join(format!("{}.v", em.top));
    std::fs::write(&v, &em.verilog).unwrap();
    (v, em.top, dir)
}

/// `verilator --lint-only -Wall` with lint/itx.vlt finds nothing.
pub fn assert_lint_clean(c: &Config) {
    let (v, top, _) = emitted_file(c, "test-lint");
    let r = lint::lint(&[v], &top, &lint::waiver_file()).unwrap_or_else(|e| panic!("{c}: {e:#}"));
    assert!(r.warnings.is_empty(), "{c}: {:?}", r.warnings);
}

/// Synthesizes for iCE40 and ECP5 (two Yosys runs at once, each in its own folder); returns both
/// reports.
pub fn synth_both(c: &Config) -> (yosys::SynthReport, yosys::SynthReport) {
    let (v, top, dir) = emitted_file(c, "test-synth");
    let run = |t: yosys::Target| {
        yosys::synth(std::slice::from_ref(&v), &top, t, &dir.join(t.as_str()))
            .unwrap_or_else(|e| panic!("{c} {t:?}: {e:#}"))
    };
    std::thread::scope(|s| {
        let ecp = s.spawn(|| run(yosys::Target::Ecp5));
        let ice = run(yosys::Target::Ice40);
        (
            ice,
            ecp.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
        )
    })
}

pub fn shared_vectors(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors")
        .join(name)
}

/// Every case of `op` in the shared file `file` through the hardware in `sims`, with stalls;
/// returns how many cases ran.
pub fn shared_cases_through_hardware(file: &str, block: &str, sims: &[Sim]) -> usize {
    shared_cases_through_hardware_with(file, block, sims, CxxOpt::Optimized)
}

/// [`shared_cases_through_hardware`] with the Verilator simulators compiled as `cxx` says.
pub fn shared_cases_through_hardware_with(
    file: &str,
    block: &str,
    sims: &[Sim],
    cxx: CxxOpt,
) -> usize {
    let vf = testbench::vectors::VectorFile::read(&shared_vectors(file)).unwrap();
    let mut ran = 0;
    for case in vf.cases() {
        let Some(sc) = dut::stream_case(case).unwrap() else {
            continue;
        };
        if sc.config.block != block {
            continue;
        }
        let mut bench = Bench::new(&sc.config).unwrap().with_cxx_opt(cxx);
        for &sim in sims {
            let label = format!("line {}", case.line);
            let o = bench
                .check(
                    sim,
                    &label,
                    &sc.samples,
                    &sc.expected,
                    stalls(ran as u64),
                    None,
                )
                .unwrap();
            assert!(o.passed(), "{}: {o}", sc.config);
        }
        ran += 1;
    }
    ran
}

/// The float multipliers' (`lmul`, `fmul`) shared checks.
pub mod float {
    use super::*;
    use testbench::harness::Stimulus;

    /// All 65,536 operand pairs through Verilator and RustHDL's simulator.
    pub fn fp8_exhaustive(block: &str, format: &str, seed: u64) {
        let c = config(block, &[&format!("format={format}")]);
        let s = dut::corner_samples(&c);
        assert_eq!(s.len(), 65_536, "8-bit formats are exhaustive");
        assert_matches_golden(&c, Sim::Verilator, format, &s, seed);
        assert_matches_golden(&c, Sim::RustHdl, format, &s, seed + 1);
    }

    /// Exhaustive through Verilator for each parameter set.
    pub fn variants_exhaustive(block: &str, variants: &[&[&str]]) {
        for sets in variants {
            let c = config(block, sets);
            assert_matches_golden(&c, Sim::Verilator, "variant", &dut::corner_samples(&c), 5);
        }
    }

    /// `specials=none` (the bare arithmetic) matches golden on every finite operand pair.
    pub fn bare_matches_golden_on_finite_operands(block: &str) {
        for f in ["e4m3", "e5m2"] {
            let c = config(block, &[&format!("format={f}"), "specials=none"]);
            let s = dut::corner_samples(&c);
            let fmt = c.format();
            let finite = |v: i64| !fmt.is_nan(v as u32) && !fmt.is_inf(v as u32);
            assert!(s.iter().all(|v| finite(v[0]) && finite(v[1])));
            assert_matches_golden(&c, Sim::Verilator, "bare", &s, 6);
        }
    }

    /// bf16: every pair of special classes plus 1e6 seeded pairs in Verilator, a sample in
    /// RustHDL, and IEEE overflow without the output register.
    pub fn bf16(block: &str) {
        let c = config(block, &["format=bf16"]);
        let mut s = dut::corner_samples(&c);
        assert!(s.len() >= 1600, "every pair of the special classes");
        s.extend(dut::random_samples(&c, 1_000_000, 7));
        assert_matches_golden(&c, Sim::Verilator, "bf16", &s, 7);
        let mut short = dut::corner_samples(&c);
        short.extend(dut::random_samples(&c, 20_000, 8));
        assert_matches_golden(&c, Sim::RustHdl, "bf16", &short, 8);
        let c = config(block, &["format=bf16", "overflow=ieee", "registered=false"]);
        let mut s = dut::corner_samples(&c);
        s.extend(dut::random_samples(&c, 100_000, 9));
        assert_matches_golden(&c, Sim::Verilator, "bf16-ieee", &s, 9);
    }

    /// Latency is the parameter: 1 registered, 0 combinational.
    pub fn latency(block: &str) {
        for (reg, lat) in [("true", 1u64), ("false", 0)] {
            let c = config(block, &[&format!("registered={reg}")]);
            assert_eq!(c.latency() as u64, lat);
            let mut bench = Bench::new(&c).unwrap();
            let raw: Vec<Vec<u64>> = (0..16u64).map(|i| vec![0x38 + i, 0x38]).collect();
            for sim in [Sim::RustHdl, Sim::Verilator] {
                let t = bench
                    .run(sim, &Stimulus::streaming(raw.clone(), c.latency()), None)
                    .unwrap();
                assert_eq!(t.outputs.len(), raw.len());
                for (i, (cycle, _)) in t.outputs.iter().enumerate() {
                    assert_eq!(*cycle, i as u64 + lat, "{sim} registered={reg}");
                }
            }
        }
    }

    /// The shared known-answer cases of `block` through both simulators.
    pub fn shared_vectors_through_hardware(block: &str) {
        let file = testbench::vectors::VectorFile::read(&shared_vectors("lmul.jsonl")).unwrap();
        let mut ran = 0;
        for case in file.cases() {
            let Some(sc) = dut::stream_case(case).unwrap() else {
                continue;
            };
            if sc.config.block != block {
                continue;
            }
            let mut bench = Bench::new(&sc.config).unwrap();
            for sim in [Sim::RustHdl, Sim::Verilator] {
                let label = format!("line {}", case.line);
                let o = bench
                    .check(sim, &label, &sc.samples, &sc.expected, stalls(1), None)
                    .unwrap();
                assert!(o.passed(), "{o}");
            }
            ran += 1;
        }
        assert!(ran > 0);
    }

    /// No X on any output after reset with the `initial` blocks removed.
    pub fn asic_clean(block: &str) {
        for f in ["e4m3", "bf16"] {
            let c = config(block, &[&format!("format={f}")]);
            let s = dut::random_samples(&c, 400, 11);
            assert_matches_golden(&c, Sim::NoInit, "noinit", &s, 11);
        }
    }

    /// Lint-clean in every combination; synthesizes for iCE40 and ECP5 with at most `max_dsps`.
    pub fn lint_and_synth(block: &str, max_dsps: u64) {
        for f in ["e4m3", "e5m2", "bf16"] {
            for extra in ["specials=full", "specials=none"] {
                for reg in ["registered=true", "registered=false"] {
                    assert_lint_clean(&config(block, &[&format!("format={f}"), extra, reg]));
                }
            }
            let (ice, ecp) = synth_both(&config(block, &[&format!("format={f}")]));
            assert!(ice.dsps <= max_dsps, "{:?}", ice.cells);
            assert!(ecp.dsps <= max_dsps, "{:?}", ecp.cells);
            assert!(ice.luts > 0 && ecp.luts > 0);
        }
    }
}

/// No Yosys warnings except "unprocessed 'init' attribute" on registers Yosys absorbed into a
/// DSP block: RustHDL's DFF carries an `initial` value that SB_MAC16 cannot keep. Nothing relies
/// on it (the ASIC-clean simulation removes every `initial` block).
pub fn assert_synth_clean(c: &Config, rep: &yosys::SynthReport) {
    let bad: Vec<&String> = rep
        .warnings
        .iter()
        .filter(|w| !w.contains("has an unprocessed 'init' attribute"))
        .collect();
    assert!(bad.is_empty(), "{c} {}: {bad:?}", rep.target);
}
