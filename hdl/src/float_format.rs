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

/// Packs a product's result by `lmul.md`'s rules (shared by L-Mul and the exact multiplier): `t`
/// is the product's E+M field before range checks (wrapping in 32 bits; `|t| < 2^W`, so bit `W`
/// is its sign); the operand classes decide the special cases.
/// Priority, lowest first: rule 6 (underflow, `t < 2^M`: signed zero), rule 7 (overflow,
/// `t > MAXFIN`: saturate, or Inf in `ieee` mode), rule 4 (zero or subnormal operand: signed
/// zero), rule 3 (Inf operand: Inf), rule 2 (NaN operand, or Inf x zero: canonical NaN, sign 0).
/// With `specials` off, rules 2 and 3 are dropped (the bare arithmetic).
#[derive(LogicBlock)]
pub struct FpPack<const W: usize> {
    pub t: Signal<In, Bits<32>>,
    pub sign: Signal<In, Bit>,
    pub a_zero: Signal<In, Bit>,
    pub b_zero: Signal<In, Bit>,
    pub a_nan: Signal<In, Bit>,
    pub b_nan: Signal<In, Bit>,
    pub a_inf: Signal<In, Bit>,
    pub b_inf: Signal<In, Bit>,
    pub y: Signal<Out, Bits<W>>,

    sign_mask: Constant<Bits<W>>,
    em_mask: Constant<Bits<W>>,
    zero: Constant<Bits<W>>,
    nan: Constant<Bits<W>>,
    inf: Constant<Bits<W>>,
    max_fin: Constant<Bits<W>>,
    t_sign_mask: Constant<Bits<32>>,
    exp_mask32: Constant<Bits<32>>,
    top_mask32: Constant<Bits<32>>,
    reserved_mask32: Constant<Bits<32>>,
    ieee: Constant<Bit>,
    specials: Constant<Bit>,

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

impl<const W: usize> FpPack<W> {
    pub fn new(f: &FormatConsts, ieee: bool, specials: bool) -> Self {
        assert_eq!(f.width(), W, "format width and W disagree");
        Self {
            t: Default::default(),
            sign: Default::default(),
            a_zero: Default::default(),
            b_zero: Default::default(),
            a_nan: Default::default(),
            b_nan: Default::default(),
            a_inf: Default::default(),
            b_inf: Default::default(),
            y: Default::default(),
            sign_mask: konst(f.sign_mask()),
            em_mask: konst(f.em_mask()),
            zero: konst(0),
            nan: konst(f.nan),
            inf: konst(f.exp_mask()),
            max_fin: konst(f.max_finite),
            t_sign_mask: konst(1u64 << W),
            exp_mask32: konst(f.exp_mask()),
            top_mask32: konst(f.sign_mask()),
            reserved_mask32: konst(if f.has_inf { f.exp_mask() } else { f.em_mask() }),
            ieee: Constant::new(ieee && f.has_inf),
            specials: Constant::new(specials),
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

impl<const W: usize> Logic for FpPack<W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.t_neg_bits.next = self.t.val() & self.t_sign_mask.val();
        self.t_exp_bits.next = self.t.val() & self.exp_mask32.val();
        self.t_top_bits.next = self.t.val() & self.top_mask32.val();
        self.t_reserved_bits.next = self.t.val() & self.reserved_mask32.val();
        self.t_neg.next = self.t_neg_bits.val().any();
        // Rule 6, underflow: t < 2^M, i.e. t negative, or zero in every bit from M up.
        self.under.next =
            self.t_neg.val() || (!self.t_exp_bits.val().any() && !self.t_top_bits.val().any());
        // Rule 7, overflow: t > MAXFIN, i.e. t >= 2^(E+M), or its E+M field in the reserved
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
        if self.a_zero.val() || self.b_zero.val() {
            self.mag.next = self.zero.val();
        }
        if self.specials.val() && (self.a_inf.val() || self.b_inf.val()) {
            self.mag.next = self.inf.val();
        }
        if self.sign.val() {
            self.y.next = self.mag.val() | self.sign_mask.val();
        } else {
            self.y.next = self.mag.val();
        }
        if self.specials.val()
            && (self.a_nan.val()
                || self.b_nan.val()
                || (self.a_inf.val() && self.b_zero.val())
                || (self.b_inf.val() && self.a_zero.val()))
        {
            self.y.next = self.nan.val();
        }
    }
}
