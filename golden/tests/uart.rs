//! `golden::uart`: the transmitter's line checked against a naive frame builder written here, the
//! receiver checked by round trips through the transmitter (with the receiver's clock off by up to
//! ±2%), and the receiver's corner cases (glitches, low stop bits, break, back-to-back frames)
//! against lines built by hand.
use golden::uart::{
    baud_error_ppm, frame_cycles, resample, rx_events, rx_latency, rx_outputs, tx_line, BitTiming,
    RxEvent, RxKind, TxModel, UartError, MAX_DIV, MIN_DIV,
};
use proptest::prelude::*;

/// A naive line: idle `lead` cycles, then each byte as ten bits of `div` cycles, then idle.
fn naive_line(div: u32, lead: usize, bytes: &[u8], tail: usize) -> Vec<bool> {
    let mut v = vec![true; lead];
    for &b in bytes {
        let mut bits = vec![false];
        bits.extend((0..8).map(|i| (b >> i) & 1 == 1));
        bits.push(true);
        for bit in bits {
            v.extend(std::iter::repeat_n(bit, div as usize));
        }
    }
    v.extend(std::iter::repeat_n(true, tail));
    v
}

fn timing(div: u32) -> BitTiming {
    BitTiming::from_div(div as u64).unwrap()
}

fn bytes_of(events: &[RxEvent]) -> Vec<u8> {
    events
        .iter()
        .map(|e| match e.kind {
            RxKind::Byte(b) => b,
            RxKind::FrameError => panic!("unexpected framing error: {e}"),
        })
        .collect()
}

#[test]
fn divisor_from_clock_and_baud() {
    // iCEBreaker: 12 MHz, 115200 baud -> 104 (115384.6 baud, +0.16%).
    assert_eq!(BitTiming::new(12_000_000, 115_200).unwrap().div, 104);
    // ULX3S: 25 MHz -> 217 (115207.4 baud, +0.0064%).
    assert_eq!(BitTiming::new(25_000_000, 115_200).unwrap().div, 217);
    assert_eq!(baud_error_ppm(25_000_000, 115_200, 217), 65);
    // 12 MHz / 1.8 Mbaud = 6.67 -> 7 -> 1714286 baud, 4.76% slow: refused, naming the parameter.
    let e = BitTiming::new(12_000_000, 1_800_000).unwrap_err();
    assert_eq!(
        e.to_string(),
        "uart: parameter `baud` = 1800000 at `clk_hz` = 12000000: div = 7 gives 1714286 baud, \
         an error of 4.7620% (allowed: at most 1%)"
    );
    assert!(matches!(e, UartError::BaudError { div: 7, .. }));
    // 1.7 Mbaud -> 7, +0.84%: accepted.
    assert_eq!(BitTiming::new(12_000_000, 1_700_000).unwrap().div, 7);
    assert_eq!(
        BitTiming::new(12_000_000, 4_000_000)
            .unwrap_err()
            .to_string(),
        "uart: parameter `baud` gives div = 3 (allowed: 4..=65535 clock cycles per bit)"
    );
    assert_eq!(
        BitTiming::from_div(3).unwrap_err().to_string(),
        "uart: parameter `div` gives div = 3 (allowed: 4..=65535 clock cycles per bit)"
    );
    assert!(BitTiming::from_div(MIN_DIV as u64).is_ok());
    assert!(BitTiming::from_div(MAX_DIV as u64).is_ok());
    assert!(BitTiming::from_div(MAX_DIV as u64 + 1).is_err());
    assert_eq!(
        BitTiming::new(0, 115_200).unwrap_err().to_string(),
        "uart: parameter `clk_hz` must be positive"
    );
    assert_eq!(
        BitTiming::new(12_000_000, 0).unwrap_err().to_string(),
        "uart: parameter `baud` must be positive"
    );
}

#[test]
fn tx_line_is_the_naive_frame_sequence() {
    for div in [4, 5, 7, 16, 104] {
        let bytes: Vec<u8> = (0..=255).step_by(37).collect();
        let cycles = 1 + bytes.len() * 10 * div as usize + 20;
        // Offered from cycle 0, taken in cycle 0: the first start bit is in cycle 1.
        let want = naive_line(div, 1, &bytes, 20);
        assert_eq!(tx_line(timing(div), &bytes, cycles), want, "div {div}");
    }
}

#[test]
fn tx_ready_only_when_idle_or_in_the_last_stop_cycle() {
    let div = 6;
    let mut m = TxModel::new(timing(div));
    // Byte taken in cycle 0; nothing offered afterwards.
    assert!(m.step(Some(0x5a)).in_ready);
    for t in 1..=10 * div as u64 {
        let c = m.step(None);
        assert_eq!(c.in_ready, t == 10 * div as u64, "cycle {t}");
    }
    let c = m.step(None);
    assert!(c.in_ready && c.tx, "idle after the frame");
}

#[test]
fn back_to_back_frames_are_reported_one_frame_apart() {
    for div in [4, 9, 104] {
        let bytes = [0x00, 0xff, 0x55, 0xaa, 0x01, 0x80];
        let cycles = 1 + bytes.len() * 10 * div as usize + 4 * div as usize;
        let line = tx_line(timing(div), &bytes, cycles);
        let ev = rx_events(timing(div), &line);
        assert_eq!(bytes_of(&ev), bytes, "div {div}");
        for (i, e) in ev.iter().enumerate() {
            // Frame i starts on the line in cycle 1 + i * frame.
            assert_eq!(
                e.cycle,
                1 + i as u64 * frame_cycles(div) + rx_latency(div),
                "div {div} frame {i}"
            );
        }
    }
}

