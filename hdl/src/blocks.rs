//! The block registry: every block `itx` knows, its generator parameters (ranges, defaults), and
//! how to build it. One [`Config`] is one parameter set; it builds the RustHDL block for simulation
//! and emits its Verilog, so the two can never be built from different parameters.
use std::collections::BTreeMap;
use std::fmt;

use rust_hdl::prelude::*;

use crate::emit::{self, EmitError};
use crate::exp_shift::{self, ExpShift};
use crate::fmul::{FMul, FMulParams};
use crate::layernorm::{self, LayerNorm, LayerNormParams};
use crate::lmul::{LMul, LMulParams};
use crate::lmul_dot::LMulDot;
use crate::mac_array::MacArray;
use crate::ports::{PortDut, PortIo};
use crate::recip::{self, Recip};
use crate::requant::{self, Requant};
use crate::requant_add::{self, RequantAdd};
use crate::shiftgelu::{self, Shiftgelu, ShiftgeluParams};
use crate::shiftmax::{self, Shiftmax, ShiftmaxParams};
use crate::stream::{Field, StreamDut, StreamIo};
use crate::uart::{UartRx, UartTx};
use golden::float_format::{Format, Overflow};

/// The values a parameter may take.
#[derive(Clone, Copy, Debug)]
pub enum ParamKind {
    /// One of a fixed list of words or numbers.
    Choice(&'static [&'static str]),
    /// An integer in `min..=max`, or `auto` (the block derives it from other parameters).
    IntOrAuto { min: i64, max: i64 },
    /// An integer in `min..=max`.
    Int { min: i64, max: i64 },
}

/// One generator parameter of a block.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    pub default: &'static str,
    pub doc: &'static str,
}

impl ParamSpec {
    /// The allowed values, as `itx blocks` prints them.
    pub fn range(&self) -> String {
        match self.kind {
            ParamKind::Choice(c) => c.join(", "),
            ParamKind::IntOrAuto { min, max } => format!("auto, {min}..={max}"),
            ParamKind::Int { min, max } => format!("{min}..={max}"),
        }
    }

    fn check(&self, block: &str, value: &str) -> Result<(), ParamError> {
        let ok = match self.kind {
            ParamKind::Choice(c) => c.contains(&value),
            ParamKind::IntOrAuto { min, max } => {
                value == "auto" || value.parse::<i64>().is_ok_and(|v| (min..=max).contains(&v))
            }
            ParamKind::Int { min, max } => {
                value.parse::<i64>().is_ok_and(|v| (min..=max).contains(&v))
            }
        };
        if ok {
            Ok(())
        } else {
            Err(ParamError::OutOfRange {
                block: block.to_string(),
                param: self.name.to_string(),
                value: value.to_string(),
                allowed: self.range(),
            })
        }
    }
}

/// A block `itx` can emit, verify and synthesize.
#[derive(Debug)]
pub struct BlockSpec {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
    /// The vector-file op this block runs (`itx verify --vectors`), if any.
    pub vector_op: Option<&'static str>,
}

