//! The ECP5 `MULT18X18D` models of `hdl::mult18x18d`: the Rust model ([`Mult18Model`], what
//! RustHDL simulates for `pe = mult18x18d`) against the project's behavioural Verilog model
//! (`hdl/src/mult18x18d_model.v`, what Verilator and Icarus simulate), cycle by cycle, in Icarus.
//!
//! One bench drives four `MULT18X18D` instances with the same inputs and different register sets
//! (all on: the PE's configuration, latency 3; input + output: 2; output only: 1; none: 0), so the
//! latency each parameter set implies is checked too. Stimulus (seeded): every int8 x int8 pair
//! (both operands sign-extended to 18 bits, `SIGNEDA` = `SIGNEDB` = 1), unsigned 16-bit x int8
//! (`SIGNEDA` = 0) and signed 16-bit x int8 corners (0, +-1, +-2^15 region, 65535) crossed with
//! int8 corners, random 16 x 8 and full 18 x 18 pairs in every sign mode, with `CE0` low on about
//! 15% of the cycles and `RST0` high on about 2% (with `CE0` high or low); about 75k cycles. Each
//! cycle is sampled before its rising edge (inputs already changed) and after it.
use std::fmt::Write as _;
use std::path::PathBuf;

use hdl::mult18x18d::{self, Mult18In, Mult18Model, Mult18Regs};
use rand::Rng;
use testbench::harness::{build_dir, rng};
use testbench::{icarus, tools};

const SEED: u64 = 0x18d_5eed;

/// The register sets of the bench's instances, in port order `p0..p3`.
const CONFIGS: [Mult18Regs; 4] = [
    mult18x18d::PE_REGS,
    Mult18Regs {
        input: true,
        pipeline: false,
        output: true,
    },
    Mult18Regs {
        input: false,
        pipeline: false,
        output: true,
    },
    Mult18Regs {
        input: false,
        pipeline: false,
        output: false,
    },
];

#[derive(Clone, Copy, Debug)]
struct Cycle {
    x: Mult18In,
    ce: bool,
    rst: bool,
}

/// 18-bit pattern of `v`.
fn pat(v: i64) -> u32 {
    (v as u64 & 0x3ffff) as u32
}

fn stimulus(seed: u64) -> Vec<Cycle> {
    let mut r = rng(seed);
    let mut pairs: Vec<Mult18In> = Vec::new();
    // Every int8 pair, as the PE gives them to the DSP.
    for a in 0..=255u64 {
        for b in 0..=255u64 {
            pairs.push(mult18x18d::pe_inputs::<8>(a, b));
        }
    }
    // 16-bit A (unsigned: SIGNEDA = 0, as the PE with a_signed=false; signed: sign-extended) x int8.
    let b8 = [-128i64, -127, -1, 0, 1, 2, 127, 85, -86];
    let a16u = [
        0i64, 1, 2, 255, 256, 32767, 32768, 32769, 65534, 65535, 43690,
    ];
    let a16s = [-32768i64, -32767, -1, 0, 1, 32767, 256, -256];
    for &a in &a16u {
        for &b in &b8 {
            pairs.push(Mult18In {
                a: pat(a),
                b: pat(b),
                signed_a: false,
                signed_b: true,
            });
            assert_eq!(
                mult18x18d::pe_inputs::<16>(a as u64, b as u64),
                *pairs.last().unwrap()
            );
        }
    }
    for &a in &a16s {
        for &b in &b8 {
            pairs.push(Mult18In {
                a: pat(a),
                b: pat(b),
                signed_a: true,
                signed_b: true,
            });
        }
    }
    for k in 0..4000 {
        let (a, signed_a) = if k % 2 == 0 {
            (r.gen_range(0..=65535i64), false)
        } else {
            (r.gen_range(-32768..=32767i64), true)
        };
        pairs.push(Mult18In {
            a: pat(a),
            b: pat(r.gen_range(-128..=127i64)),
            signed_a,
            signed_b: true,
        });
    }
    // Full 18-bit operands in every sign mode, extremes included.
    for &(a, b) in &[
        (0x20000u32, 0x20000u32),
        (0x1ffff, 0x20000),
        (0x3ffff, 0x3ffff),
    ] {
        for m in 0..4 {
            pairs.push(Mult18In {
                a,
                b,
                signed_a: m & 1 != 0,
                signed_b: m & 2 != 0,
            });
        }
    }
    for _ in 0..2000 {
        pairs.push(Mult18In {
            a: r.gen_range(0..1 << 18),
            b: r.gen_range(0..1 << 18),
            signed_a: r.gen(),
            signed_b: r.gen(),
        });
    }
    // Fixed prologue: reset with CE low, load, reset with CE low must still clear, hold, loads.
    let big = mult18x18d::pe_inputs::<8>(0x80, 0x80);
    let mut v = vec![
        Cycle {
            x: big,
            ce: false,
            rst: true,
        },
        Cycle {
            x: big,
            ce: true,
            rst: false,
        },
        Cycle {
            x: big,
            ce: false,
            rst: true,
        },
    ];
    let mut k = 0;
    while k < pairs.len() {
        let roll: u32 = r.gen_range(0..100);
        let noise = Mult18In {
            a: r.gen_range(0..1 << 18),
            b: r.gen_range(0..1 << 18),
            signed_a: r.gen(),
            signed_b: r.gen(),
        };
        if roll < 2 {
            v.push(Cycle {
                x: noise,
                ce: r.gen(),
                rst: true,
            });
        } else if roll < 17 {
            v.push(Cycle {
                x: noise,
                ce: false,
                rst: false,
            });
        } else {
            v.push(Cycle {
                x: pairs[k],
                ce: true,
                rst: false,
            });
            k += 1;
        }
    }
    for _ in 0..4 {
        v.push(Cycle {
            x: Mult18In::default(),
            ce: true,
            rst: false,
        });
    }
    v
}

