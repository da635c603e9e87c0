//! `Mac16Dual8`: one Lattice iCE40 UltraPlus DSP primitive, `SB_MAC16`, in its dual 8 x 8 mode:
//! two signed int8 x int8 products per cycle (two processing elements sharing one DSP; their int32
//! accumulators live in fabric, outside this block).
//!
//! RustHDL cannot describe the primitive, so [`Mac16Dual8::hdl`] is a `Verilog::Wrapper` that
//! instantiates `SB_MAC16` with the parameters in [`SB_MAC16_PARAMS`], and [`Mac16Dual8::update`]
//! is its Rust model for RustHDL simulation. `testbench/tests/sb_mac16.rs` simulates the emitted
//! Verilog with Yosys' own `SB_MAC16` model (`<yosys datdir>/ice40/cells_sim.v`) against that
//! model, cycle by cycle on every int8 pair, so the two cannot drift apart.
//!
//! # Ports (all synchronous to `clock`)
//! | port    | dir | width | meaning |
//! |---------|-----|-------|---------|
//! | `clock` | in  | 1     | rising-edge clock (the DSP's `CLK`) |
//! | `reset` | in  | 1     | synchronous, active high: at an edge where it is high, `p_hi` = `p_lo` = 0 (whatever `en` is) |
//! | `en`    | in  | 1     | clock enable: at an edge where it is high (and `reset` low), both products are registered |
//! | `a_hi`  | in  | 8     | int8, two's complement |
//! | `b_hi`  | in  | 8     | int8, two's complement |
//! | `a_lo`  | in  | 8     | int8, two's complement |
//! | `b_lo`  | in  | 8     | int8, two's complement |
//! | `p_hi`  | out | 16    | int16 `a_hi * b_hi`, two's complement (exact: -16256..=16384) |
//! | `p_lo`  | out | 16    | int16 `a_lo * b_lo`, two's complement (exact) |
//!
//! # Timing
//! - Latency: [`LATENCY`] = 1. The products of the operands present at a rising edge with `en`
//!   high appear right after that edge, in the DSP's output registers.
//! - Throughput: two products per cycle. With `en` low the outputs hold; nothing is combinational
//!   from any input to `p_hi`/`p_lo`.
//!
//! # The primitive, as Yosys models it (`cells_sim.v`, Yosys 0.23)
//! With `MODE_8x8 = 1`, `A_SIGNED = 1`, `B_SIGNED = 1` the multiplier stage forms
//! `Ah = sext16(A[15:8])`, `Al = sext16(A[7:0])`, `Bh = sext16(B[15:8])`, `Bl = sext16(B[7:0])`
//! and the two 16-bit products `F = Ah * Bh` and `G = Al * Bl` (mod 2^16). Since Yosys PR #1212
//! (2019) the low half is sign-extended too when `MODE_8x8` is set, so **both** halves are signed
//! products and no sign correction is needed in fabric; an int8 x int8 product always fits in 16
//! bits, so the truncation loses nothing. The 16 x 16 partial products `J`, `K` and the `H`
//! register are not used in 8 x 8 mode.
//!
//! The products are registered in the accumulator output registers, used as plain registers:
//! `TOPADDSUB_LOWERINPUT = 1` (F), `TOPADDSUB_UPPERINPUT = 1` (the `C` input, tied to 0),
//! carry-in 0, `ADDSUBTOP = 0`, so the top adder gives `F + 0`; `TOPOUTPUT_SELECT = 1` puts the
//! register `Q` on `O[31:16]`. The bottom half is the same with `G`, `D` = 0 and `S` on `O[15:0]`.
//! Reset uses the synchronous load `OLOADTOP`/`OLOADBOT` = `reset`, which loads `C`/`D` = 0 into
//! the registers; `CE = en | reset` (one LUT) so that a reset is not held off by `en`. The
//! primitive's own resets (`IRST*`, `ORST*`) are asynchronous in the model and are tied to 0. The
//! 8 x 8 pipeline registers (`TOP/BOT_8x8_MULT_REG`) and input registers (`A_REG`, `B_REG`) are
//! bypassed: they have only those asynchronous resets.
//!
//! # Synthesis
//! The emitted file carries a port-accurate `(* blackbox *)` declaration of `SB_MAC16`, so it is
//! self-contained for Yosys (`hierarchy -check`) and for `verilator --lint-only -Wall` (its body
//! only exists to be lint clean; Yosys drops it). The declaration sits inside
//! `` `ifndef `` [`DECLARED_DEFINE`]: RustHDL repeats a wrapper's declarations once per instance,
//! and the guard keeps one; to simulate, define the macro and add Yosys' `cells_sim.v`.
//!
//! **Yosys 0.23 `synth_ice40 -dsp` rewrites every `SB_MAC16` it finds**: its `ice40_dsp` pass
//! takes instantiated cells for its own 16 x 16 multipliers and resets their configuration
//! (`MODE_8x8 = 0`, `CLK`/`CE` = 0, output select 3), which breaks this block silently (Yosys
//! issue #2922 reports the crashing variant). `testbench::yosys::synth` therefore hides
//! instantiated `SB_MAC16` cells from that pass and restores them afterwards; any other flow
//! must synthesize without `-dsp` or do the same.
//!
//! # Resources (Yosys 0.23, `synth_ice40 -dsp` through `testbench::yosys`)
//! 1 SB_MAC16, 1 SB_LUT4 (`en | reset`), no flip-flops in fabric.
//!
//! # Limits
//! iCE40 UltraPlus only (UP5K: 8 DSPs, so 16 int8 products per cycle). Signed operands only.
//! In RTL simulation the outputs are `x` until the first edge with `reset` or `en` high.
use rust_hdl::prelude::*;