/// Every block, in the order `itx blocks` lists them.
pub static BLOCKS: &[BlockSpec] = &[BlockSpec {
    name: "requant",
    summary:
        "dyadic requantizer: int32 x, runtime (m, c), saturated int8/int16 out; 5-stage pipeline",
    params: &[
        ParamSpec {
            name: "bits",
            kind: ParamKind::Choice(&["8", "16"]),
            default: "8",
            doc: "output width",
        },
        ParamSpec {
            name: "rounding",
            kind: ParamKind::Choice(&["half-even", "half-up"]),
            default: "half-even",
            doc: "rounding of x*m/2^c: ties to even (torch.round) or up (TVM UPWARD)",
        },
    ],
    vector_op: Some("requant"),
},
BlockSpec {
    name: "requant-add",
    summary:
        "requantized residual add: sat(round(x*m/2^c) + round(z*m1/2^c1)), runtime (m, c, m1, c1); 6-stage pipeline",
    params: &[
        ParamSpec {
            name: "bits",
            kind: ParamKind::Choice(&["8", "16"]),
            default: "8",
            doc: "output width",
        },
        ParamSpec {
            name: "rounding",
            kind: ParamKind::Choice(&["half-even", "half-up"]),
            default: "half-even",
            doc: "rounding of each branch: ties to even (torch.round) or up (TVM UPWARD)",
        },
    ],
    vector_op: Some("requant_add"),
},
BlockSpec {
    name: "lmul",
    summary: "L-Mul: a float multiply approximated by one integer addition (e4m3, e5m2, bf16)",
    params: &[
        FORMAT,
        ParamSpec {
            name: "l",
            kind: ParamKind::IntOrAuto { min: 1, max: 16 },
            default: "auto",
            doc: "offset 2^-l (auto: l(M) of the paper, 3/2/4 for e4m3/e5m2/bf16; l > M: none)",
        },
        OVERFLOW,
        SPECIALS,
        REGISTERED,
    ],
    vector_op: Some("lmul"),
},
BlockSpec {
    name: "lmul-dot",
    summary: "K-lane L-Mul dot product (e4m3, e5m2), exact fixed-point sum in a pipelined adder tree",
    params: &[
        ParamSpec {
            name: "format",
            kind: ParamKind::Choice(&["e4m3", "e5m2"]),
            default: "e4m3",
            doc: "fp8 format of the lanes",
        },
        ParamSpec {
            name: "k",
            kind: ParamKind::Choice(&["1", "2", "3", "4", "8", "16", "32", "64"]),
            default: "16",
            doc: "lanes (products summed per dot product)",
        },
    ],
    vector_op: None,
},
BlockSpec {
    name: "fmul",
    summary: "exact float multiplier (round to nearest even), the baseline for L-Mul",
    params: &[FORMAT, OVERFLOW, SPECIALS, REGISTERED],
    vector_op: Some("fmul"),
},
BlockSpec {
    name: "exp-shift",
    summary: "I-ViT's shift-based exponential exp_shift(d, x0, n), saturated at 2^31; 5-stage pipeline",
    params: &[
        ParamSpec {
            name: "n",
            kind: ParamKind::Int { min: 1, max: 30 },
            default: "15",
            doc: "exponent clamp (15 for Shiftmax, 23 for ShiftGELU)",
        },
        X0_BITS,
    ],
    vector_op: None,
},
BlockSpec {
    name: "shiftmax",
    summary: "Shiftmax (I-ViT integer softmax) row unit: int8 rows in, out_bits probabilities out",
    params: &[
        ParamSpec {
            name: "max_len",
            kind: ParamKind::Int { min: 1, max: 4096 },
            default: "256",
            doc: "longest row (buffer depth); rows of 1..=max_len at run time",
        },
        ParamSpec {
            name: "out_bits",
            kind: ParamKind::Choice(&["8", "16"]),
            default: "16",
            doc: "output width (16 for ViT/DeiT, 8 for Swin)",
        },
        ParamSpec {
            name: "n",
            kind: ParamKind::Int { min: 1, max: 30 },
            default: "15",
            doc: "exp_shift exponent clamp",
        },
        UNIT_X0_BITS,
        ParamSpec {
            name: "recip",
            kind: ParamKind::Choice(&["iterative", "pipelined"]),
            default: "iterative",
            doc: "the once-per-row reciprocal: iterative (27 cycles, small) or pipelined (7 cycles, ~900 more iCE40 LUTs)",
        },
    ],
    vector_op: Some("shiftmax"),
},
BlockSpec {
    name: "shiftgelu",
    summary: "ShiftGELU (I-ViT integer GELU) row unit: int8 rows in, int16 out (in_bits=16: int16 rows, GELU with a linear tail, int23 out); one recip per element",
    params: &[
        ParamSpec {
            name: "max_len",
            kind: ParamKind::Int { min: 1, max: 4096 },
            default: "1536",
            doc: "longest row (buffer depth); rows of 1..=max_len at run time",
        },
        ParamSpec {
            name: "n",
            kind: ParamKind::Int { min: 1, max: 30 },
            default: "23",
            doc: "exp_shift exponent clamp",
        },
        UNIT_X0_BITS,
        ParamSpec {
            name: "in_bits",
            kind: ParamKind::Choice(&["8", "16"]),
            default: "8",
            doc: "input width: 8 (int8 x, int16 y), or 16 (int16 x; ShiftGELU of sat8(x) plus the linear tail 128*max(x-127,0); int23 y)",
        },
    ],
    vector_op: Some("shiftgelu"),
},
BlockSpec {
    name: "layernorm",
    summary: "I-LayerNorm (I-ViT integer LayerNorm) row unit: int16 rows, int32 bias and a per-channel sign in, int32 out",
    params: &[
        ParamSpec {
            name: "max_len",
            kind: ParamKind::Int { min: 1, max: 4096 },
            default: "1024",
            doc: "longest row (buffer depth); rows of 1..=max_len at run time",
        },
        ParamSpec {
            name: "sqrt",
            kind: ParamKind::Choice(&["ivit", "exact"]),
            default: "ivit",
            doc: "square root: ivit (10 Newton steps, bit-exact with I-ViT) or exact (digit recurrence)",
        },
    ],
    vector_op: Some("layernorm"),
},
BlockSpec {
    name: "recip",
    summary: "recip(s) = floor(2^31 * rne24(1/s)), the reference's float32 (2^31-1)/s; pipelined divider",
    params: &[],
    vector_op: None,
},
BlockSpec {
    name: "mac-array",
    summary: "output-stationary systolic MAC array: int8 (or u16) A x int8 B + int32 bias, requantized per column",
    params: &[
        ParamSpec {
            name: "rows",
            kind: ParamKind::Int { min: 1, max: 32 },
            default: "4",
            doc: "PE rows (rows of A and of the result per tile)",
        },
        ParamSpec {
            name: "cols",
            kind: ParamKind::Int { min: 1, max: 32 },
            default: "4",
            doc: "PE columns (columns of B and of the result per tile)",
        },
        ParamSpec {
            name: "a_signed",
            kind: ParamKind::Choice(&["true", "false"]),
            default: "true",
            doc: "A is int8 (true) or unsigned 16-bit 0..=65535 (false: attention probabilities x V)",
        },
        ParamSpec {
            name: "out_bits",
            kind: ParamKind::Choice(&["8", "16", "32"]),
            default: "8",
            doc: "requantized int8/int16 per column (run-time m, c), or 32: the raw int32 sums",
        },
        ParamSpec {
            name: "rounding",
            kind: ParamKind::Choice(&["half-even", "half-up"]),
            default: "half-even",
            doc: "requantizer rounding (out_bits 8/16)",
        },
        ParamSpec {
            name: "pe",
            kind: ParamKind::Choice(&["infer", "pipelined", "sb_mac16_dual", "mult18x18d"]),
            default: "infer",
            doc: "PE multiplier: infer (one DSP per PE; iCE40 int8: the whole MAC in the SB_MAC16), pipelined (registered product, accumulator in fabric, +1 cycle: for ECP5 Fmax), sb_mac16_dual (iCE40 UP5K: two int8 PEs per SB_MAC16 in dual 8x8 mode, a_signed only), mult18x18d (ECP5 only: one instantiated MULT18X18D per PE with its input, pipeline and output registers plus a fabric product register, accumulator in fabric, registered global enable with a spare output register, +4 cycles; rows x cols <= 156, the LFE5U-85F's MULT18X18D count)",
        },
    ],
    vector_op: Some("matmul"),
},
BlockSpec {
    name: "uart-tx",
    summary: "UART 8N1 transmitter: valid/ready byte stream in, serial line out (registered, idle high), frames back to back",
    params: UART_PARAMS,
    vector_op: None,
},
BlockSpec {
    name: "uart-rx",
    summary: "UART 8N1 receiver: serial line in (2-flop synchronizer, mid-bit sampling), byte + valid pulse and frame_err pulse out",
    params: UART_PARAMS,
    vector_op: None,
}];

/// The UART's parameters: the bit time, given as `div` or derived from `clk_hz` and `baud`.
/// Defaults: iCEBreaker (12 MHz, 115200 baud -> div 104, 115384.6 baud, +0.16%).
const UART_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "div",
        kind: ParamKind::IntOrAuto {
            min: golden::uart::MIN_DIV as i64,
            max: golden::uart::MAX_DIV as i64,
        },
        default: "auto",
        doc: "clock cycles per bit (auto: round(clk_hz / baud), refused beyond 1% baud error)",
    },
    ParamSpec {
        name: "clk_hz",
        kind: ParamKind::Int {
            min: 1,
            max: 1_000_000_000,
        },
        default: "12000000",
        doc: "clock frequency in Hz, for div=auto (iCEBreaker 12000000, ULX3S 25000000)",
    },
    ParamSpec {
        name: "baud",
        kind: ParamKind::Int {
            min: 1,
            max: 100_000_000,
        },
        default: "115200",
        doc: "baud rate, for div=auto",
    },
];

/// The file stem of a block's twins (`golden/src`, `hdl/src`, `testbench/tests`): the block name
/// with `_` for `-`, except for the UART, whose two directions share `uart.rs`.
pub fn file_stem(block: &str) -> String {
    match block {
        "uart-tx" | "uart-rx" => "uart".to_string(),
        other => other.replace('-', "_"),
    }
}