/// `P` of each instance before and after each rising edge, from the Rust model.
fn run_models(stim: &[Cycle]) -> Vec<[(u64, u64); 4]> {
    let mut m: Vec<Mult18Model> = CONFIGS.iter().map(|&c| Mult18Model::new(c)).collect();
    stim.iter()
        .map(|c| {
            let mut s = [(0, 0); 4];
            for (k, model) in m.iter_mut().enumerate() {
                let pre = model.p(&c.x);
                model.clock(&c.x, c.ce, c.rst);
                s[k] = (pre, model.p(&c.x));
            }
            s
        })
        .collect()
}

fn workdir() -> PathBuf {
    let d = build_dir().join("test-mult18x18d");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn params(r: Mult18Regs) -> String {
    let clk = |on: bool| if on { "CLK0" } else { "NONE" };
    format!(
        "#(.REG_INPUTA_CLK(\"{}\"), .REG_INPUTB_CLK(\"{}\"), .REG_PIPELINE_CLK(\"{}\"), \
         .REG_OUTPUT_CLK(\"{}\"), .GSR(\"DISABLED\"), .RESETMODE(\"SYNC\"))",
        clk(r.input),
        clk(r.input),
        clk(r.pipeline),
        clk(r.output)
    )
}

/// The bench: four instances on one stimulus file, `S p0 p1 p2 p3` before and after each edge.
fn write_bench(dir: &std::path::Path, stim: &[Cycle]) -> PathBuf {
    let mut hex = String::new();
    for c in stim {
        let w = ((c.rst as u64) << 39)
            | ((c.ce as u64) << 38)
            | ((c.x.signed_a as u64) << 37)
            | ((c.x.signed_b as u64) << 36)
            | ((c.x.a as u64) << 18)
            | c.x.b as u64;
        writeln!(hex, "{w:010x}").unwrap();
    }
    let stim_path = dir.join("stim.hex");
    std::fs::write(&stim_path, hex).unwrap();
    let mut insts = String::new();
    for (k, r) in CONFIGS.iter().enumerate() {
        let mut pins: Vec<String> = (0..18)
            .map(|i| format!(".A{i}(a[{i}]), .B{i}(b[{i}]), .C{i}(1'b0)"))
            .collect();
        pins.extend((0..36).map(|i| format!(".P{i}(p{k}[{i}])")));
        pins.push(
            ".SIGNEDA(sa), .SIGNEDB(sb), .SOURCEA(1'b0), .SOURCEB(1'b0), .CLK0(clk), .CE0(ce), \
             .RST0(rst), .CLK1(1'b0), .CLK2(1'b0), .CLK3(1'b0), .CE1(1'b0), .CE2(1'b0), \
             .CE3(1'b0), .RST1(1'b0), .RST2(1'b0), .RST3(1'b0)"
                .to_string(),
        );
        writeln!(
            insts,
            "  wire [35:0] p{k};\n  MULT18X18D {} dsp{k} (\n    {}\n  );",
            params(*r),
            pins.join(",\n    ")
        )
        .unwrap();
    }
    let n = stim.len();
    let tb = format!(
        r#"`timescale 1ns/1ps
module tb_mult18x18d;
  reg [39:0] stim [0:{last}];
  reg clk, rst, ce, sa, sb;
  reg [17:0] a, b;
  integer t;
{insts}
  initial begin
    $readmemh("{stim}", stim);
    clk = 1'b0;
    for (t = 0; t < {n}; t = t + 1) begin
      {{rst, ce, sa, sb, a, b}} = stim[t];
      #5 $display("S %h %h %h %h", p0, p1, p2, p3);
      clk = 1'b1;
      #5 $display("S %h %h %h %h", p0, p1, p2, p3);
      clk = 1'b0;
    end
    $finish;
  end
endmodule
"#,
        last = n - 1,
        stim = stim_path.display(),
    );
    let path = dir.join("tb_mult18x18d.v");
    std::fs::write(&path, tb).unwrap();
    path
}

/// Parses the bench's `S` lines (an `x` digit becomes `u64::MAX`).
fn parse(stdout: &str) -> Vec<[(u64, u64); 4]> {
    let vals: Vec<[u64; 4]> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("S "))
        .map(|l| {
            let v: Vec<u64> = l
                .split_whitespace()
                .map(|s| u64::from_str_radix(s, 16).unwrap_or(u64::MAX))
                .collect();
            [v[0], v[1], v[2], v[3]]
        })
        .collect();
    vals.chunks(2)
        .map(|p| std::array::from_fn(|k| (p[0][k], p[1][k])))
        .collect()
}

