//! `semantic_ids.safetensors`: the codes, the codebooks, and the parameters
//! and hashes they were built with (as safetensors metadata).
use super::{IndexParams, SemanticIds};
use crate::error::{Error, Result};
use crate::util::st::{self, StFile};
use std::collections::BTreeMap;
use std::path::Path;
use tch::{Kind, Tensor};

impl SemanticIds {
    /// Writes `semantic_ids.safetensors`: `codes` I64 `[N, L+1]` and
    /// `centroids.{l}` F32 `[K, D]`, with the parameters and hashes as metadata.
    pub fn save(&self, path: &Path) -> Result<()> {
        let flat: Vec<i64> = self
            .codes
            .iter()
            .flat_map(|c| c.iter().map(|&v| i64::from(v)))
            .collect();
        let mut tensors = vec![(
            "codes".to_string(),
            Tensor::from_slice(&flat).view([self.n_items() as i64, self.levels() as i64 + 1]),
        )];
        for (l, c) in self.centroids.iter().enumerate() {
            tensors.push((
                format!("centroids.{l}"),
                Tensor::from_slice(c).view([self.params.codebook_size as i64, self.dim as i64]),
            ));
        }
        let meta = BTreeMap::from([
            (
                "params".to_string(),
                serde_json::to_string(&self.params).map_err(|e| Error::Other(e.to_string()))?,
            ),
            (
                "embeddings_sha256".to_string(),
                self.embeddings_sha256.clone(),
            ),
            ("codes_sha256".to_string(), self.codes_sha256()),
        ]);
        st::write(path, &tensors, &meta)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let mut f = StFile::read(path)?;
        let bad = |m: String| Error::input(path, None, m);
        let params: IndexParams = serde_json::from_str(
            f.metadata
                .get("params")
                .ok_or_else(|| bad("metadata `params` missing".into()))?,
        )
        .map_err(|e| bad(format!("metadata `params`: {e}")))?;
        let codes_t = f.take(path, "codes")?;
        let (n, w) = codes_t
            .size2()
            .map_err(|_| bad("`codes` must be 2-D".into()))?;
        if w as usize != params.levels + 1 {
            return Err(bad(format!(
                "`codes` has {w} columns, expected {}",
                params.levels + 1
            )));
        }
        let flat = Vec::<i64>::try_from(&codes_t.to_kind(Kind::Int64).flatten(0, -1))
            .map_err(Error::Torch)?;
        let codes: Vec<Vec<u32>> = flat
            .chunks(w as usize)
            .map(|c| c.iter().map(|&v| v as u32).collect())
            .collect();
        let mut centroids = Vec::new();
        let mut dim = 0;
        for l in 0..params.levels {
            let t = f.take(path, &format!("centroids.{l}"))?;
            dim = t.size()[1] as usize;
            centroids.push(
                Vec::<f32>::try_from(&t.to_kind(Kind::Float).flatten(0, -1))
                    .map_err(Error::Torch)?,
            );
        }
        let ids = Self {
            params,
            dim,
            centroids,
            codes,
            embeddings_sha256: f
                .metadata
                .get("embeddings_sha256")
                .cloned()
                .unwrap_or_default(),
        };
        if let Some(h) = f.metadata.get("codes_sha256") {
            if *h != ids.codes_sha256() {
                return Err(Error::Mismatch(format!(
                    "{}: codes do not match their recorded hash (file corrupted or edited)",
                    path.display()
                )));
            }
        }
        debug_assert_eq!(ids.n_items(), n as usize);
        Ok(ids)
    }
}
