//! The engine's UART protocol (spec: `docs/protocol.md`): frames, the checksum, and the streaming
//! frame parser with the exact resynchronisation and timeout rule the hardware engine implements.
//!
//! ```text
//! request  (host -> engine): 0xA5 | cmd | seq | len lo | len hi | payload[len] | crc8
//! response (engine -> host): 0x5A | cmd | seq | status | flags | len lo | len hi | payload[len] | crc8
//! ```
//! `crc8` is CRC-8 with polynomial `x^8 + x^2 + x + 1` (0x07), initial value 0, no reflection, no
//! final XOR (the catalogue's CRC-8/SMBUS; check value 0xF4 for ASCII `123456789`), over every byte
//! after the sync byte up to the last payload byte. Multi-byte fields are little-endian. `len` is at
//! most [`MAX_PAYLOAD`].
//!
//! The parser ([`FrameParser`]) is the same for both directions, with the direction's sync byte and
//! number of fixed header fields. Its rule, byte by byte:
//! - **hunt**: a byte other than the sync byte is skipped ([`ParseEvent::Skipped`]); the sync byte
//!   starts a frame;
//! - **header**: the fixed fields, then `len`; `len > MAX_PAYLOAD` ends the frame at once
//!   ([`ParseEvent::TooLong`]) and the parser hunts again from the next byte;
//! - **payload** (`len` bytes), then the **checksum** byte: a match gives [`ParseEvent::Frame`], a
//!   mismatch [`ParseEvent::BadCrc`]; either way the parser hunts again;
//! - **idle timeout**: inside a frame, once [`FrameParser::idle_bits`] bit times pass with no new
//!   byte, the partial frame is discarded ([`ParseEvent::Dropped`]) and the parser hunts again;
//! - an rx overrun or framing error ([`FrameParser::abort`]) discards a partial frame the same way.
//!
//! Bytes of a discarded frame that are still on the line are then hunted through like any garbage.

use std::fmt;

/// The first byte of every request frame.
pub const REQ_SYNC: u8 = 0xA5;
/// The first byte of every response frame.
pub const RESP_SYNC: u8 = 0x5A;
/// The longest payload of a frame in either direction, in bytes (the engine buffers one request
/// payload and checks its checksum before acting on it).
pub const MAX_PAYLOAD: usize = 256;
/// Fixed header fields after the sync byte and before `len`: `cmd`, `seq`.
pub const REQ_FIELDS: usize = 2;
/// Fixed header fields of a response: `cmd`, `seq`, `status`, `flags`.
pub const RESP_FIELDS: usize = 4;
/// Bytes of a request frame that are not payload: sync, cmd, seq, len (2), crc.
pub const REQ_OVERHEAD: usize = 1 + REQ_FIELDS + 2 + 1;
/// Bytes of a response frame that are not payload: sync, cmd, seq, status, flags, len (2), crc.
pub const RESP_OVERHEAD: usize = 1 + RESP_FIELDS + 2 + 1;
/// The protocol version INFO reports.
pub const PROTOCOL_VERSION: u8 = 1;
/// The CRC-8 generator polynomial (`x^8 + x^2 + x + 1`, the `x^8` term implied).
pub const CRC8_POLY: u8 = 0x07;

/// CRC-8, polynomial 0x07, initial value 0, MSB first, no final XOR, over `bytes`.
pub fn crc8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |crc, &b| crc8_update(crc, b))
}

/// One byte of [`crc8`], bit by bit as the hardware does it (MSB first).
pub fn crc8_update(crc: u8, byte: u8) -> u8 {
    let mut c = crc ^ byte;
    for _ in 0..8 {
        c = if c & 0x80 != 0 {
            (c << 1) ^ CRC8_POLY
        } else {
            c << 1
        };
    }
    c
}

/// Command codes (the `cmd` byte of a request, echoed in its response).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Cmd {
    /// Echo the payload back.
    Ping = 0x01,
    /// The engine's configuration.
    Info = 0x02,
    /// The error counters.
    Status = 0x03,
    /// Write elements into a memory.
    Write = 0x10,
    /// Read elements from a memory.
    Read = 0x11,
    /// One MAC-array tile with bias and optional requantization.
    Matmul = 0x20,
    /// One row through a nonlinear unit.
    Row = 0x21,
}

