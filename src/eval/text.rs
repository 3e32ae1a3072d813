//! The items' text beside the generator: text-kNN queries over the
//! catalogue's sentence embeddings (the last item, or a recency-weighted
//! mean of the last few, as in the text-based sequential recommenders of
//! Hou et al. 2022), the generator's beams re-scored with a text cosine
//! (`log p + λ · cos`), and weighted reciprocal-rank fusion (Cormack et al.
//! 2009) of the beams with the text neighbours, its weight chosen on validation.
use super::Protocol;
use crate::data::HeldOut;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// What a text-kNN query is made of: the text embeddings of the user's last
/// `window` items, weighted `decay^age` (age 0 = the last item), summed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextQuery {
    pub window: usize,
    pub decay: f32,
}

impl TextQuery {
    /// The last item alone.
    pub const LAST: TextQuery = TextQuery {
        window: 1,
        decay: 1.0,
    };
    /// A recency-weighted mean of the last five.
    pub const RECENT: TextQuery = TextQuery {
        window: 5,
        decay: 0.5,
    };

    /// The query of a history (oldest first): `Σ decay^age · e(item)` over
    /// its last `window` items (not normalised).
    pub fn vector(&self, emb: &[f32], dim: usize, history: &[u32]) -> Vec<f32> {
        let mut q = vec![0f32; dim];
        for (age, &it) in history.iter().rev().take(self.window.max(1)).enumerate() {
            let w = self.decay.powi(age as i32);
            for (a, &e) in q
                .iter_mut()
                .zip(&emb[it as usize * dim..(it as usize + 1) * dim])
            {
                *a += w * e;
            }
        }
        q
    }

    pub fn name(&self) -> String {
        if self.window == 1 {
            "text-kNN (last item)".into()
        } else {
            format!(
                "text-kNN (last {}, weights {}^age)",
                self.window, self.decay
            )
        }
    }
}

/// The catalogue's text embeddings (L2-normalised) in a Faiss index, for
/// nearest-neighbour queries by inner product (cosine); built once per
/// command and shared by every kNN row and fusion.
pub struct TextNeighbours {
    index: faiss::FlatIndex,
    /// Shared with the neighbours [`with_bias`](Self::with_bias) derives.
    emb: std::sync::Arc<[f32]>,
    dim: usize,
    /// Hash of the embeddings file they were read from (empty: built in memory).
    sha256: String,
    /// Whether `index` holds `[e_i, bias_i]` ([`with_bias`](Self::with_bias)).
    biased: bool,
}

/// Per-item additions to the text cosine that favour items bought often:
/// `beta · ln(1 + count)` (`counts`: training interactions per item). Text
/// neighbours know what an item is like, not whether anybody buys it; on
/// sparse catalogues the nudge lifts the neighbours people actually take.
pub fn popularity_bias(counts: &[f64], beta: f64) -> Vec<f32> {
    counts.iter().map(|&c| (beta * c.ln_1p()) as f32).collect()
}

fn faiss_err(e: faiss::error::Error) -> crate::Error {
    crate::Error::Other(format!("faiss: {e}"))
}

impl TextNeighbours {
    /// `emb`: `[N, dim]` row-major, row = internal item id.
    pub fn new(emb: Vec<f32>, dim: usize) -> crate::Result<Self> {
        use faiss::Index;
        let mut index = faiss::FlatIndex::new_ip(dim as u32).map_err(faiss_err)?;
        index.add(&emb).map_err(faiss_err)?;
        Ok(Self {
            index,
            emb: emb.into(),
            dim,
            sha256: String::new(),
            biased: false,
        })
    }

