//! `shiftmax`: I-ViT's integer softmax as a streaming row unit.
//!
//! Golden model: [`golden::shiftmax::shiftmax`]. Spec: `integer-ops.md`, "Shiftmax":
//! ```text
//! m = max(x);  e_i = exp_shift(x_i - m, x0, n);  s = min(sum(e), 2^31)
//! factor = recip(s);  out_i = (e_i * factor) >> (32 - out_bits)
//! ```
//!
//! # Ports
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock`, `reset` | in | 1 | rising edge; synchronous active-high reset drops any row in flight |
//! | `in_valid`/`in_ready` | | 1 | input handshake, one element per transfer |
//! | `x` | in | 8 | int8 element |
//! | `x0` | in | XB | `x0 < 0`, two's complement; taken from the row's first element (hold it for the row) |
//! | `last` | in | 1 | the element ends its row (a row is also ended after `max_len` elements) |
//! | `out_valid`/`out_ready` | | 1 | output handshake, one element per transfer, in input order |
//! | `y` | out | OB | unsigned `out_i` in `0 ..= 2^(OB-1)`, scale `2^-(OB-1)` |
//! | `y_last` | out | 1 | `y` is the last element of its row |
//!
//! # Architecture and timing (row of `L` elements, no stalls)
//! Three passes over two row buffers (`RAM`s, block RAM on FPGA; `max_len` x 8 bits and
//! `max_len` x 32 bits):
//! 1. load: `x_i` into the x buffer and the running max, one element per cycle (`L` cycles);
//! 2. exp: the x buffer through [`ExpShiftPipe`] into the e buffer, summing `e` saturated at
//!    `2^31` (`L + 6` cycles), then one reciprocal: generator parameter `recip`, `iterative`
//!    ([`RecipIter`], 27 cycles, one 33-bit subtractor: the default, since it runs once per row) or
//!    `pipelined` ([`RecipPipe`], 7 cycles, 25 subtractors, about 900 more iCE40 LUTs);
//! 3. out: the e buffer times `factor` ([`MulU32`]) and the shift, with backpressure
//!    (`L + 4` cycles to the last output).
//!
//! The x buffer is free once the exp pass has read it, so the next row loads while this one is in
//! its reciprocal and output passes. Latency of a row from its last input to its first output:
//! [`ROW_LATENCY`] + `L` cycles; sustained throughput with rows back to back about
//! `L / (2L + 19)` elements per cycle (one element per cycle in each pass).
//!
//! # Parameters and limits
//! `n` 1..=30, `x0_bits` (XB) 8..=16 with `n + XB - 1 <= 31` (so `e_i <= |x0| 2^n <= 2^31`), `out_bits`
//! (OB) 8 or 16, `max_len` 1..=2^AB (buffer address width AB). Rows longer than `max_len` are cut
//! after `max_len` elements (the generators reject such rows before they reach the hardware).
use rust_hdl::prelude::*;

use crate::exp_shift::{self, ExpShiftPipe};
use crate::float_format::konst;
use crate::recip::{self, RecipIter, RecipPipe};
use crate::wide_mul::MulU32;

/// Cycles from a row's last input to its first output, on top of the row length `L`, without
/// stalls: 1 (start) + 1 (read) + exp_shift + 1 (sum) + recip + 1 (read) + multiply + 1 (output).
pub const ROW_LATENCY: usize = 5 + exp_shift::LATENCY + recip::LATENCY + crate::wide_mul::LATENCY;

/// [`ROW_LATENCY`] with the iterative reciprocal ([`RecipIter`]).
pub const ROW_LATENCY_ITER: usize = ROW_LATENCY + recip::ITER_LATENCY - recip::LATENCY;

/// Generator parameters of a Shiftmax unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShiftmaxParams {
    pub n: u32,
    pub max_len: usize,
    /// [`RecipIter`] (one subtractor, 27 cycles) instead of [`RecipPipe`] (25 subtractors, 7
    /// cycles): the reciprocal runs once per row, so the slow one costs 20 cycles per row.
    pub iterative: bool,
}

/// Valid bits of the exp pass: the buffer read, then the exp_shift stages.
const EV: usize = 1 + exp_shift::LATENCY;

const IDLE: u64 = 0;
const EXP: u64 = 1;
const RECIP: u64 = 2;
const OUT: u64 = 3;

#[derive(LogicBlock)]
pub struct Shiftmax<const XB: usize, const AB: usize, const OB: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub x: Signal<In, Bits<8>>,
    pub x0: Signal<In, Bits<XB>>,
    pub last: Signal<In, Bit>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub y: Signal<Out, Bits<OB>>,
    pub y_last: Signal<Out, Bit>,

    ram_x: RAM<Bits<8>, AB>,
    ram_e: RAM<Bits<32>, AB>,
    exp: ExpShiftPipe<XB>,
    rcp: RecipPipe,
    rci: RecipIter,
    mul: MulU32,
    iterative: Constant<Bit>,
    sum_done: Signal<Local, Bit>,
    r_done: Signal<Local, Bit>,
    r_val: Signal<Local, Bits<32>>,

    st_idle: Constant<Bits<2>>,
    st_exp: Constant<Bits<2>>,
    st_recip: Constant<Bits<2>>,
    st_out: Constant<Bits<2>>,
    max_idx: Constant<Bits<AB>>,
    zero_ab: Constant<Bits<AB>>,
    one_ab: Constant<Bits<AB>>,
    sign8: Constant<Bits<8>>,
    ext10: Constant<Bits<10>>,
    zero32: Constant<Bits<32>>,
    cap33: Constant<Bits<33>>,
    out_shift: Constant<Bits<8>>,
    out_high: Constant<Bits<64>>,
    out_max: Constant<Bits<OB>>,
    out_zero: Constant<Bits<OB>>,

    // Input side: loads a row into the x buffer.
    wr: DFF<Bits<AB>>,
    m_in: DFF<Bits<8>>,
    x0_in: DFF<Bits<XB>>,
    last_in: DFF<Bits<AB>>,
    full: DFF<Bit>,
    accept: Signal<Local, Bit>,
    xb: Signal<Local, Bits<8>>,
    mb: Signal<Local, Bits<8>>,
    wr_next: Signal<Local, Bits<AB>>,

    // Processing side.
    st: DFF<Bits<2>>,
    pm: DFF<Bits<8>>,
    px0: DFF<Bits<XB>>,
    plast: DFF<Bits<AB>>,
    // exp pass
    rdx: DFF<Bits<AB>>,
    xdone: DFF<Bit>,
    ev: Vec<DFF<Bit>>,
    ev_out: Signal<Local, Bit>,
    we: DFF<Bits<AB>>,
    sum: DFF<Bits<32>>,
    issue: Signal<Local, Bit>,
    xs: Signal<Local, Bits<10>>,
    ms: Signal<Local, Bits<10>>,
    dd: Signal<Local, Bits<10>>,
    sum33: Signal<Local, Bits<33>>,
    e33: Signal<Local, Bits<33>>,
    acc33: Signal<Local, Bits<33>>,
    sum_sat: Signal<Local, Bits<32>>,
    rdx_next: Signal<Local, Bits<AB>>,
    we_next: Signal<Local, Bits<AB>>,
    // recip
    rv: Vec<DFF<Bit>>,
    factor: DFF<Bits<32>>,
    // out pass
    rdo: DFF<Bits<AB>>,
    odone: DFF<Bit>,
    oaddr: DFF<Bits<AB>>,
    ov: Vec<DFF<Bit>>,
    ol: Vec<DFF<Bit>>,
    oy: DFF<Bits<OB>>,
    oadv: Signal<Local, Bit>,
    oissue: Signal<Local, Bit>,
    oaddr_next: Signal<Local, Bits<AB>>,
    rdo_next: Signal<Local, Bits<AB>>,
    ps: Signal<Local, Bits<64>>,
}

impl<const XB: usize, const AB: usize, const OB: usize> Shiftmax<XB, AB, OB> {
    pub fn new(p: &ShiftmaxParams) -> Self {
        assert!(OB == 8 || OB == 16, "shiftmax: out_bits {OB} not 8 or 16");
        assert!(
            p.max_len >= 1 && p.max_len <= 1 << AB,
            "shiftmax: max_len {} needs more than {AB} address bits",
            p.max_len
        );
        assert!(
            p.n as usize + XB - 1 <= 31,
            "shiftmax: n + x0_bits - 1 = {} > 31",
            p.n as usize + XB - 1
        );
        Self {
            clock: Default::default(),
            reset: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            x: Default::default(),
            x0: Default::default(),
            last: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            y: Default::default(),
            y_last: Default::default(),
            ram_x: Default::default(),
            ram_e: Default::default(),
            exp: ExpShiftPipe::new(p.n),
            rcp: Default::default(),
            rci: Default::default(),
            mul: Default::default(),
            iterative: Constant::new(p.iterative),
            sum_done: Default::default(),
            r_done: Default::default(),
            r_val: Default::default(),
            st_idle: konst(IDLE),
            st_exp: konst(EXP),
            st_recip: konst(RECIP),
            st_out: konst(OUT),
            max_idx: konst(p.max_len as u64 - 1),
            zero_ab: konst(0),
            one_ab: konst(1),
            sign8: konst(0x80),
            ext10: konst(0x300),
            zero32: konst(0),
            cap33: konst(1 << 31),
            out_shift: konst(32 - OB as u64),
            out_high: konst(!((1u64 << OB) - 1)),
            out_max: konst((1u64 << OB) - 1),
            out_zero: konst(0),
            wr: Default::default(),
            m_in: Default::default(),
            x0_in: Default::default(),
            last_in: Default::default(),
            full: Default::default(),
            accept: Default::default(),
            xb: Default::default(),
            mb: Default::default(),
            wr_next: Default::default(),
            st: Default::default(),
            pm: Default::default(),
            px0: Default::default(),
            plast: Default::default(),
            rdx: Default::default(),
            xdone: Default::default(),
            ev: (0..EV).map(|_| Default::default()).collect(),
            ev_out: Default::default(),
            we: Default::default(),
            sum: Default::default(),
            issue: Default::default(),
            xs: Default::default(),
            ms: Default::default(),
            dd: Default::default(),
            sum33: Default::default(),
            e33: Default::default(),
            acc33: Default::default(),
            sum_sat: Default::default(),
            rdx_next: Default::default(),
            we_next: Default::default(),
            rv: (0..recip::LATENCY).map(|_| Default::default()).collect(),
            factor: Default::default(),
            rdo: Default::default(),
            odone: Default::default(),
            oaddr: Default::default(),
            ov: (0..4).map(|_| Default::default()).collect(),
            ol: (0..4).map(|_| Default::default()).collect(),
            oy: Default::default(),
            oadv: Default::default(),
            oissue: Default::default(),
            oaddr_next: Default::default(),
            rdo_next: Default::default(),
            ps: Default::default(),
        }
    }
}

impl<const XB: usize, const AB: usize, const OB: usize> Logic for Shiftmax<XB, AB, OB> {
    #[hdl_gen]
    fn update(&mut self) {
        // Clocks, and every register holds by default.
        self.wr.clock.next = self.clock.val();
        self.m_in.clock.next = self.clock.val();
        self.x0_in.clock.next = self.clock.val();
        self.last_in.clock.next = self.clock.val();
        self.full.clock.next = self.clock.val();
        self.st.clock.next = self.clock.val();
        self.pm.clock.next = self.clock.val();
        self.px0.clock.next = self.clock.val();
        self.plast.clock.next = self.clock.val();
        self.rdx.clock.next = self.clock.val();
        self.xdone.clock.next = self.clock.val();
        self.we.clock.next = self.clock.val();
        self.sum.clock.next = self.clock.val();
        self.factor.clock.next = self.clock.val();
        self.rdo.clock.next = self.clock.val();
        self.odone.clock.next = self.clock.val();
        self.oaddr.clock.next = self.clock.val();
        self.oy.clock.next = self.clock.val();
        self.wr.d.next = self.wr.q.val();
        self.m_in.d.next = self.m_in.q.val();
        self.x0_in.d.next = self.x0_in.q.val();
        self.last_in.d.next = self.last_in.q.val();
        self.full.d.next = self.full.q.val();
        self.st.d.next = self.st.q.val();
        self.pm.d.next = self.pm.q.val();
        self.px0.d.next = self.px0.q.val();
        self.plast.d.next = self.plast.q.val();
        self.rdx.d.next = self.rdx.q.val();
        self.xdone.d.next = self.xdone.q.val();
        self.we.d.next = self.we.q.val();
        self.sum.d.next = self.sum.q.val();
        self.factor.d.next = self.factor.q.val();
        self.rdo.d.next = self.rdo.q.val();
        self.odone.d.next = self.odone.q.val();
        self.oaddr.d.next = self.oaddr.q.val();
        self.oy.d.next = self.oy.q.val();
        for i in 0..EV {
            self.ev[i].clock.next = self.clock.val();
            self.ev[i].d.next = self.ev[i].q.val();
        }
        for i in 0..4 {
            self.ov[i].clock.next = self.clock.val();
            self.ov[i].d.next = self.ov[i].q.val();
            self.ol[i].clock.next = self.clock.val();
            self.ol[i].d.next = self.ol[i].q.val();
        }
        for i in 0..recip::LATENCY {
            self.rv[i].clock.next = self.clock.val();
            self.rv[i].d.next = false;
        }
        self.ram_x.read_clock.next = self.clock.val();
        self.ram_x.write_clock.next = self.clock.val();
        self.ram_e.read_clock.next = self.clock.val();
        self.ram_e.write_clock.next = self.clock.val();
        self.exp.clock.next = self.clock.val();
        self.rcp.clock.next = self.clock.val();
        self.mul.clock.next = self.clock.val();

        // ---- Input side: one element per cycle into the x buffer, running max. ----
        self.in_ready.next = !self.full.q.val();
        self.accept.next = self.in_valid.val() && !self.full.q.val();
        self.ram_x.write_enable.next = self.accept.val();
        self.ram_x.write_address.next = self.wr.q.val();
        self.ram_x.write_data.next = self.x.val();
        // Signed compare by flipping the sign bits.
        self.xb.next = self.x.val() ^ self.sign8.val();
        self.mb.next = self.m_in.q.val() ^ self.sign8.val();
        self.wr_next.next = self.wr.q.val() + self.one_ab.val();
        if self.accept.val() {
            self.wr.d.next = self.wr_next.val();
            if !self.wr.q.val().any() {
                self.m_in.d.next = self.x.val();
                self.x0_in.d.next = self.x0.val();
            } else if self.xb.val() > self.mb.val() {
                self.m_in.d.next = self.x.val();
            }
            if self.last.val() || (self.wr.q.val() == self.max_idx.val()) {
                self.full.d.next = true;
                self.last_in.d.next = self.wr.q.val();
                self.wr.d.next = self.zero_ab.val();
            }
        }

        // ---- Start a row when idle. ----
        if (self.st.q.val() == self.st_idle.val()) && self.full.q.val() {
            self.st.d.next = self.st_exp.val();
            self.pm.d.next = self.m_in.q.val();
            self.px0.d.next = self.x0_in.q.val();
            self.plast.d.next = self.last_in.q.val();
            self.rdx.d.next = self.zero_ab.val();
            self.xdone.d.next = false;
            self.we.d.next = self.zero_ab.val();
            self.sum.d.next = self.zero32.val();
        }

        // ---- exp pass: read x, d = x - m, exp_shift, write e, sum. ----
        self.issue.next = (self.st.q.val() == self.st_exp.val()) && !self.xdone.q.val();
        self.ram_x.read_address.next = self.rdx.q.val();
        self.rdx_next.next = self.rdx.q.val() + self.one_ab.val();
        self.ev[0].d.next = self.issue.val();
        for i in 1..EV {
            self.ev[i].d.next = self.ev[i - 1].q.val();
        }
        for last in (EV - 1)..EV {
            self.ev_out.next = self.ev[last].q.val();
        }
        if self.issue.val() {
            self.rdx.d.next = self.rdx_next.val();
            if self.rdx.q.val() == self.plast.q.val() {
                // The x buffer has been read: the next row may load.
                self.xdone.d.next = true;
                self.full.d.next = false;
            }
        }
        self.xs.next = bit_cast::<10, 8>(self.ram_x.read_data.val());
        if self.ram_x.read_data.val().get_bit(7) {
            self.xs.next = bit_cast::<10, 8>(self.ram_x.read_data.val()) | self.ext10.val();
        }
        self.ms.next = bit_cast::<10, 8>(self.pm.q.val());
        if self.pm.q.val().get_bit(7) {
            self.ms.next = bit_cast::<10, 8>(self.pm.q.val()) | self.ext10.val();
        }
        self.dd.next = self.xs.val() - self.ms.val();
        self.exp.en.next = true;
        self.exp.reset.next = self.reset.val();
        self.exp.d.next = self.dd.val();
        self.exp.x0.next = self.px0.q.val();
        self.ram_e.write_enable.next = self.ev_out.val();
        self.ram_e.write_address.next = self.we.q.val();
        self.ram_e.write_data.next = self.exp.e.val();
        self.sum33.next = bit_cast::<33, 32>(self.sum.q.val());
        self.e33.next = bit_cast::<33, 32>(self.exp.e.val());
        self.acc33.next = self.sum33.val() + self.e33.val();
        self.sum_sat.next = self.acc33.val().get_bits::<32>(0);
        if self.acc33.val() > self.cap33.val() {
            self.sum_sat.next = self.cap33.val().get_bits::<32>(0);
        }
        self.we_next.next = self.we.q.val() + self.one_ab.val();
        self.rcp.en.next = true;
        self.rcp.reset.next = self.reset.val();
        self.rcp.s.next = self.sum_sat.val();
        self.rci.clock.next = self.clock.val();
        self.rci.reset.next = self.reset.val();
        self.rci.s.next = self.sum_sat.val();
        self.sum_done.next = self.ev_out.val() && (self.we.q.val() == self.plast.q.val());
        self.rci.start.next = self.sum_done.val() && self.iterative.val() && self.rci.idle.val();
        if self.ev_out.val() {
            self.we.d.next = self.we_next.val();
            self.sum.d.next = self.sum_sat.val();
            if self.sum_done.val() {
                // The row sum is complete: it enters the reciprocal this edge.
                self.rv[0].d.next = true;
                self.st.d.next = self.st_recip.val();
            }
        }

        // ---- reciprocal: wait for factor (one of the two dividers, a generator choice). ----
        for i in 1..recip::LATENCY {
            self.rv[i].d.next = self.rv[i - 1].q.val();
        }
        for last in (recip::LATENCY - 1)..recip::LATENCY {
            self.r_done.next = self.rv[last].q.val();
        }
        self.r_val.next = self.rcp.r.val();
        if self.iterative.val() {
            self.r_done.next = self.rci.done.val();
            self.r_val.next = self.rci.r.val();
        }
        if self.r_done.val() && (self.st.q.val() == self.st_recip.val()) {
            self.factor.d.next = self.r_val.val();
            self.st.d.next = self.st_out.val();
            self.rdo.d.next = self.zero_ab.val();
            self.odone.d.next = false;
        }

        // ---- out pass: read e, e * factor, shift; the pipeline stalls as a whole. ----
        self.oadv.next = !self.ov[3].q.val() || self.out_ready.val();
        self.oissue.next = (self.st.q.val() == self.st_out.val()) && !self.odone.q.val();
        self.rdo_next.next = self.rdo.q.val() + self.one_ab.val();
        // The buffer reads the address the stage-0 register is about to hold, so its data is
        // always that of `oaddr` (also while stalled).
        self.oaddr_next.next = self.oaddr.q.val();
        if self.oadv.val() && self.oissue.val() {
            self.oaddr_next.next = self.rdo.q.val();
        }
        self.ram_e.read_address.next = self.oaddr_next.val();
        self.oaddr.d.next = self.oaddr_next.val();
        self.mul.en.next = self.oadv.val();
        self.mul.a.next = self.ram_e.read_data.val();
        self.mul.b.next = self.factor.q.val();
        self.ps.next = self.mul.p.val() >> self.out_shift.val();
        if self.oadv.val() {
            self.ov[0].d.next = self.oissue.val();
            self.ol[0].d.next = self.oissue.val() && (self.rdo.q.val() == self.plast.q.val());
            if self.oissue.val() {
                self.rdo.d.next = self.rdo_next.val();
                if self.rdo.q.val() == self.plast.q.val() {
                    self.odone.d.next = true;
                }
            }
            for i in 1..4 {
                self.ov[i].d.next = self.ov[i - 1].q.val();
                self.ol[i].d.next = self.ol[i - 1].q.val();
            }
            if self.ov[2].q.val() {
                // out_i <= 2^(OB-1) always; the clamp is unreachable and keeps every bit used.
                if (self.ps.val() & self.out_high.val()).any() {
                    self.oy.d.next = self.out_max.val();
                } else {
                    self.oy.d.next = self.ps.val().get_bits::<OB>(0);
                }
            }
        }
        self.out_valid.next = self.ov[3].q.val();
        self.y.next = self.oy.q.val();
        self.y_last.next = self.ol[3].q.val();
        if self.ov[3].q.val() && self.out_ready.val() && self.ol[3].q.val() {
            self.st.d.next = self.st_idle.val();
        }

        // ---- Synchronous reset. ----
        if self.reset.val() {
            self.st.d.next = self.st_idle.val();
            self.full.d.next = false;
            self.wr.d.next = self.zero_ab.val();
            self.oy.d.next = self.out_zero.val();
            for i in 0..EV {
                self.ev[i].d.next = false;
            }
            for i in 0..4 {
                self.ov[i].d.next = false;
                self.ol[i].d.next = false;
            }
            for i in 0..recip::LATENCY {
                self.rv[i].d.next = false;
            }
        }
    }
}
