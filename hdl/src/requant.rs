//! `requant`: the dyadic requantizer (HAWQ-V3), `y = sat_B(round(x * m / 2^c))`.
//!
//! Golden model: [`golden::requant::requant`]. Spec: `integer-ops.md`, "Dyadic requantization".
//!
//! # Ports (all synchronous to `clock`)
//! | port        | dir | width | meaning |
//! |-------------|-----|-------|---------|
//! | `clock`     | in  | 1     | rising-edge clock |
//! | `reset`     | in  | 1     | synchronous, active high: empties the pipeline, `y` = 0 |
//! | `in_valid`  | in  | 1     | a sample is offered on `x`, `m`, `c` |
//! | `in_ready`  | out | 1     | the block accepts it at this edge (`in_valid && in_ready`) |
//! | `x`         | in  | 32    | int32 input, two's complement |
//! | `m`         | in  | 31    | unsigned multiplier, 0..=2^31-1 (HAWQ gives 2^30..2^31-1) |
//! | `c`         | in  | 6     | right shift, 0..=62 (63 is outside the spec; its output is unspecified) |
//! | `out_valid` | out | 1     | `y` holds a result |
//! | `out_ready` | in  | 1     | the consumer takes it at this edge |
//! | `y`         | out | B     | intB result, two's complement, saturated |
//!
//! `m` and `c` travel with each sample, so one netlist serves every channel of a per-channel
//! requantization. Rounding (`half-even` or `half-up`) and `B` (8 or 16) are generator parameters.
//!
//! # Timing
//! - Latency: [`LATENCY`] = 5 cycles from the accepting edge to `out_valid` (no stalls).
//! - Throughput: one sample per cycle. Each stage has its own valid bit and advances when it is
//!   empty or the next stage advances, so bubbles are squeezed out under backpressure.
//!   `in_ready` depends combinationally on `out_ready` (a ready chain through 5 stages).
//!
//! # Pipeline
//! Stages 1-4 are the [`RoundShift`] pipeline and stage 5 the [`Saturate`] stage, the two parts the
//! residual add ([`crate::requant_add::RequantAdd`]) instantiates too (two round-shifts, an adder,
//! one saturation):
//! 1. `s1`: the 32 x 31 product as four 16 x 16 unsigned partial products (RustHDL implements only
//!    16 x 16 multiplies; each maps to one SB_MAC16 on iCE40 UP5K, one MULT18X18D on ECP5).
//! 2. `s2`: `p = x*m` (63-bit, held in 64): partial products summed, minus `m << 32` for negative `x`
//!    (signed times unsigned from an unsigned product).
//! 3. `s3`: `floor(p / 2^c)` by one logical barrel shift of `p` XOR its sign extension, and the
//!    rounding facts from masks: the round bit (weight `2^(c-1)`) and the sticky bits below it.
//! 4. `s4`: round (half-even: ties to the even floor; half-up: ties up).
//! 5. `sat`: saturate to `[-2^(B-1), 2^(B-1)-1]` (in range when bits `B-1..63` are all equal);
//!    `y` is this register.
//!
//! # Reset
//! Valid bits and the output register are reset; data registers are not (they load only with valid
//! data), which keeps them free to sit in DSP and carry logic. No behaviour relies on `initial`
//! values: the ASIC-clean test simulates the Verilog with every `initial` block removed.
//!
//! # Parameter limits
//! `B` in {8, 16} (checked by [`Requant::new`]).
//!
//! # Resources (`itx report`, Yosys 0.23)
//! | config | iCE40 UP5K (`synth_ice40 -dsp`) | ECP5 (`synth_ecp5`) |
//! |---|---|---|
//! | bits=8 half-even | 898 SB_LUT4, 155 SB_CARRY, 251 FF, 4 SB_MAC16 | 1612 LUT4, 81 CCU2C, 379 FF, 4 MULT18X18D |
//! | bits=16 half-up | 916 SB_LUT4, 155 SB_CARRY, 259 FF, 4 SB_MAC16 | 1612 LUT4, 81 CCU2C, 387 FF, 4 MULT18X18D |
//!
//! The four 16 x 16 products map to four DSP blocks on both families; most LUTs are the 64-bit
//! barrel shifter and the mask decoders of stage 3. (Since the split into the `RoundShift` and
//! `Saturate` sub-blocks, Yosys maps bits=8 to 898 iCE40 LUTs instead of 851 and bits=16 to 916
//! instead of 917; flip-flops, carries and DSPs are unchanged.)
use rust_hdl::prelude::*;

