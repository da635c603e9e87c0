//! `itx run` and `itx engine-model` as users run them: the host driver against the golden engine
//! in-process (`model:`), behind a child process (`exec:`), and behind a real tty (a pseudo
//! terminal), with the error paths: faults on the line, a wrong engine, bad ports.
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use golden::engine::{Engine, EngineConfig};
use golden::protocol::{Cmd, FrameParser, ParseEvent, Response};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

fn itx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_itx"))
        .args(args)
        .output()
        .expect("itx runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

#[test]
fn info_on_the_model_reports_the_golden_default_configuration() {
    let cfg = EngineConfig::default();
    let o = itx(&["run", "--port", "model:", "--json", "info"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["rows"], cfg.rows);
    assert_eq!(v["cols"], cfg.cols);
    assert_eq!(v["k_max"], cfg.k_max);
    assert_eq!(v["row_max"], cfg.row_max);
    assert_eq!(v["idle_bits"], cfg.idle_bits);
    assert_eq!(v["shiftmax_n"], cfg.sm_n);
    assert_eq!(v["protocol"], golden::protocol::PROTOCOL_VERSION);
    let o = itx(&[
        "run",
        "--port",
        "model:rows=2,cols=3,k_max=5,row_max=7",
        "info",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("mac array    2 x 3, k_max 5"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn selftest_on_the_model_passes_matmul_and_every_row_unit() {
    let o = itx(&["run", "--port", "model:", "selftest"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let s = stdout(&o);
    for want in [
        "PASS matmul 4x4 k=256 out_bits=8",
        "PASS matmul 4x4 k=1 out_bits=16",
        "out_bits=32",
        "PASS shiftmax len=256",
        "PASS shiftgelu",
        "PASS layernorm",
        "selftest: all 6 cases equal the golden model",
    ] {
        assert!(s.contains(want), "missing `{want}` in:\n{s}");
    }
    assert!(
        stderr(&o).is_empty(),
        "a clean link reports nothing: {}",
        stderr(&o)
    );
}

#[test]
fn selftest_adapts_to_small_configurations_over_several_rounds() {
    for spec in [
        "model:rows=1,cols=1,k_max=1,row_max=1",
        "model:rows=2,cols=7,k_max=3,row_max=65",
    ] {
        let o = itx(&[
            "run", "--port", spec, "--json", "selftest", "--rounds", "3", "--seed", "5",
        ]);
        assert!(o.status.success(), "{spec}: {}{}", stdout(&o), stderr(&o));
        let v = json(&o);
        assert_eq!(v["failed"], 0);
        assert_eq!(v["cases"].as_array().unwrap().len(), 3 * 6, "{spec}");
    }
}

#[test]
fn a_garbled_request_is_retried_and_reported() {
    // Frame 0 is INFO, frame 1 PING, frame 3 a WRITE of A.
    let o = itx(&["run", "--port", "model:corrupt=1,cut=3", "selftest"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("link: retried PING 32 bytes: engine answered BAD_CRC"),
        "{e}"
    );
    assert!(e.contains("no response before the timeout"), "{e}");
    assert!(e.contains("flags DROPPED"), "{e}");
    let o = itx(&["run", "--port", "model:corrupt=0", "--json", "info"]);
    assert!(o.status.success());
    let v = json(&o);
    assert_eq!(v["link"]["retries"].as_array().unwrap().len(), 1);
}

#[test]
fn retries_are_bounded_and_giving_up_is_an_error() {
    let o = itx(&[
        "run",
        "--port",
        "model:corrupt=0,corrupt=1,corrupt=2",
        "--retries",
        "2",
        "info",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o)
            .contains("INFO: no valid response after 3 attempts (last: engine answered BAD_CRC"),
        "{}",
        stderr(&o)
    );
    let o = itx(&["run", "--port", "model:cut=0", "--retries", "0", "info"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "INFO: no valid response after 1 attempts (last: no response before the timeout)"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_ports_and_options_are_clear_errors() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["run", "--port", "/dev/itx-no-such-port", "info"],
            "cannot open serial port /dev/itx-no-such-port: No such file or directory",
        ),
        (
            &["run", "--port", "/dev/null", "info"],
            "/dev/null is not a serial port",
        ),
        (
            &["run", "--port", "/dev/null", "--baud", "12345", "info"],
            "--baud 12345 is not a standard rate (allowed: 1200,",
        ),
        (
            &["run", "--port", "model:depth=3", "info"],
            "--port model: unknown key `depth` (allowed: rows, cols, k_max, row_max, corrupt, cut)",
        ),
        (
            &["run", "--port", "model:rows=0", "info"],
            "engine configuration: rows = 0 out of range 1..=255",
        ),
        (
            &["run", "--port", "exec:/nonexistent/engine", "info"],
            "cannot start `/nonexistent/engine` for --port exec:",
        ),
    ];
    for (args, want) in cases {
        let o = itx(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}: no partial output");
    }
}

#[test]
fn exec_transport_runs_the_selftest_against_a_child_process_engine() {
    let cmd = format!(
        "exec:{} engine-model --config rows=3,cols=2,k_max=9,row_max=20",
        env!("CARGO_BIN_EXE_itx")
    );
    let o = itx(&["run", "--port", &cmd, "--json", "selftest", "--rounds", "2"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let v = json(&o);
    assert_eq!(
        (v["config"]["rows"].clone(), v["failed"].clone()),
        (3.into(), 0.into())
    );
    // A child that exits without answering is an error, not a hang (dd takes one byte and
    // exits, so the request is written before the pipe closes).
    let o = itx(&[
        "run",
        "--port",
        "exec:dd bs=1 count=1 of=/dev/null status=none",
        "--timeout-ms",
        "5000",
        "info",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("engine process closed its stdout"),
        "{}",
        stderr(&o)
    );
}

/// Writes a shell script for `exec:sh SCRIPT ...` (run through `sh`, not executed itself: a file
/// just written may still be open in a process another test thread is forking, and exec would
/// fail with ETXTBSY).
fn script(dir: &std::path::Path, name: &str, body: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn exec_child_gets_end_of_input_and_time_to_exit_before_it_is_killed() {
    // Like the Verilator wrapper (testbench::uart_exec), this engine finishes its work after end
    // of input (here: a marker file, a moment later). It never answers, so `itx run` ends with
    // the timeout; dropping the transport must close the child's stdin and wait for it.
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");
    let engine = script(
        dir.path(),
        "engine.sh",
        "cat >/dev/null\nsleep 0.3\necho done > \"$1\"\n",
    );
    let port = format!("exec:sh {} {}", engine.display(), marker.display());
    let o = itx(&[
        "run",
        "--port",
        &port,
        "--timeout-ms",
        "200",
        "--retries",
        "0",
        "info",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("INFO: no valid response after 1 attempts"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(&marker).ok().as_deref(),
        Some("done\n"),
        "the engine did not finish after end of input"
    );
}

#[test]
fn exec_child_that_ignores_end_of_input_is_killed_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let engine = script(dir.path(), "engine.sh", "echo $$ > \"$1\"\nexec sleep 20\n");
    let port = format!("exec:sh {} {}", engine.display(), pid_file.display());
    let start = std::time::Instant::now();
    let o = itx(&[
        "run",
        "--port",
        &port,
        "--timeout-ms",
        "200",
        "--retries",
        "0",
        "info",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    assert!(
        !stat.contains("(sleep)"),
        "the engine ({}) outlived itx: {stat}",
        pid.trim()
    );
}

#[test]
fn exec_child_that_closes_its_stdin_is_an_error_not_a_sigpipe() {
    // The child stays alive with its stdin closed: the liveness check passes and the write
    // finds a pipe without reader (SIGPIPE, fatal in itx, unless the write is guarded). The
    // first request may still get into the pipe before the shell closes it; a retry cannot.
    let dir = tempfile::tempdir().unwrap();
    let engine = script(dir.path(), "engine.sh", "exec 0<&-\nexec sleep 20\n");
    let port = format!("exec:sh {}", engine.display());
    let o = itx(&[
        "run",
        "--port",
        &port,
        "--timeout-ms",
        "500",
        "--retries",
        "3",
        "info",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "killed by a signal? {:?} {}",
        o.status,
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("engine process closed its stdin (still running)"),
        "{}",
        stderr(&o)
    );
}

/// Rewrites one response frame (its bytes) before it goes out; gets the response's index.
type Tamper = fn(usize, Vec<u8>) -> Vec<u8>;

/// Re-encodes a response after `edit` (the checksum stays valid).
fn edit(bytes: &[u8], edit: impl Fn(&mut Response)) -> Vec<u8> {
    let mut p = FrameParser::responses(u64::MAX);
    let Some(ParseEvent::Frame(f)) = bytes.iter().filter_map(|&b| p.push(b)).last() else {
        panic!("not a response: {bytes:02x?}");
    };
    let mut r = f.response();
    edit(&mut r);
    r.encode().unwrap()
}

/// Serves the golden engine on the master side of a pseudo terminal until `stop`; `tamper` may
/// rewrite each response before it is sent.
fn serve_pty(
    master: std::os::fd::OwnedFd,
    stop: Arc<AtomicBool>,
    tamper: Tamper,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut engine = Engine::new(EngineConfig::default()).unwrap();
        let mut master = std::fs::File::from(master);
        let mut parser = FrameParser::responses(u64::MAX);
        let mut frame = Vec::new();
        let mut index = 0;
        let mut buf = [0u8; 512];
        while !stop.load(Ordering::Relaxed) {
            let mut fds = [PollFd::new(
                std::os::fd::AsFd::as_fd(&master),
                PollFlags::POLLIN,
            )];
            let ready = poll(&mut fds, PollTimeout::from(20u8)).unwrap_or(0);
            if ready == 0 {
                engine.idle(engine.config().idle_bits);
                continue;
            }
            let n = match master.read(&mut buf) {
                Ok(n) => n,
                Err(_) => continue, // EIO while no slave is open
            };
            engine.feed_all(&buf[..n]);
            let mut out = Vec::new();
            for b in engine.take_output() {
                frame.push(b);
                if let Some(ParseEvent::Frame(_)) = parser.push(b) {
                    out.extend(tamper(index, std::mem::take(&mut frame)));
                    index += 1;
                }
            }
            master.write_all(&out).unwrap();
        }
    })
}

fn with_pty(tamper: Tamper, args: &[&str]) -> Output {
    let pty = nix::pty::openpty(None, None).expect("a pseudo terminal");
    let path = std::fs::read_link(format!("/proc/self/fd/{}", pty.slave.as_raw_fd())).unwrap();
    let path = path.to_str().unwrap().to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let server = serve_pty(pty.master, stop.clone(), tamper);
    let mut all = vec!["run", "--port", path.as_str(), "--baud", "115200"];
    all.extend(args);
    let o = itx(&all);
    stop.store(true, Ordering::Relaxed);
    server.join().unwrap();
    drop(pty.slave);
    o
}

#[test]
fn serial_transport_runs_the_selftest_over_a_tty() {
    let o = with_pty(|_, b| b, &["selftest"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("selftest: all 6 cases equal the golden model"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_wrong_result_fails_the_selftest_with_the_case_inputs_and_both_outputs() {
    // The "engine" returns MM_OUT with one bit flipped in its first element (a 4x4 int32 READ is
    // the only 64-byte READ response of the selftest).
    let o = with_pty(
        |_, b| {
            edit(&b, |r| {
                if r.cmd == Cmd::Read as u8 && r.payload.len() == 64 {
                    r.payload[0] ^= 1;
                }
            })
        },
        &["selftest"],
    );
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("FAIL matmul 4x4 k=256 out_bits=8 rounding=half-even (seed 1): first difference at element 0"), "{s}");
    assert!(s.contains("  inputs   {\"a\":[["), "{s}");
    assert!(
        s.contains("  expected [") && s.contains("  got      ["),
        "{s}"
    );
    assert!(
        s.contains("selftest: 3 of 6 cases differ from the golden model"),
        "{s}"
    );
}

#[test]
fn a_response_with_a_bad_status_byte_is_an_error() {
    let o = with_pty(|_, b| edit(&b, |r| r.status = 0x7E), &["info"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("INFO: engine answered with unknown status byte 0x7e"),
        "{}",
        stderr(&o)
    );
    let o = with_pty(|_, b| edit(&b, |r| r.payload.truncate(3)), &["info"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("INFO: response payload has 3 bytes, expected 19"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_corrupted_or_stray_response_is_retried_and_reported() {
    // The first response's checksum is flipped: the driver sends INFO again.
    let o = with_pty(
        |i, mut b| {
            if i == 0 {
                *b.last_mut().unwrap() ^= 0xFF;
            }
            b
        },
        &["info"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("link: retried INFO: corrupted response (checksum"),
        "{}",
        stderr(&o)
    );
    // The first response answers another sequence number: skipped as stray, then the timeout and
    // a retry.
    let o = with_pty(
        |i, b| {
            if i == 0 {
                edit(&b, |r| r.seq ^= 0x80)
            } else {
                b
            }
        },
        &["--timeout-ms", "300", "info"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("link: 1 stray response(s) skipped"), "{e}");
    assert!(
        e.contains("link: retried INFO: no response before the timeout"),
        "{e}"
    );
    // Garbage before a response is skipped and counted.
    let o = with_pty(|_, b| [vec![0x00, 0xA5, 0x11], b].concat(), &["info"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("link: 3 byte(s) of garbage skipped"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn status_counts_the_garbled_frame_and_its_retry() {
    // Frame 0 (STATUS) arrives with a bad checksum, its retry (frame 1) is good and counts itself.
    let o = itx(&["run", "--port", "model:corrupt=0", "--json", "status"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    let c = &v["counters"];
    assert_eq!(
        (c["frames_ok"].clone(), c["bad_crc"].clone()),
        (1.into(), 1.into()),
        "{v}"
    );
    for k in ["too_long", "dropped", "overruns", "framing", "skipped"] {
        assert_eq!(c[k], 0, "{k}: {v}");
    }
    assert_eq!(v["link"]["retries"].as_array().unwrap().len(), 1);
}
