//! The streaming interface every block exposes, described once so that every simulator back end
//! (RustHDL, Verilator, Icarus) drives it the same way.
//!
//! Port convention (top-level port names in the Verilog):
//! `clock`, `reset` (synchronous, active high), `in_valid`/`in_ready` with the input fields,
//! `out_valid`/`out_ready` with the output fields. A transfer happens at a rising edge where
//! valid and ready are both high. Field values travel as raw two's-complement bit patterns in a
//! `u64`, masked to the field's width.
use rust_hdl::prelude::*;

/// One data port of a stream.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Field {
    /// The port name as in the emitted Verilog (port vectors are `a_0`, `a_1`, ...).
    pub name: String,
    pub width: usize,
    pub signed: bool,
}

impl Field {
    pub fn new(name: impl Into<String>, width: usize, signed: bool) -> Field {
        let name = name.into();
        assert!(
            (1..=64).contains(&width),
            "field `{name}`: width {width} not in 1..=64"
        );
        Field {
            name,
            width,
            signed,
        }
    }

    /// The bit pattern of `v` in this field (two's complement for signed fields).
    pub fn encode(&self, v: i64) -> u64 {
        (v as u64) & self.mask()
    }

    /// The value of a bit pattern of this field.
    pub fn decode(&self, raw: u64) -> i64 {
        let raw = raw & self.mask();
        if self.signed && self.width < 64 && (raw >> (self.width - 1)) & 1 == 1 {
            (raw | !self.mask()) as i64
        } else {
            raw as i64
        }
    }

    pub fn mask(&self) -> u64 {
        if self.width == 64 {
            u64::MAX
        } else {
            (1u64 << self.width) - 1
        }
    }
}

/// The data ports of a block's input and output streams, plus the pipeline registers a waveform
/// view should show (RustHDL paths below the top, e.g. `s1_valid$q`; a `.` enters a sub-block
/// instance, which is a module instance in the Verilog too, e.g. `rs.s2_p$q`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StreamIo {
    pub inputs: Vec<Field>,
    pub outputs: Vec<Field>,
    pub registers: Vec<&'static str>,
}

impl StreamIo {
    /// The raw bit patterns of `samples` (values in [`StreamIo::inputs`] order), field by field.
    pub fn encode_samples(&self, samples: &[Vec<i64>]) -> Vec<Vec<u64>> {
        samples
            .iter()
            .map(|s| {
                self.inputs
                    .iter()
                    .zip(s)
                    .map(|(f, &v)| f.encode(v))
                    .collect()
            })
            .collect()
    }
}

/// A RustHDL block with the streaming interface: what the RustHDL-simulator back end drives.
pub trait StreamDut: Block {
    /// The ports, as in the emitted Verilog.
    fn io(&self) -> StreamIo;
    /// Sets every input port (`inputs` in the order of [`StreamIo::inputs`]).
    fn drive(&mut self, clock: bool, reset: bool, in_valid: bool, inputs: &[u64], out_ready: bool);
    /// Reads `(in_ready, out_valid, outputs)`.
    fn sample(&self) -> (bool, bool, Vec<u64>);
    /// The block as a `dyn Block` (for Verilog generation and VCD probes).
    fn as_block(&self) -> &dyn Block;
}

/// RustHDL's `simulate` for a trait object: propagate until nothing changes.
pub fn settle(uut: &mut dyn StreamDut, max_iters: usize) -> bool {
    for _ in 0..max_iters {
        uut.update_all();
        if !uut.has_changed() {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        let f = Field::new("x", 8, true);
        assert_eq!(f.encode(-128), 0x80);
        assert_eq!(f.decode(0x80), -128);
        assert_eq!(f.decode(0x7f), 127);
        let u = Field::new("m", 31, false);
        assert_eq!(u.decode(u.encode((1 << 31) - 1)), (1 << 31) - 1);
        let w = Field::new("p", 64, true);
        assert_eq!(w.decode(w.encode(i64::MIN)), i64::MIN);
    }
}

/// Defines `$name<const W: usize>`: a stream block around the combinational core `$core<W>`
/// (ports `a`, `b` in, `y` out, built by `$core::new(&$params)`), with an optional output
/// register. Registered: latency 1, `in_ready = !out_valid || out_ready`. Not registered: latency
/// 0, `out_valid = in_valid`, `in_ready = out_ready`. Synchronous reset empties the register.
#[macro_export]
macro_rules! registered_stream_block {
    ($(#[$doc:meta])* $name:ident, $core:ident, $params:ty) => {
        $(#[$doc])*
        #[derive(LogicBlock)]
        pub struct $name<const W: usize> {
            pub clock: Signal<In, Clock>,
            pub reset: Signal<In, Bit>,
            pub in_valid: Signal<In, Bit>,
            pub in_ready: Signal<Out, Bit>,
            pub a: Signal<In, Bits<W>>,
            pub b: Signal<In, Bits<W>>,
            pub out_valid: Signal<Out, Bit>,
            pub out_ready: Signal<In, Bit>,
            pub y: Signal<Out, Bits<W>>,
            core: $core<W>,
            registered: Constant<Bit>,
            zero: Constant<Bits<W>>,
            s1_ready: Signal<Local, Bit>,
            s1_valid: DFF<Bit>,
            s1_y: DFF<Bits<W>>,
        }

        impl<const W: usize> $name<W> {
            /// Builds the block; `registered` adds the output register.
            pub fn new(p: &$params, registered: bool) -> Self {
                Self {
                    clock: Default::default(),
                    reset: Default::default(),
                    in_valid: Default::default(),
                    in_ready: Default::default(),
                    a: Default::default(),
                    b: Default::default(),
                    out_valid: Default::default(),
                    out_ready: Default::default(),
                    y: Default::default(),
                    core: $core::new(p),
                    registered: Constant::new(registered),
                    zero: Constant::new(0u64.into()),
                    s1_ready: Default::default(),
                    s1_valid: Default::default(),
                    s1_y: Default::default(),
                }
            }
        }

        impl<const W: usize> Logic for $name<W> {
            #[hdl_gen]
            fn update(&mut self) {
                self.core.a.next = self.a.val();
                self.core.b.next = self.b.val();
                self.s1_valid.clock.next = self.clock.val();
                self.s1_y.clock.next = self.clock.val();
                self.s1_valid.d.next = self.s1_valid.q.val();
                self.s1_y.d.next = self.s1_y.q.val();
                if self.registered.val() {
                    self.s1_ready.next = !self.s1_valid.q.val() || self.out_ready.val();
                    self.in_ready.next = self.s1_ready.val();
                    self.out_valid.next = self.s1_valid.q.val();
                    self.y.next = self.s1_y.q.val();
                    if self.s1_ready.val() {
                        self.s1_valid.d.next = self.in_valid.val();
                        if self.in_valid.val() {
                            self.s1_y.d.next = self.core.y.val();
                        }
                    }
                } else {
                    self.s1_ready.next = self.out_ready.val();
                    self.in_ready.next = self.out_ready.val();
                    self.out_valid.next = self.in_valid.val();
                    self.y.next = self.core.y.val();
                }
                if self.reset.val() {
                    self.s1_valid.d.next = false;
                    self.s1_y.d.next = self.zero.val();
                }
            }
        }
    };
}
