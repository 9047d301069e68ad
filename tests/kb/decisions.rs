//! What the starter knowledge base answers, suggests and leaves alone, in each language Beacon
//! serves; and the decision rule on its own.
//!
//! The questions below are paraphrases a customer could write, not copies of the examples in
//! `intents/`: each test checks that first, so a test never passes because a phrasing was
//! learnt by heart.

use std::sync::LazyLock;

use beacon::kb::faq::{Context, Faq, Outcome, Reply};
use beacon::kb::intents::{Action, load_dir};
use beacon::kb::lang;
use beacon::kb::matcher::{Candidate, Decision, Thresholds};
use beacon::kb::normalize::normalize;
use proptest::prelude::*;

use crate::starter_intents;

/// The starter knowledge base, trained once for the whole module.
static STARTER: LazyLock<Faq> = LazyLock::new(|| {
    let kb = load_dir(&starter_intents()).expect("the starter knowledge base loads");
    Faq::new(kb, Thresholds::default())
});

const CALM: Context = Context { crisis: false };
const CRISIS: Context = Context { crisis: true };

/// Panics if `question` is, once normalised, one of the knowledge base's own examples.
fn assert_not_an_example(question: &str) {
    let asked = normalize(question);
    for intent in &STARTER.knowledge_base().intents {
        for example in &intent.examples {
            assert_ne!(
                normalize(&example.text),
                asked,
                "{question:?} is an example of {} ({}); pick a paraphrase",
                intent.id,
                example.at
            );
        }
    }
}

fn answered<'a>(reply: &Reply<'a>) -> Option<&'a str> {
    match &reply.outcome {
        Outcome::Answer(intent) => Some(intent.id.as_str()),
        _ => None,
    }
}

fn describe(reply: &Reply<'_>) -> String {
    let outcome = match &reply.outcome {
        Outcome::Answer(i) => format!("answer {}", i.id),
        Outcome::Suggest(list) => {
            let ids: Vec<&str> = list.iter().map(|i| i.id.as_str()).collect();
            format!("suggest {}", ids.join(", "))
        }
        Outcome::Abstain => "abstain".to_string(),
    };
    let top: Vec<String> = reply
        .top
        .iter()
        .map(|s| format!("{} {:.2}", s.intent.id, s.confidence))
        .collect();
    format!("{outcome} (lang {:?}; top: {})", reply.lang, top.join(", "))
}

/// Asserts that each question, in `lang`, is answered by its intent with the answer written in
/// `lang` (the default answer for English).
fn assert_answered_in(lang: &str, questions: &[(&str, &str)]) {
    for &(question, expected) in questions {
        // Arrange
        assert_not_an_example(question);

        // Act
        let reply = STARTER.ask(question, CALM);

        // Assert
        assert_eq!(
            answered(&reply),
            Some(expected),
            "{question:?}: {}",
            describe(&reply)
        );
        assert_eq!(reply.lang, Some(lang), "{question:?}");
        let intent = STARTER.intent(expected).expect("the intent exists");
        let text = if lang == "en" {
            intent.answer.as_str()
        } else {
            intent.answers[lang].as_str()
        };
        assert_eq!(reply.answer_text(), Some((lang, text)), "{question:?}");
    }
}

#[test]
fn english_paraphrases_are_answered_by_the_right_intent_in_english() {
    assert_answered_in(
        "en",
        &[
            (
                "How can I get my money back for this order",
                "refund-request",
            ),
            (
                "where's the refund you promised me last week",
                "refund-status",
            ),
            ("I forgot my password and can't sign in", "account-login"),
            (
                "how do I change the email address on my account",
                "account-change-email",
            ),
            ("my package hasn't arrived yet", "shipping-delay"),
            ("where can I find my tracking number", "order-tracking"),
            ("I need to cancel my order", "cancel-order"),
            ("how do I cancel my membership", "cancel-subscription"),
            ("my card was declined", "payment-failed"),
            ("I was charged twice", "double-charge"),
            ("can I get an invoice for my purchase", "invoice-request"),
            ("I have a suggestion for the server", "give-feedback"),
            ("stop sending me messages", "unsubscribe-updates"),
            ("I want to get notified about news", "subscribe-updates"),
        ],
    );
}

