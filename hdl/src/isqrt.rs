//! `isqrt`: the square root of I-LayerNorm, `std = isqrt(var)`, sequential, in either
//! [`SqrtMode`] (chosen when the Verilog is generated).
//!
//! Golden models: [`golden::layernorm::isqrt_ivit`] and [`golden::layernorm::isqrt_exact`]. Spec:
//! `integer-ops.md`, "I-LayerNorm", square-root modes:
//! - `ivit`: `k = 2^16`, then exactly 10 times `k = (k + var div k) div 2`, no early exit (not a true
//!   isqrt: `var = 3200` gives 79, the result is never below 64). The ten divisions run one after
//!   the other on one [`DivIter<48>`] sub-block.
//! - `exact`: `max(floor(sqrt(var)), 1)` by digit recurrence (restoring square root, one result bit
//!   per cycle, shifts, an add, a subtract and a compare; no divider).
//!
//! # Ports (all synchronous to `clock`)
//! | port    | dir | width | meaning |
//! |---------|-----|-------|---------|
//! | `clock` | in  | 1     | rising-edge clock |
//! | `reset` | in  | 1     | synchronous, active high: back to idle, `done` low, `std` = 0 |
//! | `start` | in  | 1     | start a square root of `variance`; taken at an edge where `idle` is high, ignored otherwise |
//! | `variance` | in | 48  | `var`, the row variance `sum(y_c^2)`, unsigned, sampled at the accepting edge only |
//! | `idle`  | out | 1     | nothing in progress: `start` is accepted at this edge |
//! | `done`  | out | 1     | one-cycle pulse: `std` holds the result from this cycle on |
//! | `std`   | out | 32    | the result; holds until the next accepted `start` |
//!
//! The input is not called `var`: that is a SystemVerilog keyword, and Verilator (which parses
//! `.v` files as SystemVerilog) rejects the port (likewise no signal here is called `bit`).
//!
//! While a square root runs, `std` shows the low bits of the working register (not a result).
//!
//! # Range
//! Every 48-bit `var` (port `variance`) is in range: I-LayerNorm rows are at most
//! `C_MAX = 2^16` int16 values, so `var < 2^48`, and then `std` is in `1 ..= 2^31` in both modes (golden's module doc):
//! `ivit` gives `64 ..= 2^31` (64 for `var = 0`), `exact` gives `1 ..= 2^24 - 1`. So `std` fits 32
//! bits and is a valid input of `recip`. All intermediate values fit 48 bits: the `ivit` iterate
//! after the first step is at most `(2^16 + 2^48) / 2`, and `(k + q) div 2` is computed as
//! `(k >> 1) + (q >> 1) + (k & q & 1)`, which cannot carry out of 48 bits.
//!
//! # Timing (cycles from the cycle `start` is accepted in to the cycle `done` is high in)
//! - `ivit`: [`LATENCY_IVIT`] = `1 + 10 * (L_div + 1)` = **501**, with `L_div = 49` the latency of
//!   [`DivIter<48>`]: one cycle to load `var` and `k = 2^16`, then per Newton step one cycle to
//!   start the divider and 49 for the division; `k` is updated at the edge ending the divider's
//!   `done` cycle, and the next division starts in the following cycle.
//! - `exact`: [`LATENCY_EXACT`] = **25**: one cycle to load, then 24 recurrence steps (the root of
//!   a 48-bit value has 24 bits; golden's 32 steps do nothing for `var < 2^48`), the last one
//!   also applying `max(.., 1)`.
//! - `idle` is high again in the `done` cycle, so a new `start` may be given in the same cycle:
//!   one square root every 501 (`ivit`) or 25 (`exact`) cycles. I-LayerNorm needs one per row.
//!
//! # Reset
//! `busy`, `done` and the result register `k` are reset (by muxing their `d` inputs), and the
//! divider is reset with the block. `var_r`, `pow4` and `steps` are not: they are loaded at every
//! accepted `start` and read only while busy.
//!
//! # Area
//! Both datapaths are emitted; the unused one is removed by constant propagation (the mode is a
//! `localparam`): in `exact` mode nothing reads the divider's outputs, so synthesis drops it.
//! - `ivit`: the `DivIter<48>` (154 flip-flops, a 48-bit subtractor and comparator) plus `var_r`
//!   and `k` (48 bits each), a 4-bit step counter, and a 48-bit adder for the Newton update.
//! - `exact`: `var_r` (partial remainder), `k` (root) and the one-hot `pow4` (`4^i`; its odd bits
//!   are constant 0 and optimized away); one 48-bit adder (`root + 4^i`), one subtractor and one
//!   comparator. No divider.
//!
//! Yosys 0.23 on the emitted RTL (both `synth_ice40` netlists matched golden in a one-off
//! gate-level Icarus run of 157 values each, with the exact latencies):
//! | mode | iCE40 (`synth_ice40`) | ECP5 (`synth_ecp5`) |
//! |---|---|---|
//! | `ivit` | 309 SB_LUT4, 103 SB_CARRY, 256 FF | 568 LUT4, 52 CCU2C, 256 FF |
//! | `exact` | 339 SB_LUT4, 95 SB_CARRY, 121 FF | 226 LUT4, 72 CCU2C, 121 FF |
//!
//! # Parameter limits
//! `mode` is the only parameter; every [`SqrtMode`] is supported. The widths (48 in, 32 out) are
//! fixed by I-LayerNorm's `C <= 2^16`.
use rust_hdl::prelude::*;

