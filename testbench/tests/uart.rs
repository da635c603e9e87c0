//! `uart-tx` and `uart-rx` against `golden::uart`, cycle for cycle, in RustHDL's simulator and in
//! Verilator (the ground truth), plus Icarus without `initial` blocks and on the iCE40 netlist,
//! a tx -> rx loopback through the generated Verilog, lint and synthesis. Every expected output
//! comes from the golden model; every output port is compared in every cycle.
mod common;

use common::{assert_lint_clean, assert_synth_clean, config, synth_both};
use golden::uart::{rx_events, tx_line, BitTiming, RxKind};
use hdl::blocks::Config;
use hdl::ports::PortIo;
use hdl::stream::Field;
use testbench::trace::VerilatorTrace;
use testbench::uart::{
    compare, frames_cycles, frames_line, random_rx_line, random_tx_case, rx_case, tx_case,
    with_mismatch, Case, PortBench,
};
use testbench::verify::Sim;

fn bench(block: &str, div: u32) -> PortBench {
    PortBench::new(&config(block, &[&format!("div={div}")])).unwrap()
}

fn t(div: u32) -> BitTiming {
    BitTiming::from_div(div as u64).unwrap()
}

fn assert_pass(b: &mut PortBench, sim: Sim, case: &Case) {
    let o = b.check(sim, case).unwrap();
    assert!(o.passed(), "{o}");
}

/// All 256 bytes, back to back.
fn all_bytes() -> Vec<u8> {
    (0..=255).collect()
}

/// How many reports of each kind golden expects in a case (so no test passes on a silent line).
fn rx_counts(case: &Case) -> (usize, usize) {
    let bytes = case.expected.iter().filter(|o| o[0] == 1).count();
    let errs = case.expected.iter().filter(|o| o[2] == 1).count();
    (bytes, errs)
}

#[test]
fn tx_all_bytes_back_to_back_div5_rusthdl_and_verilator() {
    let mut b = bench("uart-tx", 5);
    let bytes = all_bytes();
    let cycles = frames_cycles(t(5), bytes.len(), 20);
    let case = tx_case("all bytes", t(5), &bytes, &vec![true; cycles]);
    // Golden itself: the line is the 256 frames with no idle bit between them.
    let line: Vec<u64> = case.expected.iter().map(|o| o[1]).collect();
    let want: Vec<u64> = tx_line(t(5), &bytes, cycles)
        .into_iter()
        .map(u64::from)
        .collect();
    assert_eq!(line, want);
    assert_pass(&mut b, Sim::RustHdl, &case);
    assert_pass(&mut b, Sim::Verilator, &case);
}

#[test]
fn tx_all_bytes_div104_icebreaker_verilator() {
    let mut b = bench("uart-tx", 104);
    let bytes = all_bytes();
    let cycles = frames_cycles(t(104), bytes.len(), 200);
    let case = tx_case("all bytes", t(104), &bytes, &vec![true; cycles]);
    assert_pass(&mut b, Sim::Verilator, &case);
    // RustHDL on the first 16 frames.
    let case16 = tx_case(
        "16 bytes",
        t(104),
        &bytes[..16],
        &vec![true; frames_cycles(t(104), 16, 200)],
    );
    assert_pass(&mut b, Sim::RustHdl, &case16);
}

#[test]
fn tx_random_valid_stalls_and_idle_gaps() {
    for div in [5, 104] {
        let mut b = bench("uart-tx", div);
        for (seed, p) in [(1u64, 0.02), (2, 0.3), (3, 0.9), (4, 1.0)] {
            let n = if div == 5 { 120 } else { 25 };
            let case = random_tx_case(t(div), n, p, seed);
            assert_pass(&mut b, Sim::Verilator, &case);
            assert_pass(&mut b, Sim::RustHdl, &case);
        }
    }
}

#[test]
fn tx_min_div4_rusthdl() {
    let mut b = bench("uart-tx", 4);
    for seed in 0..3 {
        assert_pass(&mut b, Sim::RustHdl, &random_tx_case(t(4), 60, 0.5, seed));
    }
}

