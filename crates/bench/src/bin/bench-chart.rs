//! `bench-chart`: turns criterion's results into the tables and the chart of BENCHMARKS.md.
//!
//! ```text
//! bench-chart CRITERION_DIR SVG_OUT > tables.md
//! ```
//!
//! Reads every `*/new/benchmark.json` + `estimates.json` under `CRITERION_DIR` (criterion's
//! output, `target/criterion`), prints Markdown tables of the medians with their ratios, and
//! writes an SVG chart of nanoseconds per byte against body size for the Standard Webhooks
//! comparison (floor, bookhook, svix, standardwebhooks).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

/// Median time in ns, by group, then function, then body size.
type Results = BTreeMap<String, BTreeMap<String, BTreeMap<u64, f64>>>;

fn collect(dir: &Path, results: &mut Results) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "new") {
                read_one(&path, results);
            } else {
                collect(&path, results)?;
            }
        }
    }
    Ok(())
}

fn read_one(new: &Path, results: &mut Results) {
    let read = |name: &str| -> Option<Value> {
        serde_json::from_slice(&std::fs::read(new.join(name)).ok()?).ok()
    };
    let (Some(bench), Some(estimates)) = (read("benchmark.json"), read("estimates.json")) else {
        return;
    };
    let median = estimates["median"]["point_estimate"].as_f64();
    let group = bench["group_id"].as_str();
    let (function, size) = match (bench["function_id"].as_str(), bench["value_str"].as_str()) {
        (Some(f), Some(v)) => (f, v.parse().unwrap_or(0)),
        (Some(f), None) => (f, 0),
        (None, _) => match group.and_then(|g| g.rsplit_once('/')) {
            Some((_, f)) => (f, 0),
            None => return,
        },
    };
    if let (Some(group), Some(median)) = (group, median) {
        let group = group.to_owned();
        let entry = results.entry(group).or_default();
        entry
            .entry(function.to_owned())
            .or_default()
            .insert(size, median);
    }
}

fn ns(t: f64) -> String {
    if t >= 10_000.0 {
        format!("{:.1} µs", t / 1000.0)
    } else if t >= 1000.0 {
        format!("{:.2} µs", t / 1000.0)
    } else {
        format!("{t:.0} ns")
    }
}

fn size_name(size: u64) -> String {
    if size >= 1024 {
        format!("{} KiB", size / 1024)
    } else {
        format!("{size} B")
    }
}

fn peers_table(group: &BTreeMap<String, BTreeMap<u64, f64>>, out: &mut String) {
    let get = |f: &str, s: u64| group.get(f).and_then(|m| m.get(&s)).copied();
    let _ = writeln!(
        out,
        "| body | floor | bookhook | bookhook ÷ floor | 3 secrets | 3 secrets ÷ floor | svix | svix ÷ bookhook | standardwebhooks | standardwebhooks ÷ bookhook |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    let sizes = group
        .get("floor")
        .map(|m| m.keys().copied().collect::<Vec<_>>())
        .unwrap_or_default();
    for s in sizes {
        let (Some(floor), Some(bh)) = (get("floor", s), get("bookhook", s)) else {
            continue;
        };
        let cell = |f: &str, base: f64| {
            get(f, s).map_or(("—".to_owned(), "—".to_owned()), |t| {
                (ns(t), format!("{:.2}×", t / base))
            })
        };
        let (three, three_ratio) = cell("bookhook-3-secrets", floor);
        let (svix, svix_ratio) = cell("svix", bh);
        let (sw, sw_ratio) = cell("standardwebhooks", bh);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.2}× | {three} | {three_ratio} | {svix} | {svix_ratio} | {sw} | {sw_ratio} |",
            size_name(s),
            ns(floor),
            ns(bh),
            bh / floor,
        );
    }
}

fn schemes_table(results: &Results, out: &mut String) {
    let _ = writeln!(out, "| scheme | 256 B | 1 KiB | 16 KiB | 256 KiB |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for (name, group) in results.iter().filter(|(g, _)| g.starts_with("verify/")) {
        let (Some(floor), Some(bh)) = (group.get("floor"), group.get("bookhook")) else {
            continue;
        };
        let mut row = format!("| {} |", name.trim_start_matches("verify/"));
        for size in [256, 1024, 16 * 1024, 256 * 1024] {
            match (bh.get(&size), floor.get(&size)) {
                (Some(b), Some(f)) => {
                    let _ = write!(row, " {} / {} = **{:.2}×** |", ns(*b), ns(*f), b / f);
                }
                _ => row.push_str(" — |"),
            }
        }
        let _ = writeln!(out, "{row}");
    }
}

