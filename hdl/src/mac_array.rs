//! `mac-array`: an output-stationary systolic array of integer multiply-accumulate PEs, with the
//! input skew built in and a drain that adds a per-column bias and requantizes.
//!
//! Golden model: [`golden::mac_array::tile`] ([`golden::matmul::matmul`] then, for `out_bits` 8/16,
//! [`golden::requant::requant`])
//! per column. Cycle contract: [`golden::mac_array::ArrayTiming`]. Spec: `integer-ops.md`, "Integer
//! matrix multiply" and "Dyadic requantization".
//!
//! # Ports (all synchronous to `clock`; `R` = rows, `C` = cols)
//! | port        | dir | width | meaning |
//! |-------------|-----|-------|---------|
//! | `clock`     | in  | 1     | rising-edge clock |
//! | `reset`     | in  | 1     | synchronous, active high: empties the array, every register to 0 |
//! | `in_valid`  | in  | 1     | one step `k` of a tile is offered |
//! | `in_ready`  | out | 1     | the array takes it at this edge |
//! | `a_0..a_{R-1}` | in | 8 / 16 | `A[i][k]`: int8 (`a_signed`) or unsigned 0..=65535 |
//! | `b_0..b_{C-1}` | in | 8  | `B[k][j]`, int8 |
//! | `bias_0..`  | in  | 32    | per-column int32 bias, read on the `last` beat |
//! | `m_0..`, `c_0..` | in | 31, 6 | per-column requantization (only when `out_bits` is 8 or 16), read on the `last` beat |
//! | `last`      | in  | 1     | this beat closes the tile (`K` = beats since the previous `last`) |
//! | `out_valid` | out | 1     | one result row is offered |
//! | `out_ready` | in  | 1     | the consumer takes it at this edge |
//! | `y_0..y_{C-1}` | out | `out_bits` | row `i` of `bias + A x B` (int32, wrapping) or its requantization |
//! | `y_last`    | out | 1     | this is row `R - 1`, the tile's last |
//!
//! # Timing ([`golden::mac_array::ArrayTiming`])
//! - Latency: row `i` of a tile leaves `latency + i` cycles after its `last` beat was accepted,
//!   `latency = 7 + C + S` (+5 with requantization), `S` the product stages of the `pe` variant
//!   ([`Product::stages`]): 0 `infer`, 1 `pipelined` and `sb_mac16_dual`, 4 `mult18x18d`.
//! - Throughput: one beat per cycle in, one row per cycle out; two `last` beats at least
//!   `max(R, C + 4 + S)` cycles apart (`in_ready` stays low for an early `last` beat), so tiles
//!   with `K >=` that run back to back with no bubble.
//! - Backpressure: the whole array advances on `en = !out_valid || out_ready` (a global stall);
//!   `in_ready` depends combinationally on `out_ready` and `last`.
//!   With `pe = mult18x18d` the array instead advances on a registered enable, decided one cycle
//!   ahead and copied into one kept flip-flop per PE, row and column ([`KeepReg`]), so that no
//!   combinational path runs from `out_ready` across the die to the clock enables; a spare output
//!   register `S` takes the row the array pushes out of its output register while the consumer
//!   stalls, and `y`/`out_valid` come from `S` while it holds a row (a 2:1 mux after the
//!   registers). `in_ready` then depends on registers and `last` only. With `out_ready` high the
//!   array never stops and `S` stays empty, so the cycle contract is the same; under backpressure
//!   the array stops one or two cycles after `out_ready` falls (with at most two rows waiting) and
//!   resumes one cycle after the wait drops to one row. The tile's `bias`/`m`/`c` reach the
//!   parameter registers through a one-cycle staging register there.
//!
//! # Structure (one module per instance, as RustHDL emits)
//! 1. Skew lines ([`DelayLine`]): row `i`'s `a` and step flags (valid, first, last) wait `i + 1`
//!    cycles, column `j`'s `b` waits `j + 1`.
//! 2. PEs ([`Pe`]): `a` and the flags move right, `b` moves down; each PE multiplies
//!    and accumulates `acc = (first ? 0 : acc) + a*b` in wrapping int32 ([`PeMac`]: the signed
//!    multiply-add, the one `Verilog::Custom` here, since RustHDL emits only 16 x 16 multiplies).
//!    With int8 A the whole MAC (multiplier, adder, accumulator) is one SB_MAC16 with
//!    `synth_ice40 -dsp`; on ECP5 the product is one MULT18X18D and the adder is fabric. PE `(i, j)` finishes a tile
//!    `i + j` cycles after PE `(0, 0)`, so in one column exactly one PE finishes per cycle.
//!    The other `pe` variants ([`Product`]) take the product from elsewhere, `S` cycles after the
//!    operands, and delay the step flags to match (`f_pre`, `ext_f`): a product register
//!    ([`PeMulReg`], `pipelined`), half of a shared SB_MAC16 ([`Mac16Dual8`], `sb_mac16_dual`), or
//!    an instantiated ECP5 MULT18X18D with its input, pipeline and output registers followed by a
//!    fabric register ([`Mult18Pe`], `mult18x18d`: 3 + 1 stages, so that no path crosses between
//!    the fabric and the DSP column without a register at both ends).
//! 3. Column collectors ([`Or4`] trees, 3 stages): the finished PE's sum, tagged valid (and "row 0"
//!    for the top row), is OR-ed down its column; all other PEs contribute 0.
//! 4. Drains ([`DrainRaw`] / [`DrainRq`], one per column): hold register (the tile's `bias`/`m`/`c`
//!    are latched there from the input's parameter register when row 0 passes), bias adder,
//!    requantizer ([`crate::requant::Requant`] in lock step), deskew line of `C - j` stages whose
//!    last is the output register.
//!
//! # Parameter limits
//! `R`, `C` in 1..=32 (checked by [`MacArray::new`]); `AW` 8 (signed A) or 16 (unsigned A);
//! `OB` 8, 16 (requantized) or 32 (raw sums). `sb_mac16_dual`: iCE40 UltraPlus only, int8 A
//! only. `mult18x18d`: ECP5 only (synthesis and place and route for iCE40 are refused), one
//! MULT18X18D per PE, so `R x C <= 156` (the LFE5U-85F's count; checked by the `mac-array`
//! block's parameters), both A widths; the requantizer's multipliers are inferred as before.
//!
//! # ECP5 Fmax (`itx pnr`, LFE5U-85F, out_bits 32, seed 1)
//! At 12 x 12: `infer` 58.7 MHz, `pipelined` 64.0 MHz (both limited by an operand register ->
//! the DSP column -> the combinational MULT18X18D -> back to the accumulator), `mult18x18d`: see
//! README.md ("MAC array").
use rust_hdl::prelude::*;

use golden::mac_array::ArrayTiming;
use golden::requant::Rounding;

use crate::mult18x18d::Mult18Pe;
use crate::requant::Requant;
use crate::sb_mac16::Mac16Dual8;

/// The largest `rows` and `cols`.
pub const MAX_DIM: usize = 32;

/// The values of a PE's operand bit patterns: `a` int8 (`AW` = 8) or unsigned 16-bit, `b` int8.
fn pe_operands<const AW: usize>(a_raw: u64, b_raw: u64) -> (i64, i64) {
    let a = if AW == 8 {
        a_raw as u8 as i8 as i64
    } else {
        a_raw as i64
    };
    (a, b_raw as u8 as i8 as i64)
}

/// The Verilog declaration of the signed `a_s` from the port `a`, and the exact product width.
fn pe_operand_decl<const AW: usize>() -> (&'static str, usize) {
    if AW == 8 {
        ("wire signed [7:0] a_s = a;", 16)
    } else {
        ("wire signed [16:0] a_s = {1'b0, a};", 25)
    }
}

/// The PE's multiply-accumulate register: at a rising edge with `en` high,
/// `acc <= (first ? 0 : acc) + a * b` in wrapping 32-bit two's complement; `a` is int8 (`AW` = 8)
/// or unsigned 16-bit (`AW` = 16), `b` is int8. No reset: a tile always starts with `first`, and
/// the PE shows `acc` only after a tile's last step. RustHDL emits no signed 8 x 8 or 17 x 8
/// multiply, so this is written in Verilog, with a Rust model. It is written the way Yosys's
/// `ice40_dsp` recognizes a MAC: the product at its exact width (16 bits for int8 x int8, 25 for
/// u16 x int8) into a signed, sign-extending adder whose result is the register (one waiver in
/// lint/itx.vlt for the widening add); with int8 A the multiplier, adder and accumulator become
/// one SB_MAC16 (a 32-bit product with explicit sign bits, or an unsigned add, keeps them in
/// fabric). Keeping the register here also keeps the PE's combinational block free of a
/// read-after-write through this module (Verilator's UNOPTFLAT).
#[derive(LogicBlock, Default)]
pub struct PeMac<const AW: usize> {
    pub clock: Signal<In, Clock>,
    pub en: Signal<In, Bit>,
    pub first: Signal<In, Bit>,
    pub a: Signal<In, Bits<AW>>,
    pub b: Signal<In, Bits<8>>,
    pub acc: Signal<Out, Bits<32>>,
}

