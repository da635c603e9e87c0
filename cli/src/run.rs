//! `itx run`: talk to an engine over the protocol of docs/protocol.md (a serial port, the golden
//! engine in-process, or a child process), and `itx engine-model`, the golden engine served on
//! stdin/stdout.
use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use golden::engine::{Engine, EngineConfig, Mem, Unit};
use golden::layernorm::layernorm;
use golden::mac_array::{tile, ColumnRequant};
use golden::requant::Rounding;
use golden::shiftgelu::shiftgelu;
use golden::shiftmax::shiftmax;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use crate::driver::{Driver, LinkLog, RowOp};
use crate::transport::{self, parse_model_spec};

/// `itx run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The engine: a serial device (`/dev/ttyUSB0`), `model:` (the golden engine in-process;
    /// `model:rows=8,cols=8,k_max=64,row_max=128` sets its configuration, `corrupt=N` / `cut=N`
    /// garble request frame N), `exec:PROGRAM [ARGS...]` (a child process speaking the UART
    /// bytes on stdin/stdout, e.g. `exec:itx engine-model`), or `verilator:[KEY=VALUE,...]` (the
    /// hardware engine's Verilog in Verilator: keys rows, cols, k_max, row_max, idle_bits, units,
    /// rounding, div, vcd=FILE).
    #[arg(long, value_name = "DEVICE")]
    pub port: String,
    /// Serial baud rate (8N1).
    #[arg(long, default_value_t = 115200)]
    pub baud: u32,
    /// How long to wait for each response, in milliseconds (must exceed the engine's idle
    /// timeout plus the command's execution and transmission time).
    #[arg(long, default_value_t = 1000)]
    pub timeout_ms: u64,
    /// How many times to repeat a request after a BAD_CRC answer, a corrupted response or a
    /// timeout (every command is idempotent).
    #[arg(long, default_value_t = 2)]
    pub retries: u32,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(subcommand)]
    pub action: RunAction,
}

/// What `itx run` does.
#[derive(Subcommand, Debug)]
pub enum RunAction {
    /// The engine's configuration (INFO).
    Info,
    /// The engine's error counters (STATUS).
    Status,
    /// PING with a byte pattern; checks the echo.
    Ping {
        /// Payload bytes (0..=256).
        #[arg(long, default_value_t = 16)]
        bytes: usize,
    },
    /// Random tiles and rows through the engine, compared bit for bit with the golden model on
    /// the host: a matmul for each supported out_bits, and a row through each unit present.
    Selftest {
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Rounds of cases (each with new random data).
        #[arg(long, default_value_t = 1)]
        rounds: usize,
    },
}

fn config_json(cfg: &EngineConfig) -> Value {
    let units: Vec<&str> = Unit::ALL
        .iter()
        .filter(|u| cfg.has_unit(**u))
        .map(|u| u.name())
        .collect();
    let out_bits: Vec<u32> = [8, 16, 32]
        .into_iter()
        .filter(|b| cfg.supports_out_bits(*b))
        .collect();
    let roundings: Vec<&str> = Rounding::ALL
        .iter()
        .filter(|r| cfg.supports_rounding(**r))
        .map(|r| r.as_str())
        .collect();
    json!({
        "rows": cfg.rows, "cols": cfg.cols, "k_max": cfg.k_max, "row_max": cfg.row_max,
        "idle_bits": cfg.idle_bits, "matmul_out_bits": out_bits, "matmul_roundings": roundings,
        "units": units, "x0_bits": cfg.x0_bits, "shiftmax_n": cfg.sm_n,
        "shiftmax_out_bits": cfg.sm_out_bits, "shiftgelu_n": cfg.gelu_n,
        "layernorm_sqrt": cfg.ln_sqrt.as_str(),
    })
}

fn link_json(log: &LinkLog) -> Value {
    json!({"retries": log.retries, "flags": log.flags, "stray_responses": log.stray, "skipped_bytes": log.skipped})
}

