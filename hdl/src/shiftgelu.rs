//! `shiftgelu`: I-ViT's integer GELU as a streaming row unit.
//!
//! Golden model: [`golden::shiftgelu::shiftgelu`]. Spec: `integer-ops.md`, "ShiftGELU":
//! ```text
//! m = max(x);  e_i = exp_shift(x_i - m, x0, n);  emax = exp_shift(-m, x0, n)
//! s_i = min(e_i + emax, 2^31);  sig_i = (e_i * recip(s_i)) >> 24;  out_i = x_i * sig_i
//! ```
//!
//! # Ports
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock`, `reset` | in | 1 | rising edge; synchronous active-high reset drops any row in flight |
//! | `in_valid`/`in_ready` | | 1 | input handshake, one element per transfer |
//! | `x` | in | 8 | int8 element |
//! | `x0` | in | XB | `x0 < 0` (`floor(-1/(S*1.702))`), two's complement; taken from the row's first element |
//! | `last` | in | 1 | the element ends its row (a row is also ended after `max_len` elements) |
//! | `out_valid`/`out_ready` | | 1 | output handshake, one element per transfer, in input order |
//! | `y` | out | 16 | int16 `out_i`, scale `S * 2^-7` |
//! | `y_last` | out | 1 | `y` is the last element of its row |
//!
//! # Architecture and timing (row of `L` elements, no stalls)
//! Two passes: the row is loaded into a buffer (`max_len` x 8 bits, block RAM on FPGA) while its
//! max is found (`L` cycles), then one streaming pass through a 16-stage pipeline: buffer read,
//! [`ExpShiftPipe`] (5), `s_i` into [`RecipPipe`] (7: one reciprocal per element, so the divider is
//! fully pipelined), [`MulU32`] (2), and `x_i * sig_i` by shift-and-add into the output register.
//! `emax` travels first through the same exp_shift pipeline, as a token ahead of the row's first
//! element, so one exp_shift serves both. The pass pipeline stalls as a whole on `out_ready`.
//! The buffer is free once the pass has read it, so the next row loads while this one drains.
//! First output [`ROW_LATENCY`] (19) cycles after the row's last input, the last `L - 1` cycles
//! later; rows back to back: one row per about `2L + 3` cycles (one element per cycle per pass;
//! the load of the next row overlaps the drain of this one only by the pipeline depth).
//!
//! # Parameters and limits
//! `n` 1..=30, `x0_bits` (XB) 8, 12 or 16 with `n + XB - 1 <= 31` (`|x0| 2^n <= 2^31`, so every
//! `e_i <= 2^31` and `sig_i <= 128`), `max_len` 1..=2^AB. Rows longer than `max_len` are cut.
use rust_hdl::prelude::*;

use crate::exp_shift::{self, ExpShiftPipe};
use crate::float_format::konst;
use crate::recip::{self, RecipPipe};
use crate::wide_mul::{self, MulU32};

/// Stages of the pass pipeline: read + exp_shift + recip + multiply + output register.
pub const DEPTH: usize = 1 + exp_shift::LATENCY + recip::LATENCY + wide_mul::LATENCY + 1;

/// Cycles from a row's last input to its first output without stalls: 1 (start) + 1 (the `emax`
/// token) + 1 (first read) + [`DEPTH`] (16): 19.
pub const ROW_LATENCY: usize = 3 + DEPTH;

/// Index of the output stage (stages are 0 ..= OUT_STAGE).
const OUT_STAGE: usize = DEPTH - 1;

/// Stage of the exp_shift result (`emax` is latched here).
const E_STAGE: usize = exp_shift::LATENCY;
/// Stage of the reciprocal.
const R_STAGE: usize = E_STAGE + recip::LATENCY;
/// Stage of the product `e_i * factor_i`.
const P_STAGE: usize = R_STAGE + wide_mul::LATENCY;

/// Generator parameters of a ShiftGELU unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShiftgeluParams {
    pub n: u32,
    pub max_len: usize,
}

#[derive(LogicBlock)]
pub struct Shiftgelu<const XB: usize, const AB: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub x: Signal<In, Bits<8>>,
    pub x0: Signal<In, Bits<XB>>,
    pub last: Signal<In, Bit>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub y: Signal<Out, Bits<16>>,
    pub y_last: Signal<Out, Bit>,

    ram_x: RAM<Bits<8>, AB>,
    exp: ExpShiftPipe<XB>,
    rcp: RecipPipe,
    mul: MulU32,

    max_idx: Constant<Bits<AB>>,
    zero_ab: Constant<Bits<AB>>,
    one_ab: Constant<Bits<AB>>,
    sign8: Constant<Bits<8>>,
    ext10: Constant<Bits<10>>,
    ext16: Constant<Bits<16>>,
    zero10: Constant<Bits<10>>,
    zero16: Constant<Bits<16>>,
    cap33: Constant<Bits<33>>,
    sig_high: Constant<Bits<64>>,
    sig_max: Constant<Bits<8>>,

    // Input side.
    wr: DFF<Bits<AB>>,
    m_in: DFF<Bits<8>>,
    x0_in: DFF<Bits<XB>>,
    last_in: DFF<Bits<AB>>,
    full: DFF<Bit>,
    accept: Signal<Local, Bit>,
    xb: Signal<Local, Bits<8>>,
    mb: Signal<Local, Bits<8>>,
    wr_next: Signal<Local, Bits<AB>>,

    // Pass.
    running: DFF<Bit>,
    need_emax: DFF<Bit>,
    issued_all: DFF<Bit>,
    pm: DFF<Bits<8>>,
    px0: DFF<Bits<XB>>,
    plast: DFF<Bits<AB>>,
    rd: DFF<Bits<AB>>,
    addr: DFF<Bits<AB>>,
    emax: DFF<Bits<32>>,
    v: Vec<DFF<Bit>>,
    l: Vec<DFF<Bit>>,
    emx: Vec<DFF<Bit>>,
    ed: Vec<DFF<Bits<32>>>,
    xd: Vec<DFF<Bits<8>>>,
    oy: DFF<Bits<16>>,
    adv: Signal<Local, Bit>,
    issue: Signal<Local, Bit>,
    issue_x: Signal<Local, Bit>,
    addr_next: Signal<Local, Bits<AB>>,
    rd_next: Signal<Local, Bits<AB>>,
    xs: Signal<Local, Bits<10>>,
    ms: Signal<Local, Bits<10>>,
    dx: Signal<Local, Bits<10>>,
    dm: Signal<Local, Bits<10>>,
    e33: Signal<Local, Bits<33>>,
    m33: Signal<Local, Bits<33>>,
    s33: Signal<Local, Bits<33>>,
    s32: Signal<Local, Bits<32>>,
    ps: Signal<Local, Bits<64>>,
    sig: Signal<Local, Bits<8>>,
    xp: Signal<Local, Bits<8>>,
    x16: Signal<Local, Bits<16>>,
    acc: Signal<Local, Bits<16>>,
}

impl<const XB: usize, const AB: usize> Shiftgelu<XB, AB> {
    pub fn new(p: &ShiftgeluParams) -> Self {
        assert!(
            p.max_len >= 1 && p.max_len <= 1 << AB,
            "shiftgelu: max_len {} needs more than {AB} address bits",
            p.max_len
        );
        assert!(
            p.n as usize + XB - 1 <= 31,
            "shiftgelu: n + x0_bits - 1 = {} > 31",
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
            exp: ExpShiftPipe::new(p.n),
            rcp: Default::default(),
            mul: Default::default(),
            max_idx: konst(p.max_len as u64 - 1),
            zero_ab: konst(0),
            one_ab: konst(1),
            sign8: konst(0x80),
            ext10: konst(0x300),
            ext16: konst(0xff00),
            zero10: konst(0),
            zero16: konst(0),
            cap33: konst(1 << 31),
            sig_high: konst(!0xffu64),
            sig_max: konst(0xff),
            wr: Default::default(),
            m_in: Default::default(),
            x0_in: Default::default(),
            last_in: Default::default(),
            full: Default::default(),
            accept: Default::default(),
            xb: Default::default(),
            mb: Default::default(),
            wr_next: Default::default(),
            running: Default::default(),
            need_emax: Default::default(),
            issued_all: Default::default(),
            pm: Default::default(),
            px0: Default::default(),
            plast: Default::default(),
            rd: Default::default(),
            addr: Default::default(),
            emax: Default::default(),
            v: (0..DEPTH).map(|_| Default::default()).collect(),
            l: (0..DEPTH).map(|_| Default::default()).collect(),
            emx: (0..=E_STAGE).map(|_| Default::default()).collect(),
            ed: (0..recip::LATENCY).map(|_| Default::default()).collect(),
            xd: (0..P_STAGE).map(|_| Default::default()).collect(),
            oy: Default::default(),
            adv: Default::default(),
            issue: Default::default(),
            issue_x: Default::default(),
            addr_next: Default::default(),
            rd_next: Default::default(),
            xs: Default::default(),
            ms: Default::default(),
            dx: Default::default(),
            dm: Default::default(),
            e33: Default::default(),
            m33: Default::default(),
            s33: Default::default(),
            s32: Default::default(),
            ps: Default::default(),
            sig: Default::default(),
            xp: Default::default(),
            x16: Default::default(),
            acc: Default::default(),
        }
    }
}

impl<const XB: usize, const AB: usize> Logic for Shiftgelu<XB, AB> {
    #[hdl_gen]
    fn update(&mut self) {
        self.wr.clock.next = self.clock.val();
        self.m_in.clock.next = self.clock.val();
        self.x0_in.clock.next = self.clock.val();
        self.last_in.clock.next = self.clock.val();
        self.full.clock.next = self.clock.val();
        self.running.clock.next = self.clock.val();
        self.need_emax.clock.next = self.clock.val();
        self.issued_all.clock.next = self.clock.val();
        self.pm.clock.next = self.clock.val();
        self.px0.clock.next = self.clock.val();
        self.plast.clock.next = self.clock.val();
        self.rd.clock.next = self.clock.val();
        self.addr.clock.next = self.clock.val();
        self.emax.clock.next = self.clock.val();
        self.oy.clock.next = self.clock.val();
        self.wr.d.next = self.wr.q.val();
        self.m_in.d.next = self.m_in.q.val();
        self.x0_in.d.next = self.x0_in.q.val();
        self.last_in.d.next = self.last_in.q.val();
        self.full.d.next = self.full.q.val();
        self.running.d.next = self.running.q.val();
        self.need_emax.d.next = self.need_emax.q.val();
        self.issued_all.d.next = self.issued_all.q.val();
        self.pm.d.next = self.pm.q.val();
        self.px0.d.next = self.px0.q.val();
        self.plast.d.next = self.plast.q.val();
        self.rd.d.next = self.rd.q.val();
        self.addr.d.next = self.addr.q.val();
        self.emax.d.next = self.emax.q.val();
        self.oy.d.next = self.oy.q.val();
        for k in 0..DEPTH {
            self.v[k].clock.next = self.clock.val();
            self.v[k].d.next = self.v[k].q.val();
            self.l[k].clock.next = self.clock.val();
            self.l[k].d.next = self.l[k].q.val();
        }
        for k in 0..(E_STAGE + 1) {
            self.emx[k].clock.next = self.clock.val();
            self.emx[k].d.next = self.emx[k].q.val();
        }
        for k in 0..recip::LATENCY {
            self.ed[k].clock.next = self.clock.val();
            self.ed[k].d.next = self.ed[k].q.val();
        }
        for k in 0..P_STAGE {
            self.xd[k].clock.next = self.clock.val();
            self.xd[k].d.next = self.xd[k].q.val();
        }
        self.ram_x.read_clock.next = self.clock.val();
        self.ram_x.write_clock.next = self.clock.val();
        self.exp.clock.next = self.clock.val();
        self.rcp.clock.next = self.clock.val();
        self.mul.clock.next = self.clock.val();
        self.exp.reset.next = self.reset.val();
        self.rcp.reset.next = self.reset.val();

        // ---- Input side: the row into the buffer, running max. ----
        self.in_ready.next = !self.full.q.val();
        self.accept.next = self.in_valid.val() && !self.full.q.val();
        self.ram_x.write_enable.next = self.accept.val();
        self.ram_x.write_address.next = self.wr.q.val();
        self.ram_x.write_data.next = self.x.val();
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

        // ---- Start the pass when idle. ----
        if !self.running.q.val() && self.full.q.val() {
            self.running.d.next = true;
            self.need_emax.d.next = true;
            self.issued_all.d.next = false;
            self.pm.d.next = self.m_in.q.val();
            self.px0.d.next = self.x0_in.q.val();
            self.plast.d.next = self.last_in.q.val();
            self.rd.d.next = self.zero_ab.val();
        }

        // ---- The pass: one pipeline, advancing as a whole. ----
        for last in OUT_STAGE..(OUT_STAGE + 1) {
            self.adv.next = !self.v[last].q.val() || self.out_ready.val();
            self.out_valid.next = self.v[last].q.val();
            self.y_last.next = self.l[last].q.val();
        }
        self.y.next = self.oy.q.val();
        self.issue.next = self.running.q.val() && !self.issued_all.q.val();
        self.issue_x.next = self.issue.val() && !self.need_emax.q.val();
        self.rd_next.next = self.rd.q.val() + self.one_ab.val();
        // The buffer reads the address stage 0 is about to hold (its data stays that of `addr`).
        self.addr_next.next = self.addr.q.val();
        if self.adv.val() && self.issue_x.val() {
            self.addr_next.next = self.rd.q.val();
        }
        self.ram_x.read_address.next = self.addr_next.val();
        self.addr.d.next = self.addr_next.val();
        if self.adv.val() {
            self.v[0].d.next = self.issue.val();
            self.emx[0].d.next = self.issue.val() && self.need_emax.q.val();
            self.l[0].d.next = self.issue_x.val() && (self.rd.q.val() == self.plast.q.val());
            if self.issue.val() {
                if self.need_emax.q.val() {
                    self.need_emax.d.next = false;
                } else {
                    self.rd.d.next = self.rd_next.val();
                    if self.rd.q.val() == self.plast.q.val() {
                        // Every element has been read: the next row may load.
                        self.issued_all.d.next = true;
                        self.full.d.next = false;
                    }
                }
            }
            for k in 1..DEPTH {
                self.v[k].d.next = self.v[k - 1].q.val();
                self.l[k].d.next = self.l[k - 1].q.val();
            }
            for k in 1..(E_STAGE + 1) {
                self.emx[k].d.next = self.emx[k - 1].q.val();
            }
            // xd[k] holds x at stage k + 1; ed[j] holds e at stage E_STAGE + 1 + j.
            self.xd[0].d.next = self.ram_x.read_data.val();
            for k in 1..P_STAGE {
                self.xd[k].d.next = self.xd[k - 1].q.val();
            }
            self.ed[0].d.next = self.exp.e.val();
            for k in 1..recip::LATENCY {
                self.ed[k].d.next = self.ed[k - 1].q.val();
            }
            for k in E_STAGE..(E_STAGE + 1) {
                // emax leaves here; the elements go on.
                self.v[k + 1].d.next = self.v[k].q.val() && !self.emx[k].q.val();
                if self.v[k].q.val() && self.emx[k].q.val() {
                    self.emax.d.next = self.exp.e.val();
                }
            }
        }

        // Stage 0 -> exp_shift: d = x - m, or -m for the emax token.
        self.xs.next = bit_cast::<10, 8>(self.ram_x.read_data.val());
        if self.ram_x.read_data.val().get_bit(7) {
            self.xs.next = bit_cast::<10, 8>(self.ram_x.read_data.val()) | self.ext10.val();
        }
        self.ms.next = bit_cast::<10, 8>(self.pm.q.val());
        if self.pm.q.val().get_bit(7) {
            self.ms.next = bit_cast::<10, 8>(self.pm.q.val()) | self.ext10.val();
        }
        self.dx.next = self.xs.val() - self.ms.val();
        self.dm.next = self.zero10.val() - self.ms.val();
        self.exp.en.next = self.adv.val();
        self.exp.x0.next = self.px0.q.val();
        self.exp.d.next = self.dx.val();
        if self.emx[0].q.val() {
            self.exp.d.next = self.dm.val();
        }

        // exp_shift -> recip: s_i = min(e_i + emax, 2^31).
        self.e33.next = bit_cast::<33, 32>(self.exp.e.val());
        self.m33.next = bit_cast::<33, 32>(self.emax.q.val());
        self.s33.next = self.e33.val() + self.m33.val();
        self.s32.next = self.s33.val().get_bits::<32>(0);
        if self.s33.val() > self.cap33.val() {
            self.s32.next = self.cap33.val().get_bits::<32>(0);
        }
        self.rcp.en.next = self.adv.val();
        self.rcp.s.next = self.s32.val();

        // recip -> multiply: e_i * factor_i.
        self.mul.en.next = self.adv.val();
        for k in (recip::LATENCY - 1)..recip::LATENCY {
            self.mul.a.next = self.ed[k].q.val();
        }
        self.mul.b.next = self.rcp.r.val();

        // multiply -> output: sig = p >> 24 (<= 128), y = x * sig by shift-and-add.
        self.ps.next = self.mul.p.val() >> 24;
        self.sig.next = self.ps.val().get_bits::<8>(0);
        if (self.ps.val() & self.sig_high.val()).any() {
            // Unreachable for the accepted parameters (sig <= 128); keeps every bit in use.
            self.sig.next = self.sig_max.val();
        }
        for k in (P_STAGE - 1)..P_STAGE {
            self.xp.next = self.xd[k].q.val();
        }
        self.x16.next = bit_cast::<16, 8>(self.xp.val());
        if self.xp.val().get_bit(7) {
            self.x16.next = bit_cast::<16, 8>(self.xp.val()) | self.ext16.val();
        }
        self.acc.next = self.zero16.val();
        if self.sig.val().get_bit(0) {
            self.acc.next = self.x16.val();
        }
        if self.sig.val().get_bit(1) {
            self.acc.next = self.acc.val() + (self.x16.val() << 1);
        }
        if self.sig.val().get_bit(2) {
            self.acc.next = self.acc.val() + (self.x16.val() << 2);
        }
        if self.sig.val().get_bit(3) {
            self.acc.next = self.acc.val() + (self.x16.val() << 3);
        }
        if self.sig.val().get_bit(4) {
            self.acc.next = self.acc.val() + (self.x16.val() << 4);
        }
        if self.sig.val().get_bit(5) {
            self.acc.next = self.acc.val() + (self.x16.val() << 5);
        }
        if self.sig.val().get_bit(6) {
            self.acc.next = self.acc.val() + (self.x16.val() << 6);
        }
        if self.sig.val().get_bit(7) {
            self.acc.next = self.acc.val() + (self.x16.val() << 7);
        }
        for k in P_STAGE..(P_STAGE + 1) {
            if self.adv.val() && self.v[k].q.val() {
                self.oy.d.next = self.acc.val();
            }
        }
        for last in OUT_STAGE..(OUT_STAGE + 1) {
            if self.v[last].q.val() && self.out_ready.val() && self.l[last].q.val() {
                self.running.d.next = false;
            }
        }

        // ---- Synchronous reset. ----
        if self.reset.val() {
            self.running.d.next = false;
            self.full.d.next = false;
            self.wr.d.next = self.zero_ab.val();
            self.oy.d.next = self.zero16.val();
            for k in 0..DEPTH {
                self.v[k].d.next = false;
                self.l[k].d.next = false;
            }
            for k in 0..(E_STAGE + 1) {
                self.emx[k].d.next = false;
            }
        }
    }
}
