//! `uart`: an 8N1 UART, transmitter and receiver, cycle for cycle.
//!
//! Not an arithmetic op of `integer-ops.md`: this is the serial link of the UART-attached engine
//! (issue 7; iCEBreaker iCE40 UP5K at 12 MHz, ULX3S ECP5 at 25 MHz). The hardware is
//! `hdl/src/uart.rs` (`UartTx`, `UartRx`); these functions say what it does on every clock cycle.
//!
//! # Bit time
//! One bit lasts `div` clock cycles, `div = round(clk_hz / baud)` ([`BitTiming::new`]). The
//! divisor is refused when the achieved rate `clk_hz / div` is more than 1% away from `baud`
//! ([`MAX_BAUD_ERROR_PPM`]), or when `div` is outside [`MIN_DIV`]`..=`[`MAX_DIV`].
//!
//! # Frame (8N1)
//! The line idles high. A frame is a start bit (0), eight data bits, least significant first, and
//! a stop bit (1), each exactly `div` cycles: `10 * div` cycles.
//!
//! # Transmitter ([`TxModel`]; cycle `t` counts from the first cycle after reset)
//! The byte stream is valid/ready. A byte accepted in cycle `t` (`in_valid && in_ready`) puts its
//! start bit on the line from cycle `t + 1`; its frame occupies cycles `t + 1 ..= t + 10 * div`.
//! `in_ready` is high when no frame is running, and in the last cycle of a frame's stop bit, so a
//! waiting byte follows with no idle bit (one frame per `10 * div` cycles). Latency: 1 cycle from
//! the accepting edge to the start bit; the line is a register.
//!
//! # Receiver ([`rx_events`])
//! Let `rx[t]` be the line in cycle `t`. The receiver sees it through a two-flop synchronizer,
//! `y[t] = rx[t - 2]` (`y[t] = 1` for `t < 2`: reset sets the synchronizer high, idle).
//! 1. Armed, it looks for a falling edge: the first `t0` (from where it rearmed) with
//!    `y[t0 - 1] = 1` and `y[t0] = 0` (`y[-1] = 1`). A line that is already low when the receiver
//!    rearms (a break) starts nothing until it has been high again.
//! 2. Start check at mid-bit, cycle `ts = t0 + div / 2` (integer division): if `y[ts] = 1` the
//!    low pulse was a glitch (a low pulse of `div / 2` cycles or fewer is ignored) and the
//!    receiver rearms at `ts + 1`.
//! 3. Data bit `i` (0..8, least significant first) is `y[ts + (i + 1) * div]`.
//! 4. The stop bit is sampled at `tp = ts + 9 * div`: 1 gives the event "byte" and 0 gives
//!    "framing error" (the data are dropped), both reported in cycle `tp + 1` (`out_valid` or
//!    `frame_err` is high in that one cycle); the receiver rearms at `tp + 1`.
//!
//! Latency: an undisturbed frame whose start bit begins on the line in cycle `f` is reported in
//! cycle `f + 3 + div / 2 + 9 * div` ([`rx_latency`]). Rearming at the middle of the stop bit
//! leaves half a bit of slack per frame, so back-to-back frames are received at a transmitter
//! clock up to about 5% off (and a ±2% mismatch is well inside).
use std::fmt;

/// The smallest divisor: the receiver's mid-bit sample needs `div / 2 >= 2` cycles of margin.
pub const MIN_DIV: u32 = 4;

/// The largest divisor: the hardware's bit counter is 16 bits wide.
pub const MAX_DIV: u32 = 65535;

/// The largest accepted baud-rate error, in parts per million (1%).
pub const MAX_BAUD_ERROR_PPM: u64 = 10_000;

/// Clock cycles of one 8N1 frame.
pub fn frame_cycles(div: u32) -> u64 {
    10 * u64::from(div)
}

/// Cycles from the first cycle of a frame's start bit on the line to the receiver's report.
pub fn rx_latency(div: u32) -> u64 {
    3 + u64::from(div / 2) + 9 * u64::from(div)
}

