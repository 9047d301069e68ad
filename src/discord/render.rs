//! Desk results as Discord messages: the bot's words from the locale files, components with
//! custom ids the bot can read back, and allowed mentions that ping nobody.

use serenity::all::{
    ButtonStyle, CreateActionRow, CreateAllowedMentions, CreateButton, CreateSelectMenu,
    CreateSelectMenuKind, CreateSelectMenuOption,
};

use super::custom_id::{AnswerButton, CustomId};
use crate::desk::answers::Offer;
use crate::locale::Locales;

/// Discord's limit on message content.
pub const MAX_CONTENT: usize = crate::desk::port::MAX_TEXT;
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

/// The value of the "none of these" option in a "did you mean" list (intent ids never start
/// with a dash).
pub const NONE_FIT: &str = "-none";

/// The buttons under a confident answer.
pub fn answer_buttons(locales: &Locales, lang: &str, question: i64) -> Vec<CreateActionRow> {
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(CustomId::Answer(AnswerButton::Solved(question)).to_string())
            .style(ButtonStyle::Success)
            .label(fit(locales.get(lang, "answer.solved"), MAX_LABEL)),
        CreateButton::new(CustomId::Answer(AnswerButton::Human(question)).to_string())
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
        CustomId::Answer(AnswerButton::Pick { question, asker }).to_string(),
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
        CreateButton::new(CustomId::Answer(AnswerButton::Ticket(question)).to_string())
            .style(ButtonStyle::Primary)
            .label(fit(locales.get(lang, "abstain.button"), MAX_LABEL)),
    ])]
}

#[cfg(test)]
mod tests {
    use super::*;

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
