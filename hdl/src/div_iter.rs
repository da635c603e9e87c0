//! `div-iter`: an iterative unsigned restoring divider, one quotient bit per clock.
//!
//! Computes `quo = num div den`, `rem = num mod den` for `N`-bit unsigned operands. Native model:
//! Rust's `/` and `%` on `u64` (no golden function: the divider is a building block, used by
//! [`crate::isqrt::ISqrt`] for the I-LayerNorm Newton steps).
//!
//! # Ports (all synchronous to `clock`)
//! | port    | dir | width | meaning |
//! |---------|-----|-------|---------|
//! | `clock` | in  | 1     | rising-edge clock |
//! | `reset` | in  | 1     | synchronous, active high: back to idle, `done` low, `quo` = `rem` = 0 |
//! | `start` | in  | 1     | start a division of `num` by `den`; taken at an edge where `idle` is high, ignored otherwise |
//! | `num`   | in  | N     | dividend, sampled at the accepting edge only |
//! | `den`   | in  | N     | divisor, sampled at the accepting edge only; `den >= 1` (see "Division by zero") |
//! | `idle`  | out | 1     | no division in progress: `start` is accepted at this edge |
//! | `done`  | out | 1     | one-cycle pulse: `quo` and `rem` hold the result from this cycle on |
//! | `quo`   | out | N     | quotient; holds its value until the next accepted `start` |
//! | `rem`   | out | N     | remainder; holds its value until the next accepted `start` |
//!
//! While a division runs, `quo` and `rem` show the working registers (not a result).
//!
//! # Timing
//! - Latency: [`DivIter::latency`] = `N + 1` cycles: if `start` is accepted at the edge ending
//!   cycle 0, `done` is high (and `quo`/`rem` valid) in cycle `N + 1`. The accepting edge loads
//!   the operands; the `N` following edges each produce one quotient bit.
//! - `idle` is low from cycle 1 to cycle `N` and high again in the `done` cycle, so a new `start`
//!   may be given in the same cycle as `done`: back to back, one division every `N + 1` cycles.
//!
//! # Algorithm
//! Restoring division on a shift register pair: `acc` (partial remainder, `N` bits) and `quo_r`
//! (dividend bits leaving at the top, quotient bits entering at the bottom). Each step forms
//! `trial = 2*acc + (next dividend bit)`, which needs `N + 1` bits; it is kept in `N` bits plus the
//! bit shifted out of `acc`: if that bit is set, `trial >= 2^N > den`. So `trial >= den` is
//! `acc[N-1] || trial mod 2^N >= den`, and then `trial - den < den` is exact modulo `2^N`. One
//! `N`-bit subtractor, one `N`-bit comparator, no `N + 1`-bit arithmetic.
//!
//! # Division by zero
//! `den = 0` is outside the contract but well defined: every trial "fits", so `quo = 2^N - 1`
//! (all ones) and `rem = num`, after the usual `N + 1` cycles.
//!
//! # Reset
//! `busy`, `done`, the step counter, `acc` and `quo_r` (so `quo` and `rem` read 0 after reset)
//! are reset by muxing their `d` inputs. The divisor register `den_r` is not: it is loaded at every
//! accepted `start` and read only while a division runs.
//!
//! # Parameter limits
//! `2 <= N <= 64` (checked by [`DivIter::new`]): the step counter is 8 bits and the constants are
//! built from `u64`. Tested in RustHDL's simulator: N = 4 (exhaustive), 8, 32, 48 (corner cases
//! and random pairs) and 64; the emitted RTL in Icarus (no `initial` blocks) for N = 32 and 48.
//!
//! # Area
//! `3N + 10` flip-flops (`acc`, `quo_r`, `den_r`, an 8-bit counter, `busy`, `done`), one `N`-bit
//! subtractor and one `N`-bit comparator, plus the load/step multiplexers. Yosys 0.23
//! `synth_ice40`: N = 32: 202 SB_LUT4, 69 SB_CARRY, 106 FF; N = 48: 294 SB_LUT4, 101 SB_CARRY,
//! 154 FF.
use rust_hdl::prelude::*;

