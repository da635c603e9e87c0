//! Verilator lint (`verilator --lint-only -Wall`) of generated Verilog, with a waiver file.

use crate::tools;
use anyhow::bail;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Result of a passing lint run.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct LintReport {
    /// `%Warning...` lines Verilator printed (empty on a clean `-Wall` run: any unwaived
    /// warning makes Verilator exit non-zero, which is a [`LintError`]).
    pub warnings: Vec<String>,
}

/// A failing lint run; `lint` returns it inside `anyhow::Error` (use `downcast_ref::<LintError>()`
/// to get at the individual lines).
#[derive(Clone, Debug, thiserror::Error)]
#[error("verilator lint of `{top}` failed (exit {status}): {command}\n{}", lines.join("\n"))]
pub struct LintError {
    pub top: String,
    pub status: i32,
    pub command: String,
    /// `%Warning-RULE: ...` header lines.
    pub warnings: Vec<String>,
    /// Every `%Warning`/`%Error` line, in order (the message body).
    pub lines: Vec<String>,
}

/// The project's waiver file, `<repo>/lint/itx.vlt` (owned by the lead; may not exist yet).
pub fn waiver_file() -> PathBuf {
    tools::repo_root().join("lint").join("itx.vlt")
}

/// `%Warning`/`%Error` header lines of Verilator output.
fn diagnostic_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("%Warning") || l.starts_with("%Error"))
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// Runs `verilator --lint-only -Wall --top-module TOP <waivers> files...`.
///
/// Ok when Verilator exits 0; otherwise a [`LintError`] whose message contains the
/// `%Warning`/`%Error` lines.
pub fn lint(files: &[PathBuf], top: &str, waivers: &Path) -> anyhow::Result<LintReport> {
    if files.is_empty() {
        bail!("verilator lint of `{top}`: no Verilog files given");
    }
    if !waivers.is_file() {
        bail!(
            "verilator lint of `{top}`: waiver file {} does not exist",
            waivers.display()
        );
    }
    let verilator = tools::require("verilator")?;
    let mut cmd = Command::new(verilator);
    cmd.arg("--lint-only")
        .arg("-Wall")
        .arg("--top-module")
        .arg(top)
        .arg(waivers)
        .args(files);
    let out = tools::output(&mut cmd, &format!("verilator lint of `{top}`"))?;
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    let lines = diagnostic_lines(&text);
    let warnings: Vec<String> = lines
        .iter()
        .filter(|l| l.starts_with("%Warning"))
        .cloned()
        .collect();
    if out.status.success() {
        return Ok(LintReport { warnings });
    }
    let lines = if lines.is_empty() {
        // Not a diagnostic (crash, bad option): carry the raw output.
        vec![tools::tail(&text, tools::TAIL_LINES)]
    } else {
        lines
    };
    Err(LintError {
        top: top.to_string(),
        status: out.status.code().unwrap_or(-1),
        command: tools::command_line(&cmd),
        warnings,
        lines,
    }
    .into())
}
