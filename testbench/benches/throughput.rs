//! Simulator throughput (samples per second through the whole harness: stimulus, simulation,
//! trace, with no stalls) for `Requant`, for the L-Mul checks (`lmul` e4m3, all 65,536 pairs) and
//! for the 8x8 MAC array (tiles of K = 64 back to back, so one input beat per cycle: elements per
//! second are cycles per second); and the time to emit the 16x16 MAC array's Verilog.
//! `make bench`; criterion prints `thrpt` in elements (samples) per second.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hdl::blocks::Config;
use testbench::dut;
use testbench::harness::{run_rusthdl, Stimulus};
use testbench::verilator::VerilatorSim;

fn raw(config: &Config, n: usize) -> Vec<Vec<u64>> {
    let em = config.emit("itx_").unwrap();
    em.io.encode_samples(&dut::random_samples(config, n, 1))
}

fn throughput(c: &mut Criterion) {
    bench_block(c, "requant", &["bits=8"], 20_000, 1_000_000);
    bench_block(c, "lmul", &["format=e4m3"], 65_536, 1_000_000);
    bench_mac_array(c);
}

fn bench_mac_array(c: &mut Criterion) {
    let sets = ["rows=8", "cols=8", "out_bits=32"].map(String::from);
    let config = Config::from_sets("mac-array", &sets).unwrap();
    let em = config.emit("itx_").unwrap();
    let mut r = testbench::harness::rng(1);
    let mut g = c.benchmark_group("mac-array-8x8");
    g.sample_size(10);
    for (sim, tiles) in [("rusthdl", 8usize), ("verilator", 4000)] {
        let t: Vec<dut::Tile> = (0..tiles)
            .map(|_| dut::random_tile(&config, 64, &mut r))
            .collect();
        let samples = dut::tile_samples(&config, &t);
        let raw: Vec<Vec<u64>> = samples
            .iter()
            .map(|s| {
                em.io
                    .inputs
                    .iter()
                    .zip(s)
                    .map(|(f, &v)| f.encode(v))
                    .collect()
            })
            .collect();
        let n_out = tiles * 8;
        let stim =
            Stimulus::streaming(raw, config.extra_cycles(samples.len(), tiles)).expecting(n_out);
        g.throughput(Throughput::Elements(samples.len() as u64));
        if sim == "rusthdl" {
            g.bench_with_input(BenchmarkId::new(sim, samples.len()), &stim, |b, stim| {
                b.iter(|| {
                    let mut dut = config.build();
                    let tr = run_rusthdl(dut.as_mut(), stim, None).unwrap();
                    assert_eq!(tr.outputs.len(), n_out);
                })
            });
        } else {
            let vsim = VerilatorSim::build(&em, false).unwrap();
            g.bench_with_input(BenchmarkId::new(sim, samples.len()), &stim, |b, stim| {
                b.iter(|| {
                    let tr = vsim.run(stim, None).unwrap();
                    assert_eq!(tr.outputs.len(), n_out);
                })
            });
        }
    }
    g.finish();
    let big = ["rows=16", "cols=16", "out_bits=8"].map(String::from);
    let config = Config::from_sets("mac-array", &big).unwrap();
    let mut g = c.benchmark_group("mac-array-16x16");
    g.sample_size(10);
    g.bench_function("emit", |b| {
        b.iter(|| config.emit("itx_").unwrap().verilog.len())
    });
    g.finish();
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
    let sim = VerilatorSim::build(&config.emit("itx_").unwrap(), false).unwrap();
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