impl<const AW: usize> Logic for PeMac<AW> {
    fn update(&mut self) {
        if self.clock.pos_edge() && self.en.val() {
            let (a, b) = pe_operands::<AW>(self.a.val().to_u64(), self.b.val().to_u64());
            let base = if self.first.val() {
                0
            } else {
                self.acc.val().to_u64() as i64
            };
            self.acc.next = ((base.wrapping_add(a * b) as u64) & 0xffff_ffff).into();
        }
    }

    fn connect(&mut self) {
        self.acc.connect();
    }

    fn hdl(&self) -> Verilog {
        let (a_decl, pw) = pe_operand_decl::<AW>();
        Verilog::Custom(format!(
            "{a_decl}\n\
             wire signed [7:0] b_s = b;\n\
             wire signed [{msb}:0] prod = a_s * b_s;\n\
             wire signed [31:0] base = first ? 32'sd0 : $signed(acc);\n\
             wire signed [31:0] total = base + prod;\n\
             always @(posedge clock) if (en) acc <= total;",
            msb = pw - 1
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "pe_mac".into(),
            clock: "clock".into(),
            inputs: vec!["en".into(), "first".into(), "a".into(), "b".into()],
            outputs: vec!["acc".into()],
        }]
    }
}

/// The product register of `pe = pipelined`: at a rising edge with `en` high, `p <= a * b`
/// (sign-extended to 32 bits); `a` int8 (`AW` = 8) or unsigned 16-bit (`AW` = 16), `b` int8. The
/// register splits the PE's critical path (operand register, the trip to the DSP column and
/// back, the accumulator's carry chain) in two. Written in Verilog (RustHDL has no signed
/// 8 x 8 or 17 x 8 multiply) with a Rust model.
#[derive(LogicBlock, Default)]
pub struct PeMulReg<const AW: usize> {
    pub clock: Signal<In, Clock>,
    pub en: Signal<In, Bit>,
    pub a: Signal<In, Bits<AW>>,
    pub b: Signal<In, Bits<8>>,
    pub p: Signal<Out, Bits<32>>,
}

impl<const AW: usize> Logic for PeMulReg<AW> {
    fn update(&mut self) {
        if self.clock.pos_edge() && self.en.val() {
            let (a, b) = pe_operands::<AW>(self.a.val().to_u64(), self.b.val().to_u64());
            self.p.next = (((a * b) as u64) & 0xffff_ffff).into();
        }
    }

    fn connect(&mut self) {
        self.p.connect();
    }

    fn hdl(&self) -> Verilog {
        let (a_decl, pw) = pe_operand_decl::<AW>();
        Verilog::Custom(format!(
            "{a_decl}\n\
             wire signed [7:0] b_s = b;\n\
             wire signed [{msb}:0] prod = a_s * b_s;\n\
             always @(posedge clock) if (en) p <= {{{{{ext}{{prod[{msb}]}}}}, prod}};",
            msb = pw - 1,
            ext = 32 - pw
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "pe_mul_reg".into(),
            clock: "clock".into(),
            inputs: vec!["en".into(), "a".into(), "b".into()],
            outputs: vec!["p".into()],
        }]
    }
}

/// A delay line of `depth >= 1` registers that advance together when `en` is high; `q` is the
/// last register. Synchronous reset clears every register.
#[derive(LogicBlock)]
pub struct DelayLine<T: Synth> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub en: Signal<In, Bit>,
    pub d: Signal<In, T>,
    pub q: Signal<Out, T>,
    regs: Vec<DFF<T>>,
    zero: Constant<T>,
}

impl<T: Synth> DelayLine<T> {
    pub fn new(depth: usize) -> Self {
        assert!(depth >= 1, "DelayLine depth must be at least 1");
        Self {
            clock: Default::default(),
            reset: Default::default(),
            en: Default::default(),
            d: Default::default(),
            q: Default::default(),
            regs: (0..depth).map(|_| DFF::default()).collect(),
            zero: Constant::new(T::default()),
        }
    }
}

impl<T: Synth> Logic for DelayLine<T> {
    #[hdl_gen]
    fn update(&mut self) {
        for s in 0..self.regs.len() {
            self.regs[s].clock.next = self.clock.val();
            self.regs[s].d.next = self.regs[s].q.val();
        }
        if self.en.val() {
            self.regs[0].d.next = self.d.val();
            for s in 1..self.regs.len() {
                self.regs[s].d.next = self.regs[s - 1].q.val();
            }
        }
        if self.reset.val() {
            for s in 0..self.regs.len() {
                self.regs[s].d.next = self.zero.val();
            }
        }
        for l in (self.regs.len() - 1)..self.regs.len() {
            self.q.next = self.regs[l].q.val();
        }
    }
}

/// A one-bit register that synthesis keeps as its own flip-flop (`(* keep *)` on its process, so
/// Yosys's `opt_merge` does not fold identical copies into one): at a rising edge
/// `q <= reset | d`. The MAC array with a registered enable has one copy of its advance per PE,
/// per row and per column, each driving only its own part's clock enables. `reset` is a
/// synchronous set.
#[derive(LogicBlock, Default)]
pub struct KeepReg {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub d: Signal<In, Bit>,
    pub q: Signal<Out, Bit>,
}

impl Logic for KeepReg {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.q.next = self.reset.val() || self.d.val();
        }
    }

    fn connect(&mut self) {
        self.q.connect();
    }

    fn hdl(&self) -> Verilog {
        // Written as a synchronous set, not `reset | d`: the flip-flop takes `reset` on its own
        // set input, so the array's reset does not pass through the LUT that feeds every copy.
        Verilog::Custom(
            "(* keep *)\nalways @(posedge clock) if (reset) q <= 1'b1; else q <= d;".into(),
        )
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "keep_reg".into(),
            clock: "clock".into(),
            inputs: vec!["reset".into(), "d".into()],
            outputs: vec!["q".into()],
        }]
    }
}

/// Tag bits of a collector word: bit 33 = a result, bit 32 = it comes from row 0 (a tile's first
/// row in this column), bits 31..0 = the sum.
const TAG_VALID: u64 = 1 << 33;
const TAG_ROW0: u64 = 1 << 32;

/// One processing element. Flags `f` (bit 0 valid, bit 1 first step of a tile, bit 2 last step)
/// travel with `a`. When `en` and the step is valid: `acc <= (first ? 0 : acc) + a*b`; after a
/// last step, `res` shows the tile's sum, tagged, for one advancing cycle, else 0. Every output
/// is a register (`a_out`, `f_out`, `b_out`: one cycle, to the neighbours).
#[derive(LogicBlock)]
pub struct Pe<const AW: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub en: Signal<In, Bit>,
    pub a_in: Signal<In, Bits<AW>>,
    pub f_in: Signal<In, Bits<3>>,
    pub b_in: Signal<In, Bits<8>>,
    pub a_out: Signal<Out, Bits<AW>>,
    pub f_out: Signal<Out, Bits<3>>,
    pub b_out: Signal<Out, Bits<8>>,
    pub res: Signal<Out, Bits<34>>,
    /// The product from a shared DSP (`pe = sb_mac16_dual`), one cycle after the operands.
    pub p_ext: Signal<In, Bits<16>>,
    /// Inferred multiply-add (`pe = infer`): one element; none with an external product.
    mac: Vec<PeMac<AW>>,
    /// Registered multiplier (`pe = pipelined`): one element; its product takes the place of
    /// `p_ext`.
    mulr: Vec<PeMulReg<AW>>,
    /// Instantiated ECP5 DSP with its own registers (`pe = mult18x18d`): one element; its product
    /// reaches the accumulator [`MULT18_STAGES`] cycles after the operands.
    m18: Vec<Mult18Pe<AW>>,
    /// `pe = mult18x18d`: a fabric register after the DSP's output register (one element, or none
    /// without [`MULT18_FABRIC_REG`]).
    m18_q: Vec<DFF<Bits<32>>>,
    /// The step flags' extra delay before `ext_f` when the product takes more than one cycle
    /// (none for one cycle).
    f_pre: Vec<DelayLine<Bits<3>>>,
    ext_f: DFF<Bits<3>>,
    ext_p32: Signal<Local, Bits<32>>,
    ext_sum: Signal<Local, Bits<32>>,
    acc_now: Signal<Local, Bits<32>>,
    sign_ext: Constant<Bits<32>>,
    tag: Constant<Bits<34>>,
    zero_a: Constant<Bits<AW>>,
    zero3: Constant<Bits<3>>,
    zero8: Constant<Bits<8>>,
    zero32: Constant<Bits<32>>,
    zero34: Constant<Bits<34>>,
    a_r: DFF<Bits<AW>>,
    f_r: DFF<Bits<3>>,
    b_r: DFF<Bits<8>>,
    acc: DFF<Bits<32>>,
    done: DFF<Bit>,
    base: Signal<Local, Bits<32>>,
    acc34: Signal<Local, Bits<34>>,
}

