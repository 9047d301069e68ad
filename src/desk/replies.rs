//! Saved replies: short texts agents send into a ticket thread with `/reply`.
//!
//! They live beside the knowledge base as one Markdown file per reply, so the people who write
//! answers review them the same way:
//!
//! - `intents/replies/<name>.md` is the English text, which every reply must have;
//! - `intents/replies/<name>.<lang>.md` is its translation (`fa`, `ar`, `hy`, ...).
//!
//! The whole file, trimmed, is the text. An optional first line `title: Something readable`
//! names it in autocomplete; without one the name stands in, dashes read as spaces. A
//! translation may carry a title line too, but autocomplete lists the English title, since
//! the agent picking the reply may not read the customer's language.
//! Placeholders fill in the ticket's details: `{customer}`, `{agent}`, `{ticket}` (its number)
//! and `{status}` (the link to the crisis status message, or nothing). `{{` and `}}` write a
//! brace itself; a lone `}` is also kept as written, since it cannot be mistaken for anything.
//!
//! Loading is strict like the intent files: every mistake in every file is reported at once,
//! with the file, line and column and a sentence saying how to fix it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use crate::kb::intents::{MAX_ANSWER_CHARS, MAX_TITLE_CHARS, Problem, Severity};

/// Longest reply text, in characters: the same room as a knowledge-base answer, since the
/// filled-in names and the status link still have to fit in one Discord message.
pub const MAX_REPLY_CHARS: usize = MAX_ANSWER_CHARS;
/// Longest reply name. Discord allows 100 for an autocomplete value; 50 keeps names typeable.
pub const MAX_NAME_CHARS: usize = 50;
/// The placeholders a reply may use, as written between braces.
pub const PLACEHOLDERS: [&str; 4] = ["customer", "agent", "ticket", "status"];

/// What fills a reply's placeholders.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Fill<'a> {
    /// The customer's name as the thread shows it.
    pub customer: &'a str,
    /// The agent sending the reply.
    pub agent: &'a str,
    /// The ticket's number ("42" for ticket #42).
    pub ticket: i64,
    /// A link to the crisis status message, or empty when there is no crisis.
    pub status: &'a str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Customer,
    Agent,
    Ticket,
    Status,
}

