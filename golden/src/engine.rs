//! The golden engine (spec: `docs/protocol.md`): a state machine that consumes request bytes from
//! the UART and produces response bytes, executing commands on its memories with the golden ops
//! ([`crate::mac_array::tile`] with [`crate::requant`], [`crate::shiftmax`], [`crate::shiftgelu`],
//! [`crate::layernorm`]). The hardware engine must produce the same response bytes for the same
//! request bytes, idle periods and rx errors.
//!
//! Timing is not modelled: a request is executed and answered the moment its checksum byte
//! arrives. The host keeps to stop-and-wait (the next request only after the previous response).

use crate::layernorm::{layernorm_checked, SqrtMode};
use crate::mac_array::{tile, ColumnRequant};
use crate::protocol::{
    Cmd, FrameParser, ParseEvent, RawFrame, Response, Status, FLAG_DROPPED, FLAG_FRAMING,
    FLAG_OVERRUN, FLAG_SKIPPED, MAX_PAYLOAD, PROTOCOL_VERSION,
};
use crate::requant::{Rounding, C_MAX, M_MAX};
use crate::shiftgelu::shiftgelu_checked;
use crate::shiftmax::shiftmax_checked;

/// Memory ids (the `mem` byte of WRITE and READ).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Mem {
    /// `A`, int8, `rows x k_max`, address `i * k_max + k`.
    A = 0,
    /// `B`, int8, `k_max x cols`, address `k * cols + j`.
    B = 1,
    /// Per-column bias, int32, `cols`.
    Bias = 2,
    /// Per-column requantization multiplier `m`, uint32 in `0 ..= 2^31 - 1`, `cols`.
    M = 3,
    /// Per-column requantization shift `c`, uint8 in `0 ..= 62`, `cols`.
    Shift = 4,
    /// The row for ROW, int16, `row_max`.
    RowIn = 5,
    /// I-LayerNorm's `bias_int`, int32, `row_max`.
    LnBias = 6,
    /// MATMUL's result, int32, `rows x cols`, address `i * cols + j`; read-only.
    MmOut = 7,
    /// ROW's result, int32, `row_max`; read-only.
    RowOut = 8,
}

impl Mem {
    /// Every memory, in id order.
    pub const ALL: [Mem; 9] = [
        Mem::A,
        Mem::B,
        Mem::Bias,
        Mem::M,
        Mem::Shift,
        Mem::RowIn,
        Mem::LnBias,
        Mem::MmOut,
        Mem::RowOut,
    ];

    /// The memory with this id, if any.
    pub fn from_id(id: u8) -> Option<Mem> {
        Mem::ALL.into_iter().find(|m| *m as u8 == id)
    }

    /// The name used in docs and messages.
    pub fn name(&self) -> &'static str {
        match self {
            Mem::A => "A",
            Mem::B => "B",
            Mem::Bias => "BIAS",
            Mem::M => "M",
            Mem::Shift => "SHIFT",
            Mem::RowIn => "ROW_IN",
            Mem::LnBias => "LN_BIAS",
            Mem::MmOut => "MM_OUT",
            Mem::RowOut => "ROW_OUT",
        }
    }

    /// Bytes per element on the wire (little-endian).
    pub fn width(&self) -> usize {
        match self {
            Mem::A | Mem::B | Mem::Shift => 1,
            Mem::RowIn => 2,
            Mem::Bias | Mem::M | Mem::LnBias | Mem::MmOut | Mem::RowOut => 4,
        }
    }

    /// Whether elements are two's complement (sign-extended when read).
    pub fn signed(&self) -> bool {
        !matches!(self, Mem::M | Mem::Shift)
    }

    /// Whether WRITE is refused ([`Status::ReadOnly`]).
    pub fn read_only(&self) -> bool {
        matches!(self, Mem::MmOut | Mem::RowOut)
    }

    /// The values a WRITE may store (a wider value is [`Status::BadData`]).
    pub fn allowed(&self) -> (i64, i64) {
        match self {
            Mem::M => (0, M_MAX as i64),
            Mem::Shift => (0, C_MAX as i64),
            _ => {
                let bits = 8 * self.width() as u32;
                (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
            }
        }
    }

    /// The number of elements under a configuration.
    pub fn depth(&self, cfg: &EngineConfig) -> usize {
        match self {
            Mem::A => cfg.rows * cfg.k_max,
            Mem::B => cfg.k_max * cfg.cols,
            Mem::Bias | Mem::M | Mem::Shift => cfg.cols,
            Mem::RowIn | Mem::LnBias | Mem::RowOut => cfg.row_max,
            Mem::MmOut => cfg.rows * cfg.cols,
        }
    }

    /// One element from its little-endian bytes (`bytes.len() == width`).
    pub fn decode(&self, bytes: &[u8]) -> i64 {
        let mut le = [0u8; 8];
        le[..bytes.len()].copy_from_slice(bytes);
        let raw = u64::from_le_bytes(le);
        let bits = 8 * bytes.len() as u32;
        if self.signed() && bits < 64 && raw >> (bits - 1) & 1 == 1 {
            (raw | (u64::MAX << bits)) as i64
        } else {
            raw as i64
        }
    }

    /// One element as `width` little-endian bytes (the low bytes of its two's complement).
    pub fn encode(&self, v: i64) -> Vec<u8> {
        v.to_le_bytes()[..self.width()].to_vec()
    }
}

