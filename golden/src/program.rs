//! A [`Program`] as one self-describing file: safetensors (the model world's container: a JSON header
//! naming every tensor's dtype and shape, then the raw little-endian data), with the scalars in its
//! metadata. `docs/model.md` ("Program file") lists every tensor.
//!
//! Tensor names: `emb.word` (I16 `[vocab, H]`), `emb.pos` (I16 `[positions, H]`), `out_scale` (F64
//! `[H]`); a LayerNorm `P` (`emb.ln`, `block.L.ln1`, `block.L.ln2`): `P.negative` (U8), `P.bias`
//! (I32), `P.to8.m`, `P.to8.c`, `P.to16.m`, `P.to16.c` (U32); a dense layer `P` (`block.L.q`, `.k`,
//! `.v`, `.o`, `.f1`, `.f2`): `P.weight` (I8 `[out, in]`), `P.bias` (I32), `P.m`, `P.c` (U32); the
//! single requantizations `block.L.scores`, `.context`, `.res1`, `.gelu`, `.res2`: `.m`, `.c`.
//! Metadata (one safetensors metadata entry, `itx_program`, a JSON object with sorted keys, so the
//! bytes are deterministic): `format = "itx-program"`, `version = "1"`, `hidden`, `heads`, `ffn`, `vocab`,
//! `max_positions`, `layers`, `sqrt`, `rounding`, `scores`, `block.L.x0_softmax` (one per head, comma-separated), `block.L.x0_gelu`, plus any
//! informational entries the writer adds (`source`, `scales`).

use std::collections::HashMap;

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use crate::encoder::{Program, QBlock, QLinear, QNorm, Rq};

/// The `format` metadata value of a program file.
pub const FORMAT: &str = "itx-program";
/// The one safetensors metadata key: a JSON object (sorted keys) of every metadata entry.
pub const META_KEY: &str = "itx_program";
/// The program file version this code writes and reads.
pub const VERSION: &str = "1";

/// Why a program file is rejected.
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    /// Not a safetensors file.
    #[error("not a safetensors file: {0}")]
    Format(String),
    /// A metadata entry is missing or malformed.
    #[error("metadata `{key}`: {problem}")]
    Metadata {
        /// The key.
        key: String,
        /// What is wrong.
        problem: String,
    },
    /// A tensor is missing or has the wrong dtype or shape.
    #[error("tensor `{name}`: {problem}")]
    Tensor {
        /// The tensor.
        name: String,
        /// What is wrong.
        problem: String,
    },
}

struct Writer {
    tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)>,
}

impl Writer {
    fn put(&mut self, name: String, dtype: Dtype, shape: Vec<usize>, data: Vec<u8>) {
        self.tensors.push((name, dtype, shape, data));
    }
    fn u32s(&mut self, name: String, v: &[u32]) {
        let data = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.put(name, Dtype::U32, vec![v.len()], data);
    }
    fn i32s(&mut self, name: String, v: &[i32]) {
        let data = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.put(name, Dtype::I32, vec![v.len()], data);
    }
    fn rq(&mut self, p: &str, rq: &Rq) {
        self.u32s(format!("{p}.m"), &rq.m);
        self.u32s(format!("{p}.c"), &rq.c);
    }
    fn linear(&mut self, p: &str, l: &QLinear) {
        let data = l.w.iter().map(|&x| x as u8).collect();
        self.put(format!("{p}.weight"), Dtype::I8, vec![l.out, l.inp], data);
        self.i32s(format!("{p}.bias"), &l.bias);
        self.rq(p, &l.rq);
    }
    fn norm(&mut self, p: &str, n: &QNorm) {
        let data = n.negative.iter().map(|&b| b as u8).collect();
        self.put(
            format!("{p}.negative"),
            Dtype::U8,
            vec![n.negative.len()],
            data,
        );
        self.i32s(format!("{p}.bias"), &n.bias);
        self.rq(&format!("{p}.to8"), &n.to8);
        self.rq(&format!("{p}.to16"), &n.to16);
    }
}

