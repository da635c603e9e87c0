//! `requant-add`: the requantized residual add,
//! `y = sat_B(round(x * m / 2^c) + round(z * m1 / 2^c1))`.
//!
//! Golden model: [`golden::requant::requant_add`]. Spec: `integer-ops.md`, "Dyadic requantization"
//! (the residual add: each branch rounded separately, one clamp).
//!
//! # Ports (all synchronous to `clock`)
//! | port        | dir | width | meaning |
//! |-------------|-----|-------|---------|
//! | `clock`     | in  | 1     | rising-edge clock |
//! | `reset`     | in  | 1     | synchronous, active high: empties the pipeline, `y` = 0 |
//! | `in_valid`  | in  | 1     | a sample is offered on `x`, `z`, `m`, `c`, `m1`, `c1` |
//! | `in_ready`  | out | 1     | the block accepts it at this edge (`in_valid && in_ready`) |
//! | `x`         | in  | 32    | int32 main branch, two's complement |
//! | `z`         | in  | 32    | int32 residual (identity) branch, two's complement |
//! | `m`         | in  | 31    | unsigned multiplier of `x`, 0..=2^31-1 |
//! | `c`         | in  | 6     | right shift of `x * m`, 0..=62 (63 is outside the spec; its output is unspecified) |
//! | `m1`        | in  | 31    | unsigned multiplier of `z`, 0..=2^31-1 |
//! | `c1`        | in  | 6     | right shift of `z * m1`, 0..=62 (63: unspecified, as `c`) |
//! | `out_valid` | out | 1     | `y` holds a result |
//! | `out_ready` | in  | 1     | the consumer takes it at this edge |
//! | `y`         | out | B     | intB result, two's complement, saturated |
//!
//! `m`, `c`, `m1`, `c1` travel with each sample, so one netlist serves every channel of a
//! per-channel requantization (the vector files broadcast each of them independently). Rounding
//! (`half-even` or `half-up`, the same for both branches) and `B` (8 or 16) are generator
//! parameters.
//!
//! # Timing
//! - Latency: [`LATENCY`] = 6 cycles from the accepting edge to `out_valid` (no stalls).
//! - Throughput: one sample per cycle. Each stage has its own valid bit and advances when it is
//!   empty or the next stage advances, so bubbles are squeezed out under backpressure.
//!   `in_ready` depends combinationally on `out_ready` (a ready chain through 6 stages).
//!
//! # Pipeline
//! The requantizer's parts ([`crate::requant`]), not a copy of them:
//! 1. to 4. two [`RoundShift`] pipelines in lock step (same valid and ready, so they accept and
//!    deliver together): `round(x*m/2^c)` and `round(z*m1/2^c1)`, each exact in 64 bits.
//! 5. `s5`: the 64-bit sum. Each rounded branch has `|.| <= 2^62` (`|x*m| < 2^62` for
//!    `m <= 2^31-1`), so the sum has `|.| < 2^63` and the 64-bit add is exact for every in-range
//!    input: golden's saturating `i64` add never saturates there, and bit 63 is the true sign.
//! 6. `sat`: one [`Saturate`] stage to `[-2^(B-1), 2^(B-1)-1]`; `y` is its register.
//!
//! # Reset
//! Valid bits and the output register are reset; data registers are not (they load only with valid
//! data). No behaviour relies on `initial` values: the ASIC-clean test simulates the Verilog with
//! every `initial` block removed.
//!
//! # Parameter limits
//! `B` in {8, 16} (checked by [`RequantAdd::new`]); `m`, `m1` in 0..=2^31-1 and `c`, `c1` in
//! 0..=62 at run time (the ports cannot carry a larger `m`).
//!
//! # Resources (`itx synth requant-add --target ice40|ecp5`, Yosys 0.23)
//! | config | iCE40 UP5K (`synth_ice40 -dsp`) | ECP5 (`synth_ecp5`) |
//! |---|---|---|
//! | bits=8 half-even | 1725 SB_LUT4, 373 SB_CARRY, 558 FF, 8 SB_MAC16 | 3217 LUT4, 194 CCU2C, 814 FF, 8 MULT18X18D |
//! | bits=16 half-up | 1927 SB_LUT4, 373 SB_CARRY, 566 FF, 8 SB_MAC16 | 3230 LUT4, 194 CCU2C, 822 FF, 8 MULT18X18D |
//!
//! Twice the requantizer's datapath: eight 16 x 16 products (all eight SB_MAC16 of a UP5K, so
//! nothing else with a DSP fits beside it there), two 64-bit barrel shifters, plus the 64-bit
//! adder and its 64-bit register.
use rust_hdl::prelude::*;