fn print_link(log: &LinkLog) {
    for r in &log.retries {
        eprintln!("link: retried {r}");
    }
    for f in &log.flags {
        eprintln!("link: {f}");
    }
    if log.stray > 0 {
        eprintln!("link: {} stray response(s) skipped", log.stray);
    }
    if log.skipped > 0 {
        eprintln!("link: {} byte(s) of garbage skipped", log.skipped);
    }
}

/// `itx run`.
pub fn run(args: &RunArgs) -> Result<bool> {
    let t = transport::open(&args.port, args.baud)?;
    let mut d = Driver::new(t, Duration::from_millis(args.timeout_ms), args.retries);
    let result = match &args.action {
        RunAction::Info => info(&mut d, args.json),
        RunAction::Status => status(&mut d, args.json),
        RunAction::Ping { bytes } => ping(&mut d, *bytes, args.json),
        RunAction::Selftest { seed, rounds } => {
            selftest(&mut d, &args.port, *seed, *rounds, args.json)
        }
    };
    if !args.json {
        print_link(&d.log);
    }
    result.with_context(|| format!("engine at `{}`", args.port))
}

fn info(d: &mut Driver, as_json: bool) -> Result<bool> {
    let (cfg, version, max) = d.info()?;
    if as_json {
        let mut v = config_json(&cfg);
        v["protocol"] = json!(version);
        v["max_payload"] = json!(max);
        v["link"] = link_json(&d.log);
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(true);
    }
    let v = config_json(&cfg);
    println!("protocol     {version} (payloads up to {max} bytes)");
    println!(
        "mac array    {} x {}, k_max {}",
        cfg.rows, cfg.cols, cfg.k_max
    );
    println!(
        "matmul       out_bits {}, rounding {}",
        v["matmul_out_bits"], v["matmul_roundings"]
    );
    println!("row units    {} (row_max {})", v["units"], cfg.row_max);
    println!(
        "constants    x0_bits {}, shiftmax n {} out_bits {}, shiftgelu n {}, layernorm sqrt {}",
        cfg.x0_bits,
        cfg.sm_n,
        cfg.sm_out_bits,
        cfg.gelu_n,
        cfg.ln_sqrt.as_str()
    );
    println!("idle timeout {} bit times", cfg.idle_bits);
    Ok(true)
}

fn status(d: &mut Driver, as_json: bool) -> Result<bool> {
    let c = d.status()?;
    let v = json!({
        "frames_ok": c.frames_ok, "bad_crc": c.bad_crc, "too_long": c.too_long,
        "dropped": c.dropped, "overruns": c.overruns, "framing": c.framing, "skipped": c.skipped,
    });
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"counters": v, "link": link_json(&d.log)}))?
        );
    } else {
        for (k, n) in v.as_object().expect("object") {
            println!("{k:<10} {n}");
        }
    }
    Ok(true)
}

fn ping(d: &mut Driver, bytes: usize, as_json: bool) -> Result<bool> {
    let data: Vec<u8> = (0..bytes)
        .map(|i| (i as u8).wrapping_mul(37).wrapping_add(11))
        .collect();
    d.ping(&data)?;
    if as_json {
        println!(
            "{}",
            json!({"ping": bytes, "ok": true, "link": link_json(&d.log)})
        );
    } else {
        println!("PING {bytes} bytes: echo matches");
    }
    Ok(true)
}

/// One selftest case: what was run, on what, what golden says and what the engine returned.
struct Case {
    name: String,
    inputs: Value,
    expected: Vec<i64>,
    got: Vec<i64>,
}

fn random_vec(rng: &mut ChaCha8Rng, n: usize, lo: i64, hi: i64) -> Vec<i64> {
    (0..n).map(|_| rng.gen_range(lo..=hi)).collect()
}

fn to_i32(v: &[i64]) -> Vec<i32> {
    v.iter().map(|&x| x as i32).collect()
}

