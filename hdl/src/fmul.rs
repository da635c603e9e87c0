//! `fmul`: the exact floating-point multiplier of the L-Mul formats (e4m3, e5m2, bf16), the
//! baseline L-Mul is measured against: significand product, round to nearest ties to even at M
//! bits (the rounding carry may enter the exponent), then the same special-value rules as `lmul`
//! (rules 1-4, 6, 7 of `lmul.md`; underflow decided after rounding, never on a subnormal grid).
//!
//! Golden model: [`golden::fmul::fmul`].
//!
//! # Ports, timing
//! As [`crate::lmul::LMul`]: `a`, `b` in, `y` out (W bits), valid/ready, synchronous reset;
//! `registered` (default) gives latency 1, otherwise the block is combinational (latency 0).
//! Throughput one product per cycle.
//!
//! # Parameters
//! `format` (e4m3, e5m2, bf16), `overflow` (`saturate` or `ieee`), `specials` (`full` or `none`,
//! as for `lmul`). The significand product is one 16 x 16 multiply (RustHDL's only width; operands
//! are at most 8 significant bits), which Yosys may map to a DSP block unless told otherwise.
use rust_hdl::prelude::*;

use crate::float_format::{konst, FormatConsts, FpClass};

/// Exact-multiplier generator parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FMulParams {
    pub format: FormatConsts,
    pub ieee: bool,
    pub specials: bool,
}

/// The combinational exact multiplier: `a`, `b` in, `y` out.
#[derive(LogicBlock)]
pub struct FMulCore<const W: usize> {
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
    hidden: Constant<Bits<16>>,
    m_shift: Constant<Bits<32>>,
    m1_shift: Constant<Bits<32>>,
    top_mask: Constant<Bits<32>>,
    rb_lo: Constant<Bits<32>>,
    st_lo: Constant<Bits<32>>,
    rb_hi: Constant<Bits<32>>,
    st_hi: Constant<Bits<32>>,
    k_lo: Constant<Bits<32>>,
    k_hi: Constant<Bits<32>>,
    man_mask16: Constant<Bits<16>>,
    one: Constant<Bits<32>>,
    em_mask: Constant<Bits<W>>,
    exp_mask32: Constant<Bits<32>>,
    t_sign_mask: Constant<Bits<32>>,
    top_mask32: Constant<Bits<32>>,
    reserved_mask32: Constant<Bits<32>>,
    ieee: Constant<Bit>,
    specials: Constant<Bit>,