    /// The same neighbours ranked by `cos(query, e_i) + bias[i]` (one bias
    /// per item, e.g. [`popularity_bias`]): an index over `[e_i, bias_i]`
    /// searched with `[query / |query|, 1]`, so the search stays exact.
    pub fn with_bias(&self, bias: &[f32]) -> crate::Result<Self> {
        use faiss::Index;
        let n = self.emb.len() / self.dim;
        assert_eq!(bias.len(), n, "one bias per item");
        let rows: Vec<f32> = self
            .emb
            .chunks(self.dim)
            .zip(bias)
            .flat_map(|(e, &b)| e.iter().copied().chain(std::iter::once(b)))
            .collect();
        let mut index = faiss::FlatIndex::new_ip(self.dim as u32 + 1).map_err(faiss_err)?;
        index.add(&rows).map_err(faiss_err)?;
        Ok(Self {
            index,
            emb: std::sync::Arc::clone(&self.emb),
            dim: self.dim,
            sha256: self.sha256.clone(),
            biased: true,
        })
    }

    /// Neighbours over other embeddings of the same items (`[N, dim]`,
    /// L2-normalised rows, e.g. [`super::adapter::TextAdapter::apply`]'s),
    /// still answering for the embeddings file these were read from.
    pub fn with_embeddings(&self, emb: Vec<f32>) -> crate::Result<Self> {
        assert_eq!(emb.len(), self.emb.len(), "the same items, the same width");
        let mut nn = Self::new(emb, self.dim)?;
        nn.sha256 = self.sha256.clone();
        Ok(nn)
    }

    /// The dataset's own embeddings (`genrec embed`'s output).
    pub fn read(dataset_dir: &std::path::Path) -> crate::Result<Self> {
        let e = crate::embed::Embeddings::read(&crate::embed::default_output(dataset_dir))?;
        let size = e.matrix.size();
        let emb = Vec::<f32>::try_from(&e.matrix.to_kind(tch::Kind::Float).flatten(0, -1))
            .map_err(|err| crate::Error::Other(format!("embeddings: {err}")))?;
        let mut nn = Self::new(emb, size[1] as usize)?;
        nn.sha256 = e.file_sha256;
        Ok(nn)
    }

    /// `[N, dim]` row-major and `dim`.
    pub fn embeddings(&self) -> (&[f32], usize) {
        (&self.emb, self.dim)
    }

    /// Hash of the embeddings file (see [`read`](Self::read)).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Refuses these neighbours unless they come from the embeddings file
    /// of hash `expected`, the one `what` was chosen with.
    pub fn check_sha(&self, expected: &str, what: &str) -> crate::Result<()> {
        if self.sha256 == expected {
            return Ok(());
        }
        let short = |s: &str| s[..12.min(s.len())].to_string();
        Err(crate::Error::Mismatch(format!(
            "not the embeddings {what} was chosen with ({}…; these are {}…)",
            short(expected),
            short(&self.sha256)
        )))
    }

    /// Each history's `k` items nearest to its `query` vector, best first
    /// (with a bias: by cosine plus the bias), leaving out the query's own
    /// items and those `keep` refuses.
    pub fn search(
        &mut self,
        histories: &[&[u32]],
        query: TextQuery,
        k: usize,
        extra: usize,
        keep: impl Fn(usize, u32) -> bool,
    ) -> crate::Result<Vec<Vec<u32>>> {
        use faiss::Index;
        if histories.is_empty() {
            return Ok(Vec::new());
        }
        let want = (k + query.window + extra).min(self.emb.len() / self.dim);
        let queries: Vec<f32> = histories
            .iter()
            .flat_map(|h| {
                let q = query.vector(&self.emb, self.dim, h);
                if !self.biased {
                    return q;
                }
                let norm = q.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
                q.into_iter()
                    .map(|v| v / norm)
                    .chain(std::iter::once(1.0))
                    .collect()
            })
            .collect();
        let res = self.index.search(&queries, want).map_err(faiss_err)?;
        Ok(histories
            .iter()
            .enumerate()
            .map(|(u, h)| {
                if h.is_empty() {
                    // No items, no query: every item would tie at zero.
                    return Vec::new();
                }
                let own: Vec<u32> = h.iter().rev().take(query.window.max(1)).copied().collect();
                res.labels[u * want..(u + 1) * want]
                    .iter()
                    .filter_map(|l| l.get().map(|v| v as u32))
                    .filter(|&i| !own.contains(&i) && keep(u, i))
                    .take(k)
                    .collect()
            })
            .collect())
    }
}

