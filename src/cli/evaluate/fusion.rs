//! `evaluate --text-fusion`'s λ row: each user's beams united with their
//! text neighbours, every candidate scored by the generator (teacher-forced
//! where the beams missed it) beside its text cosine.
use genrec::decode::generator::{Generator, Query};
use genrec::eval::{self, Protocol};

/// Beams the text fusion takes from the generator, and text neighbours it adds.
pub(super) const FUSION_BEAMS: usize = 20;
const FUSION_NEIGHBOURS: usize = 20;
/// The λ values tried on validation (0: the generator alone).
/// Up to 80: on Beauty, where the text carries most of the signal,
/// validation still rose at 20.
pub(super) const FUSION_LAMBDAS: [f32; 12] = [
    0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0, 30.0, 50.0, 80.0,
];

/// Each user's beams united with their text neighbours (recency-weighted
/// query), every candidate with its generator log-probability (the beam's, or
/// teacher-forced for a neighbour the beams missed) and its text cosine.
pub(super) fn fusion_candidates(
    gen: &Generator,
    held: &[genrec::data::HeldOut],
    beams: &[Vec<genrec::decode::Hit>],
    nn: &mut eval::TextNeighbours,
    seen: &[std::collections::HashSet<u32>],
    protocol: &Protocol,
) -> anyhow::Result<Vec<Vec<eval::Candidate>>> {
    let q = eval::TextQuery::RECENT;
    let knn = eval::text_knn(nn, held, seen, protocol, q, FUSION_NEIGHBOURS)?;
    let (emb, dim) = nn.embeddings();
    let missing: Vec<Vec<u32>> = beams
        .iter()
        .zip(&knn)
        .map(|(b, k)| {
            k.iter()
                .copied()
                .filter(|i| !b.iter().any(|h| h.item == *i))
                .collect()
        })
        .collect();
    let queries: Vec<Query> = held.iter().map(Query::from).collect();
    let scores = gen.score(&queries, &missing);
    Ok(held
        .iter()
        .zip(beams)
        .zip(missing.iter().zip(&scores))
        .map(|((h, b), (m, s))| {
            let items: Vec<(u32, f32)> = b
                .iter()
                .map(|x| (x.item, x.score))
                .chain(m.iter().copied().zip(s.iter().copied()))
                .collect();
            let ids: Vec<u32> = items.iter().map(|x| x.0).collect();
            let cos = eval::cosines(emb, dim, &q.vector(emb, dim, &h.history), &ids);
            items
                .iter()
                .zip(cos)
                .map(|(&(item, logp), cos)| eval::Candidate { item, logp, cos })
                .collect()
        })
        .collect())
}
