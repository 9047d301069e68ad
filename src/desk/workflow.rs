//! Ticket workflow settings: the `[tickets]` section of beacon.toml.
//!
//! It says which categories a customer picks from when opening a ticket (each a button, with up
//! to five form questions), how fast each priority should get a first answer, the limits that
//! keep one customer from flooding the queue, and the rules that tag, raise or reroute a ticket
//! by the words in it.
//!
//! Parsing catches unknown keys and wrong types; [`TicketsConfig::check`] catches what a parse
//! cannot (Discord's length limits, a rule naming a category that does not exist, ...), in
//! sentences naming the key. [`TicketsConfig::apply`] runs the rules on a ticket's text.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::{Deserialize, Deserializer};

use super::tickets::Priority;
use crate::kb::normalize::normalize;

/// The documented `[tickets]` section, for the example configuration.
pub const EXAMPLE: &str = r#"[tickets]
# How many tickets one customer may have open at once.
max_open_per_customer = 1
# Minutes after opening or closing a ticket before the same customer may open another.
cooldown_minutes = 10
# Hours after closing during which the customer may reopen their ticket (0: never).
reopen_hours = 48
# When the customer has written nothing in their ticket for this many hours, Beacon warns them...
inactivity_warn_hours = 48
# ...and closes the ticket this many hours after the warning. Set both to 0 to never do this.
inactivity_close_hours = 24
# How often Beacon looks for what time has made due (escalations, inactivity, queue places),
# in milliseconds.
check_every_ms = 5000

# First-response targets by priority, in minutes counted within opening hours.
[tickets.targets]
low = 1440
normal = 240
high = 60
urgent = 15

# The categories a customer picks from when opening a ticket, one button each (at most 25).
# Without any, there is one: "General question" (id "general", normal priority, no questions).
[[tickets.category]]
# Lowercase letters, digits and '-'; reports and rules refer to the category by it.
id = "billing"
# The button's label, at most 80 characters.
label = "Billing"
# Optional: one emoji on the button.
emoji = "💳"
# Optional: a line explaining the category, at most 100 characters.
description = "Payments, refunds and invoices"
# low, normal, high or urgent: where its tickets start in the queue.
priority = "normal"
# Optional: the channel its ticket threads open in (default: the server's tickets channel).
# channel = 123456789012345678

# Up to 5 questions per category, asked in a form when the ticket opens.
[[tickets.category.question]]
# At most 45 characters (Discord's limit for a form label).
label = "Order number"
# "short" (one line) or "paragraph".
style = "short"
required = true
# Optional: grey example text in the empty box, at most 100 characters.
placeholder = "e.g. 10423"
# Optional: the longest answer accepted, 1 to 4000 characters.
max_length = 100

[[tickets.category]]
id = "technical"
label = "Technical problem"
emoji = "🛠️"
description = "The site or the app does not work as it should"
priority = "normal"

[[tickets.category.question]]
label = "What happened?"
style = "paragraph"
required = true

# Rules read each new ticket's text. Every rule that matches applies, in order.
[[tickets.rule]]
# Any of these words or phrases, as whole words, in any letter case (Persian and Arabic
# keyboards' variants of a letter count as the same letter).
words = ["outage", "قطعی", "down"]
# Optional: a tag for the queue card and reports.
tag = "outage"
# Optional: the ticket's priority (the highest named by the rules that match wins).
priority = "high"
# Optional: move the ticket to this category and its channel (the last named wins).
category = "technical"
"#;

/// A Discord form holds at most five inputs.
pub const MAX_QUESTIONS: usize = 5;
/// A message holds at most 25 buttons (five rows of five), and a select menu 25 options.
pub const MAX_CATEGORIES: usize = 25;
/// Category ids go into Discord component ids (100 characters, shared with other parts).
pub const MAX_ID_CHARS: usize = 32;
/// Discord's limit for a button label.
pub const MAX_LABEL_CHARS: usize = 80;
/// Discord's limit for a select-menu option description.
pub const MAX_DESCRIPTION_CHARS: usize = 100;
/// Discord's limit for a form input's label.
pub const MAX_QUESTION_CHARS: usize = 45;
/// Discord's limit for a form input's placeholder.
pub const MAX_PLACEHOLDER_CHARS: usize = 100;
/// Discord's limit for a form input's length.
pub const MAX_ANSWER_LENGTH: u16 = 4000;
/// The id of the category tickets get when none are configured.
pub const GENERAL: &str = "general";

