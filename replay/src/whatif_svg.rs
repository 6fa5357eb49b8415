//! `seqrec whatif --svg`: the age of the oldest unresolved batch over time under both
//! configs, each against its own danger threshold and max wait, with the span from the
//! first step whose effects differ shaded as counterfactual.

use std::fmt::Write as _;

use machine::{Event, State, UnixMillis, step};

use crate::audit::utc;
use crate::svg::{WIDTH, nice_axis};

const HEIGHT: f64 = 400.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 64.0;

/// One run's curve: per step, its clock and the oldest unresolved batch's age (`None`
/// with nothing unresolved), and its first boot's danger threshold and max wait.
pub struct Curve {
    points: Vec<(u64, Option<u64>)>,
    threshold: u64,
    max_wait: u64,
}

/// Steps `events` and reads `machine::watch` after each step.
#[must_use]
pub fn curve(events: &[Event]) -> Curve {
    let (mut state, mut points, mut limits) = (State::new(), Vec::with_capacity(events.len()), None);
    for event in events {
        state = step(state, event).0;
        let now = state.now_ms();
        if let Some(watch) = machine::watch(&state, now) {
            limits = limits.or(Some((watch.danger_threshold_blocks, watch.max_wait_blocks)));
            let oldest = watch.unresolved.iter().map(|batch| batch.age_blocks).max();
            points.push((now.0, oldest));
        }
    }
    let (threshold, max_wait) = limits.unwrap_or_default();
    Curve { points, threshold, max_wait }
}