use golden::layernorm::{SqrtMode, IVIT_START, IVIT_STEPS};

use crate::div_iter::DivIter;
use crate::float_format::konst;

/// Width of `variance` (I-LayerNorm rows of at most 2^16 int16 values).
pub const VAR_BITS: usize = 48;

/// Width of `std`.
pub const STD_BITS: usize = 32;

/// Steps of the `exact` recurrence: the root of a `VAR_BITS`-bit value has `VAR_BITS / 2` bits.
pub const EXACT_STEPS: usize = VAR_BITS / 2;

/// Cycles from the `start` cycle to the `done` cycle in `ivit` mode (501).
pub const LATENCY_IVIT: usize = 1 + IVIT_STEPS as usize * (DivIter::<VAR_BITS>::latency() + 1);

/// Cycles from the `start` cycle to the `done` cycle in `exact` mode (25).
pub const LATENCY_EXACT: usize = 1 + EXACT_STEPS;

/// The I-LayerNorm square root; build it with [`ISqrt::new`].
#[derive(LogicBlock)]
pub struct ISqrt {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub start: Signal<In, Bit>,
    pub variance: Signal<In, Bits<48>>,
    pub idle: Signal<Out, Bit>,
    pub done: Signal<Out, Bit>,
    pub std: Signal<Out, Bits<32>>,

    /// The divider of the `ivit` Newton steps (unused in `exact` mode).
    div: DivIter<48>,

    // Generator constants (emitted as localparams).
    ivit: Constant<Bit>,
    k_start: Constant<Bits<48>>,
    ivit_steps: Constant<Bits<4>>,
    one4: Constant<Bits<4>>,
    pow4_start: Constant<Bits<48>>,
    one48: Constant<Bits<48>>,
    zero48: Constant<Bits<48>>,

    // State. `var_r`: `var` (ivit) or the partial remainder (exact); `k`: the Newton iterate
    // (ivit) or the partial root (exact), and the result once done.
    var_r: DFF<Bits<48>>,
    k: DFF<Bits<48>>,
    pow4: DFF<Bits<48>>,
    steps: DFF<Bits<4>>,
    busy: DFF<Bit>,
    done_r: DFF<Bit>,

    // ivit: one Newton update.
    k_half: Signal<Local, Bits<48>>,
    q_half: Signal<Local, Bits<48>>,
    k_lsb: Signal<Local, Bits<48>>,
    k_next: Signal<Local, Bits<48>>,
    steps_m1: Signal<Local, Bits<4>>,
    unused_div_rem: Signal<Local, Bits<48>>,

    // exact: one recurrence step.
    trial: Signal<Local, Bits<48>>,
    rem_sub: Signal<Local, Bits<48>>,
    root_sh: Signal<Local, Bits<48>>,
    root_set: Signal<Local, Bits<48>>,
    root_new: Signal<Local, Bits<48>>,
    pow4_sh: Signal<Local, Bits<48>>,
    pow4_lsb: Signal<Local, Bits<48>>,
    fits: Signal<Local, Bit>,
}

