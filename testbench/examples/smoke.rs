use testbench::dut;
use testbench::verify::{Bench, Sim, Traffic};
fn main() -> anyhow::Result<()> {
    let sim: Sim = std::env::args()
        .nth(1)
        .unwrap_or("verilator".into())
        .parse()?;
    let n: usize = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(1000);
    for sets in [
        ["bits=8", "rounding=half-even"],
        ["bits=16", "rounding=half-up"],
    ] {
        let cfg = hdl::blocks::Config::from_sets("requant", &sets.map(String::from))?;
        let mut b = Bench::new(&cfg)?;
        let mut s = dut::corner_samples(&cfg);
        s.truncate(n);
        let e = dut::golden_all(&cfg, &s);
        let t0 = std::time::Instant::now();
        let o = b.check(
            sim,
            "corners",
            &s,
            &e,
            Traffic::Stalls {
                p_offer: 0.7,
                p_ready: 0.6,
                seed: 1,
            },
            None,
        )?;
        println!("{o}  ({:?})", t0.elapsed());
    }
    Ok(())
}