use golden::requant::Rounding;

/// Cycles from an accepted input to its output when nothing stalls.
pub const LATENCY: usize = 5;

/// Cycles through a [`RoundShift`] (stages 1-4) when nothing stalls.
pub const ROUND_SHIFT_LATENCY: usize = 4;

/// Output widths the block supports.
pub const BITS_ALLOWED: [usize; 2] = [8, 16];

/// The requantizer; `B` is the output width. Build it with [`Requant::new`].
#[derive(LogicBlock)]
pub struct Requant<const B: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub x: Signal<In, Bits<32>>,
    pub m: Signal<In, Bits<31>>,
    pub c: Signal<In, Bits<6>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub y: Signal<Out, Bits<B>>,

    /// Stages 1-4: `round(x * m / 2^c)`, exact in 64 bits.
    rs: RoundShift,
    /// Stage 5: saturation to B bits; `y` is its register.
    sat: Saturate<B>,
}

/// A generator parameter outside its range.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("requant: parameter `bits` = {0} is not supported (allowed: 8, 16)")]
pub struct BadBits(pub usize);

impl<const B: usize> Requant<B> {
    /// Builds the block for output width `B` and the given rounding mode.
    pub fn new(rounding: Rounding) -> Result<Self, BadBits> {
        Ok(Self {
            clock: Default::default(),
            reset: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            x: Default::default(),
            m: Default::default(),
            c: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            y: Default::default(),
            rs: RoundShift::new(rounding),
            sat: Saturate::new()?,
        })
    }
}

impl<const B: usize> Logic for Requant<B> {
    #[hdl_gen]
    fn update(&mut self) {
        self.rs.clock.next = self.clock.val();
        self.rs.reset.next = self.reset.val();
        self.rs.in_valid.next = self.in_valid.val();
        self.rs.x.next = self.x.val();
        self.rs.m.next = self.m.val();
        self.rs.c.next = self.c.val();
        self.in_ready.next = self.rs.in_ready.val();

        self.sat.clock.next = self.clock.val();
        self.sat.reset.next = self.reset.val();
        self.sat.in_valid.next = self.rs.out_valid.val();
        self.sat.x.next = self.rs.y.val();
        self.rs.out_ready.next = self.sat.in_ready.val();
        self.sat.out_ready.next = self.out_ready.val();
        self.out_valid.next = self.sat.out_valid.val();
        self.y.next = self.sat.y.val();
    }
}

/// Stages 1-4 of the requantizer: `y = round(x * m / 2^c)` for int32 `x`, `m` in `0..=2^31-1`,
/// `c` in `0..=62`, exact as a 64-bit two's complement value (`|y| <= 2^62`), rounded half-even
/// or half-up (a generator parameter). A valid/ready pipeline of [`ROUND_SHIFT_LATENCY`] stages,
/// one sample per cycle; `in_ready` depends combinationally on `out_ready`. Shared by
/// [`Requant`] (one) and [`crate::requant_add::RequantAdd`] (two, in lock step).
#[derive(LogicBlock)]
pub struct RoundShift {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub x: Signal<In, Bits<32>>,
    pub m: Signal<In, Bits<31>>,
    pub c: Signal<In, Bits<6>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub y: Signal<Out, Bits<64>>,

    // Generator constants (emitted as localparams).
    half_up: Constant<Bit>,
    one64: Constant<Bits<64>>,
    zero64: Constant<Bits<64>>,
    ones64: Constant<Bits<64>>,

    // Ready chain: stage k may load when it is empty or stage k+1 loads.
    s1_ready: Signal<Local, Bit>,
    s2_ready: Signal<Local, Bit>,
    s3_ready: Signal<Local, Bit>,
    s4_ready: Signal<Local, Bit>,

