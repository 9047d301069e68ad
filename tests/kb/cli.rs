//! The `beacon` command line, run as a built binary the way a support lead runs it.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;

use beacon::kb::intents::load_dir;
use beacon::kb::matcher::Thresholds;
use serde_json::Value;
use tempfile::TempDir;

use crate::starter_intents;

/// What one run of `beacon` printed.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the built `beacon` binary with these arguments (strings and paths alike).
fn beacon(args: &[&dyn AsRef<OsStr>]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("running beacon");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 on stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 on stderr"),
    }
}

fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("writing a test file");
    path
}

/// The one JSON object `beacon eval` prints, after checking it has exactly the report's keys.
fn eval_report(run: &Run) -> serde_json::Map<String, Value> {
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line of JSON: {}", run.stdout);
    let Value::Object(report) = serde_json::from_str(lines[0]).expect("valid JSON") else {
        panic!("not a JSON object: {}", run.stdout);
    };
    let mut keys: Vec<&str> = report.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = [
        "queries",
        "in_scope",
        "out_of_scope",
        "top1_accuracy",
        "answered_precision",
        "coverage",
        "oos_abstain",
        "threshold",
        "build_ms",
        "p50_us",
        "p99_us",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    for ratio in ["top1_accuracy", "answered_precision", "coverage"] {
        let value = report[ratio].as_f64().expect("a number");
        assert!((0.0..=1.0).contains(&value), "{ratio} = {value}");
    }
    let p50 = report["p50_us"].as_u64().expect("an integer");
    let p99 = report["p99_us"].as_u64().expect("an integer");
    assert!(p50 <= p99, "p50 {p50} > p99 {p99}");
    assert!(report["build_ms"].is_u64());
    report
}

fn count(report: &serde_json::Map<String, Value>, key: &str) -> u64 {
    report[key].as_u64().expect("a count")
}

fn assert_threshold(report: &serde_json::Map<String, Value>, expected: f32) {
    let threshold = report["threshold"].as_f64().expect("a number");
    assert!(
        (threshold - f64::from(expected)).abs() < 1e-6,
        "threshold {threshold}, expected {expected}"
    );
}

const KB_CSV: &str = "text,intent
how do i get a refund,refund
i want my money back,refund
refund please,refund
can you refund my order,refund
where is my package,shipping
my order has not arrived,shipping
my package is late,shipping
when will my order arrive,shipping
i cant log in,login
forgot my password,login
reset my password,login
my account is locked,login
";

#[test]
fn ask_answers_a_refund_question_with_the_decision_then_the_answer() {
    // Arrange
    let intents = starter_intents();
    let kb = load_dir(&intents).expect("the starter knowledge base");
    let refund = kb.get("refund-request").expect("the refund intent");

    // Act
    let run = beacon(&[&"ask", &"how do I get a refund", &"--intents", &intents]);

    // Assert
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "decision: answer (refund-request)");
    assert_eq!(lines[1], "language: en");
    assert_eq!(lines[2], "top intents:");
    assert!(lines[3].starts_with("  1. refund-request "), "{}", lines[3]);
    assert!(
        run.stdout
            .ends_with(&format!("answer (en):\n{}\n", refund.answer)),
        "{}",
        run.stdout
    );
}

#[test]
fn ask_answers_in_the_language_of_the_question() {
    // Arrange
    let intents = starter_intents();
    let kb = load_dir(&intents).expect("the starter knowledge base");
    let persian = &kb.get("refund-request").expect("the refund intent").answers["fa"];

    // Act
    let run = beacon(&[
        &"ask",
        &"چطور میتونم پولمو پس بگیرم؟",
        &"--intents",
        &intents,
    ]);

    // Assert
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(
        run.stdout
            .starts_with("decision: answer (refund-request)\nlanguage: fa\n")
    );
    assert!(
        run.stdout.ends_with(&format!("answer (fa):\n{persian}\n")),
        "{}",
        run.stdout
    );
}

#[test]
fn ask_keeps_a_crisis_question_for_crisis_mode() {
    // Arrange
    let intents = starter_intents();
    let question = "is the site down right now?";

    // Act
    let calm = beacon(&[&"ask", &question, &"--intents", &intents]);
    let crisis = beacon(&[&"ask", &question, &"--intents", &intents, &"--crisis"]);

    // Assert
    assert_eq!(calm.code, Some(0), "stderr: {}", calm.stderr);
    assert!(
        calm.stdout.starts_with("decision: abstain\n"),
        "{}",
        calm.stdout
    );
    assert!(
        calm.stdout
            .lines()
            .any(|l| l.starts_with("  1. crisis-service-status") && l.ends_with("[crisis only]")),
        "{}",
        calm.stdout
    );
    assert!(
        calm.stdout
            .ends_with("no answer: the bot would offer a ticket\n")
    );
    assert!(
        crisis
            .stdout
            .starts_with("decision: answer (crisis-service-status)\n"),
        "{}",
        crisis.stdout
    );
    assert!(!crisis.stdout.contains("[crisis only]"));
}

