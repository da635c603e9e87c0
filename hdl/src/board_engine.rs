//! The engine's board top: [`crate::engine::Engine`] on the board's UART, reset button and LEDs,
//! sized per board ([`board_config`]).
//!
//! # Ports (`L` = the board's LED count: iCEBreaker 2, ULX3S 8)
//! | port    | dir | width | meaning |
//! |---------|-----|-------|---------|
//! | `clock` | in  | 1     | the board oscillator (12 / 25 MHz) |
//! | `reset` | in  | 1     | the reset button, raw and asynchronous; pressed = `btn_active_low ? 0 : 1` |
//! | `rx`    | in  | 1     | UART from the USB bridge, 115200 8N1 |
//! | `tx`    | out | 1     | UART to the USB bridge, 115200 8N1 |
//! | `led`   | out | `L`   | bit 0: the engine is executing or answering; bit 1: heartbeat (about 1.4 s at 12 MHz, 0.7 s at 25 MHz); others off |
//!
//! Reset: [`ButtonReset`] (two-flop synchronizer, power-on counter), as the echo top. The same
//! pins as the echo ([`crate::board::attach`]), so the committed pin files serve both.
use rust_hdl::prelude::*;

use golden::engine::EngineConfig;
use golden::uart::BitTiming;

use crate::board::{attach, Board, BoardPorts, ButtonReset};
use crate::engine::{hardware_default, Engine, EngineError, EngineParams};
use crate::mac_array::Product;

/// The engine configuration each board is built with.
///
/// * iCEBreaker (UP5K: 5280 logic cells, 8 DSPs, 30 EBRs): a 2 x 2 array on shared SB_MAC16s
///   (`pe = sb_mac16_dual`: 2 DSPs) and the requantizer (4 DSPs), `k_max` 64, `row_max` 64, no
///   row units: every unit needs a 32 x 32 multiply (4 DSPs), which the remaining 2 DSPs
///   cannot hold, and the full engine needs about twice the UP5K's logic cells.
/// * ULX3S (ECP5-85F: 83640 LUT4s, 156 MULT18X18Ds): the golden default, a 4 x 4 array,
///   `k_max` 256, `row_max` 256, Shiftmax, ShiftGELU and I-LayerNorm.
pub fn board_config(board: Board) -> (EngineConfig, Product) {
    match board {
        Board::IceBreaker => (
            EngineConfig {
                rows: 2,
                cols: 2,
                k_max: 64,
                row_max: 64,
                units: 0,
                ..hardware_default()
            },
            Product::Shared,
        ),
        Board::Ulx3s => (hardware_default(), Product::Mac),
    }
}

/// The bit rate of the board UART.
pub const BAUD: u64 = crate::board_echo::BAUD;

/// The engine on a board (module doc).
#[derive(LogicBlock)]
pub struct BoardEngine<const L: usize, const AB: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub rx: Signal<In, Bit>,
    pub tx: Signal<Out, Bit>,
    pub led: Signal<Out, Bits<L>>,

    led_invert: Constant<Bits<8>>,
    one24: Constant<Bits<24>>,
    zero24: Constant<Bits<24>>,
    zero8: Constant<Bits<8>>,
    busy_bit: Constant<Bits<8>>,
    beat_bit: Constant<Bits<8>>,
    btn: ButtonReset,
    core: Engine<AB>,
    beat: DFF<Bits<24>>,
    busy8: Signal<Local, Bits<8>>,
    beat8: Signal<Local, Bits<8>>,
    led8: Signal<Local, Bits<8>>,
}

impl<const L: usize, const AB: usize> BoardEngine<L, AB> {
    /// The engine for `board` at [`BAUD`], pins attached, connected.
    pub fn for_board(board: Board) -> Result<Self, EngineError> {
        let spec = board.spec();
        if L != spec.leds.len() {
            return Err(EngineError(format!(
                "the {} has {} LEDs, not {L}",
                spec.name,
                spec.leds.len()
            )));
        }
        let timing = BitTiming::new(spec.clock_hz, BAUD).map_err(|e| EngineError(e.to_string()))?;
        let (cfg, product) = board_config(board);
        let p = EngineParams {
            cfg,
            timing,
            product,
        };
        let mut top = Self {
            clock: Default::default(),
            reset: Default::default(),
            rx: Default::default(),
            tx: Default::default(),
            led: Default::default(),
            led_invert: Constant::new(if spec.leds_active_low { 0xffu64 } else { 0 }.into()),
            one24: Constant::new(1u64.into()),
            zero24: Constant::new(0u64.into()),
            zero8: Constant::new(0u64.into()),
            busy_bit: Constant::new(1u64.into()),
            beat_bit: Constant::new(2u64.into()),
            btn: ButtonReset::new(spec.reset_active_low),
            core: Engine::new(&p)?,
            beat: Default::default(),
            busy8: Default::default(),
            beat8: Default::default(),
            led8: Default::default(),
        };
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

impl<const L: usize, const AB: usize> Logic for BoardEngine<L, AB> {
    #[hdl_gen]
    fn update(&mut self) {
        self.btn.clock.next = self.clock.val();
        self.btn.button.next = self.reset.val();
        self.core.clock.next = self.clock.val();
        self.core.reset.next = self.btn.rst.val();
        self.core.rx.next = self.rx.val();
        self.tx.next = self.core.tx.val();
        self.beat.clock.next = self.clock.val();
        self.beat.d.next = self.beat.q.val() + self.one24.val();
        if self.btn.rst.val() {
            self.beat.d.next = self.zero24.val();
        }
        self.busy8.next = self.zero8.val();
        if self.core.busy.val() {
            self.busy8.next = self.busy_bit.val();
        }
        self.beat8.next = self.zero8.val();
        // The heartbeat LED follows bit 23 of a free-running counter (a literal: hdl_gen emits
        // the index as written).
        if self.beat.q.val().get_bit(23) {
            self.beat8.next = self.beat_bit.val();
        }
        self.led8.next = (self.busy8.val() | self.beat8.val()) ^ self.led_invert.val();
        self.led.next = self.led8.val().get_bits::<L>(0);
    }
}

/// The Verilog module name of a board's engine top: `itx_<board>_engine`.
pub fn top_name(board: Board) -> String {
    format!("itx_{}_engine", board.name())
}

/// The board's engine top as Verilog (module [`top_name`]) and its pin file.
pub fn emit(board: Board) -> Result<(String, String), EngineError> {
    fn both<const L: usize, const AB: usize>(
        board: Board,
    ) -> Result<(String, String), EngineError> {
        let top = BoardEngine::<L, AB>::for_board(board)?;
        let block = format!("{}_engine", board.name());
        let v =
            crate::emit::generate(&top, &block, "itx_").map_err(|e| EngineError(e.to_string()))?;
        Ok((v, crate::board::pin_file(board, &top)))
    }
    match board {
        Board::IceBreaker => both::<2, 7>(board),
        Board::Ulx3s => both::<8, 10>(board),
    }
}
