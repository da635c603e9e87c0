//! The hardware engine (`hdl::engine`) against the golden engine, byte for byte on the wire.
//!
//! A [`Step`] list is turned into the engine's `rx` line (golden's UART transmitter, with idle
//! gaps long enough for each response) and into the bytes the golden engine answers
//! ([`golden::engine::Engine`], fed the same bytes, idle periods and rx errors). A back end runs
//! the line through the hardware (RustHDL's simulator, or Verilator through the port-level trace
//! harness, [`crate::trace`]); golden's UART receiver decodes `tx`; the two byte streams must be
//! equal. A mismatch report names the first differing response, both versions of it and the
//! requests.
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use golden::engine::{Engine as Golden, EngineConfig};
use golden::protocol::{FrameParser, ParseEvent, Request, Response};
use golden::uart::{rx_events, tx_line, BitTiming, RxKind};
use hdl::board::Board;
use hdl::engine::{build, EngineParams};

use crate::trace::{run_rusthdl, PortTrace, VerilatorTrace};
use crate::uart_exec::{quiet_cycles_for, UartExecParams, UartExecSim};

/// Cycles of idle line before the first step (covers the harness reset).
const LEAD: usize = 24;

/// Cycles a command may compute before its response starts, on top of the transmission time
/// (the longest is I-LayerNorm with the ivit square root: 571 cycles plus 5 per element).
pub const COMPUTE_CYCLES: usize = 3000;

/// One thing that happens on the engine's receive line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A request frame; the line then stays idle until its response has been sent.
    Frame(Request),
    /// Raw bytes back to back (garbage, a cut frame, a false sync), then a short idle gap of two
    /// bit times (too short for the idle timeout).
    Raw(Vec<u8>),
    /// The line idle for this many bit times.
    Idle(u64),
    /// The line held low for this many bit times (a break: one framing error), then idle for 2.
    Break(u64),
    /// A request frame, then one more byte while its response is being sent (an overrun: the
    /// request must be one that answers at once, such as PING or INFO).
    FrameThenByte(Request, u8),
}

/// A step list ready to run: the `rx` line (one value per cycle) and golden's answer.
#[derive(Clone, Debug)]
pub struct Script {
    pub line: Vec<bool>,
    pub expected: Vec<u8>,
    pub steps: Vec<Step>,
}

fn idle(line: &mut Vec<bool>, cycles: usize) {
    line.extend(std::iter::repeat_n(true, cycles));
}

fn send(line: &mut Vec<bool>, timing: BitTiming, bytes: &[u8]) {
    let div = timing.div as usize;
    let mut l = tx_line(timing, bytes, 10 * div * bytes.len() + 1);
    // tx_line ends idle; drop the extra cycle so frames stay back to back.
    l.truncate(10 * div * bytes.len());
    line.extend(l);
}

/// Builds the line and golden's response bytes for `steps`.
pub fn script(cfg: &EngineConfig, timing: BitTiming, steps: &[Step]) -> Result<Script> {
    let mut g = Golden::new(cfg.clone())?;
    let div = timing.div as usize;
    let mut line = Vec::new();
    idle(&mut line, LEAD);
    let mut expected = Vec::new();
    let gap = |out: usize| (out + 3) * 10 * div + COMPUTE_CYCLES;
    for s in steps {
        match s {
            Step::Frame(r) => {
                let bytes = r.encode()?;
                send(&mut line, timing, &bytes);
                g.feed_all(&bytes);
                let out = g.take_output();
                idle(&mut line, gap(out.len()));
                expected.extend(out);
            }
            Step::Raw(bytes) => {
                send(&mut line, timing, bytes);
                g.feed_all(bytes);
                let out = g.take_output();
                idle(
                    &mut line,
                    2 * div + if out.is_empty() { 0 } else { gap(out.len()) },
                );
                expected.extend(out);
            }
            Step::Idle(bits) => {
                idle(&mut line, *bits as usize * div);
                g.idle(*bits);
                expected.extend(g.take_output());
            }
            Step::Break(bits) => {
                line.extend(std::iter::repeat_n(false, *bits as usize * div));
                idle(&mut line, 2 * div);
                g.rx_framing_error();
                expected.extend(g.take_output());
            }
            Step::FrameThenByte(r, b) => {
                let bytes = r.encode()?;
                send(&mut line, timing, &bytes);
                g.feed_all(&bytes);
                let out = g.take_output();
                anyhow::ensure!(
                    out.len() >= 8,
                    "FrameThenByte needs a request that is answered"
                );
                idle(&mut line, 30 * div);
                send(&mut line, timing, &[*b]);
                g.rx_overrun();
                idle(&mut line, gap(out.len()));
                expected.extend(out);
                expected.extend(g.take_output());
            }
        }
    }
    Ok(Script {
        line,
        expected,
        steps: steps.to_vec(),
    })
}