impl<const AW: usize> Pe<AW> {
    /// A PE; `row0` tags its results as a tile's first row; `ext`: the product comes from a
    /// shared DSP on `p_ext` one cycle after the operands (the step flags wait one cycle in
    /// `ext_f`, the accumulator is a fabric adder), instead of the PE's own multiply-add.
    pub fn new(row0: bool, ext: bool) -> Self {
        Self::with_product(row0, if ext { Product::Shared } else { Product::Mac })
    }

    /// A PE whose product comes from `product`.
    pub fn with_product(row0: bool, product: Product) -> Self {
        let ext = product != Product::Mac;
        let tag = TAG_VALID | if row0 { TAG_ROW0 } else { 0 };
        Self {
            clock: Default::default(),
            reset: Default::default(),
            en: Default::default(),
            a_in: Default::default(),
            f_in: Default::default(),
            b_in: Default::default(),
            a_out: Default::default(),
            f_out: Default::default(),
            b_out: Default::default(),
            res: Default::default(),
            p_ext: Default::default(),
            mac: if ext {
                Vec::new()
            } else {
                vec![PeMac::default()]
            },
            mulr: if product == Product::Registered {
                vec![PeMulReg::default()]
            } else {
                Vec::new()
            },
            m18: if product == Product::Mult18x18d {
                vec![Mult18Pe::default()]
            } else {
                Vec::new()
            },
            m18_q: if product == Product::Mult18x18d && MULT18_FABRIC_REG {
                vec![DFF::default()]
            } else {
                Vec::new()
            },
            f_pre: if product.stages() > 1 {
                vec![DelayLine::new(product.stages() - 1)]
            } else {
                Vec::new()
            },
            ext_f: Default::default(),
            ext_p32: Default::default(),
            ext_sum: Default::default(),
            acc_now: Default::default(),
            sign_ext: Constant::new(0xffff_0000u64.into()),
            tag: Constant::new(tag.into()),
            zero_a: Constant::new(0u64.into()),
            zero3: Constant::new(0u64.into()),
            zero8: Constant::new(0u64.into()),
            zero32: Constant::new(0u64.into()),
            zero34: Constant::new(0u64.into()),
            a_r: Default::default(),
            f_r: Default::default(),
            b_r: Default::default(),
            acc: Default::default(),
            done: Default::default(),
            base: Default::default(),
            acc34: Default::default(),
        }
    }
}

impl<const AW: usize> Logic for Pe<AW> {
    #[hdl_gen]
    fn update(&mut self) {
        self.a_r.clock.next = self.clock.val();
        self.f_r.clock.next = self.clock.val();
        self.b_r.clock.next = self.clock.val();
        self.acc.clock.next = self.clock.val();
        self.done.clock.next = self.clock.val();
        self.ext_f.clock.next = self.clock.val();
        self.a_r.d.next = self.a_r.q.val();
        self.f_r.d.next = self.f_r.q.val();
        self.b_r.d.next = self.b_r.q.val();
        self.acc.d.next = self.acc.q.val();
        self.done.d.next = self.done.q.val();
        self.ext_f.d.next = self.ext_f.q.val();

        // External product (pe = sb_mac16_dual), one cycle after the operands: the step flags
        // wait in ext_f; acc <= (first ? 0 : acc) + sext(p_ext) in fabric.
        self.base.next = self.acc.q.val();
        if self.ext_f.q.val().get_bit(1) {
            self.base.next = self.zero32.val();
        }
        self.ext_p32.next = bit_cast::<32, 16>(self.p_ext.val());
        if self.p_ext.val().get_bit(15) {
            self.ext_p32.next = bit_cast::<32, 16>(self.p_ext.val()) | self.sign_ext.val();
        }
        for k in 0..self.mulr.len() {
            self.mulr[k].clock.next = self.clock.val();
            self.mulr[k].en.next = self.en.val();
            self.mulr[k].a.next = self.a_in.val();
            self.mulr[k].b.next = self.b_in.val();
            self.ext_p32.next = self.mulr[k].p.val();
        }
        // Instantiated DSP (pe = mult18x18d), optionally followed by a fabric register.
        for k in 0..self.m18.len() {
            self.m18[k].clock.next = self.clock.val();
            self.m18[k].reset.next = self.reset.val();
            self.m18[k].en.next = self.en.val();
            self.m18[k].a.next = self.a_in.val();
            self.m18[k].b.next = self.b_in.val();
            self.ext_p32.next = self.m18[k].p.val();
        }
        for k in 0..self.m18_q.len() {
            self.m18_q[k].clock.next = self.clock.val();
            self.m18_q[k].d.next = self.m18_q[k].q.val();
            if self.en.val() {
                self.m18_q[k].d.next = self.m18[k].p.val();
            }
            if self.reset.val() {
                self.m18_q[k].d.next = self.zero32.val();
            }
            self.ext_p32.next = self.m18_q[k].q.val();
        }
        for k in 0..self.f_pre.len() {
            self.f_pre[k].clock.next = self.clock.val();
            self.f_pre[k].reset.next = self.reset.val();
            self.f_pre[k].en.next = self.en.val();
            self.f_pre[k].d.next = self.f_in.val();
        }
        self.ext_sum.next = self.base.val() + self.ext_p32.val();
        self.acc_now.next = self.acc.q.val();
        if self.en.val() {
            self.a_r.d.next = self.a_in.val();
            self.f_r.d.next = self.f_in.val();
            self.b_r.d.next = self.b_in.val();
            self.ext_f.d.next = self.f_in.val();
            for k in 0..self.f_pre.len() {
                self.ext_f.d.next = self.f_pre[k].q.val();
            }
            self.done.d.next = self.ext_f.q.val().get_bit(0) && self.ext_f.q.val().get_bit(2);
            if self.ext_f.q.val().get_bit(0) {
                self.acc.d.next = self.ext_sum.val();
            }
        }
        // Inferred multiply-add (pe = infer): the flags of this step.
        for k in 0..self.mac.len() {
            self.mac[k].clock.next = self.clock.val();
            self.mac[k].en.next = self.en.val() && self.f_in.val().get_bit(0);
            self.mac[k].first.next = self.f_in.val().get_bit(1);
            self.mac[k].a.next = self.a_in.val();
            self.mac[k].b.next = self.b_in.val();
            self.acc_now.next = self.mac[k].acc.val();
            if self.en.val() {
                self.done.d.next = self.f_in.val().get_bit(0) && self.f_in.val().get_bit(2);
            }
        }
        if self.reset.val() {
            self.a_r.d.next = self.zero_a.val();
            self.f_r.d.next = self.zero3.val();
            self.b_r.d.next = self.zero8.val();
            self.ext_f.d.next = self.zero3.val();
            self.done.d.next = false;
        }

        self.a_out.next = self.a_r.q.val();
        self.f_out.next = self.f_r.q.val();
        self.b_out.next = self.b_r.q.val();
        self.acc34.next = bit_cast::<34, 32>(self.acc_now.val());
        self.res.next = self.zero34.val();
        if self.done.q.val() {
            self.res.next = self.acc34.val() | self.tag.val();
        }
    }
}

/// Where a PE's product comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    /// Its own multiply-accumulate register ([`PeMac`]; `pe = infer`).
    Mac,
    /// A shared SB_MAC16 half, registered, on `p_ext` (`pe = sb_mac16_dual`).
    Shared,
    /// Its own registered multiplier ([`PeMulReg`]; `pe = pipelined`).
    Registered,
    /// Its own instantiated ECP5 `MULT18X18D` with input, pipeline and output registers
    /// ([`Mult18Pe`]; `pe = mult18x18d`), [`MULT18_STAGES`] cycles.
    Mult18x18d,
}

