//! `engine`: the UART-attached ITX engine, the hardware side of `docs/protocol.md` (version 1).
//!
//! Golden model: [`golden::engine::Engine`] (request bytes in, response bytes out). The engine
//! answers the same request bytes with the same response bytes; `testbench/tests/engine.rs`
//! checks it in RustHDL and Verilator, and `itx run --port exec:... selftest` runs the host driver
//! against the Verilator build.
//!
//! # Ports
//! | port    | dir | width | meaning |
//! |---------|-----|-------|---------|
//! | `clock` | in  | 1     | rising-edge clock |
//! | `reset` | in  | 1     | synchronous, active high: parser to hunt, flags and counters 0, units emptied (memories keep their contents, which are undefined after power-up) |
//! | `rx`    | in  | 1     | UART receive line, 8N1, asynchronous (synchronized inside) |
//! | `tx`    | out | 1     | UART transmit line, 8N1, a register, idle high |
//! | `busy`  | out | 1     | a command executes or a response is being sent (for a LED) |
//!
//! # Inside (one state machine, `st`)
//! 1. Receive ([`UartRx`]): hunt for `0xA5`, `cmd`, `seq`, `len`, the payload into a 256-byte
//!    buffer (its first 8 bytes also into registers: every command's parameters), the checksum
//!    byte; the bit-serial [`Crc8`] folds in every byte after the sync byte, the checksum byte
//!    included, so a good frame leaves 0. The WRITE data range checks (M below 2^31, SHIFT at
//!    most 62) are decided per byte as it arrives. An idle counter (bit times with the line high
//!    since the last byte) drops a partial frame after `idle_bits`; a framing error drops it too.
//!    A byte that arrives while a command runs or a response is sent is an overrun.
//! 2. Execute: the checks of `docs/protocol.md` in its order, in one cycle from the registers,
//!    then WRITE (payload buffer -> memory, elements assembled little-endian), MATMUL (below) or
//!    ROW (below); READ, INFO, STATUS and PING produce their payload while it is sent.
//! 3. Send ([`UartTx`]): header, payload, checksum, one byte at a time; the flags go out in the
//!    header and are cleared there.
//!
//! MATMUL: for each `k < K`, the column `A[0..R][k]` and the row `B[k][0..C]` are read from the
//! byte-wide memories into operand registers (two cycles per element) and offered to the
//! [`MacArray`] (`out_bits` 32: the array adds the bias); each result row it returns is taken
//! element by element, through one [`Requant`] (16 bits, the build's rounding; `out_bits` 8
//! saturates its result once more, which equals requantizing to 8 bits since the rounding is the
//! same) or as is, into MM_OUT. ROW: for Shiftmax and ShiftGELU a first pass checks that ROW_IN
//! holds int8 values (BAD_DATA otherwise, nothing written), then ROW_IN (and LN_BIAS) stream
//! into the unit while its outputs stream into ROW_OUT.
//!
//! # Memories
//! A and B are `2^AB x 8` block RAMs, ROW_IN `2^AB x 16`, LN_BIAS, ROW_OUT and MM_OUT
//! `2^AB x 32`; BIAS, M and SHIFT are registers (the array reads a whole row of them at once).
//! `AB` is the one address width, the bits of the largest of `rows * k_max`, `k_max * cols`,
//! `row_max`, `rows * cols` ([`address_bits`]).
//!
//! # Timing
//! Each request byte costs nothing beyond its UART time. A response starts a few cycles after
//! the request's checksum byte (MATMUL about `K * 2 * (R + C + 1) + R * C * 8` cycles, ROW about
//! `len * 4` plus the unit's row latency); then it is sent at the line rate, back to back.
//!
//! # Parameters and limits ([`EngineParams::check`])
//! `rows`, `cols` 1..=32 (the array's limit), `AB` 4..=10, the units' own limits (`row_max` is
//! their `max_len`), `x0_bits` 8 and `sm_out_bits` 16 (fixed), exactly one rounding
//! (`mm_roundings` 1 or 2: the requantizer's rounding is a generator parameter), every
//! `mm_out_bits`.
use rust_hdl::prelude::*;

use golden::engine::{EngineConfig, Mem, Unit};
use golden::layernorm::SqrtMode;
use golden::protocol::{Cmd, Status, FLAG_DROPPED, FLAG_FRAMING, FLAG_OVERRUN, FLAG_SKIPPED};
use golden::requant::Rounding;
use golden::uart::BitTiming;

use crate::crc8::Crc8;
use crate::layernorm::{LayerNorm, LayerNormParams};
use crate::mac_array::{MacArray, Product};
use crate::ports::{PortDut, PortIo};
use crate::requant::Requant;
use crate::shiftgelu::{Shiftgelu, ShiftgeluParams};
use crate::shiftmax::{Shiftmax, ShiftmaxParams};
use crate::stream::Field;
use crate::uart::{UartRx, UartTx};

/// The smallest and largest memory address width the engine is built for.
pub const AB_RANGE: std::ops::RangeInclusive<usize> = 4..=10;

/// What an engine is built from: the configuration INFO reports, the UART bit time, the array's
/// PE variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineParams {
    pub cfg: EngineConfig,
    pub timing: BitTiming,
    pub product: Product,
}

/// A parameter outside what the hardware engine supports, named.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("engine: {0}")]
pub struct EngineError(pub String);

/// The memory address width for a configuration: bits of the largest memory.
pub fn address_bits(cfg: &EngineConfig) -> usize {
    let deepest = [
        cfg.rows * cfg.k_max,
        cfg.k_max * cfg.cols,
        cfg.row_max,
        cfg.rows * cfg.cols,
    ]
    .into_iter()
    .max()
    .unwrap_or(1);
    (usize::BITS - (deepest.max(2) - 1).leading_zeros()) as usize
}

/// The golden engine's default configuration ([`EngineConfig::default`]: 4 x 4, `k_max` 256,
/// `row_max` 256, every unit) with the one rounding the hardware has (half-even).
pub fn hardware_default() -> EngineConfig {
    EngineConfig {
        mm_roundings: 0b01,
        ..EngineConfig::default()
    }
}

impl EngineParams {
    /// A configuration and a bit time, the PE variant `infer` ([`Product::Mac`]).
    pub fn new(cfg: EngineConfig, timing: BitTiming) -> Self {
        EngineParams {
            cfg,
            timing,
            product: Product::Mac,
        }
    }

    /// The requantizer's rounding (the one bit of `mm_roundings`).
    pub fn rounding(&self) -> Rounding {
        if self.cfg.mm_roundings == 0b10 {
            Rounding::HalfUp
        } else {
            Rounding::HalfEven
        }
    }

    /// Checks the configuration against the protocol and what this engine can build.
    pub fn check(&self) -> Result<usize, EngineError> {
        let c = &self.cfg;
        c.check().map_err(|e| EngineError(e.to_string()))?;
        let err = |s: String| Err(EngineError(s));
        for (name, v) in [("rows", c.rows), ("cols", c.cols)] {
            if v > crate::mac_array::MAX_DIM {
                return err(format!(
                    "{name} = {v} above the MAC array's limit {}",
                    crate::mac_array::MAX_DIM
                ));
            }
        }
        if c.mm_roundings != 0b01 && c.mm_roundings != 0b10 {
            return err(format!(
                "mm_roundings = {:#b}: the engine's requantizer has one rounding (0b01 half-even or 0b10 half-up)",
                c.mm_roundings
            ));
        }
        if c.mm_out_bits != 0b111 {
            return err(format!(
                "mm_out_bits = {:#b}: the engine supports 8, 16 and 32 (0b111)",
                c.mm_out_bits
            ));
        }
        if c.x0_bits != 8 {
            return err(format!(
                "x0_bits = {}: the engine is built for 8",
                c.x0_bits
            ));
        }
        if c.sm_out_bits != 16 {
            return err(format!(
                "sm_out_bits = {}: the engine is built for 16",
                c.sm_out_bits
            ));
        }
        let ab = address_bits(c);
        if !AB_RANGE.contains(&ab) {
            return err(format!(
                "the largest memory ({} elements) needs {ab} address bits; the engine supports {}..={} (rows * k_max, k_max * cols, row_max at most 1024)",
                1usize << ab.min(20),
                AB_RANGE.start(),
                AB_RANGE.end()
            ));
        }
        Ok(ab)
    }
}

// Parser and executor states.
const S_HUNT: u64 = 0;
const S_CMD: u64 = 1;
const S_SEQ: u64 = 2;
const S_LENL: u64 = 3;
const S_LENH: u64 = 4;
const S_PAY: u64 = 5;
const S_CRC: u64 = 6;
const S_CHK: u64 = 7;
const S_EXEC: u64 = 8;
const S_WR: u64 = 9;
const S_MM_A: u64 = 10;
const S_MM_B: u64 = 11;
const S_MM_BEAT: u64 = 12;
const S_MM_DRAIN: u64 = 13;
const S_MM_EL: u64 = 14;
const S_ROW_CHK: u64 = 15;
const S_ROW_RUN: u64 = 16;
const S_TXH: u64 = 17;
const S_TXP: u64 = 18;
const S_TXC: u64 = 19;

/// Counter indices (STATUS payload order).
const N_COUNTERS: usize = 7;