#[test]
fn rust_model_matches_verilog_model_in_icarus() {
    let stim = stimulus(SEED);
    let want = run_models(&stim);
    let dir = workdir();
    let tb = write_bench(&dir, &stim);
    let model = tools::mult18x18d_model(&dir).unwrap();
    let out = icarus::run(&icarus::IcarusRun {
        files: vec![tb, model],
        top: "tb_mult18x18d".into(),
        defines: vec![],
        workdir: dir.join("icarus"),
        plusargs: vec![],
    })
    .unwrap_or_else(|e| panic!("{e:#}"));
    let got = parse(&out);
    assert_eq!(got.len(), stim.len(), "samples");
    for (k, regs) in CONFIGS.iter().enumerate() {
        // A register holds x in the hardware model until the prologue's reset (cycle 0) clears it.
        for (t, (w, g)) in want.iter().zip(&got).enumerate() {
            let pre_ok = t == 0 || w[k].0 == g[k].0;
            assert!(
                pre_ok && w[k].1 == g[k].1,
                "{regs:?}: first mismatch at cycle {t}, inputs {:?}: expected P before the edge \
                 {:09x}, after {:09x}; got {:09x}, {:09x}",
                stim[t],
                w[k].0,
                w[k].1,
                g[k].0,
                g[k].1
            );
        }
    }
    // The latency each register set implies: a product taken at an edge with CE high is on P
    // after `latency` such edges (0: combinational, visible before the edge).
    let t = 1; // the prologue's load of -128 x -128
    let p = mult18x18d::product(pat(-128), pat(-128), true, true);
    assert_eq!(p, 16384);
    assert_eq!(want[t][3].0, p, "no register: P follows the inputs");
    assert_eq!(want[t][2].1, p, "output register only: P after the edge");
    assert_eq!(CONFIGS.map(|c| c.latency()), [3, 2, 1, 0]);
    assert_eq!(mult18x18d::LATENCY, 3);
    // Every int8 pair went in with CE high and no reset.
    let mut seen = vec![false; 1 << 16];
    for c in stim
        .iter()
        .filter(|c| c.ce && !c.rst && c.x.signed_a && c.x.signed_b)
    {
        let (a, b) = (c.x.a, c.x.b);
        let int8 = |v: u32| !(0x80..0x3ff80).contains(&v);
        if int8(a) && int8(b) {
            seen[(((a & 0xff) << 8) | (b & 0xff)) as usize] = true;
        }
    }
    assert!(seen.iter().all(|&s| s), "every int8 pair");
}
