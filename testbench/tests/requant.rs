//! `Requant` against the golden model, on every back end: RustHDL's simulator, Verilator,
//! Icarus without `initial` blocks (ASIC-clean), and the Yosys iCE40 netlist (gate level).
//! Plus lint and synthesis of every configuration.
mod common;

use common::{assert_lint_clean, stalls, synth_both};
use golden::requant::{requant, Rounding};
use hdl::blocks::Config;
use hdl::requant::LATENCY;
use testbench::dut;
use testbench::harness::{build_dir, Stimulus};
use testbench::verify::{Bench, Sim, Traffic};
use testbench::verilog_tb;

/// Random samples per configuration and back end (the issue asks for at least 1e5).
const RANDOM: usize = 100_000;

fn config(bits: u32, rounding: &str) -> Config {
    Config::from_sets(
        "requant",
        &[format!("bits={bits}"), format!("rounding={rounding}")],
    )
    .unwrap()
}

const CONFIGS: [(u32, &str); 4] = [
    (8, "half-even"),
    (8, "half-up"),
    (16, "half-even"),
    (16, "half-up"),
];

/// Corners plus `RANDOM` seeded samples through `sim`, for one configuration.
fn equivalence(sim: Sim, bits: u32, rounding: &str, seed: u64) {
    let c = config(bits, rounding);
    let mut bench = Bench::new(&c).unwrap();
    let mut samples = dut::corner_samples(&c);
    let corners = samples.len();
    samples.extend(dut::random_samples(&c, RANDOM, seed));
    let expected = dut::golden_all(&c, &samples);
    let label = format!("bits{bits}-{rounding}-seed{seed}");
    let o = bench
        .check(sim, &label, &samples, &expected, stalls(seed), None)
        .unwrap();
    assert!(
        o.passed(),
        "{o}\n(seed {seed}; samples 0..{corners} are corners)"
    );
    assert_eq!(o.trace.outputs.len(), samples.len());
}

#[test]
fn rusthdl_bits8_half_even() {
    equivalence(Sim::RustHdl, 8, "half-even", 11);
}
#[test]
fn rusthdl_bits8_half_up() {
    equivalence(Sim::RustHdl, 8, "half-up", 12);
}
#[test]
fn rusthdl_bits16_half_even() {
    equivalence(Sim::RustHdl, 16, "half-even", 13);
}
#[test]
fn rusthdl_bits16_half_up() {
    equivalence(Sim::RustHdl, 16, "half-up", 14);
}
#[test]
fn verilator_bits8_half_even() {
    equivalence(Sim::Verilator, 8, "half-even", 21);
}
#[test]
fn verilator_bits8_half_up() {
    equivalence(Sim::Verilator, 8, "half-up", 22);
}
#[test]
fn verilator_bits16_half_even() {
    equivalence(Sim::Verilator, 16, "half-even", 23);
}
#[test]
fn verilator_bits16_half_up() {
    equivalence(Sim::Verilator, 16, "half-up", 24);
}

/// The corner set really contains what the issue lists: every c in 0..=62, both signs, exact
/// ties for both parities of the floor, saturation on both sides, INT32_MIN.
#[test]
fn corner_set_covers_the_listed_corners() {
    for (bits, rounding) in CONFIGS {
        let c = config(bits, rounding);
        let s = dut::corner_samples(&c);
        for shift in 0..=62i64 {
            assert!(s.iter().any(|v| v[2] == shift), "c = {shift} missing");
        }
        assert!(s.iter().any(|v| v[0] == i32::MIN as i64));
        let max = (1i64 << (bits - 1)) - 1;
        let y: Vec<i64> = dut::golden_all(&c, &s).into_iter().map(|v| v[0]).collect();
        assert!(
            y.contains(&max) && y.contains(&(-max - 1)),
            "saturation both sides"
        );
        // ties: p = x*m is exactly half-way, with an even and an odd floor, both signs
        let tie = |v: &Vec<i64>, odd: bool, neg: bool| {
            let (x, m, c) = (v[0] as i128, v[1] as i128, v[2] as u32);
            if c == 0 {
                return false;
            }
            let p = x * m;
            let floor = p.div_euclid(1 << c);
            p.rem_euclid(1 << c) == 1 << (c - 1) && (floor & 1 == 1) == odd && (p < 0) == neg
        };
        for odd in [false, true] {
            for neg in [false, true] {
                assert!(
                    s.iter().any(|v| tie(v, odd, neg)),
                    "tie odd={odd} neg={neg}"
                );
            }
        }
    }
}

