//! The hardware engine (`hdl::engine`) against the golden engine (`golden::engine`), byte for
//! byte: request frames go onto `rx` through golden's UART transmitter, the bytes on `tx` are
//! decoded by golden's UART receiver and compared with what the golden engine answers.
use golden::engine::{Engine as Golden, EngineConfig};
use golden::protocol::Request;
use golden::uart::{rx_events, tx_line, BitTiming, RxKind};
use hdl::engine::{build, EngineParams};
use testbench::trace::run_rusthdl;

fn small() -> EngineConfig {
    EngineConfig {
        rows: 2,
        cols: 3,
        k_max: 4,
        row_max: 8,
        idle_bits: 64,
        mm_roundings: 0b01,
        ..EngineConfig::default()
    }
}

fn req(cmd: u8, seq: u8, payload: &[u8]) -> Vec<u8> {
    Request { cmd, seq, payload: payload.to_vec() }.encode().unwrap()
}

#[test]
fn smoke_rusthdl() {
    let cfg = small();
    let timing = BitTiming::from_div(4).unwrap();
    let p = EngineParams::new(cfg.clone(), timing);
    let mut dut = build(&p).unwrap();
    let mut g = Golden::new(cfg).unwrap();
    let reqs = vec![req(0x02, 1, &[]), req(0x01, 2, &[1, 2, 3]), req(0x03, 3, &[])];
    let mut line = vec![true; 20];
    let mut want = Vec::new();
    for r in &reqs {
        line.extend(tx_line(timing, r, 10 * 4 * r.len() + 2));
        line.extend(vec![true; 40 * 40]);
        g.feed_all(r);
        want.extend(g.take_output());
    }
    let inputs: Vec<Vec<u64>> = line.iter().map(|&b| vec![u64::from(b)]).collect();
    let tr = run_rusthdl(dut.as_mut(), &inputs).unwrap();
    let tx: Vec<bool> = tr.outputs.iter().map(|o| o[0] != 0).collect();
    let got: Vec<u8> = rx_events(timing, &tx)
        .into_iter()
        .filter_map(|e| match e.kind {
            RxKind::Byte(b) => Some(b),
            RxKind::FrameError => None,
        })
        .collect();
    assert_eq!(format!("{got:02x?}"), format!("{want:02x?}"));
}
