//! The board layer and the bring-up echo top (`hdl::board`, `hdl::board_echo`): the committed pin
//! files against the code, the echo in RustHDL and Verilator with golden::uart on both sides of the
//! line (its transmitter makes `rx`, its receiver decodes `tx`), lint and Yosys for both FPGAs.
//! Place and route and bitstreams are not here (`itx bitstream`, `make boards`).
use golden::uart::{tx_line, BitTiming};
use hdl::board::{pin_file, Board};
use hdl::board_echo::{emit, top_name, BoardEcho};
use hdl::ports::PortDut;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::Block;
use testbench::bitstream::check_pin_file;
use testbench::engine::decode_tx;
use testbench::trace::{run_rusthdl, PortTrace, VerilatorTrace};
use testbench::{lint, yosys};

fn t(div: u64) -> BitTiming {
    BitTiming::from_div(div).unwrap()
}

/// Idle cycles before the first frame: covers the harness reset, the button synchronizer and the
/// power-on counter (2 + 15 + 1 cycles).
const LEAD: usize = 40;

/// `rx`: idle, then golden's transmitter sending `bytes` back to back at `sender`, then idle long
/// enough for the echo of the last byte at `ours` to finish.
fn line(sender: BitTiming, ours: BitTiming, bytes: &[u8]) -> Vec<bool> {
    let frames = 10 * sender.div as usize * bytes.len() + 2;
    let mut l = vec![true; LEAD];
    l.extend(tx_line(sender, bytes, frames));
    l.extend(vec![true; 30 * ours.div as usize]);
    l
}

fn inputs(line: &[bool]) -> Vec<Vec<u64>> {
    line.iter().map(|&b| vec![u64::from(b)]).collect()
}

/// The LEDs after `bytes` were received without error (module doc of `board_echo`).
fn expected_leds(bytes: &[u8], err: bool, leds: usize, active_low: bool) -> u64 {
    let last = u64::from(*bytes.last().unwrap_or(&0));
    let status = ((last & 0x3f) << 2) | ((bytes.len() as u64 & 1) << 1) | u64::from(err);
    let mask = (1u64 << leds) - 1;
    (if active_low { !status } else { status }) & mask
}

fn random_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen()).collect()
}

fn last_led(tr: &PortTrace) -> u64 {
    tr.outputs.last().expect("a trace")[1]
}

/// Runs the echo on a line from golden's transmitter at the echo's own bit time and checks that
/// every byte comes back, in order, and the LEDs.
fn assert_echoes<const L: usize>(
    dut: &mut BoardEcho<L>,
    timing: BitTiming,
    bytes: &[u8],
    low: bool,
) {
    let tr = run_rusthdl(dut, &inputs(&line(timing, timing, bytes))).unwrap();
    let (got, errs) = decode_tx(timing, &tr);
    assert_eq!(errs, 0, "framing errors on tx");
    assert_eq!(got, bytes, "echo at div {}", timing.div);
    assert_eq!(last_led(&tr), expected_leds(bytes, false, L, low));
}

#[test]
fn pin_files_match_the_code_and_the_board_pins() {
    for board in Board::ALL {
        let (_, pins) = emit(board).unwrap();
        check_pin_file(board, &pins).unwrap_or_else(|e| panic!("{e:#}"));
    }
    // The pins as the boards' published constraint files name them.
    let (_, pcf) = emit(Board::IceBreaker).unwrap();
    for want in [
        "set_io clock 35",
        "set_frequency clock 12",
        "set_io reset 10",
        "set_io rx 6",
        "set_io tx 9",
        "set_io led[0] 11",
        "set_io led[1] 37",
    ] {
        assert!(
            pcf.lines().any(|l| l == want),
            "icebreaker.pcf lacks `{want}`"
        );
    }
    let (_, lpf) = emit(Board::Ulx3s).unwrap();
    let mut want = vec![
        "LOCATE COMP \"clock\" SITE \"G2\";".to_string(),
        "FREQUENCY PORT \"clock\" 25 MHz;".to_string(),
        "LOCATE COMP \"reset\" SITE \"R1\";".to_string(),
        "IOBUF PORT \"reset\" PULLMODE=DOWN;".to_string(),
        "LOCATE COMP \"rx\" SITE \"M1\";".to_string(),
        "LOCATE COMP \"tx\" SITE \"L4\";".to_string(),
    ];
    for (i, p) in ["B2", "C2", "C1", "D2", "D1", "E2", "E1", "H3"]
        .iter()
        .enumerate()
    {
        want.push(format!("LOCATE COMP \"led[{i}]\" SITE \"{p}\";"));
        want.push(format!("IOBUF PORT \"led[{i}]\" IO_TYPE=LVCMOS33;"));
    }
    for w in &want {
        assert!(lpf.lines().any(|l| l == w), "ulx3s.lpf lacks `{w}`");
    }
    assert_eq!(lpf.matches("IO_TYPE=LVCMOS33").count(), 12);
    // The generator is deterministic.
    assert_eq!(emit(Board::Ulx3s).unwrap().1, lpf);
    // A wrong LED count is refused, with the reason.
    let e = BoardEcho::<3>::for_board(Board::Ulx3s).err().unwrap();
    assert!(e.contains("has 8 LEDs"), "{e}");
    assert!("de10".parse::<Board>().is_err());
}

