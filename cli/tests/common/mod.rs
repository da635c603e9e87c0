//! Helpers shared by the `itx` command tests: run the binary, read its output.
#![allow(dead_code)]
use std::process::{Command, Output};

/// Runs `itx` with `args` and waits for it.
pub fn itx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_itx"))
        .args(args)
        .output()
        .expect("itx runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