/// The engine (module doc). Build it with [`Engine::new`].
#[derive(LogicBlock)]
pub struct Engine<const AB: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub rx: Signal<In, Bit>,
    pub tx: Signal<Out, Bit>,
    pub busy: Signal<Out, Bit>,

    // ---- constants ----
    st_hunt: Constant<Bits<5>>,
    st_cmd: Constant<Bits<5>>,
    st_seq: Constant<Bits<5>>,
    st_lenl: Constant<Bits<5>>,
    st_lenh: Constant<Bits<5>>,
    st_pay: Constant<Bits<5>>,
    st_crc: Constant<Bits<5>>,
    st_chk: Constant<Bits<5>>,
    st_exec: Constant<Bits<5>>,
    st_wr: Constant<Bits<5>>,
    st_mm_a: Constant<Bits<5>>,
    st_mm_b: Constant<Bits<5>>,
    st_mm_beat: Constant<Bits<5>>,
    st_mm_drain: Constant<Bits<5>>,
    st_mm_el: Constant<Bits<5>>,
    st_row_chk: Constant<Bits<5>>,
    st_row_run: Constant<Bits<5>>,
    st_txh: Constant<Bits<5>>,
    st_txp: Constant<Bits<5>>,
    st_txc: Constant<Bits<5>>,
    sync_req: Constant<Bits<8>>,
    sync_resp: Constant<Bits<8>>,
    c_ping: Constant<Bits<8>>,
    c_info: Constant<Bits<8>>,
    c_status: Constant<Bits<8>>,
    c_write: Constant<Bits<8>>,
    c_read: Constant<Bits<8>>,
    c_matmul: Constant<Bits<8>>,
    c_row: Constant<Bits<8>>,
    s_ok: Constant<Bits<8>>,
    s_bad_crc: Constant<Bits<8>>,
    s_unknown: Constant<Bits<8>>,
    s_bad_len: Constant<Bits<8>>,
    s_bad_mem: Constant<Bits<8>>,
    s_bad_addr: Constant<Bits<8>>,
    s_bad_param: Constant<Bits<8>>,
    s_bad_data: Constant<Bits<8>>,
    s_read_only: Constant<Bits<8>>,
    f_overrun: Constant<Bits<4>>,
    f_framing: Constant<Bits<4>>,
    f_dropped: Constant<Bits<4>>,
    f_skipped: Constant<Bits<4>>,
    zero4: Constant<Bits<4>>,
    zero8: Constant<Bits<8>>,
    one8: Constant<Bits<8>>,
    two8: Constant<Bits<8>>,
    three8: Constant<Bits<8>>,
    four8: Constant<Bits<8>>,
    five8: Constant<Bits<8>>,
    six8: Constant<Bits<8>>,
    seven8: Constant<Bits<8>>,
    eight8: Constant<Bits<8>>,
    sixteen8: Constant<Bits<8>>,
    thirtytwo8: Constant<Bits<8>>,
    sixtytwo8: Constant<Bits<8>>,
    rows_m1: Constant<Bits<8>>,
    cols_m1: Constant<Bits<8>>,
    units_mask: Constant<Bits<8>>,
    rounding_mask: Constant<Bits<8>>,
    sm_n8: Constant<Bits<8>>,
    sm_ob8: Constant<Bits<8>>,
    gelu_n8: Constant<Bits<8>>,
    ln_sqrt8: Constant<Bits<8>>,
    zero2: Constant<Bits<2>>,
    two2: Constant<Bits<2>>,
    idx9: Vec<Constant<Bits<9>>>,
    two16: Constant<Bits<16>>,
    c24: Constant<Bits<16>>,
    one2: Constant<Bits<2>>,
    three2: Constant<Bits<2>>,
    zero9: Constant<Bits<9>>,
    one9: Constant<Bits<9>>,
    ones9: Constant<Bits<9>>,
    n_info9: Constant<Bits<9>>,
    n_status9: Constant<Bits<9>>,
    zero16: Constant<Bits<16>>,
    one16: Constant<Bits<16>>,
    three16: Constant<Bits<16>>,
    eight16: Constant<Bits<16>>,
    max_pay16: Constant<Bits<16>>,
    ffff16: Constant<Bits<16>>,
    div_m1: Constant<Bits<16>>,
    idle_bits: Constant<Bits<16>>,
    k_max16: Constant<Bits<16>>,
    row_max16: Constant<Bits<16>>,
    x0_min16: Constant<Bits<16>>,
    sat_pos8: Constant<Bits<16>>,
    sat_neg8: Constant<Bits<16>>,
    depth_a: Constant<Bits<17>>,
    depth_b: Constant<Bits<17>>,
    depth_col: Constant<Bits<17>>,
    depth_row: Constant<Bits<17>>,
    depth_mm: Constant<Bits<17>>,
    max_pay18: Constant<Bits<18>>,
    zero32: Constant<Bits<32>>,
    sx16: Constant<Bits<32>>,
    zero_ab: Constant<Bits<AB>>,
    one_ab: Constant<Bits<AB>>,
    k_max_ab: Constant<Bits<AB>>,
    info: Vec<Constant<Bits<8>>>,

    // ---- combinational ----
    b: Signal<Local, Bits<8>>,
    byte_in: Signal<Local, Bit>,
    receiving: Signal<Local, Bit>,
    in_frame: Signal<Local, Bit>,
    ev: Signal<Local, Bits<4>>,
    cinc: Vec<Signal<Local, Bit>>,
    len_full: Signal<Local, Bits<16>>,
    b16: Signal<Local, Bits<16>>,
    pcnt_inc: Signal<Local, Bits<9>>,
    pay_fire: Signal<Local, Bit>,
    idle_to: Signal<Local, Bit>,
    // executor decode
    mem: Signal<Local, Bits<8>>,
    addr16: Signal<Local, Bits<16>>,
    addr17: Signal<Local, Bits<17>>,
    p34: Signal<Local, Bits<16>>,
    p12: Signal<Local, Bits<16>>,
    p01: Signal<Local, Bits<16>>,
    w1: Signal<Local, Bit>,
    w2: Signal<Local, Bit>,
    w4: Signal<Local, Bit>,
    mem_ok: Signal<Local, Bit>,
    read_only: Signal<Local, Bit>,
    depth: Signal<Local, Bits<17>>,
    dlen: Signal<Local, Bits<16>>,
    whole: Signal<Local, Bit>,
    n_el: Signal<Local, Bits<16>>,
    w_end: Signal<Local, Bits<17>>,
    r_end: Signal<Local, Bits<17>>,
    r_bytes: Signal<Local, Bits<18>>,
    r_bytes9: Signal<Local, Bits<9>>,
    data_bad: Signal<Local, Bit>,
    unit_ok: Signal<Local, Bit>,
    x0_ok: Signal<Local, Bit>,
    row_params_ok: Signal<Local, Bit>,
    mm_ok: Signal<Local, Bit>,
    ob_code: Signal<Local, Bits<2>>,
    // send
    hb: Signal<Local, Bits<8>>,
    pb: Signal<Local, Bits<8>>,
    rd_word: Signal<Local, Bits<32>>,
    tidx_inc: Signal<Local, Bits<9>>,
    cnt_inc: Signal<Local, Bits<9>>,
    kk_inc: Signal<Local, Bits<16>>,
    unused_ylast: Signal<Local, Bit>,
    rlen_hi: Signal<Local, Bits<8>>,
    // write copy
    word_next: Signal<Local, Bits<32>>,
    wr_fire: Signal<Local, Bit>,
    // matmul
    k_last: Signal<Local, Bits<16>>,
    yel: Signal<Local, Bits<32>>,
    mel: Signal<Local, Bits<31>>,
    cel: Signal<Local, Bits<6>>,
    rq_res: Signal<Local, Bits<16>>,
    res32: Signal<Local, Bits<32>>,
    el_done: Signal<Local, Bit>,
    // row
    row_last: Signal<Local, Bits<16>>,
    sel_in_ready: Signal<Local, Bit>,
    sel_out_valid: Signal<Local, Bit>,
    sel_y: Signal<Local, Bits<32>>,
    sm_y: Signal<Local, Bits<16>>,
    gelu_y: Signal<Local, Bits<16>>,
    brd: Signal<Local, Bits<32>>,
    mrd: Signal<Local, Bits<31>>,
    crd: Signal<Local, Bits<6>>,
    feed: Signal<Local, Bit>,
    v_top: Signal<Local, Bits<9>>,

    // ---- registers ----
    rs1: DFF<Bit>,
    rs2: DFF<Bit>,
    st: DFF<Bits<5>>,
    cmd: DFF<Bits<8>>,
    seq: DFF<Bits<8>>,
    plen: DFF<Bits<16>>,
    pcnt: DFF<Bits<9>>,
    hdr: Vec<DFF<Bits<8>>>,
    m_bad: DFF<Bit>,
    sh_bad: DFF<Bit>,
    flags: DFF<Bits<4>>,
    counters: Vec<DFF<Bits<16>>>,
    itick: DFF<Bits<16>>,
    ibits: DFF<Bits<16>>,
    status: DFF<Bits<8>>,
    rlen: DFF<Bits<9>>,
    tidx: DFF<Bits<9>>,
    txb: DFF<Bits<8>>,
    txv: DFF<Bit>,
    wait1: DFF<Bit>,
    cnt: DFF<Bits<9>>,
    ma: DFF<Bits<16>>,
    bsel: DFF<Bits<2>>,
    wlast: DFF<Bits<2>>,
    word: DFF<Bits<32>>,
    kk: DFF<Bits<16>>,
    kparam: DFF<Bits<16>>,
    ii: DFF<Bits<8>>,
    aaddr: DFF<Bits<AB>>,
    baddr: DFF<Bits<AB>>,
    oaddr: DFF<Bits<AB>>,
    obsel: DFF<Bits<2>>,
    rqph: DFF<Bit>,
    ylast: DFF<Bit>,
    blast: DFF<Bit>,
    areg: Vec<DFF<Bits<8>>>,
    breg: Vec<DFF<Bits<8>>>,
    yrow: Vec<DFF<Bits<32>>>,
    bias: Vec<DFF<Bits<32>>>,
    mreg: Vec<DFF<Bits<31>>>,
    creg: Vec<DFF<Bits<6>>>,
    unit: DFF<Bits<2>>,
    rowlen: DFF<Bits<16>>,
    x0: DFF<Bits<8>>,
    fcount: DFF<Bits<16>>,
    fmore: DFF<Bit>,
    ocount: DFF<Bits<16>>,

    // ---- blocks ----
    urx: UartRx,
    utx: UartTx,
    crc: Crc8,
    pbuf: RAM<Bits<8>, 8>,
    mem_a: RAM<Bits<8>, AB>,
    mem_b: RAM<Bits<8>, AB>,
    mem_rin: RAM<Bits<16>, AB>,
    mem_lnb: RAM<Bits<32>, AB>,
    mem_rout: RAM<Bits<32>, AB>,
    mem_mm: RAM<Bits<32>, AB>,
    arr: MacArray<8, 32>,
    rq: Requant<16>,
    sm: Vec<Shiftmax<8, AB, 16>>,
    gelu: Vec<Shiftgelu<8, AB>>,
    ln: Vec<LayerNorm<AB>>,
}

