//! `hdl::sb_mac16::Mac16Dual8`, the dual 8 x 8 `SB_MAC16` wrapper: its Rust model against plain
//! integer multiplication; the emitted Verilog, simulated by Icarus with Yosys' own `SB_MAC16`
//! model (`cells_sim.v`), against the Rust model cycle by cycle; `synth_ice40 -dsp` (one
//! `SB_MAC16`, its configuration intact, no fabric multiplier) and the gate-level netlist against
//! the model; lint; and two instances in one design.
//!
//! Stimulus: every int8 pair on both halves (all 65,536, the low half in a different order than
//! the high half), each taken at an edge with `en` high, plus randomly interleaved `en`-low and
//! `reset` cycles (seeded), about 80k cycles. Each cycle is sampled twice: before the rising edge
//! (inputs already changed: nothing may be combinational) and after it.
use std::fmt::Write as _;
use std::path::PathBuf;

use hdl::sb_mac16::{half_product, Mac16Dual8, DECLARED_DEFINE, LATENCY, SB_MAC16_PARAMS};
use rand::Rng;
use rust_hdl::prelude::*;
use testbench::harness::{build_dir, rng};
use testbench::{icarus, lint, tools, yosys};

const SEED: u64 = 0x5b3a_c16d;
const BLOCK: &str = "mac16-dual8";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cycle {
    reset: bool,
    en: bool,
    a_hi: u8,
    a_lo: u8,
    b_hi: u8,
    b_lo: u8,
}

/// `(p_hi, p_lo)` before the rising edge and after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sample {
    pre: (u16, u16),
    post: (u16, u16),
}

/// The low half's pair for exhaustive index `k`: a bijection of 0..65536 (odd multiplier), so the
/// low half sees every pair too, never in step with the high half.
fn lo_pair(k: usize) -> (u8, u8) {
    let j = (k.wrapping_mul(40503).wrapping_add(12345)) & 0xffff;
    ((j >> 8) as u8, j as u8)
}

fn stimulus(seed: u64) -> Vec<Cycle> {
    let mut r = rng(seed);
    let idle = |reset, en| Cycle {
        reset,
        en,
        a_hi: 0,
        a_lo: 0,
        b_hi: 0,
        b_lo: 0,
    };
    let big = Cycle {
        reset: false,
        en: true,
        a_hi: 0x80,
        b_hi: 0x80,
        a_lo: 0x7f,
        b_lo: 0x80,
    };
    // Fixed prologue: reset with `en` low; load; reset with `en` low must still clear; hold;
    // load; two reset cycles in a row with `en` high.
    let mut v = vec![
        idle(true, false),
        big,
        idle(true, false),
        idle(false, false),
        big,
        Cycle { reset: true, ..big },
        Cycle { reset: true, ..big },
        big,
    ];
    let mut k = 0usize;
    while k < 1 << 16 {
        let roll: u32 = r.gen_range(0..100);
        let random = Cycle {
            reset: false,
            en: false,
            a_hi: r.gen(),
            a_lo: r.gen(),
            b_hi: r.gen(),
            b_lo: r.gen(),
        };
        if roll < 2 {
            v.push(Cycle {
                reset: true,
                en: r.gen(),
                ..random
            });
        } else if roll < 17 {
            v.push(random);
        } else {
            let (a_lo, b_lo) = lo_pair(k);
            v.push(Cycle {
                reset: false,
                en: true,
                a_hi: (k >> 8) as u8,
                b_hi: k as u8,
                a_lo,
                b_lo,
            });
            k += 1;
        }
    }
    v.push(idle(false, false));
    v.push(idle(true, false));
    v
}

/// The specification, written independently of the model: a register of plain `i32` products.
fn reference(stim: &[Cycle]) -> Vec<Sample> {
    let prod = |a: u8, b: u8| ((a as i8 as i32) * (b as i8 as i32)) as i16 as u16;
    let mut q = (0u16, 0u16);
    stim.iter()
        .map(|c| {
            let pre = q;
            if c.reset {
                q = (0, 0);
            } else if c.en {
                q = (prod(c.a_hi, c.b_hi), prod(c.a_lo, c.b_lo));
            }
            Sample { pre, post: q }
        })
        .collect()
}

