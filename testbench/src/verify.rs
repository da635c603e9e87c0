//! Verification: run samples through a simulator back end and compare with golden, sample by
//! sample. On a mismatch, re-run a short window around the first failing sample with a VCD and
//! report its path next to the case, the inputs, the expected and the actual outputs.
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use hdl::blocks::{Config, Emitted};

use crate::harness::{build_dir, run_rusthdl, DirLock, Stimulus, Trace};
use crate::verilator::{CxxOpt, VerilatorSim};
use crate::verilog_tb::{self, IcarusDesign};
use crate::{wave, yosys};

/// A simulator back end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sim {
    /// Verilator on the emitted Verilog (the default, and the ground truth).
    Verilator,
    /// RustHDL's own simulator on the Rust block.
    RustHdl,
    /// Icarus on the Yosys iCE40 netlist with `cells_sim.v`.
    Gate,
    /// Icarus on the emitted Verilog with every `initial` block removed (ASIC-clean check).
    NoInit,
}

impl Sim {
    pub fn as_str(self) -> &'static str {
        match self {
            Sim::Verilator => "verilator",
            Sim::RustHdl => "rusthdl",
            Sim::Gate => "gate",
            Sim::NoInit => "noinit",
        }
    }
}

impl fmt::Display for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Sim {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Sim> {
        match s {
            "verilator" => Ok(Sim::Verilator),
            "rusthdl" => Ok(Sim::RustHdl),
            "gate" => Ok(Sim::Gate),
            "noinit" => Ok(Sim::NoInit),
            _ => bail!("unknown simulator `{s}` (allowed: verilator, rusthdl, gate, noinit)"),
        }
    }
}

/// How the producer and consumer stall.
#[derive(Clone, Copy, Debug)]
pub enum Traffic {
    /// Offer every cycle, take every cycle.
    Streaming,
    /// Random stalls on both sides.
    Stalls {
        p_offer: f64,
        p_ready: f64,
        seed: u64,
    },
}

impl Traffic {
    pub fn stimulus(self, inputs: Vec<Vec<u64>>, latency: usize) -> Stimulus {
        match self {
            Traffic::Streaming => Stimulus::streaming(inputs, latency),
            Traffic::Stalls {
                p_offer,
                p_ready,
                seed,
            } => Stimulus::random_stalls(inputs, latency, p_offer, p_ready, seed),
        }
    }
}

/// One output that differs from golden.
#[derive(Clone, Debug)]
pub struct Mismatch {
    /// The output's position in the output stream.
    pub output: usize,
    /// The sample that completes it (itself for blocks with one output per sample; a tile's
    /// `last` beat for the MAC array); `inputs` are this sample's.
    pub index: usize,
    pub inputs: Vec<(String, i64)>,
    pub expected: Vec<i64>,
    pub got: Option<Vec<i64>>,
    pub cycle: Option<u64>,
}

/// The result of one checked run.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub label: String,
    pub sim: Sim,
    pub samples: usize,
    /// Outputs compared (as many as samples, except for the MAC array).
    pub outputs: usize,
    /// Every mismatching sample (including outputs that never came).
    pub mismatches: Vec<Mismatch>,
    pub violations: Vec<String>,
    /// The VCD of the re-run around the first mismatch (or of the whole run, when requested).
    pub wave: Option<PathBuf>,
    pub trace: Trace,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty() && self.violations.is_empty()
    }
}

impl fmt::Display for Outcome {
    /// A report: one line when it passed; otherwise the first mismatches with inputs, expected,
    /// got, and where the waveform is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.passed() {
            return write!(
                f,
                "{} [{}]: {} samples match golden in {} cycles",
                self.label, self.sim, self.samples, self.trace.cycles
            );
        }
        writeln!(
            f,
            "{} [{}]: {} of {} outputs differ from golden, {} protocol/X violations",
            self.label,
            self.sim,
            self.mismatches.len(),
            self.outputs,
            self.violations.len()
        )?;
        for m in self.mismatches.iter().take(10) {
            let ins: Vec<String> = m.inputs.iter().map(|(n, v)| format!("{n}={v}")).collect();
            let got = match &m.got {
                Some(g) => format!("{g:?} at cycle {}", m.cycle.unwrap_or(0)),
                None => "nothing (output never came)".to_string(),
            };
            let at = if m.output == m.index {
                format!("sample {}", m.index)
            } else {
                format!("output {} (its tile ends at sample {})", m.output, m.index)
            };
            writeln!(
                f,
                "  {at}: {} expected {:?} got {}",
                ins.join(" "),
                m.expected,
                got
            )?;
        }
        for v in self.violations.iter().take(10) {
            writeln!(f, "  violation: {v}")?;
        }
        match &self.wave {
            Some(w) => write!(f, "  waveform: {}", w.display()),
            None => write!(f, "  waveform: (none written)"),
        }
    }
}

