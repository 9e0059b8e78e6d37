//! Summaries, the JUnit file's shape and run comparison.

use super::*;
use crate::db::suites::Grid;

fn run(id: i64) -> RunRow {
    RunRow {
        id,
        description: "d".into(),
        config_path: None,
        grid: Grid {
            prompts: vec!["p".into()],
            providers: vec!["a".into(), "b".into()],
            tests: vec!["t1".into(), "t<2>".into()],
        },
        total: 4,
        status: "done".into(),
        error: None,
        batch_id: None,
        created_at: 0,
        finished_at: None,
        done: 4,
        passed: 2,
    }
}

fn cell(provider: usize, test: usize, pass: bool, output: &str) -> ResultRow {
    let o = Outcome {
        kind: "contains".into(),
        pass,
        score: f64::from(u8::from(pass)),
        weight: 1.0,
        reason: "contains \"x\"".into(),
        judge_grade: None,
    };
    ResultRow {
        prompt: 0,
        provider,
        test,
        output: output.into(),
        error: None,
        pass,
        score: o.score,
        assertions: serde_json::to_string(&[o]).unwrap(),
        latency_ms: Some(50.0),
        prompt_tokens: None,
        completion_tokens: None,
        cost_usd: None,
        cached: false,
    }
}

#[test]
fn summaries_give_pass_rate_score_accuracy_and_diversity_per_prompt_and_provider() {
    let rows = [
        cell(0, 0, true, "the cat sat"),
        cell(0, 1, false, "the cat sat"),
        cell(1, 0, true, "a b c"),
        cell(1, 1, true, "d e f"),
    ];
    let s = summaries(&run(1), &rows);
    assert_eq!(s.len(), 2);
    assert_eq!((s[0].provider.as_str(), s[0].pass_rate), ("a", 0.5));
    assert_eq!(s[0].accuracy, Some(0.5));
    // Two identical outputs: 2 distinct bigrams of 4.
    assert_eq!(s[0].diversity, Some(0.5));
    assert_eq!(s[1].diversity, Some(1.0));
    assert_eq!(s[1].mean_score, 1.0);
}

#[test]
fn junit_has_a_suite_per_prompt_and_provider_and_escapes_text() {
    let mut err = cell(1, 1, false, "");
    err.error = Some("429 & more".into());
    let rows = [cell(0, 0, true, "ok"), cell(0, 1, false, "bad <b>"), err];
    let x = junit(&run(7), &rows);
    assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
    assert!(x.contains("tests=\"3\" failures=\"1\" errors=\"1\""), "{x}");
    assert_eq!(x.matches("<testsuite ").count(), 2);
    assert_eq!(x.matches("<testcase ").count(), 3);
    assert!(x.contains("name=\"t&lt;2&gt;\""), "{x}");
    assert!(x.contains("<failure message=\"contains: contains &quot;x&quot;\" type=\"assertion\">bad &lt;b&gt;</failure>"), "{x}");
    assert!(
        x.contains("<error message=\"429 &amp; more\" type=\"request\"/>"),
        "{x}"
    );
}

#[test]
fn compare_sorts_cells_into_fixed_broken_better_worse_and_unchanged() {
    let a = [
        cell(0, 0, false, "x"),
        cell(0, 1, true, "x"),
        cell(1, 0, true, "x"),
    ];
    let mut better = cell(1, 1, true, "x");
    better.score = 0.5;
    let mut b_better = cell(1, 1, true, "x");
    b_better.score = 0.9;
    let a = [&a[..], &[better]].concat();
    let b = [
        cell(0, 0, true, "y"),
        cell(0, 1, false, "y"),
        cell(1, 0, true, "y"),
        b_better,
    ];
    let c = compare((&run(1), &a), (&run(2), &b));
    assert_eq!(c.fixed.len(), 1);
    assert_eq!(c.fixed[0].test, "t1");
    assert_eq!(c.broken.len(), 1);
    assert_eq!(c.better.len(), 1);
    assert_eq!(c.unchanged, 1);
    assert_eq!((c.only_before, c.only_after), (0, 0));
}

