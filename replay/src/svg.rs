//! `audit --svg`: the incident as a picture on a UTC time axis — the safe head, the age of
//! the oldest unresolved batch against each boot's danger threshold and max wait, the fee
//! market (base fee observed, the bids we signed, the bids held over the cap, each boot's
//! fee cap), process downtime shaded, and markers for exits (clean shutdowns apart from
//! the others), flushes, cascades, recovery batches and an operator's pause and resume,
//! with a legend. Plain SVG written by hand: a few lines, rectangles and text elements
//! need no drawing library.

use std::fmt::Write as _;

use machine::drive::Driver;
use machine::{Config, DbWrite, Decision, Effect, Event, ExitCode, State, Wei, Why};

/// The picture's width in pixels.
pub const WIDTH: f64 = 960.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 56.0;
const PANEL: f64 = 170.0;
const FEE_PANEL: f64 = 150.0;
const GAP: f64 = 44.0;
/// At most this many markers are drawn and explained; `seqrec audit` lists them all.
const MAX_LEGEND: usize = 24;

const SAFE_HEAD: &str = "#2c3e50";
const AGE: &str = "#2980b9";
const THRESHOLD: &str = "#e67e22";
const MAX_WAIT: &str = "#c0392b";
const BASE_FEE: &str = "#16a085";
const BID: &str = "#8e44ad";
const HELD: &str = "#c0392b";
const FEE_CAP: &str = "#7b241c";
const DOWN: &str = "#95a5a6";
const CLEAN_EXIT: &str = "#7f8c8d";
const RECOVERY_EXIT: &str = "#c0392b";
const OTHER_EXIT: &str = "#d35400";
const FLUSH: &str = "#b7950b";
const CASCADE: &str = "#c71585";
const RECOVERY_BATCH: &str = "#27ae60";
const PAUSE: &str = "#5d6d7e";

/// One sample after a step, at a clock reading, in a process lifetime.
#[derive(Clone, Copy)]
struct Sample {
    t_ms: u64,
    life: usize,
    safe_block: Option<u64>,
    age_blocks: Option<u64>,
}

/// A labelled moment.
struct Marker {
    t_ms: u64,
    label: String,
    style: MarkerStyle,
}

/// How a marker's line is drawn: exits by kind, the other moments by color.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MarkerStyle {
    CleanExit,
    RecoveryExit,
    OtherExit,
    Moment(&'static str),
}

impl MarkerStyle {
    fn color(self) -> &'static str {
        match self {
            MarkerStyle::CleanExit => CLEAN_EXIT,
            MarkerStyle::RecoveryExit => RECOVERY_EXIT,
            MarkerStyle::OtherExit => OTHER_EXIT,
            MarkerStyle::Moment(color) => color,
        }
    }

    fn dash(self) -> &'static str {
        match self {
            MarkerStyle::CleanExit => r#" stroke-dasharray="2 3""#,
            MarkerStyle::OtherExit => r#" stroke-dasharray="8 3""#,
            MarkerStyle::RecoveryExit | MarkerStyle::Moment(_) => "",
        }
    }
}

/// One process lifetime: from its boot to its exit or its last clock reading.
struct Life {
    boot_ms: u64,
    end_ms: u64,
    exited: bool,
    /// `(danger threshold, max wait)` in blocks, from this boot's config.
    limits: Option<(u64, u64)>,
    fee_cap: Option<Wei>,
}

/// A fee fact: base fee observed, a bid signed, a bid held.
struct FeePoint {
    t_ms: u64,
    life: usize,
    wei: Wei,
}

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
    clock: Option<u64>,
    samples: Vec<Sample>,
    markers: Vec<Marker>,
    lives: Vec<Life>,
    base_fees: Vec<FeePoint>,
    bids: Vec<FeePoint>,
    held: Vec<FeePoint>,
}

impl std::fmt::Debug for Incident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incident")
            .field("samples", &self.samples.len())
            .field("markers", &self.markers.len())
            .field("lives", &self.lives.len())
            .finish()
    }
}

