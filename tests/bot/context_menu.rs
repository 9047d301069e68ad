//! The two context-menu entry points through the real client and the fake Discord: each opens
//! a ticket through the desk's one opening journey (its cases are desk tests in
//! `desk::opening`).

use beacon::desk::tickets::TicketState;
use beacon::discord::context_menu::{FROM_MESSAGE, WITH_MEMBER};

use crate::db::TestDb;
use crate::harness::Bot;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_opens_a_ticket_from_a_members_message_quoting_it() {
    let db = TestDb::sqlite();
    let bot = Bot::with_tickets(&db.url).await;
    let asked = bot
        .fake
        .push_message(bot.general, bot.customer, "my order never arrived");
    let [agent, _] = bot.agent_members;
    let run = bot
        .fake
        .push_message_command(bot.general, agent, FROM_MESSAGE, asked, "en-US");
    let told = bot.final_text(&run).await;

    let ticket = bot.desk_ticket(1).await;
    assert_eq!(ticket.customer_id, bot.customer);
    assert_eq!(ticket.state, TicketState::Waiting);
    let thread = ticket.thread_id.unwrap();
    assert!(told.contains(&format!("<#{thread}>")), "{told}");
    let header = bot.fake.bot_messages(thread)[0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    let link = format!(
        "https://discord.com/channels/{}/{}/{asked}",
        bot.guild, bot.general
    );
    assert!(header.contains("> my order never arrived"), "{header}");
    assert!(header.contains(&link), "{header}");
    // The customer and the agent are both in the private thread.
    let members = bot.fake.channel(thread).unwrap()["member_ids"].to_string();
    assert!(members.contains(&bot.customer.to_string()), "{members}");
    assert!(members.contains(&agent.to_string()), "{members}");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_opens_a_ticket_with_a_member() {
    let db = TestDb::sqlite();
    let bot = Bot::with_tickets(&db.url).await;
    let [agent, _] = bot.agent_members;
    let run = bot
        .fake
        .push_user_command(bot.general, agent, WITH_MEMBER, bot.customer, "en-US");
    let told = bot.final_text(&run).await;
    let ticket = bot.desk_ticket(1).await;
    assert_eq!(ticket.customer_id, bot.customer);
    assert!(
        told.contains(&format!("<#{}>", ticket.thread_id.unwrap())),
        "{told}"
    );
    bot.stop().await;
}