impl Cmd {
    /// Every command, in code order.
    pub const ALL: [Cmd; 7] = [
        Cmd::Ping,
        Cmd::Info,
        Cmd::Status,
        Cmd::Write,
        Cmd::Read,
        Cmd::Matmul,
        Cmd::Row,
    ];

    /// The command with this code, if any.
    pub fn from_code(code: u8) -> Option<Cmd> {
        Cmd::ALL.into_iter().find(|c| *c as u8 == code)
    }

    /// The name used in docs and messages: `"PING"`, `"INFO"`, ...
    pub fn name(&self) -> &'static str {
        match self {
            Cmd::Ping => "PING",
            Cmd::Info => "INFO",
            Cmd::Status => "STATUS",
            Cmd::Write => "WRITE",
            Cmd::Read => "READ",
            Cmd::Matmul => "MATMUL",
            Cmd::Row => "ROW",
        }
    }
}

/// The `status` byte of every response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Status {
    /// Done.
    Ok = 0x00,
    /// The request's checksum did not match: the frame was discarded unexecuted.
    BadCrc = 0x01,
    /// The `cmd` byte names no command.
    UnknownCmd = 0x02,
    /// `len` is wrong for the command, above [`MAX_PAYLOAD`], or the data is not whole elements.
    BadLength = 0x03,
    /// The memory id names no memory.
    BadMem = 0x04,
    /// The address range leaves the memory, or is empty.
    BadAddr = 0x05,
    /// A command parameter is outside what the engine's configuration accepts.
    BadParam = 0x06,
    /// A value in the data (WRITE) or in the memory (ROW) is outside the allowed range.
    BadData = 0x07,
    /// WRITE to a result memory.
    ReadOnly = 0x08,
}

impl Status {
    /// Every status, in code order.
    pub const ALL: [Status; 9] = [
        Status::Ok,
        Status::BadCrc,
        Status::UnknownCmd,
        Status::BadLength,
        Status::BadMem,
        Status::BadAddr,
        Status::BadParam,
        Status::BadData,
        Status::ReadOnly,
    ];

    /// The status with this code, if any.
    pub fn from_code(code: u8) -> Option<Status> {
        Status::ALL.into_iter().find(|s| *s as u8 == code)
    }

    /// The name used in docs and messages: `"OK"`, `"BAD_CRC"`, ...
    pub fn name(&self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::BadCrc => "BAD_CRC",
            Status::UnknownCmd => "UNKNOWN_CMD",
            Status::BadLength => "BAD_LENGTH",
            Status::BadMem => "BAD_MEM",
            Status::BadAddr => "BAD_ADDR",
            Status::BadParam => "BAD_PARAM",
            Status::BadData => "BAD_DATA",
            Status::ReadOnly => "READ_ONLY",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:02x})", self.name(), *self as u8)
    }
}

/// Response `flags` bit: an rx overrun (a byte lost) since the previous response.
pub const FLAG_OVERRUN: u8 = 0x01;
/// Response `flags` bit: an rx framing error (stop bit low) since the previous response.
pub const FLAG_FRAMING: u8 = 0x02;
/// Response `flags` bit: a partial frame was discarded by the idle timeout since the previous
/// response.
pub const FLAG_DROPPED: u8 = 0x04;
/// Response `flags` bit: bytes were skipped while hunting for the sync byte since the previous
/// response.
pub const FLAG_SKIPPED: u8 = 0x08;

/// The names of the set bits of a `flags` byte, e.g. `"OVERRUN|SKIPPED"` (`"-"` for none).
pub fn flag_names(flags: u8) -> String {
    let names: Vec<&str> = [
        (FLAG_OVERRUN, "OVERRUN"),
        (FLAG_FRAMING, "FRAMING"),
        (FLAG_DROPPED, "DROPPED"),
        (FLAG_SKIPPED, "SKIPPED"),
    ]
    .into_iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, n)| n)
    .collect();
    if names.is_empty() {
        "-".to_string()
    } else {
        names.join("|")
    }
}

