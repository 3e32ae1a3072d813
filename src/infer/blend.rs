//! The five-way blend at inference (`eval::BlendChoice`, chosen when the
//! sequence verifier was trained): each user's list is the weighted
//! reciprocal-rank fusion of the generator's beams (reranked by λ), the last item's text
//! neighbours, the verifier's own top items, the items that followed the
//! last ones in the training sequences and the user's own items, latest
//! first, every source leaving out
//! what the request forbids (seen items, deny- or outside allow-lists) and,
//! when the blend was chosen so, the user's own items; where a learned
//! rescoring of that pool beat the fusion on validation (`eval::rescore`),
//! its ranking instead (of the pool with the last item's nearest by words
//! as a sixth list, where that was chosen too).
use super::{LoadedVerifier, Reranker};
use crate::decode::{hit_items, scored_hits, Hit};
use crate::error::Result;
use crate::eval::blend::Pooled;
use crate::eval::{
    first_kept, latest_first, own_items_rule, pool_features, ItemFacts, TextNeighbours, TextQuery,
};
use std::path::Path;

impl Reranker {
    /// The text neighbours the blend needs: the dataset's embeddings, checked
    /// to be the ones it was chosen with, ranked as it was chosen with
    /// (see [`blend_text`](Self::blend_text)). `None` without a blend.
    pub fn blend_neighbours(&self, dataset_dir: &Path) -> Result<Option<TextNeighbours>> {
        let Some(b) = &self.blend else {
            return Ok(None);
        };
        let nn = TextNeighbours::read(dataset_dir)?;
        b.choice.check_neighbours(&nn).map_err(|e| {
            crate::Error::Mismatch(format!(
                "{}: {e}; pass --no-blend, or retrain the verifier",
                crate::embed::default_output(dataset_dir).display()
            ))
        })?;
        Ok(Some(self.blend_text(&nn)?.unwrap_or(nn)))
    }

    /// `nn` as the blend's text neighbours were chosen: over the embeddings
    /// adapted to the training sequences when they were (`eval::adapter`),
    /// with the popularity bias when they had one
    /// (`eval::Blend::text_nudge`); `None` when neither (then `nn` itself
    /// is what the blend searches).
    pub fn blend_text(&self, nn: &TextNeighbours) -> Result<Option<TextNeighbours>> {
        let Some(b) = &self.blend else {
            return Ok(None);
        };
        let adapted = match &b.adapter {
            Some(a) => Some(nn.with_embeddings(a.apply(nn.embeddings().0))?),
            None => None,
        };
        match (&b.text_bias, adapted) {
            (Some(bias), a) => Ok(Some(a.as_ref().unwrap_or(nn).with_bias(bias)?)),
            (None, a) => Ok(a),
        }
    }

    /// Each user's blended list, best `top` (the fused score as each hit's
    /// score), from the generator's candidates as [`Reranker::apply`]
    /// reranked them (`reranked`, their first as many as the blend read,
    /// or `top` when more are asked for), the text
    /// neighbours of the last item in `nn` (as [`blend_neighbours`](Self::blend_neighbours)
    /// gives them), the verifier's own top items, the transitions and the
    /// user's own items;
    /// `keep(user, item)` says what may be recommended (the beams already
    /// obey it), `extra` how many more neighbours to fetch to make up for
    /// what it refuses. `None` without a blend.
    pub fn blend_lists(
        &self,
        nn: &mut TextNeighbours,
        (histories, reranked): (&[&[u32]], &[Vec<Hit>]),
        top: usize,
        keep: &dyn Fn(usize, u32) -> bool,
        extra: usize,
    ) -> Result<Option<Vec<Vec<Hit>>>> {
        let Some(b) = &self.blend else {
            return Ok(None);
        };
        // Lists as deep as the blend was chosen with, or as the request.
        let depth = b.choice.depth.max(top);
        // Only the sequence reader ranks the whole catalogue.
        let LoadedVerifier::Sequence(q) = &self.reader else {
            return Ok(None);
        };
        // Chosen with the user's own items left out: every source without
        // them, fetched deeper to make up for them.
        let (more, keep) = own_items_rule(histories, b.choice.blend.unseen_only, keep);
        let extra = extra + more;
        let own = q.own_top(histories, (depth, extra), &keep);
        let text = nn.search(histories, TextQuery::LAST, depth, extra, &keep)?;
        let next = b.transitions.top(histories, depth, &keep);
        let again = latest_first(histories, depth, &keep);
        let beams = first_kept(&hit_items(reranked), b.choice.beam_depth().max(top), &keep);
        let sources = [&beams, &text, &own, &next, &again].map(Vec::as_slice);
        Ok(Some(scored_hits(match &b.choice.rescorer {
            // The pool rescored by the weights learned on validation.
            Some(r) => {
                let (emb, dim) = nn.embeddings();
                let words = b.words.as_ref().expect("read with the rescorer");
                let facts = ItemFacts {
                    emb,
                    dim,
                    counts: &b.counts,
                    transitions: &b.transitions,
                    words,
                };
                // Where it was chosen so, the last item's nearest by words
                // as a sixth list of the pool.
                let near = r
                    .reads_words_list()
                    .then(|| words.nearest_lists(histories, (depth, extra), &keep));
                let mut lists = sources.to_vec();
                lists.extend(near.as_deref());
                let pooled = Pooled::new(&lists);
                r.rank(&pool_features(&pooled, histories, facts), top)
            }
            None => b.choice.blend.fuse(sources, top),
        })))
    }
}
