//! Byte transports between the host driver and an engine (docs/protocol.md): a Linux serial port
//! (8N1, raw), the golden engine in-process (`model:`), and a child process speaking the UART's
//! bytes on its stdin/stdout (`exec:`, the seam for the engine running in Verilator).
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use golden::engine::{Engine, EngineConfig};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{self, BaudRate, ControlFlags, SetArg, SpecialCharacterIndices};

/// A byte pipe to an engine.
pub trait Transport {
    /// Sends every byte.
    fn write_all(&mut self, bytes: &[u8]) -> Result<()>;
    /// Reads what has arrived, waiting up to `timeout` for the first byte; `Ok(0)` means the
    /// timeout passed with nothing received.
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize>;
}

/// Opens the transport a `--port` names: `model:[KEY=VALUE,...]`, `exec:PROGRAM [ARGS...]`,
/// `verilator:[KEY=VALUE,...]` (the hardware engine in Verilator, [`crate::engine_sim`]), or a
/// serial device path.
pub fn open(port: &str, baud: u32) -> Result<Box<dyn Transport>> {
    if let Some(spec) = port.strip_prefix("model:") {
        Ok(Box::new(ModelTransport::from_spec(spec)?))
    } else if let Some(cmd) = port.strip_prefix("exec:") {
        Ok(Box::new(ProcessTransport::spawn(cmd)?))
    } else if let Some(spec) = port.strip_prefix("verilator:") {
        Ok(Box::new(ProcessTransport::spawn(
            &crate::engine_sim::command(spec)?,
        )?))
    } else {
        Ok(Box::new(SerialTransport::open(port, baud)?))
    }
}

/// The standard baud rates a Linux tty accepts.
const BAUDS: [(u32, BaudRate); 16] = [
    (1200, BaudRate::B1200),
    (2400, BaudRate::B2400),
    (4800, BaudRate::B4800),
    (9600, BaudRate::B9600),
    (19200, BaudRate::B19200),
    (38400, BaudRate::B38400),
    (57600, BaudRate::B57600),
    (115200, BaudRate::B115200),
    (230400, BaudRate::B230400),
    (460800, BaudRate::B460800),
    (500000, BaudRate::B500000),
    (921600, BaudRate::B921600),
    (1000000, BaudRate::B1000000),
    (2000000, BaudRate::B2000000),
    (3000000, BaudRate::B3000000),
    (4000000, BaudRate::B4000000),
];

/// A serial port in raw 8N1 mode (no flow control, no echo, no line editing) at one baud rate.
///
/// termios through `nix` (already in the dependency tree, safe wrappers, no libudev or other C
/// library): the `serialport` crate would add its own dependency tree for the four calls used here.
pub struct SerialTransport {
    file: File,
}

impl SerialTransport {
    /// Opens `path` and sets it to raw 8N1 at `baud`; flushes anything already received.
    pub fn open(path: &str, baud: u32) -> Result<SerialTransport> {
        let rate = BAUDS
            .iter()
            .find(|(b, _)| *b == baud)
            .map(|(_, r)| *r)
            .with_context(|| {
                let list: Vec<String> = BAUDS.iter().map(|(b, _)| b.to_string()).collect();
                format!(
                    "--baud {baud} is not a standard rate (allowed: {})",
                    list.join(", ")
                )
            })?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
            .open(path)
            .with_context(|| format!("cannot open serial port {path}"))?;
        let mut t = termios::tcgetattr(file.as_fd())
            .with_context(|| format!("{path} is not a serial port (tcgetattr failed)"))?;
        termios::cfmakeraw(&mut t);
        t.control_flags &= !(ControlFlags::CSTOPB | ControlFlags::PARENB | ControlFlags::CRTSCTS);
        t.control_flags |= ControlFlags::CS8 | ControlFlags::CLOCAL | ControlFlags::CREAD;
        t.control_chars[SpecialCharacterIndices::VMIN as usize] = 0;
        t.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
        termios::cfsetspeed(&mut t, rate)
            .with_context(|| format!("{path}: cannot set {baud} baud"))?;
        termios::tcsetattr(file.as_fd(), SetArg::TCSANOW, &t)
            .with_context(|| format!("{path}: cannot set raw 8N1 mode"))?;
        termios::tcflush(file.as_fd(), termios::FlushArg::TCIOFLUSH)
            .with_context(|| format!("{path}: cannot flush"))?;
        Ok(SerialTransport { file })
    }
}