/// Why a frame cannot be encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The payload is longer than [`MAX_PAYLOAD`].
    #[error("payload of {len} bytes is longer than the maximum {max}")]
    PayloadTooLong {
        /// The payload length.
        len: usize,
        /// [`MAX_PAYLOAD`].
        max: usize,
    },
}

fn encode(sync: u8, fields: &[u8], payload: &[u8]) -> Result<Vec<u8>, FrameError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(FrameError::PayloadTooLong {
            len: payload.len(),
            max: MAX_PAYLOAD,
        });
    }
    let mut out = Vec::with_capacity(fields.len() + payload.len() + 4);
    out.push(sync);
    out.extend_from_slice(fields);
    out.extend_from_slice(&(payload.len() as u16).to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc8(&out[1..]);
    out.push(crc);
    Ok(out)
}

/// A request frame (host -> engine). `cmd` is a raw byte so that unknown commands can be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The command code ([`Cmd`]).
    pub cmd: u8,
    /// The sequence number, echoed in the response.
    pub seq: u8,
    /// The payload, at most [`MAX_PAYLOAD`] bytes.
    pub payload: Vec<u8>,
}

impl Request {
    /// The frame's bytes: sync, header, payload, checksum.
    pub fn encode(&self) -> Result<Vec<u8>, FrameError> {
        encode(REQ_SYNC, &[self.cmd, self.seq], &self.payload)
    }
}

/// A response frame (engine -> host).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The request's command code, echoed.
    pub cmd: u8,
    /// The request's sequence number, echoed.
    pub seq: u8,
    /// The [`Status`] code.
    pub status: u8,
    /// `FLAG_*` bits: link events since the previous response.
    pub flags: u8,
    /// The payload, at most [`MAX_PAYLOAD`] bytes.
    pub payload: Vec<u8>,
}

impl Response {
    /// The frame's bytes: sync, header, payload, checksum.
    pub fn encode(&self) -> Result<Vec<u8>, FrameError> {
        encode(
            RESP_SYNC,
            &[self.cmd, self.seq, self.status, self.flags],
            &self.payload,
        )
    }
}

/// A frame with a matching checksum, as the parser saw it: the fixed header fields (`cmd`, `seq`
/// for a request; `cmd`, `seq`, `status`, `flags` for a response) and the payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFrame {
    /// The fixed header fields, in order.
    pub fields: Vec<u8>,
    /// The payload.
    pub payload: Vec<u8>,
}

impl RawFrame {
    /// As a request (the first two fields).
    pub fn request(&self) -> Request {
        Request {
            cmd: self.fields[0],
            seq: self.fields[1],
            payload: self.payload.clone(),
        }
    }

    /// As a response (the first four fields; missing ones read as 0).
    pub fn response(&self) -> Response {
        let f = |i: usize| self.fields.get(i).copied().unwrap_or(0);
        Response {
            cmd: f(0),
            seq: f(1),
            status: f(2),
            flags: f(3),
            payload: self.payload.clone(),
        }
    }
}

/// What one byte (or an idle period, or an abort) did to the parser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseEvent {
    /// A complete frame with a matching checksum.
    Frame(RawFrame),
    /// A byte skipped while hunting for the sync byte.
    Skipped(u8),
    /// A complete frame whose checksum did not match; discarded. The header fields are as
    /// received (they may be garbled).
    BadCrc {
        /// The header fields as received.
        fields: Vec<u8>,
        /// The checksum computed over the received bytes.
        computed: u8,
        /// The checksum byte received.
        received: u8,
    },
    /// A header whose `len` is above [`MAX_PAYLOAD`]; discarded at the header.
    TooLong {
        /// The header fields as received.
        fields: Vec<u8>,
        /// The `len` received.
        len: usize,
    },
    /// A partial frame discarded by the idle timeout or by [`FrameParser::abort`]; `received` bytes
    /// of it (sync byte included) had arrived.
    Dropped {
        /// Bytes of the frame received, sync byte included.
        received: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Hunt,
    Fields,
    LenLo,
    LenHi,
    Payload,
    Crc,
}

