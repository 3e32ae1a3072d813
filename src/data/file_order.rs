//! A check on interactions read without times (no time field: each user's
//! lines in the file's order): where most users' items ascend by id, the
//! file is likely sorted by item rather than by time (Book-Crossing's
//! ratings are sorted by user, then ISBN), and the leave-one-out split would
//! hold out each user's largest ids — an order no recommender can learn
//! from. The user is told; the order is kept, as it may be the true one
//! (ids given out over time).
use std::path::Path;

/// Users need this many items for their order to count (4 distinct items
/// ascend by chance once in 24).
const MIN_ITEMS: usize = 4;
/// And this many such users.
const MIN_USERS: usize = 20;

/// How many users of at least [`MIN_ITEMS`] items have them in ascending id
/// order, of how many such users.
pub fn ascending_users<'a, S, I>(sequences: S) -> (usize, usize)
where
    S: Iterator<Item = I>,
    I: Iterator<Item = &'a str>,
{
    let mut counted = (0, 0);
    for seq in sequences {
        let ids: Vec<&str> = seq.collect();
        if ids.len() >= MIN_ITEMS {
            counted.1 += 1;
            counted.0 += usize::from(ascends(&ids));
        }
    }
    counted
}

/// Whether the ids ascend as text (`034`, `0440`, `05`: ISBNs) or, where
/// all are numbers, as numbers (`9`, `10`).
fn ascends(ids: &[&str]) -> bool {
    let up = |w: &[&str]| w[0] <= w[1];
    let numbers: Option<Vec<u64>> = ids.iter().map(|i| i.parse().ok()).collect();
    ids.windows(2).all(up) || numbers.is_some_and(|n| n.windows(2).all(|w| w[0] <= w[1]))
}

/// Whether the counts from [`ascending_users`] say the file is sorted by
/// item: at least half of enough users.
pub fn looks_sorted((ascending, users): (usize, usize)) -> bool {
    users >= MIN_USERS && 2 * ascending >= users
}

/// Tells the user when the file [`looks_sorted`] by item (`counted` from
/// [`ascending_users`]) though it was read without times.
pub fn warn_if_sorted_by_item(path: &Path, counted: (usize, usize)) {
    let (ascending, users) = counted;
    if looks_sorted(counted) {
        crate::tell!(
            "note: {}: no time field, and {ascending} of the {users} users with {MIN_ITEMS} or more \
             items have them in ascending id order: the file looks sorted by item, not by time, \
             so each user's held-out items would be their largest ids. If the export has a time \
             column, name it with --time-field; if this is the order of time, ignore this.",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn count(seqs: &[&[&str]]) -> (usize, usize) {
        ascending_users(seqs.iter().map(|s| s.iter().copied()))
    }
    #[test]
    fn ascending_ids_are_counted_numbers_as_numbers() {
        assert_eq!(
            count(&[
                &["9", "10", "11", "200"],
                &["b", "a", "c", "d"],
                &["a", "b"]
            ]),
            (1, 2)
        );
        assert_eq!(count(&[&["034", "0440", "05", "X1"]]), (1, 1));
        assert_eq!(count(&[&["10", "9", "11", "12"]]), (0, 1));
        // (Not the warning itself: unit tests share the log it goes to.)
        assert!(looks_sorted((10, 20)));
        assert!(!looks_sorted((9, 20)));
        assert!(!looks_sorted((19, 19)), "too few users to tell");
    }
}