/// The block's Rust model in RustHDL's simulator.
fn run_model(stim: &[Cycle]) -> Vec<Sample> {
    let mut uut = Mac16Dual8::default();
    uut.connect_all();
    let out = |u: &Mac16Dual8| (u.p_hi.val().to_u16(), u.p_lo.val().to_u16());
    stim.iter()
        .map(|c| {
            uut.clock.next = false.into();
            uut.reset.next = c.reset;
            uut.en.next = c.en;
            uut.a_hi.next = (c.a_hi as u64).into();
            uut.a_lo.next = (c.a_lo as u64).into();
            uut.b_hi.next = (c.b_hi as u64).into();
            uut.b_lo.next = (c.b_lo as u64).into();
            assert!(simulate(&mut uut, 100));
            let pre = out(&uut);
            uut.clock.next = true.into();
            assert!(simulate(&mut uut, 100));
            Sample {
                pre,
                post: out(&uut),
            }
        })
        .collect()
}

/// Panics at the first cycle where `got` differs from `want`, with the cycle and its inputs.
/// Cycle 0's pre-edge sample is skipped (the hardware's registers start at `x`, the model at 0).
fn assert_same(what: &str, stim: &[Cycle], want: &[Sample], got: &[Sample]) {
    assert_eq!(want.len(), got.len(), "{what}: sample count");
    for (t, ((c, w), g)) in stim.iter().zip(want).zip(got).enumerate() {
        let pre_ok = t == 0 || w.pre == g.pre;
        assert!(
            pre_ok && w.post == g.post,
            "{what}: first mismatch at cycle {t}, inputs {c:?} (as int8: a_hi {} b_hi {} a_lo {} b_lo {}):\n  \
             expected (p_hi, p_lo) before the edge {:04x?}, after {:04x?}\n  \
             got                                {:04x?},       {:04x?}",
            c.a_hi as i8, c.b_hi as i8, c.a_lo as i8, c.b_lo as i8, w.pre, w.post, g.pre, g.post
        );
    }
}

fn workdir() -> PathBuf {
    let d = build_dir().join("test-sb-mac16");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The emitted Verilog of the block, written to `<workdir>/<sub>/<top>.v`.
fn emitted(sub: &str) -> (PathBuf, String) {
    let mut uut = Mac16Dual8::default();
    uut.connect_all();
    let top = hdl::emit::module_name("itx_", BLOCK);
    let v = hdl::emit::generate(&uut, BLOCK, "itx_").unwrap();
    let dir = workdir().join(sub);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{top}.v"));
    std::fs::write(&path, v).unwrap();
    (path, top)
}

/// A test bench that applies `stim` (from a `$readmemh` file) and prints `pre`/`post` per cycle.
fn write_bench(dir: &std::path::Path, top: &str, stim: &[Cycle]) -> PathBuf {
    let mut hex = String::new();
    for c in stim {
        let w = ((c.reset as u64) << 33)
            | ((c.en as u64) << 32)
            | ((c.a_hi as u64) << 24)
            | ((c.a_lo as u64) << 16)
            | ((c.b_hi as u64) << 8)
            | c.b_lo as u64;
        writeln!(hex, "{w:09x}").unwrap();
    }
    let stim_path = dir.join("stim.hex");
    std::fs::write(&stim_path, hex).unwrap();
    let n = stim.len();
    let tb = format!(
        r#"`timescale 1ns/1ps
module tb_sb_mac16;
  reg [33:0] stim [0:{last}];
  reg clock, reset, en;
  reg [7:0] a_hi, a_lo, b_hi, b_lo;
  wire [15:0] p_hi, p_lo;
  integer t;
  {top} dut(.clock(clock), .reset(reset), .en(en), .a_hi(a_hi), .a_lo(a_lo),
            .b_hi(b_hi), .b_lo(b_lo), .p_hi(p_hi), .p_lo(p_lo));
  initial begin
    $readmemh("{stim}", stim);
    clock = 1'b0;
    for (t = 0; t < {n}; t = t + 1) begin
      {{reset, en, a_hi, a_lo, b_hi, b_lo}} = stim[t];
      #5 $display("S %h %h", p_hi, p_lo);
      clock = 1'b1;
      #5 $display("S %h %h", p_hi, p_lo);
      clock = 1'b0;
    end
    $finish;
  end
endmodule
"#,
        last = n - 1,
        stim = stim_path.display(),
    );
    let path = dir.join("tb_sb_mac16.v");
    std::fs::write(&path, tb).unwrap();
    path
}

/// Parses the bench's `S hhhh hhhh` lines into samples (an `x` digit fails the parse).
fn parse_samples(stdout: &str) -> Vec<Sample> {
    let vals: Vec<(u16, u16)> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("S "))
        .map(|l| {
            let mut it = l.split_whitespace();
            let mut next = || {
                let s = it.next().unwrap();
                u16::from_str_radix(s, 16).unwrap_or(0xdead)
            };
            (next(), next())
        })
        .collect();
    vals.chunks(2)
        .map(|p| Sample {
            pre: p[0],
            post: p[1],
        })
        .collect()
}

