//! Which language a customer wrote in, guessed from the script of the raw message, so the bot
//! answers in that language.
//!
//! Beacon serves English, Persian, Arabic and Armenian. Three of those have a script of their own
//! and one, Latin, is shared by every language we do not support yet, so counting letters per
//! script decides almost everything. The one hard case is Persian against Arabic, which share the
//! Arabic script: there the message is scored on letters only one of the two languages uses and on
//! common short words.
//!
//! Detection reads the raw text, not the output of [`super::normalize`]: folding merges exactly
//! the letters (ی and ي, ک and ك, ة and ه) that tell Persian from Arabic.
//!
//! Messages are short and informal, so the rules lean on what customers really type: Persian
//! written on an Arabic keyboard (ي and ك instead of ی and ک), English product words inside a
//! Persian or Armenian sentence, no vowel marks. A guess is cheap to get wrong here (the customer
//! can still read the reply or ask again) and expensive to make slow, so there is no model and no
//! allocation, only one pass over the characters.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// The languages [`detect`] can return, as BCP 47 codes.
pub const SUPPORTED: [&str; 4] = ["en", "fa", "ar", "hy"];

/// Guesses the language of a customer message: `"en"`, `"fa"`, `"ar"` or `"hy"`.
///
/// The script with the most letters wins; a tie goes to Arabic script, then Armenian, then Latin,
/// because the Latin words in a mixed message are usually product names and borrowed terms
/// ("refund", "order"), not the language the customer thinks in. Unsupported scripts lose every
/// tie.
///
/// - Latin letters mean English: it is the only Latin-script language Beacon supports so far, so
///   French or Finglish ("salam, pulamo pas bede") is answered in English too.
/// - Arabic-script letters mean Persian or Arabic, told apart by letters and words only one of the
///   two uses. A message with no such evidence either way (`"سلام"`) is Arabic.
/// - Letters of any other script (Cyrillic, Greek, Han, ...) winning the count, or no letters at
///   all (emoji, digits, punctuation, an empty string), give `None`: the caller should fall back to
///   the server's default language rather than trust a guess.
///
/// Fullwidth and mathematical letters (`ｒｅｆｕｎｄ`, `𝐡𝐞𝐥𝐩`) and Arabic presentation forms count
/// as the letters they stand for.
#[must_use]
pub fn detect(text: &str) -> Option<&'static str> {
    let mut tally = Tally::default();
    for c in text.chars() {
        if c.is_ascii() || script(c).is_some() || is_hangul_syllable(c) {
            tally.add(c);
        } else {
            // Fancy Discord fonts and presentation forms are compatibility characters: count
            // the letters they decompose to.
            decompose_compatible(c, |d| tally.add(d));
        }
    }
    tally.end_word();
    tally.language()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Armenian,
    Arabic,
}

/// The script of the base blocks Beacon cares about; `None` for every other character.
fn script(c: char) -> Option<Script> {
    match c {
        'a'..='z'
        | 'A'..='Z'
        | '\u{00AA}'
        | '\u{00BA}'
        | '\u{00C0}'..='\u{024F}'
        | '\u{0250}'..='\u{02AF}'
        | '\u{1D00}'..='\u{1D7F}'
        | '\u{1E00}'..='\u{1EFF}'
        | '\u{2C60}'..='\u{2C7F}'
        | '\u{A720}'..='\u{A7FF}'
        | '\u{AB30}'..='\u{AB6F}' => Some(Script::Latin),
        '\u{0531}'..='\u{058F}' => Some(Script::Armenian),
        '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{0870}'..='\u{08FF}' => {
            Some(Script::Arabic)
        }
        _ => None,
    }
}

/// Hangul syllables decompose into two or three jamo; counting the syllable itself keeps Korean
/// from outweighing a Latin word three to one.
fn is_hangul_syllable(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7A3}')
}

/// A letter that counts towards a script. Tatweel is a "letter" to Unicode but only stretches a
/// word, and combining marks (harakat, accents) belong to the letter before them.
fn is_letter(c: char) -> bool {
    c.is_alphabetic() && !is_combining_mark(c) && c != '\u{0640}'
}