fn k<const N: usize>(v: u64) -> Constant<Bits<N>> {
    Constant::new(v.into())
}

impl<const AB: usize> Engine<AB> {
    /// Builds the engine; the parameters must pass [`EngineParams::check`] with `AB` as its
    /// address width.
    pub fn new(p: &EngineParams) -> Result<Self, EngineError> {
        let ab = p.check()?;
        if ab != AB {
            return Err(EngineError(format!(
                "built with {AB} address bits, the configuration needs {ab}"
            )));
        }
        let c = &p.cfg;
        let (rows, cols) = (c.rows, c.cols);
        let arr = MacArray::<8, 32>::new(rows, cols, p.rounding(), p.product)
            .map_err(|e| EngineError(e.to_string()))?;
        let rq = Requant::<16>::new(p.rounding()).map_err(|e| EngineError(e.to_string()))?;
        let has = |u: Unit| usize::from(c.has_unit(u));
        let sm = (0..has(Unit::Shiftmax))
            .map(|_| {
                Shiftmax::new(&ShiftmaxParams {
                    n: c.sm_n,
                    max_len: c.row_max,
                    iterative: true,
                })
            })
            .collect();
        let gelu = (0..has(Unit::Shiftgelu))
            .map(|_| {
                Shiftgelu::new(&ShiftgeluParams {
                    n: c.gelu_n,
                    max_len: c.row_max,
                })
            })
            .collect();
        let ln = (0..has(Unit::Layernorm))
            .map(|_| {
                LayerNorm::new(&LayerNormParams {
                    sqrt: c.ln_sqrt,
                    max_len: c.row_max,
                })
            })
            .collect();
        let sqrt_code = match c.ln_sqrt {
            SqrtMode::Ivit => 0,
            SqrtMode::Exact => 1,
        };
        let st = |s: u64| k::<5>(s);
        let b8 = |v: u64| k::<8>(v);
        let depth = |m: Mem| k::<17>(m.depth(c) as u64);
        let rounding_mask = u64::from(c.mm_roundings);
        Ok(Self {
            clock: Default::default(),
            reset: Default::default(),
            rx: Default::default(),
            tx: Default::default(),
            busy: Default::default(),
            st_hunt: st(S_HUNT),
            st_cmd: st(S_CMD),
            st_seq: st(S_SEQ),
            st_lenl: st(S_LENL),
            st_lenh: st(S_LENH),
            st_pay: st(S_PAY),
            st_crc: st(S_CRC),
            st_chk: st(S_CHK),
            st_exec: st(S_EXEC),
            st_wr: st(S_WR),
            st_mm_a: st(S_MM_A),
            st_mm_b: st(S_MM_B),
            st_mm_beat: st(S_MM_BEAT),
            st_mm_drain: st(S_MM_DRAIN),
            st_mm_el: st(S_MM_EL),
            st_row_chk: st(S_ROW_CHK),
            st_row_run: st(S_ROW_RUN),
            st_txh: st(S_TXH),
            st_txp: st(S_TXP),
            st_txc: st(S_TXC),
            sync_req: b8(u64::from(golden::protocol::REQ_SYNC)),
            sync_resp: b8(u64::from(golden::protocol::RESP_SYNC)),
            c_ping: b8(Cmd::Ping as u64),
            c_info: b8(Cmd::Info as u64),
            c_status: b8(Cmd::Status as u64),
            c_write: b8(Cmd::Write as u64),
            c_read: b8(Cmd::Read as u64),
            c_matmul: b8(Cmd::Matmul as u64),
            c_row: b8(Cmd::Row as u64),
            s_ok: b8(Status::Ok as u64),
            s_bad_crc: b8(Status::BadCrc as u64),
            s_unknown: b8(Status::UnknownCmd as u64),
            s_bad_len: b8(Status::BadLength as u64),
            s_bad_mem: b8(Status::BadMem as u64),
            s_bad_addr: b8(Status::BadAddr as u64),
            s_bad_param: b8(Status::BadParam as u64),
            s_bad_data: b8(Status::BadData as u64),
            s_read_only: b8(Status::ReadOnly as u64),
            f_overrun: k(u64::from(FLAG_OVERRUN)),
            f_framing: k(u64::from(FLAG_FRAMING)),
            f_dropped: k(u64::from(FLAG_DROPPED)),
            f_skipped: k(u64::from(FLAG_SKIPPED)),
            zero4: k(0),
            zero8: b8(0),
            one8: b8(1),
            two8: b8(2),
            three8: b8(3),
            four8: b8(4),
            five8: b8(5),
            six8: b8(6),
            seven8: b8(7),
            eight8: b8(8),
            sixteen8: b8(16),
            thirtytwo8: b8(32),
            sixtytwo8: b8(golden::requant::C_MAX as u64),
            rows_m1: b8(rows as u64 - 1),
            cols_m1: b8(cols as u64 - 1),
            units_mask: b8(u64::from(c.units)),
            rounding_mask: b8(rounding_mask),
            sm_n8: b8(u64::from(c.sm_n)),
            sm_ob8: b8(u64::from(c.sm_out_bits)),
            gelu_n8: b8(u64::from(c.gelu_n)),
            ln_sqrt8: b8(sqrt_code),
            zero2: k(0),
            two2: k(2),
            idx9: (0..7).map(k).collect(),
            two16: k(2),
            c24: k(24),
            one2: k(1),
            three2: k(3),
            zero9: k(0),
            one9: k(1),
            ones9: k(0x1ff),
            n_info9: k(golden::engine::INFO_LEN as u64),
            n_status9: k(golden::engine::STATUS_LEN as u64),
            zero16: k(0),
            one16: k(1),
            three16: k(3),
            eight16: k(8),
            max_pay16: k(golden::protocol::MAX_PAYLOAD as u64),
            ffff16: k(0xffff),
            div_m1: k(u64::from(p.timing.div - 1)),
            idle_bits: k(c.idle_bits),
            k_max16: k(c.k_max as u64),
            row_max16: k(c.row_max as u64),
            x0_min16: k(0x1_0000 - (1u64 << (c.x0_bits - 1))),
            sat_pos8: k(0x007f),
            sat_neg8: k(0xff80),
            depth_a: depth(Mem::A),
            depth_b: depth(Mem::B),
            depth_col: depth(Mem::Bias),
            depth_row: depth(Mem::RowIn),
            depth_mm: depth(Mem::MmOut),
            max_pay18: k(golden::protocol::MAX_PAYLOAD as u64),
            zero32: k(0),
            sx16: k(0xffff_0000),
            zero_ab: k(0),
            one_ab: k(1),
            k_max_ab: k(c.k_max as u64),
            info: c
                .info_payload()
                .into_iter()
                .map(|v| b8(u64::from(v)))
                .collect(),
            b: Default::default(),
            byte_in: Default::default(),
            receiving: Default::default(),
            in_frame: Default::default(),
            ev: Default::default(),
            cinc: (0..N_COUNTERS).map(|_| Default::default()).collect(),
            len_full: Default::default(),
            b16: Default::default(),
            pcnt_inc: Default::default(),
            pay_fire: Default::default(),
            idle_to: Default::default(),
            mem: Default::default(),
            addr16: Default::default(),
            addr17: Default::default(),
            p34: Default::default(),
            p12: Default::default(),
            p01: Default::default(),
            w1: Default::default(),
            w2: Default::default(),
            w4: Default::default(),
            mem_ok: Default::default(),
            read_only: Default::default(),
            depth: Default::default(),
            dlen: Default::default(),
            whole: Default::default(),
            n_el: Default::default(),
            w_end: Default::default(),
            r_end: Default::default(),
            r_bytes: Default::default(),
            r_bytes9: Default::default(),
            data_bad: Default::default(),
            unit_ok: Default::default(),
            x0_ok: Default::default(),
            row_params_ok: Default::default(),
            mm_ok: Default::default(),
            ob_code: Default::default(),
            hb: Default::default(),
            pb: Default::default(),
            rd_word: Default::default(),
            tidx_inc: Default::default(),
            cnt_inc: Default::default(),
            kk_inc: Default::default(),
            unused_ylast: Default::default(),
            rlen_hi: Default::default(),
            word_next: Default::default(),
            wr_fire: Default::default(),
            k_last: Default::default(),
            yel: Default::default(),
            mel: Default::default(),
            cel: Default::default(),
            rq_res: Default::default(),
            res32: Default::default(),
            el_done: Default::default(),
            row_last: Default::default(),
            sel_in_ready: Default::default(),
            sel_out_valid: Default::default(),
            sel_y: Default::default(),
            sm_y: Default::default(),
            gelu_y: Default::default(),
            brd: Default::default(),
            mrd: Default::default(),
            crd: Default::default(),
            feed: Default::default(),
            v_top: Default::default(),
            rs1: Default::default(),
            rs2: Default::default(),
            st: Default::default(),
            cmd: Default::default(),
            seq: Default::default(),
            plen: Default::default(),
            pcnt: Default::default(),
            hdr: (0..8).map(|_| Default::default()).collect(),
            m_bad: Default::default(),
            sh_bad: Default::default(),
            flags: Default::default(),
            counters: (0..N_COUNTERS).map(|_| Default::default()).collect(),
            itick: Default::default(),
            ibits: Default::default(),
            status: Default::default(),
            rlen: Default::default(),
            tidx: Default::default(),
            txb: Default::default(),
            txv: Default::default(),
            wait1: Default::default(),
            cnt: Default::default(),
            ma: Default::default(),
            bsel: Default::default(),
            wlast: Default::default(),
            word: Default::default(),
            kk: Default::default(),
            kparam: Default::default(),
            ii: Default::default(),
            aaddr: Default::default(),
            baddr: Default::default(),
            oaddr: Default::default(),
            obsel: Default::default(),
            rqph: Default::default(),
            ylast: Default::default(),
            blast: Default::default(),
            areg: (0..rows).map(|_| Default::default()).collect(),
            breg: (0..cols).map(|_| Default::default()).collect(),
            yrow: (0..cols).map(|_| Default::default()).collect(),
            bias: (0..cols).map(|_| Default::default()).collect(),
            mreg: (0..cols).map(|_| Default::default()).collect(),
            creg: (0..cols).map(|_| Default::default()).collect(),
            unit: Default::default(),
            rowlen: Default::default(),
            x0: Default::default(),
            fcount: Default::default(),
            fmore: Default::default(),
            ocount: Default::default(),
            urx: UartRx::new(p.timing),
            utx: UartTx::new(p.timing),
            crc: Crc8::default(),
            pbuf: Default::default(),
            mem_a: Default::default(),
            mem_b: Default::default(),
            mem_rin: Default::default(),
            mem_lnb: Default::default(),
            mem_rout: Default::default(),
            mem_mm: Default::default(),
            arr,
            rq,
            sm,
            gelu,
            ln,
        })
    }
}

