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

use crate::float_format::{konst, FormatConsts, FpClass, FpPack};

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
    pack: FpPack<W>,

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
    exp_mask32: Constant<Bits<32>>,

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
            pack: FpPack::new(f, p.ieee, p.specials),
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
            exp_mask32: konst(f.exp_mask()),
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
        }
    }
}

impl<const W: usize> Logic for FMulCore<W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.ca.x.next = self.a.val();
        self.cb.x.next = self.b.val();
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
        // up to 2^(M+1) carries into the exponent by itself; FpPack applies the range rules
        // (after rounding) and the special values.
        self.exp_a.next = self.em_a.val() & self.exp_mask32.val();
        self.exp_b.next = self.em_b.val() & self.exp_mask32.val();
        self.t0.next = self.exp_a.val() + self.exp_b.val();
        self.pack.t.next = self.t0.val() + self.rounded.val() + self.k_norm.val();
        self.pack.sign.next = self.ca.sign.val() ^ self.cb.sign.val();
        self.pack.a_zero.next = self.ca.zero.val();
        self.pack.b_zero.next = self.cb.zero.val();
        self.pack.a_nan.next = self.ca.nan.val();
        self.pack.b_nan.next = self.cb.nan.val();
        self.pack.a_inf.next = self.ca.inf.val();
        self.pack.b_inf.next = self.cb.inf.val();
        self.y.next = self.pack.y.val();
    }
}

crate::registered_stream_block!(
    /// The stream block: [`FMulCore`] with an optional output register.
    FMul,
    FMulCore,
    FMulParams
);