impl Transport for SerialTransport {
    fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let mut rest = bytes;
        while !rest.is_empty() {
            match self.file.write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLOUT)];
                    poll(&mut fds, PollTimeout::from(1000u16)).context("serial port: poll")?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e).context("serial port: write"),
            }
        }
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
        let ready = poll(
            &mut fds,
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
        )
        .context("serial port: poll")?;
        if ready == 0 {
            return Ok(0);
        }
        match self.file.read(buf) {
            Ok(0) => bail!("serial port closed (end of file)"),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(e).context("serial port: read"),
        }
    }
}

/// A fault the model transport injects into one request frame (counted from 0 in write order), to
/// exercise the driver's error handling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Flip the lowest bit of the frame's last byte (its checksum): the engine NAKs it.
    Corrupt(usize),
    /// Deliver only the frame's first 3 bytes: the engine drops it after the idle timeout.
    Cut(usize),
}

/// The golden engine in-process (`--port model:`). Time passes only when the host waits: a read
/// that finds nothing lets the engine see one idle timeout.
pub struct ModelTransport {
    engine: Engine,
    pending: VecDeque<u8>,
    faults: Vec<Fault>,
    writes: usize,
}

impl ModelTransport {
    /// An engine with this configuration and faults.
    pub fn new(cfg: EngineConfig, faults: Vec<Fault>) -> Result<ModelTransport> {
        Ok(ModelTransport {
            engine: Engine::new(cfg)?,
            pending: VecDeque::new(),
            faults,
            writes: 0,
        })
    }

    /// From the text after `model:`: empty, or comma-separated `KEY=VALUE` with keys `rows`,
    /// `cols`, `k_max`, `row_max`, `corrupt` (a frame index) and `cut` (a frame index).
    pub fn from_spec(spec: &str) -> Result<ModelTransport> {
        let (cfg, faults) = parse_model_spec(spec)?;
        ModelTransport::new(cfg, faults)
    }
}

/// The configuration and faults of a `model:` port spec (see [`ModelTransport::from_spec`]).
pub fn parse_model_spec(spec: &str) -> Result<(EngineConfig, Vec<Fault>)> {
    let mut cfg = EngineConfig::default();
    let mut faults = Vec::new();
    for item in spec.split(',').filter(|s| !s.is_empty()) {
        let (key, value) = item
            .split_once('=')
            .with_context(|| format!("--port model: `{item}` is not KEY=VALUE"))?;
        let n: usize = value
            .parse()
            .with_context(|| format!("--port model: {key} = `{value}` is not a number"))?;
        match key {
            "rows" => cfg.rows = n,
            "cols" => cfg.cols = n,
            "k_max" => cfg.k_max = n,
            "row_max" => cfg.row_max = n,
            "corrupt" => faults.push(Fault::Corrupt(n)),
            "cut" => faults.push(Fault::Cut(n)),
            _ => bail!(
                "--port model: unknown key `{key}` (allowed: rows, cols, k_max, row_max, corrupt, cut)"
            ),
        }
    }
    cfg.check().context("--port model:")?;
    Ok((cfg, faults))
}

impl Transport for ModelTransport {
    fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let index = self.writes;
        self.writes += 1;
        let mut frame = bytes.to_vec();
        for f in &self.faults {
            match *f {
                Fault::Corrupt(i) if i == index => {
                    if let Some(last) = frame.last_mut() {
                        *last ^= 1;
                    }
                }
                Fault::Cut(i) if i == index => frame.truncate(3),
                _ => {}
            }
        }
        self.engine.feed_all(&frame);
        self.pending.extend(self.engine.take_output());
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], _timeout: Duration) -> Result<usize> {
        if self.pending.is_empty() {
            // The host waited its whole timeout: at least the engine's idle timeout passed.
            self.engine.idle(self.engine.config().idle_bits);
            self.pending.extend(self.engine.take_output());
            return Ok(0);
        }
        let n = buf.len().min(self.pending.len());
        for (slot, b) in buf.iter_mut().zip(self.pending.drain(..n)) {
            *slot = b;
        }
        Ok(n)
    }
}

/// A child process that is the engine's UART (`--port exec:PROGRAM [ARGS...]`): request bytes to
/// its stdin, response bytes from its stdout, stderr passed through. This is where a Verilator
/// model of the engine plugs in; `itx engine-model` is a stand-in serving the golden engine.
///
/// When the transport is dropped, the child's stdin is closed first, and the child gets
/// [`EXIT_GRACE`] to exit by itself (the Verilator wrapper `testbench::uart_exec` finishes its
/// VCD and exits 0 at end of input); only then is it killed. It is always reaped.
pub struct ProcessTransport {
    child: Child,
    /// `None` once closed (in `drop`).
    stdin: Option<ChildStdin>,
    rx: Receiver<std::io::Result<Vec<u8>>>,
    pending: VecDeque<u8>,
}

