//! The hardware engine end to end: `itx run --port verilator:...` builds `hdl::engine`'s Verilog
//! in Verilator behind the modelled UART (`testbench::uart_exec`) and the host driver runs its
//! selftest (MATMUL at 8, 16 and 32 bits with requantization, Shiftmax, ShiftGELU and I-LayerNorm
//! rows) against the golden model; the waveform of such a run with its GTKWave save file; the
//! spec's errors.
mod common;

use common::{itx, stderr, stdout};

/// A small engine at 4 clock cycles per bit: 2 x 3 array, K up to 6, rows up to 12.
const SMALL: &str = "verilator:rows=2,cols=3,k_max=6,row_max=12,idle_bits=64,div=4";

#[test]
fn selftest_against_the_verilator_engine_equals_golden() {
    let o = itx(&[
        "run",
        "--port",
        SMALL,
        "--timeout-ms",
        "10000",
        "selftest",
        "--rounds",
        "3",
    ]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    // 3 rounds x (3 matmuls + 3 row units).
    assert!(
        out.contains("selftest: all 18 cases equal the golden model"),
        "{out}"
    );
    assert!(out.contains("PASS matmul 2x3 k=6 out_bits=8"), "{out}");
    assert!(out.contains("PASS shiftmax len=12"), "{out}");
}

#[test]
fn a_selftest_run_leaves_a_vcd_and_a_gtkw_showing_uart_decoder_and_array() {
    let dir = tempfile::tempdir().unwrap();
    let vcd = dir.path().join("engine.vcd");
    let port = format!("{SMALL},units=1,vcd={}", vcd.display());
    let o = itx(&["run", "--port", &port, "--timeout-ms", "10000", "selftest"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let text = std::fs::read_to_string(&vcd).unwrap();
    for sig in [
        " rx ",
        " tx ",
        " st$q ",
        " cmd$q ",
        " arr$in_valid ",
        " arr$out_valid ",
        " urx$data ",
    ] {
        assert!(text.contains(sig), "the VCD has no `{}`", sig.trim());
    }
    // The run went through a matmul: the array took beats.
    let gtkw = std::fs::read_to_string(vcd.with_extension("gtkw")).unwrap();
    assert!(gtkw.contains(&format!("[dumpfile] \"{}\"", vcd.display())));
    for sig in [
        "TOP.itx_engine.rx",
        "TOP.itx_engine.st$q",
        "TOP.itx_engine.arr$in_valid",
    ] {
        assert!(gtkw.contains(sig), "the save file lacks {sig}");
    }
    // Every signal the save file names is in the VCD (GTKWave would show it empty otherwise).
    for line in gtkw.lines().filter(|l| l.starts_with("TOP.itx_engine.")) {
        let name = line
            .trim_start_matches("TOP.itx_engine.")
            .split('[')
            .next()
            .unwrap();
        assert!(
            text.contains(&format!(" {name} ")),
            "the save file names `{name}`, the VCD lacks it"
        );
    }
}

/// The iCEBreaker's engine top as its bitstream carries it (button, power-on reset, 12 MHz at
/// 115200 baud: 104 cycles per bit, the 2 x 2 array on shared SB_MAC16s through Yosys's
/// simulation model), through the host driver.
#[test]
fn selftest_against_the_icebreaker_engine_top() {
    let o = itx(&[
        "run",
        "--port",
        "verilator:board=icebreaker",
        "--timeout-ms",
        "20000",
        "selftest",
    ]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(
        out.contains("engine: 2 x 2 array, k_max 64, row_max 64"),
        "{out}"
    );
    assert!(
        out.contains("selftest: all 3 cases equal the golden model"),
        "{out}"
    );
}

#[test]
fn bad_specs_are_refused_by_name() {
    for (spec, want) in [
        ("verilator:rows=40", "rows = 40"),
        ("verilator:colour=1", "unknown key `colour`"),
        ("verilator:div=2", "div"),
        ("verilator:rounding=up", "rounding"),
        ("verilator:k_max=4096", "address bits"),
        ("verilator:board=de10", "board"),
        (
            "verilator:board=ulx3s,rows=2",
            "`rows` cannot be combined with board=ulx3s",
        ),
    ] {
        let o = itx(&["run", "--port", spec, "info"]);
        assert!(!o.status.success(), "{spec} was accepted");
        assert!(stderr(&o).contains(want), "{spec}: {}", stderr(&o));
    }
}