    // Stage 1: partial products.
    s0_x_lo: Signal<Local, Bits<16>>,
    s0_x_hi: Signal<Local, Bits<16>>,
    s0_m32: Signal<Local, Bits<32>>,
    s0_m_lo: Signal<Local, Bits<16>>,
    s0_m_hi: Signal<Local, Bits<16>>,
    s0_pp_ll: Signal<Local, Bits<32>>,
    s0_pp_lh: Signal<Local, Bits<32>>,
    s0_pp_hl: Signal<Local, Bits<32>>,
    s0_pp_hh: Signal<Local, Bits<32>>,
    s1_valid: DFF<Bit>,
    s1_pp_ll: DFF<Bits<32>>,
    s1_pp_lh: DFF<Bits<32>>,
    s1_pp_hl: DFF<Bits<32>>,
    s1_pp_hh: DFF<Bits<32>>,
    s1_neg: DFF<Bit>,
    s1_m: DFF<Bits<31>>,
    s1_c: DFF<Bits<6>>,

    // Stage 2: the exact product.
    s2_ll: Signal<Local, Bits<64>>,
    s2_lh: Signal<Local, Bits<64>>,
    s2_hl: Signal<Local, Bits<64>>,
    s2_hh: Signal<Local, Bits<64>>,
    s2_mid: Signal<Local, Bits<64>>,
    s2_m64: Signal<Local, Bits<64>>,
    s2_corr: Signal<Local, Bits<64>>,
    s2_sum: Signal<Local, Bits<64>>,
    s2_valid: DFF<Bit>,
    s2_p: DFF<Bits<64>>,
    s2_c: DFF<Bits<6>>,

    // Stage 3: floor and rounding facts.
    s3_sext: Signal<Local, Bits<64>>,
    s3_px: Signal<Local, Bits<64>>,
    s3_sh: Signal<Local, Bits<64>>,
    s3_floor_d: Signal<Local, Bits<64>>,
    s3_half: Signal<Local, Bits<64>>,
    s3_upper: Signal<Local, Bits<64>>,
    s3_low: Signal<Local, Bits<64>>,
    s3_round_bits: Signal<Local, Bits<64>>,
    s3_sticky_bits: Signal<Local, Bits<64>>,
    s3_valid: DFF<Bit>,
    s3_floor: DFF<Bits<64>>,
    s3_above: DFF<Bit>,
    s3_tie: DFF<Bit>,

    // Stage 4: rounded value.
    s4_up: Signal<Local, Bit>,
    s4_inc: Signal<Local, Bits<64>>,
    s4_valid: DFF<Bit>,
    s4_y: DFF<Bits<64>>,
}

impl RoundShift {
    /// Builds the stages for the given rounding mode.
    pub fn new(rounding: Rounding) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            x: Default::default(),
            m: Default::default(),
            c: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            y: Default::default(),
            half_up: Constant::new(rounding == Rounding::HalfUp),
            one64: Constant::new(1u64.into()),
            zero64: Constant::new(0u64.into()),
            ones64: Constant::new(u64::MAX.into()),
            s1_ready: Default::default(),
            s2_ready: Default::default(),
            s3_ready: Default::default(),
            s4_ready: Default::default(),
            s0_x_lo: Default::default(),
            s0_x_hi: Default::default(),
            s0_m32: Default::default(),
            s0_m_lo: Default::default(),
            s0_m_hi: Default::default(),
            s0_pp_ll: Default::default(),
            s0_pp_lh: Default::default(),
            s0_pp_hl: Default::default(),
            s0_pp_hh: Default::default(),
            s1_valid: Default::default(),
            s1_pp_ll: Default::default(),
            s1_pp_lh: Default::default(),
            s1_pp_hl: Default::default(),
            s1_pp_hh: Default::default(),
            s1_neg: Default::default(),
            s1_m: Default::default(),
            s1_c: Default::default(),
            s2_ll: Default::default(),
            s2_lh: Default::default(),
            s2_hl: Default::default(),
            s2_hh: Default::default(),
            s2_mid: Default::default(),
            s2_m64: Default::default(),
            s2_corr: Default::default(),
            s2_sum: Default::default(),
            s2_valid: Default::default(),
            s2_p: Default::default(),
            s2_c: Default::default(),
            s3_sext: Default::default(),
            s3_px: Default::default(),
            s3_sh: Default::default(),
            s3_floor_d: Default::default(),
            s3_upper: Default::default(),
            s3_low: Default::default(),
            s3_round_bits: Default::default(),
            s3_sticky_bits: Default::default(),
            s3_half: Default::default(),
            s3_valid: Default::default(),
            s3_floor: Default::default(),
            s3_above: Default::default(),
            s3_tie: Default::default(),
            s4_up: Default::default(),
            s4_inc: Default::default(),
            s4_valid: Default::default(),
            s4_y: Default::default(),
        }
    }
}

