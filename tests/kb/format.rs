//! The intent file format: every mistake a support lead can make in a file is refused with the
//! file, line and column where it was made, and a fix they can act on.

use std::path::PathBuf;

use beacon::kb::intents::{Action, KnowledgeBase, LoadError, Problem, Severity, load_dir};
use tempfile::TempDir;

/// A fresh intents directory holding the files one test writes.
struct IntentsDir {
    dir: TempDir,
}

impl IntentsDir {
    fn with_files(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("writing an intent file");
        }
        IntentsDir { dir }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn load(&self) -> Result<KnowledgeBase, LoadError> {
        load_dir(self.dir.path())
    }

    /// Every problem of a knowledge base that must fail to load.
    fn problems(&self) -> Vec<Problem> {
        self.load()
            .expect_err("the knowledge base should be refused")
            .problems
    }

    /// The one problem of a knowledge base that must fail to load for exactly one reason.
    fn only_problem(&self) -> Problem {
        let mut problems = self.problems();
        assert_eq!(problems.len(), 1, "expected one problem, got {problems:#?}");
        problems.remove(0)
    }
}

/// Asserts that `problem` is an error pointing at `file`, `line`, `column`.
fn assert_error_at(problem: &Problem, file: &PathBuf, line: usize, column: usize) {
    assert_eq!(problem.severity, Severity::Error, "{problem}");
    assert_eq!(
        (&problem.file, problem.line, problem.column),
        (file, line, column),
        "{problem}"
    );
    assert!(
        !problem.fix.is_empty(),
        "an error must say how to fix it: {problem}"
    );
}

const VALID_REFUND: &str = r#"[[intent]]
id = "refund-request"
title = "Asking for a refund"
examples = ["how do i get a refund", "i want my money back"]
answer = "Open a ticket and pick Refund."
"#;

#[test]
fn a_string_missing_its_closing_quote_is_reported_at_the_end_of_its_line() {
    // Arrange
    let dir = IntentsDir::with_files(&[(
        "refunds.toml",
        r#"[[intent]]
id = "refund-request"
title = "Asking for a refund
examples = ["how do i get a refund"]
answer = "Open a ticket."
"#,
    )]);

    // Act
    let problem = dir.only_problem();

    // Assert
    assert_error_at(&problem, &dir.file("refunds.toml"), 3, 29);
    assert!(problem.fix.contains("strings need quotes"), "{problem}");
}

#[test]
fn a_misspelled_key_is_reported_where_it_is_written_and_named_in_the_message() {
    // Arrange
    let dir = IntentsDir::with_files(&[(
        "refunds.toml",
        r#"[[intent]]
id = "refund-request"
title = "Asking for a refund"
exmaples = ["how do i get a refund"]
answer = "Open a ticket."
"#,
    )]);

    // Act
    let problem = dir.only_problem();

    // Assert
    assert_error_at(&problem, &dir.file("refunds.toml"), 4, 1);
    assert!(problem.message.contains("exmaples"), "{problem}");
    assert!(
        problem.message.contains("`examples`"),
        "the message should list the keys allowed: {problem}"
    );
    assert!(problem.fix.contains("check the spelling"), "{problem}");
}

#[test]
fn an_intent_without_an_answer_is_reported_at_its_own_intent_table() {
    // Arrange: the second intent of the file lacks its answer.
    let dir = IntentsDir::with_files(&[(
        "refunds.toml",
        r#"[[intent]]
id = "refund-request"
title = "Asking for a refund"
examples = ["how do i get a refund"]
answer = "Open a ticket."

[[intent]]
id = "refund-status"
title = "Where is my refund?"
examples = ["where is my refund"]
"#,
    )]);

    // Act
    let problem = dir.only_problem();

    // Assert
    assert_error_at(&problem, &dir.file("refunds.toml"), 7, 1);
    assert!(
        problem.message.contains("missing field `answer`"),
        "{problem}"
    );
    assert!(problem.fix.contains("add the missing key"), "{problem}");
}

#[test]
fn an_id_with_capitals_and_spaces_is_rejected_with_an_example_of_a_good_id() {
    // Arrange
    let dir = IntentsDir::with_files(&[(
        "refunds.toml",
        r#"[[intent]]
id = "Refund Request"
title = "Asking for a refund"
examples = ["how do i get a refund"]
answer = "Open a ticket."
"#,
    )]);

    // Act
    let problem = dir.only_problem();

    // Assert
    assert_error_at(&problem, &dir.file("refunds.toml"), 2, 6);
    assert!(problem.message.contains("\"Refund Request\""), "{problem}");
    assert!(problem.fix.contains("\"refund-request\""), "{problem}");
}