impl ISqrt {
    /// Builds the block for the given square-root mode.
    pub fn new(mode: SqrtMode) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            variance: Default::default(),
            idle: Default::default(),
            done: Default::default(),
            std: Default::default(),
            div: DivIter::new().expect("48 is a supported divider width"),
            ivit: Constant::new(mode == SqrtMode::Ivit),
            k_start: konst(IVIT_START),
            ivit_steps: konst(IVIT_STEPS as u64),
            one4: konst(1),
            pow4_start: konst(1u64 << (2 * (EXACT_STEPS - 1))),
            one48: konst(1),
            zero48: konst(0),
            var_r: Default::default(),
            k: Default::default(),
            pow4: Default::default(),
            steps: Default::default(),
            busy: Default::default(),
            done_r: Default::default(),
            k_half: Default::default(),
            q_half: Default::default(),
            k_lsb: Default::default(),
            k_next: Default::default(),
            steps_m1: Default::default(),
            unused_div_rem: Default::default(),
            trial: Default::default(),
            rem_sub: Default::default(),
            root_sh: Default::default(),
            root_set: Default::default(),
            root_new: Default::default(),
            pow4_sh: Default::default(),
            pow4_lsb: Default::default(),
            fits: Default::default(),
        }
    }

    /// Cycles from the `start` cycle to the `done` cycle: [`LATENCY_IVIT`] or [`LATENCY_EXACT`].
    pub const fn latency(mode: SqrtMode) -> usize {
        match mode {
            SqrtMode::Ivit => LATENCY_IVIT,
            SqrtMode::Exact => LATENCY_EXACT,
        }
    }
}

impl Default for ISqrt {
    /// The default mode, `ivit`.
    fn default() -> Self {
        Self::new(SqrtMode::default())
    }
}

