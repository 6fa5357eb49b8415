//! Reading the tool's output as a person would (issue 18, item 4): the audit's landing and
//! acceptance rows, fees in gwei with the wei in `--json`, repeated rows folded, the
//! demo's timeline folded with each exit's reason and its picture in the current
//! directory, and the pictures' axes scaled to the data (rendered to PNG, kept in the
//! temporary directory for a person to look at).

use std::path::{Path, PathBuf};
use std::process::Command;

use replay::cli::load;
use resvg::{tiny_skia, usvg};
use serde_json::Value;

use super::support::scratch;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/logs").join(name)
}

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

fn audit_json(name: &str) -> Vec<Value> {
    let run = load(&fixture(name)).unwrap_or_else(|error| panic!("{error}")).run();
    replay::audit::render_decisions_json(&run.steps)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}")))
        .collect()
}

#[test]
fn the_audit_says_when_each_batch_landed_and_was_accepted() {
    // anvil's happy path: two batches sent, seen in an unsafe block, then accepted.
    let rows = audit_json("anvil-happy-path.seqlog");
    let of = |what: &str| rows.iter().filter(|row| row["what"] == what).collect::<Vec<_>>();
    let accepted = of("accepted");
    assert_eq!(accepted.len(), 2, "{rows:#?}");
    for (row, batch) in accepted.iter().zip([0, 1]) {
        assert_eq!(row["batch"], batch, "{row}");
        assert_eq!((row["landing"].as_str(), row["judgement"].as_str()), (Some("safe"), Some("accepted")));
        assert!(row["block"].as_u64().is_some() && row["time"].as_str().is_some(), "block and time: {row}");
        assert!(row["why"].as_str().unwrap().contains("accepted by the scheduler (Gold)"), "{row}");
    }
    assert!(!of("landed_unsafe").is_empty(), "the unsafe landings are rows too: {rows:#?}");
    // A landing the scheduler skips says why: a poisoned nonce's stale batch.
    let skipped: Vec<_> = audit_json("sim-nonce-poisoning.seqlog")
        .into_iter()
        .filter(|row| row["what"] == "landed_skipped" || row["what"] == "accepted")
        .collect();
    assert!(
        skipped.iter().any(|row| row["judgement"] == "stale"
            && row["why"].as_str().unwrap().contains("skipped by the scheduler as stale")),
        "{skipped:#?}"
    );
    settings().bind(|| insta::assert_snapshot!("readable@audit-landings-json", render_json("anvil-happy-path.seqlog")));
}

fn render_json(name: &str) -> String {
    let run = load(&fixture(name)).unwrap_or_else(|error| panic!("{error}")).run();
    replay::audit::render_decisions_json(&run.steps)
}

#[test]
fn fees_read_in_gwei_and_the_json_keeps_the_wei() {
    let run = load(&fixture("fees-cap-hold.seqlog")).unwrap().run();
    let text = replay::audit::render_decisions(&run.steps);
    assert!(text.contains("(max fee 41 / tip 1 gwei) exceeds the fee cap 30 gwei"), "{text}");
    assert!(!text.contains("41000000000"), "no raw wei in the text:\n{text}");
    let hold = audit_json("fees-cap-hold.seqlog").into_iter().find(|row| row["what"] == "hold_fee_cap").unwrap();
    assert_eq!(hold["max_fee_per_gas"], "41000000000", "{hold}");
    assert_eq!(hold["max_priority_fee_per_gas"], "1000000000", "{hold}");
    assert_eq!(hold["fee_cap_wei"], "30000000000", "{hold}");
    // The trace stays exact: its `# check:` lines compare wei.
    let trace = replay::trace::render_text_all(&run.steps);
    assert!(trace.contains("(max fee 41000000000 / tip 1000000000 wei) exceeds the fee cap 30000000000 wei"));
    settings().bind(|| insta::assert_snapshot!("readable@audit-fees-json", render_json("fees-cap-hold.seqlog")));
}

#[test]
fn repeated_rows_are_folded_with_their_count_and_span() {
    let run = load(&fixture("sim-congestion.seqlog")).unwrap().run();
    let text = replay::audit::render_decisions(&run.steps);
    let folded: Vec<&str> = text.lines().filter(|line| line.contains('×')).collect();
    assert!(!folded.is_empty(), "{text}");
    // No two consecutive rows say the same.
    let say = |line: &str| line.get(41..).unwrap_or_default().to_owned();
    for pair in text.lines().collect::<Vec<_>>().windows(2) {
        assert_ne!(say(pair[0]), say(pair[1]), "consecutive rows say the same:\n{}\n{}", pair[0], pair[1]);
    }
    // The JSON folds the same runs, with the count and the last row's step and time.
    let rows = audit_json("sim-congestion.seqlog");
    let repeated: Vec<&Value> = rows.iter().filter(|row| row["repeated"].as_u64().is_some()).collect();
    assert_eq!(repeated.len(), folded.len(), "{text}");
    for row in repeated {
        assert!(row["last_seq"].as_u64() > row["seq"].as_u64() && row["last_time"].is_string(), "{row}");
    }
    // Unfolded, the rows add up: every row of the log is counted once.
    let total: u64 = rows.iter().map(|row| row["repeated"].as_u64().unwrap_or(1)).sum();
    assert_eq!(total as usize, replay::audit::rows(&run.steps).len());
    settings().bind(|| insta::assert_snapshot!("readable@audit-folded-sim-congestion", text));
}

