//! Intent files: the knowledge base as support leads write it, and the errors they read.
//!
//! One TOML file per topic anywhere under `intents/`, each holding `[[intent]]` tables (the
//! README documents the format with an example). Loading is strict: unknown keys, bad ids,
//! empty answers, answers too long for Discord and one example under two intents are errors.
//! Every error names the file, line and column and says how to fix it, in words meant for
//! whoever keeps the knowledge base rather than for a programmer. All problems in all files are
//! reported at once, so one run of `beacon intents check` shows the whole list.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::normalize::normalize;

/// Longest answer accepted. A Discord message holds 2,000 characters and Beacon adds a line of
/// its own (the crisis status link, a way out to a person).
pub const MAX_ANSWER_CHARS: usize = 1_800;
/// Longest title: titles are select-menu labels and autocomplete choices (Discord allows 100).
pub const MAX_TITLE_CHARS: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One thing wrong (or worth a look) in the knowledge base, with where it is and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{}:{}:{}: {level}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )?;
        if !self.fix.is_empty() {
            write!(f, "\n    fix: {}", self.fix)?;
        }
        Ok(())
    }
}

/// The knowledge base could not be loaded; every error found is listed.
#[derive(Debug, Clone, thiserror::Error)]
pub struct LoadError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count();
        writeln!(f, "the knowledge base has {errors} error(s):")?;
        for p in &self.problems {
            writeln!(f, "{p}")?;
        }
        Ok(())
    }
}

/// What an intent does besides answering, for the intents the desk acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The customer asks for a person: hand over to the ticket queue.
    Handoff,
    /// The customer wants announcements by direct message.
    Subscribe,
    /// The customer wants no more announcements.
    Unsubscribe,
}

impl Action {
    /// The name as written in intent files.
    pub fn name(self) -> &'static str {
        match self {
            Action::Handoff => "handoff",
            Action::Subscribe => "subscribe",
            Action::Unsubscribe => "unsubscribe",
        }
    }
}

/// Where something was written, for messages that point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub text: String,
    pub at: Location,
}

/// One intent as loaded and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub id: String,
    pub title: String,
    pub tags: Vec<String>,
    pub crisis_only: bool,
    pub action: Option<Action>,
    pub examples: Vec<Example>,
    /// Phrases that, found in a question, stop this intent from answering it (raw text).
    pub never: Vec<String>,
    /// The default answer, written in English.
    pub answer: String,
    /// Answers in other languages, by language code (`fa`, `ar`, `hy`, ...).
    pub answers: BTreeMap<String, String>,
    pub at: Location,
}

impl Intent {
    /// The answer in `lang` if the intent has one, else the default; with the language used.
    pub fn answer_in(&self, lang: Option<&str>) -> (&str, &str) {
        match lang.and_then(|l| self.answers.get_key_value(l)) {
            Some((l, a)) => (l.as_str(), a.as_str()),
            None => ("en", self.answer.as_str()),
        }
    }
}

/// A validated knowledge base.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnowledgeBase {
    pub intents: Vec<Intent>,
}

impl KnowledgeBase {
    pub fn get(&self, id: &str) -> Option<&Intent> {
        self.intents.iter().find(|i| i.id == id)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIntent {
    id: Spanned<String>,
    title: Spanned<String>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    #[serde(default)]
    crisis_only: bool,
    #[serde(default)]
    action: Option<Spanned<Action>>,
    examples: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    never: Vec<Spanned<String>>,
    answer: Spanned<String>,
    #[serde(default)]
    answers: BTreeMap<String, Spanned<String>>,
}

/// Byte offsets to 1-based line and column (in characters, as editors count).
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { text, starts }
    }

    fn locate(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |s| s.chars().count() + 1);
        (line, column)
    }
}

/// Collects the problems of one file while it is being read.
struct FileCheck<'a> {
    file: &'a Path,
    lines: Lines<'a>,
    problems: &'a mut Vec<Problem>,
}

impl FileCheck<'_> {
    fn at(&self, span: Range<usize>) -> Location {
        let (line, column) = self.lines.locate(span.start);
        Location {
            file: self.file.to_path_buf(),
            line,
            column,
        }
    }

    fn error(&mut self, span: Range<usize>, message: impl Into<String>, fix: impl Into<String>) {
        let at = self.at(span);
        self.problems.push(Problem {
            severity: Severity::Error,
            file: at.file,
            line: at.line,
            column: at.column,
            message: message.into(),
            fix: fix.into(),
        });
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_language_code(s: &str) -> bool {
    let (base, region) = s.split_once('-').unwrap_or((s, ""));
    (2..=3).contains(&base.len())
        && base.bytes().all(|b| b.is_ascii_lowercase())
        && (region.is_empty()
            || ((2..=8).contains(&region.len())
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())))
}