#[test]
fn ask_with_a_broken_knowledge_base_prints_the_problems_and_fails() {
    // Arrange
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write(
        &dir,
        "refunds.toml",
        "[[intent]]\nid = \"refund-request\"\n",
    );

    // Act
    let run = beacon(&[&"ask", &"refund?", &"--intents", &dir.path()]);

    // Assert
    assert_eq!(run.code, Some(1));
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr
            .contains(&format!("{}:1:1: error: missing field", file.display())),
        "{}",
        run.stderr
    );
}

#[test]
fn intents_check_on_a_broken_directory_exits_non_zero_and_points_at_each_error() {
    // Arrange
    let dir = tempfile::tempdir().expect("a temporary directory");
    let misspelled = write(
        &dir,
        "refunds.toml",
        r#"[[intent]]
id = "refund-request"
title = "Asking for a refund"
exmaples = ["how do i get a refund"]
answer = "Open a ticket."
"#,
    );
    let bad_id = write(
        &dir,
        "shipping.toml",
        r#"[[intent]]
id = "Shipping Delay"
title = "My order is late"
examples = ["where is my package"]
answer = "Orders take 5 days."
"#,
    );

    // Act
    let run = beacon(&[&"intents", &"check", &dir.path()]);

    // Assert
    assert_eq!(run.code, Some(1));
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "{}:4:1: error: unknown field `exmaples`",
            misspelled.display()
        )),
        "{}",
        run.stderr
    );
    assert!(lines[1].starts_with("    fix: "), "{}", run.stderr);
    assert!(
        lines[2].starts_with(&format!(
            "{}:2:6: error: the id \"Shipping Delay\"",
            bad_id.display()
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        lines.last().copied(),
        Some("2 error(s): the knowledge base cannot be loaded")
    );
}

#[test]
fn intents_check_on_the_starter_knowledge_base_exits_zero_with_a_summary() {
    // Arrange
    let intents = starter_intents();
    let kb = load_dir(&intents).expect("the starter knowledge base");
    let examples: usize = kb.intents.iter().map(|i| i.examples.len()).sum();

    // Act
    let run = beacon(&[&"intents", &"check", &intents]);

    // Assert
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let summary = format!(
        "{} intents, {examples} examples: 0 errors, ",
        kb.intents.len()
    );
    assert!(
        run.stdout.lines().any(|l| l.starts_with(&summary)),
        "no line starts with {summary:?}:\n{}",
        run.stdout
    );
    let held_out = run.stdout.lines().last().expect("a last line").to_string();
    assert!(
        held_out.starts_with("held out in turn, ")
            && held_out.contains(&format!(" of {examples} examples (")),
        "{held_out}"
    );
    assert!(
        run.stdout
            .lines()
            .filter(|l| l.contains(": warning: "))
            .all(|l| l.starts_with(&*intents.to_string_lossy())),
        "every warning names its file"
    );
}

#[test]
fn eval_on_csv_files_prints_one_json_report_with_null_oos_abstain_when_all_are_in_scope() {
    // Arrange
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kb = write(&dir, "kb.csv", KB_CSV);
    let queries = write(
        &dir,
        "queries.csv",
        "text,intent
can i have a refund,refund
my package has not arrived yet,shipping
i forgot my password,login
",
    );

    // Act
    let run = beacon(&[&"eval", &"--kb", &kb, &"--queries", &queries]);

    // Assert
    let report = eval_report(&run);
    assert_eq!(count(&report, "queries"), 3);
    assert_eq!(count(&report, "in_scope"), 3);
    assert_eq!(count(&report, "out_of_scope"), 0);
    assert_eq!(report["oos_abstain"], Value::Null);
    assert_eq!(report["top1_accuracy"].as_f64(), Some(1.0));
    assert_threshold(&report, Thresholds::default().answer);
}

#[test]
fn eval_counts_rows_without_an_intent_as_out_of_scope() {
    // Arrange
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kb = write(&dir, "kb.csv", KB_CSV);
    let queries = write(
        &dir,
        "queries.csv",
        "text,intent
can i have a refund,refund
my package has not arrived yet,shipping
what's the capital of france,
tell me a joke about cats,
how tall is mount everest,
",
    );

    // Act
    let run = beacon(&[
        &"eval",
        &"--kb",
        &kb,
        &"--queries",
        &queries,
        &"--threshold",
        &"0.8",
    ]);

    // Assert
    let report = eval_report(&run);
    assert_eq!(count(&report, "queries"), 5);
    assert_eq!(count(&report, "in_scope"), 2);
    assert_eq!(count(&report, "out_of_scope"), 3);
    let oos_abstain = report["oos_abstain"].as_f64().expect("a share");
    assert!((0.0..=1.0).contains(&oos_abstain), "{oos_abstain}");
    assert_threshold(&report, 0.8);
}

#[test]
fn eval_accepts_an_intents_directory_as_the_knowledge_base() {
    // Arrange
    let dir = tempfile::tempdir().expect("a temporary directory");
    let queries = write(
        &dir,
        "queries.csv",
        "text,intent
How can I get my money back for this order,refund-request
I was charged twice,double-charge
what's the capital of France,
",
    );

    // Act
    let run = beacon(&[&"eval", &"--kb", &starter_intents(), &"--queries", &queries]);

    // Assert
    let report = eval_report(&run);
    assert_eq!(count(&report, "queries"), 3);
    assert_eq!(count(&report, "in_scope"), 2);
    assert_eq!(count(&report, "out_of_scope"), 1);
    assert_eq!(report["top1_accuracy"].as_f64(), Some(1.0));
    assert_eq!(report["coverage"].as_f64(), Some(1.0));
    assert_eq!(report["answered_precision"].as_f64(), Some(1.0));
    assert_eq!(report["oos_abstain"].as_f64(), Some(1.0));
}

#[test]
fn eval_with_a_missing_queries_file_fails_naming_the_file() {
    // Arrange
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kb = write(&dir, "kb.csv", KB_CSV);
    let missing = dir.path().join("nowhere.csv");

    // Act
    let run = beacon(&[&"eval", &"--kb", &kb, &"--queries", &missing]);

    // Assert
    assert_eq!(run.code, Some(1));
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr
            .starts_with(&format!("error: cannot open {}", missing.display())),
        "{}",
        run.stderr
    );
}

