//! The incident picture, rendered: the SVG of `audit --svg` parses and rasterizes with
//! resvg, has the size it declares, and shows ink where each panel must have some. The
//! PNGs stay in the temporary directory for a person to look at.

use std::path::{Path, PathBuf};

use replay::cli::load;
use resvg::{tiny_skia, usvg};

struct Rendered {
    svg: String,
    tree: usvg::Tree,
    pixmap: tiny_skia::Pixmap,
    png: PathBuf,
}

fn render(fixture: &str) -> Rendered {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/logs").join(fixture);
    let loaded = load(&path).unwrap_or_else(|error| panic!("{error}"));
    let svg = replay::svg::render(fixture, loaded.events().into_iter().map(|(_, event)| event));
    let mut options = usvg::Options::default();
    // Text is drawn when the machine has fonts (DejaVu on Debian); the assertions below
    // look only at lines and shapes, so a machine without fonts checks the same.
    options.fontdb_mut().load_system_fonts();
    options.fontdb_mut().set_sans_serif_family("DejaVu Sans");
    let tree = usvg::Tree::from_str(&svg, &options)
        .unwrap_or_else(|error| panic!("{fixture}: the SVG does not parse: {error}"));
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let png = std::env::temp_dir().join(format!("seqrec-picture-{fixture}.png"));
    pixmap.save_png(&png).unwrap_or_else(|error| panic!("{}: {error}", png.display()));
    Rendered { svg, tree, pixmap, png }
}

/// The inside of a panel's frame, in pixels.
fn panel(rendered: &Rendered, id: &str) -> (u32, u32, u32, u32) {
    let node = rendered.tree.node_by_id(id).unwrap_or_else(|| panic!("no `{id}` in the picture"));
    let rect = node.abs_bounding_box().round_out().unwrap();
    let (x, y) = (u32::try_from(rect.x()).unwrap(), u32::try_from(rect.y()).unwrap());
    (x + 2, y + 2, x + rect.width() - 2, y + rect.height() - 2)
}

/// How many pixels inside `region` are within a small distance of `color` (#rrggbb).
fn ink(rendered: &Rendered, (x1, y1, x2, y2): (u32, u32, u32, u32), color: &str) -> usize {
    let channel = |i: usize| i32::from(u8::from_str_radix(&color[i..i + 2], 16).unwrap());
    let (r, g, b) = (channel(1), channel(3), channel(5));
    let mut count = 0;
    for y in y1..y2 {
        for x in x1..x2 {
            let pixel = rendered.pixmap.pixel(x, y).unwrap().demultiply();
            let distance = (i32::from(pixel.red()) - r).abs()
                + (i32::from(pixel.green()) - g).abs()
                + (i32::from(pixel.blue()) - b).abs();
            if distance <= 24 {
                count += 1;
            }
        }
    }
    count
}

