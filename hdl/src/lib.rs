//! ITX hardware: RustHDL blocks (one per file, named as in `golden`), the block registry and the
//! Verilog emitter.
pub mod blocks;
pub mod emit;
pub mod float_format;
pub mod fmul;
pub mod lmul;
pub mod lmul_dot;
pub mod requant;
pub mod stream;