/// One configuration, emitted once, with its simulators built on first use.
pub struct Bench {
    pub config: Config,
    pub emitted: Emitted,
    verilator: Option<VerilatorSim>,
    /// Built with `--trace`, for runs that write a VCD.
    verilator_traced: Option<VerilatorSim>,
    /// How the Verilator simulators are compiled.
    cxx: CxxOpt,
    gate_netlist: Option<PathBuf>,
}

impl Bench {
    pub fn new(config: &Config) -> Result<Bench> {
        if config.is_port_level() {
            bail!(
                "block `{}` is port-level (no stream sample model): use testbench::uart::PortBench",
                config.block
            );
        }
        let emitted = config.emit("itx_")?;
        Ok(Bench {
            config: config.clone(),
            emitted,
            verilator: None,
            verilator_traced: None,
            cxx: CxxOpt::Optimized,
            gate_netlist: None,
        })
    }

    /// This bench with its Verilator simulators compiled as `cxx` says ([`CxxOpt::Quick`]: for
    /// short runs of large designs).
    pub fn with_cxx_opt(mut self, cxx: CxxOpt) -> Bench {
        self.cxx = cxx;
        self
    }

    /// The build folder of this configuration: `build/<top>-<slug>/`.
    pub fn workdir(&self) -> PathBuf {
        build_dir().join("work").join(self.config.slug())
    }

    /// Runs a stimulus on a back end; `vcd` only for Verilator and RustHDL.
    pub fn run(&mut self, sim: Sim, stim: &Stimulus, vcd: Option<&Path>) -> Result<Trace> {
        match sim {
            Sim::RustHdl => {
                let mut dut = self.config.build();
                run_rusthdl(dut.as_mut(), stim, vcd)
            }
            Sim::Verilator => {
                let slot = if vcd.is_some() {
                    &mut self.verilator_traced
                } else {
                    &mut self.verilator
                };
                if slot.is_none() {
                    *slot = Some(VerilatorSim::build_with(
                        &self.emitted,
                        vcd.is_some(),
                        self.cxx,
                    )?);
                }
                slot.as_ref().expect("built above").run(stim, vcd)
            }
            Sim::NoInit => {
                let dir = self.workdir().join("noinit");
                let _lock = DirLock::acquire(&dir)?;
                let (file, removed) = verilog_tb::write_without_initial(&self.emitted, &dir)?;
                if removed == 0 {
                    bail!("the emitted Verilog has no `initial` blocks to remove: is the check still meaningful?");
                }
                verilog_tb::run(
                    &self.emitted.top,
                    &self.emitted.io,
                    IcarusDesign::RtlNoInit,
                    &file,
                    &dir,
                    stim,
                )
            }
            Sim::Gate => {
                if self.gate_netlist.is_none() {
                    let dir = self.workdir().join("gate");
                    let _lock = DirLock::acquire(&dir)?;
                    let v = dir.join(format!("{}.v", self.emitted.top));
                    std::fs::write(&v, &self.emitted.verilog)?;
                    let rep = yosys::synth(&[v], &self.emitted.top, yosys::Target::Ice40, &dir)
                        .context("gate-level simulation needs the iCE40 netlist")?;
                    self.gate_netlist = Some(rep.netlist);
                }
                let netlist = self.gate_netlist.clone().expect("built above");
                verilog_tb::run(
                    &self.emitted.top,
                    &self.emitted.io,
                    IcarusDesign::Ice40Gate,
                    &netlist,
                    &self.workdir().join("gate"),
                    stim,
                )
            }
        }
    }

    /// The index of the input field `last` of a row unit.
    fn last_field(&self) -> Option<usize> {
        if !self.config.is_row_unit() && self.config.block != "mac-array" {
            return None;
        }
        self.emitted.io.inputs.iter().position(|f| f.name == "last")
    }