/// Characters that can sit inside an Arabic-script word without ending it: vowel marks,
/// tatweel, Quranic annotation, and invisible joiners and direction marks.
fn is_inside_word(c: char) -> bool {
    matches!(
        c,
        '\u{0640}'
            | '\u{064B}'..='\u{065F}'
            | '\u{0670}'
            | '\u{06D6}'..='\u{06ED}'
            | '\u{00AD}'
            | '\u{200D}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

const ZWNJ: char = '\u{200C}';

/// Short, frequent Persian words that Arabic does not use, in Persian spelling. They are matched
/// with ي/ی and ك/ک treated as equal, so Persian typed on an Arabic keyboard still counts. Words
/// that are also Arabic once the keyboard difference is ignored are left out: من, ما, به, هم,
/// این (Arabic colloquial اين "where"), ولی (Arabic ولي), او (Arabic او "or"), لطفا (also MSA),
/// and بده and تا (Levantine "wants" and "until"; the Palestinian half of the `arbanking77` data
/// set uses both).
#[rustfmt::skip]
const PERSIAN_WORDS: &[&str] = &[
    "است", "هست", "نیست", "هستم", "هستید", "را", "رو", "می", "نمی", "چرا", "چطور", "چطوری", "کجا",
    "چی", "چه", "که", "یک", "شما", "با", "در", "از", "آن", "برای", "برام", "خیلی", "باید", "چون",
    "اگر", "آیا", "دارم", "ندارم", "داشتم", "بود", "بودم", "شد", "نشد", "شده", "نشده", "کنم",
    "کنید", "کنین", "کن", "بکنم", "کردم", "کرده", "خواهم", "میشه", "تونم", "بدید", "بدین", "پس",
    "پول", "کمک", "ممنون", "مرسی", "متشکرم", "خواهش", "بدونم", "کنه", "بشه",
];

/// Short, frequent Arabic words (Modern Standard and the common dialects) that Persian does not
/// use, matched exactly: with a Persian keyboard's ی or ک they would be Persian words ("کیف" is
/// "bag", "بدی" is "badness"). من is left out: it is "from" in Arabic and "I" in Persian.
#[rustfmt::skip]
const ARABIC_WORDS: &[&str] = &[
    "في", "على", "إلى", "الى", "عن", "مع", "هل", "ماذا", "كيف", "لماذا", "أين", "متى", "هذا", "هذه",
    "الذي", "التي", "اللي", "أنا", "انا", "لا", "لم", "لن", "لقد", "أن", "إن", "أو", "كان", "عندي",
    "لدي", "يمكنني", "أريد", "اريد", "بدي", "عايز", "عاوز", "أبغى", "ابغى", "شو", "ليش", "وين",
    "ايش", "إيش", "ليه", "ازاي", "إزاي", "فين", "مش", "لو", "فضلك", "سمحت", "شكرا", "مرحبا", "أهلا",
    "اهلا",
];

/// Beginnings of common colloquial Persian verbs ("نمی‌کنه", "میخواستم", "میتونید", "میرسه"),
/// which no Arabic word shares, for verbs too many to list one by one.
const PERSIAN_VERB_PREFIXES: &[&str] = &["نمی", "میخوا", "میتون", "میکن", "میرس"];

/// Persian words that start with the Arabic article ال but are everyday Persian.
const PERSIAN_AL_WORDS: &[&str] = &["الان", "البته", "الکی", "الهام", "الماس"];

/// Treats the Arabic and Persian keyboards' yeh and kaf as one letter.
fn keyboard_fold(c: char) -> char {
    match c {
        '\u{06CC}' => '\u{064A}',
        '\u{06A9}' => '\u{0643}',
        other => other,
    }
}

/// Weights: a letter or word only one language uses is strong evidence; a letter that merely
/// comes from an Arabic keyboard (ي ك ى, Arabic-Indic digits) is weak, because many Persian
/// speakers type on one, so it counts once per message however often it appears.
const WORD: usize = 3;
const PERSIAN_LETTER: usize = 2;
const PERSIAN_KEYBOARD_LETTER: usize = 1;
const TEH_MARBUTA: usize = 2;
const ZWNJ_IN_WORD: usize = 2;
const ARABIC_PREFIX: usize = 1;

#[derive(Default)]
struct Tally {
    latin: usize,
    armenian: usize,
    arabic: usize,
    other: usize,
    persian: usize,
    arabic_evidence: usize,
    /// The Arabic-keyboard signs seen (bits), each counted once per message.
    arabic_keyboard: u8,
    word: Word,
    /// A ZWNJ followed an Arabic-script letter; if another letter follows, the ZWNJ joined two
    /// parts of one word, which only Persian does.
    zwnj_after_letter: bool,
}

/// Arabic-keyboard signs, one bit each in [`Tally::arabic_keyboard`].
const YEH: u8 = 1;
const KAF: u8 = 1 << 1;
const ALEF_MAKSURA: u8 = 1 << 2;
const ARABIC_INDIC_DIGIT: u8 = 1 << 3;

impl Tally {
    fn add(&mut self, c: char) {
        let zwnj_after_letter = std::mem::take(&mut self.zwnj_after_letter);
        if is_letter(c) {
            match script(c) {
                Some(Script::Latin) => self.latin = self.latin.saturating_add(1),
                Some(Script::Armenian) => self.armenian = self.armenian.saturating_add(1),
                Some(Script::Arabic) => {
                    self.arabic = self.arabic.saturating_add(1);
                    if zwnj_after_letter {
                        self.for_persian(ZWNJ_IN_WORD);
                    }
                    self.arabic_letter(c);
                    self.word.push(c);
                    return;
                }
                None => self.other = self.other.saturating_add(1),
            }
        } else if is_inside_word(c) {
            self.zwnj_after_letter = zwnj_after_letter;
            return;
        } else if c == ZWNJ {
            self.zwnj_after_letter = !self.word.is_empty();
        } else {
            self.digit(c);
        }
        self.end_word();
    }

    fn arabic_letter(&mut self, c: char) {
        match c {
            'پ' | 'چ' | 'ژ' | 'گ' => self.for_persian(PERSIAN_LETTER),
            'ک' | 'ی' | 'ۀ' => self.for_persian(PERSIAN_KEYBOARD_LETTER),
            'ة' => self.for_arabic(TEH_MARBUTA),
            'ي' => self.arabic_keyboard |= YEH,
            'ك' => self.arabic_keyboard |= KAF,
            'ى' => self.arabic_keyboard |= ALEF_MAKSURA,
            _ => {}
        }
    }

    fn digit(&mut self, c: char) {
        match c {
            '\u{06F0}'..='\u{06F9}' => self.for_persian(PERSIAN_KEYBOARD_LETTER),
            '\u{0660}'..='\u{0669}' => self.arabic_keyboard |= ARABIC_INDIC_DIGIT,
            _ => {}
        }
    }

    /// Scores the Arabic-script word that just ended.
    fn end_word(&mut self) {
        if self.word.is_empty() {
            return;
        }
        let word = std::mem::take(&mut self.word);
        if PERSIAN_WORDS.iter().any(|w| word.is_persian(w))
            || PERSIAN_VERB_PREFIXES
                .iter()
                .any(|prefix| word.extends_persian(prefix))
        {
            self.for_persian(WORD);
        }
        if ARABIC_WORDS.iter().any(|w| word.is(w)) {
            self.for_arabic(WORD);
        }
        // Word-initial hamza on alef and the article ال are everywhere in Arabic; Persian writes
        // a bare alef and uses ال only in the loanwords listed.
        let starts_with_hamza = matches!(word.first(), Some('أ' | 'إ'));
        let has_article = word.starts_with(['ا', 'ل']) && word.len >= 4;
        if starts_with_hamza
            || (has_article && !PERSIAN_AL_WORDS.iter().any(|w| word.is_persian(w)))
        {
            self.for_arabic(ARABIC_PREFIX);
        }
    }

    fn for_persian(&mut self, weight: usize) {
        self.persian = self.persian.saturating_add(weight);
    }

    fn for_arabic(&mut self, weight: usize) {
        self.arabic_evidence = self.arabic_evidence.saturating_add(weight);
    }

    fn language(&self) -> Option<&'static str> {
        // Ties go to the earlier entry: see `detect`.
        let ranked = [
            (self.arabic, Some(Script::Arabic)),
            (self.armenian, Some(Script::Armenian)),
            (self.latin, Some(Script::Latin)),
            (self.other, None),
        ];
        let mut best = (0, None);
        for (count, script) in ranked {
            if count > best.0 {
                best = (count, script);
            }
        }
        match best.1 {
            Some(Script::Latin) => Some("en"),
            Some(Script::Armenian) => Some("hy"),
            Some(Script::Arabic) => {
                let keyboard = self.arabic_keyboard.count_ones() as usize;
                let arabic = self.arabic_evidence.saturating_add(keyboard);
                Some(if self.persian > arabic { "fa" } else { "ar" })
            }
            None => None,
        }
    }
}

/// The current Arabic-script word, kept in a fixed buffer: the words worth recognising are short,
/// and longer ones only need their first letters.
#[derive(Default)]
struct Word {
    chars: [char; Word::CAPACITY],
    len: usize,
}

impl Word {
    const CAPACITY: usize = 12;

    fn push(&mut self, c: char) {
        if let Some(slot) = self.chars.get_mut(self.len) {
            *slot = c;
        }
        self.len = self.len.saturating_add(1);
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn first(&self) -> Option<char> {
        self.stored().first().copied()
    }

    /// The letters kept: all of them unless the word outgrew the buffer.
    fn stored(&self) -> &[char] {
        &self.chars[..self.len.min(Self::CAPACITY)]
    }

    fn is_complete(&self) -> bool {
        self.len <= Self::CAPACITY
    }

    fn starts_with(&self, prefix: [char; 2]) -> bool {
        self.stored().starts_with(&prefix)
    }

    fn is(&self, word: &str) -> bool {
        self.is_complete() && self.stored().iter().copied().eq(word.chars())
    }

    /// Whether this word is `prefix` (in Persian spelling, either keyboard) plus more letters.
    fn extends_persian(&self, prefix: &str) -> bool {
        let prefix_len = prefix.chars().count();
        self.len > prefix_len
            && self
                .stored()
                .iter()
                .copied()
                .map(keyboard_fold)
                .take(prefix_len)
                .eq(prefix.chars().map(keyboard_fold))
    }

    fn is_persian(&self, word: &str) -> bool {
        self.is_complete()
            && self
                .stored()
                .iter()
                .copied()
                .map(keyboard_fold)
                .eq(word.chars().map(keyboard_fold))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn english_messages_are_english() {
        assert_eq!(detect("refund?"), Some("en"));
        assert_eq!(detect("Hi, I can't log in to my account"), Some("en"));
        assert_eq!(detect("ok"), Some("en"));
    }

    #[test]
    fn other_latin_languages_are_answered_in_english() {
        assert_eq!(detect("Bonjour, je voudrais être remboursé"), Some("en"));
        assert_eq!(detect("salam, pulamo pas bede"), Some("en"));
    }

    #[test]
    fn fancy_latin_fonts_count_as_latin() {
        assert_eq!(detect("ｒｅｆｕｎｄ"), Some("en"));
        assert_eq!(detect("𝐡𝐞𝐥𝐩 𝓶𝓮"), Some("en"));
    }

    #[test]
    fn armenian_messages_are_armenian() {
        assert_eq!(detect("Բարեւ"), Some("hy"));
        assert_eq!(detect("Բարև"), Some("hy"));
        assert_eq!(detect("Ինչպե՞ս վերադարձնել գումարս։"), Some("hy"));
    }

    #[test]
    fn persian_messages_are_persian() {
        assert_eq!(detect("کمک"), Some("fa"));
        assert_eq!(detect("مرسی"), Some("fa"));
        assert_eq!(detect("ممنون"), Some("fa"));
        assert_eq!(detect("پولمو پس بده"), Some("fa"));
        assert_eq!(detect("چطور می‌تونم رمزم رو عوض کنم؟"), Some("fa"));
        assert_eq!(detect("سفارش ۱۲۳۴ هنوز نرسیده"), Some("fa"));
        assert_eq!(detect("سلام، وقت بخیر. سفارشم کی میرسه؟"), Some("fa"));
    }

    #[test]
    fn persian_typed_on_an_arabic_keyboard_is_still_persian() {
        assert_eq!(detect("سلام، ميخواهم سفارشم را كنسل كنم"), Some("fa"));
        assert_eq!(detect("يك سوال داشتم"), Some("fa"));
        assert_eq!(detect("كمك"), Some("fa"));
        assert_eq!(detect("مرسي"), Some("fa"));
        assert_eq!(detect("سفارشم كي ميرسه؟ خيلي دير شده"), Some("fa"));
        assert_eq!(detect("ميخواستم بدونم سفارشم كي ميرسه"), Some("fa"));
        assert_eq!(detect("كارتم كار نميكنه"), Some("fa"));
    }

    #[test]
    fn a_zwnj_inside_a_word_is_persian() {
        assert_eq!(detect("نمی‌خواستم"), Some("fa"));
        assert_eq!(detect("نمي‌خواستم"), Some("fa"));
    }

    #[test]
    fn arabic_messages_are_arabic() {
        assert_eq!(detect("شكرا"), Some("ar"));
        assert_eq!(detect("شكراً جزيلاً"), Some("ar"));
        assert_eq!(detect("بدي مساعدة"), Some("ar"));
        assert_eq!(detect("عايز فلوسي ترجع"), Some("ar"));
        assert_eq!(detect("أريد استرجاع أموالي"), Some("ar"));
        assert_eq!(detect("هل يمكنني تغيير كلمة المرور؟"), Some("ar"));
        assert_eq!(detect("كيف أسترد المبلغ؟"), Some("ar"));
        assert_eq!(detect("مَرْحَبًا، أُرِيدُ إِلْغَاءَ طَلَبِي"), Some("ar"));
        assert_eq!(detect("رقم الطلب ١٢٣٤"), Some("ar"));
    }

    #[test]
    fn arabic_presentation_forms_count_as_arabic_letters() {
        assert_eq!(detect("ﺷﻜﺮﺍ"), Some("ar"));
    }

    #[test]
    fn a_message_with_no_evidence_either_way_is_arabic() {
        assert_eq!(detect("سلام"), Some("ar"));
        assert_eq!(detect("من"), Some("ar"));
    }

    #[test]
    fn persian_words_are_not_mistaken_for_their_arabic_look_alikes() {
        // Persian کیف ("bag", as in کیف پول, "wallet") is spelled like Arabic كيف ("how").
        assert_eq!(detect("کیف پولم"), Some("fa"));
        assert_eq!(detect("الان پول ندارم"), Some("fa"));
    }

    #[test]
    fn the_script_with_most_letters_wins() {
        assert_eq!(
            detect("Hi, I want a refund for order ۱۲۳ سفارش"),
            Some("en")
        );
        assert_eq!(detect("سفارش من refund نشده"), Some("fa"));
        assert_eq!(detect("Բարեւ, իմ order-ը չի եկել"), Some("hy"));
        assert_eq!(detect("ok شكرا جزيلا"), Some("ar"));
    }

    #[test]
    fn a_tie_between_scripts_goes_to_the_non_latin_one() {
        assert_eq!(detect("help پولم"), Some("fa"));
        assert_eq!(detect("ok ԼԱՎ"), Some("hy"));
    }

    #[test]
    fn unsupported_scripts_give_no_language() {
        assert_eq!(detect("Привет, мне нужна помощь"), None);
        assert_eq!(detect("我需要退款"), None);
        assert_eq!(detect("Γεια σας"), None);
        assert_eq!(detect("환불해 주세요 ok"), None);
    }

    #[test]
    fn text_without_letters_gives_no_language() {
        assert_eq!(detect(""), None);
        assert_eq!(detect("   "), None);
        assert_eq!(detect("🙏😡👍🏽❤️"), None);
        assert_eq!(detect("12345"), None);
        assert_eq!(detect("۱۲۳۴"), None);
        assert_eq!(detect("?!... :)"), None);
        assert_eq!(detect("ـــ"), None);
    }

    #[test]
    fn long_words_do_not_overflow_the_word_buffer() {
        let long_word = "گ".repeat(100);
        assert_eq!(detect(&long_word), Some("fa"));
        let long_arabic = format!("ال{}", "ة".repeat(50));
        assert_eq!(detect(&long_arabic), Some("ar"));
    }

    #[test]
    fn every_supported_code_is_listed() {
        for text in ["refund", "Բարեւ", "کمک", "شكرا"] {
            let code = detect(text);
            assert!(code.is_some_and(|code| SUPPORTED.contains(&code)), "{text}");
        }
    }

    proptest! {
        #[test]
        fn any_text_gives_a_supported_language_or_none(text in any::<String>()) {
            if let Some(code) = detect(&text) {
                prop_assert!(SUPPORTED.contains(&code));
            }
        }

        #[test]
        fn arabic_script_text_is_always_persian_or_arabic(
            text in proptest::collection::vec(
                proptest::sample::select(
                    "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیيكىةأإآؤئ \u{200C}\u{64E}\u{640}۱١"
                        .chars()
                        .collect::<Vec<_>>(),
                ),
                1..30,
            ).prop_map(String::from_iter)
        ) {
            let has_letter = text.chars().any(is_letter);
            let detected = detect(&text);
            prop_assert_eq!(detected.is_some(), has_letter);
            prop_assert!(matches!(detected, None | Some("fa" | "ar")));
        }
    }
}