/// Reads one file's text. Problems go to `problems`; intents that passed are returned.
pub fn parse_file(file: &Path, text: &str, problems: &mut Vec<Problem>) -> Vec<Intent> {
    let mut check = FileCheck {
        file,
        lines: Lines::new(text),
        problems,
    };
    // Parse the document first, then read each intent on its own, so that a misspelt key in
    // one intent does not hide the problems of the others.
    let doc = match toml::de::DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            check.error(
                e.span().unwrap_or(0..0),
                e.message().trim(),
                "this is not valid TOML here; compare with the example in README.md (strings \
                 need quotes, lists need [ ], multi-line answers use \"\"\")",
            );
            return Vec::new();
        }
    };
    let mut tables = Vec::new();
    let before = check.problems.len();
    for (key, value) in doc.into_inner() {
        match (key.get_ref().as_ref(), value.into_inner()) {
            ("intent", toml::de::DeValue::Array(items)) => tables.extend(items),
            (name, _) => check.error(
                key.span(),
                format!("unknown top-level key `{name}`"),
                "a file holds [[intent]] tables only; put this key inside an [[intent]]",
            ),
        }
    }
    if tables.is_empty() && check.problems.len() == before {
        check.error(
            0..0,
            "this file defines no intent",
            "add at least one [[intent]] table, or delete the file",
        );
    }
    let mut intents = Vec::new();
    for table in tables {
        let whole = table.span();
        match RawIntent::deserialize(toml::de::ValueDeserializer::from(table)) {
            Ok(raw) => intents.extend(validate(&mut check, raw)),
            Err(e) => {
                let message = e.message().trim().to_string();
                let fix = if message.contains("unknown field") {
                    "check the spelling; the keys an intent may have are listed in README.md, \
                     \"The intent file format\""
                } else if message.contains("missing field") {
                    "add the missing key to this [[intent]] (README.md shows a complete example)"
                } else if message.contains("unknown variant") {
                    "use one of the values the message lists, or remove the key"
                } else {
                    "this value has the wrong type; compare with the example in README.md"
                };
                check.error(e.span().unwrap_or(whole), message, fix);
            }
        }
    }
    intents
}

fn validate(check: &mut FileCheck<'_>, raw: RawIntent) -> Option<Intent> {
    let before = check.problems.len();
    let id = raw.id.get_ref().trim().to_string();
    if !is_slug(&id) || id.len() > 64 {
        check.error(
            raw.id.span(),
            format!("the id {id:?} is not a valid intent id"),
            "use lowercase letters a-z, digits and single dashes, at most 64 characters, \
             e.g. \"refund-request\"",
        );
    }
    let title = raw.title.get_ref().trim().to_string();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        check.error(
            raw.title.span(),
            format!(
                "the title must have 1 to {MAX_TITLE_CHARS} characters (it has {})",
                title.chars().count()
            ),
            "write a short title; customers see it in \"did you mean\" lists",
        );
    }
    for tag in &raw.tags {
        if !is_slug(tag.get_ref()) {
            check.error(
                tag.span(),
                format!("the tag {:?} is not valid", tag.get_ref()),
                "use lowercase letters, digits and dashes, e.g. \"billing\"",
            );
        }
    }
    if raw.examples.get_ref().is_empty() {
        check.error(
            raw.examples.span(),
            "this intent has no examples, so no question can ever match it",
            "add phrasings customers really write, in each language you support",
        );
    }
    let mut examples = Vec::new();
    for e in raw.examples.into_inner() {
        if normalize(e.get_ref()).is_empty() {
            check.error(
                e.span(),
                format!("the example {:?} has no words", e.get_ref()),
                "write the question in words; punctuation and emoji alone are ignored",
            );
            continue;
        }
        examples.push(Example {
            text: e.get_ref().clone(),
            at: check.at(e.span()),
        });
    }
    for n in &raw.never {
        if normalize(n.get_ref()).is_empty() {
            check.error(
                n.span(),
                format!("the never-phrase {:?} has no words", n.get_ref()),
                "write the phrase in words, or remove it",
            );
        }
    }
    let check_answer = |check: &mut FileCheck<'_>, span: Range<usize>, text: &str, what: &str| {
        let len = text.trim().chars().count();
        if len == 0 {
            check.error(
                span,
                format!("{what} is empty"),
                "write the answer customers should read",
            );
        } else if len > MAX_ANSWER_CHARS {
            check.error(
                span,
                format!("{what} has {len} characters, more than the {MAX_ANSWER_CHARS} allowed"),
                "a Discord message holds 2,000 characters and Beacon adds a line of its own: \
                 shorten it, or split the topic into two intents",
            );
        }
    };
    check_answer(check, raw.answer.span(), raw.answer.get_ref(), "the answer");
    let mut answers = BTreeMap::new();
    for (lang, text) in raw.answers {
        if is_language_code(&lang) {
            check_answer(
                check,
                text.span(),
                text.get_ref(),
                &format!("the {lang} answer"),
            );
        } else {
            check.error(
                text.span(),
                format!("{lang:?} is not a language code"),
                "name answers by language code: answers.fa, answers.ar, answers.hy, ...",
            );
        }
        answers.insert(lang, text.get_ref().trim().to_string());
    }
    if check.problems.len() > before {
        return None;
    }
    Some(Intent {
        at: check.at(raw.id.span()),
        id,
        title,
        tags: raw.tags.into_iter().map(Spanned::into_inner).collect(),
        crisis_only: raw.crisis_only,
        action: raw.action.map(Spanned::into_inner),
        examples,
        never: raw.never.into_iter().map(Spanned::into_inner).collect(),
        answer: raw.answer.get_ref().trim().to_string(),
        answers,
    })
}