use crate::float_format::konst;

/// The divider; build it with [`DivIter::new`] (or `Default`).
#[derive(LogicBlock)]
pub struct DivIter<const N: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub start: Signal<In, Bit>,
    pub num: Signal<In, Bits<N>>,
    pub den: Signal<In, Bits<N>>,
    pub idle: Signal<Out, Bit>,
    pub done: Signal<Out, Bit>,
    pub quo: Signal<Out, Bits<N>>,
    pub rem: Signal<Out, Bits<N>>,

    // Generator constants (emitted as localparams).
    top_mask: Constant<Bits<N>>,
    one: Constant<Bits<N>>,
    zero: Constant<Bits<N>>,
    steps: Constant<Bits<8>>,
    one8: Constant<Bits<8>>,
    zero8: Constant<Bits<8>>,

    // State.
    acc: DFF<Bits<N>>,
    quo_r: DFF<Bits<N>>,
    den_r: DFF<Bits<N>>,
    count: DFF<Bits<8>>,
    busy: DFF<Bit>,
    done_r: DFF<Bit>,

    // One step.
    acc_top: Signal<Local, Bits<N>>,
    num_top: Signal<Local, Bits<N>>,
    acc_sh: Signal<Local, Bits<N>>,
    quo_sh: Signal<Local, Bits<N>>,
    quo_set: Signal<Local, Bits<N>>,
    trial: Signal<Local, Bits<N>>,
    diff: Signal<Local, Bits<N>>,
    fits: Signal<Local, Bit>,
    count_m1: Signal<Local, Bits<8>>,
}

/// `N` outside `2..=64`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("div-iter: width N = {0} is not supported (allowed: 2..=64)")]
pub struct BadWidth(pub usize);

impl<const N: usize> DivIter<N> {
    /// Builds the divider for `N`-bit operands.
    pub fn new() -> Result<Self, BadWidth> {
        if !(2..=64).contains(&N) {
            return Err(BadWidth(N));
        }
        Ok(Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            num: Default::default(),
            den: Default::default(),
            idle: Default::default(),
            done: Default::default(),
            quo: Default::default(),
            rem: Default::default(),
            top_mask: konst(1u64 << (N - 1)),
            one: konst(1),
            zero: konst(0),
            steps: konst(N as u64),
            one8: konst(1),
            zero8: konst(0),
            acc: Default::default(),
            quo_r: Default::default(),
            den_r: Default::default(),
            count: Default::default(),
            busy: Default::default(),
            done_r: Default::default(),
            acc_top: Default::default(),
            num_top: Default::default(),
            acc_sh: Default::default(),
            quo_sh: Default::default(),
            quo_set: Default::default(),
            trial: Default::default(),
            diff: Default::default(),
            fits: Default::default(),
            count_m1: Default::default(),
        })
    }

    /// Cycles from the cycle `start` is accepted in to the cycle `done` is high in: `N + 1`.
    pub const fn latency() -> usize {
        N + 1
    }
}

impl<const N: usize> Default for DivIter<N> {
    /// [`DivIter::new`]; panics for an unsupported `N`.
    fn default() -> Self {
        Self::new().expect("unsupported DivIter width")
    }
}