fn seqrec_in(dir: &Path, args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_seqrec")).args(args).current_dir(dir).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn the_demo_tells_each_retry_folds_its_loops_and_draws_here() {
    let dir = scratch("readable-demo");
    let (code, out) = seqrec_in(&dir, &["demo"]);
    assert_eq!(code, 0, "{out}");
    let picture = dir.join("seqrec-demo.svg");
    assert!(picture.is_file(), "the picture is in the current directory:\n{out}");
    let shown = std::path::absolute(&picture).unwrap();
    assert!(out.contains(&format!("incident picture: {}", shown.display())), "and the output says where:\n{out}");
    assert!(out.lines().count() < 60, "a timeline a person reads, not a log:\n{out}");
    assert!(out.contains("exit retry: "), "each retry says why:\n{out}");
    assert!(out.contains("×"), "repeats are folded:\n{out}");
    // The run's wall time and the scratch path vary; the rest is the snapshot.
    let stable: String = out
        .lines()
        .map(|line| match line.split_once(", in ") {
            Some((head, tail)) if tail.ends_with(" ms") => format!("{head}, in N ms"),
            _ => line.replace(&dir.display().to_string(), "<cwd>"),
        })
        .map(|line| line + "\n")
        .collect();
    settings().bind(|| insta::assert_snapshot!("readable@demo-output", stable));
    let png = rasterize(&std::fs::read_to_string(&picture).unwrap(), "demo");
    assert!(png.is_file());
}

/// Rasterizes `svg` to `seqrec-readable-<name>.png` in the temporary directory.
fn rasterize(svg: &str, name: &str) -> PathBuf {
    let mut options = usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    options.fontdb_mut().set_sans_serif_family("DejaVu Sans");
    let tree = usvg::Tree::from_str(svg, &options).unwrap_or_else(|error| panic!("{name}: {error}"));
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let png = std::env::temp_dir().join(format!("seqrec-readable-{name}.png"));
    pixmap.save_png(&png).unwrap();
    png
}