/// Text-kNN baseline: items nearest (inner product of L2-normalised
/// embeddings: cosine) to the query made of the user's recent items, via a
/// Faiss index; the query's own items are excluded (and, under the
/// exclude-seen protocol, everything the user has seen).
pub fn text_knn(
    nn: &mut TextNeighbours,
    held: &[HeldOut],
    seen: &[HashSet<u32>],
    protocol: &Protocol,
    query: TextQuery,
    k: usize,
) -> crate::Result<Vec<Vec<u32>>> {
    let histories: Vec<&[u32]> = held.iter().map(|h| h.history.as_slice()).collect();
    nn.search(&histories, query, k, protocol.extra(seen), |u, i| {
        protocol.allows(&seen[u], i)
    })
}

/// One candidate of a user's generator + text list: the generator's
/// `log p(ID + eos)` of the item and the cosine between the item's text
/// embedding and the user's text query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub item: u32,
    pub logp: f32,
    pub cos: f32,
}

/// Cosine between a query vector and each item's (L2-normalised) embedding.
pub fn cosines(emb: &[f32], dim: usize, query: &[f32], items: &[u32]) -> Vec<f32> {
    let norm = query.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
    items
        .iter()
        .map(|&i| {
            emb[i as usize * dim..(i as usize + 1) * dim]
                .iter()
                .zip(query)
                .map(|(a, b)| a * b)
                .sum::<f32>()
                / norm
        })
        .collect()
}

/// Each user's candidates ranked by `logp + λ · cos`, best `k` (ties: item order given).
pub fn fuse(cands: &[Vec<Candidate>], lambda: f32, k: usize) -> Vec<Vec<u32>> {
    cands
        .iter()
        .map(|c| {
            let mut v: Vec<(f32, usize)> = c
                .iter()
                .enumerate()
                .map(|(i, x)| (x.logp + lambda * x.cos, i))
                .collect();
            v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            v.into_iter().take(k).map(|(_, i)| c[i].item).collect()
        })
        .collect()
}

/// Weighted reciprocal-rank fusion (Cormack et al. 2009) of two ranked
/// lists per user: an item scores `w / (k + rank_a) + (1 − w) / (k + rank_b)`
/// over the lists it is in (ranks from 1). `w = 1` is list a alone, `w = 0`
/// list b alone, `w = ½, k = 60` the paper's fixed fusion; a small `k` lets
/// the top of each list count for more. Ties keep list a's order, then b's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RankFusion {
    /// Weight of list a (the generator's), in `[0, 1]`.
    pub weight: f64,
    pub k: f64,
}

impl RankFusion {
    /// The paper's fusion: equal weights, k = 60.
    pub const RRF: RankFusion = RankFusion {
        weight: 0.5,
        k: 60.0,
    };

    /// The settings tried on validation: the generator alone first (so it
    /// wins ties), then weights from ¾ to ¼ at k = 2, 10 and 60, then list b alone.
    pub fn grid() -> Vec<RankFusion> {
        let mut g = vec![RankFusion {
            weight: 1.0,
            k: 60.0,
        }];
        for k in [2.0, 10.0, 60.0] {
            for weight in [0.75, 0.6, 0.5, 0.4, 0.25] {
                g.push(RankFusion { weight, k });
            }
        }
        g.push(RankFusion {
            weight: 0.0,
            k: 60.0,
        });
        g
    }

    /// Each user's fused list, best `top`.
    pub fn fuse(&self, a: &[Vec<u32>], b: &[Vec<u32>], top: usize) -> Vec<Vec<u32>> {
        self.fuse_scored(a, b, top)
            .into_iter()
            .map(|l| l.into_iter().map(|(i, _)| i).collect())
            .collect()
    }

    /// Each user's fused list with the fused scores, best `top`.
    pub fn fuse_scored(&self, a: &[Vec<u32>], b: &[Vec<u32>], top: usize) -> Vec<Vec<(u32, f64)>> {
        super::blend::reciprocal_rank_fusion(
            &[a, b],
            &[self.weight, 1.0 - self.weight],
            self.k,
            top,
        )
    }
}