fn run_icarus(name: &str, files: Vec<PathBuf>, defines: Vec<String>) -> Vec<Sample> {
    let out = icarus::run(&icarus::IcarusRun {
        files,
        top: "tb_sb_mac16".into(),
        defines,
        workdir: workdir().join(name),
        plusargs: vec![],
    })
    .unwrap_or_else(|e| panic!("{name}: {e:#}"));
    parse_samples(&out)
}

fn cells_sim() -> PathBuf {
    tools::yosys_share_dir().join("ice40").join("cells_sim.v")
}

#[test]
fn model_matches_integer_multiplication() {
    // The helper on every pair, then the block (registers, en, reset) on the full stimulus.
    for a in 0..=255u8 {
        for b in 0..=255u8 {
            let want = (a as i8 as i32) * (b as i8 as i32);
            assert_eq!(half_product(a, b) as i16 as i32, want, "{a} * {b}");
        }
    }
    let stim = stimulus(SEED);
    let model = run_model(&stim);
    assert_same(
        "RustHDL model vs integers",
        &stim,
        &reference(&stim),
        &model,
    );
    // Latency: a product taken at edge t is visible after that edge, not before it.
    assert_eq!(LATENCY, 1);
    let t = 1; // the prologue's first load
    assert_eq!(model[t].pre, (0, 0));
    assert_eq!(model[t].post, (0x4000, 0xc080)); // -128*-128, 127*-128
                                                 // Both halves saw every pair with `en` high and `reset` low.
    let mut seen_hi = vec![false; 1 << 16];
    let mut seen_lo = vec![false; 1 << 16];
    for c in stim.iter().filter(|c| c.en && !c.reset) {
        seen_hi[((c.a_hi as usize) << 8) | c.b_hi as usize] = true;
        seen_lo[((c.a_lo as usize) << 8) | c.b_lo as usize] = true;
    }
    assert!(seen_hi.iter().all(|&s| s) && seen_lo.iter().all(|&s| s));
}

#[test]
fn verilog_with_yosys_cells_sim_matches_model() {
    let (v, top) = emitted("rtl");
    let stim = stimulus(SEED);
    let model = run_model(&stim);
    let tb = write_bench(v.parent().unwrap(), &top, &stim);
    let got = run_icarus(
        "icarus-rtl",
        vec![tb, v, cells_sim()],
        vec![
            DECLARED_DEFINE.to_string(),
            icarus::ICE40_GATE_DEFINES[0].to_string(),
        ],
    );
    assert_same("Icarus + cells_sim.v vs model", &stim, &model, &got);
}

/// `.NAME(N'hV)` parameter values of the one `SB_MAC16` in a Yosys netlist.
fn netlist_params(netlist: &str) -> Vec<(String, u64)> {
    let start = netlist.find("SB_MAC16 #(").expect("an SB_MAC16 instance");
    let end = start + netlist[start..].find(") ").unwrap();
    let re = regex::Regex::new(r"\.(\w+)\((\d+)'([hbd])([0-9a-fA-F]+)\)").unwrap();
    re.captures_iter(&netlist[start..end])
        .map(|c| {
            let radix = match &c[3] {
                "h" => 16,
                "b" => 2,
                _ => 10,
            };
            (c[1].to_string(), u64::from_str_radix(&c[4], radix).unwrap())
        })
        .collect()
}