const PRIORITY_NAMES: [&str; 4] = ["low", "normal", "high", "urgent"];

/// The `[tickets]` section.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TicketsConfig {
    /// Tickets one customer may have open at once.
    pub max_open_per_customer: u32,
    /// Minutes after opening or closing a ticket before the same customer may open another.
    pub cooldown_minutes: u32,
    /// Hours after closing during which the customer may reopen the ticket; 0 turns it off.
    pub reopen_hours: u32,
    /// Hours without a message from the customer before Beacon warns them; 0 turns it off.
    pub inactivity_warn_hours: u32,
    /// Hours after that warning before Beacon closes the ticket; 0 only with the warning off.
    pub inactivity_close_hours: u32,
    /// How often the timers look for what is due, in milliseconds.
    pub check_every_ms: u64,
    pub targets: Targets,
    /// As configured; may be empty. Read them through [`TicketsConfig::categories`], which
    /// stands in the built-in general category for an empty list.
    pub category: Vec<Category>,
    pub rule: Vec<Rule>,
}

/// First-response targets, in minutes of opening hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Targets {
    pub low: u32,
    pub normal: u32,
    pub high: u32,
    pub urgent: u32,
}

/// What a customer can open a ticket about.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub emoji: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The priority its tickets start with.
    #[serde(default = "normal", deserialize_with = "priority_named")]
    pub priority: Priority,
    /// Where its ticket threads open, instead of the server's tickets channel.
    #[serde(default)]
    pub channel: Option<u64>,
    /// Asked in a form when a ticket of this category opens.
    #[serde(default)]
    pub question: Vec<FormQuestion>,
}

/// One input of a category's form.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormQuestion {
    pub label: String,
    #[serde(default)]
    pub style: FormStyle,
    /// Discord's own default: a form cannot be sent with a required box empty.
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(default)]
    pub placeholder: Option<String>,
    #[serde(default)]
    pub max_length: Option<u16>,
}

/// The size of a form's text box.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FormStyle {
    /// One line.
    #[default]
    Short,
    /// Several lines.
    Paragraph,
}

/// A workflow rule: what to do with a ticket whose text holds one of `words`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Words or phrases, matched whole after [`normalize`] on both sides.
    #[serde(default)]
    pub words: Vec<String>,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default, deserialize_with = "some_priority_named")]
    pub priority: Option<Priority>,
    /// The id of the category to move the ticket to.
    #[serde(default)]
    pub category: Option<String>,
}

/// What the rules decided about a ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routing {
    /// The matching rules' tags, in rule order, each once.
    pub tags: Vec<String>,
    pub priority: Priority,
    /// The category to move the ticket to, if a matching rule names one.
    pub category: Option<String>,
}

fn normal() -> Priority {
    Priority::Normal
}

fn yes() -> bool {
    true
}

/// Reads a priority by its name, so the file says `"high"` and a typo lists the choices.
fn priority_named<'de, D: Deserializer<'de>>(d: D) -> Result<Priority, D::Error> {
    let name = String::deserialize(d)?;
    Priority::from_name(&name)
        .ok_or_else(|| serde::de::Error::unknown_variant(&name, &PRIORITY_NAMES))
}

fn some_priority_named<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Priority>, D::Error> {
    priority_named(d).map(Some)
}

/// The category used when the configuration names none, so a server can take tickets without
/// writing any `[[tickets.category]]`.
static GENERAL_CATEGORY: LazyLock<Category> = LazyLock::new(|| Category {
    id: GENERAL.into(),
    label: "General question".into(),
    emoji: None,
    description: None,
    priority: Priority::Normal,
    channel: None,
    question: Vec::new(),
});

