//! Per-server settings chosen by a moderator with `/setup`: nothing about a server is hard-coded.

use std::collections::BTreeSet;
use std::fmt;

/// What a moderator set up for one server. `None` means "not set yet".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GuildSettings {
    pub guild_id: u64,
    /// Channels where the bot answers every message.
    pub help_channels: BTreeSet<u64>,
    /// The support forum: each new post gets an answer.
    pub forum_channel: Option<u64>,
    /// Where agents see the queue of tickets.
    pub agents_channel: Option<u64>,
    /// Where tickets open, as private threads. Until it is set, "Talk to a person" tells the
    /// customer how to reach staff instead of opening a ticket.
    pub tickets_channel: Option<u64>,
    /// Where crisis updates are announced.
    pub announce_channel: Option<u64>,
    /// An opt-in role pinged by announcements (members give it to themselves).
    pub announce_role: Option<u64>,
    /// Where the source-of-truth status message lives.
    pub status_channel: Option<u64>,
    /// Where closed tickets' transcripts are posted.
    pub transcripts_channel: Option<u64>,
    pub agent_role: Option<u64>,
    pub moderator_role: Option<u64>,
    /// Pinged, with the agents, when a ticket passes its first-response target unclaimed.
    pub supervisor_role: Option<u64>,
    pub opening_hours: Option<OpeningHours>,
    /// An IANA time zone name such as `Europe/Berlin`.
    pub time_zone: Option<String>,
    /// The answer threshold for this server; the configured default when `None`.
    pub threshold: Option<f64>,
    pub updated_by: Option<u64>,
    pub updated_at_ms: i64,
}

impl GuildSettings {
    pub fn new(guild_id: u64) -> Self {
        GuildSettings {
            guild_id,
            ..Default::default()
        }
    }
}

/// A setting a moderator typed that Beacon cannot use, with what to type instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("opening hours `{0}`: {1}")]
    Hours(String, String),
    #[error("`{0}` is not a time zone Beacon knows; use a name like Europe/Berlin or Asia/Tehran")]
    TimeZone(String),
    #[error("the threshold must be a number from 0 to 1, not {0}")]
    Threshold(String),
}

/// Check an IANA time zone name against the system's time zone database.
pub fn check_time_zone(name: &str) -> Result<String, SettingsError> {
    let name = name.trim();
    match jiff::tz::TimeZone::get(name) {
        Ok(_) => Ok(name.to_string()),
        Err(_) => Err(SettingsError::TimeZone(name.to_string())),
    }
}

/// Check an answer threshold typed by a moderator.
pub fn check_threshold(value: f64) -> Result<f64, SettingsError> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(SettingsError::Threshold(value.to_string()))
    }
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// When people answer: for each weekday (Monday first), an opening and closing minute of the day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpeningHours {
    pub days: [Option<(u16, u16)>; 7],
}

impl OpeningHours {
    /// Parse `mon-fri 09:00-17:00, sat 10:00-14:00` (also `daily 08:00-20:00`).
    pub fn parse(text: &str) -> Result<Self, SettingsError> {
        let err = |why: &str| SettingsError::Hours(text.to_string(), why.to_string());
        let mut days = [None; 7];
        let mut any = false;
        for part in text
            .split([',', ';'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (day_spec, time_spec) = part
                .split_once(char::is_whitespace)
                .ok_or_else(|| err("each part needs days and times, like `mon-fri 09:00-17:00`"))?;
            let days_given = parse_days(&day_spec.to_lowercase())
                .ok_or_else(|| err("days look like mon-fri, sat, or daily"))?;
            let (open, close) = parse_span(time_spec.trim())
                .ok_or_else(|| err("times look like 09:00-17:00 (24-hour clock)"))?;
            if close <= open {
                return Err(err("closing time must be after opening time"));
            }
            for day in days_given {
                if days[day].is_some() {
                    return Err(err("a day is given twice"));
                }
                days[day] = Some((open, close));
                any = true;
            }
        }
        if !any {
            return Err(err("give at least one day, like `mon-fri 09:00-17:00`"));
        }
        Ok(OpeningHours { days })
    }

    /// Whether people answer at this weekday (0 = Monday) and minute of the day.
    pub fn is_open(&self, weekday: usize, minute: u16) -> bool {
        self.days
            .get(weekday)
            .copied()
            .flatten()
            .is_some_and(|(open, close)| (open..close).contains(&minute))
    }
}

fn parse_days(spec: &str) -> Option<Vec<usize>> {
    if spec == "daily" {
        return Some((0..7).collect());
    }
    let index = |d: &str| DAYS.iter().position(|x| *x == d);
    match spec.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (index(a)?, index(b)?);
            (a <= b).then(|| (a..=b).collect())
        }
        None => Some(vec![index(spec)?]),
    }
}