#[test]
fn a_title_of_81_characters_is_rejected_and_one_of_80_is_accepted() {
    // Arrange
    let text = format!(
        r#"[[intent]]
id = "eighty"
title = "{}"
examples = ["a title as long as allowed"]
answer = "Fine."

[[intent]]
id = "eighty-one"
title = "{}"
examples = ["a title one character too long"]
answer = "Too long."
"#,
        "t".repeat(80),
        "t".repeat(81)
    );
    let dir = IntentsDir::with_files(&[("titles.toml", &text)]);

    // Act
    let problem = dir.only_problem();

    // Assert
    assert_error_at(&problem, &dir.file("titles.toml"), 9, 9);
    assert_eq!(
        problem.message,
        "the title must have 1 to 80 characters (it has 81)"
    );
    assert!(problem.fix.contains("short title"), "{problem}");
}

#[test]
fn an_example_of_punctuation_only_is_rejected_where_it_stands_in_the_list() {
    // Arrange
    let dir = IntentsDir::with_files(&[(
        "refunds.toml",
        r#"[[intent]]
id = "refund-request"
title = "Asking for a refund"
examples = ["how do i get a refund", "?!?"]
answer = "Open a ticket."
"#,
    )]);

    // Act
    let problem = dir.only_problem();

    // Assert
    assert_error_at(&problem, &dir.file("refunds.toml"), 4, 38);
    assert_eq!(problem.message, r#"the example "?!?" has no words"#);
    assert!(
        problem.fix.contains("write the question in words"),
        "{problem}"
    );
}

#[test]
fn an_answer_of_1801_characters_is_rejected_and_one_of_1800_persian_letters_is_accepted() {
    // Arrange: 1,800 Persian letters are 3,600 bytes, and the limit counts characters.
    let text = format!(
        r#"[[intent]]
id = "long-answer"
title = "A long answer"
examples = ["tell me everything"]
answers.fa = "{}"
answer = "{}"
"#,
        "ب".repeat(1_800),
        "a".repeat(1_801)
    );
    let dir = IntentsDir::with_files(&[("long.toml", &text)]);

    // Act
    let problem = dir.only_problem();

    // Assert
    assert_error_at(&problem, &dir.file("long.toml"), 6, 10);
    assert_eq!(
        problem.message,
        "the answer has 1801 characters, more than the 1800 allowed"
    );
    assert!(problem.fix.contains("shorten it"), "{problem}");
}

#[test]
fn an_answer_named_by_a_language_name_instead_of_a_code_is_rejected() {
    // Arrange
    let dir = IntentsDir::with_files(&[(
        "refunds.toml",
        r#"[[intent]]
id = "refund-request"
title = "Asking for a refund"
examples = ["how do i get a refund"]
answer = "Open a ticket."
answers.english = "Open a ticket."
"#,
    )]);

    // Act
    let problem = dir.only_problem();

    // Assert
    assert_error_at(&problem, &dir.file("refunds.toml"), 6, 19);
    assert_eq!(problem.message, r#""english" is not a language code"#);
    assert!(problem.fix.contains("answers.fa"), "{problem}");
}

#[test]
fn an_empty_file_and_a_file_of_comments_each_define_no_intent() {
    // Arrange
    let dir = IntentsDir::with_files(&[
        ("empty.toml", ""),
        ("notes.toml", "# refunds go here one day\n"),
        ("refunds.toml", VALID_REFUND),
    ]);

    // Act
    let problems = dir.problems();

    // Assert
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_error_at(&problems[0], &dir.file("empty.toml"), 1, 1);
    assert_error_at(&problems[1], &dir.file("notes.toml"), 1, 1);
    for p in &problems {
        assert_eq!(p.message, "this file defines no intent");
        assert!(p.fix.contains("delete the file"), "{p}");
    }
}

#[test]
fn a_directory_without_intent_files_is_refused() {
    // Arrange
    let dir = IntentsDir::with_files(&[("README.md", "# intents\n")]);

    // Act
    let problem = dir.only_problem();

    // Assert
    assert_error_at(&problem, &dir.dir.path().to_path_buf(), 1, 1);
    assert_eq!(problem.message, "no intent files (*.toml) here");
}

#[test]
fn the_same_example_under_two_intents_in_two_files_names_both_places() {
    // Arrange: the two spellings differ only in case and punctuation, which matching ignores.
    let dir = IntentsDir::with_files(&[
        ("refunds.toml", VALID_REFUND),
        (
            "shipping.toml",
            r#"# where orders are
[[intent]]
id = "shipping-delay"
title = "My order is late"
examples = ["where is my package", "I want my money back!"]
answer = "Orders take 5 days."
"#,
        ),
    ]);

    // Act
    let problem = dir.only_problem();

    // Assert
    assert_error_at(&problem, &dir.file("shipping.toml"), 5, 36);
    assert_eq!(
        problem.message,
        format!(
            r#"the example "I want my money back!" is also under intent "refund-request" ({}:4:38)"#,
            dir.file("refunds.toml").display()
        )
    );
    assert!(problem.fix.contains("one intent only"), "{problem}");
}

#[test]
fn two_intents_with_the_same_id_in_two_files_are_refused_with_both_places() {
    // Arrange
    let dir = IntentsDir::with_files(&[
        ("a.toml", VALID_REFUND),
        (
            "b.toml",
            r#"[[intent]]
id = "refund-request"
title = "Money back"
examples = ["can you pay me back"]
answer = "Open a ticket."
"#,
        ),
    ]);

    // Act
    let problem = dir.only_problem();

    // Assert
    assert_error_at(&problem, &dir.file("b.toml"), 2, 6);
    assert_eq!(
        problem.message,
        format!(
            r#"the id "refund-request" is already used at {}:2:6"#,
            dir.file("a.toml").display()
        )
    );
    assert!(problem.fix.contains("its own id"), "{problem}");
}

#[test]
fn two_intents_with_the_same_action_are_refused() {
    // Arrange
    let dir = IntentsDir::with_files(&[(
        "people.toml",
        r#"[[intent]]
id = "talk-to-a-person"
title = "Talk to a person"
action = "handoff"
examples = ["i want a human"]
answer = "Getting someone."

[[intent]]
id = "talk-to-a-mod"
title = "Talk to a moderator"
action = "handoff"
examples = ["get me a mod"]
answer = "Getting a moderator."
"#,
    )]);

    // Act
    let problem = dir.only_problem();

    // Assert
    assert_error_at(&problem, &dir.file("people.toml"), 9, 6);
    assert!(
        problem
            .message
            .contains(r#"is already on intent "talk-to-a-person""#),
        "{problem}"
    );
    assert!(
        problem
            .message
            .contains(&format!("{}:2:6", dir.file("people.toml").display())),
        "the message should point at the first intent: {problem}"
    );
    assert!(problem.fix.contains("merge the two intents"), "{problem}");
}

#[test]
fn an_unknown_action_is_refused_with_the_actions_that_exist() {
    // Arrange
    let dir = IntentsDir::with_files(&[(
        "people.toml",
        r#"[[intent]]
id = "talk-to-a-person"
title = "Talk to a person"
action = "teleport"
examples = ["i want a human"]
answer = "Getting someone."
"#,
    )]);

    // Act
    let problem = dir.only_problem();

    // Assert
    assert_error_at(&problem, &dir.file("people.toml"), 4, 10);
    assert!(problem.message.contains("`teleport`"), "{problem}");
    for action in ["`handoff`", "`subscribe`", "`unsubscribe`"] {
        assert!(problem.message.contains(action), "{problem}");
    }
}

#[test]
fn every_error_in_every_file_is_reported_in_one_load() {
    // Arrange: three broken files (one with three errors) around a valid one.
    let dir = IntentsDir::with_files(&[
        (
            "a_account.toml",
            r#"[[intent]]
id = "Account Login"
title = "Can't log in"
examples = ["i cant log in", "???"]
answer = ""
"#,
        ),
        ("b_refunds.toml", VALID_REFUND),
        (
            "c_shipping.toml",
            r#"[[intent]]
id = "shipping-delay"
title = "My order is late"
exmaples = ["where is my package"]
answer = "Orders take 5 days."
"#,
        ),
        ("d_empty.toml", ""),
    ]);

    // Act
    let problems = dir.problems();

    // Assert
    let places: Vec<(PathBuf, usize, usize)> = problems
        .iter()
        .map(|p| (p.file.clone(), p.line, p.column))
        .collect();
    assert_eq!(
        places,
        vec![
            (dir.file("a_account.toml"), 2, 6),
            (dir.file("a_account.toml"), 4, 30),
            (dir.file("a_account.toml"), 5, 10),
            (dir.file("c_shipping.toml"), 4, 1),
            (dir.file("d_empty.toml"), 1, 1),
        ],
        "{problems:#?}"
    );
    assert!(problems.iter().all(|p| p.severity == Severity::Error));
    assert_eq!(problems[2].message, "the answer is empty");
}

#[test]
fn a_misspelled_key_in_one_intent_does_not_hide_a_bad_id_in_another_intent_of_the_file() {
    // Arrange
    let dir = IntentsDir::with_files(&[(
        "refunds.toml",
        r#"[[intent]]
id = "Refund Request"
title = "Asking for a refund"
examples = ["how do i get a refund"]
answer = "Open a ticket."

[[intent]]
id = "refund-status"
title = "Where is my refund?"
exmaples = ["where is my refund"]
answer = "Wait a few days."
"#,
    )]);

    // Act
    let problems = dir.problems();

    // Assert
    let places: Vec<(usize, usize)> = problems.iter().map(|p| (p.line, p.column)).collect();
    assert_eq!(places, [(2, 6), (10, 1)], "{problems:#?}");
}

#[test]
fn a_problem_reads_path_line_column_error_message_then_a_fix_line() {
    // Arrange
    let dir = IntentsDir::with_files(&[(
        "refunds.toml",
        r#"[[intent]]
id = "refund-request"
title = "Asking for a refund"
exmaples = ["how do i get a refund"]
answer = "Open a ticket."
"#,
    )]);
    let problem = dir.only_problem();

    // Act
    let shown = problem.to_string();

    // Assert
    let (first, second) = shown.split_once('\n').expect("two lines");
    assert_eq!(
        first,
        format!(
            "{}:4:1: error: {}",
            dir.file("refunds.toml").display(),
            problem.message
        )
    );
    assert_eq!(second, format!("    fix: {}", problem.fix));
}

#[test]
fn the_load_error_counts_the_errors_then_lists_each_problem() {
    // Arrange
    let dir = IntentsDir::with_files(&[("a.toml", ""), ("b.toml", "")]);
    let error = dir.load().expect_err("two empty files");

    // Act
    let shown = error.to_string();

    // Assert
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines[0], "the knowledge base has 2 error(s):");
    assert_eq!(
        lines[1],
        format!(
            "{}:1:1: error: this file defines no intent",
            dir.file("a.toml").display()
        )
    );
    assert_eq!(lines.len(), 5, "{shown}");
}

#[test]
fn a_valid_file_loads_with_every_field_and_an_answer_per_language() {
    // Arrange
    let dir = IntentsDir::with_files(&[(
        "people.toml",
        r#"# handing over to the team
[[intent]]
id = "talk-to-a-person"
title = "  Talk to a person  "
tags = ["handoff", "human"]
action = "handoff"
examples = [
  "i want a human",
  "میخوام با یه آدم حرف بزنم",
]
never = ["human verification"]
answer = """
Getting someone for you.
"""
answers.fa = "الان یکی از همکاران را صدا می‌کنم."
answers.hy = "Հիմա մարդ կկանչեմ։"
"#,
    )]);

    // Act
    let kb = dir.load().expect("a valid file loads");

    // Assert
    assert_eq!(kb.intents.len(), 1);
    let intent = kb.get("talk-to-a-person").expect("the intent by its id");
    assert_eq!(intent.title, "Talk to a person");
    assert_eq!(intent.tags, ["handoff", "human"]);
    assert_eq!(intent.action, Some(Action::Handoff));
    assert!(!intent.crisis_only);
    assert_eq!(intent.never, ["human verification"]);
    let examples: Vec<(&str, usize, usize)> = intent
        .examples
        .iter()
        .map(|e| (e.text.as_str(), e.at.line, e.at.column))
        .collect();
    assert_eq!(
        examples,
        [
            ("i want a human", 8, 3),
            ("میخوام با یه آدم حرف بزنم", 9, 3)
        ]
    );
    assert_eq!((intent.at.line, intent.at.column), (3, 6));
    assert_eq!(intent.answer, "Getting someone for you.");
    assert_eq!(
        intent.answer_in(Some("fa")),
        ("fa", "الان یکی از همکاران را صدا می‌کنم.")
    );
    assert_eq!(intent.answer_in(Some("hy")), ("hy", "Հիմա մարդ կկանչեմ։"));
    assert_eq!(
        intent.answer_in(Some("de")),
        ("en", "Getting someone for you.")
    );
    assert_eq!(intent.answer_in(None), ("en", "Getting someone for you."));
}

#[cfg(unix)]
#[test]
fn intent_files_and_folders_that_are_symlinks_are_followed() {
    // Arrange: one intent linked in as a file, the starter knowledge base linked as a folder.
    let shared = tempfile::tempdir().expect("a temporary directory");
    let target = shared.path().join("linked.toml");
    std::fs::write(
        &target,
        "[[intent]]\nid = \"linked-topic\"\ntitle = \"Linked\"\nanswer = \"A linked answer.\"\n\
         examples = [\"where is the linked answer\", \"show me the linked one\"]\n",
    )
    .expect("writing the shared intent");
    let kb = IntentsDir::with_files(&[]);
    std::os::unix::fs::symlink(&target, kb.file("linked.toml")).expect("a file link");
    std::os::unix::fs::symlink(crate::starter_intents(), kb.file("starter"))
        .expect("a folder link");

    // Act
    let loaded = kb.load().expect("the linked files load");

    // Assert
    assert!(
        loaded.get("linked-topic").is_some(),
        "the linked file is read"
    );
    assert!(
        loaded.get("refund-request").is_some(),
        "the linked folder is read"
    );
}