#[test]
fn rx_all_bytes_back_to_back_and_at_clock_mismatch() {
    for div in [5u32, 104] {
        let mut b = bench("uart-rx", div);
        let frames: Vec<(u8, usize)> = all_bytes().into_iter().map(|x| (x, 0)).collect();
        let line = frames_line(t(div), &frames, 12 * div as usize);
        for ppm in [0i64, 20_000, -20_000] {
            let l = with_mismatch(&line, ppm);
            let case = rx_case(&format!("all bytes div={div} ppm={ppm}"), t(div), &l);
            // Golden receives all 256 bytes in order.
            let got: Vec<u8> = rx_events(t(div), &l)
                .iter()
                .map(|e| match e.kind {
                    RxKind::Byte(x) => x,
                    RxKind::FrameError => panic!("framing error at {ppm} ppm: {e}"),
                })
                .collect();
            assert_eq!(got, all_bytes(), "div {div} ppm {ppm}");
            assert_pass(&mut b, Sim::Verilator, &case);
            if div == 5 {
                assert_pass(&mut b, Sim::RustHdl, &case);
            }
        }
    }
}

#[test]
fn rx_random_lines_gaps_glitches_low_stops_breaks_mismatch() {
    for div in [5u32, 104] {
        let mut b = bench("uart-rx", div);
        let (mut bytes, mut errs) = (0, 0);
        for seed in 0..6 {
            let n = if div == 5 { 200 } else { 30 };
            let case = rx_case(
                &format!("random div={div} seed={seed}"),
                t(div),
                &random_rx_line(t(div), n, seed),
            );
            let (nb, ne) = rx_counts(&case);
            bytes += nb;
            errs += ne;
            assert_pass(&mut b, Sim::Verilator, &case);
            if div == 5 || seed == 0 {
                assert_pass(&mut b, Sim::RustHdl, &case);
            }
        }
        assert!(
            bytes > 100 && errs > 0,
            "div {div}: {bytes} bytes, {errs} errors"
        );
    }
}

#[test]
fn rx_min_div4_rusthdl() {
    let mut b = bench("uart-rx", 4);
    for seed in 0..4 {
        let case = rx_case("div4", t(4), &random_rx_line(t(4), 100, seed));
        assert_pass(&mut b, Sim::RustHdl, &case);
    }
}

/// Low pulses of 1..=div/2 cycles are ignored, div/2 + 1 starts a frame; a low stop bit is a
/// framing error; a break is one framing error and nothing more.
#[test]
fn rx_glitches_low_stop_bit_and_break() {
    for div in [5u32, 104] {
        let d = div as usize;
        let mut b = bench("uart-rx", div);
        let mut line = vec![true; 10];
        for len in 1..=d / 2 + 1 {
            line.extend(std::iter::repeat_n(false, len));
            line.extend(std::iter::repeat_n(true, 11 * d));
        }
        // 0x5a with its stop bit low.
        let start = line.len();
        line.extend(frames_line(t(div), &[(0x5a, 0)], 0));
        line[start + 9 * d..].iter_mut().for_each(|l| *l = false);
        line.extend(std::iter::repeat_n(true, 2 * d));
        // A break of three frames, then a good byte.
        line.extend(std::iter::repeat_n(false, 30 * d));
        line.extend(std::iter::repeat_n(true, 2 * d));
        line.extend(frames_line(t(div), &[(0xc3, 0)], 12 * d));
        let case = rx_case(&format!("glitches div={div}"), t(div), &line);
        let ev = rx_events(t(div), &line);
        let kinds: Vec<RxKind> = ev.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                RxKind::Byte(0xff), // the div/2 + 1 pulse: a start bit, then a high line
                RxKind::FrameError,
                RxKind::FrameError,
                RxKind::Byte(0xc3)
            ],
            "div {div}"
        );
        assert_pass(&mut b, Sim::Verilator, &case);
        assert_pass(&mut b, Sim::RustHdl, &case);
    }
}

