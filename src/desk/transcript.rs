//! Transcripts of closed tickets, as Markdown and as a self-contained HTML page.
//!
//! When a ticket closes, Beacon posts both files to the transcripts channel, so staff can read
//! the conversation after the private thread is archived or deleted. This module only turns plain
//! values into text; fetching the thread and posting the files belong to the Discord layer.
//!
//! Everything in a transcript except the labels comes from users: names, tags, close reasons and
//! message text may hold Markdown, HTML, Discord mentions, newlines and right-to-left scripts. The
//! rules that keep that text from changing the shape of the file are:
//!
//! - Markdown: message text is kept as written but quoted with `> ` on every line, and a blank
//!   line follows each quote, so headings, lists or fences inside a message stay inside it.
//!   Short values (names, tags, the reason) are put on one line with inline syntax escaped.
//! - HTML: every piece of user text is escaped (`& < > " '`); the page has no scripts at all.
//! - Both: only `http://` and `https://` attachment URLs become links, so a `javascript:` or
//!   `data:` URL is shown as text and cannot run when someone clicks it.
//! - Right-to-left text (Persian, Arabic) is kept verbatim; the HTML marks message bodies and
//!   values `dir="auto"` and wraps names in `<bdi>` so they do not reorder the text around them.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::Offset;

/// What the transcript says about the ticket itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub number: i64,
    /// The server's name, or its id as text when the name is unknown.
    pub server: String,
    pub category: String,
    pub priority: String,
    pub tags: Vec<String>,
    /// Display name of the customer.
    pub customer: String,
    /// Display name of the agent who had the ticket, if anyone claimed it.
    pub agent: Option<String>,
    /// Unix time in milliseconds.
    pub opened_at_ms: i64,
    pub closed_at_ms: Option<i64>,
    pub close_reason: Option<String>,
    /// 1 to 5 if the customer gave a rating.
    pub rating: Option<u8>,
}

/// One message of the thread, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Display name.
    pub author: String,
    pub role: Role,
    /// Unix time in milliseconds.
    pub at_ms: i64,
    pub text: String,
    pub attachments: Vec<Attachment>,
}

/// Who wrote a message; the HTML colours messages by role so staff replies stand out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Customer,
    Staff,
    Bot,
}

impl Role {
    /// The word shown next to the author's name.
    fn label(self) -> &'static str {
        match self {
            Role::Customer => "Customer",
            Role::Staff => "Staff",
            Role::Bot => "Bot",
        }
    }

    /// The CSS class of the message element.
    fn class(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Staff => "staff",
            Role::Bot => "bot",
        }
    }
}

/// A file attached to a message, linked by its Discord CDN URL.
#[derive(Clone, Debug, PartialEq)]
pub struct Attachment {
    pub name: String,
    pub url: String,
}

/// Shown instead of the messages when the thread had none.
const NO_MESSAGES: &str = "No messages were posted in this ticket.";

/// File names for the two attachments, e.g. `ticket-42.md` and `ticket-42.html`.
#[must_use]
pub fn file_names(number: i64) -> (String, String) {
    (
        format!("ticket-{number}.md"),
        format!("ticket-{number}.html"),
    )
}

/// The transcript as Markdown, for reading in Discord's file preview or any text editor.
#[must_use]
pub fn markdown(header: &Header, lines: &[Line]) -> String {
    let mut out = Vec::new();
    out.push(format!("# Ticket #{}", header.number));
    out.push(String::new());
    for (label, value) in metadata(header) {
        out.push(format!("- **{label}:** {}", md_inline(&value)));
    }
    out.push(String::new());
    out.push("## Messages".to_owned());
    out.push(String::new());

    if lines.is_empty() {
        out.push(format!("_{NO_MESSAGES}_"));
        out.push(String::new());
    }
    for line in lines {
        out.push(format!(
            "**{}** ({}) · {}",
            md_inline(&name_or_unknown(&line.author)),
            line.role.label(),
            format_time(line.at_ms)
        ));
        out.push(String::new());
        // The blank line after the quote ends it; without it the next author line would be read
        // as a lazy continuation of the quoted paragraph.
        if !line.text.trim().is_empty() {
            out.extend(md_quote(&line.text));
            out.push(String::new());
        } else if line.attachments.is_empty() {
            out.push("> _(empty message)_".to_owned());
            out.push(String::new());
        }
        if !line.attachments.is_empty() {
            for attachment in &line.attachments {
                out.push(format!("- {}", md_attachment(attachment)));
            }
            out.push(String::new());
        }
    }

    let mut text = out.join("\n");
    // One trailing newline, not a blank line, at the end of the file.
    text.truncate(text.trim_end().len());
    text.push('\n');
    text
}

