//! `lmul-dot`: a K-lane L-Mul dot product for the fp8 formats, accumulated exactly in fixed point.
//!
//! Golden model: [`golden::lmul_dot::lmul_dot`]. Spec: `lmul.md`, "Dot products": every lane's
//! L-Mul product `(-1)^s * mant * 2^(exp - bias - M)` is an integer multiple of
//! `2^(1 - bias - M)` (the accumulator LSB), so the sum is exact and order-independent. A lane whose
//! product is NaN or Inf contributes 0 and sets the sticky `invalid` flag of that dot product.
//!
//! # Ports
//! | port | dir | width | meaning |
//! |---|---|---|---|
//! | `clock`, `reset` | in | 1 | rising edge; synchronous active-high reset empties the pipeline |
//! | `in_valid`/`in_ready` | | 1 | input handshake (one whole vector per transfer) |
//! | `a_0`..`a_K-1`, `b_0`..`b_K-1` | in | 8 | lane operands (fp8 bit patterns) |
//! | `out_valid`/`out_ready` | | 1 | output handshake |
//! | `acc` | out | A | the dot product in LSB units, two's complement; `A = P + ceil(log2 K) + 1` with `P` = 18 (e4m3) or 32 (e5m2) |
//! | `invalid` | out | 1 | some lane's product was NaN or Inf |
//!
//! # Timing
//! Lane stage (K combinational L-Mul cores, conversion to fixed point) into registers, then a
//! registered binary adder tree over the lanes padded to a power of two `P2`: latency
//! `1 + log2(P2)` cycles, one dot product per cycle. The whole pipeline advances together
//! (`in_ready = !out_valid || out_ready`): a stalled consumer holds every stage.
//!
//! # Parameters
//! `format` (e4m3, e5m2), `k` (1, 2, 3, 4, 8, 16, 32, 64). The L-Mul lanes use the default `l` and
//! saturation, with every special-value rule.
use rust_hdl::prelude::*;

use crate::float_format::{konst, FormatConsts};
use crate::lmul::{LMulCore, LMulParams};

/// One lane: the L-Mul core and the conversion of its result to a signed fixed-point value.
#[derive(LogicBlock)]
pub struct DotLane<const A: usize> {
    pub a: Signal<In, Bits<8>>,
    pub b: Signal<In, Bits<8>>,
    pub value: Signal<Out, Bits<A>>,
    pub invalid: Signal<Out, Bit>,
    core: LMulCore<8>,

    exp_mask: Constant<Bits<8>>,
    man_mask: Constant<Bits<8>>,
    sign_mask: Constant<Bits<8>>,
    em_mask: Constant<Bits<8>>,
    m_shift: Constant<Bits<8>>,
    hidden: Constant<Bits<A>>,
    one: Constant<Bits<8>>,
    zero_a: Constant<Bits<A>>,
    nan_all_ones: Constant<Bit>,

    y_exp: Signal<Local, Bits<8>>,
    y_man: Signal<Local, Bits<8>>,
    y_sign: Signal<Local, Bits<8>>,
    y_em: Signal<Local, Bits<8>>,
    exp: Signal<Local, Bits<8>>,
    exp_m1: Signal<Local, Bits<8>>,
    man_a: Signal<Local, Bits<A>>,
    sig: Signal<Local, Bits<A>>,
    mag_a: Signal<Local, Bits<A>>,
    neg_a: Signal<Local, Bits<A>>,
    top: Signal<Local, Bit>,
    special: Signal<Local, Bit>,
}

impl<const A: usize> DotLane<A> {
    pub fn new(p: &LMulParams) -> Self {
        let f = &p.format;
        Self {
            a: Default::default(),
            b: Default::default(),
            value: Default::default(),
            invalid: Default::default(),
            core: LMulCore::new(p),
            exp_mask: konst(f.exp_mask()),
            man_mask: konst(f.man_mask()),
            sign_mask: konst(f.sign_mask()),
            em_mask: konst(f.em_mask()),
            m_shift: konst(f.m as u64),
            hidden: konst(1u64 << f.m),
            one: konst(1),
            zero_a: konst(0),
            nan_all_ones: Constant::new(!f.has_inf),
            y_exp: Default::default(),
            y_man: Default::default(),
            y_sign: Default::default(),
            y_em: Default::default(),
            exp: Default::default(),
            exp_m1: Default::default(),
            man_a: Default::default(),
            sig: Default::default(),
            mag_a: Default::default(),
            neg_a: Default::default(),
            top: Default::default(),
            special: Default::default(),
        }
    }
}

impl<const A: usize> Logic for DotLane<A> {
    #[hdl_gen]
    fn update(&mut self) {
        self.core.a.next = self.a.val();
        self.core.b.next = self.b.val();
        self.y_exp.next = self.core.y.val() & self.exp_mask.val();
        self.y_man.next = self.core.y.val() & self.man_mask.val();
        self.y_sign.next = self.core.y.val() & self.sign_mask.val();
        self.y_em.next = self.core.y.val() & self.em_mask.val();
        // NaN or Inf: the exponent all ones (e5m2), or the whole E+M field all ones (e4m3).
        self.top.next = self.y_exp.val() == self.exp_mask.val();
        if self.nan_all_ones.val() {
            self.special.next = self.y_em.val() == self.em_mask.val();
        } else {
            self.special.next = self.top.val();
        }
        // |value| = (2^M + mantissa) << (exp - 1); exp 0 is zero (L-Mul never returns subnormals).
        self.exp.next = self.y_exp.val() >> self.m_shift.val();
        self.exp_m1.next = self.exp.val() - self.one.val();
        self.man_a.next = bit_cast::<A, 8>(self.y_man.val());
        self.sig.next = self.man_a.val() | self.hidden.val();
        self.mag_a.next = self.sig.val() << self.exp_m1.val();
        self.neg_a.next = self.zero_a.val() - self.mag_a.val();
        self.invalid.next = self.special.val();
        if self.special.val() || !self.y_exp.val().any() {
            self.value.next = self.zero_a.val();
        } else if self.y_sign.val().any() {
            self.value.next = self.neg_a.val();
        } else {
            self.value.next = self.mag_a.val();
        }
    }
}

