//! A UART-attached top level as a child process on stdin/stdout: the generated Verilator C++
//! `main` behind `itx run --port exec:PROGRAM` (docs/protocol.md, "An engine behind `exec:`").
//!
//! The top has the ports `clock`, `reset`, `rx` (input) and `tx` (output); other outputs (`led`)
//! are ignored, and the other inputs named in [`UartExecParams::extra_inputs`] are driven 0.
//! [`driver_source`] generates the driver, [`UartExecSim::build`] compiles it with the Verilog
//! under `build/verilator/<top>-<slug>-uart[-trace]/` (reused while the Verilog and the driver
//! are byte-identical).
//!
//! # What the program does
//! * Cycle loop: drive the inputs with the clock low, evaluate, sample `tx`, rising edge.
//! * Reset: `reset` at its active level for [`UartExecParams::reset_cycles`] cycles, `rx` high;
//!   then `rx` stays idle for [`UartExecParams::startup_cycles`] more cycles before the first
//!   frame (for tops that stretch their reset, like `BoardEcho`'s power-on counter).
//! * stdin → `rx`: bytes read from stdin (poll(2) with no wait, at least once per bit time while
//!   the simulation runs; read(2)) are queued and sent as 8N1 frames, start bit 0, 8 data bits
//!   LSB first, stop bit 1, `div` cycles per bit, back to back while bytes wait. At most 4096
//!   bytes are queued: beyond that stdin is left unread and the writer blocks on the pipe.
//! * `tx` → stdout: the line is decoded as `golden::uart::rx_events` decodes it (falling edge
//!   after the line was high, start checked at `div / 2`, data bits and the stop bit one `div`
//!   apart), without the two-flop delay. Each byte is written to stdout with write(2) at once (no
//!   buffering). A stop bit at 0 is reported in one line on stderr and its byte dropped.
//! * Simulated time runs freely, decoupled from wall time, while anything happens: a frame on `rx`
//!   or bytes queued for it, a frame being decoded on `tx`, or `tx` low.
//! * Quiet rule: after [`UartExecParams::quiet_cycles`] cycles without any of that, the program
//!   blocks in poll(stdin, -1) until input or end of file: simulated time stops, and no CPU is
//!   used. Everything the top does must therefore happen within `quiet_cycles` of its last line
//!   activity: an engine's receive idle timeout (`idle_bits` bit times after a cut frame) and
//!   the longest command's execution before its response starts. [`quiet_cycles_for`] gives
//!   `2 * idle_bits * div` plus two frames of margin; raise it for commands that compute longer.
//! * End of file on stdin: the queued bytes are sent, the simulation runs until quiet (so the
//!   last response is written out), and the program exits 0.
//! * SIGPIPE is ignored; when a write to stdout fails (the host is gone) the program exits 3
//!   without a message.
//!
//! # Arguments
//! `sim [--vcd FILE] [--max-cycles N]`
//! * `--vcd FILE`: dump every simulated cycle to FILE (a `--trace` build only; a plain build
//!   refuses with exit 2). Size: every cycle writes the clock's two edges, 20 to 30 bytes, even
//!   when nothing else moves, and every wait until quiet adds `quiet_cycles` cycles: with
//!   `quiet_cycles_for(16, 4096)` that is about 3 MB per request. Time while blocked on stdin
//!   is not simulated and adds nothing. The file is flushed whenever the program goes quiet, so a
//!   host that kills the process leaves a complete dump up to the last quiet point. (`itx run`'s
//!   `exec:` transport closes stdin when it ends and kills the program only if it has not exited
//!   2 s later.)
//! * `--max-cycles N`: a safety net: after N simulated cycles (reset included) the program stops
//!   with a message on stderr and exit 1. Default: unlimited.
//!
//! Exit codes: 0 end of input, 1 `--max-cycles` reached, 2 bad arguments or VCD file, 3 stdout
//! closed.
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Result};
use golden::uart::{MAX_DIV, MIN_DIV};

use crate::harness::build_dir;
use crate::verilator::build_cached;

