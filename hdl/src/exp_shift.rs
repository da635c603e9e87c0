//! `exp-shift`: I-ViT's shift-based exponential `exp_shift(d, x0, n)`, saturated at `2^31`, the step
//! Shiftmax and ShiftGELU share (both instantiate [`ExpShiftPipe`]).
//!
//! Golden model: [`golden::exp_shift::exp_shift`]. Spec: `integer-ops.md`, "Shared step".
//! ```text
//! t = d + (d >> 1) - (d >> 4);  t = max(t, n * x0);  q = t div x0;  r = t - x0 * q
//! e = ((r - 2*x0) << (n - q)) >> 1
//! ```
//! The hardware computes `min(e, 2^31)`: every consumer saturates its sum at `2^31` (Shiftmax's row
//! sum, ShiftGELU's `e_i + emax`), and for `d <= 0` the generator checks `|x0| * 2^n <= 2^31`, so
//! the value is exact wherever it is used unsaturated.
//!
//! # How the division is done
//! With `a = -x0 > 0` and `u = min(-t, n*a)` (the clamp), `q = floor(u / a)` and
//! `r = -(u mod a)`. For `u >= 0` the clamp gives `u <= n*a`, so `q <= n <= 30`: five quotient bits.
//! For `u < 0` (only `d > 0`: ShiftGELU's `emax` of an all-negative row) the block divides
//! `w = -u - 1` instead (`q = -1 - w div a`, `u mod a = a - 1 - w mod a`) and only needs to know
//! whether `w div a >= 32`, beyond which the result saturates anyway. So the divider is five
//! restoring steps of 24 bits plus one compare: no iterative divider, one result per cycle.
//!
//! # Ports of the stream block [`ExpShift`]
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock`, `reset` | in | 1 | rising edge; synchronous active-high reset empties the pipeline |
//! | `in_valid`/`in_ready` | | 1 | input handshake |
//! | `d` | in | 10 | two's complement, -512..=511 (Shiftmax: `x_i - max`, -255..=0; ShiftGELU's `emax`: `-max`, -127..=128) |
//! | `x0` | in | XB | two's complement, must be negative: -2^(XB-1)..=-1 (the sign bit is assumed set) |
//! | `out_valid`/`out_ready` | | 1 | output handshake |
//! | `e` | out | 32 | unsigned, `min(exp_shift(d, x0, n), 2^31)`, >= 1 |
//!
//! # Timing
//! [`LATENCY`] = 5 cycles (pre-scale and `n*a`, clamp, two division stages, shift), one result per
//! cycle; the whole
//! pipeline advances together (`in_ready = !out_valid || out_ready`).
//!
//! # Parameters and limits
//! `n` (exponent clamp) in 1..=30, `XB` (width of `x0`) in 2..=16. The stream block and the unit
//! generators accept `x0_bits` 8..=16.
use rust_hdl::prelude::*;

use crate::float_format::konst;

/// Pipeline stages of [`ExpShiftPipe`].
pub const LATENCY: usize = 5;

/// Largest exponent clamp `n` the hardware takes.
pub const N_MAX: u32 = 30;

/// The exp_shift datapath: five registers that all load when `en` is high (no valid bits; the
/// parent tracks them). `e` is the output register. Stages: `t` and `n*a`; the clamp and `w`; two
/// stages of the division (the saturation compare and steps 4, 3; steps 2, 1, 0); the shift.
#[derive(LogicBlock)]
pub struct ExpShiftPipe<const XB: usize> {
    pub clock: Signal<In, Clock>,
    pub en: Signal<In, Bit>,
    /// Synchronous reset of every register (the output is 0 until the first result).
    pub reset: Signal<In, Bit>,
    pub d: Signal<In, Bits<10>>,
    pub x0: Signal<In, Bits<XB>>,
    pub e: Signal<Out, Bits<32>>,

    nm0: Constant<Bits<24>>,
    nm1: Constant<Bits<24>>,
    nm2: Constant<Bits<24>>,
    nm3: Constant<Bits<24>>,
    nm4: Constant<Bits<24>>,
    n8: Constant<Bits<8>>,
    x0_ext: Constant<Bits<16>>,
    d_ext: Constant<Bits<24>>,
    top1: Constant<Bits<24>>,
    top4: Constant<Bits<24>>,
    zero16: Constant<Bits<16>>,
    zero8: Constant<Bits<8>>,
    zero24: Constant<Bits<24>>,
    one8: Constant<Bits<8>>,
    one17: Constant<Bits<17>>,
    thirty_two: Constant<Bits<8>>,
    cap: Constant<Bits<32>>,
    zero32: Constant<Bits<32>>,

    // Stage 1: t and n * a.
    dx: Signal<Local, Bits<24>>,
    h1: Signal<Local, Bits<24>>,
    h4: Signal<Local, Bits<24>>,
    t0: Signal<Local, Bits<24>>,
    t: Signal<Local, Bits<24>>,
    x0s: Signal<Local, Bits<16>>,
    a: Signal<Local, Bits<16>>,
    a24s: Signal<Local, Bits<24>>,
    p01: Signal<Local, Bits<24>>,
    p23: Signal<Local, Bits<24>>,
    p4: Signal<Local, Bits<24>>,
    p03: Signal<Local, Bits<24>>,
    na24: Signal<Local, Bits<24>>,
    s1_t: DFF<Bits<24>>,
    s1_na: DFF<Bits<24>>,
    s1_a: DFF<Bits<16>>,

    // Stage 2: u = min(-t, n*a) and w.
    u: Signal<Local, Bits<24>>,
    uc: Signal<Local, Bits<24>>,
    s2_w: DFF<Bits<24>>,
    s2_neg: DFF<Bit>,
    s2_a: DFF<Bits<16>>,

    // Stage 3: the saturation flag and division steps 4, 3.
    a24: Signal<Local, Bits<24>>,
    ak: Signal<Local, Bits<25>>,
    rem: Signal<Local, Bits<24>>,
    rem25: Signal<Local, Bits<25>>,
    diff: Signal<Local, Bits<25>>,
    w32: Signal<Local, Bits<24>>,
    q: Signal<Local, Bits<8>>,
    s3_q: DFF<Bits<8>>,
    s3_rem: DFF<Bits<24>>,
    s3_big: DFF<Bit>,
    s3_neg: DFF<Bit>,
    s3_a: DFF<Bits<16>>,

    // Stage 4: division steps 2, 1, 0.
    b24: Signal<Local, Bits<24>>,
    bk: Signal<Local, Bits<25>>,
    remb: Signal<Local, Bits<24>>,
    rem25b: Signal<Local, Bits<25>>,
    diffb: Signal<Local, Bits<25>>,
    qb: Signal<Local, Bits<8>>,
    s4_q: DFF<Bits<8>>,
    s4_rem: DFF<Bits<16>>,
    s4_big: DFF<Bit>,
    s4_neg: DFF<Bit>,
    s4_a: DFF<Bits<16>>,

    // Stage 5: v, the shift, saturation.
    a17: Signal<Local, Bits<17>>,
    rem17: Signal<Local, Bits<17>>,
    v2a: Signal<Local, Bits<17>>,
    v: Signal<Local, Bits<17>>,
    vp: Signal<Local, Bits<17>>,
    shift: Signal<Local, Bits<8>>,
    nq: Signal<Local, Bits<8>>,
    sh1: Signal<Local, Bits<8>>,
    v48: Signal<Local, Bits<48>>,
    e48: Signal<Local, Bits<48>>,
    sat: Signal<Local, Bit>,
    s5_e: DFF<Bits<32>>,
}

impl<const XB: usize> ExpShiftPipe<XB> {
    /// The pipeline for exponent clamp `n` (1..=30).
    pub fn new(n: u32) -> Self {
        assert!((1..=N_MAX).contains(&n), "exp_shift: n = {n} not in 1..=30");
        assert!(
            (2..=16).contains(&XB),
            "exp_shift: x0 width {XB} not in 2..=16"
        );
        let nm = |bit: u32| konst::<24>(if n & (1 << bit) != 0 { 0xff_ffff } else { 0 });
        Self {
            clock: Default::default(),
            en: Default::default(),
            reset: Default::default(),
            d: Default::default(),
            x0: Default::default(),
            e: Default::default(),
            nm0: nm(0),
            nm1: nm(1),
            nm2: nm(2),
            nm3: nm(3),
            nm4: nm(4),
            n8: konst(n as u64),
            x0_ext: konst((0xffffu64 << XB) & 0xffff),
            d_ext: konst(0xff_ffffu64 & !0x3ff),
            top1: konst(0x80_0000),
            top4: konst(0xf0_0000),
            zero16: konst(0),
            zero8: konst(0),
            zero24: konst(0),
            one8: konst(1),
            one17: konst(1),
            thirty_two: konst(32),
            cap: konst(1 << 31),
            zero32: konst(0),
            dx: Default::default(),
            h1: Default::default(),
            h4: Default::default(),
            t0: Default::default(),
            t: Default::default(),
            x0s: Default::default(),
            a: Default::default(),
            a24s: Default::default(),
            p01: Default::default(),
            p23: Default::default(),
            p4: Default::default(),
            p03: Default::default(),
            na24: Default::default(),
            s1_t: Default::default(),
            s1_na: Default::default(),
            s1_a: Default::default(),
            u: Default::default(),
            uc: Default::default(),
            s2_w: Default::default(),
            s2_neg: Default::default(),
            s2_a: Default::default(),
            a24: Default::default(),
            ak: Default::default(),
            rem: Default::default(),
            rem25: Default::default(),
            diff: Default::default(),
            w32: Default::default(),
            q: Default::default(),
            s3_q: Default::default(),
            s3_rem: Default::default(),
            s3_big: Default::default(),
            s3_neg: Default::default(),
            s3_a: Default::default(),
            b24: Default::default(),
            bk: Default::default(),
            remb: Default::default(),
            rem25b: Default::default(),
            diffb: Default::default(),
            qb: Default::default(),
            s4_q: Default::default(),
            s4_rem: Default::default(),
            s4_big: Default::default(),
            s4_neg: Default::default(),
            s4_a: Default::default(),
            a17: Default::default(),
            rem17: Default::default(),
            v2a: Default::default(),
            v: Default::default(),
            vp: Default::default(),
            shift: Default::default(),
            nq: Default::default(),
            sh1: Default::default(),
            v48: Default::default(),
            e48: Default::default(),
            sat: Default::default(),
            s5_e: Default::default(),
        }
    }
}

impl<const XB: usize> Logic for ExpShiftPipe<XB> {
    #[hdl_gen]
    fn update(&mut self) {
        self.s1_t.clock.next = self.clock.val();
        self.s1_na.clock.next = self.clock.val();
        self.s1_a.clock.next = self.clock.val();
        self.s2_w.clock.next = self.clock.val();
        self.s2_neg.clock.next = self.clock.val();
        self.s2_a.clock.next = self.clock.val();
        self.s3_q.clock.next = self.clock.val();
        self.s3_rem.clock.next = self.clock.val();
        self.s3_big.clock.next = self.clock.val();
        self.s3_neg.clock.next = self.clock.val();
        self.s3_a.clock.next = self.clock.val();
        self.s4_q.clock.next = self.clock.val();
        self.s4_rem.clock.next = self.clock.val();
        self.s4_big.clock.next = self.clock.val();
        self.s4_neg.clock.next = self.clock.val();
        self.s4_a.clock.next = self.clock.val();
        self.s5_e.clock.next = self.clock.val();
        self.s1_t.d.next = self.s1_t.q.val();
        self.s1_na.d.next = self.s1_na.q.val();
        self.s1_a.d.next = self.s1_a.q.val();
        self.s2_w.d.next = self.s2_w.q.val();
        self.s2_neg.d.next = self.s2_neg.q.val();
        self.s2_a.d.next = self.s2_a.q.val();
        self.s3_q.d.next = self.s3_q.q.val();
        self.s3_rem.d.next = self.s3_rem.q.val();
        self.s3_big.d.next = self.s3_big.q.val();
        self.s3_neg.d.next = self.s3_neg.q.val();
        self.s3_a.d.next = self.s3_a.q.val();
        self.s4_q.d.next = self.s4_q.q.val();
        self.s4_rem.d.next = self.s4_rem.q.val();
        self.s4_big.d.next = self.s4_big.q.val();
        self.s4_neg.d.next = self.s4_neg.q.val();
        self.s4_a.d.next = self.s4_a.q.val();
        self.s5_e.d.next = self.s5_e.q.val();
        self.e.next = self.s5_e.q.val();

        // Stage 1. t = d + (d >> 1) - (d >> 4) in 24-bit two's complement (arithmetic shifts by
        // hand: logical shift, then the sign bits back in); a = -x0 (x0 is negative: its sign
        // extension is all ones) and n * a by shift-and-add over the bits of the constant n, as a
        // two-level tree (Yosys folds the masks).
        self.dx.next = bit_cast::<24, 10>(self.d.val());
        self.h1.next = self.dx.val() >> 1;
        self.h4.next = self.dx.val() >> 4;
        if self.d.val().get_bit(9) {
            self.dx.next = bit_cast::<24, 10>(self.d.val()) | self.d_ext.val();
            self.h1.next = (self.dx.val() >> 1) | self.top1.val();
            self.h4.next = (self.dx.val() >> 4) | self.top4.val();
        }
        self.t0.next = self.dx.val() + self.h1.val();
        self.t.next = self.t0.val() - self.h4.val();
        self.x0s.next = bit_cast::<16, XB>(self.x0.val()) | self.x0_ext.val();
        self.a.next = self.zero16.val() - self.x0s.val();
        self.a24s.next = bit_cast::<24, 16>(self.a.val());
        self.p01.next =
            (self.a24s.val() & self.nm0.val()) + ((self.a24s.val() << 1) & self.nm1.val());
        self.p23.next =
            ((self.a24s.val() << 2) & self.nm2.val()) + ((self.a24s.val() << 3) & self.nm3.val());
        self.p4.next = (self.a24s.val() << 4) & self.nm4.val();
        self.p03.next = self.p01.val() + self.p23.val();
        self.na24.next = self.p03.val() + self.p4.val();
        if self.en.val() {
            self.s1_t.d.next = self.t.val();
            self.s1_na.d.next = self.na24.val();
            self.s1_a.d.next = self.a.val();
        }

        // Stage 2. The clamp u = min(-t, n*a) (for u >= 0), and w = u or, for u < 0, -u - 1.
        self.u.next = self.zero24.val() - self.s1_t.q.val();
        self.uc.next = self.u.val();
        if !self.u.val().get_bit(23) && (self.u.val() > self.s1_na.q.val()) {
            self.uc.next = self.s1_na.q.val();
        }
        if self.en.val() {
            self.s2_neg.d.next = self.u.val().get_bit(23);
            self.s2_a.d.next = self.s1_a.q.val();
            if self.u.val().get_bit(23) {
                self.s2_w.d.next = !self.uc.val();
            } else {
                self.s2_w.d.next = self.uc.val();
            }
        }

        // Stage 3. `big` when w >= 32 a; quotient bits 4 and 3 (restoring steps, one subtractor
        // each whose borrow is the compare).
        self.a24.next = bit_cast::<24, 16>(self.s2_a.q.val());
        self.w32.next = self.s2_w.q.val() >> 5;
        self.rem.next = self.s2_w.q.val();
        self.q.next = self.zero8.val();
        self.ak.next = bit_cast::<25, 24>(self.a24.val()) << 4;
        self.rem25.next = bit_cast::<25, 24>(self.rem.val());
        self.diff.next = self.rem25.val() - self.ak.val();
        if !self.diff.val().get_bit(24) {
            self.rem.next = self.diff.val().get_bits::<24>(0);
            self.q.next = self.q.val() | (self.one8.val() << 4);
        }
        self.ak.next = bit_cast::<25, 24>(self.a24.val()) << 3;
        self.rem25.next = bit_cast::<25, 24>(self.rem.val());
        self.diff.next = self.rem25.val() - self.ak.val();
        if !self.diff.val().get_bit(24) {
            self.rem.next = self.diff.val().get_bits::<24>(0);
            self.q.next = self.q.val() | (self.one8.val() << 3);
        }
        if self.en.val() {
            self.s3_q.d.next = self.q.val();
            self.s3_rem.d.next = self.rem.val();
            self.s3_big.d.next = self.w32.val() >= self.a24.val();
            self.s3_neg.d.next = self.s2_neg.q.val();
            self.s3_a.d.next = self.s2_a.q.val();
        }

        // Stage 4. Quotient bits 2, 1, 0.
        self.b24.next = bit_cast::<24, 16>(self.s3_a.q.val());
        self.remb.next = self.s3_rem.q.val();
        self.qb.next = self.s3_q.q.val();
        self.bk.next = bit_cast::<25, 24>(self.b24.val()) << 2;
        self.rem25b.next = bit_cast::<25, 24>(self.remb.val());
        self.diffb.next = self.rem25b.val() - self.bk.val();
        if !self.diffb.val().get_bit(24) {
            self.remb.next = self.diffb.val().get_bits::<24>(0);
            self.qb.next = self.qb.val() | (self.one8.val() << 2);
        }
        self.bk.next = bit_cast::<25, 24>(self.b24.val()) << 1;
        self.rem25b.next = bit_cast::<25, 24>(self.remb.val());
        self.diffb.next = self.rem25b.val() - self.bk.val();
        if !self.diffb.val().get_bit(24) {
            self.remb.next = self.diffb.val().get_bits::<24>(0);
            self.qb.next = self.qb.val() | (self.one8.val() << 1);
        }
        self.bk.next = bit_cast::<25, 24>(self.b24.val());
        self.rem25b.next = bit_cast::<25, 24>(self.remb.val());
        self.diffb.next = self.rem25b.val() - self.bk.val();
        if !self.diffb.val().get_bit(24) {
            self.remb.next = self.diffb.val().get_bits::<24>(0);
            self.qb.next = self.qb.val() | (self.one8.val());
        }
        if self.en.val() {
            self.s4_q.d.next = self.qb.val();
            self.s4_rem.d.next = self.remb.val().get_bits::<16>(0);
            self.s4_big.d.next = self.s3_big.q.val();
            self.s4_neg.d.next = self.s3_neg.q.val();
            self.s4_a.d.next = self.s3_a.q.val();
        }

        // Stage 5. v = r - 2 x0 and the shift n - q, then e = (v << shift) >> 1, saturated.
        self.a17.next = bit_cast::<17, 16>(self.s4_a.q.val());
        self.rem17.next = bit_cast::<17, 16>(self.s4_rem.q.val());
        self.v2a.next = self.a17.val() << 1;
        self.vp.next = self.a17.val() + self.rem17.val();
        self.nq.next = self.n8.val() + self.s4_q.q.val();
        // q = qw, r = -rw: v = 2a - rw, shift = n - qw.
        self.v.next = self.v2a.val() - self.rem17.val();
        self.shift.next = self.n8.val() - self.s4_q.q.val();
        if self.s4_neg.q.val() {
            // q = -1 - qw, r = -(a - 1 - rw): v = a + 1 + rw, shift = n + 1 + qw.
            self.v.next = self.vp.val() + self.one17.val();
            self.shift.next = self.nq.val() + self.one8.val();
        }
        self.v48.next = bit_cast::<48, 17>(self.v.val());
        self.sh1.next = self.shift.val() - self.one8.val();
        self.e48.next = self.v48.val() >> 1;
        self.sat.next = false;
        if self.shift.val().any() {
            self.e48.next = self.v48.val() << self.sh1.val();
            self.sat.next = (self.s4_neg.q.val() && self.s4_big.q.val())
                || (self.sh1.val() >= self.thirty_two.val());
        }
        if self.en.val() {
            if self.sat.val() || self.e48.val().get_bits::<17>(31).any() {
                self.s5_e.d.next = self.cap.val();
            } else {
                self.s5_e.d.next = self.e48.val().get_bits::<32>(0);
            }
        }
        if self.reset.val() {
            self.s1_t.d.next = self.zero24.val();
            self.s1_na.d.next = self.zero24.val();
            self.s1_a.d.next = self.zero16.val();
            self.s2_w.d.next = self.zero24.val();
            self.s2_neg.d.next = false;
            self.s2_a.d.next = self.zero16.val();
            self.s3_q.d.next = self.zero8.val();
            self.s3_rem.d.next = self.zero24.val();
            self.s3_big.d.next = false;
            self.s3_neg.d.next = false;
            self.s3_a.d.next = self.zero16.val();
            self.s4_q.d.next = self.zero8.val();
            self.s4_rem.d.next = self.zero16.val();
            self.s4_big.d.next = false;
            self.s4_neg.d.next = false;
            self.s4_a.d.next = self.zero16.val();
            self.s5_e.d.next = self.zero32.val();
        }
    }
}

/// The stream block `exp-shift`: [`ExpShiftPipe`] with valid bits and a global stall (see the
/// module doc for ports and timing).
#[derive(LogicBlock)]
pub struct ExpShift<const XB: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub d: Signal<In, Bits<10>>,
    pub x0: Signal<In, Bits<XB>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub e: Signal<Out, Bits<32>>,
    pipe: ExpShiftPipe<XB>,
    valid: Vec<DFF<Bit>>,
    advance: Signal<Local, Bit>,
}

impl<const XB: usize> ExpShift<XB> {
    pub fn new(n: u32) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            d: Default::default(),
            x0: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            e: Default::default(),
            pipe: ExpShiftPipe::new(n),
            valid: (0..LATENCY).map(|_| Default::default()).collect(),
            advance: Default::default(),
        }
    }
}

impl<const XB: usize> Logic for ExpShift<XB> {
    #[hdl_gen]
    fn update(&mut self) {
        for last in (LATENCY - 1)..LATENCY {
            self.advance.next = !self.valid[last].q.val() || self.out_ready.val();
            self.out_valid.next = self.valid[last].q.val();
        }
        self.in_ready.next = self.advance.val();
        self.pipe.clock.next = self.clock.val();
        self.pipe.en.next = self.advance.val();
        self.pipe.reset.next = self.reset.val();
        self.pipe.d.next = self.d.val();
        self.pipe.x0.next = self.x0.val();
        self.e.next = self.pipe.e.val();
        for i in 0..LATENCY {
            self.valid[i].clock.next = self.clock.val();
            self.valid[i].d.next = self.valid[i].q.val();
        }
        if self.advance.val() {
            self.valid[0].d.next = self.in_valid.val();
            for i in 1..LATENCY {
                self.valid[i].d.next = self.valid[i - 1].q.val();
            }
        }
        if self.reset.val() {
            for i in 0..LATENCY {
                self.valid[i].d.next = false;
            }
        }
    }
}
