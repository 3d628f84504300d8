//! Every conformance vector computed by Plivo's official SDKs: the verdict equals `valid`
//! and the canonical signing string equals `signing_string`.

use plivo_webhook_core::testing::vectors;

const VECTORS: &str = include_str!("data/plivo-v3-v2.json");

#[test]
fn every_sdk_vector_passes() {
    let file = vectors::parse(VECTORS).unwrap();
    assert_eq!(file.vectors.len(), 164);
    let report = vectors::run(&file);
    assert!(report.failed.is_empty(), "{report}");
    assert_eq!(report.passed.len(), 164);
}

#[test]
fn the_runner_detects_a_wrong_verdict() {
    let mut file = vectors::parse(VECTORS).unwrap();
    file.vectors.truncate(3);
    file.vectors[1].valid = !file.vectors[1].valid;
    file.vectors[2].signing_string = Some("https://nope".to_owned());
    let report = vectors::run(&file);
    assert_eq!(report.passed.len(), 1);
    assert_eq!(report.failed.len(), 2);
    assert!(report.to_string().ends_with("1 passed, 2 failed"));
}