impl Incident {
    /// Steps `event` and keeps what the picture shows of it.
    pub fn push(&mut self, event: &Event) {
        let stepped = self.driver.step(event);
        let (state, stepped): (&State, _) = (stepped.state, stepped.step);
        self.clock = event.now_ms().map(|clock| clock.0).or(self.clock);
        // Nothing before the first clock reading has a place on a time axis.
        let Some(t_ms) = self.clock else { return };
        if let Event::Boot(boot) = event {
            let config: Option<Config> = boot.config.validate().ok();
            self.lives.push(Life {
                boot_ms: t_ms,
                end_ms: t_ms,
                exited: false,
                limits: config.as_ref().map(|c| (c.danger_threshold_blocks(), c.max_wait_blocks())),
                fee_cap: config.as_ref().and_then(Config::max_fee_cap_wei),
            });
        }
        // Facts before the first boot (rejected: no process) are not drawn.
        let Some(life) = self.lives.len().checked_sub(1) else { return };
        if let Some(current) = self.lives.last_mut()
            && !current.exited
        {
            current.end_ms = current.end_ms.max(t_ms);
        }
        match event {
            Event::Wallet(wallet) => {
                if let Some(wei) = wallet.base_fee_wei
                    && self.base_fees.last().is_none_or(|last| last.wei != wei || last.life != life)
                {
                    self.base_fees.push(FeePoint { t_ms, life, wei });
                }
            }
            Event::Sent(sent) => {
                if let Some(bid) = sent.bid() {
                    keep(&mut self.bids, FeePoint { t_ms, life, wei: bid.max_fee_per_gas });
                }
            }
            _ => {}
        }
        let safe_block = state.view().safe_block.map(|b| b.0);
        let frontier = state.scheduler().expected_nonce;
        let oldest = state.tree().oldest_closed_past(frontier).or_else(|| state.tree().tip());
        let age_blocks =
            safe_block.zip(oldest).map(|(head, batch)| head.saturating_sub(batch.first_frame_safe_block.0));
        // Only changes are drawn, as steps: hours of ticks collapse to the moments the
        // lines move, and a value that held still is drawn flat until it changes — within
        // one process; across a restart the line breaks.
        let samples = &mut self.samples;
        let last = samples.last().map(|s: &Sample| (s.life, s.safe_block, s.age_blocks));
        if last != Some((life, safe_block, age_blocks)) {
            if let Some((held_life, held_block, held_age)) = last
                && held_life == life
            {
                samples.push(Sample { t_ms, life, safe_block: held_block, age_blocks: held_age });
            }
            samples.push(Sample { t_ms, life, safe_block, age_blocks });
        }
        let markers = &mut self.markers;
        let cascaded = stepped.notes.iter().any(|note| note.decision == Some(Decision::Cascade));
        for note in &stepped.notes {
            if let Why::HoldFeeCap { bid, .. } = &note.why {
                keep(&mut self.held, FeePoint { t_ms, life, wei: bid.max_fee_per_gas });
            }
            let (label, color) = match (note.decision, &note.why) {
                (Some(Decision::Flush), _) => ("flush", FLUSH),
                (Some(Decision::Cascade), _) => ("cascade", CASCADE),
                (Some(Decision::RecoverTip), _) => ("recover tip", CASCADE),
                (_, Why::Paused { already: false, .. }) => ("paused by the operator", PAUSE),
                (_, Why::Resumed { was_paused: true }) => ("resumed by the operator", PAUSE),
                _ => continue,
            };
            push(markers, Marker { t_ms, label: label.into(), style: MarkerStyle::Moment(color) });
        }
        for effect in &stepped.effects {
            match effect {
                Effect::Exit { code, .. } => {
                    let style = match code {
                        ExitCode::AdmittedShutdown => MarkerStyle::CleanExit,
                        ExitCode::RecoveryRequired => MarkerStyle::RecoveryExit,
                        _ => MarkerStyle::OtherExit,
                    };
                    push(markers, Marker { t_ms, label: format!("exit {}", code.name()), style });
                    if let Some(current) = self.lives.last_mut() {
                        current.exited = true;
                    }
                }
                Effect::Db { write: DbWrite::OpenBatch { batch_index, nonce, .. }, .. } if cascaded => push(
                    markers,
                    Marker {
                        t_ms,
                        label: format!("recovery batch {batch_index} (nonce {nonce}, gen {})", state.generation()),
                        style: MarkerStyle::Moment(RECOVERY_BATCH),
                    },
                ),
                _ => {}
            }
        }
    }

    /// Renders the picture as an SVG document.
    #[must_use]
    pub fn render(self, title: &str) -> String {
        draw(title, &self)
    }
}

