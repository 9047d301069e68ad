//! Journey J5 on the web and in Discord, end to end, on both backends: the public status page
//! and its feed following a crisis (read in headless Chromium, on a phone, in Persian laid out
//! right to left), an agent's signed transcript link, the moderator's `/report` with its chart,
//! and the health and metrics endpoints.
//!
//! Browser checks need Chromium (`/usr/bin/chromium`); without it they are skipped with a note,
//! unless `BEACON_REQUIRE_CHROMIUM` is set (as in `.ci/run`). Screenshots land in
//! `target/screenshots/`.

use serde_json::{Value, json};

use crate::browser::Browser;
use crate::harness::{Bot, Options, custom_ids};
use crate::on_both_backends;
use crate::ticket_work::fill;

on_both_backends!(
    the_status_page_and_its_feed_follow_a_crisis,
    an_agent_reads_a_transcript_through_a_link_only_they_were_given,
    a_moderator_gets_the_report_with_a_chart_and_metrics_count_what_happened,
);

fn web_options() -> Options {
    Options {
        web: true,
        ..Options::default()
    }
}

async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

/// Where the heading's first letter sits in the heading's box: its distance from the box's left
/// and right edges. Right to left, the text starts at the right edge.
const HEADING_SIDE: &str = r#"(() => {
    const h1 = document.querySelector('h1');
    const walker = document.createTreeWalker(h1, NodeFilter.SHOW_TEXT);
    let node = walker.nextNode();
    while (node && !node.textContent.trim()) node = walker.nextNode();
    const at = node.textContent.search(/\S/);
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + 1);
    const letter = range.getBoundingClientRect();
    const box = h1.getBoundingClientRect();
    return { left: letter.left - box.left, right: box.right - letter.right };
})()"#;