/// `pe = mult18x18d`: whether a fabric register follows the DSP's output register (the trip from
/// the DSP column back to the accumulator's carry chain gets a cycle of its own).
pub const MULT18_FABRIC_REG: bool = true;

/// `pe = mult18x18d`: cycles from a PE's operands to its product at the accumulator's adder.
pub const MULT18_STAGES: usize = crate::mult18x18d::LATENCY + MULT18_FABRIC_REG as usize;

impl Product {
    /// Register stages between a PE's operands and its accumulator's adder
    /// ([`golden::mac_array::ArrayTiming::product_stages`]).
    pub fn stages(self) -> usize {
        match self {
            Product::Mac => 0,
            Product::Shared | Product::Registered => 1,
            Product::Mult18x18d => MULT18_STAGES,
        }
    }

    /// Whether the array advances on a registered enable (copied per PE, row and column) with a
    /// spare output register, rather than on `!out_valid || out_ready`: `pe = mult18x18d`, where
    /// the combinational enable's trip across the die to every clock enable is the critical path.
    pub fn registered_enable(self) -> bool {
        self == Product::Mult18x18d
    }
}

/// A registered 4-input OR of collector words (one node of a column collector).
#[derive(LogicBlock)]
pub struct Or4 {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub en: Signal<In, Bit>,
    pub x0: Signal<In, Bits<34>>,
    pub x1: Signal<In, Bits<34>>,
    pub x2: Signal<In, Bits<34>>,
    pub x3: Signal<In, Bits<34>>,
    pub y: Signal<Out, Bits<34>>,
    r: DFF<Bits<34>>,
    zero34: Constant<Bits<34>>,
}

impl Default for Or4 {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            en: Default::default(),
            x0: Default::default(),
            x1: Default::default(),
            x2: Default::default(),
            x3: Default::default(),
            y: Default::default(),
            r: Default::default(),
            zero34: Constant::new(0u64.into()),
        }
    }
}

impl Logic for Or4 {
    #[hdl_gen]
    fn update(&mut self) {
        self.r.clock.next = self.clock.val();
        self.r.d.next = self.r.q.val();
        if self.en.val() {
            self.r.d.next = self.x0.val() | self.x1.val() | self.x2.val() | self.x3.val();
        }
        if self.reset.val() {
            self.r.d.next = self.zero34.val();
        }
        self.y.next = self.r.q.val();
    }
}

/// The drain of one column without requantization (`out_bits` 32): hold register with the tile's
/// bias latched beside row 0, bias adder, deskew line (`depth` = `C - j` stages, the last is the
/// output register). Latency from `t` to `y`: 2 + `depth`.
#[derive(LogicBlock)]
pub struct DrainRaw<const OB: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub en: Signal<In, Bit>,
    pub t: Signal<In, Bits<34>>,
    pub bias_in: Signal<In, Bits<32>>,
    pub y: Signal<Out, Bits<OB>>,
    pub yv: Signal<Out, Bit>,
    h: DFF<Bits<34>>,
    qb: DFF<Bits<32>>,
    bv: DFF<Bit>,
    bx: DFF<Bits<32>>,
    h_val: Signal<Local, Bits<32>>,
    sum: Signal<Local, Bits<32>>,
    zero32: Constant<Bits<32>>,
    zero34: Constant<Bits<34>>,
    dy: DelayLine<Bits<OB>>,
    dv: DelayLine<Bit>,
}

impl<const OB: usize> DrainRaw<OB> {
    pub fn new(depth: usize) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            en: Default::default(),
            t: Default::default(),
            bias_in: Default::default(),
            y: Default::default(),
            yv: Default::default(),
            h: Default::default(),
            qb: Default::default(),
            bv: Default::default(),
            bx: Default::default(),
            h_val: Default::default(),
            sum: Default::default(),
            zero32: Constant::new(0u64.into()),
            zero34: Constant::new(0u64.into()),
            dy: DelayLine::new(depth),
            dv: DelayLine::new(depth),
        }
    }
}

impl<const OB: usize> Logic for DrainRaw<OB> {
    #[hdl_gen]
    fn update(&mut self) {
        self.h.clock.next = self.clock.val();
        self.qb.clock.next = self.clock.val();
        self.bv.clock.next = self.clock.val();
        self.bx.clock.next = self.clock.val();
        self.h.d.next = self.h.q.val();
        self.qb.d.next = self.qb.q.val();
        self.bv.d.next = self.bv.q.val();
        self.bx.d.next = self.bx.q.val();

        self.h_val.next = self.h.q.val().get_bits::<32>(0);
        self.sum.next = self.h_val.val() + self.qb.q.val();
        if self.en.val() {
            self.h.d.next = self.t.val();
            if self.t.val().get_bit(32) {
                self.qb.d.next = self.bias_in.val();
            }
            self.bv.d.next = self.h.q.val().get_bit(33);
            self.bx.d.next = self.sum.val();
        }
        if self.reset.val() {
            self.h.d.next = self.zero34.val();
            self.qb.d.next = self.zero32.val();
            self.bv.d.next = false;
            self.bx.d.next = self.zero32.val();
        }

        self.dy.clock.next = self.clock.val();
        self.dy.reset.next = self.reset.val();
        self.dy.en.next = self.en.val();
        self.dy.d.next = bit_cast::<OB, 32>(self.bx.q.val());
        self.dv.clock.next = self.clock.val();
        self.dv.reset.next = self.reset.val();
        self.dv.en.next = self.en.val();
        self.dv.d.next = self.bv.q.val();
        self.y.next = self.dy.q.val();
        self.yv.next = self.dv.q.val();
    }
}

/// The drain of one column with requantization (`out_bits` `OB` = 8 or 16): as [`DrainRaw`], plus
/// the tile's `m` and `c` latched with the bias, and a [`Requant`] between the bias adder and the
/// deskew line. The requantizer runs in lock step with the array: its `in_valid` is tied high and
/// its `out_ready` is the array's `en`, so once its five stages have filled after reset (the
/// array's output is empty for longer than that, so `en` is high meanwhile) every stage advances
/// exactly when the array does; the valid bit travels beside it in a 5-stage [`DelayLine`].
/// Latency from `t` to `y`: 7 + `depth`.
#[derive(LogicBlock)]
pub struct DrainRq<const OB: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub en: Signal<In, Bit>,
    pub t: Signal<In, Bits<34>>,
    pub bias_in: Signal<In, Bits<32>>,
    pub m_in: Signal<In, Bits<31>>,
    pub c_in: Signal<In, Bits<6>>,
    pub y: Signal<Out, Bits<OB>>,
    pub yv: Signal<Out, Bit>,
    h: DFF<Bits<34>>,
    qb: DFF<Bits<32>>,
    qm: DFF<Bits<31>>,
    qc: DFF<Bits<6>>,
    bv: DFF<Bit>,
    bx: DFF<Bits<32>>,
    bm: DFF<Bits<31>>,
    bc: DFF<Bits<6>>,
    h_val: Signal<Local, Bits<32>>,
    sum: Signal<Local, Bits<32>>,
    zero6: Constant<Bits<6>>,
    zero31: Constant<Bits<31>>,
    zero32: Constant<Bits<32>>,
    zero34: Constant<Bits<34>>,
    rq: Requant<OB>,
    rv: DelayLine<Bit>,
    unused_rq_ready: Signal<Local, Bit>,
    unused_rq_valid: Signal<Local, Bit>,
    dy: DelayLine<Bits<OB>>,
    dv: DelayLine<Bit>,
}

impl<const OB: usize> DrainRq<OB> {
    pub fn new(depth: usize, rounding: Rounding) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            en: Default::default(),
            t: Default::default(),
            bias_in: Default::default(),
            m_in: Default::default(),
            c_in: Default::default(),
            y: Default::default(),
            yv: Default::default(),
            h: Default::default(),
            qb: Default::default(),
            qm: Default::default(),
            qc: Default::default(),
            bv: Default::default(),
            bx: Default::default(),
            bm: Default::default(),
            bc: Default::default(),
            h_val: Default::default(),
            sum: Default::default(),
            zero6: Constant::new(0u64.into()),
            zero31: Constant::new(0u64.into()),
            zero32: Constant::new(0u64.into()),
            zero34: Constant::new(0u64.into()),
            rq: Requant::new(rounding).expect("out_bits 8 or 16, checked by MacArray::new"),
            rv: DelayLine::new(crate::requant::LATENCY),
            unused_rq_ready: Default::default(),
            unused_rq_valid: Default::default(),
            dy: DelayLine::new(depth),
            dv: DelayLine::new(depth),
        }
    }
}

