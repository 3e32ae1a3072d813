//! Trie-constrained beam search, batched over users × beams.
//!
//! Each step: log-softmax over the **full vocabulary**, then only the tokens
//! the trie allows after a beam's prefix are candidates (Hugging Face's
//! `prefix_allowed_tokens_fn` semantics: no renormalisation over the allowed
//! tokens). Candidates are gathered per beam (`[rows, max children]`), never
//! masked over the whole vocabulary, and the best `width` per user survive.
//! Every item ID has the trie's depth, so after `depth` steps each live beam
//! is a complete item and one more step reads `log p(eos)`; the score is
//! `sum log p / (depth + 1)^length_penalty` (generated length, eos included).
//! Beams with no valid continuation are dead (score −∞) and never returned,
//! so fewer valid items than beams is fine.
use super::StepModel;
use crate::semantic_id::trie::{Node, Trie};
use tch::{Kind, Tensor};

/// One recommended item with its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub item: u32,
    pub score: f32,
}

/// Per user, the distinct items found, best first.
pub type BeamOutput = Vec<Vec<Hit>>;

/// The items of every user's hits, in order (scores dropped).
pub fn hit_items(hits: &[Vec<Hit>]) -> Vec<Vec<u32>> {
    hits.iter()
        .map(|hs| hs.iter().map(|h| h.item).collect())
        .collect()
}

/// Each user's `(item, score)` list as hits (a fusion's lists, scored).
pub fn scored_hits(lists: Vec<Vec<(u32, f64)>>) -> Vec<Vec<Hit>> {
    lists
        .into_iter()
        .map(|l| {
            l.into_iter()
                .map(|(item, score)| Hit {
                    item,
                    score: score as f32,
                })
                .collect()
        })
        .collect()
}

const DEAD: Node = Node::MAX;

/// Items a user must not receive (e.g. already seen): `(user in batch, item) → banned`.
pub type Banned<'a> = &'a (dyn Fn(usize, u32) -> bool + Sync);

/// A bias on the logits, before the softmax: `(user in batch, trie node the
/// token leads to) → value added to that token's logit` (None: 0). This is
/// how the history-match bias reaches the search.
pub type Prior<'a> = &'a (dyn Fn(usize, Node) -> Option<f32> + Sync);

/// What a search looks for: `batch` users × `width` beams from the decoder
/// start token `start`, IDs closed by `eos`, the best `top_k` per user, scores
/// divided by `(length)^length_penalty`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search {
    pub batch: usize,
    pub width: usize,
    pub start: u32,
    pub eos: u32,
    pub length_penalty: f64,
    pub top_k: usize,
}

/// What may shape a search beyond the trie: items a user must not get, and a
/// prior added to the logits.
#[derive(Clone, Copy, Default)]
pub struct Constraints<'a> {
    pub banned: Option<Banned<'a>>,
    pub prior: Option<Prior<'a>>,
}

/// Runs the search. `model` must hold `batch × width` rows, user-major
/// (row = user·width + beam), and start from the decoder start token.
pub fn beam_search(model: &mut dyn StepModel, trie: &Trie, search: &Search) -> BeamOutput {
    beam_search_with(model, trie, search, Constraints::default())
}

