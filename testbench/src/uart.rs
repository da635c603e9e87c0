//! The UART against its golden model, cycle for cycle: per-cycle inputs and the expected value of
//! every output in every cycle, both from [`golden::uart`], run through any back end of
//! [`crate::trace`] by a [`PortBench`].
//!
//! `uart-tx`: the producer is simulated with the golden transmitter (it holds the next byte, when
//! its offer pattern says so, until golden's `in_ready` takes it), so the input trace is fixed in
//! advance; the hardware's `in_ready` and `tx` are compared in every cycle.
//! `uart-rx`: any line at all is a test (golden says what the receiver reports for it); the lines
//! are golden transmitter output, resampled for a clock mismatch, with idle gaps, glitches, low
//! stop bits and breaks; `out_valid`, `data` and `frame_err` are compared in every cycle.
use std::fmt;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use golden::uart::{frame_bit, resample, rx_events, rx_outputs, BitTiming, TxModel};
use hdl::blocks::{Config, Emitted};
use hdl::ports::PortIo;
use rand::Rng;

use crate::harness::{build_dir, rng, DirLock};
use crate::trace::{self, PortTrace, VerilatorTrace};
use crate::verify::Sim;
use crate::verilog_tb::{self, IcarusDesign};
use crate::yosys;

/// One run: the inputs of every cycle and the outputs golden expects in every cycle.
#[derive(Clone, Debug)]
pub struct Case {
    pub label: String,
    pub inputs: Vec<Vec<u64>>,
    pub expected: Vec<Vec<u64>>,
}

impl Case {
    /// Cycles in the case.
    pub fn cycles(&self) -> usize {
        self.inputs.len()
    }
}

/// The `uart-tx` case for `bytes`, offered when `offer[t]` (one entry per cycle) is true.
pub fn tx_case(label: &str, timing: BitTiming, bytes: &[u8], offer: &[bool]) -> Case {
    let mut m = TxModel::new(timing);
    let (mut next, mut held) = (0usize, None::<u8>);
    let mut inputs = Vec::with_capacity(offer.len());
    let mut expected = Vec::with_capacity(offer.len());
    for &o in offer {
        if held.is_none() && o && next < bytes.len() {
            held = Some(bytes[next]);
            next += 1;
        }
        let c = m.step(held);
        inputs.push(vec![
            u64::from(held.is_some()),
            u64::from(held.unwrap_or(0)),
        ]);
        expected.push(vec![u64::from(c.in_ready), u64::from(c.tx)]);
        if c.in_ready {
            held = None;
        }
    }
    Case {
        label: label.to_string(),
        inputs,
        expected,
    }
}

/// Enough cycles for `n` back-to-back frames, with `slack` cycles after them.
pub fn frames_cycles(timing: BitTiming, n: usize, slack: usize) -> usize {
    1 + n * 10 * timing.div as usize + slack
}

/// The `uart-rx` case for the line `line` (one level per cycle).
pub fn rx_case(label: &str, timing: BitTiming, line: &[bool]) -> Case {
    let events = rx_events(timing, line);
    let outs = rx_outputs(&events, line.len());
    Case {
        label: label.to_string(),
        inputs: line.iter().map(|&l| vec![u64::from(l)]).collect(),
        expected: outs
            .into_iter()
            .map(|(v, d, e)| vec![u64::from(v), u64::from(d), u64::from(e)])
            .collect(),
    }
}

/// A line of frames: each `(byte, gap)` is `gap` idle cycles then the byte's frame (`div` cycles
/// per bit); `tail` idle cycles at the end.
pub fn frames_line(timing: BitTiming, frames: &[(u8, usize)], tail: usize) -> Vec<bool> {
    let div = timing.div as usize;
    let mut v = Vec::new();
    for &(b, gap) in frames {
        v.extend(std::iter::repeat_n(true, gap));
        for k in 0..10 {
            v.extend(std::iter::repeat_n(frame_bit(b, k), div));
        }
    }
    v.extend(std::iter::repeat_n(true, tail));
    v
}

/// `line` as a receiver whose clock is `ppm` parts per million faster (positive) or slower than
/// the transmitter's sees it.
pub fn with_mismatch(line: &[bool], ppm: i64) -> Vec<bool> {
    let den = (1_000_000 + ppm) as u64;
    let len = (line.len() as u64 * den / 1_000_000) as usize;
    resample(line, 1_000_000, den, len)
}

