//! Icarus Verilog (`iverilog -g2012` + `vvp`) runs: RTL, ASIC-clean (no `initial` blocks) and
//! iCE40 gate-level simulation of Yosys netlists.

use crate::tools;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One Icarus compile + run.
#[derive(Clone, Debug, Default)]
pub struct IcarusRun {
    /// Verilog sources (test bench, design, libraries such as `cells_sim.v`).
    pub files: Vec<PathBuf>,
    /// Top-level module (`iverilog -s`), usually the test bench.
    pub top: String,
    /// Macro definitions, `NAME` or `NAME=VALUE` (→ `-DNAME[=VALUE]`).
    pub defines: Vec<String>,
    /// Where `<top>.vvp` is written (created if missing).
    pub workdir: PathBuf,
    /// `vvp` plusargs, with or without the leading `+`.
    pub plusargs: Vec<String>,
}

/// The defines a gate-level run with Yosys' iCE40 `cells_sim.v` needs under Icarus 11: without
/// `NO_ICE40_DEFAULT_ASSIGNMENTS` the port default values (`input CI = 0`) are syntax errors.
pub const ICE40_GATE_DEFINES: [&str; 1] = ["NO_ICE40_DEFAULT_ASSIGNMENTS"];

/// Compiles `r.files` with `iverilog -g2012 -s TOP [-D...]` and runs the result with `vvp -n`.
/// Returns vvp's stdout.
///
/// Errors (with the iverilog/vvp output): compile failure, non-zero vvp exit (e.g. `$fatal`),
/// and `$error` messages (Icarus reports them but exits 0).
pub fn run(r: &IcarusRun) -> anyhow::Result<String> {
    if r.files.is_empty() {
        bail!("icarus run of `{}`: no Verilog files given", r.top);
    }
    let iverilog = tools::require("iverilog")?;
    let vvp = tools::require("vvp")?;
    std::fs::create_dir_all(&r.workdir)
        .with_context(|| format!("creating icarus workdir {}", r.workdir.display()))?;
    let image = r.workdir.join(format!("{}.vvp", r.top));
    let _ = std::fs::remove_file(&image);

    let mut cc = Command::new(iverilog);
    cc.arg("-g2012").arg("-o").arg(&image);
    if !r.top.is_empty() {
        cc.arg("-s").arg(&r.top);
    }
    for d in &r.defines {
        cc.arg(format!("-D{d}"));
    }
    cc.args(&r.files);
    tools::run(&mut cc, &format!("iverilog compile of `{}`", r.top))?;

    let mut sim = Command::new(vvp);
    sim.arg("-n").arg(&image);
    for p in &r.plusargs {
        if p.starts_with('+') {
            sim.arg(p);
        } else {
            sim.arg(format!("+{p}"));
        }
    }
    sim.current_dir(&r.workdir);
    let what = format!("vvp simulation of `{}`", r.top);
    let out = tools::run(&mut sim, &what)?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    // `$error` prints "ERROR: file:line: msg" and then "       Time: T Scope: S".
    let lines: Vec<&str> = stdout.lines().collect();
    let errors: Vec<&str> = lines
        .windows(2)
        .filter(|w| w[0].starts_with("ERROR: ") && w[1].trim_start().starts_with("Time: "))
        .map(|w| w[0])
        .collect();
    if !errors.is_empty() {
        bail!(
            "{what}: $error reported:\n{}\n  command: {}\n--- stdout (last {} lines) ---\n{}",
            errors.join("\n"),
            tools::command_line(&sim),
            tools::TAIL_LINES,
            tools::tail(&stdout, tools::TAIL_LINES)
        );
    }
    Ok(stdout)
}

/// Gate-level simulation files: the iCE40 netlist from `yosys::synth` (`SynthReport::netlist`)
/// followed by Yosys' `<share>/ice40/cells_sim.v`. Add the test bench and use
/// [`ICE40_GATE_DEFINES`] as `defines`.
pub fn ice40_gate_files(netlist: &Path) -> Vec<PathBuf> {
    vec![
        netlist.to_path_buf(),
        tools::yosys_share_dir().join("ice40").join("cells_sim.v"),
    ]
}

// ---------------------------------------------------------------------------------------------
// Removing `initial` blocks.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Identifier, keyword, number or `$system` name (`[A-Za-z0-9_$]+`).
    Word,
    /// Escaped identifier (`\foo[3] `), `` `directive ``, or a string literal: never a keyword.
    Opaque,
    /// A single punctuation character.
    Punct,
}

#[derive(Clone, Copy, Debug)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
}