#[test]
fn persian_paraphrases_are_answered_by_the_right_intent_in_persian() {
    assert_answered_in(
        "fa",
        &[
            ("سلام، میخوام پولم رو پس بگیرم", "refund-request"),
            ("چطور میتونم پولمو پس بگیرم؟", "refund-request"),
            ("رمز عبورم یادم رفته و نمیتونم وارد بشم", "account-login"),
            ("ایمیل حسابمو میخوام عوض کنم", "account-change-email"),
            ("چطوری کد رهگیری سفارشمو پیدا کنم", "order-tracking"),
            ("سفارشمو میخوام کنسل کنم", "cancel-order"),
            ("میخوام اشتراک پولیمو لغو کنم", "cancel-subscription"),
            ("کارتم موقع پرداخت رد شد", "payment-failed"),
            ("دو بار ازم پول کم شد", "double-charge"),
            ("فاکتور خریدمو میخوام", "invoice-request"),
            ("یه پیشنهاد برای سرور دارم", "give-feedback"),
        ],
    );
}

#[test]
fn arabic_paraphrases_are_answered_by_the_right_intent_in_arabic() {
    assert_answered_in(
        "ar",
        &[
            ("أبغى أسترجع فلوسي", "refund-request"),
            ("أريد استرداد أموالي من فضلك", "refund-request"),
            ("نسيت كلمة السر ومش قادر أدخل حسابي", "account-login"),
            ("كيف أغير الإيميل تبع حسابي", "account-change-email"),
            ("وين رقم التتبع تبع طلبي", "order-tracking"),
            ("بدي ألغي طلبي", "cancel-order"),
            ("بدي ألغي الاشتراك المدفوع", "cancel-subscription"),
            ("البطاقة انرفضت وقت الدفع", "payment-failed"),
            ("انسحب المبلغ مرتين من بطاقتي", "double-charge"),
            ("أريد فاتورة لمشترياتي", "invoice-request"),
            ("ممكن أسترد فلوسي؟", "refund-request"),
            ("عندي اقتراح للسيرفر", "give-feedback"),
        ],
    );
}

#[test]
fn armenian_paraphrases_are_answered_by_the_right_intent_in_armenian() {
    assert_answered_in(
        "hy",
        &[
            ("ուզում եմ գումարս հետ ստանալ", "refund-request"),
            ("ինչպես կարող եմ փողս հետ ստանալ", "refund-request"),
            (
                "գաղտնաբառս մոռացել եմ ու չեմ կարողանում մտնել",
                "account-login",
            ),
            ("ինչպես փոխեմ իմ հաշվի էլ. փոստը", "account-change-email"),
            ("որտեղ գտնեմ պատվերիս հետևման համարը", "order-tracking"),
            ("ուզում եմ պատվերս չեղարկել, խնդրում եմ", "cancel-order"),
            (
                "ուզում եմ բաժանորդագրությունս չեղարկել",
                "cancel-subscription",
            ),
            ("քարտս մերժվեց վճարելիս", "payment-failed"),
            ("երկու անգամ գումար են գանձել քարտիցս", "double-charge"),
            ("ուզում եմ հաշիվ-ապրանքագիր ստանալ", "invoice-request"),
        ],
    );
}

#[test]
fn asking_for_a_person_in_any_of_the_four_languages_hands_over_in_that_language() {
    // Arrange
    let asks = [
        ("en", "let me talk to a human please"),
        ("en", "I want to talk to a real person"),
        ("fa", "با یه انسان واقعی میخوام صحبت کنم"),
        ("fa", "میخوام با یه نفر از پشتیبانی حرف بزنم"),
        ("ar", "أريد التحدث مع موظف حقيقي"),
        ("ar", "ممكن أحكي مع حدا من فريق الدعم"),
        ("hy", "խնդրում եմ միացրեք ինձ իրական մարդու հետ"),
        ("hy", "իրական մարդ եմ ուզում, ոչ թե բոտ"),
    ];
    let handoff = STARTER
        .intent("talk-to-a-person")
        .expect("the handoff intent");
    assert_eq!(handoff.action, Some(Action::Handoff));

    for (lang, question) in asks {
        assert_not_an_example(question);

        // Act
        let reply = STARTER.ask(question, CALM);

        // Assert
        assert_eq!(
            answered(&reply),
            Some("talk-to-a-person"),
            "{question:?}: {}",
            describe(&reply)
        );
        assert_eq!(
            reply.answer_text().map(|(l, _)| l),
            Some(lang),
            "{question:?}"
        );
    }
}