/// The two roundings differ exactly on ties with an even floor, so a block built with the wrong
/// mode must fail on the corner set: the check can fail.
#[test]
fn wrong_rounding_is_caught_with_a_full_report() {
    let c = config(8, "half-up");
    let mut bench = Bench::new(&c).unwrap();
    let samples = dut::corner_samples(&c);
    let wrong: Vec<Vec<i64>> = samples
        .iter()
        .map(|v| vec![requant(v[0] as i32, v[1] as u32, v[2] as u32, 8, Rounding::HalfEven) as i64])
        .collect();
    let o = bench
        .check(
            Sim::Verilator,
            "wrong-rounding",
            &samples,
            &wrong,
            Traffic::Streaming,
            None,
        )
        .unwrap();
    assert!(!o.passed());
    let report = o.to_string();
    let first = &o.mismatches[0];
    assert!(
        report.contains(&format!("sample {}", first.index)),
        "{report}"
    );
    assert!(report.contains("x=") && report.contains("m=") && report.contains("c="));
    assert!(report.contains("expected") && report.contains("got"));
    let wave = o.wave.as_ref().expect("a VCD is written for a mismatch");
    assert!(wave.exists(), "{}", wave.display());
    assert!(report.contains(&wave.display().to_string()));
    assert!(wave.with_extension("gtkw").exists());
}

/// RustHDL and Verilator see the same stimulus and must agree cycle for cycle (accept and
/// output cycles, values), not only value for value.
#[test]
fn rusthdl_and_verilator_agree_cycle_for_cycle() {
    for (bits, rounding) in CONFIGS {
        let c = config(bits, rounding);
        let mut bench = Bench::new(&c).unwrap();
        let samples = dut::random_samples(&c, 5000, 7);
        let raw: Vec<Vec<u64>> = samples
            .iter()
            .map(|s| {
                bench
                    .emitted
                    .io
                    .inputs
                    .iter()
                    .zip(s)
                    .map(|(f, &v)| f.encode(v))
                    .collect()
            })
            .collect();
        let stim = Stimulus::random_stalls(raw, LATENCY, 0.6, 0.5, 99);
        let a = bench.run(Sim::RustHdl, &stim, None).unwrap();
        let b = bench.run(Sim::Verilator, &stim, None).unwrap();
        assert_eq!(a, b, "bits={bits} rounding={rounding}");
        assert!(a.violations.is_empty(), "{:?}", a.violations);
    }
}

/// Latency is the constant and throughput one sample per cycle: with no stalls, sample i is
/// accepted at cycle i and leaves at cycle i + LATENCY.
#[test]
fn latency_and_throughput() {
    for sim in [Sim::RustHdl, Sim::Verilator] {
        let c = config(16, "half-even");
        let mut bench = Bench::new(&c).unwrap();
        let n = 64;
        let raw: Vec<Vec<u64>> = (0..n).map(|i| vec![i as u64, 1 << 30, 30]).collect();
        let t = bench
            .run(sim, &Stimulus::streaming(raw, LATENCY), None)
            .unwrap();
        for i in 0..n {
            assert_eq!(t.accepted[i], i as u64, "{sim}: accept cycle");
            assert_eq!(t.outputs[i].0, (i + LATENCY) as u64, "{sim}: output cycle");
            assert_eq!(t.outputs[i].1, vec![i as u64], "{sim}: value");
        }
    }
}

/// With the consumer never ready, the pipeline fills (LATENCY samples plus none in flight) and
/// then refuses input; nothing is lost when it drains.
#[test]
fn backpressure_fills_then_stops() {
    let c = config(8, "half-up");
    let mut bench = Bench::new(&c).unwrap();
    let n = 20;
    let raw: Vec<Vec<u64>> = (0..n).map(|i| vec![i as u64, 1 << 30, 30]).collect();
    let mut stim = Stimulus::streaming(raw, LATENCY);
    let stall = 40;
    for t in 0..stall {
        stim.ready[t] = false;
    }
    stim.offer.resize(stall + n + LATENCY + 16, true);
    stim.ready.resize(stall + n + LATENCY + 16, true);
    for sim in [Sim::RustHdl, Sim::Verilator] {
        let t = bench.run(sim, &stim, None).unwrap();
        let before: Vec<_> = t.accepted.iter().filter(|&&a| a < stall as u64).collect();
        assert_eq!(
            before.len(),
            LATENCY,
            "{sim}: a full pipeline holds LATENCY samples"
        );
        assert_eq!(t.outputs.len(), n, "{sim}");
        assert_eq!(
            t.outputs[0].0, stall as u64,
            "{sim}: first output when ready rises"
        );
        for (i, (_, v)) in t.outputs.iter().enumerate() {
            assert_eq!(v, &vec![i as u64], "{sim}: order kept");
        }
        assert!(t.violations.is_empty(), "{sim}: {:?}", t.violations);
    }
}