#[test]
fn glitches_up_to_half_a_bit_are_ignored() {
    for div in [4, 5, 16, 104, 217] {
        for len in 1..=(div / 2) as usize {
            let mut line = vec![true; 50];
            line.extend(std::iter::repeat_n(false, len));
            line.extend(std::iter::repeat_n(true, 12 * div as usize));
            assert_eq!(rx_events(timing(div), &line), [], "div {div} glitch {len}");
        }
        // One cycle longer than half a bit is a start bit: the high line reads as 0xff.
        let len = (div / 2) as usize + 1;
        let mut line = vec![true; 50];
        line.extend(std::iter::repeat_n(false, len));
        line.extend(std::iter::repeat_n(true, 12 * div as usize));
        let ev = rx_events(timing(div), &line);
        assert_eq!(bytes_of(&ev), [0xff], "div {div}");
    }
}

#[test]
fn low_stop_bit_is_a_framing_error_and_the_receiver_recovers() {
    let div = 8;
    // A frame of 0x3c with its stop bit low, a bit of idle, then a good 0xa5.
    let mut line = naive_line(div, 20, &[0x3c], 0);
    let stop = line.len() - div as usize;
    for l in &mut line[stop..] {
        *l = false;
    }
    line.extend(std::iter::repeat_n(true, div as usize));
    let good_start = line.len();
    line.extend(naive_line(div, 0, &[0xa5], 3 * div as usize));
    let ev = rx_events(timing(div), &line);
    assert_eq!(
        ev,
        [
            RxEvent {
                cycle: 20 + rx_latency(div),
                kind: RxKind::FrameError
            },
            RxEvent {
                cycle: good_start as u64 + rx_latency(div),
                kind: RxKind::Byte(0xa5)
            },
        ]
    );
}

#[test]
fn break_gives_one_framing_error_and_no_bytes() {
    for div in [4, 13, 104] {
        let mut line = vec![true; 30];
        line.extend(std::iter::repeat_n(false, 35 * div as usize));
        line.extend(std::iter::repeat_n(true, 2 * div as usize));
        let after = line.len();
        line.extend(naive_line(div, 0, &[0x42], 2 * div as usize));
        let ev = rx_events(timing(div), &line);
        assert_eq!(
            ev,
            [
                RxEvent {
                    cycle: 30 + rx_latency(div),
                    kind: RxKind::FrameError
                },
                RxEvent {
                    cycle: after as u64 + rx_latency(div),
                    kind: RxKind::Byte(0x42)
                },
            ],
            "div {div}"
        );
    }
}

#[test]
fn rx_outputs_hold_data_between_pulses() {
    let ev = [
        RxEvent {
            cycle: 2,
            kind: RxKind::Byte(7),
        },
        RxEvent {
            cycle: 4,
            kind: RxKind::FrameError,
        },
    ];
    assert_eq!(
        rx_outputs(&ev, 6),
        [
            (false, 0, false),
            (false, 0, false),
            (true, 7, false),
            (false, 7, false),
            (false, 7, true),
            (false, 7, false)
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// tx -> rx round trip: every byte arrives, in order, with no framing error, when the
    /// receiver's clock is off by up to ±2% (the line resampled onto the receiver's clock).
    #[test]
    fn round_trip_with_clock_mismatch(
        div in 4u32..=240,
        bytes in proptest::collection::vec(any::<u8>(), 1..12),
        ppm in -20_000i64..=20_000,
        lead in 0usize..40,
    ) {
        let cycles = lead + bytes.len() * 10 * div as usize + 30 * div as usize;
        let mut line = vec![true; lead];
        line.extend(tx_line(timing(div), &bytes, cycles));
        // Receiver cycles per transmitter cycle: 1 + ppm / 1e6.
        let (num, den) = (1_000_000u64, (1_000_000 + ppm) as u64);
        let rx = resample(&line, num, den, cycles);
        let ev = rx_events(timing(div), &rx);
        prop_assert_eq!(bytes_of(&ev), bytes);
    }

    /// Idle gaps of any length between frames change nothing but the report cycles.
    #[test]
    fn idle_gaps_between_frames(
        div in 4u32..=64,
        frames in proptest::collection::vec((any::<u8>(), 0usize..100), 1..10),
    ) {
        let mut line = Vec::new();
        let mut starts = Vec::new();
        for &(b, gap) in &frames {
            line.extend(std::iter::repeat_n(true, gap));
            starts.push(line.len() as u64);
            line.extend(naive_line(div, 0, &[b], 0));
        }
        line.extend(std::iter::repeat_n(true, 2 * div as usize));
        let ev = rx_events(timing(div), &line);
        let want: Vec<RxEvent> = frames
            .iter()
            .zip(&starts)
            .map(|(&(b, _), &s)| RxEvent { cycle: s + rx_latency(div), kind: RxKind::Byte(b) })
            .collect();
        prop_assert_eq!(ev, want);
    }
}