impl Logic for RoundShift {
    #[hdl_gen]
    fn update(&mut self) {
        // Clocks.
        self.s1_valid.clock.next = self.clock.val();
        self.s1_pp_ll.clock.next = self.clock.val();
        self.s1_pp_lh.clock.next = self.clock.val();
        self.s1_pp_hl.clock.next = self.clock.val();
        self.s1_pp_hh.clock.next = self.clock.val();
        self.s1_neg.clock.next = self.clock.val();
        self.s1_m.clock.next = self.clock.val();
        self.s1_c.clock.next = self.clock.val();
        self.s2_valid.clock.next = self.clock.val();
        self.s2_p.clock.next = self.clock.val();
        self.s2_c.clock.next = self.clock.val();
        self.s3_valid.clock.next = self.clock.val();
        self.s3_floor.clock.next = self.clock.val();
        self.s3_above.clock.next = self.clock.val();
        self.s3_tie.clock.next = self.clock.val();
        self.s4_valid.clock.next = self.clock.val();
        self.s4_y.clock.next = self.clock.val();

        // Registers hold by default.
        self.s1_valid.d.next = self.s1_valid.q.val();
        self.s1_pp_ll.d.next = self.s1_pp_ll.q.val();
        self.s1_pp_lh.d.next = self.s1_pp_lh.q.val();
        self.s1_pp_hl.d.next = self.s1_pp_hl.q.val();
        self.s1_pp_hh.d.next = self.s1_pp_hh.q.val();
        self.s1_neg.d.next = self.s1_neg.q.val();
        self.s1_m.d.next = self.s1_m.q.val();
        self.s1_c.d.next = self.s1_c.q.val();
        self.s2_valid.d.next = self.s2_valid.q.val();
        self.s2_p.d.next = self.s2_p.q.val();
        self.s2_c.d.next = self.s2_c.q.val();
        self.s3_valid.d.next = self.s3_valid.q.val();
        self.s3_floor.d.next = self.s3_floor.q.val();
        self.s3_above.d.next = self.s3_above.q.val();
        self.s3_tie.d.next = self.s3_tie.q.val();
        self.s4_valid.d.next = self.s4_valid.q.val();
        self.s4_y.d.next = self.s4_y.q.val();

        // Ready chain, from the output back to the input.
        self.s4_ready.next = !self.s4_valid.q.val() || self.out_ready.val();
        self.s3_ready.next = !self.s3_valid.q.val() || self.s4_ready.val();
        self.s2_ready.next = !self.s2_valid.q.val() || self.s3_ready.val();
        self.s1_ready.next = !self.s1_valid.q.val() || self.s2_ready.val();
        self.in_ready.next = self.s1_ready.val();
        self.out_valid.next = self.s4_valid.q.val();
        self.y.next = self.s4_y.q.val();

        // Stage 1: four 16 x 16 partial products of x (as unsigned) and m.
        self.s0_x_lo.next = self.x.val().get_bits::<16>(0);
        self.s0_x_hi.next = self.x.val().get_bits::<16>(16);
        self.s0_m32.next = bit_cast::<32, 31>(self.m.val());
        self.s0_m_lo.next = self.s0_m32.val().get_bits::<16>(0);
        self.s0_m_hi.next = self.s0_m32.val().get_bits::<16>(16);
        self.s0_pp_ll.next = self.s0_x_lo.val() * self.s0_m_lo.val();
        self.s0_pp_lh.next = self.s0_x_lo.val() * self.s0_m_hi.val();
        self.s0_pp_hl.next = self.s0_x_hi.val() * self.s0_m_lo.val();
        self.s0_pp_hh.next = self.s0_x_hi.val() * self.s0_m_hi.val();
        if self.s1_ready.val() {
            self.s1_valid.d.next = self.in_valid.val();
            if self.in_valid.val() {
                self.s1_pp_ll.d.next = self.s0_pp_ll.val();
                self.s1_pp_lh.d.next = self.s0_pp_lh.val();
                self.s1_pp_hl.d.next = self.s0_pp_hl.val();
                self.s1_pp_hh.d.next = self.s0_pp_hh.val();
                self.s1_neg.d.next = self.x.val().get_bit(31);
                self.s1_m.d.next = self.m.val();
                self.s1_c.d.next = self.c.val();
            }
        }

        // Stage 2: p = ll + (lh + hl) << 16 + hh << 32 - (x < 0 ? m << 32 : 0), modulo 2^64.
        self.s2_ll.next = bit_cast::<64, 32>(self.s1_pp_ll.q.val());
        self.s2_lh.next = bit_cast::<64, 32>(self.s1_pp_lh.q.val());
        self.s2_hl.next = bit_cast::<64, 32>(self.s1_pp_hl.q.val());
        self.s2_hh.next = bit_cast::<64, 32>(self.s1_pp_hh.q.val());
        self.s2_m64.next = bit_cast::<64, 31>(self.s1_m.q.val());
        self.s2_mid.next = self.s2_lh.val() + self.s2_hl.val();
        if self.s1_neg.q.val() {
            self.s2_corr.next = self.s2_m64.val() << 32;
        } else {
            self.s2_corr.next = self.zero64.val();
        }
        self.s2_sum.next = self.s2_ll.val() + (self.s2_mid.val() << 16) + (self.s2_hh.val() << 32)
            - self.s2_corr.val();
        if self.s2_ready.val() {
            self.s2_valid.d.next = self.s1_valid.q.val();
            if self.s1_valid.q.val() {
                self.s2_p.d.next = self.s2_sum.val();
                self.s2_c.d.next = self.s1_c.q.val();
            }
        }

        // Stage 3: floor(p / 2^c) = p >>> c, with one logical shifter: ((p ^ S) >> c) ^ S, S the
        // sign extension of p. Rounding facts from masks: the round bit (weight 2^(c-1)) and the
        // sticky bits below it; c = 0 has neither, so nothing rounds.
        if self.s2_p.q.val().get_bit(63) {
            self.s3_sext.next = self.ones64.val();
        } else {
            self.s3_sext.next = self.zero64.val();
        }
        self.s3_px.next = self.s2_p.q.val() ^ self.s3_sext.val();
        self.s3_sh.next = self.s3_px.val() >> self.s2_c.q.val();
        self.s3_floor_d.next = self.s3_sh.val() ^ self.s3_sext.val();
        self.s3_half.next = (self.one64.val() << self.s2_c.q.val()) >> 1;
        self.s3_upper.next = self.ones64.val() << self.s2_c.q.val();
        self.s3_low.next = (!self.s3_upper.val()) >> 1;
        self.s3_round_bits.next = self.s2_p.q.val() & self.s3_half.val();
        self.s3_sticky_bits.next = self.s2_p.q.val() & self.s3_low.val();
        if self.s3_ready.val() {
            self.s3_valid.d.next = self.s2_valid.q.val();
            if self.s2_valid.q.val() {
                self.s3_floor.d.next = self.s3_floor_d.val();
                self.s3_above.d.next =
                    self.s3_round_bits.val().any() && self.s3_sticky_bits.val().any();
                self.s3_tie.d.next =
                    self.s3_round_bits.val().any() && !self.s3_sticky_bits.val().any();
            }
        }

        // Stage 4: round. Ties go up (half-up) or to the even neighbour (half-even).
        self.s4_up.next = self.s3_above.q.val()
            || (self.s3_tie.q.val() && (self.half_up.val() || self.s3_floor.q.val().get_bit(0)));
        if self.s4_up.val() {
            self.s4_inc.next = self.s3_floor.q.val() + self.one64.val();
        } else {
            self.s4_inc.next = self.s3_floor.q.val();
        }
        if self.s4_ready.val() {
            self.s4_valid.d.next = self.s3_valid.q.val();
            if self.s3_valid.q.val() {
                self.s4_y.d.next = self.s4_inc.val();
            }
        }

        // Synchronous reset: empty the pipeline.
        if self.reset.val() {
            self.s1_valid.d.next = false;
            self.s2_valid.d.next = false;
            self.s3_valid.d.next = false;
            self.s4_valid.d.next = false;
        }
    }
}