/// The nonlinear units (the `unit` byte of ROW; bit `unit` of INFO's `units` mask).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Unit {
    /// [`crate::shiftmax`].
    Shiftmax = 0,
    /// [`crate::shiftgelu`].
    Shiftgelu = 1,
    /// [`crate::layernorm`].
    Layernorm = 2,
}

impl Unit {
    /// Every unit, in code order.
    pub const ALL: [Unit; 3] = [Unit::Shiftmax, Unit::Shiftgelu, Unit::Layernorm];

    /// The unit with this code, if any.
    pub fn from_code(code: u8) -> Option<Unit> {
        Unit::ALL.into_iter().find(|u| *u as u8 == code)
    }

    /// The name used in docs, messages and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Unit::Shiftmax => "shiftmax",
            Unit::Shiftgelu => "shiftgelu",
            Unit::Layernorm => "layernorm",
        }
    }
}

/// The wire code of a rounding mode (MATMUL's `rounding` byte): half-even 0, half-up 1.
pub fn rounding_code(r: Rounding) -> u8 {
    match r {
        Rounding::HalfEven => 0,
        Rounding::HalfUp => 1,
    }
}

/// The wire code of a square root mode (ROW's `sqrt` byte for layernorm): ivit 0, exact 1.
pub fn sqrt_code(s: SqrtMode) -> u8 {
    match s {
        SqrtMode::Ivit => 0,
        SqrtMode::Exact => 1,
    }
}

/// The engine's configuration, as INFO reports it (`docs/protocol.md`, "INFO").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// MAC-array rows (1..=255).
    pub rows: usize,
    /// MAC-array columns (1..=255).
    pub cols: usize,
    /// Longest `K` of a tile (1..=65535).
    pub k_max: usize,
    /// Longest row of ROW (1..=65535).
    pub row_max: usize,
    /// Receive idle timeout in bit times (1..=65535).
    pub idle_bits: u64,
    /// MATMUL `out_bits` supported: bit 0 for 8, bit 1 for 16, bit 2 for 32 (raw int32).
    pub mm_out_bits: u8,
    /// MATMUL rounding modes supported: bit 0 half-even, bit 1 half-up.
    pub mm_roundings: u8,
    /// Units present: bit `u` for [`Unit`] code `u`.
    pub units: u8,
    /// Width of ROW's `x0`: accepted `-2^(x0_bits-1) ..= -1` (2..=16).
    pub x0_bits: u32,
    /// Shiftmax's `n` (fixed by the hardware).
    pub sm_n: u32,
    /// Shiftmax's `out_bits`, 8 or 16.
    pub sm_out_bits: u32,
    /// ShiftGELU's `n`.
    pub gelu_n: u32,
    /// I-LayerNorm's square root.
    pub ln_sqrt: SqrtMode,
}

/// The bytes of INFO's payload.
pub const INFO_LEN: usize = 19;
/// The bytes of STATUS's payload (seven 16-bit counters).
pub const STATUS_LEN: usize = 14;
/// The bytes of MATMUL's payload.
pub const MATMUL_LEN: usize = 4;
/// The bytes of ROW's payload.
pub const ROW_LEN: usize = 8;
/// The bytes of READ's payload.
pub const READ_LEN: usize = 5;
/// The bytes of WRITE's payload before the data.
pub const WRITE_HEADER: usize = 3;

/// A configuration outside what the protocol can describe.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("engine configuration: {0}")]
pub struct ConfigError(pub String);