impl Slot {
    fn from_name(name: &str) -> Option<Slot> {
        match name {
            "customer" => Some(Slot::Customer),
            "agent" => Some(Slot::Agent),
            "ticket" => Some(Slot::Ticket),
            "status" => Some(Slot::Status),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Slot(Slot),
}

/// A reply's text, parsed once at load so rendering cannot fail.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Template(Vec<Piece>);

impl Template {
    /// The text with the placeholders filled. A line that held only placeholders which came
    /// out empty (typically `{status}` outside a crisis) is dropped rather than left blank.
    fn fill(&self, fill: &Fill) -> String {
        let mut out = String::new();
        let mut line_start = 0;
        let mut emptied = false;
        for piece in &self.0 {
            match piece {
                Piece::Text(text) => {
                    let mut lines = text.split('\n');
                    if let Some(first) = lines.next() {
                        out.push_str(first);
                    }
                    for line in lines {
                        if emptied && out[line_start..].trim().is_empty() {
                            out.truncate(line_start);
                        } else {
                            out.push('\n');
                        }
                        line_start = out.len();
                        emptied = false;
                        out.push_str(line);
                    }
                }
                Piece::Slot(slot) => {
                    let value = match slot {
                        Slot::Customer => fill.customer.to_string(),
                        Slot::Agent => fill.agent.to_string(),
                        Slot::Ticket => fill.ticket.to_string(),
                        Slot::Status => fill.status.to_string(),
                    };
                    emptied |= value.is_empty();
                    out.push_str(&value);
                }
            }
        }
        if emptied && out[line_start..].trim().is_empty() {
            out.truncate(line_start);
        }
        out.trim().to_string()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Reply {
    title: String,
    english: Template,
    translations: BTreeMap<String, Template>,
}

/// One file that passed its checks, before translations join their English reply.
struct Loaded {
    name: String,
    /// `None` for the English text.
    lang: Option<String>,
    title: Option<String>,
    template: Template,
}

/// The saved replies of a server, loaded and checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SavedReplies {
    /// By name, so listings come out in name order.
    replies: BTreeMap<String, Reply>,
}

impl SavedReplies {
    /// No replies: what Beacon runs with when nobody has written any.
    pub fn empty() -> SavedReplies {
        SavedReplies::default()
    }

    /// Loads every `*.md` under `dir`. A missing directory is an empty set, not an error,
    /// because saved replies are optional. Hidden files and folders (editor leftovers) are
    /// skipped. All problems in all files are returned at once.
    pub fn load_dir(dir: &Path) -> Result<SavedReplies, Vec<Problem>> {
        let mut problems = Vec::new();
        if !dir.exists() {
            return Ok(SavedReplies::empty());
        }
        if !dir.is_dir() {
            problems.push(problem(
                dir,
                1,
                1,
                "this is a file, not a folder of saved replies",
                "saved replies are kept as one .md file each in intents/replies/",
            ));
            return Err(problems);
        }
        let mut loaded: Vec<Loaded> = Vec::new();
        // Every English name found, even in a file with mistakes, so its translations are not
        // also reported as lacking an English text.
        let mut english: BTreeMap<String, PathBuf> = BTreeMap::new();
        let mut translated: BTreeMap<(String, String), PathBuf> = BTreeMap::new();
        let walk = walkdir::WalkDir::new(dir)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walk {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    problems.push(problem(
                        e.path().unwrap_or(dir),
                        1,
                        1,
                        format!("cannot read: {e}"),
                        "check that the folder and its files are readable",
                    ));
                    continue;
                }
            };
            let path = entry.path();
            if !entry.file_type().is_file() || path.extension().is_none_or(|e| e != "md") {
                continue;
            }
            let Some((name, lang)) = file_name(path, &mut problems) else {
                continue;
            };
            let first = match &lang {
                None => english.insert(name.clone(), path.to_path_buf()),
                Some(lang) => translated.insert((name.clone(), lang.clone()), path.to_path_buf()),
            };
            if let Some(first) = first {
                problems.push(problem(
                    path,
                    1,
                    1,
                    format!(
                        "the saved reply {name:?}{} is also in {}",
                        lang.as_ref().map_or(String::new(), |l| format!(" in {l}")),
                        first.display()
                    ),
                    "reply names must be unique across all folders: rename or delete one file",
                ));
                continue;
            }
            let text = match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) => {
                    problems.push(problem(
                        path,
                        1,
                        1,
                        format!("cannot read this file: {e}"),
                        "saved replies must be readable UTF-8 text",
                    ));
                    continue;
                }
            };
            if let Some((title, template)) = parse_text(path, &text, &mut problems) {
                loaded.push(Loaded {
                    name,
                    lang,
                    title,
                    template,
                });
            }
        }
        for ((name, lang), path) in &translated {
            if !english.contains_key(name) {
                problems.push(problem(
                    path,
                    1,
                    1,
                    format!("this {lang} translation has no English reply {name}.md"),
                    format!(
                        "every reply needs its English text, used for languages without a \
                         translation: add {name}.md beside this file, or fix this file's name"
                    ),
                ));
            }
        }
        if problems.iter().any(|p| p.severity == Severity::Error) {
            return Err(problems);
        }
        let mut replies = BTreeMap::new();
        let (originals, translations): (Vec<_>, Vec<_>) =
            loaded.into_iter().partition(|l| l.lang.is_none());
        for l in originals {
            let title = l.title.unwrap_or_else(|| l.name.replace('-', " "));
            replies.insert(
                l.name,
                Reply {
                    title,
                    english: l.template,
                    translations: BTreeMap::new(),
                },
            );
        }
        for l in translations {
            if let (Some(reply), Some(lang)) = (replies.get_mut(&l.name), l.lang) {
                reply.translations.insert(lang, l.template);
            }
        }
        Ok(SavedReplies { replies })
    }

    pub fn len(&self) -> usize {
        self.replies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.replies.is_empty()
    }

    /// The label autocomplete shows for `name`.
    pub fn title(&self, name: &str) -> Option<&str> {
        self.replies.get(name).map(|r| r.title.as_str())
    }

    /// Up to `limit` `(name, title)` pairs for autocomplete, best match first, ranked by fuzzy
    /// matching on both the name and the title (the better of the two counts; ties go by
    /// name). With nothing typed yet, the first replies by name.
    pub fn autocomplete(&self, typed: &str, limit: usize) -> Vec<(String, String)> {
        let typed = typed.trim();
        let pair = |(name, reply): (&String, &Reply)| (name.clone(), reply.title.clone());
        if typed.is_empty() {
            return self.replies.iter().take(limit).map(pair).collect();
        }
        let matcher = SkimMatcherV2::default().ignore_case();
        let mut scored: Vec<(i64, (&String, &Reply))> = self
            .replies
            .iter()
            .filter_map(|(name, reply)| {
                // The name with spaces for dashes, so "refund sent" finds refund-sent.
                let score = [name.clone(), name.replace('-', " "), reply.title.clone()]
                    .iter()
                    .filter_map(|candidate| matcher.fuzzy_match(candidate, typed))
                    .max()?;
                Some((score, (name, reply)))
            })
            .collect();
        // Names are unique, so this order is total and the list never shuffles between keys.
        scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.0.cmp(b.1.0)));
        scored
            .into_iter()
            .take(limit)
            .map(|(_, entry)| pair(entry))
            .collect()
    }

    /// The reply `name` in `lang`, else in the base language of a regional code (`fa-IR` uses
    /// `fa`), else in English; with its placeholders filled. `None` when there is no such reply.
    pub fn render(&self, name: &str, lang: &str, fill: &Fill) -> Option<String> {
        let reply = self.replies.get(name)?;
        let lang = lang.trim().to_ascii_lowercase();
        let base = lang.split_once('-').map_or(lang.as_str(), |(base, _)| base);
        let template = reply
            .translations
            .get(&lang)
            .or_else(|| reply.translations.get(base))
            .unwrap_or(&reply.english);
        Some(template.fill(fill))
    }
}

