//! `/report` (moderators): the support report for the last days, as a short summary and a chart;
//! `/transcript` (agents): a signed link to a closed ticket's transcript, for them alone.

use std::fmt::Write as _;

use serenity::all::CreateAttachment;

use super::Bot;
use super::commands::Invocation;
use crate::desk::now_ms;
use crate::desk::report::{Report, TicketFigures, human_duration, percent};
use crate::desk::tickets::{NotDone, Target};

/// The longest period `/report` covers; `beacon report` takes any.
pub const MAX_DAYS: i64 = 90;

/// The summary and the chart of the report for the last `days` (default 7) days.
pub async fn command(
    bot: &Bot,
    inv: &Invocation,
    days: Option<i64>,
) -> anyhow::Result<(String, Option<CreateAttachment>)> {
    let days = days.unwrap_or(7).clamp(1, MAX_DAYS) as u32;
    let report = bot.desk.report(inv.guild, now_ms(), days).await?;
    let chart = match crate::chart::of_report(&report) {
        Ok(png) => Some(CreateAttachment::bytes(png, "report.png")),
        Err(e) => {
            tracing::error!(error = %e, "report chart failed");
            None
        }
    };
    Ok((summary(&report, days), chart))
}

fn tickets_line(f: &TicketFigures) -> String {
    let mut line = format!(
        "opened {} · closed {} · first response median {} (p90 {}) · resolution median {} (p90 {})",
        f.opened,
        f.closed(),
        human_duration(f.first_response.median_ms),
        human_duration(f.first_response.p90_ms),
        human_duration(f.resolution.median_ms),
        human_duration(f.resolution.p90_ms),
    );
    if let Some(avg) = f.satisfaction() {
        let _ = write!(line, " · satisfaction {avg:.1}/5 ({} rated)", f.rated());
    }
    line
}

/// The report in a Discord message: the headline figures, each crisis, the busiest groups and
/// what to add to the FAQ. Mentions are shown, never pinged (the reply allows none).
pub fn summary(r: &Report, days: u32) -> String {
    let mut out = String::new();
    let q = &r.questions;
    let _ = writeln!(out, "**Support report, last {days} days**");
    let _ = writeln!(
        out,
        "**Questions** {} · answered {} · suggestions {} · unanswered {} · deflected {} ({})",
        q.asked,
        q.answered,
        q.suggested,
        q.abstained,
        q.deflected,
        percent(q.deflection())
    );
    let _ = writeln!(out, "**Tickets** {}", tickets_line(&r.overall));
    for c in &r.crises {
        let _ = writeln!(
            out,
            "**Crisis: {}** ({}{}) · tickets {} ({} tagged) · first response median {} · DMs {} delivered, {} refused, {} failed",
            c.crisis.title,
            c.crisis.topic,
            if c.crisis.ended_at_ms.is_none() {
                ", running"
            } else {
                ""
            },
            c.tickets.opened,
            c.tagged.opened,
            human_duration(c.tickets.first_response.median_ms),
            c.deliveries.sent,
            c.deliveries.refused,
            c.deliveries.failed,
        );
    }
    let agents = busiest(&r.by_agent);
    if !agents.is_empty() {
        let _ = writeln!(out, "**Agents**");
        for (id, f) in agents {
            let _ = writeln!(
                out,
                "• <@{id}> closed {} · first response median {}",
                f.closed(),
                human_duration(f.first_response.median_ms)
            );
        }
    }
    let tags = busiest(&r.by_tag);
    if !tags.is_empty() {
        let list: Vec<String> = tags
            .iter()
            .map(|(t, f)| format!("`{t}` {}", f.opened))
            .collect();
        let _ = writeln!(out, "**Tags** {}", list.join(" · "));
    }
    if !r.unanswered.is_empty() {
        let _ = writeln!(out, "**Add to the FAQ** (most asked, unanswered)");
        for (i, g) in r.unanswered.iter().take(5).enumerate() {
            let text: String = g.text.chars().take(80).collect();
            let more = if g.variants.len() > 1 {
                format!(" (+{} similar)", g.variants.len() - 1)
            } else {
                String::new()
            };
            // The customer's words are quoted as code: no formatting, no mentions.
            let _ = writeln!(
                out,
                "{}. `{}` ×{}{more}",
                i + 1,
                text.replace('`', "'"),
                g.count
            );
        }
    }
    let _ = write!(
        out,
        "Everything, as CSV: `beacon report --guild {} --days {days} --csv report/`",
        r.guild_id
    );
    out
}

/// The five groups with the most tickets opened (the unnamed group left out).
fn busiest(groups: &[(String, TicketFigures)]) -> Vec<&(String, TicketFigures)> {
    let mut g: Vec<&(String, TicketFigures)> =
        groups.iter().filter(|(k, _)| !k.is_empty()).collect();
    g.sort_by(|a, b| b.1.opened.cmp(&a.1.opened).then(a.0.cmp(&b.0)));
    g.truncate(5);
    g
}

/// `/transcript [number]`: a link to the ticket's latest transcript (the ticket of this thread
/// when no number is given), signed for the agent asking and expiring.
pub async fn transcript(
    bot: &Bot,
    inv: &Invocation,
    number: Option<i64>,
) -> anyhow::Result<String> {
    let (actor, lang) = (&inv.actor, inv.lang);
    let target = match number {
        Some(number) => Target::Number(number),
        None => Target::Thread(inv.channel),
    };
    let (ticket, closing) = match bot.desk.transcript_of(actor, target).await? {
        Ok(found) => found,
        Err(NotDone::NoTicket) => {
            return Ok(
                "No such ticket on this server. Give its number: `/transcript number:`".into(),
            );
        }
        Err(not_done) => {
            return Ok(super::tickets::refusal_text(
                bot.desk.locales,
                lang,
                &not_done,
            ));
        }
    };
    let Some(links) = bot.web.as_ref().map(|w| &w.links) else {
        return Ok(
            "Transcript links need Beacon's web pages: set `[web] listen` (and \
                   `public_url`) in beacon.toml. The transcripts channel has every transcript \
                   as a file meanwhile."
                .into(),
        );
    };
    let Some(closing) = closing else {
        return Ok(format!(
            "Ticket #{} has no transcript yet: one is made when it closes.",
            ticket.number
        ));
    };
    let (link, expires) = links.transcript(ticket.id, closing, actor.user_id, now_ms());
    tracing::info!(
        ticket = ticket.id,
        agent = actor.user_id,
        "transcript link given"
    );
    Ok(format!(
        "Transcript of ticket #{}: {link}\nThis link is for you alone and works until <t:{expires}:t>.",
        ticket.number
    ))
}