/// Beams the rank fusion takes from the generator, and text neighbours it adds.
pub const FUSION_DEPTH: usize = 20;

/// The generator's rank fusion with the last item's text neighbours as chosen
/// on a validation split, stored with the generator checkpoint
/// (`genrec.json`, `extra.text_fusion`) and applied by `recommend` and
/// `evaluate`. Weight 1: the generator alone (text did not help there).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FusionChoice {
    pub fusion: RankFusion,
    /// Beams and text neighbours fused (each list's depth).
    pub depth: usize,
    /// The embeddings file the neighbours came from.
    pub embeddings_sha256: String,
    pub valid_users: usize,
    /// Validation NDCG@10 of every setting tried (the first: the generator alone).
    pub sweep: Vec<(RankFusion, f64)>,
    /// The best setting's validation NDCG@10 minus the generator's alone,
    /// paired-bootstrap 95 % interval. The fusion is used only when its
    /// lower end is above zero; otherwise `fusion` is the generator alone.
    pub valid_gain: super::Estimate,
}

impl FusionChoice {
    /// The key of the choice in a checkpoint's `extra` record.
    pub const KEY: &'static str = "text_fusion";

    /// The choice stored in a checkpoint's `extra` record, if any.
    pub fn from_extra(extra: &serde_json::Value) -> Option<FusionChoice> {
        serde_json::from_value(extra.get(Self::KEY)?.clone()).ok()
    }

    /// Chooses on `held` (a validation split), given each user's top
    /// `FUSION_DEPTH` items from the generator (`beams`), against the last
    /// item's `FUSION_DEPTH` text neighbours: every setting of
    /// [`RankFusion::grid`], best mean NDCG@10, kept only when its paired
    /// gain over the generator alone has a lower end above zero.
    pub fn choose(
        beams: &[Vec<u32>],
        held: &[HeldOut],
        nn: &mut TextNeighbours,
    ) -> crate::Result<FusionChoice> {
        let histories: Vec<&[u32]> = held.iter().map(|h| h.history.as_slice()).collect();
        let knn = nn.search(&histories, TextQuery::LAST, FUSION_DEPTH, 0, |_, _| true)?;
        let targets: Vec<u32> = held.iter().map(|h| h.target).collect();
        let grid = RankFusion::grid();
        let (best, sweep) =
            super::choose_on_validation(&grid, &targets, |g| g.fuse(beams, &knn, 10));
        let gain = super::paired_difference(
            "generator",
            &targets,
            &best.fuse(beams, &knn, 10),
            &grid[0].fuse(beams, &knn, 10),
            &Protocol::default(),
        )
        .difference["ndcg@10"];
        Ok(FusionChoice {
            fusion: if gain.lo > 0.0 { best } else { grid[0] },
            valid_gain: gain,
            depth: FUSION_DEPTH,
            embeddings_sha256: nn.sha256().to_owned(),
            valid_users: held.len(),
            sweep,
        })
    }

    /// Refuses text neighbours built from other embeddings than the ones
    /// this choice was made with.
    pub fn check_neighbours(&self, nn: &TextNeighbours) -> crate::Result<()> {
        nn.check_sha(&self.embeddings_sha256, "the text fusion")
    }

    /// Does the choice change the generator's lists?
    pub fn uses_text(&self) -> bool {
        self.fusion.weight < 1.0
    }

    pub fn describe(&self) -> String {
        let gen_alone = self.sweep.first().map_or(f64::NAN, |s| s.1);
        let best = self.sweep.iter().fold(f64::NEG_INFINITY, |b, s| b.max(s.1));
        let g = &self.valid_gain;
        format!(
            "text fusion on {} validation users: best NDCG@10 {best:.4} against the generator's {gen_alone:.4}, paired difference {:+.4} [{:+.4}, {:+.4}] → {}",
            self.valid_users,
            g.mean,
            g.lo,
            g.hi,
            if self.uses_text() {
                format!("fused (weight {} of the generator, k {})", self.fusion.weight, self.fusion.k)
            } else {
                "the generator's lists alone".to_string()
            }
        )
    }
}

#[cfg(test)]
mod tests;