impl<const N: usize> Logic for DivIter<N> {
    #[hdl_gen]
    fn update(&mut self) {
        // Clocks.
        self.acc.clock.next = self.clock.val();
        self.quo_r.clock.next = self.clock.val();
        self.den_r.clock.next = self.clock.val();
        self.count.clock.next = self.clock.val();
        self.busy.clock.next = self.clock.val();
        self.done_r.clock.next = self.clock.val();

        // Registers hold by default; `done` is a pulse.
        self.acc.d.next = self.acc.q.val();
        self.quo_r.d.next = self.quo_r.q.val();
        self.den_r.d.next = self.den_r.q.val();
        self.count.d.next = self.count.q.val();
        self.busy.d.next = self.busy.q.val();
        self.done_r.d.next = false;

        // Outputs.
        self.idle.next = !self.busy.q.val();
        self.done.next = self.done_r.q.val();
        self.quo.next = self.quo_r.q.val();
        self.rem.next = self.acc.q.val();

        // One restoring step: trial = 2*acc + next dividend bit, kept modulo 2^N; the bit shifted
        // out of acc means trial >= 2^N > den.
        self.acc_top.next = self.acc.q.val() & self.top_mask.val();
        self.num_top.next = self.quo_r.q.val() & self.top_mask.val();
        self.acc_sh.next = self.acc.q.val() << 1;
        self.quo_sh.next = self.quo_r.q.val() << 1;
        self.quo_set.next = self.quo_sh.val() | self.one.val();
        if self.num_top.val().any() {
            self.trial.next = self.acc_sh.val() | self.one.val();
        } else {
            self.trial.next = self.acc_sh.val();
        }
        self.diff.next = self.trial.val() - self.den_r.q.val();
        self.fits.next = self.acc_top.val().any() || (self.trial.val() >= self.den_r.q.val());
        self.count_m1.next = self.count.q.val() - self.one8.val();

        if self.busy.q.val() {
            self.count.d.next = self.count_m1.val();
            if self.fits.val() {
                self.acc.d.next = self.diff.val();
                self.quo_r.d.next = self.quo_set.val();
            } else {
                self.acc.d.next = self.trial.val();
                self.quo_r.d.next = self.quo_sh.val();
            }
            if self.count.q.val() == self.one8.val() {
                self.busy.d.next = false;
                self.done_r.d.next = true;
            }
        } else if self.start.val() {
            self.acc.d.next = self.zero.val();
            self.quo_r.d.next = self.num.val();
            self.den_r.d.next = self.den.val();
            self.count.d.next = self.steps.val();
            self.busy.d.next = true;
        }

        // Synchronous reset: idle, no pulse, outputs cleared.
        if self.reset.val() {
            self.busy.d.next = false;
            self.done_r.d.next = false;
            self.count.d.next = self.zero8.val();
            self.acc.d.next = self.zero.val();
            self.quo_r.d.next = self.zero.val();
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::path::PathBuf;
    use std::process::Command;

    /// RustHDL's `simulate`: propagate until nothing changes.
    pub(crate) fn settle<B: Block>(uut: &mut B) {
        for _ in 0..100 {
            uut.update_all();
            if !uut.has_changed() {
                return;
            }
        }
        panic!("RustHDL simulation did not settle (combinational loop?)");
    }

    /// Lints generated Verilog with `verilator --lint-only -Wall` and the project's waivers,
    /// after renaming RustHDL's `top`/`top$x` modules to `itx_{block}`/`itx_{block}__x` (the names
    /// the waivers are written for). Skipped (with a note) when `verilator` is not on PATH.
    pub(crate) fn lint_clean(raw: &str, block: &str, tag: &str) {
        let top = crate::emit::module_name("itx_", block);
        let renamed = crate::emit::rename_modules(raw, &top, block).expect("rename modules");
        let verilog = crate::emit::flatten_port_names(&renamed, &top).expect("flatten ports");
        let dir = std::env::temp_dir().join(format!(
            "itx-hdl-lint-{}-{}-{tag}",
            std::process::id(),
            block
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("{top}.v"));
        std::fs::write(&file, &verilog).unwrap();
        let waivers = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("lint")
            .join("itx.vlt");
        let out = match Command::new("verilator")
            .arg("--lint-only")
            .arg("-Wall")
            .arg("--top-module")
            .arg(&top)
            .arg(&waivers)
            .arg(&file)
            .output()
        {
            Ok(o) => o,
            Err(e) => {
                eprintln!("verilator not runnable ({e}); lint of {top} skipped");
                return;
            }
        };
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            out.status.success() && !text.contains("%Warning") && !text.contains("%Error"),
            "verilator lint of {top} ({}) failed:\n{text}",
            file.display()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The emitted Verilog of a connected block, renamed as `emit` does (`itx_{block}`), with
    /// every `initial` block of RustHDL's DFFs removed (so the RTL checks prove that reset alone
    /// brings the block to a defined state).
    pub(crate) fn rtl_without_initial(raw: &str, block: &str) -> (String, String) {
        let top = crate::emit::module_name("itx_", block);
        let renamed = crate::emit::rename_modules(raw, &top, block).expect("rename modules");
        let v = crate::emit::flatten_port_names(&renamed, &top).expect("flatten ports");
        let mut out = String::new();
        let mut skipping = false;
        for line in v.lines() {
            let t = line.trim();
            if t == "initial begin" {
                skipping = true;
            } else if skipping {
                if t == "end" {
                    skipping = false;
                }
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
        assert!(!out.contains("initial"), "initial block left in the RTL");
        (top, out)
    }

    /// Runs generated RTL of a `start`/`idle`/`done` block in Icarus Verilog: after two reset
    /// cycles, for each vector it waits for `idle`, applies the inputs with `start` for one cycle,
    /// waits for `done` and records `(latency, outputs)`: latency counts cycles from the `start`
    /// cycle to the `done` cycle. `None` when `iverilog` is not on PATH.
    pub(crate) fn icarus_run(
        raw: &str,
        block: &str,
        inputs: &[(&str, usize)],
        outputs: &[(&str, usize)],
        vectors: &[Vec<u64>],
    ) -> Option<Vec<(u64, Vec<u64>)>> {
        let (top, rtl) = rtl_without_initial(raw, block);
        let dir = std::env::temp_dir().join(format!(
            "itx-hdl-icarus-{}-{}-{}",
            std::process::id(),
            block,
            vectors.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let ni = inputs.len();
        let mut hex = String::new();
        for v in vectors {
            assert_eq!(v.len(), ni);
            for x in v {
                hex.push_str(&format!("{x:016x}\n"));
            }
        }
        std::fs::write(dir.join("vec.hex"), hex).unwrap();
        let mut tb = String::from("`timescale 1ns/1ps\nmodule tb;\n");
        tb.push_str(
            "reg clock = 1'b0; reg reset = 1'b1; reg start = 1'b0;\nwire idle; wire done;\n",
        );
        for (n, w) in inputs {
            tb.push_str(&format!("reg [{}:0] {n} = 0;\n", w - 1));
        }
        for (n, w) in outputs {
            tb.push_str(&format!("wire [{}:0] {n};\n", w - 1));
        }
        let mut conns = vec![
            ".clock(clock)".to_string(),
            ".reset(reset)".into(),
            ".start(start)".into(),
            ".idle(idle)".into(),
            ".done(done)".into(),
        ];
        for (n, _) in inputs.iter().chain(outputs) {
            conns.push(format!(".{n}({n})"));
        }
        tb.push_str(&format!("{top} dut({});\n", conns.join(", ")));
        tb.push_str(&format!(
            "reg [63:0] vec [0:{}];\ninteger i, t;\nalways #5 clock = ~clock;\n",
            vectors.len() * ni - 1
        ));
        tb.push_str("initial begin\n  $readmemh(\"vec.hex\", vec);\n");
        tb.push_str("  @(negedge clock); @(negedge clock); reset = 1'b0;\n");
        tb.push_str(&format!(
            "  for (i = 0; i < {}; i = i + 1) begin\n",
            vectors.len()
        ));
        tb.push_str("    while (idle !== 1'b1) @(negedge clock);\n");
        for (j, (n, _)) in inputs.iter().enumerate() {
            tb.push_str(&format!("    {n} = vec[i*{ni}+{j}];\n"));
        }
        tb.push_str("    start = 1'b1;\n    @(negedge clock);\n    start = 1'b0;\n    t = 1;\n");
        tb.push_str("    while (done !== 1'b1) begin @(negedge clock); t = t + 1; end\n");
        let fmt: Vec<&str> = outputs.iter().map(|_| "%h").collect();
        let args: Vec<&str> = outputs.iter().map(|(n, _)| *n).collect();
        tb.push_str(&format!(
            "    $display(\"R %0d {}\", t, {});\n  end\n  $finish;\nend\nendmodule\n",
            fmt.join(" "),
            args.join(", ")
        ));
        std::fs::write(dir.join("tb.v"), tb).unwrap();
        std::fs::write(dir.join("dut.v"), rtl).unwrap();
        let compiled = match Command::new("iverilog")
            .current_dir(&dir)
            .args(["-g2005", "-o", "sim.vvp", "tb.v", "dut.v"])
            .output()
        {
            Ok(o) => o,
            Err(e) => {
                eprintln!("iverilog not runnable ({e}); RTL check of {top} skipped");
                return None;
            }
        };
        assert!(
            compiled.status.success(),
            "iverilog failed:\n{}",
            String::from_utf8_lossy(&compiled.stderr)
        );
        let run = Command::new("vvp")
            .current_dir(&dir)
            .args(["-n", "sim.vvp"])
            .output()
            .expect("vvp");
        let text = String::from_utf8_lossy(&run.stdout).into_owned();
        assert!(run.status.success(), "vvp failed:\n{text}");
        let res: Vec<(u64, Vec<u64>)> = text
            .lines()
            .filter_map(|l| l.strip_prefix("R "))
            .map(|l| {
                let mut it = l.split_whitespace();
                let t = it.next().unwrap().parse().unwrap();
                let outs = it
                    .map(|h| {
                        u64::from_str_radix(h, 16)
                            .unwrap_or_else(|_| panic!("RTL output `{h}` is not a number (X?)"))
                    })
                    .collect();
                (t, outs)
            })
            .collect();
        assert_eq!(res.len(), vectors.len(), "vvp output:\n{text}");
        let _ = std::fs::remove_dir_all(&dir);
        Some(res)
    }

    /// Test bench state: the divider plus a cycle counter.
    struct Bench<const N: usize> {
        uut: DivIter<N>,
        cycle: u64,
    }

    impl<const N: usize> Bench<N> {
        fn new() -> Self {
            let mut uut = DivIter::<N>::new().unwrap();
            uut.connect_all();
            let mut b = Bench { uut, cycle: 0 };
            b.uut.reset.next = true;
            b.uut.start.next = false;
            b.uut.num.next = 0u64.into();
            b.uut.den.next = 0u64.into();
            b.cycle();
            b.cycle();
            b.uut.reset.next = false;
            b
        }

        /// One clock cycle: inputs as set, settle with the clock low, then the rising edge.
        /// Outputs read after `cycle()` are those of the next cycle.
        fn cycle(&mut self) {
            self.uut.clock.next = Clock::from(false);
            settle(&mut self.uut);
            self.uut.clock.next = Clock::from(true);
            settle(&mut self.uut);
            self.cycle += 1;
        }

        /// Settles the inputs set so far (clock low) so outputs can be read.
        fn look(&mut self) {
            self.uut.clock.next = Clock::from(false);
            settle(&mut self.uut);
        }

        fn outs(&self) -> (bool, bool, u64, u64) {
            (
                self.uut.idle.val(),
                self.uut.done.val(),
                self.uut.quo.val().to_u64(),
                self.uut.rem.val().to_u64(),
            )
        }

        /// Runs one division from the idle state; checks the handshake and exact latency.
        fn divide(&mut self, num: u64, den: u64) -> (u64, u64) {
            self.look();
            assert!(self.uut.idle.val(), "not idle before start");
            self.uut.start.next = true;
            self.uut.num.next = num.into();
            self.uut.den.next = den.into();
            self.cycle();
            // Junk on the inputs while busy must not matter.
            self.uut.start.next = true;
            self.uut.num.next = (!num & mask(N)).into();
            self.uut.den.next = ((den ^ 5) & mask(N)).into();
            for k in 1..=(N + 1) {
                self.look();
                let (idle, done, _, _) = self.outs();
                if k <= N {
                    assert!(!idle && !done, "N={N} {num}/{den}: idle/done early at {k}");
                    self.cycle();
                } else {
                    assert!(idle && done, "N={N} {num}/{den}: no done at latency {k}");
                }
            }
            let (_, _, q, r) = self.outs();
            // Results hold, done drops, while start stays low.
            self.uut.start.next = false;
            for _ in 0..2 {
                self.cycle();
                self.look();
                let (idle, done, q2, r2) = self.outs();
                assert!(idle && !done);
                assert_eq!((q2, r2), (q, r), "result did not hold");
            }
            (q, r)
        }
    }

    fn mask(n: usize) -> u64 {
        if n == 64 {
            u64::MAX
        } else {
            (1u64 << n) - 1
        }
    }

    fn check<const N: usize>(b: &mut Bench<N>, num: u64, den: u64) {
        let (q, r) = b.divide(num, den);
        assert_eq!((q, r), (num / den, num % den), "N={N}: {num} / {den}");
    }

    /// Corner cases: den = 1, num = 0, num < den, num = den, maxima, powers of two and their
    /// neighbours.
    fn corners(n: usize) -> Vec<(u64, u64)> {
        let m = mask(n);
        let mut special = vec![0, 1, 2, 3, m, m - 1, m >> 1, (m >> 1) + 1];
        for i in 0..n {
            let p = 1u64 << i;
            special.extend([p, p - 1, (p + 1) & m]);
        }
        special.sort_unstable();
        special.dedup();
        let mut v = vec![];
        for &a in &special {
            for &d in &special {
                if d >= 1 {
                    v.push((a, d));
                }
            }
        }
        v
    }

    fn random_pairs(n: usize, count: usize, seed: u64) -> Vec<(u64, u64)> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..count)
            .map(|_| {
                // Spread both operands over all bit lengths.
                let la = rng.gen_range(1..=n);
                let ld = rng.gen_range(1..=n);
                let a = rng.gen::<u64>() & mask(la);
                let d = (rng.gen::<u64>() & mask(ld)).max(1);
                (a, d)
            })
            .collect()
    }

    fn run<const N: usize>(pairs: &[(u64, u64)]) {
        let mut b = Bench::<N>::new();
        for &(a, d) in pairs {
            check(&mut b, a, d);
        }
    }

    #[test]
    fn div_iter_exhaustive_n4() {
        let mut b = Bench::<4>::new();
        for a in 0..16 {
            for d in 1..16 {
                check(&mut b, a, d);
            }
        }
    }

    #[test]
    fn div_iter_n8_random() {
        run::<8>(&random_pairs(8, 2000, 8));
    }

    #[test]
    fn div_iter_n32_corners() {
        run::<32>(&corners(32));
    }

    #[test]
    fn div_iter_n32_random() {
        run::<32>(&random_pairs(32, 3000, 32));
    }

    #[test]
    fn div_iter_n48_corners() {
        run::<48>(&corners(48));
    }

    #[test]
    fn div_iter_n48_random() {
        run::<48>(&random_pairs(48, 3000, 48));
    }

    #[test]
    fn div_iter_n64_corners_and_random() {
        let mut v = random_pairs(64, 300, 64);
        let m = u64::MAX;
        v.extend([
            (m, 1),
            (m, m),
            (m - 1, m),
            (0, m),
            (m, 1 << 63),
            (1 << 63, 3),
        ]);
        run::<64>(&v);
    }

    #[test]
    fn div_iter_by_zero_gives_all_ones() {
        let mut b = Bench::<32>::new();
        for num in [0u64, 1, 12345, 0xffff_ffff] {
            assert_eq!(b.divide(num, 0), (0xffff_ffff, num));
        }
    }

    /// `start` in the `done` cycle is accepted (back-to-back divisions), and reset in the middle of
    /// a division returns to idle with cleared outputs.
    #[test]
    fn div_iter_back_to_back_and_reset() {
        let mut b = Bench::<32>::new();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        b.look();
        assert_eq!(b.outs(), (true, false, 0, 0), "after reset");
        let mut pending: Option<(u64, u64)> = None;
        let mut start_cycle = 0;
        let mut results = 0;
        while results < 50 {
            b.look();
            let (idle, done, q, r) = b.outs();
            if let Some((a, d)) = pending {
                if done {
                    assert_eq!(b.cycle - start_cycle, DivIter::<32>::latency() as u64);
                    assert_eq!((q, r), (a / d, a % d));
                    results += 1;
                    pending = None;
                }
            }
            b.uut.start.next = idle;
            if idle {
                assert!(pending.is_none());
                let a = rng.gen::<u32>() as u64;
                let d = (rng.gen::<u32>() >> rng.gen_range(0..32)).max(1) as u64;
                b.uut.num.next = a.into();
                b.uut.den.next = d.into();
                pending = Some((a, d));
                start_cycle = b.cycle;
            }
            b.cycle();
        }
        // Reset mid-division.
        b.uut.start.next = false;
        for _ in 0..5 {
            b.cycle();
        }
        b.look();
        assert!(!b.uut.idle.val());
        b.uut.reset.next = true;
        b.cycle();
        b.uut.reset.next = false;
        b.look();
        assert_eq!(b.outs(), (true, false, 0, 0), "after mid-division reset");
        for _ in 0..(DivIter::<32>::latency() + 2) {
            b.cycle();
            b.look();
            assert_eq!(b.outs(), (true, false, 0, 0), "stays idle");
        }
        check(&mut b, 1000, 7);
    }

    /// The emitted Verilog (initial blocks removed, Icarus) against native division, with the
    /// exact latency: RustHDL's simulator alone does not prove the RTL (rusthdl.md §2.3).
    fn rtl_check<const N: usize>(pairs: &[(u64, u64)]) {
        let mut uut = DivIter::<N>::new().unwrap();
        uut.connect_all();
        let vectors: Vec<Vec<u64>> = pairs.iter().map(|&(a, d)| vec![a, d]).collect();
        let Some(res) = icarus_run(
            &generate_verilog(&uut),
            "div-iter",
            &[("num", N), ("den", N)],
            &[("quo", N), ("rem", N)],
            &vectors,
        ) else {
            return;
        };
        for (&(a, d), (t, outs)) in pairs.iter().zip(res) {
            assert_eq!(
                t,
                DivIter::<N>::latency() as u64,
                "N={N} {a}/{d}: RTL latency"
            );
            let want = match (a.checked_div(d), a.checked_rem(d)) {
                (Some(q), Some(r)) => vec![q, r],
                _ => vec![mask(N), a],
            };
            assert_eq!(outs, want, "N={N} {a}/{d}: RTL result");
        }
    }

    /// RTL vectors: every 3rd corner pair plus 1000 random pairs (a few seconds in Icarus).
    fn rtl_vectors(n: usize, seed: u64) -> Vec<(u64, u64)> {
        let mut v: Vec<(u64, u64)> = corners(n).into_iter().step_by(3).collect();
        v.extend(random_pairs(n, 1000, seed));
        v
    }

    #[test]
    fn div_iter_rtl_matches_native_n32() {
        let mut v = rtl_vectors(32, 320);
        v.extend([
            (0, 0),
            (12345, 0),
            (u32::MAX as u64, 1),
            (u32::MAX as u64, u32::MAX as u64),
        ]);
        rtl_check::<32>(&v);
    }

    #[test]
    fn div_iter_rtl_matches_native_n48() {
        let m = (1u64 << 48) - 1;
        let mut v = rtl_vectors(48, 480);
        v.extend([(m, 1), (m, m), (m - 1, m), (m, 1 << 47), (0, m)]);
        rtl_check::<48>(&v);
    }

    #[test]
    fn div_iter_rejects_bad_widths() {
        assert_eq!(DivIter::<1>::new().err(), Some(BadWidth(1)));
        assert_eq!(DivIter::<65>::new().err(), Some(BadWidth(65)));
    }

    #[test]
    fn div_iter_verilog_is_lint_clean() {
        let mut uut32 = DivIter::<32>::new().unwrap();
        uut32.connect_all();
        lint_clean(&generate_verilog(&uut32), "div-iter", "32");
        let mut uut48 = DivIter::<48>::new().unwrap();
        uut48.connect_all();
        lint_clean(&generate_verilog(&uut48), "div-iter", "48");
    }
}