/// The bytes golden's UART receiver decodes from a trace's `tx` (output 0), and the number of
/// framing errors.
pub fn decode_tx(timing: BitTiming, tr: &PortTrace) -> (Vec<u8>, usize) {
    let tx: Vec<bool> = tr.outputs.iter().map(|o| o[0] != 0).collect();
    let mut bytes = Vec::new();
    let mut errs = 0;
    for e in rx_events(timing, &tx) {
        match e.kind {
            RxKind::Byte(b) => bytes.push(b),
            RxKind::FrameError => errs += 1,
        }
    }
    (bytes, errs)
}

/// Splits a response byte stream into frames (and any bytes that are not one).
fn frames(bytes: &[u8]) -> Vec<String> {
    let mut p = FrameParser::responses(u64::MAX);
    let mut out = Vec::new();
    for &b in bytes {
        match p.push(b) {
            Some(ParseEvent::Frame(f)) => {
                let r: Response = f.response();
                out.push(format!(
                    "cmd {:#04x} seq {} status {} flags {:#04x} payload {:02x?}",
                    r.cmd, r.seq, r.status, r.flags, r.payload
                ));
            }
            Some(ev) => out.push(format!("not a frame: {ev:?}")),
            None => {}
        }
    }
    out
}

/// Compares the hardware's bytes with golden's; the error names the first differing response.
pub fn compare(script: &Script, got: &[u8], framing_errors: usize, back_end: &str) -> Result<()> {
    if got == script.expected && framing_errors == 0 {
        return Ok(());
    }
    let want = frames(&script.expected);
    let have = frames(got);
    let at = want
        .iter()
        .zip(&have)
        .position(|(a, b)| a != b)
        .unwrap_or(want.len().min(have.len()));
    let mut m = format!(
        "{back_end}: the engine's responses differ from golden's at response {at} \
         ({} expected, {} received, {framing_errors} framing errors on tx)\n",
        want.len(),
        have.len()
    );
    let _ = writeln!(m, "  expected: {}", want.get(at).map_or("(none)", |s| s));
    let _ = writeln!(m, "  got:      {}", have.get(at).map_or("(none)", |s| s));
    let _ = writeln!(m, "  steps:");
    for s in &script.steps {
        let _ = writeln!(m, "    {s:?}");
    }
    anyhow::bail!(m)
}

/// Which simulator runs a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    RustHdl,
    Verilator,
    /// Icarus on the Verilog with every `initial` block removed (registers start unknown, as in
    /// an ASIC): the reset alone must bring the engine up; `tx` must never be unknown after the
    /// reset cycles.
    IcarusNoInit,
}

