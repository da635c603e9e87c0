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
    mask_lo: Constant<Bits<32>>,
    half_lo: Constant<Bits<32>>,
    mask_hi: Constant<Bits<32>>,
    half_hi: Constant<Bits<32>>,
    carry_mask: Constant<Bits<32>>,
    man_mask: Constant<Bits<32>>,
    man_mask16: Constant<Bits<16>>,
    one: Constant<Bits<32>>,
    under_limit: Constant<Bits<32>>,
    bias_m: Constant<Bits<32>>,
    max_fin32: Constant<Bits<32>>,
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
    rem: Signal<Local, Bits<32>>,
    half: Signal<Local, Bits<32>>,
    up: Signal<Local, Bit>,
    rounded: Signal<Local, Bits<32>>,
    carry_bits: Signal<Local, Bits<32>>,
    ea: Signal<Local, Bits<32>>,
    eb: Signal<Local, Bits<32>>,
    e0: Signal<Local, Bits<32>>,
    e1: Signal<Local, Bits<32>>,
    e2: Signal<Local, Bits<32>>,
    frac: Signal<Local, Bits<32>>,
    e_field: Signal<Local, Bits<32>>,
    field32: Signal<Local, Bits<32>>,
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
            mask_lo: konst((1 << m) - 1),
            half_lo: konst(1 << (m - 1)),
            mask_hi: konst((1 << (m + 1)) - 1),
            half_hi: konst(1 << m),
            carry_mask: konst(1 << (m + 1)),
            man_mask: konst((1 << m) - 1),
            man_mask16: konst((1 << m) - 1),
            one: konst(1),
            under_limit: konst(f.bias as u64 + 1),
            bias_m: konst((f.bias as u64) << m),
            max_fin32: konst(f.max_finite),
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
            rem: Default::default(),
            half: Default::default(),
            up: Default::default(),
            rounded: Default::default(),
            carry_bits: Default::default(),
            ea: Default::default(),
            eb: Default::default(),
            e0: Default::default(),
            e1: Default::default(),
            e2: Default::default(),
            frac: Default::default(),
            e_field: Default::default(),
            field32: Default::default(),
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
        // Keep M+1 significant bits; round to nearest, ties to even.
        if self.norm.val() {
            self.kept.next = self.prod.val() >> self.m1_shift.val();
            self.rem.next = self.prod.val() & self.mask_hi.val();
            self.half.next = self.half_hi.val();
        } else {
            self.kept.next = self.prod.val() >> self.m_shift.val();
            self.rem.next = self.prod.val() & self.mask_lo.val();
            self.half.next = self.half_lo.val();
        }
        self.up.next = (self.rem.val() > self.half.val())
            || ((self.rem.val() == self.half.val()) && self.kept.val().get_bit(0));
        if self.up.val() {
            self.rounded.next = self.kept.val() + self.one.val();
        } else {
            self.rounded.next = self.kept.val();
        }
        // Rounding to 2^(M+1) carries into the exponent (its fraction bits are then 0).
        self.carry_bits.next = self.rounded.val() & self.carry_mask.val();
        // Biased exponent sum e2 = ea + eb + norm + carry; the result's is e2 - bias.
        self.ea.next = self.em_a.val() >> self.m_shift.val();
        self.eb.next = self.em_b.val() >> self.m_shift.val();
        self.e0.next = self.ea.val() + self.eb.val();
        if self.norm.val() {
            self.e1.next = self.e0.val() + self.one.val();
        } else {
            self.e1.next = self.e0.val();
        }
        if self.carry_bits.val().any() {
            self.e2.next = self.e1.val() + self.one.val();
        } else {
            self.e2.next = self.e1.val();
        }
        self.frac.next = self.rounded.val() & self.man_mask.val();
        self.e_field.next = self.e2.val() << self.m_shift.val();
        self.field32.next = self.e_field.val() + self.frac.val() - self.bias_m.val();
        self.field.next = self.field32.val().get_bits::<W>(0);
        // Rules 6 and 7 (after rounding), then zero inputs, Inf, NaN.
        if self.e2.val() < self.under_limit.val() {
            self.mag.next = self.zero.val();
        } else if self.field32.val() > self.max_fin32.val() {
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