    /// Cycles to allow on top of one per sample (see [`Config::extra_cycles`]).
    pub fn extra_cycles(&self, samples: &[Vec<i64>]) -> usize {
        let rows = match self.last_field() {
            Some(k) => samples.iter().filter(|s| s[k] != 0).count() + 1,
            None => 0,
        };
        self.config.extra_cycles(samples.len(), rows)
    }

    /// Runs `samples` and compares every output with `expected`. With `wave = (dir, stem)`, the
    /// whole run is traced to `dir/stem.vcd` with `dir/stem.gtkw` beside it (Verilator and RustHDL
    /// only); without it, a mismatch re-runs a window of samples around the first failure with a
    /// VCD under `build/wave/`.
    pub fn check(
        &mut self,
        sim: Sim,
        label: &str,
        samples: &[Vec<i64>],
        expected: &[Vec<i64>],
        traffic: Traffic,
        wave: Option<(&Path, &str)>,
    ) -> Result<Outcome> {
        let sources = crate::dut::output_sources(&self.config, samples);
        assert_eq!(
            sources.len(),
            expected.len(),
            "one expected output per golden output"
        );
        let io = self.emitted.io.clone();
        let raw = io.encode_samples(samples);
        let extra = self.extra_cycles(samples);
        let stim = traffic.stimulus(raw, extra).expecting(expected.len());
        let traced = match wave {
            Some((d, stem)) if matches!(sim, Sim::Verilator | Sim::RustHdl) => {
                std::fs::create_dir_all(d)
                    .with_context(|| format!("cannot create {}", d.display()))?;
                Some(d.join(format!("{stem}.vcd")))
            }
            Some(_) => bail!(
                "waveforms are written by the verilator and rusthdl simulators only, not `{sim}`"
            ),
            None => None,
        };
        let trace = self.run(sim, &stim, traced.as_deref())?;
        if let (Some(vcd), Some((d, stem))) = (&traced, wave) {
            wave::write_gtkw(&d.join(format!("{stem}.gtkw")), vcd, &self.emitted, sim)?;
        }
        let mut mismatches = Vec::new();
        for (i, want) in expected.iter().enumerate() {
            let s = &samples[sources[i]];
            let got = trace.outputs.get(i).map(|(t, vals)| {
                let dec: Vec<i64> = io
                    .outputs
                    .iter()
                    .zip(vals)
                    .map(|(f, &v)| f.decode(v))
                    .collect();
                (*t, dec)
            });
            if got.as_ref().map(|(_, g)| g) != Some(want) {
                mismatches.push(Mismatch {
                    output: i,
                    index: sources[i],
                    inputs: io
                        .inputs
                        .iter()
                        .zip(s)
                        .map(|(f, &v)| (f.name.to_string(), v))
                        .collect(),
                    expected: want.clone(),
                    got: got.as_ref().map(|(_, g)| g.clone()),
                    cycle: got.map(|(t, _)| t),
                });
            }
        }
        let mut wave_path = traced;
        if let Some(first) = mismatches.first() {
            if wave_path.is_none() && matches!(sim, Sim::Verilator | Sim::RustHdl) {
                let lo = match self.last_field() {
                    // Row units: from the start of the row holding the first mismatch.
                    Some(k) => (0..first.index)
                        .rev()
                        .find(|&i| samples[i][k] != 0)
                        .map_or(0, |i| i + 1),
                    None => first.index.saturating_sub(8),
                };
                let window: Vec<Vec<u64>> = stim.inputs[lo..=first.index].to_vec();
                let dir = build_dir().join("wave");
                std::fs::create_dir_all(&dir)?;
                let name = format!(
                    "{}-{}-{}-sample{}",
                    self.config.slug(),
                    sanitize(label),
                    sim,
                    first.index
                );
                let vcd = dir.join(format!("{name}.vcd"));
                let extra = self.extra_cycles(&samples[lo..=first.index]);
                let outs = crate::dut::output_sources(&self.config, &samples[lo..=first.index]);
                let rerun = Stimulus::streaming(window, extra).expecting(outs.len());
                self.run(sim, &rerun, Some(&vcd))?;
                wave::write_gtkw(&dir.join(format!("{name}.gtkw")), &vcd, &self.emitted, sim)?;
                wave_path = Some(vcd);
            }
        }
        Ok(Outcome {
            label: label.to_string(),
            sim,
            samples: samples.len(),
            outputs: expected.len(),
            mismatches,
            violations: trace.violations.clone(),
            wave: wave_path,
            trace,
        })
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
