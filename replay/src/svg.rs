//! `audit --svg`: the incident as a picture — the safe head over time, the age of the
//! oldest unresolved batch against the danger threshold and max wait, and markers for
//! exits, flushes, cascades and recovery batches. Plain SVG written by hand: a few
//! lines and text elements need no drawing library.

use std::fmt::Write as _;

use machine::drive::Driver;
use machine::{DbWrite, Decision, Effect, Event, State};

/// One sample after a step.
struct Sample {
    t_s: f64,
    safe_block: Option<u64>,
    age_blocks: Option<u64>,
}

/// A labelled moment.
struct Marker {
    t_s: f64,
    label: String,
    color: &'static str,
}

const WIDTH: f64 = 960.0;
const PANEL: f64 = 200.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const GAP: f64 = 60.0;
/// At most this many markers are drawn and explained; `seqrec audit` lists them all.
const MAX_LEGEND: usize = 24;

/// Renders the incident of `events` as an SVG document.
#[must_use]
pub fn render<'a>(title: &str, events: impl IntoIterator<Item = &'a Event>) -> String {
    let mut incident = Incident::default();
    for event in events {
        incident.push(event);
    }
    incident.render(title)
}

/// The incident's picture, collected one event at a time (a simulation feeds it as it
/// runs): only the moments the lines move and the markers are kept, not the events.
#[derive(Default)]
pub struct Incident {
    driver: Driver,
    samples: Vec<Sample>,
    markers: Vec<Marker>,
    limits: Limits,
    start_ms: Option<u64>,
}

impl std::fmt::Debug for Incident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incident").field("samples", &self.samples.len()).field("markers", &self.markers.len()).finish()
    }
}

impl Incident {
    /// Renders the picture as an SVG document.
    #[must_use]
    pub fn render(self, title: &str) -> String {
        draw(title, &self.samples, &self.markers, self.limits)
    }
}