fn problem(
    file: &Path,
    line: usize,
    column: usize,
    message: impl Into<String>,
    fix: impl Into<String>,
) -> Problem {
    Problem {
        severity: Severity::Error,
        file: file.to_path_buf(),
        line,
        column,
        message: message.into(),
        fix: fix.into(),
    }
}

fn is_reply_name(name: &str) -> bool {
    (1..=MAX_NAME_CHARS).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_language_code(lang: &str) -> bool {
    (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_lowercase())
}

/// The reply name and language a file's name gives, or `None` after reporting why it has none.
fn file_name(path: &Path, problems: &mut Vec<Problem>) -> Option<(String, Option<String>)> {
    let raw = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let stem = raw
        .as_deref()
        .and_then(|n| n.strip_suffix(".md"))
        .unwrap_or("");
    let (name, lang) = match stem.rsplit_once('.') {
        Some((name, lang)) => (name, Some(lang)),
        None => (stem, None),
    };
    let mut ok = true;
    if !is_reply_name(name) {
        ok = false;
        problems.push(problem(
            path,
            1,
            1,
            format!("{name:?} is not a valid saved reply name"),
            format!(
                "name the file with lowercase letters a-z, digits and dashes, 1 to \
                 {MAX_NAME_CHARS} characters, e.g. refund-sent.md (or refund-sent.fa.md for \
                 a translation)"
            ),
        ));
    }
    if let Some(lang) = lang {
        if lang == "en" {
            ok = false;
            problems.push(problem(
                path,
                1,
                1,
                "English is the reply without a language code in its file name",
                format!("rename this file to {name}.md"),
            ));
        } else if !is_language_code(lang) {
            ok = false;
            problems.push(problem(
                path,
                1,
                1,
                format!("{lang:?} is not a language code"),
                format!(
                    "a translation is named <reply>.<language>.md with a 2 or 3 letter \
                     lowercase code, e.g. {name}.fa.md; reply names cannot contain dots"
                ),
            ));
        }
    }
    ok.then(|| (name.to_string(), lang.map(str::to_string)))
}

/// 1-based line and column (in characters, as editors count) of byte `offset` in `text`.
fn locate(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Reads a reply file's text into its title and template, reporting every mistake.
fn parse_text(
    file: &Path,
    text: &str,
    problems: &mut Vec<Problem>,
) -> Option<(Option<String>, Template)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let before = problems.len();
    let mut error = |offset: usize, message: String, fix: &str| {
        let (line, column) = locate(text, offset);
        problems.push(problem(file, line, column, message, fix));
    };
    let mut title = None;
    let mut body_start = 0;
    if let Some(rest) = text.strip_prefix("title:") {
        let line_end = rest.find('\n').map_or(text.len(), |i| "title:".len() + i);
        let value = text["title:".len()..line_end].trim();
        let value_at = line_end - text["title:".len()..line_end].trim_start().len();
        let chars = value.chars().count();
        if chars == 0 {
            error(
                value_at,
                "the title line has no title".into(),
                "write a short label after \"title:\", or delete the line to use the name",
            );
        } else if chars > MAX_TITLE_CHARS {
            error(
                value_at,
                format!(
                    "the title has {chars} characters, more than the {MAX_TITLE_CHARS} allowed"
                ),
                "agents read it in a short autocomplete list: shorten it",
            );
        }
        title = Some(value.to_string());
        body_start = (line_end + 1).min(text.len());
    }
    let body = text[body_start..].trim();
    let body_at = text.len() - text[body_start..].trim_start().len();
    if body.is_empty() {
        let message = if title.is_some() {
            "this saved reply has a title but no text"
        } else {
            "this saved reply is empty"
        };
        error(
            body_start,
            message.into(),
            "write the text agents should send, or delete the file",
        );
        return None;
    }
    if let Some((over, _)) = body.char_indices().nth(MAX_REPLY_CHARS) {
        error(
            body_at + over,
            format!(
                "this saved reply has {} characters, more than the {MAX_REPLY_CHARS} allowed; \
                 the text goes over the limit here",
                body.chars().count()
            ),
            "a Discord message holds 2,000 characters and the filled-in names and status link \
             need room too: shorten it, or split it into two replies",
        );
    }
    let template = parse_template(body, |at, message, fix| error(body_at + at, message, fix));
    (problems.len() == before).then_some((title, template))
}

/// Splits a reply's text into literal text and placeholders. Mistakes go to `error` with their
/// byte offset in `body`; the template returned then is incomplete and only good for carrying on.
fn parse_template(body: &str, mut error: impl FnMut(usize, String, &str)) -> Template {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while let Some(c) = body[i..].chars().next() {
        let after = &body[i + c.len_utf8()..];
        match c {
            '{' if after.starts_with('{') => {
                literal.push('{');
                i += 2;
            }
            '}' if after.starts_with('}') => {
                literal.push('}');
                i += 2;
            }
            '{' => {
                // A placeholder ends on its own line; running into a newline or another `{`
                // first means the brace was never closed.
                let end = after.find(['}', '\n', '{']);
                match end.filter(|&e| after[e..].starts_with('}')) {
                    Some(e) => {
                        let name = &after[..e];
                        match Slot::from_name(name) {
                            Some(slot) => {
                                if !literal.is_empty() {
                                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                                }
                                pieces.push(Piece::Slot(slot));
                            }
                            None => error(
                                i,
                                unknown_placeholder(name),
                                "use {customer}, {agent}, {ticket} or {status}; to write a \
                                 brace itself, double it: {{ and }}",
                            ),
                        }
                        i += 1 + e + 1;
                    }
                    None => {
                        error(
                            i,
                            "this { is never closed".into(),
                            "close the placeholder with } on the same line, e.g. {customer}; \
                             to write a brace itself, double it: {{",
                        );
                        i += 1;
                    }
                }
            }
            c => {
                literal.push(c);
                i += c.len_utf8();
            }
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    Template(pieces)
}

/// "unknown placeholder", with the known one it most likely meant.
fn unknown_placeholder(name: &str) -> String {
    let typed = name.trim().to_lowercase();
    let nearest = PLACEHOLDERS
        .iter()
        .map(|known| (edit_distance(&typed, known), known))
        .min()
        .filter(|(distance, _)| *distance <= 2);
    match nearest {
        Some((_, known)) => format!("unknown placeholder {{{name}}}; did you mean {{{known}}}?"),
        None => format!("unknown placeholder {{{name}}}"),
    }
}

/// Levenshtein distance in characters; the strings are a few letters long.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn load(files: &[(&str, &str)]) -> Result<SavedReplies, Vec<Problem>> {
        SavedReplies::load_dir(folder(files).path())
    }

    /// The one problem loading `files` reports, as (file name, line, column, message).
    fn only_problem(files: &[(&str, &str)]) -> (String, usize, usize, String) {
        let problems = load(files).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:#?}");
        let p = &problems[0];
        let file = p.file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!p.fix.is_empty());
        (file, p.line, p.column, p.message.clone())
    }

    fn fill() -> Fill<'static> {
        Fill {
            customer: "Sara",
            agent: "Omid",
            ticket: 42,
            status: "",
        }
    }

    #[test]
    fn replies_load_with_their_titles_or_their_names() {
        let replies = load(&[
            (
                "refund-sent.md",
                "title: Refund on its way\nHi {customer}, done.\n",
            ),
            ("need-order-number.md", "Could you send your order number?"),
        ])
        .unwrap();
        assert_eq!(replies.len(), 2);
        assert_eq!(replies.title("refund-sent"), Some("Refund on its way"));
        assert_eq!(
            replies.title("need-order-number"),
            Some("need order number")
        );
        assert_eq!(
            replies.render("refund-sent", "en", &fill()).as_deref(),
            Some("Hi Sara, done.")
        );
    }

    #[test]
    fn placeholders_are_filled_and_doubled_braces_are_braces() {
        let replies = load(&[(
            "hello.md",
            "Hi {customer}, this is {agent} on ticket #{ticket}. {{not a placeholder}} :}",
        )])
        .unwrap();
        assert_eq!(
            replies.render("hello", "en", &fill()).unwrap(),
            "Hi Sara, this is Omid on ticket #42. {not a placeholder} :}"
        );
    }

    #[test]
    fn a_line_holding_only_an_empty_status_disappears() {
        let replies = load(&[("wait.md", "We are on it.\n{status}\nThanks, {agent}")]).unwrap();
        assert_eq!(
            replies.render("wait", "en", &fill()).unwrap(),
            "We are on it.\nThanks, Omid"
        );
        let crisis = Fill {
            status: "https://discord.com/channels/1/2/3",
            ..fill()
        };
        assert_eq!(
            replies.render("wait", "en", &crisis).unwrap(),
            "We are on it.\nhttps://discord.com/channels/1/2/3\nThanks, Omid"
        );
    }

    #[test]
    fn a_translation_is_used_when_there_is_one_and_english_otherwise() {
        let replies = load(&[
            ("thanks.md", "Thanks, {customer}!"),
            ("thanks.fa.md", "ممنون، {customer}!"),
        ])
        .unwrap();
        assert_eq!(replies.len(), 1);
        assert_eq!(
            replies.render("thanks", "fa", &fill()).unwrap(),
            "ممنون، Sara!"
        );
        assert_eq!(
            replies.render("thanks", "fa-IR", &fill()).unwrap(),
            "ممنون، Sara!"
        );
        assert_eq!(
            replies.render("thanks", "hy", &fill()).unwrap(),
            "Thanks, Sara!"
        );
        assert_eq!(replies.render("nope", "en", &fill()), None);
    }

    #[test]
    fn a_misspelt_placeholder_is_reported_where_it_is_with_a_suggestion() {
        let (file, line, column, message) =
            only_problem(&[("hi.md", "title: Hi\nHello\n  dear {custmer}!")]);
        assert_eq!((file.as_str(), line, column), ("hi.md", 3, 8));
        assert!(
            message.contains("{custmer}") && message.contains("{customer}"),
            "{message}"
        );
    }

    #[test]
    fn an_unclosed_brace_is_reported_where_it_opens() {
        let (_, line, column, message) = only_problem(&[("hi.md", "Hi {customer\nbye")]);
        assert_eq!((line, column), (1, 4));
        assert!(message.contains("never closed"), "{message}");
    }

    #[test]
    fn an_empty_file_or_a_title_alone_is_an_error() {
        let (_, line, column, message) = only_problem(&[("blank.md", "  \n\n")]);
        assert_eq!((line, column), (1, 1));
        assert!(message.contains("empty"), "{message}");
        let (_, _, _, message) = only_problem(&[("blank.md", "title: Blank\n")]);
        assert!(message.contains("no text"), "{message}");
    }

    #[test]
    fn text_over_1800_characters_is_counted_in_characters_and_reported_where_it_overflows() {
        // Persian letters take two bytes each: 1,800 of them are 3,600 bytes and still fit.
        let fits = "س".repeat(MAX_REPLY_CHARS);
        assert!(load(&[("long.md", &fits)]).is_ok());
        let over = format!("title: Long\n{fits}ش");
        let (_, line, column, message) = only_problem(&[("long.md", &over)]);
        assert_eq!((line, column), (2, MAX_REPLY_CHARS + 1));
        assert!(message.contains("1801 characters"), "{message}");
    }

    #[test]
    fn bad_names_are_rejected() {
        for name in [
            "Refund.md",
            "refund_sent.md",
            "a.b.fa.md",
            "thanks.english.md",
            "thanks.en.md",
            &format!("{}.md", "a".repeat(MAX_NAME_CHARS + 1)),
        ] {
            let (file, line, column, _) = only_problem(&[("thanks.md", "ok"), (name, "text")]);
            assert_eq!((file.as_str(), line, column), (name, 1, 1));
        }
        let longest = format!("{}.md", "a".repeat(MAX_NAME_CHARS));
        assert!(load(&[(&longest, "text")]).is_ok());
    }

    #[test]
    fn a_translation_without_its_english_reply_is_an_error() {
        let (file, _, _, message) = only_problem(&[("thanks.fa.md", "ممنون")]);
        assert_eq!(file, "thanks.fa.md");
        assert!(message.contains("thanks.md"), "{message}");
        // A broken English file is reported once, not again through its translation.
        let (file, _, _, _) = only_problem(&[("thanks.md", ""), ("thanks.fa.md", "ممنون")]);
        assert_eq!(file, "thanks.md");
    }

    #[test]
    fn one_name_in_two_folders_is_an_error() {
        let (_, _, _, message) =
            only_problem(&[("billing/thanks.md", "a"), ("general/thanks.md", "b")]);
        assert!(
            message.contains("thanks") && message.contains("billing"),
            "{message}"
        );
    }

    #[test]
    fn every_problem_in_every_file_is_reported_at_once() {
        let problems = load(&[
            ("a.md", "{oops} and {customer"),
            ("b.md", ""),
            ("c.fa.md", "x"),
        ])
        .unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        let shown = problems[0].to_string();
        assert!(
            shown.contains("a.md:1:1: error: unknown placeholder {oops}"),
            "{shown}"
        );
        assert!(shown.contains("\n    fix: "), "{shown}");
    }

    #[test]
    fn a_missing_folder_is_an_empty_set_and_other_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let replies = SavedReplies::load_dir(&dir.path().join("replies")).unwrap();
        assert!(replies.is_empty());
        let replies = load(&[("notes.txt", ""), (".draft.md", ""), ("ok.md", "fine")]).unwrap();
        assert_eq!(replies.len(), 1);
    }

    #[test]
    fn autocomplete_ranks_the_best_match_first_and_lists_all_by_name_when_empty() {
        let replies = load(&[
            ("refund-sent.md", "title: Refund on its way\na"),
            ("refund-denied.md", "title: Refund refused\nb"),
            ("shipping-delay.md", "title: Parcel is late\nc"),
        ])
        .unwrap();
        let names = |typed: &str, limit: usize| -> Vec<String> {
            replies
                .autocomplete(typed, limit)
                .into_iter()
                .map(|(name, _)| name)
                .collect()
        };
        assert_eq!(
            names("", 25),
            ["refund-denied", "refund-sent", "shipping-delay"]
        );
        assert_eq!(names("", 1), ["refund-denied"]);
        assert_eq!(names("parcel", 25), ["shipping-delay"]);
        assert_eq!(names("refund sent", 25)[0], "refund-sent");
        assert_eq!(names("REFUSED", 25), ["refund-denied"]);
        assert_eq!(
            replies.autocomplete("late", 25),
            [("shipping-delay".to_string(), "Parcel is late".to_string())]
        );
        assert!(names("zzz", 25).is_empty());
    }
}
