//! ITX test benches: vector files, golden evaluation, the simulator back ends (RustHDL, Verilator,
//! Icarus RTL and gate level), Yosys and Verilator lint runners, waveform views, and accuracy
//! reports of the integer arithmetic against float references.
pub mod accuracy;
pub mod bitstream;
pub mod dut;
pub mod encoder_hw;
pub mod engine;
pub mod eval;
pub mod harness;
pub mod icarus;
pub mod lint;
pub mod pnr;
pub mod tools;
pub mod trace;
pub mod uart;
pub mod uart_exec;
pub mod vectors;
pub mod verify;
pub mod verilator;
pub mod verilog_tb;
pub mod wave;
pub mod yosys;
