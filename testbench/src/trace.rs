//! The port-level trace harness: one input vector per cycle in, one output vector per cycle out,
//! for blocks without the stream sample model ([`hdl::ports::PortDut`]: the UART, later the
//! engine's top level).
//!
//! Every back end runs the same loop. `RESET_CYCLES` cycles with `reset` high and every input 0
//! (not counted); then for each cycle `t`: drive the cycle's inputs with the clock low, settle,
//! read every output (event `c t outputs...`), rising edge. The drivers print `done CYCLES` at
//! the end. Nothing reacts to the outputs: a test that needs a reactive producer computes its
//! inputs from the golden model and the comparison of every output in every cycle catches the
//! hardware going its own way.
//!
//! Back ends: the RustHDL simulator ([`run_rusthdl`]), a generated Verilator C++ driver
//! ([`VerilatorTrace`], cached under `build/verilator/<top>-<slug>-ports/`) and a generated
//! Icarus test bench ([`run_icarus`]; for the RTL without `initial` blocks or an iCE40 netlist).
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use hdl::ports::{settle_ports, PortDut, PortIo};

use crate::harness::{build_dir, RESET_CYCLES};
use crate::icarus::{self, IcarusRun};
use crate::tools;
use crate::verilator::build_cached;
use crate::verilog_tb::IcarusDesign;

/// The text form the generated drivers read: `CYCLES RESETS INPUTS`, then one line of hex input
/// values per cycle.
pub fn to_text(inputs: &[Vec<u64>], n_in: usize) -> String {
    let mut s = String::with_capacity(inputs.len() * (3 * n_in + 1) + 32);
    let _ = writeln!(s, "{} {} {}", inputs.len(), RESET_CYCLES, n_in);
    for v in inputs {
        assert_eq!(v.len(), n_in, "one value per input port");
        let f: Vec<String> = v.iter().map(|x| format!("{x:x}")).collect();
        let _ = writeln!(s, "{}", f.join(" "));
    }
    s
}

/// What a back end observed: every output in every cycle.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortTrace {
    /// Raw output values per cycle, in [`PortIo::outputs`] order (unknown bits read as 0).
    pub outputs: Vec<Vec<u64>>,
    /// Outputs that were unknown (X or Z, Icarus only), one line each.
    pub unknown: Vec<String>,
}

impl PortTrace {
    /// Parses the lines the generated drivers print.
    pub fn parse(text: &str, io: &PortIo) -> Result<PortTrace> {
        let mut tr = PortTrace::default();
        let mut done = None;
        for (i, line) in text.lines().enumerate() {
            let mut it = line.split_whitespace();
            match it.next() {
                None => continue,
                Some("c") => {
                    let t: usize = it
                        .next()
                        .and_then(|x| x.parse().ok())
                        .with_context(|| format!("driver output line {}: bad cycle", i + 1))?;
                    if t != tr.outputs.len() {
                        bail!("driver output line {}: cycle {t} out of order", i + 1);
                    }
                    let mut vals = Vec::with_capacity(io.outputs.len());
                    for f in &io.outputs {
                        let tok = it.next().with_context(|| {
                            format!("driver output line {}: missing `{}`", i + 1, f.name)
                        })?;
                        if tok.contains(['x', 'X', 'z', 'Z']) {
                            tr.unknown
                                .push(format!("cycle {t}: output `{}` is unknown ({tok})", f.name));
                            vals.push(0);
                        } else {
                            vals.push(u64::from_str_radix(tok, 16).with_context(|| {
                                format!("driver output line {}: bad hex `{tok}`", i + 1)
                            })?);
                        }
                    }
                    tr.outputs.push(vals);
                }
                Some("done") => done = it.next().and_then(|x| x.parse::<usize>().ok()),
                Some(_) => bail!("driver output line {}: unexpected `{line}`", i + 1),
            }
        }
        match done {
            Some(n) if n == tr.outputs.len() => Ok(tr),
            Some(n) => bail!("driver says {n} cycles but printed {}", tr.outputs.len()),
            None => bail!("driver output has no `done` line"),
        }
    }
}

