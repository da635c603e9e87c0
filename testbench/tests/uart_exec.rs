//! The stdin/stdout UART driver (`testbench::uart_exec`), the seam `itx run --port exec:` talks
//! to, on the bring-up echo top (`hdl::board_echo::BoardEcho`) at a small bit time: bytes written
//! to the program come back byte for byte, end of input ends it with exit 0, the VCD option
//! dumps the lines, `--max-cycles` stops it, and a bit-time mismatch is noticed. Skipped when
//! Verilator is not installed.
use std::io::{Read, Write};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use golden::uart::BitTiming;
use hdl::board_echo::BoardEcho;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::Block;
use testbench::tools;
use testbench::uart_exec::{driver_source, quiet_cycles_for, UartExecParams, UartExecSim};

/// The echo's bit time in the tests (cycles per bit).
const DIV: u64 = 8;

fn have_verilator() -> bool {
    let ok = tools::available("verilator");
    if !ok {
        eprintln!("skipped: verilator is not installed (make setup)");
    }
    ok
}

/// The echo at `div` cycles per bit, active-high reset, as Verilog: (top module, text).
fn echo_verilog(div: u64) -> (String, String) {
    let mut top = BoardEcho::<2>::new(BitTiming::from_div(div).unwrap(), false, false);
    top.connect_all();
    let block = format!("echo_exec_div{div}");
    let v = hdl::emit::generate(&top, &block, "itx_").unwrap();
    (hdl::emit::module_name("itx_", &block), v)
}

/// Driver parameters for the echo: its reset synchronizer and power-on counter need 2 + 15 + 1
/// cycles after reset before a frame; it has no idle timeout, so quiet after a few frames.
fn echo_params(div: u64) -> UartExecParams {
    UartExecParams {
        startup_cycles: 32,
        ..UartExecParams::new(div, 40 * div)
    }
}

/// The echo built for `echo_div`, driven at `line_div`.
fn build(echo_div: u64, line_div: u64, traced: bool) -> UartExecSim {
    let (top, verilog) = echo_verilog(echo_div);
    UartExecSim::build(
        &top,
        &format!("line{line_div}"),
        &verilog,
        &echo_params(line_div),
        traced,
    )
    .unwrap_or_else(|e| panic!("{e:#}"))
}

/// Starts the program with piped stdin/stdout/stderr; stdout is read by a thread into a channel.
fn spawn(sim: &UartExecSim, args: &[&str]) -> (Child, Receiver<Vec<u8>>) {
    let mut child = sim
        .command()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Collects stdout until `n` bytes arrived or `limit` passed.
fn read_n(rx: &Receiver<Vec<u8>>, n: usize, limit: Duration) -> Vec<u8> {
    let end = Instant::now() + limit;
    let mut got = Vec::new();
    while got.len() < n {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(b) => got.extend(b),
            Err(_) => break,
        }
    }
    got
}

/// Waits for the program to exit within `limit` (killed and failed otherwise); returns its
/// status and stderr.
fn wait_exit(child: &mut Child, limit: Duration) -> (ExitStatus, String) {
    let end = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the program did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut err).unwrap();
    }
    (status, err)
}

/// The index of the first difference between what was sent and what came back (a length
/// difference counts), or None.
fn first_difference(sent: &[u8], got: &[u8]) -> Option<usize> {
    let common = sent.iter().zip(got).position(|(a, b)| a != b);
    common.or((sent.len() != got.len()).then_some(sent.len().min(got.len())))
}

#[test]
fn echo_round_trip_in_chunks_then_end_of_input() {
    if !have_verilator() {
        return;
    }
    let sim = build(DIV, DIV, false);
    let started = Instant::now();
    let (mut child, out) = spawn(&sim, &["--max-cycles", "100000000"]);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let sent: Vec<u8> = (0..400).map(|_| rng.gen()).collect();
    let mut stdin = child.stdin.take().unwrap();
    let mut got = Vec::new();
    let mut at = 0;
    while at < sent.len() {
        let n = rng.gen_range(1..=48).min(sent.len() - at);
        stdin.write_all(&sent[at..at + n]).unwrap();
        stdin.flush().unwrap();
        at += n;
        match rng.gen_range(0..4) {
            // Wait for the echo: the simulation goes quiet and blocks on stdin in between.
            0 => got.extend(read_n(&out, at - got.len(), Duration::from_secs(10))),
            1 => std::thread::sleep(Duration::from_millis(rng.gen_range(1..20))),
            _ => {}
        }
    }
    got.extend(read_n(
        &out,
        sent.len() - got.len(),
        Duration::from_secs(20),
    ));
    assert_eq!(first_difference(&sent, &got), None, "echo differs");
    drop(stdin);
    let (status, err) = wait_exit(&mut child, Duration::from_secs(5));
    assert!(status.success(), "{status}: {err}");
    assert!(err.is_empty(), "stderr: {err}");
    // Nothing after the echo.
    got.extend(read_n(&out, usize::MAX, Duration::from_secs(1)));
    assert_eq!(got, sent);
    // The comparison notices a changed byte and a missing one.
    let mut wrong = sent.clone();
    wrong[sent.len() / 2] ^= 0x10;
    assert_eq!(first_difference(&wrong, &got), Some(sent.len() / 2));
    assert_eq!(
        first_difference(&sent[..sent.len() - 1], &got),
        Some(sent.len() - 1)
    );
    eprintln!("400 bytes echoed in {:?}", started.elapsed());
}