/// What the generated driver needs to know about the top and the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UartExecParams {
    /// Clock cycles per bit, as the top was built (`golden::uart::BitTiming::div`).
    pub div: u64,
    /// Cycles without line activity after which the simulation waits for stdin (module doc).
    pub quiet_cycles: u64,
    /// Cycles `reset` is held at the start (at least 1).
    pub reset_cycles: u64,
    /// `reset` is active at 0 (a raw active-low button); the engine top's is active high.
    pub reset_active_low: bool,
    /// Idle cycles on `rx` after reset before the first frame.
    pub startup_cycles: u64,
    /// Other input ports (up to 64 bits wide), driven 0 throughout.
    pub extra_inputs: Vec<String>,
}

impl UartExecParams {
    /// `div` cycles per bit, `quiet_cycles`, 4 reset cycles active high, no startup delay, no
    /// other inputs.
    pub fn new(div: u64, quiet_cycles: u64) -> UartExecParams {
        UartExecParams {
            div,
            quiet_cycles,
            reset_cycles: 4,
            reset_active_low: false,
            startup_cycles: 0,
            extra_inputs: Vec::new(),
        }
    }

    /// Error: `div` outside `golden::uart`'s range, `quiet_cycles` below one frame (`10 * div`),
    /// no reset cycle, or an extra input that is not a plain port name.
    pub fn check(&self) -> Result<()> {
        if !(u64::from(MIN_DIV)..=u64::from(MAX_DIV)).contains(&self.div) {
            bail!(
                "uart exec: div = {} (allowed: {MIN_DIV}..={MAX_DIV} cycles per bit)",
                self.div
            );
        }
        if self.quiet_cycles < 10 * self.div {
            bail!(
                "uart exec: quiet_cycles = {} is less than one frame ({} cycles)",
                self.quiet_cycles,
                10 * self.div
            );
        }
        if self.reset_cycles == 0 {
            bail!("uart exec: reset_cycles must be at least 1");
        }
        for p in &self.extra_inputs {
            if !is_port_name(p) || ["clock", "reset", "rx", "tx"].contains(&p.as_str()) {
                bail!("uart exec: `{p}` is not an extra input port name");
            }
        }
        Ok(())
    }
}

fn is_port_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// A `quiet_cycles` for an engine whose receiver drops a cut frame after `idle_bits` bit times:
/// twice that, plus two frames.
pub fn quiet_cycles_for(div: u64, idle_bits: u64) -> u64 {
    2 * idle_bits * div + 20 * div
}