/// Runs `inputs` (one vector per cycle) through RustHDL's simulator.
pub fn run_rusthdl(dut: &mut dyn PortDut, inputs: &[Vec<u64>]) -> Result<PortTrace> {
    let io = dut.ports();
    let zeros = vec![0u64; io.inputs.len()];
    let step = |dut: &mut dyn PortDut| -> Result<()> {
        if !settle_ports(dut, 100) {
            bail!("RustHDL simulation did not settle (combinational loop?)");
        }
        Ok(())
    };
    for _ in 0..RESET_CYCLES {
        dut.drive_ports(false, true, &zeros);
        step(dut)?;
        dut.drive_ports(true, true, &zeros);
        step(dut)?;
    }
    let mut tr = PortTrace::default();
    for v in inputs {
        dut.drive_ports(false, false, v);
        step(dut)?;
        tr.outputs.push(dut.sample_ports());
        dut.drive_ports(true, false, v);
        step(dut)?;
    }
    Ok(tr)
}

fn cxx_type(width: usize) -> &'static str {
    match width {
        1..=8 => "CData",
        9..=16 => "SData",
        17..=32 => "IData",
        _ => "QData",
    }
}

/// The Verilator C++ trace driver for `top` with the given ports.
pub fn driver_source(top: &str, io: &PortIo) -> String {
    let cls = format!("V{top}");
    let n_in = io.inputs.len();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Generated by ITX (testbench::trace): port-level trace driver for {top}.\n\
         // Usage: sim TRACE_FILE [VCD_FILE]; one line per cycle on stdout.\n\
         #include <cstdint>\n#include <cstdio>\n#include <memory>\n#include <vector>\n\
         #include \"verilated.h\"\n#if VM_TRACE\n#include \"verilated_vcd_c.h\"\n#endif\n#include \"{cls}.h\"\n"
    );
    let _ = writeln!(s, "static const int N_IN = {n_in};");
    let _ = writeln!(
        s,
        "static void drive({cls}* d, int clk, int rst, const unsigned long long* f) {{"
    );
    let _ = writeln!(s, "  d->clock = clk; d->reset = rst;");
    for (i, f) in io.inputs.iter().enumerate() {
        let _ = writeln!(s, "  d->{} = ({})f[{i}];", f.name, cxx_type(f.width));
    }
    let _ = writeln!(s, "}}");
    let _ = writeln!(s, "static void print_out({cls}* d, long t) {{");
    let _ = write!(s, "  std::printf(\"c %ld");
    for _ in &io.outputs {
        let _ = write!(s, " %llx");
    }
    let _ = write!(s, "\\n\", t");
    for f in &io.outputs {
        let _ = write!(s, ", (unsigned long long)d->{}", f.name);
    }
    let _ = writeln!(s, ");\n}}");
    let _ = writeln!(
        s,
        r#"
int main(int argc, char** argv) {{
  if (argc < 2) {{ std::fprintf(stderr, "usage: %s TRACE [VCD]\n", argv[0]); return 2; }}
  FILE* in = std::fopen(argv[1], "r");
  if (!in) {{ std::fprintf(stderr, "cannot open %s\n", argv[1]); return 2; }}
  long cycles = 0, resets = 0, n_in = 0;
  if (std::fscanf(in, "%ld %ld %ld", &cycles, &resets, &n_in) != 3 || n_in != N_IN) {{ std::fprintf(stderr, "bad header\n"); return 2; }}
  std::vector<unsigned long long> data((size_t)cycles * (N_IN ? N_IN : 1));
  for (long i = 0; i < cycles * N_IN; i++)
    if (std::fscanf(in, "%llx", &data[(size_t)i]) != 1) {{ std::fprintf(stderr, "bad input of cycle %ld\n", i / N_IN); return 2; }}
  std::fclose(in);
  auto ctx = std::make_unique<VerilatedContext>();
#if VM_TRACE
  ctx->traceEverOn(true);
#endif
  auto dut = std::make_unique<{cls}>(ctx.get());
#if VM_TRACE
  std::unique_ptr<VerilatedVcdC> vcd;
  if (argc > 2) {{ vcd.reset(new VerilatedVcdC); dut->trace(vcd.get(), 99); vcd->open(argv[2]); }}
  uint64_t time = 0;
  auto step = [&]() {{ dut->eval(); if (vcd) vcd->dump(time); time += 5; }};
#else
  if (argc > 2) {{ std::fprintf(stderr, "this simulator was built without --trace: no VCD\n"); return 2; }}
  auto step = [&]() {{ dut->eval(); }};
#endif
  std::vector<unsigned long long> zeros(N_IN ? N_IN : 1, 0ULL);
  for (long i = 0; i < resets; i++) {{
    drive(dut.get(), 0, 1, zeros.data()); step();
    drive(dut.get(), 1, 1, zeros.data()); step();
  }}
  for (long t = 0; t < cycles; t++) {{
    const unsigned long long* f = N_IN ? &data[(size_t)t * N_IN] : zeros.data();
    drive(dut.get(), 0, 0, f); step();
    print_out(dut.get(), t);
    drive(dut.get(), 1, 0, f); step();
  }}
  std::printf("done %ld\n", cycles);
#if VM_TRACE
  if (vcd) vcd->close();
#endif
  dut->final();
  return 0;
}}"#
    );
    s
}

