//! The host driver of the engine protocol (docs/protocol.md): typed calls, every response checked
//! (sync, checksum, command and sequence echo, status, payload length), retries only where the
//! protocol says a repeat is safe.
use std::fmt;
use std::time::{Duration, Instant};

use golden::engine::{
    rounding_code, sqrt_code, Counters, EngineConfig, Mem, Unit, INFO_LEN, MATMUL_LEN, READ_LEN,
    ROW_LEN, STATUS_LEN, WRITE_HEADER,
};
use golden::protocol::{
    flag_names, Cmd, FrameParser, ParseEvent, Request, Response, Status, MAX_PAYLOAD,
};
use golden::requant::Rounding;

use crate::transport::Transport;

/// Why a driver call failed.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The engine answered with a non-OK status that a repeat cannot fix.
    #[error("{cmd} {what}: engine answered {status}")]
    Status {
        /// The command.
        cmd: &'static str,
        /// What the call was doing (memory, address, parameters).
        what: String,
        /// The status.
        status: Status,
    },
    /// A status byte the protocol does not define.
    #[error("{cmd}: engine answered with unknown status byte 0x{code:02x}")]
    UnknownStatus {
        /// The command.
        cmd: &'static str,
        /// The byte.
        code: u8,
    },
    /// An OK response whose payload is not what the command returns.
    #[error("{cmd}: response payload has {got} bytes, expected {want}")]
    PayloadLength {
        /// The command.
        cmd: &'static str,
        /// Bytes received.
        got: usize,
        /// Bytes expected.
        want: usize,
    },
    /// PING came back different.
    #[error("PING: echo differs from what was sent ({sent} bytes sent, {got} received)")]
    Echo {
        /// Bytes sent.
        sent: usize,
        /// Bytes received.
        got: usize,
    },
    /// INFO's payload is not a valid configuration.
    #[error("INFO: {0}")]
    Info(String),
    /// Every attempt failed with a retryable problem.
    #[error("{cmd}: no valid response after {attempts} attempts (last: {last})")]
    GaveUp {
        /// The command.
        cmd: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The last attempt's problem.
        last: String,
    },
    /// A call outside what the engine's configuration allows, refused before sending.
    #[error("{0}")]
    Usage(String),
    /// The transport failed.
    #[error("transport: {0:#}")]
    Transport(anyhow::Error),
}

/// A retryable problem with one attempt.
enum Attempt {
    Timeout,
    CorruptResponse(String),
    Nak,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attempt::Timeout => f.write_str("no response before the timeout"),
            Attempt::CorruptResponse(s) => write!(f, "corrupted response ({s})"),
            Attempt::Nak => f.write_str("engine answered BAD_CRC (request garbled on the line)"),
        }
    }
}

/// The link events the driver saw; reported by `itx run`, never dropped.
#[derive(Clone, Debug, Default)]
pub struct LinkLog {
    /// Requests repeated, with the reason.
    pub retries: Vec<String>,
    /// Responses whose `flags` were not zero: the command and the flag names.
    pub flags: Vec<String>,
    /// Well-formed responses that answered no outstanding request (skipped).
    pub stray: usize,
    /// Bytes skipped while hunting for a response's sync byte.
    pub skipped: usize,
}

/// The parameters of one ROW command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowOp {
    /// The unit.
    pub unit: Unit,
    /// Row length.
    pub len: usize,
    /// `x0` (Shiftmax, ShiftGELU; 0 for I-LayerNorm).
    pub x0: i64,
}

/// The host side of the protocol over one transport.
pub struct Driver {
    t: Box<dyn Transport>,
    seq: u8,
    timeout: Duration,
    retries: u32,
    parser: FrameParser,
    cfg: Option<EngineConfig>,
    /// What the link did.
    pub log: LinkLog,
}

impl Driver {
    /// A driver that waits `timeout` for each response and repeats a request at most `retries`
    /// times.
    pub fn new(t: Box<dyn Transport>, timeout: Duration, retries: u32) -> Driver {
        Driver {
            t,
            seq: 0,
            timeout,
            retries,
            // The host parser's idle rule is not used (the host has its response timeout).
            parser: FrameParser::responses(u64::MAX),
            cfg: None,
            log: LinkLog::default(),
        }
    }