/// The last stage of the requantizer: `y = clamp(x, -2^(B-1), 2^(B-1)-1)` for any 64-bit two's
/// complement `x`, registered. One valid/ready stage (`in_ready = !out_valid || out_ready`); reset
/// empties it and clears `y`. Shared by [`Requant`] and [`crate::requant_add::RequantAdd`].
#[derive(LogicBlock)]
pub struct Saturate<const B: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub x: Signal<In, Bits<64>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub y: Signal<Out, Bits<B>>,

    b_minus_1: Constant<Bits<8>>,
    hi_ones: Constant<Bits<64>>,
    y_max: Constant<Bits<B>>,
    y_min: Constant<Bits<B>>,
    zero_y: Constant<Bits<B>>,

    ready: Signal<Local, Bit>,
    hi: Signal<Local, Bits<64>>,
    low: Signal<Local, Bits<B>>,
    valid: DFF<Bit>,
    yq: DFF<Bits<B>>,
}

impl<const B: usize> Saturate<B> {
    /// Builds the stage for output width `B` (8 or 16).
    pub fn new() -> Result<Self, BadBits> {
        if !BITS_ALLOWED.contains(&B) {
            return Err(BadBits(B));
        }
        let max = (1u64 << (B - 1)) - 1;
        let min = 1u64 << (B - 1); // -2^(B-1) as a B-bit pattern
        Ok(Self {
            clock: Default::default(),
            reset: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            x: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            y: Default::default(),
            b_minus_1: Constant::new(((B - 1) as u64).into()),
            hi_ones: Constant::new(((1u64 << (65 - B)) - 1).into()),
            y_max: Constant::new(max.into()),
            y_min: Constant::new(min.into()),
            zero_y: Constant::new(0u64.into()),
            ready: Default::default(),
            hi: Default::default(),
            low: Default::default(),
            valid: Default::default(),
            yq: Default::default(),
        })
    }
}

