//! Text folding for matching: the one place that decides when two spellings of a question are
//! "the same words".
//!
//! Knowledge-base examples and customer questions both pass through [`normalize`] before the
//! matcher compares them, so every difference this module erases is a difference the matcher never
//! has to know about: letter case, compatibility forms (fullwidth letters, ligatures), the Arabic
//! and Persian keyboards' different code points for the same letter, vowel marks that most people
//! leave out, invisible formatting characters that Discord clients and phones insert, Persian and
//! Arabic-Indic digits, and punctuation.
//!
//! The output is lowercase words separated by single ASCII spaces, with no leading or trailing
//! space. A word is a run of letters and digits of any script, with the combining marks that
//! belong to them (Devanagari vowel signs, a Latin accent that has no precomposed form).
//! Everything else (punctuation, symbols, emoji, controls) only separates words, so a message made
//! of emoji normalises to the empty string.
//!
//! Canonical forms chosen for Arabic-script letters (the plain Arabic-block letter in every case,
//! so Arabic text mostly stays as typed and Persian text converges on it):
//!
//! | folded to      | from                                                         |
//! |----------------|--------------------------------------------------------------|
//! | ي U+064A yeh   | ی U+06CC Farsi yeh, ى U+0649 alef maksura, ئ U+0626          |
//! | ك U+0643 kaf   | ک U+06A9 keheh (the Persian keyboard's kaf)                  |
//! | ه U+0647 heh   | ة U+0629 teh marbuta, ۀ U+06C0 heh with yeh above            |
//! | ا U+0627 alef  | أ U+0623, إ U+0625, آ U+0622, ٱ U+0671, ٲ U+0672, ٳ U+0673    |
//! | و U+0648 waw   | ؤ U+0624                                                     |
//!
//! This erases differences that [`super::lang`] needs, so language detection reads the raw text.
//!
//! The function is idempotent (`normalize(normalize(x)) == normalize(x)`), which lets callers
//! normalise twice without harm and lets the knowledge base store folded examples. Idempotence is
//! why NFKC runs a second time after folding: lowercasing and deleting characters can put a base
//! letter next to a combining mark it composes with (`J` + caron lowercases to `j` + caron, which
//! NFKC composes to `ǰ`; deleting the apostrophe in `e'` + acute leaves `é`).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds `text` for matching: NFKC, lowercase, one form per Arabic-script letter, no vowel marks
/// or invisible characters, ASCII digits, and words separated by single spaces.
///
/// Never panics. The output has at most 18 characters per input character: U+FDFA `ﷺ`, one code
/// point for a whole Arabic phrase, is NFKC's worst case.
#[must_use]
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    if text.is_ascii() {
        // ASCII is already NFKC and folds to ASCII letters, digits and spaces, which compose
        // with nothing: both NFKC passes would be no-ops, and they cost half the time.
        push_words(&mut out, text.chars().flat_map(fold));
    } else {
        push_words(&mut out, text.nfkc().flat_map(fold).nfkc());
    }
    out
}

