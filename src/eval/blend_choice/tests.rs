//! The blend's choice on validation, checked on lists built to make each
//! gate pass or fail.
use super::*;
use crate::progress::Silent;

fn held(targets: &[u32]) -> Vec<HeldOut> {
    targets
        .iter()
        .enumerate()
        .map(|(u, &t)| HeldOut {
            user: u.to_string(),
            history: vec![100],
            target: t,
        })
        .collect()
}

/// `l` as it is and, as the lists with the user's own items left out,
/// the same without the history (the tests' lists hold no own item
/// that matters).
fn choose(targets: &[u32], l: &BlendLists, reranked: &[Vec<u32>]) -> BlendChoice {
    let none: Vec<Vec<u32>> = vec![Vec::new(); targets.len()];
    let unseen = BlendLists {
        history: &none,
        ..*l
    };
    BlendChoice::choose(&held(targets), [l, &unseen], reranked, "sha", &Silent)
}

#[test]
fn a_source_that_finds_the_targets_is_blended_in_and_noise_is_not() {
    let n = 300u32;
    // The generator and the text find nothing; the verifier ranks every
    // user's target second; the reranked lists miss it.
    let targets: Vec<u32> = (0..n).map(|u| 1000 + u).collect();
    let miss: Vec<Vec<u32>> = (0..n).map(|u| vec![u, u + 1, u + 2]).collect();
    let finds: Vec<Vec<u32>> = (0..n).map(|u| vec![u + 5, 1000 + u]).collect();
    let lists = |own: &'static str| -> BlendChoice {
        let pick = |name: &str| if name == own { &finds } else { &miss };
        let texts = [pick("text").as_slice(); 4];
        let l = BlendLists {
            beams: &miss,
            texts: &texts,
            own: pick("own"),
            next: pick("next"),
            history: pick("history"),
        };
        choose(&targets, &l, &miss)
    };
    let c = lists("own");
    assert!(c.used, "{}", c.describe());
    assert!(c.blend.weights[2] > 0.0);
    assert!(c.valid_gain.lo > 0.0);
    // The same from the transitions.
    let t = lists("next");
    assert!(t.used && t.blend.weights[3] > 0.0, "{}", t.describe());
    // The same from the user's own items, with its gain over the best
    // setting without them.
    let h = lists("history");
    assert!(h.used && h.blend.weights[4] > 0.0, "{}", h.describe());
    assert!(h.history_gain.unwrap().lo > 0.0);
    assert!(h.describe().contains("→ weighted"), "{}", h.describe());
    // When no source beats the reranking, the reranking stays.
    let none = lists("nothing");
    // A nudged text list that finds the targets is chosen with its nudge.
    let texts = [miss.as_slice(), &miss, &finds, &miss];
    let l = BlendLists {
        beams: &miss,
        texts: &texts,
        own: &miss,
        next: &miss,
        history: &miss,
    };
    let n = choose(&targets, &l, &miss);
    assert!(n.used && n.blend.weights[1] > 0.0, "{}", n.describe());
    assert_eq!(n.blend.text_nudge, TEXT_NUDGES[2]);
    assert!(
        n.describe().contains("cos + 0.04·ln(1 + count)"),
        "{}",
        n.describe()
    );
    assert!(n.nudge_gain.unwrap().1.lo > 0.0);
    // One that finds two users' targets is better on average, not
    // surely: the best setting by the cosine alone stays.
    let few: Vec<Vec<u32>> = (0..finds.len())
        .map(|u| {
            if u < 2 {
                finds[u].clone()
            } else {
                miss[u].clone()
            }
        })
        .collect();
    let texts = [miss.as_slice(), &miss, &few, &miss];
    let c = choose(&targets, &BlendLists { texts: &texts, ..l }, &miss);
    let (beta, g) = c.nudge_gain.expect("the best setting was nudged");
    assert!(
        beta > 0.0 && g.mean > 0.0 && g.lo <= 0.0,
        "{}",
        c.describe()
    );
    assert_eq!(c.blend.text_nudge, 0.0);
    assert!(c.describe().contains("→ the cosine"), "{}", c.describe());
    // So with the history: two users' targets found again are not
    // enough to weight it.
    let c = choose(
        &targets,
        &BlendLists {
            history: &few,
            texts: &[miss.as_slice(); 4],
            ..l
        },
        &miss,
    );
    let g = c
        .history_gain
        .expect("the best setting weighted the history");
    assert!(g.mean > 0.0 && g.lo <= 0.0, "{}", c.describe());
    assert_eq!(c.blend.weights[4], 0.0);
    assert!(c.describe().contains("→ left out"), "{}", c.describe());
    assert!(!none.used, "{}", none.describe());
    assert_eq!(none.valid_gain.mean, 0.0);
}

