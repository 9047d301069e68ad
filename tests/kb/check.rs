//! `beacon intents check` warnings: what in a knowledge base that loads would still confuse
//! customers, found on small knowledge bases written for each test.

use std::collections::BTreeMap;
use std::path::PathBuf;

use beacon::kb::check::{Findings, check};
use beacon::kb::intents::{Example, Intent, KnowledgeBase, Location, Severity, load_dir};

use crate::starter_intents;

fn at(line: usize) -> Location {
    Location {
        file: PathBuf::from("intents/test.toml"),
        line,
        column: 1,
    }
}

/// An intent with these examples and an answer in each of Beacon's four languages. Intent `n`
/// of a knowledge base starts on line `100 * n + 1`, its examples on the lines after it.
fn intent(n: usize, id: &str, examples: &[&str]) -> Intent {
    let first = 100 * n + 1;
    Intent {
        id: id.to_string(),
        title: id.replace('-', " "),
        tags: Vec::new(),
        crisis_only: false,
        action: None,
        examples: examples
            .iter()
            .enumerate()
            .map(|(k, text)| Example {
                text: (*text).to_string(),
                at: at(first + 1 + k),
            })
            .collect(),
        never: Vec::new(),
        answer: format!("The {id} answer."),
        answers: ["fa", "ar", "hy"]
            .into_iter()
            .map(|l| (l.to_string(), format!("The {id} answer in {l}.")))
            .collect::<BTreeMap<_, _>>(),
        at: at(first),
    }
}

fn knowledge_base(intents: &[(&str, &[&str])]) -> KnowledgeBase {
    KnowledgeBase {
        intents: intents
            .iter()
            .enumerate()
            .map(|(n, (id, examples))| intent(n, id, examples))
            .collect(),
    }
}

/// The warnings whose message contains `needle`.
fn warnings_about<'a>(findings: &'a Findings, needle: &str) -> Vec<&'a str> {
    findings
        .problems
        .iter()
        .filter(|p| p.message.contains(needle))
        .map(|p| p.message.as_str())
        .collect()
}

const REFUND: &[&str] = &[
    "how do i get a refund",
    "i want my money back",
    "can i get a refund for my order",
    "refund please",
    "give me my money back",
    "what is your refund policy",
    "am i eligible for a refund",
    "i would like to request a refund",
    "how long does a refund take",
    "can you refund my purchase",
];

const SHIPPING: &[&str] = &[
    "my package has not arrived",
    "where is my package",
    "my package has not arrived yet",
    "my order is late",
    "when will my package arrive",
    "my package still has not arrived",
    "the delivery is late",
    "package not arrived yet where is it",
    "my parcel has not arrived",
    "shipping is taking forever",
];

const LOGIN: &[&str] = &[
    "i cant log in",
    "forgot my password",
    "how do i reset my password",
    "my account is locked",
    "login not working",
    "password reset email never came",
    "locked out of my account",
    "cant sign in",
    "two factor code is invalid",
    "lost my authenticator app",
];

#[test]
fn an_intent_without_an_armenian_answer_gets_a_warning_naming_the_language() {
    // Arrange
    let mut kb = knowledge_base(&[("refund-request", REFUND), ("account-login", LOGIN)]);
    kb.intents[0].answers.remove("hy");

    // Act
    let findings = check(&kb);

    // Assert
    let missing: Vec<_> = findings
        .problems
        .iter()
        .filter(|p| p.message.contains("answer ("))
        .collect();
    assert_eq!(missing.len(), 1, "{missing:#?}");
    let warning = missing[0];
    assert_eq!(warning.severity, Severity::Warning);
    assert_eq!(
        warning.message,
        r#"intent "refund-request" has no Armenian answer (hy)"#
    );
    assert_eq!((warning.line, warning.column), (1, 1));
    assert_eq!(
        warning.fix,
        "add answers.hy; until then Armenian speakers get the English answer"
    );
}

#[test]
fn an_intent_without_persian_examples_is_warned_that_persian_questions_will_miss_it() {
    // Arrange: English examples only.
    let kb = knowledge_base(&[("refund-request", REFUND), ("account-login", LOGIN)]);

    // Act
    let findings = check(&kb);

    // Assert
    assert_eq!(
        warnings_about(&findings, "in Persian"),
        [
            r#"intent "refund-request" has 0 example(s) in Persian; questions in Persian will often miss it"#,
            r#"intent "account-login" has 0 example(s) in Persian; questions in Persian will often miss it"#,
        ]
    );
    assert!(
        warnings_about(&findings, "in English").is_empty(),
        "ten English examples are enough: {:#?}",
        findings.problems
    );
}