impl<const OB: usize> Logic for DrainRq<OB> {
    #[hdl_gen]
    fn update(&mut self) {
        self.h.clock.next = self.clock.val();
        self.qb.clock.next = self.clock.val();
        self.qm.clock.next = self.clock.val();
        self.qc.clock.next = self.clock.val();
        self.bv.clock.next = self.clock.val();
        self.bx.clock.next = self.clock.val();
        self.bm.clock.next = self.clock.val();
        self.bc.clock.next = self.clock.val();
        self.h.d.next = self.h.q.val();
        self.qb.d.next = self.qb.q.val();
        self.qm.d.next = self.qm.q.val();
        self.qc.d.next = self.qc.q.val();
        self.bv.d.next = self.bv.q.val();
        self.bx.d.next = self.bx.q.val();
        self.bm.d.next = self.bm.q.val();
        self.bc.d.next = self.bc.q.val();

        self.h_val.next = self.h.q.val().get_bits::<32>(0);
        self.sum.next = self.h_val.val() + self.qb.q.val();
        if self.en.val() {
            self.h.d.next = self.t.val();
            if self.t.val().get_bit(32) {
                self.qb.d.next = self.bias_in.val();
                self.qm.d.next = self.m_in.val();
                self.qc.d.next = self.c_in.val();
            }
            self.bv.d.next = self.h.q.val().get_bit(33);
            self.bx.d.next = self.sum.val();
            self.bm.d.next = self.qm.q.val();
            self.bc.d.next = self.qc.q.val();
        }
        if self.reset.val() {
            self.h.d.next = self.zero34.val();
            self.qb.d.next = self.zero32.val();
            self.qm.d.next = self.zero31.val();
            self.qc.d.next = self.zero6.val();
            self.bv.d.next = false;
            self.bx.d.next = self.zero32.val();
            self.bm.d.next = self.zero31.val();
            self.bc.d.next = self.zero6.val();
        }

        self.rq.clock.next = self.clock.val();
        self.rq.reset.next = self.reset.val();
        self.rq.in_valid.next = true;
        self.rq.x.next = self.bx.q.val();
        self.rq.m.next = self.bm.q.val();
        self.rq.c.next = self.bc.q.val();
        self.rq.out_ready.next = self.en.val();
        self.unused_rq_ready.next = self.rq.in_ready.val();
        self.unused_rq_valid.next = self.rq.out_valid.val();
        self.rv.clock.next = self.clock.val();
        self.rv.reset.next = self.reset.val();
        self.rv.en.next = self.en.val();
        self.rv.d.next = self.bv.q.val();

        self.dy.clock.next = self.clock.val();
        self.dy.reset.next = self.reset.val();
        self.dy.en.next = self.en.val();
        self.dy.d.next = self.rq.y.val();
        self.dv.clock.next = self.clock.val();
        self.dv.reset.next = self.reset.val();
        self.dv.en.next = self.en.val();
        self.dv.d.next = self.rv.q.val();
        self.y.next = self.dy.q.val();
        self.yv.next = self.dv.q.val();
    }
}

/// A generator parameter outside its range.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MacArrayError {
    #[error("mac-array: `{param}` = {value} is not in 1..=32")]
    Dim { param: &'static str, value: usize },
    #[error("mac-array: `out_bits` = {0} is not supported (allowed: 8, 16, 32)")]
    OutBits(usize),
    #[error("mac-array: A width {0} is not supported (8: signed int8, 16: unsigned)")]
    AWidth(usize),
    #[error("mac-array: `pe` = sb_mac16_dual needs `a_signed` = true (the DSP's 8 x 8 halves take int8 only)")]
    DualNeedsInt8,
}

/// The MAC array: `R x C` PEs, `AW`-bit A (8 signed / 16 unsigned), `OB`-bit results. See the
/// module documentation for ports and timing. Build it with [`MacArray::new`].
#[derive(LogicBlock)]
pub struct MacArray<const AW: usize, const OB: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub a: Vec<Signal<In, Bits<AW>>>,
    pub b: Vec<Signal<In, Bits<8>>>,
    pub bias: Vec<Signal<In, Bits<32>>>,
    pub m: Vec<Signal<In, Bits<31>>>,
    pub c: Vec<Signal<In, Bits<6>>>,
    pub last: Signal<In, Bit>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub y: Vec<Signal<Out, Bits<OB>>>,
    pub y_last: Signal<Out, Bit>,

    period_m1: Constant<Bits<6>>,
    rows_m1: Constant<Bits<6>>,
    zero6: Constant<Bits<6>>,
    one6: Constant<Bits<6>>,
    zero32: Constant<Bits<32>>,
    zero34: Constant<Bits<34>>,
    flag_v: Constant<Bits<3>>,
    flag_vf: Constant<Bits<3>>,
    flag_vl: Constant<Bits<3>>,
    flag_vfl: Constant<Bits<3>>,
    zero3: Constant<Bits<3>>,
    en: Signal<Local, Bit>,
    fire: Signal<Local, Bit>,
    ov: Signal<Local, Bit>,
    gap_zero: Signal<Local, Bit>,
    flags: Signal<Local, Bits<3>>,
    first: DFF<Bit>,
    gap: DFF<Bits<6>>,
    row: DFF<Bits<6>>,

    askew: Vec<DelayLine<Bits<AW>>>,
    fskew: Vec<DelayLine<Bits<3>>>,
    bskew: Vec<DelayLine<Bits<8>>>,
    pb: Vec<DFF<Bits<32>>>,
    pm: Vec<DFF<Bits<31>>>,
    pc: Vec<DFF<Bits<6>>>,
    pe: Vec<Pe<AW>>,
    /// `pe = sb_mac16_dual`: one SB_MAC16 per pair of PEs in a row, dsp[i * ceil(C/2) + q]
    /// serving PEs (i, 2q) (low half) and (i, 2q + 1) (high half).
    dsp: Vec<Mac16Dual8>,
    /// The high half of a row's last DSP when `cols` is odd.
    unused_hi: Vec<Signal<Local, Bits<16>>>,
    zero16: Constant<Bits<16>>,
    unused_a: Vec<Signal<Local, Bits<AW>>>,
    unused_f: Vec<Signal<Local, Bits<3>>>,
    unused_b: Vec<Signal<Local, Bits<8>>>,
    /// Every column's output valid (all equal after the deskew; the last column's is used).
    unused_yv: Vec<Signal<Local, Bit>>,
    bus0: Vec<Signal<Local, Bits<34>>>,
    or1: Vec<Or4>,
    bus1: Vec<Signal<Local, Bits<34>>>,
    or2: Vec<Or4>,
    bus2: Vec<Signal<Local, Bits<34>>>,
    or3: Vec<Or4>,
    raw: Vec<DrainRaw<OB>>,
    rq: Vec<DrainRq<OB>>,

    // Registered enable (`pe = mult18x18d`; every Vec empty otherwise): the array advances on a
    // register, `adv`, decided one cycle ahead, instead of `!out_valid || out_ready`; a spare output
    // register `S` takes the row the array pushes out of its output register `R` while the
    // consumer stalls. See `MacArray::update`.
    /// Copies of `adv`: control (1), one per PE, per row (skew lines), per column (skew line,
    /// collector, drain).
    adv_ctl: Vec<KeepReg>,
    adv_pe: Vec<KeepReg>,
    adv_row: Vec<KeepReg>,
    adv_col: Vec<KeepReg>,
    /// `S` valid (1 element), `S` data (one per column), `R`'s row already taken while `R` held.
    sk_v: Vec<DFF<Bit>>,
    sk_y: Vec<DFF<Bits<OB>>>,
    taken: Vec<DFF<Bit>>,
    /// Staging registers of the tile's parameters: `fire && last`, bias, m, c (one cycle).
    pst_fl: Vec<DFF<Bit>>,
    pst_b: Vec<DFF<Bits<32>>>,
    pst_m: Vec<DFF<Bits<31>>>,
    pst_c: Vec<DFF<Bits<6>>>,
    adv_ok: Signal<Local, Bit>,
    e_r: Signal<Local, Bit>,
    head: Signal<Local, Bit>,
    s_empty: Signal<Local, Bit>,
    zero_ob: Constant<Bits<OB>>,
    /// Sink of the registered-enable logic's signals, which drive nothing without it.
    unused_ctl: Signal<Local, Bit>,
}

/// `n` kept registers.
fn keep_regs(n: usize) -> Vec<KeepReg> {
    (0..n).map(|_| KeepReg::default()).collect()
}

/// `n` default signals (ports, locals).
fn ports<D: Direction, T: Synth>(n: usize) -> Vec<Signal<D, T>> {
    (0..n).map(|_| Signal::default()).collect()
}