impl Default for EngineConfig {
    /// A 4 x 4 array, `k_max = 256`, `row_max = 256`, every mode and unit, `x0_bits = 8`,
    /// Shiftmax `n = 15` to 16 bits, ShiftGELU `n = 23`, I-LayerNorm `ivit`, 4096-bit idle timeout.
    fn default() -> Self {
        EngineConfig {
            rows: 4,
            cols: 4,
            k_max: 256,
            row_max: 256,
            idle_bits: 4096,
            mm_out_bits: 0b111,
            mm_roundings: 0b11,
            units: 0b111,
            x0_bits: 8,
            sm_n: 15,
            sm_out_bits: 16,
            gelu_n: 23,
            ln_sqrt: SqrtMode::Ivit,
        }
    }
}

impl EngineConfig {
    /// Checks every field against the range INFO can carry and the units' limits:
    /// `n + x0_bits - 1 <= 31` for Shiftmax and ShiftGELU (outputs fit int32).
    pub fn check(&self) -> Result<(), ConfigError> {
        let err = |s: String| Err(ConfigError(s));
        for (name, v, max) in [
            ("rows", self.rows, 255),
            ("cols", self.cols, 255),
            ("k_max", self.k_max, 65535),
            ("row_max", self.row_max, 65535),
            ("idle_bits", self.idle_bits as usize, 65535),
        ] {
            if !(1..=max).contains(&v) {
                return err(format!("{name} = {v} out of range 1..={max}"));
            }
        }
        if self.mm_out_bits & !0b111 != 0 || self.mm_out_bits == 0 {
            return err(format!(
                "mm_out_bits mask = {:#b} (bits 0..=2, at least one)",
                self.mm_out_bits
            ));
        }
        if self.mm_roundings & !0b11 != 0 || self.mm_roundings == 0 {
            return err(format!(
                "mm_roundings mask = {:#b} (bits 0..=1, at least one)",
                self.mm_roundings
            ));
        }
        if self.units & !0b111 != 0 {
            return err(format!("units mask = {:#b} (bits 0..=2)", self.units));
        }
        if !(2..=16).contains(&self.x0_bits) {
            return err(format!("x0_bits = {} out of range 2..=16", self.x0_bits));
        }
        for (name, n) in [("sm_n", self.sm_n), ("gelu_n", self.gelu_n)] {
            if !(1..=30).contains(&n) || n + self.x0_bits - 1 > 31 {
                return err(format!(
                    "{name} = {n} out of range 1..=30 with {name} + x0_bits - 1 <= 31 (x0_bits = {})",
                    self.x0_bits
                ));
            }
        }
        if self.sm_out_bits != 8 && self.sm_out_bits != 16 {
            return err(format!(
                "sm_out_bits = {} not allowed (allowed: 8, 16)",
                self.sm_out_bits
            ));
        }
        Ok(())
    }

    /// INFO's payload (`docs/protocol.md`, "INFO").
    pub fn info_payload(&self) -> Vec<u8> {
        let mut p = vec![PROTOCOL_VERSION, self.rows as u8, self.cols as u8];
        p.extend((self.k_max as u16).to_le_bytes());
        p.extend((self.row_max as u16).to_le_bytes());
        p.extend((MAX_PAYLOAD as u16).to_le_bytes());
        p.extend((self.idle_bits as u16).to_le_bytes());
        p.extend([
            self.mm_out_bits,
            self.mm_roundings,
            self.units,
            self.x0_bits as u8,
            self.sm_n as u8,
            self.sm_out_bits as u8,
            self.gelu_n as u8,
            sqrt_code(self.ln_sqrt),
        ]);
        debug_assert_eq!(p.len(), INFO_LEN);
        p
    }

    /// A configuration from INFO's payload (the host side), checked; also returns the protocol
    /// version and the engine's maximum payload.
    pub fn from_info(p: &[u8]) -> Result<(EngineConfig, u8, usize), ConfigError> {
        if p.len() != INFO_LEN {
            return Err(ConfigError(format!(
                "INFO payload has {} bytes, expected {INFO_LEN}",
                p.len()
            )));
        }
        let u16_at = |i: usize| u16::from_le_bytes([p[i], p[i + 1]]) as usize;
        let ln_sqrt = match p[18] {
            0 => SqrtMode::Ivit,
            1 => SqrtMode::Exact,
            s => return Err(ConfigError(format!("ln_sqrt code {s} (allowed: 0, 1)"))),
        };
        let cfg = EngineConfig {
            rows: p[1] as usize,
            cols: p[2] as usize,
            k_max: u16_at(3),
            row_max: u16_at(5),
            idle_bits: u16_at(9) as u64,
            mm_out_bits: p[11],
            mm_roundings: p[12],
            units: p[13],
            x0_bits: p[14] as u32,
            sm_n: p[15] as u32,
            sm_out_bits: p[16] as u32,
            gelu_n: p[17] as u32,
            ln_sqrt,
        };
        cfg.check()?;
        Ok((cfg, p[0], u16_at(7)))
    }

