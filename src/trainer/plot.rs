//! The run's metrics log (metrics.jsonl: cut back to a checkpoint on resume)
//! and its dependency-free SVG plot of training loss and validation metrics.
use crate::error::{IoContext, Result};
use std::fmt::Write;
use std::path::Path;

/// One panel: a title and named series of (x, y) points.
pub struct Panel<'a> {
    pub title: &'a str,
    pub series: Vec<(&'a str, Vec<(f64, f64)>)>,
}

const COLORS: [&str; 4] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e"];

/// Panels side by side, each with axes, min/max labels and a legend.
pub fn svg(panels: &[Panel]) -> String {
    let (w, h, pad) = (420.0, 300.0, 50.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="11">"#,
        w * panels.len() as f64,
        h
    );
    for (pi, p) in panels.iter().enumerate() {
        let ox = pi as f64 * w;
        let pts: Vec<(f64, f64)> = p
            .series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        let _ = write!(
            s,
            r#"<text x="{}" y="18" text-anchor="middle" font-size="13">{}</text>"#,
            ox + w / 2.0,
            p.title
        );
        if pts.is_empty() {
            continue;
        }
        let (x0, x1) = pts
            .iter()
            .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
        let (y0, y1) = pts
            .iter()
            .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
        let (x1, y1) = (
            if x1 > x0 { x1 } else { x0 + 1.0 },
            if y1 > y0 { y1 } else { y0 + 1e-9 },
        );
        let sx = |x: f64| ox + pad + (x - x0) / (x1 - x0) * (w - 1.5 * pad);
        let sy = |y: f64| h - pad + (y0 - y) / (y1 - y0) * (h - 2.0 * pad);
        let _ = write!(
            s,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="gray"/>"#,
            ox + pad,
            pad,
            w - 1.5 * pad,
            h - 2.0 * pad
        );
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{:.4}</text><text x="{}" y="{}" text-anchor="end">{:.4}</text>"#,
            ox + pad - 4.0,
            pad + 4.0,
            y1,
            ox + pad - 4.0,
            h - pad,
            y0
        );
        let _ = write!(
            s,
            r#"<text x="{}" y="{}">{:.0}</text><text x="{}" y="{}" text-anchor="end">{:.0} steps</text>"#,
            ox + pad,
            h - pad + 14.0,
            x0,
            ox + w - 0.5 * pad,
            h - pad + 14.0,
            x1
        );
        for (si, (name, v)) in p.series.iter().enumerate() {
            let c = COLORS[si % COLORS.len()];
            let path: Vec<String> = v
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
                .collect();
            let _ = write!(
                s,
                r##"<polyline fill="none" stroke="{c}" stroke-width="1.5" points="{}"/>"##,
                path.join(" ")
            );
            let _ = write!(
                s,
                r##"<text x="{}" y="{}" fill="{c}">{name}</text>"##,
                ox + pad + 6.0,
                pad + 14.0 + 13.0 * si as f64
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

/// metrics.svg from metrics.jsonl: training loss, validation Recall/NDCG@10.
pub fn write_plot(run_dir: &Path) -> Result<()> {
    let path = run_dir.join("metrics.jsonl");
    let text = std::fs::read_to_string(&path).at(&path)?;
    let (mut loss, mut ndcg, mut recall) = (Vec::new(), Vec::new(), Vec::new());
    for v in text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
    {
        let s = v["step"].as_f64().unwrap_or(0.0);
        if let Some(l) = v["loss"].as_f64() {
            loss.push((s, l));
        }
        if let Some(n) = v["valid_ndcg@10"].as_f64() {
            ndcg.push((s, n));
            recall.push((s, v["valid_recall@10"].as_f64().unwrap_or(0.0)));
        }
    }
    let svg = svg(&[
        Panel {
            title: "training loss",
            series: vec![("loss", loss)],
        },
        Panel {
            title: "validation",
            series: vec![("NDCG@10", ndcg), ("Recall@10", recall)],
        },
    ]);
    crate::util::fsx::write_atomic(&run_dir.join("metrics.svg"), svg.as_bytes())
}

/// Drops metric lines after `step` (written after the checkpoint a resume starts from).
pub(super) fn truncate_metrics(path: &Path, step: usize) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let kept: String = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v["step"].as_u64())
                .is_some_and(|s| s as usize <= step)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    crate::util::fsx::write_atomic(path, kept.as_bytes())
}