/// `pe = mult18x18d`: the most PEs, one MULT18X18D each (the LFE5U-85F, the largest ECP5, has
/// 156).
pub const MULT18X18D_MAX: usize = 156;

const UNIT_X0_BITS: ParamSpec = ParamSpec {
    name: "x0_bits",
    kind: ParamKind::Choice(&["8", "12", "16"]),
    default: "8",
    doc: "width of the run-time x0 port (x0 in -2^(x0_bits-1)..=-1)",
};
const X0_BITS: ParamSpec = ParamSpec {
    name: "x0_bits",
    kind: ParamKind::Int { min: 8, max: 16 },
    default: "8",
    doc: "width of the run-time x0 port (x0 in -2^(x0_bits-1)..=-1)",
};

const FORMAT: ParamSpec = ParamSpec {
    name: "format",
    kind: ParamKind::Choice(&["e4m3", "e5m2", "bf16"]),
    default: "e4m3",
    doc: "floating-point format",
};
const OVERFLOW: ParamSpec = ParamSpec {
    name: "overflow",
    kind: ParamKind::Choice(&["saturate", "ieee"]),
    default: "saturate",
    doc: "overflow result: largest finite value, or Inf (formats with Inf)",
};
const SPECIALS: ParamSpec = ParamSpec {
    name: "specials",
    kind: ParamKind::Choice(&["full", "none"]),
    default: "full",
    doc: "full: every NaN/Inf rule; none: bare arithmetic with flush and saturation (area comparisons)",
};
const REGISTERED: ParamSpec = ParamSpec {
    name: "registered",
    kind: ParamKind::Choice(&["true", "false"]),
    default: "true",
    doc: "output register (latency 1) or combinational (latency 0)",
};

/// A bad block name or parameter.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParamError {
    #[error("unknown block `{0}` (known: {1})")]
    UnknownBlock(String, String),
    #[error("block `{block}` has no parameter `{param}` (parameters: {known})")]
    UnknownParam {
        block: String,
        param: String,
        known: String,
    },
    #[error(
        "block `{block}`: parameter `{param}` = `{value}` is out of range (allowed: {allowed})"
    )]
    OutOfRange {
        block: String,
        param: String,
        value: String,
        allowed: String,
    },
    #[error("`--set` expects key=value, got `{0}`")]
    Syntax(String),
    #[error("block `{block}`: parameter `{param}` is given twice")]
    Twice { block: String, param: String },
    #[error("block `{block}`: {msg}")]
    Constraint { block: String, msg: String },
}

/// Looks a block up by name.
pub fn find(name: &str) -> Result<&'static BlockSpec, ParamError> {
    BLOCKS.iter().find(|b| b.name == name).ok_or_else(|| {
        ParamError::UnknownBlock(
            name.to_string(),
            BLOCKS.iter().map(|b| b.name).collect::<Vec<_>>().join(", "),
        )
    })
}

/// Splits `key=value`.
pub fn parse_set(s: &str) -> Result<(String, String), ParamError> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
            Ok((k.trim().to_string(), v.trim().to_string()))
        }
        _ => Err(ParamError::Syntax(s.to_string())),
    }
}

/// One block with every parameter resolved (given or default), checked against its range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub block: &'static str,
    pub values: BTreeMap<&'static str, String>,
}

impl fmt::Display for Config {
    /// `bits=8 rounding=half-even`, in the block's parameter order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spec = find(self.block).map_err(|_| fmt::Error)?;
        let parts: Vec<String> = spec
            .params
            .iter()
            .map(|p| format!("{}={}", p.name, self.values[p.name]))
            .collect();
        f.write_str(&parts.join(" "))
    }
}

/// The Verilog of one configuration and what a harness needs to drive it.
#[derive(Clone, Debug)]
pub struct Emitted {
    pub config: Config,
    pub top: String,
    pub verilog: String,
    /// Stream blocks: the stream fields. Port-level blocks: every port but `clock` and `reset`
    /// (the same lists as `ports`), for waveform views.
    pub io: StreamIo,
    /// Port-level blocks ([`Config::is_port_level`]): the ports a trace drives and reads.
    pub ports: Option<PortIo>,
    pub latency: usize,
}