fn draw(title: &str, samples: &[Sample], markers: &[Marker], limits: Limits) -> String {
    let t_max = samples.iter().map(|s| s.t_s).fold(1.0_f64, f64::max);
    let x = |t: f64| LEFT + (WIDTH - LEFT - RIGHT) * t / t_max;
    let heads: Vec<u64> = samples.iter().filter_map(|s| s.safe_block).collect();
    let (head_lo, head_hi) = (heads.iter().copied().min().unwrap_or(0), heads.iter().copied().max().unwrap_or(1));
    let (threshold, max_wait) = limits.unwrap_or((0, 0));
    let age_hi = samples.iter().filter_map(|s| s.age_blocks).max().unwrap_or(0).max(max_wait).max(1);
    let top1 = TOP;
    let top2 = TOP + PANEL + GAP;
    let y_head = |b: u64| top1 + PANEL - PANEL * (b - head_lo) as f64 / ((head_hi - head_lo).max(1)) as f64;
    let y_age = |a: u64| top2 + PANEL - PANEL * a as f64 / age_hi as f64;
    let shown = markers.len().min(MAX_LEGEND);
    let height = top2 + PANEL + 40.0 + 16.0 * shown as f64;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(svg, r#"<text x="{LEFT}" y="20" font-size="15" font-weight="bold">{}</text>"#, escape(title));
    for (top, label) in [(top1, "safe head (block)"), (top2, "age of oldest unresolved batch (blocks)")] {
        let _ = writeln!(
            svg,
            r##"<rect x="{LEFT}" y="{top}" width="{}" height="{PANEL}" fill="none" stroke="#999"/>"##,
            WIDTH - LEFT - RIGHT
        );
        let _ = writeln!(svg, r#"<text x="{LEFT}" y="{}">{label}</text>"#, top - 6.0);
    }
    let _ = writeln!(svg, r#"<text x="{}" y="{}" text-anchor="end">{head_hi}</text>"#, LEFT - 6.0, top1 + 12.0);
    let _ = writeln!(svg, r#"<text x="{}" y="{}" text-anchor="end">{head_lo}</text>"#, LEFT - 6.0, top1 + PANEL);
    let _ = writeln!(svg, r#"<text x="{}" y="{}" text-anchor="end">0</text>"#, LEFT - 6.0, top2 + PANEL);
    for (level, label, color) in [(threshold, "danger threshold", "#e67e22"), (max_wait, "max wait", "#c0392b")] {
        if level > 0 {
            let y = y_age(level);
            let _ = writeln!(
                svg,
                r#"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{color}" stroke-dasharray="6 4"/>"#,
                WIDTH - RIGHT
            );
            let _ = writeln!(
                svg,
                r#"<text x="{}" y="{:.1}" fill="{color}" text-anchor="end">{label} {level}</text>"#,
                WIDTH - RIGHT - 4.0,
                y - 4.0
            );
        }
    }
    polyline(&mut svg, samples.iter().filter_map(|s| s.safe_block.map(|b| (x(s.t_s), y_head(b)))), "#2c3e50");
    polyline(&mut svg, samples.iter().filter_map(|s| s.age_blocks.map(|a| (x(s.t_s), y_age(a)))), "#2980b9");
    // Markers are numbered on the chart and explained in a legend below it, so that
    // events close in time never print over each other.
    for (i, marker) in markers.iter().enumerate().take(MAX_LEGEND) {
        let mx = x(marker.t_s);
        let color = marker.color;
        let _ = writeln!(
            svg,
            r#"<line x1="{mx:.1}" y1="{top1}" x2="{mx:.1}" y2="{:.1}" stroke="{color}" stroke-width="1.5" opacity="0.8"/>"#,
            top2 + PANEL
        );
        let ty = top1 + 12.0 + 12.0 * (i % 4) as f64;
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{ty:.1}" fill="{color}" font-weight="bold">{}</text>"#,
            mx + 3.0,
            i + 1
        );
        let ly = top2 + PANEL + 34.0 + 16.0 * i as f64;
        let _ = writeln!(
            svg,
            r#"<text x="{LEFT}" y="{ly:.1}" fill="{color}">{}  t={:.0} s  {}</text>"#,
            i + 1,
            marker.t_s,
            escape(&marker.label)
        );
    }
    if markers.len() > MAX_LEGEND {
        let _ = writeln!(
            svg,
            r#"<text x="{LEFT}" y="{:.1}">… {} more markers: see `seqrec audit`</text>"#,
            height - 2.0,
            markers.len() - MAX_LEGEND
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="end">time (s) 0 .. {t_max:.0}</text>"#,
        WIDTH - RIGHT,
        top2 + PANEL + 16.0
    );
    svg.push_str("</svg>\n");
    svg
}

fn polyline(svg: &mut String, points: impl Iterator<Item = (f64, f64)>, color: &str) {
    let points: Vec<String> = points.map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    if !points.is_empty() {
        let _ =
            writeln!(svg, r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#, points.join(" "));
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

type Limits = Option<(u64, u64)>;

impl Incident {
    /// Steps `event` and keeps what the picture shows of it.
    pub fn push(&mut self, event: &Event) {
        let stepped = self.driver.step(event);
        let (state, stepped): (&State, _) = (stepped.state, stepped.step);
        let (samples, markers) = (&mut self.samples, &mut self.markers);
        let now = state.now_ms().0;
        let t_s = now.saturating_sub(*self.start_ms.get_or_insert(now)) as f64 / 1000.0;
        if let Some(config) = state.config() {
            self.limits = Some((config.danger_threshold_blocks(), config.max_wait_blocks()));
        }
        let safe_block = state.view().safe_block.map(|b| b.0);
        let frontier = state.scheduler().expected_nonce;
        let oldest = state.tree().oldest_closed_past(frontier).or_else(|| state.tree().tip());
        let age_blocks =
            safe_block.zip(oldest).map(|(head, batch)| head.saturating_sub(batch.first_frame_safe_block.0));
        // Only changes are drawn, as steps: hours of ticks collapse to the moments the
        // lines move, and a value that held still is drawn flat until it changes.
        let last = samples.last().map(|s: &Sample| (s.safe_block, s.age_blocks));
        if last != Some((safe_block, age_blocks)) {
            if let Some((held_block, held_age)) = last {
                samples.push(Sample { t_s, safe_block: held_block, age_blocks: held_age });
            }
            samples.push(Sample { t_s, safe_block, age_blocks });
        }
        let cascaded = stepped.notes.iter().any(|note| note.decision == Some(Decision::Cascade));
        for note in &stepped.notes {
            match note.decision {
                Some(Decision::Flush) => push(markers, Marker { t_s, label: "flush".into(), color: "#e67e22" }),
                Some(Decision::Cascade) => push(markers, Marker { t_s, label: "cascade".into(), color: "#8e44ad" }),
                Some(Decision::RecoverTip) => {
                    push(markers, Marker { t_s, label: "recover tip".into(), color: "#8e44ad" })
                }
                _ => {}
            }
        }
        for effect in &stepped.effects {
            match effect {
                Effect::Exit { code, .. } => {
                    push(markers, Marker { t_s, label: format!("exit {}", code.name()), color: "#c0392b" })
                }
                Effect::Db { write: DbWrite::OpenBatch { batch_index, nonce, .. }, .. } if cascaded => push(
                    markers,
                    Marker {
                        t_s,
                        label: format!("recovery batch {batch_index} (nonce {nonce}, gen {})", state.generation()),
                        color: "#27ae60",
                    },
                ),
                _ => {}
            }
        }
    }
}

/// Adds a marker unless the same one is among the last few: a flush that exits `retry`
/// and runs again each restart (a held fee cap, say) is drawn once, not once a minute.
fn push(markers: &mut Vec<Marker>, marker: Marker) {
    if !markers.iter().rev().take(4).any(|old| old.label == marker.label) {
        markers.push(marker);
    }
}