/// Keeps a bid unless the last one kept is the same amount, in the same process, less
/// than a minute earlier: a send retried or a hold repeated each round for hours keeps
/// one point a minute, so a long log's picture stays small.
fn keep(points: &mut Vec<FeePoint>, point: FeePoint) {
    let repeated = points.last().is_some_and(|last| {
        last.wei == point.wei && last.life == point.life && point.t_ms.saturating_sub(last.t_ms) < 60_000
    });
    if !repeated {
        points.push(point);
    }
}

/// Adds a marker unless the same one is among the last few: a flush that exits `retry`
/// and runs again each restart (a held fee cap, say) is drawn once, not once a minute.
fn push(markers: &mut Vec<Marker>, marker: Marker) {
    if !markers.iter().rev().take(4).any(|old| old.label == marker.label) {
        markers.push(marker);
    }
}

/// Where things go: the time range and the panels' tops.
struct Frame {
    t_lo: u64,
    t_hi: u64,
    head_top: f64,
    age_top: f64,
    fee_top: f64,
    bottom: f64,
}

impl Frame {
    fn x(&self, t_ms: u64) -> f64 {
        let span = (self.t_hi - self.t_lo).max(1) as f64;
        LEFT + (WIDTH - LEFT - RIGHT) * (t_ms.saturating_sub(self.t_lo)) as f64 / span
    }
}