/// A built Verilator trace simulator.
#[derive(Clone, Debug)]
pub struct VerilatorTrace {
    pub exe: PathBuf,
    pub dir: PathBuf,
    pub io: PortIo,
}

impl VerilatorTrace {
    /// Builds (or reuses) the simulator of `verilog` (top module `top`) under
    /// `build/verilator/<top>-<slug>-ports[-trace]/`; reused only when the Verilog and the driver
    /// are byte-identical to what built it ([`crate::verilator::build_cached`]).
    pub fn build(
        top: &str,
        slug: &str,
        verilog: &str,
        io: &PortIo,
        traced: bool,
    ) -> Result<VerilatorTrace> {
        let suffix = if traced { "-trace" } else { "" };
        let dir = build_dir()
            .join("verilator")
            .join(format!("{top}-{slug}-ports{suffix}"));
        let driver = driver_source(top, io);
        let exe = build_cached(&dir, top, verilog, &driver, traced)?;
        Ok(VerilatorTrace {
            exe,
            dir,
            io: io.clone(),
        })
    }

    /// Runs one trace; with `vcd`, writes the waveform there (traced builds only).
    pub fn run(&self, inputs: &[Vec<u64>], vcd: Option<&Path>) -> Result<PortTrace> {
        let file = tempfile::Builder::new()
            .prefix("trace-")
            .suffix(".txt")
            .tempfile_in(&self.dir)?;
        std::fs::write(file.path(), to_text(inputs, self.io.inputs.len()))?;
        let mut cmd = Command::new(&self.exe);
        cmd.arg(file.path());
        if let Some(v) = vcd {
            cmd.arg(v);
        }
        let out = tools::run(&mut cmd, "verilator simulation")?;
        PortTrace::parse(&String::from_utf8_lossy(&out.stdout), &self.io)
    }
}

/// Icarus test bench module name.
pub const TB_TOP: &str = "itx_trace_tb";