    /// One request and its checked response payload (status OK), with the documented retries:
    /// on BAD_CRC, on a corrupted response, and on a timeout, each time with a fresh sequence
    /// number. Every command is idempotent, so a repeat is harmless.
    fn transact(&mut self, cmd: Cmd, payload: &[u8], what: &str) -> Result<Vec<u8>, DriverError> {
        let label = if what.is_empty() {
            cmd.name().to_string()
        } else {
            format!("{} {what}", cmd.name())
        };
        let mut last = Attempt::Timeout;
        for attempt in 0..=self.retries {
            if attempt > 0 {
                self.log.retries.push(format!("{label}: {last}"));
            }
            self.seq = self.seq.wrapping_add(1);
            let req = Request {
                cmd: cmd as u8,
                seq: self.seq,
                payload: payload.to_vec(),
            };
            let bytes = req
                .encode()
                .map_err(|e| DriverError::Usage(format!("{} {what}: {e}", cmd.name())))?;
            self.t.write_all(&bytes).map_err(DriverError::Transport)?;
            match self.await_response(cmd, self.seq)? {
                Ok(r) => {
                    if r.flags != 0 {
                        self.log
                            .flags
                            .push(format!("{label}: flags {}", flag_names(r.flags)));
                    }
                    match Status::from_code(r.status) {
                        Some(Status::Ok) => return Ok(r.payload),
                        Some(Status::BadCrc) => last = Attempt::Nak,
                        Some(status) => {
                            return Err(DriverError::Status {
                                cmd: cmd.name(),
                                what: what.to_string(),
                                status,
                            })
                        }
                        None => {
                            return Err(DriverError::UnknownStatus {
                                cmd: cmd.name(),
                                code: r.status,
                            })
                        }
                    }
                }
                Err(a) => last = a,
            }
        }
        Err(DriverError::GaveUp {
            cmd: cmd.name(),
            attempts: self.retries + 1,
            last: last.to_string(),
        })
    }

    /// Reads until the response to (`cmd`, `seq`) arrives, a corrupted frame arrives, or the
    /// timeout passes. Responses to other requests are counted as stray and skipped.
    fn await_response(
        &mut self,
        cmd: Cmd,
        seq: u8,
    ) -> Result<Result<Response, Attempt>, DriverError> {
        let deadline = Instant::now() + self.timeout;
        let mut buf = [0u8; 512];
        loop {
            let now = Instant::now();
            if now >= deadline {
                self.parser = FrameParser::responses(u64::MAX);
                return Ok(Err(Attempt::Timeout));
            }
            let n = self
                .t
                .read(&mut buf, deadline - now)
                .map_err(DriverError::Transport)?;
            if n == 0 {
                self.parser = FrameParser::responses(u64::MAX);
                return Ok(Err(Attempt::Timeout));
            }
            for (i, &b) in buf[..n].iter().enumerate() {
                match self.parser.push(b) {
                    None => {}
                    Some(ParseEvent::Skipped(_)) => self.log.skipped += 1,
                    Some(ParseEvent::Frame(f)) => {
                        let r = f.response();
                        if r.cmd == cmd as u8 && r.seq == seq {
                            if i + 1 < n {
                                // Bytes after our response: the engine sent more than one
                                // response to one request.
                                self.log.stray += 1;
                            }
                            return Ok(Ok(r));
                        }
                        self.log.stray += 1;
                    }
                    Some(ParseEvent::BadCrc {
                        computed, received, ..
                    }) => {
                        return Ok(Err(Attempt::CorruptResponse(format!(
                            "checksum 0x{received:02x}, computed 0x{computed:02x}"
                        ))))
                    }
                    Some(ParseEvent::TooLong { len, .. }) => {
                        return Ok(Err(Attempt::CorruptResponse(format!(
                            "length {len} above {MAX_PAYLOAD}"
                        ))))
                    }
                    Some(ParseEvent::Dropped { .. }) => {}
                }
            }
        }
    }

    fn expect_len(cmd: Cmd, p: &[u8], want: usize) -> Result<(), DriverError> {
        if p.len() != want {
            return Err(DriverError::PayloadLength {
                cmd: cmd.name(),
                got: p.len(),
                want,
            });
        }
        Ok(())
    }

    /// PING with `data`; checks the echo.
    pub fn ping(&mut self, data: &[u8]) -> Result<(), DriverError> {
        let p = self.transact(Cmd::Ping, data, &format!("{} bytes", data.len()))?;
        if p != data {
            return Err(DriverError::Echo {
                sent: data.len(),
                got: p.len(),
            });
        }
        Ok(())
    }

    /// INFO: the engine's configuration (kept for the calls that follow), the protocol version and
    /// the engine's maximum payload.
    pub fn info(&mut self) -> Result<(EngineConfig, u8, usize), DriverError> {
        let p = self.transact(Cmd::Info, &[], "")?;
        Self::expect_len(Cmd::Info, &p, INFO_LEN)?;
        let (cfg, version, max) =
            EngineConfig::from_info(&p).map_err(|e| DriverError::Info(e.to_string()))?;
        if version != golden::protocol::PROTOCOL_VERSION || max != MAX_PAYLOAD {
            return Err(DriverError::Info(format!(
                "engine speaks protocol version {version} with payloads up to {max} bytes; this driver speaks version {} with {MAX_PAYLOAD}",
                golden::protocol::PROTOCOL_VERSION
            )));
        }
        self.cfg = Some(cfg.clone());
        Ok((cfg, version, max))
    }

