//! `uart-tx`, `uart-rx`: an 8N1 UART, transmitter ([`UartTx`]) and receiver ([`UartRx`]).
//!
//! Golden model: [`golden::uart`] (the bit time, the frame, the transmitter's acceptance rule and
//! the receiver's sampling rule, cycle for cycle). Both blocks are port-level
//! ([`crate::ports::PortDut`]): the serial line is no stream.
//!
//! # `UartTx` ports (all synchronous to `clock`)
//! | port       | dir | width | meaning |
//! |------------|-----|-------|---------|
//! | `clock`    | in  | 1     | rising-edge clock |
//! | `reset`    | in  | 1     | synchronous, active high: drops any frame, line idle (high), ready |
//! | `in_valid` | in  | 1     | a byte is offered on `data` |
//! | `in_ready` | out | 1     | the byte is taken at this edge (`in_valid && in_ready`) |
//! | `data`     | in  | 8     | the byte, sent least significant bit first |
//! | `tx`       | out | 1     | the serial line, a register; idle high |
//!
//! Timing: a byte taken in cycle `t` puts its start bit on `tx` from cycle `t + 1` (latency 1);
//! the frame lasts `10 * div` cycles. `in_ready` is high when idle and in the last cycle of a stop
//! bit, so bytes offered back to back go out with no idle bit between frames: throughput one byte
//! per `10 * div` cycles. `in_ready` does not depend on `in_valid`.
//!
//! # `UartRx` ports
//! | port        | dir | width | meaning |
//! |-------------|-----|-------|---------|
//! | `clock`     | in  | 1     | rising-edge clock |
//! | `reset`     | in  | 1     | synchronous, active high: abandons a frame, rearms, `data` = 0 |
//! | `rx`        | in  | 1     | the serial line, asynchronous (two-flop synchronizer inside) |
//! | `out_valid` | out | 1     | one-cycle pulse: a byte was received, it is on `data` now |
//! | `data`      | out | 8     | the last byte received; held until the next byte's pulse |
//! | `frame_err` | out | 1     | one-cycle pulse: a frame's stop bit sampled low (data dropped) |
//!
//! A UART cannot be stalled, so the output has no `ready`: the consumer must take the byte in the
//! cycle of its `out_valid` pulse, or at the latest before the next pulse (`data` holds the byte
//! for at least nine and a half bit times). A consumer that may be busy longer puts a FIFO
//! behind it.
//!
//! Sampling (the exact rule is [`golden::uart`]'s): two-flop synchronizer, start on a falling
//! edge of the synchronized line, the start bit re-checked at mid-bit (`div / 2` cycles later: a
//! low glitch of `div / 2` cycles or fewer is ignored), data and stop sampled at mid-bit, rearmed
//! right after the stop sample; a line held low (break) gives one framing error and nothing more
//! until it has been high. Latency: a frame whose start bit reaches `rx` in cycle `f` is
//! reported in cycle `f + 3 + div / 2 + 9 * div` ([`golden::uart::rx_latency`]).
//!
//! # Reset
//! Every state and output register is reset; the counters and shift registers load before they
//! are read, so nothing relies on `initial` values (the tests run the Verilog with every
//! `initial` block removed).
//!
//! # Parameter limits
//! `div` (clock cycles per bit) in [`golden::uart::MIN_DIV`]`..=`[`golden::uart::MAX_DIV`]
//! (4..=65535, a 16-bit counter); from a clock and a baud rate it is `round(clk_hz / baud)`,
//! refused beyond 1% error ([`golden::uart::BitTiming::new`]). iCEBreaker, 12 MHz at 115200 baud:
//! `div = 104`, 115384.6 baud, +0.16%. ULX3S, 25 MHz: `div = 217`, 115207.4 baud, +0.0064%.
//!
//! # Resources (Yosys 0.23, div = 104; `testbench/tests/uart.rs` `synth_ice40_and_ecp5`)
//! | block | iCE40 UP5K (`synth_ice40 -dsp`) | ECP5 (`synth_ecp5`) |
//! |---|---|---|
//! | `uart-tx` | 44 SB_LUT4, 16 SB_CARRY, 30 FF | 60 LUT4, 8 CCU2C, 30 FF |
//! | `uart-rx` | 42 SB_LUT4, 16 SB_CARRY, 43 FF | 60 LUT4, 8 CCU2C, 43 FF |
//!
//! The bit counter is 16 bits for every `div` (Yosys keeps all 16 flip-flops and the carry
//! chain); a counter sized to `div` would save about 9 FF and 9 carries at div = 104.
use rust_hdl::prelude::*;