/// Runs a script through the hardware engine built for `cfg` at `timing` and compares with
/// golden. With Verilator, `vcd` writes the waveform there.
pub fn check(
    cfg: &EngineConfig,
    timing: BitTiming,
    steps: &[Step],
    back: Backend,
    vcd: Option<&Path>,
) -> Result<()> {
    let s = script(cfg, timing, steps)?;
    let inputs: Vec<Vec<u64>> = s.line.iter().map(|&b| vec![u64::from(b)]).collect();
    let p = EngineParams::new(cfg.clone(), timing);
    let tr = match back {
        Backend::RustHdl => {
            let mut dut = build(&p)?;
            run_rusthdl(dut.as_mut(), &inputs)?
        }
        Backend::Verilator => {
            let sim = verilator(&p, vcd.is_some())?;
            sim.run(&inputs, vcd)?
        }
        Backend::IcarusNoInit => {
            let v = hdl::engine::emit(&p, "itx_")?;
            let (stripped, removed) = crate::icarus::strip_initial_blocks(&v);
            anyhow::ensure!(
                removed > 0,
                "no `initial` blocks removed: the check would mean nothing"
            );
            let dir = tempfile::tempdir()?;
            let f = dir.path().join("itx_engine.v");
            std::fs::write(&f, stripped)?;
            let dut = build(&p)?;
            let tr = crate::trace::run_icarus(
                "itx_engine",
                &dut.ports(),
                crate::verilog_tb::IcarusDesign::RtlNoInit,
                &f,
                dir.path(),
                &inputs,
            )?;
            anyhow::ensure!(
                tr.unknown.is_empty(),
                "unknown outputs without initial values: {}",
                tr.unknown
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            tr
        }
    };
    let (got, errs) = decode_tx(timing, &tr);
    compare(&s, &got, errs, &format!("{back:?}"))
}

/// A short, stable name for a configuration (the Verilator cache folder's slug).
pub fn slug(p: &EngineParams) -> String {
    let c = &p.cfg;
    format!(
        "r{}c{}k{}l{}u{}d{}",
        c.rows, c.cols, c.k_max, c.row_max, c.units, p.timing.div
    )
}

/// The Verilator trace simulator of the engine (cached by its Verilog).
pub fn verilator(p: &EngineParams, traced: bool) -> Result<VerilatorTrace> {
    let v = hdl::engine::emit(p, "itx_")?;
    let dut = build(p)?;
    VerilatorTrace::build("itx_engine", &slug(p), &v, &dut.ports(), traced)
        .context("building the engine in Verilator")
}

/// The engine as a child process on stdin/stdout (Verilator, [`crate::uart_exec`]): what
/// `itx run --port verilator:...` starts. The quiet rule covers the receive idle timeout and the
/// longest command ([`COMPUTE_CYCLES`]).
pub fn exec_sim(p: &EngineParams, traced: bool) -> Result<UartExecSim> {
    let v = hdl::engine::emit(p, "itx_")?;
    let div = u64::from(p.timing.div);
    let quiet = quiet_cycles_for(div, p.cfg.idle_bits) + COMPUTE_CYCLES as u64;
    let params = UartExecParams::new(div, quiet);
    UartExecSim::build("itx_engine", &slug(p), &v, &params, traced)
        .context("building the engine's exec: simulator in Verilator")
}

/// A board's engine top ([`hdl::board_engine`]) as a child process on stdin/stdout: its
/// configuration, its clock's bit divisor at 115200 baud, its button polarity (held pressed for
/// the reset cycles) and its power-on counter (the line stays idle 40 cycles more). Also returns
/// the engine's parameters.
pub fn board_exec_sim(board: Board, traced: bool) -> Result<(UartExecSim, EngineParams)> {
    let (v, _) = hdl::board_engine::emit(board)?;
    let top = hdl::board_engine::top_name(board);
    let spec = board.spec();
    let timing = BitTiming::new(spec.clock_hz, hdl::board_engine::BAUD)?;
    let (cfg, product) = hdl::board_engine::board_config(board);
    let div = u64::from(timing.div);
    let mut params = UartExecParams::new(
        div,
        quiet_cycles_for(div, cfg.idle_bits) + COMPUTE_CYCLES as u64,
    );
    params.reset_active_low = spec.reset_active_low;
    params.startup_cycles = 40;
    let sim = UartExecSim::build(&top, "board", &v, &params, traced)
        .with_context(|| format!("building the {} engine top in Verilator", board.name()))?;
    Ok((
        sim,
        EngineParams {
            cfg,
            timing,
            product,
        },
    ))
}

/// A GTKWave save file for a VCD of the engine from [`exec_sim`] (Verilator names, under
/// `scope`: `TOP.itx_engine.`, or `TOP.itx_<board>_engine.core.` in a board top): the UART lines
/// and bytes, the command decoder, the sender, the MAC array's handshakes and first result, the
/// row unit's counters.
pub fn gtkw_text(dumpfile: &str, p: &EngineParams, scope: &str) -> String {
    let top = scope;
    let groups: [(&str, &[&str]); 5] = [
        (
            "uart",
            &[
                "clock",
                "reset",
                "rx",
                "tx",
                "busy",
                "urx$out_valid",
                "urx$data[7:0]",
                "urx$frame_err",
                "utx$in_valid",
                "utx$in_ready",
                "utx$data[7:0]",
            ],
        ),
        (
            "decoder",
            &[
                "st$q[4:0]",
                "cmd$q[7:0]",
                "seq$q[7:0]",
                "plen$q[15:0]",
                "pcnt$q[8:0]",
                "crc$rem[7:0]",
                "status$q[7:0]",
                "flags$q[3:0]",
            ],
        ),
        (
            "sender",
            &[
                "rlen$q[8:0]",
                "tidx$q[8:0]",
                "cnt$q[8:0]",
                "txb$q[7:0]",
                "txv$q",
            ],
        ),
        (
            "array",
            &[
                "kk$q[15:0]",
                "kparam$q[15:0]",
                "ii$q[7:0]",
                "arr$in_valid",
                "arr$in_ready",
                "arr$last",
                "arr$out_valid",
                "arr$out_ready",
                "arr$y$0[31:0]",
                "arr$y_last",
                "rq$in_valid",
                "rq$out_valid",
                "rq$y[15:0]",
            ],
        ),
        (
            "row unit",
            &["unit$q[1:0]", "fcount$q[15:0]", "ocount$q[15:0]"],
        ),
    ];
    let mut s = String::new();
    let _ = writeln!(
        s,
        "[*] ITX engine {}x{} k_max {} row_max {} div {}",
        p.cfg.rows, p.cfg.cols, p.cfg.k_max, p.cfg.row_max, p.timing.div
    );
    let _ = writeln!(s, "[dumpfile] \"{dumpfile}\"");
    let _ = writeln!(s, "[size] 1600 900");
    let _ = writeln!(s, "[timestart] 0");
    for (name, sigs) in groups {
        let _ = writeln!(s, "@800200\n-{name}");
        for sig in sigs {
            let fmt = if sig.contains('[') { "@22" } else { "@28" };
            let _ = writeln!(s, "{fmt}\n{top}{sig}");
        }
        let _ = writeln!(s, "@1000200\n-{name}");
    }
    s
}
