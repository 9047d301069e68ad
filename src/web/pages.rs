//! The public status page of a server and its Atom feed: the source of truth for customers who
//! are not on Discord (journey J4). This module only turns plain values into text; reading the
//! crises and answering HTTP belong to the server around it.
//!
//! Everything a moderator or a server owner typed (server name, titles, topics, status texts,
//! updates, closing notes) is escaped, on the page with [`escape_html`] and in the feed with the
//! same escapes, which are XML's too, after dropping the few characters XML cannot hold at all.
//! The page has no scripts and loads nothing; its Content-Security-Policy says so to the browser.
//!
//! The page's own words come from the `[web]` section of the locale files, in the language asked
//! for (English when it is not one Beacon speaks). Moderators write in whatever language they
//! like, so each of their texts is marked `dir="auto"` and finds its own direction, and times are
//! isolated left-to-right so a date reads the same on a Persian page as on an English one.

use std::cmp::Reverse;
use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::Offset;

use crate::desk::crisis::{Crisis, CrisisUpdate, UpdateKind};
use crate::desk::transcript::escape_html;
use crate::locale::{FALLBACK, Locales};

/// The most entries the feed carries: readers poll it, and old updates stay on the page.
pub const FEED_ENTRIES: usize = 50;

/// What the status page and the feed of one server show.
#[derive(Clone, Copy, Debug)]
pub struct StatusView<'a> {
    pub guild_id: u64,
    /// The server's name if known.
    pub server: Option<&'a str>,
    /// The language of the page's own words (en, fa, ar, hy; others fall back to English).
    pub lang: &'a str,
    /// Every crisis to show with its updates oldest first; running ones first, then ended ones,
    /// newest first (the caller passes them in that order).
    pub crises: &'a [(Crisis, Vec<CrisisUpdate>)],
    /// Absolute base URL of this server's page, e.g. `https://status.example.com/status/123`
    /// (no trailing slash). The feed is at `{base_url}/feed.atom`.
    pub base_url: &'a str,
    pub now_ms: i64,
}

impl StatusView<'_> {
    fn feed_url(&self) -> String {
        format!("{}/feed.atom", self.base_url)
    }

    /// The page's title as plain text: "Acme status", or a general one without a name.
    fn title(&self, lang: &str) -> String {
        match self.server.map(str::trim).filter(|s| !s.is_empty()) {
            Some(server) => Locales::embedded().fill(lang, "web.title", &[("server", &server)]),
            None => words(lang, "web.title_unnamed").to_owned(),
        }
    }
}

/// The status page: a complete HTML5 document.
#[must_use]
pub fn status_page(view: &StatusView) -> String {
    let lang = page_lang(view.lang);
    let (running, ended): (Vec<_>, Vec<_>) = view
        .crises
        .iter()
        .partition(|(crisis, _)| crisis.ended_at_ms.is_none());

    let mut out = String::with_capacity(8192);
    head(
        &mut out,
        lang,
        &view.title(lang),
        Some((&view.feed_url(), &view.title(lang))),
    );

    // Writing into a String cannot fail, so the `Result`s of `write!` are dropped.
    let h1 = match view.server.map(str::trim).filter(|s| !s.is_empty()) {
        Some(server) => words_html(
            lang,
            "web.title",
            &[("server", &format!("<bdi>{}</bdi>", escape_html(server)))],
        ),
        None => escape_html(words(lang, "web.title_unnamed")),
    };
    let _ = write!(
        out,
        "<header>\n<h1>{h1}</h1>\n<p class=\"as-of\">{}</p>\n</header>\n",
        words_html(lang, "web.as_of", &[("time", &time_html(view.now_ms))])
    );

    if running.is_empty() {
        let _ = write!(
            out,
            "<section id=\"all-clear\" class=\"all-clear\">\n<p class=\"headline\">{}</p>\n\
             <p>{}</p>\n</section>\n",
            escape_html(words(lang, "web.all_clear")),
            escape_html(words(lang, "web.all_clear_detail"))
        );
    } else {
        let _ = writeln!(
            out,
            "<section id=\"running\">\n<h2>{}</h2>",
            escape_html(words(lang, "web.running"))
        );
        for (crisis, updates) in &running {
            running_crisis(&mut out, lang, crisis, updates);
        }
        out.push_str("</section>\n");
    }

    let _ = writeln!(
        out,
        "<section id=\"past\">\n<h2>{}</h2>",
        escape_html(words(lang, "web.past"))
    );
    if ended.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"none\">{}</p>",
            escape_html(words(lang, "web.no_past"))
        );
    }
    for (crisis, updates) in &ended {
        ended_crisis(&mut out, lang, crisis, updates);
    }
    out.push_str("</section>\n");

    let _ = write!(
        out,
        "<footer>\n<p class=\"feed\"><a href=\"{}\" type=\"application/atom+xml\">{}</a></p>\n\
         </footer>\n</main>\n</body>\n</html>\n",
        escape_html(&view.feed_url()),
        escape_html(words(lang, "web.feed"))
    );
    out
}