impl Config {
    /// Resolves `sets` (key, value) against the block's parameters.
    pub fn new(block: &str, sets: &[(String, String)]) -> Result<Config, ParamError> {
        let spec = find(block)?;
        let mut values: BTreeMap<&'static str, String> = BTreeMap::new();
        for (k, v) in sets {
            let p = spec.params.iter().find(|p| p.name == k).ok_or_else(|| {
                ParamError::UnknownParam {
                    block: block.to_string(),
                    param: k.clone(),
                    known: spec
                        .params
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            })?;
            p.check(block, v)?;
            if values.insert(p.name, v.clone()).is_some() {
                return Err(ParamError::Twice {
                    block: block.to_string(),
                    param: k.clone(),
                });
            }
        }
        for p in spec.params {
            values
                .entry(p.name)
                .or_insert_with(|| p.default.to_string());
        }
        let config = Config {
            block: spec.name,
            values,
        };
        config.check_constraints()?;
        Ok(config)
    }

    /// Checks the limits that tie parameters together.
    fn check_constraints(&self) -> Result<(), ParamError> {
        if self.block == "mac-array" && self.get("pe") == "sb_mac16_dual" && !self.a_signed() {
            return Err(ParamError::Constraint {
                block: self.block.to_string(),
                msg: "pe=sb_mac16_dual needs a_signed=true (the SB_MAC16's 8x8 halves take int8 operands only)".to_string(),
            });
        }
        if self.block == "mac-array" && self.get("pe") == "mult18x18d" {
            let (r, c) = (self.int("rows"), self.int("cols"));
            if r * c > MULT18X18D_MAX as i64 {
                return Err(ParamError::Constraint {
                    block: self.block.to_string(),
                    msg: format!(
                        "pe=mult18x18d needs rows x cols <= {MULT18X18D_MAX} (one MULT18X18D per PE; the largest ECP5, the LFE5U-85F, has {MULT18X18D_MAX}), got {r} x {c} = {}",
                        r * c
                    ),
                });
            }
        }
        if self.is_port_level() {
            self.bit_timing().map_err(|e| ParamError::Constraint {
                block: self.block.to_string(),
                msg: e.to_string(),
            })?;
        }
        if matches!(self.block, "shiftmax" | "shiftgelu") {
            let (n, xb) = (self.int("n"), self.x0_bits() as i64);
            if n + xb - 1 > 31 {
                return Err(ParamError::Constraint {
                    block: self.block.to_string(),
                    msg: format!(
                        "n + x0_bits - 1 = {n} + {xb} - 1 = {} exceeds 31 (exp_shift's e <= |x0| * 2^n must fit the 2^31 row-sum cap)",
                        n + xb - 1
                    ),
                });
            }
        }
        Ok(())
    }

    /// Parses `key=value` strings, as given to `--set`.
    pub fn from_sets(block: &str, sets: &[String]) -> Result<Config, ParamError> {
        let pairs = sets
            .iter()
            .map(|s| parse_set(s))
            .collect::<Result<Vec<_>, _>>()?;
        Config::new(block, &pairs)
    }

    /// The value of a parameter (every parameter has one after [`Config::new`]).
    pub fn get(&self, name: &str) -> &str {
        self.values
            .get(name)
            .unwrap_or_else(|| panic!("block `{}` has no parameter `{name}`", self.block))
    }

    /// A short name for files and caches: `requant-bits8-half-even`.
    pub fn slug(&self) -> String {
        let mut s = self.block.to_string();
        for v in find(self.block).expect("config of a known block").params {
            s.push('-');
            let val = &self.values[v.name];
            if val.chars().all(|c| c.is_ascii_digit()) || val == "true" || val == "false" {
                s.push_str(v.name);
            }
            s.push_str(val);
        }
        s
    }

    /// Port-level blocks (no stream sample model): driven port by port with
    /// [`Config::build_ports`], never with [`Config::build`].
    pub fn is_port_level(&self) -> bool {
        matches!(self.block, "uart-tx" | "uart-rx")
    }

    /// The UART's bit time: `div`, or `round(clk_hz / baud)` for `div = auto` (checked).
    pub fn bit_timing(&self) -> Result<golden::uart::BitTiming, golden::uart::UartError> {
        match self.get("div") {
            "auto" => {
                golden::uart::BitTiming::new(self.int("clk_hz") as u64, self.int("baud") as u64)
            }
            _ => golden::uart::BitTiming::from_div(self.int("div") as u64),
        }
    }

    /// Builds a port-level block, connected and ready to simulate. Panics for a stream block
    /// (callers check [`Config::is_port_level`]).
    pub fn build_ports(&self) -> Box<dyn PortDut> {
        let timing = self.bit_timing().expect("checked by Config::new");
        let mut dut: Box<dyn PortDut> = match self.block {
            "uart-tx" => Box::new(UartTx::new(timing)),
            "uart-rx" => Box::new(UartRx::new(timing)),
            other => panic!("block `{other}` is a stream block: use Config::build"),
        };
        dut.connect_all();
        dut
    }

    /// Builds the RustHDL block, connected and ready to simulate. Panics for a port-level block
    /// (callers check [`Config::is_port_level`] and use [`Config::build_ports`]).
    pub fn build(&self) -> Box<dyn StreamDut> {
        let mut dut: Box<dyn StreamDut> = match self.block {
            "requant" => {
                let rounding = self
                    .get("rounding")
                    .parse()
                    .expect("checked by Config::new");
                match self.get("bits") {
                    "8" => Box::new(Requant::<8>::new(rounding).expect("bits checked")),
                    _ => Box::new(Requant::<16>::new(rounding).expect("bits checked")),
                }
            }
            "requant-add" => {
                let rounding = self
                    .get("rounding")
                    .parse()
                    .expect("checked by Config::new");
                match self.get("bits") {
                    "8" => Box::new(RequantAdd::<8>::new(rounding).expect("bits checked")),
                    _ => Box::new(RequantAdd::<16>::new(rounding).expect("bits checked")),
                }
            }
            "lmul" => {
                let p = self.lmul_params();
                let r = self.registered();
                match p.format.width() {
                    8 => Box::new(LMul::<8>::new(&p, r)),
                    _ => Box::new(LMul::<16>::new(&p, r)),
                }
            }
            "fmul" => {
                let p = self.fmul_params();
                let r = self.registered();
                match p.format.width() {
                    8 => Box::new(FMul::<8>::new(&p, r)),
                    _ => Box::new(FMul::<16>::new(&p, r)),
                }
            }
            "lmul-dot" => self.build_lmul_dot(),
            "exp-shift" => {
                let n = self.int("n") as u32;
                macro_rules! by_x0_bits {
                    ($($xb:literal)*) => {
                        match self.x0_bits() {
                            $($xb => Box::new(ExpShift::<$xb>::new(n)) as Box<dyn StreamDut>,)*
                            other => unreachable!("x0_bits {other} checked by Config::new"),
                        }
                    };
                }
                by_x0_bits!(8 9 10 11 12 13 14 15 16)
            }
            "recip" => Box::new(Recip::default()),
            "shiftmax" => self.build_shiftmax(),
            "shiftgelu" => {
                let p = ShiftgeluParams {
                    n: self.int("n") as u32,
                    max_len: self.max_len(),
                };
                macro_rules! pick {
                    ($($xb:literal $ab:literal $ib:literal),* $(,)?) => {
                        match (self.x0_bits(), self.addr_bits(), self.in_bits()) {
                            $(($xb, $ab, $ib) => Box::new(
                                Shiftgelu::<$xb, $ab, $ib, { shiftgelu::out_bits($ib) }>::new(&p),
                            ) as Box<dyn StreamDut>,)*
                            other => unreachable!("shiftgelu (x0_bits, addr bits, in_bits) {other:?}"),
                        }
                    };
                }
                pick!(
                    8 4 8, 8 6 8, 8 8 8, 8 10 8, 8 12 8, 12 4 8, 12 6 8, 12 8 8, 12 10 8, 12 12 8,
                    16 4 8, 16 6 8, 16 8 8, 16 10 8, 16 12 8,
                    8 4 16, 8 6 16, 8 8 16, 8 10 16, 8 12 16, 12 4 16, 12 6 16, 12 8 16, 12 10 16,
                    12 12 16, 16 4 16, 16 6 16, 16 8 16, 16 10 16, 16 12 16,
                )
            }
            "layernorm" => self.build_layernorm(),
            "mac-array" => self.build_mac_array(),
            "uart-tx" | "uart-rx" => panic!(
                "block `{}` is port-level: use Config::build_ports",
                self.block
            ),
            other => unreachable!("block `{other}` is in BLOCKS but not in Config::build"),
        };
        dut.connect_all();
        dut
    }

    /// The golden format of a `format` parameter.
    pub fn format(&self) -> Format {
        Format::from_name(self.get("format")).expect("format checked by Config::new")
    }

    /// The `overflow` parameter.
    pub fn overflow(&self) -> Overflow {
        self.get("overflow")
            .parse()
            .expect("overflow checked by Config::new")
    }

    /// The `l` parameter, with `auto` resolved to the format's default.
    pub fn l(&self) -> u32 {
        match self.get("l") {
            "auto" => self.format().default_l(),
            v => v.parse().expect("l checked by Config::new"),
        }
    }

    /// An integer parameter.
    pub fn int(&self, name: &str) -> i64 {
        self.get(name)
            .parse()
            .unwrap_or_else(|_| panic!("`{name}` is an integer parameter (checked by Config::new)"))
    }

    /// The `x0_bits` parameter.
    pub fn x0_bits(&self) -> usize {
        self.int("x0_bits") as usize
    }

    /// The `in_bits` parameter (shiftgelu): 8, or 16 for int16 rows with the linear tail.
    pub fn in_bits(&self) -> usize {
        self.int("in_bits") as usize
    }

    /// The `k` parameter (lanes).
    pub fn k(&self) -> usize {
        self.get("k").parse().expect("k checked by Config::new")
    }

    /// The `max_len` parameter.
    pub fn max_len(&self) -> usize {
        self.int("max_len") as usize
    }

    /// Buffer address bits for `max_len`: the smallest of 4, 6, 8, 10, 12 that holds it.
    pub fn addr_bits(&self) -> usize {
        let need = (usize::BITS - (self.max_len() - 1).leading_zeros()) as usize;
        [4, 6, 8, 10, 12]
            .into_iter()
            .find(|&b| b >= need)
            .expect("max_len <= 4096 checked by Config::new")
    }

    fn build_shiftmax(&self) -> Box<dyn StreamDut> {
        let p = ShiftmaxParams {
            n: self.int("n") as u32,
            max_len: self.max_len(),
            iterative: self.get("recip") == "iterative",
        };
        let ob = self.int("out_bits") as usize;
        macro_rules! pick {
            ($($xb:literal $ab:literal $ob:literal),* $(,)?) => {
                match (self.x0_bits(), self.addr_bits(), ob) {
                    $(($xb, $ab, $ob) => Box::new(Shiftmax::<$xb, $ab, $ob>::new(&p)) as Box<dyn StreamDut>,)*
                    other => unreachable!("shiftmax (x0_bits, addr bits, out_bits) {other:?}"),
                }
            };
        }
        pick!(
            8 4 8, 8 6 8, 8 8 8, 8 10 8, 8 12 8, 8 4 16, 8 6 16, 8 8 16, 8 10 16, 8 12 16,
            12 4 8, 12 6 8, 12 8 8, 12 10 8, 12 12 8, 12 4 16, 12 6 16, 12 8 16, 12 10 16, 12 12 16,
            16 4 8, 16 6 8, 16 8 8, 16 10 8, 16 12 8, 16 4 16, 16 6 16, 16 8 16, 16 10 16, 16 12 16,
        )
    }

    /// The `sqrt` parameter (layernorm).
    pub fn sqrt_mode(&self) -> golden::layernorm::SqrtMode {
        self.get("sqrt")
            .parse()
            .expect("sqrt checked by Config::new")
    }

    fn build_layernorm(&self) -> Box<dyn StreamDut> {
        let p = LayerNormParams {
            sqrt: self.sqrt_mode(),
            max_len: self.max_len(),
        };
        match self.addr_bits() {
            4 => Box::new(LayerNorm::<4>::new(&p)),
            6 => Box::new(LayerNorm::<6>::new(&p)),
            8 => Box::new(LayerNorm::<8>::new(&p)),
            10 => Box::new(LayerNorm::<10>::new(&p)),
            12 => Box::new(LayerNorm::<12>::new(&p)),
            other => unreachable!("layernorm addr bits {other}"),
        }
    }

    fn build_mac_array(&self) -> Box<dyn StreamDut> {
        let (r, c) = (self.int("rows") as usize, self.int("cols") as usize);
        let rounding = self
            .get("rounding")
            .parse()
            .expect("rounding checked by Config::new");
        macro_rules! pick {
            ($($aw:literal $ob:literal),*) => {
                match (if self.a_signed() { 8 } else { 16 }, self.int("out_bits")) {
                    $(($aw, $ob) => Box::new(
                        MacArray::<$aw, $ob>::new(r, c, rounding, self.pe_product())
                            .expect("checked by Config::new"),
                    ) as Box<dyn StreamDut>,)*
                    other => unreachable!("mac-array (A width, out_bits) {other:?}"),
                }
            };
        }
        pick!(8 8, 8 16, 8 32, 16 8, 16 16, 16 32)
    }

    /// `pe = sb_mac16_dual` (mac-array).
    pub fn dual_pe(&self) -> bool {
        self.get("pe") == "sb_mac16_dual"
    }

    /// Where the MAC array's PEs take their products from (the `pe` parameter).
    pub fn pe_product(&self) -> crate::mac_array::Product {
        use crate::mac_array::Product;
        match self.get("pe") {
            "sb_mac16_dual" => Product::Shared,
            "pipelined" => Product::Registered,
            "mult18x18d" => Product::Mult18x18d,
            _ => Product::Mac,
        }
    }

    /// The `a_signed` parameter (mac-array).
    pub fn a_signed(&self) -> bool {
        self.get("a_signed") == "true"
    }

    /// The MAC array's cycle contract.
    pub fn array_timing(&self) -> golden::mac_array::ArrayTiming {
        golden::mac_array::ArrayTiming {
            rows: self.int("rows") as usize,
            cols: self.int("cols") as usize,
            requant: self.int("out_bits") != 32,
            product_stages: self.pe_product().stages(),
        }
    }

    fn build_lmul_dot(&self) -> Box<dyn StreamDut> {
        let fmt = self.format();
        let (k, l) = (self.k(), fmt.default_l());
        let width = golden::lmul_dot::acc_width(fmt, k) as usize;
        // (format, K) -> LMulDot<K, next_power_of_two(K), accumulator width>.
        macro_rules! dot {
            ($($f:literal $k:literal $p:literal $a:literal),* $(,)?) => {
                match (self.get("format"), k) {
                    $(($f, $k) => {
                        assert_eq!(width, $a, "accumulator width of {} K={}", $f, $k);
                        Box::new(LMulDot::<$k, $p, $a>::new(fmt.into(), l))
                    })*
                    (f, k) => unreachable!("lmul-dot format {f} k {k} checked by Config::new"),
                }
            };
        }
        dot!(
            "e4m3" 1 1 19, "e4m3" 2 2 20, "e4m3" 3 4 21, "e4m3" 4 4 21,
            "e4m3" 8 8 22, "e4m3" 16 16 23, "e4m3" 32 32 24, "e4m3" 64 64 25,
            "e5m2" 1 1 33, "e5m2" 2 2 34, "e5m2" 3 4 35, "e5m2" 4 4 35,
            "e5m2" 8 8 36, "e5m2" 16 16 37, "e5m2" 32 32 38, "e5m2" 64 64 39,
        )
    }

    fn registered(&self) -> bool {
        self.get("registered") == "true"
    }

    fn lmul_params(&self) -> LMulParams {
        LMulParams {
            format: self.format().into(),
            l: self.l(),
            ieee: self.overflow() == Overflow::Ieee,
            specials: self.get("specials") == "full",
        }
    }

    fn fmul_params(&self) -> FMulParams {
        FMulParams {
            format: self.format().into(),
            ieee: self.overflow() == Overflow::Ieee,
            specials: self.get("specials") == "full",
        }
    }

    /// Row units take whole rows (an input field `last` ends a row) and answer with whole rows.
    pub fn is_row_unit(&self) -> bool {
        matches!(self.block, "shiftmax" | "shiftgelu" | "layernorm")
    }

    /// Passes over a row (cycles per element when rows are long).
    pub fn passes(&self) -> usize {
        match self.block {
            "shiftmax" | "layernorm" => 3,
            "shiftgelu" => 2,
            _ => 1,
        }
    }

    /// A cycle budget on top of one cycle per sample, enough for `samples` in `rows` rows to come
    /// out when nothing stalls (generous: the simulation ends when the last output is taken).
    pub fn extra_cycles(&self, samples: usize, rows: usize) -> usize {
        if self.block == "mac-array" {
            let t = self.array_timing();
            rows * (t.min_tile_period() + t.rows) + t.latency() + 64
        } else if self.is_row_unit() {
            rows * (self.latency() + 16) + samples * (self.passes() - 1) + 64
        } else {
            self.latency()
        }
    }

    /// Cycles from an accepted input to its output without stalls (row units: from a row's last
    /// input to its first output, on top of the row length).
    pub fn latency(&self) -> usize {
        match self.block {
            "requant" => requant::LATENCY,
            "requant-add" => requant_add::LATENCY,
            "lmul" | "fmul" => usize::from(self.registered()),
            "lmul-dot" => 1 + self.k().next_power_of_two().trailing_zeros() as usize,
            "exp-shift" => exp_shift::LATENCY,
            "recip" => recip::LATENCY,
            "shiftmax" if self.get("recip") == "iterative" => shiftmax::ROW_LATENCY_ITER,
            "shiftmax" => shiftmax::ROW_LATENCY,
            "shiftgelu" => shiftgelu::ROW_LATENCY,
            "layernorm" => layernorm::row_latency(self.sqrt_mode()),
            "mac-array" => self.array_timing().latency(),
            "uart-tx" => crate::uart::TX_LATENCY,
            "uart-rx" => {
                golden::uart::rx_latency(self.bit_timing().expect("checked by Config::new").div)
                    as usize
            }
            other => unreachable!("block `{other}` has no latency"),
        }
    }

    /// Emits the Verilog with modules named `{prefix}{block}` and `{prefix}{block}__...`.
    pub fn emit(&self, prefix: &str) -> Result<Emitted, EmitError> {
        if self.is_port_level() {
            let dut = self.build_ports();
            let top = emit::module_name(prefix, self.block);
            let verilog = emit::generate(dut.as_block(), self.block, prefix)?;
            let ports = dut.ports();
            return Ok(Emitted {
                config: self.clone(),
                top,
                verilog,
                io: StreamIo {
                    inputs: ports.inputs.clone(),
                    outputs: ports.outputs.clone(),
                    registers: ports.registers.clone(),
                },
                ports: Some(ports),
                latency: self.latency(),
            });
        }
        let dut = self.build();
        let top = emit::module_name(prefix, self.block);
        let verilog = emit::generate(dut.as_block(), self.block, prefix)?;
        Ok(Emitted {
            config: self.clone(),
            top,
            verilog,
            io: dut.io(),
            ports: None,
            latency: self.latency(),
        })
    }
}

impl<const B: usize> StreamDut for Requant<B> {
    fn io(&self) -> StreamIo {
        StreamIo {
            inputs: vec![
                Field::new("x", 32, true),
                Field::new("m", 31, false),
                Field::new("c", 6, false),
            ],
            outputs: vec![Field::new("y", B, true)],
            registers: vec![
                "rs.s1_valid$q",
                "rs.s1_neg$q",
                "rs.s1_c$q",
                "rs.s2_valid$q",
                "rs.s2_p$q",
                "rs.s2_c$q",
                "rs.s3_valid$q",
                "rs.s3_floor$q",
                "rs.s3_above$q",
                "rs.s3_tie$q",
                "rs.s4_valid$q",
                "rs.s4_y$q",
                "sat.valid$q",
                "sat.yq$q",
            ],
        }
    }