/// Cycles from the edge that takes the operands to the products on `p_hi`/`p_lo`.
pub const LATENCY: usize = 1;

/// The macro that removes the `SB_MAC16` declaration from the emitted Verilog: define it when
/// Yosys' `cells_sim.v` (or another `SB_MAC16` model) is compiled with the design.
pub const DECLARED_DEFINE: &str = "ITX_SB_MAC16_DECLARED";

/// Every `SB_MAC16` parameter as instantiated: name, width in bits, value.
pub const SB_MAC16_PARAMS: [(&str, usize, u8); 20] = [
    ("NEG_TRIGGER", 1, 0),
    ("C_REG", 1, 0),
    ("A_REG", 1, 0),
    ("B_REG", 1, 0),
    ("D_REG", 1, 0),
    ("TOP_8x8_MULT_REG", 1, 0),
    ("BOT_8x8_MULT_REG", 1, 0),
    ("PIPELINE_16x16_MULT_REG1", 1, 0),
    ("PIPELINE_16x16_MULT_REG2", 1, 0),
    ("TOPOUTPUT_SELECT", 2, 1),
    ("TOPADDSUB_LOWERINPUT", 2, 1),
    ("TOPADDSUB_UPPERINPUT", 1, 1),
    ("TOPADDSUB_CARRYSELECT", 2, 0),
    ("BOTOUTPUT_SELECT", 2, 1),
    ("BOTADDSUB_LOWERINPUT", 2, 1),
    ("BOTADDSUB_UPPERINPUT", 1, 1),
    ("BOTADDSUB_CARRYSELECT", 2, 0),
    ("MODE_8x8", 1, 1),
    ("A_SIGNED", 1, 1),
    ("B_SIGNED", 1, 1),
];

/// One 8 x 8 half of the DSP as `cells_sim.v` computes it in this configuration: both operands
/// sign-extended to 16 bits, the product taken mod 2^16. Operands and result are two's
/// complement bit patterns.
pub fn half_product(a: u8, b: u8) -> u16 {
    let a16 = a as i8 as i16 as u16;
    let b16 = b as i8 as i16 as u16;
    a16.wrapping_mul(b16)
}

/// The dual 8 x 8 DSP block; see the module documentation.
#[derive(LogicBlock, Default)]
pub struct Mac16Dual8 {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub en: Signal<In, Bit>,
    pub a_hi: Signal<In, Bits<8>>,
    pub a_lo: Signal<In, Bits<8>>,
    pub b_hi: Signal<In, Bits<8>>,
    pub b_lo: Signal<In, Bits<8>>,
    pub p_hi: Signal<Out, Bits<16>>,
    pub p_lo: Signal<Out, Bits<16>>,
}

/// The glue inside the wrapper module: the instance and the output split.
fn instance_verilog() -> String {
    let params: Vec<String> = SB_MAC16_PARAMS
        .iter()
        .map(|(name, width, value)| format!("    .{name}({width}'b{:0w$b})", value, w = *width))
        .collect();
    format!(
        "
// One SB_MAC16 in dual 8x8 signed mode; products registered in the accumulator registers,
// synchronous reset through OLOADTOP/OLOADBOT (loads C = D = 0). See hdl/src/sb_mac16.rs.
wire dsp_ce;
wire [31:0] dsp_o;
wire unused_dsp_co;
wire unused_dsp_accumco;
wire unused_dsp_signextout;
assign dsp_ce = en | reset;
SB_MAC16 #(
{}
) dsp (
    .CLK(clock), .CE(dsp_ce),
    .C(16'h0000), .A({{a_hi, a_lo}}), .B({{b_hi, b_lo}}), .D(16'h0000),
    .AHOLD(1'b0), .BHOLD(1'b0), .CHOLD(1'b0), .DHOLD(1'b0),
    .IRSTTOP(1'b0), .IRSTBOT(1'b0), .ORSTTOP(1'b0), .ORSTBOT(1'b0),
    .OLOADTOP(reset), .OLOADBOT(reset), .ADDSUBTOP(1'b0), .ADDSUBBOT(1'b0),
    .OHOLDTOP(1'b0), .OHOLDBOT(1'b0), .CI(1'b0), .ACCUMCI(1'b0), .SIGNEXTIN(1'b0),
    .O(dsp_o), .CO(unused_dsp_co), .ACCUMCO(unused_dsp_accumco), .SIGNEXTOUT(unused_dsp_signextout)
);
assign p_hi = dsp_o[31:16];
assign p_lo = dsp_o[15:0];
",
        params.join(",\n")
    )
}