#[test]
fn cells_of_the_same_name_match_in_order_and_never_count_below_zero() {
    // Two tests named alike (no description, the same long first variable).
    let mut same = run(1);
    same.grid.tests = vec!["ctx…".into(), "ctx…".into()];
    let a = [cell(0, 0, true, "x")];
    let b = [cell(0, 0, false, "y"), cell(0, 1, true, "y")];
    let c = compare((&same, &a), (&same, &b));
    assert_eq!(c.broken.len(), 1, "the first after with the first before");
    assert_eq!((c.unchanged, c.only_before, c.only_after), (0, 0, 1));
    let a = [cell(0, 0, true, "x"), cell(0, 1, false, "x")];
    let c = compare((&same, &a), (&same, &b));
    assert_eq!((c.broken.len(), c.fixed.len()), (1, 1));
}

#[test]
fn a_cells_change_is_decided_by_its_verdict_first_then_its_score() {
    assert_eq!(delta((false, 0.9), (true, 0.1)), Delta::Fixed);
    assert_eq!(delta((true, 0.1), (false, 0.9)), Delta::Broken);
    assert_eq!(delta((true, 0.5), (true, 0.75)), Delta::Better);
    assert_eq!(delta((false, 0.5), (false, 0.25)), Delta::Worse);
    assert_eq!(delta((true, 1.0), (true, 1.0)), Delta::Unchanged);
}

#[test]
fn fluency_is_the_judges_rubric_grade_else_its_verdict_on_the_reply() {
    let mut graded = cell(0, 0, true, "x");
    let o = Outcome {
        kind: "llm-rubric".into(),
        pass: true,
        score: 0.8,
        weight: 1.0,
        reason: "judge: 8/10 — fine".into(),
        judge_grade: Some(8),
    };
    graded.assertions = serde_json::to_string(&[o]).unwrap();
    assert_eq!(fluency(&graded, Some(3)), Some(0.8));
    // A rubric named by `metric:` (its kind is that name) is still the judge's grade.
    let mut named = graded.clone();
    named.assertions = named.assertions.replace("\"llm-rubric\"", "\"tone\"");
    assert_eq!(fluency(&named, Some(3)), Some(0.8));
    let plain = cell(0, 1, true, "y");
    assert_eq!(fluency(&plain, Some(6)), Some(0.6));
    assert_eq!(fluency(&plain, None), None);
    let mut grades = HashMap::new();
    grades.insert((0, 0, 1), 6);
    let s = summaries_judged(&run(1), &[graded, plain], &grades);
    assert_eq!(s[0].fluency, Some(0.7));
    assert_eq!(
        summaries(&run(1), &[cell(1, 0, true, "z")])[0].fluency,
        None
    );
}

#[test]
fn fluency_is_the_judges_mean_grade_and_diversity_is_also_given_per_provider() {
    let graded = |provider: usize, test: usize, grade: i64, output: &str| {
        let mut c = cell(provider, test, true, output);
        let o = Outcome {
            kind: "llm-rubric".into(),
            pass: true,
            score: grade as f64 / 10.0,
            weight: 1.0,
            reason: format!("judge: {grade}/10 — fine"),
            judge_grade: Some(grade),
        };
        c.assertions = serde_json::to_string(&[o]).unwrap();
        c
    };
    let rows = [
        graded(0, 0, 8, "the cat sat"),
        graded(0, 1, 6, "the cat sat"),
        cell(1, 0, true, "a b c"),
    ];
    let s = summaries(&run(1), &rows);
    assert_eq!(s[0].fluency, Some(0.7));
    // No graded assertion: no fluency axis (not a made-up zero).
    assert_eq!(s[1].fluency, None);
    let d = provider_diversity(&run(1), &rows);
    assert_eq!(d.len(), 2);
    // "the cat sat" twice: 3 distinct words of 6, 2 distinct bigrams of 4.
    assert_eq!(
        (d[0].outputs, d[0].distinct1, d[0].distinct2),
        (2, Some(0.5), Some(0.5))
    );
    assert_eq!(d[1].distinct1, Some(1.0));
    let json = to_json(&run(1), &rows);
    assert_eq!(json["summaries"][0]["fluency"], 0.7);
    assert_eq!(json["diversity"][1]["distinct2"], 1.0);
}
