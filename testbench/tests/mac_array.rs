//! `mac-array` against golden (`golden::mac_array::tile`) and its cycle contract
//! (`golden::mac_array::ArrayTiming`): every shape of the issue (1x1, 1x8, 8x1, 3x5, 4x4, 8x8,
//! 16x16) in Verilator, the small ones in RustHDL's simulator too; tiles of K = 1, 2, 3, 64, 1000,
//! int8 extremes, unsigned 2^15 and 65535 in A, a K that wraps the int32 accumulator, random tiles
//! back to back with random stalls on both sides; the shared `matmul` vectors through the array;
//! ASIC-clean (no `initial`) simulation; lint at every shape, Yosys iCE40 + ECP5 synthesis at
//! 1x1, 8x1, 3x5 and 4x4 and Yosys's design checks at 8x8 (full synthesis of the large arrays
//! takes minutes per target: `make pnr` synthesizes them); the UP5K variant `pe=sb_mac16_dual`
//! against Yosys's own SB_MAC16 model (`cells_sim.v`) in Verilator; `pe=pipelined` and
//! `pe=mult18x18d` in Verilator.
//!
//! Every Verilator simulator here is a [`CxxOpt::Quick`] build (C++ at `-O0`): the runs are
//! short, and the 8x8 and 16x16 arrays compile in a fraction of the time. Tests that simulate the
//! same configuration share its build (`SHAPES` are reused by the cycle contract, the wrap test
//! reuses a `matmul` case's size).
mod common;

use common::*;
use hdl::blocks::Config;
use testbench::dut::{self, Tile};
use testbench::harness::Stimulus;
use testbench::verify::{Bench, Sim, Traffic};
use testbench::verilator::CxxOpt;

/// The shapes of the issue, each with the parameter variant it is checked in (every variant of
/// `a_signed` x `out_bits` appears).
const SHAPES: [(&str, &[&str]); 7] = [
    ("1x1", &["a_signed=true", "out_bits=32"]),
    ("1x8", &["a_signed=false", "out_bits=16"]),
    ("8x1", &["a_signed=true", "out_bits=8", "rounding=half-up"]),
    ("3x5", &["a_signed=false", "out_bits=32"]),
    ("4x4", &["a_signed=true", "out_bits=16"]),
    ("8x8", &["a_signed=false", "out_bits=8"]),
    ("16x16", &["a_signed=true", "out_bits=8"]),
];

fn shape(size: &str, sets: &[&str]) -> Config {
    let (r, c) = size.split_once('x').unwrap();
    let mut all = vec![format!("rows={r}"), format!("cols={c}")];
    all.extend(sets.iter().map(|s| s.to_string()));
    Config::from_sets("mac-array", &all).unwrap()
}

fn tiles_match(c: &Config, sim: Sim, label: &str, tiles: &[Tile], traffic: Traffic) {
    let samples = dut::tile_samples(c, tiles);
    let expected = dut::golden_all(c, &samples);
    assert_eq!(expected.len(), tiles.len() * c.int("rows") as usize);
    let mut bench = Bench::new(c).unwrap().with_cxx_opt(CxxOpt::Quick);
    let o = bench
        .check(sim, label, &samples, &expected, traffic, None)
        .unwrap();
    assert!(o.passed(), "{c}: {o}");
    assert_eq!(o.trace.outputs.len(), expected.len());
}

#[test]
fn every_shape_in_verilator_corners_and_random_tiles_with_stalls() {
    for (i, (size, sets)) in SHAPES.iter().enumerate() {
        let c = shape(size, sets);
        let mut tiles = dut::mac_corner_tiles(&c);
        tiles.extend(dut::mac_random_tiles(&c, 1000, 10 + i as u64));
        tiles_match(
            &c,
            Sim::Verilator,
            "corners+random",
            &tiles,
            stalls(i as u64),
        );
    }
}