#[test]
fn four_persian_examples_are_too_few_and_five_are_enough() {
    // Arrange
    let persian = [
        "پولمو چطوری پس بگیرم",
        "میخوام پولمو پس بگیرم",
        "ریفاند میدین؟",
        "شرایط برگشت پول چیه",
        "محصول خراب بود پولمو میخوام",
    ];
    let four: Vec<&str> = REFUND.iter().chain(&persian[..4]).copied().collect();
    let five: Vec<&str> = REFUND.iter().chain(&persian).copied().collect();
    let with_four = knowledge_base(&[("refund-request", &four), ("account-login", LOGIN)]);
    let with_five = knowledge_base(&[("refund-request", &five), ("account-login", LOGIN)]);

    // Act
    let four_findings = check(&with_four);
    let five_findings = check(&with_five);

    // Assert
    assert_eq!(
        warnings_about(
            &four_findings,
            r#""refund-request" has 4 example(s) in Persian"#
        )
        .len(),
        1
    );
    assert!(
        warnings_about(&five_findings, r#""refund-request" has"#)
            .iter()
            .all(|w| !w.contains("in Persian"))
    );
}

#[test]
fn two_intents_whose_examples_say_the_same_thing_look_alike() {
    // Arrange
    let kb = knowledge_base(&[
        (
            "reset-password",
            &[
                "how do i reset my password",
                "reset my password please",
                "i need to reset my password",
                "help me reset my password",
                "password reset help",
                "i want to reset my password",
            ],
        ),
        (
            "forgot-password",
            &[
                "how can i reset my password",
                "reset my password pls",
                "i have to reset my password",
                "please help me reset my password",
                "password reset please",
                "i would like to reset my password",
            ],
        ),
        ("shipping-delay", SHIPPING),
    ]);

    // Act
    let findings = check(&kb);

    // Assert
    let alike = warnings_about(&findings, "look alike");
    assert_eq!(
        alike,
        [
            r#"intents "reset-password" and "forgot-password" look alike: 100% of their examples match the other one"#
        ],
        "{:#?}",
        findings.problems
    );
}

#[test]
fn an_example_under_the_wrong_intent_is_reported_as_matching_the_other_one() {
    // Arrange: a shipping question among the refund examples.
    let misplaced = "my package has still not arrived, where is it";
    let refunds: Vec<&str> = REFUND.iter().copied().chain([misplaced]).collect();
    let kb = knowledge_base(&[
        ("refund-request", &refunds),
        ("shipping-delay", SHIPPING),
        ("account-login", LOGIN),
    ]);

    // Act
    let findings = check(&kb);

    // Assert
    let wrong = warnings_about(&findings, "better");
    assert_eq!(wrong.len(), 1, "{:#?}", findings.problems);
    assert!(
        wrong[0].starts_with(&format!(
            r#"the example "{misplaced}" under "refund-request" matches "shipping-delay" better ("#
        )),
        "{}",
        wrong[0]
    );
    let warning = findings
        .problems
        .iter()
        .find(|p| p.message == wrong[0])
        .expect("the warning");
    assert_eq!(warning.line, 12, "the warning points at the example itself");
}

#[test]
fn a_well_separated_knowledge_base_has_no_confusion_warnings() {
    // Arrange
    let kb = knowledge_base(&[
        ("refund-request", REFUND),
        ("shipping-delay", SHIPPING),
        ("account-login", LOGIN),
    ]);

    // Act
    let findings = check(&kb);

    // Assert
    assert!(warnings_about(&findings, "look alike").is_empty());
    assert!(warnings_about(&findings, "better").is_empty());
    assert_eq!(findings.held_out_total, 30, "each example is held out once");
}

#[test]
fn warnings_are_listed_in_file_order() {
    // Arrange
    let mut kb = knowledge_base(&[("refund-request", REFUND), ("account-login", LOGIN)]);
    kb.intents[1].answers.clear();

    // Act
    let findings = check(&kb);

    // Assert
    let lines: Vec<usize> = findings.problems.iter().map(|p| p.line).collect();
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted);
    assert!(lines.contains(&101), "the second intent is warned about");
}

#[test]
fn the_starter_knowledge_base_loads_without_errors_and_answers_in_four_languages() {
    // Arrange
    let dir = starter_intents();

    // Act
    let loaded = load_dir(&dir);

    // Assert
    let kb = match loaded {
        Ok(kb) => kb,
        Err(e) => panic!("the starter knowledge base should load:\n{e}"),
    };
    assert_eq!(kb.intents.len(), 21);
    for intent in &kb.intents {
        let langs: Vec<&str> = intent.answers.keys().map(String::as_str).collect();
        assert_eq!(langs, ["ar", "fa", "hy"], "answers of {}", intent.id);
    }
}
