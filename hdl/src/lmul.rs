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

use crate::float_format::{konst, FormatConsts, FpClass, FpPack};

/// The combinational L-Mul: `a`, `b` in, `y` out.
#[derive(LogicBlock)]
pub struct LMulCore<const W: usize> {
    pub a: Signal<In, Bits<W>>,
    pub b: Signal<In, Bits<W>>,
    pub y: Signal<Out, Bits<W>>,
    ca: FpClass<W>,
    cb: FpClass<W>,
    pack: FpPack<W>,
    k: Constant<Bits<32>>,
    a_em32: Signal<Local, Bits<32>>,
    b_em32: Signal<Local, Bits<32>>,
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
            pack: FpPack::new(f, p.ieee, p.specials),
            k: konst(offset.wrapping_sub(bias_m) & 0xffff_ffff),
            a_em32: Default::default(),
            b_em32: Default::default(),
        }
    }
}

impl<const W: usize> Logic for LMulCore<W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.ca.x.next = self.a.val();
        self.cb.x.next = self.b.val();
        // The adder: T = EM(a) + EM(b) + (offset - (bias << M)), wrapping in 32 bits; FpPack
        // applies the range and special-value rules.
        self.a_em32.next = bit_cast::<32, W>(self.ca.em.val());
        self.b_em32.next = bit_cast::<32, W>(self.cb.em.val());
        self.pack.t.next = self.a_em32.val() + self.b_em32.val() + self.k.val();
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
    /// The stream block: [`LMulCore`] with an optional output register.
    LMul,
    LMulCore,
    LMulParams
);
