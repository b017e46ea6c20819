//! Ranking. The first scorer orders a grid by the snapshot's scores; later scorers add the
//! shopper's profile, neighbour lists and session-kNN on top of the same entry points.

use crate::model::Model;

/// The new order of a product grid, as a permutation of `0..ids.len()`.
///
/// `result[k]` is the index in `ids` of the item to show at position `k`. Items are ordered by
/// descending popularity in the model; items the model does not know rank below every known item.
/// Ties keep the theme's original order, so the result is deterministic and a grid whose
/// scores are all equal is left exactly as it was.
pub fn rank_grid(ids: &[u64], model: &Model) -> Vec<usize> {
    let mut order: Vec<(usize, i16)> = ids
        .iter()
        .enumerate()
        .map(|(ix, &id)| {
            let score = model
                .ix_of(id)
                .map_or(-1, |i| i16::from(model.popularity[i as usize]));
            (ix, score)
        })
        .collect();
    // `sort_by` is stable: equal scores keep their original relative order.
    order.sort_by_key(|&(_, score)| std::cmp::Reverse(score));
    order.into_iter().map(|(ix, _)| ix).collect()
}

/// Whether `order` is the identity permutation (nothing to move).
pub fn is_identity(order: &[usize]) -> bool {
    order.iter().enumerate().all(|(k, &ix)| k == ix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ItemAttrs;

    fn snap(scores: &[(u64, u8)]) -> Model {
        let mut sorted = scores.to_vec();
        sorted.sort();
        let mut m = Model {
            items: sorted
                .iter()
                .map(|&(id, _)| ItemAttrs {
                    id,
                    available: true,
                    ..Default::default()
                })
                .collect(),
            popularity: sorted.iter().map(|&(_, s)| s).collect(),
            next: vec![Vec::new(); sorted.len()],
            ..Default::default()
        };
        m.index();
        m
    }

    #[test]
    fn orders_by_descending_score() {
        let s = snap(&[(1, 10), (2, 200), (3, 50)]);
        assert_eq!(rank_grid(&[1, 2, 3], &s), vec![1, 2, 0]);
    }

    #[test]
    fn ties_and_unknowns_keep_original_order() {
        let s = snap(&[(1, 5), (2, 5), (3, 9)]);
        assert_eq!(rank_grid(&[7, 1, 8, 2, 3], &s), vec![4, 1, 3, 0, 2]);
    }

    #[test]
    fn zero_scored_known_items_rank_above_unknown_ones() {
        let s = snap(&[(1, 0)]);
        assert_eq!(rank_grid(&[9, 1], &s), vec![1, 0]);
    }

    #[test]
    fn equal_scores_are_the_identity() {
        let s = snap(&[(1, 3), (2, 3), (3, 3)]);
        let order = rank_grid(&[3, 1, 2], &s);
        assert!(is_identity(&order));
        assert!(!is_identity(&[1, 0]));
    }

    #[test]
    fn result_is_always_a_permutation() {
        let s = snap(&[(1, 1), (2, 2)]);
        let ids = [2, 2, 1, 5, 1];
        let mut order = rank_grid(&ids, &s);
        order.sort_unstable();
        assert_eq!(order, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn empty_grid() {
        assert!(rank_grid(&[], &snap(&[])).is_empty());
    }
}
