//! `RequantAdd` (the requantized residual add) against the golden model: RustHDL's simulator,
//! Verilator, Icarus without `initial` blocks (ASIC-clean), every shared `requant_add` vector case;
//! plus lint and synthesis of every configuration.
mod common;

use common::{assert_lint_clean, stalls, synth_both};
use golden::requant::{requant_add, Rounding, C_MAX, M_MAX};
use hdl::blocks::Config;
use hdl::requant_add::LATENCY;
use testbench::dut;
use testbench::harness::{build_dir, Stimulus};
use testbench::verify::{Bench, Sim, Traffic};
use testbench::verilog_tb;

/// Random samples per configuration and back end (1e5, as for `requant`).
const RANDOM: usize = 100_000;

fn config(bits: u32, rounding: &str) -> Config {
    Config::from_sets(
        "requant-add",
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

/// Corners plus `RANDOM` seeded samples through `sim`, for one configuration, with random stalls
/// on both sides.
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
    equivalence(Sim::RustHdl, 8, "half-even", 31);
}
#[test]
fn rusthdl_bits8_half_up() {
    equivalence(Sim::RustHdl, 8, "half-up", 32);
}
#[test]
fn rusthdl_bits16_half_even() {
    equivalence(Sim::RustHdl, 16, "half-even", 33);
}
#[test]
fn rusthdl_bits16_half_up() {
    equivalence(Sim::RustHdl, 16, "half-up", 34);
}
#[test]
fn verilator_bits8_half_even() {
    equivalence(Sim::Verilator, 8, "half-even", 41);
}
#[test]
fn verilator_bits8_half_up() {
    equivalence(Sim::Verilator, 8, "half-up", 42);
}
#[test]
fn verilator_bits16_half_even() {
    equivalence(Sim::Verilator, 16, "half-even", 43);
}
#[test]
fn verilator_bits16_half_up() {
    equivalence(Sim::Verilator, 16, "half-up", 44);
}

/// Whether branch `(v, m, c)` is an exact tie (`v*m` half-way between multiples of `2^c`), and the
/// parity of its floor and its sign.
fn tie(v: i64, m: i64, c: i64) -> Option<(bool, bool)> {
    if c == 0 {
        return None;
    }
    let p = v as i128 * m as i128;
    let floor = p.div_euclid(1 << c);
    (p.rem_euclid(1 << c) == 1 << (c - 1)).then_some((floor & 1 == 1, p < 0))
}

/// The corner set contains what the task lists: the extremes of x, z, m, m1; c and c1 at 0 and 62
/// (and every c, c1 in 0..=62); ties in each branch and in both, for both floor parities and
/// signs; saturation on both sides; the largest sum, (INT32_MIN * (2^31-1)) * 2.
#[test]
fn corner_set_covers_the_listed_corners() {
    let (min, max, mmax) = (i32::MIN as i64, i32::MAX as i64, M_MAX as i64);
    for (bits, rounding) in CONFIGS {
        let c = config(bits, rounding);
        let s = dut::corner_samples(&c);
        for shift in 0..=C_MAX as i64 {
            assert!(s.iter().any(|v| v[3] == shift), "c = {shift} missing");
            assert!(s.iter().any(|v| v[5] == shift), "c1 = {shift} missing");
        }
        for (i, edges) in [
            (0, [min, max]),
            (1, [min, max]),
            (2, [1, mmax]),
            (4, [1, mmax]),
        ] {
            for e in edges {
                assert!(s.iter().any(|v| v[i] == e), "field {i} = {e} missing");
            }
        }
        for (cc, cc1) in [(0, 0), (0, 62), (62, 0), (62, 62)] {
            assert!(s.iter().any(|v| v[3] == cc && v[5] == cc1));
        }
        assert!(s.contains(&vec![min, min, mmax, 0, mmax, 0]), "largest sum");
        let max_y = (1i64 << (bits - 1)) - 1;
        let y: Vec<i64> = dut::golden_all(&c, &s).into_iter().map(|v| v[0]).collect();
        assert!(
            y.contains(&max_y) && y.contains(&(-max_y - 1)),
            "saturation both sides"
        );
        for odd in [false, true] {
            for neg in [false, true] {
                let want = Some((odd, neg));
                assert!(s.iter().any(|v| tie(v[0], v[2], v[3]) == want), "x tie");
                assert!(s.iter().any(|v| tie(v[1], v[4], v[5]) == want), "z tie");
            }
        }
        assert!(
            s.iter()
                .any(|v| tie(v[0], v[2], v[3]).is_some() && tie(v[1], v[4], v[5]).is_some()),
            "ties in both branches"
        );
    }
}

/// Golden's sum is a saturating i64 add; the hardware's is a plain 64-bit add. In range the two
/// agree because no sum reaches 2^63: check the extreme sums directly.
#[test]
fn extreme_sums_are_exact() {
    let (min, max) = (i32::MIN, i32::MAX);
    for (x, z) in [(min, min), (max, max), (min, max)] {
        let exact = x as i128 * M_MAX as i128 + z as i128 * M_MAX as i128;
        assert!(exact.abs() < 1i128 << 63, "{x} {z}");
        let y = requant_add(x, z, M_MAX, 0, M_MAX, 0, 16, Rounding::HalfEven) as i128;
        assert_eq!(y, exact.clamp(-32768, 32767));
    }
}

/// The two roundings differ on ties with an even floor, so a block built with half-up must fail
/// against half-even answers on the corner set: the check can fail, and says where.
#[test]
fn wrong_rounding_is_caught_with_a_full_report() {
    let c = config(8, "half-up");
    let mut bench = Bench::new(&c).unwrap();
    let samples = dut::corner_samples(&c);
    let wrong: Vec<Vec<i64>> = samples
        .iter()
        .map(|v| {
            let u = |i: usize| v[i] as u32;
            let y = requant_add(
                v[0] as i32,
                v[1] as i32,
                u(2),
                u(3),
                u(4),
                u(5),
                8,
                Rounding::HalfEven,
            );
            vec![y as i64]
        })
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
    for field in ["x=", "z=", "m=", "c=", "m1=", "c1="] {
        assert!(report.contains(field), "{field}: {report}");
    }
}

/// RustHDL and Verilator see the same stimulus and agree cycle for cycle.
#[test]
fn rusthdl_and_verilator_agree_cycle_for_cycle() {
    for (bits, rounding) in [(8, "half-even"), (16, "half-up")] {
        let c = config(bits, rounding);
        let mut bench = Bench::new(&c).unwrap();
        let samples = dut::random_samples(&c, 3000, 7);
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
        // x/2 + z/4 with x = 2i, z = 4i: 2i.
        let raw: Vec<Vec<u64>> = (0..n)
            .map(|i| vec![2 * i as u64, 4 * i as u64, 1 << 30, 31, 1 << 30, 32])
            .collect();
        let t = bench
            .run(sim, &Stimulus::streaming(raw, LATENCY), None)
            .unwrap();
        for i in 0..n {
            assert_eq!(t.accepted[i], i as u64, "{sim}: accept cycle");
            assert_eq!(t.outputs[i].0, (i + LATENCY) as u64, "{sim}: output cycle");
            assert_eq!(t.outputs[i].1, vec![2 * i as u64], "{sim}: value");
        }
    }
}

/// With the consumer never ready, the pipeline fills (LATENCY samples) and then refuses input;
/// nothing is lost when it drains.
#[test]
fn backpressure_fills_then_stops() {
    let c = config(8, "half-up");
    let mut bench = Bench::new(&c).unwrap();
    let n = 20;
    let raw: Vec<Vec<u64>> = (0..n).map(|i| vec![i as u64, 0, 1, 0, 1, 0]).collect();
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
        let mut samples = dut::corner_samples(&c);
        samples.truncate(300);
        samples.extend(dut::random_samples(&c, 1200, 5));
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
    assert_eq!(
        stripped.matches(line).count(),
        1,
        "one reset assignment of the output register"
    );
    let broken = stripped.replacen(line, "", 1);
    let dir = build_dir().join("test-x-check");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("itx_requant_add_broken.v");
    std::fs::write(&file, broken).unwrap();
    let stim = Stimulus::streaming(vec![vec![5, 3, 1 << 30, 30, 1 << 30, 30]; 4], LATENCY);
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

/// `verilator --lint-only -Wall` with only the waivers of lint/itx.vlt.
#[test]
fn lint_clean_every_configuration() {
    for (bits, rounding) in CONFIGS {
        assert_lint_clean(&config(bits, rounding));
    }
}

/// Yosys synthesizes for iCE40 (UP5K, DSP inference) and ECP5; the two 32 x 31 products land in
/// eight DSP blocks on both. Two configurations cover both widths and both roundings (every
/// configuration is linted above; a synthesis run takes ~10 s, the test's largest cost).
#[test]
fn yosys_ice40_and_ecp5() {
    for (bits, rounding) in [(8, "half-even"), (16, "half-up")] {
        let (ice, ecp) = synth_both(&config(bits, rounding));
        for r in [ice, ecp] {
            assert_eq!(r.dsps, 8, "{} bits={bits}: {:?}", r.target, r.cells);
            assert!(r.luts > 0 && r.ffs > 0, "{:?}", r.cells);
            assert_eq!(r.brams, 0);
        }
    }
}

/// Every shared `requant_add` case (per-channel broadcast of m, c, m1, c1 included) through both
/// simulators, with stalls.
#[test]
fn shared_vectors_through_hardware() {
    let ran = common::shared_cases_through_hardware(
        "integer-ops.jsonl",
        "requant-add",
        &[Sim::RustHdl, Sim::Verilator],
    );
    let file =
        testbench::vectors::VectorFile::read(&common::shared_vectors("integer-ops.jsonl")).unwrap();
    let want = file
        .cases()
        .filter(|c| c.op == testbench::vectors::Op::RequantAdd)
        .count();
    assert!(want >= 3, "shared requant_add cases: {want}");
    assert_eq!(ran, want, "every requant_add case ran");
}
