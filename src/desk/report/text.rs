//! A report as words and files: the plain text of `beacon report` and the CSV files, with
//! the durations, shares and times they print.

use std::fmt::Write as _;

use jiff::tz::TimeZone;

use super::*;

/// A duration as people read it: "45 s", "12 min", "3.5 h", "2.1 d"; "–" for none.
pub fn human_duration(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "–".into();
    };
    let s = ms as f64 / 1000.0;
    if s < 60.0 {
        format!("{s:.0} s")
    } else if s < 3600.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 86_400.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} d", s / 86_400.0)
    }
}

/// A share as a percentage with one decimal, "–" when there is none.
pub fn percent(share: Option<f64>) -> String {
    share.map_or("–".into(), |s| format!("{:.1}%", s * 100.0))
}

fn stars(f: &TicketFigures) -> String {
    match f.satisfaction() {
        Some(avg) => format!("{avg:.2} ({} rated)", f.rated()),
        None => "–".into(),
    }
}

/// A time as people read it in the server's zone, with the zone's abbreviation or offset.
pub fn local_time(ms: i64, zone: &TimeZone) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned(zone.clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .unwrap_or_else(|_| ms.to_string())
}

impl Report {
    /// The report as plain text, for a terminal (`beacon report`).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Report for server {} from {} to {}",
            self.guild_id,
            local_time(self.period.from_ms, &self.time_zone),
            local_time(self.period.to_ms, &self.time_zone)
        );
        let q = &self.questions;
        let _ = writeln!(
            out,
            "\nQuestions: {} asked, {} answered, {} with suggestions, {} unanswered; {} solved; \
             {} deflected ({}); {} asked for a person",
            q.asked,
            q.answered,
            q.suggested,
            q.abstained,
            q.solved,
            q.deflected,
            percent(q.deflection()),
            q.handoffs
        );
        let _ = writeln!(out, "\nTickets");
        table(&mut out, &[("all".to_string(), self.overall.clone())], "");
        for (title, groups) in [
            ("Per agent", &self.by_agent),
            ("Per category", &self.by_category),
            ("Per tag", &self.by_tag),
        ] {
            if !groups.is_empty() {
                let _ = writeln!(out, "\n{title}");
                table(&mut out, groups, "(none)");
            }
        }
        for c in &self.crises {
            let _ = writeln!(
                out,
                "\nCrisis \"{}\" ({}), {} to {}: {} updates; DMs {} delivered, {} refused, {} failed, {} pending",
                c.crisis.title,
                c.crisis.topic,
                local_time(c.window.from_ms, &self.time_zone),
                c.crisis
                    .ended_at_ms
                    .map_or("now (running)".to_string(), |ms| local_time(
                        ms,
                        &self.time_zone
                    )),
                c.updates,
                c.deliveries.sent,
                c.deliveries.refused,
                c.deliveries.failed,
                c.deliveries.total - c.deliveries.done()
            );
            let _ = writeln!(
                out,
                "  questions: {} asked, {} unanswered, {} deflected ({})",
                c.questions.asked,
                c.questions.abstained,
                c.questions.deflected,
                percent(c.questions.deflection())
            );
            table(
                &mut out,
                &[
                    ("all tickets".to_string(), c.tickets.clone()),
                    (c.crisis.ticket_tag(), c.tagged.clone()),
                ],
                "",
            );
        }
        let _ = writeln!(
            out,
            "\nTop unanswered questions ({} unanswered in all)",
            self.unanswered_total
        );
        if self.unanswered.is_empty() {
            let _ = writeln!(out, "  none");
        }
        for (i, g) in self.unanswered.iter().enumerate() {
            let _ = writeln!(
                out,
                "{:>3}. {:>6} × {}{}",
                i + 1,
                g.count,
                one_line(&g.text),
                if g.variants.len() > 1 {
                    format!(" (+{} similar)", g.variants.len() - 1)
                } else {
                    String::new()
                }
            );
        }
        out
    }

    /// The report as CSV files: `(file name, contents)`.
    pub fn to_csv(&self) -> Result<Vec<(&'static str, String)>, csv::Error> {
        let mut files = Vec::new();

        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "section",
            "group",
            "opened",
            "closed",
            "first_response_count",
            "first_response_median_s",
            "first_response_p90_s",
            "resolution_count",
            "resolution_median_s",
            "resolution_p90_s",
            "rated",
            "satisfaction_avg",
            "stars_1",
            "stars_2",
            "stars_3",
            "stars_4",
            "stars_5",
        ])?;
        let mut rows: Vec<(String, String, &TicketFigures)> =
            vec![("overall".into(), String::new(), &self.overall)];
        for (section, groups) in [
            ("agent", &self.by_agent),
            ("category", &self.by_category),
            ("tag", &self.by_tag),
        ] {
            rows.extend(
                groups
                    .iter()
                    .map(|(k, f)| (section.to_string(), k.clone(), f)),
            );
        }
        for c in &self.crises {
            let key = format!("{}#{}", c.crisis.topic, c.crisis.id);
            rows.push(("crisis".into(), key.clone(), &c.tickets));
            rows.push(("crisis_tagged".into(), key, &c.tagged));
        }
        let secs =
            |ms: Option<i64>| ms.map_or(String::new(), |ms| format!("{:.1}", ms as f64 / 1000.0));
        for (section, group, f) in rows {
            let mut record = vec![
                section,
                group,
                f.opened.to_string(),
                f.closed().to_string(),
                f.first_response.count.to_string(),
                secs(f.first_response.median_ms),
                secs(f.first_response.p90_ms),
                f.resolution.count.to_string(),
                secs(f.resolution.median_ms),
                secs(f.resolution.p90_ms),
                f.rated().to_string(),
                f.satisfaction()
                    .map_or(String::new(), |a| format!("{a:.3}")),
            ];
            record.extend(f.ratings.iter().map(u64::to_string));
            w.write_record(&record)?;
        }
        files.push(("tickets.csv", into_string(w)?));

        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "section",
            "group",
            "asked",
            "answered",
            "suggested",
            "abstained",
            "solved",
            "deflected",
            "handoffs",
        ])?;
        let mut qrows = vec![("overall".to_string(), String::new(), &self.questions)];
        qrows.extend(self.crises.iter().map(|c| {
            (
                "crisis".to_string(),
                format!("{}#{}", c.crisis.topic, c.crisis.id),
                &c.questions,
            )
        }));
        for (section, group, q) in qrows {
            w.write_record([
                section,
                group,
                q.asked.to_string(),
                q.answered.to_string(),
                q.suggested.to_string(),
                q.abstained.to_string(),
                q.solved.to_string(),
                q.deflected.to_string(),
                q.handoffs.to_string(),
            ])?;
        }
        files.push(("questions.csv", into_string(w)?));

        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["rank", "count", "text", "similar_texts"])?;
        for (i, g) in self.unanswered.iter().enumerate() {
            let similar: Vec<&str> = g.variants.iter().skip(1).map(|(t, _)| t.as_str()).collect();
            w.write_record([
                (i + 1).to_string(),
                g.count.to_string(),
                g.text.clone(),
                similar.join(" | "),
            ])?;
        }
        files.push(("unanswered.csv", into_string(w)?));

        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["start", "questions", "tickets", "first_response_median_s"])?;
        for b in &self.timeline {
            w.write_record([
                local_time(b.start_ms, &self.time_zone),
                b.questions.to_string(),
                b.tickets.to_string(),
                secs(b.first_response_median_ms),
            ])?;
        }
        files.push(("timeline.csv", into_string(w)?));

        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "id",
            "topic",
            "title",
            "started",
            "ended",
            "updates",
            "delivered",
            "refused",
            "failed",
            "pending",
        ])?;
        for c in &self.crises {
            w.write_record([
                c.crisis.id.to_string(),
                c.crisis.topic.clone(),
                c.crisis.title.clone(),
                local_time(c.crisis.started_at_ms, &self.time_zone),
                c.crisis
                    .ended_at_ms
                    .map(|ms| local_time(ms, &self.time_zone))
                    .unwrap_or_default(),
                c.updates.to_string(),
                c.deliveries.sent.to_string(),
                c.deliveries.refused.to_string(),
                c.deliveries.failed.to_string(),
                (c.deliveries.total - c.deliveries.done()).to_string(),
            ])?;
        }
        files.push(("crises.csv", into_string(w)?));
        Ok(files)
    }
}

fn into_string(w: csv::Writer<Vec<u8>>) -> Result<String, csv::Error> {
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("CSV of strings is UTF-8"))
}

fn one_line(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 80 {
        format!("{}…", line.chars().take(79).collect::<String>())
    } else {
        line
    }
}

fn table(out: &mut String, groups: &[(String, TicketFigures)], empty_key: &str) {
    let _ = writeln!(
        out,
        "  {:<22} {:>7} {:>7} {:>16} {:>16} {:>16} {:>16}  satisfaction",
        "", "opened", "closed", "1st resp median", "1st resp p90", "resolve median", "resolve p90"
    );
    for (key, f) in groups {
        let key = if key.is_empty() { empty_key } else { key };
        let _ = writeln!(
            out,
            "  {:<22} {:>7} {:>7} {:>16} {:>16} {:>16} {:>16}  {}",
            one_line(key),
            f.opened,
            f.closed(),
            human_duration(f.first_response.median_ms),
            human_duration(f.first_response.p90_ms),
            human_duration(f.resolution.median_ms),
            human_duration(f.resolution.p90_ms),
            stars(f)
        );
    }
}
