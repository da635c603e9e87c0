//! GTKWave save files (`.gtkw`) for a block's VCD: ports grouped by stream, then the pipeline
//! registers, signed fields shown as signed decimal.
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use hdl::blocks::Emitted;
use hdl::stream::Field;

use crate::verify::Sim;

const GROUP_BEGIN: &str = "@800200";
const GROUP_END: &str = "@1000200";
const BIT: &str = "@28";
const HEX: &str = "@22";
const SIGNED_DEC: &str = "@424";
const DEC: &str = "@24";

/// The hierarchy prefix of the top module's signals in each simulator's VCD.
pub fn scope(sim: Sim, top: &str) -> String {
    match sim {
        Sim::RustHdl => "uut.".to_string(),
        _ => format!("TOP.{top}."),
    }
}

/// The name a register has in the VCD (`s1_valid$q` in RustHDL paths).
fn reg_name(sim: Sim, path: &str) -> String {
    match sim {
        Sim::RustHdl => path.replace('$', "."),
        _ => path.to_string(),
    }
}

fn field_line(s: &mut String, prefix: &str, f: &Field) {
    let fmt = if f.width == 1 {
        BIT
    } else if f.signed {
        SIGNED_DEC
    } else {
        DEC
    };
    let range = if f.width == 1 {
        String::new()
    } else {
        format!("[{}:0]", f.width - 1)
    };
    let _ = writeln!(s, "{fmt}\n{prefix}{}{range}", f.name);
}

/// The save file text. `dumpfile` is written as given (relative or absolute).
pub fn gtkw_text(dumpfile: &str, em: &Emitted, sim: Sim) -> String {
    let p = scope(sim, &em.top);
    let mut s = String::new();
    let _ = writeln!(s, "[*] ITX {} ({})", em.config.block, em.config);
    let _ = writeln!(s, "[dumpfile] \"{dumpfile}\"");
    let _ = writeln!(s, "[size] 1600 900");
    let _ = writeln!(s, "[timestart] 0");
    // Zoom: a span of 2 * 2^7 = 256 time units, about 25 clock cycles (the drivers step the
    // clock every 5 units); then the marker and GTKWave's 26 named markers, all unset.
    let _ = writeln!(s, "*-7.000000{}", " -1".repeat(27));
    let _ = writeln!(s, "[sst_width] 240\n[signals_width] 300\n[sst_expanded] 1");
    let group = |s: &mut String, name: &str, body: &dyn Fn(&mut String)| {
        let _ = writeln!(s, "{GROUP_BEGIN}\n-{name}");
        body(s);
        let _ = writeln!(s, "{GROUP_END}\n-{name}");
    };
    group(&mut s, "clock and reset", &|s| {
        let _ = writeln!(s, "{BIT}\n{p}clock\n{p}reset");
    });
    group(&mut s, "input stream", &|s| {
        let _ = writeln!(s, "{BIT}\n{p}in_valid\n{p}in_ready");
        for f in &em.io.inputs {
            field_line(s, &p, f);
        }
    });
    group(&mut s, "output stream", &|s| {
        let _ = writeln!(s, "{BIT}\n{p}out_valid\n{p}out_ready");
        for f in &em.io.outputs {
            field_line(s, &p, f);
        }
    });
    group(&mut s, "pipeline registers", &|s| {
        for r in &em.io.registers {
            let _ = writeln!(s, "{HEX}\n{p}{}", reg_name(sim, r));
        }
    });
    s
}

/// Writes a save file for `vcd` (absolute path inside).
pub fn write_gtkw(path: &Path, vcd: &Path, em: &Emitted, sim: Sim) -> Result<()> {
    let abs = std::path::absolute(vcd).unwrap_or_else(|_| vcd.to_path_buf());
    std::fs::write(path, gtkw_text(&abs.display().to_string(), em, sim))
        .with_context(|| format!("cannot write {}", path.display()))
}