#[test]
fn the_congestion_picture_shows_the_fee_market_under_the_ages() {
    let rendered = render("sim-congestion.seqlog");
    let (width, height) = (rendered.pixmap.width(), rendered.pixmap.height());
    assert_eq!(f64::from(width), replay::svg::WIDTH, "{}", rendered.png.display());
    assert!(rendered.svg.contains(&format!(r#"height="{height}""#)), "the PNG is {width}x{height}");
    let (head, age, fee) =
        (panel(&rendered, "head-panel"), panel(&rendered, "age-panel"), panel(&rendered, "fee-panel"));
    assert!(head.3 < age.1 && age.3 < fee.1, "panels top to bottom: safe head, age, fees: {head:?} {age:?} {fee:?}");
    // The lines' own colors (svg.rs), where each belongs and nowhere else.
    let safe_head = "#2c3e50";
    let batch_age = "#2980b9";
    let base_fee = "#16a085";
    let bid = "#8e44ad";
    let fee_cap = "#7b241c";
    assert!(ink(&rendered, head, safe_head) > 200, "safe head drawn: {}", rendered.png.display());
    assert!(ink(&rendered, age, batch_age) > 200, "batch age drawn: {}", rendered.png.display());
    assert!(ink(&rendered, fee, base_fee) > 200, "base fee drawn in the fee panel: {}", rendered.png.display());
    assert!(ink(&rendered, fee, bid) > 20, "our bids drawn in the fee panel: {}", rendered.png.display());
    assert!(ink(&rendered, fee, fee_cap) > 30, "the fee cap drawn in the fee panel: {}", rendered.png.display());
    assert_eq!(ink(&rendered, head, base_fee), 0, "no fee line in the safe head panel");
}

#[test]
fn a_restart_is_shaded_as_process_down() {
    let rendered = render("sim-repeated-incidents.seqlog");
    assert!(rendered.svg.contains(r#"class="process-down""#) && rendered.svg.contains(">process down</text>"));
    // #95a5a6 at 35% over white.
    let shade = "#dae0e0";
    let head = panel(&rendered, "head-panel");
    assert!(ink(&rendered, head, shade) > 100, "downtime shaded: {}", rendered.png.display());
}

#[test]
fn a_frozen_l1_is_a_flat_line_and_process_downtime_a_gap() {
    let rendered = render("sim-l1-halt.seqlog");
    let safe_head = "#2c3e50";
    let (_, top, _, bottom) = panel(&rendered, "head-panel");
    // The restarts' back-off after the stale view's exit: gaps that grow, between
    // processes that lived a moment each.
    let gaps: Vec<_> = (0..)
        .map_while(|i| rendered.tree.node_by_id(&format!("process-down-{i}")))
        .map(|node| node.abs_bounding_box().round_out().unwrap())
        .collect();
    let x1 = gaps.iter().map(|rect| u32::try_from(rect.x()).unwrap()).min().unwrap_or(0);
    let x2 = gaps.iter().map(|rect| u32::try_from(rect.x()).unwrap() + rect.width()).max().unwrap_or(0);
    assert!(x2 > x1 + 100, "minutes of downtime: {}", rendered.png.display());
    let drawn_while_down = ink(&rendered, (x1 + 3, top, x2 - 3, bottom), safe_head);
    assert!(drawn_while_down < 4 * gaps.len(), "a dot at most per brief process ({drawn_while_down} px)");
    // Before the exit the node's safe head stood still for minutes while the process ran.
    let frozen = ink(&rendered, (x1 - 90, top, x1 - 10, bottom), safe_head);
    assert!(
        frozen >= 80,
        "the frozen safe head is drawn flat up to the exit ({frozen} px): {}",
        rendered.png.display()
    );
}

#[test]
fn a_clean_shutdown_is_drawn_apart_from_recovery_exits() {
    let rendered = render("anvil-rpc-down-at-warm-restart.seqlog");
    let (clean, recovery) = ("#7f8c8d", "#c0392b");
    assert!(rendered.svg.contains(&format!(r#"fill="{clean}">1  "#)), "the first marker is the clean shutdown");
    assert!(rendered.svg.contains("clean shutdown (exit 0)"), "and the legend says so");
    let head = panel(&rendered, "head-panel");
    assert!(ink(&rendered, head, clean) > 20, "clean shutdown drawn: {}", rendered.png.display());
    assert_eq!(ink(&rendered, head, recovery), 0, "nothing red without a recovery exit: {}", rendered.png.display());
}

#[test]
fn clock_readings_and_blocks_at_the_ends_of_u64_still_draw() {
    let script = [
        r#"{"ev":"boot","now_ms":0,"config":{"chain_id":31337,"batch_submitter":"0x1111111111111111111111111111111111111111","inbox":"0x2222222222222222222222222222222222222222","max_wait_blocks":20,"preemptive_margin_blocks":5,"seconds_per_block":12}}"#,
        r#"{"ev":"chain_id","chain_id":31337}"#,
        r#"{"ev":"l1","now_ms":18446744073709551615,"safe_block":18446744073709551615,"safe_timestamp":18446744073709551615,"inputs":[]}"#,
        r#"{"ev":"wallet","latest":0,"pending":0,"safe":0,"safe_block":0,"base_fee_wei":"340282366920938463463374607431768211455","tip_wei":"0"}"#,
        r#"{"ev":"tick","now_ms":5}"#,
        r#"{"ev":"boot","now_ms":18446744073709551615,"config":{"chain_id":31337,"batch_submitter":"0x1111111111111111111111111111111111111111","inbox":"0x2222222222222222222222222222222222222222","max_wait_blocks":20,"preemptive_margin_blocks":5,"seconds_per_block":12}}"#,
    ];
    let parsed = replay::script::parse(&(script.join("\n") + "\n")).unwrap_or_else(|error| panic!("{error}"));
    let svg = replay::svg::render("ends of u64", parsed.events.iter().map(|(_, event)| event));
    let tree = usvg::Tree::from_str(&svg, &usvg::Options::default()).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(f64::from(tree.size().width()), replay::svg::WIDTH);
    assert!(svg.matches("<line").count() < 200, "a bounded grid:\n{svg}");
    let steps = replay::cli::run_script(&parsed).steps;
    let audit = replay::audit::render_decisions(&steps);
    assert!(audit.contains("18446744073709551615 ms"), "a reading past the year 9999 as milliseconds:\n{audit}");
    assert!(audit.contains("1970-01-01T00:00:00Z"), "{audit}");
}
