//! A prefix trie over every item's full semantic ID, in flat arrays (CSR
//! layout: no per-node maps, no per-step scans of the ID table). From a node
//! (a valid prefix) it gives the allowed next tokens in O(1); a token step is a
//! binary search among a node's children; a leaf gives the item.
//!
//! Built once from the codebook and shared by every decoding step (TIGER's
//! constrained generation; the anti-pattern it replaces is comparing each
//! prefix against the whole ID table on every step).

/// Node index; node 0 is the root (the empty prefix).
pub type Node = u32;

#[derive(Debug, Clone)]
pub struct Trie {
    /// children of node n: `child_token[child_start[n]..child_start[n+1]]`, sorted.
    child_start: Vec<u32>,
    child_token: Vec<u32>,
    child_node: Vec<Node>,
    /// item of a leaf node, `u32::MAX` for inner nodes.
    leaf_item: Vec<u32>,
    depth: usize,
    n_items: usize,
}

const NONE: u32 = u32::MAX;

impl Trie {
    /// Builds the trie from `(item, token sequence)` pairs; every sequence must
    /// have the same length and be unique. Returns the offending item on error.
    pub fn build<'a>(ids: impl IntoIterator<Item = (u32, &'a [u32])>) -> Result<Self, String> {
        let mut seqs: Vec<(&[u32], u32)> = ids.into_iter().map(|(i, s)| (s, i)).collect();
        let depth = seqs.first().map_or(0, |s| s.0.len());
        if let Some((s, i)) = seqs.iter().find(|(s, _)| s.len() != depth) {
            return Err(format!(
                "item {i} has an ID of length {}, expected {depth}",
                s.len()
            ));
        }
        seqs.sort();
        if let Some(w) = seqs.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(format!(
                "items {} and {} share the ID {:?}",
                w[0].1, w[1].1, w[0].0
            ));
        }
        // Level-by-level construction over the sorted sequences: nodes of one
        // level are contiguous, so their children are contiguous too.
        let mut child_start = vec![0u32];
        let mut child_token = Vec::new();
        let mut child_node = Vec::new();
        let mut leaf_item = vec![NONE];
        // Each frontier entry: (node, range of seqs under it).
        let mut frontier: Vec<(Node, std::ops::Range<usize>)> = vec![(0, 0..seqs.len())];
        let mut next_node: u32 = 1;
        for level in 0..depth {
            let mut next = Vec::new();
            for (_node, range) in &frontier {
                let mut i = range.start;
                while i < range.end {
                    let tok = seqs[i].0[level];
                    let mut j = i;
                    while j < range.end && seqs[j].0[level] == tok {
                        j += 1;
                    }
                    child_token.push(tok);
                    child_node.push(next_node);
                    leaf_item.push(if level + 1 == depth { seqs[i].1 } else { NONE });
                    next.push((next_node, i..j));
                    next_node += 1;
                    i = j;
                }
                child_start.push(child_token.len() as u32);
            }
            frontier = next;
        }
        // Leaves have no children.
        for _ in &frontier {
            child_start.push(child_token.len() as u32);
        }
        debug_assert_eq!(child_start.len(), next_node as usize + 1);
        Ok(Self {
            child_start,
            child_token,
            child_node,
            leaf_item,
            depth,
            n_items: seqs.len(),
        })
    }

    pub fn root(&self) -> Node {
        0
    }
    /// Length of every full ID.
    pub fn depth(&self) -> usize {
        self.depth
    }
    pub fn n_items(&self) -> usize {
        self.n_items
    }
    pub fn n_nodes(&self) -> usize {
        self.leaf_item.len()
    }

    /// Allowed next tokens after the prefix `node` (sorted; empty at a leaf).
    pub fn allowed(&self, node: Node) -> &[u32] {
        let (a, b) = (
            self.child_start[node as usize] as usize,
            self.child_start[node as usize + 1] as usize,
        );
        &self.child_token[a..b]
    }

    /// The nodes matching [`allowed`](Self::allowed), position for position.
    pub fn children(&self, node: Node) -> &[Node] {
        let (a, b) = (
            self.child_start[node as usize] as usize,
            self.child_start[node as usize + 1] as usize,
        );
        &self.child_node[a..b]
    }

    /// Extends a prefix by one token, if that stays a prefix of some item.
    pub fn step(&self, node: Node, token: u32) -> Option<Node> {
        let toks = self.allowed(node);
        toks.binary_search(&token)
            .ok()
            .map(|i| self.children(node)[i])
    }

    /// The item at a leaf node.
    pub fn item(&self, node: Node) -> Option<u32> {
        let v = self.leaf_item[node as usize];
        (v != NONE).then_some(v)
    }

    /// Node of a prefix, if it is a prefix of some item.
    pub fn walk(&self, prefix: &[u32]) -> Option<Node> {
        prefix.iter().try_fold(self.root(), |n, &t| self.step(n, t))
    }

    /// The item whose full ID is `id`, if any.
    pub fn lookup(&self, id: &[u32]) -> Option<u32> {
        if id.len() != self.depth {
            return None;
        }
        self.walk(id).and_then(|n| self.item(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_found_and_non_items_rejected() {
        let ids: Vec<Vec<u32>> = vec![
            vec![8, 19, 38],
            vec![11, 19, 35],
            vec![11, 19, 47],
            vec![12, 20, 33],
            vec![14, 25, 34],
        ];
        let t = Trie::build(
            ids.iter()
                .enumerate()
                .map(|(i, s)| (i as u32 * 10, s.as_slice())),
        )
        .unwrap();
        for (i, s) in ids.iter().enumerate() {
            assert_eq!(t.lookup(s), Some(i as u32 * 10));
        }
        assert_eq!(t.lookup(&[11, 19, 36]), None);
        assert_eq!(t.lookup(&[11, 19]), None, "a prefix is not an item");
        assert_eq!(t.lookup(&[11, 19, 35, 1]), None);
        assert_eq!(t.allowed(t.root()), &[8, 11, 12, 14]);
        assert_eq!(t.allowed(t.walk(&[11]).unwrap()), &[19]);
        assert_eq!(t.allowed(t.walk(&[11, 19]).unwrap()), &[35, 47]);
        assert!(t.allowed(t.walk(&[11, 19, 35]).unwrap()).is_empty());
        assert_eq!(t.walk(&[9]), None);
        assert_eq!(t.n_nodes(), 1 + 4 + 4 + 5);
    }

    #[test]
    fn duplicates_and_ragged_ids_are_errors() {
        let a = [1u32, 2];
        let b = [1u32, 2];
        assert!(Trie::build([(0, &a[..]), (1, &b[..])])
            .unwrap_err()
            .contains("share"));
        let c = [1u32];
        assert!(Trie::build([(0, &a[..]), (1, &c[..])]).is_err());
    }
}
