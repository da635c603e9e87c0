//! One harness, several simulators.
//!
//! A [`Stimulus`] is a list of input samples plus two per-cycle bit streams: `offer` (the producer
//! wants to present the next sample this cycle) and `ready` (the consumer takes an output this
//! cycle). Every back end runs the same driver loop on it, cycle by cycle:
//!
//! 1. if no sample is held and `offer[t]` and samples remain, hold the next one;
//! 2. drive `in_valid` = held, the held sample's fields (zeros when none), `out_ready = ready[t]`;
//! 3. let the logic settle with the clock low, read `in_ready`, `out_valid` and the output fields;
//! 4. `in_valid && in_ready`: the sample is accepted (event `a t`); `out_valid && out_ready`: an
//!    output is taken (event `o t fields...`); a stalled output that changes or drops before it is
//!    taken is a protocol violation (event `p t`);
//! 5. rising edge.
//!
//! The first `reset_cycles` cycles hold `reset` high with nothing offered and are not counted in
//! `t`. The loop ends when every output has been taken or the cycle budget is spent. The same
//! stimulus therefore gives the same cycle numbers on every back end, and back ends can be compared
//! cycle for cycle, not only value for value.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use hdl::stream::{settle, StreamDut, StreamIo};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::core::vcd_probe::VCDProbe;
use rust_hdl::prelude::*;

/// Cycles with `reset` high before the stimulus starts.
pub const RESET_CYCLES: usize = 3;

/// Input samples and the per-cycle handshake pattern.
#[derive(Clone, Debug)]
pub struct Stimulus {
    /// Raw field values (bit patterns), one `Vec` per sample, in [`StreamIo::inputs`] order.
    pub inputs: Vec<Vec<u64>>,
    pub offer: Vec<bool>,
    pub ready: Vec<bool>,
    /// Outputs to wait for (one per sample, except for blocks such as the MAC array whose tiles
    /// of `K` input beats give `rows` output beats): the run ends when this many are taken.
    pub outputs: usize,
}

impl Stimulus {
    /// A stimulus with no stalls at all: one sample offered and one output taken every cycle.
    pub fn streaming(inputs: Vec<Vec<u64>>, latency: usize) -> Stimulus {
        let cycles = inputs.len() + latency + 16;
        Stimulus {
            outputs: inputs.len(),
            inputs,
            offer: vec![true; cycles],
            ready: vec![true; cycles],
        }
    }

    /// Random stalls on both sides: the producer offers with probability `p_offer`, the consumer
    /// is ready with probability `p_ready`, from a seeded generator.
    pub fn random_stalls(
        inputs: Vec<Vec<u64>>,
        latency: usize,
        p_offer: f64,
        p_ready: f64,
        seed: u64,
    ) -> Stimulus {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5354_414c_4c53);
        let slowest = p_offer.min(p_ready).max(0.05);
        let cycles = ((inputs.len() + latency) as f64 / slowest * 1.5) as usize + 64;
        let offer = (0..cycles).map(|_| rng.gen_bool(p_offer)).collect();
        let ready = (0..cycles).map(|_| rng.gen_bool(p_ready)).collect();
        Stimulus {
            outputs: inputs.len(),
            inputs,
            offer,
            ready,
        }
    }

    /// The same stimulus, waiting for `n` outputs instead of one per sample.
    pub fn expecting(mut self, n: usize) -> Stimulus {
        self.outputs = n;
        self
    }

    pub fn cycles(&self) -> usize {
        self.offer.len().min(self.ready.len())
    }

    /// The text form the Verilator and Icarus drivers read:
    /// `N CYCLES RESET OUTPUTS`, then N lines of hex fields, then CYCLES lines `offer ready`.
    pub fn to_text(&self) -> String {
        let mut s = String::with_capacity(self.inputs.len() * 24 + self.cycles() * 4 + 32);
        let _ = writeln!(
            s,
            "{} {} {} {}",
            self.inputs.len(),
            self.cycles(),
            RESET_CYCLES,
            self.outputs
        );
        for sample in &self.inputs {
            let fields: Vec<String> = sample.iter().map(|v| format!("{v:x}")).collect();
            let _ = writeln!(s, "{}", fields.join(" "));
        }
        for t in 0..self.cycles() {
            let _ = writeln!(s, "{} {}", self.offer[t] as u8, self.ready[t] as u8);
        }
        s
    }
}

/// What a back end observed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// Cycle of each accepted input, in order.
    pub accepted: Vec<u64>,
    /// Cycle and raw field values of each output taken, in order.
    pub outputs: Vec<(u64, Vec<u64>)>,
    /// Protocol violations and unknown (X) values, one line each.
    pub violations: Vec<String>,
    /// Cycles simulated after reset.
    pub cycles: u64,
}