#[test]
fn the_users_own_items_are_left_out_only_where_that_finds_more_targets() {
    let n = 300u32;
    // Every source ranks the user's own item (100) first and the
    // target eleventh, out of the top 10; without the own item the
    // target is tenth.
    let targets: Vec<u32> = (0..n).map(|u| 1000 + u).collect();
    let filler = |u: u32| (0..9).map(move |j| 2000 + 10 * u + j);
    let with: Vec<Vec<u32>> = (0..n)
        .map(|u| {
            [100]
                .into_iter()
                .chain(filler(u))
                .chain([1000 + u])
                .collect()
        })
        .collect();
    let without: Vec<Vec<u32>> = with.iter().map(|l| l[1..].to_vec()).collect();
    let own: Vec<Vec<u32>> = vec![vec![100]; n as usize];
    let none: Vec<Vec<u32>> = vec![Vec::new(); n as usize];
    let kept = BlendLists {
        beams: &with,
        texts: &[with.as_slice(); 4],
        own: &with,
        next: &with,
        history: &own,
    };
    let left_out = BlendLists {
        beams: &without,
        texts: &[without.as_slice(); 4],
        own: &without,
        next: &without,
        history: &none,
    };
    let c = BlendChoice::choose(&held(&targets), [&kept, &left_out], &with, "sha", &Silent);
    assert!(c.blend.unseen_only && c.used, "{}", c.describe());
    let g = c.unseen_gain.expect("the best setting left them out");
    assert!(g.lo > 0.0, "{}", c.describe());
    assert!(c.describe().contains("→ left out"), "{}", c.describe());
    assert!(c
        .blend
        .describe()
        .ends_with("the user's own items left out"));
    // Where the two are the same, the own items stay (ties keep the
    // earlier setting).
    let same = BlendChoice::choose(&held(&targets), [&kept, &kept], &with, "sha", &Silent);
    assert!(!same.blend.unseen_only && same.unseen_gain.is_none());
    // Where leaving them out helps two users only, they stay.
    let few: Vec<Vec<u32>> = (0..n as usize)
        .map(|u| {
            if u < 2 {
                without[u].clone()
            } else {
                with[u].clone()
            }
        })
        .collect();
    let two = BlendLists {
        beams: &few,
        texts: &[few.as_slice(); 4],
        own: &few,
        next: &few,
        history: &none,
    };
    let c = BlendChoice::choose(&held(&targets), [&kept, &two], &with, "sha", &Silent);
    let g = c.unseen_gain.expect("the best setting left them out");
    assert!(g.mean > 0.0 && g.lo <= 0.0, "{}", c.describe());
    assert!(!c.blend.unseen_only);
    assert!(c.describe().contains("→ kept"), "{}", c.describe());
}

#[test]
fn the_cross_fitted_fusion_ranks_each_half_by_the_setting_chosen_on_the_other() {
    // Users 0–19 find their target first in the generator's beams, users
    // 20–39 first in the text neighbours; the halves split them so.
    let targets: Vec<u32> = (0..40).map(|u| 1000 + u).collect();
    let beams: Vec<Vec<u32>> = (0..40)
        .map(|u| {
            if u < 20 {
                vec![1000 + u, 1]
            } else {
                vec![2, 3]
            }
        })
        .collect();
    let text: Vec<Vec<u32>> = (0..40)
        .map(|u| {
            if u < 20 {
                vec![4, 5]
            } else {
                vec![1000 + u, 6]
            }
        })
        .collect();
    let none: Vec<Vec<u32>> = vec![Vec::new(); 40];
    let texts = [text.as_slice(); 4];
    let l = BlendLists {
        beams: &beams,
        texts: &texts,
        own: &none,
        next: &none,
        history: &none,
    };
    let c = choose(&targets, &l, &none);
    let pooled = Pooled::new(&[&beams, &text, &none, &none, &none]);
    let halves = [(0..20).collect(), (20..40).collect()];
    let crossed = c.cross_fitted(&pooled, &targets, &halves);
    // The first half ranked by the text's setting, the second by the beams'.
    for u in 0..40 {
        let first = if u < 20 { text[u][0] } else { beams[u][0] };
        assert_eq!(crossed[u][0], first, "user {u}: {:?}", crossed[u]);
        assert!(!crossed[u].is_empty() && crossed[u].len() <= 10);
    }
    // Halves that mix both kinds of users choose a setting for both.
    let mixed = [(0..40).step_by(2).collect(), (1..40).step_by(2).collect()];
    let found = c
        .cross_fitted(&pooled, &targets, &mixed)
        .iter()
        .zip(&targets)
        .filter(|(l, t)| l[0] == **t)
        .count();
    assert!(found >= 20, "{found} of 40 first");
}

#[test]
fn the_card_keeps_the_beams_and_the_other_sources_depths_apart() {
    let n = 40u32;
    let targets: Vec<u32> = (0..n).map(|u| 1000 + u).collect();
    // Three beams a user; five items from every other source.
    let beams: Vec<Vec<u32>> = (0..n).map(|u| vec![u, u + 1, u + 2]).collect();
    let five: Vec<Vec<u32>> = (0..n)
        .map(|u| (0..5).map(|i| 500 + u + i).collect())
        .collect();
    let texts = [five.as_slice(); 4];
    let l = BlendLists {
        beams: &beams,
        texts: &texts,
        own: &five,
        next: &five,
        history: &five,
    };
    let c = choose(&targets, &l, &beams);
    assert_eq!((c.beams, c.depth, c.beam_depth()), (Some(3), 5, 3));
    // A card written before the two were apart read every source as deep.
    let mut old = serde_json::to_value(&c).unwrap();
    old.as_object_mut().unwrap().remove("beams");
    let old: BlendChoice = serde_json::from_value(old).unwrap();
    assert_eq!((old.beams, old.beam_depth()), (None, 5));
}