use golden::uart::BitTiming;

use crate::ports::{PortDut, PortIo};
use crate::stream::Field;

/// Cycles from the edge that takes a byte to the first cycle of its start bit on `tx`.
pub const TX_LATENCY: usize = 1;

/// The transmitter. Build it with [`UartTx::new`].
#[derive(LogicBlock)]
pub struct UartTx {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub data: Signal<In, Bits<8>>,
    pub tx: Signal<Out, Bit>,

    // Generator constants (emitted as localparams).
    div_m1: Constant<Bits<16>>,
    one16: Constant<Bits<16>>,
    zero16: Constant<Bits<16>>,
    one4: Constant<Bits<4>>,
    zero4: Constant<Bits<4>>,
    /// `bit` after the last data bit has gone: the stop bit is next.
    data_end: Constant<Bits<4>>,
    /// `bit` during the stop bit.
    stop_end: Constant<Bits<4>>,

    bit_done: Signal<Local, Bit>,
    frame_done: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
    cnt_dec: Signal<Local, Bits<16>>,
    bit_inc: Signal<Local, Bits<4>>,
    sh_next: Signal<Local, Bits<8>>,

    /// A frame is on the line.
    busy: DFF<Bit>,
    /// Cycles left in the current bit, minus one.
    cnt: DFF<Bits<16>>,
    /// Bit periods completed in the frame (0 = in the start bit, 9 = in the stop bit).
    nbit: DFF<Bits<4>>,
    /// The data bits not sent yet, next in bit 0.
    sh: DFF<Bits<8>>,
    /// The line.
    line: DFF<Bit>,
}

impl UartTx {
    /// Builds the transmitter for a checked bit time.
    pub fn new(timing: BitTiming) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            data: Default::default(),
            tx: Default::default(),
            div_m1: Constant::new(u64::from(timing.div - 1).into()),
            one16: Constant::new(1u64.into()),
            zero16: Constant::new(0u64.into()),
            one4: Constant::new(1u64.into()),
            zero4: Constant::new(0u64.into()),
            data_end: Constant::new(8u64.into()),
            stop_end: Constant::new(9u64.into()),
            bit_done: Default::default(),
            frame_done: Default::default(),
            accept: Default::default(),
            cnt_dec: Default::default(),
            bit_inc: Default::default(),
            sh_next: Default::default(),
            busy: Default::default(),
            cnt: Default::default(),
            nbit: Default::default(),
            sh: Default::default(),
            line: Default::default(),
        }
    }
}

impl Logic for UartTx {
    #[hdl_gen]
    fn update(&mut self) {
        self.busy.clock.next = self.clock.val();
        self.cnt.clock.next = self.clock.val();
        self.nbit.clock.next = self.clock.val();
        self.sh.clock.next = self.clock.val();
        self.line.clock.next = self.clock.val();
        self.busy.d.next = self.busy.q.val();
        self.cnt.d.next = self.cnt.q.val();
        self.nbit.d.next = self.nbit.q.val();
        self.sh.d.next = self.sh.q.val();
        self.line.d.next = self.line.q.val();

        self.bit_done.next = self.cnt.q.val() == self.zero16.val();
        self.frame_done.next = self.bit_done.val() && (self.nbit.q.val() == self.stop_end.val());
        self.in_ready.next = !self.busy.q.val() || self.frame_done.val();
        self.accept.next = self.in_valid.val() && (!self.busy.q.val() || self.frame_done.val());
        self.tx.next = self.line.q.val();
        self.cnt_dec.next = self.cnt.q.val() - self.one16.val();
        self.bit_inc.next = self.nbit.q.val() + self.one4.val();
        self.sh_next.next = self.sh.q.val() >> self.one4.val();

        if self.busy.q.val() {
            if self.bit_done.val() {
                self.cnt.d.next = self.div_m1.val();
                self.nbit.d.next = self.bit_inc.val();
                if self.nbit.q.val() == self.stop_end.val() {
                    // End of the stop bit: idle, unless a byte is taken below.
                    self.busy.d.next = false;
                    self.line.d.next = true;
                } else if self.nbit.q.val() == self.data_end.val() {
                    self.line.d.next = true;
                } else {
                    self.line.d.next = self.sh.q.val().get_bit(0);
                    self.sh.d.next = self.sh_next.val();
                }
            } else {
                self.cnt.d.next = self.cnt_dec.val();
            }
        }
        if self.accept.val() {
            self.busy.d.next = true;
            self.line.d.next = false;
            self.cnt.d.next = self.div_m1.val();
            self.nbit.d.next = self.zero4.val();
            self.sh.d.next = self.data.val();
        }

        // Synchronous reset: idle line, nothing in flight.
        if self.reset.val() {
            self.busy.d.next = false;
            self.line.d.next = true;
        }
    }
}

