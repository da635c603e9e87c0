//! Synthesis with Debian's Yosys (0.23) for resource reports and gate-level netlists.
//!
//! One Yosys run per target: read the files, `hierarchy -check -top TOP`, `proc` and a latch
//! check, the target's synthesis script, then `stat -json` of the flattened top and the netlists
//! (`write_verilog -noattr`, `write_json`). The whole Yosys log goes to
//! `<workdir>/yosys-<target>.log`.

use crate::tools;
use anyhow::{anyhow, bail, Context};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::Instant;

/// A synthesis target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Lattice iCE40 UltraPlus (`synth_ice40 -dsp`: SB_MAC16 inference).
    Ice40,
    /// Lattice ECP5 (`synth_ecp5`).
    Ecp5,
    /// Generic gates (`synth -flatten` + `abc -g ...`), the ASIC-ish gate count.
    Gates,
    /// iCE40 with every multiplier in LUTs (`synth_ice40`, no `-dsp`): for area comparisons.
    Ice40Lut,
    /// ECP5 with every multiplier in LUTs (`synth_ecp5 -nodsp`): for area comparisons.
    Ecp5Lut,
}

impl Target {
    pub const ALL: [Target; 5] = [
        Target::Ice40,
        Target::Ecp5,
        Target::Gates,
        Target::Ice40Lut,
        Target::Ecp5Lut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Target::Ice40 => "ice40",
            Target::Ecp5 => "ecp5",
            Target::Gates => "gates",
            Target::Ice40Lut => "ice40-lut",
            Target::Ecp5Lut => "ecp5-lut",
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Target {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Target> {
        match s {
            "ice40" => Ok(Target::Ice40),
            "ecp5" => Ok(Target::Ecp5),
            "gates" => Ok(Target::Gates),
            "ice40-lut" => Ok(Target::Ice40Lut),
            "ecp5-lut" => Ok(Target::Ecp5Lut),
            _ => bail!(
                "unknown synthesis target `{s}` (expected ice40, ecp5, gates, ice40-lut or ecp5-lut)"
            ),
        }
    }
}

/// Resource counts of one synthesis run (for the flattened top).
#[derive(Clone, Debug, serde::Serialize)]
pub struct SynthReport {
    pub target: String,
    pub top: String,
    /// SB_LUT4 (ice40) / LUT4 (ecp5); 0 for gates.
    pub luts: u64,
    /// SB_CARRY (ice40) / CCU2C (ecp5); 0 for gates.
    pub carries: u64,
    /// Flip-flops: SB_DFF* (ice40), TRELLIS_FF (ecp5), $_DFF*/$_SDFF*/$_DFFE*/... (gates).
    pub ffs: u64,
    /// SB_MAC16 (ice40) / MULT18X18D + ALU54B (ecp5).
    pub dsps: u64,
    /// SB_RAM40_4K* + SB_SPRAM256KA (ice40) / DP16KD + PDPW16KD (ecp5).
    pub brams: u64,
    /// Gates target only: $_AND_ $_NAND_ $_OR_ $_NOR_ $_XOR_ $_XNOR_ $_ANDNOT_ $_ORNOT_ $_MUX_ $_NOT_.
    pub gates: u64,
    /// Every cell type of the flattened top with its count.
    pub cells: BTreeMap<String, u64>,
    /// The Yosys log, `<workdir>/yosys-<target>.log`.
    pub log_path: PathBuf,
    /// `write_verilog -noattr` netlist, `<workdir>/<top>_<target>.v` (ice40: simulate it with
    /// `icarus::ice40_gate_files`).
    pub netlist: PathBuf,
    /// `write_json` netlist, `<workdir>/<top>_<target>.json` (input for nextpnr).
    pub json_netlist: PathBuf,
    /// `<workdir>/stat.json` as written by `stat -json` (overwritten by the next run in the same
    /// workdir; the parsed counts are above).
    pub stat_path: PathBuf,
    /// Yosys "Warning:" lines of the run.
    pub warnings: Vec<String>,
    /// Wall time of the Yosys run in seconds.
    pub seconds: f64,
}

/// The Yosys log path of a run for `target` in `workdir`.
pub fn log_path(workdir: &Path, target: Target) -> PathBuf {
    workdir.join(format!("yosys-{}.log", target.as_str()))
}

/// The Verilog netlist path of a run for `top`/`target` in `workdir`.
pub fn netlist_path(workdir: &Path, top: &str, target: Target) -> PathBuf {
    workdir.join(format!("{top}_{}.v", target.as_str()))
}

/// Cell types that are latches, for any target (checked after `proc` and in the final stat).
const LATCH_SELECT: &str = "t:$dlatch t:$adlatch t:$dlatchsr t:$_DLATCH* t:$_DLATCHSR*";

/// The target's synthesis commands (after read + `hierarchy -check` + `proc` + latch check).
pub fn synth_commands(top: &str, target: Target) -> Vec<String> {
    match target {
        Target::Ice40 => vec![format!("synth_ice40 -dsp -top {top}")],
        Target::Ecp5 => vec![format!("synth_ecp5 -top {top}")],
        Target::Ice40Lut => vec![format!("synth_ice40 -top {top}")],
        Target::Ecp5Lut => vec![format!("synth_ecp5 -nodsp -top {top}")],
        Target::Gates => vec![
            format!("hierarchy -top {top}"),
            format!("synth -flatten -top {top}"),
            "abc -g AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX".to_string(),
            "opt_clean".to_string(),
        ],
    }
}

fn yosys_quote(p: &Path) -> anyhow::Result<String> {
    let s = p
        .to_str()
        .ok_or_else(|| anyhow!("non-UTF-8 path {}", p.display()))?;
    if s.contains('"') || s.contains('\n') {
        bail!("path {s:?} cannot be quoted for a Yosys script");
    }
    Ok(format!("\"{s}\""))
}

const STEP_MARK: &str = "ITX-STEP: ";

/// The cell type instantiated `SB_MAC16` cells wear while `synth_ice40 -dsp` runs (see
/// [`instantiates_sb_mac16`]).
const KEPT_SB_MAC16: &str = "$__itx_SB_MAC16_kept";

/// Whether a source instantiates the iCE40 DSP primitive `SB_MAC16` itself (a line that starts
/// with `SB_MAC16`, as `hdl::sb_mac16` emits it).
///
/// Yosys 0.23's `ice40_dsp` (run by `synth_ice40 -dsp`) takes every `SB_MAC16` cell for one of
/// its own inferred 16 x 16 multipliers and rewrites its configuration (`MODE_8x8` 0, `CLK`/`CE`
/// 0, ...), silently breaking an instantiated one. For such designs the Ice40 script copies the
/// `SB_MAC16` declaration to a private black box, retypes the instances to it around
/// `synth_ice40`, and restores them (and deletes the copy) afterwards; other designs get the
/// plain script.
fn instantiates_sb_mac16(files: &[PathBuf]) -> anyhow::Result<bool> {
    instantiates(files, "SB_MAC16")
}

/// Whether a source instantiates the ECP5 DSP primitive `MULT18X18D` itself (a line that starts
/// with `MULT18X18D`, as `hdl::mult18x18d` emits it).
pub fn instantiates_mult18x18d(files: &[PathBuf]) -> anyhow::Result<bool> {
    instantiates(files, "MULT18X18D")
}

/// Whether a line of a source starts with the cell name `cell` (an instance of it).
fn instantiates(files: &[PathBuf], cell: &str) -> anyhow::Result<bool> {
    for f in files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        if text.lines().any(|l| {
            l.trim_start().strip_prefix(cell).is_some_and(|rest| {
                !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            })
        }) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Builds the Yosys script; every step is preceded by a `log ITX-STEP: <step>` marker so a
/// failure can be attributed to its step.
fn script(files: &[PathBuf], top: &str, target: Target) -> anyhow::Result<String> {
    let mut s = String::new();
    let mut step = |name: &str, cmds: &[String]| {
        s.push_str(&format!("log {STEP_MARK}{name}\n"));
        for c in cmds {
            s.push_str(c);
            s.push('\n');
        }
    };
    for f in files {
        step(
            &format!("read_verilog {}", f.display()),
            &[format!("read_verilog -sv {}", yosys_quote(f)?)],
        );
    }
    step(
        "hierarchy -check",
        &[format!("hierarchy -check -top {top}")],
    );
    step("proc", &["proc".to_string()]);
    step(
        "latch check",
        &[
            format!("select -list {LATCH_SELECT}"),
            format!("select -assert-none {LATCH_SELECT}"),
        ],
    );
    let keep_dsp = target == Target::Ice40 && instantiates_sb_mac16(files)?;
    if keep_dsp {
        step(
            "hide instantiated SB_MAC16 from ice40_dsp",
            &[
                format!("copy SB_MAC16 {KEPT_SB_MAC16}"),
                format!("chtype -set {KEPT_SB_MAC16} t:SB_MAC16"),
            ],
        );
    }
    let synth = synth_commands(top, target);
    step(&synth.join("; "), &synth);
    if keep_dsp {
        step(
            "restore instantiated SB_MAC16",
            &[
                format!("chtype -set SB_MAC16 t:{KEPT_SB_MAC16}"),
                format!("delete ={KEPT_SB_MAC16}"),
            ],
        );
    }
    // The flows above flatten; `flatten` here is a no-op for them and guarantees the counts
    // below are for the whole design.
    step(
        "flatten",
        &["flatten".to_string(), format!("hierarchy -top {top}")],
    );
    step(
        "final latch check",
        &[format!("select -assert-none {LATCH_SELECT}")],
    );
    // Outputs by plain relative names: Yosys runs in `workdir`, and `tee -o` would take quotes
    // literally.
    step(
        "stat -json",
        &[format!("tee -q -o stat.json stat -json -top {top}")],
    );
    step(
        "write_verilog",
        &[format!("write_verilog -noattr {top}_{}.v", target.as_str())],
    );
    step(
        "write_json",
        &[format!("write_json {top}_{}.json", target.as_str())],
    );
    step("done", &[]);
    Ok(s)
}

/// The first Yosys error message in `log` (Yosys 0.23 prints `ERROR:` lines twice, the second
/// time without a preceding newline; the duplicate is cut).
fn first_error(log: &str) -> Option<String> {
    let idx = log.find("ERROR:")?;
    let line_start = log[..idx].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = log[line_start..].lines().next().unwrap_or("");
    Some(dedup_repeat(line))
}

/// "AB" where the line is "A" + "A" → "A".
fn dedup_repeat(line: &str) -> String {
    let n = line.len();
    if n.is_multiple_of(2) && line.is_char_boundary(n / 2) && line[..n / 2] == line[n / 2..] {
        return line[..n / 2].to_string();
    }
    // "...ERROR: x" + "...ERROR: x" with a different prefix length: cut at the second ERROR.
    if let Some(first) = line.find("ERROR:") {
        if let Some(second) = line[first + 6..].find("ERROR:") {
            let cut = first + 6 + second;
            let tailmsg = &line[cut..];
            if line[..cut].ends_with(tailmsg) {
                return line[..cut].to_string();
            }
        }
    }
    line.to_string()
}

fn last_step(log: &str) -> Option<String> {
    log.lines().rev().find_map(|l| {
        l.find(STEP_MARK)
            .map(|i| l[i + STEP_MARK.len()..].trim().to_string())
    })
}

/// Parses the output of `stat -json` for the flattened `top`: the `design` section when present
/// (hierarchical totals), else the top module's own section. Returns cell type → count.
pub fn parse_stat(json: &str, top: &str) -> anyhow::Result<BTreeMap<String, u64>> {
    let v: serde_json::Value = serde_json::from_str(json).context("parsing Yosys stat -json")?;
    let section = v
        .get("design")
        .or_else(|| v.get("modules").and_then(|m| m.get(format!("\\{top}"))))
        .or_else(|| v.get("modules").and_then(|m| m.get(top)))
        .ok_or_else(|| anyhow!("stat -json has neither `design` nor module `{top}`"))?;
    let mut cells = BTreeMap::new();
    if let Some(map) = section.get("num_cells_by_type").and_then(|m| m.as_object()) {
        for (k, n) in map {
            let n = n
                .as_u64()
                .ok_or_else(|| anyhow!("stat -json: count of `{k}` is not an integer"))?;
            cells.insert(k.clone(), n);
        }
    }
    Ok(cells)
}

fn sum(cells: &BTreeMap<String, u64>, pred: impl Fn(&str) -> bool) -> u64 {
    cells.iter().filter(|(k, _)| pred(k)).map(|(_, n)| *n).sum()
}

/// Generic gate cells counted as `gates` for [`Target::Gates`].
pub const GATE_CELLS: [&str; 10] = [
    "$_AND_",
    "$_NAND_",
    "$_OR_",
    "$_NOR_",
    "$_XOR_",
    "$_XNOR_",
    "$_ANDNOT_",
    "$_ORNOT_",
    "$_MUX_",
    "$_NOT_",
];

/// Whether a Yosys fine-grained cell type is a flip-flop.
pub fn is_generic_ff(cell: &str) -> bool {
    [
        "$_DFF", "$_SDFF", "$_ALDFF", "$_FF_", "$_DFFSR", "$_DFFE", "$_SDFFE", "$_SDFFCE",
    ]
    .iter()
    .any(|p| cell.starts_with(p))
}

/// Fills the summary counts of a report from its cell map.
fn summarize(target: Target, cells: &BTreeMap<String, u64>) -> [u64; 6] {
    match target {
        Target::Ice40 | Target::Ice40Lut => [
            sum(cells, |c| c == "SB_LUT4"),
            sum(cells, |c| c == "SB_CARRY"),
            sum(cells, |c| c.starts_with("SB_DFF")),
            sum(cells, |c| c == "SB_MAC16"),
            sum(cells, |c| {
                c.starts_with("SB_RAM40_4K") || c == "SB_SPRAM256KA"
            }),
            0,
        ],
        Target::Ecp5 | Target::Ecp5Lut => [
            sum(cells, |c| c == "LUT4"),
            sum(cells, |c| c == "CCU2C"),
            sum(cells, |c| c == "TRELLIS_FF"),
            sum(cells, |c| c == "MULT18X18D" || c == "ALU54B"),
            sum(cells, |c| c == "DP16KD" || c == "PDPW16KD"),
            0,
        ],
        Target::Gates => [
            0,
            0,
            sum(cells, is_generic_ff),
            0,
            0,
            sum(cells, |c| GATE_CELLS.contains(&c)),
        ],
    }
}

/// Synthesize Verilog `files` with Debian's yosys for `target` (see [`synth_commands`]), with
/// `top` as the top module, in `workdir` (created if missing).
///
/// Fails (naming the failing step and the log) on read/elaboration errors
/// (`hierarchy -check -top TOP`), on any inferred latch, and on any other Yosys error.
/// Writes `<workdir>/yosys-<target>.log`, `<workdir>/stat.json`, `<workdir>/<top>_<target>.v`
/// (`write_verilog -noattr`) and `<workdir>/<top>_<target>.json`.
pub fn synth(
    files: &[PathBuf],
    top: &str,
    target: Target,
    workdir: &Path,
) -> anyhow::Result<SynthReport> {
    if files.is_empty() {
        bail!("yosys synth ({target}) of `{top}`: no Verilog files given");
    }
    if top.is_empty()
        || !top
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    {
        bail!("yosys synth ({target}): `{top}` is not a plain Verilog module name");
    }
    if !matches!(target, Target::Ice40 | Target::Ice40Lut) && instantiates_sb_mac16(files)? {
        bail!(
            "yosys synth ({target}) of `{top}`: the design instantiates the iCE40 UltraPlus DSP \
             SB_MAC16 (mac-array pe=sb_mac16_dual), which exists only on iCE40; use --target ice40"
        );
    }
    if !matches!(target, Target::Ecp5 | Target::Ecp5Lut) && instantiates_mult18x18d(files)? {
        bail!(
            "yosys synth ({target}) of `{top}`: the design instantiates the ECP5 DSP MULT18X18D \
             (mac-array pe=mult18x18d), which exists only on ECP5; use --target ecp5"
        );
    }
    for f in files {
        if !f.is_file() {
            bail!(
                "yosys synth ({target}) of `{top}`: no such file {}",
                f.display()
            );
        }
    }
    let yosys = tools::require("yosys")?;
    std::fs::create_dir_all(workdir)
        .with_context(|| format!("creating yosys workdir {}", workdir.display()))?;
    let workdir = std::fs::canonicalize(workdir)?;
    let files: Vec<PathBuf> = files
        .iter()
        .map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| f.clone()))
        .collect();
    let log = log_path(&workdir, target);
    let stat_path = workdir.join("stat.json");
    let _ = std::fs::remove_file(&stat_path);
    let script_path = workdir.join(format!("synth-{}.ys", target.as_str()));
    std::fs::write(&script_path, script(&files, top, target)?)
        .with_context(|| format!("writing {}", script_path.display()))?;

    let mut cmd = Command::new(yosys);
    cmd.arg("-q")
        .arg("-l")
        .arg(&log)
        .arg("-s")
        .arg(&script_path)
        .current_dir(&workdir);
    let t0 = Instant::now();
    let out = tools::output(&mut cmd, &format!("yosys synth ({target}) of `{top}`"))?;
    let seconds = t0.elapsed().as_secs_f64();
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();

    if !out.status.success() {
        let step = last_step(&log_text).unwrap_or_else(|| "startup".to_string());
        let err = first_error(&log_text)
            .unwrap_or_else(|| tools::tail(&String::from_utf8_lossy(&out.stderr), 10));
        if step.contains("latch check") {
            let inferred: Vec<&str> = log_text
                .lines()
                .filter(|l| l.starts_with("Latch inferred"))
                .collect();
            let detail = if inferred.is_empty() {
                err
            } else {
                inferred.join("\n  ")
            };
            bail!(
                "yosys synth ({target}) of `{top}`: latch inferred (step `{step}`); every \
                 combinational signal must be assigned on all paths:\n  {detail}\n  see log: {}",
                log.display()
            );
        }
        bail!(
            "yosys synth ({target}) of `{top}` failed at step `{step}`: {err}\n  see log: {}\n  \
             script: {}",
            log.display(),
            script_path.display()
        );
    }

    let stat = std::fs::read_to_string(&stat_path).with_context(|| {
        format!(
            "yosys synth ({target}) of `{top}`: no {} (see log: {})",
            stat_path.display(),
            log.display()
        )
    })?;
    let cells = parse_stat(&stat, top).with_context(|| {
        format!(
            "yosys synth ({target}) of `{top}`: see log {}",
            log.display()
        )
    })?;
    let [luts, carries, ffs, dsps, brams, gates] = summarize(target, &cells);
    let warnings = log_text
        .lines()
        .filter(|l| l.starts_with("Warning:"))
        .map(str::to_string)
        .collect();
    Ok(SynthReport {
        target: target.as_str().to_string(),
        top: top.to_string(),
        luts,
        carries,
        ffs,
        dsps,
        brams,
        gates,
        cells,
        log_path: log,
        netlist: netlist_path(&workdir, top, target),
        json_netlist: workdir.join(format!("{top}_{}.json", target.as_str())),
        stat_path,
        warnings,
        seconds,
    })
}

/// Yosys's design checks without synthesis (seconds where synthesis of a large design takes
/// minutes): elaboration with `hierarchy -check`, no latches after `proc`, and `check -assert`
/// (no multiple drivers, no undriven wires used, no combinational loops) on the flattened design.
/// Writes the log to `log`.
pub fn design_checks(files: &[PathBuf], top: &str, log: &Path) -> anyhow::Result<()> {
    let reads: Vec<String> = files
        .iter()
        .map(|f| format!("read_verilog -sv {};", f.display()))
        .collect();
    let mut cmd = std::process::Command::new(tools::require("yosys")?);
    cmd.arg("-q").arg("-l").arg(log).arg("-p").arg(format!(
        "{} hierarchy -check -top {top}; proc; \
         select -assert-none t:$dlatch t:$adlatch t:$dlatchsr; flatten; opt_clean; check -assert",
        reads.join(" ")
    ));
    tools::run(&mut cmd, "yosys design checks")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_round_trip() {
        for t in Target::ALL {
            assert_eq!(t.as_str().parse::<Target>().unwrap(), t);
        }
        assert!("xilinx".parse::<Target>().is_err());
    }

    #[test]
    fn error_line_dedup() {
        let log = "1. Executing\nsyn.v:2: ERROR: syntax error, x ';'syn.v:2: ERROR: syntax error, x ';'\n";
        assert_eq!(
            first_error(log).unwrap(),
            "syn.v:2: ERROR: syntax error, x ';'"
        );
        let log = "ERROR: Module `foo' not found!\n";
        assert_eq!(first_error(log).unwrap(), "ERROR: Module `foo' not found!");
    }

    #[test]
    fn sb_mac16_instances_are_detected() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let inst = write(
            "a.v",
            "module a;\n  SB_MAC16 #(.MODE_8x8(1'b1)) dsp (.CLK(c));\nendmodule\n",
        );
        let other = write(
            "b.v",
            "module b;\n  SB_MAC16X u();\n// SB_MAC16 in a comment\nendmodule\n",
        );
        assert!(instantiates_sb_mac16(&[other.clone(), inst]).unwrap());
        assert!(!instantiates_sb_mac16(&[other]).unwrap());
    }