/// How long a dropped [`ProcessTransport`] waits for its child to exit after closing its stdin.
pub const EXIT_GRACE: Duration = Duration::from_secs(2);

impl ProcessTransport {
    /// Starts `cmd` (split on whitespace: a program and its arguments).
    pub fn spawn(cmd: &str) -> Result<ProcessTransport> {
        let mut words = cmd.split_whitespace();
        let program = words
            .next()
            .context("--port exec: needs a program (exec:PROGRAM [ARGS...])")?;
        let mut child = Command::new(program)
            .args(words)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start `{program}` for --port exec:"))?;
        let stdin = child.stdin.take().context("child stdin")?;
        let mut stdout = child.stdout.take().context("child stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            loop {
                match stdout.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if tx.send(Ok(buf[..n].to_vec())).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        Ok(ProcessTransport {
            child,
            stdin: Some(stdin),
            rx,
            pending: VecDeque::new(),
        })
    }

    /// The error for a write that found the child's stdin closed: its exit status if it exits
    /// within a moment (it usually is exiting), else that it closed its input.
    fn closed_stdin_error(&mut self) -> anyhow::Error {
        let deadline = Instant::now() + Duration::from_millis(200);
        match wait_until(&mut self.child, deadline) {
            Some(status) => anyhow::anyhow!("engine process has exited ({status})"),
            None => anyhow::anyhow!("engine process closed its stdin (still running)"),
        }
    }
}

impl Transport for ProcessTransport {
    fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        if let Ok(Some(status)) = self.child.try_wait() {
            bail!("engine process has exited ({status})");
        }
        let stdin = self
            .stdin
            .as_mut()
            .context("engine process: its stdin is closed")?;
        // A write to a pipe nobody reads raises SIGPIPE, which `main` leaves fatal (for
        // `itx ... | head`); the child may exit between the check above and the write, so the
        // write runs with SIGPIPE blocked and fails with EPIPE instead.
        match without_sigpipe(|| stdin.write_all(bytes).and_then(|_| stdin.flush())) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(self.closed_stdin_error()),
            Err(e) => Err(e).context("engine process: write to its stdin"),
        }
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        if self.pending.is_empty() {
            match self.rx.recv_timeout(timeout) {
                Ok(Ok(bytes)) => self.pending.extend(bytes),
                Ok(Err(e)) => return Err(e).context("engine process: read from its stdout"),
                Err(RecvTimeoutError::Timeout) => return Ok(0),
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.try_wait().ok().flatten();
                    bail!(
                        "engine process closed its stdout (exit status: {})",
                        status.map_or("still running".to_string(), |s| s.to_string())
                    );
                }
            }
        }
        let n = buf.len().min(self.pending.len());
        for (slot, b) in buf.iter_mut().zip(self.pending.drain(..n)) {
            *slot = b;
        }
        Ok(n)
    }
}

impl Drop for ProcessTransport {
    fn drop(&mut self) {
        // End of input first: a child that exits by itself at EOF gets to (the reader thread
        // keeps draining its stdout meanwhile, so it cannot block on a full pipe).
        drop(self.stdin.take());
        if wait_until(&mut self.child, Instant::now() + EXIT_GRACE).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `child` until it exits or `deadline` passes; its exit status, or `None` (still running,
/// or it cannot be asked).
fn wait_until(child: &mut Child, deadline: Instant) -> Option<std::process::ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => return None,
        }
    }
}

/// Runs `f` with SIGPIPE blocked in the calling thread, so that a write to a pipe whose reader
/// has gone fails with EPIPE instead of ending the process. A SIGPIPE that `f` raised (it is
/// directed at this thread) is taken off the pending set before the thread's mask is restored.
fn without_sigpipe<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: plain libc signal-set calls on locals; pthread_sigmask changes only this thread's
    // mask, and it is restored before returning.
    unsafe {
        let mut pipe: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut pipe);
        libc::sigaddset(&mut pipe, libc::SIGPIPE);
        if libc::pthread_sigmask(libc::SIG_BLOCK, &pipe, &mut old) != 0 {
            return f();
        }
        let out = f();
        if libc::sigismember(&old, libc::SIGPIPE) == 0 {
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            while libc::sigtimedwait(&pipe, std::ptr::null_mut(), &zero) == libc::SIGPIPE {}
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        }
        out
    }
}
