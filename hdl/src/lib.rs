//! ITX hardware: RustHDL blocks (one per file, named as in `golden`), the block registry and the
//! Verilog emitter.
pub mod blocks;
pub mod div_iter;
pub mod emit;
pub mod exp_shift;
pub mod float_format;
pub mod fmul;
pub mod isqrt;
pub mod layernorm;
pub mod lmul;
pub mod lmul_dot;
pub mod recip;
pub mod requant;
pub mod shiftgelu;
pub mod shiftmax;
pub mod stream;
pub mod wide_mul;
