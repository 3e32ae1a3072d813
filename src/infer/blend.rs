//! The three-way blend at inference (`eval::BlendChoice`, chosen when the
//! sequence verifier was trained): each user's list is the weighted
//! reciprocal-rank fusion of the generator's beams, the last item's text
//! neighbours and the verifier's own top items, every source leaving out
//! what the request forbids (seen items, deny- or outside allow-lists).
use super::{LoadedVerifier, Reranker};
use crate::decode::Hit;
use crate::error::Result;
use crate::eval::{TextNeighbours, TextQuery};
use std::path::Path;

impl Reranker {
    /// The verifier's own top `k` items for each history (the sequence
    /// reader, which ranks the whole catalogue; `None` for the others),
    /// leaving out those `keep(user, item)` refuses among its top `4k`.
    pub fn own_top(
        &self,
        histories: &[&[u32]],
        k: usize,
        keep: &dyn Fn(usize, u32) -> bool,
    ) -> Option<Vec<Vec<u32>>> {
        let LoadedVerifier::Sequence(q) = &self.reader else {
            return None;
        };
        let wide = q.model.top_items(histories, 4 * k, None);
        Some(
            wide.into_iter()
                .enumerate()
                .map(|(u, l)| l.into_iter().filter(|&i| keep(u, i)).take(k).collect())
                .collect(),
        )
    }

    /// The text neighbours the blend needs: the dataset's embeddings, checked
    /// to be the ones it was chosen with. `None` without a blend.
    pub fn blend_neighbours(&self, dataset_dir: &Path) -> Result<Option<TextNeighbours>> {
        let Some(b) = &self.blend else {
            return Ok(None);
        };
        let nn = TextNeighbours::read(dataset_dir)?;
        if nn.sha256() != b.embeddings_sha256 {
            return Err(crate::Error::Mismatch(format!(
                "{}: not the embeddings the verifier's blend was chosen with; pass --no-blend, or retrain the verifier",
                crate::embed::default_output(dataset_dir).display()
            )));
        }
        Ok(Some(nn))
    }

    /// Each user's blended list, best `top` (the fused score as each hit's
    /// score), from the generator's `hits` (their first `depth`: the blend's,
    /// or `top` when more are asked for), the text
    /// neighbours of the last item in `nn` and the verifier's own top items;
    /// `keep(user, item)` says what may be recommended (the beams already
    /// obey it), `extra` how many more neighbours to fetch to make up for
    /// what it refuses. `None` without a blend.
    pub fn blend_lists(
        &self,
        nn: &mut TextNeighbours,
        (histories, hits): (&[&[u32]], &[Vec<Hit>]),
        top: usize,
        keep: &dyn Fn(usize, u32) -> bool,
        extra: usize,
    ) -> Result<Option<Vec<Vec<Hit>>>> {
        let Some(b) = &self.blend else {
            return Ok(None);
        };
        // Lists as deep as the blend was chosen with, or as the request.
        let depth = b.depth.max(top);
        let Some(own) = self.own_top(histories, depth, keep) else {
            return Ok(None);
        };
        let text = nn.search(histories, TextQuery::LAST, depth, extra, keep)?;
        let beams: Vec<Vec<u32>> = hits
            .iter()
            .map(|hs| hs.iter().take(depth).map(|h| h.item).collect())
            .collect();
        Ok(Some(
            b.blend
                .fuse(&beams, &text, &own, top)
                .into_iter()
                .map(|l| {
                    l.into_iter()
                        .map(|(item, score)| Hit {
                            item,
                            score: score as f32,
                        })
                        .collect()
                })
                .collect(),
        ))
    }
}