impl<const B: usize> Logic for Saturate<B> {
    #[hdl_gen]
    fn update(&mut self) {
        self.valid.clock.next = self.clock.val();
        self.yq.clock.next = self.clock.val();
        self.valid.d.next = self.valid.q.val();
        self.yq.d.next = self.yq.q.val();

        self.ready.next = !self.valid.q.val() || self.out_ready.val();
        self.in_ready.next = self.ready.val();
        self.out_valid.next = self.valid.q.val();
        self.y.next = self.yq.q.val();

        // x fits in B bits when its bits from B-1 up are all equal; bit 63 is its sign.
        self.hi.next = self.x.val() >> self.b_minus_1.val();
        self.low.next = self.x.val().get_bits::<B>(0);
        if self.ready.val() {
            self.valid.d.next = self.in_valid.val();
            if self.in_valid.val() {
                if !self.hi.val().any() || (self.hi.val() == self.hi_ones.val()) {
                    self.yq.d.next = self.low.val();
                } else if self.x.val().get_bit(63) {
                    self.yq.d.next = self.y_min.val();
                } else {
                    self.yq.d.next = self.y_max.val();
                }
            }
        }

        // Synchronous reset: empty the stage, clear the output.
        if self.reset.val() {
            self.valid.d.next = false;
            self.yq.d.next = self.zero_y.val();
        }
    }
}