/// All 256 byte values, back to back: for `uart-tx` offered every cycle, for `uart-rx` as one
/// line of frames with no idle bit between them.
pub fn all_bytes_case(config: &Config) -> Result<Case> {
    let t = config.bit_timing()?;
    let bytes: Vec<u8> = (0..=255).collect();
    let cycles = frames_cycles(t, bytes.len(), 12 * t.div as usize + 8);
    Ok(match config.block {
        "uart-tx" => tx_case("uart-tx all bytes", t, &bytes, &vec![true; cycles]),
        "uart-rx" => {
            let frames: Vec<(u8, usize)> = bytes.iter().map(|&b| (b, 0)).collect();
            rx_case(
                "uart-rx all bytes",
                t,
                &frames_line(t, &frames, 12 * t.div as usize + 8),
            )
        }
        other => bail!("block `{other}` is not a UART"),
    })
}

/// Seeded random `uart-tx` case: `n` random bytes, offered with a random probability per cycle
/// (valid stalls), or every cycle when `p_offer` is 1.
pub fn random_tx_case(timing: BitTiming, n: usize, p_offer: f64, seed: u64) -> Case {
    let mut r = rng(seed ^ 0x7478);
    let bytes: Vec<u8> = (0..n).map(|_| r.gen()).collect();
    let frame = 10 * timing.div as usize;
    let cycles = frames_cycles(timing, n, 3 * frame) + (n as f64 * (1.0 / p_offer) * 4.0) as usize;
    let offer: Vec<bool> = (0..cycles).map(|_| r.gen_bool(p_offer)).collect();
    tx_case(
        &format!("uart-tx random n={n} p_offer={p_offer} seed={seed}"),
        timing,
        &bytes,
        &offer,
    )
}

/// Seeded random `uart-rx` line: `n` frames of random bytes with random idle gaps (none in about
/// half of them: back to back), the whole line at a random clock mismatch within ±2%, with some
/// frames' stop bits forced low, low glitches of up to a bit in the gaps, and now and then a break.
pub fn random_rx_line(timing: BitTiming, n: usize, seed: u64) -> Vec<bool> {
    let mut r = rng(seed ^ 0x7278);
    let div = timing.div as usize;
    let mut line = vec![true; 8];
    for _ in 0..n {
        let gap = if r.gen_bool(0.5) {
            0
        } else {
            r.gen_range(1..3 * div)
        };
        let start = line.len();
        line.extend(frames_line(timing, &[(r.gen(), gap)], 0));
        if r.gen_bool(0.05) {
            // A low stop bit.
            let stop = line.len() - div;
            line[stop..].iter_mut().for_each(|l| *l = false);
        }
        if gap > 2 && r.gen_bool(0.3) {
            // A low glitch inside the gap, up to a bit long.
            let len = r.gen_range(1..=div.min(gap - 1));
            let at = start + r.gen_range(0..gap - len);
            line[at..at + len].iter_mut().for_each(|l| *l = false);
        }
        if r.gen_bool(0.02) {
            // A break: low for one to three frames, then idle.
            let len = r.gen_range(10 * div..30 * div);
            line.extend(std::iter::repeat_n(false, len));
            line.extend(std::iter::repeat_n(true, 2 * div));
        }
    }
    line.extend(std::iter::repeat_n(true, 12 * div + 8));
    let ppm = r.gen_range(-20_000..=20_000);
    with_mismatch(&line, ppm)
}

/// A comparison result.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub label: String,
    pub sim: Sim,
    pub cycles: usize,
    /// Cycles whose outputs differ (at most the first 10 are described).
    pub mismatches: usize,
    pub details: Vec<String>,
    /// Outputs that were X/Z (Icarus).
    pub unknown: Vec<String>,
    pub trace: PortTrace,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.mismatches == 0 && self.unknown.is_empty() && self.trace.outputs.len() == self.cycles
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}]: {} cycles, {} mismatching",
            self.label, self.sim, self.cycles, self.mismatches
        )?;
        for d in &self.details {
            write!(f, "\n  {d}")?;
        }
        for u in self.unknown.iter().take(10) {
            write!(f, "\n  unknown: {u}")?;
        }
        Ok(())
    }
}

