//! ITX golden model: the bit-exact specification of every block, in plain Rust integers.
//!
//! Each module restates one section of `integer-ops.md` (the project's arithmetic specification) as
//! naive, exact integer code. The hardware in `hdl/` must reproduce these functions bit for bit, and
//! the functions themselves are checked against the shared known-answer vectors
//! (`testbench/tests/vectors.rs`) and against independent formulations in `golden/tests/`.
//!
//! | module | spec section |
//! |---|---|
//! | [`requant`] | "Dyadic requantization" (HAWQ-V3 / I-ViT `QuantAct` + `fixedpoint_mul`) |
//! | [`matmul`] | "Integer matrix multiply" (the MAC array) |

pub mod matmul;
pub mod requant;