impl<const AB: usize> Logic for Engine<AB> {
    #[hdl_gen]
    fn update(&mut self) {
        // ---------------- clocks, resets, register defaults ----------------
        self.rs1.clock.next = self.clock.val();
        self.rs2.clock.next = self.clock.val();
        self.st.clock.next = self.clock.val();
        self.cmd.clock.next = self.clock.val();
        self.seq.clock.next = self.clock.val();
        self.plen.clock.next = self.clock.val();
        self.pcnt.clock.next = self.clock.val();
        self.m_bad.clock.next = self.clock.val();
        self.sh_bad.clock.next = self.clock.val();
        self.flags.clock.next = self.clock.val();
        self.itick.clock.next = self.clock.val();
        self.ibits.clock.next = self.clock.val();
        self.status.clock.next = self.clock.val();
        self.rlen.clock.next = self.clock.val();
        self.tidx.clock.next = self.clock.val();
        self.txb.clock.next = self.clock.val();
        self.txv.clock.next = self.clock.val();
        self.wait1.clock.next = self.clock.val();
        self.cnt.clock.next = self.clock.val();
        self.ma.clock.next = self.clock.val();
        self.bsel.clock.next = self.clock.val();
        self.wlast.clock.next = self.clock.val();
        self.word.clock.next = self.clock.val();
        self.kk.clock.next = self.clock.val();
        self.kparam.clock.next = self.clock.val();
        self.ii.clock.next = self.clock.val();
        self.aaddr.clock.next = self.clock.val();
        self.baddr.clock.next = self.clock.val();
        self.oaddr.clock.next = self.clock.val();
        self.obsel.clock.next = self.clock.val();
        self.rqph.clock.next = self.clock.val();
        self.ylast.clock.next = self.clock.val();
        self.blast.clock.next = self.clock.val();
        self.unit.clock.next = self.clock.val();
        self.rowlen.clock.next = self.clock.val();
        self.x0.clock.next = self.clock.val();
        self.fcount.clock.next = self.clock.val();
        self.fmore.clock.next = self.clock.val();
        self.ocount.clock.next = self.clock.val();
        self.rs1.d.next = self.rx.val();
        self.rs2.d.next = self.rs1.q.val();
        self.st.d.next = self.st.q.val();
        self.cmd.d.next = self.cmd.q.val();
        self.seq.d.next = self.seq.q.val();
        self.plen.d.next = self.plen.q.val();
        self.pcnt.d.next = self.pcnt.q.val();
        self.m_bad.d.next = self.m_bad.q.val();
        self.sh_bad.d.next = self.sh_bad.q.val();
        self.itick.d.next = self.itick.q.val();
        self.ibits.d.next = self.ibits.q.val();
        self.status.d.next = self.status.q.val();
        self.rlen.d.next = self.rlen.q.val();
        self.tidx.d.next = self.tidx.q.val();
        self.txb.d.next = self.txb.q.val();
        self.txv.d.next = self.txv.q.val();
        self.wait1.d.next = false;
        self.cnt.d.next = self.cnt.q.val();
        self.ma.d.next = self.ma.q.val();
        self.bsel.d.next = self.bsel.q.val();
        self.wlast.d.next = self.wlast.q.val();
        self.word.d.next = self.word.q.val();
        self.kk.d.next = self.kk.q.val();
        self.kparam.d.next = self.kparam.q.val();
        self.ii.d.next = self.ii.q.val();
        self.aaddr.d.next = self.aaddr.q.val();
        self.baddr.d.next = self.baddr.q.val();
        self.oaddr.d.next = self.oaddr.q.val();
        self.obsel.d.next = self.obsel.q.val();
        self.rqph.d.next = self.rqph.q.val();
        self.ylast.d.next = self.ylast.q.val();
        self.blast.d.next = self.blast.q.val();
        self.unit.d.next = self.unit.q.val();
        self.rowlen.d.next = self.rowlen.q.val();
        self.x0.d.next = self.x0.q.val();
        self.fcount.d.next = self.fcount.q.val();
        self.fmore.d.next = self.fmore.q.val();
        self.ocount.d.next = self.ocount.q.val();
        for i in 0..8 {
            self.hdr[i].clock.next = self.clock.val();
            self.hdr[i].d.next = self.hdr[i].q.val();
        }
        for i in 0..self.areg.len() {
            self.areg[i].clock.next = self.clock.val();
            self.areg[i].d.next = self.areg[i].q.val();
        }
        for j in 0..self.breg.len() {
            self.breg[j].clock.next = self.clock.val();
            self.breg[j].d.next = self.breg[j].q.val();
            self.yrow[j].clock.next = self.clock.val();
            self.yrow[j].d.next = self.yrow[j].q.val();
            self.bias[j].clock.next = self.clock.val();
            self.bias[j].d.next = self.bias[j].q.val();
            self.mreg[j].clock.next = self.clock.val();
            self.mreg[j].d.next = self.mreg[j].q.val();
            self.creg[j].clock.next = self.clock.val();
            self.creg[j].d.next = self.creg[j].q.val();
        }
        for i in 0..N_COUNTERS {
            self.counters[i].clock.next = self.clock.val();
            self.counters[i].d.next = self.counters[i].q.val();
            self.cinc[i].next = false;
        }

        self.urx.clock.next = self.clock.val();
        self.urx.reset.next = self.reset.val();
        self.urx.rx.next = self.rx.val();
        self.utx.clock.next = self.clock.val();
        self.utx.reset.next = self.reset.val();
        self.utx.in_valid.next = self.txv.q.val();
        self.utx.data.next = self.txb.q.val();
        self.tx.next = self.utx.tx.val();
        self.crc.clock.next = self.clock.val();
        self.crc.reset.next = self.reset.val();
        self.crc.clear.next = false;
        self.crc.load.next = false;
        self.crc.din.next = self.urx.data.val();

        self.pbuf.read_clock.next = self.clock.val();
        self.pbuf.write_clock.next = self.clock.val();
        self.mem_a.read_clock.next = self.clock.val();
        self.mem_a.write_clock.next = self.clock.val();
        self.mem_b.read_clock.next = self.clock.val();
        self.mem_b.write_clock.next = self.clock.val();
        self.mem_rin.read_clock.next = self.clock.val();
        self.mem_rin.write_clock.next = self.clock.val();
        self.mem_lnb.read_clock.next = self.clock.val();
        self.mem_lnb.write_clock.next = self.clock.val();
        self.mem_rout.read_clock.next = self.clock.val();
        self.mem_rout.write_clock.next = self.clock.val();
        self.mem_mm.read_clock.next = self.clock.val();
        self.mem_mm.write_clock.next = self.clock.val();
        // Memory ports: reads at the element address `ma` (READ) unless a state below says
        // otherwise; no writes unless a state below says so.
        self.pbuf.read_address.next = self.cnt.q.val().get_bits::<8>(0);
        self.pbuf.write_address.next = self.pcnt.q.val().get_bits::<8>(0);
        self.pbuf.write_data.next = self.urx.data.val();
        self.pbuf.write_enable.next = false;
        self.mem_a.read_address.next = self.ma.q.val().get_bits::<AB>(0);
        self.mem_b.read_address.next = self.ma.q.val().get_bits::<AB>(0);
        self.mem_rin.read_address.next = self.ma.q.val().get_bits::<AB>(0);
        self.mem_lnb.read_address.next = self.ma.q.val().get_bits::<AB>(0);
        self.mem_rout.read_address.next = self.ma.q.val().get_bits::<AB>(0);
        self.mem_mm.read_address.next = self.ma.q.val().get_bits::<AB>(0);
        self.mem_a.write_enable.next = false;
        self.mem_b.write_enable.next = false;
        self.mem_rin.write_enable.next = false;
        self.mem_lnb.write_enable.next = false;
        self.mem_rout.write_enable.next = false;
        self.mem_mm.write_enable.next = false;
        self.mem_a.write_address.next = self.ma.q.val().get_bits::<AB>(0);
        self.mem_b.write_address.next = self.ma.q.val().get_bits::<AB>(0);
        self.mem_rin.write_address.next = self.ma.q.val().get_bits::<AB>(0);
        self.mem_lnb.write_address.next = self.ma.q.val().get_bits::<AB>(0);
        self.mem_rout.write_address.next = self.ocount.q.val().get_bits::<AB>(0);
        self.mem_mm.write_address.next = self.oaddr.q.val();

        // ---------------- receive ----------------
        self.b.next = self.urx.data.val();
        self.b16.next = bit_cast::<16, 8>(self.urx.data.val());
        self.byte_in.next = self.urx.out_valid.val();
        self.receiving.next = self.st.q.val() <= self.st_crc.val();
        self.in_frame.next =
            (self.st.q.val() <= self.st_crc.val()) && (self.st.q.val() != self.st_hunt.val());
        self.ev.next = self.zero4.val();
        self.len_full.next = (self.b16.val() << self.eight16.val()) | self.plen.q.val();
        self.pcnt_inc.next = self.pcnt.q.val() + self.one9.val();
        self.pay_fire.next = false;
        self.cnt_inc.next = self.cnt.q.val() + self.one9.val();
        self.kk_inc.next = self.kk.q.val() + self.one16.val();
        self.unused_ylast.next = false;
        self.rlen_hi.next = self.zero8.val();
        if self.rlen.q.val().get_bit(8) {
            self.rlen_hi.next = self.one8.val();
        }

        // Idle timeout: bit times with the line high since the last byte, inside a frame.
        self.idle_to.next = self.ibits.q.val() == self.idle_bits.val();
        if !self.rs2.q.val() || self.byte_in.val() || !self.in_frame.val() {
            self.itick.d.next = self.div_m1.val();
            self.ibits.d.next = self.zero16.val();
        } else if self.itick.q.val() == self.zero16.val() {
            self.itick.d.next = self.div_m1.val();
            if !self.idle_to.val() {
                self.ibits.d.next = self.ibits.q.val() + self.one16.val();
            }
        } else {
            self.itick.d.next = self.itick.q.val() - self.one16.val();
        }

        if self.byte_in.val() {
            if !self.receiving.val() {
                // A byte while a command runs or a response is sent.
                self.ev.next = self.f_overrun.val();
                self.cinc[4].next = true;
            } else if self.st.q.val() == self.st_hunt.val() {
                if self.b.val() == self.sync_req.val() {
                    self.st.d.next = self.st_cmd.val();
                    self.crc.clear.next = true;
                    self.pcnt.d.next = self.zero9.val();
                    self.m_bad.d.next = false;
                    self.sh_bad.d.next = false;
                } else {
                    self.ev.next = self.f_skipped.val();
                    self.cinc[6].next = true;
                }
            } else {
                self.crc.load.next = true;
                if self.st.q.val() == self.st_cmd.val() {
                    self.cmd.d.next = self.b.val();
                    self.st.d.next = self.st_seq.val();
                } else if self.st.q.val() == self.st_seq.val() {
                    self.seq.d.next = self.b.val();
                    self.st.d.next = self.st_lenl.val();
                } else if self.st.q.val() == self.st_lenl.val() {
                    self.plen.d.next = self.b16.val();
                    self.st.d.next = self.st_lenh.val();
                } else if self.st.q.val() == self.st_lenh.val() {
                    self.plen.d.next = self.len_full.val();
                    if self.len_full.val() > self.max_pay16.val() {
                        self.cinc[2].next = true;
                        self.status.d.next = self.s_bad_len.val();
                        self.rlen.d.next = self.zero9.val();
                        self.tidx.d.next = self.zero9.val();
                        self.st.d.next = self.st_txh.val();
                    } else if self.len_full.val() == self.zero16.val() {
                        self.st.d.next = self.st_crc.val();
                    } else {
                        self.st.d.next = self.st_pay.val();
                    }
                } else if self.st.q.val() == self.st_pay.val() {
                    self.pay_fire.next = true;
                    self.pcnt.d.next = self.pcnt_inc.val();
                    if bit_cast::<16, 9>(self.pcnt_inc.val()) == self.plen.q.val() {
                        self.st.d.next = self.st_crc.val();
                    }
                    if self.pcnt.q.val() >= self.idx9[3].val() {
                        if self.b.val() > self.sixtytwo8.val() {
                            self.sh_bad.d.next = true;
                        }
                        if (self.pcnt.q.val().get_bits::<2>(0) == self.two2.val())
                            && self.b.val().get_bit(7)
                        {
                            self.m_bad.d.next = true;
                        }
                    }
                } else {
                    // The checksum byte.
                    self.st.d.next = self.st_chk.val();
                }
            }
        }
        self.pbuf.write_enable.next = self.pay_fire.val();
        for i in 0..8 {
            if self.pay_fire.val() && (self.pcnt.q.val().index() == i) {
                self.hdr[i].d.next = self.b.val();
            }
        }
        if self.urx.frame_err.val() {
            self.ev.next = self.ev.val() | self.f_framing.val();
            self.cinc[5].next = true;
            if self.in_frame.val() {
                self.ev.next = self.ev.val() | self.f_framing.val() | self.f_dropped.val();
                self.cinc[3].next = true;
                self.st.d.next = self.st_hunt.val();
            }
        }
        if self.idle_to.val() && self.in_frame.val() {
            self.ev.next = self.ev.val() | self.f_dropped.val();
            self.cinc[3].next = true;
            self.st.d.next = self.st_hunt.val();
        }
        if (self.st.q.val() == self.st_chk.val()) && !self.crc.busy.val() {
            self.tidx.d.next = self.zero9.val();
            if self.crc.rem.val() == self.zero8.val() {
                self.cinc[0].next = true;
                self.st.d.next = self.st_exec.val();
            } else {
                self.cinc[1].next = true;
                self.status.d.next = self.s_bad_crc.val();
                self.rlen.d.next = self.zero9.val();
                self.st.d.next = self.st_txh.val();
            }
        }

        // ---------------- decode (used in S_EXEC) ----------------
        self.mem.next = self.hdr[0].q.val();
        self.addr16.next = (bit_cast::<16, 8>(self.hdr[2].q.val()) << self.eight16.val())
            | bit_cast::<16, 8>(self.hdr[1].q.val());
        self.addr17.next = bit_cast::<17, 16>(self.addr16.val());
        self.p34.next = (bit_cast::<16, 8>(self.hdr[4].q.val()) << self.eight16.val())
            | bit_cast::<16, 8>(self.hdr[3].q.val());
        self.p12.next = self.addr16.val();
        self.p01.next = (bit_cast::<16, 8>(self.hdr[1].q.val()) << self.eight16.val())
            | bit_cast::<16, 8>(self.hdr[0].q.val());
        self.w1.next = (self.mem.val() == self.zero8.val())
            || (self.mem.val() == self.one8.val())
            || (self.mem.val() == self.four8.val());
        self.w2.next = self.mem.val() == self.five8.val();
        self.w4.next = !self.w1.val() && !self.w2.val();
        self.mem_ok.next = self.mem.val() <= self.eight8.val();
        self.read_only.next =
            (self.mem.val() == self.seven8.val()) || (self.mem.val() == self.eight8.val());
        self.depth.next = self.depth_mm.val();
        if self.mem.val() == self.zero8.val() {
            self.depth.next = self.depth_a.val();
        } else if self.mem.val() == self.one8.val() {
            self.depth.next = self.depth_b.val();
        } else if self.mem.val() <= self.four8.val() {
            self.depth.next = self.depth_col.val();
        } else if self.mem.val() != self.seven8.val() {
            self.depth.next = self.depth_row.val();
        }
        self.dlen.next = self.plen.q.val() - self.three16.val();
        self.whole.next = self.w1.val()
            || (self.w2.val() && !self.dlen.val().get_bit(0))
            || (self.w4.val() && (self.dlen.val().get_bits::<2>(0) == self.zero2.val()));
        self.n_el.next = self.dlen.val();
        if self.w2.val() {
            self.n_el.next = self.dlen.val() >> self.one16.val();
        }
        if self.w4.val() {
            self.n_el.next = self.dlen.val() >> self.two16.val();
        }
        self.w_end.next = self.addr17.val() + bit_cast::<17, 16>(self.n_el.val());
        self.r_end.next = self.addr17.val() + bit_cast::<17, 16>(self.p34.val());
        self.r_bytes.next = bit_cast::<18, 16>(self.p34.val());
        if self.w2.val() {
            self.r_bytes.next = bit_cast::<18, 16>(self.p34.val()) << self.one16.val();
        }
        if self.w4.val() {
            self.r_bytes.next = bit_cast::<18, 16>(self.p34.val()) << self.two16.val();
        }
        self.r_bytes9.next = self.r_bytes.val().get_bits::<9>(0);
        self.data_bad.next = ((self.mem.val() == self.three8.val()) && self.m_bad.q.val())
            || ((self.mem.val() == self.four8.val()) && self.sh_bad.q.val());
        // MATMUL: k = p01, out_bits = hdr2, rounding = hdr3.
        self.ob_code.next = self.zero2.val();
        if self.hdr[2].q.val() == self.sixteen8.val() {
            self.ob_code.next = self.one2.val();
        }
        if self.hdr[2].q.val() == self.thirtytwo8.val() {
            self.ob_code.next = self.two2.val();
        }
        self.mm_ok.next = (self.p01.val() != self.zero16.val())
            && (self.p01.val() <= self.k_max16.val())
            && ((self.hdr[2].q.val() == self.eight8.val())
                || (self.hdr[2].q.val() == self.sixteen8.val())
                || (self.hdr[2].q.val() == self.thirtytwo8.val()))
            && (self.hdr[3].q.val() <= self.one8.val())
            && (((self.hdr[3].q.val() == self.zero8.val()) && self.rounding_mask.val().get_bit(0))
                || ((self.hdr[3].q.val() == self.one8.val())
                    && self.rounding_mask.val().get_bit(1)));
        // ROW: unit = hdr0, len = p12, x0 = p34, n = hdr5, out_bits = hdr6, sqrt = hdr7.
        self.unit_ok.next = (self.hdr[0].q.val() <= self.two8.val())
            && (((self.hdr[0].q.val() == self.zero8.val()) && self.units_mask.val().get_bit(0))
                || ((self.hdr[0].q.val() == self.one8.val()) && self.units_mask.val().get_bit(1))
                || ((self.hdr[0].q.val() == self.two8.val()) && self.units_mask.val().get_bit(2)))
            && (self.p12.val() != self.zero16.val())
            && (self.p12.val() <= self.row_max16.val());
        self.x0_ok.next = self.p34.val() >= self.x0_min16.val();
        self.row_params_ok.next = self.x0_ok.val()
            && (self.hdr[5].q.val() == self.sm_n8.val())
            && (self.hdr[6].q.val() == self.sm_ob8.val())
            && (self.hdr[7].q.val() == self.zero8.val());
        if self.hdr[0].q.val() == self.one8.val() {
            self.row_params_ok.next = self.x0_ok.val()
                && (self.hdr[5].q.val() == self.gelu_n8.val())
                && (self.hdr[6].q.val() == self.zero8.val())
                && (self.hdr[7].q.val() == self.zero8.val());
        }
        if self.hdr[0].q.val() == self.two8.val() {
            self.row_params_ok.next = (self.p34.val() == self.zero16.val())
                && (self.hdr[5].q.val() == self.zero8.val())
                && (self.hdr[6].q.val() == self.zero8.val())
                && (self.hdr[7].q.val() == self.ln_sqrt8.val());
        }

        if self.st.q.val() == self.st_exec.val() {
            // Defaults: an empty OK answer, sent next.
            self.status.d.next = self.s_ok.val();
            self.rlen.d.next = self.zero9.val();
            self.st.d.next = self.st_txh.val();
            self.ma.d.next = self.addr16.val();
            self.bsel.d.next = self.zero2.val();
            self.wlast.d.next = self.zero2.val();
            if self.w2.val() {
                self.wlast.d.next = self.one2.val();
            }
            if self.w4.val() {
                self.wlast.d.next = self.three2.val();
            }
            self.cnt.d.next = self.zero9.val();
            self.wait1.d.next = true;
            if self.cmd.q.val() == self.c_ping.val() {
                self.rlen.d.next = self.plen.q.val().get_bits::<9>(0);
            } else if self.cmd.q.val() == self.c_info.val() {
                self.rlen.d.next = self.n_info9.val();
                if self.plen.q.val() != self.zero16.val() {
                    self.status.d.next = self.s_bad_len.val();
                    self.rlen.d.next = self.zero9.val();
                }
            } else if self.cmd.q.val() == self.c_status.val() {
                self.rlen.d.next = self.n_status9.val();
                if self.plen.q.val() != self.zero16.val() {
                    self.status.d.next = self.s_bad_len.val();
                    self.rlen.d.next = self.zero9.val();
                }
            } else if self.cmd.q.val() == self.c_write.val() {
                if self.plen.q.val() < self.three16.val() {
                    self.status.d.next = self.s_bad_len.val();
                } else if !self.mem_ok.val() {
                    self.status.d.next = self.s_bad_mem.val();
                } else if self.read_only.val() {
                    self.status.d.next = self.s_read_only.val();
                } else if (self.dlen.val() == self.zero16.val()) || !self.whole.val() {
                    self.status.d.next = self.s_bad_len.val();
                } else if self.w_end.val() > self.depth.val() {
                    self.status.d.next = self.s_bad_addr.val();
                } else if self.data_bad.val() {
                    self.status.d.next = self.s_bad_data.val();
                } else {
                    self.cnt.d.next = self.idx9[3].val();
                    self.st.d.next = self.st_wr.val();
                }
            } else if self.cmd.q.val() == self.c_read.val() {
                if self.plen.q.val() != bit_cast::<16, 8>(self.five8.val()) {
                    self.status.d.next = self.s_bad_len.val();
                } else if !self.mem_ok.val() {
                    self.status.d.next = self.s_bad_mem.val();
                } else if (self.p34.val() == self.zero16.val())
                    || (self.r_end.val() > self.depth.val())
                {
                    self.status.d.next = self.s_bad_addr.val();
                } else if self.r_bytes.val() > self.max_pay18.val() {
                    self.status.d.next = self.s_bad_len.val();
                } else {
                    self.rlen.d.next = self.r_bytes9.val();
                }
            } else if self.cmd.q.val() == self.c_matmul.val() {
                if self.plen.q.val() != bit_cast::<16, 8>(self.four8.val()) {
                    self.status.d.next = self.s_bad_len.val();
                } else if !self.mm_ok.val() {
                    self.status.d.next = self.s_bad_param.val();
                } else {
                    self.kparam.d.next = self.p01.val();
                    self.obsel.d.next = self.ob_code.val();
                    self.kk.d.next = self.zero16.val();
                    self.ii.d.next = self.zero8.val();
                    self.aaddr.d.next = self.zero_ab.val();
                    self.baddr.d.next = self.zero_ab.val();
                    self.oaddr.d.next = self.zero_ab.val();
                    self.st.d.next = self.st_mm_a.val();
                }
            } else if self.cmd.q.val() == self.c_row.val() {
                if self.plen.q.val() != bit_cast::<16, 8>(self.eight8.val()) {
                    self.status.d.next = self.s_bad_len.val();
                } else if !self.unit_ok.val() || !self.row_params_ok.val() {
                    self.status.d.next = self.s_bad_param.val();
                } else {
                    self.unit.d.next = self.hdr[0].q.val().get_bits::<2>(0);
                    self.rowlen.d.next = self.p12.val();
                    self.x0.d.next = self.hdr[3].q.val();
                    self.fcount.d.next = self.zero16.val();
                    self.ocount.d.next = self.zero16.val();
                    self.fmore.d.next = true;
                    if self.hdr[0].q.val() == self.two8.val() {
                        self.st.d.next = self.st_row_run.val();
                    } else {
                        self.st.d.next = self.st_row_chk.val();
                    }
                }
            } else {
                self.status.d.next = self.s_unknown.val();
            }
        }

        // ---------------- WRITE: payload buffer -> memory ----------------
        self.word_next.next = (self.word.q.val() >> self.eight16.val())
            | (bit_cast::<32, 8>(self.pbuf.read_data.val()) << self.c24.val());
        self.wr_fire.next = false;
        if (self.st.q.val() == self.st_wr.val()) && !self.wait1.q.val() {
            self.word.d.next = self.word_next.val();
            self.cnt.d.next = self.cnt_inc.val();
            self.wait1.d.next = true;
            self.bsel.d.next = self.bsel.q.val() + self.one2.val();
            if self.bsel.q.val() == self.wlast.q.val() {
                self.wr_fire.next = true;
                self.bsel.d.next = self.zero2.val();
                self.ma.d.next = self.ma.q.val() + self.one16.val();
            }
            if bit_cast::<16, 9>(self.cnt_inc.val()) == self.plen.q.val() {
                self.st.d.next = self.st_txh.val();
            }
        }
        self.mem_a.write_data.next = self.word_next.val().get_bits::<8>(24);
        self.mem_b.write_data.next = self.word_next.val().get_bits::<8>(24);
        self.mem_rin.write_data.next = self.word_next.val().get_bits::<16>(16);
        self.mem_lnb.write_data.next = self.word_next.val();
        self.mem_a.write_enable.next = self.wr_fire.val() && (self.mem.val() == self.zero8.val());
        self.mem_b.write_enable.next = self.wr_fire.val() && (self.mem.val() == self.one8.val());
        self.mem_rin.write_enable.next = self.wr_fire.val() && (self.mem.val() == self.five8.val());
        self.mem_lnb.write_enable.next = self.wr_fire.val() && (self.mem.val() == self.six8.val());
        for j in 0..self.bias.len() {
            if self.wr_fire.val() && (self.ma.q.val().index() == j) {
                if self.mem.val() == self.two8.val() {
                    self.bias[j].d.next = self.word_next.val();
                }
                if self.mem.val() == self.three8.val() {
                    self.mreg[j].d.next = self.word_next.val().get_bits::<31>(0);
                }
                if self.mem.val() == self.four8.val() {
                    self.creg[j].d.next = self.word_next.val().get_bits::<6>(24);
                }
            }
        }

        // ---------------- MATMUL ----------------
        self.k_last.next = self.kparam.q.val() - self.one16.val();
        self.blast.d.next = self.kk.q.val() == self.k_last.val();
        self.arr.clock.next = self.clock.val();
        self.arr.reset.next = self.reset.val();
        self.arr.in_valid.next = false;
        // A register: the array's `in_ready` depends on `last` combinationally.
        self.arr.last.next = self.blast.q.val();
        for i in 0..self.areg.len() {
            self.arr.a[i].next = self.areg[i].q.val();
        }
        for j in 0..self.breg.len() {
            self.arr.b[j].next = self.breg[j].q.val();
            self.arr.bias[j].next = self.bias[j].q.val();
        }
        for j in 0..self.arr.m.len() {
            self.arr.m[j].next = self.zero32.val().get_bits::<31>(0);
        }
        for j in 0..self.arr.c.len() {
            self.arr.c[j].next = self.zero32.val().get_bits::<6>(0);
        }
        if self.st.q.val() == self.st_mm_a.val() {
            self.mem_a.read_address.next = self.aaddr.q.val();
            if !self.wait1.q.val() {
                for i in 0..self.areg.len() {
                    if self.ii.q.val().index() == i {
                        self.areg[i].d.next = self.mem_a.read_data.val();
                    }
                }
                self.wait1.d.next = true;
                if self.ii.q.val() == self.rows_m1.val() {
                    self.ii.d.next = self.zero8.val();
                    self.st.d.next = self.st_mm_b.val();
                } else {
                    self.ii.d.next = self.ii.q.val() + self.one8.val();
                    self.aaddr.d.next = self.aaddr.q.val() + self.k_max_ab.val();
                }
            }
        }
        if self.st.q.val() == self.st_mm_b.val() {
            self.mem_b.read_address.next = self.baddr.q.val();
            if !self.wait1.q.val() {
                for j in 0..self.breg.len() {
                    if self.ii.q.val().index() == j {
                        self.breg[j].d.next = self.mem_b.read_data.val();
                    }
                }
                self.wait1.d.next = true;
                self.baddr.d.next = self.baddr.q.val() + self.one_ab.val();
                if self.ii.q.val() == self.cols_m1.val() {
                    self.ii.d.next = self.zero8.val();
                    self.st.d.next = self.st_mm_beat.val();
                } else {
                    self.ii.d.next = self.ii.q.val() + self.one8.val();
                }
            }
        }
        if self.st.q.val() == self.st_mm_beat.val() {
            self.arr.in_valid.next = true;
            if self.arr.in_ready.val() {
                if self.kk.q.val() == self.k_last.val() {
                    self.st.d.next = self.st_mm_drain.val();
                } else {
                    self.kk.d.next = self.kk_inc.val();
                    self.aaddr.d.next = self.kk_inc.val().get_bits::<AB>(0);
                    self.wait1.d.next = true;
                    self.st.d.next = self.st_mm_a.val();
                }
            }
        }
        self.arr.out_ready.next = self.st.q.val() == self.st_mm_drain.val();
        if (self.st.q.val() == self.st_mm_drain.val()) && self.arr.out_valid.val() {
            for j in 0..self.yrow.len() {
                self.yrow[j].d.next = self.arr.y[j].val();
            }
            self.ylast.d.next = self.arr.y_last.val();
            self.ii.d.next = self.zero8.val();
            self.rqph.d.next = false;
            self.st.d.next = self.st_mm_el.val();
        }
        // One element of the row taken: requantized (out_bits 8/16) or as is (32).
        self.yel.next = self.zero32.val();
        self.mel.next = self.zero32.val().get_bits::<31>(0);
        self.cel.next = self.zero32.val().get_bits::<6>(0);
        for j in 0..self.yrow.len() {
            if self.ii.q.val().index() == j {
                self.yel.next = self.yrow[j].q.val();
                self.mel.next = self.mreg[j].q.val();
                self.cel.next = self.creg[j].q.val();
            }
        }
        self.rq.clock.next = self.clock.val();
        self.rq.reset.next = self.reset.val();
        self.rq.in_valid.next = false;
        self.rq.out_ready.next = false;
        self.rq.x.next = self.yel.val();
        self.rq.m.next = self.mel.val();
        self.rq.c.next = self.cel.val();
        self.rq_res.next = self.rq.y.val();
        self.v_top.next = self.rq.y.val().get_bits::<9>(7);
        if (self.obsel.q.val() == self.zero2.val())
            && (self.v_top.val() != self.zero9.val())
            && (self.v_top.val() != self.ones9.val())
        {
            self.rq_res.next = self.sat_pos8.val();
            if self.rq.y.val().get_bit(15) {
                self.rq_res.next = self.sat_neg8.val();
            }
        }
        self.res32.next = bit_cast::<32, 16>(self.rq_res.val());
        if self.rq_res.val().get_bit(15) {
            self.res32.next = bit_cast::<32, 16>(self.rq_res.val()) | self.sx16.val();
        }
        self.el_done.next = false;
        self.mem_mm.write_data.next = self.res32.val();
        if self.st.q.val() == self.st_mm_el.val() {
            if self.obsel.q.val() == self.two2.val() {
                self.mem_mm.write_data.next = self.yel.val();
                self.el_done.next = true;
            } else if !self.rqph.q.val() {
                self.rq.in_valid.next = true;
                if self.rq.in_ready.val() {
                    self.rqph.d.next = true;
                }
            } else {
                self.rq.out_ready.next = true;
                if self.rq.out_valid.val() {
                    self.el_done.next = true;
                    self.rqph.d.next = false;
                }
            }
        }
        self.mem_mm.write_enable.next = self.el_done.val();
        if self.el_done.val() {
            self.oaddr.d.next = self.oaddr.q.val() + self.one_ab.val();
            if self.ii.q.val() == self.cols_m1.val() {
                self.ii.d.next = self.zero8.val();
                if self.ylast.q.val() {
                    self.tidx.d.next = self.zero9.val();
                    self.st.d.next = self.st_txh.val();
                } else {
                    self.st.d.next = self.st_mm_drain.val();
                }
            } else {
                self.ii.d.next = self.ii.q.val() + self.one8.val();
            }
        }

        // ---------------- ROW ----------------
        self.row_last.next = self.rowlen.q.val() - self.one16.val();
        if self.st.q.val() == self.st_row_chk.val() {
            self.mem_rin.read_address.next = self.fcount.q.val().get_bits::<AB>(0);
            if !self.wait1.q.val() {
                self.wait1.d.next = true;
                if (self.mem_rin.read_data.val().get_bits::<9>(7) != self.zero9.val())
                    && (self.mem_rin.read_data.val().get_bits::<9>(7) != self.ones9.val())
                {
                    self.status.d.next = self.s_bad_data.val();
                    self.tidx.d.next = self.zero9.val();
                    self.st.d.next = self.st_txh.val();
                } else if self.fcount.q.val() == self.row_last.val() {
                    self.fcount.d.next = self.zero16.val();
                    self.st.d.next = self.st_row_run.val();
                } else {
                    self.fcount.d.next = self.fcount.q.val() + self.one16.val();
                }
            }
        }
        self.feed.next =
            (self.st.q.val() == self.st_row_run.val()) && self.fmore.q.val() && !self.wait1.q.val();
        self.sel_in_ready.next = false;
        self.sel_out_valid.next = false;
        self.sel_y.next = self.zero32.val();
        self.sm_y.next = self.zero32.val().get_bits::<16>(0);
        self.gelu_y.next = self.zero32.val().get_bits::<16>(0);
        for u in 0..self.sm.len() {
            self.sm[u].clock.next = self.clock.val();
            self.sm[u].reset.next = self.reset.val();
            self.sm[u].x.next = self.mem_rin.read_data.val().get_bits::<8>(0);
            self.sm[u].x0.next = self.x0.q.val();
            self.sm[u].last.next = self.fcount.q.val() == self.row_last.val();
            self.sm[u].in_valid.next = self.feed.val() && (self.unit.q.val() == self.zero2.val());
            self.sm[u].out_ready.next = (self.st.q.val() == self.st_row_run.val())
                && (self.unit.q.val() == self.zero2.val());
            if self.unit.q.val() == self.zero2.val() {
                self.sel_in_ready.next = self.sm[u].in_ready.val();
                self.sel_out_valid.next = self.sm[u].out_valid.val();
                self.sm_y.next = self.sm[u].y.val();
            }
            if self.sm[u].y_last.val() {
                self.unused_ylast.next = true;
            }
        }
        for u in 0..self.gelu.len() {
            self.gelu[u].clock.next = self.clock.val();
            self.gelu[u].reset.next = self.reset.val();
            self.gelu[u].x.next = self.mem_rin.read_data.val().get_bits::<8>(0);
            self.gelu[u].x0.next = self.x0.q.val();
            self.gelu[u].last.next = self.fcount.q.val() == self.row_last.val();
            self.gelu[u].in_valid.next = self.feed.val() && (self.unit.q.val() == self.one2.val());
            self.gelu[u].out_ready.next = (self.st.q.val() == self.st_row_run.val())
                && (self.unit.q.val() == self.one2.val());
            if self.unit.q.val() == self.one2.val() {
                self.sel_in_ready.next = self.gelu[u].in_ready.val();
                self.sel_out_valid.next = self.gelu[u].out_valid.val();
                self.gelu_y.next = self.gelu[u].y.val();
            }
            if self.gelu[u].y_last.val() {
                self.unused_ylast.next = true;
            }
        }
        for u in 0..self.ln.len() {
            self.ln[u].clock.next = self.clock.val();
            self.ln[u].reset.next = self.reset.val();
            self.ln[u].x.next = self.mem_rin.read_data.val();
            self.ln[u].bias.next = self.mem_lnb.read_data.val();
            self.ln[u].neg.next = false;
            self.ln[u].last.next = self.fcount.q.val() == self.row_last.val();
            self.ln[u].in_valid.next = self.feed.val() && (self.unit.q.val() == self.two2.val());
            self.ln[u].out_ready.next = (self.st.q.val() == self.st_row_run.val())
                && (self.unit.q.val() == self.two2.val());
            if self.unit.q.val() == self.two2.val() {
                self.sel_in_ready.next = self.ln[u].in_ready.val();
                self.sel_out_valid.next = self.ln[u].out_valid.val();
                self.sel_y.next = self.ln[u].y.val();
            }
            if self.ln[u].y_last.val() {
                self.unused_ylast.next = true;
            }
        }
        if self.unit.q.val() == self.zero2.val() {
            self.sel_y.next = bit_cast::<32, 16>(self.sm_y.val());
        }
        if self.unit.q.val() == self.one2.val() {
            self.sel_y.next = bit_cast::<32, 16>(self.gelu_y.val());
            if self.gelu_y.val().get_bit(15) {
                self.sel_y.next = bit_cast::<32, 16>(self.gelu_y.val()) | self.sx16.val();
            }
        }
        self.mem_rout.write_data.next = self.sel_y.val();
        if self.st.q.val() == self.st_row_run.val() {
            self.mem_rin.read_address.next = self.fcount.q.val().get_bits::<AB>(0);
            self.mem_lnb.read_address.next = self.fcount.q.val().get_bits::<AB>(0);
            if self.feed.val() && self.sel_in_ready.val() {
                self.wait1.d.next = true;
                self.fcount.d.next = self.fcount.q.val() + self.one16.val();
                if self.fcount.q.val() == self.row_last.val() {
                    self.fmore.d.next = false;
                }
            }
            if self.sel_out_valid.val() {
                self.mem_rout.write_enable.next = true;
                self.ocount.d.next = self.ocount.q.val() + self.one16.val();
                if self.ocount.q.val() == self.row_last.val() {
                    self.tidx.d.next = self.zero9.val();
                    self.st.d.next = self.st_txh.val();
                }
            }
        }

        // ---------------- send ----------------
        self.tidx_inc.next = self.tidx.q.val() + self.one9.val();
        self.hb.next = self.sync_resp.val();
        if self.tidx.q.val() == self.idx9[1].val() {
            self.hb.next = self.cmd.q.val();
        }
        if self.tidx.q.val() == self.idx9[2].val() {
            self.hb.next = self.seq.q.val();
        }
        if self.tidx.q.val() == self.idx9[3].val() {
            self.hb.next = self.status.q.val();
        }
        if self.tidx.q.val() == self.idx9[4].val() {
            self.hb.next = bit_cast::<8, 4>(self.flags.q.val());
        }
        if self.tidx.q.val() == self.idx9[5].val() {
            self.hb.next = self.rlen.q.val().get_bits::<8>(0);
        }
        if self.tidx.q.val() == self.idx9[6].val() {
            self.hb.next = self.rlen_hi.val();
        }
        if self.st.q.val() == self.st_txh.val() {
            if !self.txv.q.val() && !self.crc.busy.val() {
                self.txb.d.next = self.hb.val();
                self.txv.d.next = true;
                self.crc.din.next = self.hb.val();
                if self.tidx.q.val() == self.idx9[0].val() {
                    self.crc.clear.next = true;
                } else {
                    self.crc.load.next = true;
                }
            }
            if self.txv.q.val() && self.utx.in_ready.val() {
                self.txv.d.next = false;
                self.tidx.d.next = self.tidx_inc.val();
                if self.tidx.q.val() == self.idx9[6].val() {
                    self.tidx.d.next = self.zero9.val();
                    self.cnt.d.next = self.zero9.val();
                    self.wait1.d.next = true;
                    if self.rlen.q.val() == self.zero9.val() {
                        self.st.d.next = self.st_txc.val();
                    } else {
                        self.st.d.next = self.st_txp.val();
                    }
                }
            }
        }
        // Payload bytes: PING from the buffer, INFO from the table, STATUS from the counters,
        // READ from the memory at `ma`, byte `bsel` of the element.
        self.rd_word.next = bit_cast::<32, 8>(self.mem_a.read_data.val());
        if self.mem.val() == self.one8.val() {
            self.rd_word.next = bit_cast::<32, 8>(self.mem_b.read_data.val());
        }
        self.brd.next = self.zero32.val();
        self.mrd.next = self.zero32.val().get_bits::<31>(0);
        self.crd.next = self.zero32.val().get_bits::<6>(0);
        for j in 0..self.bias.len() {
            if self.ma.q.val().index() == j {
                self.brd.next = self.bias[j].q.val();
                self.mrd.next = self.mreg[j].q.val();
                self.crd.next = self.creg[j].q.val();
            }
        }
        if self.mem.val() == self.two8.val() {
            self.rd_word.next = self.brd.val();
        }
        if self.mem.val() == self.three8.val() {
            self.rd_word.next = bit_cast::<32, 31>(self.mrd.val());
        }
        if self.mem.val() == self.four8.val() {
            self.rd_word.next = bit_cast::<32, 6>(self.crd.val());
        }
        if self.mem.val() == self.five8.val() {
            self.rd_word.next = bit_cast::<32, 16>(self.mem_rin.read_data.val());
        }
        if self.mem.val() == self.six8.val() {
            self.rd_word.next = self.mem_lnb.read_data.val();
        }
        if self.mem.val() == self.seven8.val() {
            self.rd_word.next = self.mem_mm.read_data.val();
        }
        if self.mem.val() == self.eight8.val() {
            self.rd_word.next = self.mem_rout.read_data.val();
        }
        self.pb.next = self.rd_word.val().get_bits::<8>(0);
        if self.bsel.q.val() == self.one2.val() {
            self.pb.next = self.rd_word.val().get_bits::<8>(8);
        }
        if self.bsel.q.val() == self.two2.val() {
            self.pb.next = self.rd_word.val().get_bits::<8>(16);
        }
        if self.bsel.q.val() == self.three2.val() {
            self.pb.next = self.rd_word.val().get_bits::<8>(24);
        }
        if self.cmd.q.val() == self.c_ping.val() {
            self.pb.next = self.pbuf.read_data.val();
        }
        if self.cmd.q.val() == self.c_info.val() {
            self.pb.next = self.zero8.val();
            for i in 0..self.info.len() {
                if self.cnt.q.val().index() == i {
                    self.pb.next = self.info[i].val();
                }
            }
        }
        if self.cmd.q.val() == self.c_status.val() {
            self.pb.next = self.zero8.val();
            for i in 0..N_COUNTERS {
                if self.cnt.q.val().get_bits::<8>(1).index() == i {
                    self.pb.next = self.counters[i].q.val().get_bits::<8>(0);
                    if self.cnt.q.val().get_bit(0) {
                        self.pb.next = self.counters[i].q.val().get_bits::<8>(8);
                    }
                }
            }
        }
        if self.st.q.val() == self.st_txp.val() {
            if !self.txv.q.val() && !self.crc.busy.val() && !self.wait1.q.val() {
                self.txb.d.next = self.pb.val();
                self.txv.d.next = true;
                self.crc.din.next = self.pb.val();
                self.crc.load.next = true;
            }
            if self.txv.q.val() && self.utx.in_ready.val() {
                self.txv.d.next = false;
                self.wait1.d.next = true;
                self.cnt.d.next = self.cnt_inc.val();
                self.bsel.d.next = self.bsel.q.val() + self.one2.val();
                if self.bsel.q.val() == self.wlast.q.val() {
                    self.bsel.d.next = self.zero2.val();
                    self.ma.d.next = self.ma.q.val() + self.one16.val();
                }
                if self.cnt_inc.val() == self.rlen.q.val() {
                    self.st.d.next = self.st_txc.val();
                }
            }
        }
        if self.st.q.val() == self.st_txc.val() {
            if !self.txv.q.val() && !self.crc.busy.val() {
                self.txb.d.next = self.crc.rem.val();
                self.txv.d.next = true;
            }
            if self.txv.q.val() && self.utx.in_ready.val() {
                self.txv.d.next = false;
                self.st.d.next = self.st_hunt.val();
            }
        }

        // ---------------- flags, counters, status ----------------
        self.flags.d.next = self.flags.q.val() | self.ev.val();
        if (self.st.q.val() == self.st_txh.val())
            && !self.txv.q.val()
            && !self.crc.busy.val()
            && (self.tidx.q.val() == self.idx9[4].val())
        {
            // The flags byte is latched for sending now: cleared, keeping this cycle's events.
            self.flags.d.next = self.ev.val();
        }
        for i in 0..N_COUNTERS {
            if self.cinc[i].val() && (self.counters[i].q.val() != self.ffff16.val()) {
                self.counters[i].d.next = self.counters[i].q.val() + self.one16.val();
            }
        }
        self.busy.next = !self.receiving.val();

        // ---------------- reset ----------------
        if self.reset.val() {
            self.st.d.next = self.st_hunt.val();
            self.flags.d.next = self.zero4.val();
            self.txv.d.next = false;
            self.wait1.d.next = false;
            self.itick.d.next = self.div_m1.val();
            self.ibits.d.next = self.zero16.val();
            self.m_bad.d.next = false;
            self.sh_bad.d.next = false;
            self.rqph.d.next = false;
            self.fmore.d.next = false;
            for i in 0..N_COUNTERS {
                self.counters[i].d.next = self.zero16.val();
            }
        }
    }
}

