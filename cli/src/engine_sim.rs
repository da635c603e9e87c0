//! `itx run --port verilator:[KEY=VALUE,...]`: the hardware engine (`hdl::engine`) built in
//! Verilator and started as the `exec:` child (`testbench::engine::exec_sim`), so that the host
//! driver talks to the generated Verilog over its modelled UART.
//!
//! Keys: `rows`, `cols`, `k_max`, `row_max`, `idle_bits`, `units` (mask: 1 Shiftmax, 2 ShiftGELU,
//! 4 I-LayerNorm), `rounding` (`half-even` or `half-up`), `div` (clock cycles per bit, default
//! 16), `vcd=FILE` (a waveform of the whole run, with `FILE` minus `.vcd` plus `.gtkw` beside it
//! for GTKWave), `board=icebreaker|ulx3s` (instead of the engine keys: that board's engine top,
//! as its bitstream carries it, at the board's clock divisor with its reset button). Defaults:
//! [`hdl::engine::hardware_default`], `div` 16.
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use golden::engine::EngineConfig;
use golden::requant::Rounding;
use golden::uart::BitTiming;
use hdl::board::Board;
use hdl::engine::{hardware_default, EngineParams};

/// A parsed `verilator:` spec.
#[derive(Clone, Debug)]
pub struct SimSpec {
    pub params: EngineParams,
    pub vcd: Option<PathBuf>,
    /// `board=NAME`: the board's engine top (its configuration, clock divisor, reset button).
    pub board: Option<Board>,
}

/// Parses the part after `verilator:`.
pub fn parse(spec: &str) -> Result<SimSpec> {
    let mut cfg: EngineConfig = hardware_default();
    let mut div = 16u64;
    let mut vcd = None;
    let mut board = None;
    let mut engine_keys = Vec::new();
    for item in spec.split(',').filter(|s| !s.is_empty()) {
        let (key, value) = item
            .split_once('=')
            .with_context(|| format!("--port verilator: `{item}` is not KEY=VALUE"))?;
        let num = || -> Result<usize> {
            value
                .parse()
                .with_context(|| format!("--port verilator: {key} = `{value}` is not a number"))
        };
        if !matches!(key, "vcd" | "board") {
            engine_keys.push(key.to_string());
        }
        match key {
            "board" => {
                board = Some(
                    value
                        .parse::<Board>()
                        .map_err(|e| anyhow::anyhow!("--port verilator: board: {e}"))?,
                )
            }
            "rows" => cfg.rows = num()?,
            "cols" => cfg.cols = num()?,
            "k_max" => cfg.k_max = num()?,
            "row_max" => cfg.row_max = num()?,
            "idle_bits" => cfg.idle_bits = num()? as u64,
            "units" => {
                cfg.units = u8::try_from(num()?)
                    .context("--port verilator: units is a mask of 3 bits")?
            }
            "div" => div = num()? as u64,
            "rounding" => {
                let r: Rounding = value
                    .parse()
                    .map_err(|e| anyhow::anyhow!("--port verilator: rounding: {e}"))?;
                cfg.mm_roundings = 1 << golden::engine::rounding_code(r);
            }
            "vcd" => vcd = Some(PathBuf::from(value)),
            _ => bail!(
                "--port verilator: unknown key `{key}` (allowed: rows, cols, k_max, row_max, idle_bits, units, rounding, div, vcd, board)"
            ),
        }
    }
    if let Some(b) = board {
        if let Some(k) = engine_keys.first() {
            bail!(
                "--port verilator: `{k}` cannot be combined with board={} (the board top has its own configuration)",
                b.name()
            );
        }
    }
    let timing =
        BitTiming::from_div(div).map_err(|e| anyhow::anyhow!("--port verilator: div: {e}"))?;
    let params = EngineParams::new(cfg, timing);
    params
        .check()
        .map_err(|e| anyhow::anyhow!("--port verilator: {e}"))?;
    Ok(SimSpec { params, vcd, board })
}

/// Builds (or reuses) the simulator and returns the `exec:` command line that starts it; with
/// `vcd`, also writes the `.gtkw` save file beside it.
pub fn command(spec: &str) -> Result<String> {
    let s = parse(spec)?;
    let traced = s.vcd.is_some();
    let (sim, params, scope) = match s.board {
        Some(b) => {
            let (sim, p) = testbench::engine::board_exec_sim(b, traced)?;
            let scope = format!("TOP.{}.core.", hdl::board_engine::top_name(b));
            (sim, p, scope)
        }
        None => (
            testbench::engine::exec_sim(&s.params, traced)?,
            s.params.clone(),
            "TOP.itx_engine.".to_string(),
        ),
    };
    let exe = sim.exe.display().to_string();
    if exe.contains(char::is_whitespace) {
        bail!("--port verilator: the simulator's path `{exe}` contains whitespace");
    }
    let Some(vcd) = s.vcd else {
        return Ok(exe);
    };
    let v = vcd.display().to_string();
    if v.contains(char::is_whitespace) {
        bail!("--port verilator: vcd path `{v}` contains whitespace");
    }
    let gtkw = vcd.with_extension("gtkw");
    std::fs::write(&gtkw, testbench::engine::gtkw_text(&v, &params, &scope))
        .with_context(|| format!("cannot write {}", gtkw.display()))?;
    Ok(format!("{exe} --vcd {v}"))
}
