//! The port-level interface: blocks driven and observed port by port, cycle by cycle, without the
//! stream sample model of [`crate::stream`] (the UART, whose line is no stream; later the engine's
//! top level).
//!
//! Every such block has `clock` and `reset` (synchronous, active high) plus the ports listed in
//! its [`PortIo`]. A trace is one input vector per cycle and one output vector per cycle; the
//! simulator back ends (RustHDL, Verilator, Icarus) all run the same loop: drive the cycle's
//! inputs with the clock low, settle, read every output, rising edge.
use rust_hdl::prelude::*;

use crate::stream::Field;

/// The ports of a port-level block besides `clock` and `reset`, in the order traces use.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PortIo {
    pub inputs: Vec<Field>,
    pub outputs: Vec<Field>,
    /// Registers a waveform view should show (RustHDL paths below the top, e.g. `state$q`).
    pub registers: Vec<&'static str>,
}

/// A RustHDL block driven port by port: what the RustHDL-simulator back end of a trace drives.
pub trait PortDut: Block {
    /// The ports, as in the emitted Verilog.
    fn ports(&self) -> PortIo;
    /// Sets `clock`, `reset` and every input port (`inputs` in [`PortIo::inputs`] order, raw bits).
    fn drive_ports(&mut self, clock: bool, reset: bool, inputs: &[u64]);
    /// Reads every output port (in [`PortIo::outputs`] order, raw bits).
    fn sample_ports(&self) -> Vec<u64>;
    /// The block as a `dyn Block` (for Verilog generation and VCD probes).
    fn as_block(&self) -> &dyn Block;
}

/// RustHDL's `simulate` for a trait object: propagate until nothing changes.
pub fn settle_ports(uut: &mut dyn PortDut, max_iters: usize) -> bool {
    for _ in 0..max_iters {
        uut.update_all();
        if !uut.has_changed() {
            return true;
        }
    }
    false
}
