//! `seqrec whatif` on the demo incident (a congestion prices a sent batch out at mainnet
//! parameters): with a margin of 600 the danger exit comes 300 safe blocks earlier, with
//! 100 it comes later than the recorded facts reach; both reports are snapshots.

use std::process::Command;

use super::support::scratch;

fn seqrec(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_seqrec")).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn a_wider_margin_exits_300_blocks_earlier_and_a_narrower_one_later() {
    let dir = scratch("whatif");
    let log = dir.join("demo.seqlog");
    let log_arg = log.to_str().unwrap();
    let (code, text) = seqrec(&["demo", "--log", log_arg, "--svg", dir.join("demo.svg").to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    let (code, earlier) = seqrec(&["whatif", log_arg, "--set", "preemptive_margin_blocks=600"]);
    assert_eq!(code, 0, "{earlier}");
    assert!(earlier.contains("(danger threshold 900 -> 600)"), "{earlier}");
    assert!(
        earlier.contains("safe head 953); what-if recovery_required at step")
            && earlier.contains(": 300 blocks earlier"),
        "{earlier}"
    );
    let (code, later) = seqrec(&["whatif", log_arg, "--set", "preemptive_margin_blocks=100"]);
    assert_eq!(code, 0, "{later}");
    assert!(later.contains("the what-if does not exit there; its exit, if any, is later than step"), "{later}");
    // The picture: both curves, each in its own color, rasterized.
    let svg = dir.join("whatif.svg");
    let (code, said) =
        seqrec(&["whatif", log_arg, "--set", "preemptive_margin_blocks=600", "--svg", svg.to_str().unwrap()]);
    assert_eq!(code, 0, "{said}");
    let text = std::fs::read_to_string(&svg).unwrap();
    let mut options = resvg::usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    let tree = resvg::usvg::Tree::from_str(&text, &options).unwrap();
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.save_png(dir.join("whatif.png")).unwrap();
    let count = |rgb: (u8, u8, u8)| {
        pixmap
            .pixels()
            .iter()
            .filter(|pixel| {
                let pixel = pixel.demultiply();
                (pixel.red(), pixel.green(), pixel.blue()) == rgb
            })
            .count()
    };
    let (blue, orange) = (count((0x1f, 0x5f, 0xa8)), count((0xd0, 0x73, 0x1a)));
    assert!(blue > 500 && orange > 200, "both curves are drawn: {blue} and {orange} pixels");
    settings.bind(|| {
        insta::assert_snapshot!("whatif@demo-margin-600", earlier);
        insta::assert_snapshot!("whatif@demo-margin-100", later);
    });
    // Bad settings are typed errors with exit 2, the input untouched.
    for (set, expected) in [
        ("chain_id=5", "the deployment's identity cannot change in a what-if"),
        (
            "preemptive_margin_blocks=1200",
            "the what-if config is invalid: preemptive_margin_blocks (1200) must be < max_wait_blocks (1200)",
        ),
        ("margin=3", "not a tuning setting"),
    ] {
        let (code, text) = seqrec(&["whatif", log_arg, "--set", set]);
        assert_eq!(code, 2, "{set}: {text}");
        assert!(text.contains(expected), "{set}: {text}");
    }
}
