//! Real public states from other projects (`../shared/corpus/`, never copied into this
//! repository): every state parses, and none of them is judged tainted, deposed or drifted by
//! accident. Skips loudly when `../shared` is absent (a user's fresh clone).

mod common;
use common::*;

#[test]
fn driftctl_corpus_states_parse_without_findings() {
    let Some(shared) = shared() else {
        skip("driftctl_corpus_states_parse_without_findings", "../shared is absent");
        return;
    };
    let dir = shared.join("corpus/driftctl");
    let mut states: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tfstate"))
        .collect();
    states.sort();
    assert!(states.len() > 100, "expected the driftctl corpus, found {} states", states.len());
    let mut parsed = 0;
    for p in &states {
        let name = p.file_name().unwrap().to_string_lossy();
        let o = driftlock(&["scan", "--format", "json", p.to_str().unwrap()]);
        let r = json(&o);
        if name.contains("invalid-json") {
            assert_eq!(code(&o), 2, "{name}");
            assert_eq!(r["errors"][0]["code"], "DL0003", "{name}");
            continue;
        }
        assert_eq!(code(&o), 0, "{name}: {}", stdout(&o));
        assert_eq!(r["errors"].as_array().unwrap().len(), 0, "{name}");
        parsed += 1;
    }
    assert!(parsed > 100);
    // The whole directory at once, in parallel: the same totals.
    let o = driftlock(&["scan", "--format", "json", "--state", dir.to_str().unwrap()]);
    let r = json(&o);
    assert_eq!(r["summary"]["inputs"]["states"].as_u64().unwrap() as usize, parsed);
    assert_eq!(r["summary"]["input_errors"], 1);
}

/// The legacy provider address form (`provider.aws`) of states upgraded from 0.12, and data
/// sources kept out of the managed count.
#[test]
fn corpus_edge_cases() {
    let Some(shared) = shared() else {
        skip("corpus_edge_cases", "../shared is absent");
        return;
    };
    let legacy = shared.join("corpus/driftctl/state-edge-v4-tf0.12-legacy-provider-addr.tfstate");
    let o = driftlock(&["scan", "--format", "json", legacy.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let data = shared.join("corpus/driftctl/data_source.tfstate");
    let o = driftlock(&["scan", "--format", "json", data.to_str().unwrap()]);
    let r = json(&o);
    assert_eq!(code(&o), 0);
    assert!(r["summary"]["inputs"]["data_sources"].as_u64().unwrap() > 0, "{}", r["summary"]);
}