#[test]
fn echo_rusthdl_random_bytes_both_polarities_div8() {
    let t8 = t(8);
    // Active-low button and LEDs (iCEBreaker wiring), two LEDs.
    let bytes = random_bytes(1, 40);
    assert_echoes(&mut BoardEcho::<2>::new(t8, true, true), t8, &bytes, true);
    // Active-high button and LEDs (ULX3S wiring), eight LEDs; an odd count flips the activity LED.
    let bytes = random_bytes(2, 33);
    assert_echoes(
        &mut BoardEcho::<8>::new(t8, false, false),
        t8,
        &bytes,
        false,
    );
}

#[test]
fn echo_rusthdl_bursts_with_gaps_div5() {
    let t5 = t(5);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut l = vec![true; LEAD];
    let mut sent = Vec::new();
    for burst in 0..6 {
        let b = random_bytes(10 + burst, rng.gen_range(1..6));
        l.extend(tx_line(t5, &b, 10 * 5 * b.len() + 2));
        l.extend(vec![true; rng.gen_range(1..40)]);
        sent.extend(b);
    }
    l.extend(vec![true; 30 * 5]);
    let mut dut = BoardEcho::<8>::new(t5, false, false);
    let tr = run_rusthdl(&mut dut, &inputs(&l)).unwrap();
    assert_eq!(decode_tx(t5, &tr), (sent.clone(), 0));
    assert_eq!(last_led(&tr), expected_leds(&sent, false, 8, false));
}

#[test]
fn echo_icebreaker_top_at_its_divisor_rusthdl() {
    let mut top = BoardEcho::<2>::for_board(Board::IceBreaker).unwrap();
    let timing = BitTiming::new(12_000_000, 115_200).unwrap();
    assert_eq!(timing.div, 104);
    assert_echoes(&mut top, timing, &[0x55, 0x00, 0xff, b'A'], true);
}

#[test]
fn overrun_and_break_light_the_error_led() {
    // The sender is 2.5% faster than the echo (div 39 against 40): the receiver still samples
    // every frame, the transmitter falls behind, the one-byte register overruns.
    let ours = t(40);
    let bytes = random_bytes(4, 60);
    let mut dut = BoardEcho::<8>::new(ours, false, false);
    let tr = run_rusthdl(&mut dut, &inputs(&line(t(39), ours, &bytes))).unwrap();
    let (got, errs) = decode_tx(ours, &tr);
    assert_eq!(errs, 0);
    assert!(got.len() < bytes.len(), "an overrun drops bytes");
    // What came back is a subsequence of what was sent, in order, ending with the last byte.
    let mut it = bytes.iter();
    assert!(got.iter().all(|g| it.any(|b| b == g)), "{got:?}");
    assert_eq!(got.last(), bytes.last());
    assert_eq!(last_led(&tr) & 1, 1, "error LED after an overrun");

    // A break (the line low for 30 bit times) is a framing error: nothing echoed, error LED.
    let t8 = t(8);
    let mut l = vec![true; LEAD];
    l.extend(vec![false; 30 * 8]);
    l.extend(vec![true; 30 * 8]);
    let mut dut = BoardEcho::<2>::new(t8, true, true);
    let tr = run_rusthdl(&mut dut, &inputs(&l)).unwrap();
    assert_eq!(decode_tx(t8, &tr), (vec![], 0));
    // Active-low: red (led[0]) on = 0, green (led[1]) off = 1.
    assert_eq!(last_led(&tr), 0b10);
}