    fn drive(&mut self, clock: bool, reset: bool, in_valid: bool, inputs: &[u64], out_ready: bool) {
        self.clock.next = Clock { clk: clock };
        self.reset.next = reset;
        self.in_valid.next = in_valid;
        self.x.next = inputs[0].into();
        self.m.next = inputs[1].into();
        self.c.next = inputs[2].into();
        self.out_ready.next = out_ready;
    }

    fn sample(&self) -> (bool, bool, Vec<u64>) {
        (
            self.in_ready.val(),
            self.out_valid.val(),
            vec![self.y.val().to_u64()],
        )
    }

    fn as_block(&self) -> &dyn Block {
        self
    }
}

impl<const B: usize> StreamDut for RequantAdd<B> {
    fn io(&self) -> StreamIo {
        StreamIo {
            inputs: vec![
                Field::new("x", 32, true),
                Field::new("z", 32, true),
                Field::new("m", 31, false),
                Field::new("c", 6, false),
                Field::new("m1", 31, false),
                Field::new("c1", 6, false),
            ],
            outputs: vec![Field::new("y", B, true)],
            registers: vec![
                "rx.s2_p$q",
                "rx.s4_valid$q",
                "rx.s4_y$q",
                "rz.s2_p$q",
                "rz.s4_valid$q",
                "rz.s4_y$q",
                "s5_valid$q",
                "s5_s$q",
                "sat.valid$q",
                "sat.yq$q",
            ],
        }
    }