/// The receiver. Build it with [`UartRx::new`].
#[derive(LogicBlock)]
pub struct UartRx {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub rx: Signal<In, Bit>,
    pub out_valid: Signal<Out, Bit>,
    pub data: Signal<Out, Bits<8>>,
    pub frame_err: Signal<Out, Bit>,

    // Generator constants (emitted as localparams).
    half_m1: Constant<Bits<16>>,
    div_m1: Constant<Bits<16>>,
    one16: Constant<Bits<16>>,
    zero16: Constant<Bits<16>>,
    one4: Constant<Bits<4>>,
    zero4: Constant<Bits<4>>,
    last_bit: Constant<Bits<4>>,
    msb: Constant<Bits<8>>,
    zero8: Constant<Bits<8>>,
    st_idle: Constant<Bits<2>>,
    st_start: Constant<Bits<2>>,
    st_data: Constant<Bits<2>>,
    st_stop: Constant<Bits<2>>,

    sample: Signal<Local, Bit>,
    cnt_dec: Signal<Local, Bits<16>>,
    bit_inc: Signal<Local, Bits<4>>,
    sh_shift: Signal<Local, Bits<8>>,

    /// The synchronizer: `sync2` is the line two cycles ago, `sync3` one cycle before that.
    sync1: DFF<Bit>,
    sync2: DFF<Bit>,
    sync3: DFF<Bit>,
    /// Idle (armed), start check, data bits, stop bit.
    state: DFF<Bits<2>>,
    /// Cycles to the next sample.
    cnt: DFF<Bits<16>>,
    /// Data bits sampled so far.
    nbit: DFF<Bits<4>>,
    /// The data bits, shifted in at bit 7 (least significant first).
    sh: DFF<Bits<8>>,
    dq: DFF<Bits<8>>,
    vq: DFF<Bit>,
    eq: DFF<Bit>,
}

impl UartRx {
    /// Builds the receiver for a checked bit time.
    pub fn new(timing: BitTiming) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            rx: Default::default(),
            out_valid: Default::default(),
            data: Default::default(),
            frame_err: Default::default(),
            half_m1: Constant::new(u64::from(timing.div / 2 - 1).into()),
            div_m1: Constant::new(u64::from(timing.div - 1).into()),
            one16: Constant::new(1u64.into()),
            zero16: Constant::new(0u64.into()),
            one4: Constant::new(1u64.into()),
            zero4: Constant::new(0u64.into()),
            last_bit: Constant::new(7u64.into()),
            msb: Constant::new(0x80u64.into()),
            zero8: Constant::new(0u64.into()),
            st_idle: Constant::new(0u64.into()),
            st_start: Constant::new(1u64.into()),
            st_data: Constant::new(2u64.into()),
            st_stop: Constant::new(3u64.into()),
            sample: Default::default(),
            cnt_dec: Default::default(),
            bit_inc: Default::default(),
            sh_shift: Default::default(),
            sync1: Default::default(),
            sync2: Default::default(),
            sync3: Default::default(),
            state: Default::default(),
            cnt: Default::default(),
            nbit: Default::default(),
            sh: Default::default(),
            dq: Default::default(),
            vq: Default::default(),
            eq: Default::default(),
        }
    }
}