/// The dot-product pipeline: `K` lanes, `P2` = the next power of two, accumulator width `A`.
#[derive(LogicBlock)]
pub struct LMulDot<const K: usize, const P2: usize, const A: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub a: Vec<Signal<In, Bits<8>>>,
    pub b: Vec<Signal<In, Bits<8>>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub acc: Signal<Out, Bits<A>>,
    pub invalid: Signal<Out, Bit>,
    lane: Vec<DotLane<A>>,
    /// Binary heap of registered partial sums: node 1 is the root, leaves are `P2..2*P2`.
    node: Vec<DFF<Bits<A>>>,
    /// Valid and invalid bits per pipeline level (0: lanes, `log2 P2`: root).
    valid: Vec<DFF<Bit>>,
    sticky: Vec<DFF<Bit>>,
    advance: Signal<Local, Bit>,
    any_invalid: Signal<Local, Bit>,
    zero_a: Constant<Bits<A>>,
}

impl<const K: usize, const P2: usize, const A: usize> LMulDot<K, P2, A> {
    /// Builds the pipeline; `P2` must be the smallest power of two `>= K`.
    pub fn new(format: FormatConsts, l: u32) -> Self {
        assert!(
            K >= 1 && P2 == K.next_power_of_two(),
            "P2 must be next_power_of_two(K)"
        );
        assert_eq!(format.width(), 8, "lmul-dot is for the fp8 formats");
        let p = LMulParams {
            format,
            l,
            ieee: false,
            specials: true,
        };
        let levels = P2.trailing_zeros() as usize + 1;
        Self {
            clock: Default::default(),
            reset: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            a: (0..K).map(|_| Default::default()).collect(),
            b: (0..K).map(|_| Default::default()).collect(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            acc: Default::default(),
            invalid: Default::default(),
            lane: (0..K).map(|_| DotLane::new(&p)).collect(),
            node: (0..2 * P2).map(|_| Default::default()).collect(),
            valid: (0..levels).map(|_| Default::default()).collect(),
            sticky: (0..levels).map(|_| Default::default()).collect(),
            advance: Default::default(),
            any_invalid: Default::default(),
            zero_a: konst(0),
        }
    }

    /// Cycles from an accepted vector to its result.
    pub fn latency() -> usize {
        1 + P2.trailing_zeros() as usize
    }
}

impl<const K: usize, const P2: usize, const A: usize> Logic for LMulDot<K, P2, A> {
    #[hdl_gen]
    fn update(&mut self) {
        // (Indices in the Verilog may use loop variables only, hence the one-step loops.)
        // The whole pipeline moves when the output is empty or being taken.
        for last in (P2.trailing_zeros() as usize)..(P2.trailing_zeros() as usize + 1) {
            self.advance.next = !self.valid[last].q.val() || self.out_ready.val();
            self.out_valid.next = self.valid[last].q.val();
            self.invalid.next = self.sticky[last].q.val();
        }
        self.in_ready.next = self.advance.val();
        self.acc.next = self.node[1].q.val();
        // Lanes and the leaf registers.
        self.any_invalid.next = false;
        for i in 0..K {
            self.lane[i].a.next = self.a[i].val();
            self.lane[i].b.next = self.b[i].val();
            if self.lane[i].invalid.val() {
                self.any_invalid.next = true;
            }
        }
        for n in 0..(2 * P2) {
            self.node[n].clock.next = self.clock.val();
            self.node[n].d.next = self.node[n].q.val();
        }
        for j in 0..(P2.trailing_zeros() as usize + 1) {
            self.valid[j].clock.next = self.clock.val();
            self.valid[j].d.next = self.valid[j].q.val();
            self.sticky[j].clock.next = self.clock.val();
            self.sticky[j].d.next = self.sticky[j].q.val();
        }
        if self.advance.val() {
            for leaf in P2..(P2 + 1) {
                for i in 0..K {
                    self.node[leaf + i].d.next = self.lane[i].value.val();
                }
                for i in K..P2 {
                    self.node[leaf + i].d.next = self.zero_a.val();
                }
            }
            for n in 1..P2 {
                self.node[n].d.next = self.node[2 * n].q.val() + self.node[2 * n + 1].q.val();
            }
            self.valid[0].d.next = self.in_valid.val();
            self.sticky[0].d.next = self.any_invalid.val();
            for j in 1..(P2.trailing_zeros() as usize + 1) {
                self.valid[j].d.next = self.valid[j - 1].q.val();
                self.sticky[j].d.next = self.sticky[j - 1].q.val();
            }
        }
        // Synchronous reset: empty the pipeline and clear every partial sum and flag (the tree
        // advances on bubbles too, so an unreset node would carry X to the output).
        if self.reset.val() {
            for j in 0..(P2.trailing_zeros() as usize + 1) {
                self.valid[j].d.next = false;
                self.sticky[j].d.next = false;
            }
            for n in 0..(2 * P2) {
                self.node[n].d.next = self.zero_a.val();
            }
        }
    }
}
