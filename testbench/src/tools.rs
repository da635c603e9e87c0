//! Locating and running the external EDA tools (Yosys, Verilator, Icarus, nextpnr, IceStorm).
//!
//! Every tool is a Debian package; `scripts/setup.sh` (`make setup`) installs the missing ones.
//! [`require`] turns a missing executable into an actionable error, and [`run`] turns a failing
//! command into an error that carries the command line and the tail of its output.

use anyhow::{anyhow, Context};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// How many trailing lines of stderr/stdout a failing command's error carries.
pub const TAIL_LINES: usize = 40;

/// The Debian package that provides `tool`, for the tools the project uses.
pub fn debian_package(tool: &str) -> Option<&'static str> {
    Some(match tool {
        "yosys" | "yosys-abc" => "yosys",
        "verilator" => "verilator",
        "iverilog" | "vvp" => "iverilog",
        "nextpnr-ice40" => "nextpnr-ice40",
        "icepack" | "icetime" | "icebox_vlog" => "fpga-icestorm",
        "gtkwave" => "gtkwave",
        _ => return None,
    })
}

fn not_found_message(tool: &str) -> String {
    match debian_package(tool) {
        Some(pkg) => {
            format!("`{tool}` not found on PATH: run `make setup` (installs Debian package {pkg})")
        }
        None => format!("`{tool}` not found on PATH: run `make setup`"),
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(p) {
        Ok(m) => m.is_file() && m.permissions().mode() & 0o111 != 0,
        Err(_) => false,
    }
}

/// Finds `tool` on `PATH` (a path containing `/` is checked as is).
///
/// Error: "`yosys` not found on PATH: run `make setup` (installs Debian package yosys)".
pub fn require(tool: &str) -> anyhow::Result<PathBuf> {
    if tool.contains('/') {
        let p = PathBuf::from(tool);
        return if is_executable(&p) {
            Ok(p)
        } else {
            Err(anyhow!("`{tool}` is not an executable file"))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|p| is_executable(p))
        .ok_or_else(|| anyhow!(not_found_message(tool)))
}

/// Whether `tool` is on `PATH`.
pub fn available(tool: &str) -> bool {
    require(tool).is_ok()
}

fn quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=+:,@%".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The command line of `cmd`, shell-quoted, with its working directory if one is set.
pub fn command_line(cmd: &Command) -> String {
    let mut s = quote(cmd.get_program());
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&quote(a));
    }
    if let Some(dir) = cmd.get_current_dir() {
        s.push_str(&format!("   (in {})", dir.display()));
    }
    s
}

/// The last `n` lines of `text`, prefixed by a note when lines were cut.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= n {
        lines.join("\n")
    } else {
        format!(
            "[... {} lines cut ...]\n{}",
            lines.len() - n,
            lines[lines.len() - n..].join("\n")
        )
    }
}

/// Runs `cmd` to completion, capturing its output, without judging the exit status.
/// Fails only when the program cannot be started (a missing tool names its Debian package).
pub fn output(cmd: &mut Command, what: &str) -> anyhow::Result<Output> {
    match cmd.output() {
        Ok(o) => Ok(o),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let prog = cmd.get_program().to_string_lossy().into_owned();
            Err(anyhow!(
                "{what}: cannot start `{}`: {}",
                command_line(cmd),
                not_found_message(&prog)
            ))
        }
        Err(e) => Err(e).with_context(|| format!("{what}: cannot start `{}`", command_line(cmd))),
    }
}

/// Formats the failure of a finished command: what, command line, exit status and the last
/// [`TAIL_LINES`] lines of stderr and stdout.
pub fn failure_message(cmd: &Command, what: &str, out: &Output) -> String {
    let status = match out.status.code() {
        Some(c) => format!("exit status {c}"),
        None => format!("{}", out.status),
    };
    let mut msg = format!("{what} failed ({status})\n  command: {}", command_line(cmd));
    for (name, bytes) in [("stderr", &out.stderr), ("stdout", &out.stdout)] {
        let text = String::from_utf8_lossy(bytes);
        if !text.trim().is_empty() {
            msg.push_str(&format!(
                "\n--- {name} (last {TAIL_LINES} lines) ---\n{}",
                tail(&text, TAIL_LINES)
            ));
        }
    }
    msg
}