/// The picture of both curves; `counterfactual_ms` is the clock at the first step whose
/// effects differ.
#[must_use]
pub fn render(title: &str, recorded: &Curve, what_if: &Curve, counterfactual_ms: Option<UnixMillis>) -> String {
    let times = recorded.points.iter().chain(&what_if.points).map(|(t, _)| *t);
    let (t_lo, t_hi) = times.fold((u64::MAX, 0), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let (t_lo, t_hi) = if t_lo > t_hi { (0, 1) } else { (t_lo, t_hi.max(t_lo + 1)) };
    // Both configs' limits and every age drawn fit, with a little headroom, on round ticks.
    let ages = recorded.points.iter().chain(&what_if.points).filter_map(|(_, age)| *age);
    let highest = ages.chain([recorded.max_wait, what_if.max_wait, recorded.threshold, what_if.threshold]).max();
    let highest = highest.unwrap_or(1).max(1);
    let (step, top) = nice_axis(highest.saturating_add(highest / 12));
    let top_blocks = top as f64;
    let x = |t: u64| LEFT + (WIDTH - LEFT - RIGHT) * (t - t_lo) as f64 / (t_hi - t_lo) as f64;
    let y = |blocks: u64| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - (blocks as f64 / top_blocks).min(1.0));
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="DejaVu Sans, sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{LEFT}" y="20" font-size="15">{}</text>
<text x="{LEFT}" y="38" fill="#555">age of the oldest unresolved batch (safe blocks), recorded and what-if, each against its own thresholds</text>
"##,
        title.replace('&', "&amp;").replace('<', "&lt;")
    );
    if let Some(from) = counterfactual_ms.map(|at| at.0.clamp(t_lo, t_hi)) {
        let _ = writeln!(
            svg,
            r##"<rect x="{:.1}" y="{TOP}" width="{:.1}" height="{}" fill="#f3eee2"/><text x="{:.1}" y="{}" fill="#8a7a50">counterfactual from here</text>"##,
            x(from),
            x(t_hi) - x(from),
            HEIGHT - TOP - BOTTOM,
            x(from) + 4.0,
            TOP + 14.0
        );
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{LEFT}" y1="{}" x2="{}" y2="{}" stroke="#999"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{}" stroke="#999"/>"##,
        HEIGHT - BOTTOM,
        WIDTH - RIGHT,
        HEIGHT - BOTTOM,
        HEIGHT - BOTTOM
    );
    // The vertical axis: round levels with their numbers and light grid lines.
    for level in (0..=top).step_by(usize::try_from(step).unwrap_or(usize::MAX).max(1)) {
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="#ececec"/>
<text x="{}" y="{:.1}" text-anchor="end" fill="#333">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y(level) + 4.0,
            machine::grouped(level),
            py = y(level)
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="14" y="{:.1}" fill="#333" text-anchor="middle" transform="rotate(-90 14 {:.1})">age (safe blocks)</text>"##,
        f64::midpoint(TOP, HEIGHT - BOTTOM),
        f64::midpoint(TOP, HEIGHT - BOTTOM)
    );
    // Each config's levels: a dotted line across, and a label placed where it covers
    // neither a curve nor another label (at the right end, else the left, else nudged up).
    let shown_until =
        |name: &str| if name == "what-if" { counterfactual_ms.map_or(u64::MAX, |at| at.0) } else { u64::MAX };
    // The curves as segments between consecutive points (a break where nothing is unresolved).
    let mut drawn: Vec<Segment> = Vec::new();
    for (curve, name) in [(recorded, "recorded"), (what_if, "what-if")] {
        let until = shown_until(name);
        let points = curve.points.iter().filter(|(t, _)| *t <= until).map(|(t, age)| age.map(|age| (x(*t), y(age))));
        let mut previous: Option<(f64, f64)> = None;
        for point in points {
            if let (Some(a), Some(b)) = (previous, point) {
                drawn.push((a, b));
            }
            previous = point;
        }
    }
    let mut taken: Vec<(f64, f64, f64, f64)> = Vec::new();
    if let Some(from) = counterfactual_ms.map(|at| at.0.clamp(t_lo, t_hi)) {
        taken.push((x(from), x(from) + 7.0 * 24.0, TOP, TOP + 18.0));
    }
    for (curve, color, name) in [(recorded, "#1f5fa8", "recorded"), (what_if, "#d0731a", "what-if")] {
        for (level, label) in [(curve.threshold, "danger threshold"), (curve.max_wait, "max wait")] {
            // A level both configs share is labelled once.
            let shared = [recorded.threshold, recorded.max_wait].contains(&level)
                && [what_if.threshold, what_if.max_wait].contains(&level);
            let name = match (shared, name) {
                (true, "what-if") => continue,
                (true, _) => "both:",
                (false, name) => name,
            };
            let text = format!("{name} {label} {}", machine::grouped(level));
            let _ = writeln!(
                svg,
                r#"<line x1="{LEFT}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="{color}" stroke-opacity="0.6" stroke-dasharray="2 3"/>"#,
                WIDTH - RIGHT,
                py = y(level)
            );
            let (lx, ly, anchor) = place_label(&text, y(level) - 4.0, &drawn, &mut taken);
            let _ =
                writeln!(svg, r#"<text x="{lx:.1}" y="{ly:.1}" fill="{color}" text-anchor="{anchor}">{text}</text>"#);
        }
    }
    for (curve, color, dash, name) in
        [(recorded, "#1f5fa8", "", "recorded"), (what_if, "#d0731a", r#" stroke-dasharray="7 4""#, "what-if")]
    {
        // A curve breaks where nothing is unresolved; the what-if's stops where the
        // comparison turns counterfactual (its world would have answered otherwise).
        let until = shown_until(name);
        let known: Vec<(u64, Option<u64>)> = curve.points.iter().copied().filter(|(t, _)| *t <= until).collect();
        for run in known.split(|(_, age)| age.is_none()).filter(|run| !run.is_empty()) {
            // One point per pixel: a long log draws as small a picture as a short one.
            let mut points: Vec<String> = Vec::new();
            let mut last = None;
            for (t, age) in run {
                let (px, py) = (x(*t), y(age.unwrap_or(0)));
                let pixel = (px.round(), py.round());
                if last != Some(pixel) {
                    points.push(format!("{px:.1},{py:.1}"));
                    last = Some(pixel);
                }
            }
            let _ = writeln!(
                svg,
                r#"<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{}"/>"#,
                points.join(" ")
            );
        }
    }
    for (t, anchor) in [(t_lo, "start"), (t_hi, "end")] {
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="{anchor}">{}</text>"#,
            x(t),
            HEIGHT - BOTTOM + 18.0,
            utc(UnixMillis(t))
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="{}" text-anchor="end">time (UTC)</text>
<line x1="{LEFT}" y1="{}" x2="{}" y2="{}" stroke="#1f5fa8" stroke-width="2"/><text x="{}" y="{}">recorded</text>
<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#d0731a" stroke-width="2" stroke-dasharray="7 4"/><text x="{}" y="{}">what-if</text>
</svg>"##,
        WIDTH - RIGHT,
        HEIGHT - BOTTOM + 36.0,
        HEIGHT - 14.0,
        LEFT + 24.0,
        HEIGHT - 14.0,
        LEFT + 30.0,
        HEIGHT - 10.0,
        LEFT + 110.0,
        HEIGHT - 14.0,
        LEFT + 134.0,
        HEIGHT - 14.0,
        LEFT + 140.0,
        HEIGHT - 10.0
    );
    svg
}

/// A piece of a drawn curve, from one point to the next, in pixels.
type Segment = ((f64, f64), (f64, f64));

/// Where a level's label goes: its baseline `y`, at the right end or the left, the one
/// whose box covers fewer curve points and no label already placed; nudged up a line at
/// a time while both are taken. Returns `(x, y, text-anchor)` and marks the box taken.
fn place_label(
    text: &str,
    y: f64,
    drawn: &[Segment],
    taken: &mut Vec<(f64, f64, f64, f64)>,
) -> (f64, f64, &'static str) {
    // DejaVu Sans at 12 px: about 7 px a character.
    let width = 7.0 * text.chars().count() as f64;
    let boxes = |y: f64| {
        [
            ((WIDTH - RIGHT - 4.0 - width, WIDTH - RIGHT - 4.0, y - 12.0, y + 3.0), WIDTH - RIGHT - 4.0, "end"),
            ((LEFT + 4.0, LEFT + 4.0 + width, y - 12.0, y + 3.0), LEFT + 4.0, "start"),
        ]
    };
    let overlaps =
        |a: &(f64, f64, f64, f64), b: &(f64, f64, f64, f64)| a.0 < b.1 && b.0 < a.1 && a.2 < b.3 && b.2 < a.3;
    // A segment crosses a box when their bounding boxes meet: near enough for step curves.
    let covered = |b: &(f64, f64, f64, f64)| {
        drawn
            .iter()
            .filter(|((x1, y1), (x2, y2))| overlaps(&(x1.min(*x2), x1.max(*x2), y1.min(*y2), y1.max(*y2)), b))
            .count()
    };
    let mut baseline = y;
    for _ in 0..6 {
        let free = boxes(baseline)
            .into_iter()
            .filter(|(b, _, _)| !taken.iter().any(|t| overlaps(b, t)))
            .min_by_key(|(b, _, _)| covered(b));
        if let Some((b, x, anchor)) = free {
            taken.push(b);
            return (x, baseline, anchor);
        }
        baseline -= 14.0;
    }
    let (b, x, anchor) = boxes(y)[0];
    taken.push(b);
    (x, y, anchor)
}