/// The Atom 1.0 feed (RFC 4287) of the server's crisis updates, newest first, at most
/// [`FEED_ENTRIES`].
#[must_use]
pub fn atom_feed(view: &StatusView) -> String {
    let lang = page_lang(view.lang);
    let mut entries: Vec<(&Crisis, &CrisisUpdate)> = view
        .crises
        .iter()
        .flat_map(|(crisis, updates)| updates.iter().map(move |update| (crisis, update)))
        .collect();
    entries.sort_by_key(|(_, update)| Reverse((update.at_ms, update.id)));
    entries.truncate(FEED_ENTRIES);
    let updated = entries.first().map_or(view.now_ms, |(_, u)| u.at_ms);
    let title = view.title(lang);
    let author = view
        .server
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("Beacon");

    let mut out = String::with_capacity(1024 + entries.len() * 512);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{lang}\">\n\
         <id>{base}</id>\n\
         <title type=\"text\">{title}</title>\n\
         <updated>{updated}</updated>\n\
         <link rel=\"self\" type=\"application/atom+xml\" href=\"{feed}\"/>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"{base}\"/>\n\
         <author><name>{author}</name></author>\n\
         <generator>Beacon</generator>\n",
        base = xml_text(view.base_url),
        title = xml_text(&title),
        updated = rfc3339(view_time(updated)),
        feed = xml_text(&view.feed_url()),
        author = xml_text(author),
    );
    for (crisis, update) in entries {
        let link = format!("{}#{}", view.base_url, update_anchor(update));
        // The kind goes in first: `fill` replaces in turn, so a title holding "{kind}" would
        // otherwise have it replaced too.
        let entry_title = Locales::embedded().fill(
            lang,
            "web.entry_title",
            &[
                ("kind", &kind_words(lang, update.kind)),
                ("title", &crisis.title),
            ],
        );
        let at = rfc3339(view_time(update.at_ms));
        let _ = write!(
            out,
            "<entry>\n\
             <id>{link}</id>\n\
             <title type=\"text\">{title}</title>\n\
             <updated>{at}</updated>\n\
             <published>{at}</published>\n\
             <link rel=\"alternate\" type=\"text/html\" href=\"{link}\"/>\n\
             <category term=\"{topic}\"/>\n\
             <content type=\"text\">{text}</content>\n\
             </entry>\n",
            link = xml_text(&link),
            title = xml_text(&entry_title),
            topic = xml_text(&crisis.topic),
            text = xml_text(&update.text),
        );
    }
    out.push_str("</feed>\n");
    out
}

/// A small page for an address with no status page behind it, in `lang`.
#[must_use]
pub fn not_found_page(lang: &str) -> String {
    let lang = page_lang(lang);
    let title = words(lang, "web.not_found_title");
    let mut out = String::with_capacity(2048);
    head(&mut out, lang, title, None);
    let _ = write!(
        out,
        "<h1>{}</h1>\n<p id=\"not-found\">{}</p>\n</main>\n</body>\n</html>\n",
        escape_html(title),
        escape_html(words(lang, "web.not_found_text"))
    );
    out
}

/// From the doctype to the opening `<main>`: language and direction, the viewport, a policy
/// that allows nothing but the inline style, and the feed's address when there is one.
fn head(out: &mut String, lang: &str, title: &str, feed: Option<(&str, &str)>) {
    let dir = if is_rtl(lang) { "rtl" } else { "ltr" };
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"{lang}\" dir=\"{dir}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>{}</title>\n",
        escape_html(title)
    );
    if let Some((href, feed_title)) = feed {
        let _ = writeln!(
            out,
            "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"{}\" href=\"{}\">",
            escape_html(feed_title),
            escape_html(href)
        );
    }
    let _ = write!(out, "<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n");
}