/// Runs `cmd`; a non-zero exit is an error naming `what`, the command line and the last ~40
/// lines of stderr/stdout.
pub fn run(cmd: &mut Command, what: &str) -> anyhow::Result<Output> {
    let out = output(cmd, what)?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(anyhow!(failure_message(cmd, what, &out)))
    }
}

/// Yosys' data directory (`yosys-config --datdir`; `yosys-config` ships in Debian's `yosys-dev`,
/// so without it: `<prefix>/share/yosys` next to the `yosys` binary, then `/usr/share/yosys`).
pub fn yosys_share_dir() -> PathBuf {
    if let Ok(out) = Command::new("yosys-config").arg("--datdir").output() {
        if out.status.success() {
            let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !s.is_empty() && Path::new(&s).is_dir() {
                return PathBuf::from(s);
            }
        }
    }
    if let Ok(bin) = require("yosys") {
        let bin = std::fs::canonicalize(&bin).unwrap_or(bin);
        if let Some(prefix) = bin.parent().and_then(Path::parent) {
            let d = prefix.join("share").join("yosys");
            if d.join("ice40").is_dir() {
                return d;
            }
        }
    }
    PathBuf::from("/usr/share/yosys")
}

/// The repository root (`CARGO_MANIFEST_DIR/..`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testbench crate lives in the repository root")
        .to_path_buf()
}

/// Whether emitted Verilog instantiates the iCE40 DSP primitive through `hdl::sb_mac16` (it then
/// needs a simulation model of `SB_MAC16`: see [`sb_mac16_model`]).
pub fn needs_sb_mac16_model(verilog: &str) -> bool {
    verilog.contains(hdl::sb_mac16::DECLARED_DEFINE)
}

/// Writes Yosys' own simulation model of `SB_MAC16` (the module of that name in
/// `<yosys datdir>/ice40/cells_sim.v`, the same model `hdl::sb_mac16` is checked against) to
/// `dir/sb_mac16_cells_sim.v` and returns the path. Compile it with the design and define
/// `hdl::sb_mac16::DECLARED_DEFINE`, which removes the design's own black-box declaration.
pub fn sb_mac16_model(dir: &Path) -> anyhow::Result<PathBuf> {
    let cells = yosys_share_dir().join("ice40").join("cells_sim.v");
    let text = std::fs::read_to_string(&cells)
        .with_context(|| format!("cannot read Yosys' iCE40 models {}", cells.display()))?;
    let start = text
        .find("module SB_MAC16")
        .with_context(|| format!("{} has no `module SB_MAC16`", cells.display()))?;
    let end = text[start..]
        .find("endmodule")
        .map(|e| start + e + "endmodule".len())
        .with_context(|| format!("{}: `module SB_MAC16` has no endmodule", cells.display()))?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let out = dir.join("sb_mac16_cells_sim.v");
    std::fs::write(
        &out,
        format!(
            "// SB_MAC16 from {} (Yosys), for simulation.\n{}\n",
            cells.display(),
            &text[start..end]
        ),
    )?;
    Ok(out)
}

/// Whether emitted Verilog instantiates the ECP5 DSP primitive through `hdl::mult18x18d` (it then
/// needs a simulation model of `MULT18X18D`: see [`mult18x18d_model`]).
pub fn needs_mult18x18d_model(verilog: &str) -> bool {
    verilog.contains(hdl::mult18x18d::DECLARED_DEFINE)
}

/// Writes the project's behavioural model of `MULT18X18D` (`hdl::mult18x18d::VERILOG_MODEL`; Yosys
/// has only a black box of it) to `dir/mult18x18d_model.v` and returns the path. Compile it with
/// the design and define `hdl::mult18x18d::DECLARED_DEFINE`, which removes the design's own
/// black-box declaration.
pub fn mult18x18d_model(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let out = dir.join("mult18x18d_model.v");
    std::fs::write(&out, hdl::mult18x18d::VERILOG_MODEL)
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(out)
}