/// [`beam_search`] where the last step cannot complete an item `banned` names
/// for that user (the search fills its beams with other items instead), and
/// with a [`Prior`] added to the logits of each step.
pub fn beam_search_with(
    model: &mut dyn StepModel,
    trie: &Trie,
    search: &Search,
    constraints: Constraints,
) -> BeamOutput {
    let Search {
        batch,
        width,
        start,
        eos,
        length_penalty,
        top_k,
    } = *search;
    let Constraints { banned, prior } = constraints;
    let dev = model.device();
    let n = batch * width;
    let mut node: Vec<Node> = vec![trie.root(); n];
    let mut score: Vec<f32> = (0..n)
        .map(|r| {
            if r % width == 0 {
                0.0
            } else {
                f32::NEG_INFINITY
            }
        })
        .collect();
    let mut tokens: Vec<i64> = vec![i64::from(start); n];
    for _ in 0..trie.depth() {
        let mut logits = model
            .step(&Tensor::from_slice(&tokens).to(dev))
            .to_kind(Kind::Float);
        if let Some(prior) = prior {
            let (mut rows, mut toks, mut vals) = (Vec::new(), Vec::new(), Vec::new());
            for r in 0..n {
                if node[r] == DEAD || score[r] == f32::NEG_INFINITY {
                    continue;
                }
                for (&tok, &child) in trie.allowed(node[r]).iter().zip(trie.children(node[r])) {
                    if let Some(v) = prior(r / width, child) {
                        rows.push(r as i64);
                        toks.push(i64::from(tok));
                        vals.push(v);
                    }
                }
            }
            if !rows.is_empty() {
                let ix = [
                    Some(Tensor::from_slice(&rows).to(dev)),
                    Some(Tensor::from_slice(&toks).to(dev)),
                ];
                logits = logits.index_put(&ix, &Tensor::from_slice(&vals).to(dev), true);
            }
        }
        let logp = logits.log_softmax(-1, Kind::Float);
        let c = node
            .iter()
            .map(|&nd| {
                if nd == DEAD {
                    0
                } else {
                    trie.allowed(nd).len()
                }
            })
            .max()
            .unwrap_or(0);
        if c == 0 {
            break;
        }
        let mut idx = vec![i64::from(eos); n * c];
        let mut bias = vec![f32::NEG_INFINITY; n * c];
        for r in 0..n {
            if node[r] == DEAD || score[r] == f32::NEG_INFINITY {
                continue;
            }
            let children = trie.children(node[r]);
            for (j, &tok) in trie.allowed(node[r]).iter().enumerate() {
                idx[r * c + j] = i64::from(tok);
                let blocked = banned
                    .is_some_and(|f| trie.item(children[j]).is_some_and(|it| f(r / width, it)));
                bias[r * c + j] = if blocked { f32::NEG_INFINITY } else { score[r] };
            }
        }
        let idx_t = Tensor::from_slice(&idx).view([n as i64, c as i64]).to(dev);
        let bias_t = Tensor::from_slice(&bias).view([n as i64, c as i64]).to(dev);
        let cand =
            (logp.gather(1, &idx_t, false) + bias_t).view([batch as i64, (width * c) as i64]);
        let k = width.min(width * c) as i64;
        let (vals, pos) = cand.topk(k, -1, true, true);
        let vals: Vec<f32> =
            Vec::try_from(vals.to_device(tch::Device::Cpu).flatten(0, -1)).expect("f32 values");
        let pos: Vec<i64> =
            Vec::try_from(pos.to_device(tch::Device::Cpu).flatten(0, -1)).expect("i64 positions");
        let mut src = Vec::with_capacity(n);
        let (mut new_node, mut new_score, mut new_tokens) = (
            vec![DEAD; n],
            vec![f32::NEG_INFINITY; n],
            vec![i64::from(eos); n],
        );
        for b in 0..batch {
            for w in 0..width {
                let r = b * width + w;
                let (v, p) = (
                    vals[b * k as usize + w.min(k as usize - 1)],
                    pos[b * k as usize + w.min(k as usize - 1)] as usize,
                );
                let from = b * width + p / c;
                if w >= k as usize || v == f32::NEG_INFINITY {
                    src.push((b * width) as i64);
                    continue;
                }
                let slot = p % c;
                src.push(from as i64);
                new_node[r] = trie.children(node[from])[slot];
                new_score[r] = v;
                new_tokens[r] = idx[from * c + slot];
            }
        }
        model.reorder(&Tensor::from_slice(&src).to(dev));
        node = new_node;
        score = new_score;
        tokens = new_tokens;
    }
    // Final step: every live beam is a complete item; add log p(eos).
    let logp = model
        .step(&Tensor::from_slice(&tokens).to(dev))
        .to_kind(Kind::Float)
        .log_softmax(-1, Kind::Float);
    let eos_lp: Vec<f32> =
        Vec::try_from(logp.select(1, i64::from(eos)).to_device(tch::Device::Cpu)).expect("f32");
    let denom = ((trie.depth() + 1) as f64).powf(length_penalty) as f32;
    (0..batch)
        .map(|b| {
            let mut hits: Vec<Hit> = (0..width)
                .map(|w| b * width + w)
                .filter(|&r| node[r] != DEAD && score[r].is_finite())
                .filter_map(|r| {
                    trie.item(node[r]).map(|item| Hit {
                        item,
                        score: (score[r] + eos_lp[r]) / denom,
                    })
                })
                .collect();
            hits.sort_by(|a, b| b.score.total_cmp(&a.score));
            hits.truncate(top_k);
            hits
        })
        .collect()
}

/// A greedy decode: `rows` sequences from `start`, `steps` tokens each; a row
/// stops at `eos` and is padded with `pad` after it.
#[derive(Debug, Clone, Copy)]
pub struct Greedy {
    pub rows: usize,
    pub start: u32,
    pub eos: u32,
    pub pad: u32,
    pub steps: usize,
}

/// Greedy decoding (unconstrained, or constrained by `trie` when given).
/// Returns the tokens `[rows][steps]` and the raw logits of each step.
pub fn greedy(
    model: &mut dyn StepModel,
    spec: &Greedy,
    trie: Option<&Trie>,
) -> (Vec<Vec<u32>>, Vec<Tensor>) {
    let Greedy {
        rows,
        start,
        eos,
        pad,
        steps,
    } = *spec;
    let dev = model.device();
    let mut tokens = vec![i64::from(start); rows];
    let mut out = vec![Vec::with_capacity(steps); rows];
    let mut done = vec![false; rows];
    let mut node = vec![trie.map_or(0, |t| t.root()); rows];
    let mut all_logits = Vec::new();
    for _ in 0..steps {
        let logits = model.step(&Tensor::from_slice(&tokens).to(dev));
        let logp = logits.to_kind(Kind::Float).to_device(tch::Device::Cpu);
        all_logits.push(logits);
        for r in 0..rows {
            let next = if done[r] {
                pad
            } else {
                let row = logp.get(r as i64);
                match trie {
                    None => row.argmax(0, false).int64_value(&[]) as u32,
                    Some(t) => {
                        let allowed = t.allowed(node[r]);
                        if allowed.is_empty() {
                            eos
                        } else {
                            let vals: Vec<f32> = allowed
                                .iter()
                                .map(|&a| row.double_value(&[i64::from(a)]) as f32)
                                .collect();
                            let best = (0..allowed.len())
                                .max_by(|&a, &b| vals[a].total_cmp(&vals[b]).then(b.cmp(&a)))
                                .unwrap_or(0);
                            node[r] = t.children(node[r])[best];
                            allowed[best]
                        }
                    }
                }
            };
            if next == eos {
                done[r] = true;
            }
            out[r].push(next);
            tokens[r] = i64::from(next);
        }
    }
    (out, all_logits)
}
