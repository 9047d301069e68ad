//! Journeys J2 and J3 past the opening, through the real client: each agent command once as
//! Discord sends it (release, transfer, add, priority, tags, notes, saved replies with their
//! autocomplete, block and unblock), and the panel with its form. Their cases and refusals are
//! desk tests (`desk::work`, `desk::opening`).

use beacon::desk::tickets::Priority;
use beacon::desk::workflow::TicketsConfig;
use beacon::locale::Locales;
use serde_json::{Value, json};

use crate::fake_discord::Interaction;
use crate::harness::{Bot, Options, WAIT, custom_ids, id_of};
use crate::on_both_backends;

on_both_backends!(
    agents_release_transfer_add_prioritise_tag_note_and_block,
    saved_replies_speak_the_customers_language,
    a_panel_and_a_form_open_tickets_in_their_category,
);

pub fn fill(lang: &str, key: &str, args: &[(&str, &(dyn std::fmt::Display + Sync))]) -> String {
    Locales::embedded().fill(lang, key, args)
}

pub fn content(m: &Value) -> String {
    m["content"].as_str().unwrap_or_default().to_string()
}

impl Bot {
    /// `/ticket about:` as `customer`; the new ticket's thread and its card, once both exist.
    pub async fn open_ticket(&self, customer: u64, about: &str) -> (u64, Value) {
        let cards = self.fake.bot_messages(self.agents).len();
        let i = self.fake.push_slash_command(
            self.guild,
            self.general,
            customer,
            "ticket",
            json!([{"name": "about", "type": 3, "value": about}]),
            "en-US",
        );
        let told = self.final_text(&i).await;
        let thread: u64 = told
            .split("<#")
            .nth(1)
            .and_then(|rest| rest.split('>').next())
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("no thread in {told:?}"));
        let card = self
            .fake
            .wait_until("the ticket's card", WAIT, |f| {
                f.bot_messages(self.agents).get(cards).cloned()
            })
            .await;
        (thread, card)
    }

    /// A slash command run by `user` in `channel`.
    pub fn command_in(&self, channel: u64, user: u64, name: &str, options: Value) -> Interaction {
        self.fake
            .push_slash_command(self.guild, channel, user, name, options, "en-US")
    }

    /// A staff command run by a member Discord does not offer it to: checks that Discord
    /// hides it from them, lets everyone see it (as an admin might, under Server Settings >
    /// Integrations), and returns Beacon's own answer, which must refuse them too.
    pub async fn refused_by_beacon(
        &self,
        channel: u64,
        user: u64,
        name: &str,
        options: Value,
    ) -> String {
        let hidden = self.fake.try_push_slash_command(
            self.guild,
            channel,
            user,
            name,
            options.clone(),
            "en-US",
        );
        assert!(hidden.is_err(), "Discord offers /{name} to member {user}");
        self.allow_everyone(name);
        let answer = self
            .final_text(&self.command_in(channel, user, name, options))
            .await;
        self.fake
            .set_command_permissions(self.guild, Some(name), &[]);
        answer
    }

    /// The stored ticket with this number once `ready` holds for it.
    pub async fn ticket_when(
        &self,
        number: i64,
        what: &str,
        ready: impl Fn(&beacon::desk::tickets::Ticket) -> bool,
    ) -> beacon::desk::tickets::Ticket {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let t = self.desk_ticket(number).await;
            if ready(&t) {
                return t;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "ticket #{number}: {what}: {t:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// The current version of a message the bot posted, once `ready` holds for it.
    pub async fn message_when(&self, id: u64, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
        self.fake
            .wait_until(what, WAIT, |f| f.message(id).filter(|m| ready(m)))
            .await
    }

    /// Whether `user` is a member of `thread`.
    pub fn in_thread(&self, thread: u64, user: u64) -> bool {
        self.fake.channel(thread).unwrap()["member_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(user.to_string()))
    }
}

fn user_option(name: &str, user: u64) -> Value {
    json!({"name": name, "type": 6, "value": user.to_string()})
}

/// Each agent command once, as Discord sends it (its options, the members it resolves), with
/// the change it makes on Discord or in the ticket; their cases and refusals are desk tests.
async fn agents_release_transfer_add_prioritise_tag_note_and_block(url: String) {
    let bot = Bot::with_tickets(&url).await;
    let (thread, card) = bot.open_ticket(bot.customer, "my parcel is late").await;
    let [ana, bo] = bot.agent_members;
    let claim = custom_ids(&card)[0].clone();
    bot.press(&card, &claim, ana).await;
    let run = |user, name: &str, options| bot.command_in(thread, user, name, options);
    let agent_only = fill("en", "ticket.agent_only", &[]);

    // Discord hides the agent commands from the customer; allowed anyway, Beacon refuses.
    let refused = bot
        .refused_by_beacon(thread, bot.customer, "release", json!([]))
        .await;
    assert_eq!(refused, agent_only);

    // Release: back in the queue, the card offers Claim again.
    let released = bot.final_text(&run(ana, "release", json!([]))).await;
    assert_eq!(released, "Ticket #1 is back in the queue.");
    let card = bot
        .message_when(id_of(&card), "Claim back on the card", |m| {
            custom_ids(m) == [claim.clone()]
        })
        .await;
    assert!(content(&card).contains(&format!("Released by <@{ana}>")));

    // Transfer reads the agent role off the member Discord resolves: not to a customer.
    bot.press(&card, &claim, bo).await;
    let to_customer = run(bo, "transfer", json!([user_option("agent", bot.others[0])]));
    assert_eq!(bot.final_text(&to_customer).await, agent_only);
    let moved = bot
        .final_text(&run(bo, "transfer", json!([user_option("agent", ana)])))
        .await;
    assert_eq!(moved, format!("Ticket #1 is now <@{ana}>'s."));
    assert_eq!(bot.desk_ticket(1).await.agent_id, Some(ana));
    assert!(bot.in_thread(thread, ana));

    // A colleague joins the thread.
    let colleague = bot.others[1];
    let added = bot
        .final_text(&run(ana, "add", json!([user_option("member", colleague)])))
        .await;
    assert_eq!(added, format!("<@{colleague}> is in ticket #1 now."));
    assert!(bot.in_thread(thread, colleague));

    let urgent = json!([{"name": "level", "type": 3, "value": "urgent"}]);
    let raised = bot.final_text(&run(ana, "priority", urgent)).await;
    assert_eq!(raised, "Ticket #1 is urgent priority now.");
    assert_eq!(bot.desk_ticket(1).await.priority, Priority::Urgent);

    // Tags: added, and one removed again (the `remove` flag).
    let tag = |name: &str, remove: bool| {
        run(
            ana,
            "tag",
            json!([{"name": "name", "type": 3, "value": name},
                   {"name": "remove", "type": 5, "value": remove}]),
        )
    };
    bot.final_text(&tag("Refund", false)).await;
    bot.final_text(&tag("vip", false)).await;
    assert_eq!(
        bot.final_text(&tag("vip", true)).await,
        "Ticket #1 tags: refund"
    );
    assert_eq!(bot.desk_ticket(1).await.tags, ["refund"]);

    // A note: a reply to the card in the agents' channel.
    let note = "customer sounded upset, offer a voucher";
    let noted = run(
        ana,
        "note",
        json!([{"name": "text", "type": 3, "value": note}]),
    );
    assert_eq!(
        bot.final_text(&noted).await,
        "Note added to ticket #1 (agents only)."
    );
    let posted = bot
        .fake
        .bot_messages(bot.agents)
        .into_iter()
        .find(|m| content(m).contains(note))
        .expect("the note in the agents' channel");
    assert_eq!(
        posted["message_reference"]["message_id"],
        json!(id_of(&card).to_string())
    );

    // Blocking works anywhere on the server; a moderator, not only an agent, may unblock.
    let member = json!([user_option("member", bot.others[2])]);
    let block = |by, name: &str| bot.command_in(bot.general, by, name, member.clone());
    let blocked = bot.final_text(&block(ana, "block")).await;
    assert_eq!(
        blocked,
        format!("<@{}> cannot open tickets any more.", bot.others[2])
    );
    let about = json!([{"name": "about", "type": 3, "value": "let me in"}]);
    let open = || bot.command_in(bot.general, bot.others[2], "ticket", about.clone());
    assert_eq!(
        bot.final_text(&open()).await,
        fill("en", "ticket.blocked", &[])
    );
    let unblocked = bot.final_text(&block(bot.moderator, "unblock")).await;
    assert_eq!(
        unblocked,
        format!("<@{}> can open tickets again.", bot.others[2])
    );
    assert!(bot.final_text(&open()).await.contains("#2"));
    assert_eq!(bot.fake.threads_in(bot.tickets).len(), 2);
    bot.stop().await;
}

/// The handoff intent opens the ticket in the asker's language, and the saved reply an agent
/// sends there speaks it too.
async fn saved_replies_speak_the_customers_language(url: String) {
    let bot = Bot::with_tickets(&url).await;
    let asked = "میخوام با یه آدم حرف بزنم";
    let reply = bot.ask(bot.help, bot.customer, asked).await;
    let card = bot
        .fake
        .wait_until("the card", WAIT, |f| {
            f.bot_messages(bot.agents).first().cloned()
        })
        .await;
    let ticket = bot.desk_ticket(1).await;
    let thread = ticket.thread_id.unwrap();
    let opened = fill(
        "fa",
        "ticket.opened",
        &[("number", &1), ("thread", &format!("<#{thread}>"))],
    );
    assert!(content(&reply).contains(&opened), "{}", content(&reply));
    assert_eq!(
        (ticket.lang.as_str(), ticket.customer_id),
        ("fa", bot.customer)
    );
    assert!(ticket.question_id.is_some(), "the FAQ exchange is linked");
    // Asking for a person is not an answer the FAQ offered.
    let offered = fill("fa", "ticket.offered", &[("title", &"")]);
    assert!(!ticket.subject.contains(&offered) && ticket.subject.contains(asked));
    let ana = bot.agent_members[0];
    bot.press(&card, &custom_ids(&card)[0], ana).await;
    assert_eq!(bot.desk_ticket(1).await.first_response_at_ms, None);

    // Autocomplete finds the reply by its title.
    let typing = bot.fake.push_autocomplete(
        bot.guild,
        thread,
        ana,
        "reply",
        json!([{"name": "name", "type": 3, "value": "order", "focused": true}]),
        "en-US",
    );
    let choices = bot.first_response(&typing).await;
    assert_eq!(
        choices["body"]["data"]["choices"][0],
        json!({"name": "Ask for the order number", "value": "need-order-number"})
    );

    // Sent in Persian, with the placeholders filled, and counted as the first response.
    let reply = bot.command_in(
        thread,
        ana,
        "reply",
        json!([{"name": "name", "type": 3, "value": "need-order-number"}]),
    );
    assert_eq!(
        bot.final_text(&reply).await,
        "Sent `need-order-number` in ticket #1."
    );
    let sent = bot
        .fake
        .bot_messages(thread)
        .into_iter()
        .find(|m| content(m).contains("شمارهٔ سفارش"))
        .expect("the Persian saved reply");
    let expected = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/intents/replies/need-order-number.fa.md"
    ))
    .unwrap()
    .trim()
    .replace("{customer}", &format!("<@{}>", bot.customer))
    .replace("{agent}", &format!("<@{ana}>"))
    .replace("{ticket}", "1");
    assert_eq!(content(&sent), expected);
    bot.ticket_when(1, "first response", |t| t.first_response_at_ms.is_some())
        .await;
    bot.stop().await;
}

