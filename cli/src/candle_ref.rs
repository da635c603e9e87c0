//! The candle-transformers BERT, as an independent float reference: the same model files run by a
//! maintained tensor library, with sentence-transformers' pooling (mean over tokens, L2 norm).
//! `itx model eval` and the tests check `golden::bert_float` against it.
use std::path::Path;

use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};

/// A loaded candle BERT (CPU, f32).
pub struct CandleBert {
    model: BertModel,
    device: Device,
}

impl CandleBert {
    /// Loads `config.json` and `model.safetensors` from the model folder.
    pub fn load(dir: &Path) -> Result<CandleBert> {
        let cfg_path = dir.join("config.json");
        let cfg_text = std::fs::read_to_string(&cfg_path)
            .with_context(|| format!("cannot read {}", cfg_path.display()))?;
        let config: Config = serde_json::from_str(&cfg_text)
            .with_context(|| format!("{}: not a BERT config candle reads", cfg_path.display()))?;
        let device = Device::Cpu;
        let weights = dir.join("model.safetensors");
        let bytes = std::fs::read(&weights)
            .with_context(|| format!("cannot read {}", weights.display()))?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device)
            .with_context(|| format!("{}", weights.display()))?;
        let model = BertModel::load(vb, &config)
            .with_context(|| format!("candle cannot build BERT from {}", weights.display()))?;
        Ok(CandleBert { model, device })
    }

    /// The last hidden states, `[tokens][hidden]`.
    pub fn hidden(&self, tokens: &[u32]) -> Result<Vec<Vec<f32>>> {
        let ids = Tensor::new(tokens, &self.device)?.unsqueeze(0)?;
        let types = ids.zeros_like()?;
        let out = self.model.forward(&ids, &types, None)?;
        Ok(out.squeeze(0)?.to_vec2::<f32>()?)
    }

    /// The sentence embedding (mean pooling, L2 normalization).
    pub fn embed(&self, tokens: &[u32]) -> Result<Vec<f32>> {
        Ok(golden::bert_float::mean_pool_normalize(
            &self.hidden(tokens)?,
        ))
    }
}