/// ASIC-clean: the Verilog with every `initial` block removed (Icarus starts registers at X)
/// gives no X on any handshake signal or output after reset, and still matches golden.
#[test]
fn asic_clean_without_initial_blocks() {
    for (bits, rounding) in [(8, "half-even"), (16, "half-up")] {
        let c = config(bits, rounding);
        let mut bench = Bench::new(&c).unwrap();
        let mut samples = dut::random_samples(&c, 1500, 5);
        samples.truncate(1500);
        let expected = dut::golden_all(&c, &samples);
        let o = bench
            .check(Sim::NoInit, "noinit", &samples, &expected, stalls(5), None)
            .unwrap();
        assert!(o.passed(), "{o}");
    }
}

/// The X check can fail: drop the reset of the output register and `y` is X after reset.
#[test]
fn x_check_catches_an_unreset_output() {
    let c = config(8, "half-even");
    let em = c.emit("itx_").unwrap();
    let (stripped, removed) = testbench::icarus::strip_initial_blocks(&em.verilog);
    assert!(removed > 10, "every DFF has an initial block ({removed})");
    let line = "yq$d = zero_y;";
    assert!(
        stripped.contains(line),
        "reset assignment of the output register"
    );
    let broken = stripped.replacen(line, "", 1);
    let dir = build_dir().join("test-x-check");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("itx_requant_broken.v");
    std::fs::write(&file, broken).unwrap();
    let stim = Stimulus::streaming(vec![vec![5, 1 << 30, 30]; 4], LATENCY);
    let t = verilog_tb::run(
        &em.top,
        &em.io,
        verilog_tb::IcarusDesign::RtlNoInit,
        &file,
        &dir,
        &stim,
    )
    .unwrap();
    assert!(
        t.violations.iter().any(|v| v.contains("output unknown")),
        "{:?}",
        t.violations
    );
}

/// Gate level: the Yosys iCE40 netlist (4 SB_MAC16 and fabric) in Icarus with Yosys's own cell
/// models matches golden. Icarus runs the netlist at ~100 cycles/s, hence a sample.
#[test]
fn gate_level_ice40_matches_golden() {
    for (bits, rounding) in [(8, "half-even"), (16, "half-up")] {
        let c = config(bits, rounding);
        let mut bench = Bench::new(&c).unwrap();
        let mut samples = dut::corner_samples(&c);
        samples.truncate(150);
        samples.extend(dut::random_samples(&c, 250, 3));
        let expected = dut::golden_all(&c, &samples);
        let o = bench
            .check(Sim::Gate, "gate", &samples, &expected, stalls(3), None)
            .unwrap();
        assert!(o.passed(), "{o}");
    }
}

/// `verilator --lint-only -Wall` with only the waivers of lint/itx.vlt.
#[test]
fn lint_clean_every_configuration() {
    for (bits, rounding) in CONFIGS {
        assert_lint_clean(&config(bits, rounding));
    }
}

/// Yosys synthesizes every configuration for iCE40 (UP5K, DSP inference) and ECP5; the 32 x 31
/// product lands in four DSP blocks on both.
#[test]
fn yosys_ice40_and_ecp5_every_configuration() {
    for (bits, rounding) in CONFIGS {
        let (ice, ecp) = synth_both(&config(bits, rounding));
        for r in [ice, ecp] {
            assert_eq!(r.dsps, 4, "{} bits={bits}: {:?}", r.target, r.cells);
            assert!(r.luts > 0 && r.ffs > 0, "{:?}", r.cells);
            assert_eq!(r.brams, 0);
        }
    }
}

/// The shared known-answer vectors' requant cases, through both simulators.
#[test]
fn shared_vectors_through_hardware() {
    let path = common::shared_vectors("integer-ops.jsonl");
    let file = testbench::vectors::VectorFile::read(&path)
        .unwrap_or_else(|e| panic!("the shared vectors must be readable: {e}"));
    let mut ran = 0;
    for case in file.cases() {
        let Some(sc) = dut::stream_case(case).unwrap() else {
            continue;
        };
        if sc.config.block != "requant" {
            continue;
        }
        let mut bench = Bench::new(&sc.config).unwrap();
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
    assert!(ran >= 9, "requant cases run: {ran}");
}