fn parse_span(spec: &str) -> Option<(u16, u16)> {
    let (a, b) = spec.split_once('-')?;
    Some((parse_clock(a.trim())?, parse_clock(b.trim())?))
}

fn parse_clock(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    // 24:00 closes at midnight.
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

impl fmt::Display for OpeningHours {
    /// The canonical form, which [`OpeningHours::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let mut day = 0;
        while day < 7 {
            let Some(span) = self.days[day] else {
                day += 1;
                continue;
            };
            let mut last = day;
            while last + 1 < 7 && self.days[last + 1] == Some(span) {
                last += 1;
            }
            let days = if day == 0 && last == 6 {
                "daily".to_string()
            } else if day == last {
                DAYS[day].to_string()
            } else {
                format!("{}-{}", DAYS[day], DAYS[last])
            };
            let clock = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
            parts.push(format!("{days} {}-{}", clock(span.0), clock(span.1)));
            day = last + 1;
        }
        f.write_str(&parts.join(", "))
    }
}

/// Whether people answer at a moment, by a server's opening hours in its time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Staffed {
    /// Inside opening hours, or no hours set up (then people are assumed to be around).
    Open,
    /// Outside them; people are back at this Unix time (seconds), if any day has hours.
    Closed { back_at: Option<i64> },
}

/// Whether a server is staffed at `now`. Hours without a time zone are read in UTC.
pub fn staffed(settings: &GuildSettings, now: jiff::Timestamp) -> Staffed {
    let Some(hours) = &settings.opening_hours else {
        return Staffed::Open;
    };
    let tz = zone(settings);
    let here = now.to_zoned(tz.clone());
    let minute = here.hour() as u16 * 60 + here.minute() as u16;
    let weekday = here.weekday().to_monday_zero_offset() as usize;
    if hours.is_open(weekday, minute) {
        return Staffed::Open;
    }
    // The next opening within a week (today's may still be ahead).
    let back_at = (0..8).find_map(|ahead| {
        let date = here
            .date()
            .checked_add(jiff::Span::new().days(ahead))
            .ok()?;
        let day = date.weekday().to_monday_zero_offset() as usize;
        let (open, _) = hours.days[day]?;
        let at = date
            .at((open / 60) as i8, (open % 60) as i8, 0, 0)
            .to_zoned(tz.clone())
            .ok()?;
        (at.timestamp() > now).then(|| at.timestamp().as_second())
    });
    Staffed::Closed { back_at }
}

/// When `minutes` of staffed time have passed after `start`: a ticket's first-response
/// deadline, so a ticket opened on Friday evening is not overdue before Monday morning. Without
/// opening hours every minute counts.
pub fn staffed_deadline(
    settings: &GuildSettings,
    start: jiff::Timestamp,
    minutes: u32,
) -> jiff::Timestamp {
    let plain = start
        .checked_add(jiff::SignedDuration::from_mins(minutes.into()))
        .unwrap_or(start);
    let Some(hours) = &settings.opening_hours else {
        return plain;
    };
    let tz = zone(settings);
    let mut left = i64::from(minutes) * 60;
    let first_day = start.to_zoned(tz.clone()).date();
    // Each staffed span from the start on uses up what is left; a year is far more than any
    // target needs.
    for ahead in 0..370 {
        let Ok(date) = first_day.checked_add(jiff::Span::new().days(ahead)) else {
            break;
        };
        let Some((open, close)) = hours.days[date.weekday().to_monday_zero_offset() as usize]
        else {
            continue;
        };
        let at = |minute: u16| {
            date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0)
                .to_zoned(tz.clone())
                .ok()
                .map(|z| z.timestamp())
        };
        let (Some(from), Some(to)) = (at(open), at(close)) else {
            continue;
        };
        let from = from.max(start);
        if to <= from {
            continue;
        }
        let span = to.as_second() - from.as_second();
        if span >= left {
            return from
                .checked_add(jiff::SignedDuration::from_secs(left))
                .unwrap_or(plain);
        }
        left -= span;
    }
    plain
}

