//! The boards in code: clock, UART, reset button and LED pins of the iCEBreaker (iCE40 UP5K) and
//! the ULX3S (ECP5-85F), and [`attach`], which puts them on a top's signals as RustHDL pin
//! constraints. `constraints/icebreaker.pcf` and `constraints/ulx3s.lpf` are generated from them
//! ([`pin_file`]) and a test checks the committed files against the code.
//!
//! Pins, from the boards' published constraint files (iCEBreaker `icebreaker.pcf`, ULX3S v2.0+
//! `ulx3s_v20.lpf`):
//!
//! | signal | iCEBreaker | ULX3S |
//! |---|---|---|
//! | clock | 35 (12 MHz) | G2 `clk_25mhz` (25 MHz) |
//! | UART rx (FPGA input, the FTDI transmits) | 6 `RX` | M1 `ftdi_txd` |
//! | UART tx (FPGA output) | 9 `TX` | L4 `ftdi_rxd` |
//! | reset button | 10 `BTN_N`, active low | R1 `btn[1]` FIRE1, active high, `PULLMODE=DOWN` |
//! | LEDs | 11 `LEDR_N`, 37 `LEDG_N`, active low | B2 C2 C1 D2 D1 E2 E1 H3 `led[0..7]`, active high |
//!
//! ULX3S pins are all `IO_TYPE=LVCMOS33`. The clock's frequency goes into the pin file: a
//! `set_frequency` line for nextpnr-ice40 (the PCF generator only passes locations and custom
//! lines) and a `FREQUENCY PORT` line for nextpnr-ecp5.
use std::str::FromStr;

use rust_hdl::prelude::*;

/// A supported board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Board {
    /// iCEBreaker v1.0: iCE40 UP5K (SG48), 12 MHz oscillator, FTDI FT2232H UART.
    IceBreaker,
    /// ULX3S v2.0 or later: ECP5 LFE5U-85F (CABGA381), 25 MHz oscillator, FTDI FT231X UART.
    Ulx3s,
}

/// The boards, as `--board` spells them.
pub const BOARDS: &str = "icebreaker, ulx3s";

/// Why a board name was refused.
#[derive(Debug, thiserror::Error)]
#[error("unknown board `{0}` (allowed: icebreaker, ulx3s)")]
pub struct UnknownBoard(pub String);

impl FromStr for Board {
    type Err = UnknownBoard;
    fn from_str(s: &str) -> Result<Board, UnknownBoard> {
        match s {
            "icebreaker" => Ok(Board::IceBreaker),
            "ulx3s" => Ok(Board::Ulx3s),
            other => Err(UnknownBoard(other.to_string())),
        }
    }
}

/// The pins and electrical facts of a board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoardSpec {
    /// The name `--board` takes and the build folder uses.
    pub name: &'static str,
    /// The clock input pin and its frequency.
    pub clock_pin: &'static str,
    pub clock_hz: u64,
    /// UART: the FPGA's receive input (driven by the USB bridge) and transmit output.
    pub rx_pin: &'static str,
    pub tx_pin: &'static str,
    /// The button used as reset, and the level it reads when pressed.
    pub reset_pin: &'static str,
    pub reset_active_low: bool,
    /// The button needs the FPGA's pull-down (ULX3S: the button pulls up to 3.3 V).
    pub reset_pull_down: bool,
    /// LED pins, `led[0]` first, and their polarity.
    pub leds: &'static [&'static str],
    pub leds_active_low: bool,
    /// Every pin is `IO_TYPE=LVCMOS33` (ECP5; iCE40 banks are fixed by the board's supply).
    pub lvcmos33: bool,
}

impl Board {
    /// Every board, in the order `make boards` builds them.
    pub const ALL: [Board; 2] = [Board::IceBreaker, Board::Ulx3s];

    /// The board's pins and clock.
    pub fn spec(self) -> BoardSpec {
        match self {
            Board::IceBreaker => BoardSpec {
                name: "icebreaker",
                clock_pin: "35",
                clock_hz: 12_000_000,
                rx_pin: "6",
                tx_pin: "9",
                reset_pin: "10",
                reset_active_low: true,
                reset_pull_down: false,
                leds: &["11", "37"],
                leds_active_low: true,
                lvcmos33: false,
            },
            Board::Ulx3s => BoardSpec {
                name: "ulx3s",
                clock_pin: "G2",
                clock_hz: 25_000_000,
                rx_pin: "M1",
                tx_pin: "L4",
                reset_pin: "R1",
                reset_active_low: false,
                reset_pull_down: true,
                leds: &["B2", "C2", "C1", "D2", "D1", "E2", "E1", "H3"],
                leds_active_low: false,
                lvcmos33: true,
            },
        }
    }

    /// The board's name as `--board` takes it.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Whether the FPGA is an ECP5 (else an iCE40).
    pub fn is_ecp5(self) -> bool {
        matches!(self, Board::Ulx3s)
    }

    /// The committed pin file, relative to the workspace root.
    pub fn pin_file_path(self) -> &'static str {
        match self {
            Board::IceBreaker => "constraints/icebreaker.pcf",
            Board::Ulx3s => "constraints/ulx3s.lpf",
        }
    }

    /// The clock frequency in MHz as the pin file and nextpnr state it.
    pub fn clock_mhz(self) -> f64 {
        self.spec().clock_hz as f64 / 1e6
    }
}

