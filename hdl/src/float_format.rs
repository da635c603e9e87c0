//! Floating-point operand classification shared by [`crate::lmul`] and [`crate::fmul`]: the format
//! constants (from `(E, M, bias, has_inf)`, as `golden::float_format`) and [`FpClass`], the
//! combinational decoder of one operand (sign, fields, zero/subnormal, NaN, Inf) per `lmul.md`.
use rust_hdl::prelude::*;

/// The format constants the hardware needs, derived in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormatConsts {
    pub e: u32,
    pub m: u32,
    pub bias: u32,
    pub has_inf: bool,
    /// The largest finite E+M field (e4m3 0x7E, e5m2 0x7B, bf16 0x7F7F).
    pub max_finite: u64,
    /// Canonical NaN (sign 0).
    pub nan: u64,
}

impl FormatConsts {
    /// Total width `1 + E + M`.
    pub fn width(&self) -> usize {
        (1 + self.e + self.m) as usize
    }
    /// The E+M field mask.
    pub fn em_mask(&self) -> u64 {
        (1u64 << (self.e + self.m)) - 1
    }
    /// The exponent field, in place.
    pub fn exp_mask(&self) -> u64 {
        ((1u64 << self.e) - 1) << self.m
    }
    /// The mantissa field.
    pub fn man_mask(&self) -> u64 {
        (1u64 << self.m) - 1
    }
    pub fn sign_mask(&self) -> u64 {
        1u64 << (self.e + self.m)
    }
}

/// Decodes one operand: `sign`, `em` (the E+M field); `zero` (exponent field 0: zero or
/// subnormal, both treated as zero), `nan`, `inf`. For formats without Inf (e4m3) NaN is
/// `S.1111.111` only.
#[derive(LogicBlock)]
pub struct FpClass<const W: usize> {
    pub x: Signal<In, Bits<W>>,
    pub sign: Signal<Out, Bit>,
    pub em: Signal<Out, Bits<W>>,
    pub zero: Signal<Out, Bit>,
    pub nan: Signal<Out, Bit>,
    pub inf: Signal<Out, Bit>,

    em_mask: Constant<Bits<W>>,
    exp_mask: Constant<Bits<W>>,
    man_mask: Constant<Bits<W>>,
    sign_mask: Constant<Bits<W>>,
    nan_all_ones: Constant<Bit>,
    sign_bit: Signal<Local, Bits<W>>,
    exp: Signal<Local, Bits<W>>,
    man: Signal<Local, Bits<W>>,
    top: Signal<Local, Bit>,
}

impl<const W: usize> FpClass<W> {
    pub fn new(f: &FormatConsts) -> Self {
        assert_eq!(f.width(), W, "format width and W disagree");
        Self {
            x: Default::default(),
            sign: Default::default(),
            em: Default::default(),
            zero: Default::default(),
            nan: Default::default(),
            inf: Default::default(),
            em_mask: konst(f.em_mask()),
            exp_mask: konst(f.exp_mask()),
            man_mask: konst(f.man_mask()),
            sign_mask: konst(f.sign_mask()),
            nan_all_ones: Constant::new(!f.has_inf),
            sign_bit: Default::default(),
            exp: Default::default(),
            man: Default::default(),
            top: Default::default(),
        }
    }
}

impl<const W: usize> Logic for FpClass<W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.sign_bit.next = self.x.val() & self.sign_mask.val();
        self.sign.next = self.sign_bit.val().any();
        self.em.next = self.x.val() & self.em_mask.val();
        self.exp.next = self.x.val() & self.exp_mask.val();
        self.man.next = self.x.val() & self.man_mask.val();
        self.zero.next = !self.exp.val().any();
        self.top.next = self.exp.val() == self.exp_mask.val();
        if self.nan_all_ones.val() {
            self.nan.next = self.em.val() == self.em_mask.val();
            self.inf.next = false;
        } else {
            self.nan.next = self.top.val() && self.man.val().any();
            self.inf.next = self.top.val() && !self.man.val().any();
        }
    }
}

/// A sized constant (emitted as a `localparam` of width `N`).
pub fn konst<const N: usize>(v: u64) -> Constant<Bits<N>> {
    Constant::new(v.into())
}

impl From<golden::float_format::Format> for FormatConsts {
    fn from(f: golden::float_format::Format) -> Self {
        FormatConsts {
            e: f.e,
            m: f.m,
            bias: u32::try_from(f.bias).expect("format bias is positive"),
            has_inf: f.has_inf,
            max_finite: f.max_finite() as u64,
            nan: f.canonical_nan() as u64,
        }
    }
}