/// A log-log chart of ns per byte against body size, one line per function.
fn chart(group: &BTreeMap<String, BTreeMap<u64, f64>>) -> String {
    const ORDER: [(&str, &str); 5] = [
        ("standardwebhooks", "#d62728"),
        ("svix", "#ff7f0e"),
        ("bookhook-3-secrets", "#9467bd"),
        ("bookhook", "#1f77b4"),
        ("floor", "#2ca02c"),
    ];
    let (w, h, left, right, top, bottom) = (760.0, 440.0, 70.0, 190.0, 40.0, 50.0);
    let points: Vec<(u64, f64)> = group
        .values()
        .flat_map(|m| m.iter().map(|(s, t)| (*s, t / *s as f64)))
        .filter(|(s, _)| *s > 0)
        .collect();
    if points.is_empty() {
        return String::new();
    }
    let (xmin, xmax) = points.iter().fold((f64::MAX, f64::MIN), |(a, b), (s, _)| {
        (a.min(*s as f64), b.max(*s as f64))
    });
    let (ymin, ymax) = points.iter().fold((f64::MAX, f64::MIN), |(a, b), (_, v)| {
        (a.min(*v), b.max(*v))
    });
    let (ylo, yhi) = (ymin.log10().floor(), ymax.log10().ceil());
    let x = |s: f64| {
        left + (s.log10() - xmin.log10()) / (xmax.log10() - xmin.log10()) * (w - left - right)
    };
    let y = |v: f64| top + (yhi - v.log10()) / (yhi - ylo) * (h - top - bottom);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">
<rect width="{w}" height="{h}" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="14">Standard Webhooks verify: ns per body byte (log-log, lower is better)</text>
"#,
        (w - right + left) / 2.0
    );
    let mut decade = ylo;
    while decade <= yhi {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f64.powf(decade);
            if v.log10() > yhi + 1e-9 {
                continue;
            }
            let _ = writeln!(
                svg,
                r##"<line x1="{left}" x2="{x2}" y1="{gy:.1}" y2="{gy:.1}" stroke="#ddd"/><text x="{tx}" y="{ty:.1}" text-anchor="end">{v}</text>"##,
                x2 = w - right,
                gy = y(v),
                tx = left - 6.0,
                ty = y(v) + 4.0
            );
        }
        decade += 1.0;
    }
    let sizes: Vec<u64> = group
        .get("floor")
        .map(|m| m.keys().copied().collect())
        .unwrap_or_default();
    for s in &sizes {
        let sx = x(*s as f64);
        let _ = writeln!(
            svg,
            r##"<line x1="{sx:.1}" x2="{sx:.1}" y1="{top}" y2="{}" stroke="#ddd"/><text x="{sx:.1}" y="{}" text-anchor="middle">{}</text>"##,
            h - bottom,
            h - bottom + 18.0,
            size_name(*s)
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">body size</text><text x="18" y="{}" transform="rotate(-90 18 {})" text-anchor="middle">ns per byte</text>"#,
        (w - right + left) / 2.0,
        h - 10.0,
        (h - bottom + top) / 2.0,
        (h - bottom + top) / 2.0
    );
    for (i, (name, color)) in ORDER.iter().enumerate() {
        let Some(series) = group.get(*name) else {
            continue;
        };
        let coords: Vec<String> = series
            .iter()
            .map(|(s, t)| format!("{:.1},{:.1}", x(*s as f64), y(t / *s as f64)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            coords.join(" ")
        );
        for c in &coords {
            let (cx, cy) = c.split_once(',').unwrap_or_default();
            let _ = writeln!(svg, r#"<circle cx="{cx}" cy="{cy}" r="3" fill="{color}"/>"#);
        }
        let ly = top + 20.0 + i as f64 * 22.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{}" x2="{}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="3"/><text x="{}" y="{}">{name}</text>"#,
            w - right + 15.0,
            w - right + 40.0,
            w - right + 46.0,
            ly + 4.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(svg_out)) = (args.next(), args.next()) else {
        eprintln!("usage: bench-chart CRITERION_DIR SVG_OUT > tables.md");
        return std::process::ExitCode::from(2);
    };
    let mut results = Results::new();
    if let Err(e) = collect(Path::new(&dir), &mut results) {
        eprintln!("{dir}: {e}");
        return std::process::ExitCode::FAILURE;
    }
    let mut out = String::new();
    if let Some(group) = results.get("standard-webhooks") {
        out.push_str("### Standard Webhooks: bookhook, floor and peers (medians, one run)\n\n");
        peers_table(group, &mut out);
        if let Err(e) = std::fs::write(&svg_out, chart(group)) {
            eprintln!("{svg_out}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    out.push_str("\n### Every scheme: bookhook / floor (medians, one run)\n\n");
    schemes_table(&results, &mut out);
    // Benchmarks without a body size (Slotflow's URL token).
    for (group, functions) in &results {
        for (function, times) in functions {
            if let Some(t) = times.get(&0) {
                let name = if group.ends_with(function.as_str()) {
                    group.clone()
                } else {
                    format!("{group}/{function}")
                };
                let _ = writeln!(out, "\n{name}: {} (median)", ns(*t));
            }
        }
    }
    print!("{out}");
    std::process::ExitCode::SUCCESS
}