    #[test]
    fn mult18x18d_instances_are_detected_and_refused_off_ecp5() {
        let dir = tempfile::tempdir().unwrap();
        let inst = dir.path().join("m.v");
        std::fs::write(
            &inst,
            "module m;\n  MULT18X18D #(.REG_OUTPUT_CLK(\"CLK0\")) dsp (.CLK0(c));\nendmodule\n",
        )
        .unwrap();
        let other = dir.path().join("n.v");
        std::fs::write(&other, "module n;\n// MULT18X18D in a comment\nendmodule\n").unwrap();
        assert!(instantiates_mult18x18d(&[other.clone(), inst.clone()]).unwrap());
        assert!(!instantiates_mult18x18d(&[other]).unwrap());
        for t in [Target::Ice40, Target::Ice40Lut, Target::Gates] {
            let e = synth(std::slice::from_ref(&inst), "m", t, dir.path()).unwrap_err();
            assert!(
                format!("{e:#}").contains("exists only on ECP5"),
                "{t}: {e:#}"
            );
        }
    }

    #[test]
    fn stat_parse_and_summary() {
        let json = r#"{"modules": {"\\top": {"num_cells_by_type": {"SB_LUT4": 3}}},
            "design": {"num_cells_by_type": {"SB_LUT4": 5, "SB_DFFESR": 2, "SB_DFF": 1,
            "SB_MAC16": 1, "SB_RAM40_4K": 2, "SB_SPRAM256KA": 1, "SB_CARRY": 4}}}"#;
        let cells = parse_stat(json, "top").unwrap();
        assert_eq!(summarize(Target::Ice40, &cells), [5, 4, 3, 1, 3, 0]);
        let gates: BTreeMap<String, u64> = [("$_AND_", 2), ("$_NOT_", 1), ("$_SDFFE_PP0P_", 4)]
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        assert_eq!(summarize(Target::Gates, &gates), [0, 0, 4, 0, 0, 3]);
    }
}