/// Splits Verilog text into tokens, skipping whitespace and comments.
fn tokenize(src: &str) -> Vec<Tok> {
    let b = src.as_bytes();
    let n = b.len();
    let mut toks = Vec::new();
    let mut i = 0;
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$';
    while i < n {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'/' && i + 1 < n && b[i + 1] == b'/' {
            while i < n && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && i + 1 < n && b[i + 1] == b'*' {
            i += 2;
            while i < n && !(b[i] == b'*' && i + 1 < n && b[i + 1] == b'/') {
                i += 1;
            }
            i = (i + 2).min(n);
        } else if c == b'"' {
            let s = i;
            i += 1;
            while i < n && b[i] != b'"' && b[i] != b'\n' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(n);
            toks.push(Tok {
                kind: Kind::Opaque,
                start: s,
                end: i,
            });
        } else if c == b'\\' {
            let s = i;
            while i < n && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            toks.push(Tok {
                kind: Kind::Opaque,
                start: s,
                end: i,
            });
        } else if c == b'`' {
            let s = i;
            i += 1;
            while i < n && is_word(b[i]) {
                i += 1;
            }
            toks.push(Tok {
                kind: Kind::Opaque,
                start: s,
                end: i,
            });
        } else if c == b'\'' {
            // Based number suffix (`'h0f`, `'sb1`): one opaque token so digits/letters after the
            // base are never taken for keywords.
            let s = i;
            i += 1;
            while i < n && (is_word(b[i]) || b[i] == b'?') {
                i += 1;
            }
            toks.push(Tok {
                kind: Kind::Opaque,
                start: s,
                end: i,
            });
        } else if is_word(c) {
            let s = i;
            while i < n && is_word(b[i]) {
                i += 1;
            }
            toks.push(Tok {
                kind: Kind::Word,
                start: s,
                end: i,
            });
        } else {
            // Punctuation; keep multi-byte UTF-8 characters whole.
            let s = i;
            i += 1;
            while i < n && !src.is_char_boundary(i) {
                i += 1;
            }
            toks.push(Tok {
                kind: Kind::Punct,
                start: s,
                end: i,
            });
        }
    }
    toks
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Tok>,
}

impl<'a> Parser<'a> {
    fn word(&self, i: usize) -> Option<&'a str> {
        let t = self.toks.get(i)?;
        (t.kind == Kind::Word).then(|| &self.src[t.start..t.end])
    }
    fn punct(&self, i: usize, p: &str) -> bool {
        self.toks
            .get(i)
            .is_some_and(|t| t.kind == Kind::Punct && &self.src[t.start..t.end] == p)
    }
    fn is_word(&self, i: usize, w: &[&str]) -> bool {
        self.word(i).is_some_and(|x| w.contains(&x))
    }

    /// Index of the `)`/`]`/`}` matching the opener at `i`.
    fn close_paren(&self, i: usize) -> Option<usize> {
        let mut depth = 0i32;
        for j in i..self.toks.len() {
            let t = self.toks[j];
            if t.kind != Kind::Punct {
                continue;
            }
            match &self.src[t.start..t.end] {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(j);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// Index of the last token of the statement starting at token `i`.
    fn statement(&self, i: usize) -> Option<usize> {
        let w = self.word(i);
        match w {
            Some("begin") | Some("fork") => {
                let mut depth = 0i32;
                let mut j = i;
                loop {
                    if self.is_word(j, &["begin", "fork"]) {
                        depth += 1;
                    } else if self.is_word(j, &["end", "join", "join_any", "join_none"]) {
                        depth -= 1;
                        if depth == 0 {
                            // Optional SystemVerilog end label: `end : name`.
                            if self.punct(j + 1, ":") && self.word(j + 2).is_some() {
                                return Some(j + 2);
                            }
                            return Some(j);
                        }
                    } else if j >= self.toks.len() {
                        return None;
                    }
                    j += 1;
                }
            }
            Some("if") => {
                let close = self.close_paren_after(i + 1)?;
                let end = self.statement(close + 1)?;
                if self.is_word(end + 1, &["else"]) {
                    self.statement(end + 2)
                } else {
                    Some(end)
                }
            }
            Some("for") | Some("while") | Some("repeat") | Some("foreach") => {
                let close = self.close_paren_after(i + 1)?;
                self.statement(close + 1)
            }
            Some("forever") => self.statement(i + 1),
            Some("wait") => {
                let close = self.close_paren_after(i + 1)?;
                self.statement_or_null(close + 1)
            }
            Some("case") | Some("casez") | Some("casex") => {
                let mut depth = 0i32;
                for j in i..self.toks.len() {
                    if self.is_word(j, &["case", "casez", "casex"]) {
                        depth += 1;
                    } else if self.is_word(j, &["endcase"]) {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j);
                        }
                    }
                }
                None
            }
            _ if self.punct(i, "#") => {
                // #N, #(expr), #1.5, #10ns
                let mut j = i + 1;
                if self.punct(j, "(") {
                    j = self.close_paren(j)?;
                } else {
                    self.toks.get(j)?;
                    while self.punct(j + 1, ".") && self.word(j + 2).is_some() {
                        j += 2;
                    }
                }
                self.statement_or_null(j + 1)
            }
            _ if self.punct(i, "@") => {
                let j = if self.punct(i + 1, "(") {
                    self.close_paren(i + 1)?
                } else {
                    self.toks.get(i + 1)?;
                    i + 1
                };
                self.statement_or_null(j + 1)
            }
            _ => {
                // Simple statement: up to `;` outside brackets.
                let mut depth = 0i32;
                for j in i..self.toks.len() {
                    let t = self.toks[j];
                    if t.kind == Kind::Word
                        && depth == 0
                        && matches!(
                            &self.src[t.start..t.end],
                            "always" | "initial" | "endmodule" | "module" | "assign" | "end"
                        )
                        && j > i
                    {
                        return None; // malformed: ran into the next construct
                    }
                    if t.kind != Kind::Punct {
                        continue;
                    }
                    match &self.src[t.start..t.end] {
                        "(" | "[" | "{" => depth += 1,
                        ")" | "]" | "}" => depth -= 1,
                        ";" if depth == 0 => return Some(j),
                        _ => {}
                    }
                }
                None
            }
        }
    }

    fn close_paren_after(&self, i: usize) -> Option<usize> {
        if self.punct(i, "(") {
            self.close_paren(i)
        } else {
            None
        }
    }

    fn statement_or_null(&self, i: usize) -> Option<usize> {
        if self.punct(i, ";") {
            Some(i)
        } else {
            self.statement(i)
        }
    }
}

/// Remove every `initial` construct (`initial begin ... end`, `initial x = y;`, and any other
/// `initial <statement>`) from RustHDL-emitted Verilog text, for the ASIC-clean check (registers
/// then start at X in Icarus). Returns the text and the number of blocks removed.
///
/// Token based: comments and strings are skipped, nested `begin`/`end` (and `fork`/`join`,
/// `case`/`endcase`, `if`/`else`, loops, `#`/`@` timing controls) are matched. A line left empty by
/// the removal is removed whole. A malformed `initial` (no complete statement) is left untouched.
///
/// Note: this also removes memory initializers (RustHDL's ROM/RAM `initial begin mem[..] = ..`).
pub fn strip_initial_blocks(verilog: &str) -> (String, usize) {
    let p = Parser {
        src: verilog,
        toks: tokenize(verilog),
    };
    let b = verilog.as_bytes();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < p.toks.len() {
        if p.word(i) == Some("initial") {
            if let Some(last) = p.statement(i + 1) {
                let mut start = p.toks[i].start;
                let mut end = p.toks[last].end;
                // Widen to whole lines when only whitespace shares them.
                let mut s = start;
                while s > 0 && (b[s - 1] == b' ' || b[s - 1] == b'\t') {
                    s -= 1;
                }
                let mut e = end;
                while e < b.len() && (b[e] == b' ' || b[e] == b'\t' || b[e] == b'\r') {
                    e += 1;
                }
                let line_start = s == 0 || b[s - 1] == b'\n';
                let line_end = e == b.len() || b[e] == b'\n';
                if line_start && line_end {
                    start = s;
                    end = if e < b.len() { e + 1 } else { e };
                }
                cuts.push((start, end));
                i = last + 1;
                continue;
            }
        }
        i += 1;
    }
    let mut out = String::with_capacity(verilog.len());
    let mut pos = 0;
    for &(s, e) in &cuts {
        out.push_str(&verilog[pos..s]);
        pos = e;
    }
    out.push_str(&verilog[pos..]);
    (out, cuts.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_rusthdl_dff() {
        let src = "module d(input clock, input [3:0] d, output reg [3:0] q);\n\
                   initial begin\n   q = 4'h0;\nend\n\nalways @(posedge clock) begin\n   q <= d;\nend\n      \nendmodule\n";
        let (out, n) = strip_initial_blocks(src);
        assert_eq!(n, 1);
        assert!(!out.contains("initial"));
        assert!(out.contains("always @(posedge clock) begin\n   q <= d;\nend\n"));
        assert!(
            out.starts_with("module d(input clock, input [3:0] d, output reg [3:0] q);\n\nalways")
        );
    }

    #[test]
    fn nested_and_single_statement_forms() {
        let src = "module m;\n  reg [7:0] a, b; integer i;\n  reg [7:0] mem [0:3];\n\
                   \x20 initial begin : init\n    for (i = 0; i < 4; i = i + 1) begin\n      mem[i] = 8'hend;\n      if (i == 2) begin mem[i] = 0; end else begin end\n    end\n  end : init\n\
                   \x20 initial a = 8'd3; // keep this comment? no, whole line only if blank\n\
                   \x20 initial #5 b = 1;\n  initial @(posedge a) ;\n  initial case (a) 1: b = 2; default: begin b = 3; end endcase\n\
                   \x20 // initial begin this is a comment end\n  wire initial_value = 1'b1;\n\
                   \x20 always @(*) b = a;\nendmodule\n";
        let (out, n) = strip_initial_blocks(src);
        assert_eq!(n, 5, "{out}");
        assert!(out.contains("// initial begin this is a comment end"));
        assert!(out.contains("wire initial_value"));
        assert!(out.contains("always @(*) b = a;\nendmodule"));
        assert!(out.contains("// keep this comment?"));
        assert!(!out.contains("mem[i]"));
        assert!(!out.contains("endcase"));
    }

    #[test]
    fn malformed_initial_left_alone() {
        let src = "module m; reg a; initial begin a = 1;\nendmodule\n";
        let (out, n) = strip_initial_blocks(src);
        assert_eq!(n, 0);
        assert_eq!(out, src);
    }
}
