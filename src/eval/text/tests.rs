//! Tests of `eval::text`.
use super::*;

#[test]
fn neighbours_leave_out_the_query_and_an_empty_history_gets_none() {
    // Items 0 and 1 point one way, 2 the other.
    let emb = vec![1.0, 0.0, 0.8, 0.6, 0.0, 1.0];
    let mut nn = TextNeighbours::new(emb, 2).unwrap();
    let h: Vec<&[u32]> = vec![&[], &[0], &[0, 2]];
    let got = nn.search(&h, TextQuery::LAST, 2, 0, |_, _| true).unwrap();
    assert_eq!(got[0], Vec::<u32>::new());
    assert_eq!(got[1], vec![1, 2]);
    assert_eq!(got[2], vec![1, 0], "the last item (2) is the query");
    let kept = nn.search(&h, TextQuery::LAST, 2, 0, |_, i| i != 1).unwrap();
    assert_eq!(kept[1], vec![2]);
    // A bias of 1 on item 2: its 0 + 1 beats item 1's 0.8 + 0.
    let mut b = nn.with_bias(&[0.0, 0.0, 1.0]).unwrap();
    let got = b.search(&h, TextQuery::LAST, 2, 0, |_, _| true).unwrap();
    assert_eq!(got[1], vec![2, 1]);
}

#[test]
fn neighbours_over_other_embeddings_answer_for_the_same_file() {
    let mut nn = TextNeighbours::new(vec![1.0, 0.0, 0.8, 0.6, 0.0, 1.0], 2).unwrap();
    nn.sha256 = "file".into();
    // Item 1 moved next to item 2: item 0's nearest is now 2.
    let mut other = nn
        .with_embeddings(vec![1.0, 0.0, 0.0, 1.0, 0.6, 0.8])
        .unwrap();
    assert_eq!(other.sha256(), "file");
    let h: Vec<&[u32]> = vec![&[0]];
    let got = other
        .search(&h, TextQuery::LAST, 2, 0, |_, _| true)
        .unwrap();
    assert_eq!(got[0], vec![2, 1]);
    assert_eq!(other.embeddings().0[2..4], [0.0, 1.0]);
}