/// Checks what only shows across files: duplicate ids, one action on two intents, and one
/// example under two intents (the matcher could never tell which to answer).
pub fn cross_check(intents: &[Intent], problems: &mut Vec<Problem>) {
    let mut ids: HashMap<&str, &Intent> = HashMap::new();
    let mut actions: HashMap<Action, &Intent> = HashMap::new();
    let mut seen: HashMap<String, (&Intent, &Example)> = HashMap::new();
    let error = |at: &Location, message: String, fix: String| Problem {
        severity: Severity::Error,
        file: at.file.clone(),
        line: at.line,
        column: at.column,
        message,
        fix,
    };
    for intent in intents {
        if let Some(first) = ids.insert(&intent.id, intent) {
            problems.push(error(
                &intent.at,
                format!("the id {:?} is already used at {}", intent.id, first.at),
                "give each intent its own id; ids are how reports and links refer to it".into(),
            ));
        }
        if let Some(action) = intent.action
            && let Some(first) = actions.insert(action, intent)
        {
            problems.push(error(
                &intent.at,
                format!(
                    "action \"{}\" is already on intent {:?} ({})",
                    action.name(),
                    first.id,
                    first.at
                ),
                "only one intent may carry each action; merge the two intents".into(),
            ));
        }
        for ex in &intent.examples {
            let key = normalize(&ex.text);
            match seen.get(&key) {
                Some((other, first)) if other.id != intent.id => problems.push(error(
                    &ex.at,
                    format!(
                        "the example {:?} is also under intent {:?} ({})",
                        ex.text, other.id, first.at
                    ),
                    "an example may belong to one intent only: keep it where it fits and \
                     delete the other"
                        .into(),
                )),
                Some(_) => {}
                None => {
                    seen.insert(key, (intent, ex));
                }
            }
        }
    }
}

/// Loads every `*.toml` file under `dir` (in path order, so ids and reports are stable).
pub fn load_dir(dir: &Path) -> Result<KnowledgeBase, LoadError> {
    let mut problems = Vec::new();
    let mut intents = Vec::new();
    let mut files = 0;
    // Symlinked files and folders are followed (a knowledge base shared between deployments is
    // often linked in); walkdir reports a link that loops as an error.
    let walk = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walk {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                problems.push(Problem {
                    severity: Severity::Error,
                    file: e.path().unwrap_or(dir).to_path_buf(),
                    line: 1,
                    column: 1,
                    message: format!("cannot read: {e}"),
                    fix: "check that the directory exists and is readable".into(),
                });
                continue;
            }
        };
        let path = entry.path();
        if !entry.file_type().is_file() || path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        files += 1;
        match std::fs::read_to_string(path) {
            Ok(text) => intents.extend(parse_file(path, &text, &mut problems)),
            Err(e) => problems.push(Problem {
                severity: Severity::Error,
                file: path.to_path_buf(),
                line: 1,
                column: 1,
                message: format!("cannot read this file: {e}"),
                fix: "intent files must be readable UTF-8 text".into(),
            }),
        }
    }
    if files == 0 && problems.is_empty() {
        problems.push(Problem {
            severity: Severity::Error,
            file: dir.to_path_buf(),
            line: 1,
            column: 1,
            message: "no intent files (*.toml) here".into(),
            fix: "point Beacon at the intents/ directory of the repository".into(),
        });
    }
    cross_check(&intents, &mut problems);
    if problems.iter().any(|p| p.severity == Severity::Error) {
        return Err(LoadError { problems });
    }
    Ok(KnowledgeBase { intents })
}