/// Serializes a program; `info` adds informational metadata entries (e.g. `source`, `scales`).
pub fn to_bytes(p: &Program, info: &[(&str, String)]) -> Vec<u8> {
    let mut w = Writer { tensors: vec![] };
    let h = p.hidden;
    let i16s = |v: &[i16]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    w.put(
        "emb.word".into(),
        Dtype::I16,
        vec![p.vocab, h],
        i16s(&p.emb_word),
    );
    w.put(
        "emb.pos".into(),
        Dtype::I16,
        vec![p.max_positions, h],
        i16s(&p.emb_pos),
    );
    let os = p.out_scale.iter().flat_map(|x| x.to_le_bytes()).collect();
    w.put("out_scale".into(), Dtype::F64, vec![p.out_scale.len()], os);
    w.norm("emb.ln", &p.emb_ln);
    let mut meta: HashMap<String, String> = HashMap::new();
    for (l, b) in p.blocks.iter().enumerate() {
        let pre = format!("block.{l}");
        w.linear(&format!("{pre}.q"), &b.q);
        w.linear(&format!("{pre}.k"), &b.k);
        w.linear(&format!("{pre}.v"), &b.v);
        w.rq(&format!("{pre}.scores"), &b.scores);
        w.rq(&format!("{pre}.context"), &b.context);
        w.linear(&format!("{pre}.o"), &b.o);
        w.rq(&format!("{pre}.res1"), &b.res1);
        w.norm(&format!("{pre}.ln1"), &b.ln1);
        w.linear(&format!("{pre}.f1"), &b.f1);
        w.rq(&format!("{pre}.gelu"), &b.gelu);
        w.linear(&format!("{pre}.f2"), &b.f2);
        w.rq(&format!("{pre}.res2"), &b.res2);
        w.norm(&format!("{pre}.ln2"), &b.ln2);
        let x0s: Vec<String> = b.x0_softmax.iter().map(i64::to_string).collect();
        meta.insert(format!("{pre}.x0_softmax"), x0s.join(","));
        meta.insert(format!("{pre}.x0_gelu"), b.x0_gelu.to_string());
    }
    for (k, v) in [
        ("format", FORMAT.to_string()),
        ("version", VERSION.to_string()),
        ("hidden", h.to_string()),
        ("heads", p.heads.to_string()),
        ("ffn", p.ffn.to_string()),
        ("vocab", p.vocab.to_string()),
        ("max_positions", p.max_positions.to_string()),
        ("layers", p.blocks.len().to_string()),
        ("sqrt", p.sqrt.as_str().to_string()),
        ("rounding", p.rounding.as_str().to_string()),
        ("scores", p.scores.as_str().to_string()),
    ] {
        meta.insert(k.to_string(), v);
    }
    for (k, v) in info {
        meta.insert(k.to_string(), v.clone());
    }
    // One metadata entry holding the sorted map as JSON: safetensors keeps metadata in a HashMap,
    // whose order would make the bytes differ from run to run.
    let meta: std::collections::BTreeMap<String, String> = meta.into_iter().collect();
    let header = HashMap::from([(
        META_KEY.to_string(),
        serde_json::to_string(&meta).expect("a string map serializes"),
    )]);
    let views: Vec<(String, TensorView)> = w
        .tensors
        .iter()
        .map(|(n, d, s, data)| {
            let view = TensorView::new(*d, s.clone(), data).expect("tensor sizes are consistent");
            (n.clone(), view)
        })
        .collect();
    safetensors::serialize(views, Some(header)).expect("a program always serializes")
}

struct Reader<'a> {
    st: SafeTensors<'a>,
}