#[test]
fn small_shapes_in_rusthdl() {
    for (i, (size, sets)) in SHAPES.iter().enumerate().take(5) {
        let c = shape(size, sets);
        let mut tiles = dut::mac_corner_tiles(&c);
        tiles.extend(dut::mac_random_tiles(&c, 400, 20 + i as u64));
        tiles_match(
            &c,
            Sim::RustHdl,
            "corners+random",
            &tiles,
            stalls(30 + i as u64),
        );
    }
}

#[test]
fn int8_accumulator_wraps_at_k_2_pow_17() {
    // 2^17 products of -128 x -128 sum to exactly 2^31, which wraps to i32::MIN; the last of the
    // 2^17 + 1 steps adds 16384 more (even columns) or -16256 (odd columns: 127 x -128, back below
    // 2^31). Zero bias: the wrap is the accumulator's own. Expected values computed here in i64,
    // independently of golden, and checked against it. (1x1 int8/int32 is `SHAPES[0]`, 2x4 the
    // size of the shared `matmul-int8-small` case: their simulators are built once.)
    for size in ["1x1", "2x4"] {
        let c = shape(size, &["a_signed=true", "out_bits=32"]);
        let (rows, cols) = (c.int("rows") as usize, c.int("cols") as usize);
        let k = (1 << 17) + 1;
        let a = vec![vec![-128i64; k]; rows];
        let mut b = vec![vec![-128i64; cols]; k];
        for j in (1..cols).step_by(2) {
            b[k - 1][j] = 127;
        }
        let exact = |j: usize| (1i64 << 31) + -128 * b[k - 1][j];
        let wrapped = |v: i64| v as u64 as u32 as i32 as i64;
        let t = Tile {
            a,
            b: b.clone(),
            bias: vec![0; cols],
            m: vec![],
            c: vec![],
        };
        let samples = dut::tile_samples(&c, std::slice::from_ref(&t));
        let expected = dut::golden_all(&c, &samples);
        for row in &expected {
            for j in 0..cols {
                assert_eq!(row[j], wrapped(exact(j)), "golden, column {j}");
            }
        }
        assert_eq!(expected[0][0], i32::MIN as i64 + 16384);
        tiles_match(&c, Sim::Verilator, "wrap", &[t], Traffic::Streaming);
    }
}

#[test]
fn cycle_contract_holds_without_stalls() {
    // Tiles shorter than the period wait for it; longer ones stream back to back. Every output
    // row leaves at the cycle golden::mac_array::ArrayTiming gives, in both simulators. Two
    // configurations of SHAPES (their simulators are built once): 4x4 requantized, 3x5 raw int32.
    for (size, sets) in [SHAPES[4], SHAPES[3]] {
        assert!(matches!(size, "4x4" | "3x5"), "{size}");
        assert_cycle_contract(&shape(size, sets), &[Sim::Verilator, Sim::RustHdl]);
    }
}

/// Tiles of K = 1, 2, 3, 9, 20, 5, 40, 8 offered back to back with no stall: every output row
/// leaves at the cycle `ArrayTiming::output_cycles` gives, in each of `sims`.
fn assert_cycle_contract(c: &Config, sims: &[Sim]) {
    let lengths = [1usize, 2, 3, 9, 20, 5, 40, 8];
    let timing = c.array_timing();
    let mut r = testbench::harness::rng(7);
    let tiles: Vec<Tile> = lengths
        .iter()
        .map(|&k| dut::random_tile(c, k, &mut r))
        .collect();
    let samples = dut::tile_samples(c, &tiles);
    let em = c.emit("itx_").unwrap();
    let raw: Vec<Vec<u64>> = samples
        .iter()
        .map(|s| {
            em.io
                .inputs
                .iter()
                .zip(s)
                .map(|(f, &v)| f.encode(v))
                .collect()
        })
        .collect();
    let want = timing.output_cycles(&lengths);
    let stim =
        Stimulus::streaming(raw, c.extra_cycles(samples.len(), tiles.len())).expecting(want.len());
    let mut bench = Bench::new(c).unwrap().with_cxx_opt(CxxOpt::Quick);
    for &sim in sims {
        let t = bench.run(sim, &stim, None).unwrap();
        let t0 = t.accepted[0];
        let got: Vec<usize> = t.outputs.iter().map(|(cy, _)| (cy - t0) as usize).collect();
        assert_eq!(got, want, "{c} {sim}: output cycles");
    }
}

