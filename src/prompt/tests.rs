//! Prompt layout, padding and history-match features, checked by hand.
use super::*;

fn setup() -> (Vocab, Vec<Vec<u32>>) {
    let v = Vocab::new(2, 4, 4, 10);
    let items = vec![
        v.id_tokens(&[0, 1, 0]),
        v.id_tokens(&[3, 2, 1]),
        v.id_tokens(&[1, 1, 0]),
    ];
    (v, items)
}

#[test]
fn summed_input_is_one_position_per_item() {
    let (v, items) = setup();
    let mut p = PromptConfig {
        max_history: 2,
        user_token: true,
        item_input: ItemInput::Tokens,
        match_history: 0,
        item_text: false,
    };
    let tok = generate_input(&v, &items, &p, "u1", &[0, 1, 2]);
    assert_eq!(tok.len(), 2 + 2 * 3 + 1);
    p.item_input = ItemInput::Summed;
    let sum = generate_input(&v, &items, &p, "u1", &[0, 1, 2]);
    let w = p.width(&v);
    assert_eq!(w, 3);
    let pos: Vec<&[u32]> = sum.chunks(w).collect();
    assert_eq!(pos.len(), 2 + 2 + 1);
    assert_eq!(pos[0], &[vocab::TASK_GENERATE, vocab::PAD, vocab::PAD]);
    assert_eq!(pos[1], &[v.user_token("u1"), vocab::PAD, vocab::PAD]);
    assert_eq!(pos[2], items[1].as_slice());
    assert_eq!(pos[3], items[2].as_slice());
    assert_eq!(pos[4], &[vocab::EOS, vocab::PAD, vocab::PAD]);
    // The same tokens in the same order, only grouped.
    let flat: Vec<u32> = sum.iter().copied().filter(|&t| t != vocab::PAD).collect();
    assert_eq!(flat, tok);
}

#[test]
fn the_longest_prompt_has_max_encoder_positions() {
    let (v, mut items) = setup();
    // A longer ID (a fourth digit) sets the bound.
    let mut long = v.id_tokens(&[2, 2, 2]);
    long.push(long[0]);
    items.push(long);
    for (input, user) in [
        (ItemInput::Tokens, true),
        (ItemInput::Tokens, false),
        (ItemInput::Summed, true),
    ] {
        let p = PromptConfig {
            max_history: 3,
            user_token: user,
            item_input: input,
            match_history: 0,
            item_text: false,
        };
        let w = p.width(&v);
        if w > 1 {
            // Summed input needs IDs of one length.
            items.pop();
        }
        let bound = max_encoder_positions(&v, &items, &p);
        let last = items.len() as u32 - 1;
        let longest = generate_input(&v, &items, &p, "u", &[last; 5]);
        assert_eq!(longest.len() / w, bound, "{input:?} user {user}");
        let shorter = generate_input(&v, &items, &p, "u", &[0, 1]);
        assert!(shorter.len() / w < bound);
    }
}

#[test]
fn history_matches_count_items_under_each_gold_prefix() {
    let (v, items) = setup();
    // items: [0,1,0] [3,2,1] [1,1,0] (codes, digit) as typed tokens.
    let mut items = items;
    items.push(v.id_tokens(&[0, 1, 1]));
    items.push(v.id_tokens(&[0, 3, 0]));
    let p = PromptConfig {
        max_history: 20,
        user_token: false,
        item_input: ItemInput::Tokens,
        match_history: 4,
        item_text: false,
    };
    let target = v.id_tokens(&[0, 1, 2]);
    // Item 1 falls outside the window of 4.
    let m = history_matches(&items, &p, &[1, 0, 3, 4, 3], &target);
    let tok = |lvl: usize, code: u32| v.id_token(lvl, code);
    let mut want = vec![
        (0, tok(0, 0), 4),
        (1, tok(1, 1), 3),
        (1, tok(1, 3), 1),
        (2, tok(2, 0), 1),
        (2, tok(2, 1), 2),
    ];
    let mut got = m.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    // No window, no features.
    assert!(history_matches(
        &items,
        &PromptConfig {
            match_history: 0,
            ..p
        },
        &[0, 3],
        &target
    )
    .is_empty());
}

#[test]
fn pad_encoder_masks_positions_not_tokens() {
    let (v, items) = setup();
    let p = PromptConfig {
        max_history: 5,
        user_token: false,
        item_input: ItemInput::Summed,
        match_history: 0,
        item_text: false,
    };
    let a = generate_input(&v, &items, &p, "u", &[0]);
    let b = generate_input(&v, &items, &p, "u", &[0, 1, 2]);
    let (ids, mask) = pad_encoder(&[a, b], &p, &v, Device::Cpu);
    assert_eq!(ids.size(), [2, 5, 3]);
    assert_eq!(
        Vec::<i64>::try_from(mask.view([-1])).unwrap(),
        [1, 1, 1, 0, 0, 1, 1, 1, 1, 1]
    );
    let t = PromptConfig {
        item_input: ItemInput::Tokens,
        ..p
    };
    let (ids, mask) = pad_encoder(
        &[generate_input(&v, &items, &t, "u", &[0])],
        &t,
        &v,
        Device::Cpu,
    );
    assert_eq!(ids.size(), [1, 5]);
    assert_eq!(mask.size(), [1, 5]);
}

#[test]
fn encoder_items_line_up_with_encoder_positions() {
    let (v, items) = setup();
    for (item_input, user_token) in [
        (ItemInput::Tokens, true),
        (ItemInput::Tokens, false),
        (ItemInput::Summed, true),
        (ItemInput::Summed, false),
    ] {
        let p = PromptConfig {
            max_history: 2,
            user_token,
            item_input,
            match_history: 0,
            item_text: true,
        };
        let hs: [&[u32]; 2] = [&[2], &[0, 1, 2]];
        let inputs: Vec<Vec<u32>> = hs
            .iter()
            .map(|h| generate_input(&v, &items, &p, "u", h))
            .collect();
        let (_, mask) = pad_encoder(&inputs, &p, &v, Device::Cpu);
        let it = pad_encoder_items(&v, &items, &p, hs.into_iter(), Device::Cpu).unwrap();
        assert_eq!(it.size(), mask.size());
        let it = Vec::<i64>::try_from(it.view([-1])).unwrap();
        let per_item = if item_input == ItemInput::Tokens {
            3
        } else {
            1
        };
        let lead = 1 + usize::from(user_token);
        let s = lead + 2 * per_item + 1;
        // Row 1 keeps the last two items (1 and 2), each on its positions.
        let mut want = vec![3i64; lead];
        want.extend(std::iter::repeat_n(1, per_item));
        want.extend(std::iter::repeat_n(2, per_item));
        want.push(3);
        assert_eq!(&it[s..], want.as_slice(), "{item_input:?} {user_token}");
        let mut first = vec![3i64; lead];
        first.extend(std::iter::repeat_n(2, per_item));
        first.resize(s, 3);
        assert_eq!(&it[..s], first.as_slice());
    }
    let off = PromptConfig {
        max_history: 2,
        user_token: false,
        item_input: ItemInput::Tokens,
        match_history: 0,
        item_text: false,
    };
    assert!(pad_encoder_items(&v, &items, &off, [&[0u32][..]].into_iter(), Device::Cpu).is_none());
}