/// The `SB_MAC16` declaration for synthesis and lint, guarded by [`DECLARED_DEFINE`].
fn declaration_verilog() -> String {
    let params: Vec<String> = SB_MAC16_PARAMS
        .iter()
        .map(|(name, width, _)| {
            format!(
                "  parameter [{}:0] {name} = {width}'b{:0w$b};",
                width - 1,
                0,
                w = *width
            )
        })
        .collect();
    let names: Vec<&str> = SB_MAC16_PARAMS.iter().map(|p| p.0).collect();
    format!(
        "
`ifndef {DECLARED_DEFINE}
`define {DECLARED_DEFINE}
// Port-accurate declaration of the iCE40 UltraPlus DSP primitive (ports and parameters as in
// Yosys' ice40/cells_sim.v). Yosys treats it as a black box and drops the body, which exists only
// so that `verilator --lint-only -Wall` sees every port used and every output driven. Simulate
// with cells_sim.v and +define+{DECLARED_DEFINE}; this stub alone outputs zeros.
(* blackbox *)
module SB_MAC16 (
  input CLK, input CE,
  input [15:0] C, input [15:0] A, input [15:0] B, input [15:0] D,
  input AHOLD, input BHOLD, input CHOLD, input DHOLD,
  input IRSTTOP, input IRSTBOT, input ORSTTOP, input ORSTBOT,
  input OLOADTOP, input OLOADBOT, input ADDSUBTOP, input ADDSUBBOT,
  input OHOLDTOP, input OHOLDBOT, input CI, input ACCUMCI, input SIGNEXTIN,
  output [31:0] O, output CO, output ACCUMCO, output SIGNEXTOUT
);
{}
  wire unused_ok = &{{1'b0, CLK, CE, C, A, B, D, AHOLD, BHOLD, CHOLD, DHOLD,
    IRSTTOP, IRSTBOT, ORSTTOP, ORSTBOT, OLOADTOP, OLOADBOT, ADDSUBTOP, ADDSUBBOT,
    OHOLDTOP, OHOLDBOT, CI, ACCUMCI, SIGNEXTIN,
    {}}};
  assign O = 32'h0;
  assign CO = 1'b0;
  assign ACCUMCO = 1'b0;
  assign SIGNEXTOUT = 1'b0;
endmodule
`endif
",
        params.join("\n"),
        names.join(", ")
    )
}

impl Logic for Mac16Dual8 {
    /// The Rust model of the configured primitive (see the module documentation).
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if self.reset.val() {
                self.p_hi.next = 0u64.into();
                self.p_lo.next = 0u64.into();
            } else if self.en.val() {
                let hi = half_product(self.a_hi.val().to_u8(), self.b_hi.val().to_u8());
                let lo = half_product(self.a_lo.val().to_u8(), self.b_lo.val().to_u8());
                self.p_hi.next = (hi as u64).into();
                self.p_lo.next = (lo as u64).into();
            }
        }
    }

    fn connect(&mut self) {
        self.p_hi.connect();
        self.p_lo.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Wrapper(Wrapper {
            code: instance_verilog(),
            cores: declaration_verilog(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_product_is_the_signed_product() {
        for a in i8::MIN..=i8::MAX {
            for b in i8::MIN..=i8::MAX {
                let want = (a as i32 * b as i32) as i16 as u16;
                assert_eq!(half_product(a as u8, b as u8), want, "{a} * {b}");
            }
        }
    }

    #[test]
    fn emitted_verilog_instantiates_the_primitive_once_per_module() {
        let mut uut = Mac16Dual8::default();
        uut.connect_all();
        let v = crate::emit::generate(&uut, "mac16-dual8", "itx_").unwrap();
        assert!(v.contains("module itx_mac16_dual8("));
        assert!(v.contains(".MODE_8x8(1'b1)"));
        assert!(v.contains(".TOPOUTPUT_SELECT(2'b01)"));
        assert_eq!(v.matches("\nmodule SB_MAC16 (").count(), 1);
        assert!(v.contains(&format!("`ifndef {DECLARED_DEFINE}")));
    }
}
