//! `itx bitstream` and `itx constraints`: the board flow ([`testbench::bitstream`]) and the
//! boards' pin files ([`hdl::board`]).
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hdl::board::Board;
use testbench::bitstream::{bitstream as build, check_pin_file, BoardTop};
use testbench::tools;

fn parse_board(name: &str) -> Result<Board> {
    name.parse::<Board>()
        .map_err(|e| anyhow::anyhow!("--board: {e}"))
}

/// `itx bitstream --board B [--top engine|echo] [--out DIR] [--json]`.
pub fn bitstream(board: &str, top: &str, out: Option<&Path>, json: bool) -> Result<bool> {
    let board = parse_board(board)?;
    let which: BoardTop = top.parse().map_err(|e| anyhow::anyhow!("--top: {e}"))?;
    let out: PathBuf = match out {
        Some(o) => o.to_path_buf(),
        None => match which {
            BoardTop::Engine => PathBuf::from("build/boards").join(board.name()),
            BoardTop::Echo => PathBuf::from("build/boards").join(format!("{}-echo", board.name())),
        },
    };
    let r = build(board, which, &out)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(true);
    }
    let cells = if board.is_ecp5() { "LUT4" } else { "LC" };
    println!("{} ({}): {}", r.board, r.top, r.bitstream.display());
    println!(
        "  {cells} {}/{}, FF {}, BRAM {}, DSP {}",
        r.luts, r.luts_total, r.ffs, r.brams, r.dsps
    );
    println!(
        "  Fmax {:.2} MHz (board clock {} MHz: met)",
        r.fmax_mhz, r.clock_mhz
    );
    println!(
        "  synthesis {:.1} s, place and route {:.1} s, packing {:.1} s",
        r.synth_s, r.pnr_s, r.pack_s
    );
    println!(
        "  timing report: {}",
        r.out_dir.join("timing.txt").display()
    );
    Ok(true)
}

/// `itx constraints [--write]`.
pub fn constraints(write: bool) -> Result<bool> {
    for board in Board::ALL {
        let (_, pins) = hdl::board_echo::emit(board).map_err(anyhow::Error::msg)?;
        let path = tools::repo_root().join(board.pin_file_path());
        if write {
            crate::output::write_all(&[(path.clone(), pins.into_bytes())])
                .with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
        } else {
            check_pin_file(board, &pins)?;
            println!("{}: matches the code", path.display());
        }
    }
    Ok(true)
}
