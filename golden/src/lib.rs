//! ITX golden model: the bit-exact specification of every block, in plain Rust integers.
//!
//! Each module restates one section of `integer-ops.md` or `lmul.md` (the project's arithmetic
//! specifications) as naive, exact integer code. The hardware in `hdl/` must reproduce these
//! functions bit for bit, and the functions themselves are checked against the shared known-answer
//! vectors and against independent formulations in `golden/tests/`.
//!
//! | module | spec section |
//! |---|---|
//! | [`requant`] | integer-ops.md "Dyadic requantization" (HAWQ-V3 / I-ViT `QuantAct` + `fixedpoint_mul`) |
//! | [`requant_add`] | the residual add of the same section (re-exported from [`requant`]) |
//! | [`matmul`] | integer-ops.md "Integer matrix multiply" (the MAC array) |
//! | [`mac_array`] | one MAC-array tile (matmul, bias, per-column requant) and the array's cycle contract |
//! | [`recip`] | integer-ops.md "`recip(s)`": the reference's float32 `(2**31-1)/s`, in integers |
//! | [`exp_shift`] | integer-ops.md "Shared step: `exp_shift`" |
//! | [`shiftmax`] | integer-ops.md "Shiftmax" (I-ViT `IntSoftmax`) |
//! | [`shiftgelu`] | integer-ops.md "ShiftGELU" (I-ViT `IntGELU`) |
//! | [`layernorm`] | integer-ops.md "I-LayerNorm" with the `ivit` and `exact` square roots |
//! | [`float_format`] | lmul.md "Formats" and rules 1-4 (e4m3, e5m2, bf16) |
//! | [`lmul`] | lmul.md: L-Mul, the integer-adder form |
//! | [`fmul`] | lmul.md "The exact multiplier baseline" |
//! | [`lmul_dot`] | lmul.md "Dot products": exact fixed-point accumulation of L-Mul products |
//! | [`bert_float`] | the float reference of a BERT encoder (all-MiniLM-L6-v2): weights, forward, pooling |
//! | [`encoder`] | docs/model.md: the integer-only encoder, a [`encoder::Program`] run with the ops above |
//! | [`quantize`] | docs/model.md: post-training quantization of the float model into a program |
//! | [`program`] | docs/model.md "Program file": a program as one safetensors file |
//! | [`protocol`] | docs/protocol.md: the engine's UART frames, CRC-8 and the streaming frame parser |
//! | [`engine`] | docs/protocol.md: the golden engine, request bytes in, response bytes out, with the ops above |
//! | [`uart`] | the 8N1 serial link of the UART-attached engine (issue 7): transmitter and receiver, cycle for cycle |

pub mod bert_float;
pub mod encoder;
pub mod engine;
pub mod exp_shift;
pub mod float_format;
pub mod fmul;
pub mod layernorm;
pub mod lmul;
pub mod lmul_dot;
pub mod mac_array;
pub mod matmul;
pub mod program;
pub mod protocol;
pub mod quantize;
pub mod recip;
pub mod requant;
pub mod requant_add;
pub mod shiftgelu;
pub mod shiftmax;
pub mod uart;
