//! `MulU32`: a two-stage 32 x 32 -> 64 unsigned multiplier from four 16 x 16 partial products (the
//! widest multiply RustHDL emits), shared by the Shiftmax, ShiftGELU and I-LayerNorm units.
//!
//! Each 16 x 16 product maps to one SB_MAC16 on iCE40 UP5K (`synth_ice40 -dsp`) or one MULT18X18D
//! on ECP5. Stage 1 registers the partial products, stage 2 their sum: [`LATENCY`] = 2, one product
//! per cycle, both registers load when `en` is high (the parent tracks valid bits).
use rust_hdl::prelude::*;

/// Pipeline stages.
pub const LATENCY: usize = 2;

#[derive(LogicBlock, Default)]
pub struct MulU32 {
    pub clock: Signal<In, Clock>,
    pub en: Signal<In, Bit>,
    pub a: Signal<In, Bits<32>>,
    pub b: Signal<In, Bits<32>>,
    pub p: Signal<Out, Bits<64>>,
    a_lo: Signal<Local, Bits<16>>,
    a_hi: Signal<Local, Bits<16>>,
    b_lo: Signal<Local, Bits<16>>,
    b_hi: Signal<Local, Bits<16>>,
    pp_ll: DFF<Bits<32>>,
    pp_lh: DFF<Bits<32>>,
    pp_hl: DFF<Bits<32>>,
    pp_hh: DFF<Bits<32>>,
    ll: Signal<Local, Bits<64>>,
    lh: Signal<Local, Bits<64>>,
    hl: Signal<Local, Bits<64>>,
    hh: Signal<Local, Bits<64>>,
    mid: Signal<Local, Bits<64>>,
    mid16: Signal<Local, Bits<64>>,
    hh32: Signal<Local, Bits<64>>,
    sum: Signal<Local, Bits<64>>,
    out: DFF<Bits<64>>,
}

impl Logic for MulU32 {
    #[hdl_gen]
    fn update(&mut self) {
        self.pp_ll.clock.next = self.clock.val();
        self.pp_lh.clock.next = self.clock.val();
        self.pp_hl.clock.next = self.clock.val();
        self.pp_hh.clock.next = self.clock.val();
        self.out.clock.next = self.clock.val();
        self.pp_ll.d.next = self.pp_ll.q.val();
        self.pp_lh.d.next = self.pp_lh.q.val();
        self.pp_hl.d.next = self.pp_hl.q.val();
        self.pp_hh.d.next = self.pp_hh.q.val();
        self.out.d.next = self.out.q.val();
        self.p.next = self.out.q.val();

        self.a_lo.next = self.a.val().get_bits::<16>(0);
        self.a_hi.next = self.a.val().get_bits::<16>(16);
        self.b_lo.next = self.b.val().get_bits::<16>(0);
        self.b_hi.next = self.b.val().get_bits::<16>(16);
        self.ll.next = bit_cast::<64, 32>(self.pp_ll.q.val());
        self.lh.next = bit_cast::<64, 32>(self.pp_lh.q.val());
        self.hl.next = bit_cast::<64, 32>(self.pp_hl.q.val());
        self.hh.next = bit_cast::<64, 32>(self.pp_hh.q.val());
        self.mid.next = self.lh.val() + self.hl.val();
        self.mid16.next = self.mid.val() << 16;
        self.hh32.next = self.hh.val() << 32;
        self.sum.next = self.ll.val() + self.mid16.val() + self.hh32.val();
        if self.en.val() {
            self.pp_ll.d.next = self.a_lo.val() * self.b_lo.val();
            self.pp_lh.d.next = self.a_lo.val() * self.b_hi.val();
            self.pp_hl.d.next = self.a_hi.val() * self.b_lo.val();
            self.pp_hh.d.next = self.a_hi.val() * self.b_hi.val();
            self.out.d.next = self.sum.val();
        }
    }
}
