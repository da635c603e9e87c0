//! Simulator throughput for `Requant` (samples per second through the whole harness: stimulus,
//! simulation, trace). `make bench`; criterion prints `thrpt` in elements (samples) per second.
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
    let config = Config::from_sets("requant", &["bits=8".to_string()]).unwrap();
    let latency = config.latency();
    let mut g = c.benchmark_group("requant");
    g.sample_size(10);

    let n = 20_000;
    let stim = Stimulus::streaming(raw(&config, n), latency);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_with_input(BenchmarkId::new("rusthdl", n), &stim, |b, stim| {
        b.iter(|| {
            let mut dut = config.build();
            let t = run_rusthdl(dut.as_mut(), stim, None).unwrap();
            assert_eq!(t.outputs.len(), n);
        })
    });

    let n = 1_000_000;
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