    /// Whether MATMUL accepts this `out_bits` (8, 16 or 32).
    pub fn supports_out_bits(&self, bits: u32) -> bool {
        let bit = match bits {
            8 => 0,
            16 => 1,
            32 => 2,
            _ => return false,
        };
        self.mm_out_bits >> bit & 1 == 1
    }

    /// Whether MATMUL accepts this rounding mode.
    pub fn supports_rounding(&self, r: Rounding) -> bool {
        self.mm_roundings >> rounding_code(r) & 1 == 1
    }

    /// Whether the unit is present.
    pub fn has_unit(&self, u: Unit) -> bool {
        self.units >> (u as u8) & 1 == 1
    }

    /// The least `x0` ROW accepts: `-2^(x0_bits-1)`.
    pub fn x0_min(&self) -> i64 {
        -(1i64 << (self.x0_bits - 1))
    }
}

/// The engine's error counters (STATUS), each saturating at 65535.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames with a matching checksum.
    pub frames_ok: u16,
    /// Frames discarded for a checksum mismatch.
    pub bad_crc: u16,
    /// Headers discarded for `len > MAX_PAYLOAD`.
    pub too_long: u16,
    /// Partial frames discarded by the idle timeout (or by an rx error inside a frame).
    pub dropped: u16,
    /// Rx overruns.
    pub overruns: u16,
    /// Rx framing errors.
    pub framing: u16,
    /// Bytes skipped while hunting for the sync byte.
    pub skipped: u16,
}

impl Counters {
    /// STATUS's payload: the seven counters, in field order, 16-bit little-endian.
    pub fn payload(&self) -> Vec<u8> {
        [
            self.frames_ok,
            self.bad_crc,
            self.too_long,
            self.dropped,
            self.overruns,
            self.framing,
            self.skipped,
        ]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect()
    }

    /// From STATUS's payload (host side); `None` when it is not [`STATUS_LEN`] bytes.
    pub fn from_payload(p: &[u8]) -> Option<Counters> {
        if p.len() != STATUS_LEN {
            return None;
        }
        let v = |i: usize| u16::from_le_bytes([p[2 * i], p[2 * i + 1]]);
        Some(Counters {
            frames_ok: v(0),
            bad_crc: v(1),
            too_long: v(2),
            dropped: v(3),
            overruns: v(4),
            framing: v(5),
            skipped: v(6),
        })
    }
}

fn bump(c: &mut u16) {
    *c = c.saturating_add(1);
}

/// The golden engine: request bytes in, response bytes out (module doc).
#[derive(Clone, Debug)]
pub struct Engine {
    cfg: EngineConfig,
    parser: FrameParser,
    mems: Vec<Vec<i64>>,
    flags: u8,
    counters: Counters,
    out: Vec<u8>,
}

type Outcome = Result<Vec<u8>, Status>;