/// The server's time zone; UTC when none is set (or it is unknown to this system).
pub fn zone(settings: &GuildSettings) -> jiff::tz::TimeZone {
    settings
        .time_zone
        .as_deref()
        .and_then(|name| jiff::tz::TimeZone::get(name).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zone_database_is_in_the_binary_for_machines_without_one() {
        // A container without /usr/share/zoneinfo still reports a Tehran server in Tehran time.
        let bundled = jiff::tz::TimeZoneDatabase::bundled();
        let tehran = bundled.get("Asia/Tehran").expect("Tehran is bundled");
        let noon = "2026-12-02T12:00:00Z".parse::<jiff::Timestamp>().unwrap();
        assert_eq!(noon.to_zoned(tehran).time().to_string(), "15:30:00");
    }

    #[test]
    fn deadlines_count_only_staffed_time() {
        let mut s = GuildSettings::new(1);
        let at = |t: &str| t.parse::<jiff::Timestamp>().unwrap();
        // No hours: every minute counts.
        let fri_evening = at("2026-11-20T18:00:00Z");
        assert_eq!(
            staffed_deadline(&s, fri_evening, 90),
            at("2026-11-20T19:30:00Z")
        );
        s.opening_hours = Some(OpeningHours::parse("mon-fri 09:00-17:00").unwrap());
        s.time_zone = Some("Europe/Berlin".into());
        // Friday 19:00 in Berlin: closed until Monday 09:00 (08:00 UTC); 4 hours later is 12:00 UTC.
        assert_eq!(
            staffed_deadline(&s, fri_evening, 240),
            at("2026-11-23T12:00:00Z")
        );
        // Monday 16:30 Berlin (15:30 UTC) with a 60-minute target: 30 minutes today, 30 on Tuesday.
        assert_eq!(
            staffed_deadline(&s, at("2026-11-23T15:30:00Z"), 60),
            at("2026-11-24T08:30:00Z")
        );
        // Inside hours with time to spare: plain addition.
        assert_eq!(
            staffed_deadline(&s, at("2026-11-24T09:00:00Z"), 15),
            at("2026-11-24T09:15:00Z")
        );
    }

    #[test]
    fn opening_hours_round_trip_in_canonical_form() {
        let hours = OpeningHours::parse("Mon-Fri 09:00-17:00; sat 10:00-14:30").unwrap();
        assert_eq!(hours.to_string(), "mon-fri 09:00-17:00, sat 10:00-14:30");
        assert_eq!(OpeningHours::parse(&hours.to_string()).unwrap(), hours);
        assert!(hours.is_open(0, 9 * 60));
        assert!(!hours.is_open(0, 17 * 60));
        assert!(hours.is_open(5, 14 * 60 + 29));
        assert!(!hours.is_open(6, 12 * 60));
        let daily = OpeningHours::parse("daily 00:00-24:00").unwrap();
        assert_eq!(daily.to_string(), "daily 00:00-24:00");
    }

    #[test]
    fn bad_opening_hours_say_what_to_type() {
        for (text, why) in [
            ("", "at least one day"),
            ("mon-fri", "days and times"),
            ("mon-fri 9-17", "24-hour clock"),
            ("mon-fri 17:00-09:00", "after opening"),
            ("fri-mon 09:00-17:00", "mon-fri"),
            ("mon 09:00-12:00, mon 13:00-17:00", "twice"),
            ("mon 25:00-26:00", "24-hour"),
        ] {
            let e = OpeningHours::parse(text).unwrap_err().to_string();
            assert!(e.contains(why), "{text:?}: {e}");
        }
    }

    #[test]
    fn staffed_follows_the_hours_in_the_servers_time_zone() {
        let mut s = GuildSettings::new(1);
        // 2026-11-23 is a Monday; 08:30 UTC is 09:30 in Berlin (UTC+1 in winter).
        let monday_0830_utc: jiff::Timestamp = "2026-11-23T08:30:00Z".parse().unwrap();
        assert_eq!(
            staffed(&s, monday_0830_utc),
            Staffed::Open,
            "no hours: open"
        );
        s.opening_hours = Some(OpeningHours::parse("mon-fri 09:00-17:00").unwrap());
        s.time_zone = Some("Europe/Berlin".into());
        assert_eq!(staffed(&s, monday_0830_utc), Staffed::Open);
        // In UTC it is before nine: closed, back at 09:00 UTC the same day.
        s.time_zone = None;
        let back: jiff::Timestamp = "2026-11-23T09:00:00Z".parse().unwrap();
        assert_eq!(
            staffed(&s, monday_0830_utc),
            Staffed::Closed {
                back_at: Some(back.as_second())
            }
        );
        // Friday evening in Berlin: back on Monday at 09:00 Berlin time.
        s.time_zone = Some("Europe/Berlin".into());
        let friday_evening: jiff::Timestamp = "2026-11-27T17:30:00Z".parse().unwrap();
        let monday_nine: jiff::Timestamp = "2026-11-30T08:00:00Z".parse().unwrap();
        assert_eq!(
            staffed(&s, friday_evening),
            Staffed::Closed {
                back_at: Some(monday_nine.as_second())
            }
        );
    }

    #[test]
    fn thresholds_and_time_zones_are_checked() {
        assert_eq!(check_threshold(0.6), Ok(0.6));
        assert!(check_threshold(1.5).is_err());
        assert!(check_threshold(f64::NAN).is_err());
        assert!(check_time_zone("Not/AZone").is_err());
    }
}