    fn drive(&mut self, clock: bool, reset: bool, in_valid: bool, inputs: &[u64], out_ready: bool) {
        self.clock.next = Clock { clk: clock };
        self.reset.next = reset;
        self.in_valid.next = in_valid;
        self.x.next = inputs[0].into();
        self.z.next = inputs[1].into();
        self.m.next = inputs[2].into();
        self.c.next = inputs[3].into();
        self.m1.next = inputs[4].into();
        self.c1.next = inputs[5].into();
        self.out_ready.next = out_ready;
    }

    fn sample(&self) -> (bool, bool, Vec<u64>) {
        (
            self.in_ready.val(),
            self.out_valid.val(),
            vec![self.y.val().to_u64()],
        )
    }

    fn as_block(&self) -> &dyn Block {
        self
    }
}

macro_rules! float_stream_dut {
    ($name:ident) => {
        impl<const W: usize> StreamDut for $name<W> {
            fn io(&self) -> StreamIo {
                StreamIo {
                    inputs: vec![Field::new("a", W, false), Field::new("b", W, false)],
                    outputs: vec![Field::new("y", W, false)],
                    registers: vec!["s1_valid$q", "s1_y$q"],
                }
            }

            fn drive(
                &mut self,
                clock: bool,
                reset: bool,
                in_valid: bool,
                inputs: &[u64],
                out_ready: bool,
            ) {
                self.clock.next = Clock { clk: clock };
                self.reset.next = reset;
                self.in_valid.next = in_valid;
                self.a.next = inputs[0].into();
                self.b.next = inputs[1].into();
                self.out_ready.next = out_ready;
            }

            fn sample(&self) -> (bool, bool, Vec<u64>) {
                (
                    self.in_ready.val(),
                    self.out_valid.val(),
                    vec![self.y.val().to_u64()],
                )
            }

            fn as_block(&self) -> &dyn Block {
                self
            }
        }
    };
}

float_stream_dut!(LMul);

impl<const K: usize, const P2: usize, const A: usize> StreamDut for LMulDot<K, P2, A> {
    fn io(&self) -> StreamIo {
        let mut inputs: Vec<Field> = (0..K)
            .map(|i| Field::new(format!("a_{i}"), 8, false))
            .collect();
        inputs.extend((0..K).map(|i| Field::new(format!("b_{i}"), 8, false)));
        StreamIo {
            inputs,
            outputs: vec![Field::new("acc", A, true), Field::new("invalid", 1, false)],
            registers: vec!["valid$0$q", "sticky$0$q", "node$1$q"],
        }
    }