impl Engine {
    /// An engine with every memory zero, flags and counters clear.
    pub fn new(cfg: EngineConfig) -> Result<Engine, ConfigError> {
        cfg.check()?;
        let mems = Mem::ALL.iter().map(|m| vec![0; m.depth(&cfg)]).collect();
        Ok(Engine {
            parser: FrameParser::requests(cfg.idle_bits),
            cfg,
            mems,
            flags: 0,
            counters: Counters::default(),
            out: Vec::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// A memory's elements.
    pub fn mem(&self, m: Mem) -> &[i64] {
        &self.mems[m as usize]
    }

    /// The counters STATUS reports.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The flags the next response will carry.
    pub fn pending_flags(&self) -> u8 {
        self.flags
    }

    /// Takes the response bytes produced so far.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// One byte from the UART receiver.
    pub fn feed(&mut self, byte: u8) {
        let ev = self.parser.push(byte);
        self.handle(ev);
    }

    /// Several bytes, back to back.
    pub fn feed_all(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.feed(b);
        }
    }

    /// `bit_times` bit times of line idle (see [`FrameParser::idle`]).
    pub fn idle(&mut self, bit_times: u64) {
        let ev = self.parser.idle(bit_times);
        self.handle(ev);
    }

    /// The UART receiver reports an overrun (a byte lost): flag, count, and discard a partial frame.
    pub fn rx_overrun(&mut self) {
        self.flags |= FLAG_OVERRUN;
        bump(&mut self.counters.overruns);
        let ev = self.parser.abort();
        self.handle(ev);
    }

    /// The UART receiver reports a framing error: flag, count, and discard a partial frame.
    pub fn rx_framing_error(&mut self) {
        self.flags |= FLAG_FRAMING;
        bump(&mut self.counters.framing);
        let ev = self.parser.abort();
        self.handle(ev);
    }

    fn handle(&mut self, ev: Option<ParseEvent>) {
        let Some(ev) = ev else { return };
        match ev {
            ParseEvent::Skipped(_) => {
                self.flags |= FLAG_SKIPPED;
                bump(&mut self.counters.skipped);
            }
            ParseEvent::Dropped { .. } => {
                self.flags |= FLAG_DROPPED;
                bump(&mut self.counters.dropped);
            }
            ParseEvent::TooLong { fields, .. } => {
                bump(&mut self.counters.too_long);
                self.respond(fields[0], fields[1], Err(Status::BadLength));
            }
            ParseEvent::BadCrc { fields, .. } => {
                bump(&mut self.counters.bad_crc);
                self.respond(fields[0], fields[1], Err(Status::BadCrc));
            }
            ParseEvent::Frame(f) => {
                bump(&mut self.counters.frames_ok);
                let outcome = self.execute(&f);
                self.respond(f.fields[0], f.fields[1], outcome);
            }
        }
    }

    fn respond(&mut self, cmd: u8, seq: u8, outcome: Outcome) {
        let (status, payload) = match outcome {
            Ok(p) => (Status::Ok, p),
            Err(s) => (s, Vec::new()),
        };
        let r = Response {
            cmd,
            seq,
            status: status as u8,
            flags: self.flags,
            payload,
        };
        self.flags = 0;
        // Every payload built by `execute` is at most MAX_PAYLOAD bytes (READ checks it).
        let bytes = r.encode().expect("response payload within MAX_PAYLOAD");
        self.out.extend(bytes);
    }

    fn execute(&mut self, f: &RawFrame) -> Outcome {
        let p = &f.payload;
        let Some(cmd) = Cmd::from_code(f.fields[0]) else {
            return Err(Status::UnknownCmd);
        };
        let want_len = |n: usize| {
            if p.len() == n {
                Ok(())
            } else {
                Err(Status::BadLength)
            }
        };
        match cmd {
            Cmd::Ping => Ok(p.clone()),
            Cmd::Info => {
                want_len(0)?;
                Ok(self.cfg.info_payload())
            }
            Cmd::Status => {
                want_len(0)?;
                Ok(self.counters.payload())
            }
            Cmd::Write => self.write(p),
            Cmd::Read => {
                want_len(READ_LEN)?;
                self.read(p)
            }
            Cmd::Matmul => {
                want_len(MATMUL_LEN)?;
                self.matmul(p)
            }
            Cmd::Row => {
                want_len(ROW_LEN)?;
                self.row(p)
            }
        }
    }

    fn range(&self, mem: Mem, addr: usize, count: usize) -> Result<std::ops::Range<usize>, Status> {
        if count == 0 || addr + count > mem.depth(&self.cfg) {
            return Err(Status::BadAddr);
        }
        Ok(addr..addr + count)
    }

    fn write(&mut self, p: &[u8]) -> Outcome {
        if p.len() < WRITE_HEADER {
            return Err(Status::BadLength);
        }
        let mem = Mem::from_id(p[0]).ok_or(Status::BadMem)?;
        if mem.read_only() {
            return Err(Status::ReadOnly);
        }
        let data = &p[WRITE_HEADER..];
        if data.is_empty() || !data.len().is_multiple_of(mem.width()) {
            return Err(Status::BadLength);
        }
        let addr = u16::from_le_bytes([p[1], p[2]]) as usize;
        let range = self.range(mem, addr, data.len() / mem.width())?;
        let values: Vec<i64> = data.chunks(mem.width()).map(|c| mem.decode(c)).collect();
        let (lo, hi) = mem.allowed();
        if values.iter().any(|v| !(lo..=hi).contains(v)) {
            return Err(Status::BadData);
        }
        self.mems[mem as usize][range].copy_from_slice(&values);
        Ok(Vec::new())
    }

    fn read(&self, p: &[u8]) -> Outcome {
        let mem = Mem::from_id(p[0]).ok_or(Status::BadMem)?;
        let addr = u16::from_le_bytes([p[1], p[2]]) as usize;
        let count = u16::from_le_bytes([p[3], p[4]]) as usize;
        let range = self.range(mem, addr, count)?;
        if count * mem.width() > MAX_PAYLOAD {
            return Err(Status::BadLength);
        }
        Ok(self.mems[mem as usize][range]
            .iter()
            .flat_map(|&v| mem.encode(v))
            .collect())
    }

    fn matmul(&mut self, p: &[u8]) -> Outcome {
        let k = u16::from_le_bytes([p[0], p[1]]) as usize;
        let out_bits = p[2] as u32;
        let rounding = match p[3] {
            0 => Rounding::HalfEven,
            1 => Rounding::HalfUp,
            _ => return Err(Status::BadParam),
        };
        if !(1..=self.cfg.k_max).contains(&k)
            || !self.cfg.supports_out_bits(out_bits)
            || !self.cfg.supports_rounding(rounding)
        {
            return Err(Status::BadParam);
        }
        let (rows, cols, k_max) = (self.cfg.rows, self.cfg.cols, self.cfg.k_max);
        let to_i32 = |v: &i64| *v as i32;
        let a_mem = self.mem(Mem::A);
        let a: Vec<Vec<i32>> = (0..rows)
            .map(|i| a_mem[i * k_max..i * k_max + k].iter().map(to_i32).collect())
            .collect();
        let b_mem = self.mem(Mem::B);
        let b: Vec<Vec<i32>> = (0..k)
            .map(|r| b_mem[r * cols..(r + 1) * cols].iter().map(to_i32).collect())
            .collect();
        let bias: Vec<i32> = self.mem(Mem::Bias).iter().map(to_i32).collect();
        let rq = (out_bits != 32).then(|| ColumnRequant {
            m: self.mem(Mem::M).iter().map(|&v| v as u32).collect(),
            c: self.mem(Mem::Shift).iter().map(|&v| v as u32).collect(),
            bits: out_bits,
            rounding,
        });
        let y = tile(&a, &b, &bias, rq.as_ref());
        let out = &mut self.mems[Mem::MmOut as usize];
        for (i, row) in y.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                out[i * cols + j] = v as i64;
            }
        }
        Ok(Vec::new())
    }