#[test]
fn asic_clean_without_initial_blocks() {
    let c = shape("3x5", &["a_signed=true", "out_bits=8"]);
    let mut tiles = dut::mac_corner_tiles(&c);
    tiles.truncate(4);
    tiles.extend(dut::mac_random_tiles(&c, 200, 3));
    tiles_match(&c, Sim::NoInit, "no-initial", &tiles, stalls(5));
}

#[test]
fn shared_matmul_vectors_through_hardware() {
    let ran = shared_cases_through_hardware_with(
        "integer-ops.jsonl",
        "mac-array",
        &[Sim::Verilator, Sim::RustHdl],
        CxxOpt::Quick,
    );
    assert!(ran >= 4, "{ran} matmul cases");
}

/// Lint at every shape. Yosys iCE40 + ECP5 synthesis at 1x1, 8x1, 3x5 and 4x4, which between
/// them count the DSPs of int8 PEs (1x1, 8x1, 4x4), of unsigned-A PEs (3x5) and of one and of
/// four requantizer lanes (8x1, 4x4); not at 1x8, whose synthesis (unsigned A, 8 lanes) takes
/// longer than the other four together and adds no case: a lane requantizes the int32 sum
/// whatever A is. Yosys's design checks at 8x8; 16x16 is the same generator loops with larger
/// bounds, linted.
#[test]
fn lint_at_every_shape_synthesis_and_design_checks() {
    for (size, sets) in SHAPES {
        let c = shape(size, sets);
        assert_lint_clean(&c);
        match size {
            "8x8" => {
                yosys_design_checks(&c);
                continue;
            }
            "1x8" | "16x16" => continue,
            _ => {}
        }
        let (ice, ecp) = synth_both(&c);
        assert_synth_clean(&c, &ice);
        assert_synth_clean(&c, &ecp);
        let pes = (c.int("rows") * c.int("cols")) as u64;
        let rq = if c.int("out_bits") == 32 {
            0
        } else {
            4 * c.int("cols") as u64
        };
        // One multiplier block per PE on both families (an unsigned 16 x int8 product too), four
        // per requantizer lane.
        assert_eq!(ecp.dsps, pes + rq, "{c}: ECP5 {ecp:?}");
        assert_eq!(ice.dsps, pes + rq, "{c}: iCE40 {ice:?}");
        if c.a_signed() {
            // int8 x int8: the whole MAC (multiplier, adder, accumulator) sits in the SB_MAC16;
            // what is left in carry chains is the bias adders, the counters and the requantizers.
            let fabric_adders_max = 40 * c.int("cols") as u64 * if rq > 0 { 6 } else { 1 } + 16;
            assert!(
                ice.carries <= fabric_adders_max,
                "{c}: {} SB_CARRY, accumulators not in the DSPs? {ice:?}",
                ice.carries
            );
        }
    }
}

/// Yosys's design checks without technology mapping: every module resolves, `proc` leaves no
/// latch, `check -assert` finds no multiple drivers, loops or undriven wires.
fn yosys_design_checks(c: &Config) {
    let (v, top, dir) = emitted_file(c, "test-yosys-check");
    let log = dir.join("yosys-check.log");
    let mut cmd = std::process::Command::new(testbench::tools::require("yosys").unwrap());
    cmd.arg("-q").arg("-l").arg(&log).arg("-p").arg(format!(
        "read_verilog -sv {}; hierarchy -check -top {top}; proc; \
         select -assert-none t:$dlatch t:$adlatch t:$dlatchsr; flatten; opt_clean; check -assert",
        v.display()
    ));
    testbench::tools::run(&mut cmd, "yosys design checks").unwrap_or_else(|e| panic!("{c}: {e:#}"));
}

