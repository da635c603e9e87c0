//! The bring-up board top: a UART echo. Every byte received on `rx` is sent back on `tx`.
//!
//! It proves the pins ([`crate::board`]), the UART blocks on real hardware and the bitstream flow
//! (`itx bitstream --board icebreaker|ulx3s`). The engine top (MAC array, requant, Shiftmax,
//! ShiftGELU, I-LayerNorm behind the command set of `docs/protocol.md`) replaces it later, on the
//! same pins.
//!
//! # Ports (`L` = the board's LED count: iCEBreaker 2, ULX3S 8)
//! | port    | dir | width | meaning |
//! |---------|-----|-------|---------|
//! | `clock` | in  | 1     | the board oscillator (12 / 25 MHz) |
//! | `reset` | in  | 1     | the reset button, raw and asynchronous; pressed = `btn_active_low ? 0 : 1` |
//! | `rx`    | in  | 1     | UART from the USB bridge, 115200 8N1 |
//! | `tx`    | out | 1     | UART to the USB bridge, 115200 8N1 |
//! | `led`   | out | `L`   | status (below), polarity per board |
//!
//! # Inside
//! * Reset: [`ButtonReset`] (`crate::board`): the button through a two-flop synchronizer and a
//!   4-bit power-on counter to the synchronous reset every block uses.
//! * `UartRx` -> a one-byte holding register -> `UartTx`. Receiver and transmitter run at the same
//!   bit time, so the register is emptied (the transmitter takes it at the end of each stop bit)
//!   before the next byte of a back-to-back stream arrives, as long as the sender's bit rate is not
//!   above ours (ours is +0.16% (12 MHz, div 104) and +0.0064% (25 MHz, div 217) above 115200).
//!   A byte arriving while the register is still full is an overrun: the new byte replaces the
//!   old one, and the error LED lights.
//!   rust-hdl-widgets' `SynchronousFIFO` was not used: it has no reset port (its pointers start
//!   from `initial` values), against the rule that every register is reset; the engine top, which
//!   needs buffering, gets a FIFO with a synchronous reset.
//! * Status: bit 0 = error (a framing error or an overrun since reset; sticky), bit 1 = activity
//!   (toggles with every byte received), bits 2..7 = the low six bits of the last byte. `led` is
//!   the low `L` bits, inverted on boards with active-low LEDs (iCEBreaker: red = error, green =
//!   activity).
//!
//! Latency: a byte whose stop bit is sampled in cycle `t` (the receiver's `out_valid`) is in the
//! holding register at `t + 1` and its start bit on `tx` at `t + 2` when the transmitter is idle.
use rust_hdl::prelude::*;

use golden::uart::BitTiming;

use crate::board::{attach, Board, BoardPorts, ButtonReset};
use crate::ports::{PortDut, PortIo};
use crate::stream::Field;
use crate::uart::{UartRx, UartTx};

/// The bit rate of the board UART.
pub const BAUD: u64 = 115_200;

/// The echo top. Build it with [`BoardEcho::new`] (any bit time, for tests) or
/// [`BoardEcho::for_board`] (the board's clock at [`BAUD`], pins attached).
#[derive(LogicBlock)]
pub struct BoardEcho<const L: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub rx: Signal<In, Bit>,
    pub tx: Signal<Out, Bit>,
    pub led: Signal<Out, Bits<L>>,

    /// The button level when pressed is 0 (for the trace harness's `drive_ports`; the Verilog
    /// takes it from `btn`).
    _btn_active_low: bool,
    /// XOR mask of the status byte (all ones on boards with active-low LEDs).
    led_invert: Constant<Bits<8>>,
    zero8: Constant<Bits<8>>,
    err_bit: Constant<Bits<8>>,
    act_bit: Constant<Bits<8>>,
    two8: Constant<Bits<8>>,

    urx: UartRx,
    utx: UartTx,

    /// The button's synchronizer and power-on counter: the synchronous reset of everything else.
    btn: ButtonReset,
    /// The holding register and its flag.
    full: DFF<Bit>,
    hold: DFF<Bits<8>>,
    /// Sticky error, activity toggle.
    err: DFF<Bit>,
    act: DFF<Bit>,

    take: Signal<Local, Bit>,
    hold_sh: Signal<Local, Bits<8>>,
    err8: Signal<Local, Bits<8>>,
    act8: Signal<Local, Bits<8>>,
    status: Signal<Local, Bits<8>>,
    led8: Signal<Local, Bits<8>>,
}

impl<const L: usize> BoardEcho<L> {
    /// The echo for a bit time, a button polarity and an LED polarity (no pins attached).
    pub fn new(timing: BitTiming, btn_active_low: bool, leds_active_low: bool) -> Self {
        assert!((1..=8).contains(&L), "1 to 8 LEDs");
        Self {
            clock: Default::default(),
            reset: Default::default(),
            rx: Default::default(),
            tx: Default::default(),
            led: Default::default(),
            _btn_active_low: btn_active_low,
            led_invert: Constant::new(if leds_active_low { 0xffu64 } else { 0 }.into()),
            zero8: Constant::new(0u64.into()),
            err_bit: Constant::new(1u64.into()),
            act_bit: Constant::new(2u64.into()),
            two8: Constant::new(2u64.into()),
            urx: UartRx::new(timing),
            utx: UartTx::new(timing),
            btn: ButtonReset::new(btn_active_low),
            full: Default::default(),
            hold: Default::default(),
            err: Default::default(),
            act: Default::default(),
            take: Default::default(),
            hold_sh: Default::default(),
            err8: Default::default(),
            act8: Default::default(),
            status: Default::default(),
            led8: Default::default(),
        }
    }