#[test]
fn a_crisis_question_is_recognised_but_not_answered_outside_a_crisis() {
    // Arrange
    let question = "is the site down right now?";
    assert_not_an_example(question);

    // Act
    let reply = STARTER.ask(question, CALM);

    // Assert
    assert_eq!(answered(&reply), None, "{}", describe(&reply));
    assert_eq!(reply.top[0].intent.id, "crisis-service-status");
    if let Outcome::Suggest(list) = &reply.outcome {
        assert!(
            list.iter().all(|i| !i.crisis_only),
            "a crisis-only intent is offered outside a crisis: {}",
            describe(&reply)
        );
    }
}

#[test]
fn a_crisis_question_is_answered_by_the_crisis_intent_during_a_crisis() {
    // Arrange
    let question = "is the site down right now?";

    // Act
    let reply = STARTER.ask(question, CRISIS);

    // Assert
    assert_eq!(
        answered(&reply),
        Some("crisis-service-status"),
        "{}",
        describe(&reply)
    );
    let intent = STARTER.intent("crisis-service-status").expect("the intent");
    assert!(intent.crisis_only);
    assert_eq!(reply.answer_text(), Some(("en", intent.answer.as_str())));
}

#[test]
fn a_crisis_question_in_each_language_is_answered_in_that_language_during_a_crisis_only() {
    for (lang, question) in [
        ("en", "is the whole service down for everyone right now?"),
        ("fa", "سایت از دسترس خارج شده؟"),
        ("ar", "هل في عطل بالخدمة الآن؟"),
        ("hy", "սերվիսը հիմա չի աշխատում, խափանում կա՞"),
    ] {
        // Arrange
        assert_not_an_example(question);

        // Act
        let calm = STARTER.ask(question, CALM);
        let crisis = STARTER.ask(question, CRISIS);

        // Assert
        assert_eq!(answered(&calm), None, "{question:?}: {}", describe(&calm));
        assert_eq!(
            answered(&crisis),
            Some("crisis-service-status"),
            "{question:?}: {}",
            describe(&crisis)
        );
        assert_eq!(crisis.answer_text().map(|(l, _)| l), Some(lang));
    }
}

#[test]
fn a_never_phrase_stops_its_intent_from_answering() {
    // Arrange: account-login's never-phrases include "discord password", since Beacon cannot
    // reset Discord's own passwords.
    let about_discord = "I forgot my discord password";
    let about_the_shop = "I forgot my password";
    assert_not_an_example(about_discord);
    assert_not_an_example(about_the_shop);

    // Act
    let blocked = STARTER.ask(about_discord, CALM);
    let allowed = STARTER.ask(about_the_shop, CALM);

    // Assert
    assert_eq!(blocked.top[0].intent.id, "account-login");
    assert!(
        matches!(blocked.outcome, Outcome::Abstain),
        "{}",
        describe(&blocked)
    );
    assert_eq!(answered(&allowed), Some("account-login"));
}

#[test]
fn a_never_phrase_blocks_its_intent_in_a_crisis_too() {
    // Arrange: crisis-service-status is not the place for "download".
    let question = "is the download down?";

    // Act
    let reply = STARTER.ask(question, CRISIS);

    // Assert
    assert_eq!(reply.top[0].intent.id, "crisis-service-status");
    assert!(
        matches!(reply.outcome, Outcome::Abstain),
        "{}",
        describe(&reply)
    );
}

#[test]
fn questions_outside_the_knowledge_base_are_not_answered() {
    for question in [
        "what's the capital of France",
        "tell me a joke about cats",
        "how tall is mount everest",
        "what is the weather today",
        "who won the world cup",
    ] {
        // Act
        let reply = STARTER.ask(question, CALM);

        // Assert
        assert_eq!(answered(&reply), None, "{question:?}: {}", describe(&reply));
    }
}

/// Asserts what must hold for any reply: confidences are probabilities, best first, and the
/// outcome agrees with them.
fn assert_well_formed(reply: &Reply<'_>) {
    for scored in &reply.top {
        assert!(
            (0.0..=1.0).contains(&scored.confidence),
            "{}",
            describe(reply)
        );
    }
    assert!(
        reply
            .top
            .windows(2)
            .all(|w| w[0].confidence >= w[1].confidence),
        "{}",
        describe(reply)
    );
    match &reply.outcome {
        Outcome::Answer(intent) => assert!(
            reply
                .top
                .iter()
                .any(|s| s.intent.id == intent.id && s.confidence >= STARTER.thresholds().answer),
            "{}",
            describe(reply)
        ),
        Outcome::Suggest(list) => assert!((1..=3).contains(&list.len()), "{}", describe(reply)),
        Outcome::Abstain => {}
    }
    if let Some(l) = reply.lang {
        assert!(lang::SUPPORTED.contains(&l), "{l}");
    }
}