/// The transcript as one HTML page with its style inline, so it opens anywhere, offline,
/// without fetching anything.
#[must_use]
pub fn html(header: &Header, lines: &[Line]) -> String {
    let mut out = String::with_capacity(4096 + lines.len() * 256);
    out.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n",
    );
    // Writing into a String cannot fail, so the `Result`s of `writeln!` are dropped.
    let _ = writeln!(
        out,
        "<title>Ticket #{} · {}</title>",
        header.number,
        escape_html(&one_line(&header.server))
    );
    out.push_str("<style>\n");
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body>\n<main>\n");
    let _ = writeln!(out, "<h1 dir=\"auto\">Ticket #{}</h1>", header.number);

    out.push_str("<dl class=\"meta\">\n");
    for (label, value) in metadata(header) {
        let _ = writeln!(
            out,
            "<dt>{label}</dt><dd dir=\"auto\">{}</dd>",
            escape_html(&value)
        );
    }
    out.push_str("</dl>\n");

    out.push_str("<h2>Messages</h2>\n");
    if lines.is_empty() {
        let _ = writeln!(out, "<p class=\"empty\">{NO_MESSAGES}</p>");
    }
    for line in lines {
        let _ = writeln!(
            out,
            "<article class=\"msg {}\">\n<header><bdi class=\"author\">{}</bdi> \
             <span class=\"role\">{}</span> <span class=\"time\">{}</span></header>",
            line.role.class(),
            escape_html(&name_or_unknown(&line.author)),
            line.role.label(),
            format_time(line.at_ms)
        );
        // No whitespace between the tags and the text: `pre-wrap` would show it.
        if !line.text.trim().is_empty() {
            let _ = writeln!(
                out,
                "<div class=\"text\" dir=\"auto\">{}</div>",
                escape_html(&line.text)
            );
        } else if line.attachments.is_empty() {
            out.push_str("<div class=\"text empty\">(empty message)</div>\n");
        }
        if !line.attachments.is_empty() {
            out.push_str("<ul class=\"files\">\n");
            for attachment in &line.attachments {
                let _ = writeln!(out, "<li>{}</li>", html_attachment(attachment));
            }
            out.push_str("</ul>\n");
        }
        out.push_str("</article>\n");
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// Readable on a phone: one narrow column, system fonts, wrapping long words and URLs.
/// `unicode-bidi: plaintext` lets each line of a message pick its own direction, so a Persian
/// line followed by an English one both read correctly.
const CSS: &str = "\
body{margin:0;font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",sans-serif;\
color:#1d1d1f;background:#fff}
main{max-width:46rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:0 0 .75rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .75rem;margin:0}
dl.meta dt{font-weight:600;color:#555}
dl.meta dd{margin:0;overflow-wrap:anywhere}
.msg{margin:.75rem 0;padding:.5rem .75rem;border-left:4px solid #999;border-radius:6px;background:#f5f5f5}
.msg.customer{border-color:#2f6fde;background:#eef4ff}
.msg.staff{border-color:#1f9d55;background:#ecf8f0}
.msg.bot{border-color:#8a8a8a;background:#f3f3f3}
.msg header{font-size:.875rem;color:#555;margin-bottom:.25rem}
.author{font-weight:600;color:#1d1d1f}
.role{padding:0 .35rem;border-radius:4px;background:rgba(0,0,0,.07)}
.text{white-space:pre-wrap;unicode-bidi:plaintext;overflow-wrap:anywhere}
.empty{font-style:italic;color:#777}
.files{margin:.35rem 0 0;padding-left:1.25rem;overflow-wrap:anywhere}
.files code{font-size:.85em}
@media (prefers-color-scheme:dark){
body{color:#e6e6e6;background:#161616}
dl.meta dt,.msg header{color:#aaa}
.author{color:#e6e6e6}
.msg{background:#242424}
.msg.customer{background:#1b2638}
.msg.staff{background:#18291f}
.msg.bot{background:#262626}
.role{background:rgba(255,255,255,.1)}
a{color:#7fb0ff}
}
";

/// The metadata shown in both formats, as label and plain (unescaped) value, so the two files
/// always list the same facts in the same order.
fn metadata(header: &Header) -> Vec<(&'static str, String)> {
    let tags = if header.tags.is_empty() {
        "none".to_owned()
    } else {
        header
            .tags
            .iter()
            .map(|tag| one_line(tag))
            .collect::<Vec<_>>()
            .join(", ")
    };
    vec![
        ("Server", one_line(&header.server)),
        ("Category", one_line(&header.category)),
        ("Priority", one_line(&header.priority)),
        ("Tags", tags),
        ("Customer", name_or_unknown(&header.customer)),
        (
            "Agent",
            header
                .agent
                .as_deref()
                .map_or_else(|| "unassigned".to_owned(), name_or_unknown),
        ),
        ("Opened", format_time(header.opened_at_ms)),
        (
            "Closed",
            header
                .closed_at_ms
                .map_or_else(|| "still open".to_owned(), format_time),
        ),
        (
            "Reason",
            header
                .close_reason
                .as_deref()
                .map(one_line)
                .filter(|reason| !reason.is_empty())
                .unwrap_or_else(|| "none given".to_owned()),
        ),
        (
            "Rating",
            header
                .rating
                .map_or_else(|| "not rated".to_owned(), |rating| format!("{rating}/5")),
        ),
    ]
}

/// `2026-11-22 14:05 UTC`. Built from the civil fields rather than `strftime` so that no
/// formatting error can turn into a panic; a time outside jiff's range says so instead.
fn format_time(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(timestamp) => {
            let dt = Offset::UTC.to_datetime(timestamp);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                dt.year(),
                dt.month(),
                dt.day(),
                dt.hour(),
                dt.minute()
            )
        }
        Err(_) => format!("unknown time ({ms} ms)"),
    }
}

/// Puts a short value on one line: line breaks and other control characters become spaces, so
/// a tag or a close reason cannot start a new Markdown block or stretch a metadata row.
fn one_line(value: &str) -> String {
    let flat: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    flat.trim().to_owned()
}

/// A display name on one line, or `unknown` when there is nothing left to show (an empty name
/// would also leave `****` in the Markdown, which is not bold).
fn name_or_unknown(name: &str) -> String {
    let name = one_line(name);
    if name.is_empty() {
        "unknown".to_owned()
    } else {
        name
    }
}

/// Escapes the characters that have meaning inside a line of Markdown, so a name like
/// `*[admin](x)*` or a mention like `<@123>` is shown as written. Block markers (`#`, `-`, `>`
/// at the start of a line) need no escape because these values never start a line.
fn md_inline(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in one_line(value).chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '<' | '>' | '&' | '~' | '|' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Quotes a message line by line. The text itself is not escaped, so the customer's Markdown
/// still renders, but only inside the quote.
fn md_quote(text: &str) -> Vec<String> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.trim_end_matches('\n')
        .split('\n')
        .map(|line| {
            if line.trim().is_empty() {
                ">".to_owned()
            } else {
                format!("> {line}")
            }
        })
        .collect()
}

/// An attachment as a Markdown link when its URL is a web address, otherwise as text.
fn md_attachment(attachment: &Attachment) -> String {
    let name = md_inline(&name_or_attachment(&attachment.name));
    if is_web_url(&attachment.url) {
        format!("[{name}]({})", md_link_destination(&attachment.url))
    } else {
        format!("{name} (not a web link: {})", md_inline(&attachment.url))
    }
}

/// Percent-encodes what would end a Markdown link destination early (spaces, parentheses,
/// angle brackets, backslashes, control characters). These encodings mean the same URL.
fn md_link_destination(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        if c.is_ascii_control() || matches!(c, ' ' | '(' | ')' | '<' | '>' | '\\') {
            let _ = write!(out, "%{:02X}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// An attachment as an HTML link when its URL is a web address, otherwise as text.
fn html_attachment(attachment: &Attachment) -> String {
    let name = escape_html(&name_or_attachment(&attachment.name));
    if is_web_url(&attachment.url) {
        format!(
            "<a href=\"{}\" rel=\"noopener noreferrer nofollow\">{name}</a>",
            escape_html(&attachment.url)
        )
    } else {
        format!(
            "<bdi>{name}</bdi> (not a web link: <code>{}</code>)",
            escape_html(&attachment.url)
        )
    }
}

fn name_or_attachment(name: &str) -> String {
    let name = one_line(name);
    if name.is_empty() {
        "attachment".to_owned()
    } else {
        name
    }
}

/// Only `http://` and `https://` URLs are links: anything else (`javascript:`, `data:`, a bare
/// path) could run code or mislead when clicked. Compared on bytes so that no slice can fall
/// inside a multi-byte character.
fn is_web_url(url: &str) -> bool {
    let bytes = url.as_bytes();
    let starts_with = |prefix: &[u8]| {
        bytes
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    starts_with(b"http://") || starts_with(b"https://")
}

/// Escapes the five characters that matter in HTML text and in quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// 2026-11-22 14:05:00 UTC.
    const NOV_22_1405: i64 = 1_795_356_300_000;

    fn header() -> Header {
        Header {
            number: 42,
            server: "Beacon Café".to_owned(),
            category: "billing".to_owned(),
            priority: "high".to_owned(),
            tags: vec!["refund".to_owned(), "vip".to_owned()],
            customer: "alice".to_owned(),
            agent: Some("bob".to_owned()),
            opened_at_ms: NOV_22_1405,
            closed_at_ms: Some(NOV_22_1405 + 3_600_000),
            close_reason: Some("resolved".to_owned()),
            rating: Some(4),
        }
    }

    fn line(role: Role, text: &str) -> Line {
        Line {
            author: "alice".to_owned(),
            role,
            at_ms: NOV_22_1405,
            text: text.to_owned(),
            attachments: Vec::new(),
        }
    }

    #[test]
    fn a_hostile_message_is_escaped_in_html() {
        let hostile = line(
            Role::Customer,
            "<script>alert(1)</script> \"quoted\" & 'single' <@123>",
        );

        let page = html(&header(), &[hostile]);

        assert!(!page.contains("<script"));
        assert!(page.contains(
            "&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; &amp; &#39;single&#39; &lt;@123&gt;"
        ));
    }

    #[test]
    fn right_to_left_text_is_kept_verbatim_with_dir_auto() {
        let persian = "سلام، سفارش من کجاست؟";
        let arabic = "مرحبا، أين طلبي؟";
        let armenian = "Բարև, որտե՞ղ է իմ պատվերը";
        let lines = [
            line(Role::Customer, persian),
            line(Role::Staff, arabic),
            line(Role::Bot, armenian),
        ];

        let page = html(&header(), &lines);
        let md = markdown(&header(), &lines);

        for text in [persian, arabic, armenian] {
            assert!(page.contains(&format!("<div class=\"text\" dir=\"auto\">{text}</div>")));
            assert!(md.contains(&format!("> {text}\n")));
        }
        assert!(page.contains("<h1 dir=\"auto\">"));
    }

    #[test]
    fn messages_are_classed_by_role_in_html() {
        let lines = [
            line(Role::Customer, "a"),
            line(Role::Staff, "b"),
            line(Role::Bot, "c"),
        ];

        let page = html(&header(), &lines);

        assert!(page.contains("<article class=\"msg customer\">"));
        assert!(page.contains("<article class=\"msg staff\">"));
        assert!(page.contains("<article class=\"msg bot\">"));
    }

    #[test]
    fn every_line_of_a_multiline_message_is_quoted_in_markdown() {
        let text = "# not a heading\r\nsecond line\n\n- not a list\n";
        let lines = [line(Role::Customer, text), line(Role::Staff, "reply")];

        let md = markdown(&header(), &lines);

        assert!(md.contains(
            "**alice** (Customer) · 2026-11-22 14:05 UTC\n\n\
             > # not a heading\n> second line\n>\n> - not a list\n\n\
             **alice** (Staff) · 2026-11-22 14:05 UTC\n\n> reply\n"
        ));
    }

    #[test]
    fn a_non_http_attachment_url_is_not_a_link() {
        let mut message = line(Role::Customer, "see file");
        message.attachments = vec![
            Attachment {
                name: "evil".to_owned(),
                url: "javascript:alert(1)".to_owned(),
            },
            Attachment {
                name: "good.png".to_owned(),
                url: "HTTPS://cdn.example/a.png?x=1&y=\"2\"".to_owned(),
            },
        ];

        let page = html(&header(), std::slice::from_ref(&message));
        let md = markdown(&header(), &[message]);

        assert!(!page.contains("href=\"javascript"));
        assert!(page.contains("not a web link: <code>javascript:alert(1)</code>"));
        assert!(page.contains(
            "<a href=\"HTTPS://cdn.example/a.png?x=1&amp;y=&quot;2&quot;\" \
             rel=\"noopener noreferrer nofollow\">good.png</a>"
        ));
        assert!(!md.contains("](javascript"));
        assert!(md.contains("- evil (not a web link: javascript:alert\\(1\\))"));
        assert!(md.contains("- [good.png](HTTPS://cdn.example/a.png?x=1&y=\"2\")"));
    }

    #[test]
    fn attachment_names_and_urls_cannot_break_a_markdown_link() {
        let mut message = line(Role::Customer, "");
        message.attachments = vec![Attachment {
            name: "a](http://evil)[b\nc".to_owned(),
            url: "https://cdn.example/my file (1).png".to_owned(),
        }];

        let md = markdown(&header(), &[message]);

        assert!(md.contains(
            "- [a\\]\\(http://evil\\)\\[b c](https://cdn.example/my%20file%20%281%29.png)"
        ));
    }

    #[test]
    fn metadata_lists_rating_reason_and_tags() {
        let page = html(&header(), &[]);
        let md = markdown(&header(), &[]);

        for expected in [
            "- **Server:** Beacon Café",
            "- **Category:** billing",
            "- **Priority:** high",
            "- **Tags:** refund, vip",
            "- **Customer:** alice",
            "- **Agent:** bob",
            "- **Reason:** resolved",
            "- **Rating:** 4/5",
        ] {
            assert!(md.contains(expected), "missing {expected:?} in\n{md}");
        }
        assert!(page.contains("<dt>Rating</dt><dd dir=\"auto\">4/5</dd>"));
        assert!(page.contains("<dt>Reason</dt><dd dir=\"auto\">resolved</dd>"));
        assert!(page.contains("<dt>Tags</dt><dd dir=\"auto\">refund, vip</dd>"));
    }

    #[test]
    fn missing_metadata_is_said_plainly() {
        let open = Header {
            tags: Vec::new(),
            agent: None,
            closed_at_ms: None,
            close_reason: None,
            rating: None,
            ..header()
        };

        let md = markdown(&open, &[]);

        for expected in [
            "- **Tags:** none",
            "- **Agent:** unassigned",
            "- **Closed:** still open",
            "- **Reason:** none given",
            "- **Rating:** not rated",
        ] {
            assert!(md.contains(expected), "missing {expected:?} in\n{md}");
        }
    }

    #[test]
    fn metadata_values_cannot_add_markdown_structure() {
        let sneaky = Header {
            close_reason: Some("done\n# Hacked\n[x](y)".to_owned()),
            customer: "*<@123>*".to_owned(),
            ..header()
        };

        let md = markdown(&sneaky, &[]);

        assert!(md.contains("- **Reason:** done # Hacked \\[x\\]\\(y\\)\n"));
        assert!(md.contains("- **Customer:** \\*\\<@123\\>\\*\n"));
    }

    #[test]
    fn times_are_formatted_in_utc() {
        let md = markdown(&header(), &[line(Role::Staff, "hi")]);

        assert!(md.contains("- **Opened:** 2026-11-22 14:05 UTC"));
        assert!(md.contains("- **Closed:** 2026-11-22 15:05 UTC"));
        assert!(md.contains("**alice** (Staff) · 2026-11-22 14:05 UTC"));
        assert_eq!(format_time(0), "1970-01-01 00:00 UTC");
    }

    #[test]
    fn a_time_out_of_range_does_not_panic() {
        assert_eq!(
            format_time(i64::MAX),
            format!("unknown time ({} ms)", i64::MAX)
        );
    }

    #[test]
    fn an_empty_transcript_says_there_were_no_messages() {
        let md = markdown(&header(), &[]);
        let page = html(&header(), &[]);

        assert!(md.contains("_No messages were posted in this ticket._"));
        assert!(page.contains("No messages were posted in this ticket."));
        assert!(!page.contains("<article"));
    }

    #[test]
    fn file_names_carry_the_ticket_number() {
        assert_eq!(
            file_names(42),
            ("ticket-42.md".to_owned(), "ticket-42.html".to_owned())
        );
    }

    proptest! {
        #[test]
        fn html_never_contains_a_raw_script_tag(
            text in any::<String>(),
            author in any::<String>(),
            name in any::<String>(),
            url in prop_oneof![any::<String>(), any::<String>().prop_map(|s| format!("https://{s}"))],
            server in any::<String>(),
            reason in any::<String>(),
            at_ms in any::<i64>(),
        ) {
            let header = Header { server, close_reason: Some(reason), ..header() };
            let message = Line {
                author,
                role: Role::Customer,
                at_ms,
                text: format!("<script>{text}<SCRIPT"),
                attachments: vec![Attachment { name, url }],
            };

            let page = html(&header, std::slice::from_ref(&message));
            let md = markdown(&header, &[message]);

            prop_assert!(!page.to_ascii_lowercase().contains("<script"));
            prop_assert!(md.ends_with('\n'));
        }
    }
}
