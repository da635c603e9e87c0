//! The `itx` command as users run it: outputs, exit codes, error messages, no partial files.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn itx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_itx"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("itx runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn shared_vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/integer-ops.jsonl")
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn blocks_lists_parameters_ranges_defaults() {
    let o = itx(&["blocks"]);
    assert!(o.status.success());
    let s = stdout(&o);
    assert!(s.contains("requant"), "{s}");
    assert!(
        s.contains("bits") && s.contains("8, 16") && s.contains("default 8"),
        "{s}"
    );
    assert!(s.contains("half-even, half-up"), "{s}");
    let j = itx(&["blocks", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    assert_eq!(v[0]["name"], "requant");
}

#[test]
fn emit_writes_every_file_deterministically() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    for d in [&a, &b] {
        let o = itx(&[
            "emit",
            "requant",
            "--set",
            "bits=16",
            "--set",
            "rounding=half-up",
            "--out",
            d.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let names = files_in(&a);
    assert_eq!(
        names,
        [
            "itx.vlt",
            "itx_requant.core",
            "itx_requant.gtkw",
            "itx_requant.json",
            "itx_requant.v"
        ]
    );
    for n in &names {
        assert_eq!(
            std::fs::read(a.join(n)).unwrap(),
            std::fs::read(b.join(n)).unwrap(),
            "{n} differs between two runs"
        );
    }
    let v = std::fs::read_to_string(a.join("itx_requant.v")).unwrap();
    for line in v.lines().filter(|l| l.trim_start().starts_with("module ")) {
        assert!(
            !line.contains('$') && !line.contains("module top"),
            "{line}"
        );
    }
    assert!(v.contains("output reg  [15:0] y;"));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("itx_requant.json")).unwrap())
            .unwrap();
    assert_eq!(m["latency_cycles"], 5);
    assert_eq!(m["params"]["rounding"], "half-up");
    let core = std::fs::read_to_string(a.join("itx_requant.core")).unwrap();
    assert!(
        core.starts_with("CAPI=2:") && core.contains("lint:") && core.contains("itx_requant.v")
    );
    // The emitted folder lints clean on its own with its waiver file.
    let lint = Command::new("verilator")
        .args(["--lint-only", "-Wall", "itx.vlt", "itx_requant.v"])
        .current_dir(&a)
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stderr)
    );
}

