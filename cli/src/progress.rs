//! A progress bar on stderr, shown only when stderr is a terminal and the run has lasted over a
//! second (short runs and pipes stay quiet).
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    len: u64,
    done: u64,
    message: String,
    start: Instant,
    bar: Option<ProgressBar>,
    terminal: bool,
}

impl Progress {
    pub fn new(len: u64, message: &str) -> Progress {
        Progress {
            len,
            done: 0,
            message: message.to_string(),
            start: Instant::now(),
            bar: None,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Marks one more step done, naming what comes next.
    pub fn step(&mut self, what: &str) {
        self.done += 1;
        if self.bar.is_none() && self.terminal && self.start.elapsed() > Duration::from_secs(1) {
            let bar = ProgressBar::new(self.len);
            bar.set_style(
                ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(self.message.clone());
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(self.done);
            bar.set_message(what.to_string());
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