/// Collector nodes per column in stages 1 and 2 for `rows` PEs: `ceil(rows / 4)` and
/// `ceil(that / 4)` (stage 3 is one node).
pub fn collector_nodes(rows: usize) -> (usize, usize) {
    let n1 = rows.div_ceil(4);
    (n1, n1.div_ceil(4))
}

impl<const AW: usize, const OB: usize> MacArray<AW, OB> {
    /// Builds a `rows x cols` array; `rounding` applies when `OB` is 8 or 16.
    /// `product`: where each PE's product comes from ([`Product::Shared`]: the UP5K variant,
    /// `pe = sb_mac16_dual`, int8 A only).
    pub fn new(
        rows: usize,
        cols: usize,
        rounding: Rounding,
        product: Product,
    ) -> Result<Self, MacArrayError> {
        let dual = product == Product::Shared;
        let reg_en = product.registered_enable();
        for (param, value) in [("rows", rows), ("cols", cols)] {
            if !(1..=MAX_DIM).contains(&value) {
                return Err(MacArrayError::Dim { param, value });
            }
        }
        if ![8, 16, 32].contains(&OB) {
            return Err(MacArrayError::OutBits(OB));
        }
        if ![8, 16].contains(&AW) {
            return Err(MacArrayError::AWidth(AW));
        }
        if dual && AW != 8 {
            return Err(MacArrayError::DualNeedsInt8);
        }
        let requant = OB != 32;
        let timing = ArrayTiming {
            rows,
            cols,
            requant,
            product_stages: product.stages(),
        };
        let pairs = cols.div_ceil(2);
        let (n1, n2) = collector_nodes(rows);
        Ok(Self {
            clock: Default::default(),
            reset: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            a: ports(rows),
            b: ports(cols),
            bias: ports(cols),
            m: ports(if requant { cols } else { 0 }),
            c: ports(if requant { cols } else { 0 }),
            last: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            y: ports(cols),
            y_last: Default::default(),
            period_m1: Constant::new(((timing.min_tile_period() - 1) as u64).into()),
            rows_m1: Constant::new(((rows - 1) as u64).into()),
            zero6: Constant::new(0u64.into()),
            one6: Constant::new(1u64.into()),
            zero32: Constant::new(0u64.into()),
            zero34: Constant::new(0u64.into()),
            flag_v: Constant::new(1u64.into()),
            flag_vf: Constant::new(3u64.into()),
            flag_vl: Constant::new(5u64.into()),
            flag_vfl: Constant::new(7u64.into()),
            zero3: Constant::new(0u64.into()),
            en: Default::default(),
            fire: Default::default(),
            ov: Default::default(),
            gap_zero: Default::default(),
            flags: Default::default(),
            first: Default::default(),
            gap: Default::default(),
            row: Default::default(),
            askew: (0..rows).map(|i| DelayLine::new(i + 1)).collect(),
            fskew: (0..rows).map(|i| DelayLine::new(i + 1)).collect(),
            bskew: (0..cols).map(|j| DelayLine::new(j + 1)).collect(),
            pb: (0..cols).map(|_| DFF::default()).collect(),
            pm: (0..if requant { cols } else { 0 })
                .map(|_| DFF::default())
                .collect(),
            pc: (0..if requant { cols } else { 0 })
                .map(|_| DFF::default())
                .collect(),
            pe: (0..rows * cols)
                .map(|p| Pe::with_product(p < cols, product))
                .collect(),
            dsp: (0..if dual { rows * pairs } else { 0 })
                .map(|_| Mac16Dual8::default())
                .collect(),
            unused_hi: ports(if dual && cols % 2 == 1 { rows } else { 0 }),
            zero16: Constant::new(0u64.into()),
            unused_a: ports(rows),
            unused_f: ports(rows),
            unused_b: ports(cols),
            unused_yv: ports(cols),
            bus0: ports(cols * 4 * n1),
            or1: (0..cols * n1).map(|_| Or4::default()).collect(),
            bus1: ports(cols * 4 * n2),
            or2: (0..cols * n2).map(|_| Or4::default()).collect(),
            bus2: ports(cols * 4),
            or3: (0..cols).map(|_| Or4::default()).collect(),
            raw: if requant {
                Vec::new()
            } else {
                (0..cols).map(|j| DrainRaw::new(cols - j)).collect()
            },
            rq: if requant {
                (0..cols)
                    .map(|j| DrainRq::new(cols - j, rounding))
                    .collect()
            } else {
                Vec::new()
            },
            adv_ctl: keep_regs(if reg_en { 1 } else { 0 }),
            adv_pe: keep_regs(if reg_en { rows * cols } else { 0 }),
            adv_row: keep_regs(if reg_en { rows } else { 0 }),
            adv_col: keep_regs(if reg_en { cols } else { 0 }),
            sk_v: (0..usize::from(reg_en)).map(|_| DFF::default()).collect(),
            sk_y: (0..if reg_en { cols } else { 0 })
                .map(|_| DFF::default())
                .collect(),
            taken: (0..usize::from(reg_en)).map(|_| DFF::default()).collect(),
            pst_fl: (0..usize::from(reg_en)).map(|_| DFF::default()).collect(),
            pst_b: (0..if reg_en { cols } else { 0 })
                .map(|_| DFF::default())
                .collect(),
            pst_m: (0..if reg_en && requant { cols } else { 0 })
                .map(|_| DFF::default())
                .collect(),
            pst_c: (0..if reg_en && requant { cols } else { 0 })
                .map(|_| DFF::default())
                .collect(),
            adv_ok: Default::default(),
            e_r: Default::default(),
            head: Default::default(),
            s_empty: Default::default(),
            zero_ob: Constant::new(0u64.into()),
            unused_ctl: Default::default(),
        })
    }

    /// Rows of PEs.
    pub fn rows(&self) -> usize {
        self.a.len()
    }

    /// Columns of PEs.
    pub fn cols(&self) -> usize {
        self.b.len()
    }

    /// Whole DSP pairs per row (0 without shared DSPs).
    fn full_pairs(&self) -> usize {
        if self.dsp.is_empty() {
            0
        } else {
            self.b.len() / 2
        }
    }

    /// DSPs per row (0 without shared DSPs).
    fn dsps_per_row(&self) -> usize {
        self.dsp.len() / self.a.len()
    }

    /// Stage-1 collector nodes per column.
    fn n1(&self) -> usize {
        self.or1.len() / self.b.len()
    }

    /// Stage-2 collector nodes per column.
    fn n2(&self) -> usize {
        self.or2.len() / self.b.len()
    }
}