    fn drive(&mut self, clock: bool, reset: bool, in_valid: bool, inputs: &[u64], out_ready: bool) {
        self.clock.next = Clock { clk: clock };
        self.reset.next = reset;
        self.in_valid.next = in_valid;
        for i in 0..K {
            self.a[i].next = inputs[i].into();
            self.b[i].next = inputs[K + i].into();
        }
        self.out_ready.next = out_ready;
    }

    fn sample(&self) -> (bool, bool, Vec<u64>) {
        (
            self.in_ready.val(),
            self.out_valid.val(),
            vec![self.acc.val().to_u64(), u64::from(self.invalid.val())],
        )
    }

    fn as_block(&self) -> &dyn Block {
        self
    }
}
float_stream_dut!(FMul);

impl<const XB: usize> StreamDut for ExpShift<XB> {
    fn io(&self) -> StreamIo {
        StreamIo {
            inputs: vec![Field::new("d", 10, true), Field::new("x0", XB, true)],
            outputs: vec![Field::new("e", 32, false)],
            registers: vec![
                "valid$0$q",
                "pipe$s2_w$q",
                "pipe$s4_q$q",
                "pipe$s4_rem$q",
                "pipe$s5_e$q",
            ],
        }
    }

    fn drive(&mut self, clock: bool, reset: bool, in_valid: bool, inputs: &[u64], out_ready: bool) {
        self.clock.next = Clock { clk: clock };
        self.reset.next = reset;
        self.in_valid.next = in_valid;
        self.d.next = inputs[0].into();
        self.x0.next = inputs[1].into();
        self.out_ready.next = out_ready;
    }

    fn sample(&self) -> (bool, bool, Vec<u64>) {
        (
            self.in_ready.val(),
            self.out_valid.val(),
            vec![self.e.val().to_u64()],
        )
    }

    fn as_block(&self) -> &dyn Block {
        self
    }
}

/// `drive`, `sample` and `as_block` of a row unit: inputs `x`, a second field, `last`; outputs `y`,
/// `y_last`.
macro_rules! row_unit_drive_sample {
    ($second:ident $(, $flag:ident)?) => {
        fn drive(
            &mut self,
            clock: bool,
            reset: bool,
            in_valid: bool,
            inputs: &[u64],
            out_ready: bool,
        ) {
            self.clock.next = Clock { clk: clock };
            self.reset.next = reset;
            self.in_valid.next = in_valid;
            self.x.next = inputs[0].into();
            self.$second.next = inputs[1].into();
            // An optional one-bit field sits between the second field and `last`.
            let last = 2 $(+ {
                self.$flag.next = inputs[2] != 0;
                1
            })?;
            self.last.next = inputs[last] != 0;
            self.out_ready.next = out_ready;
        }

        fn sample(&self) -> (bool, bool, Vec<u64>) {
            (
                self.in_ready.val(),
                self.out_valid.val(),
                vec![self.y.val().to_u64(), u64::from(self.y_last.val())],
            )
        }

        fn as_block(&self) -> &dyn Block {
            self
        }
    };
}

impl<const XB: usize, const AB: usize, const OB: usize> StreamDut for Shiftmax<XB, AB, OB> {
    fn io(&self) -> StreamIo {
        StreamIo {
            inputs: vec![
                Field::new("x", 8, true),
                Field::new("x0", XB, true),
                Field::new("last", 1, false),
            ],
            outputs: vec![Field::new("y", OB, false), Field::new("y_last", 1, false)],
            registers: vec![
                "full$q", "st$q", "m_in$q", "ev$3$q", "sum$q", "factor$q", "ov$3$q", "oy$q",
            ],
        }
    }

    row_unit_drive_sample!(x0);
}

impl<const XB: usize, const AB: usize, const IB: usize, const OW: usize> StreamDut
    for Shiftgelu<XB, AB, IB, OW>
{
    fn io(&self) -> StreamIo {
        StreamIo {
            inputs: vec![
                Field::new("x", IB, true),
                Field::new("x0", XB, true),
                Field::new("last", 1, false),
            ],
            outputs: vec![Field::new("y", OW, true), Field::new("y_last", 1, false)],
            registers: vec![
                "full$q",
                "running$q",
                "m_in$q",
                "emax$q",
                "v$0$q",
                "v$13$q",
                "oy$q",
            ],
        }
    }

    row_unit_drive_sample!(x0);
}

impl<const AB: usize> StreamDut for LayerNorm<AB> {
    fn io(&self) -> StreamIo {
        StreamIo {
            inputs: vec![
                Field::new("x", 16, true),
                Field::new("bias", 32, true),
                Field::new("neg", 1, false),
                Field::new("last", 1, false),
            ],
            outputs: vec![Field::new("y", 32, true), Field::new("y_last", 1, false)],
            registers: vec![
                "full$q", "st$q", "sum_in$q", "pmean$q", "acc$q", "factor$q", "ov$3$q", "oy$q",
            ],
        }
    }