/// A running crisis, prominent: title, what is known now, since when, then every update,
/// newest first.
fn running_crisis(out: &mut String, lang: &str, crisis: &Crisis, updates: &[CrisisUpdate]) {
    // No whitespace between the tags and moderators' text: `pre-wrap` would show it.
    let _ = write!(
        out,
        "<article class=\"crisis running\" id=\"crisis-{id}\">\n\
         <h3 dir=\"auto\">{title}</h3>\n\
         <p class=\"meta\">{started} · {topic}</p>\n\
         <p class=\"label\">{status_label}</p>\n\
         <div class=\"status\" dir=\"auto\">{status}</div>\n\
         <h4>{updates_label}</h4>\n",
        id = crisis.id,
        title = escape_html(&crisis.title),
        started = words_html(
            lang,
            "web.started",
            &[("time", &time_html(crisis.started_at_ms))]
        ),
        topic = topic_html(lang, &crisis.topic),
        status_label = escape_html(words(lang, "web.status")),
        status = escape_html(&crisis.status_text),
        updates_label = escape_html(words(lang, "web.updates")),
    );
    update_list(out, lang, updates);
    out.push_str("</article>\n");
}

/// An ended crisis, quieter: title, when it ran, the closing note, and its updates folded away.
fn ended_crisis(out: &mut String, lang: &str, crisis: &Crisis, updates: &[CrisisUpdate]) {
    let ended_at = crisis.ended_at_ms.unwrap_or(crisis.started_at_ms);
    let _ = write!(
        out,
        "<article class=\"crisis ended\" id=\"crisis-{id}\">\n\
         <h3 dir=\"auto\">{title}</h3>\n\
         <p class=\"meta\">{start} – {end} · {topic}</p>\n",
        id = crisis.id,
        title = escape_html(&crisis.title),
        start = time_html(crisis.started_at_ms),
        end = time_html(ended_at),
        topic = topic_html(lang, &crisis.topic),
    );
    if let Some(note) = crisis
        .closing_note
        .as_deref()
        .filter(|n| !n.trim().is_empty())
    {
        let _ = writeln!(
            out,
            "<div class=\"closing\" dir=\"auto\">{}</div>",
            escape_html(note)
        );
    }
    if !updates.is_empty() {
        let _ = writeln!(
            out,
            "<details>\n<summary>{}</summary>",
            words_html(
                lang,
                "web.updates_count",
                &[("count", &updates.len().to_string())]
            )
        );
        update_list(out, lang, updates);
        out.push_str("</details>\n");
    }
    out.push_str("</article>\n");
}

/// Updates newest first, whatever order they came in; each has an anchor the feed links to.
fn update_list(out: &mut String, lang: &str, updates: &[CrisisUpdate]) {
    let mut newest_first: Vec<&CrisisUpdate> = updates.iter().collect();
    newest_first.sort_by_key(|u| Reverse((u.at_ms, u.id)));
    out.push_str("<ol class=\"updates\">\n");
    for update in newest_first {
        let _ = write!(
            out,
            "<li class=\"update {kind}\" id=\"{anchor}\">\n\
             <p class=\"when\"><span class=\"kind\">{kind_words}</span> · {time}</p>\n\
             <div class=\"text\" dir=\"auto\">{text}</div>\n</li>\n",
            kind = update.kind.name(),
            anchor = update_anchor(update),
            kind_words = escape_html(&kind_words(lang, update.kind)),
            time = time_html(update.at_ms),
            text = escape_html(&update.text),
        );
    }
    out.push_str("</ol>\n");
}

/// The fragment naming an update on the page, which the feed's entries link to.
fn update_anchor(update: &CrisisUpdate) -> String {
    format!("update-{}", update.id)
}

fn topic_html(lang: &str, topic: &str) -> String {
    words_html(
        lang,
        "web.topic",
        &[("topic", &format!("<bdi>{}</bdi>", escape_html(topic)))],
    )
}

fn kind_words(lang: &str, kind: UpdateKind) -> String {
    let key = match kind {
        UpdateKind::Start => "web.kind_start",
        UpdateKind::Update => "web.kind_update",
        UpdateKind::End => "web.kind_end",
    };
    words(lang, key).to_owned()
}

/// The language of the page's words: `lang` if Beacon speaks it, else English.
fn page_lang(lang: &str) -> &'static str {
    speaks(lang).unwrap_or(FALLBACK)
}

/// The language Beacon speaks for a language tag: its primary subtag (`fa-IR` is Persian), if
/// there is a locale for it.
pub fn speaks(tag: &str) -> Option<&'static str> {
    let primary = tag
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    Locales::embedded()
        .languages()
        .find(|known| *known == primary)
}

/// Languages written right to left, for a locale file added later as much as for Persian and
/// Arabic now.
fn is_rtl(lang: &str) -> bool {
    matches!(
        lang,
        "ar" | "fa" | "he" | "ur" | "ps" | "ckb" | "sd" | "ug" | "yi" | "dv"
    )
}