fn matmul_case(
    d: &mut Driver,
    cfg: &EngineConfig,
    rng: &mut ChaCha8Rng,
    k: usize,
    out_bits: u32,
    rounding: Rounding,
) -> Result<Case> {
    let (rows, cols, k_max) = (cfg.rows, cfg.cols, cfg.k_max);
    let a: Vec<Vec<i64>> = (0..rows).map(|_| random_vec(rng, k, -128, 127)).collect();
    let b: Vec<Vec<i64>> = (0..k).map(|_| random_vec(rng, cols, -128, 127)).collect();
    let bias = random_vec(rng, cols, -(1 << 20), 1 << 20);
    let m = random_vec(rng, cols, 1 << 30, (1 << 31) - 1);
    // Shifts that keep most outputs inside int8/int16 for these sums.
    let c = random_vec(rng, cols, 16, 36);
    for (i, row) in a.iter().enumerate() {
        d.write_mem(Mem::A, i * k_max, row)?;
    }
    d.write_mem(Mem::B, 0, &b.concat())?;
    d.write_mem(Mem::Bias, 0, &bias)?;
    if out_bits != 32 {
        d.write_mem(Mem::M, 0, &m)?;
        d.write_mem(Mem::Shift, 0, &c)?;
    }
    d.matmul(k, out_bits, rounding)?;
    let got = d.read_mem(Mem::MmOut, 0, rows * cols)?;
    let a32: Vec<Vec<i32>> = a.iter().map(|r| to_i32(r)).collect();
    let b32: Vec<Vec<i32>> = b.iter().map(|r| to_i32(r)).collect();
    let rq = ColumnRequant {
        m: m.iter().map(|&v| v as u32).collect(),
        c: c.iter().map(|&v| v as u32).collect(),
        bits: out_bits,
        rounding,
    };
    let want = tile(&a32, &b32, &to_i32(&bias), (out_bits != 32).then_some(&rq));
    let mut inputs = json!({"a": a, "b": b, "bias": bias});
    if out_bits != 32 {
        inputs["m"] = json!(m);
        inputs["c"] = json!(c);
    }
    Ok(Case {
        name: format!("matmul {rows}x{cols} k={k} out_bits={out_bits} rounding={rounding}"),
        inputs,
        expected: want.concat().into_iter().map(i64::from).collect(),
        got,
    })
}

fn row_case(
    d: &mut Driver,
    cfg: &EngineConfig,
    rng: &mut ChaCha8Rng,
    unit: Unit,
    len: usize,
) -> Result<Case> {
    let (x, x0, bias) = match unit {
        Unit::Layernorm => (
            random_vec(rng, len, -32768, 32767),
            0,
            random_vec(rng, len, -(1 << 24), 1 << 24),
        ),
        _ => (
            random_vec(rng, len, -128, 127),
            rng.gen_range(cfg.x0_min()..=-1),
            Vec::new(),
        ),
    };
    d.write_mem(Mem::RowIn, 0, &x)?;
    if unit == Unit::Layernorm {
        d.write_mem(Mem::LnBias, 0, &bias)?;
    }
    d.row(RowOp { unit, len, x0 })?;
    let got = d.read_mem(Mem::RowOut, 0, len)?;
    let x32 = to_i32(&x);
    let (expected, inputs) = match unit {
        Unit::Shiftmax => (
            shiftmax(&x32, x0, cfg.sm_n, cfg.sm_out_bits),
            json!({"x": x, "x0": x0, "n": cfg.sm_n, "out_bits": cfg.sm_out_bits}),
        ),
        Unit::Shiftgelu => (
            shiftgelu(&x32, x0, cfg.gelu_n),
            json!({"x": x, "x0": x0, "n": cfg.gelu_n}),
        ),
        Unit::Layernorm => (
            layernorm(&x32, &to_i32(&bias), cfg.ln_sqrt),
            json!({"x": x, "bias": bias, "sqrt": cfg.ln_sqrt.as_str()}),
        ),
    };
    Ok(Case {
        name: format!(
            "{} len={len}{}",
            unit.name(),
            if unit == Unit::Layernorm {
                String::new()
            } else {
                format!(" x0={x0}")
            }
        ),
        inputs,
        expected,
        got,
    })
}