#[test]
fn pipelined_pe_in_verilator() {
    for (i, sets) in [&["pe=pipelined", "a_signed=false", "out_bits=8"][..]]
        .into_iter()
        .enumerate()
    {
        let c = shape("3x5", sets);
        let mut tiles = dut::mac_corner_tiles(&c);
        tiles.extend(dut::mac_random_tiles(&c, 800, 70 + i as u64));
        tiles_match(
            &c,
            Sim::Verilator,
            "pipelined",
            &tiles,
            stalls(80 + i as u64),
        );
        assert_lint_clean(&c);
    }
}

/// `pe=sb_mac16_dual`: two int8 PEs share one SB_MAC16 (odd `cols`: the last DSP of a row uses
/// its low half only). Simulated with Yosys's SB_MAC16 model, so the DSP configuration is checked
/// together with the array.
#[test]
fn sb_mac16_dual_against_yosys_model() {
    for (i, size) in ["3x5"].into_iter().enumerate() {
        let c = shape(size, &["pe=sb_mac16_dual", "out_bits=32"]);
        assert_eq!(c.latency(), c.array_timing().latency());
        let mut tiles = dut::mac_corner_tiles(&c);
        tiles.extend(dut::mac_random_tiles(&c, 800, 40 + i as u64));
        tiles_match(&c, Sim::Verilator, "dual", &tiles, stalls(50 + i as u64));
    }
    let c = shape("2x3", &["pe=sb_mac16_dual", "out_bits=8"]);
    let mut r = testbench::harness::rng(9);
    let tiles: Vec<Tile> = [1, 7, 3, 12]
        .iter()
        .map(|&k| dut::random_tile(&c, k, &mut r))
        .collect();
    tiles_match(&c, Sim::Verilator, "dual requant", &tiles, stalls(60));
    tiles_match(&c, Sim::RustHdl, "dual requant", &tiles, stalls(61));
    assert_lint_clean(&c);
    let (v, top, dir) = emitted_file(&c, "test-synth");
    let synth = |t: testbench::yosys::Target| {
        testbench::yosys::synth(std::slice::from_ref(&v), &top, t, &dir.join(t.as_str()))
    };
    let ice = synth(testbench::yosys::Target::Ice40).unwrap();
    assert_synth_clean(&c, &ice);
    assert_eq!(
        ice.dsps,
        2 * 2 + 4 * 3,
        "{c}: 2 rows x 2 DSPs, 3 requant lanes x 4: {ice:?}"
    );
    let err = synth(testbench::yosys::Target::Ecp5).unwrap_err();
    assert!(format!("{err:#}").contains("only on iCE40"), "{err:#}");
}

/// `pe=mult18x18d` (ECP5): each PE's product from an instantiated MULT18X18D with its input,
/// pipeline and output registers, simulated with the project's Verilog model of the primitive
/// (Verilator) and its Rust model (RustHDL): bit-exact against golden with random stalls on both
/// sides (unsigned 16-bit A, requantized, at 3x5; int8 A, raw int32, at 2x3), the cycle contract
/// (latency and tile period with 4 product stages), lint.
#[test]
fn mult18x18d_pe_against_golden_and_cycle_contract() {
    let c = shape("3x5", &["pe=mult18x18d", "a_signed=false", "out_bits=8"]);
    assert_eq!(c.array_timing().product_stages, 4);
    assert_eq!(c.latency(), 7 + 5 + 5 + 4);
    assert_eq!(c.array_timing().min_tile_period(), 5 + 4 + 4);
    let mut tiles = dut::mac_corner_tiles(&c);
    tiles.extend(dut::mac_random_tiles(&c, 800, 90));
    tiles_match(&c, Sim::Verilator, "mult18x18d", &tiles, stalls(91));
    assert_cycle_contract(&c, &[Sim::Verilator]);
    assert_lint_clean(&c);

    let small = shape("2x3", &["pe=mult18x18d", "a_signed=true", "out_bits=32"]);
    let mut tiles = dut::mac_corner_tiles(&small);
    tiles.extend(dut::mac_random_tiles(&small, 200, 92));
    tiles_match(&small, Sim::RustHdl, "mult18x18d", &tiles, stalls(93));
    assert_cycle_contract(&small, &[Sim::RustHdl]);
    assert_lint_clean(&small);
}