fn words(lang: &str, key: &'static str) -> &'static str {
    Locales::embedded().get(lang, key)
}

/// The words for `key` as HTML: the translation's own text escaped and each `{name}` replaced by
/// its ready-made HTML, in one pass. [`Locales::fill`] is for plain text: it would leave the
/// translation unescaped, and it searches inserted values for the next placeholder.
fn words_html(lang: &str, key: &'static str, args: &[(&str, &str)]) -> String {
    let template = words(lang, key);
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            args.iter()
                .find(|(name, _)| *name == &after[..close])
                .map(|(_, html)| (*html, close))
        });
        if let Some((html, close)) = value {
            out.push_str(&escape_html(&rest[..open]));
            out.push_str(html);
            rest = &after[close + 1..];
        } else {
            out.push_str(&escape_html(&rest[..=open]));
            rest = after;
        }
    }
    out.push_str(&escape_html(rest));
    out
}

/// A moment as `<time>`: RFC 3339 for machines, `2026-11-22 14:05 UTC` for people, isolated
/// left to right so the date keeps its order inside right-to-left text.
fn time_html(ms: i64) -> String {
    let at = view_time(ms);
    let dt = Offset::UTC.to_datetime(at);
    format!(
        "<time dir=\"ltr\" datetime=\"{}\">{:04}-{:02}-{:02} {:02}:{:02} UTC</time>",
        rfc3339(at),
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute()
    )
}

/// The moment `ms` stands for, kept within what RFC 3339 can write (years 0000 to 9999), so a
/// corrupt value shows as an odd date instead of an invalid page or feed.
fn view_time(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms.max(0)).unwrap_or(Timestamp::MAX)
}

/// `2026-11-22T14:05:00Z`, with a fraction only when there is one.
fn rfc3339(at: Timestamp) -> String {
    at.to_string()
}

/// Text for XML content or an attribute value: the characters XML 1.0 cannot hold even escaped
/// (most control characters, U+FFFE and U+FFFF) are dropped, the rest escaped.
fn xml_text(text: &str) -> String {
    let allowed: String = text
        .chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
        })
        .collect();
    escape_html(&allowed)
}

/// Nothing may load or run: only the inline style sheet applies.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                   form-action 'none'";

