//! Prometheus metrics: what Beacon counts while it runs, served at `/metrics` by the web server.
//!
//! Counters and the first-response histogram live in one process-wide registry, incremented
//! where things happen; the queue length and the outbox backlog are read from the database at
//! each scrape (see `web`), so they are right across restarts and processes.

use std::sync::OnceLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// answer, suggest, abstain or cooldown.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

/// Everything Beacon counts.
#[derive(Debug)]
pub struct Metrics {
    /// Questions seen, by the decision taken.
    pub questions: Family<OutcomeLabel, Counter>,
    /// What customers did with answers (solved, human, picked, none_fit, ticket_offer).
    pub answer_events: Family<KindLabel, Counter>,
    pub tickets_opened: Counter,
    pub tickets_closed: Counter,
    /// Seconds from a ticket's opening to staff's first message in it.
    pub first_response_seconds: Histogram,
    /// Requests to Discord that failed (any status but success, or no answer), by kind.
    pub rest_errors: Family<KindLabel, Counter>,
    registry: Registry,
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("beacon");
        let questions = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "questions",
            "Questions seen, by decision",
            questions.clone(),
        );
        let answer_events = Family::<KindLabel, Counter>::default();
        registry.register(
            "answer_events",
            "What customers did with answers",
            answer_events.clone(),
        );
        let tickets_opened = Counter::default();
        registry.register("tickets_opened", "Tickets opened", tickets_opened.clone());
        let tickets_closed = Counter::default();
        registry.register("tickets_closed", "Tickets closed", tickets_closed.clone());
        // 30 s to about 34 h, doubling.
        let first_response_seconds = Histogram::new(
            prometheus_client::metrics::histogram::exponential_buckets(30.0, 2.0, 13),
        );
        registry.register(
            "first_response_seconds",
            "Time from a ticket's opening to staff's first message",
            first_response_seconds.clone(),
        );
        let rest_errors = Family::<KindLabel, Counter>::default();
        registry.register(
            "discord_rest_errors",
            "Requests to Discord's REST API that failed",
            rest_errors.clone(),
        );
        Metrics {
            questions,
            answer_events,
            tickets_opened,
            tickets_closed,
            first_response_seconds,
            rest_errors,
            registry,
        }
    }

    pub fn question(&self, outcome: &str) {
        self.questions
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    pub fn answer_event(&self, kind: &str) {
        self.answer_events
            .get_or_create(&KindLabel {
                kind: kind.to_string(),
            })
            .inc();
    }

    pub fn rest_error(&self, kind: &str) {
        self.rest_errors
            .get_or_create(&KindLabel {
                kind: kind.to_string(),
            })
            .inc();
    }

    /// The registry in Prometheus's text format, followed by `extra` gauges `(name, help,
    /// value)` read elsewhere (the database), and the closing `# EOF`.
    pub fn encode(&self, extra: &[(&str, &str, u64)]) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode_registry(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        for (name, help, value) in extra {
            out.push_str(&format!(
                "# HELP beacon_{name} {help}.\n# TYPE beacon_{name} gauge\nbeacon_{name} {value}\n"
            ));
        }
        prometheus_client::encoding::text::encode_eof(&mut out)
            .expect("writing to a String cannot fail");
        out
    }
}

/// The process's metrics.
pub fn get() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_gauges_come_out_in_the_text_format() {
        let m = Metrics::new();
        m.question("answer");
        m.question("answer");
        m.question("abstain");
        m.first_response_seconds.observe(45.0);
        m.rest_error("dm");
        let text = m.encode(&[("queue_length", "Tickets waiting", 3)]);
        assert!(
            text.contains("beacon_questions_total{outcome=\"answer\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("beacon_questions_total{outcome=\"abstain\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("beacon_first_response_seconds_count 1"),
            "{text}"
        );
        assert!(
            text.contains("beacon_first_response_seconds_bucket{le=\"60.0\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("beacon_discord_rest_errors_total{kind=\"dm\"} 1"),
            "{text}"
        );
        assert!(text.contains("# TYPE beacon_queue_length gauge\nbeacon_queue_length 3\n"));
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