/// The streaming frame parser (module doc): one byte at a time, plus the passage of idle time.
#[derive(Clone, Debug)]
pub struct FrameParser {
    sync: u8,
    n_fields: usize,
    idle_bits: u64,
    state: State,
    fields: Vec<u8>,
    len: usize,
    payload: Vec<u8>,
    crc: u8,
    received: usize,
    quiet: u64,
}

impl FrameParser {
    /// A parser for frames starting with `sync` with `n_fields` fixed header bytes before `len`,
    /// which discards a partial frame after `idle_bits` bit times without a byte.
    pub fn new(sync: u8, n_fields: usize, idle_bits: u64) -> FrameParser {
        FrameParser {
            sync,
            n_fields,
            idle_bits,
            state: State::Hunt,
            fields: Vec::new(),
            len: 0,
            payload: Vec::new(),
            crc: 0,
            received: 0,
            quiet: 0,
        }
    }

    /// The engine's parser of requests.
    pub fn requests(idle_bits: u64) -> FrameParser {
        FrameParser::new(REQ_SYNC, REQ_FIELDS, idle_bits)
    }

    /// The host's parser of responses.
    pub fn responses(idle_bits: u64) -> FrameParser {
        FrameParser::new(RESP_SYNC, RESP_FIELDS, idle_bits)
    }

    /// The idle timeout, in bit times.
    pub fn idle_bits(&self) -> u64 {
        self.idle_bits
    }

    /// Whether a frame is in progress (a sync byte was taken and the frame has not ended).
    pub fn in_frame(&self) -> bool {
        self.state != State::Hunt
    }

    fn restart(&mut self) {
        self.state = State::Hunt;
        self.fields.clear();
        self.payload.clear();
        self.len = 0;
        self.crc = 0;
        self.received = 0;
    }

    /// Takes one received byte.
    pub fn push(&mut self, byte: u8) -> Option<ParseEvent> {
        self.quiet = 0;
        if self.state == State::Hunt {
            if byte != self.sync {
                return Some(ParseEvent::Skipped(byte));
            }
            self.restart();
            self.received = 1;
            self.state = if self.n_fields == 0 {
                State::LenLo
            } else {
                State::Fields
            };
            return None;
        }
        self.received += 1;
        if self.state != State::Crc {
            self.crc = crc8_update(self.crc, byte);
        }
        match self.state {
            State::Hunt => unreachable!("handled above"),
            State::Fields => {
                self.fields.push(byte);
                if self.fields.len() == self.n_fields {
                    self.state = State::LenLo;
                }
                None
            }
            State::LenLo => {
                self.len = byte as usize;
                self.state = State::LenHi;
                None
            }
            State::LenHi => {
                self.len |= (byte as usize) << 8;
                if self.len > MAX_PAYLOAD {
                    let ev = ParseEvent::TooLong {
                        fields: self.fields.clone(),
                        len: self.len,
                    };
                    self.restart();
                    return Some(ev);
                }
                self.state = if self.len == 0 {
                    State::Crc
                } else {
                    State::Payload
                };
                None
            }
            State::Payload => {
                self.payload.push(byte);
                if self.payload.len() == self.len {
                    self.state = State::Crc;
                }
                None
            }
            State::Crc => {
                let ev = if byte == self.crc {
                    ParseEvent::Frame(RawFrame {
                        fields: self.fields.clone(),
                        payload: std::mem::take(&mut self.payload),
                    })
                } else {
                    ParseEvent::BadCrc {
                        fields: self.fields.clone(),
                        computed: self.crc,
                        received: byte,
                    }
                };
                self.restart();
                Some(ev)
            }
        }
    }

    /// `bit_times` bit times pass with no byte received (counted from the end of the last byte's
    /// stop bit, adding up over calls until the next byte). Inside a frame, reaching
    /// [`idle_bits`](Self::idle_bits) discards it.
    pub fn idle(&mut self, bit_times: u64) -> Option<ParseEvent> {
        self.quiet = self.quiet.saturating_add(bit_times);
        if self.in_frame() && self.quiet >= self.idle_bits {
            return self.abort();
        }
        None
    }