/// One narrow column that fits a 360px phone, system fonts, light and dark. Logical properties
/// (`inline-start`) put the accent bar on the reading side in both directions;
/// `unicode-bidi: plaintext` lets each line of a moderator's text pick its own direction.
const CSS: &str = "\
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;font:1rem/1.55 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",\
\"Noto Sans Arabic\",\"Noto Sans Armenian\",Tahoma,sans-serif;color:#1d1d1f;background:#f5f5f7}
main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0 .25rem;overflow-wrap:anywhere}
h2{font-size:1.2rem;margin:2rem 0 .75rem}
h3{font-size:1.15rem;line-height:1.3;margin:0 0 .35rem;overflow-wrap:anywhere}
h4{font-size:1rem;margin:1rem 0 0}
p{margin:.35rem 0}
.as-of,.meta,.when,.label,.none{font-size:.875rem;color:#5b5b62}
.label{margin-top:.75rem;font-weight:600}
.all-clear{margin:1.25rem 0;padding:1rem 1.25rem;border-radius:.75rem;background:#e6f5eb;color:#0f5a2b}
.all-clear .headline{font-size:1.3rem;font-weight:700}
.crisis{margin:1rem 0;padding:1rem;border:1px solid #dcdce0;border-inline-start:.4rem solid #8a8a90;\
border-radius:.75rem;background:#fff}
.crisis.running{border-color:#f1b7b2;border-inline-start-color:#d93025;background:#fff6f5}
.crisis.ended{border-inline-start-color:#1f9d55}
.status,.closing,.text{margin:.35rem 0 0;white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:plaintext}
.status{font-size:1.1rem}
.updates{list-style:none;margin:.5rem 0 0;padding:0}
.update{padding:.6rem 0;border-top:1px solid #e4e4e8}
.update:first-child{border-top:0}
.kind{font-weight:600}
time{white-space:nowrap}
details{margin-top:.75rem}
summary{cursor:pointer;color:#1a5fd0}
a{color:#1a5fd0;overflow-wrap:anywhere}
footer{margin:2.5rem 0 1rem;font-size:.9rem}
@media (prefers-color-scheme:dark){
body{color:#e8e8ea;background:#141416}
.as-of,.meta,.when,.label,.none{color:#a8a8b0}
.all-clear{background:#15301f;color:#9fe0b4}
.crisis{border-color:#34343a;background:#1e1e22}
.crisis.running{border-color:#5c2723;border-inline-start-color:#ff6b5e;background:#2a1a19}
.crisis.ended{border-inline-start-color:#3ecf7a}
.update{border-top-color:#34343a}
a,summary{color:#8ab4ff}
}
";

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-22 14:05:00 UTC.
    const NOV_22_1405: i64 = 1_795_356_300_000;
    const MINUTE: i64 = 60_000;
    const BASE: &str = "https://status.example.com/status/123";

    fn crisis(id: i64, title: &str, ended: Option<i64>) -> Crisis {
        Crisis {
            id,
            guild_id: 123,
            topic: "payments".to_owned(),
            title: title.to_owned(),
            status_text: "Card payments fail; we are on it.".to_owned(),
            started_by: 7,
            started_at_ms: NOV_22_1405,
            ended_at_ms: ended,
            closing_note: ended.map(|_| "Fixed; refunds go out today.".to_owned()),
            status_channel_id: None,
            status_message_id: None,
        }
    }

    fn update(id: i64, crisis_id: i64, kind: UpdateKind, text: &str, at_ms: i64) -> CrisisUpdate {
        CrisisUpdate {
            id,
            crisis_id,
            kind,
            text: text.to_owned(),
            posted_by: 7,
            at_ms,
            status_done: true,
            announce_message_id: None,
            progress_channel_id: None,
            progress_message_id: None,
            fanned_out: true,
            reported: true,
        }
    }

    /// A running crisis with three updates, oldest first, as the caller passes them.
    fn running(id: i64, title: &str) -> (Crisis, Vec<CrisisUpdate>) {
        let first = id * 10;
        (
            crisis(id, title, None),
            vec![
                update(first, id, UpdateKind::Start, "first words", NOV_22_1405),
                update(
                    first + 1,
                    id,
                    UpdateKind::Update,
                    "second words",
                    NOV_22_1405 + MINUTE,
                ),
                update(
                    first + 2,
                    id,
                    UpdateKind::Update,
                    "third words",
                    NOV_22_1405 + 2 * MINUTE,
                ),
            ],
        )
    }

    fn ended(id: i64, title: &str) -> (Crisis, Vec<CrisisUpdate>) {
        let end = NOV_22_1405 + 60 * MINUTE;
        (
            crisis(id, title, Some(end)),
            vec![
                update(id * 10, id, UpdateKind::Start, "it broke", NOV_22_1405),
                update(
                    id * 10 + 1,
                    id,
                    UpdateKind::End,
                    "Fixed; refunds go out today.",
                    end,
                ),
            ],
        )
    }

    fn view<'a>(lang: &'a str, crises: &'a [(Crisis, Vec<CrisisUpdate>)]) -> StatusView<'a> {
        StatusView {
            guild_id: 123,
            server: Some("Acme"),
            lang,
            crises,
            base_url: BASE,
            now_ms: NOV_22_1405 + 90 * MINUTE,
        }
    }

    /// The `<html ...>` start tag.
    fn html_tag(page: &str) -> &str {
        let start = page.find("<html").expect("an html element");
        &page[start..=start + page[start..].find('>').unwrap()]
    }

    /// Checks that every tag closes in order, so the document is well-formed as far as tags
    /// go, and that no `<` or `>` stands in text or attribute values (the style sheet has no
    /// child selectors, so this holds for the page too).
    fn assert_tags_balance(doc: &str) {
        let mut open: Vec<&str> = Vec::new();
        let mut rest = doc;
        while let Some(start) = rest.find('<') {
            assert!(
                !rest[..start].contains('>'),
                "a raw > in text: {:?}",
                &rest[..start]
            );
            let end = start + rest[start..].find('>').expect("every tag ends");
            let tag = &rest[start + 1..end];
            assert!(!tag.contains('<'), "a < inside a tag: {tag:?}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(open.pop(), Some(name), "closing </{name}>");
            } else if !tag.starts_with(['?', '!']) && !tag.ends_with('/') {
                let name = tag.split_whitespace().next().unwrap();
                // HTML's void elements have no end tag.
                if !matches!(name, "meta" | "link") {
                    open.push(name);
                }
            }
            rest = &rest[end + 1..];
        }
        assert!(open.is_empty(), "left open: {open:?}");
    }

    /// Checks that every `&` starts one of the five XML entities or a numeric reference.
    fn assert_ampersands_are_entities(doc: &str) {
        for (i, _) in doc.match_indices('&') {
            let tail = &doc[i..];
            let named = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                .iter()
                .any(|e| tail.starts_with(e));
            let numeric = tail.strip_prefix("&#").is_some_and(|n| {
                let digits = n.split(';').next().unwrap();
                n.contains(';') && !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
            });
            assert!(
                named || numeric,
                "a bare & at {:?}",
                &tail[..tail.len().min(12)]
            );
        }
    }

    #[test]
    fn a_hostile_title_is_escaped_in_the_page_and_the_feed() {
        let hostile = "<script>alert('x')</script> & \"more\"";
        let (mut c, mut updates) = running(1, hostile);
        c.topic = "<b>topic</b>".to_owned();
        c.status_text = "<img src=x onerror=alert(1)>".to_owned();
        updates[0].text = "</div><script>alert(2)</script>".to_owned();
        let crises = [(c, updates), ended(2, "<script>past</script>")];
        let mut v = view("en", &crises);
        v.server = Some("<script>server</script>");

        let page = status_page(&v);
        let feed = atom_feed(&v);

        for doc in [&page, &feed] {
            assert!(!doc.contains("<script"), "{doc}");
            assert!(!doc.contains("<img"));
            assert!(!doc.contains("<b>"));
            assert!(doc.contains(
                "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;more&quot;"
            ));
        }
        assert!(page.contains("&lt;/div&gt;&lt;script&gt;alert(2)"));
        assert_tags_balance(&feed);
        assert_ampersands_are_entities(&feed);
    }

    #[test]
    fn persian_and_arabic_pages_read_right_to_left() {
        for lang in ["fa", "ar", "fa-IR"] {
            let page = status_page(&view(lang, &[]));
            let primary = &lang[..2];
            assert_eq!(
                html_tag(&page),
                format!("<html lang=\"{primary}\" dir=\"rtl\">")
            );
            assert!(html_tag(&not_found_page(lang)).contains("dir=\"rtl\""));
        }
    }

    #[test]
    fn english_and_armenian_pages_read_left_to_right() {
        for lang in ["en", "hy"] {
            let page = status_page(&view(lang, &[]));
            assert_eq!(
                html_tag(&page),
                format!("<html lang=\"{lang}\" dir=\"ltr\">")
            );
        }
    }

    #[test]
    fn an_unknown_language_gets_the_english_page() {
        let page = status_page(&view("xx", &[]));

        assert_eq!(html_tag(&page), "<html lang=\"en\" dir=\"ltr\">");
        assert!(page.contains("All systems normal"));
    }

    #[test]
    fn the_page_words_are_in_the_asked_language() {
        let crises = [running(1, "Outage")];
        let persian = status_page(&view("fa", &crises));
        let armenian = status_page(&view("hy", &[]));

        assert!(persian.contains(words("fa", "web.running")));
        assert!(persian.contains("<title>وضعیت Acme</title>"));
        assert!(!persian.contains("Ongoing incidents"));
        assert!(armenian.contains(words("hy", "web.all_clear")));
        assert_ne!(words("hy", "web.all_clear"), words("en", "web.all_clear"));
    }

    #[test]
    fn with_no_running_crisis_the_page_says_all_systems_normal() {
        let crises = [ended(1, "Old outage")];

        let page = status_page(&view("en", &crises));

        assert!(page.contains("id=\"all-clear\""));
        assert!(page.contains("All systems normal"));
        assert!(!page.contains("class=\"crisis running\""));
        assert!(page.contains("class=\"crisis ended\""));
    }

    #[test]
    fn a_running_crisis_is_shown_first_with_its_status_and_start() {
        let crises = [running(1, "Payments down"), ended(2, "Old outage")];

        let page = status_page(&view("en", &crises));

        assert!(!page.contains("id=\"all-clear\""));
        let running_at = page.find("class=\"crisis running\"").unwrap();
        let past_at = page.find("id=\"past\"").unwrap();
        assert!(running_at < past_at);
        let block = &page[running_at..past_at];
        assert!(block.contains("<h3 dir=\"auto\">Payments down</h3>"));
        assert!(block.contains(
            "<div class=\"status\" dir=\"auto\">Card payments fail; we are on it.</div>"
        ));
        assert!(block.contains("Started <time dir=\"ltr\" datetime=\"2026-11-22T14:05:00Z\">"));
        assert_eq!(block.matches("<li class=\"update").count(), 3);
        assert!(!block.contains("<details>"));
    }

    #[test]
    fn an_ended_crisis_is_a_past_incident_with_its_updates_folded() {
        let crises = [ended(2, "Old outage")];

        let page = status_page(&view("en", &crises));

        let past = &page[page.find("id=\"past\"").unwrap()..];
        assert!(past.contains("Past incidents"));
        assert!(past.contains("<h3 dir=\"auto\">Old outage</h3>"));
        assert!(past.contains(
            "2026-11-22 14:05 UTC</time> – <time dir=\"ltr\" datetime=\"2026-11-22T15:05:00Z\">"
        ));
        assert!(
            past.contains("<div class=\"closing\" dir=\"auto\">Fixed; refunds go out today.</div>")
        );
        let details = &past[past.find("<details>").unwrap()..past.find("</details>").unwrap()];
        assert!(details.contains("<summary>Updates (2)</summary>"));
        assert_eq!(details.matches("<li class=\"update").count(), 2);
    }

    #[test]
    fn without_past_incidents_the_page_says_so() {
        let page = status_page(&view("en", &[]));

        assert!(page.contains("No past incidents."));
        assert!(!page.contains("class=\"crisis"));
    }

    #[test]
    fn updates_are_shown_newest_first() {
        let crises = [running(1, "Outage")];

        let page = status_page(&view("en", &crises));

        let third = page.find("third words").unwrap();
        let second = page.find("second words").unwrap();
        let first = page.find("first words").unwrap();
        assert!(third < second && second < first);
        assert!(page.contains("<li class=\"update update\" id=\"update-12\">"));
        assert!(page.contains("<span class=\"kind\">Incident started</span>"));
    }

    #[test]
    fn moderators_text_keeps_its_lines_and_finds_its_own_direction() {
        let (c, mut updates) = running(1, "قطعی پرداخت");
        updates[2].text = "خط اول\nsecond line".to_owned();
        let crises = [(c, updates)];

        let page = status_page(&view("en", &crises));

        assert!(page.contains("<h3 dir=\"auto\">قطعی پرداخت</h3>"));
        assert!(page.contains("<div class=\"text\" dir=\"auto\">خط اول\nsecond line</div>"));
        assert!(page.contains("white-space:pre-wrap"));
    }

    #[test]
    fn the_page_fits_a_phone_and_loads_nothing() {
        let crises = [running(1, "Outage"), ended(2, "Old")];

        let page = status_page(&view("en", &crises));

        assert!(page.starts_with("<!doctype html>\n"));
        assert!(
            page.contains(
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            )
        );
        assert!(page.contains("max-width:40rem"));
        assert!(page.contains("prefers-color-scheme:dark"));
        assert!(
            page.contains("http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'")
        );
        assert!(!page.contains("<script"));
        assert!(!page.contains("src="));
        assert!(!page.contains("@import"));
        assert!(page.contains("<h1>"));
        assert_tags_balance(&page);
        assert_ampersands_are_entities(&page);
    }

    #[test]
    fn the_page_links_its_feed() {
        let page = status_page(&view("en", &[]));

        assert!(page.contains(
            "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Acme status\" \
             href=\"https://status.example.com/status/123/feed.atom\">"
        ));
        assert!(page.contains("<a href=\"https://status.example.com/status/123/feed.atom\""));
    }

    #[test]
    fn a_server_name_is_not_read_for_placeholders() {
        let mut v = view("en", &[]);
        v.server = Some("{time} & co");

        let page = status_page(&v);

        assert!(page.contains("<h1><bdi>{time} &amp; co</bdi> status</h1>"));
        assert!(page.contains("<title>{time} &amp; co status</title>"));
    }

    #[test]
    fn without_a_server_name_the_page_has_a_general_title() {
        let mut v = view("en", &[]);
        v.server = None;

        let page = status_page(&v);

        assert!(page.contains("<h1>Service status</h1>"));
        assert!(atom_feed(&v).contains("<title type=\"text\">Service status</title>"));
    }

    #[test]
    fn the_feed_has_one_entry_per_update_newest_first() {
        let crises = [running(1, "Outage"), ended(2, "Old")];

        let feed = atom_feed(&view("en", &crises));

        assert_eq!(feed.matches("<entry>").count(), 5);
        assert_eq!(feed.matches("</entry>").count(), 5);
        let ids: Vec<&str> = feed
            .match_indices("<id>")
            .skip(1)
            .map(|(i, _)| &feed[i + 4..i + feed[i..].find("</id>").unwrap()])
            .collect();
        // 20 and 10 were posted in the same minute: the later id is the newer.
        assert_eq!(
            ids,
            [21, 12, 11, 20, 10].map(|id| format!("{BASE}#update-{id}"))
        );
        assert!(feed.contains("<title type=\"text\">Old: Resolved</title>"));
        assert!(feed.contains("<title type=\"text\">Outage: Update</title>"));
        assert!(feed.contains("<content type=\"text\">third words</content>"));
    }

    #[test]
    fn the_feed_carries_at_most_fifty_entries_the_newest() {
        let c = crisis(1, "Long one", None);
        let updates: Vec<CrisisUpdate> = (0..80)
            .map(|i| {
                update(
                    i,
                    1,
                    UpdateKind::Update,
                    &format!("update {i}"),
                    NOV_22_1405 + i * MINUTE,
                )
            })
            .collect();
        let crises = [(c, updates)];

        let feed = atom_feed(&view("en", &crises));

        assert_eq!(feed.matches("<entry>").count(), FEED_ENTRIES);
        assert!(feed.contains(">update 79<"));
        assert!(feed.contains(">update 30<"));
        assert!(!feed.contains(">update 29<"));
    }

    #[test]
    fn the_feed_is_a_well_formed_atom_document() {
        let (c, mut updates) = running(1, "R&D <down> \"now\" 'really'");
        updates[1].text = "a & b < c > d \" e ' f\u{1}\u{FFFF}".to_owned();
        let crises = [(c, updates), ended(2, "Old")];

        let feed = atom_feed(&view("fa", &crises));

        assert!(feed.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"fa\">"));
        assert!(feed.ends_with("</feed>\n"));
        assert_tags_balance(&feed);
        assert_ampersands_are_entities(&feed);
        assert!(!feed.contains('\u{1}') && !feed.contains('\u{FFFF}'));
        assert!(feed.contains(&format!("<id>{BASE}</id>")));
        assert!(feed.contains(&format!(
            "<link rel=\"self\" type=\"application/atom+xml\" href=\"{BASE}/feed.atom\"/>"
        )));
        assert!(feed.contains(&format!(
            "<link rel=\"alternate\" type=\"text/html\" href=\"{BASE}\"/>"
        )));
        assert!(feed.contains("<author><name>Acme</name></author>"));
        assert!(
            feed.contains(
                "<content type=\"text\">a &amp; b &lt; c &gt; d &quot; e &#39; f</content>"
            )
        );
        let head = &feed[..feed.find("<entry>").unwrap()];
        for element in ["<id>", "<title", "<updated>", "<author>"] {
            assert_eq!(head.matches(element).count(), 1, "{element}");
        }
    }

    #[test]
    fn the_feed_is_updated_at_its_latest_update_or_now() {
        let crises = [running(1, "Outage")];
        let busy = atom_feed(&view("en", &crises));
        let quiet = atom_feed(&view("en", &[]));

        assert!(busy.contains("<updated>2026-11-22T14:07:00Z</updated>\n<link"));
        assert!(busy.contains("<published>2026-11-22T14:05:00Z</published>"));
        assert!(quiet.contains("<updated>2026-11-22T15:35:00Z</updated>"));
        assert!(!quiet.contains("<entry>"));
    }

    #[test]
    fn entry_ids_do_not_change_between_renders() {
        let mut crises = vec![running(1, "Outage")];
        let before = atom_feed(&view("en", &crises));
        crises[0].0.title = "Outage, renamed".to_owned();
        crises[0].1.push(update(
            13,
            1,
            UpdateKind::End,
            "done",
            NOV_22_1405 + 5 * MINUTE,
        ));
        let after = atom_feed(&view("hy", &crises));

        let id = format!("<id>{BASE}#update-11</id>");
        assert!(before.contains(&id) && after.contains(&id));
    }

    #[test]
    fn a_time_out_of_range_still_gives_a_valid_page_and_feed() {
        let (mut c, mut updates) = running(1, "Odd");
        c.started_at_ms = i64::MIN;
        updates[0].at_ms = i64::MAX;
        let crises = [(c, updates)];

        let page = status_page(&view("en", &crises));
        let feed = atom_feed(&view("en", &crises));

        assert!(page.contains("datetime=\"1970-01-01T00:00:00Z\""));
        assert!(feed.contains("<updated>9999-"));
    }

    #[test]
    fn the_not_found_page_is_localized() {
        let english = not_found_page("en");
        let persian = not_found_page("fa");
        let armenian = not_found_page("hy");

        assert!(english.contains("<h1>Page not found</h1>"));
        assert!(english.contains("<html lang=\"en\" dir=\"ltr\">"));
        assert!(persian.contains(&format!("<h1>{}</h1>", words("fa", "web.not_found_title"))));
        assert!(persian.contains("<html lang=\"fa\" dir=\"rtl\">"));
        assert!(armenian.contains(&format!(
            "<title>{}</title>",
            words("hy", "web.not_found_title")
        )));
        assert!(!persian.contains("Page not found"));
        assert!(not_found_page("zz").contains("Page not found"));
        assert!(!english.contains("<script"));
    }
}