#[test]
fn an_empty_question_is_abstained_from_with_no_candidates() {
    // Act
    let reply = STARTER.ask("", CALM);

    // Assert
    assert!(matches!(reply.outcome, Outcome::Abstain));
    assert!(reply.top.is_empty());
    assert_eq!(reply.lang, None);
}

#[test]
fn a_question_of_whitespace_is_abstained_from() {
    // Act
    let reply = STARTER.ask("   \n\t \u{3000} ", CALM);

    // Assert
    assert!(matches!(reply.outcome, Outcome::Abstain));
    assert!(reply.top.is_empty());
}

#[test]
fn a_question_of_emoji_only_is_abstained_from() {
    // Act
    let reply = STARTER.ask("🙂🙂🎉💸", CALM);

    // Assert
    assert!(matches!(reply.outcome, Outcome::Abstain));
    assert!(reply.top.is_empty());
    assert_eq!(reply.lang, None);
}

#[test]
fn a_question_of_invisible_characters_is_abstained_from() {
    // Act
    let reply = STARTER.ask("\u{200b}\u{200d}\u{feff}", CALM);

    // Assert
    assert!(matches!(reply.outcome, Outcome::Abstain));
    assert!(reply.top.is_empty());
}

#[test]
fn a_message_of_ten_thousand_characters_gets_a_decision() {
    // Arrange
    let question: String = "my order has not arrived yet "
        .repeat(400)
        .chars()
        .take(10_000)
        .collect();
    assert_eq!(question.chars().count(), 10_000);

    // Act
    let reply = STARTER.ask(&question, CALM);

    // Assert
    assert_well_formed(&reply);
    assert_eq!(reply.top[0].intent.id, "shipping-delay");
    assert_eq!(reply.lang, Some("en"));
}

#[test]
fn control_characters_only_separate_words() {
    // Arrange
    let question = "\u{0}\u{7}refund\u{1b}[31m please\r\n\t";

    // Act
    let reply = STARTER.ask(question, CALM);

    // Assert
    assert_well_formed(&reply);
    assert_eq!(
        answered(&reply),
        Some("refund-request"),
        "{}",
        describe(&reply)
    );
}

#[test]
fn a_persian_question_with_an_english_product_word_is_answered_in_persian() {
    // Arrange
    let question = "سلام refund میخوام";
    assert_not_an_example(question);

    // Act
    let reply = STARTER.ask(question, CALM);

    // Assert
    assert_eq!(
        answered(&reply),
        Some("refund-request"),
        "{}",
        describe(&reply)
    );
    assert_eq!(reply.answer_text().map(|(l, _)| l), Some("fa"));
}

#[test]
fn a_message_mixing_five_scripts_gets_a_decision() {
    // Act
    let reply = STARTER.ask("hi مرحبا привет 你好 ուզում եմ refund", CALM);

    // Assert
    assert_well_formed(&reply);
    assert!(reply.lang.is_some());
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_string_of_any_characters_gets_a_well_formed_reply(
        chars in prop::collection::vec(any::<char>(), 0..200),
        crisis in any::<bool>(),
    ) {
        let question: String = chars.into_iter().collect();
        let reply = STARTER.ask(&question, Context { crisis });
        assert_well_formed(&reply);
    }

    #[test]
    fn any_mix_of_knowledge_base_words_and_noise_gets_a_well_formed_reply(
        question in "((refund|order|cancel|پول|سفارش|فلوسي|طلب|գումար|պատվեր|discord password|down)[ \u{0600}-\u{06ff}\u{0530}-\u{058f}a-z0-9?!.\u{200c}]{0,6}){0,12}",
        crisis in any::<bool>(),
    ) {
        let reply = STARTER.ask(&question, Context { crisis });
        assert_well_formed(&reply);
        if !crisis {
            prop_assert!(
                !matches!(&reply.outcome, Outcome::Answer(i) if i.crisis_only),
                "{}", describe(&reply)
            );
        }
    }
}