/// The comparison is not vacuous: a line made for one divisor, checked on a receiver built for
/// another, fails; so does a transmitter built for another divisor.
#[test]
fn a_wrong_divisor_is_caught() {
    let line = random_rx_line(t(6), 20, 9);
    let case = rx_case("div 6 line", t(6), &line);
    let mut b = bench("uart-rx", 7);
    for sim in [Sim::RustHdl, Sim::Verilator] {
        let o = b.check(sim, &case).unwrap();
        assert!(!o.passed() && o.mismatches > 0, "{o}");
    }
    let case = random_tx_case(t(6), 5, 1.0, 1);
    let mut b = bench("uart-tx", 7);
    let o = b.check(Sim::RustHdl, &case).unwrap();
    assert!(!o.passed() && o.mismatches > 0, "{o}");
}

/// ASIC-clean: the Verilog with every `initial` block removed, in Icarus; no output is ever X
/// after reset.
#[test]
fn asic_clean_without_initial_blocks() {
    let mut b = bench("uart-tx", 5);
    assert_pass(&mut b, Sim::NoInit, &random_tx_case(t(5), 40, 0.5, 11));
    let mut b = bench("uart-rx", 5);
    let case = rx_case("noinit", t(5), &random_rx_line(t(5), 60, 12));
    assert_pass(&mut b, Sim::NoInit, &case);
}

/// Gate level: the Yosys iCE40 netlist in Icarus with Yosys's cell models.
#[test]
fn ice40_gate_level() {
    let mut b = bench("uart-tx", 5);
    assert_pass(&mut b, Sim::Gate, &random_tx_case(t(5), 30, 0.5, 21));
    let mut b = bench("uart-rx", 5);
    let case = rx_case("gate", t(5), &random_rx_line(t(5), 40, 22));
    assert_pass(&mut b, Sim::Gate, &case);
}

/// tx -> rx through the generated Verilog of both blocks, wired in a small Verilog top: every
/// byte sent arrives, at the cycles golden gives.
#[test]
fn loopback_through_generated_verilog() {
    for div in [5u32, 104] {
        let sets = [format!("div={div}")];
        let tx = Config::from_sets("uart-tx", &sets)
            .unwrap()
            .emit("itx_")
            .unwrap();
        let rx = Config::from_sets("uart-rx", &sets)
            .unwrap()
            .emit("itx_")
            .unwrap();
        let top = "itx_uart_loop";
        let wrapper = format!(
            "module {top}(clock, reset, in_valid, in_ready, data_in, tx, out_valid, data, frame_err);\n\
             input wire clock;\n input wire reset;\n input wire in_valid;\n output wire in_ready;\n\
             input wire [7:0] data_in;\n output wire tx;\n output wire out_valid;\n\
             output wire [7:0] data;\n output wire frame_err;\n\
             {} utx(.clock(clock), .reset(reset), .in_valid(in_valid), .in_ready(in_ready), .data(data_in), .tx(tx));\n\
             {} urx(.clock(clock), .reset(reset), .rx(tx), .out_valid(out_valid), .data(data), .frame_err(frame_err));\n\
             endmodule\n",
            tx.top, rx.top
        );
        let verilog = format!("{wrapper}{}{}", tx.verilog, rx.verilog);
        let io = PortIo {
            inputs: vec![
                Field::new("in_valid", 1, false),
                Field::new("data_in", 8, false),
            ],
            outputs: vec![
                Field::new("in_ready", 1, false),
                Field::new("tx", 1, false),
                Field::new("out_valid", 1, false),
                Field::new("data", 8, false),
                Field::new("frame_err", 1, false),
            ],
            registers: vec![],
        };
        let sim = VerilatorTrace::build(top, &format!("div{div}"), &verilog, &io, false).unwrap();
        let n = if div == 5 { 256 } else { 40 };
        let txc = random_tx_case(t(div), n, 0.7, 31);
        let line: Vec<bool> = txc.expected.iter().map(|o| o[1] == 1).collect();
        let rxc = rx_case("loop", t(div), &line);
        let case = Case {
            label: format!("loopback div={div}"),
            inputs: txc.inputs.clone(),
            expected: txc
                .expected
                .iter()
                .zip(&rxc.expected)
                .map(|(a, b)| a.iter().chain(b).copied().collect())
                .collect(),
        };
        let o = compare(
            &case,
            &io,
            Sim::Verilator,
            sim.run(&case.inputs, None).unwrap(),
        );
        assert!(o.passed(), "{o}");
        // Every byte the producer offered arrived, in order.
        let sent: Vec<u64> = txc
            .inputs
            .iter()
            .zip(&txc.expected)
            .filter(|(i, e)| i[0] == 1 && e[0] == 1)
            .map(|(i, _)| i[1])
            .collect();
        let received: Vec<u64> = o
            .trace
            .outputs
            .iter()
            .filter(|v| v[2] == 1)
            .map(|v| v[3])
            .collect();
        assert_eq!(received, sent, "div {div}");
        assert_eq!(sent.len(), n, "div {div}: every byte was sent");
    }
}