#[test]
fn eval_names_the_row_of_a_malformed_csv_line() {
    // Arrange
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kb = write(&dir, "kb.csv", KB_CSV);
    let queries = write(
        &dir,
        "queries.csv",
        "text,intent\nrefund please,refund\nthree,columns,here\n",
    );

    // Act
    let run = beacon(&[&"eval", &"--kb", &kb, &"--queries", &queries]);

    // Assert
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains(&format!(
            "{}: row 3 is not `text,intent`",
            queries.display()
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn eval_refuses_a_folder_or_an_empty_csv_as_the_queries() {
    // Arrange
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kb = write(&dir, "kb.csv", KB_CSV);
    let empty = write(&dir, "empty.csv", "text,intent\n");

    // Act
    let folder = beacon(&[&"eval", &"--kb", &kb, &"--queries", &dir.path()]);
    let nothing = beacon(&[&"eval", &"--kb", &kb, &"--queries", &empty]);
    let empty_kb = beacon(&[&"eval", &"--kb", &empty, &"--queries", &kb]);

    // Assert
    assert_eq!(folder.code, Some(1));
    assert!(folder.stderr.contains("is a folder"), "{}", folder.stderr);
    for run in [&nothing, &empty_kb] {
        assert_eq!(run.code, Some(1));
        assert!(run.stdout.is_empty(), "no report: {}", run.stdout);
        assert!(
            run.stderr.contains("empty.csv holds no rows"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn ask_and_intents_check_read_the_folder_from_beacon_intents() {
    // Arrange: the starter knowledge base, elsewhere than ./intents.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_beacon"))
            .args(args)
            .current_dir(dir.path())
            .env("BEACON_INTENTS", starter_intents())
            .output()
            .expect("running beacon")
    };

    // Act
    let ask = run(&["ask", "how do I get a refund"]);
    let check = run(&["intents", "check"]);

    // Assert
    assert!(
        ask.status.success(),
        "{}",
        String::from_utf8_lossy(&ask.stderr)
    );
    assert!(String::from_utf8_lossy(&ask.stdout).starts_with("decision: answer (refund-request)"));
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}