    sign: Signal<Local, Bit>,
    em_a: Signal<Local, Bits<32>>,
    em_b: Signal<Local, Bits<32>>,
    em_a16: Signal<Local, Bits<16>>,
    em_b16: Signal<Local, Bits<16>>,
    man_a: Signal<Local, Bits<16>>,
    man_b: Signal<Local, Bits<16>>,
    sig_a: Signal<Local, Bits<16>>,
    sig_b: Signal<Local, Bits<16>>,
    prod: Signal<Local, Bits<32>>,
    top: Signal<Local, Bits<32>>,
    norm: Signal<Local, Bit>,
    kept: Signal<Local, Bits<32>>,
    round_bits: Signal<Local, Bits<32>>,
    sticky_bits: Signal<Local, Bits<32>>,
    k_norm: Signal<Local, Bits<32>>,
    up: Signal<Local, Bit>,
    rounded: Signal<Local, Bits<32>>,
    exp_a: Signal<Local, Bits<32>>,
    exp_b: Signal<Local, Bits<32>>,
    t0: Signal<Local, Bits<32>>,
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

impl<const W: usize> FMulCore<W> {
    pub fn new(p: &FMulParams) -> Self {
        let f = &p.format;
        assert_eq!(f.width(), W, "format width and W disagree");
        assert!(
            f.m >= 1 && f.m <= 7,
            "significand must fit the 16 x 16 multiply"
        );
        let m = f.m as u64;
        // T = exp_a + exp_b + rounded + k: k = -(2^M) - (bias << M), plus 2^M when normalized.
        let k_lo = 0u64.wrapping_sub(1 << m).wrapping_sub((f.bias as u64) << m) & 0xffff_ffff;
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
            hidden: konst(1 << m),
            m_shift: konst(m),
            m1_shift: konst(m + 1),
            top_mask: konst(1 << (2 * m + 1)),
            rb_lo: konst(1 << (m - 1)),
            st_lo: konst((1 << (m - 1)) - 1),
            rb_hi: konst(1 << m),
            st_hi: konst((1 << m) - 1),
            k_lo: konst(k_lo),
            k_hi: konst(k_lo.wrapping_add(1 << m) & 0xffff_ffff),
            man_mask16: konst((1 << m) - 1),
            one: konst(1),
            em_mask: konst(f.em_mask()),
            exp_mask32: konst(f.exp_mask()),
            t_sign_mask: konst(1u64 << W),
            top_mask32: konst(f.sign_mask()),
            reserved_mask32: konst(if f.has_inf { f.exp_mask() } else { f.em_mask() }),
            ieee: Constant::new(p.ieee && f.has_inf),
            specials: Constant::new(p.specials),
            sign: Default::default(),
            em_a: Default::default(),
            em_b: Default::default(),
            em_a16: Default::default(),
            em_b16: Default::default(),
            man_a: Default::default(),
            man_b: Default::default(),
            sig_a: Default::default(),
            sig_b: Default::default(),
            prod: Default::default(),
            top: Default::default(),
            norm: Default::default(),
            kept: Default::default(),
            round_bits: Default::default(),
            sticky_bits: Default::default(),
            k_norm: Default::default(),
            up: Default::default(),
            rounded: Default::default(),
            exp_a: Default::default(),
            exp_b: Default::default(),
            t0: Default::default(),
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

impl<const W: usize> Logic for FMulCore<W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.ca.x.next = self.a.val();
        self.cb.x.next = self.b.val();
        self.sign.next = self.ca.sign.val() ^ self.cb.sign.val();
        // Significands 1.m as (M+1)-bit integers; their product has 2M+1 or 2M+2 bits.
        self.em_a.next = bit_cast::<32, W>(self.ca.em.val());
        self.em_b.next = bit_cast::<32, W>(self.cb.em.val());
        self.em_a16.next = bit_cast::<16, W>(self.ca.em.val());
        self.em_b16.next = bit_cast::<16, W>(self.cb.em.val());
        self.man_a.next = self.em_a16.val() & self.man_mask16.val();
        self.man_b.next = self.em_b16.val() & self.man_mask16.val();
        self.sig_a.next = self.man_a.val() | self.hidden.val();
        self.sig_b.next = self.man_b.val() | self.hidden.val();
        self.prod.next = self.sig_a.val() * self.sig_b.val();
        self.top.next = self.prod.val() & self.top_mask.val();
        self.norm.next = self.top.val().any();
        // Keep M+1 significant bits; round to nearest, ties to even: up when the round bit is
        // set and either a sticky bit or the kept LSB is.
        if self.norm.val() {
            self.kept.next = self.prod.val() >> self.m1_shift.val();
            self.round_bits.next = self.prod.val() & self.rb_hi.val();
            self.sticky_bits.next = self.prod.val() & self.st_hi.val();
            self.k_norm.next = self.k_hi.val();
        } else {
            self.kept.next = self.prod.val() >> self.m_shift.val();
            self.round_bits.next = self.prod.val() & self.rb_lo.val();
            self.sticky_bits.next = self.prod.val() & self.st_lo.val();
            self.k_norm.next = self.k_lo.val();
        }
        self.up.next = self.round_bits.val().any()
            && (self.sticky_bits.val().any() || self.kept.val().get_bit(0));
        if self.up.val() {
            self.rounded.next = self.kept.val() + self.one.val();
        } else {
            self.rounded.next = self.kept.val();
        }
        // The product's E+M field: T = (ea + eb - bias + norm) << M + (rounded - 2^M). Rounding
        // up to 2^(M+1) carries into the exponent by itself. |T| < 2^W for every format, so
        // bit W is T's sign and the rule-6/7 flags are masks (as in L-Mul).
        self.exp_a.next = self.em_a.val() & self.exp_mask32.val();
        self.exp_b.next = self.em_b.val() & self.exp_mask32.val();
        self.t0.next = self.exp_a.val() + self.exp_b.val();
        self.t.next = self.t0.val() + self.rounded.val() + self.k_norm.val();
        self.t_neg_bits.next = self.t.val() & self.t_sign_mask.val();
        self.t_exp_bits.next = self.t.val() & self.exp_mask32.val();
        self.t_top_bits.next = self.t.val() & self.top_mask32.val();
        self.t_reserved_bits.next = self.t.val() & self.reserved_mask32.val();
        self.t_neg.next = self.t_neg_bits.val().any();
        self.under.next =
            self.t_neg.val() || (!self.t_exp_bits.val().any() && !self.t_top_bits.val().any());
        self.over.next = !self.t_neg.val()
            && (self.t_top_bits.val().any()
                || (self.t_reserved_bits.val() == self.reserved_mask32.val()));
        self.t_low.next = self.t.val().get_bits::<W>(0);
        self.field.next = self.t_low.val() & self.em_mask.val();
        // Rules 6 and 7 (after rounding), then zero inputs, Inf, NaN.
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
    /// The stream block: [`FMulCore`] with an optional output register.
    FMul,
    FMulCore,
    FMulParams
);