/// A rejected clock / baud combination or divisor.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UartError {
    /// `div = round(clk_hz / baud)` misses `baud` by more than 1%.
    #[error(
        "uart: parameter `baud` = {baud} at `clk_hz` = {clk_hz}: div = {div} gives {achieved} baud, \
         an error of {}% (allowed: at most 1%)",
        ppm_as_percent(*.error_ppm)
    )]
    BaudError {
        clk_hz: u64,
        baud: u64,
        div: u64,
        /// `clk_hz / div`, rounded to the nearest integer, for the message.
        achieved: u64,
        /// `|clk_hz / div - baud| / baud`, in parts per million (rounded up).
        error_ppm: u64,
    },
    /// The divisor is outside `MIN_DIV..=MAX_DIV`.
    #[error("uart: parameter `{param}` gives div = {div} (allowed: {MIN_DIV}..={MAX_DIV} clock cycles per bit)")]
    DivRange { param: &'static str, div: u64 },
    /// A zero clock or baud rate.
    #[error("uart: parameter `{0}` must be positive")]
    Zero(&'static str),
}

fn ppm_as_percent(ppm: u64) -> String {
    format!("{}.{:04}", ppm / 10_000, ppm % 10_000)
}

/// A checked bit time: `div` clock cycles per bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitTiming {
    pub div: u32,
}

impl BitTiming {
    /// `div = round(clk_hz / baud)` (ties up), refused beyond 1% error or outside the div range.
    pub fn new(clk_hz: u64, baud: u64) -> Result<BitTiming, UartError> {
        if clk_hz == 0 {
            return Err(UartError::Zero("clk_hz"));
        }
        if baud == 0 {
            return Err(UartError::Zero("baud"));
        }
        let div = (2 * clk_hz + baud) / (2 * baud);
        if div < u64::from(MIN_DIV) || div > u64::from(MAX_DIV) {
            return Err(UartError::DivRange { param: "baud", div });
        }
        let error_ppm = baud_error_ppm(clk_hz, baud, div);
        if error_ppm > MAX_BAUD_ERROR_PPM {
            return Err(UartError::BaudError {
                clk_hz,
                baud,
                div,
                achieved: (2 * clk_hz + div) / (2 * div),
                error_ppm,
            });
        }
        Ok(BitTiming { div: div as u32 })
    }

    /// A divisor given directly (`div` clock cycles per bit).
    pub fn from_div(div: u64) -> Result<BitTiming, UartError> {
        if div < u64::from(MIN_DIV) || div > u64::from(MAX_DIV) {
            return Err(UartError::DivRange { param: "div", div });
        }
        Ok(BitTiming { div: div as u32 })
    }
}

/// `|clk_hz / div - baud| / baud` in parts per million, rounded up (exact integer arithmetic).
pub fn baud_error_ppm(clk_hz: u64, baud: u64, div: u64) -> u64 {
    let (c, b, d) = (u128::from(clk_hz), u128::from(baud), u128::from(div));
    let num = c.abs_diff(b * d) * 1_000_000;
    let den = b * d;
    num.div_ceil(den) as u64
}

/// The line level of bit `k` (0 = start, 1..=8 data, 9 = stop) of the frame of `byte`.
pub fn frame_bit(byte: u8, k: u64) -> bool {
    match k {
        0 => false,
        1..=8 => (byte >> (k - 1)) & 1 == 1,
        _ => true,
    }
}

/// The transmitter, one call per clock cycle.
#[derive(Clone, Debug)]
pub struct TxModel {
    div: u64,
    t: u64,
    /// The running frame: the cycle of its first start-bit cycle and its byte.
    frame: Option<(u64, u8)>,
}

/// What the transmitter shows in one cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxCycle {
    pub in_ready: bool,
    pub tx: bool,
}

impl TxModel {
    /// The transmitter right after reset (line idle, ready).
    pub fn new(timing: BitTiming) -> TxModel {
        TxModel {
            div: u64::from(timing.div),
            t: 0,
            frame: None,
        }
    }

    /// One cycle with `offer` on the input (`Some(byte)`: `in_valid` high with that byte).
    /// Returns the cycle's `in_ready` and line level; the byte is taken when both are high.
    pub fn step(&mut self, offer: Option<u8>) -> TxCycle {
        let t = self.t;
        let n = 10 * self.div;
        let (tx, in_ready) = match self.frame {
            Some((s, byte)) if t < s + n => (frame_bit(byte, (t - s) / self.div), t == s + n - 1),
            _ => (true, true),
        };
        if let (Some(byte), true) = (offer, in_ready) {
            self.frame = Some((t + 1, byte));
        }
        self.t += 1;
        TxCycle { in_ready, tx }
    }
}