/// `pe=mult18x18d` synthesizes (Yosys `synth_ecp5`) to exactly one MULT18X18D per PE, each with
/// its input, pipeline and output registers on CLK0, GSR off and synchronous reset, and the
/// accumulators in fabric (CCU2C carry chains, flip-flops); iCE40 synthesis is refused, and so is
/// an array with more PEs than the largest ECP5 has MULT18X18Ds.
#[test]
fn mult18x18d_pe_synthesizes_to_one_registered_dsp_per_pe_on_ecp5_only() {
    let c = shape("2x3", &["pe=mult18x18d", "a_signed=true", "out_bits=32"]);
    let (v, top, dir) = emitted_file(&c, "test-synth");
    let synth = |t: testbench::yosys::Target| {
        testbench::yosys::synth(std::slice::from_ref(&v), &top, t, &dir.join(t.as_str()))
    };
    let ecp = synth(testbench::yosys::Target::Ecp5).unwrap_or_else(|e| panic!("{e:#}"));
    assert_synth_clean(&c, &ecp);
    let pes = 6;
    assert_eq!(
        ecp.cells.get("MULT18X18D"),
        Some(&pes),
        "{c}: {:?}",
        ecp.cells
    );
    assert_eq!(
        ecp.dsps, pes,
        "{c}: no ALU54B, no other multiplier: {ecp:?}"
    );
    // Accumulators in fabric: a 32-bit adder (16 CCU2C) and a 32-bit accumulator plus the 32-bit
    // product register per PE.
    assert!(ecp.carries >= 16 * pes, "{c}: {ecp:?}");
    assert!(ecp.ffs >= 64 * pes, "{c}: {ecp:?}");
    let netlist = std::fs::read_to_string(&ecp.netlist).unwrap();
    let insts: Vec<&str> = netlist.split("MULT18X18D #(").skip(1).collect();
    assert_eq!(insts.len() as u64, pes, "{}", ecp.netlist.display());
    for inst in insts {
        let params = &inst[..inst.find(") ").unwrap()];
        for (name, value) in hdl::mult18x18d::instance_params(hdl::mult18x18d::PE_REGS) {
            assert!(
                params.contains(&format!(".{name}(\"{value}\")")),
                "{name} = {value} in {params}"
            );
        }
        assert!(params.contains(".REG_PIPELINE_CLK(\"CLK0\")"), "{params}");
    }
    let err = synth(testbench::yosys::Target::Ice40).unwrap_err();
    assert!(
        format!("{err:#}").contains("exists only on ECP5"),
        "{err:#}"
    );

    let too_big = Config::from_sets(
        "mac-array",
        &["rows=13", "cols=13", "pe=mult18x18d"].map(String::from),
    )
    .unwrap_err()
    .to_string();
    assert!(
        too_big.contains("pe=mult18x18d needs rows x cols <= 156"),
        "{too_big}"
    );
    assert!(Config::from_sets(
        "mac-array",
        &["rows=12", "cols=13", "pe=mult18x18d"].map(String::from)
    )
    .is_ok());
}
