//! Helpers shared by the block test files.
#![allow(dead_code)]
use std::path::{Path, PathBuf};

use hdl::blocks::Config;
use testbench::dut;
use testbench::harness::build_dir;
use testbench::verify::{Bench, Sim, Traffic};
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
    assert_eq!(o.trace.outputs.len(), samples.len());
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

/// Synthesizes for iCE40 and ECP5; returns both reports.
pub fn synth_both(c: &Config) -> (yosys::SynthReport, yosys::SynthReport) {
    let (v, top, dir) = emitted_file(c, "test-synth");
    let run = |t: yosys::Target| {
        yosys::synth(std::slice::from_ref(&v), &top, t, &dir.join(t.as_str()))
            .unwrap_or_else(|e| panic!("{c} {t:?}: {e:#}"))
    };
    (run(yosys::Target::Ice40), run(yosys::Target::Ecp5))
}

pub fn shared_vectors(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors")
        .join(name)
}