async fn the_status_page_and_its_feed_follow_a_crisis(url: String) {
    let bot = Bot::with_crisis_on(Bot::with_tickets_with(&url, web_options()).await).await;
    let base = bot.web_url.clone().unwrap();
    let page_url = format!("{base}/status/{}", bot.guild);

    let healthy = "{\"status\":\"ok\",\"database\":\"ok\",\"gateway\":\"connected\"}\n";
    let (status, _, body) = get(&format!("{base}/healthz")).await;
    assert_eq!((status, body.as_str()), (200, healthy));
    // The figures are not on the public port; health and figures are on the ops one.
    assert_eq!(get(&format!("{base}/metrics")).await.0, 404);
    let ops = bot.ops_url.clone().unwrap();
    assert_eq!(get(&format!("{ops}/healthz")).await.2, healthy);
    assert_eq!(get(&format!("{ops}/metrics")).await.0, 200);
    assert_eq!(get(&format!("{ops}/status/{}", bot.guild)).await.0, 404);
    // A server Beacon does not know has no page.
    assert_eq!(get(&format!("{base}/status/12345")).await.0, 404);
    assert_eq!(get(&format!("{base}/status/not-a-number")).await.0, 404);

    // Nothing running: all clear.
    let (status, _, body) = get(&page_url).await;
    assert_eq!(status, 200);
    assert!(body.contains("id=\"all-clear\""), "{body}");
    // Titled with the server's name as Discord gave it.
    assert!(
        body.contains("<title>Acme Community status</title>"),
        "{body}"
    );

    bot.crisis(
        bot.moderator,
        "start",
        json!([
            {"name": "topic", "type": 3, "value": "payments"},
            {"name": "title", "type": 3, "value": "Payments are failing"},
            {"name": "status", "type": 3, "value": "We are on it. Next update at 15:00."}]),
    )
    .await;
    let persian_update = "پرداخت‌ها برای بیشتر کاربران دوباره کار می‌کنند.";
    bot.crisis(
        bot.moderator,
        "update",
        json!([{"name": "text", "type": 3, "value": persian_update}]),
    )
    .await;

    // The status message in Discord points to the page.
    let status_message = bot
        .fake
        .bot_messages(bot.status)
        .pop()
        .expect("the status message");
    assert!(
        status_message["content"]
            .as_str()
            .unwrap()
            .contains(&format!("🌐 {page_url}\n")),
        "{status_message}"
    );

    // The page and the feed carry the crisis and both its updates, newest first.
    let (_, _, body) = get(&page_url).await;
    assert!(!body.contains("id=\"all-clear\""));
    assert!(body.contains("Payments are failing"));
    let newest = body.find(persian_update).expect("the update is shown");
    let first = body
        .find("We are on it. Next update at 15:00.")
        .expect("the start is shown");
    assert!(newest < first, "newest first");
    let (status, headers, feed) = get(&format!("{page_url}/feed.atom")).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    assert_eq!(feed.matches("<entry>").count(), 2, "{feed}");
    assert!(feed.contains(persian_update));
    assert!(
        feed.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\""),
        "{feed}"
    );

    if let Some(browser) = Browser::launch().await {
        // A phone, in Persian: right to left, nothing wider than the screen.
        let fa = browser
            .open(&format!("{page_url}?lang=fa"), 390, 844, true)
            .await;
        assert_eq!(fa.status(), Some(200));
        assert_eq!(
            fa.eval("getComputedStyle(document.documentElement).direction")
                .await,
            json!("rtl")
        );
        let side = fa.eval(HEADING_SIDE).await;
        assert!(
            side["right"].as_f64().unwrap() < 2.0 && side["left"].as_f64().unwrap() > 100.0,
            "the Persian heading starts at the right: {side}"
        );
        assert_eq!(
            fa.eval("document.documentElement.scrollWidth <= window.innerWidth")
                .await,
            json!(true),
            "no sideways scrolling on a phone"
        );
        let text = fa.text().await;
        assert!(
            text.contains("Payments are failing") && text.contains(persian_update),
            "{text}"
        );
        assert_eq!(
            fa.eval("document.querySelectorAll('.crisis.running .update').length")
                .await,
            json!(2)
        );
        fa.screenshot(&format!("status-fa-phone-{}", backend(&url)))
            .await;

        // A desktop, in English: left to right.
        let en = browser.open(&page_url, 1200, 800, false).await;
        assert_eq!(
            en.eval("getComputedStyle(document.documentElement).direction")
                .await,
            json!("ltr")
        );
        let side = en.eval(HEADING_SIDE).await;
        assert!(
            side["left"].as_f64().unwrap() < 2.0 && side["right"].as_f64().unwrap() > 100.0,
            "the English heading starts at the left: {side}"
        );
        en.screenshot(&format!("status-en-desktop-{}", backend(&url)))
            .await;

        // The feed is XML the browser's own parser reads without error (read from the feed's
        // own tab: the page's Content-Security-Policy allows no fetching).
        let feed_tab = browser
            .open(&format!("{page_url}/feed.atom"), 800, 600, false)
            .await;
        assert_eq!(feed_tab.status(), Some(200));
        let parsed = feed_tab
            .eval(
                "fetch(location.href).then(r => r.text()).then(t => { \
                   const doc = new DOMParser().parseFromString(t, 'application/xml'); \
                   return doc.getElementsByTagName('parsererror').length + ':' + \
                     doc.getElementsByTagNameNS('http://www.w3.org/2005/Atom', 'entry').length; })",
            )
            .await;
        assert_eq!(parsed, json!("0:2"));
    }

    // Ended: all clear again, and the crisis is history with its closing note.
    bot.crisis(
        bot.moderator,
        "end",
        json!([{"name": "note", "type": 3, "value": "All payments work again."}]),
    )
    .await;
    let (_, _, body) = get(&page_url).await;
    assert!(body.contains("id=\"all-clear\""));
    assert!(
        body.contains("class=\"crisis ended\"") && body.contains("All payments work again."),
        "{body}"
    );
    let (_, _, feed) = get(&format!("{page_url}/feed.atom")).await;
    assert_eq!(feed.matches("<entry>").count(), 3);
    bot.stop().await;
}

fn backend(url: &str) -> &'static str {
    if url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    }
}

/// The link in a reply.
fn link_in(text: &str) -> String {
    let start = text
        .find("http://")
        .unwrap_or_else(|| panic!("no link in {text:?}"));
    text[start..].split_whitespace().next().unwrap().to_string()
}