impl<const AB: usize> PortDut for Engine<AB> {
    fn ports(&self) -> PortIo {
        PortIo {
            inputs: vec![Field::new("rx", 1, false)],
            outputs: vec![Field::new("tx", 1, false), Field::new("busy", 1, false)],
            registers: vec![
                "st$q", "cmd$q", "seq$q", "plen$q", "pcnt$q", "status$q", "rlen$q", "tidx$q",
                "txb$q", "txv$q", "flags$q", "kk$q", "ii$q", "fcount$q", "ocount$q",
            ],
        }
    }

    fn drive_ports(&mut self, clock: bool, reset: bool, inputs: &[u64]) {
        self.clock.next = Clock { clk: clock };
        self.reset.next = reset;
        self.rx.next = inputs[0] != 0;
    }

    fn sample_ports(&self) -> Vec<u64> {
        vec![u64::from(self.tx.val()), u64::from(self.busy.val())]
    }

    fn as_block(&self) -> &dyn Block {
        self
    }
}

/// Builds, connects and emits the engine for `p` (module `{prefix}engine`), dispatching on the
/// address width; also returns the connected block as a [`PortDut`] for simulation.
pub fn build(p: &EngineParams) -> Result<Box<dyn PortDut>, EngineError> {
    fn one<const AB: usize>(p: &EngineParams) -> Result<Box<dyn PortDut>, EngineError> {
        let mut e = Engine::<AB>::new(p)?;
        e.connect_all();
        Ok(Box::new(e))
    }
    match p.check()? {
        4 => one::<4>(p),
        5 => one::<5>(p),
        6 => one::<6>(p),
        7 => one::<7>(p),
        8 => one::<8>(p),
        9 => one::<9>(p),
        10 => one::<10>(p),
        ab => Err(EngineError(format!("{ab} address bits not supported"))),
    }
}

/// The engine's Verilog (top module `{prefix}engine`).
pub fn emit(p: &EngineParams, prefix: &str) -> Result<String, EngineError> {
    let e = build(p)?;
    crate::emit::generate(e.as_block(), "engine", prefix).map_err(|e| EngineError(e.to_string()))
}