    /// The board's echo: its clock at [`BAUD`], its button and LED polarity, its pins attached.
    /// Error: the board's clock gives no UART divisor within 1% of 115200 baud (not the case for
    /// either board), or `L` is not the board's LED count.
    pub fn for_board(board: Board) -> Result<Self, String> {
        let spec = board.spec();
        if L != spec.leds.len() {
            return Err(format!(
                "the {} has {} LEDs, not {L}",
                spec.name,
                spec.leds.len()
            ));
        }
        let timing = BitTiming::new(spec.clock_hz, BAUD).map_err(|e| e.to_string())?;
        let mut top = Self::new(timing, spec.reset_active_low, spec.leds_active_low);
        attach(
            board,
            BoardPorts {
                clock: &mut top.clock,
                reset: &mut top.reset,
                rx: &mut top.rx,
                tx: &mut top.tx,
                led: &mut top.led,
            },
        );
        top.connect_all();
        Ok(top)
    }
}

impl<const L: usize> Logic for BoardEcho<L> {
    #[hdl_gen]
    fn update(&mut self) {
        self.btn.clock.next = self.clock.val();
        self.btn.button.next = self.reset.val();
        self.full.clock.next = self.clock.val();
        self.hold.clock.next = self.clock.val();
        self.err.clock.next = self.clock.val();
        self.act.clock.next = self.clock.val();
        self.urx.clock.next = self.clock.val();
        self.utx.clock.next = self.clock.val();

        self.urx.reset.next = self.btn.rst.val();
        self.utx.reset.next = self.btn.rst.val();
        self.urx.rx.next = self.rx.val();
        self.tx.next = self.utx.tx.val();

        // The holding register between receiver and transmitter.
        self.utx.in_valid.next = self.full.q.val();
        self.utx.data.next = self.hold.q.val();
        self.take.next = self.full.q.val() && self.utx.in_ready.val();
        self.full.d.next = self.full.q.val();
        self.hold.d.next = self.hold.q.val();
        self.err.d.next = self.err.q.val();
        self.act.d.next = self.act.q.val();
        if self.take.val() {
            self.full.d.next = false;
        }
        if self.urx.out_valid.val() {
            self.hold.d.next = self.urx.data.val();
            self.full.d.next = true;
            self.act.d.next = !self.act.q.val();
            if self.full.q.val() && !self.take.val() {
                self.err.d.next = true;
            }
        }
        if self.urx.frame_err.val() {
            self.err.d.next = true;
        }
        if self.btn.rst.val() {
            self.full.d.next = false;
            self.hold.d.next = self.zero8.val();
            self.err.d.next = false;
            self.act.d.next = false;
        }

        // LEDs.
        self.hold_sh.next = self.hold.q.val() << self.two8.val();
        self.err8.next = self.zero8.val();
        if self.err.q.val() {
            self.err8.next = self.err_bit.val();
        }
        self.act8.next = self.zero8.val();
        if self.act.q.val() {
            self.act8.next = self.act_bit.val();
        }
        self.status.next = self.hold_sh.val() | self.err8.val() | self.act8.val();
        self.led8.next = self.status.val() ^ self.led_invert.val();
        self.led.next = self.led8.val().get_bits::<L>(0);
    }
}

/// The echo's ports for the trace harness. The harness's `reset` is the button pressed; on an
/// active-low board the RustHDL back end drives the inverted level (the Verilator and Icarus
/// drivers drive the port as given, so use them with active-high buttons only).
impl<const L: usize> PortDut for BoardEcho<L> {
    fn ports(&self) -> PortIo {
        PortIo {
            inputs: vec![Field::new("rx", 1, false)],
            outputs: vec![Field::new("tx", 1, false), Field::new("led", L, false)],
            registers: vec!["full$q", "hold$q", "err$q", "act$q"],
        }
    }

    fn drive_ports(&mut self, clock: bool, reset: bool, inputs: &[u64]) {
        self.clock.next = Clock { clk: clock };
        self.reset.next = reset ^ self._btn_active_low;
        self.rx.next = inputs[0] != 0;
    }

    fn sample_ports(&self) -> Vec<u64> {
        vec![u64::from(self.tx.val()), self.led.val().to_u64()]
    }

    fn as_block(&self) -> &dyn Block {
        self
    }
}

/// The Verilog module name of a board's top: `itx_<board>`.
pub fn top_name(board: Board) -> String {
    format!("itx_{}", board.name())
}

/// The board's echo top, constrained, as Verilog (module [`top_name`]) and its pin file
/// ([`crate::board::pin_file`]).
pub fn emit(board: Board) -> Result<(String, String), String> {
    fn both<const L: usize>(board: Board) -> Result<(String, String), String> {
        let top = BoardEcho::<L>::for_board(board)?;
        let v = crate::emit::generate(&top, board.name(), "itx_").map_err(|e| e.to_string())?;
        Ok((v, crate::board::pin_file(board, &top)))
    }
    match board {
        Board::IceBreaker => both::<2>(board),
        Board::Ulx3s => both::<8>(board),
    }
}