/// Appends folded characters to `out` as space-separated words.
fn push_words(out: &mut String, folded: impl Iterator<Item = char>) {
    // A separator is only written when the next word starts, which collapses runs of separators
    // and drops them at both ends without a second pass over the output.
    let mut pending_space = false;
    for c in folded {
        if c == ' ' {
            pending_space = !out.is_empty();
        } else if is_combining_mark(c) {
            // A mark belongs to the letter before it; after a separator (or at the start) it
            // would be a word made of nothing visible.
            if !pending_space && !out.is_empty() {
                out.push(c);
            }
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
}

/// The words of a string returned by [`normalize`].
///
/// Empty pieces are skipped, so text that was not normalised cannot yield an empty word, but its
/// words are not folded either: normalise first.
pub fn words(normalized: &str) -> impl Iterator<Item = &str> {
    normalized.split(' ').filter(|word| !word.is_empty())
}

/// What one NFKC character becomes: nothing, a separator (`' '`), or up to three word characters.
fn fold(c: char) -> Folded {
    match c {
        // Apostrophes are part of the word they sit in ("don't" is one word, "dont"), and
        // customers type any of these three for the same thing.
        '\'' | '\u{2019}' | '\u{02BC}'
        // Armenian emphasis, exclamation and question marks sit on the stressed vowel inside
        // the word ("ինչպե՞ս"); U+055F is the Armenian abbreviation mark, also written
        // inside a word.
        | '\u{055B}' | '\u{055C}' | '\u{055E}' | '\u{055F}'
        // Tatweel only stretches a word; harakat, superscript alef and the Quranic annotation
        // marks are optional vowel and recitation signs most people do not type.
        | '\u{0640}' | '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{06D6}'..='\u{06ED}'
        // Invisible characters that clients, keyboards and copy-paste insert inside words:
        // soft hyphen, combining grapheme joiner, Arabic letter mark, Hangul fillers (also used
        // on Discord to post "blank" text), Khmer inherent vowels, Mongolian variation
        // selectors, ZWJ, LRM, RLM, bidi embeddings and isolates, word joiner, variation
        // selectors (emoji presentation), BOM, shorthand format controls, tags.
        | '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}'
        | '\u{17B5}' | '\u{180B}'..='\u{180F}' | '\u{200D}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{E0000}'..='\u{E0FFF}'
        // Combining marks for symbols (the keycap in "1️⃣", enclosing circles) decorate a
        // symbol rather than spell a word: "1️⃣" means "1".
        | '\u{20D0}'..='\u{20FF}' => Folded::NONE,

        // ZWNJ separates the parts of a Persian word the way a space does when people do not
        // bother with it ("می‌خواهم" and "می خواهم" must match); ZWSP is a space by name.
        '\u{200B}' | '\u{200C}' => Folded::one(' '),

        '\u{0649}' | '\u{06CC}' | '\u{0626}' => Folded::one('\u{064A}'),
        '\u{06A9}' => Folded::one('\u{0643}'),
        '\u{0629}' | '\u{06C0}' => Folded::one('\u{0647}'),
        '\u{0622}' | '\u{0623}' | '\u{0625}' | '\u{0671}'..='\u{0673}' => Folded::one('\u{0627}'),
        '\u{0624}' => Folded::one('\u{0648}'),
        '\u{0660}'..='\u{0669}' => Folded::digit(u32::from(c) - 0x0660),
        '\u{06F0}'..='\u{06F9}' => Folded::digit(u32::from(c) - 0x06F0),

        // Full case folding for the two letters where plain lowercasing is not enough to match.
        'ß' | 'ẞ' => Folded::two('s', 's'),
        'ς' => Folded::one('σ'),

        c if c.is_alphanumeric() => Folded::lower(c),
        c if is_combining_mark(c) => Folded::one(c),
        _ => Folded::one(' '),
    }
}

/// Up to three characters, so folding a character never allocates.
struct Folded {
    chars: [char; 3],
    len: u8,
    next: u8,
}

impl Folded {
    const NONE: Self = Self {
        chars: ['\0'; 3],
        len: 0,
        next: 0,
    };

    fn one(c: char) -> Self {
        Self {
            chars: [c, '\0', '\0'],
            len: 1,
            next: 0,
        }
    }

    fn two(a: char, b: char) -> Self {
        Self {
            chars: [a, b, '\0'],
            len: 2,
            next: 0,
        }
    }

    fn digit(value: u32) -> Self {
        char::from_digit(value, 10).map_or(Self::NONE, Self::one)
    }

    fn lower(c: char) -> Self {
        // Letter-shaped emoji such as 🅰 (U+1F170) count as alphabetic and uppercase but have
        // no lowercase; they are symbols, and an uppercase character in the output would
        // break the "folded" promise.
        if c.is_uppercase() && c.to_lowercase().eq([c]) {
            return Self::one(' ');
        }
        let mut folded = Self::NONE;
        // Unicode lowercases a character to at most three, so the zip never drops one.
        for (slot, lower) in folded.chars.iter_mut().zip(c.to_lowercase()) {
            *slot = lower;
            folded.len += 1;
        }
        folded
    }
}

impl Iterator for Folded {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        if self.next >= self.len {
            return None;
        }
        let c = self.chars.get(usize::from(self.next)).copied();
        self.next += 1;
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use unicode_normalization::is_nfkc;

    #[test]
    fn persian_keyboard_letters_zwnj_and_digits_fold_to_one_spelling() {
        assert_eq!(
            normalize("سلام! می‌خواهم پولم را پس بگیرم، سفارش شماره ۱۲۳۴۵"),
            "سلام مي خواهم پولم را پس بگيرم سفارش شماره 12345"
        );
    }

    #[test]
    fn persian_typed_on_an_arabic_keyboard_matches_persian_keyboard_text() {
        let persian_keyboard = normalize("کیف پول من کجاست؟");
        let arabic_keyboard = normalize("كيف پول من كجاست؟");
        assert_eq!(persian_keyboard, arabic_keyboard);
        assert_eq!(persian_keyboard, "كيف پول من كجاست");
    }

    #[test]
    fn zwnj_counts_as_a_space_between_the_parts_of_a_persian_word() {
        assert_eq!(normalize("نمی‌تونم"), normalize("نمی تونم"));
        assert_eq!(normalize("نمی‌تونم"), "نمي تونم");
    }

    #[test]
    fn persian_heh_with_yeh_above_folds_to_heh() {
        assert_eq!(normalize("خانۀ من"), "خانه من");
    }

    #[test]
    fn arabic_harakat_hamza_forms_and_teh_marbuta_are_folded() {
        assert_eq!(
            normalize("مَرْحَبًا، أُرِيدُ إِلْغَاءَ طَلَبِي؟"),
            "مرحبا اريد الغاء طلبي"
        );
        assert_eq!(normalize("مساعدة"), "مساعده");
        assert_eq!(
            normalize("آسف، أنا مسؤول عن ٱلطلب"),
            "اسف انا مسوول عن الطلب"
        );
        assert_eq!(normalize("متى؟"), "متي");
        assert_eq!(normalize("سؤال ومسائل"), "سوال ومسايل");
    }

    #[test]
    fn arabic_tatweel_is_removed_without_splitting_the_word() {
        assert_eq!(normalize("شـــكـــرا"), "شكرا");
    }

    #[test]
    fn arabic_indic_digits_and_arabic_punctuation_are_handled() {
        assert_eq!(
            normalize("هل يمكنني استرداد المال، من فضلك؟ رقم الطلب ١٢٣٤٥٦؛ شكراً"),
            "هل يمكنني استرداد المال من فضلك رقم الطلب 123456 شكرا"
        );
    }

    #[test]
    fn arabic_ligature_expands_to_its_words() {
        assert_eq!(normalize("محمد ﷺ"), "محمد صلي الله عليه وسلم");
    }

    #[test]
    fn armenian_marks_inside_words_are_dropped_without_splitting() {
        assert_eq!(
            normalize("Բարեւ։ Ինչպե՞ս կարող եմ վերադարձնել գումարս"),
            "բարեւ ինչպես կարող եմ վերադարձնել գումարս"
        );
        assert_eq!(normalize("Շնորհակալությո՜ւն"), "շնորհակալություն");
        assert_eq!(normalize("Ո՛չ, չեմ ուզում"), "ոչ չեմ ուզում");
    }

    #[test]
    fn armenian_ligature_ew_becomes_two_letters() {
        assert_eq!(normalize("Երևան"), "երեւան");
        assert_eq!(normalize("Երևան"), normalize("Երեւան"));
    }

    #[test]
    fn armenian_punctuation_separates_words() {
        assert_eq!(
            normalize("«Բարեւ», ասաց նա՝ ժպտալով։"),
            "բարեւ ասաց նա ժպտալով"
        );
        assert_eq!(normalize("ա՚բ"), "ա բ");
    }

    #[test]
    fn english_case_apostrophes_and_punctuation_are_folded() {
        assert_eq!(
            normalize("Hi!! I DON'T know what's wrong... my card got declined :("),
            "hi i dont know whats wrong my card got declined"
        );
        assert_eq!(normalize("I can’t log in"), "i cant log in");
        assert_eq!(normalize("it isnʼt working"), "it isnt working");
        assert_eq!(
            normalize("e-mail: user@example.com, $20.50"),
            "e mail user example com 20 50"
        );
    }

    #[test]
    fn compatibility_forms_become_plain_letters() {
        assert_eq!(normalize("ＨＥＬＬＯ　ｗｏｒｌｄ"), "hello world");
        assert_eq!(normalize("ﬁnance"), "finance");
        assert_eq!(normalize("𝐑𝐞𝐟𝐮𝐧𝐝 ①"), "refund 1");
    }

    #[test]
    fn german_sharp_s_and_greek_final_sigma_fold_fully() {
        assert_eq!(normalize("Straße STRASSE"), "strasse strasse");
        assert_eq!(normalize("ΟΔΟΣ οδος"), "οδοσ οδοσ");
    }

    #[test]
    fn composed_and_decomposed_accents_are_the_same_word() {
        assert_eq!(normalize("CAFÉ"), "café");
        assert_eq!(normalize("cafe\u{301}"), "café");
    }

    #[test]
    fn marks_that_belong_to_a_word_stay() {
        assert_eq!(normalize("नमस्ते, मदद चाहिए"), "नमस्ते मदद चाहिए");
    }

    #[test]
    fn a_mark_with_no_letter_before_it_is_dropped() {
        assert_eq!(normalize("\u{301}a !\u{301}b"), "a b");
    }

    #[test]
    fn empty_and_whitespace_only_text_is_empty() {
        assert_eq!(normalize(""), "");
        assert_eq!(normalize(" \t\n\r\u{3000}\u{A0} "), "");
    }

    #[test]
    fn control_characters_separate_words() {
        assert_eq!(
            normalize("refund\0\u{7}please\r\n\u{85}now"),
            "refund please now"
        );
    }

    #[test]
    fn invisible_formatting_characters_are_removed() {
        assert_eq!(normalize("pass\u{AD}word"), "password");
        assert_eq!(normalize("\u{FEFF}hello\u{200D}"), "hello");
        assert_eq!(
            normalize("\u{202B}سلام\u{202C} \u{2067}دنیا\u{2069}\u{200F}"),
            "سلام دنيا"
        );
        assert_eq!(normalize("\u{3164}"), "");
    }

    #[test]
    fn emoji_only_text_is_empty() {
        assert_eq!(normalize("🙏😡👍🏽❤️🇮🇷 👨‍👩‍👧 🅰️🅱️"), "");
    }

    #[test]
    fn a_keycap_digit_is_the_digit() {
        assert_eq!(normalize("option 1️⃣"), "option 1");
    }

    #[test]
    fn mixed_scripts_keep_every_word() {
        assert_eq!(
            normalize("My سفارش is late! Բարեւ 123 ٤٥ 😀 Привет"),
            "my سفارش is late բարեւ 123 45 привет"
        );
    }

    #[test]
    fn a_ten_thousand_character_message_is_folded_completely() {
        let message: String = "Where's MY refund?! "
            .chars()
            .cycle()
            .take(10_000)
            .collect();

        let folded = normalize(&message);

        assert_eq!(words(&folded).count(), 1_500);
        assert!(words(&folded).all(|word| ["wheres", "my", "refund"].contains(&word)));
        assert_eq!(normalize(&folded), folded);
    }

    #[test]
    fn words_splits_normalized_text() {
        assert_eq!(
            words(&normalize(" Hello,  world! ")).collect::<Vec<_>>(),
            ["hello", "world"]
        );
        assert_eq!(words("").count(), 0);
    }

    #[test]
    fn every_single_character_folds_idempotently_to_lowercase_words() {
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let folded = normalize(c.encode_utf8(&mut [0; 4]));
            assert_eq!(normalize(&folded), folded, "U+{:04X}", u32::from(c));
            assert!(
                !folded.chars().any(char::is_uppercase),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn lowercasing_next_to_a_combining_mark_stays_idempotent() {
        // J + caron has no capital precomposed form, but j + caron composes to ǰ.
        assert_eq!(normalize("J\u{30C}"), "ǰ");
        // Deleting the apostrophe joins e and the acute.
        assert_eq!(normalize("e'\u{301}"), "é");
    }

    /// Characters this module treats specially, mixed with anything, so the properties
    /// below meet them far more often than uniformly random characters would.
    fn interesting_char() -> impl Strategy<Value = char> {
        prop_oneof![
            any::<char>(),
            proptest::sample::select(
                "aZ ß'’ʼ-.!?\u{301}\u{316}\u{30C}\u{307}İJΣς\u{200B}\u{200C}\u{200D}\u{200F}\u{202E}\
                 \u{2066}\u{FEFF}\u{AD}\u{FE0F}\u{20E3}\u{640}\u{64B}\u{654}\u{670}\u{6D6}يیىئكکةۀأإآٱؤا\
                 ه\u{6D5}٣۳،؟ինչ՞՜՛։՝՚«»ևԲ\u{1100}\u{1161}\u{11A8}가ﷺﬁＡ①🅰😀\u{0}\t\n"
                    .chars()
                    .collect::<Vec<_>>()
            ),
        ]
    }

    fn interesting_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(interesting_char(), 0..40).prop_map(String::from_iter)
    }

    proptest! {
        #[test]
        fn normalizing_twice_changes_nothing(text in interesting_text()) {
            let once = normalize(&text);
            prop_assert_eq!(normalize(&once), once);
        }

        #[test]
        fn output_is_single_spaced_lowercase_words(text in interesting_text()) {
            let folded = normalize(&text);

            prop_assert!(!folded.starts_with(' ') && !folded.ends_with(' '));
            prop_assert!(!folded.contains("  "));
            prop_assert!(!folded.chars().any(char::is_uppercase));
            prop_assert!(folded
                .chars()
                .all(|c| c == ' ' || c.is_alphanumeric() || is_combining_mark(c)));
            prop_assert!(words(&folded).all(|word| !word.starts_with(is_combining_mark)));
            prop_assert!(is_nfkc(&folded));
        }

        #[test]
        fn output_is_at_most_eighteen_characters_per_input_character(text in interesting_text()) {
            prop_assert!(normalize(&text).chars().count() <= 18 * text.chars().count());
        }

        #[test]
        fn arbitrary_strings_never_panic_and_stay_idempotent(text in any::<String>()) {
            let once = normalize(&text);
            prop_assert_eq!(normalize(&once), once);
        }

        #[test]
        fn invisible_characters_never_change_the_words(
            text in interesting_text(),
            at in any::<proptest::sample::Index>(),
            invisible in proptest::sample::select(
                vec!['\u{200D}', '\u{200E}', '\u{200F}', '\u{FEFF}', '\u{AD}', '\u{2069}', '\u{FE0F}']
            ),
        ) {
            let mut chars: Vec<char> = text.chars().collect();
            chars.insert(at.index(chars.len() + 1), invisible);
            let with_invisible: String = chars.into_iter().collect();

            prop_assert_eq!(normalize(&with_invisible), normalize(&text));
        }

        #[test]
        fn the_ascii_shortcut_agrees_with_the_full_pipeline(text in "[ -~\t\n]{0,60}") {
            let mut full = String::new();
            push_words(&mut full, text.nfkc().flat_map(fold).nfkc());

            prop_assert_eq!(normalize(&text), full);
        }

        #[test]
        fn words_rejoined_give_back_the_normalized_text(text in interesting_text()) {
            let folded = normalize(&text);
            prop_assert_eq!(words(&folded).collect::<Vec<_>>().join(" "), folded);
        }
    }
}