/// The text of every `<text>` element of `svg` that sits at `x` (the axis labels).
fn labels_at(svg: &str, x: &str) -> Vec<String> {
    svg.lines()
        .filter(|line| line.starts_with(&format!(r#"<text x="{x}" "#)) && line.contains(r#"text-anchor="end""#))
        .filter_map(|line| Some(line.split_once('>')?.1.strip_suffix("</text>")?.to_owned()))
        .collect()
}

#[test]
fn the_live_pictures_axes_are_scaled_to_the_data() {
    for name in ["anvil-happy-path.seqlog", "anvil-fees-base-fee-push.seqlog", "sim-congestion.seqlog"] {
        let loaded = load(&fixture(name)).unwrap();
        let svg = replay::svg::render(name, loaded.events().into_iter().map(|(_, event)| event));
        let png = rasterize(&svg, name);
        let labels = labels_at(&svg, "74");
        let fees: Vec<&String> = labels.iter().filter(|label| label.ends_with("gwei")).collect();
        let mut unique = fees.clone();
        unique.dedup();
        assert_eq!(unique.len(), fees.len(), "{name}: every fee tick reads differently: {fees:?} ({})", png.display());
        assert!(!fees.iter().any(|label| *label == "0 gwei"), "{name}: {fees:?}");
        // The age axis: numbers from 0 to a round top near the oldest age drawn.
        let ages: Vec<u64> = labels
            .iter()
            .filter(|label| !label.ends_with("gwei"))
            .filter_map(|l| l.replace(',', "").parse().ok())
            .collect();
        assert!(ages.contains(&0) && ages.len() >= 3, "{name}: age ticks {ages:?} ({})", png.display());
        if name.starts_with("anvil-happy") {
            let top = ages.iter().filter(|age| **age < 1000).max().copied().unwrap_or(0);
            assert!(top <= 100, "{name}: ages under 15 blocks on an axis to {top} ({})", png.display());
            assert!(svg.contains("are above this scale"), "{name}: the limits off the scale are named");
        }
    }
}

#[test]
fn the_whatif_picture_has_numbers_on_its_age_axis() {
    let dir = scratch("readable-whatif");
    let log = dir.join("demo.seqlog");
    let svg = dir.join("whatif.svg");
    let (code, out) = seqrec_in(&dir, &["demo", "--log", log.to_str().unwrap(), "--svg", "demo.svg"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = seqrec_in(
        &dir,
        &["whatif", log.to_str().unwrap(), "--set", "preemptive_margin_blocks=600", "--svg", svg.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}");
    let text = std::fs::read_to_string(&svg).unwrap();
    let png = rasterize(&text, "whatif");
    let ticks: Vec<u64> =
        labels_at(&text, "58").iter().filter_map(|label| label.replace(',', "").parse().ok()).collect();
    assert!(ticks.len() >= 3 && ticks.contains(&0), "y-axis numbers: {ticks:?} ({})", png.display());
    assert!(text.contains("age (safe blocks)"), "the axis is named");
    // The README's what-if: levels 12, 15 and 20 blocks close together, each label apart.
    let readme = dir.join("readme-whatif.svg");
    let input = fixture("closed-batch-in-danger.seqlog");
    let args =
        ["whatif", input.to_str().unwrap(), "--set", "preemptive_margin_blocks=8", "--svg", readme.to_str().unwrap()];
    let (code, out) = seqrec_in(&dir, &args);
    assert_eq!(code, 0, "{out}");
    let text = std::fs::read_to_string(&readme).unwrap();
    let png = rasterize(&text, "whatif-readme");
    let labels: Vec<(f64, f64)> = text
        .lines()
        .filter(|line| line.contains("threshold") || line.contains("max wait"))
        .filter(|line| line.starts_with("<text x=\""))
        .filter_map(|line| {
            let number = |key: &str| line.split(key).nth(1)?.split('"').next()?.parse::<f64>().ok();
            Some((number("x=\"")?, number(" y=\"")?))
        })
        .collect();
    assert!(labels.len() >= 3, "{text}");
    for (i, a) in labels.iter().enumerate() {
        for b in &labels[i + 1..] {
            let same_side = (a.0 - b.0).abs() < 1.0;
            assert!(!same_side || (a.1 - b.1).abs() >= 14.0, "labels at {a:?} and {b:?} overlap ({})", png.display());
        }
    }
}

#[test]
fn fees_of_a_few_wei_get_ticks_that_read_apart() {
    // A dev node mining empty blocks: the base fee decays to a few wei while the bids
    // stay near the 1 gwei minimum tip; eight decades on one axis.
    let boot = r#"{"ev":"boot","now_ms":1700000000000,"config":{"chain_id":31337,"batch_submitter":"0x1111111111111111111111111111111111111111","inbox":"0x2222222222222222222222222222222222222222","max_wait_blocks":20,"preemptive_margin_blocks":5,"seconds_per_block":12}}"#;
    let mut lines = vec![boot.to_owned(), r#"{"ev":"chain_id","chain_id":31337}"#.to_owned()];
    for (i, wei) in [875_000_000_u64, 90_000_000, 7_000_000, 500_000, 40_000, 3_000, 200, 7].iter().enumerate() {
        let now = 1_700_000_012_000 + 12_000 * i as u64;
        lines.push(format!(
            r#"{{"ev":"l1","now_ms":{now},"safe_block":{i},"safe_timestamp":{},"inputs":[]}}"#,
            now / 1000
        ));
        lines.push(format!(
            r#"{{"ev":"wallet","latest":0,"pending":0,"safe":0,"safe_block":{i},"base_fee_wei":"{wei}","tip_wei":"1000000000"}}"#
        ));
        lines.push(format!(r#"{{"ev":"tick","now_ms":{}}}"#, now + 6000));
    }
    let parsed = replay::script::parse(&(lines.join("\n") + "\n")).unwrap_or_else(|error| panic!("{error}"));
    let svg = replay::svg::render("fees of a few wei", parsed.events.iter().map(|(_, event)| event));
    let png = rasterize(&svg, "few-wei");
    let fees: Vec<String> = labels_at(&svg, "74").into_iter().filter(|label| label.ends_with("wei")).collect();
    let mut unique = fees.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), fees.len(), "every tick reads differently: {fees:?} ({})", png.display());
    assert!(fees.len() >= 4 && !fees.iter().any(|label| label.starts_with("0 ")), "{fees:?} ({})", png.display());
    // From 0.001 gwei up in gwei with the decimals needed, below in wei.
    for label in ["1 gwei", "0.1 gwei", "0.001 gwei", "100,000 wei", "10 wei"] {
        assert!(fees.iter().any(|fee| fee == label), "{label} among {fees:?} ({})", png.display());
    }
}