    /// STATUS: the engine's error counters.
    pub fn status(&mut self) -> Result<Counters, DriverError> {
        let p = self.transact(Cmd::Status, &[], "")?;
        Self::expect_len(Cmd::Status, &p, STATUS_LEN)?;
        Ok(Counters::from_payload(&p).expect("length checked"))
    }

    /// The configuration from INFO (asked for once).
    pub fn config(&mut self) -> Result<EngineConfig, DriverError> {
        match &self.cfg {
            Some(c) => Ok(c.clone()),
            None => Ok(self.info()?.0),
        }
    }

    /// Writes `values` at element `addr` of `mem`, in as many WRITE frames as needed.
    pub fn write_mem(&mut self, mem: Mem, addr: usize, values: &[i64]) -> Result<(), DriverError> {
        let per = (MAX_PAYLOAD - WRITE_HEADER) / mem.width();
        for (i, chunk) in values.chunks(per).enumerate() {
            let at = addr + i * per;
            let at16 = u16::try_from(at).map_err(|_| {
                DriverError::Usage(format!("WRITE {}: address {at} above 65535", mem.name()))
            })?;
            let mut p = vec![mem as u8];
            p.extend(at16.to_le_bytes());
            for &v in chunk {
                p.extend(mem.encode(v));
            }
            let what = format!("{}[{at}..{}]", mem.name(), at + chunk.len());
            let r = self.transact(Cmd::Write, &p, &what)?;
            Self::expect_len(Cmd::Write, &r, 0)?;
        }
        Ok(())
    }

    /// Reads `count` elements at element `addr` of `mem`, in as many READ frames as needed.
    pub fn read_mem(
        &mut self,
        mem: Mem,
        addr: usize,
        count: usize,
    ) -> Result<Vec<i64>, DriverError> {
        let per = MAX_PAYLOAD / mem.width();
        let mut out = Vec::with_capacity(count);
        let mut at = addr;
        while at < addr + count {
            let n = per.min(addr + count - at);
            let at16 = u16::try_from(at).map_err(|_| {
                DriverError::Usage(format!("READ {}: address {at} above 65535", mem.name()))
            })?;
            let mut p = vec![mem as u8];
            p.extend(at16.to_le_bytes());
            p.extend((n as u16).to_le_bytes());
            debug_assert_eq!(p.len(), READ_LEN);
            let what = format!("{}[{at}..{}]", mem.name(), at + n);
            let r = self.transact(Cmd::Read, &p, &what)?;
            Self::expect_len(Cmd::Read, &r, n * mem.width())?;
            out.extend(r.chunks(mem.width()).map(|c| mem.decode(c)));
            at += n;
        }
        Ok(out)
    }

    /// MATMUL over the first `k` columns of A / rows of B, to `out_bits` (8, 16: requantized with
    /// `rounding`; 32: raw).
    pub fn matmul(
        &mut self,
        k: usize,
        out_bits: u32,
        rounding: Rounding,
    ) -> Result<(), DriverError> {
        let mut p = (k as u16).to_le_bytes().to_vec();
        p.extend([out_bits as u8, rounding_code(rounding)]);
        debug_assert_eq!(p.len(), MATMUL_LEN);
        let what = format!("k={k} out_bits={out_bits} rounding={rounding}");
        let r = self.transact(Cmd::Matmul, &p, &what)?;
        Self::expect_len(Cmd::Matmul, &r, 0)
    }

    /// ROW: one row of ROW_IN through a unit, with the unit's constants from INFO.
    pub fn row(&mut self, op: RowOp) -> Result<(), DriverError> {
        let cfg = self.config()?;
        let (n, out_bits, sqrt) = match op.unit {
            Unit::Shiftmax => (cfg.sm_n, cfg.sm_out_bits, 0),
            Unit::Shiftgelu => (cfg.gelu_n, 0, 0),
            Unit::Layernorm => (0, 0, sqrt_code(cfg.ln_sqrt)),
        };
        let x0 = i16::try_from(op.x0)
            .map_err(|_| DriverError::Usage(format!("ROW: x0 = {} is not int16", op.x0)))?;
        let mut p = vec![op.unit as u8];
        p.extend((op.len as u16).to_le_bytes());
        p.extend(x0.to_le_bytes());
        p.extend([n as u8, out_bits as u8, sqrt]);
        debug_assert_eq!(p.len(), ROW_LEN);
        let what = format!("{} len={} x0={}", op.unit.name(), op.len, op.x0);
        let r = self.transact(Cmd::Row, &p, &what)?;
        Self::expect_len(Cmd::Row, &r, 0)
    }
}