#[test]
fn ice40_synthesis_keeps_one_configured_sb_mac16_and_its_netlist_matches_model() {
    let (v, top) = emitted("synth");
    let dir = v.parent().unwrap().join("ice40");
    let r = yosys::synth(std::slice::from_ref(&v), &top, yosys::Target::Ice40, &dir)
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(r.dsps, 1, "{:?}", r.cells);
    assert_eq!(r.cells.get("SB_MAC16"), Some(&1), "{:?}", r.cells);
    // No multiplier in fabric: the only fabric cell is the `en | reset` LUT.
    assert!(r.luts <= 1 && r.carries == 0 && r.ffs == 0, "{:?}", r.cells);
    assert!(
        r.cells.keys().all(|c| c == "SB_MAC16" || c == "SB_LUT4"),
        "{:?}",
        r.cells
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);

    // The configuration survived synthesis (ice40_dsp would reset it: see yosys.rs).
    let netlist = std::fs::read_to_string(&r.netlist).unwrap();
    let params = netlist_params(&netlist);
    for (name, _, value) in SB_MAC16_PARAMS {
        let got = params.iter().find(|(n, _)| n == name).map(|p| p.1);
        assert_eq!(
            got,
            Some(value as u64),
            "parameter {name} in {}",
            r.netlist.display()
        );
    }
    assert!(!netlist.contains("$__itx_SB_MAC16_kept"));

    // Gate level: the netlist with cells_sim.v against the model, on the full stimulus.
    let stim = stimulus(SEED);
    let model = run_model(&stim);
    let tb = write_bench(&dir, &top, &stim);
    let mut files = vec![tb];
    files.extend(icarus::ice40_gate_files(&r.netlist));
    let got = run_icarus(
        "icarus-gate",
        files,
        icarus::ICE40_GATE_DEFINES
            .iter()
            .map(|d| d.to_string())
            .collect(),
    );
    assert_same("iCE40 netlist + cells_sim.v vs model", &stim, &model, &got);
}

#[test]
fn lint_clean() {
    let (v, top) = emitted("lint");
    let r = lint::lint(&[v], &top, &lint::waiver_file()).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

/// Two PEs' worth of DSPs in one design (RustHDL emits one module, and one copy of the
/// `SB_MAC16` declaration, per instance; the include guard keeps one).
#[derive(LogicBlock, Default)]
struct TwoDsps {
    clock: Signal<In, Clock>,
    reset: Signal<In, Bit>,
    en: Signal<In, Bit>,
    a: Signal<In, Bits<8>>,
    b: Signal<In, Bits<8>>,
    p0: Signal<Out, Bits<16>>,
    p1: Signal<Out, Bits<16>>,
    p2: Signal<Out, Bits<16>>,
    p3: Signal<Out, Bits<16>>,
    d0: Mac16Dual8,
    d1: Mac16Dual8,
}

impl Logic for TwoDsps {
    #[hdl_gen]
    fn update(&mut self) {
        self.d0.clock.next = self.clock.val();
        self.d1.clock.next = self.clock.val();
        self.d0.reset.next = self.reset.val();
        self.d1.reset.next = self.reset.val();
        self.d0.en.next = self.en.val();
        self.d1.en.next = self.en.val();
        self.d0.a_hi.next = self.a.val();
        self.d0.b_hi.next = self.b.val();
        self.d0.a_lo.next = self.b.val();
        self.d0.b_lo.next = self.b.val();
        self.d1.a_hi.next = self.a.val();
        self.d1.b_hi.next = self.a.val();
        self.d1.a_lo.next = self.b.val();
        self.d1.b_lo.next = self.a.val();
        self.p0.next = self.d0.p_hi.val();
        self.p1.next = self.d0.p_lo.val();
        self.p2.next = self.d1.p_hi.val();
        self.p3.next = self.d1.p_lo.val();
    }
}

#[test]
fn two_instances_lint_and_synthesize_to_two_dsps() {
    let mut uut = TwoDsps::default();
    uut.connect_all();
    let top = hdl::emit::module_name("itx_", "two-dsps");
    let text = hdl::emit::generate(&uut, "two-dsps", "itx_").unwrap();
    assert_eq!(
        text.matches("\nmodule SB_MAC16 (").count(),
        2,
        "one per instance"
    );
    let dir = workdir().join("two");
    std::fs::create_dir_all(&dir).unwrap();
    let v = dir.join(format!("{top}.v"));
    std::fs::write(&v, &text).unwrap();
    let l = lint::lint(std::slice::from_ref(&v), &top, &lint::waiver_file())
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let r = yosys::synth(
        std::slice::from_ref(&v),
        &top,
        yosys::Target::Ice40,
        &dir.join("ice40"),
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(r.dsps, 2, "{:?}", r.cells);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let netlist = std::fs::read_to_string(&r.netlist).unwrap();
    assert_eq!(netlist.matches(".MODE_8x8(1'h1)").count(), 2);
}
