//! ITX test benches: vector files, golden evaluation, and the simulation and tool back ends.
pub mod eval;
pub mod icarus;
pub mod lint;
pub mod tools;
pub mod vectors;
pub mod yosys;