fn draw(title: &str, incident: &Incident) -> String {
    let Incident { samples, markers, lives, base_fees, bids, held, .. } = incident;
    let times = samples.iter().map(|s| s.t_ms).chain(lives.iter().flat_map(|life| [life.boot_ms, life.end_ms]));
    let (t_lo, t_hi) = times.fold((u64::MAX, 0), |(lo, hi), t| (lo.min(t), hi.max(t)));
    // A fortieth of the span is left free on the right, so that what happened last (a
    // boot refused at once, a final exit) is not drawn on the frame.
    let last_ms = t_hi;
    let (t_lo, t_hi) = if t_lo > t_hi { (0, 1) } else { (t_lo, t_hi.saturating_add((t_hi - t_lo) / 40 + 1)) };
    let head_top = TOP;
    let age_top = head_top + PANEL + GAP;
    let fee_top = age_top + PANEL + GAP;
    let bottom = fee_top + FEE_PANEL;
    let frame = Frame { t_lo, t_hi, head_top, age_top, fee_top, bottom };

    let heads: Vec<u64> = samples.iter().filter_map(|s| s.safe_block).collect();
    let (head_lo, head_hi) = (heads.iter().copied().min().unwrap_or(0), heads.iter().copied().max().unwrap_or(1));
    // The age axis is scaled to the ages drawn; a boot's danger threshold and max wait
    // widen it only when they are near (within half again of the oldest age), else they
    // are named above the panel instead of squashing the curve to its floor.
    let age_data = samples.iter().filter_map(|s| s.age_blocks).max().unwrap_or(0);
    let limits = lives.iter().filter_map(|life| life.limits).flat_map(|(threshold, max_wait)| [threshold, max_wait]);
    let near = |level: &u64| age_data == 0 || *level <= age_data.saturating_add(age_data / 2);
    let age_max = limits.clone().filter(near).fold(age_data, u64::max);
    // A tenth of headroom keeps the highest label inside the panel.
    let (age_step, age_hi) = nice_axis(age_max.saturating_add((age_max / 10).max(1)));
    let off_scale: Vec<u64> = limits.filter(|level| *level > age_hi).collect();
    let y_head = |b: u64| head_top + PANEL - PANEL * (b - head_lo) as f64 / ((head_hi - head_lo).max(1)) as f64;
    let y_age = |a: u64| age_top + PANEL - PANEL * a.min(age_hi) as f64 / age_hi as f64;
    let fee_values =
        base_fees.iter().chain(bids).chain(held).map(|p| p.wei).chain(lives.iter().filter_map(|l| l.fee_cap));
    let fees = FeeScale::of(fee_values);
    let y_fee = |wei: Wei| fee_top + FEE_PANEL - FEE_PANEL * fees.fraction(wei);

    let legend_top = bottom + 52.0;
    let limits_drawn = lives.iter().filter_map(|life| life.limits).any(|(threshold, _)| threshold <= age_hi);
    let legend = legend_entries(incident, limits_drawn);
    let legend_rows = legend.len().div_ceil(3);
    let list_top = legend_top + 18.0 * legend_rows as f64 + 20.0;
    let shown = markers.len().min(MAX_LEGEND);
    let height = list_top + 16.0 * shown as f64 + if markers.len() > MAX_LEGEND { 20.0 } else { 4.0 };

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(svg, r#"<text x="{LEFT}" y="20" font-size="15" font-weight="bold">{}</text>"#, escape(title));
    let _ = writeln!(
        svg,
        r##"<text x="{LEFT}" y="36" fill="#555">UTC {} to {}</text>"##,
        crate::audit::utc(machine::UnixMillis(t_lo)),
        crate::audit::utc(machine::UnixMillis(last_ms.max(t_lo)))
    );
    let plot_width = WIDTH - LEFT - RIGHT;
    for (id, top, height, label) in [
        ("head-panel", head_top, PANEL, "safe head (block)"),
        ("age-panel", age_top, PANEL, "age of the oldest unresolved batch (blocks)"),
        ("fee-panel", fee_top, FEE_PANEL, "fees (gwei, log scale): base fee observed, our bids, the fee cap"),
    ] {
        let _ = writeln!(
            svg,
            r##"<rect id="{id}" x="{LEFT}" y="{top}" width="{plot_width}" height="{height}" fill="none" stroke="#999"/>"##
        );
        let _ = writeln!(svg, r#"<text x="{LEFT}" y="{}">{label}</text>"#, top - 6.0);
    }
    time_axis(&mut svg, &frame);
    downtime(&mut svg, &frame, lives);

    // Value labels on the vertical axes.
    let axis_label = |svg: &mut String, y: f64, text: String| {
        let _ = writeln!(svg, r#"<text x="{}" y="{y:.1}" text-anchor="end">{text}</text>"#, LEFT - 6.0);
    };
    axis_label(&mut svg, head_top + 12.0, head_hi.to_string());
    axis_label(&mut svg, head_top + PANEL, head_lo.to_string());
    for level in (0..=age_hi).step_by(usize::try_from(age_step).unwrap_or(usize::MAX).max(1)) {
        let y = y_age(level);
        if level > 0 {
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e5e5"/>"##,
                WIDTH - RIGHT
            );
        }
        axis_label(&mut svg, y + 4.0, machine::grouped(level));
    }
    if !off_scale.is_empty() {
        let mut levels: Vec<String> = off_scale.iter().map(|level| machine::grouped(*level)).collect();
        levels.dedup();
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" fill="#555" text-anchor="end">danger threshold and max wait ({} blocks) are above this scale</text>"##,
            WIDTH - RIGHT - 4.0,
            age_top - 6.0,
            levels.join(", ")
        );
    }
    let no_fees =
        base_fees.is_empty() && bids.is_empty() && held.is_empty() && lives.iter().all(|l| l.fee_cap.is_none());
    for level in if no_fees { Vec::new() } else { fees.ticks() } {
        let y = fee_top + FEE_PANEL - FEE_PANEL * fees.fraction_of(level);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e5e5"/>"##,
            WIDTH - RIGHT
        );
        axis_label(&mut svg, y + 4.0, format_gwei(level));
    }

    // Each boot's thresholds and fee cap hold from that boot until the next one.
    let mut shown_limits = None;
    let mut shown_cap = None;
    for (i, life) in lives.iter().enumerate() {
        let until = lives.get(i + 1).map_or(t_hi, |next| next.boot_ms);
        let (x1, x2) = (frame.x(life.boot_ms), frame.x(until));
        if let Some((threshold, max_wait)) = life.limits {
            let relabel = shown_limits != Some((threshold, max_wait));
            // Two levels closer than a line of text: the threshold's label goes under its line.
            let crowded = (y_age(threshold) - y_age(max_wait)).abs() < 14.0;
            for (level, label, color, below) in
                [(threshold, "danger threshold", THRESHOLD, crowded), (max_wait, "max wait", MAX_WAIT, false)]
            {
                if level <= age_hi {
                    let label = relabel.then(|| (format!("{label} {level}"), below));
                    level_line(&mut svg, (x1, x2), y_age(level), color, label);
                }
            }
            shown_limits = Some((threshold, max_wait));
        }
        if let Some(cap) = life.fee_cap {
            let relabel = shown_cap != Some(cap);
            level_line(&mut svg, (x1, x2), y_fee(cap), FEE_CAP, relabel.then(|| (format!("fee cap {cap:#}"), false)));
            shown_cap = Some(cap);
        }
    }

    for (life, process) in lives.iter().enumerate() {
        // The last value holds until the process ends: a safe head that stood still while
        // the process ran is a frozen L1, drawn flat, unlike the gap after the process.
        let last = samples.iter().rfind(|s| s.life == life);
        let held = last.map(|s| Sample { t_ms: process.end_ms.max(s.t_ms), ..*s });
        let in_life = || samples.iter().filter(move |s| s.life == life).chain(held.as_ref());
        let xy = |s: &Sample, value: Option<u64>, y: &dyn Fn(u64) -> f64| value.map(|v| (frame.x(s.t_ms), y(v)));
        polyline(&mut svg, in_life().filter_map(|s| xy(s, s.safe_block, &y_head)), SAFE_HEAD);
        polyline(&mut svg, in_life().filter_map(|s| xy(s, s.age_blocks, &y_age)), AGE);
        // The base fee holds until the next reading, within the process that read it.
        let mut points = Vec::new();
        for (k, point) in base_fees.iter().enumerate().filter(|(_, p)| p.life == life) {
            let next = base_fees.get(k + 1).filter(|next| next.life == life);
            let end = next.map_or(process.end_ms, |next| next.t_ms);
            let y = y_fee(point.wei);
            points.push((frame.x(point.t_ms), y));
            points.push((frame.x(end), y));
        }
        polyline(&mut svg, points.into_iter(), BASE_FEE);
    }
    // Each reading is also a dot: a process that lived a few seconds between restarts
    // still shows what it saw.
    let at = |point: &FeePoint| (frame.x(point.t_ms), y_fee(point.wei));
    dots(&mut svg, base_fees.iter().map(at), &format!(r#"r="2.5" fill="{BASE_FEE}""#));
    if no_fees {
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" fill="#555" text-anchor="middle">no fee observed in this log (its wallet reads carry no base fee, its sends no bid)</text>"##,
            LEFT + plot_width / 2.0,
            fee_top + FEE_PANEL / 2.0
        );
    }
    dots(&mut svg, bids.iter().map(at), &format!(r#"r="3" fill="{BID}""#));
    dots(&mut svg, held.iter().map(at), &format!(r#"r="4" fill="none" stroke="{HELD}" stroke-width="1.5""#));

    // Markers are numbered on the chart and explained in a list below it, so that
    // events close in time never print over each other.
    for (i, marker) in markers.iter().enumerate().take(MAX_LEGEND) {
        let mx = frame.x(marker.t_ms);
        let (color, dash) = (marker.style.color(), marker.style.dash());
        let _ = writeln!(
            svg,
            r#"<line x1="{mx:.1}" y1="{head_top}" x2="{mx:.1}" y2="{bottom}" stroke="{color}" stroke-width="1.5" opacity="0.8"{dash}/>"#,
        );
        let ty = head_top + 12.0 + 12.0 * (i % 4) as f64;
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{ty:.1}" fill="{color}" font-weight="bold">{}</text>"#,
            mx + 3.0,
            i + 1
        );
        let ly = list_top + 16.0 * i as f64;
        let _ = writeln!(
            svg,
            r#"<text x="{LEFT}" y="{ly:.1}" fill="{color}">{}  {}  {}</text>"#,
            i + 1,
            crate::audit::utc(machine::UnixMillis(marker.t_ms)),
            escape(&marker.label)
        );
    }
    if markers.len() > MAX_LEGEND {
        let _ = writeln!(
            svg,
            r#"<text x="{LEFT}" y="{:.1}">… {} more markers: see `seqrec audit`</text>"#,
            height - 6.0,
            markers.len() - MAX_LEGEND
        );
    }
    draw_legend(&mut svg, legend_top, &legend);
    svg.push_str("</svg>\n");
    svg
}

/// A horizontal level from `x1` to `x2`, dashed, labelled at its start when asked: over
/// the line, or under it (`true`) when another level's label sits just above.
fn level_line(svg: &mut String, (x1, x2): (f64, f64), y: f64, color: &str, label: Option<(String, bool)>) {
    // On a pixel row's middle, so a one-pixel line is drawn in its own color, not blurred.
    let y = y.floor() + 0.5;
    let _ = writeln!(
        svg,
        r#"<line x1="{x1:.1}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="{color}" stroke-dasharray="6 4"/>"#
    );
    if let Some((label, below)) = label {
        // Near the right edge the label ends at the edge instead of starting at the boot.
        let (x, anchor) = if x1 > WIDTH - RIGHT - 160.0 { (WIDTH - RIGHT - 4.0, "end") } else { (x1 + 4.0, "start") };
        let _ = writeln!(
            svg,
            r#"<text x="{x:.1}" y="{:.1}" fill="{color}" text-anchor="{anchor}">{label}</text>"#,
            if below { y + 13.0 } else { y - 4.0 }
        );
    }
}

/// Vertical grid lines at round UTC times through all panels, labelled under the fee panel.
fn time_axis(svg: &mut String, frame: &Frame) {
    const SECOND: u64 = 1000;
    const STEPS: [u64; 22] = [
        SECOND,
        2 * SECOND,
        5 * SECOND,
        10 * SECOND,
        15 * SECOND,
        30 * SECOND,
        60 * SECOND,
        120 * SECOND,
        300 * SECOND,
        600 * SECOND,
        900 * SECOND,
        1800 * SECOND,
        3600 * SECOND,
        7200 * SECOND,
        3 * 3600 * SECOND,
        6 * 3600 * SECOND,
        12 * 3600 * SECOND,
        86_400 * SECOND,
        2 * 86_400 * SECOND,
        7 * 86_400 * SECOND,
        30 * 86_400 * SECOND,
        365 * 86_400 * SECOND,
    ];
    let span = frame.t_hi - frame.t_lo;
    // Past a year a step, as many years as keep the grid at eight lines or so.
    let step = STEPS.iter().copied().find(|step| span / step <= 8).unwrap_or_else(|| span.div_ceil(8));
    let format = if step < 60 * SECOND {
        "%H:%M:%S"
    } else if step < 86_400 * SECOND {
        "%H:%M"
    } else {
        "%Y-%m-%d"
    };
    // Clock readings are input: near the end of u64 the grid stops rather than overflows.
    let mut t = frame.t_lo.div_ceil(step).saturating_mul(step);
    while t <= frame.t_hi {
        let x = frame.x(t);
        for (top, height) in [(frame.head_top, PANEL), (frame.age_top, PANEL), (frame.fee_top, FEE_PANEL)] {
            let _ =
                writeln!(svg, r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{}" stroke="#e5e5e5"/>"##, top + height);
        }
        let label = i64::try_from(t)
            .ok()
            .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
            .map_or_else(String::new, |timestamp| timestamp.strftime(format).to_string());
        // A label that would run past the right edge is left out; its grid line stays.
        if x < WIDTH - RIGHT - 24.0 {
            let _ =
                writeln!(svg, r#"<text x="{x:.1}" y="{}" text-anchor="middle">{label}</text>"#, frame.bottom + 16.0);
        }
        let Some(next) = t.checked_add(step) else { break };
        t = next;
    }
    let _ =
        writeln!(svg, r#"<text x="{}" y="{}" text-anchor="end">time (UTC)</text>"#, WIDTH - RIGHT, frame.bottom + 34.0);
}

/// Shades each gap between a process's end (its exit, else its last clock reading) and
/// the next boot: no process ran, so the lines stop rather than hold still.
fn downtime(svg: &mut String, frame: &Frame, lives: &[Life]) {
    // Restarts with back-off make many gaps close together: one label per 160 px.
    let mut last_label_x = f64::NEG_INFINITY;
    for (i, pair) in lives.windows(2).enumerate() {
        let (before, after) = (&pair[0], &pair[1]);
        if after.boot_ms <= before.end_ms {
            continue;
        }
        let (x1, x2) = (frame.x(before.end_ms), frame.x(after.boot_ms));
        let width = (x2 - x1).max(1.0);
        let _ = writeln!(
            svg,
            r#"<rect id="process-down-{i}" class="process-down" x="{x1:.1}" y="{}" width="{width:.1}" height="{:.1}" fill="{DOWN}" opacity="0.35"/>"#,
            frame.head_top,
            frame.bottom - frame.head_top
        );
        let label_x = x1 + width / 2.0;
        // A gap narrower than two pixels is shaded but not labelled.
        if x2 - x1 < 2.0 || label_x - last_label_x < 160.0 {
            continue;
        }
        last_label_x = label_x;
        let label_y = frame.head_top + PANEL / 2.0;
        let _ = writeln!(
            svg,
            r##"<text x="{label_x:.1}" y="{label_y:.1}" fill="#555" font-size="11" text-anchor="middle" transform="rotate(-90 {label_x:.1} {label_y:.1})">process down</text>"##
        );
    }
}

/// What the legend explains: only what the picture shows.
enum Swatch {
    Line(&'static str, &'static str),
    Dot(&'static str, bool),
    Shade,
}

/// `limits_drawn`: some boot's danger threshold is within the age axis (else the panel
/// names the limits above it, and the legend leaves them out).
fn legend_entries(incident: &Incident, limits_drawn: bool) -> Vec<(Swatch, &'static str)> {
    let styles: Vec<MarkerStyle> = incident.markers.iter().take(MAX_LEGEND).map(|marker| marker.style).collect();
    let has_limits = limits_drawn && incident.lives.iter().any(|life| life.limits.is_some());
    let mut entries =
        vec![(Swatch::Line(SAFE_HEAD, ""), "safe head"), (Swatch::Line(AGE, ""), "age of oldest unresolved")];
    if has_limits {
        entries.push((Swatch::Line(THRESHOLD, "6 4"), "danger threshold (per boot)"));
        entries.push((Swatch::Line(MAX_WAIT, "6 4"), "max wait (per boot)"));
    }
    if !incident.base_fees.is_empty() {
        entries.push((Swatch::Line(BASE_FEE, ""), "base fee observed"));
    }
    if !incident.bids.is_empty() {
        entries.push((Swatch::Dot(BID, true), "our bid (max fee signed)"));
    }
    if !incident.held.is_empty() {
        entries.push((Swatch::Dot(HELD, false), "bid held over the fee cap"));
    }
    if incident.lives.iter().any(|life| life.fee_cap.is_some()) {
        entries.push((Swatch::Line(FEE_CAP, "6 4"), "fee cap (per boot)"));
    }
    if incident.lives.windows(2).any(|pair| pair[1].boot_ms > pair[0].end_ms) {
        entries.push((Swatch::Shade, "process down"));
    }
    for (style, label) in [
        (MarkerStyle::CleanExit, "clean shutdown (exit 0)"),
        (MarkerStyle::RecoveryExit, "exit recovery_required"),
        (MarkerStyle::OtherExit, "exit retry / refuse / config"),
    ] {
        if styles.contains(&style) {
            let dash = match style {
                MarkerStyle::CleanExit => "2 3",
                MarkerStyle::OtherExit => "8 3",
                _ => "",
            };
            entries.push((Swatch::Line(style.color(), dash), label));
        }
    }
    for (color, label) in [
        (FLUSH, "flush"),
        (CASCADE, "cascade / recover tip"),
        (RECOVERY_BATCH, "recovery batch"),
        (PAUSE, "operator pause / resume"),
    ] {
        if styles.contains(&MarkerStyle::Moment(color)) {
            entries.push((Swatch::Line(color, ""), label));
        }
    }
    entries
}

fn draw_legend(svg: &mut String, top: f64, entries: &[(Swatch, &'static str)]) {
    let _ = writeln!(svg, r#"<g id="legend">"#);
    let column = (WIDTH - LEFT - RIGHT) / 3.0;
    for (i, (swatch, label)) in entries.iter().enumerate() {
        let x = LEFT + column * (i % 3) as f64;
        let y = top + 18.0 * (i / 3) as f64;
        match swatch {
            Swatch::Line(color, dash) => {
                let dash = if dash.is_empty() { String::new() } else { format!(r#" stroke-dasharray="{dash}""#) };
                let _ = writeln!(
                    svg,
                    r#"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="2"{dash}/>"#,
                    y - 4.0,
                    x + 24.0,
                    y - 4.0
                );
            }
            Swatch::Dot(color, filled) => {
                let fill = if *filled { color } else { "none" };
                let _ = writeln!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{fill}" stroke="{color}" stroke-width="1.5"/>"#,
                    x + 12.0,
                    y - 4.0
                );
            }
            Swatch::Shade => {
                let _ = writeln!(
                    svg,
                    r#"<rect x="{x:.1}" y="{:.1}" width="24" height="10" fill="{DOWN}" opacity="0.35"/>"#,
                    y - 9.0
                );
            }
        }
        let _ = writeln!(svg, r#"<text x="{:.1}" y="{y:.1}">{label}</text>"#, x + 30.0);
    }
    let _ = writeln!(svg, "</g>");
}

fn gwei(wei: Wei) -> f64 {
    wei.0 as f64 / 1e9
}

/// A fee axis level (the levels are 1, 2 or 5 times a power of ten) with the decimals its
/// first significant digit needs, `0.5 gwei`, `20 gwei`, `2,000 gwei`; below 0.001 gwei,
/// where decimals pile up, in wei: `100,000 wei`, `10 wei`.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a positive level below 0.001 gwei is under a million wei, and its decimals are clamped to 0..=18"
)]
fn format_gwei(value: f64) -> String {
    if value > 0.0 && value < 0.001 {
        // Rounded to the level's own digit: a level is a whole number of wei from 1 up.
        let wei = (value * 1e9).round().max(1.0) as u64;
        return format!("{} wei", machine::grouped(wei));
    }
    let decimals = if value > 0.0 && value < 1.0 { (-value.log10()).ceil().clamp(0.0, 18.0) as usize } else { 0 };
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text };
    match text.parse::<u64>() {
        Ok(whole) => format!("{} gwei", machine::grouped(whole)),
        Err(_) => format!("{text} gwei"),
    }
}

/// A round step for an axis from 0 to about `max` with at most five intervals (1, 2 or
/// 5 times a power of ten) and the axis top, the first multiple of the step at or above
/// `max`: `(20, 100)` for 93.
pub(crate) fn nice_axis(max: u64) -> (u64, u64) {
    let max = max.max(1);
    let mut magnitude = 1_u64;
    loop {
        for multiple in [1, 2, 5] {
            let step = magnitude.saturating_mul(multiple);
            if max.div_ceil(step) <= 5 {
                return (step, max.div_ceil(step).saturating_mul(step));
            }
        }
        match magnitude.checked_mul(10) {
            Some(next) => magnitude = next,
            None => return (max, max),
        }
    }
}

/// The fee panel's vertical scale: logarithmic in gwei, since a congestion moves fees by
/// orders of magnitude and the fee cap must stay readable next to a held flush's bids.
struct FeeScale {
    lo_log: f64,
    hi_log: f64,
}

impl FeeScale {
    fn of(values: impl Iterator<Item = Wei>) -> FeeScale {
        let (lo, hi) = values
            .map(gwei)
            .filter(|value| *value > 0.0)
            .fold((f64::MAX, 0.0_f64), |(lo, hi), value| (lo.min(value), hi.max(value)));
        if hi <= 0.0 {
            return FeeScale { lo_log: 0.0, hi_log: 2.0 };
        }
        let (mut lo_log, mut hi_log) = (lo.log10() - 0.1, hi.log10() + 0.1);
        if hi_log - lo_log < 1.0 {
            let middle = f64::midpoint(lo_log, hi_log);
            (lo_log, hi_log) = (middle - 0.5, middle + 0.5);
        }
        FeeScale { lo_log, hi_log }
    }

    /// Where `wei` lies between the panel's bottom (0) and top (1); zero sits at the bottom.
    fn fraction(&self, wei: Wei) -> f64 {
        self.fraction_of(gwei(wei))
    }

    fn fraction_of(&self, value_gwei: f64) -> f64 {
        if value_gwei <= 0.0 {
            return 0.0;
        }
        ((value_gwei.log10() - self.lo_log) / (self.hi_log - self.lo_log)).clamp(0.0, 1.0)
    }

    /// Round levels to label: 1, 2 and 5 times each power of ten over a short range, only
    /// the powers of ten over a long one.
    fn ticks(&self) -> Vec<f64> {
        let multiples: &[f64] = if self.hi_log - self.lo_log > 2.5 { &[1.0] } else { &[1.0, 2.0, 5.0] };
        let mut ticks = Vec::new();
        let mut decade = self.lo_log.floor();
        while decade <= self.hi_log {
            for multiple in multiples {
                let level = multiple * 10_f64.powf(decade);
                let log = level.log10();
                if log >= self.lo_log && log <= self.hi_log {
                    ticks.push(level);
                }
            }
            decade += 1.0;
        }
        ticks
    }
}

/// Circles at `points`, one per pixel: points that would land on the last one drawn are
/// left out (a year of sends is not a million circles).
fn dots(svg: &mut String, points: impl Iterator<Item = (f64, f64)>, attributes: &str) {
    let mut last = None;
    for (x, y) in points {
        let pixel = (x.round(), y.round());
        if last != Some(pixel) {
            let _ = writeln!(svg, r#"<circle cx="{x:.1}" cy="{y:.1}" {attributes}/>"#);
            last = Some(pixel);
        }
    }
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