    /// Discards a partial frame (after an rx overrun or framing error): [`ParseEvent::Dropped`]
    /// when a frame was in progress, `None` otherwise.
    pub fn abort(&mut self) -> Option<ParseEvent> {
        if !self.in_frame() {
            return None;
        }
        let received = self.received;
        self.restart();
        Some(ParseEvent::Dropped { received })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc8_check_value_of_the_catalogue() {
        // CRC-8/SMBUS (poly 0x07, init 0, no reflection, no xorout): check = 0xF4.
        assert_eq!(crc8(b"123456789"), 0xF4);
        assert_eq!(crc8(&[]), 0);
    }

    #[test]
    fn crc8_equals_polynomial_division() {
        // An independent formulation: the remainder of (message * x^8) mod (x^8 + x^2 + x + 1),
        // by long division over all bits of the message followed by 8 zero bits.
        fn by_division(bytes: &[u8]) -> u8 {
            let mut bits: Vec<u8> = bytes
                .iter()
                .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1))
                .collect();
            bits.extend([0; 8]);
            let poly = [1u8, 0, 0, 0, 0, 0, 1, 1, 1];
            for i in 0..bits.len() - 8 {
                if bits[i] == 1 {
                    for (j, p) in poly.iter().enumerate() {
                        bits[i + j] ^= p;
                    }
                }
            }
            bits[bits.len() - 8..]
                .iter()
                .fold(0, |acc, &b| (acc << 1) | b)
        }
        for msg in [
            &b""[..],
            b"\x00",
            b"\xff",
            b"\x01\x02\x03",
            b"hello world",
            b"\xa5\x5a",
        ] {
            assert_eq!(crc8(msg), by_division(msg), "{msg:?}");
        }
    }

    fn flip(msg: &[u8], bits: &[usize]) -> Vec<u8> {
        let mut m = msg.to_vec();
        for &b in bits {
            m[b / 8] ^= 0x80 >> (b % 8);
        }
        m
    }

    #[test]
    fn crc8_detects_what_docs_protocol_md_claims() {
        let msg: Vec<u8> = (0..40u32).map(|i| (i * 73 + 5) as u8).collect();
        let good = crc8(&msg);
        let nbits = msg.len() * 8;
        // Every burst of up to 8 bits (first and last bit of the burst flipped, any bits between).
        for start in 0..nbits {
            for pattern in 1u32..256 {
                let bits: Vec<usize> = (0..8)
                    .filter(|i| pattern >> i & 1 == 1)
                    .map(|i| start + i)
                    .filter(|&b| b < nbits)
                    .collect();
                if !bits.is_empty() {
                    assert_ne!(crc8(&flip(&msg, &bits)), good, "burst {bits:?}");
                }
            }
        }
        // Every pair of bits less than 127 apart; and a pair exactly 127 apart is missed (the
        // bound is tight).
        for a in 0..nbits {
            for b in a + 1..nbits.min(a + 127) {
                assert_ne!(crc8(&flip(&msg, &[a, b])), good, "bits {a}, {b}");
            }
        }
        assert_eq!(crc8(&flip(&msg, &[3, 130])), good);
        // Odd numbers of flipped bits, spread out.
        for a in (0..nbits).step_by(7) {
            let bits = [a, (a + 131) % nbits, (a + 262) % nbits];
            assert_ne!(crc8(&flip(&msg, &bits)), good, "bits {bits:?}");
        }
    }

    #[test]
    fn request_layout_is_sync_header_payload_crc() {
        let r = Request {
            cmd: 0x11,
            seq: 7,
            payload: vec![1, 2, 3],
        };
        let b = r.encode().unwrap();
        assert_eq!(&b[..8], &[0xA5, 0x11, 7, 3, 0, 1, 2, 3]);
        assert_eq!(b[8], crc8(&[0x11, 7, 3, 0, 1, 2, 3]));
        assert_eq!(b.len(), REQ_OVERHEAD + 3);
    }

    #[test]
    fn payload_above_the_maximum_is_refused() {
        let r = Request {
            cmd: 1,
            seq: 0,
            payload: vec![0; MAX_PAYLOAD + 1],
        };
        assert_eq!(
            r.encode().unwrap_err().to_string(),
            "payload of 257 bytes is longer than the maximum 256"
        );
    }
}
