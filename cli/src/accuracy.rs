//! `itx accuracy`: error of L-Mul, the exact multiplier and the integer nonlinear ops against float
//! references (`testbench::accuracy::report`), as two markdown tables or one JSON object.

use anyhow::Result;
use testbench::accuracy::report;

/// Prints the accuracy report: markdown tables, or JSON with `json`. `quick` uses the reduced
/// sample counts (bf16 and the truncated-mantissa experiment 1e5 pairs instead of 1e6, a tenth of
/// the rows). Always `Ok(true)`: the report has no pass/fail.
pub fn run(json: bool, quick: bool) -> Result<bool> {
    let r = report(quick);
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{r}");
    }
    Ok(true)
}