async fn an_agent_reads_a_transcript_through_a_link_only_they_were_given(url: String) {
    let bot = Bot::with_tickets_with(&url, web_options()).await;
    bot.setup(
        "channels",
        json!([{"name": "transcripts", "type": 7, "value": bot.transcripts.to_string()}]),
    )
    .await;
    let (thread, card) = bot
        .open_ticket(bot.customer, "the app crashes on start")
        .await;
    let ana = bot.agent_members[0];
    bot.press(&card, &custom_ids(&card)[0], ana).await;
    bot.fake
        .push_message(thread, bot.customer, "it still crashes <b>badly</b>");
    bot.fake
        .push_message(thread, ana, "please reinstall version 2.1");
    bot.ticket_when(1, "first response", |t| t.first_response_at_ms.is_some())
        .await;

    // No transcript before the ticket closes.
    let early = bot.command_in(thread, ana, "transcript", json!([]));
    assert_eq!(
        bot.final_text(&early).await,
        "Ticket #1 has no transcript yet: one is made when it closes."
    );
    let close = bot.command_in(
        thread,
        ana,
        "close",
        json!([{"name": "reason", "type": 3, "value": "reinstalled"}]),
    );
    bot.final_text(&close).await;
    bot.ticket_when(1, "wrapped up", |t| t.wrapped_up).await;

    // A customer is refused; the agent gets a link, by number from another channel.
    let number = json!([{"name": "number", "type": 4, "value": 1}]);
    let refused = bot
        .refused_by_beacon(bot.general, bot.customer, "transcript", number.clone())
        .await;
    assert_eq!(refused, fill("en", "ticket.agent_only", &[]));
    let given = bot.command_in(bot.general, ana, "transcript", number);
    let reply = bot.final_text(&given).await;
    assert!(reply.starts_with("Transcript of ticket #1: "), "{reply}");
    let link = link_in(&reply);
    assert!(link.contains(&format!("agent={ana}")), "{link}");

    let (status, headers, page) = get(&link).await;
    assert_eq!(status, 200);
    assert!(page.contains("please reinstall version 2.1"));
    assert!(page.contains("&lt;b&gt;badly&lt;/b&gt;"), "escaped");
    assert_eq!(headers["cache-control"], "private, no-store");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );

    // The link is the agent's: another agent's id, another ticket or a changed signature fail.
    let bo = bot.agent_members[1];
    for forged in [
        link.replace(&format!("agent={ana}"), &format!("agent={bo}")),
        link.replace("/transcripts/", "/transcripts/9"),
        {
            let (head, sig) = link.rsplit_once("sig=").unwrap();
            let flipped = if sig.starts_with('0') { "1" } else { "0" };
            format!("{head}sig={flipped}{}", &sig[1..])
        },
        link.split_once("&sig=").unwrap().0.to_string(),
    ] {
        let (status, _, body) = get(&forged).await;
        assert_eq!(status, 403, "{forged}: {body}");
        assert!(!body.contains("please reinstall"));
    }

    if let Some(browser) = Browser::launch().await {
        let page = browser.open(&link, 1000, 800, false).await;
        assert_eq!(page.status(), Some(200));
        let text = page.text().await;
        assert!(
            text.contains("please reinstall version 2.1")
                && text.contains("it still crashes <b>badly</b>"),
            "{text}"
        );
        page.screenshot(&format!("transcript-{}", backend(&url)))
            .await;
    }
    bot.stop().await;
}

/// The interaction's final reply request (the edit of its original response).
fn final_edit(bot: &Bot, token: &str) -> crate::fake_discord::Recorded {
    bot.fake
        .requests_matching("PATCH", &format!("/webhooks/*/{token}/messages/@original"))
        .pop()
        .expect("the reply was edited in")
}

async fn metric(base: &str, line_start: &str) -> f64 {
    let (status, headers, text) = get(&format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    assert!(text.ends_with("# EOF\n"));
    text.lines()
        .find_map(|l| l.strip_prefix(line_start))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

async fn a_moderator_gets_the_report_with_a_chart_and_metrics_count_what_happened(url: String) {
    let bot = Bot::with_tickets_with(&url, web_options()).await;
    let base = bot.ops_url.clone().unwrap();
    // Counters are per process and tests share one, so they are compared before and after.
    let answered = "beacon_questions_total{outcome=\"answer\"} ";
    let before = metric(&base, answered).await;

    bot.ask(bot.help, bot.customer, "how do I reset my password")
        .await;
    bot.ask(bot.help, bot.others[0], "qwxz blorp fnord").await;
    bot.open_ticket(bot.others[1], "my invoice is wrong").await;
    assert!(metric(&base, answered).await > before);
    assert_eq!(metric(&base, "beacon_queue_length ").await, 1.0);
    assert_eq!(metric(&base, "beacon_outbox_backlog ").await, 0.0);

    let refused = bot
        .refused_by_beacon(bot.general, bot.customer, "report", json!([]))
        .await;
    assert_eq!(refused, fill("en", "permission.moderator", &[]));

    let asked = bot.command_in(
        bot.general,
        bot.moderator,
        "report",
        json!([{"name": "days", "type": 4, "value": 7}]),
    );
    let summary = bot.final_text(&asked).await;
    assert!(
        summary.starts_with("**Support report, last 7 days**"),
        "{summary}"
    );
    assert!(
        summary.contains("**Questions** 2 · answered 1"),
        "{summary}"
    );
    assert!(
        summary.contains("**Tickets** opened 1 · closed 0"),
        "{summary}"
    );
    assert!(summary.contains("`qwxz blorp fnord` ×1"), "{summary}");
    let edit = final_edit(&bot, &asked.token);
    assert_eq!(edit.files, ["report.png"]);
    let png = &edit.file_contents[0];
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let body: &Value = edit.body.as_ref().expect("a JSON part");
    assert_eq!(
        body["allowed_mentions"]["parse"],
        json!([]),
        "the summary pings nobody: {body}"
    );
    bot.stop().await;
}
