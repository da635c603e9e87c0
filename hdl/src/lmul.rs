//! `lmul`: L-Mul, a floating-point multiply approximated by one integer addition of the operands'
//! exponent+mantissa fields ("Addition is All You Need", Luo & Sun), for e4m3, e5m2 and bf16.
//!
//! Golden model: [`golden::lmul::lmul`]. Spec: `lmul.md` (the adder form and the special-value rules,
//! in priority order).
//!
//! # Ports
//! | port        | dir | width | meaning |
//! |-------------|-----|-------|---------|
//! | `clock`, `reset` | in | 1 | rising edge; synchronous active-high reset (empties the output register) |
//! | `in_valid`/`in_ready` | | 1 | input handshake |
//! | `a`, `b`    | in  | W     | operand bit patterns (W = 8 for e4m3/e5m2, 16 for bf16) |
//! | `out_valid`/`out_ready` | | 1 | output handshake |
//! | `y`         | out | W     | result bit pattern |
//!
//! # Timing
//! The arithmetic is one combinational core ([`LMulCore`]: an adder, two compares, the special-value
//! muxes). With `registered` (the default) the result sits in one output register: latency 1, one
//! result per cycle, `in_ready = !out_valid || out_ready`. Without it the block is combinational:
//! latency 0, `out_valid = in_valid`, `in_ready = out_ready`.
//!
//! # Parameters
//! `format` (e4m3, e5m2, bf16), `l` 1..=16 (offset `2^-l`; `l > M` means no offset; default `l(M)`:
//! 3 for e4m3, 2 for e5m2, 4 for bf16), `overflow` (`saturate`, or `ieee`: Inf for formats that have
//! it), `specials` (`full`: every rule of lmul.md; `none`: the bare adder with flush-to-zero and
//! saturation only, for area comparisons with published designs: NaN and Inf inputs are then
//! treated as ordinary numbers).
use rust_hdl::prelude::*;

use crate::float_format::{konst, FormatConsts, FpClass};

/// The combinational L-Mul: `a`, `b` in, `y` out.
#[derive(LogicBlock)]
pub struct LMulCore<const W: usize> {
    pub a: Signal<In, Bits<W>>,
    pub b: Signal<In, Bits<W>>,
    pub y: Signal<Out, Bits<W>>,
    ca: FpClass<W>,
    cb: FpClass<W>,

    sign_mask: Constant<Bits<W>>,
    zero: Constant<Bits<W>>,
    nan: Constant<Bits<W>>,
    inf: Constant<Bits<W>>,
    max_fin: Constant<Bits<W>>,
    em_mask: Constant<Bits<W>>,
    k: Constant<Bits<32>>,
    t_sign_mask: Constant<Bits<32>>,
    exp_mask32: Constant<Bits<32>>,
    top_mask32: Constant<Bits<32>>,
    reserved_mask32: Constant<Bits<32>>,
    ieee: Constant<Bit>,
    specials: Constant<Bit>,

    sign: Signal<Local, Bit>,
    a_em32: Signal<Local, Bits<32>>,
    b_em32: Signal<Local, Bits<32>>,
    t: Signal<Local, Bits<32>>,
    t_neg_bits: Signal<Local, Bits<32>>,
    t_exp_bits: Signal<Local, Bits<32>>,
    t_top_bits: Signal<Local, Bits<32>>,
    t_reserved_bits: Signal<Local, Bits<32>>,
    t_neg: Signal<Local, Bit>,
    under: Signal<Local, Bit>,
    over: Signal<Local, Bit>,
    t_low: Signal<Local, Bits<W>>,
    field: Signal<Local, Bits<W>>,
    mag: Signal<Local, Bits<W>>,
}

/// L-Mul generator parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LMulParams {
    pub format: FormatConsts,
    pub l: u32,
    pub ieee: bool,
    pub specials: bool,
}