impl Reader<'_> {
    fn raw(&self, name: &str, dtype: Dtype, shape: &[usize]) -> Result<&[u8], ProgramError> {
        let err = |problem: String| ProgramError::Tensor {
            name: name.to_string(),
            problem,
        };
        let t = self.st.tensor(name).map_err(|_| err("missing".into()))?;
        if t.dtype() != dtype {
            return Err(err(format!("dtype {:?}, expected {dtype:?}", t.dtype())));
        }
        if t.shape() != shape {
            return Err(err(format!("shape {:?}, expected {shape:?}", t.shape())));
        }
        Ok(t.data())
    }
    fn len_of(&self, name: &str) -> Result<usize, ProgramError> {
        let t = self.st.tensor(name).map_err(|_| ProgramError::Tensor {
            name: name.to_string(),
            problem: "missing".into(),
        })?;
        Ok(t.shape().iter().product())
    }
    fn u32s(&self, name: &str, allowed: &[usize]) -> Result<Vec<u32>, ProgramError> {
        let n = self.len_of(name)?;
        if !allowed.contains(&n) {
            return Err(ProgramError::Tensor {
                name: name.into(),
                problem: format!("{n} entries, expected one of {allowed:?}"),
            });
        }
        let b = self.raw(name, Dtype::U32, &[n])?;
        Ok(b.chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
    fn i32s(&self, name: &str, n: usize) -> Result<Vec<i32>, ProgramError> {
        let b = self.raw(name, Dtype::I32, &[n])?;
        Ok(b.chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
    fn rq(&self, p: &str, channels: usize) -> Result<Rq, ProgramError> {
        let rq = Rq {
            m: self.u32s(&format!("{p}.m"), &[1, channels])?,
            c: self.u32s(&format!("{p}.c"), &[1, channels])?,
        };
        if let Some(c) = rq.c.iter().find(|&&c| c > 62) {
            return Err(ProgramError::Tensor {
                name: format!("{p}.c"),
                problem: format!("shift {c} out of range 0..=62"),
            });
        }
        Ok(rq)
    }
    fn linear(&self, p: &str, out: usize, inp: usize) -> Result<QLinear, ProgramError> {
        let name = format!("{p}.weight");
        let w: Vec<i8> = self
            .raw(&name, Dtype::I8, &[out, inp])?
            .iter()
            .map(|&b| b as i8)
            .collect();
        Ok(QLinear {
            out,
            inp,
            w,
            bias: self.i32s(&format!("{p}.bias"), out)?,
            rq: self.rq(p, out)?,
        })
    }
    fn norm(&self, p: &str, h: usize) -> Result<QNorm, ProgramError> {
        let neg = self.raw(&format!("{p}.negative"), Dtype::U8, &[h])?;
        Ok(QNorm {
            negative: neg.iter().map(|&b| b != 0).collect(),
            bias: self.i32s(&format!("{p}.bias"), h)?,
            to8: self.rq(&format!("{p}.to8"), h)?,
            to16: self.rq(&format!("{p}.to16"), h)?,
        })
    }
}

/// Parses a program file (checking every tensor's dtype and shape against the metadata).
pub fn from_bytes(bytes: &[u8]) -> Result<Program, ProgramError> {
    let meta = metadata(bytes)?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| ProgramError::Format(e.to_string()))?;
    let get = |key: &str| -> Result<&String, ProgramError> {
        meta.get(key).ok_or_else(|| ProgramError::Metadata {
            key: key.into(),
            problem: "missing".into(),
        })
    };
    if get("format")? != FORMAT {
        return Err(ProgramError::Metadata {
            key: "format".into(),
            problem: format!(
                "`{}`, expected `{FORMAT}` (not an ITX program)",
                get("format")?
            ),
        });
    }
    if get("version")? != VERSION {
        return Err(ProgramError::Metadata {
            key: "version".into(),
            problem: format!("`{}`, this itx reads version {VERSION}", get("version")?),
        });
    }
    let num = |key: &str| -> Result<i64, ProgramError> {
        get(key)?
            .parse::<i64>()
            .map_err(|e| ProgramError::Metadata {
                key: key.into(),
                problem: e.to_string(),
            })
    };
    let pos = |key: &str| -> Result<usize, ProgramError> {
        let v = num(key)?;
        if v <= 0 {
            return Err(ProgramError::Metadata {
                key: key.into(),
                problem: format!("{v} (must be positive)"),
            });
        }
        Ok(v as usize)
    };
    let (h, heads, ffn, vocab, max_positions) = (
        pos("hidden")?,
        pos("heads")?,
        pos("ffn")?,
        pos("vocab")?,
        pos("max_positions")?,
    );
    if h % heads != 0 {
        return Err(ProgramError::Metadata {
            key: "heads".into(),
            problem: format!("{heads} does not divide hidden = {h}"),
        });
    }
    let layers = num("layers")?.max(0) as usize;
    let sqrt = get("sqrt")?
        .parse()
        .map_err(
            |e: crate::layernorm::ParseSqrtModeError| ProgramError::Metadata {
                key: "sqrt".into(),
                problem: e.to_string(),
            },
        )?;
    let rounding = get("rounding")?
        .parse()
        .map_err(
            |e: crate::requant::ParseRoundingError| ProgramError::Metadata {
                key: "rounding".into(),
                problem: e.to_string(),
            },
        )?;
    let scores = get("scores")?
        .parse()
        .map_err(
            |e: crate::encoder::ParseScoresArithError| ProgramError::Metadata {
                key: "scores".into(),
                problem: e.to_string(),
            },
        )?;
    let r = Reader { st };
    let i16s = |b: &[u8]| -> Vec<i16> {
        b.chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect()
    };
    let emb_word = i16s(r.raw("emb.word", Dtype::I16, &[vocab, h])?);
    let emb_pos = i16s(r.raw("emb.pos", Dtype::I16, &[max_positions, h])?);
    let out_scale: Vec<f64> = r
        .raw("out_scale", Dtype::F64, &[h])?
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    let emb_ln = r.norm("emb.ln", h)?;
    let mut blocks = Vec::with_capacity(layers);
    for l in 0..layers {
        let pre = format!("block.{l}");
        let x0s = |k: &str| -> Result<Vec<i64>, ProgramError> {
            let key = format!("{pre}.{k}");
            let bad = |problem: String| ProgramError::Metadata {
                key: key.clone(),
                problem,
            };
            let v: Vec<i64> = get(&key)?
                .split(',')
                .map(|t| {
                    t.trim()
                        .parse::<i64>()
                        .map_err(|e| bad(format!("`{t}`: {e}")))
                })
                .collect::<Result<_, _>>()?;
            if let Some(x) = v.iter().find(|x| !(-32768..=-1).contains(*x)) {
                return Err(bad(format!("{x} out of range -32768..=-1")));
            }
            Ok(v)
        };
        let x0 = |k: &str| -> Result<i64, ProgramError> {
            let v = x0s(k)?;
            if v.len() != 1 {
                return Err(ProgramError::Metadata {
                    key: format!("{pre}.{k}"),
                    problem: format!("{} values, expected one", v.len()),
                });
            }
            Ok(v[0])
        };
        let x0_softmax = x0s("x0_softmax")?;
        if x0_softmax.len() != heads {
            return Err(ProgramError::Metadata {
                key: format!("{pre}.x0_softmax"),
                problem: format!(
                    "{} values, expected one per head ({heads})",
                    x0_softmax.len()
                ),
            });
        }
        blocks.push(QBlock {
            q: r.linear(&format!("{pre}.q"), h, h)?,
            k: r.linear(&format!("{pre}.k"), h, h)?,
            v: r.linear(&format!("{pre}.v"), h, h)?,
            scores: r.rq(&format!("{pre}.scores"), heads)?,
            x0_softmax,
            context: r.rq(&format!("{pre}.context"), h)?,
            o: r.linear(&format!("{pre}.o"), h, h)?,
            res1: r.rq(&format!("{pre}.res1"), 1)?,
            ln1: r.norm(&format!("{pre}.ln1"), h)?,
            f1: r.linear(&format!("{pre}.f1"), ffn, h)?,
            x0_gelu: x0("x0_gelu")?,
            gelu: r.rq(&format!("{pre}.gelu"), 1)?,
            f2: r.linear(&format!("{pre}.f2"), h, ffn)?,
            res2: r.rq(&format!("{pre}.res2"), 1)?,
            ln2: r.norm(&format!("{pre}.ln2"), h)?,
        });
    }
    Ok(Program {
        hidden: h,
        heads,
        ffn,
        vocab,
        max_positions,
        sqrt,
        rounding,
        scores,
        emb_word,
        emb_pos,
        emb_ln,
        blocks,
        out_scale,
    })
}

/// The metadata entries of a program file.
pub fn metadata(bytes: &[u8]) -> Result<HashMap<String, String>, ProgramError> {
    let (_, header) =
        SafeTensors::read_metadata(bytes).map_err(|e| ProgramError::Format(e.to_string()))?;
    let json = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get(META_KEY))
        .ok_or_else(|| ProgramError::Metadata {
            key: META_KEY.into(),
            problem: "missing (not an ITX program)".into(),
        })?;
    serde_json::from_str(json).map_err(|e| ProgramError::Metadata {
        key: META_KEY.into(),
        problem: format!("not a JSON object of strings: {e}"),
    })
}