fn selftest(d: &mut Driver, port: &str, seed: u64, rounds: usize, as_json: bool) -> Result<bool> {
    let (cfg, _, _) = d.info()?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let ping: Vec<u8> = (0..32).map(|_| rng.gen()).collect();
    d.ping(&ping)?;
    let roundings: Vec<Rounding> = Rounding::ALL
        .into_iter()
        .filter(|r| cfg.supports_rounding(*r))
        .collect();
    let mut cases = Vec::new();
    for round in 0..rounds {
        for (i, out_bits) in [8u32, 16, 32]
            .into_iter()
            .filter(|b| cfg.supports_out_bits(*b))
            .enumerate()
        {
            // The first round covers K = 1 and K = k_max, then random K.
            let k = match (round, i) {
                (0, 0) => cfg.k_max,
                (0, 1) => 1,
                _ => rng.gen_range(1..=cfg.k_max),
            };
            let rounding = roundings[(round + i) % roundings.len()];
            cases.push(matmul_case(d, &cfg, &mut rng, k, out_bits, rounding)?);
        }
        for unit in Unit::ALL.into_iter().filter(|u| cfg.has_unit(*u)) {
            let len = if round == 0 && unit == Unit::Shiftmax {
                cfg.row_max
            } else {
                rng.gen_range(1..=cfg.row_max)
            };
            cases.push(row_case(d, &cfg, &mut rng, unit, len)?);
        }
    }
    let failed = cases.iter().filter(|c| c.got != c.expected).count();
    if as_json {
        let list: Vec<Value> = cases
            .iter()
            .map(|c| {
                let mut v = json!({"case": c.name, "pass": c.got == c.expected});
                if c.got != c.expected {
                    v["inputs"] = c.inputs.clone();
                    v["expected"] = json!(c.expected);
                    v["got"] = json!(c.got);
                }
                v
            })
            .collect();
        let v = json!({
            "port": port, "seed": seed, "config": config_json(&cfg), "cases": list,
            "failed": failed, "link": link_json(&d.log),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "engine: {} x {} array, k_max {}, row_max {}",
            cfg.rows, cfg.cols, cfg.k_max, cfg.row_max
        );
        for c in &cases {
            if c.got == c.expected {
                println!("PASS {}", c.name);
            } else {
                let at = c
                    .got
                    .iter()
                    .zip(&c.expected)
                    .position(|(g, e)| g != e)
                    .unwrap_or(0);
                println!(
                    "FAIL {} (seed {seed}): first difference at element {at}",
                    c.name
                );
                println!("  inputs   {}", c.inputs);
                println!("  expected {:?}", c.expected);
                println!("  got      {:?}", c.got);
            }
        }
        if failed == 0 {
            println!("selftest: all {} cases equal the golden model", cases.len());
        } else {
            println!(
                "selftest: {failed} of {} cases differ from the golden model",
                cases.len()
            );
        }
    }
    Ok(failed == 0)
}

/// `itx engine-model`: the golden engine on stdin/stdout, one byte of the UART per byte of the
/// pipe; a pause of `idle_bits` bit times at `baud` in the input is the engine's idle timeout.
pub fn engine_model(spec: &str, baud: u32) -> Result<bool> {
    let (cfg, faults) = parse_model_spec(spec)?;
    anyhow::ensure!(
        faults.is_empty(),
        "--config: corrupt/cut are for --port model: only"
    );
    anyhow::ensure!(baud > 0, "--baud must be at least 1");
    let idle = Duration::from_secs_f64(cfg.idle_bits as f64 / baud as f64);
    let mut engine = Engine::new(cfg)?;
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 512];
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut out = std::io::stdout().lock();
    loop {
        match rx.recv_timeout(idle) {
            Ok(bytes) => engine.feed_all(&bytes),
            Err(mpsc::RecvTimeoutError::Timeout) => engine.idle(engine.config().idle_bits),
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(true),
        }
        let o = engine.take_output();
        if !o.is_empty() {
            out.write_all(&o)
                .and_then(|_| out.flush())
                .context("stdout")?;
        }
    }
}