impl<const W: usize> LMulCore<W> {
    pub fn new(p: &LMulParams) -> Self {
        let f = &p.format;
        assert_eq!(f.width(), W, "format width and W disagree");
        let offset = if p.l > f.m { 0 } else { (1u64 << f.m) >> p.l };
        let bias_m = (f.bias as u64) << f.m;
        Self {
            a: Default::default(),
            b: Default::default(),
            y: Default::default(),
            ca: FpClass::new(f),
            cb: FpClass::new(f),
            sign_mask: konst(f.sign_mask()),
            zero: konst(0),
            nan: konst(f.nan),
            inf: konst(f.exp_mask()),
            max_fin: konst(f.max_finite),
            em_mask: konst(f.em_mask()),
            k: konst(offset.wrapping_sub(bias_m) & 0xffff_ffff),
            t_sign_mask: konst(1u64 << W),
            exp_mask32: konst(f.exp_mask()),
            top_mask32: konst(f.sign_mask()),
            reserved_mask32: konst(if f.has_inf { f.exp_mask() } else { f.em_mask() }),
            ieee: Constant::new(p.ieee && f.has_inf),
            specials: Constant::new(p.specials),
            sign: Default::default(),
            a_em32: Default::default(),
            b_em32: Default::default(),
            t: Default::default(),
            t_neg_bits: Default::default(),
            t_exp_bits: Default::default(),
            t_top_bits: Default::default(),
            t_reserved_bits: Default::default(),
            t_neg: Default::default(),
            under: Default::default(),
            over: Default::default(),
            t_low: Default::default(),
            field: Default::default(),
            mag: Default::default(),
        }
    }
}

impl<const W: usize> Logic for LMulCore<W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.ca.x.next = self.a.val();
        self.cb.x.next = self.b.val();
        self.sign.next = self.ca.sign.val() ^ self.cb.sign.val();
        // Core: T = EM(a) + EM(b) + (offset - (bias << M)), wrapping in 32 bits. For every format
        // |T| < 2^W, so bit W of the wrapped sum is T's sign, and the flags below are masks, not
        // compares.
        self.a_em32.next = bit_cast::<32, W>(self.ca.em.val());
        self.b_em32.next = bit_cast::<32, W>(self.cb.em.val());
        self.t.next = self.a_em32.val() + self.b_em32.val() + self.k.val();
        self.t_neg_bits.next = self.t.val() & self.t_sign_mask.val();
        self.t_exp_bits.next = self.t.val() & self.exp_mask32.val();
        self.t_top_bits.next = self.t.val() & self.top_mask32.val();
        self.t_reserved_bits.next = self.t.val() & self.reserved_mask32.val();
        self.t_neg.next = self.t_neg_bits.val().any();
        // Rule 6, underflow: T < 2^M, i.e. T negative, or zero in every bit from M up.
        self.under.next =
            self.t_neg.val() || (!self.t_exp_bits.val().any() && !self.t_top_bits.val().any());
        // Rule 7, overflow: T > MAXFIN, i.e. T >= 2^(E+M), or its E+M field in the reserved
        // top code (exponent all ones; for e4m3, the whole E+M field all ones).
        self.over.next = !self.t_neg.val()
            && (self.t_top_bits.val().any()
                || (self.t_reserved_bits.val() == self.reserved_mask32.val()));
        self.t_low.next = self.t.val().get_bits::<W>(0);
        self.field.next = self.t_low.val() & self.em_mask.val();
        if self.under.val() {
            self.mag.next = self.zero.val();
        } else if self.over.val() {
            if self.ieee.val() {
                self.mag.next = self.inf.val();
            } else {
                self.mag.next = self.max_fin.val();
            }
        } else {
            self.mag.next = self.field.val();
        }
        if self.ca.zero.val() || self.cb.zero.val() {
            self.mag.next = self.zero.val();
        }
        if self.specials.val() && (self.ca.inf.val() || self.cb.inf.val()) {
            self.mag.next = self.inf.val();
        }
        if self.sign.val() {
            self.y.next = self.mag.val() | self.sign_mask.val();
        } else {
            self.y.next = self.mag.val();
        }
        // NaN in, or Inf x zero: canonical NaN with sign 0.
        if self.specials.val()
            && (self.ca.nan.val()
                || self.cb.nan.val()
                || (self.ca.inf.val() && self.cb.zero.val())
                || (self.cb.inf.val() && self.ca.zero.val()))
        {
            self.y.next = self.nan.val();
        }
    }
}

crate::registered_stream_block!(
    /// The stream block: [`LMulCore`] with an optional output register.
    LMul,
    LMulCore,
    LMulParams
);
