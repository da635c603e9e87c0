//! The hardware engine (`hdl::engine`) against the golden engine (`golden::engine`), byte for byte
//! on the wire (`testbench::engine`): every command and every error status, MATMUL at each
//! `out_bits` with K = 1, k_max and random, the three row units, and the link rules (garbage,
//! false syncs, bad checksums, a cut frame and the idle timeout, a break inside a frame, an
//! overrun while a response is sent). The broad random cases run in Verilator; RustHDL's simulator
//! runs a smaller set (the Verilog is the product). Lint and Yosys's design checks.
use golden::engine::{EngineConfig, Mem, Unit};
use golden::protocol::{Cmd, Request};
use golden::uart::BitTiming;
use hdl::engine::{emit, EngineParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use testbench::engine::{check, Backend, Step};
use testbench::{lint, yosys};

const DIV: u64 = 4;

fn timing() -> BitTiming {
    BitTiming::from_div(DIV).unwrap()
}

/// The test configuration: 2 x 3 array, K up to 6, rows up to 12, every unit, half-even.
fn small() -> EngineConfig {
    EngineConfig {
        rows: 2,
        cols: 3,
        k_max: 6,
        row_max: 12,
        idle_bits: 40,
        mm_roundings: 0b01,
        ..EngineConfig::default()
    }
}

struct Seq(u8);

impl Seq {
    fn req(&mut self, cmd: u8, payload: &[u8]) -> Step {
        self.0 = self.0.wrapping_add(1);
        Step::Frame(Request {
            cmd,
            seq: self.0,
            payload: payload.to_vec(),
        })
    }

    fn write(&mut self, mem: Mem, addr: u16, values: &[i64]) -> Step {
        let mut p = vec![mem as u8];
        p.extend(addr.to_le_bytes());
        for &v in values {
            p.extend(mem.encode(v));
        }
        self.req(Cmd::Write as u8, &p)
    }

    fn read(&mut self, mem: Mem, addr: u16, count: u16) -> Step {
        let mut p = vec![mem as u8];
        p.extend(addr.to_le_bytes());
        p.extend(count.to_le_bytes());
        self.req(Cmd::Read as u8, &p)
    }

    fn matmul(&mut self, k: u16, out_bits: u8, rounding: u8) -> Step {
        let mut p = k.to_le_bytes().to_vec();
        p.extend([out_bits, rounding]);
        self.req(Cmd::Matmul as u8, &p)
    }

    fn row(&mut self, unit: u8, len: u16, x0: i16, n: u8, out_bits: u8, sqrt: u8) -> Step {
        let mut p = vec![unit];
        p.extend(len.to_le_bytes());
        p.extend(x0.to_le_bytes());
        p.extend([n, out_bits, sqrt]);
        self.req(Cmd::Row as u8, &p)
    }
}

fn rand_vals(rng: &mut ChaCha8Rng, n: usize, lo: i64, hi: i64) -> Vec<i64> {
    (0..n).map(|_| rng.gen_range(lo..=hi)).collect()
}

fn run(steps: &[Step], back: Backend) {
    check(&small(), timing(), steps, back, None).unwrap_or_else(|e| panic!("{e:#}"));
}

/// Steps of the link rules at the end of [`protocol_steps`].
const LINK_STEPS: usize = 17;

/// Every command's error statuses and the link rules.
fn protocol_steps() -> Vec<Step> {
    let cfg = small();
    let mut s = Seq(0);
    let mut v = vec![
        s.req(Cmd::Info as u8, &[]),
        s.req(Cmd::Ping as u8, &[]),
        s.req(Cmd::Ping as u8, &[0xa5, 0x5a, 0, 0xff]),
        s.req(Cmd::Info as u8, &[1]),
        s.req(Cmd::Status as u8, &[0]),
        s.req(0x7f, &[1, 2]),
        // WRITE checks in order.
        s.req(Cmd::Write as u8, &[0, 0]),
        s.req(Cmd::Write as u8, &[9, 0, 0, 1]),
        s.req(Cmd::Write as u8, &[7, 0, 0, 1, 2, 3, 4]),
        s.req(Cmd::Write as u8, &[8, 0, 0, 1, 2, 3, 4]),
        s.req(Cmd::Write as u8, &[0, 0, 0]),
        s.req(Cmd::Write as u8, &[5, 0, 0, 1]),
        s.req(Cmd::Write as u8, &[2, 0, 0, 1, 2, 3]),
        s.write(Mem::A, (cfg.rows * cfg.k_max - 1) as u16, &[1, 2]),
        s.write(Mem::Bias, 2, &[5, 6]),
        s.write(Mem::RowIn, 11, &[7]),
        s.write(Mem::RowIn, 12, &[7]),
        s.write(Mem::M, 0, &[1, 1 << 31]),
        s.write(Mem::Shift, 0, &[62, 63]),
        s.write(Mem::Shift, 0, &[62, 0, 17]),
        s.write(Mem::M, 1, &[(1 << 31) - 1]),
        s.read(Mem::Shift, 0, 3),
        s.read(Mem::M, 0, 3),
        // READ checks.
        s.req(Cmd::Read as u8, &[0, 0, 0, 1]),
        s.read(Mem::A, 0, 0),
        s.read(Mem::A, 5, (cfg.rows * cfg.k_max) as u16),
        s.read(Mem::RowOut, 0, 13),
        s.read(Mem::MmOut, 0, 6),
        s.read(Mem::MmOut, 0, 7),
        s.read(Mem::Bias, 0xffff, 1),
        // MATMUL and ROW parameter checks.
        s.matmul(0, 8, 0),
        s.matmul(7, 8, 0),
        s.matmul(3, 12, 0),
        s.matmul(3, 8, 1),
        s.matmul(3, 32, 2),
        s.req(Cmd::Matmul as u8, &[1, 0, 8]),
        s.row(3, 4, -10, 15, 16, 0),
        s.row(0, 0, -10, 15, 16, 0),
        s.row(0, 13, -10, 15, 16, 0),
        s.row(0, 4, 0, 15, 16, 0),
        s.row(0, 4, -129, 15, 16, 0),
        s.row(0, 4, -128, 14, 16, 0),
        s.row(0, 4, -128, 15, 8, 0),
        s.row(1, 4, -1, 23, 0, 1),
        s.row(2, 4, 0, 0, 0, 1),
        s.row(2, 4, -1, 0, 0, 0),
        // ROW_IN[11] = 7 from above; [10] out of int8: BAD_DATA for Shiftmax, fine for LN.
        s.write(Mem::RowIn, 10, &[200]),
        s.row(0, 12, -50, 15, 16, 0),
        s.row(1, 11, -50, 23, 0, 0),
        s.row(2, 12, 0, 0, 0, 0),
    ];
    // Link rules (the last LINK_STEPS steps): garbage, a false sync with a huge length, a bad
    // checksum, a cut frame that the idle timeout drops, a break inside a frame, an overrun during
    // a response.
    let before = v.len();
    v.push(Step::Raw(vec![0x00, 0x13, 0x5a, 0xff]));
    v.push(s.req(Cmd::Ping as u8, &[1]));
    v.push(Step::Raw(vec![0xa5, 0x01, 0x09, 0x00, 0x02]));
    v.push(s.req(Cmd::Ping as u8, &[2]));
    let mut bad = Request {
        cmd: Cmd::Ping as u8,
        seq: 0x44,
        payload: vec![1, 2, 3],
    }
    .encode()
    .unwrap();
    *bad.last_mut().unwrap() ^= 0x10;
    v.push(Step::Raw(bad.clone()));
    // A length above 256 is answered at the header; the rest of the frame, arriving after the
    // answer, is skipped (bytes arriving while the engine answers would be overruns).
    bad[4] ^= 0x01;
    v.push(Step::Raw(bad[..5].to_vec()));
    v.push(Step::Raw(bad[5..].to_vec()));
    v.push(s.req(Cmd::Status as u8, &[]));
    let cut = Request {
        cmd: Cmd::Ping as u8,
        seq: 0x45,
        payload: vec![9; 10],
    }
    .encode()
    .unwrap();
    v.push(Step::Raw(cut[..7].to_vec()));
    v.push(Step::Idle(cfg.idle_bits + 8));
    v.push(s.req(Cmd::Ping as u8, &[3]));
    v.push(Step::Raw(cut[..4].to_vec()));
    v.push(Step::Break(14));
    v.push(Step::Idle(cfg.idle_bits + 8));
    v.push(s.req(Cmd::Status as u8, &[]));
    s.0 += 1;
    v.push(Step::FrameThenByte(
        Request {
            cmd: Cmd::Info as u8,
            seq: s.0,
            payload: vec![],
        },
        0x33,
    ));
    v.push(s.req(Cmd::Status as u8, &[]));
    assert_eq!(v.len() - before, LINK_STEPS);
    v
}

/// Random contents of `mems`, read back, in one or two frames each.
fn memory_steps(seed: u64, mems: &[Mem]) -> Vec<Step> {
    let cfg = small();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = Seq(100);
    let mut v = Vec::new();
    for &mem in mems {
        let depth = mem.depth(&cfg);
        let (lo, hi) = mem.allowed();
        let mut vals = rand_vals(&mut rng, depth, lo, hi);
        vals[0] = lo;
        vals[depth - 1] = hi;
        let split = rng.gen_range(1..depth.max(2));
        v.push(s.write(mem, 0, &vals[..split]));
        if split < depth {
            v.push(s.write(mem, split as u16, &vals[split..]));
        }
        v.push(s.read(mem, 0, depth as u16));
        let a = rng.gen_range(0..depth);
        v.push(s.read(mem, a as u16, (depth - a) as u16));
    }
    v
}

/// Random operands, then MATMUL at each `out_bits` with K = 1, k_max and random K, each read
/// back.
fn matmul_steps(seed: u64, tiles: usize) -> Vec<Step> {
    let cfg = small();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = Seq(0);
    let mut v = Vec::new();
    for t in 0..tiles {
        v.push(s.write(
            Mem::A,
            0,
            &rand_vals(&mut rng, cfg.rows * cfg.k_max, -128, 127),
        ));
        v.push(s.write(
            Mem::B,
            0,
            &rand_vals(&mut rng, cfg.k_max * cfg.cols, -128, 127),
        ));
        let big = t % 2 == 0;
        let (blo, bhi) = if big {
            (i32::MIN as i64, i32::MAX as i64)
        } else {
            (-5000, 5000)
        };
        v.push(s.write(Mem::Bias, 0, &rand_vals(&mut rng, cfg.cols, blo, bhi)));
        v.push(s.write(
            Mem::M,
            0,
            &rand_vals(&mut rng, cfg.cols, 1 << 30, (1 << 31) - 1),
        ));
        v.push(s.write(Mem::Shift, 0, &rand_vals(&mut rng, cfg.cols, 25, 40)));
        for (i, ob) in [8u8, 16, 32].into_iter().enumerate() {
            let k = match (t, i) {
                (0, 0) => cfg.k_max,
                (0, 1) => 1,
                _ => rng.gen_range(1..=cfg.k_max),
            };
            v.push(s.matmul(k as u16, ob, 0));
            v.push(s.read(Mem::MmOut, 0, (cfg.rows * cfg.cols) as u16));
        }
    }
    v
}

/// Random int8 rows through each unit (len 1, row_max and random), read back.
fn row_steps(seed: u64, rows: usize) -> Vec<Step> {
    let cfg = small();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = Seq(50);
    let mut v = Vec::new();
    for r in 0..rows {
        for unit in Unit::ALL {
            let len = match r {
                0 => cfg.row_max,
                1 => 1,
                _ => rng.gen_range(1..=cfg.row_max),
            };
            let (lo, hi) = if unit == Unit::Layernorm {
                (-32768, 32767)
            } else {
                (-128, 127)
            };
            let mut x = rand_vals(&mut rng, len, lo, hi);
            if unit == Unit::Layernorm && r == 2 {
                x = rand_vals(&mut rng, len, -3, 3);
            }
            v.push(s.write(Mem::RowIn, 0, &x));
            let x0 = -(rng.gen_range(1..=128) as i16);
            match unit {
                Unit::Shiftmax => v.push(s.row(0, len as u16, x0, 15, 16, 0)),
                Unit::Shiftgelu => v.push(s.row(1, len as u16, x0, 23, 0, 0)),
                Unit::Layernorm => {
                    let bias = rand_vals(&mut rng, len, -100_000, 100_000);
                    v.push(s.write(Mem::LnBias, 0, &bias));
                    v.push(s.row(2, len as u16, 0, 0, 0, 0));
                }
            }
            v.push(s.read(Mem::RowOut, 0, len as u16));
        }
    }
    v
}

#[test]
fn protocol_and_every_error_status_in_verilator() {
    run(&protocol_steps(), Backend::Verilator);
}

#[test]
fn protocol_and_every_error_status_in_rusthdl() {
    // Every other command case (each status still appears) and every link rule: RustHDL's
    // simulator runs this design at a few thousand cycles per second.
    let steps = protocol_steps();
    let link = steps.len() - LINK_STEPS;
    let mut some: Vec<Step> = steps[..link].iter().step_by(2).cloned().collect();
    some.extend(steps[link..].iter().cloned());
    run(&some, Backend::RustHdl);
}

/// Every writable memory.
fn writable() -> Vec<Mem> {
    Mem::ALL.into_iter().filter(|m| !m.read_only()).collect()
}

#[test]
fn memories_round_trip_in_verilator_and_rusthdl() {
    run(&memory_steps(1, &writable()), Backend::Verilator);
    run(&memory_steps(2, &writable()), Backend::Verilator);
    // RustHDL: one memory of each element width and kind (block RAM, registers).
    run(
        &memory_steps(3, &[Mem::B, Mem::M, Mem::RowIn]),
        Backend::RustHdl,
    );
}

#[test]
fn matmul_equals_golden_in_verilator() {
    run(&matmul_steps(10, 6), Backend::Verilator);
}

#[test]
fn matmul_equals_golden_in_rusthdl() {
    run(&matmul_steps(11, 1), Backend::RustHdl);
}

#[test]
fn rows_equal_golden_in_verilator() {
    run(&row_steps(20, 6), Backend::Verilator);
}

#[test]
fn rows_equal_golden_in_rusthdl() {
    run(&row_steps(21, 2), Backend::RustHdl);
}

/// ASIC-clean: the Verilog without its `initial` blocks, in Icarus, answers a few commands and a
/// matmul as golden does (the reset alone brings every register the protocol depends on up; a
/// READ of a never-written element would rightly show unknown bits).
#[test]
fn asic_clean_without_initial_blocks_in_icarus() {
    let mut s = Seq(7);
    let steps = vec![
        s.req(Cmd::Info as u8, &[]),
        // Memories are undefined until written (docs/protocol.md): write what MATMUL reads.
        s.write(Mem::A, 0, &[3, -4, 0, 0, 0, 0, 127, 0, 0, 0, 0, 0]),
        s.write(Mem::B, 0, &[5, 6, -7]),
        s.write(Mem::Bias, 0, &[1, 2, 3]),
        s.matmul(1, 32, 0),
        s.read(Mem::MmOut, 0, 6),
        s.req(Cmd::Status as u8, &[]),
    ];
    run(&steps, Backend::IcarusNoInit);
}

#[test]
fn a_wrong_expectation_is_reported_with_the_response() {
    // The comparison must fail when the hardware's bytes differ from golden's.
    let mut s = Seq(0);
    let steps = vec![s.req(Cmd::Info as u8, &[])];
    let script = testbench::engine::script(&small(), timing(), &steps).unwrap();
    let mut got = script.expected.clone();
    got[10] ^= 1;
    let e = testbench::engine::compare(&script, &got, 0, "test").unwrap_err();
    let m = format!("{e:#}");
    assert!(m.contains("differ from golden's at response 0"), "{m}");
    assert!(m.contains("expected: cmd 0x02"), "{m}");
}

/// Lint and Yosys's design checks (the full synthesis of the engine takes minutes per target:
/// `itx bitstream --board ...` and `make boards` run it, with place and route).
#[test]
fn verilog_is_deterministic_lint_clean_and_passes_yosys_checks() {
    let p = EngineParams::new(small(), timing());
    let v = emit(&p, "itx_").unwrap();
    assert_eq!(v, emit(&p, "itx_").unwrap(), "deterministic Verilog");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("itx_engine.v");
    std::fs::write(&f, &v).unwrap();
    let rep = lint::lint(std::slice::from_ref(&f), "itx_engine", &lint::waiver_file())
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(rep.warnings.is_empty(), "{:?}", rep.warnings);
    yosys::design_checks(&[f], "itx_engine", &dir.path().join("yosys.log"))
        .unwrap_or_else(|e| panic!("{e:#}"));
}

/// The boards' engine tops: the same pins as the committed pin files (generated from the echo
/// top), lint clean, Yosys's design checks. Their synthesis, place and route and timing are
/// `itx bitstream --board ...` (`make boards`).
#[test]
fn board_engine_tops_use_the_committed_pins_and_are_lint_clean() {
    use hdl::board::Board;
    for board in Board::ALL {
        let (v, pins) = hdl::board_engine::emit(board).unwrap_or_else(|e| panic!("{e}"));
        testbench::bitstream::check_pin_file(board, &pins).unwrap_or_else(|e| panic!("{e:#}"));
        let top = hdl::board_engine::top_name(board);
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join(format!("{top}.v"));
        std::fs::write(&f, &v).unwrap();
        let rep = lint::lint(std::slice::from_ref(&f), &top, &lint::waiver_file())
            .unwrap_or_else(|e| panic!("{}: {e:#}", board.name()));
        assert!(rep.warnings.is_empty(), "{:?}", rep.warnings);
        yosys::design_checks(&[f], &top, &dir.path().join("yosys.log"))
            .unwrap_or_else(|e| panic!("{}: {e:#}", board.name()));
    }
}
