//! Simulator throughput (samples per second through the whole harness: stimulus, simulation,
//! trace, with no stalls) for `Requant` and for the L-Mul checks (`lmul` e4m3, all 65,536 pairs).
//! `make bench`; criterion prints `thrpt` in elements (samples) per second.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hdl::blocks::Config;
use testbench::dut;
use testbench::harness::{run_rusthdl, Stimulus};
use testbench::verilator::VerilatorSim;

fn raw(config: &Config, n: usize) -> Vec<Vec<u64>> {
    let em = config.emit("itx_").unwrap();
    dut::random_samples(config, n, 1)
        .iter()
        .map(|s| {
            em.io
                .inputs
                .iter()
                .zip(s)
                .map(|(f, &v)| f.encode(v))
                .collect()
        })
        .collect()
}

fn throughput(c: &mut Criterion) {
    bench_block(c, "requant", &["bits=8"], 20_000, 1_000_000);
    bench_block(c, "lmul", &["format=e4m3"], 65_536, 1_000_000);
}

fn bench_block(
    c: &mut Criterion,
    block: &str,
    sets: &[&str],
    n_rusthdl: usize,
    n_verilator: usize,
) {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let config = Config::from_sets(block, &sets).unwrap();
    let latency = config.latency();
    let mut g = c.benchmark_group(block);
    g.sample_size(10);

    let n = n_rusthdl;
    let stim = Stimulus::streaming(raw(&config, n), latency);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_with_input(BenchmarkId::new("rusthdl", n), &stim, |b, stim| {
        b.iter(|| {
            let mut dut = config.build();
            let t = run_rusthdl(dut.as_mut(), stim, None).unwrap();
            assert_eq!(t.outputs.len(), n);
        })
    });

    let n = n_verilator;
    let stim = Stimulus::streaming(raw(&config, n), latency);
    let sim = VerilatorSim::build(&config.emit("itx_").unwrap()).unwrap();
    g.throughput(Throughput::Elements(n as u64));
    g.bench_with_input(BenchmarkId::new("verilator", n), &stim, |b, stim| {
        b.iter(|| {
            let t = sim.run(stim, None).unwrap();
            assert_eq!(t.outputs.len(), n);
        })
    });
    g.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