    row_unit_drive_sample!(bias, neg);
}

impl StreamDut for Recip {
    fn io(&self) -> StreamIo {
        StreamIo {
            inputs: vec![Field::new("s", 32, false)],
            outputs: vec![Field::new("r", 32, false)],
            registers: vec!["valid$0$q", "pipe$den$0$q", "pipe$q$5$q", "pipe$out$q"],
        }
    }

    fn drive(&mut self, clock: bool, reset: bool, in_valid: bool, inputs: &[u64], out_ready: bool) {
        self.clock.next = Clock { clk: clock };
        self.reset.next = reset;
        self.in_valid.next = in_valid;
        self.s.next = inputs[0].into();
        self.out_ready.next = out_ready;
    }

    fn sample(&self) -> (bool, bool, Vec<u64>) {
        (
            self.in_ready.val(),
            self.out_valid.val(),
            vec![self.r.val().to_u64()],
        )
    }

    fn as_block(&self) -> &dyn Block {
        self
    }
}

impl<const AW: usize, const OB: usize> StreamDut for MacArray<AW, OB> {
    fn io(&self) -> StreamIo {
        let (r, c) = (self.rows(), self.cols());
        let mut inputs: Vec<Field> = (0..r)
            .map(|i| Field::new(format!("a_{i}"), AW, AW == 8))
            .collect();
        inputs.extend((0..c).map(|j| Field::new(format!("b_{j}"), 8, true)));
        inputs.extend((0..c).map(|j| Field::new(format!("bias_{j}"), 32, true)));
        if OB != 32 {
            inputs.extend((0..c).map(|j| Field::new(format!("m_{j}"), 31, false)));
            inputs.extend((0..c).map(|j| Field::new(format!("c_{j}"), 6, false)));
        }
        inputs.push(Field::new("last", 1, false));
        let mut outputs: Vec<Field> = (0..c)
            .map(|j| Field::new(format!("y_{j}"), OB, true))
            .collect();
        outputs.push(Field::new("y_last", 1, false));
        StreamIo {
            inputs,
            outputs,
            registers: vec!["first$q", "gap$q", "row$q"],
        }
    }

    fn drive(&mut self, clock: bool, reset: bool, in_valid: bool, inputs: &[u64], out_ready: bool) {
        let (r, c) = (self.rows(), self.cols());
        self.clock.next = Clock { clk: clock };
        self.reset.next = reset;
        self.in_valid.next = in_valid;
        let mut k = 0;
        for i in 0..r {
            self.a[i].next = inputs[k].into();
            k += 1;
        }
        for j in 0..c {
            self.b[j].next = inputs[k].into();
            k += 1;
        }
        for j in 0..c {
            self.bias[j].next = inputs[k].into();
            k += 1;
        }
        for j in 0..self.m.len() {
            self.m[j].next = inputs[k].into();
            k += 1;
        }
        for j in 0..self.c.len() {
            self.c[j].next = inputs[k].into();
            k += 1;
        }
        self.last.next = inputs[k] != 0;
        self.out_ready.next = out_ready;
    }

    fn sample(&self) -> (bool, bool, Vec<u64>) {
        let mut outs: Vec<u64> = self.y.iter().map(|y| y.val().to_u64()).collect();
        outs.push(u64::from(self.y_last.val()));
        (self.in_ready.val(), self.out_valid.val(), outs)
    }

    fn as_block(&self) -> &dyn Block {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_fill_in() {
        let c = Config::from_sets("requant", &[]).unwrap();
        assert_eq!(c.to_string(), "bits=8 rounding=half-even");
        assert_eq!(c.slug(), "requant-bits8-half-even");
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(
            Config::from_sets("requantx", &[]).unwrap_err().to_string(),
            "unknown block `requantx` (known: requant, requant-add, lmul, lmul-dot, fmul, exp-shift, shiftmax, shiftgelu, layernorm, recip, mac-array, uart-tx, uart-rx)"
        );
        assert_eq!(
            Config::from_sets("requant", &sets(&["bits=12"]))
                .unwrap_err()
                .to_string(),
            "block `requant`: parameter `bits` = `12` is out of range (allowed: 8, 16)"
        );
        assert_eq!(
            Config::from_sets("requant", &sets(&["width=8"]))
                .unwrap_err()
                .to_string(),
            "block `requant` has no parameter `width` (parameters: bits, rounding)"
        );
        assert_eq!(
            Config::from_sets("requant", &sets(&["bits"]))
                .unwrap_err()
                .to_string(),
            "`--set` expects key=value, got `bits`"
        );
        assert_eq!(
            Config::from_sets("requant", &sets(&["bits=8", "bits=16"]))
                .unwrap_err()
                .to_string(),
            "block `requant`: parameter `bits` is given twice"
        );
    }

    #[test]
    fn shiftgelu_in_bits_widths_and_errors() {
        let v8 = Config::from_sets("shiftgelu", &sets(&["max_len=40"]))
            .unwrap()
            .emit("itx_")
            .unwrap()
            .verilog;
        assert!(v8.contains("input wire  [7:0] x;") && v8.contains("output reg  [15:0] y;"));
        // The tail's signals exist only with in_bits=16.
        assert!(!v8.contains("t_ph$0") && !v8.contains("t_xm$0"));
        let v16 = Config::from_sets("shiftgelu", &sets(&["max_len=40", "in_bits=16"]))
            .unwrap()
            .emit("itx_")
            .unwrap()
            .verilog;
        assert!(v16.contains("input wire  [15:0] x;") && v16.contains("output reg  [22:0] y;"));
        assert!(v16.contains("t_ph$0") && v16.contains("t_xm$0"));
        assert_eq!(
            Config::from_sets("shiftgelu", &sets(&["in_bits=12"]))
                .unwrap_err()
                .to_string(),
            "block `shiftgelu`: parameter `in_bits` = `12` is out of range (allowed: 8, 16)"
        );
    }

    #[test]
    fn emit_is_deterministic_and_named_after_the_block() {
        let c = Config::from_sets("requant", &sets(&["bits=16", "rounding=half-up"])).unwrap();
        let a = c.emit("itx_").unwrap();
        let b = c.emit("itx_").unwrap();
        assert_eq!(a.verilog, b.verilog);
        assert!(a.verilog.contains("module itx_requant("));
        assert!(a.verilog.contains("module itx_requant__rs__s1_valid("));
        for line in a.verilog.lines().filter(|l| l.starts_with("module ")) {
            assert!(!line.contains('$'), "{line}");
            assert!(!line.starts_with("module top"), "{line}");
        }
        let p = c.emit("acme_").unwrap();
        assert!(p.verilog.contains("module acme_requant("));
    }
}