#[test]
fn end_of_input_at_once_exits_zero() {
    if !have_verilator() {
        return;
    }
    let sim = build(DIV, DIV, false);
    let (mut child, out) = spawn(&sim, &[]);
    drop(child.stdin.take());
    let (status, err) = wait_exit(&mut child, Duration::from_secs(5));
    assert!(status.success(), "{status}: {err}");
    assert!(read_n(&out, usize::MAX, Duration::from_secs(1)).is_empty());
}

#[test]
fn bad_arguments_and_max_cycles_fail() {
    if !have_verilator() {
        return;
    }
    let sim = build(DIV, DIV, false);
    for args in [
        &["--bogus"][..],
        &["--max-cycles", "x"],
        &["--max-cycles"],
        // A plain build has no VCD.
        &["--vcd", "/dev/null"],
    ] {
        let (mut child, _out) = spawn(&sim, args);
        let (status, err) = wait_exit(&mut child, Duration::from_secs(5));
        assert_eq!(status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.is_empty(), "{args:?}");
    }
    // Input that keeps the line busy longer than the cap.
    let (mut child, _out) = spawn(&sim, &["--max-cycles", "2000"]);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&[0x55; 100]).unwrap();
    let (status, err) = wait_exit(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("--max-cycles 2000 reached"), "{err}");
}

#[test]
fn vcd_dumps_rx_and_tx() {
    if !have_verilator() {
        return;
    }
    let sim = build(DIV, DIV, true);
    let dir = tempfile::tempdir().unwrap();
    let vcd = dir.path().join("echo.vcd");
    let (mut child, out) = spawn(&sim, &["--vcd", vcd.to_str().unwrap()]);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"itx").unwrap();
    drop(stdin);
    let got = read_n(&out, 3, Duration::from_secs(10));
    let (status, err) = wait_exit(&mut child, Duration::from_secs(5));
    assert!(status.success(), "{status}: {err}");
    assert_eq!(got, b"itx");
    let text = std::fs::read_to_string(&vcd).unwrap();
    let var = |name: &str| {
        text.lines().any(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.first() == Some(&"$var") && w.get(4) == Some(&name)
        })
    };
    let head: String = text.chars().take(2000).collect();
    assert!(var("rx") && var("tx") && var("clock"), "{head}");
    // Reset, startup and 3 echoed frames: at least this many cycles of 10 time units.
    let last_time = text
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .filter_map(|t| t.parse::<u64>().ok())
        .max()
        .unwrap();
    assert!(last_time >= 10 * (4 + 32 + 3 * 10 * DIV), "{last_time}");
}

#[test]
fn a_bit_time_mismatch_is_noticed() {
    if !have_verilator() {
        return;
    }
    // The echo runs at 8 cycles per bit, the line at 16: what comes back is not what was sent.
    let sim = build(DIV, 2 * DIV, false);
    let (mut child, out) = spawn(&sim, &[]);
    let sent: Vec<u8> = (0..32).map(|i| 0x35 ^ (i * 7)).collect();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&sent).unwrap();
    drop(stdin);
    let (status, err) = wait_exit(&mut child, Duration::from_secs(10));
    assert!(status.success(), "{status}: {err}");
    let got = read_n(&out, usize::MAX, Duration::from_secs(1));
    assert!(first_difference(&sent, &got).is_some(), "{got:?}");
    for line in err.lines() {
        assert!(line.starts_with("uart exec: framing error on tx"), "{line}");
    }
}

#[test]
fn driver_source_is_deterministic_and_follows_the_parameters() {
    let p = UartExecParams {
        extra_inputs: vec!["btn".into()],
        ..UartExecParams::new(16, quiet_cycles_for(16, 4096))
    };
    let a = driver_source("itx_engine", &p);
    assert_eq!(a, driver_source("itx_engine", &p));
    assert_eq!(p.quiet_cycles, 2 * 4096 * 16 + 20 * 16);
    for want in [
        "#include \"Vitx_engine.h\"",
        "static const uint64_t DIV = 16ULL;",
        "static const uint64_t QUIET = 131392ULL;",
        "static const int RESET_ON = 1, RESET_OFF = 0;",
        "  dut->btn = 0;",
    ] {
        assert!(a.contains(want), "lacks `{want}`");
    }
    let low = UartExecParams {
        reset_active_low: true,
        ..p.clone()
    };
    assert!(driver_source("itx_engine", &low).contains("RESET_ON = 0, RESET_OFF = 1;"));
    assert_ne!(
        a,
        driver_source("itx_engine", &UartExecParams::new(8, p.quiet_cycles))
    );
    // Parameter checks.
    p.check().unwrap();
    for bad in [
        UartExecParams::new(2, 1000),
        UartExecParams::new(16, 159),
        UartExecParams {
            reset_cycles: 0,
            ..p.clone()
        },
        UartExecParams {
            extra_inputs: vec!["rx".into()],
            ..p.clone()
        },
        UartExecParams {
            extra_inputs: vec!["a b".into()],
            ..p.clone()
        },
    ] {
        assert!(bad.check().is_err(), "{bad:?}");
    }
}