    fn row(&mut self, p: &[u8]) -> Outcome {
        let unit = Unit::from_code(p[0]).ok_or(Status::BadParam)?;
        let len = u16::from_le_bytes([p[1], p[2]]) as usize;
        let x0 = i16::from_le_bytes([p[3], p[4]]) as i64;
        let (n, out_bits, sqrt) = (p[5] as u32, p[6] as u32, p[7]);
        let cfg = &self.cfg;
        if !cfg.has_unit(unit) || !(1..=cfg.row_max).contains(&len) {
            return Err(Status::BadParam);
        }
        let params_ok = match unit {
            Unit::Shiftmax => {
                (cfg.x0_min()..=-1).contains(&x0)
                    && n == cfg.sm_n
                    && out_bits == cfg.sm_out_bits
                    && sqrt == 0
            }
            Unit::Shiftgelu => {
                (cfg.x0_min()..=-1).contains(&x0) && n == cfg.gelu_n && out_bits == 0 && sqrt == 0
            }
            Unit::Layernorm => x0 == 0 && n == 0 && out_bits == 0 && sqrt == sqrt_code(cfg.ln_sqrt),
        };
        if !params_ok {
            return Err(Status::BadParam);
        }
        let x: Vec<i32> = self.mem(Mem::RowIn)[..len]
            .iter()
            .map(|&v| v as i32)
            .collect();
        let y = match unit {
            Unit::Shiftmax => shiftmax_checked(&x, x0, n, out_bits).map_err(|_| Status::BadData),
            Unit::Shiftgelu => shiftgelu_checked(&x, x0, n).map_err(|_| Status::BadData),
            Unit::Layernorm => {
                let bias: Vec<i32> = self.mem(Mem::LnBias)[..len]
                    .iter()
                    .map(|&v| v as i32)
                    .collect();
                layernorm_checked(&x, &bias, cfg.ln_sqrt).map_err(|_| Status::BadData)
            }
        }?;
        self.mems[Mem::RowOut as usize][..len].copy_from_slice(&y);
        Ok(Vec::new())
    }
}