impl Trace {
    /// Parses the event lines the generated drivers print.
    pub fn parse(text: &str, io: &StreamIo) -> Result<Trace> {
        let mut tr = Trace::default();
        for (i, line) in text.lines().enumerate() {
            let mut it = line.split_whitespace();
            let Some(tag) = it.next() else { continue };
            let mut num = |what: &str| -> Result<u64> {
                let tok = it
                    .next()
                    .with_context(|| format!("driver output line {}: missing {what}", i + 1))?;
                tok.parse()
                    .with_context(|| format!("driver output line {}: bad {what} `{tok}`", i + 1))
            };
            match tag {
                "a" => tr.accepted.push(num("cycle")?),
                "o" => {
                    let t = num("cycle")?;
                    let mut vals = Vec::new();
                    for f in &io.outputs {
                        let tok = it.next().with_context(|| {
                            format!("driver output line {}: missing field {}", i + 1, f.name)
                        })?;
                        if tok.contains(['x', 'X', 'z', 'Z']) {
                            tr.violations
                                .push(format!("cycle {t}: output `{}` is unknown ({tok})", f.name));
                            vals.push(0);
                        } else {
                            vals.push(u64::from_str_radix(tok, 16).with_context(|| {
                                format!("driver output line {}: bad hex `{tok}`", i + 1)
                            })?);
                        }
                    }
                    tr.outputs.push((t, vals));
                }
                "p" | "x" => tr.violations.push(line[2..].trim().to_string()),
                "done" => tr.cycles = num("cycles")?,
                _ => bail!("driver output line {}: unexpected `{line}`", i + 1),
            }
        }
        Ok(tr)
    }
}

/// The driver loop's bookkeeping, shared by the Rust back end (the C++ and Verilog drivers
/// implement the same steps).
struct Driver<'a> {
    stim: &'a Stimulus,
    next: usize,
    held: Option<usize>,
    stalled: Option<Vec<u64>>,
    trace: Trace,
}

impl<'a> Driver<'a> {
    fn new(stim: &'a Stimulus) -> Self {
        Driver {
            stim,
            next: 0,
            held: None,
            stalled: None,
            trace: Trace::default(),
        }
    }

    fn present(&mut self, t: usize) -> Option<usize> {
        if self.held.is_none() && self.next < self.stim.inputs.len() && self.stim.offer[t] {
            self.held = Some(self.next);
            self.next += 1;
        }
        self.held
    }

    fn observe(&mut self, t: usize, in_ready: bool, out_valid: bool, outs: Vec<u64>) {
        if let Some(prev) = self.stalled.take() {
            if !out_valid || outs != prev {
                self.trace.violations.push(format!(
                    "cycle {t}: stalled output changed or was withdrawn before it was taken"
                ));
            }
        }
        if self.held.is_some() && in_ready {
            self.trace.accepted.push(t as u64);
            self.held = None;
        }
        if out_valid {
            if self.stim.ready[t] {
                self.trace.outputs.push((t as u64, outs));
            } else {
                self.stalled = Some(outs);
            }
        }
    }

    fn finished(&self) -> bool {
        self.trace.outputs.len() >= self.stim.outputs
    }
}

/// Runs a stimulus through RustHDL's simulator, optionally writing a VCD.
pub fn run_rusthdl(dut: &mut dyn StreamDut, stim: &Stimulus, vcd: Option<&Path>) -> Result<Trace> {
    let io = dut.io();
    let zeros = vec![0u64; io.inputs.len()];
    let mut probe = match vcd {
        Some(p) => {
            let f = std::fs::File::create(p)
                .with_context(|| format!("cannot create VCD {}", p.display()))?;
            Some(write_vcd_header(std::io::BufWriter::new(f), dut.as_block()))
        }
        None => None,
    };
    let mut time = 0u64;
    let mut step = |dut: &mut dyn StreamDut,
                    probe: &mut Option<VCDProbe<std::io::BufWriter<std::fs::File>>>|
     -> Result<()> {
        if !settle(dut, 100) {
            bail!("RustHDL simulation did not settle (combinational loop?)");
        }
        if let Some(p) = probe.take() {
            let mut p = p;
            p.timestamp(time)?;
            *probe = Some(write_vcd_change(p, dut.as_block()));
        }
        time += 5;
        Ok(())
    };
    for _ in 0..RESET_CYCLES {
        dut.drive(false, true, false, &zeros, false);
        step(dut, &mut probe)?;
        dut.drive(true, true, false, &zeros, false);
        step(dut, &mut probe)?;
    }
    let mut drv = Driver::new(stim);
    let mut t = 0;
    while t < stim.cycles() && !drv.finished() {
        let held = drv.present(t);
        let fields = held.map(|i| &stim.inputs[i][..]).unwrap_or(&zeros);
        dut.drive(false, false, held.is_some(), fields, stim.ready[t]);
        step(dut, &mut probe)?;
        let (in_ready, out_valid, outs) = dut.sample();
        drv.observe(t, in_ready, out_valid, outs);
        dut.drive(true, false, held.is_some(), fields, stim.ready[t]);
        step(dut, &mut probe)?;
        t += 1;
    }
    drv.trace.cycles = t as u64;
    Ok(drv.trace)
}

/// The folder generated files go to: `$ITX_BUILD_DIR`, else `build/` at the workspace root.
pub fn build_dir() -> PathBuf {
    match std::env::var_os("ITX_BUILD_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("build"),
    }
}

/// Seeded uniform `u64` patterns for any field set; used by the per-block generators.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// An exclusive lock on a build folder, across threads and processes (tests and `itx` runs
/// may build the same configuration at once). Held until dropped.
pub struct DirLock {
    _file: std::fs::File,
}

impl DirLock {
    /// Locks `dir` (created if missing) through `dir/.lock`, waiting for other holders.
    pub fn acquire(dir: &Path) -> Result<DirLock> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join(".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open lock {}", path.display()))?;
        file.lock()
            .with_context(|| format!("cannot lock {}", path.display()))?;
        Ok(DirLock { _file: file })
    }
}