#[test]
fn echo_verilator_ulx3s_top_all_bytes_back_to_back() {
    let board = Board::Ulx3s;
    let (verilog, _) = emit(board).unwrap();
    let top = top_name(board);
    let io = BoardEcho::<8>::for_board(board).unwrap().ports();
    let sim = VerilatorTrace::build(&top, "echo", &verilog, &io, false).unwrap();
    let timing = BitTiming::new(25_000_000, 115_200).unwrap();
    assert_eq!(timing.div, 217);
    let mut bytes: Vec<u8> = (0..=255).collect();
    bytes.shuffle(&mut ChaCha8Rng::seed_from_u64(5));
    let tr = sim
        .run(&inputs(&line(timing, timing, &bytes)), None)
        .unwrap();
    assert_eq!(decode_tx(timing, &tr), (bytes.clone(), 0));
    assert_eq!(last_led(&tr), expected_leds(&bytes, false, 8, false));
    // The same trace in RustHDL's simulator: every output in every cycle agrees.
    let short = line(timing, timing, &bytes[..3]);
    let v = sim.run(&inputs(&short), None).unwrap();
    let r = run_rusthdl(
        &mut BoardEcho::<8>::for_board(board).unwrap(),
        &inputs(&short),
    )
    .unwrap();
    assert_eq!(v.outputs, r.outputs);
}

#[test]
fn lint_clean_both_boards() {
    for board in Board::ALL {
        let (verilog, _) = emit(board).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join(format!("{}.v", top_name(board)));
        std::fs::write(&f, verilog).unwrap();
        let rep = lint::lint(&[f], &top_name(board), &lint::waiver_file())
            .unwrap_or_else(|e| panic!("{}: {e:#}", board.name()));
        assert!(rep.warnings.is_empty(), "{:?}", rep.warnings);
    }
}

#[test]
fn synth_ice40_and_ecp5() {
    // Flip-flops: uart-tx 30 + uart-rx 43 (hdl/src/uart.rs) + synchronizer 2, power-on counter 4,
    // reset 1, holding register 1 + 8, error 1, activity 1.
    let want_ffs = 30 + 43 + 2 + 4 + 1 + 9 + 2;
    for (board, target) in [
        (Board::IceBreaker, yosys::Target::Ice40),
        (Board::Ulx3s, yosys::Target::Ecp5),
    ] {
        let (verilog, _) = emit(board).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join(format!("{}.v", top_name(board)));
        std::fs::write(&f, verilog).unwrap();
        let rep = yosys::synth(&[f], &top_name(board), target, &dir.path().join("synth"))
            .unwrap_or_else(|e| panic!("{}: {e:#}", board.name()));
        assert_eq!(rep.ffs, want_ffs, "{}: {:?}", board.name(), rep.cells);
        assert_eq!((rep.dsps, rep.brams), (0, 0));
        assert!(
            rep.luts > 0 && rep.luts < 300,
            "{}: {} LUTs",
            board.name(),
            rep.luts
        );
    }
}

/// The pin file is what `pin_file` makes of the constrained top (no hand edits in between).
#[test]
fn pin_file_is_the_generator_output() {
    let top = BoardEcho::<2>::for_board(Board::IceBreaker).unwrap();
    assert_eq!(
        pin_file(Board::IceBreaker, &top),
        emit(Board::IceBreaker).unwrap().1
    );
}

/// The RTL with every `initial` block removed, in Icarus: registers start at X, as in an ASIC or
/// an FPGA without configuration values. The harness's button press (reset cycles) must bring the
/// whole top out of X (through the synchronizer and the power-on counter), after which the echo
/// works and no output is unknown.
#[test]
fn echo_without_initial_blocks_icarus() {
    let t8 = t(8);
    let mut top = BoardEcho::<8>::new(t8, false, false);
    top.connect_all();
    let verilog = hdl::emit::generate(&top, "echo", "itx_").unwrap();
    let (stripped, removed) = testbench::icarus::strip_initial_blocks(&verilog);
    assert!(
        removed > 0,
        "no `initial` blocks removed: the check would mean nothing"
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("itx_echo.v");
    std::fs::write(&f, stripped).unwrap();
    let bytes = random_bytes(6, 12);
    let tr = testbench::trace::run_icarus(
        "itx_echo",
        &top.ports(),
        testbench::verilog_tb::IcarusDesign::RtlNoInit,
        &f,
        dir.path(),
        &inputs(&line(t8, t8, &bytes)),
    )
    .unwrap();
    // The reset reaches the UART one cycle after the harness's reset cycles: only the first
    // cycles may show X.
    let late: Vec<&String> = tr
        .unknown
        .iter()
        .filter(|u| !(u.starts_with("cycle 0:") || u.starts_with("cycle 1:")))
        .collect();
    assert!(late.is_empty(), "{late:?}");
    assert_eq!(decode_tx(t8, &tr), (bytes.clone(), 0));
    assert_eq!(last_led(&tr), expected_leds(&bytes, false, 8, false));
}