/// A top's board-facing signals, for [`attach`].
pub struct BoardPorts<'a, const L: usize> {
    pub clock: &'a mut Signal<In, Clock>,
    pub reset: &'a mut Signal<In, Bit>,
    pub rx: &'a mut Signal<In, Bit>,
    pub tx: &'a mut Signal<Out, Bit>,
    pub led: &'a mut Signal<Out, Bits<L>>,
}

fn io_type<D: Direction, T: Synth>(spec: &BoardSpec, s: &mut Signal<D, T>, index: usize) {
    if spec.lvcmos33 {
        s.add_signal_type(index, SignalType::LowVoltageCMOS_3v3);
    }
}

/// Attaches the board's pins to a top's signals: locations, the I/O standard (ECP5), the
/// button's pull-down (ULX3S) and the clock's frequency. `L` must be the board's LED count.
pub fn attach<const L: usize>(board: Board, p: BoardPorts<'_, L>) {
    let spec = board.spec();
    assert_eq!(
        L,
        spec.leds.len(),
        "the top's `led` port must have one bit per LED of the {}",
        spec.name
    );
    p.clock.add_location(0, spec.clock_pin);
    io_type(&spec, p.clock, 0);
    let mhz = board.clock_mhz();
    if board.is_ecp5() {
        p.clock.add_constraint(PinConstraint {
            index: 0,
            constraint: Constraint::Timing(Timing::Periodic(PeriodicTiming {
                net: "clock".into(),
                period_nanoseconds: 1000.0 / mhz,
                duty_cycle: 50.0,
            })),
        });
    } else {
        p.clock.add_constraint(PinConstraint {
            index: 0,
            constraint: Constraint::Custom(format!("set_frequency clock {mhz}")),
        });
    }
    p.reset.add_location(0, spec.reset_pin);
    io_type(&spec, p.reset, 0);
    if spec.reset_pull_down {
        p.reset.add_constraint(PinConstraint {
            index: 0,
            constraint: Constraint::Custom("IOBUF PORT \"reset\" PULLMODE=DOWN".into()),
        });
    }
    p.rx.add_location(0, spec.rx_pin);
    io_type(&spec, p.rx, 0);
    p.tx.add_location(0, spec.tx_pin);
    io_type(&spec, p.tx, 0);
    for (i, pin) in spec.leds.iter().enumerate() {
        p.led.add_location(i, pin);
        io_type(&spec, p.led, i);
    }
}

/// The pin file of a constrained top: `generate_pcf` (iCE40) or `generate_lpf` (ECP5), after a
/// one-line header comment.
pub fn pin_file<U: Block>(board: Board, top: &U) -> String {
    let header = format!(
        "# {}: generated from hdl/src/board.rs by `itx constraints --write`; do not edit.\n",
        board.name()
    );
    let body = if board.is_ecp5() {
        rust_hdl_fpga_support::toolchains::ecp5::generate_lpf(top)
    } else {
        rust_hdl_fpga_support::toolchains::icestorm::generate_pcf(top)
    };
    header + &body
}

/// The board reset: the raw button through a two-flop synchronizer, stretched by a 4-bit
/// power-on counter (counting from the FPGA's configuration value 0, restarted by the button)
/// for 15 cycles after configuration or release; `rst` (active high, synchronous) is a register:
/// `rst = sync2 || counter != 15`, one cycle later. Used by the engine's board top
/// ([`crate::board_engine`]).
#[derive(LogicBlock)]
pub struct ButtonReset {
    pub clock: Signal<In, Clock>,
    /// The raw button, asynchronous.
    pub button: Signal<In, Bit>,
    /// The synchronous reset of everything else.
    pub rst: Signal<Out, Bit>,
    active_low: Constant<Bit>,
    por_end: Constant<Bits<4>>,
    one4: Constant<Bits<4>>,
    zero4: Constant<Bits<4>>,
    sync1: DFF<Bit>,
    sync2: DFF<Bit>,
    por: DFF<Bits<4>>,
    r: DFF<Bit>,
    pressed: Signal<Local, Bit>,
    por_busy: Signal<Local, Bit>,
}

impl ButtonReset {
    /// A reset for a button that reads 0 when pressed (`active_low`) or 1.
    pub fn new(active_low: bool) -> Self {
        Self {
            clock: Default::default(),
            button: Default::default(),
            rst: Default::default(),
            active_low: Constant::new(active_low),
            por_end: Constant::new(15u64.into()),
            one4: Constant::new(1u64.into()),
            zero4: Constant::new(0u64.into()),
            sync1: Default::default(),
            sync2: Default::default(),
            por: Default::default(),
            r: Default::default(),
            pressed: Default::default(),
            por_busy: Default::default(),
        }
    }
}

impl Logic for ButtonReset {
    #[hdl_gen]
    fn update(&mut self) {
        self.sync1.clock.next = self.clock.val();
        self.sync2.clock.next = self.clock.val();
        self.por.clock.next = self.clock.val();
        self.r.clock.next = self.clock.val();
        self.pressed.next = self.button.val() ^ self.active_low.val();
        self.sync1.d.next = self.pressed.val();
        self.sync2.d.next = self.sync1.q.val();
        self.por_busy.next = self.por.q.val() != self.por_end.val();
        self.por.d.next = self.por.q.val();
        if self.por_busy.val() {
            self.por.d.next = self.por.q.val() + self.one4.val();
        }
        if self.sync2.q.val() {
            self.por.d.next = self.zero4.val();
        }
        self.r.d.next = self.sync2.q.val() || self.por_busy.val();
        self.rst.next = self.r.q.val();
    }
}
