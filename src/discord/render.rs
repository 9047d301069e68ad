//! Desk results as Discord messages: the bot's words from the locale files, components with
//! custom ids the bot can read back, and allowed mentions that ping nobody.

use serenity::all::{
    ButtonStyle, CreateActionRow, CreateAllowedMentions, CreateButton, CreateSelectMenu,
    CreateSelectMenuKind, CreateSelectMenuOption,
};

use crate::desk::answers::Offer;
use crate::locale::Locales;

/// Discord's limit on message content.
pub const MAX_CONTENT: usize = 2000;
/// Discord's limit on a button label or select option label.
pub const MAX_LABEL: usize = 80;
/// Discord's limit on a custom id.
pub const MAX_CUSTOM_ID: usize = 100;

/// Allowed mentions for every message the bot sends: nobody, no role, not `@everyone`, not even
/// the author of the message replied to, whatever the text says.
pub fn no_pings() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
        .everyone(false)
        .all_users(false)
        .all_roles(false)
        .replied_user(false)
}

/// Discord's limits are counted in characters; the cut itself is the desk's, which uses it too.
pub use crate::desk::fit;

/// What a component under an answer means. Encoded in its custom id as `j1:<kind>:<question>`;
/// a pick also carries the asker, so the bot can choose how to acknowledge before any lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Solved(i64),
    Human(i64),
    Pick { question: i64, asker: u64 },
    Ticket(i64),
}

impl Action {
    pub fn custom_id(self) -> String {
        match self {
            Action::Solved(q) => format!("j1:solved:{q}"),
            Action::Human(q) => format!("j1:human:{q}"),
            Action::Pick { question, asker } => format!("j1:pick:{question}:{asker}"),
            Action::Ticket(q) => format!("j1:ticket:{q}"),
        }
    }

    pub fn parse(custom_id: &str) -> Option<Action> {
        let mut parts = custom_id.split(':');
        if parts.next()? != "j1" {
            return None;
        }
        let kind = parts.next()?;
        let question: i64 = parts.next()?.parse().ok()?;
        let action = match kind {
            "solved" => Action::Solved(question),
            "human" => Action::Human(question),
            "ticket" => Action::Ticket(question),
            "pick" => Action::Pick {
                question,
                asker: parts.next()?.parse().ok()?,
            },
            _ => return None,
        };
        parts.next().is_none().then_some(action)
    }
}

/// The value of the "none of these" option in a "did you mean" list (intent ids never start
/// with a dash).
pub const NONE_FIT: &str = "-none";

/// The buttons under a confident answer.
pub fn answer_buttons(locales: &Locales, lang: &str, question: i64) -> Vec<CreateActionRow> {
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(Action::Solved(question).custom_id())
            .style(ButtonStyle::Success)
            .label(fit(locales.get(lang, "answer.solved"), MAX_LABEL)),
        CreateButton::new(Action::Human(question).custom_id())
            .style(ButtonStyle::Secondary)
            .label(fit(locales.get(lang, "answer.human"), MAX_LABEL)),
    ])]
}

/// The "did you mean" list for a close call.
pub fn suggestion_menu(
    locales: &Locales,
    lang: &str,
    question: i64,
    asker: u64,
    offers: &[Offer],
) -> Vec<CreateActionRow> {
    let mut options: Vec<CreateSelectMenuOption> = offers
        .iter()
        .take(24)
        .map(|o| CreateSelectMenuOption::new(fit(&o.label, MAX_LABEL), o.intent.clone()))
        .collect();
    options.push(CreateSelectMenuOption::new(
        fit(locales.get(lang, "suggest.none"), MAX_LABEL),
        NONE_FIT,
    ));
    let menu = CreateSelectMenu::new(
        Action::Pick { question, asker }.custom_id(),
        CreateSelectMenuKind::String { options },
    )
    .placeholder(fit(locales.get(lang, "suggest.placeholder"), 150))
    .min_values(1)
    .max_values(1);
    vec![CreateActionRow::SelectMenu(menu)]
}

/// The way to a person, when nothing matched or none of the suggestions fit.
pub fn person_button(locales: &Locales, lang: &str, question: i64) -> Vec<CreateActionRow> {
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(Action::Ticket(question).custom_id())
            .style(ButtonStyle::Primary)
            .label(fit(locales.get(lang, "abstain.button"), MAX_LABEL)),
    ])]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids_round_trip_and_fit_discord() {
        for a in [
            Action::Solved(1),
            Action::Human(i64::MAX),
            Action::Ticket(42),
            Action::Pick {
                question: i64::MAX,
                asker: u64::MAX,
            },
        ] {
            let id = a.custom_id();
            assert!(id.len() <= MAX_CUSTOM_ID, "{id}");
            assert_eq!(Action::parse(&id), Some(a));
        }
        for bad in [
            "",
            "j1",
            "j1:solved",
            "j1:solved:x",
            "j1:pick:1",
            "x:solved:1",
            "j1:solved:1:2",
        ] {
            assert_eq!(Action::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn fit_counts_characters_not_bytes() {
        assert_eq!(fit("سلام", 4), "سلام");
        assert_eq!(fit("سلام دنیا", 4), "سلا…");
        assert_eq!(
            fit(&"a".repeat(3000), MAX_CONTENT).chars().count(),
            MAX_CONTENT
        );
    }
}
