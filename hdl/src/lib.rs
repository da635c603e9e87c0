//! ITX hardware: RustHDL blocks (one per file, named as in `golden`), the block registry and the
//! Verilog emitter.
pub mod blocks;
pub mod emit;
pub mod requant;
pub mod stream;