#[test]
fn lint_clean() {
    for block in ["uart-tx", "uart-rx"] {
        for div in ["4", "104", "65535"] {
            assert_lint_clean(&config(block, &[&format!("div={div}")]));
        }
    }
}

#[test]
fn synth_ice40_and_ecp5() {
    for block in ["uart-tx", "uart-rx"] {
        let c = config(block, &[]);
        let (ice, ecp) = synth_both(&c);
        assert_synth_clean(&c, &ice);
        assert_synth_clean(&c, &ecp);
        eprintln!(
            "{block} ({c}): iCE40 {} LUT {} CARRY {} FF; ECP5 {} LUT {} CCU2C {} FF",
            ice.luts, ice.carries, ice.ffs, ecp.luts, ecp.carries, ecp.ffs
        );
        assert!(ice.ffs >= 20 && ice.ffs <= 60, "{block}: {} FF", ice.ffs);
        assert!(ice.luts > 0 && ice.luts < 150, "{block}: {} LUT", ice.luts);
        assert_eq!(ice.dsps + ice.brams + ecp.dsps + ecp.brams, 0);
    }
}

#[test]
fn parameters_default_and_errors() {
    let c = config("uart-rx", &[]);
    assert_eq!(c.to_string(), "div=auto clk_hz=12000000 baud=115200");
    assert_eq!(c.bit_timing().unwrap().div, 104);
    let c = config("uart-tx", &["clk_hz=25000000"]);
    assert_eq!(c.bit_timing().unwrap().div, 217);
    assert_eq!(
        Config::from_sets("uart-rx", &["div=3".to_string()])
            .unwrap_err()
            .to_string(),
        "block `uart-rx`: parameter `div` = `3` is out of range (allowed: auto, 4..=65535)"
    );
    assert_eq!(
        Config::from_sets("uart-tx", &["baud=1800000".to_string()])
            .unwrap_err()
            .to_string(),
        "block `uart-tx`: uart: parameter `baud` = 1800000 at `clk_hz` = 12000000: div = 7 gives \
         1714286 baud, an error of 4.7620% (allowed: at most 1%)"
    );
    assert!(PortBench::new(&config("requant", &[])).is_err());
}

/// The largest divisor (a full 16-bit counter): two frames each way in Verilator.
#[test]
fn max_div65535_verilator() {
    let div = golden::uart::MAX_DIV;
    let mut b = bench("uart-tx", div);
    let cycles = frames_cycles(t(div), 2, 100);
    let case = tx_case("div max", t(div), &[0xa5, 0x3c], &vec![true; cycles]);
    assert_pass(&mut b, Sim::Verilator, &case);
    let mut b = bench("uart-rx", div);
    let line = frames_line(t(div), &[(0x96, 7), (0x0f, 0)], 12 * div as usize);
    let case = rx_case("div max", t(div), &line);
    assert_eq!(rx_counts(&case), (2, 0));
    assert_pass(&mut b, Sim::Verilator, &case);
}