/// Compares `got` with `case.expected`, cycle by cycle, naming ports.
pub fn compare(case: &Case, io: &PortIo, sim: Sim, got: PortTrace) -> Outcome {
    let mut details = Vec::new();
    let mut mismatches = 0;
    if got.outputs.len() != case.cycles() {
        details.push(format!(
            "{} cycles simulated, {} expected",
            got.outputs.len(),
            case.cycles()
        ));
    }
    for (t, (want, have)) in case.expected.iter().zip(&got.outputs).enumerate() {
        if want != have {
            mismatches += 1;
            if details.len() < 10 {
                let ins: Vec<String> = io
                    .inputs
                    .iter()
                    .zip(&case.inputs[t])
                    .map(|(f, v)| format!("{}={v:x}", f.name))
                    .collect();
                let diff: Vec<String> = io
                    .outputs
                    .iter()
                    .zip(want.iter().zip(have))
                    .filter(|(_, (w, h))| w != h)
                    .map(|(f, (w, h))| format!("{} expected {w:x} got {h:x}", f.name))
                    .collect();
                details.push(format!(
                    "cycle {t} ({}): {}",
                    ins.join(" "),
                    diff.join(", ")
                ));
            }
        }
    }
    Outcome {
        label: case.label.clone(),
        sim,
        cycles: case.cycles(),
        mismatches,
        details,
        unknown: got.unknown.clone(),
        trace: got,
    }
}

/// One port-level configuration, emitted once, with its simulators built on first use.
pub struct PortBench {
    pub config: Config,
    pub emitted: Emitted,
    pub io: PortIo,
    verilator: Option<VerilatorTrace>,
    gate_netlist: Option<PathBuf>,
}

impl PortBench {
    pub fn new(config: &Config) -> Result<PortBench> {
        if !config.is_port_level() {
            bail!(
                "block `{}` has the stream interface: use testbench::verify::Bench",
                config.block
            );
        }
        let emitted = config.emit("itx_")?;
        let io = emitted
            .ports
            .clone()
            .context("a port-level block emits its ports")?;
        Ok(PortBench {
            config: config.clone(),
            emitted,
            io,
            verilator: None,
            gate_netlist: None,
        })
    }

    fn workdir(&self) -> PathBuf {
        build_dir().join("work").join(self.config.slug())
    }

    /// Runs one input trace on a back end.
    pub fn run(&mut self, sim: Sim, inputs: &[Vec<u64>]) -> Result<PortTrace> {
        let em = &self.emitted;
        match sim {
            Sim::RustHdl => {
                let mut dut = self.config.build_ports();
                trace::run_rusthdl(dut.as_mut(), inputs)
            }
            Sim::Verilator => {
                if self.verilator.is_none() {
                    self.verilator = Some(VerilatorTrace::build(
                        &em.top,
                        &self.config.slug(),
                        &em.verilog,
                        &self.io,
                        false,
                    )?);
                }
                self.verilator
                    .as_ref()
                    .expect("built above")
                    .run(inputs, None)
            }
            Sim::NoInit => {
                let dir = self.workdir().join("noinit");
                let _lock = DirLock::acquire(&dir)?;
                let (file, removed) = verilog_tb::write_without_initial(em, &dir)?;
                if removed == 0 {
                    bail!("the emitted Verilog has no `initial` blocks to remove: is the check still meaningful?");
                }
                trace::run_icarus(
                    &em.top,
                    &self.io,
                    IcarusDesign::RtlNoInit,
                    &file,
                    &dir,
                    inputs,
                )
            }
            Sim::Gate => {
                let dir = self.workdir().join("gate");
                if self.gate_netlist.is_none() {
                    let _lock = DirLock::acquire(&dir)?;
                    let v = dir.join(format!("{}.v", em.top));
                    std::fs::write(&v, &em.verilog)?;
                    let rep = yosys::synth(&[v], &em.top, yosys::Target::Ice40, &dir)
                        .context("gate-level simulation needs the iCE40 netlist")?;
                    self.gate_netlist = Some(rep.netlist);
                }
                let netlist = self.gate_netlist.clone().expect("built above");
                trace::run_icarus(
                    &em.top,
                    &self.io,
                    IcarusDesign::Ice40Gate,
                    &netlist,
                    &dir,
                    inputs,
                )
            }
        }
    }

    /// Runs `case` on `sim` and compares every output in every cycle.
    pub fn check(&mut self, sim: Sim, case: &Case) -> Result<Outcome> {
        let got = self.run(sim, &case.inputs)?;
        Ok(compare(case, &self.io, sim, got))
    }

    /// The block's bit time.
    pub fn timing(&self) -> BitTiming {
        self.config.bit_timing().expect("checked by Config::new")
    }

    /// `n` seeded random frames (`uart-tx`: random bytes with random valid stalls; `uart-rx`:
    /// see [`random_rx_line`]).
    pub fn random_case(&self, n: usize, seed: u64) -> Case {
        let t = self.timing();
        match self.config.block {
            "uart-tx" => random_tx_case(t, n, 0.6, seed),
            _ => rx_case(
                &format!("uart-rx random n={n} seed={seed}"),
                t,
                &random_rx_line(t, n, seed),
            ),
        }
    }
}