impl<const AW: usize, const OB: usize> Logic for MacArray<AW, OB> {
    #[hdl_gen]
    fn update(&mut self) {
        // Global stall, input handshake, tile bookkeeping.
        self.first.clock.next = self.clock.val();
        self.gap.clock.next = self.clock.val();
        self.row.clock.next = self.clock.val();
        self.first.d.next = self.first.q.val();
        self.gap.d.next = self.gap.q.val();
        self.row.d.next = self.row.q.val();

        self.ov.next = false;
        for l in self.raw.len().saturating_sub(1)..self.raw.len() {
            self.ov.next = self.raw[l].yv.val();
        }
        for l in self.rq.len().saturating_sub(1)..self.rq.len() {
            self.ov.next = self.rq[l].yv.val();
        }
        self.en.next = !self.ov.val() || self.out_ready.val();
        self.out_valid.next = self.ov.val();
        self.head.next = self.ov.val() && self.out_ready.val();
        // Registered enable: `adv` (a) is decided one cycle ahead. The output register R holds a
        // row while the array does not advance; `e_r` = R's row valid and not yet taken; the spare
        // register S is the head when valid. `adv_ok`: at most one row will be waiting after this
        // edge even if the array advances and R takes a valid row (so with `out_ready` high every
        // cycle, `adv` stays high and S is never used: the cycle contract is unchanged).
        self.e_r.next = self.ov.val();
        self.adv_ok.next = true;
        for k in 0..self.adv_ctl.len() {
            self.en.next = self.adv_ctl[k].q.val();
            self.e_r.next = self.ov.val() && !self.taken[k].q.val();
            self.out_valid.next = self.sk_v[k].q.val() || (self.ov.val() && !self.taken[k].q.val());
            self.head.next = self.out_ready.val()
                && (self.sk_v[k].q.val() || (self.ov.val() && !self.taken[k].q.val()));
        }
        for k in 0..self.adv_ctl.len() {
            self.sk_v[k].clock.next = self.clock.val();
            self.taken[k].clock.next = self.clock.val();
            self.adv_ctl[k].clock.next = self.clock.val();
            self.adv_ctl[k].reset.next = self.reset.val();
            if self.sk_v[k].q.val() {
                // S is the head: it empties when taken; R's row, if any, waits in R.
                self.sk_v[k].d.next = !self.head.val();
                self.adv_ok.next = self.head.val() || (!self.en.val() && !self.e_r.val());
            } else {
                // R is the head: when the array advances, an untaken row moves to S.
                self.sk_v[k].d.next = self.en.val() && self.e_r.val() && !self.head.val();
                self.adv_ok.next = !self.en.val() || !self.e_r.val() || self.head.val();
            }
            if self.en.val() {
                self.taken[k].d.next = false;
            } else {
                self.taken[k].d.next =
                    self.taken[k].q.val() || (self.head.val() && !self.sk_v[k].q.val());
            }
            if self.reset.val() {
                self.sk_v[k].d.next = false;
                self.taken[k].d.next = false;
            }
            self.adv_ctl[k].d.next = self.adv_ok.val();
        }
        for p in 0..self.adv_pe.len() {
            self.adv_pe[p].clock.next = self.clock.val();
            self.adv_pe[p].reset.next = self.reset.val();
            self.adv_pe[p].d.next = self.adv_ok.val();
        }
        for i in 0..self.adv_row.len() {
            self.adv_row[i].clock.next = self.clock.val();
            self.adv_row[i].reset.next = self.reset.val();
            self.adv_row[i].d.next = self.adv_ok.val();
        }
        for j in 0..self.adv_col.len() {
            self.adv_col[j].clock.next = self.clock.val();
            self.adv_col[j].reset.next = self.reset.val();
            self.adv_col[j].d.next = self.adv_ok.val();
        }
        self.gap_zero.next = self.gap.q.val() == self.zero6.val();
        self.in_ready.next = self.en.val() && (!self.last.val() || self.gap_zero.val());
        self.fire.next = self.in_valid.val() && self.in_ready.val();
        self.y_last.next = self.row.q.val() == self.rows_m1.val();

        if self.en.val() && !self.gap_zero.val() {
            self.gap.d.next = self.gap.q.val() - self.one6.val();
        }
        if self.fire.val() {
            self.first.d.next = self.last.val();
            if self.last.val() {
                self.gap.d.next = self.period_m1.val();
            }
        }
        if self.head.val() {
            self.row.d.next = self.row.q.val() + self.one6.val();
            if self.row.q.val() == self.rows_m1.val() {
                self.row.d.next = self.zero6.val();
            }
        }
        if self.reset.val() {
            self.first.d.next = true;
            self.gap.d.next = self.zero6.val();
            self.row.d.next = self.zero6.val();
        }

        // Step flags: bit 0 valid, bit 1 first, bit 2 last.
        self.flags.next = self.zero3.val();
        if self.fire.val() {
            self.flags.next = self.flag_v.val();
            if self.first.q.val() && self.last.val() {
                self.flags.next = self.flag_vfl.val();
            } else if self.first.q.val() {
                self.flags.next = self.flag_vf.val();
            } else if self.last.val() {
                self.flags.next = self.flag_vl.val();
            }
        }

        // Skew lines and the tile's per-column parameters.
        for i in 0..self.a.len() {
            self.askew[i].clock.next = self.clock.val();
            self.askew[i].reset.next = self.reset.val();
            self.askew[i].en.next = self.en.val();
            self.askew[i].d.next = self.a[i].val();
            self.fskew[i].clock.next = self.clock.val();
            self.fskew[i].reset.next = self.reset.val();
            self.fskew[i].en.next = self.en.val();
            self.fskew[i].d.next = self.flags.val();
        }
        for i in 0..self.adv_row.len() {
            self.askew[i].en.next = self.adv_row[i].q.val();
            self.fskew[i].en.next = self.adv_row[i].q.val();
        }
        for j in 0..self.adv_col.len() {
            self.bskew[j].en.next = self.adv_col[j].q.val();
        }
        for j in 0..self.b.len() {
            self.bskew[j].clock.next = self.clock.val();
            self.bskew[j].reset.next = self.reset.val();
            self.bskew[j].en.next = self.en.val();
            self.bskew[j].d.next = self.b[j].val();
            self.pb[j].clock.next = self.clock.val();
            self.pb[j].d.next = self.pb[j].q.val();
            if self.fire.val() && self.last.val() {
                self.pb[j].d.next = self.bias[j].val();
            }
            if self.reset.val() {
                self.pb[j].d.next = self.zero32.val();
            }
        }
        for j in 0..self.pm.len() {
            self.pm[j].clock.next = self.clock.val();
            self.pc[j].clock.next = self.clock.val();
            self.pm[j].d.next = self.pm[j].q.val();
            self.pc[j].d.next = self.pc[j].q.val();
            if self.fire.val() && self.last.val() {
                self.pm[j].d.next = self.m[j].val();
                self.pc[j].d.next = self.c[j].val();
            }
            if self.reset.val() {
                self.pm[j].d.next = self.zero32.val().get_bits::<31>(0);
                self.pc[j].d.next = self.zero6.val();
            }
        }
        // Registered enable: the tile's parameters reach pb/pm/pc one cycle after the `last` beat,
        // through a staging register loaded every cycle, so that `fire` drives one flip-flop
        // instead of every parameter register's clock enable (the drain reads them at least
        // `product_stages + 5` advancing cycles after `last`, and the next tile's `last` comes a
        // whole period later).
        for k in 0..self.pst_fl.len() {
            self.pst_fl[k].clock.next = self.clock.val();
            self.pst_fl[k].d.next = self.fire.val() && self.last.val();
            if self.reset.val() {
                self.pst_fl[k].d.next = false;
            }
            for j in 0..self.pst_b.len() {
                self.pst_b[j].clock.next = self.clock.val();
                self.pst_b[j].d.next = self.bias[j].val();
                self.pb[j].d.next = self.pb[j].q.val();
                if self.pst_fl[k].q.val() {
                    self.pb[j].d.next = self.pst_b[j].q.val();
                }
                if self.reset.val() {
                    self.pst_b[j].d.next = self.zero32.val();
                    self.pb[j].d.next = self.zero32.val();
                }
            }
            for j in 0..self.pst_m.len() {
                self.pst_m[j].clock.next = self.clock.val();
                self.pst_c[j].clock.next = self.clock.val();
                self.pst_m[j].d.next = self.m[j].val();
                self.pst_c[j].d.next = self.c[j].val();
                self.pm[j].d.next = self.pm[j].q.val();
                self.pc[j].d.next = self.pc[j].q.val();
                if self.pst_fl[k].q.val() {
                    self.pm[j].d.next = self.pst_m[j].q.val();
                    self.pc[j].d.next = self.pst_c[j].q.val();
                }
                if self.reset.val() {
                    self.pst_m[j].d.next = self.zero32.val().get_bits::<31>(0);
                    self.pst_c[j].d.next = self.zero6.val();
                    self.pm[j].d.next = self.zero32.val().get_bits::<31>(0);
                    self.pc[j].d.next = self.zero6.val();
                }
            }
        }

        // The PE grid, PE (i, j) at pe[i * C + j]; `nc` is C, bound as a loop variable so that
        // index expressions can use it.
        for p in 0..self.pe.len() {
            self.pe[p].clock.next = self.clock.val();
            self.pe[p].reset.next = self.reset.val();
            self.pe[p].en.next = self.en.val();
        }
        for p in 0..self.adv_pe.len() {
            self.pe[p].en.next = self.adv_pe[p].q.val();
        }
        for nc in self.b.len()..(self.b.len() + 1) {
            for i in 0..self.a.len() {
                self.pe[i * nc].a_in.next = self.askew[i].q.val();
                self.pe[i * nc].f_in.next = self.fskew[i].q.val();
                self.unused_a[i].next = self.pe[i * nc + nc - 1].a_out.val();
                self.unused_f[i].next = self.pe[i * nc + nc - 1].f_out.val();
                for j in 1..self.b.len() {
                    self.pe[i * nc + j].a_in.next = self.pe[i * nc + j - 1].a_out.val();
                    self.pe[i * nc + j].f_in.next = self.pe[i * nc + j - 1].f_out.val();
                }
            }
            for j in 0..self.b.len() {
                self.pe[j].b_in.next = self.bskew[j].q.val();
                for i in 1..self.a.len() {
                    self.pe[i * nc + j].b_in.next = self.pe[(i - 1) * nc + j].b_out.val();
                }
            }
            for nr in self.a.len()..(self.a.len() + 1) {
                for j in 0..self.b.len() {
                    self.unused_b[j].next = self.pe[(nr - 1) * nc + j].b_out.val();
                }
            }
        }

        // Shared DSPs (pe = sb_mac16_dual): PE (i, 2q) on the low half, (i, 2q + 1) on the high
        // half; the operands are the PEs' own inputs, the products come back one cycle later.
        for p in 0..self.pe.len() {
            self.pe[p].p_ext.next = self.zero16.val();
        }
        for k in 0..self.dsp.len() {
            self.dsp[k].clock.next = self.clock.val();
            self.dsp[k].reset.next = self.reset.val();
            self.dsp[k].en.next = self.en.val();
        }
        for nc in self.b.len()..(self.b.len() + 1) {
            for nq in self.dsps_per_row()..(self.dsps_per_row() + 1) {
                for i in 0..self.a.len() {
                    for q in 0..self.full_pairs() {
                        self.dsp[i * nq + q].a_lo.next =
                            self.pe[i * nc + 2 * q].a_in.val().get_bits::<8>(0);
                        self.dsp[i * nq + q].b_lo.next = self.pe[i * nc + 2 * q].b_in.val();
                        self.dsp[i * nq + q].a_hi.next =
                            self.pe[i * nc + 2 * q + 1].a_in.val().get_bits::<8>(0);
                        self.dsp[i * nq + q].b_hi.next = self.pe[i * nc + 2 * q + 1].b_in.val();
                        self.pe[i * nc + 2 * q].p_ext.next = self.dsp[i * nq + q].p_lo.val();
                        self.pe[i * nc + 2 * q + 1].p_ext.next = self.dsp[i * nq + q].p_hi.val();
                    }
                    for q in self.full_pairs()..self.dsps_per_row() {
                        self.dsp[i * nq + q].a_lo.next =
                            self.pe[i * nc + 2 * q].a_in.val().get_bits::<8>(0);
                        self.dsp[i * nq + q].b_lo.next = self.pe[i * nc + 2 * q].b_in.val();
                        self.dsp[i * nq + q].a_hi.next = self.zero16.val().get_bits::<8>(0);
                        self.dsp[i * nq + q].b_hi.next = self.zero16.val().get_bits::<8>(0);
                        self.pe[i * nc + 2 * q].p_ext.next = self.dsp[i * nq + q].p_lo.val();
                        self.unused_hi[i].next = self.dsp[i * nq + q].p_hi.val();
                    }
                }
            }
        }

        // Column collectors: bus0[i * C + j] is PE (i, j)'s tagged result (0 for padding rows),
        // or1[j * n1 + k] ORs rows 4k..4k+3, or2[j * n2 + k] ORs or1 nodes 4k..4k+3 of the
        // column, or3[j] the column's or2 nodes.
        for p in 0..self.pe.len() {
            self.bus0[p].next = self.pe[p].res.val();
        }
        for p in self.pe.len()..self.bus0.len() {
            self.bus0[p].next = self.zero34.val();
        }
        for k in 0..self.or1.len() {
            self.or1[k].clock.next = self.clock.val();
            self.or1[k].reset.next = self.reset.val();
            self.or1[k].en.next = self.en.val();
        }
        for k in 0..self.or2.len() {
            self.or2[k].clock.next = self.clock.val();
            self.or2[k].reset.next = self.reset.val();
            self.or2[k].en.next = self.en.val();
        }
        for j in 0..self.or3.len() {
            self.or3[j].clock.next = self.clock.val();
            self.or3[j].reset.next = self.reset.val();
            self.or3[j].en.next = self.en.val();
        }
        for n1 in self.n1()..(self.n1() + 1) {
            for n2 in self.n2()..(self.n2() + 1) {
                for j in 0..self.adv_col.len() {
                    for k in 0..self.n1() {
                        self.or1[j * n1 + k].en.next = self.adv_col[j].q.val();
                    }
                    for k in 0..self.n2() {
                        self.or2[j * n2 + k].en.next = self.adv_col[j].q.val();
                    }
                    self.or3[j].en.next = self.adv_col[j].q.val();
                }
            }
        }
        for nc in self.b.len()..(self.b.len() + 1) {
            for n1 in self.n1()..(self.n1() + 1) {
                for n2 in self.n2()..(self.n2() + 1) {
                    for j in 0..self.b.len() {
                        for k in 0..self.n1() {
                            self.or1[j * n1 + k].x0.next = self.bus0[(4 * k) * nc + j].val();
                            self.or1[j * n1 + k].x1.next = self.bus0[(4 * k + 1) * nc + j].val();
                            self.or1[j * n1 + k].x2.next = self.bus0[(4 * k + 2) * nc + j].val();
                            self.or1[j * n1 + k].x3.next = self.bus0[(4 * k + 3) * nc + j].val();
                            self.bus1[j * 4 * n2 + k].next = self.or1[j * n1 + k].y.val();
                        }
                        for k in self.n1()..(4 * self.n2()) {
                            self.bus1[j * 4 * n2 + k].next = self.zero34.val();
                        }
                        for k in 0..self.n2() {
                            self.or2[j * n2 + k].x0.next = self.bus1[j * 4 * n2 + 4 * k].val();
                            self.or2[j * n2 + k].x1.next = self.bus1[j * 4 * n2 + 4 * k + 1].val();
                            self.or2[j * n2 + k].x2.next = self.bus1[j * 4 * n2 + 4 * k + 2].val();
                            self.or2[j * n2 + k].x3.next = self.bus1[j * 4 * n2 + 4 * k + 3].val();
                            self.bus2[j * 4 + k].next = self.or2[j * n2 + k].y.val();
                        }
                        for k in self.n2()..4 {
                            self.bus2[j * 4 + k].next = self.zero34.val();
                        }
                    }
                }
            }
        }
        for j in 0..self.or3.len() {
            self.or3[j].x0.next = self.bus2[4 * j].val();
            self.or3[j].x1.next = self.bus2[4 * j + 1].val();
            self.or3[j].x2.next = self.bus2[4 * j + 2].val();
            self.or3[j].x3.next = self.bus2[4 * j + 3].val();
        }

        // Drains (one kind is present: raw for out_bits 32, requantizing otherwise).
        for j in 0..self.raw.len() {
            self.raw[j].clock.next = self.clock.val();
            self.raw[j].reset.next = self.reset.val();
            self.raw[j].en.next = self.en.val();
            self.raw[j].t.next = self.or3[j].y.val();
            self.raw[j].bias_in.next = self.pb[j].q.val();
            self.y[j].next = self.raw[j].y.val();
            self.unused_yv[j].next = self.raw[j].yv.val();
        }
        for j in 0..self.rq.len() {
            self.rq[j].clock.next = self.clock.val();
            self.rq[j].reset.next = self.reset.val();
            self.rq[j].en.next = self.en.val();
            self.rq[j].t.next = self.or3[j].y.val();
            self.rq[j].bias_in.next = self.pb[j].q.val();
            self.rq[j].m_in.next = self.pm[j].q.val();
            self.rq[j].c_in.next = self.pc[j].q.val();
            self.y[j].next = self.rq[j].y.val();
            self.unused_yv[j].next = self.rq[j].yv.val();
        }
        for j in 0..self.adv_col.len().min(self.raw.len()) {
            self.raw[j].en.next = self.adv_col[j].q.val();
        }
        for j in 0..self.adv_col.len().min(self.rq.len()) {
            self.rq[j].en.next = self.adv_col[j].q.val();
        }
        // The spare output register S (registered enable only): loads R's row whenever it is
        // empty, and is the output while valid.
        self.s_empty.next = true;
        for k in 0..self.sk_v.len() {
            self.s_empty.next = !self.sk_v[k].q.val();
        }
        for j in 0..self.sk_y.len() {
            self.sk_y[j].clock.next = self.clock.val();
            self.sk_y[j].d.next = self.sk_y[j].q.val();
        }
        for j in 0..self.sk_y.len().min(self.raw.len()) {
            if self.s_empty.val() {
                self.sk_y[j].d.next = self.raw[j].y.val();
            }
        }
        for j in 0..self.sk_y.len().min(self.rq.len()) {
            if self.s_empty.val() {
                self.sk_y[j].d.next = self.rq[j].y.val();
            }
        }
        self.unused_ctl.next =
            self.adv_ok.val() ^ self.e_r.val() ^ self.s_empty.val() ^ self.zero_ob.val().get_bit(0);
        for j in 0..self.sk_y.len() {
            if self.reset.val() {
                self.sk_y[j].d.next = self.zero_ob.val();
            }
            if !self.s_empty.val() {
                self.y[j].next = self.sk_y[j].q.val();
            }
        }
    }
}