impl Default for TicketsConfig {
    fn default() -> Self {
        TicketsConfig {
            max_open_per_customer: 1,
            cooldown_minutes: 10,
            reopen_hours: 48,
            inactivity_warn_hours: 48,
            inactivity_close_hours: 24,
            check_every_ms: 5_000,
            targets: Targets::default(),
            category: Vec::new(),
            rule: Vec::new(),
        }
    }
}

impl Default for Targets {
    fn default() -> Self {
        Targets {
            low: 1440,
            normal: 240,
            high: 60,
            urgent: 15,
        }
    }
}

impl Targets {
    /// The first-response target for a ticket of priority `p`, in minutes of opening hours.
    pub fn minutes(&self, p: Priority) -> u32 {
        match p {
            Priority::Low => self.low,
            Priority::Normal => self.normal,
            Priority::High => self.high,
            Priority::Urgent => self.urgent,
        }
    }

    /// When a ticket of `priority` waiting since `since_ms` passes its first-response target,
    /// counting only the server's opening hours.
    pub fn due_ms(&self, settings: &crate::desk::GuildSettings, since_ms: i64, p: Priority) -> i64 {
        let minutes = self.minutes(p);
        match jiff::Timestamp::from_millisecond(since_ms) {
            Ok(since) => {
                crate::desk::settings::staffed_deadline(settings, since, minutes).as_millisecond()
            }
            // Out of any calendar's range: plain minutes.
            Err(_) => since_ms.saturating_add(i64::from(minutes) * 60_000),
        }
    }
}

impl Rule {
    /// Whether one of the words is in `padded`, a normalised text with a space at each end
    /// (normalised text is words between single spaces, so " word " only matches whole words).
    fn matches_padded(&self, padded: &str) -> bool {
        self.words.iter().any(|word| {
            let word = normalize(word);
            !word.is_empty() && padded.contains(&format!(" {word} "))
        })
    }

    /// Whether one of the rule's words or phrases is in `text`, as whole words.
    pub fn matches(&self, text: &str) -> bool {
        self.matches_padded(&format!(" {} ", normalize(text)))
    }
}