#[test]
fn typing_refu_offers_the_two_refund_intents_first() {
    // Act
    let choices = STARTER.autocomplete("refu", CALM, 5);

    // Assert
    let ids: Vec<&str> = choices.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(&ids[..2], ["refund-request", "refund-status"], "{ids:?}");
    assert_eq!(ids.len(), 5);
}

#[test]
fn autocomplete_never_offers_more_choices_than_the_limit() {
    for typed in ["", "refu", "o", "how do i get my money back", "پول"] {
        for limit in [0, 1, 3, 25] {
            // Act
            let choices = STARTER.autocomplete(typed, CALM, limit);

            // Assert
            assert!(choices.len() <= limit, "{typed:?} with limit {limit}");
        }
    }
    assert_eq!(STARTER.autocomplete("", CALM, 3).len(), 3);
    let one: Vec<&str> = STARTER
        .autocomplete("refu", CALM, 1)
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(one, ["refund-request"]);
}

#[test]
fn autocomplete_offers_crisis_only_intents_during_a_crisis_only() {
    for typed in ["", "refu", "out", "outage", "event", "is the site down"] {
        // Act
        let calm = STARTER.autocomplete(typed, CALM, 25);
        let crisis = STARTER.autocomplete(typed, CRISIS, 25);

        // Assert
        assert!(
            calm.iter().all(|i| !i.crisis_only),
            "{typed:?} offers a crisis-only intent outside a crisis"
        );
        if typed == "outage" {
            assert!(crisis.iter().any(|i| i.id == "crisis-service-status"));
        }
    }
}

/// Candidates with these intents and confidences, in the order given.
fn candidates(scored: &[(usize, f32)]) -> Vec<Candidate> {
    scored
        .iter()
        .map(|&(intent, confidence)| Candidate {
            intent,
            probability: confidence,
            similarity: confidence,
            confidence,
        })
        .collect()
}

/// A confidence `share` of the way from the suggest threshold to the answer threshold.
fn between(t: Thresholds, share: f32) -> f32 {
    t.suggest + (t.answer - t.suggest) * share
}

#[test]
fn the_best_candidate_at_or_above_the_answer_threshold_is_answered() {
    // Arrange
    let t = Thresholds::default();

    // Act
    let clear = t.decide(&candidates(&[(7, t.answer + 0.2), (2, between(t, 0.5))]));
    let on_the_line = t.decide(&candidates(&[(4, t.answer)]));

    // Assert
    assert_eq!(clear, Decision::Answer(7));
    assert_eq!(on_the_line, Decision::Answer(4));
}

#[test]
fn close_calls_are_suggested_best_first_and_at_most_three() {
    // Arrange
    let t = Thresholds::default();
    let close = candidates(&[
        (9, between(t, 0.9)),
        (3, between(t, 0.7)),
        (12, between(t, 0.5)),
        (0, between(t, 0.3)),
        (5, between(t, 0.1)),
    ]);

    // Act
    let decision = t.decide(&close);

    // Assert
    assert_eq!(decision, Decision::Suggest(vec![9, 3, 12]));
}

#[test]
fn only_candidates_at_or_above_the_suggest_threshold_are_suggested() {
    // Arrange
    let t = Thresholds::default();
    let scored = candidates(&[(1, between(t, 0.5)), (6, t.suggest), (8, t.suggest - 0.01)]);

    // Act
    let decision = t.decide(&scored);

    // Assert
    assert_eq!(decision, Decision::Suggest(vec![1, 6]));
}

#[test]
fn candidates_below_the_suggest_threshold_are_abstained_from() {
    // Arrange
    let t = Thresholds::default();
    let scored = candidates(&[(1, t.suggest - 0.01), (2, 0.1)]);

    // Act
    let decision = t.decide(&scored);

    // Assert
    assert_eq!(decision, Decision::Abstain);
}

#[test]
fn no_candidates_at_all_is_an_abstention() {
    assert_eq!(Thresholds::default().decide(&[]), Decision::Abstain);
}

#[test]
fn custom_thresholds_move_the_line_between_answering_and_suggesting() {
    // Arrange
    let strict = Thresholds {
        answer: 0.9,
        suggest: 0.6,
    };
    let scored = candidates(&[(3, 0.85), (4, 0.7), (5, 0.5)]);

    // Act
    let decision = strict.decide(&scored);

    // Assert
    assert_eq!(decision, Decision::Suggest(vec![3, 4]));
}
