//! The Markdown table `evaluate` prints and writes: one row per method with
//! its intervals, then every paired difference.
use super::{MethodResult, Paired};

/// A Markdown table of results (metric means with their 95 % intervals).
pub fn markdown_table(results: &[MethodResult]) -> String {
    let cols = ["recall@5", "ndcg@5", "recall@10", "ndcg@10", "mrr"];
    let mut s = String::from("| method | users | Recall@5 | NDCG@5 | Recall@10 | NDCG@10 | MRR | coverage@10 | pop. bias@10 | users/s |\n");
    s.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for r in results {
        s.push_str(&format!("| {} | {} |", r.method, r.users));
        for c in cols {
            let e = r.metrics[c];
            s.push_str(&format!(" {:.4} [{:.4}, {:.4}] |", e.mean, e.lo, e.hi));
        }
        let ups = if r.users_per_second.is_finite() {
            format!("{:.1}", r.users_per_second)
        } else {
            "–".into()
        };
        s.push_str(&format!(
            " {:.3} | {:.2} | {} |\n",
            r.coverage_at_10, r.popularity_bias_at_10, ups
        ));
    }
    let paired: Vec<(&str, &Paired)> = results
        .iter()
        .flat_map(|r| r.paired.iter().map(move |p| (r.method.as_str(), p)))
        .collect();
    if !paired.is_empty() {
        s.push_str("\nPaired differences over the same users (method − reference), bootstrap 95 % intervals:\n\n");
        s.push_str("| method | reference | ΔRecall@10 | ΔNDCG@10 | ΔMRR |\n| --- | --- | ---: | ---: | ---: |\n");
        for (m, p) in paired {
            s.push_str(&format!("| {m} | {} |", p.reference));
            for c in ["recall@10", "ndcg@10", "mrr"] {
                let e = p.difference[c];
                s.push_str(&format!(" {:+.4} [{:+.4}, {:+.4}] |", e.mean, e.lo, e.hi));
            }
            s.push('\n');
        }
    }
    s
}