fn is_id(s: &str) -> bool {
    (1..=MAX_ID_CHARS).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Roughly "one emoji": a custom one (`<:name:id>`, `<a:name:id>`), or a short run of
/// characters with no spaces or letters. Flags, skin tones and joined emoji are several
/// characters, so the length allows for them; Discord has the last word when the button is sent.
fn is_one_emoji(s: &str) -> bool {
    let custom = s
        .strip_prefix("<a:")
        .or_else(|| s.strip_prefix("<:"))
        .and_then(|rest| rest.strip_suffix('>'))
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(name, id)| {
            !name.is_empty() && !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
        });
    custom
        || ((1..=16).contains(&s.chars().count())
            && !s.chars().any(|c| c.is_whitespace() || c.is_alphabetic()))
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

impl TicketsConfig {
    /// The categories customers choose from: those configured, or the built-in general one.
    pub fn categories(&self) -> &[Category] {
        if self.category.is_empty() {
            std::slice::from_ref(&*GENERAL_CATEGORY)
        } else {
            &self.category
        }
    }

    /// The category `id`, among [`Self::categories`].
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories().iter().find(|c| c.id == id)
    }

    /// The category a ticket gets when nobody chose one (a handoff from an FAQ answer): the
    /// first configured, or the built-in general one.
    pub fn default_category(&self) -> &Category {
        &self.categories()[0]
    }

    /// Problems a parse cannot catch, as sentences naming the key. Categories, questions and
    /// rules are counted from 1, as someone reading the file counts its blocks, and the
    /// category's id is added where it helps find the block:
    /// `tickets.category[2] ("billing").question has 6 questions; Discord forms hold at most 5`.
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.max_open_per_customer == 0 {
            problems.push(
                "tickets.max_open_per_customer is 0, so no customer could open a ticket; \
                 use 1 or more"
                    .to_string(),
            );
        }
        match (self.inactivity_warn_hours, self.inactivity_close_hours) {
            (0, 0) => {}
            (warn, 0) => problems.push(format!(
                "tickets.inactivity_warn_hours is {warn} but inactivity_close_hours is 0, so \
                 quiet tickets would be warned and never closed; set inactivity_close_hours \
                 above 0, or both to 0 to leave quiet tickets open"
            )),
            (0, close) => problems.push(format!(
                "tickets.inactivity_close_hours is {close} but inactivity_warn_hours is 0, so \
                 quiet tickets would never be warned and so never closed; set \
                 inactivity_warn_hours above 0, or both to 0 to leave quiet tickets open"
            )),
            _ => {}
        }
        for p in Priority::ALL {
            if self.targets.minutes(p) == 0 {
                problems.push(format!(
                    "tickets.targets.{} is 0; a first-response target is at least 1 minute",
                    p.name()
                ));
            }
        }
        if self.category.len() > MAX_CATEGORIES {
            problems.push(format!(
                "tickets has {} categories; Discord shows at most {MAX_CATEGORIES} buttons in \
                 one message",
                self.category.len()
            ));
        }
        let mut first_with_id: HashMap<&str, usize> = HashMap::new();
        for (i, c) in self.category.iter().enumerate() {
            let n = i + 1;
            let key = format!("tickets.category[{n}] ({:?})", c.id);
            if !is_id(&c.id) {
                problems.push(format!(
                    "tickets.category[{n}].id {:?} is not a valid id; use lowercase letters, \
                     digits and '-', at most {MAX_ID_CHARS} characters, e.g. \"billing\"",
                    c.id
                ));
            }
            match first_with_id.get(c.id.as_str()) {
                Some(first) => problems.push(format!(
                    "tickets.category[{n}].id {:?} is already used by tickets.category[{first}]; \
                     each category needs its own id",
                    c.id
                )),
                None => {
                    first_with_id.insert(&c.id, n);
                }
            }
            let label = chars(c.label.trim());
            if label == 0 || label > MAX_LABEL_CHARS {
                problems.push(format!(
                    "{key}.label has {label} characters; a button label has 1 to \
                     {MAX_LABEL_CHARS}"
                ));
            }
            if let Some(emoji) = &c.emoji
                && !is_one_emoji(emoji)
            {
                problems.push(format!(
                    "{key}.emoji {emoji:?} is not one emoji; write a single emoji such as \"💳\", \
                     or remove the key"
                ));
            }
            if let Some(description) = &c.description {
                let length = chars(description.trim());
                if length == 0 || length > MAX_DESCRIPTION_CHARS {
                    problems.push(format!(
                        "{key}.description has {length} characters; write 1 to \
                         {MAX_DESCRIPTION_CHARS}, or remove the key"
                    ));
                }
            }
            if c.channel == Some(0) {
                problems.push(format!(
                    "{key}.channel is 0, which is no channel; copy the channel's id (Developer \
                     Mode, right-click the channel, Copy Channel ID), or remove the key"
                ));
            }
            if c.question.len() > MAX_QUESTIONS {
                problems.push(format!(
                    "{key}.question has {} questions; Discord forms hold at most {MAX_QUESTIONS}",
                    c.question.len()
                ));
            }
            for (j, q) in c.question.iter().enumerate() {
                let key = format!("{key}.question[{}]", j + 1);
                let label = chars(q.label.trim());
                if label == 0 || label > MAX_QUESTION_CHARS {
                    problems.push(format!(
                        "{key}.label has {label} characters; a form label has 1 to \
                         {MAX_QUESTION_CHARS}"
                    ));
                }
                if let Some(placeholder) = &q.placeholder {
                    let length = chars(placeholder);
                    if length > MAX_PLACEHOLDER_CHARS {
                        problems.push(format!(
                            "{key}.placeholder has {length} characters; Discord allows at most \
                             {MAX_PLACEHOLDER_CHARS}"
                        ));
                    }
                }
                if let Some(max) = q.max_length
                    && !(1..=MAX_ANSWER_LENGTH).contains(&max)
                {
                    problems.push(format!(
                        "{key}.max_length is {max}; it must be from 1 to {MAX_ANSWER_LENGTH}"
                    ));
                }
            }
        }
        for (i, rule) in self.rule.iter().enumerate() {
            let key = format!("tickets.rule[{}]", i + 1);
            if rule.words.is_empty() {
                problems.push(format!(
                    "{key} has no words, so it can never match; list the words or phrases \
                     that should trigger it"
                ));
            }
            for (j, word) in rule.words.iter().enumerate() {
                if normalize(word).is_empty() {
                    problems.push(format!(
                        "{key}.words[{}] {word:?} has no letters or digits, so it can never \
                         match; write it in words",
                        j + 1
                    ));
                }
            }
            if rule.tag.is_none() && rule.priority.is_none() && rule.category.is_none() {
                problems.push(format!(
                    "{key} has no tag, priority or category, so matching it changes nothing; \
                     add one, or remove the rule"
                ));
            }
            if let Some(tag) = &rule.tag
                && !is_id(tag)
            {
                problems.push(format!(
                    "{key}.tag {tag:?} is not a valid tag; use lowercase letters, digits and \
                     '-', e.g. \"outage\""
                ));
            }
            if let Some(id) = &rule.category
                && self.category(id).is_none()
            {
                let known: Vec<&str> = self.categories().iter().map(|c| c.id.as_str()).collect();
                problems.push(format!(
                    "{key}.category {id:?} is not a category; the categories are: {}",
                    known.join(", ")
                ));
            }
        }
        problems
    }

    /// What the rules say about a ticket's text. Every matching rule applies, in order: their
    /// tags are collected (each once), the highest priority any of them names replaces `base`
    /// (the chosen category's priority), and the last category named wins. With no match, the
    /// routing is `base` and nothing else.
    pub fn apply(&self, text: &str, base: Priority) -> Routing {
        let padded = format!(" {} ", normalize(text));
        let mut tags: Vec<String> = Vec::new();
        let mut named: Option<Priority> = None;
        let mut category = None;
        for rule in self.rule.iter().filter(|r| r.matches_padded(&padded)) {
            if let Some(tag) = &rule.tag
                && !tags.contains(tag)
            {
                tags.push(tag.clone());
            }
            named = named.max(rule.priority);
            if let Some(id) = &rule.category {
                category = Some(id.clone());
            }
        }
        Routing {
            tags,
            priority: named.unwrap_or(base),
            category,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        tickets: TicketsConfig,
    }

    fn parse(toml: &str) -> Result<TicketsConfig, String> {
        toml::from_str::<File>(toml)
            .map(|f| f.tickets)
            .map_err(|e| e.to_string())
    }

    /// The problems `check` finds in a `[tickets]` section.
    fn problems(toml: &str) -> Vec<String> {
        parse(toml).unwrap().check()
    }

    /// Asserts that `toml` has exactly one problem, and that it contains each of `words`.
    fn one_problem(toml: &str, words: &[&str]) {
        let found = problems(toml);
        assert_eq!(found.len(), 1, "{found:#?}");
        for word in words {
            assert!(found[0].contains(word), "{:?} lacks {word:?}", found[0]);
        }
    }

    fn category(id: &str) -> String {
        format!("[[tickets.category]]\nid = \"{id}\"\nlabel = \"L\"\n")
    }

    #[test]
    fn the_example_parses_and_passes_its_checks() {
        let config = parse(EXAMPLE).unwrap();
        assert_eq!(config.check(), Vec::<String>::new());
        assert_eq!(config.max_open_per_customer, 1);
        assert_eq!(config.targets, Targets::default());
        let billing = config.category("billing").unwrap();
        assert_eq!(billing.emoji.as_deref(), Some("💳"));
        assert_eq!(billing.priority, Priority::Normal);
        assert_eq!(billing.channel, None);
        assert_eq!(
            billing.question,
            [FormQuestion {
                label: "Order number".into(),
                style: FormStyle::Short,
                required: true,
                placeholder: Some("e.g. 10423".into()),
                max_length: Some(100),
            }]
        );
        assert_eq!(config.rule[0].priority, Some(Priority::High));
        assert_eq!(config.default_category().id, "billing");
    }

    #[test]
    fn the_example_without_categories_and_rules_is_the_default() {
        let scalars = EXAMPLE.split("\n# The categories").next().unwrap();
        assert_eq!(parse(scalars).unwrap(), TicketsConfig::default());
        assert_eq!(parse("[tickets]").unwrap(), TicketsConfig::default());
        assert_eq!(parse("").unwrap(), TicketsConfig::default());
    }

    #[test]
    fn without_categories_there_is_one_general_category() {
        let config = TicketsConfig::default();
        assert!(config.check().is_empty());
        assert_eq!(config.categories().len(), 1);
        let general = config.default_category();
        assert_eq!(general.id, GENERAL);
        assert_eq!(general.label, "General question");
        assert_eq!(general.priority, Priority::Normal);
        assert!(general.question.is_empty());
        assert_eq!(config.category("general"), Some(general));
        assert_eq!(config.category("billing"), None);
    }

    #[test]
    fn configured_categories_replace_the_general_one() {
        let config = parse(&category("billing")).unwrap();
        assert_eq!(config.categories().len(), 1);
        assert_eq!(config.category("general"), None);
        assert_eq!(config.default_category().id, "billing");
    }

    #[test]
    fn question_defaults_are_a_required_short_box() {
        let config = parse(&format!(
            "{}[[tickets.category.question]]\nlabel = \"Q\"\n",
            category("a")
        ))
        .unwrap();
        let q = &config.categories()[0].question[0];
        assert_eq!((q.style, q.required), (FormStyle::Short, true));
    }

    #[test]
    fn targets_give_minutes_by_priority() {
        let t = Targets::default();
        assert_eq!(Priority::ALL.map(|p| t.minutes(p)), [1440, 240, 60, 15]);
    }

    #[test]
    fn unknown_keys_and_priorities_are_parse_errors() {
        let e = parse("[tickets]\nmax_open = 2\n").unwrap_err();
        assert!(e.contains("max_open"), "{e}");
        let e = parse("[tickets.targets]\nmedium = 5\n").unwrap_err();
        assert!(e.contains("medium"), "{e}");
        let e = parse(&format!("{}priority = \"hgih\"\n", category("a"))).unwrap_err();
        assert!(e.contains("hgih") && e.contains("urgent"), "{e}");
        let e = parse(&format!("{}colour = \"red\"\n", category("a"))).unwrap_err();
        assert!(e.contains("colour"), "{e}");
        let e = parse("[[tickets.rule]]\nwords = [\"x\"]\npriority = \"asap\"\n").unwrap_err();
        assert!(e.contains("asap"), "{e}");
        let e = parse(&format!(
            "{}[[tickets.category.question]]\nlabel = \"Q\"\nstyle = \"long\"\n",
            category("a")
        ))
        .unwrap_err();
        assert!(e.contains("long"), "{e}");
    }

    fn rules(toml: &str) -> TicketsConfig {
        let config = parse(toml).unwrap();
        assert_eq!(config.check(), Vec::<String>::new());
        config
    }

    #[test]
    fn words_match_whole_words_in_any_case_and_punctuation() {
        let config = rules(EXAMPLE);
        let rule = &config.rule[0];
        assert!(rule.matches("the site is DOWN!"));
        assert!(rule.matches("Down."));
        assert!(!rule.matches("the download fails"));
        assert!(!rule.matches("a countdown"));
        assert!(rule.matches("Is there an outage?"));
        assert!(!rule.matches("outages")); // whole words only: list plurals too if wanted
    }

    #[test]
    fn persian_and_arabic_words_match_across_keyboards_but_not_inside_other_words() {
        let config = rules("[[tickets.rule]]\nwords = [\"قطعی\", \"لا يعمل\"]\ntag = \"outage\"\n");
        let rule = &config.rule[0];
        // The rule is written with the Persian yeh (U+06CC); an Arabic keyboard types U+064A.
        assert!(rule.matches("سایت قطعی دارد"));
        assert!(rule.matches("سايت قطعي دارد"));
        assert!(rule.matches("قطعی!"));
        assert!(!rule.matches("قطعیت"));
        assert!(rule.matches("الموقع لا يعمل"));
        assert!(rule.matches("الموقع لا یعمل؟"));
        assert!(!rule.matches("لا"));
        assert!(!rule.matches("يعمل لا"));
    }

    #[test]
    fn every_matching_rule_applies_in_order() {
        let config = rules(&format!(
            "{}{}\
             [[tickets.rule]]\nwords = [\"refund\"]\ntag = \"money\"\npriority = \"low\"\n\
             category = \"billing\"\n\
             [[tickets.rule]]\nwords = [\"down\"]\ntag = \"outage\"\npriority = \"urgent\"\n\
             category = \"technical\"\n\
             [[tickets.rule]]\nwords = [\"charged twice\"]\ntag = \"money\"\n\
             priority = \"high\"\ncategory = \"billing\"\n",
            category("billing"),
            category("technical"),
        ));
        let none = config.apply("hello there", Priority::Normal);
        assert_eq!(
            none,
            Routing {
                tags: vec![],
                priority: Priority::Normal,
                category: None
            }
        );
        // The highest priority named wins; the last category named wins; tags come once.
        let all = config.apply(
            "Site down and I was charged twice, refund please",
            Priority::Low,
        );
        assert_eq!(
            all,
            Routing {
                tags: vec!["money".into(), "outage".into()],
                priority: Priority::Urgent,
                category: Some("billing".into()),
            }
        );
        // A rule's priority replaces the base even when it is lower.
        let low = config.apply("a refund", Priority::High);
        assert_eq!(low.priority, Priority::Low);
        assert_eq!(low.tags, ["money"]);
    }

    #[test]
    fn a_rule_may_only_tag() {
        let config = rules("[[tickets.rule]]\nwords = [\"vip\"]\ntag = \"vip\"\n");
        let routing = config.apply("I am VIP", Priority::High);
        assert_eq!(routing.priority, Priority::High);
        assert_eq!(routing.category, None);
        assert_eq!(routing.tags, ["vip"]);
    }

    #[test]
    fn limits_of_zero_are_problems() {
        one_problem(
            "[tickets]\nmax_open_per_customer = 0\n",
            &["tickets.max_open_per_customer"],
        );
        one_problem(
            "[tickets.targets]\nurgent = 0\n",
            &["tickets.targets.urgent is 0"],
        );
        one_problem(
            "[tickets]\ninactivity_close_hours = 0\n",
            &[
                "tickets.inactivity_warn_hours is 48",
                "inactivity_close_hours is 0",
            ],
        );
        one_problem(
            "[tickets]\ninactivity_warn_hours = 0\n",
            &[
                "tickets.inactivity_close_hours is 24",
                "inactivity_warn_hours is 0",
            ],
        );
        assert!(
            problems("[tickets]\ninactivity_warn_hours = 0\ninactivity_close_hours = 0\n")
                .is_empty()
        );
        assert!(problems("[tickets]\nreopen_hours = 0\ncooldown_minutes = 0\n").is_empty());
    }

    #[test]
    fn category_ids_must_be_valid_and_unique() {
        one_problem(
            &category("Billing"),
            &["tickets.category[1].id \"Billing\""],
        );
        one_problem(&category("billing desk"), &["is not a valid id"]);
        one_problem(
            &category(&"a".repeat(MAX_ID_CHARS + 1)),
            &["is not a valid id"],
        );
        one_problem(
            &format!("{}{}{}", category("a"), category("b"), category("a")),
            &["tickets.category[3].id \"a\" is already used by tickets.category[1]"],
        );
    }

    #[test]
    fn category_texts_must_fit_discord() {
        let with = |extra: &str| format!("{}{extra}\n", category("billing"));
        one_problem(
            &format!(
                "[[tickets.category]]\nid = \"billing\"\nlabel = \"{}\"\n",
                "x".repeat(81)
            ),
            &["tickets.category[1] (\"billing\").label has 81 characters"],
        );
        one_problem(
            "[[tickets.category]]\nid = \"billing\"\nlabel = \" \"\n",
            &["label has 0 characters"],
        );
        one_problem(
            &with(&format!("description = \"{}\"", "ن".repeat(101))),
            &["description has 101 characters"],
        );
        assert!(problems(&with(&format!("description = \"{}\"", "ن".repeat(100)))).is_empty());
        one_problem(
            &with("emoji = \"card\""),
            &["emoji \"card\" is not one emoji"],
        );
        one_problem(&with("emoji = \"💳 🛠️\""), &["is not one emoji"]);
        for emoji in ["💳", "🛠️", "🇮🇷", "👩‍💻", "1️⃣", "<:ticket:123456789012345678>"]
        {
            assert!(
                problems(&with(&format!("emoji = \"{emoji}\""))).is_empty(),
                "{emoji}"
            );
        }
        one_problem(&with("channel = 0"), &["channel is 0"]);
        assert!(problems(&with("channel = 123456789012345678")).is_empty());
    }

    #[test]
    fn too_many_categories_is_a_problem() {
        let many: String = (0..=MAX_CATEGORIES)
            .map(|i| category(&format!("c{i}")))
            .collect();
        one_problem(&many, &["26 categories", "at most 25"]);
    }

    #[test]
    fn forms_must_fit_discord() {
        let question = |extra: &str| {
            format!("[[tickets.category.question]]\nlabel = \"Order number\"\n{extra}\n")
        };
        let six: String = (0..6).map(|_| question("")).collect();
        one_problem(
            &format!("{}{six}", category("billing")),
            &[
                "tickets.category[1] (\"billing\").question has 6 questions; Discord forms hold at most 5",
            ],
        );
        let five: String = (0..5).map(|_| question("")).collect();
        assert!(problems(&format!("{}{five}", category("billing"))).is_empty());
        let with = |q: String| format!("{}{q}", category("billing"));
        one_problem(
            &with(format!(
                "[[tickets.category.question]]\nlabel = \"{}\"\n",
                "x".repeat(46)
            )),
            &["(\"billing\").question[1].label has 46 characters"],
        );
        one_problem(
            &with(question(&format!("placeholder = \"{}\"", "x".repeat(101)))),
            &["question[1].placeholder has 101 characters"],
        );
        one_problem(
            &with(question("max_length = 0")),
            &["question[1].max_length is 0"],
        );
        one_problem(
            &with(question("max_length = 4001")),
            &["max_length is 4001"],
        );
        assert!(problems(&with(question("max_length = 4000"))).is_empty());
    }

    #[test]
    fn rules_must_have_words_something_to_do_and_a_known_category() {
        one_problem(
            "[[tickets.rule]]\ntag = \"x\"\n",
            &["tickets.rule[1] has no words"],
        );
        one_problem(
            "[[tickets.rule]]\nwords = [\"ok\", \"?!\"]\ntag = \"x\"\n",
            &["tickets.rule[1].words[2] \"?!\" has no letters"],
        );
        one_problem(
            "[[tickets.rule]]\nwords = [\"down\"]\n",
            &["tickets.rule[1] has no tag, priority or category"],
        );
        one_problem(
            "[[tickets.rule]]\nwords = [\"down\"]\ntag = \"Site Down\"\n",
            &["tickets.rule[1].tag \"Site Down\" is not a valid tag"],
        );
        one_problem(
            &format!(
                "{}{}[[tickets.rule]]\nwords = [\"down\"]\ncategory = \"tech\"\n",
                category("billing"),
                category("technical")
            ),
            &["tickets.rule[1].category \"tech\"", "billing, technical"],
        );
        // With no categories configured, the general one is the only one a rule may name.
        assert!(problems("[[tickets.rule]]\nwords = [\"x\"]\ncategory = \"general\"\n").is_empty());
    }
}