#[test]
fn emit_prefix_renames_every_module() {
    let t = tempfile::tempdir().unwrap();
    let o = itx(&[
        "emit",
        "requant",
        "--prefix",
        "acme_",
        "--out",
        t.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = std::fs::read_to_string(t.path().join("acme_requant.v")).unwrap();
    assert!(v.contains("module acme_requant("));
    assert!(v.contains("module acme_requant__rs__s1_valid("));
    assert!(!v.contains("itx_"));
}

#[test]
fn bad_parameters_exit_2_and_write_nothing() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let cases: [(&[&str], &str); 5] = [
        (
            &["--set", "bits=12"],
            "parameter `bits` = `12` is out of range (allowed: 8, 16)",
        ),
        (
            &["--set", "width=8"],
            "block `requant` has no parameter `width`",
        ),
        (
            &["--set", "rounding=nearest"],
            "allowed: half-even, half-up",
        ),
        (&["--set", "bits"], "`--set` expects key=value, got `bits`"),
        (
            &["--prefix", "9x"],
            "--prefix `9x` is not a Verilog identifier prefix",
        ),
    ];
    for (extra, msg) in cases {
        let mut args = vec!["emit", "requant", "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let o = itx(&args);
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        assert!(stderr(&o).contains(msg), "{extra:?}: {}", stderr(&o));
        assert!(!out.exists(), "{extra:?} left {:?}", files_in(&out));
    }
    let o = itx(&["emit", "softmax", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let known: Vec<&str> = hdl::blocks::BLOCKS.iter().map(|b| b.name).collect();
    let msg = format!("unknown block `softmax` (known: {})", known.join(", "));
    assert!(stderr(&o).contains(&msg), "{}", stderr(&o));
    let o = itx(&["synth", "requant", "--target", "xilinx"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o)
        .contains("unknown --target `xilinx` (allowed: ice40, ecp5, gates, ice40-lut, ecp5-lut)"));
}

#[test]
fn eval_shared_vectors_pass() {
    let o = itx(&["eval", "--vectors", shared_vectors().to_str().unwrap()]);
    let s = stdout(&o);
    assert!(o.status.success(), "{s}{}", stderr(&o));
    let last = s.lines().last().unwrap();
    assert!(
        last.ends_with("skipped") && last.contains(" 0 failed"),
        "{last}"
    );
}

#[test]
fn eval_write_fills_y_and_a_wrong_y_exits_1() {
    let t = tempfile::tempdir().unwrap();
    let inp = t.path().join("in.jsonl");
    std::fs::write(
        &inp,
        "# hand-made\n\
         {\"op\":\"requant\",\"params\":{\"m\":[1073741824],\"c\":[32],\"bits\":8,\"rounding\":\"half-even\"},\"x\":[[1,3,-3,1000]]}\n\
         {\"op\":\"requant\",\"params\":{\"m\":[1073741824],\"c\":[31],\"bits\":8,\"rounding\":\"half-up\"},\"x\":[[1,3,-3]],\"y\":[[0,2,-2]]}\n",
    )
    .unwrap();
    let out = t.path().join("out.jsonl");
    let o = itx(&[
        "eval",
        "--vectors",
        inp.to_str().unwrap(),
        "--write",
        out.to_str().unwrap(),
    ]);
    // Line 2: m/2^c = 1/4: 1/4 -> 0, 3/4 -> 1, -3/4 -> -1, 1000/4 = 250 -> 127.
    // Line 3: m/2^c = 1/2, half-up: 0.5 -> 1, 1.5 -> 2, -1.5 -> -1; its y holds the half-even
    // answers [0, 2, -2], so it fails.
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let s = stdout(&o);
    assert!(s.contains(":3: requant: FAIL"), "{s}");
    assert_eq!(s.lines().last().unwrap(), "1 passed, 1 failed, 0 skipped");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.starts_with("# hand-made\n"));
    assert!(written.contains("\"y\":[[0,1,-1,127]]"), "{written}");
    assert!(written.contains("\"y\":[[1,2,-1]]"), "{written}");
}

#[test]
fn eval_malformed_file_exits_2_naming_line_and_field() {
    let t = tempfile::tempdir().unwrap();
    let inp = t.path().join("bad.jsonl");
    std::fs::write(
        &inp,
        "{\"op\":\"requant\",\"params\":{\"m\":[1],\"c\":[3],\"bits\":8,\"rounding\":\"half-even\"},\"x\":[[1]]}\n\
         {\"op\":\"requant\",\"params\":{\"m\":[1],\"c\":[63],\"bits\":8,\"rounding\":\"half-even\"},\"x\":[[1]]}\n",
    )
    .unwrap();
    let out = t.path().join("out.jsonl");
    let o = itx(&[
        "eval",
        "--vectors",
        inp.to_str().unwrap(),
        "--write",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("bad.jsonl:2:") && e.contains("\"c\"") && e.contains("63"),
        "{e}"
    );
    assert!(
        stdout(&o).is_empty(),
        "nothing runs before the whole file is valid"
    );
    assert!(!out.exists());
    let o = itx(&["eval", "--vectors", "/nonexistent/v.jsonl"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/v.jsonl"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn verify_vectors_and_random_in_verilator() {
    let o = itx(&["verify", "--vectors", shared_vectors().to_str().unwrap()]);
    let s = stdout(&o);
    assert!(o.status.success(), "{s}{}", stderr(&o));
    let last = s.lines().last().unwrap();
    assert!(
        last.contains(" 0 failed") && !last.starts_with("0 passed"),
        "{last}"
    );

    let t = tempfile::tempdir().unwrap();
    let o = itx(&[
        "verify",
        "requant",
        "--set",
        "bits=16",
        "--random",
        "3000",
        "--corners",
        "--seed",
        "4",
        "--wave",
        t.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(t.path().join("requant.vcd").exists());
    let gtkw = std::fs::read_to_string(t.path().join("requant.gtkw")).unwrap();
    assert!(
        gtkw.contains("[dumpfile]") && gtkw.contains("TOP.itx_requant.rs.s2_p$q"),
        "{gtkw}"
    );
}

#[test]
fn verify_rusthdl_and_gate_backends() {
    for sim in ["rusthdl", "noinit"] {
        let o = itx(&["verify", "requant", "--random", "500", "--sim", sim]);
        assert!(o.status.success(), "{sim}: {}{}", stdout(&o), stderr(&o));
        assert!(stdout(&o)
            .lines()
            .last()
            .unwrap()
            .starts_with("500 passed, 0 failed"));
    }
    let o = itx(&["verify", "requant", "--random", "10", "--sim", "spice"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown simulator `spice`"));
    let o = itx(&["verify", "requant"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--random N"));
}

#[test]
fn dyadic_prints_the_spec_construction() {
    // r = 1: frexp gives 0.5 * 2^1, m = 2^30, c = 30.
    let o = itx(&["dyadic", "--scale-in", "0.25", "--scale-out", "0.25"]);
    let s = stdout(&o);
    assert!(
        s.contains("m = 1073741824\n") && s.contains("c = 30\n"),
        "{s}"
    );
    // r = 0.1: frexp gives 0.8 * 2^-3, m = round(0.8 * 2^31) = 1717986918, c = 34.
    let o = itx(&["dyadic", "--scale-in", "0.1", "--scale-out", "1"]);
    let s = stdout(&o);
    assert!(
        s.contains("m = 1717986918\n") && s.contains("c = 34\n"),
        "{s}"
    );
    let o = itx(&["dyadic", "--scale-in", "-1", "--scale-out", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("s_in"), "{}", stderr(&o));
}

#[test]
fn synth_json_has_the_contract_fields() {
    for target in ["ice40", "gates"] {
        let o = itx(&["synth", "requant", "--target", target, "--json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for k in [
            "block", "target", "luts", "carries", "ffs", "dsps", "brams", "gates", "cells",
        ] {
            assert!(v.get(k).is_some(), "{target}: missing {k}");
        }
        assert_eq!(v["block"], "requant");
        if target == "gates" {
            assert!(v["gates"].as_u64().unwrap() > 1000);
            assert_eq!(v["luts"], 0);
        } else {
            assert_eq!(v["dsps"], 4);
        }
    }
}

#[test]
fn report_prints_the_table_and_rejects_bad_configs() {
    let t = tempfile::tempdir().unwrap();
    let cfg = t.path().join("c.toml");
    std::fs::write(
        &cfg,
        "[verify]\nrandom = 300\nseed = 2\n[[block]]\nname = \"requant\"\nset = { bits = 16 }\n",
    )
    .unwrap();
    let json = t.path().join("r.json");
    let o = itx(&[
        "report",
        "--config",
        cfg.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let s = stdout(&o);
    assert!(o.status.success(), "{s}{}", stderr(&o));
    assert!(
        s.contains("iCE40 LUT") && s.contains("bits=16 rounding=half-even"),
        "{s}"
    );
    let rows: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(rows[0]["verilator"], "pass");
    assert_eq!(rows[0]["ice40"]["dsps"], 4);

    std::fs::write(&cfg, "[[block]]\nname = \"requant\"\nset = { bits = 7 }\n").unwrap();
    let o = itx(&["report", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("c.toml") && e.contains("[[block]] number 1") && e.contains("`bits` = `7`"),
        "{e}"
    );
    std::fs::write(&cfg, "[[block]]\nnme = \"requant\"\n").unwrap();
    let o = itx(&["report", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("line 2"), "{}", stderr(&o));
}

#[test]
fn lint_command_reports_clean() {
    let o = itx(&["lint", "requant", "--set", "bits=16"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("clean"));
}

#[test]
fn uart_blocks_emit_verify_synth_and_refuse_pnr() {
    let t = tempfile::tempdir().unwrap();
    let o = itx(&["emit", "uart-rx", "--out", t.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path().join("itx_uart_rx.json")).unwrap())
            .unwrap();
    let names: Vec<&str> = m["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["clock", "reset", "rx", "out_valid", "data", "frame_err"]
    );
    // golden::uart::rx_latency(104) = 3 + 52 + 936.
    assert_eq!(m["latency_cycles"], 991);
    for (block, sim) in [("uart-tx", "verilator"), ("uart-rx", "rusthdl")] {
        let o = itx(&[
            "verify",
            block,
            "--set",
            "div=6",
            "--random",
            "30",
            "--corners",
            "--sim",
            sim,
        ]);
        assert!(o.status.success(), "{block}: {}{}", stdout(&o), stderr(&o));
        assert!(
            stdout(&o)
                .lines()
                .last()
                .unwrap()
                .contains("2 passed, 0 failed"),
            "{}",
            stdout(&o)
        );
    }
    let o = itx(&[
        "synth", "uart-rx", "--set", "div=104", "--target", "ice40", "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["ffs"].as_u64().unwrap() > 0 && v["dsps"] == 0, "{v}");
    let o = itx(&["pnr", "uart-tx", "--device", "up5k"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("port-level"), "{}", stderr(&o));
    let o = itx(&[
        "emit",
        "uart-tx",
        "--set",
        "baud=1800000",
        "--out",
        t.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("parameter `baud` = 1800000"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn constraints_match_and_bad_board_exits_2_writing_nothing() {
    let o = itx(&["constraints"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("icebreaker.pcf: matches the code"));
    assert!(stdout(&o).contains("ulx3s.lpf: matches the code"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    let o = itx(&[
        "bitstream",
        "--board",
        "de10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown board `de10` (allowed: icebreaker, ulx3s)"));
    assert!(!out.exists());
}