/// The line of a transmitter fed back to back from cycle 0: every byte offered until taken.
pub fn tx_line(timing: BitTiming, bytes: &[u8], cycles: usize) -> Vec<bool> {
    let mut m = TxModel::new(timing);
    let mut next = 0;
    (0..cycles)
        .map(|_| {
            let c = m.step(bytes.get(next).copied());
            if c.in_ready && next < bytes.len() {
                next += 1;
            }
            c.tx
        })
        .collect()
}

/// What the receiver reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxKind {
    Byte(u8),
    FrameError,
}

/// One receiver report, in the cycle its output pulse is high.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxEvent {
    pub cycle: u64,
    pub kind: RxKind,
}

impl fmt::Display for RxEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            RxKind::Byte(b) => write!(f, "cycle {}: byte {b:#04x}", self.cycle),
            RxKind::FrameError => write!(f, "cycle {}: framing error", self.cycle),
        }
    }
}

/// The receiver's reports for the line `rx` (one level per cycle from the first cycle after
/// reset), following the sampling rule of the module documentation. Only reports whose cycle is
/// inside `rx` are returned.
pub fn rx_events(timing: BitTiming, rx: &[bool]) -> Vec<RxEvent> {
    let div = timing.div as usize;
    let n = rx.len();
    // The synchronized line, y[t] = rx[t - 2]; idle (high) before the first two cycles.
    let y = |t: usize| t < 2 || rx[t - 2];
    let mut events = Vec::new();
    let mut armed = 0usize;
    // Armed from cycle `armed`: the next falling edge of the synchronized line.
    while let Some(t0) = (armed..n).find(|&t| (t == 0 || y(t - 1)) && !y(t)) {
        let ts = t0 + div / 2;
        if ts >= n {
            break;
        }
        if y(ts) {
            armed = ts + 1;
            continue;
        }
        let tp = ts + 9 * div;
        if tp + 1 >= n {
            break;
        }
        let byte = (0..8).fold(0u8, |acc, i| acc | (u8::from(y(ts + (i + 1) * div)) << i));
        let kind = if y(tp) {
            RxKind::Byte(byte)
        } else {
            RxKind::FrameError
        };
        events.push(RxEvent {
            cycle: (tp + 1) as u64,
            kind,
        });
        armed = tp + 1;
    }
    events
}

/// The receiver's outputs per cycle, from its reports: `(out_valid, data, frame_err)`. `data`
/// holds the last byte received (0 after reset) and changes only with `out_valid`.
pub fn rx_outputs(events: &[RxEvent], cycles: usize) -> Vec<(bool, u8, bool)> {
    let mut out = vec![(false, 0u8, false); cycles];
    let mut data = 0u8;
    let mut k = 0;
    for (t, o) in out.iter_mut().enumerate() {
        let (mut valid, mut err) = (false, false);
        while k < events.len() && events[k].cycle as usize == t {
            match events[k].kind {
                RxKind::Byte(b) => {
                    valid = true;
                    data = b;
                }
                RxKind::FrameError => err = true,
            }
            k += 1;
        }
        *o = (valid, data, err);
    }
    out
}

/// Resamples a line produced on one clock onto another: sample `k` of the result is the level of
/// `line` at time `k * num / den` of the source clock (`num / den` = source cycles per
/// destination cycle; the receiver's clock runs at `den / num` times the transmitter's). Beyond
/// the end of `line` the level stays at its last value.
pub fn resample(line: &[bool], num: u64, den: u64, len: usize) -> Vec<bool> {
    assert!(num > 0 && den > 0, "resample: num and den must be positive");
    (0..len as u64)
        .map(|k| {
            let src = (k * num / den) as usize;
            line.get(src).or(line.last()).copied().unwrap_or(true)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icebreaker_default_divisor() {
        let t = BitTiming::new(12_000_000, 115_200).unwrap();
        assert_eq!(t.div, 104);
        // 12e6 / 104 = 115384.6: +0.16%.
        assert_eq!(baud_error_ppm(12_000_000, 115_200, 104), 1603);
        assert_eq!(BitTiming::new(25_000_000, 115_200).unwrap().div, 217);
    }

    #[test]
    fn frame_bits_lsb_first() {
        let bits: Vec<bool> = (0..10).map(|k| frame_bit(0b1000_0001, k)).collect();
        assert_eq!(
            bits,
            [false, true, false, false, false, false, false, false, true, true]
        );
    }
}