/// The Icarus test bench for `top`, sized for `cycles` cycles: the same loop as the C++ driver,
/// printing `%h` (so unknown bits show as `x`).
pub fn testbench_source(top: &str, io: &PortIo, cycles: usize) -> String {
    let n_in = io.inputs.len();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Generated by ITX (testbench::trace): port-level trace driver for {top}.\n\
         `timescale 1ns/1ps\nmodule {TB_TOP};\n  localparam CYCLES = {};\n  localparam N_IN = {};",
        cycles.max(1),
        n_in.max(1)
    );
    let _ = writeln!(s, "  reg clock, reset;");
    for f in &io.inputs {
        let _ = writeln!(s, "  reg [{}:0] {};", f.width - 1, f.name);
    }
    for f in &io.outputs {
        let _ = writeln!(s, "  wire [{}:0] {};", f.width - 1, f.name);
    }
    let _ = writeln!(
        s,
        "  reg [63:0] mem [0:CYCLES*N_IN-1];\n  integer fd, rc, cycles, resets, n_in, i, t;\n  \
         reg [8191:0] stim; // the trace path, up to 1024 characters"
    );
    let mut ports = vec![".clock(clock)".to_string(), ".reset(reset)".to_string()];
    for f in io.inputs.iter().chain(&io.outputs) {
        ports.push(format!(".{0}({0})", f.name));
    }
    let _ = writeln!(s, "  {top} dut({});", ports.join(", "));
    let zero_inputs: String = io
        .inputs
        .iter()
        .map(|f| format!(" {} = 0;", f.name))
        .collect();
    let _ = writeln!(
        s,
        "  initial begin\n    if (!$value$plusargs(\"stim=%s\", stim)) $fatal(1, \"no +stim=FILE\");\n    \
         fd = $fopen(stim, \"r\");\n    if (fd == 0) $fatal(1, \"cannot open trace\");\n    \
         rc = $fscanf(fd, \"%d %d %d\", cycles, resets, n_in);\n    \
         if (n_in != {n_in} || cycles > CYCLES) $fatal(1, \"bad trace header\");\n    \
         for (i = 0; i < cycles * {n_in}; i = i + 1) rc = $fscanf(fd, \"%h\", mem[i]);\n    \
         $fclose(fd);\n    reset = 1; clock = 0;{zero_inputs}\n    \
         for (i = 0; i < resets; i = i + 1) begin clock = 0; #5; clock = 1; #5; end\n    \
         reset = 0;\n    for (t = 0; t < cycles; t = t + 1) begin"
    );
    for (k, f) in io.inputs.iter().enumerate() {
        let _ = writeln!(
            s,
            "      {} = mem[t * {n_in} + {k}][{}:0];",
            f.name,
            f.width - 1
        );
    }
    let fmt: String = io.outputs.iter().map(|_| " %h").collect();
    let outs: Vec<&str> = io.outputs.iter().map(|f| f.name.as_str()).collect();
    let _ = writeln!(
        s,
        "      clock = 0; #5;\n      $display(\"c %0d{fmt}\", t, {});\n      clock = 1; #5;\n    end\n    \
         $display(\"done %0d\", cycles);\n    $finish;\n  end\nendmodule",
        outs.join(", ")
    );
    s
}

/// Runs `inputs` through Icarus on `design_file` (the RTL without `initial` blocks, or an iCE40
/// netlist), in a private folder under `workdir`.
pub fn run_icarus(
    top: &str,
    io: &PortIo,
    design: IcarusDesign,
    design_file: &Path,
    workdir: &Path,
    inputs: &[Vec<u64>],
) -> Result<PortTrace> {
    std::fs::create_dir_all(workdir)
        .with_context(|| format!("cannot create {}", workdir.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix("trace-")
        .tempdir_in(workdir)?;
    let tb = scratch.path().join("itx_trace_tb.v");
    std::fs::write(&tb, testbench_source(top, io, inputs.len()))?;
    let stim = scratch.path().join("trace.txt");
    std::fs::write(&stim, to_text(inputs, io.inputs.len()))?;
    let mut files = vec![tb];
    let mut defines = Vec::new();
    match design {
        IcarusDesign::RtlNoInit => files.push(design_file.to_path_buf()),
        IcarusDesign::Ice40Gate => {
            files.extend(icarus::ice40_gate_files(design_file));
            defines.extend(icarus::ICE40_GATE_DEFINES.iter().map(|d| d.to_string()));
        }
    }
    let out = icarus::run(&IcarusRun {
        files,
        top: TB_TOP.to_string(),
        defines,
        workdir: scratch.path().to_path_buf(),
        plusargs: vec![format!("stim={}", stim.display())],
    })?;
    PortTrace::parse(&out, io)
}