/// The Verilator C++ `main` for `top` (module doc). Deterministic: the same arguments give the
/// same text. `params` should pass [`UartExecParams::check`].
pub fn driver_source(top: &str, params: &UartExecParams) -> String {
    let cls = format!("V{top}");
    let (on, off) = if params.reset_active_low {
        (0, 1)
    } else {
        (1, 0)
    };
    let extras: String = params
        .extra_inputs
        .iter()
        .map(|p| format!("  dut->{p} = 0;\n"))
        .collect();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Generated by ITX (testbench::uart_exec): UART on stdin/stdout for {top}.\n\
         // Usage: sim [--vcd FILE] [--max-cycles N]; exit 0 at end of input, 1 at --max-cycles,\n\
         // 2 on bad arguments, 3 when stdout is closed.\n\
         #include <cerrno>\n#include <csignal>\n#include <cstdint>\n#include <cstdio>\n\
         #include <cstdlib>\n#include <cstring>\n#include <deque>\n#include <memory>\n\
         #include <poll.h>\n#include <unistd.h>\n\
         #include \"verilated.h\"\n#if VM_TRACE\n#include \"verilated_vcd_c.h\"\n#endif\n\
         #include \"{cls}.h\"\n"
    );
    let _ = writeln!(
        s,
        "static const uint64_t DIV = {}ULL;\nstatic const uint64_t QUIET = {}ULL;\n\
         static const uint64_t RESET_CYCLES = {}ULL;\nstatic const uint64_t STARTUP = {}ULL;\n\
         static const int RESET_ON = {on}, RESET_OFF = {off};\nstatic const size_t QUEUE_MAX = 4096;",
        params.div, params.quiet_cycles, params.reset_cycles, params.startup_cycles
    );
    let _ = writeln!(
        s,
        r#"
// One byte to stdout, unbuffered; false when the reader is gone.
static bool put_byte(unsigned char b) {{
  for (;;) {{
    ssize_t n = write(1, &b, 1);
    if (n == 1) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }}
}}

// Reads what stdin has into q, waiting up to wait_ms (-1: until input or end of file).
// Returns false at end of file (or a read error, reported).
static bool pull(std::deque<unsigned char>& q, int wait_ms) {{
  struct pollfd p;
  p.fd = 0; p.events = POLLIN; p.revents = 0;
  int r = poll(&p, 1, wait_ms);
  if (r < 0) {{
    if (errno == EINTR) return true;
    std::fprintf(stderr, "uart exec: poll(stdin): %s\n", std::strerror(errno));
    return false;
  }}
  if (r == 0) return true;
  if (p.revents & POLLNVAL) return false;
  unsigned char buf[QUEUE_MAX];
  ssize_t n = read(0, buf, QUEUE_MAX - q.size());
  if (n < 0) {{
    if (errno == EINTR || errno == EAGAIN) return true;
    std::fprintf(stderr, "uart exec: read(stdin): %s\n", std::strerror(errno));
    return false;
  }}
  if (n == 0) return false;
  q.insert(q.end(), buf, buf + n);
  return true;
}}

int main(int argc, char** argv) {{
  const char* vcd_path = nullptr;
  uint64_t max_cycles = 0;
  for (int i = 1; i < argc; i++) {{
    if (!std::strcmp(argv[i], "--vcd") && i + 1 < argc) {{
      vcd_path = argv[++i];
    }} else if (!std::strcmp(argv[i], "--max-cycles") && i + 1 < argc) {{
      char* end = nullptr;
      max_cycles = std::strtoull(argv[++i], &end, 10);
      if (!*argv[i] || *end || !max_cycles) {{ std::fprintf(stderr, "uart exec: bad --max-cycles `%s`\n", argv[i]); return 2; }}
    }} else {{
      std::fprintf(stderr, "usage: %s [--vcd FILE] [--max-cycles N]\n", argv[0]);
      return 2;
    }}
  }}
  std::signal(SIGPIPE, SIG_IGN);
  auto ctx = std::make_unique<VerilatedContext>();
#if VM_TRACE
  ctx->traceEverOn(true);
#endif
  auto dut = std::make_unique<{cls}>(ctx.get());
#if VM_TRACE
  std::unique_ptr<VerilatedVcdC> vcd;
  if (vcd_path) {{
    vcd.reset(new VerilatedVcdC);
    dut->trace(vcd.get(), 99);
    vcd->open(vcd_path);
    if (!vcd->isOpen()) {{ std::fprintf(stderr, "uart exec: cannot write %s\n", vcd_path); return 2; }}
  }}
  uint64_t time = 0;
  auto step = [&]() {{ dut->eval(); if (vcd) vcd->dump(time); time += 5; }};
  auto flush = [&]() {{ if (vcd) vcd->flush(); }};
  auto finish = [&](int code) {{ if (vcd) vcd->close(); dut->final(); return code; }};
#else
  if (vcd_path) {{ std::fprintf(stderr, "uart exec: this simulator was built without --trace: no VCD\n"); return 2; }}
  auto step = [&]() {{ dut->eval(); }};
  auto flush = [&]() {{}};
  auto finish = [&](int code) {{ dut->final(); return code; }};
#endif
{extras}  uint64_t cycle = 0;
  // One clock cycle: inputs with the clock low, evaluate, sample tx, rising edge.
  auto tick = [&](int reset, int rx) {{
    dut->clock = 0; dut->reset = reset ? RESET_ON : RESET_OFF; dut->rx = rx; step();
    int tx = dut->tx & 1;
    dut->clock = 1; step();
    cycle++;
    return tx;
  }};
  for (uint64_t i = 0; i < RESET_CYCLES; i++) tick(1, 1);

  std::deque<unsigned char> queue;
  bool eof = false;
  // rx: the frame being sent (bit 0 start, 1..8 data, 9 stop; -1 none) and its cycles left.
  int rx_bit = -1;
  uint64_t rx_left = 0, startup = STARTUP;
  unsigned rx_byte = 0;
  // tx: armed once the line was high; the frame being decoded, cycles since its falling edge.
  int tx_prev = 0;
  bool tx_busy = false;
  uint64_t tx_count = 0;
  unsigned tx_byte = 0;
  uint64_t quiet = 0, since_poll = DIV;
  for (;;) {{
    if (!eof && since_poll >= DIV) {{
      since_poll = 0;
      if (queue.size() < QUEUE_MAX) eof = !pull(queue, 0);
    }}
    if (rx_bit < 0 && startup == 0 && !queue.empty()) {{
      rx_byte = queue.front(); queue.pop_front();
      rx_bit = 0; rx_left = DIV;
    }}
    int rx = rx_bit < 0 || rx_bit == 9 ? 1 : rx_bit == 0 ? 0 : (int)((rx_byte >> (rx_bit - 1)) & 1);
    int tx = tick(0, rx);
    if (startup) startup--;
    if (rx_bit >= 0 && --rx_left == 0) {{
      if (++rx_bit == 10) rx_bit = -1; else rx_left = DIV;
    }}
    if (!tx_busy) {{
      if (tx_prev && !tx) {{ tx_busy = true; tx_count = 0; tx_byte = 0; }}
    }} else if (++tx_count == DIV / 2) {{
      if (tx) tx_busy = false;  // a glitch, not a start bit
    }} else if (tx_count > DIV / 2 && (tx_count - DIV / 2) % DIV == 0) {{
      uint64_t k = (tx_count - DIV / 2) / DIV;
      if (k <= 8) {{
        tx_byte |= (unsigned)tx << (k - 1);
      }} else {{
        tx_busy = false;
        if (!tx) std::fprintf(stderr, "uart exec: framing error on tx (stop bit 0) in cycle %llu; byte 0x%02x dropped\n", (unsigned long long)cycle, tx_byte);
        else if (!put_byte((unsigned char)tx_byte)) return finish(3);
      }}
    }}
    tx_prev = tx;
    since_poll++;
    const bool active = rx_bit >= 0 || !queue.empty() || tx_busy || !tx;
    quiet = active ? 0 : quiet + 1;
    if (max_cycles && cycle >= max_cycles) {{
      std::fprintf(stderr, "uart exec: --max-cycles %llu reached; stopped\n", (unsigned long long)max_cycles);
      return finish(1);
    }}
    if (quiet >= QUIET) {{
      if (eof) return finish(0);
      flush();
      eof = !pull(queue, -1);
      since_poll = 0;
      if (eof && queue.empty()) return finish(0);
    }}
  }}
}}"#
    );
    s
}