impl Logic for UartRx {
    #[hdl_gen]
    fn update(&mut self) {
        self.sync1.clock.next = self.clock.val();
        self.sync2.clock.next = self.clock.val();
        self.sync3.clock.next = self.clock.val();
        self.state.clock.next = self.clock.val();
        self.cnt.clock.next = self.clock.val();
        self.nbit.clock.next = self.clock.val();
        self.sh.clock.next = self.clock.val();
        self.dq.clock.next = self.clock.val();
        self.vq.clock.next = self.clock.val();
        self.eq.clock.next = self.clock.val();
        self.sync1.d.next = self.rx.val();
        self.sync2.d.next = self.sync1.q.val();
        self.sync3.d.next = self.sync2.q.val();
        self.state.d.next = self.state.q.val();
        self.cnt.d.next = self.cnt.q.val();
        self.nbit.d.next = self.nbit.q.val();
        self.sh.d.next = self.sh.q.val();
        self.dq.d.next = self.dq.q.val();
        self.vq.d.next = false;
        self.eq.d.next = false;

        self.out_valid.next = self.vq.q.val();
        self.data.next = self.dq.q.val();
        self.frame_err.next = self.eq.q.val();

        self.sample.next = self.cnt.q.val() == self.zero16.val();
        self.cnt_dec.next = self.cnt.q.val() - self.one16.val();
        self.bit_inc.next = self.nbit.q.val() + self.one4.val();
        self.sh_shift.next = self.sh.q.val() >> self.one4.val();

        if self.state.q.val() == self.st_idle.val() {
            // Armed: a falling edge of the synchronized line starts a frame.
            if self.sync3.q.val() && !self.sync2.q.val() {
                self.state.d.next = self.st_start.val();
                self.cnt.d.next = self.half_m1.val();
            }
        } else if !self.sample.val() {
            self.cnt.d.next = self.cnt_dec.val();
        } else if self.state.q.val() == self.st_start.val() {
            // Mid start bit: still low, or it was a glitch.
            if self.sync2.q.val() {
                self.state.d.next = self.st_idle.val();
            } else {
                self.state.d.next = self.st_data.val();
                self.cnt.d.next = self.div_m1.val();
                self.nbit.d.next = self.zero4.val();
            }
        } else if self.state.q.val() == self.st_data.val() {
            self.cnt.d.next = self.div_m1.val();
            self.nbit.d.next = self.bit_inc.val();
            if self.sync2.q.val() {
                self.sh.d.next = self.sh_shift.val() | self.msb.val();
            } else {
                self.sh.d.next = self.sh_shift.val();
            }
            if self.nbit.q.val() == self.last_bit.val() {
                self.state.d.next = self.st_stop.val();
            }
        } else {
            // Mid stop bit: report, and rearm.
            self.state.d.next = self.st_idle.val();
            if self.sync2.q.val() {
                self.vq.d.next = true;
                self.dq.d.next = self.sh.q.val();
            } else {
                self.eq.d.next = true;
            }
        }

        // Synchronous reset: line idle, armed, no report, data cleared.
        if self.reset.val() {
            self.sync1.d.next = true;
            self.sync2.d.next = true;
            self.sync3.d.next = true;
            self.state.d.next = self.st_idle.val();
            self.dq.d.next = self.zero8.val();
            self.vq.d.next = false;
            self.eq.d.next = false;
        }
    }
}

impl PortDut for UartTx {
    fn ports(&self) -> PortIo {
        PortIo {
            inputs: vec![
                Field::new("in_valid", 1, false),
                Field::new("data", 8, false),
            ],
            outputs: vec![Field::new("in_ready", 1, false), Field::new("tx", 1, false)],
            registers: vec!["busy$q", "cnt$q", "nbit$q", "sh$q", "line$q"],
        }
    }

    fn drive_ports(&mut self, clock: bool, reset: bool, inputs: &[u64]) {
        self.clock.next = Clock { clk: clock };
        self.reset.next = reset;
        self.in_valid.next = inputs[0] != 0;
        self.data.next = inputs[1].into();
    }

    fn sample_ports(&self) -> Vec<u64> {
        vec![u64::from(self.in_ready.val()), u64::from(self.tx.val())]
    }

    fn as_block(&self) -> &dyn Block {
        self
    }
}

impl PortDut for UartRx {
    fn ports(&self) -> PortIo {
        PortIo {
            inputs: vec![Field::new("rx", 1, false)],
            outputs: vec![
                Field::new("out_valid", 1, false),
                Field::new("data", 8, false),
                Field::new("frame_err", 1, false),
            ],
            registers: vec!["sync2$q", "state$q", "cnt$q", "nbit$q", "sh$q"],
        }
    }

    fn drive_ports(&mut self, clock: bool, reset: bool, inputs: &[u64]) {
        self.clock.next = Clock { clk: clock };
        self.reset.next = reset;
        self.rx.next = inputs[0] != 0;
    }

    fn sample_ports(&self) -> Vec<u64> {
        vec![
            u64::from(self.out_valid.val()),
            self.data.val().to_u64(),
            u64::from(self.frame_err.val()),
        ]
    }

    fn as_block(&self) -> &dyn Block {
        self
    }
}
