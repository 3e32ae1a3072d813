//! The text neighbours adapted to a catalogue: a linear map of the items'
//! sentence embeddings (`e ↦ normalise(W e + b)`, `W` from the identity)
//! fitted so that each item's adapted embedding lies nearest to that of the
//! item that followed it in the training sequences — the contrastive,
//! in-batch-negative objective of CLIP (Radford et al. 2021) over frozen
//! text embeddings, as UniSRec (Hou et al. 2022) adapts them to a domain
//! with a parametric whitening. A frozen encoder says which items read
//! alike; the map learns which of what they say predicts what is taken
//! next (the brand, the product type, the genre). The fitting is training
//! code (`trainer::text_adapter`); this is what inference reads: the map,
//! applied, stored beside the verifier that chose it.
use crate::embed::bert::l2_normalize;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;
use tch::{Kind, Tensor};

/// The adapter's file in a verifier checkpoint directory.
pub const ADAPTER_FILE: &str = "text_adapter.safetensors";

/// Whether the blend's text neighbours read the adapted embeddings: the
/// adapter's text-kNN (last item) against the plain one's on the
/// validation users the blend is chosen on, NDCG@10, paired-bootstrap 95 %
/// interval; adapted only when its lower end is above zero.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdapterChoice {
    pub gain: super::Estimate,
    /// The sha256 of the verifier's [`ADAPTER_FILE`] when adapted.
    pub file_sha256: Option<String>,
}

impl AdapterChoice {
    pub fn used(&self) -> bool {
        self.file_sha256.is_some()
    }

    pub fn describe(&self) -> String {
        let g = &self.gain;
        format!(
            "; the text adapted to the training sequences against as it reads: {:+.4} [{:+.4}, {:+.4}] → {}",
            g.mean,
            g.lo,
            g.hi,
            if self.used() { "adapted" } else { "as it reads" }
        )
    }
}

/// `e ↦ normalise(W e + b)` over `dim`-dimensional embeddings.
#[derive(Debug, Clone, PartialEq)]
pub struct TextAdapter {
    pub dim: usize,
    /// `[dim, dim]` row-major, output × input.
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

/// Rows mapped in one pass (bounds the temporary tensors on a large catalogue).
const ROWS_PER_PASS: usize = 65_536;

impl TextAdapter {
    /// The map that changes nothing but the rows' norms.
    pub fn identity(dim: usize) -> Self {
        let mut weight = vec![0f32; dim * dim];
        (0..dim).for_each(|i| weight[i * dim + i] = 1.0);
        TextAdapter {
            dim,
            weight,
            bias: vec![0.0; dim],
        }
    }

    /// `emb` (`[N, dim]` row-major) mapped and each row L2-normalised.
    pub fn apply(&self, emb: &[f32]) -> Vec<f32> {
        assert_eq!(emb.len() % self.dim, 0, "rows of {} values", self.dim);
        let _g = tch::no_grad_guard();
        let d = self.dim as i64;
        let w = Tensor::from_slice(&self.weight).view([d, d]);
        let b = Tensor::from_slice(&self.bias);
        let mut out = Vec::with_capacity(emb.len());
        for rows in emb.chunks(ROWS_PER_PASS * self.dim) {
            let x = Tensor::from_slice(rows).view([-1, d]);
            let y = l2_normalize(&(x.matmul(&w.tr()) + &b));
            out.extend(Vec::<f32>::try_from(y.flatten(0, -1)).expect("f32 rows"));
        }
        out
    }

    /// Writes `dir/`[`ADAPTER_FILE`], recording the embeddings file it was
    /// fitted over; the written file's sha256.
    pub fn save(&self, dir: &Path, embeddings_sha256: &str) -> Result<String> {
        let d = self.dim as i64;
        let tensors = [
            (
                "weight".to_string(),
                Tensor::from_slice(&self.weight).view([d, d]),
            ),
            ("bias".to_string(), Tensor::from_slice(&self.bias)),
        ];
        let meta = BTreeMap::from([("embeddings_sha256".to_string(), embeddings_sha256.into())]);
        let bytes = crate::util::st::to_bytes(&tensors, &meta)?;
        crate::util::fsx::write_atomic(&dir.join(ADAPTER_FILE), &bytes)?;
        Ok(crate::util::hash::sha256_hex(&bytes))
    }

    /// Reads `dir/`[`ADAPTER_FILE`], refusing a file other than the one of
    /// hash `file_sha256` or one fitted over other embeddings than those of
    /// hash `embeddings_sha256`.
    pub fn load(dir: &Path, file_sha256: &str, embeddings_sha256: &str) -> Result<Self> {
        let path = dir.join(ADAPTER_FILE);
        let (mut f, sha) = crate::util::st::StFile::read_with_sha256(&path)?;
        if sha != file_sha256 {
            return Err(Error::Mismatch(format!(
                "{}: not the text adapter the verifier chose (sha256 {sha}, expected {file_sha256}); retrain the verifier",
                path.display()
            )));
        }
        if f.metadata.get("embeddings_sha256").map(String::as_str) != Some(embeddings_sha256) {
            return Err(Error::Mismatch(format!(
                "{}: fitted over other embeddings than the dataset's; retrain the verifier",
                path.display()
            )));
        }
        let weight = f.take(&path, "weight")?.to_kind(Kind::Float);
        let bias = f.take(&path, "bias")?.to_kind(Kind::Float);
        let dim = bias.size()[0] as usize;
        if weight.size() != [dim as i64, dim as i64] {
            return Err(Error::input(
                &path,
                None,
                format!(
                    "`weight` has shape {:?}, expected [{dim}, {dim}]",
                    weight.size()
                ),
            ));
        }
        let flat = |t: Tensor| Vec::<f32>::try_from(t.flatten(0, -1)).expect("f32");
        Ok(TextAdapter {
            dim,
            weight: flat(weight),
            bias: flat(bias),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_only_normalises_and_a_map_is_applied_row_by_row() {
        let emb = [3.0f32, 4.0, 0.0, 2.0];
        let id = TextAdapter::identity(2).apply(&emb);
        let want = [0.6f32, 0.8, 0.0, 1.0];
        assert!(
            id.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6),
            "{id:?}"
        );
        // W swaps the coordinates, b adds (1, 0): (4 + 1, 3) and (2 + 1, 0).
        let swap = TextAdapter {
            dim: 2,
            weight: vec![0.0, 1.0, 1.0, 0.0],
            bias: vec![1.0, 0.0],
        };
        let got = swap.apply(&emb);
        let n = 34f32.sqrt();
        let want = [5.0 / n, 3.0 / n, 1.0, 0.0];
        assert!(
            got.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6),
            "{got:?}"
        );
    }

    #[test]
    fn a_saved_adapter_loads_only_with_its_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let a = TextAdapter {
            dim: 2,
            weight: vec![0.5, -1.0, 2.0, 0.25],
            bias: vec![0.1, -0.2],
        };
        let sha = a.save(dir.path(), "emb-sha").unwrap();
        assert_eq!(TextAdapter::load(dir.path(), &sha, "emb-sha").unwrap(), a);
        let other_file = TextAdapter::load(dir.path(), "0000", "emb-sha").unwrap_err();
        assert!(
            other_file.to_string().contains("not the text adapter"),
            "{other_file}"
        );
        let other_emb = TextAdapter::load(dir.path(), &sha, "other").unwrap_err();
        assert!(
            other_emb.to_string().contains("other embeddings"),
            "{other_emb}"
        );
    }
}