/// A built stdin/stdout simulator of a UART-attached top.
#[derive(Clone, Debug)]
pub struct UartExecSim {
    /// The program (`--port exec:<exe>`).
    pub exe: PathBuf,
    pub dir: PathBuf,
    /// Built with `--trace` (accepts `--vcd FILE`).
    pub traced: bool,
    pub params: UartExecParams,
}

impl UartExecSim {
    /// Builds (or reuses) the simulator of `verilog` (top module `top`) under
    /// `build/verilator/<top>-<slug>-uart[-trace]/`, with `--trace` when `traced`.
    /// Error: `params` fail [`UartExecParams::check`], Verilator is missing or the build fails.
    pub fn build(
        top: &str,
        slug: &str,
        verilog: &str,
        params: &UartExecParams,
        traced: bool,
    ) -> Result<UartExecSim> {
        params.check()?;
        let suffix = if traced { "-trace" } else { "" };
        let dir = build_dir()
            .join("verilator")
            .join(format!("{top}-{slug}-uart{suffix}"));
        let exe = build_cached(&dir, top, verilog, &driver_source(top, params), traced)?;
        Ok(UartExecSim {
            exe,
            dir,
            traced,
            params: params.clone(),
        })
    }

    /// The program as a command, without arguments.
    pub fn command(&self) -> Command {
        Command::new(&self.exe)
    }

    /// The `itx run --port` value (`exec:` splits on whitespace: the path must have none).
    pub fn port(&self) -> String {
        format!("exec:{}", self.exe.display())
    }
}
