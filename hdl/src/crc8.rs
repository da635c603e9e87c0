//! `crc8`: the protocol's CRC-8 (polynomial 0x07, initial 0, MSB first, no reflection, no final
//! XOR; `docs/protocol.md`, "Checksum"), one bit per cycle.
//!
//! Golden model: [`golden::protocol::crc8_update`]. The engine sees one UART byte every
//! `10 * div >= 40` cycles, so a bit-serial update (one register, one XOR of the polynomial) is
//! fast enough and smaller than the eight-level combinational form.
//!
//! # Ports (all synchronous to `clock`)
//! | port    | dir | width | meaning |
//! |---------|-----|-------|---------|
//! | `clock` | in  | 1     | rising-edge clock |
//! | `reset` | in  | 1     | synchronous, active high: `rem` = 0, idle |
//! | `clear` | in  | 1     | `rem` = 0 and any update in progress dropped (a new frame) |
//! | `load`  | in  | 1     | start folding `din` into `rem` (ignored with `clear`) |
//! | `din`   | in  | 8     | the byte, read at the `load` edge |
//! | `rem`   | out | 8     | the CRC of every byte loaded since the last `clear`, valid when `busy` is low |
//! | `busy`  | out | 1     | an update is in progress |
//!
//! # Timing
//! `busy` is high for the 8 cycles after a `load` edge; `rem` includes the byte from the 9th.
//! A `load` while `busy` restarts with the new byte and loses the rest of the old one (the
//! engine never does that: its bytes are at least 40 cycles apart).
use rust_hdl::prelude::*;

/// Cycles from a `load` edge until `rem` includes the byte.
pub const LATENCY: usize = 8;

/// The bit-serial CRC-8 (module doc).
#[derive(LogicBlock)]
pub struct Crc8 {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub clear: Signal<In, Bit>,
    pub load: Signal<In, Bit>,
    pub din: Signal<In, Bits<8>>,
    pub rem: Signal<Out, Bits<8>>,
    pub busy: Signal<Out, Bit>,

    poly: Constant<Bits<8>>,
    one4: Constant<Bits<4>>,
    zero4: Constant<Bits<4>>,
    eight4: Constant<Bits<4>>,
    zero8: Constant<Bits<8>>,
    one8: Constant<Bits<8>>,
    shifted: Signal<Local, Bits<8>>,
    /// The remainder register.
    c: DFF<Bits<8>>,
    /// The byte's bits still to fold, most significant first.
    sr: DFF<Bits<8>>,
    /// Bits still to fold (0 = idle).
    n: DFF<Bits<4>>,
}

impl Default for Crc8 {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            clear: Default::default(),
            load: Default::default(),
            din: Default::default(),
            rem: Default::default(),
            busy: Default::default(),
            poly: Constant::new(0x07u64.into()),
            one4: Constant::new(1u64.into()),
            zero4: Constant::new(0u64.into()),
            eight4: Constant::new(8u64.into()),
            zero8: Constant::new(0u64.into()),
            one8: Constant::new(1u64.into()),
            shifted: Default::default(),
            c: Default::default(),
            sr: Default::default(),
            n: Default::default(),
        }
    }
}

impl Logic for Crc8 {
    #[hdl_gen]
    fn update(&mut self) {
        self.c.clock.next = self.clock.val();
        self.sr.clock.next = self.clock.val();
        self.n.clock.next = self.clock.val();
        self.c.d.next = self.c.q.val();
        self.sr.d.next = self.sr.q.val();
        self.n.d.next = self.n.q.val();
        self.rem.next = self.c.q.val();
        self.busy.next = self.n.q.val() != self.zero4.val();
        self.shifted.next = self.c.q.val() << self.one8.val();

        if self.n.q.val() != self.zero4.val() {
            self.c.d.next = self.shifted.val();
            if self.c.q.val().get_bit(7) ^ self.sr.q.val().get_bit(7) {
                self.c.d.next = self.shifted.val() ^ self.poly.val();
            }
            self.sr.d.next = self.sr.q.val() << self.one8.val();
            self.n.d.next = self.n.q.val() - self.one4.val();
        }
        if self.load.val() {
            self.sr.d.next = self.din.val();
            self.n.d.next = self.eight4.val();
        }
        if self.clear.val() || self.reset.val() {
            self.c.d.next = self.zero8.val();
            self.sr.d.next = self.zero8.val();
            self.n.d.next = self.zero4.val();
        }
    }
}