use golden::requant::Rounding;

use crate::requant::{BadBits, RoundShift, Saturate, ROUND_SHIFT_LATENCY};

/// Cycles from an accepted input to its output when nothing stalls.
pub const LATENCY: usize = ROUND_SHIFT_LATENCY + 2;

/// The requantized residual add; `B` is the output width. Build it with [`RequantAdd::new`].
#[derive(LogicBlock)]
pub struct RequantAdd<const B: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub x: Signal<In, Bits<32>>,
    pub z: Signal<In, Bits<32>>,
    pub m: Signal<In, Bits<31>>,
    pub c: Signal<In, Bits<6>>,
    pub m1: Signal<In, Bits<31>>,
    pub c1: Signal<In, Bits<6>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub y: Signal<Out, Bits<B>>,

    /// Stages 1-4 of the main branch: `round(x * m / 2^c)`.
    rx: RoundShift,
    /// Stages 1-4 of the residual branch: `round(z * m1 / 2^c1)`.
    rz: RoundShift,

    // Stage 5: the exact 64-bit sum.
    s5_ready: Signal<Local, Bit>,
    s5_both: Signal<Local, Bit>,
    s5_sum: Signal<Local, Bits<64>>,
    s5_valid: DFF<Bit>,
    s5_s: DFF<Bits<64>>,

    /// Stage 6: saturation to B bits; `y` is its register.
    sat: Saturate<B>,
}

impl<const B: usize> RequantAdd<B> {
    /// Builds the block for output width `B` and the given rounding mode (both branches).
    pub fn new(rounding: Rounding) -> Result<Self, BadBits> {
        Ok(Self {
            clock: Default::default(),
            reset: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            x: Default::default(),
            z: Default::default(),
            m: Default::default(),
            c: Default::default(),
            m1: Default::default(),
            c1: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            y: Default::default(),
            rx: RoundShift::new(rounding),
            rz: RoundShift::new(rounding),
            s5_ready: Default::default(),
            s5_both: Default::default(),
            s5_sum: Default::default(),
            s5_valid: Default::default(),
            s5_s: Default::default(),
            sat: Saturate::new()?,
        })
    }
}

impl<const B: usize> Logic for RequantAdd<B> {
    #[hdl_gen]
    fn update(&mut self) {
        // Stages 1-4: the two branches, fed the same valid and the same ready, so they stay in
        // lock step (their in_ready and out_valid are equal every cycle).
        self.rx.clock.next = self.clock.val();
        self.rx.reset.next = self.reset.val();
        self.rx.in_valid.next = self.in_valid.val();
        self.rx.x.next = self.x.val();
        self.rx.m.next = self.m.val();
        self.rx.c.next = self.c.val();
        self.rz.clock.next = self.clock.val();
        self.rz.reset.next = self.reset.val();
        self.rz.in_valid.next = self.in_valid.val();
        self.rz.x.next = self.z.val();
        self.rz.m.next = self.m1.val();
        self.rz.c.next = self.c1.val();
        self.in_ready.next = self.rx.in_ready.val() && self.rz.in_ready.val();

        // Stage 5: the sum, exact in 64 bits (|each branch| <= 2^62).
        self.s5_valid.clock.next = self.clock.val();
        self.s5_s.clock.next = self.clock.val();
        self.s5_valid.d.next = self.s5_valid.q.val();
        self.s5_s.d.next = self.s5_s.q.val();
        self.s5_ready.next = !self.s5_valid.q.val() || self.sat.in_ready.val();
        self.rx.out_ready.next = self.s5_ready.val();
        self.rz.out_ready.next = self.s5_ready.val();
        self.s5_both.next = self.rx.out_valid.val() && self.rz.out_valid.val();
        self.s5_sum.next = self.rx.y.val() + self.rz.y.val();
        if self.s5_ready.val() {
            self.s5_valid.d.next = self.s5_both.val();
            if self.s5_both.val() {
                self.s5_s.d.next = self.s5_sum.val();
            }
        }

        // Stage 6: saturation.
        self.sat.clock.next = self.clock.val();
        self.sat.reset.next = self.reset.val();
        self.sat.in_valid.next = self.s5_valid.q.val();
        self.sat.x.next = self.s5_s.q.val();
        self.sat.out_ready.next = self.out_ready.val();
        self.out_valid.next = self.sat.out_valid.val();
        self.y.next = self.sat.y.val();

        // Synchronous reset (the sub-blocks reset themselves).
        if self.reset.val() {
            self.s5_valid.d.next = false;
        }
    }
}