impl Logic for ISqrt {
    #[hdl_gen]
    fn update(&mut self) {
        // Clocks.
        self.var_r.clock.next = self.clock.val();
        self.k.clock.next = self.clock.val();
        self.pow4.clock.next = self.clock.val();
        self.steps.clock.next = self.clock.val();
        self.busy.clock.next = self.clock.val();
        self.done_r.clock.next = self.clock.val();

        // Registers hold by default; `done` is a pulse.
        self.var_r.d.next = self.var_r.q.val();
        self.k.d.next = self.k.q.val();
        self.pow4.d.next = self.pow4.q.val();
        self.steps.d.next = self.steps.q.val();
        self.busy.d.next = self.busy.q.val();
        self.done_r.d.next = false;

        // ivit: the divider computes var div k. It is started whenever it is idle during a run,
        // except in its `done` cycle, where k is being updated: the next division starts one
        // cycle later with the new k. (The remainder is not needed; `unused_*` is Verilator's
        // name pattern for intentionally unused signals, `--unused-regexp`.)
        self.div.clock.next = self.clock.val();
        self.div.reset.next = self.reset.val();
        self.div.start.next =
            self.busy.q.val() && self.ivit.val() && self.div.idle.val() && !self.div.done.val();
        self.div.num.next = self.var_r.q.val();
        self.div.den.next = self.k.q.val();
        self.unused_div_rem.next = self.div.rem.val();

        // Outputs.
        self.idle.next = !self.busy.q.val();
        self.done.next = self.done_r.q.val();
        self.std.next = self.k.q.val().get_bits::<32>(0);

        // ivit: k' = (k + q) div 2 = (k >> 1) + (q >> 1) + (k & q & 1), no carry out of 48 bits.
        self.k_half.next = self.k.q.val() >> 1;
        self.q_half.next = self.div.quo.val() >> 1;
        self.k_lsb.next = self.k.q.val() & self.div.quo.val() & self.one48.val();
        self.k_next.next = self.k_half.val() + self.q_half.val() + self.k_lsb.val();
        self.steps_m1.next = self.steps.q.val() - self.one4.val();

        // exact: entering the step for bit i, k = P * 2^(i+1) (P the root bits above i),
        // var_r = var - P^2, pow4 = 4^i. P * 2^i has no bits below 2i + 1, so adding 4^i is an OR.
        self.trial.next = self.k.q.val() + self.pow4.q.val();
        self.rem_sub.next = self.var_r.q.val() - self.trial.val();
        self.fits.next = self.var_r.q.val() >= self.trial.val();
        self.root_sh.next = self.k.q.val() >> 1;
        self.root_set.next = self.root_sh.val() | self.pow4.q.val();
        if self.fits.val() {
            self.root_new.next = self.root_set.val();
        } else {
            self.root_new.next = self.root_sh.val();
        }
        self.pow4_sh.next = self.pow4.q.val() >> 2;
        self.pow4_lsb.next = self.pow4.q.val() & self.one48.val();

        if self.busy.q.val() {
            if self.ivit.val() {
                if self.div.done.val() {
                    self.k.d.next = self.k_next.val();
                    self.steps.d.next = self.steps_m1.val();
                    if self.steps.q.val() == self.one4.val() {
                        self.busy.d.next = false;
                        self.done_r.d.next = true;
                    }
                }
            } else {
                self.pow4.d.next = self.pow4_sh.val();
                self.k.d.next = self.root_new.val();
                if self.fits.val() {
                    self.var_r.d.next = self.rem_sub.val();
                }
                if self.pow4_lsb.val().any() {
                    self.busy.d.next = false;
                    self.done_r.d.next = true;
                    if !self.root_new.val().any() {
                        self.k.d.next = self.one48.val();
                    }
                }
            }
        } else if self.start.val() {
            self.var_r.d.next = self.variance.val();
            self.busy.d.next = true;
            if self.ivit.val() {
                self.k.d.next = self.k_start.val();
                self.steps.d.next = self.ivit_steps.val();
            } else {
                self.k.d.next = self.zero48.val();
                self.pow4.d.next = self.pow4_start.val();
            }
        }

        // Synchronous reset: idle, no pulses, result cleared (the divider resets with us).
        if self.reset.val() {
            self.busy.d.next = false;
            self.done_r.d.next = false;
            self.k.d.next = self.zero48.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::div_iter::tests::{icarus_run, lint_clean, settle};
    use golden::layernorm::{isqrt_exact, isqrt_ivit};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const VAR_MAX: u64 = (1 << 48) - 1;

    fn golden(mode: SqrtMode, var: u64) -> u64 {
        match mode {
            SqrtMode::Ivit => isqrt_ivit(var),
            SqrtMode::Exact => isqrt_exact(var),
        }
    }

    struct Bench {
        uut: ISqrt,
        mode: SqrtMode,
        cycle: u64,
    }

    impl Bench {
        fn new(mode: SqrtMode) -> Self {
            let mut uut = ISqrt::new(mode);
            uut.connect_all();
            let mut b = Bench {
                uut,
                mode,
                cycle: 0,
            };
            b.uut.reset.next = true;
            b.uut.start.next = false;
            b.uut.variance.next = 0u64.into();
            b.cycle();
            b.cycle();
            b.uut.reset.next = false;
            b
        }

        /// One clock cycle: settle with the clock low, then the rising edge.
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

        fn outs(&self) -> (bool, bool, u64) {
            (
                self.uut.idle.val(),
                self.uut.done.val(),
                self.uut.std.val().to_u64(),
            )
        }

        /// One square root from idle, checking the handshake, the exact latency and that the
        /// result holds afterwards.
        fn sqrt(&mut self, var: u64) -> u64 {
            let lat = ISqrt::latency(self.mode);
            self.look();
            assert!(self.uut.idle.val(), "not idle before start");
            self.uut.start.next = true;
            self.uut.variance.next = var.into();
            self.cycle();
            // Junk on the inputs while busy must not matter.
            self.uut.variance.next = (!var & VAR_MAX).into();
            for t in 1..lat {
                self.look();
                let (idle, done, _) = self.outs();
                assert!(
                    !idle && !done,
                    "{:?} var={var}: idle/done early at {t}",
                    self.mode
                );
                self.cycle();
            }
            self.look();
            let (idle, done, std) = self.outs();
            assert!(
                idle && done,
                "{:?} var={var}: no done at latency {lat}",
                self.mode
            );
            self.uut.start.next = false;
            self.cycle();
            self.look();
            assert_eq!(self.outs(), (true, false, std), "result did not hold");
            std
        }
    }

    /// 0..=4, 3200, `k^2 - 1`, `k^2`, `k^2 + 1` for `k` a power of two and its neighbours, `2^j`
    /// and its neighbours, and the largest values.
    fn corners() -> Vec<u64> {
        let mut v = vec![0, 1, 2, 3, 4, 5, 8, 9, 15, 16, 17, 3200, 4095, 4096, 4097];
        for j in 0..=24u32 {
            let p = 1u64 << j;
            for k in [p - 1, p, p + 1] {
                let s = k * k;
                v.extend([s.saturating_sub(1), s, s + 1]);
            }
        }
        for j in 0..48u32 {
            let p = 1u64 << j;
            v.extend([p - 1, p, p + 1]);
        }
        v.extend([VAR_MAX, VAR_MAX - 1, 1 << 47, (1 << 47) + (1 << 46)]);
        v.retain(|&x| x <= VAR_MAX);
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Seeded random values spread over every bit length 1..=48.
    fn randoms(count: usize, seed: u64) -> Vec<u64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..count)
            .map(|i| {
                let len = 1 + (i % 48) as u32;
                (rng.gen::<u64>() & ((1u64 << len) - 1)) | (1u64 << (len - 1))
            })
            .collect()
    }

    fn run(mode: SqrtMode, values: &[u64]) {
        let mut b = Bench::new(mode);
        for &v in values {
            let got = b.sqrt(v);
            assert_eq!(got, golden(mode, v), "{mode:?}: isqrt({v})");
        }
    }

    #[test]
    fn isqrt_latencies() {
        assert_eq!(LATENCY_IVIT, 501);
        assert_eq!(LATENCY_EXACT, 25);
    }

    #[test]
    fn isqrt_ivit_corners() {
        // The spec's quirks are part of the contract.
        assert_eq!(isqrt_ivit(3200), 79);
        assert_eq!(isqrt_ivit(0), 64);
        run(SqrtMode::Ivit, &corners());
    }

    #[test]
    fn isqrt_ivit_random() {
        run(SqrtMode::Ivit, &randoms(3000, 11));
    }

    #[test]
    fn isqrt_exact_corners() {
        run(SqrtMode::Exact, &corners());
    }

    #[test]
    fn isqrt_exact_random() {
        run(SqrtMode::Exact, &randoms(5000, 12));
    }

    /// `start` in the `done` cycle is accepted (back to back), and reset in the middle of a
    /// square root returns to idle with `std` = 0, also resetting the divider.
    #[test]
    fn isqrt_back_to_back_and_reset() {
        for mode in SqrtMode::ALL {
            let lat = ISqrt::latency(mode) as u64;
            let mut b = Bench::new(mode);
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            b.look();
            assert_eq!(b.outs(), (true, false, 0), "{mode:?}: after reset");
            let mut pending: Option<u64> = None;
            let mut start_cycle = 0;
            let mut results = 0;
            while results < 6 {
                b.look();
                let (idle, done, std) = b.outs();
                if let (Some(v), true) = (pending, done) {
                    assert_eq!(b.cycle - start_cycle, lat, "{mode:?}: latency");
                    assert_eq!(std, golden(mode, v), "{mode:?}: isqrt({v})");
                    results += 1;
                    pending = None;
                }
                b.uut.start.next = idle;
                if idle {
                    let v = rng.gen::<u64>() >> rng.gen_range(16..64);
                    b.uut.variance.next = v.into();
                    pending = Some(v);
                    start_cycle = b.cycle;
                }
                b.cycle();
            }
            // Reset in the middle (in ivit mode, while the divider is busy).
            b.uut.start.next = false;
            for _ in 0..7 {
                b.cycle();
            }
            b.look();
            assert!(!b.uut.idle.val());
            b.uut.reset.next = true;
            b.cycle();
            b.uut.reset.next = false;
            b.look();
            assert_eq!(b.outs(), (true, false, 0), "{mode:?}: after mid-run reset");
            for _ in 0..60 {
                b.cycle();
                b.look();
                assert_eq!(b.outs(), (true, false, 0), "{mode:?}: stays idle");
            }
            assert_eq!(b.sqrt(3200), golden(mode, 3200));
        }
    }

    /// The emitted Verilog (initial blocks removed, Icarus) against golden, with the exact
    /// latency, in both modes.
    #[test]
    fn isqrt_rtl_matches_golden() {
        for mode in SqrtMode::ALL {
            let mut uut = ISqrt::new(mode);
            uut.connect_all();
            let mut values = corners();
            let n = if mode == SqrtMode::Ivit { 200 } else { 2000 };
            values.extend(randoms(n, 13));
            let vectors: Vec<Vec<u64>> = values.iter().map(|&v| vec![v]).collect();
            let Some(res) = icarus_run(
                &generate_verilog(&uut),
                "isqrt",
                &[("variance", 48)],
                &[("std", 32)],
                &vectors,
            ) else {
                return;
            };
            for (&v, (t, outs)) in values.iter().zip(res) {
                assert_eq!(
                    t,
                    ISqrt::latency(mode) as u64,
                    "{mode:?} var={v}: RTL latency"
                );
                assert_eq!(outs, vec![golden(mode, v)], "{mode:?} var={v}: RTL result");
            }
        }
    }

    #[test]
    fn isqrt_verilog_is_lint_clean() {
        for mode in SqrtMode::ALL {
            let mut uut = ISqrt::new(mode);
            uut.connect_all();
            lint_clean(&generate_verilog(&uut), "isqrt", mode.as_str());
        }
    }
}