const CATEGORIES: &str = r#"
[[category]]
id = "billing"
label = "Billing"
emoji = "💳"
description = "Payments, refunds and invoices"
priority = "normal"
  [[category.question]]
  label = "Order number"
  style = "short"
  required = true
  placeholder = "e.g. 10423"
  max_length = 20
  [[category.question]]
  label = "What happened?"
  style = "paragraph"
  required = false

[[category]]
id = "technical"
label = "Technical problem"
priority = "high"

"#;

async fn a_panel_and_a_form_open_tickets_in_their_category(url: String) {
    let mut tickets: TicketsConfig = toml::from_str(CATEGORIES).unwrap();
    tickets.check_every_ms = 100;
    assert!(tickets.check().is_empty(), "{:?}", tickets.check());
    let options = Options {
        tickets,
        ..Options::default()
    };
    let bot = Bot::with_tickets_with(&url, options).await;

    let posted = bot.command_in(bot.general, bot.moderator, "panel", json!([]));
    bot.final_text(&posted).await;
    let panel = bot
        .fake
        .bot_messages(bot.general)
        .into_iter()
        .find(|m| !custom_ids(m).is_empty())
        .expect("the panel");
    assert_eq!(custom_ids(&panel), ["t:open:billing", "t:open:technical"]);
    assert!(content(&panel).contains("Payments, refunds and invoices"));

    // Billing asks its questions first.
    let press = bot
        .fake
        .press_button(id_of(&panel), "t:open:billing", bot.customer, "en-US");
    let form = bot.first_response(&press).await;
    assert_eq!(form["body"]["type"], json!(9), "a modal");
    let submitted = bot.fake.submit_modal(
        "t:form:billing",
        &[("q0", "10423"), ("q1", "I was charged twice")],
        bot.customer,
        "en-US",
    );
    let told = bot.final_text(&submitted).await;
    assert!(told.contains("#1"), "{told}");
    let t = bot.desk_ticket(1).await;
    assert_eq!(
        (t.category.as_str(), t.priority, t.tags.len()),
        ("billing", Priority::Normal, 0)
    );
    let thread = t.thread_id.unwrap();
    let header = content(&bot.fake.bot_messages(thread)[0]);
    assert!(
        header.contains("**Order number**: 10423") && header.contains("Billing"),
        "{header}"
    );

    // A category without questions opens at once; /ticket names categories as choices.
    let third = bot.others[1];
    let press = bot
        .fake
        .press_button(id_of(&panel), "t:open:technical", third, "en-US");
    assert!(bot.final_text(&press).await.contains("#2"));
    let t = bot.desk_ticket(2).await;
    assert_eq!(
        (t.category.as_str(), t.priority),
        ("technical", Priority::High)
    );
    let command = bot
        .fake
        .commands()
        .into_iter()
        .find(|c| c["name"] == json!("ticket"))
        .unwrap();
    let choices: Vec<&str> = command["options"][1]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_str().unwrap())
        .collect();
    assert_eq!(choices, ["billing", "technical"]);
    let fourth = bot.others[2];
    let by_command = bot.command_in(
        bot.general,
        fourth,
        "ticket",
        json!([{"name": "category", "type": 3, "value": "billing"}]),
    );
    let form = bot.first_response(&by_command).await;
    assert_eq!(form["body"]["type"], json!(9), "/ticket opens the form too");
    bot.stop().await;
}
