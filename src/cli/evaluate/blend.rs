//! `evaluate --rerank`'s blend row: when the verifier was trained with a
//! blend chosen on validation (`eval::BlendChoice`), the generator's beams
//! as the verifier reranked them, the last item's text neighbours, the
//! verifier's own top items, the transitions and the user's own items fused as
//! `recommend --rerank` fuses them.
use anyhow::Context;
use genrec::decode::Hit;
use genrec::eval::{Protocol, TextNeighbours};
use genrec::infer::Reranker;
use std::collections::HashSet;

/// The row's name and each user's top 10 (seen items left out under the
/// exclude-seen protocol).
pub(super) fn row(
    r: &Reranker,
    nn: &mut TextNeighbours,
    held: &[genrec::data::HeldOut],
    reranked: &[Vec<Hit>],
    seen: &[HashSet<u32>],
    protocol: &Protocol,
) -> anyhow::Result<(String, Vec<Vec<u32>>)> {
    let b = &r
        .blend
        .as_ref()
        .expect("a row only for a chosen blend")
        .choice;
    b.check_neighbours(nn)
        .context("the dataset's embeddings: pass --no-blend, or retrain the verifier")?;
    // The text neighbours as the blend was chosen with them.
    let mut biased = r.blend_text(nn)?;
    let nn = biased.as_mut().unwrap_or(nn);
    let histories: Vec<&[u32]> = held.iter().map(|h| h.history.as_slice()).collect();
    let keep = |u: usize, i: u32| protocol.allows(&seen[u], i);
    let extra = protocol.extra(seen);
    let lists = r
        .blend_lists(nn, (&histories, reranked), 10, &keep, extra)?
        .ok_or_else(|| anyhow::anyhow!("the blend needs the sequence verifier"))?;
    let lists = genrec::decode::hit_items(&lists);
    let name = format!(
        "genrec ⊕ text ⊕ verifier ⊕ transitions{} (recommend's default with this verifier; {}{}{}, chosen at training on validation)",
        if b.blend.weights[4] > 0.0 { " ⊕ history" } else { "" },
        b.blend.describe(),
        if b.rescorer.is_some() {
            ", the pool rescored by the weights learned there"
        } else {
            ""
        },
        if b.text_adapter.as_ref().is_some_and(|a| a.used()) {
            ", the text adapted to the training sequences"
        } else {
            ""
        }
    );
    Ok((name, lists))
}
